// MMIO emulation (kernel/vm/mmio-access.ts, mmio-alu.ts, mmio-string.ts and the decoder
// decode/mmio-instruction.ts) in the porffor-compiled test kernel (tests/sim/mmio-logic.mjs)
// against a scripted device: reads answer what the test queued, writes are logged. Checks
// each form's registers, RFLAGS and device accesses; a random test of thousands of
// instructions with random prefixes against an independent reference (tests/sim/
// mmio-reference.mjs); STOS/MOVS with RAM and devices, REP batches, DF; undecodable bytes.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { MmioLogic, REG, Result } from '../sim/mmio-logic.mjs';
import { execute, randomInstruction, rng } from '../sim/mmio-reference.mjs';

let rig;
const fresh = () => (rig ??= new MmioLogic());
const M64 = (1n << 64n) - 1n;
const CF = 0x1, PF = 0x4, AF = 0x10, ZF = 0x40, SF = 0x80, OF = 0x800, DF = 0x400;

/** Sets every register to a distinct pattern, then `regs`; RFLAGS `flags`; CR0 0 (paging off), segment bases 0. */
const setup = (r, regs = {}, flags = 0x2) => {
  for (let i = 0; i < 16; i++) r.setReg(i, 0x1111111111111111n * BigInt(i + 1) & M64);
  for (const [name, v] of Object.entries(regs)) r.setReg(REG[name], v);
  r.flags = flags;
  for (let k = 0; k < 6; k++) r.setState(k, 0);
  r.setState(6, 0x11);
  r.setState(7, 0);
};
const writes = (r) => r.accesses().filter((a) => a.write).map((a) => [a.offset, a.size, a.value]);
const reads = (r) => r.accesses().filter((a) => !a.write).map((a) => [a.offset, a.size]);

test('MOV loads, stores and immediates: sizes, AH-BH and SPL-DIL, zero-extension of 32-bit writes, 8 bytes as two 4-byte accesses', () => {
  const r = fresh();
  setup(r, { rbx: 0x1122334455667788n });
  r.device();
  assert.deepEqual(r.emulate([0x88, 0x38], 32, { offset: 4 }), { result: Result.Done, length: 2, fault: 0 }); // mov [eax], bh
  assert.deepEqual(writes(r), [[4, 1, 0x77]]);
  setup(r, { rsi: 0xffff_ffff_ffff_ffffn });
  r.device({ reads: [0xab] });
  assert.equal(r.emulate([0x40, 0x8a, 0x30], 64).result, Result.Done); // mov sil, [rax] (REX: SIL, not DH)
  assert.equal(r.reg(REG.rsi), 0xffff_ffff_ffff_ffabn);
  r.device({ reads: [0xcd] });
  r.emulate([0x8a, 0x30], 64); // mov dh, [rax]
  assert.equal(r.reg(REG.rdx) & 0xffffn, 0xcd33n, 'DH: the second byte of RDX');
  r.device({ reads: [0x89abcdef] });
  r.emulate([0x8b, 0x08], 64); // mov ecx, [rax]
  assert.equal(r.reg(REG.rcx), 0x89abcdefn, 'a 32-bit load clears the top half');
  r.device({ reads: [0x1234] });
  r.emulate([0x66, 0x8b, 0x08], 64); // mov cx, [rax]
  assert.equal(r.reg(REG.rcx), 0x89ab1234n, '16 bits keep the rest');
  r.device({ reads: [0x44332211, 0x88776655] });
  assert.equal(r.emulate([0x4c, 0x8b, 0x40, 0x08], 64, { offset: 8 }).length, 4); // mov r8, [rax+8]
  assert.equal(r.reg(REG.r8), 0x8877665544332211n);
  assert.deepEqual(reads(r), [[8, 4], [12, 4]], 'low half first');
  setup(r, { r15: 0xfedcba9876543210n });
  r.device();
  r.emulate([0x4c, 0x89, 0x38], 64); // mov [rax], r15
  assert.deepEqual(writes(r), [[0, 4, 0x76543210], [4, 4, 0xfedcba98]]);
  r.device();
  r.emulate([0x48, 0xc7, 0x00, 0x00, 0x00, 0x00, 0x80], 64); // mov qword [rax], -0x80000000
  assert.deepEqual(writes(r), [[0, 4, 0x80000000], [4, 4, 0xffffffff]], 'imm32 sign-extended to 64 bits');
  r.device();
  assert.equal(r.emulate([0xc6, 0x44, 0x24, 0x10, 0x5a], 32).length, 5); // mov byte [esp+16], 0x5a
  assert.deepEqual(writes(r), [[0, 1, 0x5a]]);
  r.device();
  assert.equal(r.emulate([0xc7, 0x04, 0x34, 0x12], 16).length, 4); // mov word [si], 0x1234 (16-bit code)
  assert.deepEqual(writes(r), [[0, 2, 0x1234]]);
  r.device({ reads: [-1] });
  r.emulate([0x8b, 0x08], 32); // mov ecx, [eax] of nothing
  assert.equal(r.reg(REG.rcx), 0xffffffffn, 'reads of nothing float high');
});

