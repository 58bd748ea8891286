// The shared exit dispatch: what Zerovisor does for each vendor-neutral ExitReason. It reads
// the vCPU's exit record and register file (kernel/vcpu/vcpu-area.ts, through vcpu.ts) and
// writes back through the same interface, naming the vCPU each time.
// Instruction lengths come from the hardware where it says them (VMX, SVM IOIO's EXITINFO2,
// NRIPS) and otherwise from decoding the guest's bytes at RIP (paging off: CS.base + RIP
// is guest-physical); where an exit is decoded anyway (INS/OUTS) and the hardware gives a
// length too, the two must agree. Port I/O goes to the devices on the VM's bus
// (devices/board.ts, devices/bus.ts), and so do accesses to their MMIO ranges
// (mmio-access.ts); the MSRs emulated here keep their state with the vCPU (vcpu-msrs.ts).
import { dataAddress } from '../host/memory';
import { ExitReason } from '../vcpu/exit-reason';
import {
  advanceGuestRip, exitCode, faultAddress, guestCodeSize, guestCr0, guestEferLo, guestGprHi, guestGprLo, guestMsrHeld, guestMsrHi,
  guestMsrLo, guestRflags, guestRip, guestRipHi, guestRipLo, guestSegmentBaseHi, guestSegmentBaseLo, hardwareInstructionLength,
  injectException, ioIsIn, ioIsRep, ioIsString, ioPort, ioSize, msrIsWrite, setGuestAbcd,
  setGuestEferLo, setGuestGpr, setGuestMsr,
} from '../vcpu/vcpu';
import { Cr0, Efer, Gpr, Msr, Rflags, Vector } from '../lib/x86';
import { guestCpuidAnswer } from './cpuid-policy';
import { MsrAccess, msrAccess } from './msr-policy';
import { guestRead, guestWrite } from './guest-memory';
import { StopReason, vmDeniedMsrs, vmUnknownPorts } from './vm-table';
import {
  addressSize as decodedAddressSize, decodedOp, instructionLength, ioRep as decodedRep, ioSegment as decodedSegment, Op,
} from './decode/instruction-length';
import { guestPhysical } from './guest-paging';
import { DeviceAction, mmioDeviceAt, mmioOffset, stopRequestDetail, stopRequestReason } from './devices/bus';
import { boardPortRead, boardPortWrite } from './devices/board';
import { emulateMmio, mmioFaultAddress, mmioInstructionLength } from './mmio-access';
import { MmioResult } from './mmio-device';
import { mtrrDefTypeOf, resetVcpuMsrs, setMtrrDefType } from './vcpu-msrs';
import { countNripsMismatch } from './vm-metrics';
import { Category, Level, logQuiet } from '../diag/log';
import { dirtyLogFault } from './dirty-log';
import { lapicMsrHi, lapicMsrLo, lapicMsrRead, lapicMsrWrite } from './devices/lapic';
import { ioapicEoi } from './devices/ioapic';
import { markDeviceActivity } from './devices/bus';
import { guestTsc } from './guest-clock';

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

/** With an UnsupportedInstruction stop at an MMIO access: the instruction's first bytes (stopByteCount of them, up to 8). */
export const stopBytes = new Uint8Array(8);
export let stopByteCount = 0;

const stop = (reason: number, detail: number) => {
  stopReason = reason;
  stopDetail = detail;
  stopByteCount = 0;
  return ExitAction.Stop;
};

/** Fetches up to 15 bytes at CS:RIP into fetchBuf, through the guest's paging; how many. */
const fetchAtRip = (slot: number, vcpu: number) => {
  if (fetchAddr < 0) fetchAddr = dataAddress(fetchBuf);
  const size = guestCodeSize(vcpu);
  let hi = 0;
  let lo = 0;
  if (size === 64) {
    hi = guestRipHi(vcpu); // CS.base is 0 in 64-bit mode (SDM vol. 3A 3.4.4)
    lo = guestRipLo(vcpu);
  } else lo = (guestSegmentBaseLo(vcpu, 1) + (size === 16 ? guestRipLo(vcpu) & 0xffff : guestRipLo(vcpu))) >>> 0;
  const inPage = 4096 - (lo & 0xfff);
  const first = inPage < 15 ? inPage : 15;
  const gpa = guestPhysical(slot, vcpu, hi, lo);
  if (gpa < 0) return 0;
  let n = first;
  while (n > 0 && !guestRead(slot, gpa, fetchAddr, n)) n--;
  if (n < first || first === 15) return n;
  // the instruction may go on in the next page
  const nextLo = lo + first;
  const next = guestPhysical(slot, vcpu, nextLo > 0xffffffff && size === 64 ? (hi + 1) >>> 0 : hi, nextLo >>> 0);
  if (next < 0) return first;
  let m = 15 - first;
  while (m > 0 && !guestRead(slot, next, fetchAddr + first, m)) m--;
  return first + m;
};

