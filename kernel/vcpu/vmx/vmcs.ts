// VMCS field encodings (Intel SDM vol. 3D appendix B) and the host calls that read and
// write the current VMCS. Natural-width and 64-bit fields travel as lo/hi halves.

// 16-bit fields (B.1)
export const VPID = 0x0000;
export const GUEST_ES_SELECTOR = 0x0800; // ES, CS, SS, DS, FS, GS, LDTR, TR: + 2 each
export const GUEST_LDTR_SELECTOR = 0x080c;
export const GUEST_TR_SELECTOR = 0x080e;
export const HOST_ES_SELECTOR = 0x0c00; // ES, CS, SS, DS, FS, GS, TR: + 2 each
export const HOST_TR_SELECTOR = 0x0c0c;

// 64-bit fields (B.2)
export const EXIT_MSR_STORE_ADDRESS = 0x2006;
export const EXIT_MSR_LOAD_ADDRESS = 0x2008;
export const ENTRY_MSR_LOAD_ADDRESS = 0x200a;
export const EPT_POINTER = 0x201a;
export const TSC_OFFSET = 0x2010;
export const GUEST_PHYSICAL_ADDRESS = 0x2400;
export const VMCS_LINK_POINTER = 0x2800;
export const GUEST_DEBUGCTL = 0x2802;
export const GUEST_PAT = 0x2804;
export const GUEST_EFER = 0x2806;
export const HOST_PAT = 0x2c00;
export const HOST_EFER = 0x2c02;

// 32-bit fields (B.3)
export const PIN_CONTROLS = 0x4000;
export const PROC_CONTROLS = 0x4002;
export const EXCEPTION_BITMAP = 0x4004;
export const CR3_TARGET_COUNT = 0x400a;
export const EXIT_CONTROLS = 0x400c;
export const EXIT_MSR_STORE_COUNT = 0x400e;
export const EXIT_MSR_LOAD_COUNT = 0x4010;
export const ENTRY_CONTROLS = 0x4012;
export const ENTRY_MSR_LOAD_COUNT = 0x4014;
export const ENTRY_INTERRUPTION_INFO = 0x4016;
export const ENTRY_EXCEPTION_ERROR = 0x4018;
export const PROC_CONTROLS2 = 0x401e;
export const INSTRUCTION_ERROR = 0x4400;
export const EXIT_REASON = 0x4402;
export const EXIT_INTERRUPTION_INFO = 0x4404;
export const EXIT_INSTRUCTION_LENGTH = 0x440c;
export const IDT_VECTORING_INFO = 0x4408;
export const IDT_VECTORING_ERROR = 0x440a;
export const GUEST_ES_LIMIT = 0x4800; // ES, CS, SS, DS, FS, GS, LDTR, TR, GDTR, IDTR: + 2 each
export const GUEST_GDTR_LIMIT = 0x4810;
export const GUEST_IDTR_LIMIT = 0x4812;
export const GUEST_ES_ACCESS = 0x4814; // ES, CS, SS, DS, FS, GS, LDTR, TR: + 2 each
export const GUEST_CS_ACCESS = 0x4816;
export const GUEST_INTERRUPTIBILITY = 0x4824;
export const GUEST_ACTIVITY = 0x4826;
export const GUEST_SYSENTER_CS = 0x482a;
export const PREEMPTION_TIMER = 0x482e;
export const HOST_SYSENTER_CS = 0x4c00;

// Natural-width fields (B.4)
export const CR0_MASK = 0x6000;
export const CR4_MASK = 0x6002;
export const CR0_SHADOW = 0x6004;
export const CR4_SHADOW = 0x6006;
export const EXIT_QUALIFICATION = 0x6400;
export const GUEST_LINEAR_ADDRESS = 0x640a;
export const GUEST_CR0 = 0x6800;
export const GUEST_CR3 = 0x6802;
export const GUEST_CR4 = 0x6804;
export const GUEST_ES_BASE = 0x6806; // ES, CS, SS, DS, FS, GS, LDTR, TR, GDTR, IDTR: + 2 each
export const GUEST_FS_BASE = 0x680e;
export const GUEST_GS_BASE = 0x6810;
export const GUEST_DR7 = 0x681a;
export const GUEST_RSP = 0x681c;
export const GUEST_RIP = 0x681e;
export const GUEST_RFLAGS = 0x6820;
export const GUEST_PENDING_DEBUG = 0x6822;
export const GUEST_SYSENTER_ESP = 0x6824;
export const GUEST_SYSENTER_EIP = 0x6826;
export const HOST_CR0 = 0x6c00;
export const HOST_CR3 = 0x6c02;
export const HOST_CR4 = 0x6c04;
export const HOST_FS_BASE = 0x6c06;
export const HOST_GS_BASE = 0x6c08;
export const HOST_TR_BASE = 0x6c0a;
export const HOST_GDTR_BASE = 0x6c0c;
export const HOST_IDTR_BASE = 0x6c0e;
export const HOST_SYSENTER_ESP = 0x6c10;
export const HOST_SYSENTER_EIP = 0x6c12;

// Basic exit reasons (appendix C)
export const EXIT_EXCEPTION_NMI = 0;
export const EXIT_EXTERNAL_INTERRUPT = 1;
export const EXIT_TRIPLE_FAULT = 2;
export const EXIT_INTERRUPT_WINDOW = 7;
export const EXIT_NMI_WINDOW = 8;
export const EXIT_CPUID = 10;
export const EXIT_HLT = 12;
export const EXIT_VMCALL = 18;
export const EXIT_CR_ACCESS = 28;
export const EXIT_IO = 30;
export const EXIT_RDMSR = 31;
export const EXIT_WRMSR = 32;
export const EXIT_INVALID_GUEST_STATE = 33;
export const EXIT_EPT_VIOLATION = 48;
export const EXIT_EPT_MISCONFIG = 49;
export const EXIT_PREEMPTION_TIMER = 52;

/** The low 32 bits of a field of the current VMCS. */
export const vmread = (field: number) => hv_vmread(field) >>> 0;
/** Bits 63:32 of a 64-bit or natural-width field. */
export const vmreadHi = (field: number) => hv_vmread_hi(field) >>> 0;
/** Writes hi:lo to a field of the current VMCS; the VMX status (0 = done). */
export const vmwrite = (field: number, lo: number, hi: number) => hv_vmwrite(field, lo >>> 0, hi >>> 0);
/** Writes a value below 2^53 (an address) as its halves. */
export const vmwrite64 = (field: number, value: number) => {
  const hi = Math.floor(value / 4294967296);
  return hv_vmwrite(field, (value - hi * 4294967296) >>> 0, hi >>> 0);
};
