// Interrupt delivery on the real kernel (kernel/vm/interrupts.ts, kernel/services/scheduler.ts,
// the back ends' event injection) against the simulated machine: guests scripted as one exit per
// action (tests/sim/svm-guest.mjs for SVM; a small VMCS-level script for VMX) program the 8259A
// pair, the PIT, the UART and the local APIC as an OS does, and the tests check what such a guest
// would see: which vector goes in at which VMRUN (EVENTINJ, APM 15.20; VM-entry interruption
// information, SDM 25.8.3), when the interrupt window is asked for instead (V_IRQ + VINTR,
// APM 15.21.4; interrupt-window exiting, SDM 26.7.5), the re-injection of an event an exit cut
// short (EXITINTINFO, APM 15.7.2; IDT-vectoring information, SDM 28.2.4), NMIs and the IRET
// intercept, a halted guest that sleeps until a timer or its UART wakes it, and the guest's TSC.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { boot, ROOT } from '../sim/harness.mjs';
import { machineOptions } from '../sim/fixtures/machines.mjs';
import { SvmGuests, hex } from '../sim/svm-guest.mjs';
import { Field } from '../sim/vmx-checks.mjs';

// -o: the toolchain is installed already (a test must never run the install, which replaces node_modules)
execFileSync('make', ['-s', '-o', 'node_modules/.zerovisor-installed', 'guests'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
const HELLO = readFileSync(join(ROOT, 'build', 'guests', 'hello.elf'));
const SVM_MACHINE = 'qemu-q35-intel-iommu-smp4'; // AuthenticAMD with SVM and NPT
const VMX_MACHINE = 'bochs-corei7-skylake-x';
const PROMPT = /(?:zerovisor> |ゼロバイザー> |zerovisor 控制台> )/;
const TICKS_PER_MS = 3e6; // the simulated machine's TSC runs at 3 GHz

const CREATE = 'vm create x --mem 4 --image \\hello.elf\r';
const START = [CREATE, 'vm start x\r', 'vm wait x --timeout 5\r', 'vm info x\r'];

/** The output lines of the n-th run of `command` on machine m. */
const outputOf = (m, command, n = 0) => {
  const runs = m.serialText.split(PROMPT).slice(1).map((chunk) => chunk.split('\r\n')).filter((lines) => lines[0] === command);
  assert.ok(runs.length > n, `"${command}" ran ${runs.length} times:\n${m.serialText}`);
  return runs[n].slice(1, -1);
};

/** Boots the kernel with the SVM guest model; `script`: the one guest's actions, or a function as SvmGuests takes. */
const runSvm = ({ script, input, module }) => {
  const model = new SvmGuests(typeof script === 'function' ? script : () => script);
  const m = boot({
    ...machineOptions(SVM_MACHINE), files: { '\\hello.elf': HELLO },
    input: [...input, 'exit\r'], svmGuest: model.handler, module,
  });
  return { m, model, g: model.guests[0], out: (command, n) => outputOf(m, command, n) };
};

/** The model found nothing a guest would suffer (state changed that should not have, an interrupt with IF clear, a nested NMI). */
const clean = (model) => assert.deepEqual(model.problems, [], 'the guest model saw what a guest would not expect');

/** `vm info`: state, stop reason, interrupts and NMIs injected, injections by vector, whether it says the vCPU is halted. */
const vmInfo = (lines) => {
  const info = { vectors: {}, halted: false, interrupts: null, nmis: null, stopped: null, state: null, exits: {} };
  for (const l of lines) {
    let r;
    if ((r = /^VM (\d+) "(.*)": (\w+)$/.exec(l))) info.state = r[3];
    else if ((r = /^ {2}Interrupts injected: (\d+); NMIs: (\d+)$/.exec(l))) [info.interrupts, info.nmis] = [Number(r[1]), Number(r[2])];
    else if ((r = /^ {4}vector 0x([0-9a-f]{2}) +(\d+)$/.exec(l))) info.vectors[parseInt(r[1], 16)] = Number(r[2]);
    else if ((r = /^ {2}Stopped because: (.*)$/.exec(l))) info.stopped = r[1];
    else if ((r = /^ {4}(\w+) +(\d+)$/.exec(l))) info.exits[r[1]] = Number(r[2]);
    else if (/^ {2}The vCPU is halted \(HLT\), waiting for an interrupt$/.test(l)) info.halted = true;
  }
  return info;
};

const event = (vector, type, errorCode = null) => ({ vector, type, ev: errorCode === null ? 0 : 1, errorCode: errorCode ?? 0 });
/** EVENTINJ / VM-entry interruption information of an external interrupt, an NMI. */
const INTERRUPT = (vector) => 0x80000000n | BigInt(vector);
const NMI_EVENT = 0x80000202n;

// ---- what a guest does, as Linux does it ----

const VECTOR_BASE = 0x30; // Linux's ISA_IRQ_VECTOR(0) on x86-64
/** The 8259A pair as Linux's init_8259A leaves it (ICW1 edge + ICW4, ICW2 base, ICW3 cascade on IR2, ICW4 8086), then IMR `mask`. */
const picInit = (mask) => [
  { out: [0x21, 0xff] }, { out: [0xa1, 0xff] },
  { out: [0x20, 0x11] }, { out: [0x21, VECTOR_BASE] }, { out: [0x21, 0x04] }, { out: [0x21, 0x01] },
  { out: [0xa0, 0x11] }, { out: [0xa1, VECTOR_BASE + 8] }, { out: [0xa1, 0x02] }, { out: [0xa1, 0x01] },
  { out: [0x21, mask] }, { out: [0xa1, 0xff] },
];
const PIT_COUNT = 11932; // LATCH for HZ = 100: 10 ms at 1.193182 MHz
const PIT_PERIOD_TICKS = (PIT_COUNT / 1193182) * 1000 * TICKS_PER_MS;
/** PIT channel 0, lobyte/hibyte, mode 2 (rate generator), binary (8254 datasheet), count PIT_COUNT. */
const pitMode2 = () => [{ out: [0x43, 0x34] }, { out: [0x40, PIT_COUNT & 0xff] }, { out: [0x40, PIT_COUNT >> 8] }];
const EOI = { out: [0x20, 0x20] }; // non-specific EOI to the master
const STOP = (status = 0) => ({ out: [0xf4, status, 1] });

/** VMRUNs of any guest strictly between two machine tick counts. */
const runsBetween = (model, from, to) => model.runTicks.filter((t) => t > from && t < to).length;

test('PIC and PIT programmed as Linux does, then HLT with IF=1: no VMRUN until the PIT period has passed, then vector base+0 goes in', () => {
  const script = [...picInit(0xfa), ...pitMode2(), { hlt: { if: true } }, EOI, STOP()];
  const { model, g, out } = runSvm({ script, input: START });
  clean(model);
  const pitArmed = 12 + 2; // the record of the count's high byte
  const halt = 15;
  assert.equal(g.records[halt].kind, 'hlt');
  assert.equal(g.records[halt].outcome.advance, 1, 'RIP past the HLT');
  const asleep = g.vmruns[halt].ticks; // the VMRUN that ended in the HLT exit
  const woken = g.vmruns[halt + 1].ticks;
  assert.equal(runsBetween(model, asleep, woken), 0, 'nothing ran while the VM slept');
  assert.ok(woken >= g.vmruns[pitArmed].ticks + PIT_PERIOD_TICKS,
    `not entered before the PIT's period (${(woken - g.vmruns[pitArmed].ticks) / TICKS_PER_MS} ms after it was armed)`);
  assert.ok(woken <= g.vmruns[pitArmed].ticks + PIT_PERIOD_TICKS + 2 * TICKS_PER_MS, `woken within 2 ms of the tick (${(woken - g.vmruns[pitArmed].ticks) / TICKS_PER_MS} ms)`);
  assert.deepEqual(g.vmruns.slice(0, halt + 1).map((r) => r.injected), Array(halt + 1).fill(null), 'nothing injected before the tick');
  assert.equal(g.vmruns[halt + 1].eventInject, INTERRUPT(VECTOR_BASE), 'EVENTINJ = valid | type 0 (external interrupt) | vector base+0');
  assert.deepEqual(g.records[halt].outcome.injected, event(VECTOR_BASE, 0));
  const info = vmInfo(out('vm info x'));
  assert.equal(info.interrupts, 1);
  assert.deepEqual(info.vectors, { [VECTOR_BASE]: 1 });
});

test('the PIT\'s tick while the guest has IF=0: no injection, V_IRQ + VINTR intercept instead; after the VINTR exit with IF=1 the vector goes in and the window is withdrawn', () => {
  const script = [
    ...picInit(0xfa), ...pitMode2(),
    { cpuid: [0, 0], micros: 12000 }, // the guest runs with IF=0 past the PIT's period
    { cpuid: [0, 0] }, // still IF=0: the window stays asked for
    { vintr: true, if: true }, // the guest set IF (STI; the shadow passed): the processor exits for V_IRQ
    EOI, STOP(),
  ];
  const { model, g, out } = runSvm({ script, input: START });
  clean(model);
  const [first, second, vintr] = [15, 16, 17];
  assert.equal(g.records[vintr].kind, 'vintr');
  for (const i of [first, second]) {
    const o = g.records[i].outcome;
    assert.equal(o.injected, null, `step ${i}: nothing injected while RFLAGS.IF is clear`);
    assert.equal(o.vIrq, 1, `step ${i}: V_IRQ set`);
    assert.equal(o.vintrIntercept, 1, `step ${i}: VINTR intercepted`);
  }
  const o = g.records[vintr].outcome;
  assert.equal(o.advance, 0, 'a VINTR exit leaves RIP');
  assert.deepEqual(o.injected, event(VECTOR_BASE, 0), 'the PIT\'s vector goes in at the VMRUN after the VINTR exit');
  assert.equal(o.vIrq, 0, 'V_IRQ withdrawn');
  assert.equal(o.vintrIntercept, 0, 'VINTR no longer intercepted');
  assert.ok(g.vmruns.slice(vintr + 2).every((r) => r.vIrq === 0 && r.vintrIntercept === 0), 'the window stays off');
  assert.deepEqual(vmInfo(out('vm info x')).vectors, { [VECTOR_BASE]: 1 }, 'one PIT interrupt taken');
});

test('the interrupt shadow goes both ways: kept after an exit that ran no instruction (no injection, window asked), ended by an emulated instruction (injection)', () => {
  const script = [
    ...picInit(0xfa), ...pitMode2(),
    { intr: true, if: true, shadow: true, micros: 12000 }, // a host interrupt right after STI: IF=1 but in its shadow
    { vintr: true, if: true }, EOI,
    { cpuid: [0, 0], if: true, shadow: true, micros: 12000 }, // STI; CPUID: the emulated CPUID ends the shadow
    EOI, STOP(),
  ];
  const { model, g } = runSvm({ script, input: START });
  clean(model);
  const held = g.records[15].outcome;
  assert.equal(held.shadow, 1, 'VMCB 0x68 goes back to the processor with the shadow');
  assert.equal(held.injected, null, 'no interrupt in the shadow of STI');
  assert.deepEqual([held.vIrq, held.vintrIntercept], [1, 1], 'the window is asked for instead');
  assert.deepEqual(g.records[16].outcome.injected, event(VECTOR_BASE, 0), 'in after the VINTR exit');
  const ended = g.records[18].outcome;
  assert.equal(ended.advance, 2);
  assert.equal(ended.shadow, 0, 'the shadow ends with the instruction the kernel emulated');
  assert.deepEqual(ended.injected, event(VECTOR_BASE, 0), 'so the next tick goes in at once');
});

test('an event whose delivery an exit cut short (EXITINTINFO) goes in again at the next VMRUN: interrupts, NMIs, exceptions with their error code; INT n does not', () => {
  const PF = (0x1234n << 32n) | 0x80000b0en; // #PF (vector 14), type 3, error code valid, code 0x1234
  const script = [
    { intr: true, if: true, intInfo: 0x80000041n }, // external interrupt 0x41
    { intr: true, if: true, intInfo: PF },
    { npf: 0xfec00000, bytes: [0x89, 0x18], regs: { rax: 0xfec00000n, rbx: 0n }, intInfo: 0x80000808n | (0n << 32n) | 0x800n, if: true }, // #DF (type 3, code 0) during an MMIO store
    { intr: true, if: true, intInfo: 0x80000480n }, // INT 0x80 (type 4): the instruction runs again instead
    { intr: true, if: true, intInfo: 0x80000603n }, // INT3 (type 6 on VMX, reserved on SVM): not re-injected either
    { intr: true, if: true, intInfo: NMI_EVENT }, // an NMI
    { iret: true }, // its handler's IRET
    STOP(),
  ];
  const { model, g, out } = runSvm({ script, input: START });
  clean(model);
  const inj = (i) => g.vmruns[i + 1].eventInject;
  assert.equal(inj(0), 0x80000041n, 'the external interrupt');
  assert.equal(inj(1), PF, '#PF with its error code (EVENTINJ bits 63:32)');
  assert.equal(g.records[2].outcome.advance, 2, 'the MMIO store was emulated');
  assert.equal(inj(2), 0x80000808n, '#DF with error code 0');
  assert.equal(inj(3), 0n, 'a software interrupt is not re-injected');
  assert.equal(inj(4), 0n);
  assert.equal(inj(5), NMI_EVENT, 'the NMI');
  assert.equal(g.records[5].outcome.iretIntercept, 1, 'a re-injected NMI blocks NMIs until its IRET, which is intercepted');
  assert.equal(g.records[6].outcome.iretIntercept, 0, 'the IRET intercept is withdrawn at the IRET exit');
  const info = vmInfo(out('vm info x'));
  assert.deepEqual([info.interrupts, info.nmis], [0, 0], 're-injections are not new interrupts');
});

test('a re-injected event takes the entry; a pending PIC vector waits for the interrupt window after it', () => {
  const PF = (0x10n << 32n) | 0x80000b0en;
  const script = [
    ...picInit(0xfa), ...pitMode2(),
    { intr: true, if: true, micros: 12000, intInfo: PF }, // the PIT ticked while a #PF was being delivered
    { vintr: true, if: true }, EOI, STOP(),
  ];
  const { model, g } = runSvm({ script, input: START });
  clean(model);
  const o = g.records[15].outcome;
  assert.equal(g.vmruns[16].eventInject, PF, 'the #PF goes in first');
  assert.deepEqual([o.vIrq, o.vintrIntercept], [1, 1], 'and the window is asked for the PIT\'s vector');
  assert.deepEqual(g.records[16].outcome.injected, event(VECTOR_BASE, 0), 'which goes in after the VINTR exit');
});

/** A guest store of `value` to the local APIC register at `offset` (xAPIC MMIO): mov [eax], ebx, a nested page fault. */
const apicStore = (offset, value) => ({ npf: 0xfee00000 + offset, bytes: [0x89, 0x18], regs: { rax: BigInt(0xfee00000 + offset), rbx: BigInt(value) } });
const ICR_NMI_SELF = 0x4400; // delivery mode NMI, level assert, no shorthand; ICR high (destination 0) = the vCPU's APIC ID 0

test('NMIs through the local APIC\'s ICR (xAPIC MMIO): injected as type 2 with the IRET intercept; a second one waits until the exit after the IRET exit', () => {
  const script = [
    apicStore(0x310, 0), apicStore(0x300, ICR_NMI_SELF), // ICR high then low: an NMI to itself
    apicStore(0x300, ICR_NMI_SELF), // the handler runs: a second NMI
    { cpuid: [0, 0] },
    { iret: true }, // the first handler's IRET
    { cpuid: [0, 0] }, // the IRET ran: NMIs are open again from here
    { iret: true },
    STOP(),
  ];
  const { model, g, out } = runSvm({ script, input: START });
  clean(model);
  const o = g.records.map((r) => r.outcome);
  assert.equal(o[0].injected, null);
  assert.equal(o[1].advance, 2, 'the ICR write was emulated');
  assert.equal(g.vmruns[2].eventInject, NMI_EVENT, 'EVENTINJ: valid | type 2 (NMI) | vector 2');
  assert.equal(o[1].iretIntercept, 1, 'IRET intercepted while the handler runs');
  assert.equal(o[2].injected, null, 'the second NMI waits: the first handler runs');
  assert.equal(o[3].injected, null);
  assert.equal(o[4].advance, 0, 'the IRET runs after the exit');
  assert.equal(o[4].injected, null, 'not at the VMRUN after the IRET exit: the IRET has not run yet');
  assert.equal(o[4].iretIntercept, 0, 'the IRET intercept withdrawn');
  assert.deepEqual(o[5].injected, event(2, 2), 'at the exit after it the second NMI goes in');
  assert.equal(o[5].iretIntercept, 1, 'with the IRET intercept again');
  assert.equal(o[6].iretIntercept, 0);
  assert.equal(vmInfo(out('vm info x')).nmis, 2);
});

test('an NMI through the x2APIC ICR (WRMSR 0x830 after IA32_APIC_BASE bit 10) is injected the same way', () => {
  const script = [
    { wrmsr: [0x830, ICR_NMI_SELF] }, // xAPIC mode: #GP
    { wrmsr: [0x1b, 0xfee00d00] }, // EN | EXTD | BSP
    { wrmsr: [0x830, ICR_NMI_SELF] }, // destination (bits 63:32) 0
    { iret: true }, STOP(),
  ];
  const { model, g, out } = runSvm({ script, input: START });
  clean(model);
  const o = g.records.map((r) => r.outcome);
  assert.deepEqual(o[0].injected, event(13, 3, 0), 'WRMSR 0x830 in xAPIC mode: #GP(0)');
  assert.equal(o[1].injected, null);
  assert.equal(o[2].advance, 2);
  assert.deepEqual(o[2].injected, event(2, 2), 'the NMI goes in at the next VMRUN');
  assert.equal(o[2].iretIntercept, 1);
  assert.equal(vmInfo(out('vm info x')).nmis, 1);
});

test('a guest that halts with IF=1 and nothing armed is not run again, `vm info` says it is halted; a key typed to its UART (RDA, OUT2, IRQ 4 unmasked) wakes it with vector base+4', () => {
  const script = [
    ...picInit(0xeb), // IRQ 2 (cascade) and IRQ 4 (COM1) unmasked
    { out: [0x3f9, 0x01] }, // IER: received data available
    { out: [0x3fc, 0x08] }, // MCR: OUT2 (the interrupt line's gate on a PC)
    { hlt: { if: true } },
    { in: [0x3f8, 1] }, // the handler reads RBR
    EOI, STOP(),
  ];
  const input = [CREATE, 'vm start x\r', 'sleep 300\r', 'vm info x\r', 'console x\r', 'a', { idle: 40 }, { key: 0x17 }, 'vm wait x --timeout 5\r', 'vm info x\r'];
  const { model, g, out } = runSvm({ script, input });
  clean(model);
  const halt = 14;
  assert.equal(g.records[halt].kind, 'hlt');
  const slept = g.vmruns[halt + 1].ticks - g.vmruns[halt].ticks;
  assert.ok(slept >= 300 * TICKS_PER_MS, `not run again until the key (${slept / TICKS_PER_MS} ms)`);
  assert.equal(runsBetween(model, g.vmruns[halt].ticks, g.vmruns[halt + 1].ticks), 0, 'no VMRUN while it slept');
  const before = vmInfo(out('vm info x', 0));
  assert.equal(before.state, 'running');
  assert.ok(before.halted, '`vm info`: the vCPU is halted, waiting for an interrupt');
  assert.equal(before.interrupts, 0);
  assert.deepEqual(g.records[halt].outcome.injected, event(VECTOR_BASE + 4, 0), 'the UART\'s IRQ 4: vector base+4');
  assert.equal(g.records[halt + 1].outcome.regs.rax & 0xffn, 0x61n, 'RBR holds the key');
  const after = vmInfo(out('vm info x', 1));
  assert.equal(after.halted, false);
  assert.deepEqual(after.vectors, { [VECTOR_BASE + 4]: 1 });
  assert.equal(after.stopped, 'the guest wrote 0 to port 0xF4');
});

test('the guest\'s TSC starts near 0 at vm create (TSC_OFFSET), RDMSR 0x10 agrees; RDMSR 0x6E0 and the x2APIC MSRs go to the local APIC, #GP outside x2APIC mode', () => {
  const script = [
    { rdmsr: 0x10, micros: 1000 },
    { rdmsr: 0x6e0 },
    { rdmsr: 0x802 }, // x2APIC ID in xAPIC mode: #GP
    { wrmsr: [0x1b, 0xfee00d00] }, // EN | EXTD | BSP: x2APIC mode
    { rdmsr: 0x802 }, { rdmsr: 0x803 }, { rdmsr: 0x1b },
    STOP(),
  ];
  const { model, g } = runSvm({ script, input: START });
  clean(model);
  const M64 = 1n << 64n;
  const offset = g.vmruns[0].tscOffset;
  assert.ok(g.vmruns.every((r) => r.tscOffset === offset), 'TSC_OFFSET set once, at vm create');
  const guestTsc = (r) => (r.hostTsc + offset) % M64;
  assert.ok(offset > M64 / 2n, `a negative offset (${hex(offset)}): the guest's TSC is behind the host's`);
  assert.ok(guestTsc(g.vmruns[0]) < 50n * BigInt(TICKS_PER_MS), `the guest's TSC at its first VMRUN: ${guestTsc(g.vmruns[0])} ticks`);
  const value = (i) => ((g.records[i].outcome.regs.rdx & 0xffffffffn) << 32n) | (g.records[i].outcome.regs.rax & 0xffffffffn);
  const rdtsc = value(0);
  assert.ok(rdtsc >= guestTsc(g.vmruns[0]) + 1000n * 3000n, 'RDMSR 0x10 after the guest ran 1 ms');
  assert.ok(rdtsc <= guestTsc(g.vmruns[1]), `RDMSR 0x10 (${rdtsc}) is what RDTSC reads through TSC_OFFSET (${guestTsc(g.vmruns[1])} at the next VMRUN)`);
  assert.equal(g.records[1].outcome.injected, null, 'IA32_TSC_DEADLINE: no #GP');
  assert.equal(value(1), 0n, 'reads 0 outside TSC-deadline mode');
  assert.deepEqual(g.records[2].outcome.injected, event(13, 3, 0), 'x2APIC MSR in xAPIC mode: #GP(0)');
  assert.equal(g.records[2].outcome.advance, 0);
  assert.equal(g.records[3].outcome.injected, null);
  assert.equal(value(4), 0n, 'x2APIC ID 0');
  assert.equal(value(5), 0x00050014n, 'version 0x14, max LVT 5');
  assert.equal(value(6), 0xfee00d00n, 'IA32_APIC_BASE: x2APIC mode, enabled, BSP');
});

// ---- VMX: the same delivery through the VMCS (the simulated processor checks each entry, tests/sim/vmx-checks.mjs) ----

// The architectural MSRs OVMF leaves (the Bochs capture lists the VMX ones), as tests/unit/vm-vmx.test.mjs has them.
const ARCHITECTURAL = {
  '0xc0000080': 0xd01n, '0xc0000081': 0n, '0xc0000082': 0n, '0xc0000083': 0n, '0xc0000084': 0n, '0xc0000102': 0n, '0xc0000100': 0n, '0xc0000101': 0n, '0x174': 0n, '0x175': 0n, '0x176': 0n, '0x277': 0x0007040600070406n,
};
const FIRMWARE_GDT = Buffer.from('0000000000000000ffff0000009acf00ffff00000092cf00ffff0000009acf00ffff00000092cf00ffff00000092cf00ffff0000009acf00ffff0000009aaf00ffff00000092cf00', 'hex');
const PROC_INTERRUPT_WINDOW = 1n << 2n;
const PROC_TSC_OFFSET = 1n << 3n;

/**
 * A VMX guest as one exit per step: { reason, length, qual, regs: { n: value }, if, sti (blocking by
 * STI), idt / idtError (IDT-vectoring information and error code: an event the exit cut short),
 * micros }. Each entry is recorded: the machine's ticks, the event injected (VM-entry
 * interruption information and error code, consumed as the processor does), the primary
 * controls, TSC_OFFSET, RFLAGS, the interruptibility state and RAX/RDX.
 */
const vmxScript = (steps) => {
  const entries = [];
  let i = 0;
  const handler = ({ machine, vmcs, gprs }) => {
    const ticks = Math.round(machine.seconds * 3e9);
    const info = vmcs.get(Field.ENTRY_INTERRUPTION_INFO) ?? 0n;
    entries.push({
      ticks, hostTsc: machine.bootTsc + BigInt(ticks), info, error: (info & 0x800n) !== 0n ? vmcs.get(Field.ENTRY_EXCEPTION_ERROR) ?? 0n : null,
      proc: vmcs.get(Field.PROC_CONTROLS) ?? 0n, tscOffset: vmcs.get(Field.TSC_OFFSET) ?? 0n, rflags: vmcs.get(Field.GUEST_RFLAGS),
      interruptibility: vmcs.get(Field.GUEST_INTERRUPTIBILITY) ?? 0n, rax: gprs[0], rdx: gprs[2],
    });
    vmcs.set(Field.ENTRY_INTERRUPTION_INFO, info & ~(1n << 31n)); // VM exits clear the valid bit (SDM 28.2.4)
    const s = steps[Math.min(i++, steps.length - 1)];
    if (s.micros) machine.stallMicros += s.micros;
    for (const [r, value] of Object.entries(s.regs ?? {})) gprs[Number(r)] = value;
    vmcs.set(Field.GUEST_RFLAGS, 0x2n | (s.if ? 0x200n : 0n));
    vmcs.set(Field.GUEST_INTERRUPTIBILITY, s.sti ? 1n : 0n);
    vmcs.set(Field.IDT_VECTORING_INFO, s.idt ?? 0n);
    vmcs.set(Field.IDT_VECTORING_ERROR, s.idtError ?? 0n);
    vmcs.set(Field.EXIT_REASON, BigInt(s.reason));
    vmcs.set(Field.EXIT_INSTRUCTION_LENGTH, BigInt(s.length ?? 0));
    vmcs.set(Field.EXIT_QUALIFICATION, BigInt(s.qual ?? 0));
    return 0;
  };
  return { handler, entries };
};

/** The SVM-style actions this file uses as VMX exits (SDM appendix C reasons; I/O qualification SDM table 28-5). */
const vmxStep = (a) => {
  const extra = { if: a.if, sti: a.shadow, micros: a.micros };
  if (a.out) return { reason: 30, length: 2, qual: (a.out[0] << 16) | ((a.out[2] ?? 1) - 1), regs: { 0: BigInt(a.out[1]) }, ...extra }; // OUT imm8, AL
  if (a.hlt) return { reason: 12, length: 1, if: a.hlt.if };
  if (a.cpuid) return { reason: 10, length: 2, regs: { 0: BigInt(a.cpuid[0]), 1: 0n }, ...extra };
  if (a.rdmsr !== undefined) return { reason: 31, length: 2, regs: { 1: BigInt(a.rdmsr) }, ...extra };
  if (a.vintr) return { reason: 7, ...extra }; // interrupt window
  if (a.intr) return { reason: 1, idt: a.intInfo === undefined ? 0n : BigInt(a.intInfo) & 0xffffffffn, idtError: a.intInfo === undefined ? 0n : BigInt(a.intInfo) >> 32n, ...extra };
  throw new Error(`no VMX step for ${JSON.stringify(a)}`);
};

const runVmx = ({ script, input = START }) => {
  const cpu = machineOptions(VMX_MACHINE).cpu;
  Object.assign(cpu.msrs, ARCHITECTURAL);
  const guest = vmxScript(script.map(vmxStep));
  const m = boot({
    ...machineOptions(VMX_MACHINE), cpu, files: { '\\hello.elf': HELLO },
    acpi: { regions: [{ addr: 0x7bee698n, bytes: FIRMWARE_GDT }] },
    input: [...input, 'exit\r'], vmxGuest: guest.handler,
  });
  return { m, e: guest.entries, out: (command, n) => outputOf(m, command, n) };
};

/** No VM entry was refused by the simulated processor's checks, and the VM ended as its script did. */
const vmxClean = (m, out) => {
  assert.deepEqual(m.vmx.entryFailures, [], 'every VM entry passes the processor\'s checks');
  assert.equal(vmInfo(out('vm info x')).stopped, 'the guest wrote 0 to port 0xF4');
};

test('VMX: PIC and PIT as Linux programs them, HLT with IF=1: no entry before the PIT\'s period, then VM-entry interruption information = vector base+0', () => {
  const script = [...picInit(0xfa), ...pitMode2(), { hlt: { if: true } }, EOI, STOP()];
  const { m, e, out } = runVmx({ script });
  vmxClean(m, out);
  const [pitArmed, halt] = [14, 15];
  assert.equal(e.length, script.length);
  assert.ok(e[halt + 1].ticks >= e[pitArmed].ticks + PIT_PERIOD_TICKS, 'asleep until the tick');
  assert.ok(e[halt + 1].ticks <= e[pitArmed].ticks + PIT_PERIOD_TICKS + 2 * TICKS_PER_MS);
  assert.deepEqual(e.slice(0, halt + 1).map((x) => x.info >> 31n), Array(halt + 1).fill(0n), 'nothing injected before');
  assert.equal(e[halt + 1].info, INTERRUPT(VECTOR_BASE), 'valid | type 0 (external interrupt) | vector base+0');
  assert.deepEqual(vmInfo(out('vm info x')).vectors, { [VECTOR_BASE]: 1 });
});

test('VMX: the tick while IF=0 sets interrupt-window exiting instead; after exit reason 7 with IF=1 the vector goes in and the control is cleared', () => {
  const script = [...picInit(0xfa), ...pitMode2(), { cpuid: [0, 0], micros: 12000 }, { vintr: true, if: true }, EOI, STOP()];
  const { m, e, out } = runVmx({ script });
  vmxClean(m, out);
  assert.equal(e[15].proc & PROC_INTERRUPT_WINDOW, 0n, 'no window before the tick');
  assert.equal(e[16].info >> 31n, 0n, 'nothing injected with IF clear');
  assert.equal(e[16].proc & PROC_INTERRUPT_WINDOW, PROC_INTERRUPT_WINDOW, 'interrupt-window exiting in the primary controls');
  assert.equal(e[17].info, INTERRUPT(VECTOR_BASE), 'after the interrupt-window exit');
  assert.equal(e[17].proc & PROC_INTERRUPT_WINDOW, 0n, 'and the window is withdrawn');
});

test('VMX: IDT-vectoring information comes back as VM-entry interruption information (with the error code); a software interrupt does not', () => {
  const script = [
    { intr: true, if: true, intInfo: (0x1234n << 32n) | 0x80000b0en }, // #PF, error code 0x1234
    { intr: true, if: true, intInfo: 0x80000041n }, // external interrupt 0x41
    { intr: true, if: true, intInfo: 0x80000480n }, // INT 0x80 (type 4)
    { intr: true, if: true, intInfo: 0x80000603n }, // INT3 (type 6)
    { intr: true, if: true, intInfo: NMI_EVENT },
    STOP(),
  ];
  const { m, e, out } = runVmx({ script });
  vmxClean(m, out);
  assert.deepEqual([e[1].info, e[1].error], [0x80000b0en, 0x1234n], '#PF with its error code');
  assert.equal(e[2].info, 0x80000041n);
  assert.equal(e[3].info >> 31n, 0n, 'INT n runs again instead');
  assert.equal(e[4].info >> 31n, 0n, 'INT3 too');
  assert.equal(e[5].info, NMI_EVENT);
});

test('VMX: TSC offsetting is on and TSC_OFFSET makes the guest\'s TSC start near 0 at vm create; RDMSR 0x10 agrees', () => {
  const { m, e, out } = runVmx({ script: [{ rdmsr: 0x10, micros: 1000 }, STOP()] });
  vmxClean(m, out);
  const M64 = 1n << 64n;
  assert.equal(e[0].proc & PROC_TSC_OFFSET, PROC_TSC_OFFSET, 'use TSC offsetting');
  const guestTsc = (x) => (x.hostTsc + e[0].tscOffset) % M64;
  assert.ok(guestTsc(e[0]) < 50n * BigInt(TICKS_PER_MS), `guest TSC at the first entry: ${guestTsc(e[0])}`);
  const rdtsc = ((e[1].rdx & 0xffffffffn) << 32n) | (e[1].rax & 0xffffffffn);
  assert.ok(rdtsc >= guestTsc(e[0]) + 3000000n && rdtsc <= guestTsc(e[1]), `RDMSR 0x10 = ${rdtsc}, between ${guestTsc(e[0])} + 1 ms and ${guestTsc(e[1])}`);
});
