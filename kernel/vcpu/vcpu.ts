// The vendor-neutral vCPU interface (design: detect_capabilities, enable, create vCPU,
// enter_guest, exit_reason, advance_rip, inject event, read/write guest state). The
// shared exit dispatch (kernel/vm/exits.ts), the scheduler and the VM lifecycle use only
// this; the svm back end (kernel/vcpu/svm) implements it, the vmx one will too.
import { caps } from '../cpu/capabilities';
import {
  SVM_STATE_BYTES, svmFlushTlb, svmLoadState, svmSaveState, svmAdvanceRip, svmCr3Hi, svmCr3Lo, svmCr4, svmIoRipDelta, svmNextRipDelta, svmRipHi, svmRipLo, svmSegmentBaseHi,
  svmSegmentBaseLo, svmCr0, svmCreateVcpu, svmCsAttrib, svmDestroyVcpu, svmEferLo, svmEnable, svmExitCode, svmExitInfo1Lo,
  svmExitInfo2, svmField32, svmGprHi, svmGprLo, svmInjectException, svmMsrField, svmRflags, svmRip, svmRun,
  svmSetAbcd, svmSetEferLo, svmSetField32, svmSetGpr,
} from './svm/svm';

export const enum VcpuError {
  NoBackEnd = -20, // neither SVM nor (yet) VMX
}

const useSvm = () => caps.svm;
let nrips = false; // caps.nrips, read once (an object property costs on the exit path)

/** Turns hardware virtualization on; 0 or a back end's error (< 0). */
export const enableVirtualization = () => {
  nrips = caps.nrips;
  return useSvm() ? svmEnable() : VcpuError.NoBackEnd;
};

/** vCPU `vcpu` for a guest whose memory the nested tables at `nptRoot` map, in 32-bit protected mode (Multiboot state). */
export const createVcpu = (vcpu: number, nptRoot: number, entry: number, eax: number, ebx: number) =>
  useSvm() ? svmCreateVcpu(vcpu, nptRoot, entry, eax, ebx) : VcpuError.NoBackEnd;

export const destroyVcpu = (vcpu: number) => {
  if (useSvm()) svmDestroyVcpu(vcpu);
};

/** Runs the vCPU until its next exit; returns the ExitReason. cpuidFloor: the benchmark floor only. */
export const enterGuest = (vcpu: number, cpuidFloor: boolean) => svmRun(vcpu, cpuidFloor);

/** The back end's own code for the last exit (SVM EXITCODE), for reports. */
export const exitCode = () => svmExitCode();

// ---- guest state of the vCPU that exited last ----
/** RIP as a double: for reports only (exact below 2^53); the dispatch uses the halves. */
export const guestRip = () => svmRip();
export const guestRipLo = () => svmRipLo();
export const guestRipHi = () => svmRipHi();
/** advance_rip: RIP += len, 64-bit. */
export const advanceGuestRip = (len: number) => svmAdvanceRip(len);
export const guestGprLo = (vcpu: number, r: number) => svmGprLo(vcpu, r);
export const guestGprHi = (vcpu: number, r: number) => svmGprHi(vcpu, r);
export const setGuestGpr = (vcpu: number, r: number, lo: number, hi: number) => svmSetGpr(vcpu, r, lo, hi);
/** RAX, RBX, RCX, RDX = a, b, c, d zero-extended (what CPUID returns). */
export const setGuestAbcd = (vcpu: number, a: number, b: number, c: number, d: number) => svmSetAbcd(vcpu, a, b, c, d);
export const guestRflags = () => svmRflags();
export const guestCr0 = () => svmCr0();
export const guestCr3Lo = () => svmCr3Lo();
export const guestCr3Hi = () => svmCr3Hi();
export const guestCr4 = () => svmCr4();
/** Segment bases (0 ES, 1 CS, 2 SS, 3 DS, 4 FS, 5 GS), low and high 32 bits. */
export const guestSegmentBaseLo = (seg: number) => svmSegmentBaseLo(seg);
export const guestSegmentBaseHi = (seg: number) => svmSegmentBaseHi(seg);
/** 64, 32 or 16: the code size of the guest's CS (L, then D/B). */
export const guestCodeSize = () => {
  const attrib = svmCsAttrib();
  return (attrib & 0x200) !== 0 ? 64 : (attrib & 0x400) !== 0 ? 32 : 16;
};
export const guestEferLo = () => svmEferLo();
/** Sets the guest's EFER (low half); the back end keeps what it needs (SVME) set. */
export const setGuestEferLo = (lo: number) => svmSetEferLo((lo | 0x1000) >>> 0);

/** MSRs the back end keeps in its guest state (SYSENTER_*, STAR..., PAT, FS/GS base). */
export const guestMsrHeld = (index: number) => svmMsrField(index) >= 0;
export const guestMsrLo = (index: number) => svmField32(svmMsrField(index));
export const guestMsrHi = (index: number) => svmField32(svmMsrField(index) + 4);
export const setGuestMsr = (index: number, lo: number, hi: number) => {
  const field = svmMsrField(index);
  svmSetField32(field, lo);
  svmSetField32(field + 4, hi);
};

// ---- what the last exit says ----
// I/O (SVM: EXITINFO1 per APM vol. 2 section 15.10.2, the next RIP in EXITINFO2)
export const ioIsIn = () => (svmExitInfo1Lo() & 1) !== 0;
export const ioIsString = () => (svmExitInfo1Lo() & 4) !== 0;
export const ioPort = () => svmExitInfo1Lo() >>> 16;
export const ioSize = () => {
  const info = svmExitInfo1Lo();
  return (info & 0x10) !== 0 ? 1 : (info & 0x20) !== 0 ? 2 : 4;
};
/** Bit 3 of IOIO EXITINFO1: REP (APM 15.10.2). */
export const ioIsRep = () => (svmExitInfo1Lo() & 8) !== 0;
/** Length of the I/O instruction as the hardware says it (SVM: EXITINFO2 = next RIP), or 0. */
export const ioInstructionLength = () => svmIoRipDelta();
/** RDMSR (false) or WRMSR (true). */
export const msrIsWrite = () => svmExitInfo1Lo() === 1;
/** The guest-physical address of a nested page fault. */
export const faultAddress = () => svmExitInfo2();
/** The exiting instruction's length when the hardware reports it (SVM: NRIPS), else 0. */
export const hardwareInstructionLength = () => (nrips ? svmNextRipDelta() : 0);

/** Queues exception `vector` for the next entry, with an error code when >= 0. */
export const injectException = (vector: number, errorCode: number) => svmInjectException(vector, errorCode);

/** Makes the vCPU's next entry flush its TLB (after its nested page tables changed). */
export const flushGuestTlb = (vcpu: number) => svmFlushTlb(vcpu);

// ---- vCPU state for live migration (tagged by back end: a state moves between hosts of one vendor) ----
export const VCPU_STATE_BYTES = SVM_STATE_BYTES;
/** Writes vCPU `vcpu`'s state to out[off, + VCPU_STATE_BYTES); false when it does not fit. */
export const saveVcpuState = (vcpu: number, out: Uint8Array, off: number) => svmSaveState(vcpu, out, off);
/** Sets a created vCPU from saved state; false (nothing changed) when it is not state of this back end. */
export const loadVcpuState = (vcpu: number, src: Uint8Array, off: number, len: number) => svmLoadState(vcpu, src, off, len);