/** The decoded length of the guest instruction at RIP, or 0. */
const decodedLength = (slot: number, vcpu: number) => {
  const n = fetchAtRip(slot, vcpu);
  if (n === 0) return 0;
  // the exits' own instructions without prefixes, the usual case: CPUID 0F A2, RDMSR 0F 32,
  // WRMSR 0F 30 (SDM vol. 2 opcode map A-3); HLT F4, VMMCALL 0F 01 D9 fall to the decoder
  const b1 = fetchBuf[1];
  if (fetchBuf[0] === 0x0f && n >= 2 && (b1 === 0xa2 || b1 === 0x32 || b1 === 0x30)) return 2;
  return instructionLength(fetchBuf, 0, n, guestCodeSize(vcpu));
};

/**
 * Where the hardware gives the length (NRIPS, VMX), the decoder must give the same: a
 * different length, or none (it could not decode the instruction), is counted and logged.
 */
const checkLength = (slot: number, vcpu: number, decoded: number) => {
  const hardware = hardwareInstructionLength(vcpu);
  if (hardware === 0 || decoded === hardware) return;
  countNripsMismatch();
  if (decoded === 0) logQuiet(Level.Warn, Category.Cpu, 'vm.nripsUndecoded', slot + 1, guestRip(vcpu), hardware);
  else logQuiet(Level.Warn, Category.Cpu, 'vm.nripsMismatch', slot + 1, guestRip(vcpu), hardware, decoded);
};

/** RIP past the exiting instruction by `len` bytes; false if the length is unknown (0). */
const advanceBy = (vcpu: number, len: number) => {
  if (len === 0) return false;
  advanceGuestRip(vcpu, len);
  return true;
};

/** RIP past the exiting instruction: the hardware's length, checked against the decoder's; else decoded. */
const advance = (slot: number, vcpu: number) => {
  const hardware = hardwareInstructionLength(vcpu);
  const decoded = decodedLength(slot, vcpu);
  checkLength(slot, vcpu, decoded);
  return advanceBy(vcpu, hardware !== 0 ? hardware : decoded);
};

/** CPUID, the exit benchmarked on every back end, pays for no cross-check where the hardware says the length. */
const advancePastCpuid = (slot: number, vcpu: number) => {
  const hardware = hardwareInstructionLength(vcpu);
  return advanceBy(vcpu, hardware !== 0 ? hardware : decodedLength(slot, vcpu));
};

const onCpuid = (slot: number, vcpu: number) => {
  const at = guestCpuidAnswer(guestGprLo(vcpu, 0), guestGprLo(vcpu, 1));
  setGuestAbcd(vcpu, Porffor.wasm.i32.load(at, 0, 0) >>> 0, Porffor.wasm.i32.load(at, 0, 4) >>> 0,
    Porffor.wasm.i32.load(at, 0, 8) >>> 0, Porffor.wasm.i32.load(at, 0, 12) >>> 0);
  return advancePastCpuid(slot, vcpu) ? ExitAction.Continue : stop(StopReason.UnsupportedInstruction, 0xa20f);
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

// The record's I/O access (port, size, direction, string, REP): kernel/vcpu/vcpu-area.ts Rec.Access.
const onIo = (slot: number, vcpu: number) => {
  const input = ioIsIn(vcpu);
  const port = ioPort(vcpu);
  const size = ioSize(vcpu);
  if (ioIsString(vcpu)) return onStringIo(slot, vcpu, input, port, size);
  const rax = guestGprLo(vcpu, 0);
  if (input) setInResult(vcpu, rax, portRead(slot, port, size), size);
  const going = input || portWrite(slot, port, size, rax);
  advance(slot, vcpu); // also past the write that stopped the VM
  return going ? ExitAction.Continue : ExitAction.Stop;
};

// ---- INS/OUTS (SDM vol. 2 "INS", "OUTS"; APM vol. 3): memory at ES:rDI / seg:rSI ----

const STRING_BATCH = 1024; // transfers per exit at most; a REP then runs again from where it is
const stringBytes = new Uint8Array(4);
let stringAt = -1;

/** Moves one element between guest memory at linear hi:lo and stringBytes; false when not mapped or not the VM's. */
const moveElement = (slot: number, vcpu: number, hi: number, lo: number, size: number, toGuest: boolean) => {
  if (stringAt < 0) stringAt = dataAddress(stringBytes);
  for (let i = 0; i < size; i++) {
    // byte by byte: an element may straddle two pages
    const l = lo + i;
    const gpa = guestPhysical(slot, vcpu, l > 0xffffffff ? (hi + 1) >>> 0 : hi, l >>> 0);
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
  const n = fetchAtRip(slot, vcpu);
  const length = n === 0 ? 0 : instructionLength(fetchBuf, 0, n, guestCodeSize(vcpu));
  if (length === 0 || decodedOp !== (input ? Op.Ins : Op.Outs)) {
    return stop(StopReason.UnsupportedInstruction, port);
  }
  checkLength(slot, vcpu, length);
  const past = hardwareInstructionLength(vcpu) > 0 ? hardwareInstructionLength(vcpu) : length;
  const addressSize = decodedAddressSize;
  const rep = ioIsRep(vcpu) || decodedRep === 1;
  const segment = decodedSegment;
  const code64 = guestCodeSize(vcpu) === 64;
  const based = !code64 || segment >= 4; // in 64-bit mode only FS and GS have a base
  const baseLo = based ? guestSegmentBaseLo(vcpu, segment) : 0;
  const baseHi = based && code64 ? guestSegmentBaseHi(vcpu, segment) : 0;
  const reg = input ? Gpr.Rdi : Gpr.Rsi;
  const delta = (guestRflags(vcpu) & Rflags.DF) !== 0 ? -size : size;
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
      if (!moveElement(slot, vcpu, hi, lo, size, true)) return stop(StopReason.UnsupportedInstruction, port);
    } else {
      if (!moveElement(slot, vcpu, hi, lo, size, false)) return stop(StopReason.UnsupportedInstruction, port);
      going = portWrite(slot, port, size, stringBytes[0] + stringBytes[1] * 0x100 + stringBytes[2] * 0x10000 + stringBytes[3] * 0x1000000);
    }
    stepRegister(vcpu, reg, delta, addressSize);
    if (rep) stepRegister(vcpu, 1, -1, addressSize);
    done++;
    if (!going) {
      advanceGuestRip(vcpu, past);
      return ExitAction.Stop;
    }
  }
  if (done >= count) advanceGuestRip(vcpu, past); // else RIP stays: the REP goes on at the next entry
  return ExitAction.Continue;
};

