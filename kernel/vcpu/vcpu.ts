// The vendor-neutral vCPU interface (design: detect_capabilities, enable, create vCPU,
// enter_guest, exit_reason, advance_rip, inject event, read/write guest state). The
// shared exit dispatch (kernel/vm/exits.ts), the scheduler and the VM lifecycle use only
// this; the svm (kernel/vcpu/svm) and vmx (kernel/vcpu/vmx) back ends implement it. Which
// one runs is chosen once, at enable: SVM on AMD, VMX (with EPT) on Intel.
//
// Every call names its vCPU. What an exit says and the guest's registers are read from the
// vCPU's register file and exit record (vcpu-area.ts), which the back end filled at the
// exit: no vendor test and no host call on those reads. Writes to RIP and the GPRs go to
// the same place and reach the hardware at the next entry. The rest (MSRs the back end
// keeps, EFER, event injection, TLB flushes, migration state) goes to the back end.
import { caps } from '../cpu/capabilities';
import { Access, advanceRip, area0, AREA_BYTES, areaGet, areaGet64, isVcpu, MAX_VCPUS, placeVcpuAreas, Rec } from './vcpu-area';
import { ExitReason } from './exit-reason';
import {
  SVM_STATE_BYTES, svmFlushTlb, svmLoadState, svmSaveState, svmCreateVcpu, svmDestroyVcpu, svmDisable, svmEnable, svmInjectEvent,
  svmInjectException, svmMsrField, svmMsrHi, svmMsrLo, svmNmiBlocked, svmRun, svmSetEferLo, svmSetInterruptWindow, svmSetMsr,
  svmSetTscOffset,
} from './svm/svm';
import {
  vmxCreateVcpu, vmxDestroyVcpu, vmxDisable, vmxEnable, vmxFlushTlb, vmxHasNmiWindow, vmxInjectEvent, vmxInjectException,
  vmxLoadState, vmxMsrField, vmxMsrHi, vmxMsrLo, vmxRun, vmxSaveState, vmxSetEferLo, vmxSetMsr, vmxSetTimerExit, vmxSetTscOffset, vmxSetWindow,
} from './vmx/vmx';
import { nestedEptDirtyBits, nestedFormatEpt, nestedPageSizes } from '../memory/nested-paging';

export const enum VcpuError {
  NoBackEnd = -20, // neither SVM nor VMX
  BadVcpu = -21, // not a vCPU number (0 <= vcpu < MAX_VCPUS)
}

let vmxOn = 0; // 1: the VMX back end runs (chosen at enable; a number: cheaper to test than a boolean)

/** Turns hardware virtualization on; 0 or a back end's error (SvmError, VmxError < 0). */
export const enableVirtualization = () => {
  placeVcpuAreas();
  if (caps.svm) {
    vmxOn = 0;
    nestedFormatEpt(false);
    nestedPageSizes(true, caps.pages1g);
    return svmEnable();
  }
  if (caps.vmx) {
    vmxOn = 1;
    nestedFormatEpt(true);
    nestedEptDirtyBits(caps.eptAccessedDirty);
    nestedPageSizes(caps.ept2m, caps.ept1g);
    return vmxEnable();
  }
  return VcpuError.NoBackEnd;
};

/** Turns hardware virtualization off before Zerovisor returns to the firmware. */
export const disableVirtualization = () => {
  if (vmxOn === 1) vmxDisable();
  else svmDisable();
};

/** vCPU `vcpu` for a guest whose memory the nested tables at `nptRoot` map, in 32-bit protected mode (Multiboot state). */
export const createVcpu = (vcpu: number, nptRoot: number, entry: number, eax: number, ebx: number) => {
  if (!isVcpu(vcpu)) return VcpuError.BadVcpu;
  return vmxOn === 1 ? vmxCreateVcpu(vcpu, nptRoot, entry, eax, ebx) : caps.svm ? svmCreateVcpu(vcpu, nptRoot, entry, eax, ebx) : VcpuError.NoBackEnd;
};

