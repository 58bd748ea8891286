// The device side of MMIO emulation (mmio-access.ts, mmio-string.ts): accesses of 1, 2 or 4
// bytes to a device's range through the board (devices/board.ts); an 8-byte access is two
// 4-byte ones, low half first. Reads of nothing float high (all ones).
import { DeviceAction } from './devices/bus';
import { boardMmioRead, boardMmioWrite } from './devices/board';

export const enum MmioResult {
  Done = 0, // RIP goes past the instruction (mmioInstructionLength; 0: a REP goes on, RIP stays)
  Stop = 1, // the device stopped the VM (devices/bus.ts stopRequest*)
  Undecodable = 2, // not an instruction this emulator knows: the VM stops
  Fault = 3, // STOS/MOVS touched guest memory that is not mapped or not the VM's (mmioFaultAddress)
}

const MASKS = [0, 0xff, 0xffff, 0, 0xffffffff];

/** A `size`-byte (1, 2, 4) read of device `d` at `offset`. */
export const readDevice = (vm: number, d: number, offset: number, size: number) => {
  const v = boardMmioRead(vm, d, offset, size);
  return v < 0 ? MASKS[size] : (size === 4 ? v >>> 0 : v & MASKS[size]);
};

/** Writes `size` bytes lo:hi (size 8: two 4-byte writes, low first); false when the device stopped the VM. */
export const writeDevice = (vm: number, d: number, offset: number, size: number, lo: number, hi: number) => {
  const part = size === 8 ? 4 : size;
  if (boardMmioWrite(vm, d, offset, part, part === 4 ? lo >>> 0 : lo & MASKS[part]) === DeviceAction.Stop) return false;
  return size !== 8 || boardMmioWrite(vm, d, offset + 4, 4, hi >>> 0) !== DeviceAction.Stop;
};
