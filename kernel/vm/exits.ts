// The shared exit dispatch: what Zerovisor does for each vendor-neutral ExitReason.
// Instruction lengths come from the hardware where it says them (SVM IOIO's EXITINFO2,
// NRIPS) and otherwise from decoding the guest's bytes at RIP (paging off: CS.base + RIP
// is guest-physical). Port I/O goes to the devices on the VM's bus (devices/board.ts,
// devices/bus.ts); the MSRs emulated here keep their state with the vCPU (vcpu-msrs.ts).
import { dataAddress } from '../host/memory';
import { ExitReason } from '../vcpu/exit-reason';
import {
  advanceGuestRip, exitCode, faultAddress, guestCodeSize, guestEferLo, guestGprHi, guestGprLo, guestMsrHeld, guestMsrHi,
  guestMsrLo, guestRflags, guestRip, guestRipHi, guestRipLo, guestSegmentBaseHi, guestSegmentBaseLo, hardwareInstructionLength,
  injectException, ioInstructionLength, ioIsIn, ioIsRep, ioIsString, ioPort, ioSize, msrIsWrite, setGuestAbcd,
  setGuestEferLo, setGuestGpr, setGuestMsr,
} from '../vcpu/vcpu';
import { guestCpuidAnswer } from './cpuid-policy';
import { MsrAccess, msrAccess, MSR_APIC_BASE, MSR_EFER, MSR_MISC_ENABLE, MSR_MTRR_CAP, MSR_MTRR_DEF_TYPE, MSR_TSC } from './msr-policy';
import { guestRead, guestWrite } from './guest-memory';
import { StopReason, vmDeniedMsrs, vmUnknownPorts } from './vm-table';
import {
  addressSize as decodedAddressSize, decodedOp, instructionLength, ioRep as decodedRep, ioSegment as decodedSegment, Op,
} from './decode/instruction-length';
import { guestPhysical } from './guest-paging';
import { DeviceAction, stopRequestDetail, stopRequestReason } from './devices/bus';
import { boardPortRead, boardPortWrite } from './devices/board';
import { mmioDeviceAt, mmioOffset } from './devices/bus';
import { emulateMmio, mmioInstructionLength, MmioResult } from './mmio-access';
import { mtrrDefTypeOf, resetVcpuMsrs, setMtrrDefType } from './vcpu-msrs';
import { ticksSinceBoot } from '../lib/clock';
import { countNripsMismatch } from './vm-metrics';
import { Category, Level, logQuiet } from '../diag/log';
import { dirtyLogFault } from './dirty-log';

export const enum ExitAction {
  Continue = 0,
  Yield = 1, // the vCPU waits (HLT with interrupts on): run something else
  Stop = 2, // stopReason/stopDetail say why
}

/** Set when a handler returns ExitAction.Stop. */
export let stopReason = StopReason.None;
export let stopDetail = 0;

const fetchBuf = new Uint8Array(16);
let fetchAddr = -1;

const stop = (reason: number, detail: number) => {
  stopReason = reason;
  stopDetail = detail;
  return ExitAction.Stop;
};

/** Fetches up to 15 bytes at CS:RIP into fetchBuf, through the guest's paging; how many. */
const fetchAtRip = (slot: number) => {
  if (fetchAddr < 0) fetchAddr = dataAddress(fetchBuf);
  const size = guestCodeSize();
  let hi = 0;
  let lo = 0;
  if (size === 64) {
    hi = guestRipHi(); // CS.base is 0 in 64-bit mode (SDM vol. 3A 3.4.4)
    lo = guestRipLo();
  } else lo = (guestSegmentBaseLo(1) + (size === 16 ? guestRipLo() & 0xffff : guestRipLo())) >>> 0;
  const inPage = 4096 - (lo & 0xfff);
  const first = inPage < 15 ? inPage : 15;
  const gpa = guestPhysical(slot, hi, lo);
  if (gpa < 0) return 0;
  let n = first;
  while (n > 0 && !guestRead(slot, gpa, fetchAddr, n)) n--;
  if (n < first || first === 15) return n;
  // the instruction may go on in the next page
  const nextLo = lo + first;
  const next = guestPhysical(slot, nextLo > 0xffffffff && size === 64 ? (hi + 1) >>> 0 : hi, nextLo >>> 0);
  if (next < 0) return first;
  let m = 15 - first;
  while (m > 0 && !guestRead(slot, next, fetchAddr + first, m)) m--;
  return first + m;
};

