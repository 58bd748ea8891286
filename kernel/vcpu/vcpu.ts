// The vendor-neutral vCPU interface (design: detect_capabilities, enable, create vCPU,
// enter_guest, exit_reason, advance_rip, inject event, read/write guest state). The
// shared exit dispatch (kernel/vm/exits.ts), the scheduler and the VM lifecycle use only
// this; the svm (kernel/vcpu/svm) and vmx (kernel/vcpu/vmx) back ends implement it. Which
// one runs is chosen once, at enable: SVM on AMD, VMX (with EPT) on Intel.
import { caps } from '../cpu/capabilities';
import {
  SVM_STATE_BYTES, svmFlushTlb, svmLoadState, svmSaveState, svmAdvanceRip, svmCr3Hi, svmCr3Lo, svmCr4, svmIoRipDelta, svmNextRipDelta, svmRipHi, svmRipLo, svmSegmentBaseHi,
  svmSegmentBaseLo, svmCr0, svmCreateVcpu, svmCsAttrib, svmDestroyVcpu, svmEferLo, svmEnable, svmExitCode, svmExitInfo1Lo,
  svmExitInfo2, svmField32, svmGprHi, svmGprLo, svmInjectException, svmMsrField, svmRflags, svmRip, svmRun,
  svmSetAbcd, svmSetEferLo, svmSetField32, svmSetGpr,
} from './svm/svm';
import {
  vmxAdvanceRip, vmxCodeSize, vmxCr0, vmxCr3Hi, vmxCr3Lo, vmxCr4, vmxCreateVcpu, vmxDestroyVcpu, vmxDisable, vmxEferLo,
  vmxEnable, vmxExitCode, vmxFaultAddress, vmxFlushTlb, vmxGprHi, vmxGprLo, vmxInjectException, vmxInstructionLength,
  vmxLoadState, vmxMsrField, vmxMsrHi, vmxMsrIsWrite, vmxMsrLo, vmxQualification, vmxRflags, vmxRip, vmxRipHi, vmxRipLo,
  vmxRun, vmxSaveState, vmxSegmentBaseHi, vmxSegmentBaseLo, vmxSetAbcd, vmxSetEferLo, vmxSetGpr, vmxSetMsr,
} from './vmx/vmx';
import { nestedEptDirtyBits, nestedFormatEpt, nestedPageSizes } from '../memory/nested-paging';

export const enum VcpuError {
  NoBackEnd = -20, // neither SVM nor VMX
}

let vmxOn = 0; // 1: the VMX back end runs (chosen at enable; a number: cheaper to test on every call than a boolean)
let nrips = false; // caps.nrips, read once (an object property costs on the exit path)

/** Turns hardware virtualization on; 0 or a back end's error (SvmError, VmxError < 0). */
export const enableVirtualization = () => {
  nrips = caps.nrips;
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
};

/** vCPU `vcpu` for a guest whose memory the nested tables at `nptRoot` map, in 32-bit protected mode (Multiboot state). */
export const createVcpu = (vcpu: number, nptRoot: number, entry: number, eax: number, ebx: number) =>
  vmxOn === 1 ? vmxCreateVcpu(vcpu, nptRoot, entry, eax, ebx) : caps.svm ? svmCreateVcpu(vcpu, nptRoot, entry, eax, ebx) : VcpuError.NoBackEnd;

export const destroyVcpu = (vcpu: number) => {
  if (vmxOn === 1) vmxDestroyVcpu(vcpu);
  else if (caps.svm) svmDestroyVcpu(vcpu);
};

/** Runs the vCPU until its next exit; returns the ExitReason. cpuidFloor: the benchmark floor only. */
export const enterGuest = (vcpu: number, cpuidFloor: boolean) => (vmxOn === 1 ? vmxRun(vcpu, cpuidFloor) : svmRun(vcpu, cpuidFloor));

