// The instruction-length decoder (kernel/vm/decode/instruction-length.ts) in the
// porffor-compiled test kernel (tests/fixtures/kernels/vm-logic.ts):
//   - a table of encodings with their lengths from the Intel SDM vol. 2 / AMD APM vol. 3
//     (CPUID, RDMSR, WRMSR, RDTSC(P), HLT, VMMCALL, VMCALL, IN/OUT in all forms, INS/OUTS
//     with REP, INT3/INT n, ...) with legacy prefixes and REX, in 16-, 32- and 64-bit modes,
//     and the I/O facts (port, size, direction, string, rep, address size, segment);
//   - the memory moves MMIO is emulated from (MOV 88/89/8A/8B, MOV C6/C7 /0 with an
//     immediate, MOVZX 0F B6/B7) with every ModRM/SIB/displacement form in 16-bit and
//     32/64-bit addressing, their register (REX.R, AH-BH), sizes and immediate;
//   - unknown instructions, truncated input, more than 15 bytes: 0;
//   - 30,000 random byte strings (pure noise and prefix runs before known opcodes, random
//     `available` and offsets) against an independent JS reference decoder.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VmLogic } from '../sim/vm-logic.mjs';
import { prng } from '../sim/acpi-fuzz.mjs';

// kernel/vm/decode/instruction-length.ts Op
const OP = {
  None: 0, Cpuid: 1, Rdmsr: 2, Wrmsr: 3, Rdtsc: 4, Rdtscp: 5, Hlt: 6, Vmmcall: 7, Vmcall: 8, In: 9, Out: 10, Ins: 11, Outs: 12,
  Int3: 13, IntN: 14, Int1: 15, Into: 16, Rdpmc: 17, Invd: 18, Wbinvd: 19, Xsetbv: 20, Monitor: 21, Mwait: 22, Pause: 23,
  MovFromCr: 24, MovToCr: 25, MovFromDr: 26, MovToDr: 27, MovLoad: 28, MovStore: 29, MovStoreImmediate: 30, MovzxLoad: 31,
};
const OPNAME = Object.fromEntries(Object.entries(OP).map(([k, v]) => [v, k]));

let rig;
const vm = () => (rig ??= new VmLogic());
const hex = (s) => s.trim().split(/\s+/).filter(Boolean).map((x) => parseInt(x, 16));

// ---- the reference decoder ----

const SEGMENTS = { 0x26: 0, 0x2e: 1, 0x36: 2, 0x3e: 3, 0x64: 4, 0x65: 5 };
// opcode bytes after the prefixes -> [op, bytes after the opcode bytes (imm8 / ModRM)]
const TABLE = new Map([
  ['0f a2', [OP.Cpuid, 0]], ['0f 32', [OP.Rdmsr, 0]], ['0f 30', [OP.Wrmsr, 0]], ['0f 31', [OP.Rdtsc, 0]], ['0f 33', [OP.Rdpmc, 0]],
  ['0f 08', [OP.Invd, 0]], ['0f 09', [OP.Wbinvd, 0]], ['0f 01 f9', [OP.Rdtscp, 0]], ['0f 01 d9', [OP.Vmmcall, 0]], ['0f 01 c1', [OP.Vmcall, 0]],
  ['0f 01 d1', [OP.Xsetbv, 0]], ['0f 01 c8', [OP.Monitor, 0]], ['0f 01 c9', [OP.Mwait, 0]],
  ['0f 20', [OP.MovFromCr, 1]], ['0f 22', [OP.MovToCr, 1]], ['0f 21', [OP.MovFromDr, 1]], ['0f 23', [OP.MovToDr, 1]],
  ['f4', [OP.Hlt, 0]], ['e4', [OP.In, 1]], ['e5', [OP.In, 1]], ['e6', [OP.Out, 1]], ['e7', [OP.Out, 1]],
  ['ec', [OP.In, 0]], ['ed', [OP.In, 0]], ['ee', [OP.Out, 0]], ['ef', [OP.Out, 0]],
  ['6c', [OP.Ins, 0]], ['6d', [OP.Ins, 0]], ['6e', [OP.Outs, 0]], ['6f', [OP.Outs, 0]],
  ['cc', [OP.Int3, 0]], ['cd', [OP.IntN, 1]], ['f1', [OP.Int1, 0]], ['ce', [OP.Into, 0]], ['90', [OP.Pause, 0]],
  ['88', [OP.MovStore, 'm']], ['89', [OP.MovStore, 'm']], ['8a', [OP.MovLoad, 'm']], ['8b', [OP.MovLoad, 'm']],
  ['c6', [OP.MovStoreImmediate, 'm']], ['c7', [OP.MovStoreImmediate, 'm']], ['0f b6', [OP.MovzxLoad, 'm']], ['0f b7', [OP.MovzxLoad, 'm']],
]);

