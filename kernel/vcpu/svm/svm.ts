// The AMD SVM back end (APM vol. 2 chapter 15): enabling SVM, one VMCB per vCPU, the
// intercepts Zerovisor needs, VMRUN through the shim's world switch, and each exit in the
// vCPU's vendor-neutral exit record. VMCBs live in linear memory (vmcb.ts); the guest's
// GPRs (RAX and RSP included) and FXSAVE area are its register file (../vcpu-area.ts),
// which the shim loads and stores around VMRUN.
import { dataAddress } from '../../host/memory';
import { allocatePages, freePages, hostAddressHi, hostAddressLo } from '../../memory/page-allocator';
import { caps } from '../../cpu/capabilities';
import { msr, rdmsr } from '../../cpu/cpuid';
import { ExitReason } from '../exit-reason';
import { trace, TracePoint } from '../../diag/trace';
import { Efer, Gpr, Msr } from '../../lib/x86';
import {
  Access, areaGet, areaSet, areaToBytes, bytesToArea, MAX_VCPUS, Rec, resetVcpuArea, ripDelta, TO_HARDWARE, vcpuArea,
} from '../vcpu-area';
import {
  CLEAN_BITS, CPL, CR0, CR3, CR4, CS, DR6, DR7, DS, EFER, ES, EVENT_INJECT, EXIT_CODE, EXIT_CPUID, EXIT_HLT, EXIT_INFO1,
  EXIT_INFO2, EXIT_INT_INFO, EXIT_INTR, EXIT_IOIO, EXIT_IRET, EXIT_MSR, EXIT_NMI, EXIT_NPF, EXIT_SHUTDOWN, EXIT_VINTR,
  EXIT_VMMCALL, FS, G_PAT, GDTR, GS, GUEST_ASID, IDTR, INTERCEPT_MISC1, INTERCEPT_MISC2, INTERRUPT_SHADOW, IOPM_BASE, LDTR,
  MISC1_CPUID, MISC1_HLT, MISC1_INTR, MISC1_IOIO, MISC1_IRET, MISC1_MSR, MISC1_NMI, MISC1_SHUTDOWN, MISC1_VINTR, MISC2_CLGI,
  MISC2_SKINIT, MISC2_STGI, MISC2_VMLOAD, MISC2_VMMCALL, MISC2_VMRUN, MISC2_VMSAVE, MSRPM_BASE, TLB_CONTROL, NESTED_CR3,
  NEXT_RIP, NP_CONTROL, RAX, RFLAGS, RIP, RSP, SS, TR, TSC_OFFSET, VINTR, clearVmcb, get32, selectVmcb, set32, set64,
  setSegment, vmcbAddress,
} from './vmcb';

export { MAX_VCPUS };

let selectedVcpu = -1; // whose VMCB the setup accessors (vmcb.ts get32/set32) work on
let hostSavePage = -1; // VMSAVE area of the host
let hostSaveLo = 0;
let hostSaveHi = 0;
let hsavePage = -1; // VM_HSAVE_PA
let iopmPages = -1; // 12 KiB: intercept every port
let msrpmPages = -1; // 8 KiB: intercept every MSR
let enabled = false;
let nrips = false; // caps.nrips, read once (an object property costs on the exit path)
const nmiMasked = new Uint8Array(MAX_VCPUS); // 1: an injected NMI's handler runs (until its IRET); 2: unmasked at the next exit

