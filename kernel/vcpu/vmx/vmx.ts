// The Intel VMX back end (SDM vol. 3C chapters 24-31): enabling VMX, one VMCS per vCPU
// built from the capability MSRs, EPT (kernel/memory/nested-paging.ts in its EPT format),
// VMLAUNCH/VMRESUME through the shim, and each exit in the vCPU's vendor-neutral exit record.
// VMCSs are pages from the page allocator (their physical address must not move while
// they are in use, SDM 25.11.1); the guest's GPRs (RSP included) and FXSAVE area are its
// register file (../vcpu-area.ts), which the shim loads and stores around the entry.
import { dataAddress } from '../../host/memory';
import { Cr0, Cr4, Efer, Msr } from '../../lib/x86';
import {
  Access, areaGet, areaSet, areaToBytes, bytesToArea, MAX_VCPUS, Rec, resetVcpuArea, TO_HARDWARE, vcpuArea, advanceRip,
} from '../vcpu-area';
import { allocatePages, hostAddressHi, hostAddressLo } from '../../memory/page-allocator';
import { caps } from '../../cpu/capabilities';
import { msr, rdmsr } from '../../cpu/cpuid';
import { tscHz } from '../../lib/clock';
import { ExitReason } from '../exit-reason';
import { trace, TracePoint } from '../../diag/trace';
import { ensureHostTss, HostField, hostLo, hostHi, hostTrBase, hostValue, readHostState } from './host-state';
import {
  CR0_MASK, CR0_SHADOW, CR3_TARGET_COUNT, CR4_MASK, CR4_SHADOW, ENTRY_CONTROLS, ENTRY_EXCEPTION_ERROR,
  ENTRY_INTERRUPTION_INFO, ENTRY_MSR_LOAD_COUNT, EPT_POINTER, EXCEPTION_BITMAP, EXIT_CONTROLS, EXIT_CPUID, EXIT_CR_ACCESS,
  EXIT_EPT_MISCONFIG, EXIT_EPT_VIOLATION, EXIT_EXCEPTION_NMI, EXIT_EXTERNAL_INTERRUPT, EXIT_HLT, EXIT_INSTRUCTION_LENGTH,
  EXIT_IO, EXIT_MSR_LOAD_COUNT, EXIT_MSR_STORE_COUNT, EXIT_PREEMPTION_TIMER, EXIT_QUALIFICATION, EXIT_RDMSR, EXIT_REASON,
  EXIT_TRIPLE_FAULT, EXIT_VMCALL, EXIT_WRMSR, EXIT_INTERRUPT_WINDOW, EXIT_NMI_WINDOW, IDT_VECTORING_ERROR, IDT_VECTORING_INFO, TSC_OFFSET, GUEST_ACTIVITY, INSTRUCTION_ERROR, GUEST_CR0, GUEST_CR3, GUEST_CR4, GUEST_CS_ACCESS,
  GUEST_DEBUGCTL, GUEST_DR7, GUEST_EFER, GUEST_ES_ACCESS, GUEST_ES_BASE, GUEST_ES_LIMIT, GUEST_ES_SELECTOR, GUEST_FS_BASE,
  GUEST_GDTR_LIMIT, GUEST_GS_BASE, GUEST_IDTR_LIMIT, GUEST_INTERRUPTIBILITY, GUEST_PAT, GUEST_PENDING_DEBUG,
  GUEST_PHYSICAL_ADDRESS, GUEST_LINEAR_ADDRESS, GUEST_RFLAGS, GUEST_RIP, GUEST_RSP, GUEST_SYSENTER_CS, GUEST_SYSENTER_EIP,
  GUEST_SYSENTER_ESP, HOST_CR0, HOST_CR3, HOST_CR4, HOST_EFER, HOST_ES_SELECTOR, HOST_FS_BASE, HOST_GDTR_BASE,
  HOST_GS_BASE, HOST_IDTR_BASE, HOST_PAT, HOST_SYSENTER_CS, HOST_SYSENTER_EIP, HOST_SYSENTER_ESP, HOST_TR_BASE,
  HOST_TR_SELECTOR, PIN_CONTROLS, PREEMPTION_TIMER, PROC_CONTROLS, PROC_CONTROLS2, VMCS_LINK_POINTER,
  VPID, vmread, vmreadHi, vmwrite, vmwrite64, EXIT_MSR_STORE_ADDRESS, EXIT_MSR_LOAD_ADDRESS, ENTRY_MSR_LOAD_ADDRESS,
} from './vmcs';

export { MAX_VCPUS };

export const enum VmxError {
  NotOffered = -40,
  DisabledByFirmware = -41, // IA32_FEATURE_CONTROL locked without VMX outside SMX
  NoEpt = -42,
  NoUnrestrictedGuest = -43,
  NoMemory = -44,
  VmxonFailed = -45,
  MissingControl = -46, // a control Zerovisor needs is not allowed by the capability MSRs
  VmcsFailed = -47, // VMCLEAR, VMPTRLD or VMWRITE refused
  HostTss = -48,
}

// controls MSRs: pin, proc, exit, entry (A.3-A.5), and their "true" forms (A.3.1)
const CTLS_MSR = [Msr.VmxPinbasedCtls, Msr.VmxProcbasedCtls, Msr.VmxExitCtls, Msr.VmxEntryCtls];
const TRUE_CTLS_MSR = [Msr.VmxTruePinbasedCtls, Msr.VmxTrueProcbasedCtls, Msr.VmxTrueExitCtls, Msr.VmxTrueEntryCtls];

// Controls (SDM 25.6.1, 25.6.2, 25.7.1, 25.8.1).
const PIN_EXTERNAL_INTERRUPT = 1 << 0;
const PIN_NMI = 1 << 3;
const PIN_VIRTUAL_NMI = 1 << 5;
const PIN_PREEMPTION_TIMER = 1 << 6;
const PROC_INTERRUPT_WINDOW = 1 << 2;
const PROC_TSC_OFFSET = 1 << 3;
const PROC_HLT = 1 << 7;
const PROC_NMI_WINDOW = 1 << 22;
const PROC_UNCONDITIONAL_IO = 1 << 24;
const PROC_SECONDARY = 1 << 31;
const PROC2_EPT = 1 << 1;
const PROC2_RDTSCP = 1 << 3;
const PROC2_VPID = 1 << 5;
const PROC2_UNRESTRICTED = 1 << 7;
const PROC2_INVPCID = 1 << 12;
const EXIT_HOST_64 = 1 << 9;
const EXIT_SAVE_PAT = 1 << 18;
const EXIT_LOAD_PAT = 1 << 19;
const EXIT_SAVE_EFER = 1 << 20;
const EXIT_LOAD_EFER = 1 << 21;
const ENTRY_IA32E_GUEST = 1 << 9;
const ENTRY_LOAD_PAT = 1 << 14;
const ENTRY_LOAD_EFER = 1 << 15;

