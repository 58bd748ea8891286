// A guest's access to a device's MMIO range: the nested page fault's instruction, decoded
// (decode/mmio-instruction.ts), carried out against the device (devices/board.ts) and the
// vCPU's registers and RFLAGS: MOV, MOVZX, MOVSX, MOVSXD, the ALU forms (mmio-alu.ts), XCHG,
// BT*, and STOS/MOVS (mmio-string.ts). Register writes follow SDM vol. 1 3.4.1.1: a 32-bit
// destination zero-extends into the upper half, 8- and 16-bit ones keep the rest; AH-BH are
// the second byte of RAX-RBX. 8-byte accesses are two 4-byte ones, low half first; a
// read-modify-write reads both halves, then writes both. LOCK needs nothing more: the vCPU
// is the only one touching the device while it is emulated.
import { guestGprHi, guestGprLo, guestRflags, setGuestGpr, setGuestRflags } from '../vcpu/vcpu';
import {
  AluOp, decodeMmio, MmioForm, mmioAluOp, mmioForm, mmioHasImmediate, mmioHighByte, mmioImmediateHi, mmioImmediateLo,
  mmioRegister, mmioSignExtend, mmioSize, mmioTargetSize,
} from './decode/mmio-instruction';
import { MmioResult, readDevice, writeDevice } from './mmio-device';
import { alu, aluFlagMask, aluFlags, aluHi, aluLo } from './mmio-alu';
import { emulateString, stringFault, stringLength } from './mmio-string';

const MASKS = [0, 0xff, 0xffff, 0, 0xffffffff];

/** Length of the decoded instruction (after emulateMmio returned Done or Stop; 0 when a REP is not finished). */
export let mmioInstructionLength = 0;
/** MmioResult.Fault: the guest-physical address (or -1: a linear address its paging does not map). */
export let mmioFaultAddress = 0;

// the memory operand, read: hi:lo
let memLo = 0;
let memHi = 0;

const readMemory = (vm: number, d: number, offset: number, size: number) => {
  memLo = readDevice(vm, d, offset, size === 8 ? 4 : size);
  memHi = size === 8 ? readDevice(vm, d, offset + 4, 4) : 0;
};

// the register operand, read: hi:lo
let regLo = 0;
let regHi = 0;

/** Reads register `r` (high byte: AH-BH) as a `size`-byte operand. */
const readRegister = (vcpu: number, r: number, high: boolean, size: number) => {
  const lo = guestGprLo(vcpu, r);
  regLo = high ? (lo >>> 8) & 0xff : size >= 4 ? lo : lo & MASKS[size];
  regHi = size === 8 ? guestGprHi(vcpu, r) : 0;
};

/** Sets register `r` (high byte: AH-BH) to a `size`-byte value lo:hi as a MOV would. */
const setRegister = (vcpu: number, r: number, high: boolean, size: number, lo: number, hi: number) => {
  const old = guestGprLo(vcpu, r);
  if (size === 8) setGuestGpr(vcpu, r, lo >>> 0, hi >>> 0);
  else if (size === 4) setGuestGpr(vcpu, r, lo >>> 0, 0);
  else if (high) setGuestGpr(vcpu, r, ((old & 0xffff00ff) | ((lo & 0xff) << 8)) >>> 0, guestGprHi(vcpu, r));
  else setGuestGpr(vcpu, r, ((old & ~MASKS[size]) | (lo & MASKS[size])) >>> 0, guestGprHi(vcpu, r));
};

/** The loaded value memLo:memHi extended to `target` bytes (MOVZX, MOVSX, MOVSXD) into memLo:memHi. */
const extend = (size: number, target: number, signed: boolean) => {
  const negative = signed && memLo >= (size === 1 ? 0x80 : size === 2 ? 0x8000 : 0x80000000);
  if (negative && size < 4) memLo = memLo - (size === 1 ? 0x100 : 0x10000) + (target === 2 ? 0x10000 : 0x100000000);
  if (target === 2) memLo = memLo & 0xffff;
  memHi = target === 8 && negative ? 0xffffffff : target === 8 ? memHi : 0;
};

/** RFLAGS' arithmetic flags as the last alu() left them. */
const updateFlags = (vcpu: number) => {
  const mask = aluFlagMask;
  if (mask !== 0) setGuestRflags(vcpu, ((guestRflags(vcpu) & ~mask) | (aluFlags & mask)) >>> 0);
};

/**
 * VM `vm`'s vCPU `vcpu` touched offset `offset` of device `d`'s MMIO range with the
 * instruction in bytes[0, available) (its code size `mode`: 16, 32, 64).
 */
export const emulateMmio = (vm: number, vcpu: number, d: number, offset: number, bytes: Uint8Array, available: number, mode: number) => {
  const len = decodeMmio(bytes, available, mode);
  if (len === 0) return MmioResult.Undecodable;
  mmioInstructionLength = len;
  mmioFaultAddress = 0;
  const form = mmioForm;
  const size = mmioSize;
  const r = mmioRegister;
  const high = mmioHighByte === 1;
  if (form === MmioForm.Stos || form === MmioForm.Movs) {
    const result = emulateString(vm, vcpu, len, mode);
    mmioInstructionLength = stringLength;
    mmioFaultAddress = stringFault;
    return result;
  }
  if (form === MmioForm.Load) {
    readMemory(vm, d, offset, size);
    if (mmioTargetSize !== size) extend(size, mmioTargetSize, mmioSignExtend === 1);
    setRegister(vcpu, r, high, mmioTargetSize, memLo, memHi);
    return MmioResult.Done;
  }
  if (form === MmioForm.Store) {
    readRegister(vcpu, r, high, size);
    return writeDevice(vm, d, offset, size, regLo, regHi) ? MmioResult.Done : MmioResult.Stop;
  }
  if (form === MmioForm.StoreImmediate) {
    return writeDevice(vm, d, offset, size, mmioImmediateLo, mmioImmediateHi) ? MmioResult.Done : MmioResult.Stop;
  }
  readMemory(vm, d, offset, size);
  if (form === MmioForm.Exchange) {
    readRegister(vcpu, r, high, size);
    const lo = memLo;
    const hi = memHi;
    const going = writeDevice(vm, d, offset, size, regLo, regHi);
    setRegister(vcpu, r, high, size, lo, hi);
    return going ? MmioResult.Done : MmioResult.Stop;
  }
  const op = mmioAluOp;
  const cf = guestRflags(vcpu) & 1;
  if (form === MmioForm.AluToRegister) {
    readRegister(vcpu, r, high, size);
    alu(op, size, regLo, regHi, memLo, memHi, cf);
    updateFlags(vcpu);
    if (op !== AluOp.Cmp) setRegister(vcpu, r, high, size, aluLo, aluHi);
    return MmioResult.Done;
  }
  if (mmioHasImmediate === 1) alu(op, size, memLo, memHi, mmioImmediateLo, mmioImmediateHi, cf);
  else if (form === MmioForm.AluToMemory) {
    readRegister(vcpu, r, high, size);
    alu(op, size, memLo, memHi, regLo, regHi, cf);
  } else alu(op, size, memLo, memHi, 0, 0, cf); // Unary
  updateFlags(vcpu);
  if (op === AluOp.Cmp || op === AluOp.Test || op === AluOp.Bt) return MmioResult.Done; // read only
  return writeDevice(vm, d, offset, size, aluLo, aluHi) ? MmioResult.Done : MmioResult.Stop;
};
