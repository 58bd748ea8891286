// detectCapabilities(): what this machine offers a hypervisor, from CPUID, the VMX
// capability MSRs and ACPI (kernel/platform/facts.ts). Bit positions:
//   CPUID: Intel SDM vol. 2A, CPUID instruction (tables 3-8, 3-10, 3-11); AMD APM vol. 3, appendix E.
//   VMX MSRs: SDM vol. 3D appendix A (A.1 basic, A.3-A.5 controls, A.6 misc, A.10 EPT/VPID).
//   SVM: APM vol. 2 section 15.4 (EFER.SVME, VM_CR) and CPUID Fn8000_000A.
import { Msr } from '../lib/x86';
import { Span } from '../lib/format';
import { facts } from '../platform/facts';
import { bitOf, cpuid, msr, rdmsr, regs } from './cpuid';

export const enum Vendor {
  Unknown = 0,
  Intel = 1,
  Amd = 2,
}

export class Capabilities {
  vendor = Vendor.Unknown;
  family = 0;
  model = 0;
  stepping = 0;
  physAddrBits = 36;
  linearAddrBits = 48;
  underHypervisor = false;

  // CPU features
  x2apic = false;
  invariantTsc = false;
  pages1g = false;
  smep = false;
  smap = false;
  umip = false;
  xsave = false;
  tscDeadline = false;

  // Intel VMX
  vmx = false;
  vmxLocked = false; // IA32_FEATURE_CONTROL bit 0
  vmxOutsideSmx = false; // IA32_FEATURE_CONTROL bit 2
  vmcsRevision = 0;
  vmcsSize = 0;
  vmxTrueControls = false;
  vmxSecondaryControls = false;
  ept = false;
  eptWalk4 = false;
  eptWriteBack = false;
  ept2m = false;
  ept1g = false;
  eptAccessedDirty = false;
  eptExecuteOnly = false;
  invept = false;
  vpid = false;
  invvpid = false;
  unrestrictedGuest = false;
  preemptionTimer = false;
  preemptionTimerShift = 0;
  postedInterrupts = false;
  apicVirtualization = false; // secondary controls 0, 8, 9: APIC accesses, APIC registers, virtual-interrupt delivery
  vmcsShadowing = false;

  // AMD SVM
  svm = false;
  svmDisabled = false; // VM_CR.SVMDIS
  svmLocked = false; // VM_CR.LOCK
  svmRevision = 0;
  asids = 0;
  npt = false;
  nrips = false;
  decodeAssists = false;
  flushByAsid = false;
  vmcbClean = false;
  avic = false;

  // IOMMUs and platform (from ACPI)
  vtdUnits = 0;
  amdViUnits = 0;
  acpi = false;
  cpus = 0;
}

export const caps = new Capabilities();

const vendorCodes = new Uint32Array(12);
const brandCodes = new Uint32Array(48);
const hypervisorCodes = new Uint32Array(12);
/** CPUID vendor string (leaf 0), brand string (0x80000002-4), hypervisor signature (0x40000000). */
export const vendorName = new Span(vendorCodes);
export const brandName = new Span(brandCodes);
export const hypervisorName = new Span(hypervisorCodes);

/** Stores the 4 bytes of `value` as characters at codes[at..at+3]; returns how many were printable. */
const putChars = (codes: Uint32Array, at: number, value: number) => {
  let n = 0;
  for (let i = 0; i < 4; i++) {
    const c = (value >>> (i * 8)) & 0xff;
    codes[at + i] = c >= 0x20 && c < 0x7f ? c : 0x20; // printable ASCII only (JSON escapes quotes)
    if (c !== 0) n++;
  }
  return n;
};

/** Length of codes[0..max) without trailing and leading spaces. */
const trimSpan = (span: Span, max: number) => {
  let start = 0;
  let end = max;
  while (end > 0 && span.buf[end - 1] === 0x20) end--;
  while (start < end && span.buf[start] === 0x20) start++;
  span.start = start;
  span.len = end - start;
};