/** The decoded length of the guest instruction at RIP, or 0. */
const decodedLength = (slot: number) => {
  const n = fetchAtRip(slot);
  if (n === 0) return 0;
  // the exits' own instructions without prefixes, the usual case: CPUID 0F A2, RDMSR 0F 32,
  // WRMSR 0F 30 (SDM vol. 2 opcode map A-3); HLT F4, VMMCALL 0F 01 D9 fall to the decoder
  const b1 = fetchBuf[1];
  if (fetchBuf[0] === 0x0f && n >= 2 && (b1 === 0xa2 || b1 === 0x32 || b1 === 0x30)) return 2;
  return instructionLength(fetchBuf, 0, n, guestCodeSize());
};

/** Length of the instruction at RIP: the hardware's where it says it (NRIPS), else decoded; 0 if unknown. */
const currentLength = (slot: number) => {
  const decoded = decodedLength(slot);
  const hardware = hardwareInstructionLength();
  if (hardware === 0) return decoded;
  // both sources: they must agree (where decoding is possible at all)
  if (decoded > 0 && decoded !== hardware) {
    countNripsMismatch();
    logQuiet(Level.Warn, Category.Cpu, 'vm.nripsMismatch', slot + 1, guestRip(), hardware, decoded);
  }
  return hardware;
};

const advance = (slot: number) => {
  const len = currentLength(slot);
  if (len === 0) return false;
  advanceGuestRip(len);
  return true;
};

/** Past an I/O instruction: the hardware gives its length for I/O exits. */
const advanceIo = (slot: number) => {
  const len = ioInstructionLength();
  if (len > 0) advanceGuestRip(len);
  else advance(slot);
};

const onCpuid = (slot: number, vcpu: number) => {
  const at = guestCpuidAnswer(guestGprLo(vcpu, 0), guestGprLo(vcpu, 1));
  setGuestAbcd(vcpu, Porffor.wasm.i32.load(at, 0, 0) >>> 0, Porffor.wasm.i32.load(at, 0, 4) >>> 0,
    Porffor.wasm.i32.load(at, 0, 8) >>> 0, Porffor.wasm.i32.load(at, 0, 12) >>> 0);
  return advance(slot) ? ExitAction.Continue : stop(StopReason.UnsupportedInstruction, 0xa20f);
};

/** IN's result: AL/AX keep the rest of RAX; a 32-bit EAX write zero-extends (SDM vol. 1 3.4.1.1). */
const setInResult = (vcpu: number, rax: number, value: number, size: number) => {
  if (size === 4) setGuestGpr(vcpu, 0, value >>> 0, 0);
  else {
    const mask = size === 1 ? 0xff : 0xffff;
    setGuestGpr(vcpu, 0, ((rax & ~mask) | (value & mask)) >>> 0, guestGprHi(vcpu, 0));
  }
};

/** A new vCPU starts clean: the MSRs emulated here at power-on. */
export const resetExitState = (vcpu: number) => {
  resetVcpuMsrs(vcpu);
};

const ALL_ONES = [0, 0xff, 0xffff, 0, 0xffffffff];

/** What VM `slot` reads from `port` (size 1, 2, 4): its device's answer, all ones where none is. */
const portRead = (slot: number, port: number, size: number) => {
  const value = boardPortRead(slot, port, size);
  if (value < 0) {
    vmUnknownPorts[slot]++;
    return ALL_ONES[size]; // reads of nothing float high
  }
  return size === 4 ? value >>> 0 : value & ALL_ONES[size];
};

/** VM `slot` writes `value` (size bytes) to `port`; false when that stops the VM (stopReason set). */
const portWrite = (slot: number, port: number, size: number, value: number) => {
  const action = boardPortWrite(slot, port, size, value);
  if (action < 0) vmUnknownPorts[slot]++;
  else if (action === DeviceAction.Stop) {
    stop(stopRequestReason(), stopRequestDetail());
    return false;
  }
  return true;
};

// IOIO EXITINFO1 (APM vol. 2 section 15.10.2): bit 0 IN, 2 string, 3 REP, 4-6 size, 7-9 address size, 16-31 port.
const onIo = (slot: number, vcpu: number) => {
  const input = ioIsIn();
  const port = ioPort();
  const size = ioSize();
  if (ioIsString()) return onStringIo(slot, vcpu, input, port, size);
  const rax = guestGprLo(vcpu, 0);
  if (input) setInResult(vcpu, rax, portRead(slot, port, size), size);
  const going = input || portWrite(slot, port, size, rax);
  advanceIo(slot); // also past the write that stopped the VM
  return going ? ExitAction.Continue : ExitAction.Stop;
};

// ---- INS/OUTS (SDM vol. 2 "INS", "OUTS"; APM vol. 3): memory at ES:rDI / seg:rSI ----

const STRING_BATCH = 1024; // transfers per exit at most; a REP then runs again from where it is
const stringBytes = new Uint8Array(4);
let stringAt = -1;