// What the shim's world switch moves between the VMCB and the vCPU's area (vcpu-area.ts):
// pairs (VMCB offset, area offset), TO_HARDWARE marking what goes into the VMCB before
// VMRUN (those first); the rest is copied out after #VMEXIT (APM vol. 2 tables B-1, B-2).
// Rec.Linear has no SVM source: it stays 0 from resetVcpuArea. The interrupt shadow goes both
// ways (an emulated instruction ends it: vcpu-area.ts advanceRip); EXITINTINFO's error code is
// its high half (APM 15.7.2), moved into Rec.EventError after the exit.
const TRANSFERS = new Uint32Array([
  RAX, Rec.Gprs + TO_HARDWARE, RSP, Rec.Gprs + 32 + TO_HARDWARE, RIP, Rec.Rip + TO_HARDWARE, RFLAGS, Rec.Rflags + TO_HARDWARE,
  INTERRUPT_SHADOW, Rec.Interruptibility + TO_HARDWARE,
  EXIT_CODE, Rec.Code, INTERRUPT_SHADOW, Rec.Interruptibility, EXIT_INT_INFO, Rec.EventInfo, EXIT_INFO1, Rec.Qualification, EXIT_INFO2, Rec.Info2, EXIT_INFO2, Rec.Gpa, NEXT_RIP, Rec.Raw0,
  RAX, Rec.Gprs, RSP, Rec.Gprs + 32, RIP, Rec.Rip, RFLAGS, Rec.Rflags, CR0, Rec.Cr0, CR3, Rec.Cr3, CR4, Rec.Cr4,
  EFER, Rec.Efer, CS, Rec.Raw2, ES + 8, Rec.SegmentBases, CS + 8, Rec.SegmentBases + 8, SS + 8, Rec.SegmentBases + 16,
  DS + 8, Rec.SegmentBases + 24, FS + 8, Rec.SegmentBases + 32, GS + 8, Rec.SegmentBases + 40,
]);
let transfersAt = 0;

export const enum SvmError {
  NotOffered = -10,
  DisabledByFirmware = -11,
  NoNestedPaging = -12,
  NoMemory = -13,
}

/** Allocates `pages` zeroed pages and fills them with 0xff (intercept everything); the address or -1. */
const interceptAllPages = (pages: number) => {
  const at = allocatePages(pages, 1, 0);
  if (at < 0) return -1;
  const ones = new Uint8Array(4096);
  for (let i = 0; i < 4096; i++) ones[i] = 0xff;
  const src = dataAddress(ones);
  for (let p = 0; p < pages; p++) {
    const a = at + p * 4096;
    hv_phys_write(hostAddressLo(a), hostAddressHi(a), src, 4096);
  }
  return at;
};

/** Turns SVM on (EFER.SVME, VM_HSAVE_PA) and prepares the shared pages. 0 or an SvmError. */
export const svmEnable = () => {
  if (enabled) return 0;
  if (!caps.svm) return SvmError.NotOffered;
  if (caps.svmDisabled) return SvmError.DisabledByFirmware;
  if (!caps.npt) return SvmError.NoNestedPaging;
  transfersAt = dataAddress(TRANSFERS);
  nrips = caps.nrips;
  selectedVcpu = -1;
  hsavePage = allocatePages(1, 1, 0);
  hostSavePage = allocatePages(1, 1, 0);
  iopmPages = interceptAllPages(3);
  msrpmPages = interceptAllPages(2);
  if (hsavePage < 0 || hostSavePage < 0 || iopmPages < 0 || msrpmPages < 0) {
    // give back what was taken: a later attempt allocates them all again
    if (hsavePage >= 0) freePages(hsavePage);
    if (hostSavePage >= 0) freePages(hostSavePage);
    if (iopmPages >= 0) freePages(iopmPages);
    if (msrpmPages >= 0) freePages(msrpmPages);
    return SvmError.NoMemory;
  }
  hostSaveLo = hostAddressLo(hostSavePage);
  hostSaveHi = hostAddressHi(hostSavePage);
  rdmsr(Msr.Efer);
  hv_wrmsr(Msr.Efer, (msr[0] | Efer.SVME) >>> 0, msr[1]);
  hv_wrmsr(Msr.VmHsavePa, hostAddressLo(hsavePage), hostAddressHi(hsavePage));
  enabled = true;
  return 0;
};

/** Leaves SVM as the firmware had it: EFER.SVME clear (APM vol. 2 15.4), VM_HSAVE_PA 0 (15.30.4). */
export const svmDisable = () => {
  if (!enabled) return;
  rdmsr(Msr.Efer);
  hv_wrmsr(Msr.Efer, (msr[0] & ~Efer.SVME) >>> 0, msr[1]);
  hv_wrmsr(Msr.VmHsavePa, 0, 0);
  enabled = false;
};

