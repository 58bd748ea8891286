// A guest's access to a device's MMIO range: the nested page fault's instruction, decoded
// (MOV or MOVZX with a memory operand: decode/instruction-length.ts), carried out against
// the device (devices/board.ts) and the vCPU's registers. Register writes follow SDM vol. 1
// 3.4.1.1: a 32-bit destination zero-extends into the upper half, 8- and 16-bit ones keep
// the rest; AH-BH are the second byte of RAX-RBX. 8-byte accesses are two 4-byte ones, low
// half first.
import { guestGprHi, guestGprLo, setGuestGpr } from '../vcpu/vcpu';
import {
  decodedOp, instructionLength, memoryHighByte, memoryImmediate, memoryRegister, memorySize, memoryTargetSize, Op,
} from './decode/instruction-length';
import { DeviceAction } from './devices/bus';
import { boardMmioRead, boardMmioWrite } from './devices/board';

export const enum MmioResult {
  Done = 0, // RIP goes past the instruction
  Stop = 1, // the device stopped the VM (devices/bus.ts stopRequest*)
  Undecodable = 2, // not a memory move this emulator knows: the VM stops
}

const MASKS = [0, 0xff, 0xffff, 0, 0xffffffff];

/** Length of the decoded instruction (after emulateMmio returned Done). */
export let mmioInstructionLength = 0;

const readDevice = (vm: number, d: number, offset: number, size: number) => {
  const v = boardMmioRead(vm, d, offset, size);
  return v < 0 ? MASKS[size] : (size === 4 ? v >>> 0 : v & MASKS[size]); // reads of nothing float high
};

/** Sets register `r` (high byte: AH-BH) to a `size`-byte value lo:hi as a MOV would. */
const setRegister = (vcpu: number, r: number, high: boolean, size: number, lo: number, hi: number) => {
  const old = guestGprLo(vcpu, r);
  if (size === 8) setGuestGpr(vcpu, r, lo >>> 0, hi >>> 0);
  else if (size === 4) setGuestGpr(vcpu, r, lo >>> 0, 0);
  else if (high) setGuestGpr(vcpu, r, ((old & 0xffff00ff) | ((lo & 0xff) << 8)) >>> 0, guestGprHi(vcpu, r));
  else setGuestGpr(vcpu, r, ((old & ~MASKS[size]) | (lo & MASKS[size])) >>> 0, guestGprHi(vcpu, r));
};

/**
 * VM `vm`'s vCPU `vcpu` touched offset `offset` of device `d`'s MMIO range with the
 * instruction in bytes[0, available) (its code size `mode`: 16, 32, 64).
 */
export const emulateMmio = (vm: number, vcpu: number, d: number, offset: number, bytes: Uint8Array, available: number, mode: number) => {
  const len = instructionLength(bytes, 0, available, mode);
  const op = decodedOp;
  if (len === 0 || (op !== Op.MovLoad && op !== Op.MovStore && op !== Op.MovStoreImmediate && op !== Op.MovzxLoad)) return MmioResult.Undecodable;
  mmioInstructionLength = len;
  const size = memorySize;
  const part = size === 8 ? 4 : size;
  if (op === Op.MovLoad || op === Op.MovzxLoad) {
    const lo = readDevice(vm, d, offset, part);
    const hi = size === 8 ? readDevice(vm, d, offset + 4, 4) : 0;
    setRegister(vcpu, memoryRegister, memoryHighByte === 1, memoryTargetSize, lo, hi);
    return MmioResult.Done;
  }
  let lo = 0;
  let hi = 0;
  if (op === Op.MovStoreImmediate) {
    lo = memoryImmediate;
    hi = size === 8 && memoryImmediate >= 0x80000000 ? 0xffffffff : 0; // imm32 sign-extended
  } else {
    const r = guestGprLo(vcpu, memoryRegister);
    lo = memoryHighByte === 1 ? (r >>> 8) & 0xff : r;
    hi = guestGprHi(vcpu, memoryRegister);
  }
  if (boardMmioWrite(vm, d, offset, part, size === 4 ? lo >>> 0 : lo & MASKS[part]) === DeviceAction.Stop) return MmioResult.Stop;
  if (size === 8 && boardMmioWrite(vm, d, offset + 4, 4, hi >>> 0) === DeviceAction.Stop) return MmioResult.Stop;
  return MmioResult.Done;
};