/**
 * Bytes of a memory operand from the ModRM byte on, read off the SDM's tables 2-1 (16-bit
 * addressing) and 2-2/2-3 (32/64-bit, SIB) as a lookup, or null for a register operand.
 */
const DISP16 = { 0: (rm) => (rm === 6 ? 2 : 0), 1: () => 1, 2: () => 2 };
const DISP32 = { 0: (rm, base) => (rm === 5 || (rm === 4 && base === 5) ? 4 : 0), 1: () => 1, 2: () => 4 };
const memoryOperand = (at, addressSize) => {
  const modrm = at(0);
  if (modrm === undefined) return null;
  const mod = modrm >> 6;
  const rm = modrm & 7;
  if (mod === 3) return null;
  if (addressSize === 16) return 1 + DISP16[mod](rm);
  const sib = rm === 4 ? 1 : 0;
  if (sib && at(1) === undefined) return null;
  return 1 + sib + DISP32[mod](rm, sib ? at(1) & 7 : -1);
};
const h2 = (b) => b.toString(16).padStart(2, '0');

/** What the decoder must answer: null for 0, else { length, facts }. */
const reference = (bytes, offset, available, mode) => {
  const avail = Math.min(available, bytes.length - offset, 15);
  let i = 0;
  const p = { opsize: false, adsize: false, f2: false, f3: false, lock: false, segment: 3, rex: 0 };
  for (;;) {
    if (i >= avail) return null;
    const b = bytes[offset + i];
    if (b === 0x66) p.opsize = true;
    else if (b === 0x67) p.adsize = true;
    else if (b === 0xf2) p.f2 = true;
    else if (b === 0xf3) p.f3 = true;
    else if (b === 0xf0) p.lock = true;
    else if (b in SEGMENTS) p.segment = SEGMENTS[b];
    else if (mode === 64 && b >= 0x40 && b <= 0x4f) { p.rex = b; i++; continue; } else break;
    p.rex = 0;
    i++;
  }
  const at = (k) => (i + k < avail ? bytes[offset + i + k] : undefined);
  let key = null;
  for (const n of [3, 2, 1]) {
    const parts = [];
    for (let k = 0; k < n; k++) parts.push(at(k));
    if (parts.includes(undefined)) continue;
    const s = parts.map(h2).join(' ');
    if (TABLE.has(s)) { key = s; break; }
  }
  if (!key) return null;
  const [op, kind] = TABLE.get(key);
  const opcode = key.split(' ').map((x) => parseInt(x, 16));
  if (op === OP.Into && mode === 64) return null;
  if (op === OP.Pause && (!p.f3 || (p.rex & 1))) return null;
  const rexW = (p.rex & 8) !== 0;
  const operandSize = mode === 64 ? (rexW ? 64 : p.opsize ? 16 : 32) : (mode === 32) !== p.opsize ? 32 : 16;
  const addressSize = mode === 64 ? (p.adsize ? 32 : 64) : (mode === 32) !== p.adsize ? 32 : 16;
  let extra = kind;
  const mem = { memReg: 0, memSize: 0, memImm: 0, memHigh: 0, memTarget: 0 };
  if (kind === 'm') {
    const after = (k) => at(opcode.length + k);
    const m = memoryOperand(after, addressSize);
    if (m === null) return null;
    const reg = (after(0) >> 3) & 7;
    const last = opcode[opcode.length - 1];
    const bytesOf = (wide) => (wide ? operandSize / 8 : 1);
    if (op === OP.MovStoreImmediate) {
      if (reg !== 0) return null;
      mem.memSize = bytesOf(last === 0xc7);
      const immBytes = Math.min(mem.memSize, 4);
      let imm = 0;
      for (let k = immBytes - 1; k >= 0; k--) {
        const b = after(m + k);
        if (b === undefined) return null;
        imm = imm * 256 + b;
      }
      mem.memImm = imm;
      mem.memTarget = mem.memSize;
      extra = m + immBytes;
    } else {
      extra = m;
      if (op === OP.MovzxLoad) {
        mem.memSize = last === 0xb6 ? 1 : 2;
        mem.memTarget = operandSize / 8;
        mem.memReg = reg + (p.rex & 4 ? 8 : 0);
      } else {
        mem.memSize = bytesOf(last & 1);
        mem.memTarget = mem.memSize;
        mem.memHigh = mem.memSize === 1 && p.rex === 0 && reg >= 4 ? 1 : 0;
        mem.memReg = mem.memHigh ? reg - 4 : reg + (p.rex & 4 ? 8 : 0);
      }
    }
  }
  const length = i + opcode.length + extra;
  if (length > avail) return null;
  const last = opcode[opcode.length - 1];
  const io = [OP.In, OP.Out, OP.Ins, OP.Outs].includes(op);
  const facts = {
    op, prefixes: i, operandSize, addressSize,
    port: op === OP.In || op === OP.Out ? (extra ? at(opcode.length) : -1) : -1,
    size: io ? ((last & 1) === 0 ? 1 : operandSize === 16 ? 2 : 4) : 0,
    in: op === OP.In || op === OP.Ins ? 1 : 0,
    string: op === OP.Ins || op === OP.Outs ? 1 : 0,
    rep: p.f2 || p.f3 ? 1 : 0,
    segment: op === OP.Ins ? 0 : p.segment,
    vector: op === OP.Int3 ? 3 : op === OP.Int1 ? 1 : op === OP.Into ? 4 : op === OP.IntN ? at(1) : 0,
    cr: 0, gpr: 0, lock: p.lock ? 1 : 0, ...mem,
  };
  if (op >= OP.MovFromCr && op <= OP.MovToDr) {
    const modrm = at(2);
    facts.cr = ((modrm >> 3) & 7) + (p.rex & 4 ? 8 : 0);
    if (p.lock && (op === OP.MovFromCr || op === OP.MovToCr) && facts.cr === 0) facts.cr = 8;
    facts.gpr = (modrm & 7) + (p.rex & 1 ? 8 : 0);
  }
  facts.portForDx = facts.port >= 0 ? facts.port : 0x3456;
  return { length, facts };
};