/** The back end's own code for the last exit (SVM EXITCODE, VMX basic exit reason), for reports. */
export const exitCode = () => (vmxOn === 1 ? vmxExitCode() : svmExitCode());

// ---- guest state of the vCPU that exited last ----
/** RIP as a double: for reports only (exact below 2^53); the dispatch uses the halves. */
export const guestRip = () => (vmxOn === 1 ? vmxRip() : svmRip());
export const guestRipLo = () => (vmxOn === 1 ? vmxRipLo() : svmRipLo());
export const guestRipHi = () => (vmxOn === 1 ? vmxRipHi() : svmRipHi());
/** advance_rip: RIP += len, 64-bit. */
export const advanceGuestRip = (len: number) => (vmxOn === 1 ? vmxAdvanceRip(len) : svmAdvanceRip(len));
export const guestGprLo = (vcpu: number, r: number) => (vmxOn === 1 ? vmxGprLo(vcpu, r) : svmGprLo(vcpu, r));
export const guestGprHi = (vcpu: number, r: number) => (vmxOn === 1 ? vmxGprHi(vcpu, r) : svmGprHi(vcpu, r));
export const setGuestGpr = (vcpu: number, r: number, lo: number, hi: number) => (vmxOn === 1 ? vmxSetGpr(vcpu, r, lo, hi) : svmSetGpr(vcpu, r, lo, hi));
/** RAX, RBX, RCX, RDX = a, b, c, d zero-extended (what CPUID returns). */
export const setGuestAbcd = (vcpu: number, a: number, b: number, c: number, d: number) =>
  vmxOn === 1 ? vmxSetAbcd(vcpu, a, b, c, d) : svmSetAbcd(vcpu, a, b, c, d);
export const guestRflags = () => (vmxOn === 1 ? vmxRflags() : svmRflags());
/** CR0 and CR4 as the guest sees them. */
export const guestCr0 = () => (vmxOn === 1 ? vmxCr0() : svmCr0());
export const guestCr3Lo = () => (vmxOn === 1 ? vmxCr3Lo() : svmCr3Lo());
export const guestCr3Hi = () => (vmxOn === 1 ? vmxCr3Hi() : svmCr3Hi());
export const guestCr4 = () => (vmxOn === 1 ? vmxCr4() : svmCr4());
/** Segment bases (0 ES, 1 CS, 2 SS, 3 DS, 4 FS, 5 GS), low and high 32 bits. */
export const guestSegmentBaseLo = (seg: number) => (vmxOn === 1 ? vmxSegmentBaseLo(seg) : svmSegmentBaseLo(seg));
export const guestSegmentBaseHi = (seg: number) => (vmxOn === 1 ? vmxSegmentBaseHi(seg) : svmSegmentBaseHi(seg));
/** 64, 32 or 16: the code size of the guest's CS (L, then D/B). */
export const guestCodeSize = () => {
  if (vmxOn === 1) return vmxCodeSize();
  const attrib = svmCsAttrib();
  return (attrib & 0x200) !== 0 ? 64 : (attrib & 0x400) !== 0 ? 32 : 16;
};
export const guestEferLo = () => (vmxOn === 1 ? vmxEferLo() : svmEferLo());
/** Sets the guest's EFER (low half); the back end keeps what it needs (SVM: SVME; VMX: LMA as the processor made it). */
export const setGuestEferLo = (lo: number) => (vmxOn === 1 ? vmxSetEferLo(lo) : svmSetEferLo((lo | 0x1000) >>> 0));

