// Why a guest stopped running: the vendor-neutral exit reasons the shared dispatch
// (kernel/vm/exits.ts) handles. The svm and vmx back ends map their exit codes to these.
export const enum ExitReason {
  Cpuid = 0,
  Io = 1,
  Msr = 2,
  Hlt = 3,
  Hypercall = 4,
  NestedPageFault = 5,
  Shutdown = 6, // triple fault
  ExternalInterrupt = 7,
  InvalidState = 8, // the processor refused the guest state
  Other = 9,
  SliceEnd = 10, // the guest's time slice ran out (VMX preemption timer, SDM 26.5.1)
  InterruptWindow = 11, // the guest can take the interrupt (or NMI) it waits for (SVM VINTR, IRET; VMX interrupt/NMI window)
}

export const EXIT_REASON_COUNT = 12;

/** Names for metrics and `vm info` (the same in every language). */
export const EXIT_REASON_NAMES = ['cpuid', 'io', 'msr', 'hlt', 'hypercall', 'npf', 'shutdown', 'interrupt', 'invalid', 'other', 'slice', 'window'];