let enabled = false;
let vmxonPage = -1;
const vmcsPage = new Float64Array(MAX_VCPUS); // physical address, when hasVmcs (kept for the slot's next vCPU)
const hasVmcs = new Uint8Array(MAX_VCPUS);
const launched = new Uint8Array(MAX_VCPUS);
const flushPending = new Uint8Array(MAX_VCPUS);
const eptpLo = new Uint32Array(MAX_VCPUS);
const eptpHi = new Uint32Array(MAX_VCPUS);
let current = -1; // the vCPU whose VMCS is current (VMPTRLD)

// The SYSCALL MSRs have no VMCS fields: VM entry loads the guest's from an MSR-load area, VM
// exit stores them back there and loads the host's from a second area (SDM 25.7.2, 25.8.2,
// 28.4, 26.4). One page per vCPU: the guest's entries at 0, the host's at 0x800; entries
// are 16 bytes: index u32, reserved u32, value u64 (SDM table 25-15).
const SWITCHED_MSRS = [Msr.Star, Msr.Lstar, Msr.Cstar, Msr.Sfmask, Msr.KernelGsBase];
const msrPage = new Float64Array(MAX_VCPUS);
const hasMsrPage = new Uint8Array(MAX_VCPUS);
const msrEntry = new Uint32Array(4);
const HOST_MSR_AREA = 0x800;
const MSR_FIELD = 0x10000; // vmxMsrField's mark for a switched MSR (+ its index in SWITCHED_MSRS)

/** Writes entry `i` of the area at `area`: MSR `index`, value hi:lo. */
const putMsrEntry = (area: number, i: number, index: number, lo: number, hi: number) => {
  msrEntry[0] = index;
  msrEntry[1] = 0;
  msrEntry[2] = lo;
  msrEntry[3] = hi;
  const at = area + i * 16;
  hv_phys_write(hostAddressLo(at), hostAddressHi(at), dataAddress(msrEntry), 16);
};
/** Reads entry `i` of the guest area of vCPU `v` into msrEntry. */
const readMsrEntry = (v: number, i: number) => {
  const at = msrPage[v] + i * 16;
  hv_phys_read(hostAddressLo(at), hostAddressHi(at), dataAddress(msrEntry), 16);
};

// The controls as adjusted to this processor, and the fixed CR bits (computed at enable).
const controls = new Uint32Array(5); // pin, proc, exit, entry, proc2
let cr0Fixed0 = 0;
let cr0Fixed1 = 0;
let cr4Fixed0 = 0;
let cr4Fixed1 = 0;
let hostCr4 = 0;
let hasPat = false;
let windowControls = 0; // PROC_INTERRUPT_WINDOW / PROC_NMI_WINDOW where the processor allows them
const procControls = new Uint32Array(MAX_VCPUS); // each vCPU's primary controls as last written
let preemptionTicks = 0;
const preemptionNow = new Float64Array(MAX_VCPUS); // the value each vCPU's entries load into the preemption timer
let inveptType = 0; // 1 single-context, 2 all-context, 0 none (IA32_VMX_EPT_VPID_CAP bits 25, 26)
let invvpidType = 0; // 1 single-context, 2 all-context, 0 none (bits 41, 42)
const vpidFlushPending = new Uint8Array(MAX_VCPUS);

let cr0Owned = 0; // CR0/CR4 bits the host owns (guest/host masks, SDM 25.6.6): the guest reads them from the shadows
let cr4Owned = 0;
let cr0Guest = 0; // the complements: the bits the guest owns
let cr4Guest = 0;

// What the shim moves between the current VMCS and the vCPU's area (vcpu-area.ts) in the
// same host call as the entry: pairs (field encoding, area offset), TO_HARDWARE marking the
// VMWRITEs before entry (those first); the rest are VMREADs after the exit (SDM vol. 3D appendix B;
// exit-information fields SDM 25.9, 28.2). One host call instead of one per field.
const TRANSFERS = new Uint32Array([
  GUEST_RSP, Rec.Gprs + 32 + TO_HARDWARE, GUEST_RIP, Rec.Rip + TO_HARDWARE, GUEST_INTERRUPTIBILITY, Rec.Interruptibility + TO_HARDWARE,
  GUEST_RFLAGS, Rec.Rflags + TO_HARDWARE,
  EXIT_REASON, Rec.Code, EXIT_QUALIFICATION, Rec.Qualification, EXIT_INSTRUCTION_LENGTH, Rec.Length,
  GUEST_PHYSICAL_ADDRESS, Rec.Gpa, GUEST_LINEAR_ADDRESS, Rec.Linear, GUEST_RSP, Rec.Gprs + 32, GUEST_RIP, Rec.Rip,
  GUEST_RFLAGS, Rec.Rflags, GUEST_CR0, Rec.Raw0, CR0_SHADOW, Rec.Cr0, GUEST_CR3, Rec.Cr3, GUEST_CR4, Rec.Raw1,
  CR4_SHADOW, Rec.Cr4, GUEST_EFER, Rec.Efer, GUEST_CS_ACCESS, Rec.Raw2, GUEST_INTERRUPTIBILITY, Rec.Interruptibility,
  GUEST_ES_BASE, Rec.SegmentBases, GUEST_ES_BASE + 2, Rec.SegmentBases + 8, GUEST_ES_BASE + 4, Rec.SegmentBases + 16,
  GUEST_ES_BASE + 6, Rec.SegmentBases + 24, GUEST_ES_BASE + 8, Rec.SegmentBases + 32, GUEST_ES_BASE + 10, Rec.SegmentBases + 40,
  IDT_VECTORING_INFO, Rec.EventInfo, IDT_VECTORING_ERROR, Rec.EventError,
]);
let transfersAt = 0;

/** `wanted` adjusted by a controls MSR just read: allowed-0 bits forced on, only allowed-1 bits kept (SDM A.3.1). */
const adjust = (wanted: number) => ((wanted | msr[0]) & msr[1]) >>> 0;

/** Reads control set `i` (pin, proc, exit, entry) and adjusts `wanted`; `needed` must survive. -1 when not. */
const controlSet = (i: number, wanted: number, needed: number) => {
  rdmsr(caps.vmxTrueControls ? TRUE_CTLS_MSR[i] : CTLS_MSR[i]);
  const value = adjust(wanted);
  return (value & needed) >>> 0 === needed >>> 0 ? value : -1;
};

const revisionWord = new Uint32Array(1);
/** The VMCS revision identifier in the first 31 bits of a VMXON region or VMCS (SDM 25.2, 25.11.5). */
const writeRevision = (page: number) => {
  revisionWord[0] = caps.vmcsRevision;
  hv_phys_write(hostAddressLo(page), hostAddressHi(page), dataAddress(revisionWord), 4);
};