/** Makes the guest-state accessors below work on vCPU `vcpu`. */
export const svmSelect = (vcpu: number) => {
  if (selectedVcpu === vcpu) return;
  selectVmcb(vcpu);
  selectedVcpu = vcpu;
};

// Segment attributes in the VMCB's packed form (APM vol. 2 section 15.5.1):
// type(4) S DPL(2) P AVL L D/B G. Flat 32-bit code: 0xc9b, data: 0xc93; TSS: 0x08b; LDT: 0x082.
const CODE32 = 0xc9b;
const DATA32 = 0xc93;

/**
 * Creates vCPU `vcpu` for a guest whose memory the nested tables at `nptRoot` map, in
 * 32-bit protected mode with paging off and flat segments (Multiboot 0.6.96 section 3.2):
 * EIP = entry, EAX, EBX as given. ASID = vcpu + 1. 0 or an SvmError.
 */
export const svmCreateVcpu = (vcpu: number, nptRoot: number, entry: number, eax: number, ebx: number) => {
  if (!enabled) return SvmError.NotOffered;
  svmSelect(vcpu);
  clearVmcb();
  set32(INTERCEPT_MISC1, (MISC1_INTR | MISC1_NMI | MISC1_CPUID | MISC1_HLT | MISC1_IOIO | MISC1_MSR | MISC1_SHUTDOWN) >>> 0);
  set32(INTERCEPT_MISC2, MISC2_VMRUN | MISC2_VMMCALL | MISC2_VMLOAD | MISC2_VMSAVE | MISC2_STGI | MISC2_CLGI | MISC2_SKINIT);
  set64(IOPM_BASE, iopmPages);
  set64(MSRPM_BASE, msrpmPages);
  set32(GUEST_ASID, vcpu + 1);
  set32(VINTR, 1 << 24); // V_INTR_MASKING: host interrupts stay the host's
  nmiMasked[vcpu] = 0;
  set32(NP_CONTROL, 1);
  set64(NESTED_CR3, nptRoot);
  set32(CLEAN_BITS, 0);
  setSegment(CS, 0x08, CODE32, 0xffffffff, 0);
  setSegment(DS, 0x10, DATA32, 0xffffffff, 0);
  setSegment(ES, 0x10, DATA32, 0xffffffff, 0);
  setSegment(SS, 0x10, DATA32, 0xffffffff, 0);
  setSegment(FS, 0x10, DATA32, 0xffffffff, 0);
  setSegment(GS, 0x10, DATA32, 0xffffffff, 0);
  setSegment(GDTR, 0, 0, 0xffff, 0);
  setSegment(IDTR, 0, 0, 0xffff, 0);
  setSegment(LDTR, 0, 0x082, 0xffff, 0);
  setSegment(TR, 0, 0x08b, 0xffff, 0);
  set32(CPL, 0);
  set64(EFER, Efer.SVME); // the guest's EFER.SVME must be set (APM 15.5.1 consistency checks)
  set64(CR0, 0x11); // PE | ET
  set64(CR3, 0);
  set64(CR4, 0);
  set64(DR6, 0xffff0ff0);
  set64(DR7, 0x400);
  set64(RFLAGS, 0x2);
  set64(RIP, entry);
  set64(RSP, 0);
  set64(RAX, eax);
  set32(G_PAT, 0x00070406);
  set32(G_PAT + 4, 0x00070406);
  // the register file: all zero but EAX, EBX, RIP; FPU state at its reset values
  resetVcpuArea(vcpu);
  areaSet(vcpu, Rec.Gprs, eax);
  areaSet(vcpu, Rec.Gprs + Gpr.Rbx * 8, ebx);
  areaSet(vcpu, Rec.Rip, entry);
  areaSet(vcpu, Rec.Rflags, 0x2);
  areaSet(vcpu, Rec.Efer, Efer.SVME);
  return 0;
};