const denyMsr = (slot: number, vcpu: number, index: number, write: boolean) => {
  vmDeniedMsrs[slot]++;
  logQuiet(Level.Info, Category.Cpu, write ? 'vm.msrWriteDenied' : 'vm.msrReadDenied', slot + 1, index);
  injectException(vcpu, Vector.GeneralProtection, 0); // #GP(0), RIP stays on the instruction
  return ExitAction.Continue;
};

const msrValue = new Uint32Array(2);

/**
 * Whether a WRMSR of EFER's low half `lo` changes LME while the guest has paging on: a #GP(0)
 * on the processor (SDM vol. 3A 10.8.5, APM vol. 2 14.6), and a state no VM entry would take
 * (LME must equal LMA with paging on, SDM 26.3.1.1).
 */
const lmeChangeWithPaging = (vcpu: number, lo: number) =>
  (guestCr0(vcpu) & Cr0.PG) !== 0 && ((lo ^ guestEferLo(vcpu)) & Efer.LME) !== 0;

/** RDMSR/WRMSR of the vCPU's local APIC (APIC base, TSC deadline, x2APIC); a refused one is #GP(0) (SDM 11.12.1.2). */
const onApicMsr = (slot: number, vcpu: number, index: number, write: boolean) => {
  const now = guestTsc(slot);
  markDeviceActivity(slot); // its timer or pending interrupts may have changed
  if (write) {
    const result = lapicMsrWrite(vcpu, index, guestGprLo(vcpu, 0), guestGprLo(vcpu, 2), now);
    if (result === -2) return denyMsr(slot, vcpu, index, write);
    if (result >= 0) ioapicEoi(slot, result, now); // EOI of a level-triggered vector, broadcast
  } else {
    if (!lapicMsrRead(vcpu, index, now)) return denyMsr(slot, vcpu, index, write);
    setGuestGpr(vcpu, 0, lapicMsrLo >>> 0, 0);
    setGuestGpr(vcpu, 2, lapicMsrHi >>> 0, 0);
  }
  return advance(slot, vcpu) ? ExitAction.Continue : stop(StopReason.UnsupportedInstruction, 0x320f);
};