/** Turns VMX on: feature control, fixed CR bits, VMXON, a host TSS. 0 or a VmxError. */
export const vmxEnable = () => {
  if (enabled) return 0;
  if (!caps.vmx) return VmxError.NotOffered;
  if (caps.vmxLocked && !caps.vmxOutsideSmx) return VmxError.DisabledByFirmware;
  if (!caps.ept || !caps.eptWalk4 || !caps.eptWriteBack) return VmxError.NoEpt;
  if (!caps.unrestrictedGuest) return VmxError.NoUnrestrictedGuest;
  transfersAt = dataAddress(TRANSFERS);
  // Controls first: nothing changes in the machine unless they all fit.
  const pin = controlSet(0, PIN_EXTERNAL_INTERRUPT | PIN_NMI | PIN_VIRTUAL_NMI | (caps.preemptionTimer ? PIN_PREEMPTION_TIMER : 0), PIN_EXTERNAL_INTERRUPT);
  const procNeeded = PROC_HLT | PROC_UNCONDITIONAL_IO | PROC_SECONDARY;
  const proc = controlSet(1, procNeeded | PROC_TSC_OFFSET, procNeeded);
  // the window exits are set per vCPU when wanted: here only whether the processor allows them (A.3.2)
  const windows = controlSet(1, procNeeded | PROC_INTERRUPT_WINDOW | PROC_NMI_WINDOW, procNeeded);
  windowControls = windows < 0 ? 0 : windows & (PROC_INTERRUPT_WINDOW | (pin >= 0 && (pin & PIN_VIRTUAL_NMI) !== 0 ? PROC_NMI_WINDOW : 0));
  const exitNeeded = EXIT_HOST_64 | EXIT_SAVE_EFER | EXIT_LOAD_EFER;
  const exit = controlSet(2, exitNeeded | EXIT_SAVE_PAT | EXIT_LOAD_PAT, exitNeeded);
  const entry = controlSet(3, ENTRY_LOAD_EFER | ENTRY_LOAD_PAT, ENTRY_LOAD_EFER);
  rdmsr(Msr.VmxProcbasedCtls2);
  const proc2Needed = PROC2_EPT | PROC2_UNRESTRICTED;
  const proc2 = adjust(proc2Needed | (caps.vpid ? PROC2_VPID : 0) | PROC2_RDTSCP | PROC2_INVPCID);
  if (pin < 0 || proc < 0 || exit < 0 || entry < 0 || (proc2 & proc2Needed) !== proc2Needed) return VmxError.MissingControl;
  controls[0] = pin;
  controls[1] = proc;
  controls[2] = exit;
  controls[3] = entry;
  controls[4] = proc2;
  hasPat = (exit & EXIT_LOAD_PAT) !== 0 && (entry & ENTRY_LOAD_PAT) !== 0;
  rdmsr(Msr.VmxCr0Fixed0);
  cr0Fixed0 = msr[0];
  rdmsr(Msr.VmxCr0Fixed1);
  cr0Fixed1 = msr[0];
  rdmsr(Msr.VmxCr4Fixed0);
  cr4Fixed0 = msr[0];
  rdmsr(Msr.VmxCr4Fixed1);
  cr4Fixed1 = msr[0];
  // CR0/CR4: bits the processor fixes in VMX operation are the host's (mask); the guest
  // sees its own values in the read shadows. Unrestricted guest frees PE and PG (SDM 26.3.1.1).
  cr0Owned = (((cr0Fixed0 & ~(Cr0.PE | Cr0.PG)) | ~cr0Fixed1) & 0xffffffff) >>> 0;
  cr4Owned = ((cr4Fixed0 | ~cr4Fixed1) & 0xffffffff) >>> 0;
  cr0Guest = ~cr0Owned >>> 0;
  cr4Guest = ~cr4Owned >>> 0;
  rdmsr(Msr.VmxEptVpidCap);
  inveptType = !caps.invept ? 0 : (msr[0] & (1 << 25)) !== 0 ? 1 : (msr[0] & (1 << 26)) !== 0 ? 2 : 0;
  invvpidType = !caps.invvpid ? 0 : (msr[1] & (1 << 9)) !== 0 ? 1 : (msr[1] & (1 << 10)) !== 0 ? 2 : 0;
  if (vmxonPage < 0) {
    vmxonPage = allocatePages(1, 1, 0);
    if (vmxonPage < 0) return VmxError.NoMemory;
  }
  writeRevision(vmxonPage);
  // IA32_FEATURE_CONTROL: lock with VMX outside SMX when the firmware left it open (SDM 24.7).
  if (!caps.vmxLocked) {
    hv_wrmsr(Msr.FeatureControl, 0x5, 0);
    caps.vmxLocked = true;
    caps.vmxOutsideSmx = true;
  }
  // CR0 and CR4 as VMX operation requires (SDM 24.8, A.7, A.8): CR4.VMXE among them.
  readHostState();
  const cr0 = ((hostLo(HostField.Cr0) | cr0Fixed0) & cr0Fixed1) >>> 0;
  if (cr0 !== hostLo(HostField.Cr0)) hv_write_cr(0, cr0, hostHi(HostField.Cr0));
  hostCr4 = ((hostLo(HostField.Cr4) | cr4Fixed0) & cr4Fixed1) >>> 0;
  hv_write_cr(4, hostCr4, hostHi(HostField.Cr4));
  if (hv_vmx_on(hostAddressLo(vmxonPage), hostAddressHi(vmxonPage)) !== 0) {
    hv_write_cr(4, hostLo(HostField.Cr4), hostHi(HostField.Cr4));
    return VmxError.VmxonFailed;
  }
  if (ensureHostTss() !== 0) {
    hv_vmx_off();
    hv_write_cr(4, hostLo(HostField.Cr4), hostHi(HostField.Cr4));
    return VmxError.HostTss;
  }
  // The preemption timer counts TSC >> shift (SDM 26.5.1): a 5 ms slice, shorter than the
  // firmware's 10 ms timer tick, so that the slice ends a guest that never exits even where
  // host interrupts come regularly (each entry reloads the timer).
  const hz = tscHz() > 0 ? tscHz() : 1e9;
  preemptionTicks = Math.floor((hz / 200) / Math.pow(2, caps.preemptionTimerShift));
  if (preemptionTicks > 0xffffffff) preemptionTicks = 0xffffffff;
  enabled = true;
  current = -1;
  return 0;
};

/** VMXOFF and CR4.VMXE clear, before Zerovisor hands the machine back to the firmware. */
export const vmxDisable = () => {
  if (!enabled) return;
  for (let v = 0; v < MAX_VCPUS; v++) {
    const page = vmcsPage[v];
    if (hasVmcs[v] !== 0) hv_vmclear(hostAddressLo(page), hostAddressHi(page));
  }
  hv_vmx_off();
  readHostState();
  hv_write_cr(4, (hostLo(HostField.Cr4) & ~0x2000) >>> 0, hostHi(HostField.Cr4));
  enabled = false;
  current = -1;
};