const X86_VENDOR_INTEL_EBX = 0x756e6547; // "Genu"
const X86_VENDOR_AMD_EBX = 0x68747541; // "Auth"


const detectIdentity = () => {
  cpuid(0, 0);
  putChars(vendorCodes, 0, regs[1]);
  putChars(vendorCodes, 4, regs[3]);
  putChars(vendorCodes, 8, regs[2]);
  trimSpan(vendorName, 12);
  caps.vendor = regs[1] === X86_VENDOR_INTEL_EBX ? Vendor.Intel : regs[1] === X86_VENDOR_AMD_EBX ? Vendor.Amd : Vendor.Unknown;
  cpuid(1, 0);
  const eax = regs[0];
  const baseFamily = (eax >>> 8) & 0xf;
  caps.family = baseFamily === 0xf ? baseFamily + ((eax >>> 20) & 0xff) : baseFamily;
  caps.model = baseFamily === 0x6 || baseFamily === 0xf ? (((eax >>> 16) & 0xf) << 4) | ((eax >>> 4) & 0xf) : (eax >>> 4) & 0xf;
  caps.stepping = eax & 0xf;
  caps.x2apic = bitOf(regs[2], 21);
  caps.xsave = bitOf(regs[2], 26);
  caps.tscDeadline = bitOf(regs[2], 24);
  caps.vmx = bitOf(regs[2], 5);
  caps.underHypervisor = bitOf(regs[2], 31);
  cpuid(7, 0);
  caps.smep = bitOf(regs[1], 7);
  caps.smap = bitOf(regs[1], 20);
  caps.umip = bitOf(regs[2], 2);
  cpuid(0x80000001, 0);
  caps.pages1g = bitOf(regs[3], 26);
  caps.svm = bitOf(regs[2], 2);
  cpuid(0x80000007, 0);
  caps.invariantTsc = bitOf(regs[3], 8);
  cpuid(0x80000008, 0);
  if (regs[0] !== 0) {
    caps.physAddrBits = regs[0] & 0xff;
    caps.linearAddrBits = (regs[0] >>> 8) & 0xff;
  }
  for (let i = 0; i < 3; i++) {
    cpuid(0x80000002 + i, 0);
    for (let r = 0; r < 4; r++) putChars(brandCodes, i * 16 + r * 4, regs[r]);
  }
  trimSpan(brandName, 48);
  hypervisorName.len = 0;
  if (caps.underHypervisor) {
    cpuid(0x40000000, 0);
    putChars(hypervisorCodes, 0, regs[1]);
    putChars(hypervisorCodes, 4, regs[2]);
    putChars(hypervisorCodes, 8, regs[3]);
    trimSpan(hypervisorName, 12);
  }
};

/** Whether the allowed-1 half (high dword) of the last control MSR read has `bit`. */
const allowed1 = (bit: number) => bitOf(msr[1], bit);