test('MOV moffs: the offset is as wide as the address size; AL/eAX/RAX', () => {
  const r = fresh();
  setup(r, { rax: 0x1122334455667788n });
  r.device();
  assert.equal(r.emulate([0xa3, 0, 0, 0xd0, 0xfe, 0, 0, 0, 0], 64).length, 9); // mov [moffs64], eax
  assert.deepEqual(writes(r), [[0, 4, 0x55667788]]);
  r.device();
  assert.equal(r.emulate([0x67, 0xa2, 0, 0, 0xd0, 0xfe], 64).length, 6); // mov [moffs32], al
  assert.deepEqual(writes(r), [[0, 1, 0x88]]);
  r.device({ reads: [0xbeef] });
  assert.equal(r.emulate([0xa1, 0x10, 0x00], 16).length, 3); // mov ax, [0x10]
  assert.equal(r.reg(REG.rax), 0x112233445566beefn);
  r.device({ reads: [1, 2] });
  assert.equal(r.emulate([0x48, 0xa1, 0, 0, 0xd0, 0xfe, 0, 0, 0, 0], 64).length, 10); // mov rax, [moffs64]
  assert.equal(r.reg(REG.rax), 0x0000000200000001n);
});

test('MOVZX, MOVSX, MOVSXD extend into the register', () => {
  const r = fresh();
  setup(r);
  r.device({ reads: [0x80] });
  r.emulate([0x0f, 0xbe, 0x08], 32); // movsx ecx, byte [eax]
  assert.equal(r.reg(REG.rcx), 0xffffff80n);
  r.device({ reads: [0x8000] });
  r.emulate([0x48, 0x0f, 0xbf, 0x08], 64); // movsx rcx, word [rax]
  assert.equal(r.reg(REG.rcx), 0xffffffffffff8000n);
  r.device({ reads: [0x80000000] });
  r.emulate([0x4c, 0x63, 0x10], 64); // movsxd r10, dword [rax]
  assert.equal(r.reg(REG.r10), 0xffffffff80000000n);
  r.device({ reads: [0x7fffffff] });
  r.emulate([0x4c, 0x63, 0x10], 64);
  assert.equal(r.reg(REG.r10), 0x7fffffffn);
  setup(r, { rdx: 0xaaaaaaaaaaaaaaaan });
  r.device({ reads: [0xf0] });
  r.emulate([0x66, 0x0f, 0xbe, 0x10], 32); // movsx dx, byte [eax]
  assert.equal(r.reg(REG.rdx), 0xaaaaaaaaaaaafff0n, 'a 16-bit target keeps the rest');
  r.device({ reads: [0xfff0] });
  r.emulate([0x0f, 0xb7, 0x10], 64); // movzx edx, word [rax]
  assert.equal(r.reg(REG.rdx), 0xfff0n);
  assert.equal(r.emulate([0x63, 0x10], 64).result, Result.Undecodable, 'MOVSXD without REX.W is not taken');
  assert.equal(r.emulate([0x63, 0x10], 32).result, Result.Undecodable, 'ARPL in 32-bit code');
});