export const destroyVcpu = (vcpu: number) => {
  if (!isVcpu(vcpu)) return;
  if (vmxOn === 1) vmxDestroyVcpu(vcpu);
  else if (caps.svm) svmDestroyVcpu(vcpu);
};

/**
 * Runs vCPU `vcpu` until its next exit, which its exit record then describes; returns the
 * ExitReason (InvalidState for a vCPU number that is not one).
 */
export const enterGuest = (vcpu: number) => {
  if (!isVcpu(vcpu)) return ExitReason.InvalidState;
  const reason = vmxOn === 1 ? vmxRun(vcpu) : svmRun(vcpu);
  eventQueued[vcpu] = 0; // the entry delivered it (or the exit's record says it was interrupted)
  return reason;
};

/** The exit-cost benchmark's floor for vCPU `vcpu` (vm create --cpuid-floor): the shim resumes its CPUID exits itself, without the kernel. */
export const setCpuidFloor = (vcpu: number, on: boolean) => {
  if (isVcpu(vcpu)) Porffor.wasm.i32.store(area0 + vcpu * AREA_BYTES + Rec.Control, on ? 1 : 0, 0, 0);
};

// ---- vCPU `vcpu`'s last exit (its exit record) ----
// The reads below are on every exit's path: each is one load from the vCPU's area, written
// out in place (a helper call and every bitwise operator cost porffor dozens of instructions).
// `vcpu` is a vCPU number (enterGuest and createVcpu refuse others); `r` a register number 0-15.
/** The ExitReason of the last exit. */
export const exitReason = (vcpu: number) => Porffor.wasm.i32.load(area0 + vcpu * AREA_BYTES + Rec.Reason, 0, 0);
/** The back end's own code for the last exit (SVM EXITCODE, VMX basic exit reason; -1 failed entry), for reports. */
export const exitCode = (vcpu: number) => Porffor.wasm.i32.load(area0 + vcpu * AREA_BYTES + Rec.Code, 0, 0);
/** I/O exits: IN/INS (true) or OUT/OUTS. */
export const ioIsIn = (vcpu: number) => (Porffor.wasm.i32.load(area0 + vcpu * AREA_BYTES + Rec.Access, 0, 0) & Access.Write) === 0;
export const ioIsString = (vcpu: number) => (Porffor.wasm.i32.load(area0 + vcpu * AREA_BYTES + Rec.Access, 0, 0) & Access.String) !== 0;
export const ioIsRep = (vcpu: number) => (Porffor.wasm.i32.load(area0 + vcpu * AREA_BYTES + Rec.Access, 0, 0) & Access.Rep) !== 0;
export const ioPort = (vcpu: number) => Porffor.wasm.i32.load(area0 + vcpu * AREA_BYTES + Rec.Access, 0, 0) >>> 16;
/** 1, 2 or 4 bytes. */
export const ioSize = (vcpu: number) => (Porffor.wasm.i32.load(area0 + vcpu * AREA_BYTES + Rec.Access, 0, 0) >>> 4) & 15;
/** MSR exits: RDMSR (false) or WRMSR (true). */
export const msrIsWrite = (vcpu: number) => (Porffor.wasm.i32.load(area0 + vcpu * AREA_BYTES + Rec.Access, 0, 0) & Access.Write) !== 0;
/** The guest-physical address of a nested page fault (SVM NPF, VMX EPT violation). */
export const faultAddress = (vcpu: number) => areaGet64(vcpu, Rec.Gpa);
/** The exiting instruction's length when the hardware reports it (VMX; SVM IOIO, NRIPS), else 0. */
export const hardwareInstructionLength = (vcpu: number) => Porffor.wasm.i32.load(area0 + vcpu * AREA_BYTES + Rec.Length, 0, 0);