/** Makes vCPU `vcpu`'s VMCS current (VMPTRLD); false when the processor refuses. */
const select = (vcpu: number) => {
  if (current === vcpu) return true;
  const page = vmcsPage[vcpu];
  if (hasVmcs[vcpu] === 0 || hv_vmptrld(hostAddressLo(page), hostAddressHi(page)) !== 0) return false;
  current = vcpu;
  return true;
};

// Access rights in the VMCS form (SDM 25.4.1 table 25-2): type, S, DPL, P, AVL, L, D/B, G, unusable (bit 16).
const CODE32 = 0xc09b;
const DATA32 = 0xc093;
const TSS32_BUSY = 0x008b;
const UNUSABLE = 0x10000;

let writesFailed = 0;
const put = (field: number, lo: number, hi: number) => {
  if (vmwrite(field, lo, hi) !== 0) writesFailed++;
};
const put64 = (field: number, value: number) => {
  if (vmwrite64(field, value) !== 0) writesFailed++;
};

/** Guest segment `seg` (0 ES .. 5 GS, 6 LDTR, 7 TR): selector, base, limit, access rights. */
const guestSegment = (seg: number, selector: number, base: number, limit: number, access: number) => {
  put(GUEST_ES_SELECTOR + seg * 2, selector, 0);
  put64(GUEST_ES_BASE + seg * 2, base);
  put(GUEST_ES_LIMIT + seg * 2, limit, 0);
  put(GUEST_ES_ACCESS + seg * 2, access, 0);
};

const hostFields = () => {
  readHostState();
  put(HOST_CR0, hostLo(HostField.Cr0), hostHi(HostField.Cr0));
  put(HOST_CR3, hostLo(HostField.Cr3), hostHi(HostField.Cr3));
  put(HOST_CR4, hostLo(HostField.Cr4), hostHi(HostField.Cr4));
  // ES, CS, SS, DS, FS, GS in the VMCS order; RPL and TI must be 0 (SDM 27.2.3)
  put(HOST_ES_SELECTOR, hostLo(HostField.Cs + 3) & 0xfff8, 0);
  put(HOST_ES_SELECTOR + 2, hostLo(HostField.Cs) & 0xfff8, 0);
  put(HOST_ES_SELECTOR + 4, hostLo(HostField.Cs + 1) & 0xfff8, 0);
  put(HOST_ES_SELECTOR + 6, hostLo(HostField.Cs + 2) & 0xfff8, 0);
  put(HOST_ES_SELECTOR + 8, hostLo(HostField.Cs + 4) & 0xfff8, 0);
  put(HOST_ES_SELECTOR + 10, hostLo(HostField.Cs + 5) & 0xfff8, 0);
  put(HOST_TR_SELECTOR, hostLo(HostField.Tr) & 0xfff8, 0);
  put64(HOST_TR_BASE, hostTrBase());
  put64(HOST_GDTR_BASE, hostValue(HostField.GdtBase));
  put64(HOST_IDTR_BASE, hostValue(HostField.IdtBase));
  rdmsr(Msr.FsBase);
  put(HOST_FS_BASE, msr[0], msr[1]);
  rdmsr(Msr.GsBase);
  put(HOST_GS_BASE, msr[0], msr[1]);
  rdmsr(Msr.SysenterCs);
  put(HOST_SYSENTER_CS, msr[0], 0);
  rdmsr(Msr.SysenterEsp);
  put(HOST_SYSENTER_ESP, msr[0], msr[1]);
  rdmsr(Msr.SysenterEip);
  put(HOST_SYSENTER_EIP, msr[0], msr[1]);
  rdmsr(Msr.Efer);
  put(HOST_EFER, msr[0], msr[1]);
  if (hasPat) {
    rdmsr(Msr.Pat);
    put(HOST_PAT, msr[0], msr[1]);
  }
};

/**
 * Creates vCPU `vcpu` for a guest whose memory the EPT tables at `eptRoot` map, in 32-bit
 * protected mode with paging off and flat segments (Multiboot 0.6.96 section 3.2):
 * EIP = entry, EAX, EBX as given. VPID = vcpu + 1. 0 or a VmxError.
 */