const run = (bytes, mode, opts = {}) => {
  const len = vm().decode(bytes, mode, opts);
  return { len, facts: len ? vm().facts() : null };
};

// ---- the table (lengths per SDM vol. 2 opcode tables; prefixes 1 byte each) ----

const CASES = [
  // [bytes, mode, length, facts to check]
  ['0f a2', 32, 2, { op: OP.Cpuid }],
  ['0f a2', 16, 2, { op: OP.Cpuid }],
  ['0f a2', 64, 2, { op: OP.Cpuid }],
  ['66 0f a2', 32, 3, { op: OP.Cpuid, operandSize: 16 }],
  ['f0 0f a2', 32, 3, { op: OP.Cpuid, lock: 1 }],
  ['48 0f a2', 64, 3, { op: OP.Cpuid, operandSize: 64 }],
  ['2e 3e 26 64 65 36 0f a2', 32, 8, { op: OP.Cpuid, prefixes: 6 }],
  ['0f 32', 32, 2, { op: OP.Rdmsr }],
  ['0f 30', 64, 2, { op: OP.Wrmsr }],
  ['48 0f 30', 64, 3, { op: OP.Wrmsr }],
  ['0f 31', 16, 2, { op: OP.Rdtsc }],
  ['0f 01 f9', 64, 3, { op: OP.Rdtscp }],
  ['0f 01 d9', 32, 3, { op: OP.Vmmcall }],
  ['41 0f 01 d9', 64, 4, { op: OP.Vmmcall }],
  ['0f 01 c1', 64, 3, { op: OP.Vmcall }],
  ['f4', 16, 1, { op: OP.Hlt }],
  ['f4', 64, 1, { op: OP.Hlt }],
  ['3e f4', 32, 2, { op: OP.Hlt }],
  // IN/OUT imm8 (SDM "IN", "OUT": E4 ib, E5 ib, E6 ib, E7 ib)
  ['e4 60', 32, 2, { op: OP.In, port: 0x60, size: 1, in: 1, string: 0 }],
  ['e5 71', 32, 2, { op: OP.In, port: 0x71, size: 4, in: 1 }],
  ['e5 71', 16, 2, { op: OP.In, port: 0x71, size: 2, in: 1 }],
  ['66 e5 71', 32, 3, { op: OP.In, size: 2 }],
  ['66 e5 71', 16, 3, { op: OP.In, size: 4 }],
  ['e6 f4', 32, 2, { op: OP.Out, port: 0xf4, size: 1, in: 0 }],
  ['e7 80', 64, 2, { op: OP.Out, port: 0x80, size: 4 }],
  ['66 e7 80', 64, 3, { op: OP.Out, size: 2 }],
  ['48 e7 80', 64, 3, { op: OP.Out, size: 4, operandSize: 64 }], // REX.W: still 32 bits of I/O
  // IN/OUT DX (EC, ED, EE, EF)
  ['ec', 32, 1, { op: OP.In, port: -1, size: 1, in: 1, portForDx: 0x3456 }],
  ['ed', 32, 1, { op: OP.In, size: 4 }],
  ['ed', 16, 1, { op: OP.In, size: 2 }],
  ['66 ed', 32, 2, { op: OP.In, size: 2 }],
  ['ee', 64, 1, { op: OP.Out, size: 1, in: 0 }],
  ['ef', 64, 1, { op: OP.Out, size: 4 }],
  ['66 ef', 64, 2, { op: OP.Out, size: 2 }],
  ['66 48 ef', 64, 3, { op: OP.Out, size: 4 }], // REX.W after 66 wins over it
  ['48 66 ef', 64, 3, { op: OP.Out, size: 2, operandSize: 16 }], // a REX before a legacy prefix is void
  ['40 ee', 64, 2, { op: OP.Out, size: 1 }],
  // INS/OUTS with REP (F3 6C..6F), address sizes
  ['6c', 32, 1, { op: OP.Ins, size: 1, in: 1, string: 1, rep: 0, segment: 0, addressSize: 32 }],
  ['f3 6c', 32, 2, { op: OP.Ins, rep: 1 }],
  ['f3 6d', 16, 2, { op: OP.Ins, size: 2, rep: 1, addressSize: 16 }],
  ['67 f3 6d', 16, 3, { op: OP.Ins, addressSize: 32 }],
  ['f3 66 6f', 32, 3, { op: OP.Outs, size: 2, rep: 1, in: 0, string: 1, segment: 3 }],
  ['2e f3 6e', 32, 3, { op: OP.Outs, size: 1, segment: 1 }],
  ['26 6c', 32, 2, { op: OP.Ins, segment: 0 }],
  ['64 f3 6e', 64, 3, { op: OP.Outs, segment: 4, addressSize: 64 }],
  ['67 f3 48 6f', 64, 4, { op: OP.Outs, size: 4, addressSize: 32, rep: 1 }],
  ['f2 6e', 32, 2, { op: OP.Outs, rep: 1 }],
  // INT
  ['cc', 32, 1, { op: OP.Int3, vector: 3 }],
  ['cd 80', 32, 2, { op: OP.IntN, vector: 0x80 }],
  ['cd 10', 16, 2, { op: OP.IntN, vector: 0x10 }],
  ['cd 21', 64, 2, { op: OP.IntN, vector: 0x21 }],
  ['f1', 64, 1, { op: OP.Int1, vector: 1 }],
  ['ce', 32, 1, { op: OP.Into, vector: 4 }],
  ['ce', 64, 0],
  // others that exit
  ['0f 33', 32, 2, { op: OP.Rdpmc }],
  ['0f 09', 32, 2, { op: OP.Wbinvd }],
  ['0f 08', 64, 2, { op: OP.Invd }],
  ['0f 01 d1', 64, 3, { op: OP.Xsetbv }],
  ['0f 01 c8', 32, 3, { op: OP.Monitor }],
  ['0f 01 c9', 32, 3, { op: OP.Mwait }],
  ['f3 90', 32, 2, { op: OP.Pause }],
  ['f3 90', 64, 2, { op: OP.Pause }],
  ['f3 41 90', 64, 0], // xchg r8d, eax
  ['f2 90', 32, 0],
  ['90', 32, 0],
  ['0f 20 c0', 32, 3, { op: OP.MovFromCr, cr: 0, gpr: 0 }],
  ['0f 22 d8', 32, 3, { op: OP.MovToCr, cr: 3, gpr: 0 }],
  ['0f 22 e3', 64, 3, { op: OP.MovToCr, cr: 4, gpr: 3 }],
  ['44 0f 20 c0', 64, 4, { op: OP.MovFromCr, cr: 8, gpr: 0 }],
  ['41 0f 22 d8', 64, 4, { op: OP.MovToCr, cr: 3, gpr: 8 }],
  ['f0 0f 20 c0', 32, 4, { op: OP.MovFromCr, cr: 8 }], // AMD AltMovCr8
  ['0f 23 f8', 32, 3, { op: OP.MovToDr, cr: 7 }],
  ['0f 21 00', 32, 3, { op: OP.MovFromDr, cr: 0, gpr: 0 }], // mod is ignored: still 3 bytes
  // not known: 0
  ['0f 05', 64, 0], ['0f 01 d8', 64, 0], ['0f 0b', 32, 0], ['c3', 32, 0], ['0f', 32, 0], ['0f 01', 32, 0], ['0f 01 00', 32, 0],
  ['c4 e2 79 00 c0', 64, 0], ['8b c8', 32, 0], ['40', 32, 0], ['48 0f a2', 32, 0], ['40 f4', 16, 0],
  // prefix runs: 14 prefixes + HLT = 15 bytes; one more is too long
  ['66 66 66 66 66 66 66 66 66 66 66 66 66 66 f4', 32, 15, { op: OP.Hlt, prefixes: 14, operandSize: 16 }],
  ['66 66 66 66 66 66 66 66 66 66 66 66 66 66 66 f4', 32, 0],
  ['66 66 66 66 66 66 66 66 66 66 66 66 66 0f a2', 32, 15, { op: OP.Cpuid }],
  ['66 66 66 66 66 66 66 66 66 66 66 66 66 66 0f a2', 32, 0],
  ['f3 f3 f3 f3 f3 f3 f3 f3 f3 f3 f3 f3 f3 e4 60', 32, 15, { op: OP.In, port: 0x60 }],
  ['48 48 48 48 48 48 48 48 48 48 48 48 48 48 48 48', 64, 0],
  ['66 66 66 66 66 66 66 66 66 66 66 66 66 66 66 66', 32, 0],
  ['f0 f0 f0 f0 f0 f0 f0 f0 f0 f0 f0 f0 f0 f0 f0 f0', 16, 0],
  ['48 41 0f a2', 64, 4, { op: OP.Cpuid, operandSize: 32 }], // the last REX counts
  // memory moves for MMIO (SDM "MOV" 88/89/8A/8B, C6/C7 /0; "MOVZX" 0F B6/B7; ModRM/SIB tables 2-1..2-3)
  ['8b 00', 32, 2, { op: OP.MovLoad, memReg: 0, memSize: 4 }], // mov eax, [eax]
  ['8b 05 00 00 e0 fe', 32, 6, { op: OP.MovLoad, memSize: 4 }], // mov eax, [disp32]
  ['8b 05 00 00 e0 fe', 64, 6, { op: OP.MovLoad }], // RIP-relative
  ['8b 44 24 08', 32, 4, { op: OP.MovLoad }], // SIB + disp8
  ['8b 04 25 00 00 e0 fe', 64, 7, { op: OP.MovLoad }], // SIB, no base: disp32
  ['8b 80 f0 00 00 00', 32, 6, { op: OP.MovLoad }], // disp32
  ['8b 84 24 00 01 00 00', 32, 7, { op: OP.MovLoad }], // SIB + disp32
  ['8b 06 00 10', 16, 4, { op: OP.MovLoad, memSize: 2 }], // 16-bit: [disp16]
  ['8b 47 02', 16, 3, { op: OP.MovLoad }], // [bx+disp8]
  ['8b 87 00 01', 16, 4, { op: OP.MovLoad }], // [bx+disp16]
  ['67 8b 00', 16, 3, { op: OP.MovLoad, addressSize: 32 }],
  ['48 8b 07', 64, 3, { op: OP.MovLoad, memSize: 8, memTarget: 8 }],
  ['44 8b 07', 64, 3, { op: OP.MovLoad, memReg: 8 }], // REX.R
  ['66 8b 07', 64, 3, { op: OP.MovLoad, memSize: 2 }],
  ['8a 27', 32, 2, { op: OP.MovLoad, memSize: 1, memReg: 0, memHigh: 1 }], // mov ah, [edi]
  ['40 8a 27', 64, 3, { op: OP.MovLoad, memSize: 1, memReg: 4, memHigh: 0 }], // mov spl, [rdi]
  ['89 1e', 32, 2, { op: OP.MovStore, memReg: 3, memSize: 4 }],
  ['88 3f', 32, 2, { op: OP.MovStore, memReg: 3, memHigh: 1, memSize: 1 }], // mov [edi], bh
  ['c7 00 78 56 34 12', 32, 6, { op: OP.MovStoreImmediate, memSize: 4, memImm: 0x12345678 }],
  ['66 c7 00 34 12', 32, 5, { op: OP.MovStoreImmediate, memSize: 2, memImm: 0x1234 }],
  ['c6 40 04 aa', 32, 4, { op: OP.MovStoreImmediate, memSize: 1, memImm: 0xaa }],
  ['48 c7 00 ff ff ff ff', 64, 7, { op: OP.MovStoreImmediate, memSize: 8, memImm: 0xffffffff }],
  ['c7 08 00 00 00 00', 32, 0, {}], // C7 /1 is not MOV
  ['8b c0', 32, 0, {}], // a register operand touches no memory
  ['0f b6 07', 32, 3, { op: OP.MovzxLoad, memSize: 1, memTarget: 4 }],
  ['66 0f b6 07', 32, 4, { op: OP.MovzxLoad, memSize: 1, memTarget: 2 }],
  ['0f b7 47 10', 64, 4, { op: OP.MovzxLoad, memSize: 2, memTarget: 4 }],
  ['8b 05 00 00', 32, 0, {}], // displacement cut short
];