// ---- vCPU `vcpu`'s registers (between an exit and the next entry) ----
/** RIP as a double: for reports only (exact below 2^53); the dispatch uses the halves. */
export const guestRip = (vcpu: number) => areaGet64(vcpu, Rec.Rip);
export const guestRipLo = (vcpu: number) => {
  const v = Porffor.wasm.i32.load(area0 + vcpu * AREA_BYTES + Rec.Rip, 0, 0);
  return v < 0 ? v + 4294967296 : v;
};
export const guestRipHi = (vcpu: number) => areaGet(vcpu, Rec.Rip + 4);
/** advance_rip: RIP += len, 64-bit. */
export const advanceGuestRip = (vcpu: number, len: number) => advanceRip(vcpu, len);
export const guestGprLo = (vcpu: number, r: number) => {
  const v = Porffor.wasm.i32.load(area0 + vcpu * AREA_BYTES + r * 8, 0, 0);
  return v < 0 ? v + 4294967296 : v;
};
export const guestGprHi = (vcpu: number, r: number) => {
  const v = Porffor.wasm.i32.load(area0 + vcpu * AREA_BYTES + r * 8 + 4, 0, 0);
  return v < 0 ? v + 4294967296 : v;
};
export const setGuestGpr = (vcpu: number, r: number, lo: number, hi: number) => {
  const at = area0 + vcpu * AREA_BYTES + r * 8;
  Porffor.wasm.i32.store(at, lo | 0, 0, 0);
  Porffor.wasm.i32.store(at, hi | 0, 0, 4);
};
/** RAX, RBX, RCX, RDX = a, b, c, d zero-extended (what CPUID returns, SDM vol. 2A CPUID). */
export const setGuestAbcd = (vcpu: number, a: number, b: number, c: number, d: number) => {
  const at = area0 + vcpu * AREA_BYTES; // Rec.Gprs: RAX, RCX, RDX, RBX at 0, 8, 16, 24
  Porffor.wasm.i32.store(at, a | 0, 0, 0);
  Porffor.wasm.i32.store(at, 0, 0, 4);
  Porffor.wasm.i32.store(at, c | 0, 0, 8);
  Porffor.wasm.i32.store(at, 0, 0, 12);
  Porffor.wasm.i32.store(at, d | 0, 0, 16);
  Porffor.wasm.i32.store(at, 0, 0, 20);
  Porffor.wasm.i32.store(at, b | 0, 0, 24);
  Porffor.wasm.i32.store(at, 0, 0, 28);
};
export const guestRflags = (vcpu: number) => areaGet(vcpu, Rec.Rflags);
/** Sets RFLAGS' low half (the high half is reserved, 0); it reaches the hardware at the next entry. */
export const setGuestRflags = (vcpu: number, value: number) => {
  Porffor.wasm.i32.store(area0 + vcpu * AREA_BYTES + Rec.Rflags, value | 0, 0, 0);
};
/** CR0 and CR4 as the guest sees them. */
export const guestCr0 = (vcpu: number) => areaGet(vcpu, Rec.Cr0);
export const guestCr3Lo = (vcpu: number) => areaGet(vcpu, Rec.Cr3);
export const guestCr3Hi = (vcpu: number) => areaGet(vcpu, Rec.Cr3 + 4);
export const guestCr4 = (vcpu: number) => areaGet(vcpu, Rec.Cr4);
/** Segment bases (0 ES, 1 CS, 2 SS, 3 DS, 4 FS, 5 GS), low and high 32 bits. */
export const guestSegmentBaseLo = (vcpu: number, seg: number) => areaGet(vcpu, Rec.SegmentBases + (seg % 6) * 8);
export const guestSegmentBaseHi = (vcpu: number, seg: number) => areaGet(vcpu, Rec.SegmentBases + (seg % 6) * 8 + 4);
/** 64, 32 or 16: the code size of the guest's CS (L, then D/B). */
export const guestCodeSize = (vcpu: number) => Porffor.wasm.i32.load(area0 + vcpu * AREA_BYTES + Rec.CodeSize, 0, 0);
export const guestEferLo = (vcpu: number) => areaGet(vcpu, Rec.Efer);
/** Sets the guest's EFER (low half); the back end keeps what it needs (SVM: SVME; VMX: LMA as the processor made it). */
export const setGuestEferLo = (vcpu: number, lo: number) => (vmxOn === 1 ? vmxSetEferLo(vcpu, lo) : svmSetEferLo(vcpu, lo));