export const vmxCreateVcpu = (vcpu: number, eptRoot: number, entry: number, eax: number, ebx: number) => {
  if (!enabled) return VmxError.NotOffered;
  const v = vcpu;
  if (hasVmcs[v] === 0) {
    const page = allocatePages(1, 1, 0);
    if (page < 0) return VmxError.NoMemory;
    vmcsPage[v] = page;
    hasVmcs[v] = 1;
  }
  const page = vmcsPage[v];
  writeRevision(page);
  if (current === v) current = -1;
  if (hv_vmclear(hostAddressLo(page), hostAddressHi(page)) !== 0 || !select(v)) return VmxError.VmcsFailed;
  launched[v] = 0;
  flushPending[v] = 1;
  vpidFlushPending[v] = 1; // the VPID may have tagged another VM's translations before
  writesFailed = 0;
  put(PIN_CONTROLS, controls[0], 0);
  put(PROC_CONTROLS, controls[1], 0);
  procControls[v] = controls[1];
  if ((controls[1] & PROC_TSC_OFFSET) !== 0) put(TSC_OFFSET, 0, 0);
  put(PROC_CONTROLS2, controls[4], 0);
  put(EXIT_CONTROLS, controls[2], 0);
  put(ENTRY_CONTROLS, controls[3] & ~ENTRY_IA32E_GUEST, 0);
  put(EXCEPTION_BITMAP, 0, 0);
  put(CR3_TARGET_COUNT, 0, 0);
  if (hasMsrPage[v] === 0) {
    const area = allocatePages(1, 1, 0);
    if (area < 0) return VmxError.NoMemory;
    msrPage[v] = area;
    hasMsrPage[v] = 1;
  }
  const n = SWITCHED_MSRS.length;
  for (let i = 0; i < n; i++) {
    putMsrEntry(msrPage[v], i, SWITCHED_MSRS[i], 0, 0); // the guest's: 0 at reset
    rdmsr(SWITCHED_MSRS[i]);
    putMsrEntry(msrPage[v] + HOST_MSR_AREA, i, SWITCHED_MSRS[i], msr[0], msr[1]);
  }
  put64(EXIT_MSR_STORE_ADDRESS, msrPage[v]);
  put(EXIT_MSR_STORE_COUNT, n, 0);
  put64(ENTRY_MSR_LOAD_ADDRESS, msrPage[v]);
  put(ENTRY_MSR_LOAD_COUNT, n, 0);
  put64(EXIT_MSR_LOAD_ADDRESS, msrPage[v] + HOST_MSR_AREA);
  put(EXIT_MSR_LOAD_COUNT, n, 0);
  put(ENTRY_INTERRUPTION_INFO, 0, 0);
  if ((controls[4] & PROC2_VPID) !== 0) put(VPID, v + 1, 0);
  // EPTP: write-back (6), 4-level walk (3 << 3), A/D flags when offered (bit 6) (SDM 25.6.11)
  const eptp = eptRoot + 0x1e + (caps.eptAccessedDirty ? 0x40 : 0);
  eptpLo[v] = hostAddressLo(eptp);
  eptpHi[v] = hostAddressHi(eptp);
  put(EPT_POINTER, eptpLo[v], eptpHi[v]);
  put(CR0_MASK, cr0Owned, 0);
  put(CR4_MASK, cr4Owned, 0);
  put(CR0_SHADOW, 0x11, 0);
  put(CR4_SHADOW, 0, 0);
  setCr0(v, 0x11); // PE | ET
  put(GUEST_CR3, 0, 0);
  setCr4(v, 0);
  put(GUEST_DR7, 0x400, 0);
  put(GUEST_RFLAGS, 2, 0);
  put(GUEST_RIP, entry, 0);
  put(GUEST_RSP, 0, 0);
  guestSegment(0, 0x10, 0, 0xffffffff, DATA32);
  guestSegment(1, 0x08, 0, 0xffffffff, CODE32);
  guestSegment(2, 0x10, 0, 0xffffffff, DATA32);
  guestSegment(3, 0x10, 0, 0xffffffff, DATA32);
  guestSegment(4, 0x10, 0, 0xffffffff, DATA32);
  guestSegment(5, 0x10, 0, 0xffffffff, DATA32);
  guestSegment(6, 0, 0, 0xffff, UNUSABLE);
  guestSegment(7, 0, 0, 0xffff, TSS32_BUSY);
  put(GUEST_GDTR_LIMIT, 0xffff, 0);
  put(GUEST_IDTR_LIMIT, 0xffff, 0);
  put64(GUEST_ES_BASE + 16, 0); // GDTR base
  put64(GUEST_ES_BASE + 18, 0); // IDTR base
  put(GUEST_INTERRUPTIBILITY, 0, 0);
  put(GUEST_ACTIVITY, 0, 0);
  put(GUEST_PENDING_DEBUG, 0, 0);
  put(VMCS_LINK_POINTER, 0xffffffff, 0xffffffff);
  put(GUEST_DEBUGCTL, 0, 0);
  put(GUEST_EFER, 0, 0);
  if (hasPat) put(GUEST_PAT, 0x00070406, 0x00070406);
  put(GUEST_SYSENTER_CS, 0, 0);
  put(GUEST_SYSENTER_ESP, 0, 0);
  put(GUEST_SYSENTER_EIP, 0, 0);
  if ((controls[0] & PIN_PREEMPTION_TIMER) !== 0) put(PREEMPTION_TIMER, preemptionTicks, 0);
  preemptionNow[v] = preemptionTicks;
  hostFields();
  if (writesFailed !== 0) return VmxError.VmcsFailed;
  // the register file: all zero but EAX, EBX, RIP (RSP 0 as GUEST_RSP); FPU state at its reset values
  resetVcpuArea(v);
  areaSet(v, Rec.Gprs, eax);
  areaSet(v, Rec.Gprs + 24, ebx); // rbx = register 3
  areaSet(v, Rec.Rip, entry);
  areaSet(v, Rec.Rflags, 2);
  areaSet(v, Rec.Cr0, 0x11);
  return 0;
};

/** Forgets vCPU `vcpu`: its VMCS is cleared (never entered again until created anew). */
export const vmxDestroyVcpu = (vcpu: number) => {
  const v = vcpu;
  const page = vmcsPage[v];
  if (hasVmcs[v] === 0) return;
  hv_vmclear(hostAddressLo(page), hostAddressHi(page));
  if (current === v) current = -1;
  launched[v] = 0;
};

/** Guest CR0 = value with the bits VMX fixes (SDM A.7; PE and PG free with unrestricted guest). */
const setCr0 = (v: number, value: number) => {
  const fixed0 = cr0Fixed0 & ~(Cr0.PE | Cr0.PG);
  put(GUEST_CR0, ((value | fixed0) & cr0Fixed1) >>> 0, 0);
};
const setCr4 = (v: number, value: number) => {
  put(GUEST_CR4, ((value | cr4Fixed0) & cr4Fixed1) >>> 0, 0);
};

/** Makes vCPU `vcpu`'s next entry flush its EPT-derived translations (INVEPT single-context, SDM 29.4.3.1). */
export const vmxFlushTlb = (vcpu: number) => {
  flushPending[vcpu] = 1;
};

/** The record of a failed entry: InvalidState; code the VM-instruction error after VMfailValid (status 2, SDM 31.4), else -1. */
const entryFailed = (v: number, status: number) => {
  areaSet(v, Rec.Code, status === 2 ? vmread(INSTRUCTION_ERROR) : 0xffffffff);
  areaSet(v, Rec.Reason, ExitReason.InvalidState);
  return ExitReason.InvalidState;
};

/**
 * Runs vCPU `vcpu` until its next VM exit and fills its exit record (vcpu-area.ts): the
 * shim VMREAD the fields in TRANSFERS into it; here the vendor-neutral reason, the guest's
 * view of CR0/CR4, the code size and the I/O or MSR access are derived. Returns the ExitReason.
 */
