// A guest's accesses to a device's MMIO range (kernel/vm/mmio-access.ts, devices/bus.ts):
// the range is outside the VM's nested page tables, so each access is a nested page fault
// that the kernel decodes (MOV, MOVZX, the ALU forms and more: kernel/vm/mmio-access.ts) and
// carries out against the device and the vCPU's registers, then steps past. This kernel
// variant also maps COM1's eight registers at 0xFED00000: the guest's serial output and
// register reads go through MMIO. The local APIC (0xFEE00000) and the I/O APIC
// (0xFEC00000) are the board's own MMIO devices.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { boot, ROOT, variantModule } from '../sim/harness.mjs';
import { machineOptions } from '../sim/fixtures/machines.mjs';
import { SvmGuests } from '../sim/svm-guest.mjs';

execFileSync('make', ['-s', 'guests'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
const HELLO = readFileSync(join(ROOT, 'build', 'guests', 'hello.elf'));
const PROMPT = /(?:zerovisor> |ゼロバイザー> |zerovisor 控制台> )/;
const UART = 0xfed00000;

const mmioKernel = () => variantModule('mmio-com1', [{
  file: 'kernel/vm/devices/board.ts',
  from: 'mapPorts(registerDevice(DeviceId.DebugExit',
  to: "import { mapMmio } from './bus';\nmapMmio(0, 0xfed00000, 8); // the test's COM1 alias\nmapPorts(registerDevice(DeviceId.DebugExit",
}]);

const run = (script) => {
  const model = new SvmGuests(() => script);
  const m = boot({ ...machineOptions('qemu-q35-intel-iommu-smp4'), module: mmioKernel(), files: { '\\hello.elf': HELLO }, svmGuest: model.handler,
    input: ['vm create x --mem 4 --image \\hello.elf\r', 'vm start x\r', 'vm wait x --timeout 5\r', 'vm info x\r', 'metrics\r', 'exit\r'] });
  const out = (command) => {
    const runs = m.serialText.split(PROMPT).slice(1).map((chunk) => chunk.split('\r\n')).filter((lines) => lines[0] === command);
    assert.ok(runs.length > 0, `"${command}" did not run:\n${m.serialText}`);
    return runs[0].slice(1, -1);
  };
  return { m, model, out };
};

test('MOV to and from a device\'s MMIO range: COM1 transmits, its registers read into the right bytes of the right register, RIP steps past', () => {
  const store = (ch) => ({ npf: UART, bytes: [0x88, 0x18], regs: { rax: UART, rbx: 0x1111_2222_3333_3300n | BigInt(ch) } }); // mov [eax], bl
  const { model, out } = run([
    store(0x48), store(0x69), store(0x0a),
    { npf: UART + 5, bytes: [0x8a, 0x20], regs: { rax: UART + 5 }, writes: ['rax'] }, // mov ah, [eax]: LSR
    { npf: UART + 4, bytes: [0x0f, 0xb6, 0x4f, 0x01], regs: { rdi: UART + 3, rcx: 0xffff_ffff_ffff_ffffn }, writes: ['rcx'] }, // movzx ecx, byte [edi+1]: MCR
    { npf: UART + 7, bytes: [0x66, 0xc7, 0x06, 0x34, 0x12], regs: { rsi: UART + 7 } }, // mov word [esi], 0x1234: SCR, then past the UART
    { npf: UART + 7, bytes: [0x8b, 0x16], regs: { rsi: UART + 7 }, writes: ['rdx'] }, // mov edx, [esi]: SCR and 3 bytes of nothing
    { npf: UART + 7, bytes: [0x80, 0x3e, 0x34], regs: { rsi: UART + 7 }, flags: true }, // cmp byte [esi], 0x34: SCR, equal
    { npf: UART + 7, bytes: [0xf0, 0x80, 0x06, 0xcc], regs: { rsi: UART + 7 }, flags: true }, // lock add byte [esi], 0xcc: SCR 0, carry
    { npf: UART, bytes: [0x0f, 0x0b] }, // UD2 on MMIO: not a move
  ]);
  assert.deepEqual(model.problems, []);
  const wait = out('vm wait x --timeout 5');
  assert.equal(wait[0], '[x] Hi');
  const [g] = model.guests;
  const npf = model.records(g, 'npf');
  for (const r of npf.slice(0, 9)) assert.equal(r.outcome.advance, r.len, `step ${r.step}: RIP past the ${r.len}-byte instruction`);
  const ah = (npf[3].outcome.regs.rax >> 8n) & 0xffn;
  assert.equal(ah, 0x60n, 'LSR: THRE and TEMT, into AH');
  assert.equal(npf[3].outcome.regs.rax & ~0xff00n, npf[3].before[0] & ~0xff00n, 'the rest of RAX is kept');
  assert.equal(npf[4].outcome.regs.rcx, 0n, 'MOVZX: MCR 0, zero-extended over all of RCX');
  assert.equal(npf[6].outcome.regs.rdx, 0xffffff34n, 'SCR holds the low byte; past the UART reads float high; a 32-bit load clears the top half');
  assert.equal(npf[7].outcome.rflags, npf[7].rflags | 0x44n, 'CMP equal: ZF and PF set, written back to the VMCB');
  assert.equal(npf[8].outcome.rflags, npf[8].rflags | 0x55n, '0x34 + 0xcc: CF, PF, AF, ZF');
  const info = out('vm info x');
  assert.ok(info.some((l) => /^ {2}Stopped because: an instruction Zerovisor does not emulate \(0xfed00000; bytes 0f 0b( [0-9a-f]{2}){0,6}\)$/i.test(l)), info.join('\n'));
  // ten MMIO accesses reached COM1 (three stores, four loads or stores of registers, CMP's read, ADD's read and write); the UD2 reached none
  assert.ok(out('metrics').includes('zerovisor_device_accesses_total{vm="1",device="com1"} 10'), out('metrics').filter((l) => l.includes('device')).join('\n'));
});

test('a nested page fault outside RAM and outside every MMIO range still stops the VM with its address', () => {
  const { model, out } = run([{ npf: 0xfef00000, bytes: [0x8b, 0x00], regs: { rax: 0xfef00000 } }]);
  assert.deepEqual(model.problems, []);
  assert.ok(out('vm info x').some((l) => /^ {2}Stopped because: it touched guest-physical 0x00000000fef00000, outside its memory$/i.test(l)), out('vm info x').join('\n'));
});

test('the local APIC page at 0xFEE00000 and the I/O APIC at 0xFEC00000 answer aligned dwords; other sizes read all ones', () => {
  const LAPIC = 0xfee00000;
  const IOAPIC = 0xfec00000;
  const { model, out } = run([
    { npf: LAPIC + 0x30, bytes: [0x8b, 0x00], regs: { rax: LAPIC + 0x30 }, writes: ['rax'] }, // mov eax, [eax]: version
    { npf: LAPIC + 0x30, bytes: [0x8a, 0x18], regs: { rax: LAPIC + 0x30, rbx: 0 }, writes: ['rbx'] }, // mov bl, [eax]: a byte
    { npf: IOAPIC, bytes: [0xc7, 0x00, 0x01, 0x00, 0x00, 0x00], regs: { rax: IOAPIC } }, // mov dword [eax], 1: IOREGSEL = version
    { npf: IOAPIC + 0x10, bytes: [0x8b, 0x08], regs: { rax: IOAPIC + 0x10 }, writes: ['rcx'] }, // mov ecx, [eax]: IOWIN
    { npf: LAPIC, bytes: [0x0f, 0x0b] },
  ]);
  assert.deepEqual(model.problems, []);
  const npf = model.records(model.guests[0], 'npf');
  assert.equal(npf[0].outcome.regs.rax, 0x00050014n, 'local APIC version');
  assert.equal(npf[1].outcome.regs.rbx & 0xffn, 0xffn, 'a byte access reads all ones');
  assert.equal(npf[3].outcome.regs.rcx, 0x00170011n, 'I/O APIC version');
  assert.ok(out('metrics').includes('zerovisor_device_accesses_total{vm="1",device="lapic"} 2'), out('metrics').filter((l) => l.includes('device')).join('\n'));
});
