// The arithmetic of the MMIO ALU forms (kernel/vm/mmio-access.ts) and the RFLAGS bits they
// leave (SDM vol. 1 3.4.3.1 "Status Flags", appendix A "EFLAGS Cross-Reference"; each
// instruction's "Flags Affected" in vol. 2). Operands are 1, 2, 4 or 8 bytes, unsigned,
// 8-byte ones as hi:lo halves; the result lands in aluLo/aluHi and the flags in aluFlags,
// aluFlagMask saying which of CF, PF, AF, ZF, SF, OF the instruction defines. Flags the SDM
// leaves undefined: AND/OR/XOR/TEST clear AF (as processors do); BT/BTS/BTR/BTC leave OF,
// SF, AF, PF as they were (ZF is unaffected by definition). No allocation: module variables.
import { AluOp } from './decode/mmio-instruction';

export const enum Flag {
  CF = 0x1,
  PF = 0x4,
  AF = 0x10,
  ZF = 0x40,
  SF = 0x80,
  OF = 0x800,
  Arithmetic = 0x8d5,
}

export let aluLo = 0;
export let aluHi = 0;
export let aluFlags = 0;
export let aluFlagMask = 0;

const TWO_32 = 4294967296;
const MASKS = [0, 0xff, 0xffff, 0, 0xffffffff, 0, 0, 0, 0xffffffff];
const SIGNS = [0, 0x80, 0x8000, 0, 0x80000000, 0, 0, 0, 0x80000000];

/** PF for each low byte: 1 when it has an even number of set bits. */
const PARITY = new Uint8Array(256);
for (let v = 0; v < 256; v++) {
  let ones = 0;
  for (let k = 0; k < 8; k++) ones += (v >>> k) & 1;
  PARITY[v] = (ones & 1) === 0 ? 1 : 0;
}

/** SF, ZF, PF of the result in aluLo/aluHi (`size` bytes). */
const resultFlags = (size: number) => {
  const top = size === 8 ? aluHi : aluLo;
  let f = PARITY[aluLo & 0xff] === 1 ? Flag.PF : 0;
  if (aluLo === 0 && aluHi === 0) f += Flag.ZF;
  if (top >= SIGNS[size]) f += Flag.SF;
  return f;
};

/** a + b + carry (sub: a - b - borrow), setting all six flags (CF kept out of the mask by INC/DEC). */
const addSub = (size: number, aLo: number, aHi: number, bLo: number, bHi: number, carry: number, sub: boolean) => {
  const mask = MASKS[size];
  let lo = sub ? aLo - bLo - carry : aLo + bLo + carry;
  let out = 0; // carry (borrow) out of the low half
  if (lo < 0) {
    lo += mask + 1;
    out = 1;
  } else if (lo > mask) {
    lo -= mask + 1;
    out = 1;
  }
  let hi = 0;
  let cf = out;
  if (size === 8) {
    hi = sub ? aHi - bHi - out : aHi + bHi + out;
    cf = 0;
    if (hi < 0) {
      hi += TWO_32;
      cf = 1;
    } else if (hi > 0xffffffff) {
      hi -= TWO_32;
      cf = 1;
    }
  }
  aluLo = lo;
  aluHi = hi;
  const sign = SIGNS[size];
  const sa = (size === 8 ? aHi : aLo) >= sign;
  const sb = (size === 8 ? bHi : bLo) >= sign;
  const sr = (size === 8 ? hi : lo) >= sign;
  let f = resultFlags(size);
  if (cf === 1) f += Flag.CF;
  if (((aLo ^ bLo ^ lo) & 0x10) !== 0) f += Flag.AF;
  if (sub ? sa !== sb && sr !== sa : sa === sb && sr !== sa) f += Flag.OF;
  aluFlags = f;
  aluFlagMask = Flag.Arithmetic;
};

/** AND, OR, XOR (TEST is AND): CF = OF = AF = 0. */
const logic = (op: number, size: number, aLo: number, aHi: number, bLo: number, bHi: number) => {
  if (op === AluOp.Or) {
    aluLo = (aLo | bLo) >>> 0;
    aluHi = (aHi | bHi) >>> 0;
  } else if (op === AluOp.Xor) {
    aluLo = (aLo ^ bLo) >>> 0;
    aluHi = (aHi ^ bHi) >>> 0;
  } else {
    aluLo = (aLo & bLo) >>> 0;
    aluHi = (aHi & bHi) >>> 0;
  }
  aluFlags = resultFlags(size);
  aluFlagMask = Flag.Arithmetic;
};

/**
 * Operation `op` (AluOp) on `size`-byte a (the memory operand for the one-operand forms and
 * BT*) and b (the other operand; BT*: the bit offset), with the guest's CF for ADC/SBB.
 */
export const alu = (op: number, size: number, aLo: number, aHi: number, bLo: number, bHi: number, cf: number) => {
  switch (op) {
    case AluOp.Add: return addSub(size, aLo, aHi, bLo, bHi, 0, false);
    case AluOp.Adc: return addSub(size, aLo, aHi, bLo, bHi, cf, false);
    case AluOp.Sub:
    case AluOp.Cmp: return addSub(size, aLo, aHi, bLo, bHi, 0, true);
    case AluOp.Sbb: return addSub(size, aLo, aHi, bLo, bHi, cf, true);
    case AluOp.Or:
    case AluOp.Xor:
    case AluOp.And:
    case AluOp.Test: return logic(op, size, aLo, aHi, bLo, bHi);
    case AluOp.Neg: return addSub(size, 0, 0, aLo, aHi, 0, true); // CF = (a != 0) falls out of 0 - a
    case AluOp.Inc:
    case AluOp.Dec:
      addSub(size, aLo, aHi, 1, 0, 0, op === AluOp.Dec);
      aluFlagMask = Flag.Arithmetic - Flag.CF;
      return;
    case AluOp.Not:
      aluLo = (~aLo & MASKS[size]) >>> 0;
      aluHi = size === 8 ? ~aHi >>> 0 : 0;
      aluFlags = 0;
      aluFlagMask = 0;
      return;
  }
  // BT, BTS, BTR, BTC: bit (b mod the operand's bits) into CF, then set, clear or flip it
  const bit = bLo & (size * 8 - 1);
  const inHi = bit >= 32;
  const m = (1 << (bit & 31)) >>> 0;
  const word = inHi ? aHi : aLo;
  const was = (word & m) !== 0;
  let now = word;
  if (op === AluOp.Bts) now = (word | m) >>> 0;
  else if (op === AluOp.Btr) now = (word & ~m) >>> 0;
  else if (op === AluOp.Btc) now = (word ^ m) >>> 0;
  aluLo = inHi ? aLo : now;
  aluHi = inHi ? now : aHi;
  aluFlags = was ? Flag.CF : 0;
  aluFlagMask = Flag.CF;
};