export const vmxRun = (vcpu: number) => {
  const v = vcpu;
  if (!select(v)) return entryFailed(v, 1);
  const a = vcpuArea(v);
  for (;;) {
    if (flushPending[v] !== 0) {
      if (inveptType !== 0) hv_invept(inveptType, eptpLo[v], eptpHi[v]);
      flushPending[v] = 0;
    }
    if (vpidFlushPending[v] !== 0) {
      if (invvpidType !== 0 && (controls[4] & PROC2_VPID) !== 0) hv_invvpid(invvpidType, v + 1);
      vpidFlushPending[v] = 0;
    }
    // VMfailInvalid / VMfailValid: the VM-instruction error field says why (SDM 31.4)
    const status = hv_vmx_run(a, transfersAt, TRANSFERS.length / 2, launched[v]);
    if (status !== 0) return entryFailed(v, status);
    launched[v] = 1;
    const full = Porffor.wasm.i32.load(a + Rec.Code, 0, 0);
    const basic = full & 0xffff;
    Porffor.wasm.i32.store(a + Rec.Code, basic, 0, 0);
    if (full < 0) {
      // VM-entry failure (exit reason bit 31, SDM 27.8): the code keeps bit 31 for the report
      Porffor.wasm.i32.store(a + Rec.Code, full, 0, 0);
      Porffor.wasm.i32.store(a + Rec.Reason, ExitReason.InvalidState, 0, 0);
      return ExitReason.InvalidState;
    }
    // the guest's CR0/CR4: its own bits, and the shadow's where the host owns them (SDM 25.6.6)
    Porffor.wasm.i32.store(a + Rec.Cr0, (Porffor.wasm.i32.load(a + Rec.Raw0, 0, 0) & cr0Guest) | (Porffor.wasm.i32.load(a + Rec.Cr0, 0, 0) & cr0Owned), 0, 0);
    Porffor.wasm.i32.store(a + Rec.Cr4, (Porffor.wasm.i32.load(a + Rec.Raw1, 0, 0) & cr4Guest) | (Porffor.wasm.i32.load(a + Rec.Cr4, 0, 0) & cr4Owned), 0, 0);
    // CS access rights (SDM 25.4.1 table 25-2): L bit 13, D/B bit 14
    const ar = Porffor.wasm.i32.load(a + Rec.Raw2, 0, 0);
    Porffor.wasm.i32.store(a + Rec.CodeSize, (ar & 0x2000) !== 0 ? 64 : (ar & 0x4000) !== 0 ? 32 : 16, 0, 0);
    // handled here, the guest goes on (no `continue` inside a switch: porffor leaves only the switch)
    if (basic === EXIT_CR_ACCESS) {
      if (onCrAccess(v)) continue;
      Porffor.wasm.i32.store(a + Rec.Reason, ExitReason.Other, 0, 0);
      return ExitReason.Other;
    }
    let reason = ExitReason.Other;
    let access = 0;
    switch (basic) {
      case EXIT_CPUID:
        reason = ExitReason.Cpuid;
        break;
      case EXIT_IO: {
        // exit qualification (SDM 28.2.1 table 28-5): size - 1 bits 2:0, IN bit 3, string 4, REP 5, port 31:16
        const q = Porffor.wasm.i32.load(a + Rec.Qualification, 0, 0);
        access = ((q & 8) !== 0 ? 0 : Access.Write) | ((q & 0x10) !== 0 ? Access.String : 0) | ((q & 0x20) !== 0 ? Access.Rep : 0) | (((q & 7) + 1) << 4) | (q & 0xffff0000);
        reason = ExitReason.Io;
        break;
      }
      case EXIT_RDMSR:
        reason = ExitReason.Msr;
        break;
      case EXIT_WRMSR:
        access = Access.Write;
        reason = ExitReason.Msr;
        break;
      case EXIT_HLT:
        reason = ExitReason.Hlt;
        break;
      case EXIT_VMCALL:
        reason = ExitReason.Hypercall;
        break;
      case EXIT_EPT_VIOLATION:
        reason = ExitReason.NestedPageFault;
        break;
      case EXIT_TRIPLE_FAULT:
        reason = ExitReason.Shutdown;
        break;
      case EXIT_PREEMPTION_TIMER:
        reason = ExitReason.SliceEnd;
        break;
      case EXIT_EXTERNAL_INTERRUPT:
      case EXIT_EXCEPTION_NMI: // the exception bitmap is 0: an NMI
        reason = ExitReason.ExternalInterrupt;
        break;
      case EXIT_INTERRUPT_WINDOW:
      case EXIT_NMI_WINDOW:
        reason = ExitReason.InterruptWindow;
        break;
      case EXIT_EPT_MISCONFIG:
        reason = ExitReason.InvalidState;
        break;
    }
    // the instruction length is defined for instruction exits only (SDM 28.2.5)
    if (reason === ExitReason.NestedPageFault || reason === ExitReason.ExternalInterrupt || reason === ExitReason.SliceEnd ||
      reason === ExitReason.Shutdown || reason === ExitReason.InterruptWindow) {
      Porffor.wasm.i32.store(a + Rec.Length, 0, 0, 0);
    }
    Porffor.wasm.i32.store(a + Rec.Access, access | 0, 0, 0);
    Porffor.wasm.i32.store(a + Rec.Reason, reason, 0, 0);
    return reason;
  }
};

// ---- control-register accesses (exit qualification, SDM 28.2.1 table 28-3) ----

/**
 * MOV to/from CR0, CR3, CR4 and CLTS, when they exit (a CR0/CR4 bit the host owns, or CR3
 * exiting a processor will not turn off): the guest's view is kept in the read shadows,
 * the real register gets the bits VMX fixes. False for what is not handled (the VM stops).
 */
const onCrAccess = (v: number) => {
  const q = areaGet(v, Rec.Qualification);
  const cr = q & 15;
  const kind = (q >>> 4) & 3;
  const r = (q >>> 8) & 15;
  if (kind === 2) {
    // CLTS: TS is not owned; it only exits when the shadow says so
    put(CR0_SHADOW, vmread(CR0_SHADOW) & ~8, 0);
    put(GUEST_CR0, vmread(GUEST_CR0) & ~8, 0);
  } else if (kind === 0) {
    const lo = areaGet(v, r * 8);
    const hi = areaGet(v, r * 8 + 4);
    if (crWriteFaults(cr, lo)) {
      vmxInjectException(v, 13, 0); // #GP(0) at the MOV: RIP stays
      return true;
    }
    if (cr === 0) {
      put(CR0_SHADOW, lo, 0);
      setCr0(v, lo);
      syncLongMode(lo);
    } else if (cr === 4) {
      put(CR4_SHADOW, lo, 0);
      setCr4(v, lo);
    } else if (cr === 3) put(GUEST_CR3, lo, hi);
    else return false;
  } else if (kind === 1) {
    if (cr !== 3) return false; // reads of CR0/CR4 come from the shadows without exiting
    areaSet(v, r * 8, vmread(GUEST_CR3));
    areaSet(v, r * 8 + 4, vmreadHi(GUEST_CR3));
  } else return false;
  advanceRip(v, areaGet(v, Rec.Length));
  return true;
};

/**
 * Whether the guest's MOV to CR0/CR4 of `lo` faults with #GP(0) on a processor (SDM vol. 2B
 * MOV CR; vol. 3A 10.8.5): CR0.PG without PE, CR0.PG with EFER.LME but CR4.PAE clear, CR4.PAE
 * cleared in IA-32e mode. VM entry would refuse such a guest state (SDM 26.3.1.1).
 */
const crWriteFaults = (cr: number, lo: number) => {
  const efer = vmread(GUEST_EFER);
  if (cr === 0) {
    if ((lo & Cr0.PG) === 0) return false;
    return (lo & Cr0.PE) === 0 || ((efer & Efer.LME) !== 0 && (vmread(GUEST_CR4) & Cr4.PAE) === 0);
  }
  return cr === 4 && (efer & Efer.LMA) !== 0 && (lo & Cr4.PAE) === 0;
};