/** MSRs the back end keeps in its guest state (SYSENTER_*, STAR/LSTAR/CSTAR/SFMASK, KernelGsBase, PAT, FS/GS base). */
export const guestMsrHeld = (index: number) => (vmxOn === 1 ? vmxMsrField(index) : svmMsrField(index)) >= 0;
export const guestMsrLo = (vcpu: number, index: number) => (vmxOn === 1 ? vmxMsrLo(vcpu, index) : svmMsrLo(vcpu, index));
export const guestMsrHi = (vcpu: number, index: number) => (vmxOn === 1 ? vmxMsrHi(vcpu, index) : svmMsrHi(vcpu, index));
export const setGuestMsr = (vcpu: number, index: number, lo: number, hi: number) =>
  vmxOn === 1 ? vmxSetMsr(vcpu, index, lo, hi) : svmSetMsr(vcpu, index, lo, hi);

/** Queues exception `vector` for vCPU `vcpu`'s next entry, with an error code when >= 0. */
export const injectException = (vcpu: number, vector: number, errorCode: number) => {
  eventQueued[vcpu] = 1;
  if (vmxOn === 1) vmxInjectException(vcpu, vector, errorCode);
  else svmInjectException(vcpu, vector, errorCode);
};

// ---- events: interrupts, NMIs, re-injection (SDM 27.6, APM 15.20) ----
// One event reaches the guest per entry. The platform (kernel/vm/interrupts.ts) asks whether
// one is queued already, whether the guest can take an interrupt or an NMI now (from the exit
// record: RFLAGS.IF and the interrupt shadow), and otherwise for a window exit.

const eventQueued = new Uint8Array(MAX_VCPUS); // an event goes in at the next entry
const EVENT_VALID = 0x80000000;
const TYPE_INTERRUPT = 0; // external interrupt (both formats)
const TYPE_NMI = 2 << 8;

/** Whether the next entry already delivers an event (an exception, a re-injection, an interrupt). */
export const eventPending = (vcpu: number) => eventQueued[vcpu] !== 0;

/** Queues external interrupt `vector` for the next entry. */
export const injectInterrupt = (vcpu: number, vector: number) => {
  eventQueued[vcpu] = 1;
  if (vmxOn === 1) vmxInjectEvent(vcpu, (EVENT_VALID | TYPE_INTERRUPT | (vector & 0xff)) >>> 0, 0);
  else svmInjectEvent(vcpu, (EVENT_VALID | TYPE_INTERRUPT | (vector & 0xff)) >>> 0, 0);
};

/** Queues an NMI (vector 2) for the next entry. */
export const injectNmi = (vcpu: number) => {
  eventQueued[vcpu] = 1;
  if (vmxOn === 1) vmxInjectEvent(vcpu, (EVENT_VALID | TYPE_NMI | 2) >>> 0, 0);
  else svmInjectEvent(vcpu, (EVENT_VALID | TYPE_NMI | 2) >>> 0, 0);
};

/**
 * After an exit: an external interrupt, NMI or hardware exception whose delivery the exit
 * interrupted (e.g. a nested page fault on the guest's stack) is queued again; software
 * interrupts and exceptions (INT n, INT3, INTO) are not: RIP still points at the instruction,
 * which runs again (SDM 28.2.4, APM 15.7.2). Returns whether one was queued.
 */
