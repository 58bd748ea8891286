// Instruction lengths for the exits Zerovisor advances past when the CPU does not say the
// next RIP (QEMU TCG's SVM has no NRIPS and no decode assists), and the memory moves a
// guest uses on MMIO (MOV, MOVZX with a memory operand). Not a general decoder: it knows
// the instructions that exit (Intel SDM vol. 2 chapter 2 "Instruction Format", AMD APM vol.
// 3 chapter 1 "Instruction Encoding") and answers 0 for anything else.
//
// Layout read: legacy prefixes (any number, any order: F0, F2, F3, 2E, 36, 3E, 26, 64, 65,
// 66, 67), then in 64-bit mode an optional REX (40-4F; it counts only when it comes last,
// a REX followed by a legacy prefix is ignored, SDM 2.2.1), then the opcode and its
// operand bytes. An instruction longer than 15 bytes or running past `available` is 0.
// Besides the length, the facts an I/O or other exit needs when the hardware does not give
// them are left in the module-level variables below (valid after a non-zero result).

/** What was decoded (decodedOp). */
export const enum Op {
  None = 0,
  Cpuid = 1, // 0F A2
  Rdmsr = 2, // 0F 32
  Wrmsr = 3, // 0F 30
  Rdtsc = 4, // 0F 31
  Rdtscp = 5, // 0F 01 F9
  Hlt = 6, // F4
  Vmmcall = 7, // 0F 01 D9 (AMD)
  Vmcall = 8, // 0F 01 C1 (Intel)
  In = 9, // E4 ib, E5 ib, EC, ED
  Out = 10, // E6 ib, E7 ib, EE, EF
  Ins = 11, // 6C, 6D
  Outs = 12, // 6E, 6F
  Int3 = 13, // CC
  IntN = 14, // CD ib
  Int1 = 15, // F1 (ICEBP)
  Into = 16, // CE (not in 64-bit mode)
  Rdpmc = 17, // 0F 33
  Invd = 18, // 0F 08
  Wbinvd = 19, // 0F 09
  Xsetbv = 20, // 0F 01 D1
  Monitor = 21, // 0F 01 C8
  Mwait = 22, // 0F 01 C9
  Pause = 23, // F3 90
  MovFromCr = 24, // 0F 20 /r (ModRM is always a register form, SDM "MOV-Move to/from Control Registers")
  MovToCr = 25, // 0F 22 /r
  MovFromDr = 26, // 0F 21 /r
  MovToDr = 27, // 0F 23 /r
  // memory moves, decoded for MMIO (SDM vol. 2 "MOV", "MOVZX"): memoryRegister, memorySize, memoryImmediate
  MovLoad = 28, // 8A /r, 8B /r: register <- memory
  MovStore = 29, // 88 /r, 89 /r: memory <- register
  MovStoreImmediate = 30, // C6 /0 ib, C7 /0 iw/id: memory <- immediate
  MovzxLoad = 31, // 0F B6 /r, 0F B7 /r: register <- memory, zero-extended
}

/** The longest x86 instruction (SDM 2.3.11). */
export const MAX_INSTRUCTION = 15;

/** Op of the last decoded instruction (Op.None after a 0 result). */
export let decodedOp = 0;
/** Bytes of prefixes (legacy and REX) before the opcode. */
export let prefixCount = 0;
/** Operand size in bits as the prefixes make it: 16, 32 or 64 (REX.W). */
export let operandSize = 32;
/** Address size in bits: 16, 32 or 64 (67 toggles; for INS/OUTS it sizes RSI/RDI/RCX). */
export let addressSize = 32;
/** I/O: the port for E4-E7 (imm8), -1 when the port is DX (EC-EF, 6C-6F): see ioPortFor. */
export let ioPort = -1;
/** I/O: bytes moved per transfer: 1 (byte forms), 2 (66, no REX.W), else 4 (REX.W does not make 8). */
export let ioSize = 0;
/** I/O: 1 for IN/INS (port to register or memory), 0 for OUT/OUTS. */
export let ioIn = 0;
/** I/O: 1 for INS/OUTS. */
export let ioString = 0;
/** 1 when an F3 (REP) or F2 prefix came (for INS/OUTS both repeat RCX times). */
export let ioRep = 0;
/** Segment register of the OUTS source (0 ES, 1 CS, 2 SS, 3 DS, 4 FS, 5 GS): DS unless overridden
 *  (in 64-bit mode only FS/GS have a base); INS always writes ES:rDI. */