test('the SDM table: lengths and facts in 16-, 32- and 64-bit modes', () => {
  for (const [text, mode, length, facts] of CASES) {
    const bytes = hex(text);
    const got = run(bytes, mode);
    assert.equal(got.len, length, `${text} (${mode}-bit)`);
    if (length === 0) continue;
    for (const [k, v] of Object.entries(facts)) assert.equal(got.facts[k], v, `${text} (${mode}-bit): ${k}`);
    const want = reference(bytes, 0, bytes.length, mode);
    assert.deepEqual(got.facts, want.facts, `${text} (${mode}-bit): all facts`);
    assert.equal(OPNAME[got.facts.op] !== undefined, true);
  }
});

test('truncated input, available, offset and mode limits', () => {
  const r = vm();
  // every proper prefix of a known instruction is 0
  for (const [text, mode, length] of CASES) {
    if (!length) continue;
    const bytes = hex(text);
    for (let a = 0; a < length; a++) assert.equal(r.decode(bytes, mode, { available: a }), 0, `${text} with ${a} bytes`);
    assert.equal(r.decode(bytes, mode, { available: length }), length, `${text} with exactly its bytes`);
    assert.equal(r.decode(bytes, mode, { available: 40 }), length, `${text} with more bytes than needed`);
  }
  // at an offset
  assert.equal(r.decode(hex('0f 01 d9'), 64, { offset: 20, available: 3 }), 3);
  assert.equal(r.decode(hex('e4 60'), 64, { offset: 62, available: 2 }), 2, 'ends at the buffer end');
  assert.equal(r.decode(hex('e4'), 64, { offset: 63, available: 2 }), 0, 'would run past the buffer end');
  assert.equal(r.decode(hex('f4'), 64, { offset: 64, available: 1 }), 0, 'offset at the buffer end');
  assert.equal(r.decode(hex('f4'), 64, { offset: 64, available: 100 }), 0);
  assert.equal(r.decode(hex('f4'), 32, { available: -1 }), 0);
  assert.equal(r.decode(hex('f4'), 32, { available: 0 }), 0);
  for (const mode of [0, 8, 15, 33, 63, 128, -32]) assert.equal(r.decode(hex('f4'), mode), 0, `mode ${mode}`);
  // a failed decode says Op.None
  r.decode(hex('0f 0b'), 32);
  assert.equal(r.facts().op, OP.None);
});