test('ALU with a memory destination: read, compute, write back, RFLAGS as the SDM defines them', () => {
  const r = fresh();
  setup(r, {}, 0x2);
  r.device({ reads: [0xffffffff] });
  assert.equal(r.emulate([0x83, 0x00, 0x01], 32).result, Result.Done); // add dword [eax], 1
  assert.deepEqual(writes(r), [[0, 4, 0]]);
  assert.equal(r.flags, 0x2 | CF | PF | AF | ZF);
  r.device({ reads: [0x7f] });
  r.emulate([0xf0, 0x80, 0x00, 0x01], 32); // lock add byte [eax], 1
  assert.deepEqual(writes(r), [[0, 1, 0x80]]);
  assert.equal(r.flags, 0x2 | AF | SF | OF);
  setup(r, { rbx: 0x0f0f }, 0x2 | CF | ZF);
  r.device({ reads: [0x00ff] });
  r.emulate([0x66, 0x09, 0x18], 32); // or [eax], bx
  assert.deepEqual(writes(r), [[0, 2, 0x0fff]]);
  assert.equal(r.flags, 0x2 | PF, 'OR clears CF and OF (and AF), sets ZF/SF/PF by the result');
  r.device({ reads: [5] });
  r.flags = 0x2 | CF;
  r.emulate([0x83, 0x18, 0x05], 32); // sbb dword [eax], 5 with CF: 5 - 5 - 1
  assert.deepEqual(writes(r), [[0, 4, 0xffffffff]]);
  assert.equal(r.flags, 0x2 | CF | PF | AF | SF);
  r.device({ reads: [0x80] });
  r.emulate([0x80, 0x38, 0x80], 32); // cmp byte [eax], 0x80
  assert.deepEqual(writes(r), [], 'CMP only reads');
  assert.equal(r.flags, 0x2 | ZF | PF);
  r.device({ reads: [0x100] });
  r.emulate([0xf7, 0x00, 0x00, 0x01, 0x00, 0x00], 32); // test dword [eax], 0x100
  assert.deepEqual(writes(r), []);
  assert.equal(r.flags, 0x2 | PF, 'TEST: ZF clear, CF/OF/AF clear');
  setup(r, { rcx: 3 });
  r.device({ reads: [2] });
  r.emulate([0x2b, 0x08], 32); // sub ecx, [eax]
  assert.equal(r.reg(REG.rcx), 1n);
  assert.deepEqual(writes(r), [], 'a register destination: the device is only read');
  setup(r, { r9: 0xffffffffffffffffn }, 0x2 | CF);
  r.device({ reads: [1, 0] });
  r.emulate([0x4c, 0x13, 0x08], 64); // adc r9, [rax]: -1 + 1 + 1
  assert.equal(r.reg(REG.r9), 1n);
  assert.equal(r.flags, 0x2 | CF | AF);
  setup(r, { rax: 0xff00ff00ff00ff00n });
  r.device({ reads: [0xffffffff, 0xffffffff] });
  r.emulate([0x48, 0x31, 0x00], 64); // xor [rax], rax
  assert.deepEqual(writes(r), [[0, 4, 0x00ff00ff], [4, 4, 0x00ff00ff]], 'a 64-bit read-modify-write: both reads, then both writes');
});