/** Moves one element between guest memory at linear hi:lo and stringBytes; false when not mapped or not the VM's. */
const moveElement = (slot: number, hi: number, lo: number, size: number, toGuest: boolean) => {
  if (stringAt < 0) stringAt = dataAddress(stringBytes);
  for (let i = 0; i < size; i++) {
    // byte by byte: an element may straddle two pages
    const l = lo + i;
    const gpa = guestPhysical(slot, l > 0xffffffff ? (hi + 1) >>> 0 : hi, l >>> 0);
    if (gpa < 0) return false;
    if (toGuest ? !guestWrite(slot, gpa, stringAt + i, 1) : !guestRead(slot, gpa, stringAt + i, 1)) return false;
  }
  return true;
};

/** Register `r` of `vcpu` after adding `delta` (+/- element size) in an address size of 16, 32 or 64 bits. */
const stepRegister = (vcpu: number, r: number, delta: number, addressSize: number) => {
  const lo = guestGprLo(vcpu, r);
  const hi = guestGprHi(vcpu, r);
  if (addressSize === 16) {
    setGuestGpr(vcpu, r, ((lo & 0xffff0000) | ((lo + delta) & 0xffff)) >>> 0, hi);
  } else if (addressSize === 32) {
    setGuestGpr(vcpu, r, (lo + delta) >>> 0, 0); // a 32-bit register write zero-extends
  } else {
    const sum = lo + delta;
    setGuestGpr(vcpu, r, sum >>> 0, sum > 0xffffffff ? (hi + 1) >>> 0 : sum < 0 ? (hi - 1) >>> 0 : hi);
  }
};

const onStringIo = (slot: number, vcpu: number, input: boolean, port: number, size: number) => {
  // The instruction itself says the address size and, for OUTS, the segment (INS always
  // writes ES:rDI): SVM gives them only with decode assists (QEMU TCG leaves EXITINFO1's
  // address-size bits clear), so it is decoded, through the guest's paging.
  const n = fetchAtRip(slot);
  if (n === 0 || instructionLength(fetchBuf, 0, n, guestCodeSize()) === 0 || decodedOp !== (input ? Op.Ins : Op.Outs)) {
    return stop(StopReason.UnsupportedInstruction, port);
  }
  const addressSize = decodedAddressSize;
  const rep = ioIsRep() || decodedRep === 1;
  const segment = decodedSegment;
  const code64 = guestCodeSize() === 64;
  const based = !code64 || segment >= 4; // in 64-bit mode only FS and GS have a base
  const baseLo = based ? guestSegmentBaseLo(segment) : 0;
  const baseHi = based && code64 ? guestSegmentBaseHi(segment) : 0;
  const reg = input ? 7 : 6;
  const delta = (guestRflags() & 0x400) !== 0 ? -size : size; // DF
  let count = 1;
  if (rep) {
    const rcx = guestGprLo(vcpu, 1);
    count = addressSize === 16 ? rcx & 0xffff : addressSize === 32 || guestGprHi(vcpu, 1) === 0 ? rcx : STRING_BATCH + 1;
  }
  let done = 0;
  while (done < count && done < STRING_BATCH) {
    const offLo = addressSize === 16 ? guestGprLo(vcpu, reg) & 0xffff : guestGprLo(vcpu, reg);
    const offHi = addressSize === 64 ? guestGprHi(vcpu, reg) : 0;
    const sum = baseLo + offLo;
    const lo = sum >>> 0;
    const hi = code64 ? (baseHi + offHi + (sum > 0xffffffff ? 1 : 0)) >>> 0 : 0;
    let going = true;
    if (input) {
      const value = portRead(slot, port, size);
      for (let i = 0; i < size; i++) stringBytes[i] = (value >>> (i * 8)) & 0xff;
      if (!moveElement(slot, hi, lo, size, true)) return stop(StopReason.UnsupportedInstruction, port);
    } else {
      if (!moveElement(slot, hi, lo, size, false)) return stop(StopReason.UnsupportedInstruction, port);
      going = portWrite(slot, port, size, stringBytes[0] + stringBytes[1] * 0x100 + stringBytes[2] * 0x10000 + stringBytes[3] * 0x1000000);
    }
    stepRegister(vcpu, reg, delta, addressSize);
    if (rep) stepRegister(vcpu, 1, -1, addressSize);
    done++;
    if (!going) {
      advanceIo(slot);
      return ExitAction.Stop;
    }
  }
  if (done >= count) advanceIo(slot); // else RIP stays: the REP goes on at the next entry
  return ExitAction.Continue;
};

const denyMsr = (slot: number, index: number, write: boolean) => {
  vmDeniedMsrs[slot]++;
  logQuiet(Level.Info, Category.Cpu, write ? 'vm.msrWriteDenied' : 'vm.msrReadDenied', slot + 1, index);
  injectException(13, 0); // #GP(0), RIP stays on the instruction
  return ExitAction.Continue;
};

