// The shared exit dispatch: what Zerovisor does for each vendor-neutral ExitReason.
// Instruction lengths come from the hardware where it says them (SVM IOIO's EXITINFO2,
// NRIPS) and otherwise from decoding the guest's bytes at RIP (paging off: CS.base + RIP
// is guest-physical). Device models: COM1 (0x3F8-0x3FF), QEMU's debug exit (0xF4).
import { dataAddress } from '../host/memory';
import { ExitReason } from '../vcpu/exit-reason';
import {
  exitCode, faultAddress, guestCodeSize, guestCr0, guestCsBase, guestEferLo, guestGprHi, guestGprLo, guestMsrHeld,
  guestMsrHi, guestMsrLo, guestRflags, guestRip, hardwareNextRip, injectException, ioIsIn, ioIsString, ioNextRip, ioPort,
  ioSize, msrIsWrite, setGuestAbcd, setGuestEferLo, setGuestGpr, setGuestMsr, setGuestRip,
} from '../vcpu/vcpu';
import { guestCpuidAnswer } from './cpuid-policy';
import { MsrAccess, msrAccess, MSR_APIC_BASE, MSR_EFER, MSR_MISC_ENABLE, MSR_MTRR_CAP, MSR_MTRR_DEF_TYPE, MSR_TSC } from './msr-policy';
import { guestRead } from './guest-memory';
import { StopReason, vmDeniedMsrs, vmUnknownPorts } from './vm-table';
import { instructionLength } from './decode/instruction-length';
import { com1Read, com1Write } from './devices/uart16550';
import { debugExitWrite } from './devices/debug-exit';
import { ticksSinceBoot } from '../platform/time';
import { countNripsMismatch } from './vm-metrics';
import { Category, Level, logQuiet } from '../diag/log';

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
const mtrrDefType = new Float64Array(8);

const stop = (reason: number, detail: number) => {
  stopReason = reason;
  stopDetail = detail;
  return ExitAction.Stop;
};

/** Length of the instruction at `rip`: NRIPS where the CPU has it, else decoded; 0 if unknown. */
const currentLength = (slot: number, rip: number) => {
  const decoded = decodedLength(slot, rip);
  const next = hardwareNextRip();
  if (next >= 0) {
    if (next > rip && next - rip <= 15) {
      // both sources: they must agree (where decoding is possible at all)
      if (decoded > 0 && decoded !== next - rip) {
        countNripsMismatch();
        logQuiet(Level.Warn, Category.Cpu, 'vm.nripsMismatch', slot + 1, rip, next - rip, decoded);
      }
      return next - rip;
    }
  }
  return decoded;
};

/** The decoded length of the guest instruction at `rip`, or 0. */
const decodedLength = (slot: number, rip: number) => {
  if ((guestCr0() & 0x80000000) !== 0) return 0; // guest paging on: no guest page walk yet
  if (fetchAddr < 0) fetchAddr = dataAddress(fetchBuf);
  const gpa = guestCsBase() + rip;
  let n = 15;
  while (n > 0 && !guestRead(slot, gpa, fetchAddr, n)) n--;
  if (n === 0) return 0;
  // the exits' own instructions without prefixes, the usual case: CPUID 0F A2, RDMSR 0F 32,
  // WRMSR 0F 30 (SDM vol. 2 opcode map A-3); HLT F4, VMMCALL 0F 01 D9 fall to the decoder
  const b1 = fetchBuf[1];
  if (fetchBuf[0] === 0x0f && n >= 2 && (b1 === 0xa2 || b1 === 0x32 || b1 === 0x30)) return 2;
  return instructionLength(fetchBuf, 0, n, guestCodeSize());
};

const advance = (slot: number) => {
  const rip = guestRip();
  const len = currentLength(slot, rip);
  if (len === 0) return false;
  setGuestRip(rip + len);
  return true;
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

/** Forgets what the dispatch kept for a VM slot (a new VM starts clean). */
export const resetExitState = (slot: number) => {
  mtrrDefType[slot] = 0;
};

// IOIO EXITINFO1 (APM vol. 2 section 15.10.2): bit 0 IN, 2 string, 3 REP, 4-6 size, 16-31 port.
const onIo = (slot: number, vcpu: number) => {
  const input = ioIsIn();
  const port = ioPort();
  const size = ioSize();
  if (ioIsString()) return stop(StopReason.UnsupportedInstruction, port); // INS/OUTS: not emulated
  const rax = guestGprLo(vcpu, 0);
  const mask = size === 1 ? 0xff : size === 2 ? 0xffff : 0xffffffff;
  if (port >= 0x3f8 && port <= 0x3ff) {
    // a wider access covers consecutive registers, byte by byte (ports past 0x3FF float high)
    let value = 0;
    for (let i = 0; i < size; i++) {
      const p = port + i;
      if (input) value += (p <= 0x3ff ? com1Read(slot, p - 0x3f8) : 0xff) * (i === 0 ? 1 : i === 1 ? 0x100 : i === 2 ? 0x10000 : 0x1000000);
      else if (p <= 0x3ff) com1Write(slot, p - 0x3f8, (rax >>> (i * 8)) & 0xff);
    }
    if (input) setInResult(vcpu, rax, value, size);
  } else if (port === 0xf4 && !input) {
    debugExitWrite(slot, rax & mask);
    setGuestRip(ioNextRip());
    return stop(StopReason.DebugExit, (rax & mask) >>> 0);
  } else {
    vmUnknownPorts[slot]++;
    if (input) setInResult(vcpu, rax, mask, size); // reads of nothing float high
  }
  setGuestRip(ioNextRip()); // the hardware gives the next RIP for I/O exits
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
    else if (index === MSR_MTRR_DEF_TYPE) mtrrDefType[slot] = lo;
    else if (held) setGuestMsr(index, lo, hi);
  } else {
    msrValue[0] = 0;
    msrValue[1] = 0;
    if (index === MSR_EFER) msrValue[0] = guestEferLo() & ~0x1000; // SVME is the host's
    else if (index === MSR_APIC_BASE) msrValue[0] = 0xfee00900; // BSP, enabled, default base
    else if (index === MSR_MISC_ENABLE) msrValue[0] = 1;
    else if (index === MSR_MTRR_CAP) msrValue[0] = 0;
    else if (index === MSR_MTRR_DEF_TYPE) msrValue[0] = mtrrDefType[slot];
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
      return stop(StopReason.NestedPageFault, faultAddress());
    case ExitReason.Shutdown:
      return stop(StopReason.TripleFault, guestRip());
    case ExitReason.InvalidState:
      return stop(StopReason.InvalidState, 0);
  }
  return stop(StopReason.UnexpectedExit, exitCode());
};
