// The instructions a guest uses on device registers, decoded for MMIO emulation
// (kernel/vm/mmio-access.ts): MOV, MOVZX, MOVSX, MOVSXD, the ALU operations with a memory
// operand, TEST, NOT, NEG, INC, DEC, XCHG, BT/BTS/BTR/BTC imm8, STOS and MOVS (SDM vol. 2
// chapter 2 "Instruction Format", opcode map appendix A). Prefixes as the length decoder
// reads them (decode/instruction-length.ts): legacy prefixes in any order, then a REX that
// counts only when it comes last (SDM 2.2.1). LOCK is taken only where the SDM allows it (a
// memory destination of ADD, ADC, AND, BTC, BTR, BTS, DEC, INC, NEG, NOT, OR, SBB, SUB, XOR,
// XCHG: SDM "LOCK"); elsewhere it is #UD, and the decode fails. F2/F3 before a two-byte
// opcode can make another instruction (F3 0F B8 is POPCNT): those fail too.
import { MAX_INSTRUCTION, memoryOperandLength } from './instruction-length';

export const enum MmioForm {
  None = 0,
  Load = 1, // register <- memory (8A, 8B, A0, A1, MOVZX, MOVSX, MOVSXD)
  Store = 2, // memory <- register (88, 89, A2, A3)
  StoreImmediate = 3, // memory <- immediate (C6 /0, C7 /0)
  AluToMemory = 4, // op memory, register|immediate (00-39 even pairs, 80, 81, 83, 84, 85, F6 /0, F7 /0)
  AluToRegister = 5, // op register, memory (02-3B)
  Unary = 6, // NOT, NEG, INC, DEC of memory (F6, F7 /2 /3; FE, FF /0 /1)
  Exchange = 7, // XCHG memory, register (86, 87)
  BitTest = 8, // BT, BTS, BTR, BTC memory, imm8 (0F BA /4-/7)
  Stos = 9, // AA, AB
  Movs = 10, // A4, A5
}

/** The operation of the ALU forms (0-7: the opcode's bits 5-3 and the /digit of 80-83). */
export const enum AluOp {
  Add = 0, Or = 1, Adc = 2, Sbb = 3, And = 4, Sub = 5, Xor = 6, Cmp = 7,
  Test = 8, Not = 9, Neg = 10, Inc = 11, Dec = 12, Bt = 13, Bts = 14, Btr = 15, Btc = 16,
}

/** What decodeMmio found (valid after a non-zero result). */
export let mmioForm = 0;
export let mmioAluOp = 0;
/** Bytes of the memory operand: 1, 2, 4 or 8 (the element size of STOS/MOVS). */
export let mmioSize = 0;
/** Bytes the register operand has (MOVZX, MOVSX, MOVSXD: wider than the memory operand). */
export let mmioTargetSize = 0;
/** 1 when a load sign-extends (MOVSX, MOVSXD). */
export let mmioSignExtend = 0;
/** The register operand (0-15); with mmioHighByte it is AH-BH (register - 4 is given: 0-3). */
export let mmioRegister = 0;
export let mmioHighByte = 0;
/** 1 when the source is the immediate below, sign-extended to the operand size (64-bit: hi:lo halves, unsigned). */
export let mmioHasImmediate = 0;
export let mmioImmediateLo = 0;
export let mmioImmediateHi = 0;
/** STOS/MOVS: the address size in bits, REP (F3 or F2), MOVS's source segment (0 ES ... 5 GS, DS unless overridden). */
export let mmioAddressSize = 32;
export let mmioRep = 0;
export let mmioSegment = 3;

const fail = () => {
  mmioForm = MmioForm.None;
  return 0;
};

