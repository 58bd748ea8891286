// The AMD SVM back end (APM vol. 2 chapter 15): enabling SVM, one VMCB per vCPU, the
// intercepts Zerovisor needs, VMRUN through the shim's world switch, and the exit
// information in vendor-neutral form. VMCBs live in linear memory (vmcb.ts); guest GPRs
// other than RAX/RSP live in a 16 x u64 array the shim loads and stores around VMRUN.
import { dataAddress } from '../../host/memory';
import { allocatePages, freePages, hostAddressHi, hostAddressLo } from '../../memory/page-allocator';
import { caps } from '../../cpu/capabilities';
import { msr, rdmsr } from '../../cpu/cpuid';
import { ExitReason } from '../exit-reason';
import { trace, TracePoint } from '../../diag/trace';
import {
  CLEAN_BITS, CPL, CR0, CR3, CR4, CS, DR6, DR7, DS, EFER, ES, EVENT_INJECT, EXIT_CODE, EXIT_CPUID, EXIT_HLT, EXIT_INFO1,
  EXIT_INFO2, EXIT_INTR, EXIT_IOIO, EXIT_MSR, EXIT_NMI, EXIT_NPF, EXIT_SHUTDOWN, EXIT_VMMCALL, FS, G_PAT, GDTR, GS, GUEST_ASID,
  IDTR, INTERCEPT_MISC1, INTERCEPT_MISC2, IOPM_BASE, LDTR, MISC1_CPUID, MISC1_HLT, MISC1_INTR, MISC1_IOIO, MISC1_MSR,
  MISC1_NMI, MISC1_SHUTDOWN, MISC2_CLGI, MISC2_SKINIT, MISC2_STGI, MISC2_VMLOAD, MISC2_VMMCALL, MISC2_VMRUN, MISC2_VMSAVE,
  MAX_VCPUS, MSRPM_BASE, TLB_CONTROL, NESTED_CR3, NEXT_RIP, NP_CONTROL, RAX, RFLAGS, RIP, RSP, SS, TR, VINTR, clearVmcb, get32, get64,
  selectVmcb, set32, set64, setSegment, vmcbAddress,
} from './vmcb';

export { MAX_VCPUS };

const IA32_EFER = 0xc0000080;
const EFER_SVME = 1 << 12;
const VM_HSAVE_PA = 0xc0010117;

let selectedVcpu = -1; // whose VMCB the accessors work on (the last run or created)
let hostSavePage = -1; // VMSAVE area of the host
let hostSaveLo = 0;
let hostSaveHi = 0;
let hsavePage = -1; // VM_HSAVE_PA
let iopmPages = -1; // 12 KiB: intercept every port
let msrpmPages = -1; // 8 KiB: intercept every MSR
let enabled = false;

// Guest GPRs: 16 u64 (lo, hi u32) per vCPU, 8-byte aligned; FXSAVE areas 512 bytes, 16-aligned.
// (bytes: a typed array's data need not start 4-aligned)
const gprBytes = new Uint8Array(MAX_VCPUS * 128 + 8);
let gprBase = -1; // offset of vCPU 0's rax in gprBytes
let gprAddress0 = 0; // its linear address
const fxBytes = new Uint8Array(MAX_VCPUS * 512 + 16);
let fxBase = -1;
let fxAddress0 = 0;