/** After the host set CR0 for the guest: EFER.LMA and the IA-32e entry control follow PG with LME (SDM 10.8.5). */
const syncLongMode = (cr0: number) => {
  const efer = vmread(GUEST_EFER);
  const lma = (cr0 & Cr0.PG) !== 0 && (efer & Efer.LME) !== 0;
  put(GUEST_EFER, lma ? efer | Efer.LMA : efer & ~Efer.LMA, 0);
  const entry = vmread(ENTRY_CONTROLS);
  put(ENTRY_CONTROLS, lma ? entry | ENTRY_IA32E_GUEST : entry & ~ENTRY_IA32E_GUEST, 0);
};

// ---- guest state the back end keeps (not in the register file) ----

/** The guest's EFER from a WRMSR: LMA stays what the processor made it (SDM 2.2.1). */
export const vmxSetEferLo = (vcpu: number, lo: number) => {
  const v = vcpu;
  if (!select(v)) return;
  const value = ((lo & ~Efer.LMA) | (vmread(GUEST_EFER) & Efer.LMA)) >>> 0;
  put(GUEST_EFER, value, 0);
  areaSet(v, Rec.Efer, value);
};

/** Queues exception `vector` for the next entry (VM-entry interruption information, SDM 25.8.3). */
export const vmxInjectException = (vcpu: number, vector: number, errorCode: number) => {
  const v = vcpu;
  if (!select(v)) return;
  // no error code in real mode (SDM 27.2.1.3)
  const withCode = errorCode >= 0 && (areaGet(v, Rec.Cr0) & Cr0.PE) !== 0;
  vmwrite(ENTRY_INTERRUPTION_INFO, (vector | (3 << 8) | (withCode ? 1 << 11 : 0) | (1 << 31)) >>> 0, 0);
  if (withCode) vmwrite(ENTRY_EXCEPTION_ERROR, errorCode >>> 0, 0);
  trace(TracePoint.EventInject, v, vector, 3, errorCode);
};

/**
 * The next entry of vCPU `vcpu` exits after at most `ticks` TSC ticks (a device timer of its
 * VM comes due then), or after its slice when `ticks` < 0 or later: the preemption timer,
 * which every entry reloads from its field (SDM 26.7.4), counts TSC >> shift.
 */
export const vmxSetTimerExit = (vcpu: number, ticks: number) => {
  if ((controls[0] & PIN_PREEMPTION_TIMER) === 0) return;
  let value = preemptionTicks;
  if (ticks >= 0) {
    const t = Math.floor(ticks / Math.pow(2, caps.preemptionTimerShift));
    if (t < value) value = t;
  }
  if (value === preemptionNow[vcpu] || !select(vcpu)) return;
  preemptionNow[vcpu] = value;
  vmwrite(PREEMPTION_TIMER, value, 0);
};

// ---- events (SDM 27.6 event injection; 26.7.5-26.7.6 interrupt- and NMI-window exiting) ----

/**
 * Queues an event for the next entry in the VM-entry interruption-information format
 * (vector 7:0, type 10:8, error code 11, valid 31; SDM 25.8.3) with `error` when bit 11 is set.
 */
export const vmxInjectEvent = (vcpu: number, info: number, error: number) => {
  if (!select(vcpu)) return;
  vmwrite(ENTRY_INTERRUPTION_INFO, (info & 0x80000fff) >>> 0, 0);
  if ((info & 0x800) !== 0) vmwrite(ENTRY_EXCEPTION_ERROR, error >>> 0, 0);
  trace(TracePoint.EventInject, vcpu, info & 0xff, (info >>> 8) & 7, error);
};

/** Sets or clears interrupt-window (`nmi` false) or NMI-window exiting for vCPU `vcpu`. */
export const vmxSetWindow = (vcpu: number, nmi: boolean, on: boolean) => {
  const bit = (nmi ? PROC_NMI_WINDOW : PROC_INTERRUPT_WINDOW) & windowControls;
  if (bit === 0 || !select(vcpu)) return;
  const now = procControls[vcpu];
  const next = (on ? now | bit : now & ~bit) >>> 0;
  if (next === now) return;
  procControls[vcpu] = next;
  vmwrite(PROC_CONTROLS, next, 0);
};

/** Whether NMI-window exiting is offered (it needs virtual NMIs, SDM 26.2.1.1): else an NMI waits for an interrupt window. */
export const vmxHasNmiWindow = () => (windowControls & PROC_NMI_WINDOW) !== 0;

/** The guest's TSC = the host's + hi:lo (TSC offsetting, SDM 26.6.5), where the processor allows it. */
export const vmxSetTscOffset = (vcpu: number, lo: number, hi: number) => {
  if ((controls[1] & PROC_TSC_OFFSET) === 0 || !select(vcpu)) return;
  vmwrite(TSC_OFFSET, lo >>> 0, hi >>> 0);
};

/** The VMCS field that holds MSR `index` for the guest, or -1. */
export const vmxMsrField = (index: number) => {
  switch (index) {
    case Msr.SysenterCs:
      return GUEST_SYSENTER_CS;
    case Msr.SysenterEsp:
      return GUEST_SYSENTER_ESP;
    case Msr.SysenterEip:
      return GUEST_SYSENTER_EIP;
    case Msr.Pat:
      return hasPat ? GUEST_PAT : -1;
    case Msr.FsBase:
      return GUEST_FS_BASE;
    case Msr.GsBase:
      return GUEST_GS_BASE;
  }
  for (let i = 0; i < SWITCHED_MSRS.length; i++) if (SWITCHED_MSRS[i] === index) return MSR_FIELD + i;
  return -1;
};
/** MSR `index` (one vmxMsrField holds) of vCPU `vcpu`, low / high 32 bits. */
export const vmxMsrLo = (vcpu: number, index: number) => {
  const v = vcpu;
  const field = vmxMsrField(index);
  if (field >= MSR_FIELD) {
    readMsrEntry(v, field - MSR_FIELD);
    return msrEntry[2];
  }
  return select(v) ? vmread(field) : 0;
};
export const vmxMsrHi = (vcpu: number, index: number) => {
  const v = vcpu;
  const field = vmxMsrField(index);
  if (field >= MSR_FIELD) {
    readMsrEntry(v, field - MSR_FIELD);
    return msrEntry[3];
  }
  return select(v) ? vmreadHi(field) : 0;
};
export const vmxSetMsr = (vcpu: number, index: number, lo: number, hi: number) => {
  const v = vcpu;
  const field = vmxMsrField(index);
  if (field >= MSR_FIELD) putMsrEntry(msrPage[v], field - MSR_FIELD, index, lo, hi);
  else if (select(v)) put(field, lo, hi);
};

// ---- vCPU state for live migration: "VMX1", the guest-state fields below as lo/hi pairs,
// the 16 GPRs (RSP among the fields), the 512-byte FXSAVE area and the switched MSRs,
// padded to the size the interface gives. A state moves between hosts of one vendor. ----