test('NOT, NEG, INC, DEC, XCHG, BT/BTS/BTR/BTC on a device register', () => {
  const r = fresh();
  setup(r, {}, 0x2 | CF | OF);
  r.device({ reads: [0x0f] });
  r.emulate([0xf6, 0x10], 32); // not byte [eax]
  assert.deepEqual(writes(r), [[0, 1, 0xf0]]);
  assert.equal(r.flags, 0x2 | CF | OF, 'NOT changes no flag');
  r.device({ reads: [0] });
  r.emulate([0xf7, 0x18], 32); // neg dword [eax] of 0
  assert.deepEqual(writes(r), [[0, 4, 0]]);
  assert.equal(r.flags, 0x2 | ZF | PF, 'NEG 0: CF clear');
  r.device({ reads: [0x8000] });
  r.emulate([0x66, 0xf7, 0x18], 32); // neg word [eax] of 0x8000
  assert.deepEqual(writes(r), [[0, 2, 0x8000]]);
  assert.equal(r.flags, 0x2 | CF | OF | SF | PF);
  r.flags = 0x2 | CF;
  r.device({ reads: [0x7fffffff] });
  r.emulate([0xff, 0x00], 32); // inc dword [eax]
  assert.deepEqual(writes(r), [[0, 4, 0x80000000]]);
  assert.equal(r.flags, 0x2 | CF | OF | SF | AF | PF, 'INC keeps CF');
  r.flags = 0x2;
  r.device({ reads: [1] });
  r.emulate([0xf0, 0xfe, 0x08], 32); // lock dec byte [eax]
  assert.deepEqual(writes(r), [[0, 1, 0]]);
  assert.equal(r.flags, 0x2 | ZF | PF);
  setup(r, { rdx: 0x1234_5678_9abc_def0n });
  r.device({ reads: [0x11223344] });
  r.emulate([0x87, 0x10], 64); // xchg [rax], edx
  assert.deepEqual(writes(r), [[0, 4, 0x9abcdef0]]);
  assert.equal(r.reg(REG.rdx), 0x11223344n);
  setup(r, {}, 0x2 | ZF);
  r.device({ reads: [0x10] });
  r.emulate([0x0f, 0xba, 0x20, 0x04], 32); // bt dword [eax], 4
  assert.deepEqual(writes(r), []);
  assert.equal(r.flags, 0x2 | CF | ZF, 'BT: CF = the bit, ZF unaffected');
  r.device({ reads: [0x10] });
  r.emulate([0xf0, 0x0f, 0xba, 0x28, 0x24], 32); // lock bts dword [eax], 36 (mod 32 = 4)
  assert.deepEqual(writes(r), [[0, 4, 0x10]]);
  r.device({ reads: [0, 0x80000000] });
  r.emulate([0x48, 0x0f, 0xba, 0x30, 0x3f], 64); // btr qword [rax], 63
  assert.deepEqual(writes(r), [[0, 4, 0], [4, 4, 0]]);
  assert.equal(r.flags & CF, CF);
  r.device({ reads: [0] });
  r.emulate([0x66, 0x0f, 0xba, 0x38, 0x0f], 32); // btc word [eax], 15
  assert.deepEqual(writes(r), [[0, 2, 0x8000]]);
  assert.equal(r.flags & CF, 0);
});

test('a device that stops the VM: Stop, RIP past the instruction (length given)', () => {
  const r = fresh();
  setup(r);
  r.device({ stopAt: 4 });
  assert.deepEqual(r.emulate([0x89, 0x00], 32, { offset: 4 }), { result: Result.Stop, length: 2, fault: 0 });
  r.device({ stopAt: 0, reads: [1] });
  assert.equal(r.emulate([0x83, 0x00, 0x01], 32).result, Result.Stop);
});