const alignViews = () => {
  if (gprBase >= 0) return;
  const g = dataAddress(gprBytes);
  gprBase = (Math.ceil(g / 8) * 8 - g) >>> 0;
  gprAddress0 = g + gprBase;
  const f = dataAddress(fxBytes);
  fxBase = (Math.ceil(f / 16) * 16 - f) >>> 0;
  fxAddress0 = f + fxBase;
};

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
  alignViews();
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
  rdmsr(IA32_EFER);
  hv_wrmsr(IA32_EFER, (msr[0] | EFER_SVME) >>> 0, msr[1]);
  hv_wrmsr(VM_HSAVE_PA, hostAddressLo(hsavePage), hostAddressHi(hsavePage));
  enabled = true;
  return 0;
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
  set64(EFER, EFER_SVME); // the guest's EFER.SVME must be set (APM 15.5.1 consistency checks)
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
  // GPRs: all zero but EBX; FPU state: FCW 0x37f, MXCSR 0x1f80 (the reset values)
  alignViews();
  const g = gprBase + vcpu * 128;
  for (let i = 0; i < 128; i++) gprBytes[g + i] = 0;
  for (let i = 0; i < 4; i++) gprBytes[g + 24 + i] = (ebx >>> (i * 8)) & 0xff; // rbx = register 3
  const f = fxBase + vcpu * 512;
  for (let i = 0; i < 512; i++) fxBytes[f + i] = 0;
  fxBytes[f] = 0x7f;
  fxBytes[f + 1] = 0x03;
  fxBytes[f + 24] = 0x80;
  fxBytes[f + 25] = 0x1f;
  return 0;
};

/** Forgets vCPU `vcpu`: its VMCB is zeroed (a stale one is never run). */
export const svmDestroyVcpu = (vcpu: number) => {
  svmSelect(vcpu);
  clearVmcb();
};

let lastExitCode = 0;

/** Makes the next VMRUN of vCPU `vcpu` flush the TLB (TLB_CONTROL = 1, APM 15.16): after nested-table changes. */
export const svmFlushTlb = (vcpu: number) => {
  Porffor.wasm.i32.store8(vmcbAddress(vcpu) + TLB_CONTROL, 1, 0, 0);
};

/** Runs vCPU `vcpu` until its next #VMEXIT; returns the vendor-neutral ExitReason. */
export const svmRun = (vcpu: number, cpuidFloor: boolean) => {
  svmSelect(vcpu);
  hv_svm_run(vmcbAddress(vcpu), hostSaveLo, hostSaveHi, gprAddress0 + vcpu * 128, fxAddress0 + vcpu * 512, cpuidFloor ? 1 : 0);
  set32(TLB_CONTROL, 0); // a flush asked for is done
  set32(EVENT_INJECT, 0);
  set32(EVENT_INJECT + 4, 0);
  const lo = get32(EXIT_CODE);
  const hi = get32(EXIT_CODE + 4);
  lastExitCode = hi === 0xffffffff ? -1 : lo;
  switch (lastExitCode) {
    case EXIT_CPUID:
      return ExitReason.Cpuid;
    case EXIT_IOIO:
      return ExitReason.Io;
    case EXIT_MSR:
      return ExitReason.Msr;
    case EXIT_HLT:
      return ExitReason.Hlt;
    case EXIT_VMMCALL:
      return ExitReason.Hypercall;
    case EXIT_NPF:
      return ExitReason.NestedPageFault;
    case EXIT_SHUTDOWN:
      return ExitReason.Shutdown;
    case EXIT_INTR:
    case EXIT_NMI:
      return ExitReason.ExternalInterrupt;
    case -1:
      return ExitReason.InvalidState;
  }
  return ExitReason.Other;
};

/** The raw SVM exit code of the last exit (-1 for VMEXIT_INVALID). */
export const svmExitCode = () => lastExitCode;

// ---- guest state of the selected vCPU ----

/** Linear address of GPR `r` (x86 register number 0-15) of vCPU `vcpu` in the shim's array. */
const gprAt = (vcpu: number, r: number) => gprAddress0 + (vcpu & (MAX_VCPUS - 1)) * 128 + (r & 15) * 8;