/** MSRs the back end keeps in its guest state (SYSENTER_*, STAR/LSTAR/CSTAR/SFMASK, KernelGsBase, PAT, FS/GS base). */
export const guestMsrHeld = (index: number) => (vmxOn === 1 ? vmxMsrField(index) : svmMsrField(index)) >= 0;
export const guestMsrLo = (index: number) => (vmxOn === 1 ? vmxMsrLo(index) : svmField32(svmMsrField(index)));
export const guestMsrHi = (index: number) => (vmxOn === 1 ? vmxMsrHi(index) : svmField32(svmMsrField(index) + 4));
export const setGuestMsr = (index: number, lo: number, hi: number) => {
  if (vmxOn === 1) {
    vmxSetMsr(index, lo, hi);
    return;
  }
  const field = svmMsrField(index);
  svmSetField32(field, lo);
  svmSetField32(field + 4, hi);
};

// ---- what the last exit says ----
// I/O: SVM EXITINFO1 (APM vol. 2 15.10.2: TYPE bit 0, STR 2, REP 3, SZ8/16/32 bits 4-6,
// port 31:16); VMX exit qualification (SDM 28.2.1 table 28-5: size-1 bits 2:0, IN bit 3,
// string 4, REP 5, port 31:16).
const ioInfo = () => (vmxOn === 1 ? vmxQualification() : svmExitInfo1Lo());
export const ioIsIn = () => (ioInfo() & (vmxOn === 1 ? 8 : 1)) !== 0;
export const ioIsString = () => (ioInfo() & (vmxOn === 1 ? 0x10 : 4)) !== 0;
export const ioPort = () => ioInfo() >>> 16;
export const ioSize = () => {
  const info = ioInfo();
  if (vmxOn === 1) return (info & 7) + 1;
  return (info & 0x10) !== 0 ? 1 : (info & 0x20) !== 0 ? 2 : 4;
};
export const ioIsRep = () => (ioInfo() & (vmxOn === 1 ? 0x20 : 8)) !== 0;
/** Length of the I/O instruction as the hardware says it (SVM: EXITINFO2 = next RIP; VMX: the exit instruction length), or 0. */
export const ioInstructionLength = () => (vmxOn === 1 ? vmxInstructionLength() : svmIoRipDelta());
/** RDMSR (false) or WRMSR (true). */
export const msrIsWrite = () => (vmxOn === 1 ? vmxMsrIsWrite() : svmExitInfo1Lo() === 1);
/** The guest-physical address of a nested page fault (SVM NPF, VMX EPT violation). */
export const faultAddress = () => (vmxOn === 1 ? vmxFaultAddress() : svmExitInfo2());
/** The exiting instruction's length when the hardware reports it (SVM: NRIPS; VMX: always), else 0. */
export const hardwareInstructionLength = () => (vmxOn === 1 ? vmxInstructionLength() : nrips ? svmNextRipDelta() : 0);

/** Queues exception `vector` for the next entry, with an error code when >= 0. */
export const injectException = (vector: number, errorCode: number) =>
  vmxOn === 1 ? vmxInjectException(vector, errorCode) : svmInjectException(vector, errorCode);

/** Makes the vCPU's next entry flush its TLB (after its nested page tables changed). */
export const flushGuestTlb = (vcpu: number) => (vmxOn === 1 ? vmxFlushTlb(vcpu) : svmFlushTlb(vcpu));

// ---- vCPU state for live migration (tagged by back end: a state moves between hosts of one vendor) ----
export const VCPU_STATE_BYTES = SVM_STATE_BYTES;
/** Writes vCPU `vcpu`'s state to out[off, + VCPU_STATE_BYTES); false when it does not fit. */
export const saveVcpuState = (vcpu: number, out: Uint8Array, off: number) => (vmxOn === 1 ? vmxSaveState(vcpu, out, off, VCPU_STATE_BYTES) : svmSaveState(vcpu, out, off));
/** Sets a created vCPU from saved state; false (nothing changed) when it is not state of this back end. */
export const loadVcpuState = (vcpu: number, src: Uint8Array, off: number, len: number) =>
  vmxOn === 1 ? vmxLoadState(vcpu, src, off, len, VCPU_STATE_BYTES) : svmLoadState(vcpu, src, off, len);
