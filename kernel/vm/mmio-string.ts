// STOS and MOVS with a device's MMIO range at one end or both (SDM vol. 2 "STOS", "MOVS",
// "REP"): each element goes to or from the device (devices/board.ts, through
// mmio-device.ts) or guest RAM (through the guest's paging, guest-paging.ts), RSI/RDI step
// by the element size (backwards with RFLAGS.DF) in the address size, RCX counts down with
// REP. At most STRING_BATCH elements per exit, as INS/OUTS (exits.ts): an unfinished REP
// leaves RIP on the instruction and goes on at the next entry (it faults again).
import { dataAddress } from '../host/memory';
import { Gpr, Rflags } from '../lib/x86';
import { guestGprHi, guestGprLo, guestRflags, guestSegmentBaseHi, guestSegmentBaseLo, setGuestGpr } from '../vcpu/vcpu';
import { MmioForm, mmioAddressSize, mmioForm, mmioRep, mmioSegment, mmioSize } from './decode/mmio-instruction';
import { mmioDeviceAt, mmioOffset } from './devices/bus';
import { guestPhysical } from './guest-paging';
import { guestRead, guestWrite } from './guest-memory';
import { MmioResult, readDevice, writeDevice } from './mmio-device';

const STRING_BATCH = 1024;
const TWO_32 = 4294967296;

/** After emulateString: the instruction's length for RIP (0: the REP goes on), the faulting address for MmioResult.Fault. */
export let stringLength = 0;
export let stringFault = 0;

const element = new Uint8Array(8);
let elementAt = -1;
let valueLo = 0;
let valueHi = 0;
let gpa = 0; // where the last address went: guest-physical, -1 when the guest's paging does not map it
let linearHi = 0;
let linearLo = 0;

/** Guest-physical address of seg:reg (the address size cuts the register; in 64-bit mode only FS and GS have a base) into gpa. */
const translate = (slot: number, vcpu: number, segment: number, reg: number, addressSize: number, code64: boolean) => {
  const offLo = addressSize === 16 ? guestGprLo(vcpu, reg) & 0xffff : guestGprLo(vcpu, reg);
  const offHi = addressSize === 64 ? guestGprHi(vcpu, reg) : 0;
  const based = !code64 || segment >= 4;
  const sum = (based ? guestSegmentBaseLo(vcpu, segment) : 0) + offLo;
  linearLo = sum >>> 0;
  linearHi = code64 ? ((based ? guestSegmentBaseHi(vcpu, segment) : 0) + offHi + (sum >= TWO_32 ? 1 : 0)) >>> 0 : 0;
  gpa = guestPhysical(slot, vcpu, linearHi, linearLo);
};

/**
 * Moves a `size`-byte RAM element at gpa (linear linearHi:linearLo) to or from element[];
 * an element that crosses a page goes on at the next page's own translation. False when
 * a part is not mapped or not the VM's RAM (gpa then says where).
 */
const moveRam = (slot: number, vcpu: number, size: number, toGuest: boolean) => {
  if (elementAt < 0) elementAt = dataAddress(element);
  const inPage = 4096 - (linearLo & 0xfff);
  const first = inPage < size ? inPage : size;
  if (!(toGuest ? guestWrite(slot, gpa, elementAt, first) : guestRead(slot, gpa, elementAt, first))) return false;
  if (first === size) return true;
  const next = linearLo + first;
  gpa = guestPhysical(slot, vcpu, next >= TWO_32 ? (linearHi + 1) >>> 0 : linearHi, next >>> 0);
  if (gpa < 0) return false;
  return toGuest ? guestWrite(slot, gpa, elementAt + first, size - first) : guestRead(slot, gpa, elementAt + first, size - first);
};

const readRam = (slot: number, vcpu: number, size: number) => {
  for (let i = size; i < 8; i++) element[i] = 0;
  if (!moveRam(slot, vcpu, size, false)) return false;
  valueLo = element[0] + element[1] * 0x100 + element[2] * 0x10000 + element[3] * 0x1000000;
  valueHi = element[4] + element[5] * 0x100 + element[6] * 0x10000 + element[7] * 0x1000000;
  return true;
};

