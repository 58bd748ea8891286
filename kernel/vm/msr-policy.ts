// Which MSRs a guest may read and write (an allow-list); every other access gets #GP
// and is logged. MSR numbers: Intel SDM vol. 4, AMD APM vol. 2 appendix A.
export const MSR_TSC = 0x10;
export const MSR_APIC_BASE = 0x1b;
export const MSR_MTRR_CAP = 0xfe;
export const MSR_SYSENTER_CS = 0x174;
export const MSR_SYSENTER_ESP = 0x175;
export const MSR_SYSENTER_EIP = 0x176;
export const MSR_MISC_ENABLE = 0x1a0;
export const MSR_PAT = 0x277;
export const MSR_MTRR_DEF_TYPE = 0x2ff;
export const MSR_EFER = 0xc0000080;
export const MSR_STAR = 0xc0000081;
export const MSR_LSTAR = 0xc0000082;
export const MSR_CSTAR = 0xc0000083;
export const MSR_SFMASK = 0xc0000084;
export const MSR_FS_BASE = 0xc0000100;
export const MSR_GS_BASE = 0xc0000101;
export const MSR_KERNEL_GS_BASE = 0xc0000102;

export const enum MsrAccess {
  Denied = 0,
  Emulated = 1, // handled by the exit dispatch (value from the VM's state)
}

/** Whether the guest may read (write = false) or write MSR `index`. */
export const msrAccess = (index: number, write: boolean) => {
  switch (index) {
    case MSR_TSC:
    case MSR_APIC_BASE:
    case MSR_MTRR_CAP:
    case MSR_MISC_ENABLE:
      return write ? MsrAccess.Denied : MsrAccess.Emulated;
    case MSR_EFER:
    case MSR_PAT:
    case MSR_MTRR_DEF_TYPE:
    case MSR_SYSENTER_CS:
    case MSR_SYSENTER_ESP:
    case MSR_SYSENTER_EIP:
    case MSR_STAR:
    case MSR_LSTAR:
    case MSR_CSTAR:
    case MSR_SFMASK:
    case MSR_FS_BASE:
    case MSR_GS_BASE:
    case MSR_KERNEL_GS_BASE:
      return MsrAccess.Emulated;
  }
  return MsrAccess.Denied;
};