test('30,000 random byte strings agree with the reference decoder', { timeout: 120000 }, (t) => {
  const r = vm();
  const rng = prng(4242);
  const memory = r.memoryBytes;
  const prefixes = [0x66, 0x67, 0xf2, 0xf3, 0xf0, 0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65];
  const known = [...TABLE.keys()].map((k) => k.split(' ').map((x) => parseInt(x, 16)));
  let decoded = 0;
  const perOp = {};
  for (let i = 0; i < 30000; i++) {
    const mode = [16, 32, 64][i % 3];
    let bytes;
    if (i % 4 === 0) {
      bytes = Array.from({ length: 16 }, () => rng.int(256)); // 16 bytes of noise
    } else {
      bytes = [];
      const n = rng.pick([0, 0, 1, 1, 2, 3, 4, 8, 13, 14, 15, 16]);
      for (let k = 0; k < n; k++) bytes.push(rng.next() < 0.25 ? 0x40 + rng.int(16) : rng.pick(prefixes));
      bytes.push(...rng.pick(known));
      while (bytes.length < 20) bytes.push(rng.next() < 0.5 ? rng.pick([0xc0, 0xd8, 0xf9, 0xd9, 0xc1, 0x60]) : rng.int(256));
      if (rng.next() < 0.1) bytes[rng.int(bytes.length)] = rng.int(256);
    }
    const offset = rng.next() < 0.5 ? 0 : rng.int(44);
    const available = rng.pick([bytes.length, 15, 16, rng.int(17), rng.int(17), 1, 2, 3]);
    const len = r.decode(bytes, mode, { offset, available });
    const want = reference([...new Array(offset).fill(0x90), ...bytes, ...new Array(64).fill(0x90)].slice(0, 64), offset, available, mode);
    const what = `${bytes.map(h2).join(' ')} (${mode}-bit, offset ${offset}, available ${available})`;
    assert.equal(len, want ? want.length : 0, what);
    if (want) {
      assert.deepEqual(r.facts(), want.facts, `${what}: facts`);
      decoded++;
      perOp[OPNAME[want.facts.op]] = (perOp[OPNAME[want.facts.op]] ?? 0) + 1;
    }
  }
  assert.equal(r.memoryBytes, memory, 'the kernel memory grew');
  assert.ok(decoded > 6000, `only ${decoded} decoded`);
  assert.equal(Object.keys(perOp).length, Object.keys(OP).length - 1, 'every instruction kind was met');
  t.diagnostic(`${decoded} of 30000 decoded; ${JSON.stringify(perOp)}`);
});