/** GPR `r` of vCPU `vcpu`, low 32 bits / high 32 bits (RAX and RSP live in the VMCB). */
export const svmGprLo = (vcpu: number, r: number) => {
  if (r === 0) return get32(RAX);
  if (r === 4) return get32(RSP);
  return Porffor.wasm.i32.load(gprAt(vcpu, r), 0, 0) >>> 0;
};
export const svmGprHi = (vcpu: number, r: number) => {
  if (r === 0) return get32(RAX + 4);
  if (r === 4) return get32(RSP + 4);
  return Porffor.wasm.i32.load(gprAt(vcpu, r), 0, 4) >>> 0;
};
export const svmSetGpr = (vcpu: number, r: number, lo: number, hi: number) => {
  if (r === 0) {
    set32(RAX, lo);
    set32(RAX + 4, hi);
  } else if (r === 4) {
    set32(RSP, lo);
    set32(RSP + 4, hi);
  } else {
    const at = gprAt(vcpu, r);
    Porffor.wasm.i32.store(at, lo | 0, 0, 0);
    Porffor.wasm.i32.store(at, hi | 0, 0, 4);
  }
};
/** RAX, RBX, RCX, RDX = a, b, c, d zero-extended (a CPUID result, SDM vol. 2A CPUID). */
export const svmSetAbcd = (vcpu: number, a: number, b: number, c: number, d: number) => {
  set32(RAX, a);
  set32(RAX + 4, 0);
  const at = gprAddress0 + (vcpu & (MAX_VCPUS - 1)) * 128;
  Porffor.wasm.i32.store(at, c | 0, 0, 8); // rcx
  Porffor.wasm.i32.store(at, 0, 0, 12);
  Porffor.wasm.i32.store(at, d | 0, 0, 16); // rdx
  Porffor.wasm.i32.store(at, 0, 0, 20);
  Porffor.wasm.i32.store(at, b | 0, 0, 24); // rbx
  Porffor.wasm.i32.store(at, 0, 0, 28);
};

export const svmRip = () => get64(RIP);
export const svmRipLo = () => get32(RIP);
export const svmRipHi = () => get32(RIP + 4);
/** RIP += len (64-bit, carry into the high half). */
export const svmAdvanceRip = (len: number) => {
  const lo = get32(RIP) + len;
  set32(RIP, lo >>> 0);
  if (lo > 0xffffffff) set32(RIP + 4, (get32(RIP + 4) + 1) >>> 0);
};
/** `to` - RIP for a 64-bit `to` at VMCB offset `field`, when it is 1..15; else 0. */
const ripDelta = (field: number) => {
  const toLo = get32(field);
  const toHi = get32(field + 4);
  const ripLo = get32(RIP);
  const ripHi = get32(RIP + 4);
  const delta = (toLo - ripLo) >>> 0;
  const hiOk = toLo >= ripLo ? toHi === ripHi : toHi === ((ripHi + 1) >>> 0);
  return hiOk && delta >= 1 && delta <= 15 ? delta : 0;
};
/** NRIP - RIP (NRIPS, APM 15.7.1), or 0. */
export const svmNextRipDelta = () => ripDelta(NEXT_RIP);
/** IOIO's next RIP (EXITINFO2, APM 15.10.2) - RIP, or 0. */
export const svmIoRipDelta = () => ripDelta(EXIT_INFO2);
export const svmCr3Lo = () => get32(CR3);
export const svmCr3Hi = () => get32(CR3 + 4);
export const svmCr4 = () => get32(CR4);
/** Base of segment register `seg` (0 ES, 1 CS, 2 SS, 3 DS, 4 FS, 5 GS; the VMCB keeps them in that order, table B-2). */
export const svmSegmentBaseLo = (seg: number) => get32(ES + (seg % 6) * 16 + 8);
export const svmSegmentBaseHi = (seg: number) => get32(ES + (seg % 6) * 16 + 12);
export const svmRflags = () => get32(RFLAGS);
export const svmCr0 = () => get32(CR0);
export const svmEferLo = () => get32(EFER);
export const svmSetEferLo = (lo: number) => set32(EFER, lo);
/** CS attributes: bit 9 L (long), bit 10 D/B (32-bit). */
export const svmCsAttrib = () => get32(CS) >>> 16;
export const svmExitInfo1Lo = () => get32(EXIT_INFO1);
export const svmExitInfo2 = () => get64(EXIT_INFO2);

/** Queues exception `vector` for the next VMRUN (EVENTINJ, APM 15.20), with an error code when >= 0. */
export const svmInjectException = (vector: number, errorCode: number) => {
  const valid = 1 << 31;
  const type = 3 << 8; // exception
  const ev = errorCode >= 0 ? 1 << 11 : 0;
  set32(EVENT_INJECT, (vector | type | ev | valid) >>> 0);
  trace(TracePoint.EventInject, selectedVcpu, vector, 3, errorCode);
  set32(EVENT_INJECT + 4, errorCode >= 0 ? errorCode >>> 0 : 0);
};