const writeRam = (slot: number, vcpu: number, size: number) => {
  for (let i = 0; i < 4; i++) {
    element[i] = (valueLo >>> (i * 8)) & 0xff;
    element[4 + i] = (valueHi >>> (i * 8)) & 0xff;
  }
  return moveRam(slot, vcpu, size, true);
};

/** Register `r` plus `delta` in the address size (16: the low word only; 32: zero-extended). */
const stepRegister = (vcpu: number, r: number, delta: number, addressSize: number) => {
  const lo = guestGprLo(vcpu, r);
  const hi = guestGprHi(vcpu, r);
  if (addressSize === 16) setGuestGpr(vcpu, r, ((lo & 0xffff0000) | ((lo + delta) & 0xffff)) >>> 0, hi);
  else if (addressSize === 32) setGuestGpr(vcpu, r, (lo + delta) >>> 0, 0);
  else {
    const sum = lo + delta;
    setGuestGpr(vcpu, r, sum >>> 0, sum >= TWO_32 ? (hi + 1) >>> 0 : sum < 0 ? (hi - 1) >>> 0 : hi);
  }
};

const fault = () => {
  stringFault = gpa;
  return MmioResult.Fault;
};

/** STOS or MOVS (as decodeMmio left it) of VM `slot`'s vCPU `vcpu`, `length` bytes long. */
export const emulateString = (slot: number, vcpu: number, length: number, mode: number) => {
  stringLength = length;
  stringFault = 0;
  const size = mmioSize;
  const addressSize = mmioAddressSize;
  const movs = mmioForm === MmioForm.Movs;
  const code64 = mode === 64;
  const delta = (guestRflags(vcpu) & Rflags.DF) !== 0 ? -size : size;
  const rep = mmioRep === 1;
  let count = 1;
  if (rep) {
    const rcx = guestGprLo(vcpu, Gpr.Rcx);
    count = addressSize === 16 ? rcx & 0xffff : addressSize === 32 || guestGprHi(vcpu, Gpr.Rcx) === 0 ? rcx : STRING_BATCH + 1;
  }
  const part = size === 8 ? 4 : size;
  let done = 0;
  while (done < count && done < STRING_BATCH) {
    // the source: the device or RAM at seg:rSI (MOVS), or rAX (STOS)
    if (movs) {
      translate(slot, vcpu, mmioSegment, Gpr.Rsi, addressSize, code64);
      if (gpa < 0) return fault();
      const d = mmioDeviceAt(gpa);
      if (d >= 0) {
        const offset = mmioOffset();
        valueLo = readDevice(slot, d, offset, part);
        valueHi = size === 8 ? readDevice(slot, d, offset + 4, 4) : 0;
      } else if (!readRam(slot, vcpu, size)) return fault();
    } else {
      const rax = guestGprLo(vcpu, Gpr.Rax);
      valueLo = size === 1 ? rax & 0xff : size === 2 ? rax & 0xffff : rax;
      valueHi = size === 8 ? guestGprHi(vcpu, Gpr.Rax) : 0;
    }
    // the destination: ES:rDI (no override)
    translate(slot, vcpu, 0, Gpr.Rdi, addressSize, code64);
    if (gpa < 0) return fault();
    const d = mmioDeviceAt(gpa);
    let going = true;
    if (d >= 0) going = writeDevice(slot, d, mmioOffset(), size, valueLo, valueHi);
    else if (!writeRam(slot, vcpu, size)) return fault();
    if (movs) stepRegister(vcpu, Gpr.Rsi, delta, addressSize);
    stepRegister(vcpu, Gpr.Rdi, delta, addressSize);
    if (rep) stepRegister(vcpu, Gpr.Rcx, -1, addressSize);
    done++;
    if (!going) {
      stringLength = length; // the device stopped the VM: past the instruction, as OUTS does
      return MmioResult.Stop;
    }
  }
  stringLength = done >= count ? length : 0;
  return MmioResult.Done;
};