/** Sets the immediate from `count` bytes at bytes[at], sign-extended to `size` bytes (hi:lo for 8). */
const takeImmediate = (bytes: Uint8Array, at: number, count: number, size: number) => {
  let v = 0;
  for (let k = count - 1; k >= 0; k--) v = v * 256 + bytes[at + k];
  const full = count === 1 ? 0x100 : count === 2 ? 0x10000 : 0x100000000;
  const negative = v >= full / 2;
  mmioHasImmediate = 1;
  mmioImmediateLo = negative && count < size ? v - full + (size === 2 ? 0x10000 : 0x100000000) : v;
  mmioImmediateHi = size === 8 && negative ? 0xffffffff : 0;
};

/**
 * Decodes the instruction at bytes[0, available) in code size `mode` (16, 32, 64); its
 * length, or 0 when it is not one of the forms above with a memory operand.
 */
export const decodeMmio = (bytes: Uint8Array, available: number, mode: number) => {
  let avail = available;
  if (avail > bytes.length) avail = bytes.length;
  if (avail > MAX_INSTRUCTION) avail = MAX_INSTRUCTION;
  let i = 0;
  let opsize = false;
  let adsize = false;
  let rep = 0;
  let lock = false;
  let segment = 3;
  let rex = 0;
  let b = 0;
  for (;;) {
    if (i >= avail) return fail();
    b = bytes[i];
    if (b === 0x66) opsize = true;
    else if (b === 0x67) adsize = true;
    else if (b === 0xf3 || b === 0xf2) rep = 1;
    else if (b === 0xf0) lock = true;
    else if (b === 0x26) segment = 0;
    else if (b === 0x2e) segment = 1;
    else if (b === 0x36) segment = 2;
    else if (b === 0x3e) segment = 3;
    else if (b === 0x64) segment = 4;
    else if (b === 0x65) segment = 5;
    else if (mode === 64 && b >= 0x40 && b <= 0x4f) {
      rex = b;
      i++;
      continue;
    } else break;
    rex = 0; // a legacy prefix after a REX voids the REX
    i++;
  }
  if (mode !== 16 && mode !== 32 && mode !== 64) return fail();
  const operand = mode === 64 ? ((rex & 8) !== 0 ? 8 : opsize ? 2 : 4) : mode === 32 ? (opsize ? 2 : 4) : opsize ? 4 : 2;
  mmioAddressSize = mode === 64 ? (adsize ? 32 : 64) : mode === 32 ? (adsize ? 16 : 32) : adsize ? 32 : 16;
  mmioRep = rep;
  mmioSegment = segment;
  mmioAluOp = 0;
  mmioSignExtend = 0;
  mmioHasImmediate = 0;
  mmioImmediateLo = 0;
  mmioImmediateHi = 0;
  mmioHighByte = 0;
  mmioRegister = 0;
  let form = MmioForm.None;
  let lockable = false;
  let size = (b & 1) === 0 ? 1 : operand; // the usual byte/full pair
  let target = 0;
  let immBytes = 0;
  let at = i + 1; // the ModRM byte
  let modrm = true;
  if (b < 0x40 && (b & 7) < 4) {
    mmioAluOp = b >>> 3;
    form = (b & 2) === 0 ? MmioForm.AluToMemory : MmioForm.AluToRegister;
    lockable = form === MmioForm.AluToMemory && mmioAluOp !== AluOp.Cmp;
  } else if (b === 0x80 || b === 0x81 || b === 0x83) {
    if (at >= avail) return fail();
    mmioAluOp = (bytes[at] >>> 3) & 7;
    form = MmioForm.AluToMemory;
    lockable = mmioAluOp !== AluOp.Cmp;
    immBytes = b === 0x81 ? (operand === 2 ? 2 : 4) : 1;
  } else if (b === 0x84 || b === 0x85) {
    mmioAluOp = AluOp.Test;
    form = MmioForm.AluToMemory;
  } else if (b === 0x86 || b === 0x87) {
    form = MmioForm.Exchange;
    lockable = true;
  } else if (b >= 0x88 && b <= 0x8b) form = b >= 0x8a ? MmioForm.Load : MmioForm.Store;
  else if (b === 0x63 && mode === 64 && (rex & 8) !== 0) {
    form = MmioForm.Load; // MOVSXD r64, r/m32
    size = 4;
    target = 8;
    mmioSignExtend = 1;
  } else if (b >= 0xa0 && b <= 0xa3) {
    form = b <= 0xa1 ? MmioForm.Load : MmioForm.Store; // AL/eAX <-> moffs (an address-size offset)
    modrm = false;
    immBytes = mmioAddressSize / 8; // read past, not used: the fault gave the address
  } else if (b === 0xa4 || b === 0xa5 || b === 0xaa || b === 0xab) {
    form = b <= 0xa5 ? MmioForm.Movs : MmioForm.Stos;
    modrm = false;
  } else if (b === 0xc6 || b === 0xc7) {
    if (at >= avail || ((bytes[at] >>> 3) & 7) !== 0) return fail();
    form = MmioForm.StoreImmediate;
    immBytes = size > 4 ? 4 : size;
  } else if (b === 0xf6 || b === 0xf7) {
    if (at >= avail) return fail();
    const digit = (bytes[at] >>> 3) & 7;
    if (digit === 0) {
      mmioAluOp = AluOp.Test;
      form = MmioForm.AluToMemory;
      immBytes = size > 4 ? 4 : size;
    } else if (digit === 2 || digit === 3) {
      mmioAluOp = digit === 2 ? AluOp.Not : AluOp.Neg;
      form = MmioForm.Unary;
      lockable = true;
    } else return fail(); // MUL, IMUL, DIV, IDIV (and /1)
  } else if (b === 0xfe || b === 0xff) {
    if (at >= avail) return fail();
    const digit = (bytes[at] >>> 3) & 7;
    if (digit > 1) return fail(); // CALL, JMP, PUSH through a device register
    mmioAluOp = digit === 0 ? AluOp.Inc : AluOp.Dec;
    form = MmioForm.Unary;
    lockable = true;
  } else if (b === 0x0f) {
    if (rep !== 0 || i + 1 >= avail) return fail();
    const b2 = bytes[i + 1];
    at = i + 2;
    if (b2 === 0xb6 || b2 === 0xb7 || b2 === 0xbe || b2 === 0xbf) {
      form = MmioForm.Load;
      size = (b2 & 1) === 0 ? 1 : 2;
      target = operand;
      mmioSignExtend = b2 >= 0xbe ? 1 : 0;
    } else if (b2 === 0xba) {
      if (at >= avail) return fail();
      const digit = (bytes[at] >>> 3) & 7;
      if (digit < 4) return fail();
      mmioAluOp = AluOp.Bt + digit - 4;
      form = MmioForm.BitTest;
      size = operand;
      immBytes = 1;
      lockable = digit !== 4;
    } else return fail();
  }
  if (form === MmioForm.None || (lock && !lockable)) return fail();
  let n = at;
  if (modrm) {
    const m = memoryOperandLength(bytes, at, avail - at, mmioAddressSize);
    if (m === 0) return fail(); // a register operand, or too few bytes
    const reg = (bytes[at] >>> 3) & 7;
    n = at + m;
    mmioHighByte = size === 1 && target === 0 && rex === 0 && reg >= 4 ? 1 : 0;
    mmioRegister = mmioHighByte === 1 ? reg - 4 : reg + ((rex & 4) !== 0 ? 8 : 0);
  }
  if (n + immBytes > avail) return fail();
  if (immBytes > 0 && form !== MmioForm.Load && form !== MmioForm.Store) {
    takeImmediate(bytes, n, immBytes, form === MmioForm.BitTest ? 1 : size);
  }
  mmioForm = form;
  mmioSize = size;
  mmioTargetSize = target === 0 ? size : target;
  return n + immBytes;
};