const msrValue = new Uint32Array(2);

const onMsr = (slot: number, vcpu: number) => {
  const write = msrIsWrite();
  const index = guestGprLo(vcpu, 1);
  if (msrAccess(index, write) === MsrAccess.Denied) return denyMsr(slot, index, write);
  const lo = guestGprLo(vcpu, 0);
  const hi = guestGprLo(vcpu, 2);
  const held = guestMsrHeld(index);
  if (write) {
    if (index === MSR_EFER) setGuestEferLo((lo & 0xd01) >>> 0); // SCE, LME, NXE as asked
    else if (index === MSR_MTRR_DEF_TYPE) setMtrrDefType(vcpu, lo);
    else if (held) setGuestMsr(index, lo, hi);
  } else {
    msrValue[0] = 0;
    msrValue[1] = 0;
    if (index === MSR_EFER) msrValue[0] = guestEferLo() & ~0x1000; // SVME is the host's
    else if (index === MSR_APIC_BASE) msrValue[0] = 0xfee00900; // BSP, enabled, default base
    else if (index === MSR_MISC_ENABLE) msrValue[0] = 1;
    else if (index === MSR_MTRR_CAP) msrValue[0] = 0;
    else if (index === MSR_MTRR_DEF_TYPE) msrValue[0] = mtrrDefTypeOf(vcpu);
    else if (index === MSR_TSC) {
      const t = ticksSinceBoot();
      msrValue[1] = Math.floor(t / 4294967296) >>> 0;
      msrValue[0] = (t - msrValue[1] * 4294967296) >>> 0;
    } else if (held) {
      msrValue[0] = guestMsrLo(index);
      msrValue[1] = guestMsrHi(index);
    }
    setGuestGpr(vcpu, 0, msrValue[0], 0);
    setGuestGpr(vcpu, 2, msrValue[1], 0);
  }
  return advance(slot) ? ExitAction.Continue : stop(StopReason.UnsupportedInstruction, 0x320f);
};

const onHlt = (slot: number) => {
  if ((guestRflags() & 0x200) === 0) return stop(StopReason.HaltedWithInterruptsOff, guestRip());
  if (!advance(slot)) return stop(StopReason.UnsupportedInstruction, 0xf4);
  return ExitAction.Yield;
};

const onHypercall = (slot: number, vcpu: number) => {
  setGuestGpr(vcpu, 0, 0xffffffff, 0xffffffff); // no hypercalls yet: -1 (unsupported)
  return advance(slot) ? ExitAction.Continue : stop(StopReason.UnsupportedInstruction, 0xd9010f);
};

/** Outside the VM's RAM: a device's MMIO range (the access is emulated), or memory the VM does not own (it stops). */
const onNestedPageFault = (slot: number, vcpu: number, gpa: number) => {
  const d = mmioDeviceAt(gpa);
  if (d < 0) return stop(StopReason.NestedPageFault, gpa);
  const offset = mmioOffset();
  const n = fetchAtRip(slot);
  const result = n === 0 ? MmioResult.Undecodable : emulateMmio(slot, vcpu, d, offset, fetchBuf, n, guestCodeSize());
  if (result === MmioResult.Undecodable) return stop(StopReason.UnsupportedInstruction, gpa);
  advanceGuestRip(mmioInstructionLength);
  if (result === MmioResult.Stop) return stop(stopRequestReason(), stopRequestDetail());
  return ExitAction.Continue;
};

/** Handles one exit of VM `slot`'s vCPU `vcpu`. */
export const handleExit = (slot: number, vcpu: number, reason: number) => {
  switch (reason) {
    case ExitReason.Cpuid:
      return onCpuid(slot, vcpu);
    case ExitReason.Io:
      return onIo(slot, vcpu);
    case ExitReason.Msr:
      return onMsr(slot, vcpu);
    case ExitReason.Hlt:
      return onHlt(slot);
    case ExitReason.Hypercall:
      return onHypercall(slot, vcpu);
    case ExitReason.ExternalInterrupt:
      return ExitAction.Yield; // a host interrupt: let the host run (time slice)
    case ExitReason.NestedPageFault:
      // a write to a page the dirty log write-protected: noted, writable again, the guest retries
      if (dirtyLogFault(slot, faultAddress())) return ExitAction.Continue;
      return onNestedPageFault(slot, vcpu, faultAddress());
    case ExitReason.Shutdown:
      return stop(StopReason.TripleFault, guestRip());
    case ExitReason.InvalidState:
      return stop(StopReason.InvalidState, 0);
  }
  return stop(StopReason.UnexpectedExit, exitCode());
};