/** Forgets vCPU `vcpu`: its VMCB is zeroed (a stale one is never run). */
export const svmDestroyVcpu = (vcpu: number) => {
  svmSelect(vcpu);
  clearVmcb();
};

/** Makes the next VMRUN of vCPU `vcpu` flush the TLB (TLB_CONTROL = 1, APM 15.16): after nested-table changes. */
export const svmFlushTlb = (vcpu: number) => {
  Porffor.wasm.i32.store8(vmcbAddress(vcpu) + TLB_CONTROL, 1, 0, 0);
};

/**
 * Runs vCPU `vcpu` until its next #VMEXIT and fills its exit record (vcpu-area.ts): the
 * shim copied the VMCB's fields in; here the vendor-neutral reason, instruction length,
 * code size and I/O or MSR access are derived from them. Returns the ExitReason.
 */
export const svmRun = (vcpu: number) => {
  const vmcb = vmcbAddress(vcpu);
  const a = vcpuArea(vcpu);
  hv_svm_run(vmcb, hostSaveLo, hostSaveHi, a, transfersAt, TRANSFERS.length / 2);
  if (nmiMasked[vcpu] === 2) nmiMasked[vcpu] = 0; // the guest ran past the IRET that ended its NMI handler
  if (Porffor.wasm.i32.load(a + Rec.EventInfo, 0, 0) < 0) Porffor.wasm.i32.store(a + Rec.EventError, Porffor.wasm.i32.load(a + Rec.EventInfo, 0, 4), 0, 0);
  Porffor.wasm.i32.store(a + Rec.Interruptibility, Porffor.wasm.i32.load(a + Rec.Interruptibility, 0, 0) & 1, 0, 0); // the shadow bit only
  Porffor.wasm.i32.store(vmcb + TLB_CONTROL, 0, 0, 0); // a flush asked for is done
  Porffor.wasm.i32.store(vmcb + EVENT_INJECT, 0, 0, 0);
  Porffor.wasm.i32.store(vmcb + EVENT_INJECT + 4, 0, 0, 0);
  // EXITCODE: -1 (all ones) is VMEXIT_INVALID; the others fit in the low half (APM appendix C)
  const code = Porffor.wasm.i32.load(a + Rec.Code + 4, 0, 0) === -1 ? -1 : Porffor.wasm.i32.load(a + Rec.Code, 0, 0);
  // CS attributes (APM 15.5.1 packed form, the upper half of the CS field's first dword): L bit 9, D/B bit 10
  const attrib = Porffor.wasm.i32.load16_u(a + Rec.Raw2 + 2, 0, 0);
  Porffor.wasm.i32.store(a + Rec.CodeSize, (attrib & 0x200) !== 0 ? 64 : (attrib & 0x400) !== 0 ? 32 : 16, 0, 0);
  let reason = ExitReason.Other;
  let length = 0;
  let access = 0;
  switch (code) {
    case EXIT_CPUID:
      reason = ExitReason.Cpuid;
      break;
    case EXIT_IOIO: {
      // EXITINFO1 (APM 15.10.2): TYPE bit 0 (1 = IN), STR bit 2, REP bit 3, SZ8/16/32 bits 4-6, port 31:16;
      // EXITINFO2 is the next RIP, for every IOIO exit
      const info = Porffor.wasm.i32.load(a + Rec.Qualification, 0, 0) >>> 0;
      const size = (info & 0x10) !== 0 ? 1 : (info & 0x20) !== 0 ? 2 : 4;
      access = ((info & 1) !== 0 ? 0 : Access.Write) | ((info & 4) !== 0 ? Access.String : 0) | ((info & 8) !== 0 ? Access.Rep : 0) | (size << 4) | (info & 0xffff0000);
      length = ripDelta(vcpu, Rec.Info2);
      reason = ExitReason.Io;
      break;
    }
    case EXIT_MSR:
      access = Porffor.wasm.i32.load(a + Rec.Qualification, 0, 0) === 1 ? Access.Write : 0; // EXITINFO1: 1 WRMSR, 0 RDMSR (APM 15.11)
      reason = ExitReason.Msr;
      break;
    case EXIT_HLT:
      reason = ExitReason.Hlt;
      break;
    case EXIT_VMMCALL:
      reason = ExitReason.Hypercall;
      break;
    case EXIT_NPF:
      reason = ExitReason.NestedPageFault;
      break;
    case EXIT_SHUTDOWN:
      reason = ExitReason.Shutdown;
      break;
    case EXIT_INTR:
    case EXIT_NMI:
      reason = ExitReason.ExternalInterrupt;
      break;
    case EXIT_VINTR:
      reason = ExitReason.InterruptWindow;
      break;
    case EXIT_IRET:
      // intercepted before the IRET runs: NMIs stay blocked until the next exit (then it ran)
      nmiMasked[vcpu] = 2;
      Porffor.wasm.i32.store(vmcb + INTERCEPT_MISC1, Porffor.wasm.i32.load(vmcb + INTERCEPT_MISC1, 0, 0) & ~MISC1_IRET, 0, 0);
      reason = ExitReason.InterruptWindow;
      break;
    case -1:
      reason = ExitReason.InvalidState;
      break;
  }
  if (reason !== ExitReason.Io && nrips) length = ripDelta(vcpu, Rec.Raw0); // NRIP - RIP (NRIPS, APM 15.7.1)
  Porffor.wasm.i32.store(a + Rec.Access, access | 0, 0, 0);
  Porffor.wasm.i32.store(a + Rec.Length, length, 0, 0);
  Porffor.wasm.i32.store(a + Rec.Reason, reason, 0, 0);
  return reason;
};

