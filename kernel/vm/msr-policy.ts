// Which MSRs a guest may read and write (an allow-list); every other access gets #GP
// and is logged. MSR numbers: lib/x86.ts (Intel SDM vol. 4, AMD APM vol. 2 appendix A).
import { Msr } from '../lib/x86';

export const enum MsrAccess {
  Denied = 0,
  Emulated = 1, // handled by the exit dispatch (value from the VM's state)
  Apic = 2, // the vCPU's local APIC answers (kernel/vm/devices/lapic.ts): APIC base, TSC deadline, x2APIC
}

/** Whether the guest may read (write = false) or write MSR `index`. */
export const msrAccess = (index: number, write: boolean) => {
  if (index >= Msr.X2apicFirst && index <= Msr.X2apicLast) return MsrAccess.Apic;
  switch (index) {
    case Msr.ApicBase:
    case Msr.TscDeadline:
      return MsrAccess.Apic;
    case Msr.Tsc:
    case Msr.MtrrCap:
    case Msr.MiscEnable:
      return write ? MsrAccess.Denied : MsrAccess.Emulated;
    case Msr.Efer:
    case Msr.Pat:
    case Msr.MtrrDefType:
    case Msr.SysenterCs:
    case Msr.SysenterEsp:
    case Msr.SysenterEip:
    case Msr.Star:
    case Msr.Lstar:
    case Msr.Cstar:
    case Msr.Sfmask:
    case Msr.FsBase:
    case Msr.GsBase:
    case Msr.KernelGsBase:
      return MsrAccess.Emulated;
  }
  return MsrAccess.Denied;
};