const STATE_TAG = 0x31584d56; // "VMX1"
const STATE_FIELDS = [
  GUEST_CR0, GUEST_CR3, GUEST_CR4, CR0_SHADOW, CR4_SHADOW, GUEST_DR7, GUEST_RSP, GUEST_RIP, GUEST_RFLAGS,
  GUEST_ES_SELECTOR, GUEST_ES_SELECTOR + 2, GUEST_ES_SELECTOR + 4, GUEST_ES_SELECTOR + 6, GUEST_ES_SELECTOR + 8,
  GUEST_ES_SELECTOR + 10, GUEST_ES_SELECTOR + 12, GUEST_ES_SELECTOR + 14,
  GUEST_ES_BASE, GUEST_ES_BASE + 2, GUEST_ES_BASE + 4, GUEST_ES_BASE + 6, GUEST_ES_BASE + 8, GUEST_ES_BASE + 10,
  GUEST_ES_BASE + 12, GUEST_ES_BASE + 14, GUEST_ES_BASE + 16, GUEST_ES_BASE + 18,
  GUEST_ES_LIMIT, GUEST_ES_LIMIT + 2, GUEST_ES_LIMIT + 4, GUEST_ES_LIMIT + 6, GUEST_ES_LIMIT + 8, GUEST_ES_LIMIT + 10,
  GUEST_ES_LIMIT + 12, GUEST_ES_LIMIT + 14, GUEST_GDTR_LIMIT, GUEST_IDTR_LIMIT,
  GUEST_ES_ACCESS, GUEST_ES_ACCESS + 2, GUEST_ES_ACCESS + 4, GUEST_ES_ACCESS + 6, GUEST_ES_ACCESS + 8,
  GUEST_ES_ACCESS + 10, GUEST_ES_ACCESS + 12, GUEST_ES_ACCESS + 14,
  GUEST_INTERRUPTIBILITY, GUEST_ACTIVITY, GUEST_PENDING_DEBUG, GUEST_SYSENTER_CS, GUEST_SYSENTER_ESP,
  GUEST_SYSENTER_EIP, GUEST_EFER, GUEST_DEBUGCTL,
];

const putLe = (out: Uint8Array, at: number, value: number) => {
  out[at] = value & 0xff;
  out[at + 1] = (value >>> 8) & 0xff;
  out[at + 2] = (value >>> 16) & 0xff;
  out[at + 3] = (value >>> 24) & 0xff;
};
const getLe = (src: Uint8Array, at: number) => (src[at] | (src[at + 1] << 8) | (src[at + 2] << 16) | (src[at + 3] << 24)) >>> 0;

/** Writes vCPU `vcpu`'s state to out[off, + size); false when out is too short or its VMCS is gone. */
export const vmxSaveState = (vcpu: number, out: Uint8Array, off: number, size: number) => {
  const n = STATE_FIELDS.length;
  if (off < 0 || off + size > out.length || 4 + n * 8 + 128 + 512 + SWITCHED_MSRS.length * 8 > size) return false;
  const v = vcpu;
  if (!select(v)) return false;
  // RSP, RIP, RFLAGS and the interruptibility state as the register file has them (what the next entry would write)
  vmwrite(GUEST_RSP, areaGet(v, Rec.Gprs + 32), areaGet(v, Rec.Gprs + 36));
  vmwrite(GUEST_RIP, areaGet(v, Rec.Rip), areaGet(v, Rec.Rip + 4));
  vmwrite(GUEST_INTERRUPTIBILITY, areaGet(v, Rec.Interruptibility), 0);
  vmwrite(GUEST_RFLAGS, areaGet(v, Rec.Rflags), 0);
  for (let i = 0; i < size; i++) out[off + i] = 0;
  putLe(out, off, STATE_TAG);
  for (let i = 0; i < n; i++) {
    putLe(out, off + 4 + i * 8, vmread(STATE_FIELDS[i]));
    putLe(out, off + 8 + i * 8, vmreadHi(STATE_FIELDS[i]));
  }
  const at = off + 4 + n * 8;
  areaToBytes(v, Rec.Gprs, 128, out, at);
  areaToBytes(v, Rec.Fx, 512, out, at + 128);
  for (let i = 0; i < SWITCHED_MSRS.length; i++) {
    readMsrEntry(v, i);
    putLe(out, at + 640 + i * 8, msrEntry[2]);
    putLe(out, at + 644 + i * 8, msrEntry[3]);
  }
  return true;
};

/**
 * Sets vCPU `vcpu` (created with vmxCreateVcpu) from state vmxSaveState wrote; false, and
 * nothing changed, when it is not such state. The IA-32e entry control follows EFER.LMA
 * (SDM 27.3.1.1), and MXCSR's reserved bits are cleared (else FXRSTOR faults in the host).
 */
export const vmxLoadState = (vcpu: number, src: Uint8Array, off: number, len: number, size: number) => {
  const n = STATE_FIELDS.length;
  if (len !== size || off < 0 || off + len > src.length || getLe(src, off) !== STATE_TAG) return false;
  const v = vcpu;
  if (!select(v)) return false;
  writesFailed = 0;
  for (let i = 0; i < n; i++) put(STATE_FIELDS[i], getLe(src, off + 4 + i * 8), getLe(src, off + 8 + i * 8));
  const lma = (vmread(GUEST_EFER) & Efer.LMA) !== 0;
  const entry = vmread(ENTRY_CONTROLS);
  put(ENTRY_CONTROLS, lma ? entry | ENTRY_IA32E_GUEST : entry & ~ENTRY_IA32E_GUEST, 0);
  put(ENTRY_INTERRUPTION_INFO, 0, 0);
  const at = off + 4 + n * 8;
  bytesToArea(v, Rec.Gprs, 128, src, at);
  bytesToArea(v, Rec.Fx, 512, src, at + 128);
  Porffor.wasm.i32.store16(vcpuArea(v) + Rec.Fx + 26, 0, 0, 0); // MXCSR bits 16-31
  // the register file's RSP, RIP, RFLAGS and interruptibility from the state's fields (RSP's GPR slot is not used)
  areaSet(v, Rec.Gprs + 32, vmread(GUEST_RSP));
  areaSet(v, Rec.Gprs + 36, vmreadHi(GUEST_RSP));
  areaSet(v, Rec.Rip, vmread(GUEST_RIP));
  areaSet(v, Rec.Rip + 4, vmreadHi(GUEST_RIP));
  areaSet(v, Rec.Interruptibility, vmread(GUEST_INTERRUPTIBILITY));
  areaSet(v, Rec.Rflags, vmread(GUEST_RFLAGS));
  for (let i = 0; i < SWITCHED_MSRS.length; i++) putMsrEntry(msrPage[v], i, SWITCHED_MSRS[i], getLe(src, at + 640 + i * 8), getLe(src, at + 644 + i * 8));
  flushPending[v] = 1;
  return writesFailed === 0;
};