/** The guest's EFER (low half) from a WRMSR: EFER.SVME stays set (APM 15.5.1 consistency checks). */
export const svmSetEferLo = (vcpu: number, lo: number) => {
  const value = (lo | Efer.SVME) >>> 0;
  Porffor.wasm.i32.store(vmcbAddress(vcpu) + EFER, value | 0, 0, 0);
  areaSet(vcpu, Rec.Efer, value);
};

// ---- events (APM 15.20 EVENTINJ; 15.21.4 virtual interrupts; 15.21.5 interrupt shadows) ----
const V_IRQ = 1 << 8;
const V_IGN_TPR = 1 << 20;
const V_INTR_PRIO = 15 << 16;

/** Queues an event for the next VMRUN in EVENTINJ's format (vector 7:0, type 10:8, EV 11, V 31) with `error` when EV. */
export const svmInjectEvent = (vcpu: number, info: number, error: number) => {
  const at = vmcbAddress(vcpu) + EVENT_INJECT;
  Porffor.wasm.i32.store(at, info | 0, 0, 0);
  Porffor.wasm.i32.store(at, error | 0, 0, 4);
  if (((info >>> 8) & 7) === 2) {
    nmiMasked[vcpu] = 1; // blocked until the handler's IRET, which is intercepted to see it (APM 15.21.4 has no NMI window)
    Porffor.wasm.i32.store(vmcbAddress(vcpu) + INTERCEPT_MISC1, Porffor.wasm.i32.load(vmcbAddress(vcpu) + INTERCEPT_MISC1, 0, 0) | MISC1_IRET, 0, 0);
  }
  trace(TracePoint.EventInject, vcpu, info & 0xff, (info >>> 8) & 7, error);
};

/** Whether an injected NMI's handler still runs (its IRET not yet past). */
export const svmNmiBlocked = (vcpu: number) => nmiMasked[vcpu] !== 0;

/**
 * Asks for an exit as soon as the guest can take an interrupt (`on`), or stops asking: a
 * virtual interrupt (V_IRQ, priority above any TPR) with the VINTR intercept (APM 15.21.4).
 */
