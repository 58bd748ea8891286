// The Intel VMX back end on the real kernel, against the simulated machine with the CPU
// captured from Bochs corei7_skylake_x (VMX, EPT with A/D, VPID, unrestricted guest;
// IA32_FEATURE_CONTROL unlocked): what enabling does to the machine (feature control,
// CR4.VMXE, VMXON, a GDT with a TSS because OVMF runs with TR = 0), the VMCS a new vCPU
// gets (controls the capability MSRs allow, Multiboot guest state, host state), the EPT
// tables, the errors a user sees when VMX cannot be used, and guests whose exits go
// through the shared dispatch (a small model of the processor plays the guest).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { boot, ROOT } from '../sim/harness.mjs';
import { machineOptions } from '../sim/fixtures/machines.mjs';

execFileSync('make', ['-s', 'guests'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
const HELLO = readFileSync(join(ROOT, 'build', 'guests', 'hello.elf'));
const MACHINE = 'bochs-corei7-skylake-x';
const PROMPT = /(?:zerovisor> |ゼロバイザー> |zerovisor 控制台> )/;
/** The line `vm info` shows for a VM whose entry the processor refused: VMfailValid with this error (SDM 31.4), or a VM-entry failure (SDM 27.8). */
const refusedEntry = (error) => `  Stopped because: the processor refused the VM entry (VM-instruction error ${error})`;
const REFUSED_GUEST_STATE = '  Stopped because: the processor refused its guest state (VM-entry failure, exit reason 33)';

// SDM vol. 3D appendix B encodings used below
const F = {
  VPID: 0x0000, EPTP: 0x201a, LINK: 0x2800, GUEST_EFER: 0x2806, PIN: 0x4000, PROC: 0x4002, EXIT_CTL: 0x400c, ENTRY_CTL: 0x4012,
  PROC2: 0x401e, EXIT_REASON: 0x4402, EXIT_LEN: 0x440c, QUAL: 0x6400, CS_AR: 0x4816, TR_AR: 0x4822, LDTR_AR: 0x4820,
  CR0: 0x6800, CR4: 0x6804, CR0_SHADOW: 0x6004, CR0_MASK: 0x6000, RIP: 0x681e, RFLAGS: 0x6820, HOST_TR: 0x0c0c,
  HOST_TR_BASE: 0x6c0a, HOST_CR4: 0x6c04, HOST_CS: 0x0c02, ENTRY_INFO: 0x4016, GPA: 0x2400, CR3: 0x6802, CR4_SHADOW: 0x6006,
};

// The firmware's GDT as OVMF has it (null, then flat code/data descriptors up to 0x47).
const FIRMWARE_GDT = Buffer.from('0000000000000000ffff0000009acf00ffff00000092cf00ffff0000009acf00ffff00000092cf00ffff00000092cf00ffff0000009acf00ffff0000009aaf00ffff00000092cf00', 'hex');

// Architectural MSRs every x86-64 processor has, as OVMF leaves them (the capture lists the VMX ones).
const ARCHITECTURAL = {
  '0xc0000080': 0xd01n, '0xc0000081': 0n, '0xc0000082': 0n, '0xc0000083': 0n, '0xc0000084': 0n, '0xc0000102': 0n, '0xc0000100': 0n, '0xc0000101': 0n, '0x174': 0n, '0x175': 0n, '0x176': 0n, '0x277': 0x0007040600070406n,
};

const cpuWith = (msrs = {}) => {
  const cpu = machineOptions(MACHINE).cpu;
  Object.assign(cpu.msrs, ARCHITECTURAL, msrs);
  return cpu;
};

const run = ({ input, cpu = cpuWith(), vmxGuest, hostHooks }) => {
  const m = boot({
    ...machineOptions(MACHINE), cpu, files: { '\\hello.elf': HELLO },
    acpi: { regions: [{ addr: 0x7bee698n, bytes: FIRMWARE_GDT }] },
    input: [...input, 'exit\r'], vmxGuest, hostHooks,
  });
  const out = (command) => {
    const runs = m.serialText.split(PROMPT).slice(1).map((chunk) => chunk.split('\r\n')).filter((lines) => lines[0] === command);
    assert.ok(runs.length > 0, `"${command}" ran:\n${m.serialText}`);
    return runs[0].slice(1, -1);
  };
  return { m, out };
};

const msr = (cpu, n) => BigInt(cpu.msrs[`0x${n.toString(16)}`]);
/** The VMCS the kernel built (the only one). */
const theVmcs = (m) => {
  assert.equal(m.vmx.vmcs.size, 1, 'one VMCS');
  return [...m.vmx.vmcs.values()][0];
};

test('enabling VMX on Bochs skylake: feature control locked with VMX outside SMX, CR4.VMXE, VMXON, and a GDT copy with a TSS loaded into TR', () => {
  const { m, out } = run({ input: ['vm create x --mem 4 --image \\hello.elf\r'] });
  assert.match(out('vm create x --mem 4 --image \\hello.elf')[0], /^VM 1 "x" created: 4 MiB, entry 0x00100000\.$/);
  assert.ok(m.msrWrites.some(([n, v]) => n === 0x3a && v === 5n), 'IA32_FEATURE_CONTROL = lock | VMX outside SMX');
  assert.notEqual(m.vmx.vmxonRegion, null, 'VMXON ran');
  assert.equal(m.vmx.cr4AtVmxon & 0x2000n, 0x2000n, 'with CR4.VMXE');
  assert.equal(m.vmx.on, null, '`exit` left VMX operation (VMXOFF) before returning to the firmware');
  assert.equal(m.vmx.cr4 & 0x2000n, 0n, 'and cleared CR4.VMXE');
  const g = m.vmx.loadedGdt;
  assert.ok(g, 'a GDT was loaded');
  assert.deepEqual(Buffer.from(g.bytes.subarray(0, FIRMWARE_GDT.length)), FIRMWARE_GDT, 'the firmware\'s descriptors are kept (its selectors stay valid)');
  assert.equal(g.tr, 0x48, 'TR = the descriptor after the firmware\'s last one');
  assert.equal(g.limit, 0x48 + 15);
  const d = Buffer.from(g.bytes.subarray(0x48, 0x58));
  const base = BigInt(d.readUInt16LE(2)) | (BigInt(d[4]) << 16n) | (BigInt(d[7]) << 24n) | (BigInt(d.readUInt32LE(8)) << 32n);
  assert.equal(d.readUInt16LE(0), 0x67, 'TSS limit 103');
  assert.equal(d[5], 0x89, 'present, 64-bit available TSS');
  const v = theVmcs(m);
  assert.equal(v.get(F.HOST_TR), 0x48n, 'host TR selector');
  assert.equal(v.get(F.HOST_TR_BASE), base, 'host TR base = the TSS');
  assert.equal(v.get(F.HOST_CS), 0x38n, 'host CS as the firmware runs');
  assert.equal(v.get(F.HOST_CR4) & 0x2000n, 0x2000n, 'host CR4 with VMXE');
});

test('a new vCPU\'s VMCS: controls within the capability MSRs, exits Zerovisor needs, Multiboot state, EPT over exactly its RAM', () => {
  const cpu = cpuWith();
  const { m } = run({ input: ['vm create x --mem 4 --image \\hello.elf\r'], cpu });
  const v = theVmcs(m);
  const within = (field, capMsr, name) => {
    const cap = msr(cpu, capMsr);
    const value = v.get(field);
    const must = cap & 0xffffffffn;
    const may = cap >> 32n;
    assert.equal(value & must, must, `${name}: every allowed-0 bit set`);
    assert.equal(value & ~may, 0n, `${name}: only allowed-1 bits`);
    return value;
  };
  const pin = within(F.PIN, 0x48d, 'pin-based (true)');
  const proc = within(F.PROC, 0x48e, 'processor-based (true)');
  const exit = within(F.EXIT_CTL, 0x48f, 'VM-exit (true)');
  const entry = within(F.ENTRY_CTL, 0x490, 'VM-entry (true)');
  const proc2 = within(F.PROC2, 0x48b, 'secondary');
  assert.equal(pin & 9n, 9n, 'external interrupts and NMIs exit');
  assert.equal(proc & ((1n << 7n) | (1n << 24n) | (1n << 31n)), (1n << 7n) | (1n << 24n) | (1n << 31n), 'HLT, unconditional I/O, secondary controls');
  assert.equal(proc & (1n << 28n), 0n, 'no MSR bitmap: every RDMSR/WRMSR exits');
  assert.equal(proc & (3n << 15n), 0n, 'CR3 loads and stores do not exit (EPT)');
  assert.equal(proc2 & 0xa2n, 0xa2n, 'EPT, VPID, unrestricted guest');
  assert.equal(exit & (1n << 9n), 1n << 9n, 'host address-space size');
  assert.equal(exit & (3n << 20n), 3n << 20n, 'save and load IA32_EFER');
  assert.equal(entry & (1n << 15n), 1n << 15n, 'load IA32_EFER');
  assert.equal(entry & (1n << 9n), 0n, 'not an IA-32e guest at start');
  assert.equal(v.get(F.VPID), 1n, 'VPID 1 (0 is the host\'s)');
  assert.equal(v.get(F.LINK), 0xffffffffffffffffn, 'no shadow VMCS');
  assert.equal(v.get(F.RIP), 0x100000n, 'EIP = the ELF entry');
  assert.equal(v.get(F.CR0) & 0x80000021n, 0x21n, 'CR0: PE and NE (fixed), PG clear');
  assert.equal(v.get(F.CR0_SHADOW), 0x11n, 'the guest reads CR0 = PE | ET');
  assert.equal(v.get(F.CR4) & 0x2000n, 0x2000n, 'CR4.VMXE (fixed), hidden by the mask');
  assert.equal(v.get(F.CS_AR), 0xc09bn, 'CS: flat 32-bit code');
  assert.equal(v.get(F.TR_AR), 0x8bn, 'TR: a busy TSS (SDM 26.3.1.2)');
  assert.equal(v.get(F.LDTR_AR), 0x10000n, 'LDTR unusable');
  assert.equal(v.get(F.RFLAGS), 2n);
  // EPTP: write-back, 4-level walk, A/D on (the captured CPU offers them: IA32_VMX_EPT_VPID_CAP bit 21)
  assert.equal((msr(cpu, 0x48c) >> 21n) & 1n, 1n);
  const eptp = v.get(F.EPTP);
  assert.equal(eptp & 0xfffn, 0x5en);
  // walk the EPT: [0, 4 MiB) -> RAM as two 2 MiB leaves, read/write/execute, write-back
  const root = eptp & ~0xfffn;
  const entryAt = (table, i) => new DataView(m.physRead(table + BigInt(i) * 8n, 8).buffer).getBigUint64(0, true);
  const pml4e = entryAt(root, 0);
  assert.equal(pml4e & 7n, 7n, 'PML4E: R/W/X');
  const pdpte = entryAt(pml4e & 0xffffffffff000n, 0);
  assert.equal(pdpte & 0x87n, 7n, 'PDPTE: a table');
  const pd = pdpte & 0xffffffffff000n;
  const leaves = [0, 1, 2].map((i) => entryAt(pd, i));
  for (const l of leaves.slice(0, 2)) assert.equal(l & 0xffn, 0xb7n, '2 MiB leaf: R/W/X, WB (6 << 3), PS');
  assert.equal(leaves[1] - leaves[0], 0x200000n, 'contiguous RAM');
  assert.equal(leaves[2], 0n, 'nothing mapped beyond its 4 MiB');
});

test('VMX locked off by the firmware, or without unrestricted guest: a translated error, no VM, nothing turned on', () => {
  const locked = run({ input: ['vm create x --mem 4 --image \\hello.elf\r', 'lang ja\r', 'vm create x --mem 4 --image \\hello.elf\r', 'vm list\r'], cpu: cpuWith({ '0x3a': 1n }) });
  assert.deepEqual(locked.out('vm create x --mem 4 --image \\hello.elf'), ['vm create: the firmware locked Intel VMX off (IA32_FEATURE_CONTROL); turn on VT-x in its setup.']);
  assert.match(locked.m.serialText, /ファームウェアが Intel VMX を無効のままロックしています/);
  assert.equal(locked.m.vmx.on, null);
  assert.equal(locked.m.vmx.cr4 & 0x2000n, 0n, 'CR4.VMXE untouched');
  assert.ok(!locked.m.msrWrites.some(([n]) => n === 0x3a), 'feature control left as the firmware locked it');
  const cpu = cpuWith();
  cpu.msrs['0x48b'] = cpu.msrs['0x48b'] & ~(1n << 39n); // secondary controls: unrestricted guest not allowed
  const noUg = run({ input: ['vm create x --mem 4 --image \\hello.elf\r'], cpu });
  assert.deepEqual(noUg.out('vm create x --mem 4 --image \\hello.elf'), ['vm create: this processor\'s VMX has no unrestricted guest mode; Zerovisor needs it for guests that start with paging off.']);
  assert.equal(noUg.m.vmx.on, null);
});

/**
 * A model of the processor running one guest under VMX: each VM entry plays the next step:
 * it checks what the kernel made of the previous exit, then sets the exit fields.
 */
const scriptedGuest = (steps) => {
  const seen = [];
  let i = 0;
  const handler = ({ vmcs, gprs, launched }) => {
    seen.push({ launched, rip: vmcs.get(F.RIP), rax: gprs[0], rbx: gprs[3], rcx: gprs[1], rdx: gprs[2], inject: vmcs.get(F.ENTRY_INFO) ?? 0n,
      cr0: vmcs.get(F.CR0), cr0Shadow: vmcs.get(F.CR0_SHADOW), cr3: vmcs.get(F.CR3), entry: vmcs.get(F.ENTRY_CTL), efer: vmcs.get(F.GUEST_EFER) });
    vmcs.set(F.ENTRY_INFO, 0n); // VM entry consumes the event (SDM 27.2)
    const s = steps[Math.min(i++, steps.length - 1)];
    for (const [r, value] of Object.entries(s.regs ?? {})) gprs[Number(r)] = value;
    if (s.cr4Set !== undefined) vmcs.set(F.CR4, vmcs.get(F.CR4) | s.cr4Set); // a guest-owned CR4 bit: MOV to CR4 without an exit
    vmcs.set(F.EXIT_REASON, BigInt(s.reason));
    vmcs.set(F.EXIT_LEN, BigInt(s.length ?? 0));
    vmcs.set(F.QUAL, BigInt(s.qual ?? 0));
    if (s.gpa !== undefined) vmcs.set(F.GPA, s.gpa);
    return 0;
  };
  return { handler, seen };
};

test('guests under VMX go through the shared dispatch: CPUID answered, RIP advanced by the exit instruction length, OUT to 0xF4 stops with the status, a denied MSR is a #GP', () => {
  const g = scriptedGuest([
    { reason: 10, length: 2, regs: { 0: 0x40000000n, 1: 0n } }, // CPUID 0x40000000
    { reason: 31, length: 2, regs: { 1: 0xc0010114n } }, // RDMSR VM_CR: denied
    { reason: 30, length: 1, qual: (0xf4 << 16) | 0, regs: { 0: 42n } }, // OUT 0xF4, AL (1 byte)
  ]);
  const { out } = run({ input: ['vm create x --mem 4 --image \\hello.elf\r', 'vm start x\r', 'vm wait x --timeout 5\r', 'vm info x\r'], vmxGuest: g.handler });
  assert.equal(g.seen.length, 3);
  assert.equal(g.seen[0].launched, false, 'VMLAUNCH first');
  assert.equal(g.seen[1].launched, true, 'then VMRESUME');
  const sig = Buffer.alloc(12);
  sig.writeUInt32LE(Number(g.seen[1].rbx), 0);
  sig.writeUInt32LE(Number(g.seen[1].rcx), 4);
  sig.writeUInt32LE(Number(g.seen[1].rdx), 8);
  assert.equal(sig.toString('latin1'), 'ZerovisorZV\0', 'the Zerovisor CPUID leaf');
  assert.equal(g.seen[1].rip, 0x100002n, 'RIP past CPUID (the exit instruction length)');
  assert.equal(g.seen[2].rip, 0x100002n, 'RIP stays on the faulting RDMSR');
  assert.equal(g.seen[2].inject, (1n << 31n) | (1n << 11n) | (3n << 8n) | 13n, '#GP(0) injected: valid, error code, hardware exception, vector 13');
  const info = out('vm info x');
  assert.ok(info.some((l) => /Exit status: 42/.test(l)), info.join('\n'));
  assert.ok(info.some((l) => /Stopped because: the guest wrote 42 to port 0xF4/.test(l)), info.join('\n'));
});

test('a triple fault and an entry the processor refuses stop only that VM, with the reason shown', () => {
  const g = scriptedGuest([{ reason: 2 }]);
  const { out } = run({ input: ['vm create x --mem 4 --image \\hello.elf\r', 'vm start x\r', 'vm wait x --timeout 5\r', 'vm info x\r'], vmxGuest: g.handler });
  assert.ok(out('vm info x').some((l) => /Stopped because: .*triple fault/.test(l)), out('vm info x').join('\n'));
  const bad = scriptedGuest([{ reason: 0x80000021 }]); // VM-entry failure, invalid guest state (SDM 27.8)
  const r = run({ input: ['vm create x --mem 4 --image \\hello.elf\r', 'vm start x\r', 'vm wait x --timeout 5\r', 'vm info x\r'], vmxGuest: bad.handler });
  assert.ok(r.out('vm info x').includes(REFUSED_GUEST_STATE), r.out('vm info x').join('\n'));
});

test('control-register exits are handled in the back end: MOV to CR0 keeps the VMX-fixed bits and the guest view, MOV CR3 both ways, long mode follows CR0.PG with EFER.LME', () => {
  const g = scriptedGuest([
    { reason: 28, length: 3, qual: (0 << 8) | (0 << 4) | 0, regs: { 0: 0x11n } }, // MOV CR0, EAX (NE clear): exits because NE is the host's
    { reason: 28, length: 3, qual: (3 << 8) | (0 << 4) | 3, regs: { 3: 0x5000n } }, // MOV CR3, EBX
    { reason: 28, length: 3, qual: (1 << 8) | (1 << 4) | 3 }, // MOV ECX, CR3
    { reason: 32, length: 2, regs: { 1: 0xc0000080n, 0: 0x100n, 2: 0n } }, // WRMSR EFER.LME
    { reason: 28, length: 3, qual: (0 << 8) | (0 << 4) | 0, regs: { 0: 0x80000011n } }, // MOV CR0, EAX: paging on with LME, CR4.PAE clear: #GP
    { reason: 28, length: 3, qual: (0 << 8) | (0 << 4) | 0, regs: { 0: 0x80000011n }, cr4Set: 0x20n }, // MOV CR4 PAE (no exit), MOV CR0 again -> IA-32e
    { reason: 32, length: 2, regs: { 1: 0xc0000080n, 0: 0n, 2: 0n } }, // WRMSR EFER.LME clear with paging on: #GP
    { reason: 30, length: 1, qual: 0xf4 << 16, regs: { 0: 7n } },
  ]);
  const { m } = run({ input: ['vm create x --mem 4 --image \\hello.elf\r', 'vm start x\r', 'vm wait x --timeout 5\r'], vmxGuest: g.handler });
  assert.deepEqual(m.vmx.entryFailures, [], 'every VM entry passed the processor\'s checks (SDM 26.2-26.3)');
  assert.equal(g.seen.length, 8, 'the CR exits did not stop the VM');
  assert.equal(g.seen[1].rip, 0x100003n, 'RIP past MOV CR0 (exit instruction length)');
  assert.equal(g.seen[1].cr0Shadow, 0x11n, 'the guest reads back the CR0 it wrote');
  assert.equal(g.seen[1].cr0 & 0x20n, 0x20n, 'the real CR0 keeps NE (IA32_VMX_CR0_FIXED0)');
  assert.equal(g.seen[2].cr3, 0x5000n, 'CR3 written');
  assert.equal(g.seen[3].rcx, 0x5000n, 'CR3 read into ECX');
  assert.equal(g.seen[5].inject, (1n << 31n) | (1n << 11n) | (3n << 8n) | 13n, 'paging on with EFER.LME but CR4.PAE clear: #GP(0) injected, as the processor does');
  assert.equal(g.seen[5].rip, 0x10000bn, 'RIP stays on the faulting MOV CR0');
  assert.equal(g.seen[5].entry & (1n << 9n), 0n, 'not in IA-32e mode after the fault');
  assert.equal(g.seen[6].entry & (1n << 9n), 1n << 9n, 'IA-32e mode guest entry control set with PG, PAE and LME');
  assert.equal(g.seen[6].efer & 0x500n, 0x500n, 'EFER.LME and LMA');
  assert.equal(g.seen[6].rip, 0x10000en, 'every instruction advanced: 3 + 3 + 3 + 2 + 3');
  assert.equal(g.seen[7].inject, (1n << 31n) | (1n << 11n) | (3n << 8n) | 13n, 'clearing EFER.LME with paging on: #GP(0) injected, as the processor does');
  assert.equal(g.seen[7].rip, 0x10000en, 'RIP stays on the faulting WRMSR');
  assert.equal(g.seen[7].efer & 0x500n, 0x500n, 'EFER.LME and LMA unchanged');
});

test('an EPT violation outside the VM\'s RAM stops the VM and names the guest-physical address', () => {
  const g = scriptedGuest([{ reason: 48, qual: 1, gpa: 0x1800000n }]);
  const { out } = run({ input: ['vm create x --mem 4 --image \\hello.elf\r', 'vm start x\r', 'vm wait x --timeout 5\r', 'vm info x\r', 'audit\r'], vmxGuest: g.handler });
  assert.ok(out('vm info x').some((l) => /Stopped because: it touched guest-physical 0x0000000001800000, outside its memory/.test(l)), out('vm info x').join('\n'));
  assert.ok(out('audit').some((l) => /vm\.stop .*access to guest-physical 0x0000000001800000 outside its memory/.test(l)));
});

test('the SYSCALL MSRs (no VMCS fields) go through the VM-entry/exit MSR areas: a guest WRMSR lands in its load area, RDMSR reads it back, the host keeps its own', () => {
  const g = scriptedGuest([
    { reason: 32, length: 2, regs: { 1: 0xc0000082n, 0: 0x89abcdefn, 2: 0xffffffffn } }, // WRMSR LSTAR
    { reason: 31, length: 2, regs: { 1: 0xc0000082n, 0: 0n, 2: 0n } }, // RDMSR LSTAR
    { reason: 30, length: 1, qual: 0xf4 << 16, regs: { 0: 1n } },
  ]);
  const { m } = run({ input: ['vm create x --mem 4 --image \\hello.elf\r', 'vm start x\r', 'vm wait x --timeout 5\r'], vmxGuest: g.handler });
  assert.equal(g.seen[2].rax, 0x89abcdefn, 'RDMSR LSTAR: the low half');
  assert.equal(g.seen[2].rdx, 0xffffffffn, 'and the high half');
  const v = theVmcs(m);
  const area = (store, count) => {
    const n = Number(v.get(count));
    const at = v.get(store);
    const bytes = Buffer.from(m.physRead(at, n * 16));
    return Array.from({ length: n }, (_, i) => [bytes.readUInt32LE(i * 16), bytes.readBigUInt64LE(i * 16 + 8)]);
  };
  const guest = area(0x200a, 0x4014); // VM-entry MSR-load area (SDM 25.8.2)
  assert.deepEqual(guest.map(([i]) => i), [0xc0000081, 0xc0000082, 0xc0000083, 0xc0000084, 0xc0000102], 'STAR, LSTAR, CSTAR, SFMASK, KernelGsBase');
  assert.equal(guest[1][1], 0xffffffff89abcdefn, 'the guest\'s LSTAR, loaded at the next entry');
  assert.equal(v.get(0x2006), v.get(0x200a), 'VM exit stores the guest\'s values back into the same area (SDM 28.4)');
  assert.equal(v.get(0x400e), 5n);
  const host = area(0x2008, 0x4010); // VM-exit MSR-load area
  assert.deepEqual(host.map(([i]) => i), guest.map(([i]) => i));
  assert.ok(host.every(([, value]) => value === 0n), 'the host\'s own values (0 on this machine), not the guest\'s');
});

test('the exit record: the world switch\'s one host call fills it (the VMREADs are in the shim), RIP goes back from the record', () => {
  const CPUIDS = 40;
  const steps = [
    ...Array.from({ length: CPUIDS }, () => ({ reason: 10, length: 2, regs: { 0: 0n, 1: 0n } })), // CPUID leaf 0
    { reason: 30, length: 1, qual: 0xf4 << 16, regs: { 0: 5n } }, // OUT 0xF4, AL
  ];
  const g = scriptedGuest(steps);
  const reads = [];
  const handler = (run) => {
    reads.push((m?.callsByName.get('hv_vmread') ?? 0) + (m?.callsByName.get('hv_vmread_hi') ?? 0) + (m?.callsByName.get('hv_vmwrite') ?? 0));
    run.vmcs.set(0x681c, 0x7000n + BigInt(reads.length)); // the guest moves its stack
    return g.handler(run);
  };
  let m = null;
  const r = run({ input: ['vm create x --mem 4 --image \\hello.elf\r', 'vm start x\r', 'vm wait x --timeout 5\r', 'vm info x\r'], vmxGuest: (x) => { m = x.machine; return handler(x); } });
  assert.ok(r.out('vm info x').some((l) => /Exit status: 5/.test(l)), r.out('vm info x').join('\n'));
  assert.equal(g.seen.length, CPUIDS + 1);
  // between the second entry and the last, CPUID exits cost no VMREAD/VMWRITE host call: the record has all the dispatch reads
  assert.equal(reads.at(-1) - reads[1], 0, `VMREAD/VMWRITE host calls on ${CPUIDS - 1} CPUID exits`);
  assert.equal(g.seen.at(-1).rip, 0x100000n + BigInt(CPUIDS * 2), 'RIP advanced in the record, written back at each entry');
  assert.equal(theVmcs(r.m).get(0x681c), 0x7000n + BigInt(CPUIDS + 1), 'GUEST_RSP as the guest left it (read into the register file and written back at each entry)');
});

// ---- the processor's checks at VM entry (SDM 26.2-26.3) in the simulated machine (tests/sim/vmx-checks.mjs) ----

const START = ['vm create x --mem 4 --image \\hello.elf\r', 'vm start x\r', 'vm wait x --timeout 5\r', 'vm info x\r'];

/**
 * Starts a VM whose VMCS gets `edit` just before each VM entry (one field as Zerovisor
 * never sets it): what the simulated processor refused, and what the user sees.
 */
const entryWith = (edit, steps = [{ reason: 30, length: 1, qual: 0xf4 << 16, regs: { 0: 3n } }]) => { // OUT 0xF4: exit status 3
  const g = scriptedGuest(steps);
  const r = run({
    input: START, vmxGuest: g.handler,
    hostHooks: (functions, machine) => {
      const enter = functions.hv_vmx_run;
      functions.hv_vmx_run = (...args) => {
        edit(machine.vmx.vmcs.get(machine.vmx.current), machine, args[0]);
        return enter(...args);
      };
    },
  });
  return { ...r, entered: g.seen.length, failures: r.m.vmx.entryFailures, errors: r.m.vmx.instructionErrors, info: r.out('vm info x') };
};

test('the VMCS Zerovisor builds passes every VM-entry check the simulated processor makes', () => {
  const r = entryWith(() => {});
  assert.deepEqual(r.failures, []);
  assert.deepEqual(r.errors, []);
  assert.equal(r.entered, 1, 'the guest ran');
  assert.ok(r.info.some((l) => /Exit status: 3/.test(l)), r.info.join('\n'));
});

const entryFailureCases = [
  // SDM 26.2.1: VMfailValid, VM-instruction error 7
  { name: 'a processor-based control its capability MSR fixes to 1, cleared', edit: (v) => v.set(F.PROC, v.get(F.PROC) & ~2n), check: 'controlsWithinCapabilities', error: 7 },
  { name: 'a VM-exit control its capability MSR does not allow, set', edit: (v) => v.set(F.EXIT_CTL, v.get(F.EXIT_CTL) | (1n << 31n)), check: 'controlsWithinCapabilities', error: 7 },
  { name: 'VPID enabled with VPID 0', edit: (v) => v.set(F.VPID, 0n), check: 'secondaryControlRules', error: 7 },
  { name: 'an EPTP with a 5-level walk', edit: (v) => v.set(F.EPTP, (v.get(F.EPTP) & ~0x38n) | (4n << 3n)), check: 'secondaryControlRules', error: 7 },
  { name: 'a VM-entry MSR-load area not 16-byte aligned', edit: (v) => v.set(0x200a, v.get(0x200a) + 8n), check: 'msrAreas', error: 7 },
  { name: 'an injected #GP without its error code', edit: (v) => v.set(F.ENTRY_INFO, (1n << 31n) | (3n << 8n) | 13n), check: 'eventInjection', error: 7 },
  // SDM 26.2.2-26.2.4: VMfailValid, VM-instruction error 8
  { name: 'host CR4 without VMXE', edit: (v) => v.set(F.HOST_CR4, v.get(F.HOST_CR4) & ~0x2000n), check: 'hostControlRegisters', error: 8 },
  { name: 'a non-canonical host GDTR base', edit: (v) => v.set(0x6c0c, 0x0000800000000000n), check: 'hostAddressesCanonical', error: 8 },
  { name: 'host IA32_EFER without LMA for a 64-bit host', edit: (v) => v.set(0x2c02, v.get(0x2c02) & ~0x400n), check: 'hostEferAndPat', error: 8 },
  { name: 'a host CS selector with RPL 3', edit: (v) => v.set(F.HOST_CS, v.get(F.HOST_CS) | 3n), check: 'hostSelectors', error: 8 },
  { name: 'host TR selector 0', edit: (v) => v.set(F.HOST_TR, 0n), check: 'hostSelectors', error: 8 },
  // SDM 26.3.1: a VM-entry failure, exit reason 33 (bit 31 set)
  { name: 'guest CR0 without NE (IA32_VMX_CR0_FIXED0)', edit: (v) => v.set(F.CR0, v.get(F.CR0) & ~0x20n), check: 'guestControlRegisters', qualification: 0 },
  { name: 'guest CR0 with PG but not PE', edit: (v) => v.set(F.CR0, (v.get(F.CR0) | 0x80000000n) & ~1n), check: 'guestControlRegisters', qualification: 0 },
  { name: 'guest CR4 without VMXE (IA32_VMX_CR4_FIXED0)', edit: (v) => v.set(F.CR4, v.get(F.CR4) & ~0x2000n), check: 'guestControlRegisters', qualification: 0 },
  { name: 'guest IA32_EFER.LMA without the IA-32e mode guest control', edit: (v) => v.set(F.GUEST_EFER, 0x500n), check: 'guestEferAndMsrs', qualification: 0 },
  { name: 'the IA-32e mode guest control without guest paging', edit: (v) => v.set(F.ENTRY_CTL, v.get(F.ENTRY_CTL) | (1n << 9n)), check: 'guestControlRegisters', qualification: 0 },
  { name: 'guest TR an available (not busy) TSS', edit: (v) => v.set(F.TR_AR, 0x89n), check: 'guestSegments', qualification: 0 },
  { name: 'guest CS with a 4 GiB limit and G clear', edit: (v) => v.set(F.CS_AR, v.get(F.CS_AR) & ~0x8000n), check: 'guestSegments', qualification: 0 },
  { name: 'guest CS a data segment with DPL 3', edit: (v) => v.set(F.CS_AR, 0xc0f3n), check: 'guestSegments', qualification: 0 },
  { name: 'guest LDTR usable but a TSS', edit: (v) => v.set(F.LDTR_AR, 0x8bn), check: 'guestSegments', qualification: 0 },
  // RFLAGS goes to the VMCS from the register file at each entry (Rec.Rflags, area offset 200): clear it there
  { name: 'guest RFLAGS with bit 1 clear', edit: (v, m, area) => new DataView(m.memory.buffer).setBigUint64(area + 200, 0n, true), check: 'guestRipAndRflags', qualification: 0 },
  { name: 'guest activity state 4', edit: (v) => v.set(0x4826, 4n), check: 'guestActivityAndInterruptibility', qualification: 0 },
  { name: 'a VMCS link pointer that is not all ones', edit: (v) => v.set(F.LINK, 0n), check: 'vmcsLinkPointer', qualification: 4 },
];

test('VM entry refuses a VMCS that breaks a rule of SDM 26.2-26.3, as the processor does: VMfailValid with error 7 or 8, or exit reason 0x80000021; the VM stops with the reason shown', () => {
  for (const c of entryFailureCases) {
    const r = entryWith(c.edit);
    assert.equal(r.entered, 0, `${c.name}: the guest never ran`);
    assert.equal(r.failures.length, 1, `${c.name}: one refused entry, then the VM stopped`);
    assert.equal(r.failures[0].check, c.check, `${c.name}: refused by ${c.check} (${r.failures[0].why})`);
    if (c.error !== undefined) {
      assert.equal(r.failures[0].fail, 'VMfailValid', c.name);
      assert.deepEqual(r.errors, [c.error], `${c.name}: VM-instruction error ${c.error}`);
    } else {
      assert.equal(r.failures[0].fail, 'exit', c.name);
      assert.deepEqual(r.errors, [], `${c.name}: VM entry began (no VMfail)`);
      const v = theVmcs(r.m);
      assert.equal(v.get(F.EXIT_REASON), 0x80000021n, `${c.name}: exit reason 33 with bit 31 (VM-entry failure)`);
      assert.equal(v.get(F.QUAL), BigInt(c.qualification), `${c.name}: exit qualification`);
    }
    assert.ok(r.info.includes(c.error !== undefined ? refusedEntry(c.error) : REFUSED_GUEST_STATE), `${c.name}:\n${r.info.join('\n')}`);
  }
});

test('VMLAUNCH of a launched VMCS fails with error 4, VMRESUME of a clear one with error 5 (SDM 26.1)', () => {
  const again = entryWith((v, m) => m.vmx.launchedVmcs.add(m.vmx.current));
  assert.deepEqual(again.errors, [4], 'VMLAUNCH with a launched VMCS');
  assert.ok(again.info.includes(refusedEntry(4)), again.info.join('\n'));
  const clear = entryWith((v, m) => {
    if (m.vmx.runs === 1) m.vmx.launchedVmcs.delete(m.vmx.current); // as if VMCLEARed behind the kernel's back
  }, [{ reason: 10, length: 2, regs: { 0: 0n, 1: 0n } }, { reason: 30, length: 1, qual: 0xf4 << 16, regs: { 0: 3n } }]);
  assert.equal(clear.entered, 1, 'VMLAUNCH ran the guest to its CPUID');
  assert.deepEqual(clear.errors, [5], 'VMRESUME with a clear VMCS');
  assert.ok(clear.info.includes(refusedEntry(5)), clear.info.join('\n'));
});

test('VMWRITE to a read-only field fails with VM-instruction error 13: vm create reports the VMCS refused', () => {
  const r = run({
    input: ['vm create x --mem 4 --image \\hello.elf\r', 'vm list\r'],
    hostHooks: (functions) => {
      const write = functions.hv_vmwrite;
      // the kernel's VMWRITE of the pending debug exceptions goes to the exit reason (read-only, SDM 25.11.2)
      functions.hv_vmwrite = (field, lo, hi) => write(field === 0x6822 ? F.EXIT_REASON : field, lo, hi);
    },
  });
  assert.deepEqual(r.m.vmx.instructionErrors, [13]);
  assert.equal(theVmcs(r.m).get(F.EXIT_REASON), undefined, 'the read-only field kept its value');
  assert.match(r.out('vm create x --mem 4 --image \\hello.elf')[0], /^vm create: /);
  assert.doesNotMatch(r.out('vm create x --mem 4 --image \\hello.elf')[0], /created/);
});

test('VMXON checks the CR0 and CR4 bits VMX fixes: a kernel that left CR0.NE clear gets #GP', () => {
  assert.throws(() => run({
    input: ['vm create x --mem 4 --image \\hello.elf\r'],
    hostHooks: (functions, machine) => {
      machine.vmx.cr0 &= ~0x20n; // the firmware runs with CR0.NE clear
      const write = functions.hv_write_cr;
      functions.hv_write_cr = (which, lo, hi) => (which === 0 ? undefined : write(which, lo, hi)); // and the kernel's MOV to CR0 is lost
    },
  }), /sim: VMXON with CR0 0x80010013 outside IA32_VMX_CR0_FIXED0\/1 is #GP \(SDM 31\.3 VMXON\)/);
});

test('a new VM flushes its VPID\'s stale translations with INVVPID single-context before its first entry', () => {
  const r = entryWith(() => {});
  assert.deepEqual(r.m.vmx.invvpids, [[1, 1]], 'INVVPID type 1 (single-context) for VPID 1');
});
