// A reference for the MMIO emulation's random test (tests/unit/vm-mmio-emulate.test.mjs),
// written from the SDM independently of kernel/vm/mmio-*.ts: a generator of random
// instructions of the supported forms (random prefixes in random order, REX incl. a voided
// one, operand/address sizes, ModRM/SIB/displacement encodings, immediates, registers incl.
// AH-BH and SPL-DIL), and a plain BigInt interpreter of what each does to the registers,
// RFLAGS and a device whose reads answer from a queue. Semantics: SDM vol. 2 per
// instruction; flags SDM vol. 1 appendix A (AF cleared by the logical ops and BT* leaving
// OF/SF/AF/PF alone: the emulator's documented choices for flags the SDM leaves undefined).

export const rng = (seed) => {
  let s = seed >>> 0;
  return () => {
    s = (s + 0x6d2b79f5) >>> 0;
    let t = s;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
};

const CF = 0x1n, PF = 0x4n, AF = 0x10n, ZF = 0x40n, SF = 0x80n, OF = 0x800n;
const ARITH = CF | PF | AF | ZF | SF | OF;
const ALU_OPS = ['add', 'or', 'adc', 'sbb', 'and', 'sub', 'xor', 'cmp'];

// templates: op, opcode bytes (byte form / full form), kind
const TEMPLATES = [
  { kind: 'store', op: 'mov', opc: [[0x88], [0x89]] },
  { kind: 'load', op: 'mov', opc: [[0x8a], [0x8b]] },
  { kind: 'storeImm', op: 'mov', opc: [[0xc6], [0xc7]], digit: 0 },
  { kind: 'moffsLoad', op: 'mov', opc: [[0xa0], [0xa1]] },
  { kind: 'moffsStore', op: 'mov', opc: [[0xa2], [0xa3]] },
  { kind: 'movzx', op: 'movzx', opc: [[0x0f, 0xb6], [0x0f, 0xb7]] },
  { kind: 'movsx', op: 'movsx', opc: [[0x0f, 0xbe], [0x0f, 0xbf]] },
  { kind: 'movsxd', op: 'movsxd', opc: [null, [0x63]] },
  { kind: 'aluMem', op: 'alu' }, // op r/m, reg
  { kind: 'aluReg', op: 'alu' }, // op reg, r/m
  { kind: 'aluImm', op: 'alu' }, // 80, 81, 83
  { kind: 'testReg', op: 'test', opc: [[0x84], [0x85]] },
  { kind: 'testImm', op: 'test', opc: [[0xf6], [0xf7]], digit: 0 },
  { kind: 'unary', op: 'not', opc: [[0xf6], [0xf7]], digit: 2 },
  { kind: 'unary', op: 'neg', opc: [[0xf6], [0xf7]], digit: 3 },
  { kind: 'unary', op: 'inc', opc: [[0xfe], [0xff]], digit: 0 },
  { kind: 'unary', op: 'dec', opc: [[0xfe], [0xff]], digit: 1 },
  { kind: 'xchg', op: 'xchg', opc: [[0x86], [0x87]] },
  { kind: 'bit', op: 'bt', opc: [null, [0x0f, 0xba]], digit: 4 },
  { kind: 'bit', op: 'bts', opc: [null, [0x0f, 0xba]], digit: 5 },
  { kind: 'bit', op: 'btr', opc: [null, [0x0f, 0xba]], digit: 6 },
  { kind: 'bit', op: 'btc', opc: [null, [0x0f, 0xba]], digit: 7 },
];
const LOCKABLE = new Set(['add', 'or', 'adc', 'sbb', 'and', 'sub', 'xor', 'not', 'neg', 'inc', 'dec', 'xchg', 'bts', 'btr', 'btc']);

const le = (v, n) => Array.from({ length: n }, (_, i) => Number((BigInt(v) >> BigInt(8 * i)) & 0xffn));
const mask = (size) => (1n << BigInt(8 * size)) - 1n;
const signExtend = (v, from, to) => BigInt.asUintN(8 * to, BigInt.asIntN(8 * from, v));

/** One random instruction: { bytes, mode, desc } (desc: what the reference executes). */
export const randomInstruction = (rnd) => {
  const int = (n) => Math.floor(rnd() * n);
  const pick = (a) => a[int(a.length)];
  for (;;) {
    const mode = pick([16, 32, 64]);
    const t = pick(TEMPLATES);
    let op = t.op;
    let kind = t.kind;
    if (kind === 'movsxd' && mode !== 64) continue;
    // operand size of the full forms, and whether the byte form is taken
    const byteForm = t.opc ? (t.opc[0] === null ? false : t.opc[1] === null ? true : rnd() < 0.4) : rnd() < 0.4;
    let osz = mode === 64 ? pick([2, 4, 8]) : pick([2, 4]);
    if (kind === 'movsxd') osz = 8;
    const asz = mode === 64 ? pick([8, 4]) : mode === 32 ? pick([4, 2]) : pick([2, 4]);
    let opsizePrefix = mode === 16 ? osz === 4 : osz === 2;
    if (osz === 8 && rnd() < 0.3) opsizePrefix = true; // REX.W wins over 66
    if (byteForm && rnd() < 0.3) opsizePrefix = !opsizePrefix; // no effect on byte operands... except MOVZX/MOVSX targets
    const effOsz = osz === 8 ? 8 : mode === 16 ? (opsizePrefix ? 4 : 2) : opsizePrefix ? 2 : 4;
    const rexW = osz === 8 || (byteForm && mode === 64 && rnd() < 0.2 && kind !== 'movzx' && kind !== 'movsx');
    const effOszW = rexW ? 8 : effOsz;
    let rex = null;
    let reg = int(8);
    if (mode === 64 && (rexW || rnd() < 0.5)) {
      reg = int(16);
      rex = 0x40 | (rexW ? 8 : 0) | ((reg >> 3) << 2) | (int(4));
    }
    let size = byteForm ? 1 : effOszW; // memory operand bytes
    let target = size;
    if (kind === 'movzx' || kind === 'movsx') { target = effOszW; size = byteForm ? 1 : 2; }
    if (kind === 'movsxd') { target = 8; size = 4; }
    let aluOp = 0;
    let opcode;
    let digit = t.digit;
    let immBytes = 0;
    let immSigned = true;
    if (kind === 'aluMem' || kind === 'aluReg') {
      aluOp = int(8);
      op = ALU_OPS[aluOp];
      opcode = [aluOp * 8 + (kind === 'aluReg' ? 2 : 0) + (byteForm ? 0 : 1)];
    } else if (kind === 'aluImm') {
      aluOp = int(8);
      op = ALU_OPS[aluOp];
      digit = aluOp;
      const which = byteForm ? 0x80 : pick([0x81, 0x83]);
      opcode = [which];
      immBytes = which === 0x81 ? Math.min(size, 4) : 1;
    } else opcode = t.opc[byteForm ? 0 : 1];
    if (kind === 'storeImm' || kind === 'testImm') immBytes = Math.min(size, 4);
    if (kind === 'bit') { immBytes = 1; immSigned = false; }
    const moffs = kind === 'moffsLoad' || kind === 'moffsStore';
    if (moffs) { reg = 0; rex = rex === null ? null : rex & ~4; }
    const high = !['movzx', 'movsx', 'movsxd'].includes(kind) && size === 1 && rex === null && reg >= 4 && !moffs;
    // ModRM (a memory form), SIB, displacement
    const body = [...opcode];
    if (!moffs) {
      const mod = int(3);
      const rm = int(8);
      const regField = digit !== undefined ? digit : reg & 7;
      body.push((mod << 6) | (regField << 3) | rm);
      if (asz === 2) {
        if (mod === 1) body.push(...le(int(256), 1));
        else if (mod === 2 || (mod === 0 && rm === 6)) body.push(...le(int(65536), 2));
      } else {
        if (rm === 4) {
          const sib = int(256);
          body.push(sib);
          if (mod === 0 && (sib & 7) === 5) body.push(...le(int(2 ** 32), 4));
        } else if (mod === 0 && rm === 5) body.push(...le(int(2 ** 32), 4));
        if (mod === 1) body.push(...le(int(256), 1));
        else if (mod === 2) body.push(...le(int(2 ** 32), 4));
      }
    } else body.push(...le(BigInt(int(2 ** 32)) | (BigInt(int(2 ** 32)) << 32n), asz));
    let imm = 0n;
    if (immBytes > 0) {
      const raw = BigInt(int(2 ** (8 * immBytes)));
      body.push(...le(raw, immBytes));
      imm = immSigned ? signExtend(raw, immBytes, size) : raw;
    }
    // legacy prefixes in a random order, then REX last (a REX before a legacy prefix is voided)
    const legacy = [];
    if (opsizePrefix) legacy.push(0x66);
    if (asz !== (mode === 64 ? 8 : mode === 32 ? 4 : 2)) legacy.push(0x67);
    for (let k = int(3); k > 0; k--) legacy.push(pick([0x26, 0x2e, 0x36, 0x3e, 0x64, 0x65]));
    const lockable = LOCKABLE.has(op) && (kind === 'aluMem' || kind === 'aluImm' || kind === 'unary' || kind === 'xchg' || kind === 'bit');
    if (lockable && rnd() < 0.4) legacy.push(0xf0);
    if (opcode[0] !== 0x0f && rnd() < 0.1) legacy.push(pick([0xf2, 0xf3]));
    for (let k = legacy.length - 1; k > 0; k--) { const j = int(k + 1); [legacy[k], legacy[j]] = [legacy[j], legacy[k]]; }
    if (mode === 64 && legacy.length > 0 && rnd() < 0.15) legacy.unshift(0x40 + int(16)); // voided
    const bytes = [...legacy, ...(rex === null ? [] : [rex]), ...body];
    if (bytes.length > 15) continue;
    return { bytes, mode, desc: { kind, op, size, target, reg, high, imm, length: bytes.length } };
  }
};

const parity = (v) => {
  let n = 0;
  for (let b = Number(v & 0xffn); b; b >>= 1) n += b & 1;
  return n % 2 === 0;
};

/** Result and flags of `op` on size-byte a, b (carry in: cf). */
export const aluReference = (op, size, a, b, cf) => {
  const bits = BigInt(8 * size);
  const m = mask(size);
  const top = (v) => (v >> (bits - 1n)) & 1n;
  const szp = (r) => (r === 0n ? ZF : 0n) | (top(r) ? SF : 0n) | (parity(r) ? PF : 0n);
  let r;
  let f;
  let defined = ARITH;
  switch (op) {
    case 'add': case 'adc': case 'inc': {
      const c = op === 'adc' ? cf : 0n;
      const bb = op === 'inc' ? 1n : b;
      const wide = a + bb + c;
      r = wide & m;
      f = szp(r) | ((wide >> bits) & 1n ? CF : 0n) | (((a ^ bb ^ r) >> 4n) & 1n ? AF : 0n) | (top((a ^ r) & (bb ^ r)) ? OF : 0n);
      if (op === 'inc') defined = ARITH & ~CF;
      break;
    }
    case 'sub': case 'sbb': case 'cmp': case 'dec': case 'neg': {
      const x = op === 'neg' ? 0n : a;
      const y = op === 'dec' ? 1n : op === 'neg' ? a : b;
      const c = op === 'sbb' ? cf : 0n;
      const wide = x - y - c;
      r = BigInt.asUintN(8 * size, wide);
      f = szp(r) | (wide < 0n ? CF : 0n) | (((x ^ y ^ r) >> 4n) & 1n ? AF : 0n) | (top((x ^ y) & (x ^ r)) ? OF : 0n);
      if (op === 'dec') defined = ARITH & ~CF;
      break;
    }
    case 'and': case 'test': r = a & b; f = szp(r); break;
    case 'or': r = a | b; f = szp(r); break;
    case 'xor': r = a ^ b; f = szp(r); break;
    case 'not': r = ~a & m; f = 0n; defined = 0n; break;
    default: { // bt, bts, btr, btc: b is the bit offset, taken modulo the operand's width
      const bit = b % bits;
      const was = (a >> bit) & 1n;
      r = op === 'bts' ? a | (1n << bit) : op === 'btr' ? a & ~(1n << bit) : op === 'btc' ? a ^ (1n << bit) : a;
      f = was ? CF : 0n;
      defined = CF;
    }
  }
  return { r, f, defined };
};

/**
 * What `desc` does: regs (16 BigInts) and rflags in, the device's queued reads; returns
 * { regs, rflags, accesses: [{ write, offset, size, value }] }.
 */
export const execute = (desc, regsIn, rflagsIn, reads, offset) => {
  const regs = regsIn.slice();
  let rflags = BigInt(rflagsIn);
  const accesses = [];
  const q = reads.slice();
  const devRead = (off, size) => {
    const v = q.length ? q.shift() : 0;
    accesses.push({ write: false, offset: off, size, value: v });
    return v < 0 ? mask(size) : BigInt(v) & mask(size);
  };
  const devWrite = (off, size, v) => accesses.push({ write: true, offset: off, size, value: Number(v & mask(size)) });
  const readMem = (size) => (size === 8 ? devRead(offset, 4) | (devRead(offset + 4, 4) << 32n) : devRead(offset, size));
  const writeMem = (size, v) => {
    if (size === 8) { devWrite(offset, 4, v); devWrite(offset + 4, 4, v >> 32n); } else devWrite(offset, size, v);
  };
  const { kind, op, size, target, reg, high, imm } = desc;
  const getReg = (r, sz) => (high ? (regs[r - 4] >> 8n) & 0xffn : regs[r] & mask(sz));
  const setReg = (r, sz, v) => {
    if (high) regs[r - 4] = (regs[r - 4] & ~0xff00n) | ((v & 0xffn) << 8n);
    else if (sz >= 4) regs[r] = v & mask(sz); // 32-bit writes zero-extend
    else regs[r] = (regs[r] & ~mask(sz)) | (v & mask(sz));
  };
  const setFlags = ({ f, defined }) => { rflags = (rflags & ~defined) | (f & defined); };
  const cf = rflags & 1n;
  switch (kind) {
    case 'load': case 'moffsLoad': setReg(reg, size, readMem(size)); break;
    case 'movzx': setReg(reg, target, readMem(size)); break;
    case 'movsx': case 'movsxd': setReg(reg, target, signExtend(readMem(size), size, target)); break;
    case 'store': case 'moffsStore': writeMem(size, getReg(reg, size)); break;
    case 'storeImm': writeMem(size, imm); break;
    case 'xchg': { const m = readMem(size); writeMem(size, getReg(reg, size)); setReg(reg, size, m); break; }
    case 'aluReg': {
      const out = aluReference(op, size, getReg(reg, size), readMem(size), cf);
      setFlags(out);
      if (op !== 'cmp') setReg(reg, size, out.r);
      break;
    }
    default: { // aluMem, aluImm, testReg, testImm, unary, bit: the memory operand first
      const m = readMem(size);
      const b = kind === 'aluMem' || kind === 'testReg' ? getReg(reg, size) : imm;
      const out = aluReference(op, size, m, b, cf);
      setFlags(out);
      if (op !== 'cmp' && op !== 'test' && op !== 'bt') writeMem(size, out.r);
    }
  }
  return { regs, rflags, accesses };
};