export const svmSetInterruptWindow = (vcpu: number, on: boolean) => {
  const vmcb = vmcbAddress(vcpu);
  const vintr = Porffor.wasm.i32.load(vmcb + VINTR, 0, 0);
  const misc1 = Porffor.wasm.i32.load(vmcb + INTERCEPT_MISC1, 0, 0);
  if (on) {
    Porffor.wasm.i32.store(vmcb + VINTR, vintr | V_IRQ | V_IGN_TPR | V_INTR_PRIO, 0, 0);
    Porffor.wasm.i32.store(vmcb + INTERCEPT_MISC1, misc1 | MISC1_VINTR, 0, 0);
  } else {
    Porffor.wasm.i32.store(vmcb + VINTR, vintr & ~(V_IRQ | V_IGN_TPR | V_INTR_PRIO), 0, 0);
    Porffor.wasm.i32.store(vmcb + INTERCEPT_MISC1, misc1 & ~MISC1_VINTR, 0, 0);
  }
};

/** The guest's TSC = the host's + hi:lo (TSC_OFFSET, APM 15.30.5). */
export const svmSetTscOffset = (vcpu: number, lo: number, hi: number) => {
  const at = vmcbAddress(vcpu) + TSC_OFFSET;
  Porffor.wasm.i32.store(at, lo | 0, 0, 0);
  Porffor.wasm.i32.store(at, hi | 0, 0, 4);
};

/** Queues exception `vector` for the next VMRUN (EVENTINJ, APM 15.20), with an error code when >= 0. */
export const svmInjectException = (vcpu: number, vector: number, errorCode: number) => {
  const valid = 1 << 31;
  const type = 3 << 8; // exception
  const ev = errorCode >= 0 ? 1 << 11 : 0;
  const at = vmcbAddress(vcpu) + EVENT_INJECT;
  Porffor.wasm.i32.store(at, (vector | type | ev | valid) | 0, 0, 0);
  trace(TracePoint.EventInject, vcpu, vector, 3, errorCode);
  Porffor.wasm.i32.store(at, errorCode >= 0 ? errorCode | 0 : 0, 0, 4);
};

/** The VMCB field that holds MSR `index` for the guest (APM vol. 2 table B-2), or -1. */
export const svmMsrField = (index: number) => {
  switch (index) {
    case Msr.Star:
      return 0x600; // STAR
    case Msr.Lstar:
      return 0x608; // LSTAR
    case Msr.Cstar:
      return 0x610; // CSTAR
    case Msr.Sfmask:
      return 0x618; // SFMASK
    case Msr.KernelGsBase:
      return 0x620; // KernelGsBase
    case Msr.SysenterCs:
      return 0x628; // SYSENTER_CS
    case Msr.SysenterEsp:
      return 0x630; // SYSENTER_ESP
    case Msr.SysenterEip:
      return 0x638; // SYSENTER_EIP
    case Msr.Pat:
      return 0x668; // G_PAT
    case Msr.FsBase:
      return 0x448; // FS.base
    case Msr.GsBase:
      return 0x458; // GS.base
  }
  return -1;
};

/** MSR `index` (one svmMsrField holds) of vCPU `vcpu`, low / high 32 bits. */
export const svmMsrLo = (vcpu: number, index: number) => Porffor.wasm.i32.load(vmcbAddress(vcpu) + svmMsrField(index), 0, 0) >>> 0;
export const svmMsrHi = (vcpu: number, index: number) => Porffor.wasm.i32.load(vmcbAddress(vcpu) + svmMsrField(index), 0, 4) >>> 0;
export const svmSetMsr = (vcpu: number, index: number, lo: number, hi: number) => {
  const at = vmcbAddress(vcpu) + svmMsrField(index);
  Porffor.wasm.i32.store(at, lo | 0, 0, 0);
  Porffor.wasm.i32.store(at, hi | 0, 0, 4);
};


// ---- vCPU state for live migration: "SVM1", the VMCB state save area (0x400-0x6FF,
// APM table B-2), the 16 GPRs and the 512-byte FXSAVE area ----