test('undecodable: SSE, x87, CPUID, UD2, register forms, LOCK where it is #UD, POPCNT, MUL, CALL [mem], truncated bytes', () => {
  const r = fresh();
  setup(r);
  const cases = [
    [[0x0f, 0x28, 0x00], 32], // movaps xmm0, [eax]
    [[0x0f, 0x29, 0x00], 64], // movaps [rax], xmm0
    [[0x66, 0x0f, 0x6f, 0x00], 64], // movdqa
    [[0xd9, 0x00], 32], // fld dword [eax]
    [[0xdd, 0x18], 32], // fstp qword [eax]
    [[0x0f, 0xa2], 32], // cpuid
    [[0x0f, 0x0b], 64], // ud2
    [[0x01, 0xc0], 32], // add eax, eax (no memory operand)
    [[0x05, 0x01, 0, 0, 0], 32], // add eax, imm32
    [[0xf0, 0x89, 0x00], 32], // lock mov: #UD
    [[0xf0, 0x39, 0x00], 32], // lock cmp: #UD
    [[0xf0, 0x85, 0x00], 32], // lock test: #UD
    [[0xf0, 0x0f, 0xba, 0x20, 0x01], 32], // lock bt: #UD
    [[0xf3, 0x0f, 0xb8, 0x00], 32], // popcnt eax, [eax]
    [[0xf7, 0x20], 32], // mul dword [eax]
    [[0xff, 0x10], 64], // call [rax]
    [[0x8b], 32], // truncated
    [[0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x66, 0x8b, 0x00], 32], // 16 bytes
    [[0xf0, 0xab], 32], // lock stos
  ];
  for (const [bytes, mode] of cases) {
    r.device();
    assert.equal(r.emulate(bytes, mode).result, Result.Undecodable, bytes.map((b) => b.toString(16)).join(' '));
    assert.deepEqual(r.accesses(), [], 'no device access');
  }
});

test('STOS and MOVS: device <-> RAM and device <-> device, DF, REP by RCX in the address size, batches of 1024', () => {
  const r = fresh();
  const A = 0xfed00000;
  const B = 0xfee00000;
  setup(r, { rdi: A + 0x10, rcx: 3, rax: 0x11223344 });
  r.device();
  assert.deepEqual(r.emulate([0xf3, 0xab], 32), { result: Result.Done, length: 2, fault: 0 }); // rep stosd
  assert.deepEqual(writes(r), [[0x10, 4, 0x11223344], [0x14, 4, 0x11223344], [0x18, 4, 0x11223344]]);
  assert.equal(r.reg(REG.rdi), BigInt(A + 0x1c));
  assert.equal(r.reg(REG.rcx), 0n);
  setup(r, { rdi: A + 0x10, rax: 0xaabbccddeeff0011n }, 0x2 | DF);
  r.device();
  r.emulate([0x48, 0xab], 64); // stosq, DF = 1
  assert.deepEqual(writes(r), [[0x10, 4, 0xeeff0011], [0x14, 4, 0xaabbccdd]]);
  assert.equal(r.reg(REG.rdi), BigInt(A + 8));
  // RAM -> device: rep movsb from 0x1000
  r.ram.set([1, 2, 3, 4], 0x1000);
  setup(r, { rsi: 0x1000, rdi: A, rcx: 4 });
  r.device();
  r.emulate([0xf3, 0xa4], 32);
  assert.deepEqual(writes(r), [[0, 1, 1], [1, 1, 2], [2, 1, 3], [3, 1, 4]]);
  assert.equal(r.reg(REG.rsi), 0x1004n);
  // device -> RAM: movsw with a 16-bit address size (67 in 32-bit code) and DS base
  setup(r, { rsi: 0xffff_0004n, rdi: 0x2000, rcx: 2 });
  r.setState(3, A - 4); // DS.base: DS:SI = A + 0
  r.device({ reads: [0xbeef, 0xcafe] });
  r.emulate([0x67, 0xf3, 0x66, 0xa5], 32); // rep movsw, SI/DI/CX
  assert.deepEqual([...r.ram.subarray(0x2000, 0x2004)], [0xef, 0xbe, 0xfe, 0xca]);
  assert.deepEqual(reads(r), [[0, 2], [2, 2]]);
  assert.equal(r.reg(REG.rsi), 0xffff_0008n, 'SI steps, the rest of RSI is kept');
  assert.equal(r.reg(REG.rcx), 0n);
  // device -> device with an FS override in 64-bit code
  setup(r, { rsi: 0x20, rdi: B + 0x40 });
  r.setState(4, A); // FS.base
  r.device({ reads: [0x12345678] });
  r.emulate([0x64, 0xa5], 64); // movsd fs:[rsi] -> es:[rdi]
  assert.deepEqual(r.accesses().map((a) => [a.dev, a.write, a.offset, a.value]), [[r.devA, false, 0x20, 0x12345678], [r.devB, true, 0x40, 0x12345678]]);
  // a long REP: 1024 per exit, RIP stays until the rest is done
  setup(r, { rdi: A, rcx: 1500, rax: 7 });
  r.device();
  assert.deepEqual(r.emulate([0xf3, 0xaa], 64), { result: Result.Done, length: 0, fault: 0 }, 'RIP stays: the REP goes on');
  assert.equal(writes(r).length, 1024);
  assert.equal(r.reg(REG.rcx), 476n);
  r.setReg(REG.rdi, A); // (a device range is 4 KiB here)
  r.device();
  assert.equal(r.emulate([0xf3, 0xaa], 64).length, 2, 'then past it');
  assert.equal(writes(r).length, 476);
  setup(r, { rdi: A, rcx: 0 });
  r.device();
  assert.equal(r.emulate([0xf3, 0xab], 32).length, 2, 'RCX 0: nothing moves');
  assert.deepEqual(r.accesses(), []);
  // RAM the VM does not have: a fault at that address
  setup(r, { rsi: 0x200000, rdi: A });
  r.device();
  assert.deepEqual(r.emulate([0xa4], 32), { result: Result.Fault, length: 1, fault: 0x200000 });
  assert.deepEqual(r.accesses(), []);
});

