// The x86 vocabulary, each name defined once: MSR numbers (Intel SDM vol. 4 "Model-Specific
// Registers"; AMD APM vol. 2 appendix A), control-register and EFER bits (SDM vol. 3A 2.5,
// 2.2.1; APM vol. 2 3.1), RFLAGS bits (SDM vol. 1 3.4.3) and exception vectors (SDM vol. 3A
// 6.3.1). Const enums: esbuild writes the numbers in place, so a name costs nothing at run time.

export const enum Msr {
  Tsc = 0x10,
  ApicBase = 0x1b,
  TscDeadline = 0x6e0,
  X2apicFirst = 0x800, // the x2APIC registers, 0x800-0x8FF (SDM vol. 3A 11.12.1.2)
  X2apicLast = 0x8ff,
  FeatureControl = 0x3a,
  MtrrCap = 0xfe,
  SysenterCs = 0x174,
  SysenterEsp = 0x175,
  SysenterEip = 0x176,
  MiscEnable = 0x1a0,
  Pat = 0x277,
  MtrrDefType = 0x2ff,
  VmxBasic = 0x480,
  VmxPinbasedCtls = 0x481,
  VmxProcbasedCtls = 0x482,
  VmxExitCtls = 0x483,
  VmxEntryCtls = 0x484,
  VmxMisc = 0x485,
  VmxCr0Fixed0 = 0x486,
  VmxCr0Fixed1 = 0x487,
  VmxCr4Fixed0 = 0x488,
  VmxCr4Fixed1 = 0x489,
  VmxProcbasedCtls2 = 0x48b,
  VmxEptVpidCap = 0x48c,
  VmxTruePinbasedCtls = 0x48d,
  VmxTrueProcbasedCtls = 0x48e,
  VmxTrueExitCtls = 0x48f,
  VmxTrueEntryCtls = 0x490,
  Efer = 0xc0000080,
  Star = 0xc0000081,
  Lstar = 0xc0000082,
  Cstar = 0xc0000083,
  Sfmask = 0xc0000084,
  FsBase = 0xc0000100,
  GsBase = 0xc0000101,
  KernelGsBase = 0xc0000102,
  VmCr = 0xc0010114,
  VmHsavePa = 0xc0010117,
}

/** CR0 (SDM vol. 3A 2.5). */
export const enum Cr0 {
  PE = 0x1,
  MP = 0x2,
  EM = 0x4,
  TS = 0x8,
  ET = 0x10,
  NE = 0x20,
  WP = 0x10000,
  AM = 0x40000,
  NW = 0x20000000,
  CD = 0x40000000,
  PG = 0x80000000,
}

/** CR4 (SDM vol. 3A 2.5). */
export const enum Cr4 {
  VME = 0x1,
  PSE = 0x10,
  PAE = 0x20,
  PGE = 0x80,
  OSFXSR = 0x200,
  OSXMMEXCPT = 0x400,
  VMXE = 0x2000,
}

/** EFER, low half (SDM vol. 3A 2.2.1; APM vol. 2 3.1.7). */
export const enum Efer {
  SCE = 0x1,
  LME = 0x100,
  LMA = 0x400,
  NXE = 0x800,
  SVME = 0x1000,
}

/** RFLAGS (SDM vol. 1 3.4.3). */
export const enum Rflags {
  CF = 0x1,
  Reserved1 = 0x2,
  TF = 0x100,
  IF = 0x200,
  DF = 0x400,
  VM = 0x20000,
}

/** Exception vectors (SDM vol. 3A table 6-1). */
export const enum Vector {
  DivideError = 0,
  Debug = 1,
  Nmi = 2,
  Breakpoint = 3,
  Overflow = 4,
  BoundRange = 5,
  InvalidOpcode = 6,
  DeviceNotAvailable = 7,
  DoubleFault = 8,
  InvalidTss = 10,
  SegmentNotPresent = 11,
  StackFault = 12,
  GeneralProtection = 13,
  PageFault = 14,
  FloatingPoint = 16,
  AlignmentCheck = 17,
  MachineCheck = 18,
  SimdFloatingPoint = 19,
}

/** General-purpose register numbers, in the ModRM/instruction-encoding order (SDM vol. 2 2.1.5). */
export const enum Gpr {
  Rax = 0,
  Rcx = 1,
  Rdx = 2,
  Rbx = 3,
  Rsp = 4,
  Rbp = 5,
  Rsi = 6,
  Rdi = 7,
  R8 = 8,
  R9 = 9,
  R10 = 10,
  R11 = 11,
  R12 = 12,
  R13 = 13,
  R14 = 14,
  R15 = 15,
}