/** The VMCB field that holds MSR `index` for the guest (APM vol. 2 table B-2), or -1. */
export const svmMsrField = (index: number) => {
  switch (index) {
    case 0xc0000081:
      return 0x600; // STAR
    case 0xc0000082:
      return 0x608; // LSTAR
    case 0xc0000083:
      return 0x610; // CSTAR
    case 0xc0000084:
      return 0x618; // SFMASK
    case 0xc0000102:
      return 0x620; // KernelGsBase
    case 0x174:
      return 0x628; // SYSENTER_CS
    case 0x175:
      return 0x630; // SYSENTER_ESP
    case 0x176:
      return 0x638; // SYSENTER_EIP
    case 0x277:
      return 0x668; // G_PAT
    case 0xc0000100:
      return 0x448; // FS.base
    case 0xc0000101:
      return 0x458; // GS.base
  }
  return -1;
};

/** The raw 32-bit halves of a VMCB field of the selected vCPU. */
export const svmField32 = (offset: number) => get32(offset);
export const svmSetField32 = (offset: number, value: number) => set32(offset, value);


// ---- vCPU state for live migration: "SVM1", the VMCB state save area (0x400-0x6FF,
// APM table B-2), the 16 GPRs and the 512-byte FXSAVE area ----

const STATE_TAG = 0x314d5653; // "SVM1"
const SAVE_AREA = 0x400;
const SAVE_BYTES = 0x300;
export const SVM_STATE_BYTES = 4 + SAVE_BYTES + 128 + 512;

/** Writes vCPU `vcpu`'s state to out[off, + SVM_STATE_BYTES); false when out is too short. */
export const svmSaveState = (vcpu: number, out: Uint8Array, off: number) => {
  if (off < 0 || off + SVM_STATE_BYTES > out.length) return false;
  alignViews();
  const v = vcpu & (MAX_VCPUS - 1);
  const vmcb = vmcbAddress(v) + SAVE_AREA;
  const gprs = gprAddress0 + v * 128;
  const fx = fxAddress0 + v * 512;
  for (let i = 0; i < 4; i++) out[off + i] = (STATE_TAG >>> (i * 8)) & 0xff;
  for (let i = 0; i < SAVE_BYTES; i++) out[off + 4 + i] = Porffor.wasm.i32.load8_u(vmcb + i, 0, 0);
  for (let i = 0; i < 128; i++) out[off + 4 + SAVE_BYTES + i] = Porffor.wasm.i32.load8_u(gprs + i, 0, 0);
  for (let i = 0; i < 512; i++) out[off + 4 + SAVE_BYTES + 128 + i] = Porffor.wasm.i32.load8_u(fx + i, 0, 0);
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
  alignViews();
  const v = vcpu & (MAX_VCPUS - 1);
  const vmcb = vmcbAddress(v) + SAVE_AREA;
  const gprs = gprAddress0 + v * 128;
  const fx = fxAddress0 + v * 512;
  for (let i = 0; i < SAVE_BYTES; i++) Porffor.wasm.i32.store8(vmcb + i, src[off + 4 + i], 0, 0);
  for (let i = 0; i < 128; i++) Porffor.wasm.i32.store8(gprs + i, src[off + 4 + SAVE_BYTES + i], 0, 0);
  for (let i = 0; i < 512; i++) Porffor.wasm.i32.store8(fx + i, src[off + 4 + SAVE_BYTES + 128 + i], 0, 0);
  svmSelect(v);
  set32(EFER, get32(EFER) | EFER_SVME);
  Porffor.wasm.i32.store16(fx + 26, 0, 0, 0); // MXCSR bits 16-31 (the area's bytes 24-27)
  set32(EVENT_INJECT, 0);
  set32(EVENT_INJECT + 4, 0);
  return true;
};