const onMsr = (slot: number, vcpu: number) => {
  const write = msrIsWrite(vcpu);
  const index = guestGprLo(vcpu, 1);
  const access = msrAccess(index, write);
  if (access === MsrAccess.Denied) return denyMsr(slot, vcpu, index, write);
  if (access === MsrAccess.Apic) return onApicMsr(slot, vcpu, index, write);
  const lo = guestGprLo(vcpu, 0);
  const hi = guestGprLo(vcpu, 2);
  const held = guestMsrHeld(index);
  if (write) {
    if (index === Msr.Efer && lmeChangeWithPaging(vcpu, lo)) {
      injectException(vcpu, Vector.GeneralProtection, 0); // #GP(0), RIP stays on the WRMSR
      return ExitAction.Continue;
    }
    if (index === Msr.Efer) setGuestEferLo(vcpu, (lo & (Efer.SCE | Efer.LME | Efer.NXE)) >>> 0); // as asked
    else if (index === Msr.MtrrDefType) setMtrrDefType(vcpu, lo);
    else if (held) setGuestMsr(vcpu, index, lo, hi);
  } else {
    msrValue[0] = 0;
    msrValue[1] = 0;
    if (index === Msr.Efer) msrValue[0] = guestEferLo(vcpu) & ~Efer.SVME; // SVME is the host's
    else if (index === Msr.MiscEnable) msrValue[0] = 1;
    else if (index === Msr.MtrrCap) msrValue[0] = 0;
    else if (index === Msr.MtrrDefType) msrValue[0] = mtrrDefTypeOf(vcpu);
    else if (index === Msr.Tsc) {
      const t = guestTsc(slot); // what RDTSC gives it: the host's TSC plus its offset
      msrValue[1] = Math.floor(t / 4294967296) >>> 0;
      msrValue[0] = (t - msrValue[1] * 4294967296) >>> 0;
    } else if (held) {
      msrValue[0] = guestMsrLo(vcpu, index);
      msrValue[1] = guestMsrHi(vcpu, index);
    }
    setGuestGpr(vcpu, 0, msrValue[0], 0);
    setGuestGpr(vcpu, 2, msrValue[1], 0);
  }
  return advance(slot, vcpu) ? ExitAction.Continue : stop(StopReason.UnsupportedInstruction, 0x320f);
};

const onHlt = (slot: number, vcpu: number) => {
  if ((guestRflags(vcpu) & Rflags.IF) === 0) return stop(StopReason.HaltedWithInterruptsOff, guestRip(vcpu));
  if (!advance(slot, vcpu)) return stop(StopReason.UnsupportedInstruction, 0xf4);
  return ExitAction.Yield;
};

const onHypercall = (slot: number, vcpu: number) => {
  setGuestGpr(vcpu, 0, 0xffffffff, 0xffffffff); // no hypercalls yet: -1 (unsupported)
  return advance(slot, vcpu) ? ExitAction.Continue : stop(StopReason.UnsupportedInstruction, 0xd9010f);
};

/** Outside the VM's RAM: a device's MMIO range (the access is emulated), or memory the VM does not own (it stops). */
const onNestedPageFault = (slot: number, vcpu: number, gpa: number) => {
  const d = mmioDeviceAt(gpa);
  if (d < 0) return stop(StopReason.NestedPageFault, gpa);
  const offset = mmioOffset();
  const n = fetchAtRip(slot, vcpu);
  const result = n === 0 ? MmioResult.Undecodable : emulateMmio(slot, vcpu, d, offset, fetchBuf, n, guestCodeSize(vcpu));
  if (result === MmioResult.Undecodable) {
    stop(StopReason.UnsupportedInstruction, gpa);
    stopByteCount = n < 8 ? n : 8; // what `vm info` shows of the instruction
    for (let i = 0; i < stopByteCount; i++) stopBytes[i] = fetchBuf[i];
    return ExitAction.Stop;
  }
  // STOS/MOVS reached memory that is not mapped or not the VM's: where (an unmapped linear address: the device's)
  if (result === MmioResult.Fault) return stop(StopReason.NestedPageFault, mmioFaultAddress >= 0 ? mmioFaultAddress : gpa);
  if (mmioInstructionLength > 0) advanceGuestRip(vcpu, mmioInstructionLength); // 0: a REP goes on at the next entry
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
      return onHlt(slot, vcpu);
    case ExitReason.Hypercall:
      return onHypercall(slot, vcpu);
    case ExitReason.ExternalInterrupt:
      return ExitAction.Yield; // a host interrupt: let the host run it
    case ExitReason.SliceEnd:
      return ExitAction.Yield; // the guest's slice is over: others' turn
    case ExitReason.InterruptWindow:
      return ExitAction.Continue; // the waiting interrupt goes in at this entry (kernel/vm/interrupts.ts)
    case ExitReason.NestedPageFault:
      // a write to a page the dirty log write-protected: noted, writable again, the guest retries
      if (dirtyLogFault(slot, faultAddress(vcpu))) return ExitAction.Continue;
      return onNestedPageFault(slot, vcpu, faultAddress(vcpu));
    case ExitReason.Shutdown:
      return stop(StopReason.TripleFault, guestRip(vcpu));
    case ExitReason.InvalidState:
      return stop(StopReason.InvalidState, exitCode(vcpu) >>> 0); // -1 (VMEXIT_INVALID, VMfailInvalid), a VMX error, or 0x8000xxxx
  }
  return stop(StopReason.UnexpectedExit, exitCode(vcpu));
};