export const reinjectInterrupted = (vcpu: number) => {
  const info = Porffor.wasm.i32.load(area0 + vcpu * AREA_BYTES + Rec.EventInfo, 0, 0);
  if (info >= 0) return false; // bit 31 clear: nothing was being delivered
  const type = (info >>> 8) & 7;
  if (type !== 0 && type !== 2 && type !== 3) return false;
  const error = Porffor.wasm.i32.load(area0 + vcpu * AREA_BYTES + Rec.EventError, 0, 0);
  eventQueued[vcpu] = 1;
  if (vmxOn === 1) vmxInjectEvent(vcpu, info >>> 0, error >>> 0);
  else svmInjectEvent(vcpu, info >>> 0, error >>> 0);
  return true;
};

/** Whether the guest takes a maskable interrupt now: RFLAGS.IF set and no STI / MOV SS shadow (SDM 6.8.3). */
export const interruptsOpen = (vcpu: number) =>
  (Porffor.wasm.i32.load(area0 + vcpu * AREA_BYTES + Rec.Rflags, 0, 0) & 0x200) !== 0 &&
  (Porffor.wasm.i32.load(area0 + vcpu * AREA_BYTES + Rec.Interruptibility, 0, 0) & 3) === 0;

/** Whether the guest takes an NMI now: no NMI handler running and no MOV SS shadow (SDM 6.7.1, 25.4.2). */
export const nmiOpen = (vcpu: number) =>
  vmxOn === 1
    ? (Porffor.wasm.i32.load(area0 + vcpu * AREA_BYTES + Rec.Interruptibility, 0, 0) & 0xa) === 0
    : !svmNmiBlocked(vcpu) && (Porffor.wasm.i32.load(area0 + vcpu * AREA_BYTES + Rec.Interruptibility, 0, 0) & 1) === 0;

/** Asks for an InterruptWindow exit when the guest can take an interrupt (`nmi` false) or an NMI, or stops asking. */
export const requestWindow = (vcpu: number, nmi: boolean, on: boolean) => {
  if (vmxOn === 1) vmxSetWindow(vcpu, nmi && vmxHasNmiWindow(), on);
  else if (!nmi) svmSetInterruptWindow(vcpu, on); // SVM: the IRET intercept ends an NMI's blocking (an exit)
};

/**
 * Makes vCPU `vcpu`'s next entry exit after at most `ticks` TSC ticks (a device timer comes
 * due), or only at its slice's end when `ticks` < 0. VMX: the preemption timer. SVM has no
 * such timer: the guest runs until its next exit (at the latest the host's timer interrupt).
 */
export const setTimerExit = (vcpu: number, ticks: number) => {
  if (vmxOn === 1) vmxSetTimerExit(vcpu, ticks);
};

/** The guest's TSC = the host's + hi:lo (two's complement). */
export const setTscOffset = (vcpu: number, lo: number, hi: number) => {
  if (vmxOn === 1) vmxSetTscOffset(vcpu, lo, hi);
  else svmSetTscOffset(vcpu, lo, hi);
};

/** Makes the vCPU's next entry flush its TLB (after its nested page tables changed). */
export const flushGuestTlb = (vcpu: number) => {
  if (!isVcpu(vcpu)) return;
  if (vmxOn === 1) vmxFlushTlb(vcpu);
  else svmFlushTlb(vcpu);
};

// ---- vCPU state for live migration (tagged by back end: a state moves between hosts of one vendor) ----
export const VCPU_STATE_BYTES = SVM_STATE_BYTES;
/** Writes vCPU `vcpu`'s state to out[off, + VCPU_STATE_BYTES); false when it does not fit. */
export const saveVcpuState = (vcpu: number, out: Uint8Array, off: number) =>
  isVcpu(vcpu) && (vmxOn === 1 ? vmxSaveState(vcpu, out, off, VCPU_STATE_BYTES) : svmSaveState(vcpu, out, off));
/** Sets a created vCPU from saved state; false (nothing changed) when it is not state of this back end. */
export const loadVcpuState = (vcpu: number, src: Uint8Array, off: number, len: number) =>
  isVcpu(vcpu) && (vmxOn === 1 ? vmxLoadState(vcpu, src, off, len, VCPU_STATE_BYTES) : svmLoadState(vcpu, src, off, len));