const STATE_TAG = 0x314d5653; // "SVM1"
const SAVE_AREA = 0x400;
const SAVE_BYTES = 0x300;
export const SVM_STATE_BYTES = 4 + SAVE_BYTES + 128 + 512;

/** Writes vCPU `vcpu`'s state to out[off, + SVM_STATE_BYTES); false when out is too short. */
export const svmSaveState = (vcpu: number, out: Uint8Array, off: number) => {
  if (off < 0 || off + SVM_STATE_BYTES > out.length) return false;
  const v = vcpu;
  // RAX, RSP, RIP and RFLAGS as the register file has them (what the next VMRUN would load)
  svmSelect(v);
  set32(RAX, areaGet(v, Rec.Gprs));
  set32(RAX + 4, areaGet(v, Rec.Gprs + 4));
  set32(RSP, areaGet(v, Rec.Gprs + 32));
  set32(RSP + 4, areaGet(v, Rec.Gprs + 36));
  set32(RIP, areaGet(v, Rec.Rip));
  set32(RIP + 4, areaGet(v, Rec.Rip + 4));
  set32(RFLAGS, areaGet(v, Rec.Rflags));
  set32(RFLAGS + 4, 0);
  const vmcb = vmcbAddress(v) + SAVE_AREA;
  for (let i = 0; i < 4; i++) out[off + i] = (STATE_TAG >>> (i * 8)) & 0xff;
  for (let i = 0; i < SAVE_BYTES; i++) out[off + 4 + i] = Porffor.wasm.i32.load8_u(vmcb + i, 0, 0);
  areaToBytes(v, Rec.Gprs, 128, out, off + 4 + SAVE_BYTES);
  areaToBytes(v, Rec.Fx, 512, out, off + 4 + SAVE_BYTES + 128);
  return true;
};

/**
 * Sets vCPU `vcpu` (created with svmCreateVcpu) from state svmSaveState wrote; false, and
 * nothing changed, when it is not such state. What the host relies on is kept: EFER.SVME
 * (APM 15.5.1) and MXCSR's reserved bits clear (else FXRSTOR faults in the host, SDM FXRSTOR).
 */
export const svmLoadState = (vcpu: number, src: Uint8Array, off: number, len: number) => {
  if (len !== SVM_STATE_BYTES || off < 0 || off + len > src.length) return false;
  const tag = (src[off] | (src[off + 1] << 8) | (src[off + 2] << 16) | (src[off + 3] << 24)) >>> 0;
  if (tag !== STATE_TAG) return false;
  const v = vcpu;
  const vmcb = vmcbAddress(v) + SAVE_AREA;
  for (let i = 0; i < SAVE_BYTES; i++) Porffor.wasm.i32.store8(vmcb + i, src[off + 4 + i], 0, 0);
  bytesToArea(v, Rec.Gprs, 128, src, off + 4 + SAVE_BYTES);
  bytesToArea(v, Rec.Fx, 512, src, off + 4 + SAVE_BYTES + 128);
  svmSelect(v);
  set32(EFER, get32(EFER) | Efer.SVME);
  // RAX, RSP, RIP and RFLAGS into the register file from the VMCB's save area (where the state keeps them)
  areaSet(v, Rec.Gprs, get32(RAX));
  areaSet(v, Rec.Gprs + 4, get32(RAX + 4));
  areaSet(v, Rec.Gprs + 32, get32(RSP));
  areaSet(v, Rec.Gprs + 36, get32(RSP + 4));
  areaSet(v, Rec.Rip, get32(RIP));
  areaSet(v, Rec.Rip + 4, get32(RIP + 4));
  areaSet(v, Rec.Rflags, get32(RFLAGS));
  areaSet(v, Rec.Efer, get32(EFER));
  Porffor.wasm.i32.store16(vcpuArea(v) + Rec.Fx + 26, 0, 0, 0); // MXCSR bits 16-31 (the area's bytes 24-27)
  set32(EVENT_INJECT, 0);
  set32(EVENT_INJECT + 4, 0);
  return true;
};