const detectVmx = () => {
  rdmsr(Msr.FeatureControl);
  caps.vmxLocked = bitOf(msr[0], 0);
  caps.vmxOutsideSmx = bitOf(msr[0], 2);
  rdmsr(Msr.VmxBasic);
  caps.vmcsRevision = msr[0] & 0x7fffffff;
  caps.vmcsSize = msr[1] & 0x1fff;
  caps.vmxTrueControls = bitOf(msr[1], 55 - 32);
  rdmsr(caps.vmxTrueControls ? Msr.VmxTruePinbasedCtls : Msr.VmxPinbasedCtls);
  caps.preemptionTimer = allowed1(6);
  caps.postedInterrupts = allowed1(7);
  rdmsr(Msr.VmxMisc);
  caps.preemptionTimerShift = msr[0] & 0x1f;
  rdmsr(Msr.VmxProcbasedCtls);
  caps.vmxSecondaryControls = allowed1(31);
  if (!caps.vmxSecondaryControls) return;
  rdmsr(Msr.VmxProcbasedCtls2);
  caps.ept = allowed1(1);
  caps.vpid = allowed1(5);
  caps.unrestrictedGuest = allowed1(7);
  caps.vmcsShadowing = allowed1(14);
  caps.apicVirtualization = allowed1(0) && allowed1(8) && allowed1(9);
  if (!caps.ept && !caps.vpid) return;
  rdmsr(Msr.VmxEptVpidCap);
  caps.eptExecuteOnly = bitOf(msr[0], 0);
  caps.eptWalk4 = bitOf(msr[0], 6);
  caps.eptWriteBack = bitOf(msr[0], 14);
  caps.ept2m = bitOf(msr[0], 16);
  caps.ept1g = bitOf(msr[0], 17);
  caps.invept = bitOf(msr[0], 20);
  caps.eptAccessedDirty = bitOf(msr[0], 21);
  caps.invvpid = bitOf(msr[1], 0);
};

const detectSvm = () => {
  rdmsr(Msr.VmCr);
  caps.svmLocked = bitOf(msr[0], 3);
  caps.svmDisabled = bitOf(msr[0], 4);
  cpuid(0x8000000a, 0);
  caps.svmRevision = regs[0] & 0xff;
  caps.asids = regs[1];
  const edx = regs[3];
  caps.npt = bitOf(edx, 0);
  caps.nrips = bitOf(edx, 3);
  caps.vmcbClean = bitOf(edx, 5);
  caps.flushByAsid = bitOf(edx, 6);
  caps.decodeAssists = bitOf(edx, 7);
  caps.avic = bitOf(edx, 13);
};

const resetVirtualization = () => {
  caps.vmxLocked = false;
  caps.vmxOutsideSmx = false;
  caps.vmcsRevision = 0;
  caps.vmcsSize = 0;
  caps.vmxTrueControls = false;
  caps.vmxSecondaryControls = false;
  caps.ept = false;
  caps.eptWalk4 = false;
  caps.eptWriteBack = false;
  caps.ept2m = false;
  caps.ept1g = false;
  caps.eptAccessedDirty = false;
  caps.eptExecuteOnly = false;
  caps.invept = false;
  caps.vpid = false;
  caps.invvpid = false;
  caps.unrestrictedGuest = false;
  caps.preemptionTimer = false;
  caps.preemptionTimerShift = 0;
  caps.postedInterrupts = false;
  caps.apicVirtualization = false;
  caps.vmcsShadowing = false;
  caps.svmDisabled = false;
  caps.svmLocked = false;
  caps.svmRevision = 0;
  caps.asids = 0;
  caps.npt = false;
  caps.nrips = false;
  caps.decodeAssists = false;
  caps.flushByAsid = false;
  caps.vmcbClean = false;
  caps.avic = false;
};

/** Fills `caps`. Reads only the MSRs CPUID says exist. Run after ACPI discovery. */
export const detectCapabilities = () => {
  detectIdentity();
  resetVirtualization();
  if (caps.vmx) detectVmx();
  if (caps.svm) detectSvm();
  let vtd = 0;
  let amdVi = 0;
  for (let i = 0; i < facts.iommuCount; i++) {
    if (facts.iommuKind[i] === 1) vtd++;
    if (facts.iommuKind[i] === 2) amdVi++;
  }
  caps.vtdUnits = vtd;
  caps.amdViUnits = amdVi;
  caps.acpi = facts.acpiPresent;
  caps.cpus = facts.cpuCount;
  return caps;
};

/** Whether this machine can run guests: VMX with EPT (Intel) or SVM with nested paging (AMD). */
export const canVirtualize = () => (caps.vmx && caps.ept && !(caps.vmxLocked && !caps.vmxOutsideSmx)) || (caps.svm && caps.npt && !caps.svmDisabled);