test('random instructions of every supported form, with random prefixes, against the reference interpreter', () => {
  const r = fresh();
  const rnd = rng(0x13);
  const N = 10000;
  const seen = new Set();
  for (let n = 0; n < N; n++) {
    const { bytes, mode, desc } = randomInstruction(rnd);
    seen.add(`${desc.kind}/${desc.op}/${desc.size}`);
    const regs = Array.from({ length: 16 }, () => (BigInt(Math.floor(rnd() * 2 ** 32)) << 32n) | BigInt(Math.floor(rnd() * 2 ** 32)));
    const flags = 0x2 | (Math.floor(rnd() * 0x1000) & 0x8d5);
    const offset = Math.floor(rnd() * 512) * 8;
    const queue = [0, 1, 2].map(() => {
      const x = rnd();
      return x < 0.05 ? -1 : x < 0.15 ? 0 : x < 0.25 ? 2 ** (8 * Math.min(desc.size, 4)) - 1 : Math.floor(rnd() * 2 ** (8 * Math.min(desc.size, 4)));
    });
    for (let i = 0; i < 16; i++) r.setReg(i, regs[i]);
    r.flags = flags;
    r.device({ reads: queue });
    const got = r.emulate(bytes, mode, { offset });
    const want = execute(desc, regs, flags, queue, offset);
    const what = `#${n} ${bytes.map((b) => b.toString(16).padStart(2, '0')).join(' ')} (${mode}-bit, ${JSON.stringify(desc, (k, v) => (typeof v === 'bigint' ? v.toString(16) : v))})`;
    assert.deepEqual(got, { result: Result.Done, length: desc.length, fault: 0 }, what);
    for (let i = 0; i < 16; i++) assert.equal(r.reg(i), want.regs[i], `${what}: register ${i}`);
    assert.equal(r.flags.toString(16), want.rflags.toString(16), `${what}: RFLAGS`);
    assert.deepEqual(r.accesses().map(({ write, offset: o, size, value }) => ({ write, offset: o, size, value })), want.accesses, `${what}: device accesses`);
  }
  assert.ok(seen.size > 150, `forms covered: ${seen.size}`);
});
