// How many of each thing Zerovisor keeps, defined once. Tables are sized from these at
// start (porffor never frees, so nothing grows later); an id outside them is refused,
// never wrapped.

/** VMs at once (VM ids 1..MAX_VMS; table slots 0..MAX_VMS - 1). */
export const MAX_VMS = 8;
/** vCPUs of one VM. */
export const MAX_VCPUS_PER_VM = 1;
/** vCPUs of all VMs together: the back ends' VMCB/VMCS and register-file slots. */
export const MAX_VCPUS = 8;
/** Devices a VM can have on its buses. */
export const MAX_DEVICES = 16;