export let ioSegment = 3;
/** INT n vector (3 for INT3, 1 for INT1, 4 for INTO). */
export let intVector = 0;
/** MOV CR/DR: the control or debug register (ModRM.reg + 8 * REX.R; with F0, CR0 means CR8: AMD's AltMovCr8). */
export let controlRegister = 0;
/** MOV CR/DR: the general register (ModRM.rm + 8 * REX.B). */
export let generalRegister = 0;
/** 1 when an F0 (LOCK) prefix came. */
export let lockPrefix = 0;
/** Memory moves: the register operand (0-15, ModRM.reg + REX.R), the bytes moved, the immediate (unsigned, as stored). */
export let memoryRegister = 0;
export let memorySize = 0;
export let memoryImmediate = 0;
/** Memory moves: the register is a high byte (AH, CH, DH, BH: ModRM.reg 4-7 of a byte form without REX, SDM 3.4.1.1). */
export let memoryHighByte = 0;
/** Memory moves: bytes the register receives (MOVZX: its operand size; else memorySize). */
export let memoryTargetSize = 0;

/** The port an I/O instruction used: its imm8, else the guest's DX. */
export const ioPortFor = (rdx: number) => (ioPort >= 0 ? ioPort : rdx & 0xffff);

const fail = () => {
  decodedOp = Op.None;
  return 0;
};

/**
 * Bytes of a ModRM memory operand from the ModRM byte on (ModRM, SIB, displacement; SDM
 * 2.1.5 tables 2-1 to 2-3), or 0 for a register operand (mod = 3) or too few bytes.
 */
export const memoryOperandLength = (bytes: Uint8Array, at: number, left: number, addressBits: number) => {
  if (left < 1) return 0;
  const modrm = bytes[at];
  const mod = modrm >>> 6;
  const rm = modrm & 7;
  if (mod === 3) return 0;
  let n = 1;
  if (addressBits === 16) {
    if (mod === 1) n += 1;
    else if (mod === 2 || (mod === 0 && rm === 6)) n += 2;
  } else {
    if (rm === 4) {
      if (left < 2) return 0;
      const base = bytes[at + 1] & 7;
      n += 1;
      if (mod === 0 && base === 5) n += 4;
    } else if (mod === 0 && rm === 5) n += 4; // disp32 (RIP-relative in 64-bit mode)
    if (mod === 1) n += 1;
    else if (mod === 2) n += 4;
  }
  return n <= left ? n : 0;
};

/**
 * Length of the instruction at bytes[offset] (0 = not one this decoder knows, longer than
 * 15 bytes, or past the `available` bytes fetched). `mode`: 64 (long mode, CS.L = 1), 32
 * (protected mode with CS.D = 1) or 16 (real mode, virtual-8086 or CS.D = 0).
 */
export const instructionLength = (bytes: Uint8Array, offset: number, available: number, mode: number) => {
  if (mode !== 16 && mode !== 32 && mode !== 64) return fail();
  if (!(offset >= 0)) return fail();
  let avail = available;
  if (avail > bytes.length - offset) avail = bytes.length - offset;
  if (avail > MAX_INSTRUCTION) avail = MAX_INSTRUCTION;
  let i = 0;
  let opsize = false;
  let adsize = false;
  let rep = false;
  let repz = false;
  let lock = false;
  let segment = 3;
  let rex = 0;
  let b = 0;
  // Prefixes (SDM 2.1.1 groups 1-4; 2.2.1 REX).
  for (;;) {
    if (i >= avail) return fail();
    b = bytes[offset + i];
    if (b === 0x66) opsize = true;
    else if (b === 0x67) adsize = true;
    else if (b === 0xf3) {
      rep = true;
      repz = true;
    } else if (b === 0xf2) rep = true;
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
  const rexW = (rex & 8) !== 0;
  prefixCount = i;
  operandSize = mode === 64 ? (rexW ? 64 : opsize ? 16 : 32) : mode === 32 ? (opsize ? 16 : 32) : opsize ? 32 : 16;
  addressSize = mode === 64 ? (adsize ? 32 : 64) : mode === 32 ? (adsize ? 16 : 32) : adsize ? 32 : 16;
  ioPort = -1;
  ioSize = 0;
  ioIn = 0;
  ioString = 0;
  ioRep = rep ? 1 : 0;
  ioSegment = segment;
  intVector = 0;
  lockPrefix = lock ? 1 : 0;
  controlRegister = 0;
  generalRegister = 0;
  memoryRegister = 0;
  memorySize = 0;
  memoryImmediate = 0;
  memoryHighByte = 0;
  memoryTargetSize = 0;
  const wide = operandSize === 16 ? 2 : 4;
  let op = Op.None;
  let n = 1; // opcode and operand bytes after the prefixes
  if (b === 0x0f) {
    if (i + 1 >= avail) return fail();
    const b2 = bytes[offset + i + 1];
    n = 2;
    if (b2 === 0xa2) op = Op.Cpuid;
    else if (b2 === 0x32) op = Op.Rdmsr;
    else if (b2 === 0x30) op = Op.Wrmsr;
    else if (b2 === 0x31) op = Op.Rdtsc;
    else if (b2 === 0x33) op = Op.Rdpmc;
    else if (b2 === 0x08) op = Op.Invd;
    else if (b2 === 0x09) op = Op.Wbinvd;
    else if (b2 === 0x01) {
      if (i + 2 >= avail) return fail();
      const b3 = bytes[offset + i + 2];
      n = 3;
      if (b3 === 0xf9) op = Op.Rdtscp;
      else if (b3 === 0xd9) op = Op.Vmmcall;
      else if (b3 === 0xc1) op = Op.Vmcall;
      else if (b3 === 0xd1) op = Op.Xsetbv;
      else if (b3 === 0xc8) op = Op.Monitor;
      else if (b3 === 0xc9) op = Op.Mwait;
    } else if (b2 >= 0x20 && b2 <= 0x23) {
      if (i + 2 >= avail) return fail();
      const modrm = bytes[offset + i + 2];
      n = 3;
      op = b2 === 0x20 ? Op.MovFromCr : b2 === 0x22 ? Op.MovToCr : b2 === 0x21 ? Op.MovFromDr : Op.MovToDr;
      controlRegister = ((modrm >>> 3) & 7) + ((rex & 4) !== 0 ? 8 : 0);
      if (lock && (b2 === 0x20 || b2 === 0x22) && controlRegister === 0) controlRegister = 8; // AMD AltMovCr8
      generalRegister = (modrm & 7) + ((rex & 1) !== 0 ? 8 : 0);
    } else if (b2 === 0xb6 || b2 === 0xb7) {
      const m = memoryOperandLength(bytes, offset + i + 2, avail - i - 2, addressSize);
      if (m === 0) return fail();
      n = 2 + m;
      op = Op.MovzxLoad;
      memoryRegister = ((bytes[offset + i + 2] >>> 3) & 7) + ((rex & 4) !== 0 ? 8 : 0);
      memorySize = b2 === 0xb6 ? 1 : 2;
      memoryTargetSize = operandSize / 8;
    }
  } else if (b === 0x88 || b === 0x89 || b === 0x8a || b === 0x8b) {
    const m = memoryOperandLength(bytes, offset + i + 1, avail - i - 1, addressSize);
    if (m === 0) return fail();
    n = 1 + m;
    op = b >= 0x8a ? Op.MovLoad : Op.MovStore;
    const reg = (bytes[offset + i + 1] >>> 3) & 7;
    memorySize = (b & 1) === 0 ? 1 : operandSize / 8;
    memoryTargetSize = memorySize;
    memoryHighByte = memorySize === 1 && rex === 0 && reg >= 4 ? 1 : 0;
    memoryRegister = memoryHighByte === 1 ? reg - 4 : reg + ((rex & 4) !== 0 ? 8 : 0);
  } else if ((b === 0xc6 || b === 0xc7) && i + 1 < avail && ((bytes[offset + i + 1] >>> 3) & 7) === 0) {
    const m = memoryOperandLength(bytes, offset + i + 1, avail - i - 1, addressSize);
    if (m === 0) return fail();
    memorySize = b === 0xc6 ? 1 : operandSize / 8;
    const immBytes = memorySize > 4 ? 4 : memorySize; // C7 with REX.W: imm32, sign-extended
    n = 1 + m + immBytes;
    if (i + n > avail) return fail();
    let imm = 0;
    for (let k = immBytes - 1; k >= 0; k--) imm = imm * 256 + bytes[offset + i + 1 + m + k];
    memoryImmediate = imm;
    memoryTargetSize = memorySize;
    op = Op.MovStoreImmediate;
  } else if (b === 0xf4) op = Op.Hlt;
  else if (b === 0xe4 || b === 0xe5 || b === 0xe6 || b === 0xe7) {
    n = 2;
    if (i + 1 >= avail) return fail();
    ioPort = bytes[offset + i + 1];
    ioIn = b <= 0xe5 ? 1 : 0;
    ioSize = (b & 1) === 0 ? 1 : wide;
    op = ioIn === 1 ? Op.In : Op.Out;
  } else if (b >= 0xec && b <= 0xef) {
    ioIn = b <= 0xed ? 1 : 0;
    ioSize = (b & 1) === 0 ? 1 : wide;
    op = ioIn === 1 ? Op.In : Op.Out;
  } else if (b >= 0x6c && b <= 0x6f) {
    ioIn = b <= 0x6d ? 1 : 0;
    ioSize = (b & 1) === 0 ? 1 : wide;
    ioString = 1;
    if (ioIn === 1) ioSegment = 0; // INS stores to ES:rDI, no override (SDM "INS")
    op = ioIn === 1 ? Op.Ins : Op.Outs;
  } else if (b === 0xcc) {
    op = Op.Int3;
    intVector = 3;
  } else if (b === 0xcd) {
    n = 2;
    if (i + 1 >= avail) return fail();
    intVector = bytes[offset + i + 1];
    op = Op.IntN;
  } else if (b === 0xf1) {
    op = Op.Int1;
    intVector = 1;
  } else if (b === 0xce && mode !== 64) {
    op = Op.Into;
    intVector = 4;
  } else if (b === 0x90 && repz && (rex & 1) === 0) op = Op.Pause;
  if (op === Op.None || i + n > avail) return fail();
  decodedOp = op;
  return i + n;
};
