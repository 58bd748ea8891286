// A VM's vCPUs and their ids. A vCPU id names the back end's slot (VMCB or VMCS, register
// file; 0..MAX_VCPUS - 1): ids come from a pool when a VM is created and go back when it is
// destroyed, so a VM's table slot and its vCPUs' ids are different numbers (a VM id is
// its slot + 1). A VM has at most MAX_VCPUS_PER_VM vCPUs (one today). An id or index out
// of range is refused (-1), never wrapped.
import { MAX_VCPUS, MAX_VCPUS_PER_VM, MAX_VMS } from '../lib/limits';

const ownerOf = new Int32Array(MAX_VCPUS); // VM slot + 1 owning each id, 0 when free
const ids = new Int32Array(MAX_VMS * MAX_VCPUS_PER_VM); // id + 1 of each VM's vCPUs, 0 for none

const validSlot = (slot: number) => slot >= 0 && slot < MAX_VMS;
const validIndex = (index: number) => index >= 0 && index < MAX_VCPUS_PER_VM;

/** Gives VM `slot` its vCPU number `index`: a free id, or -1 when none is left or the numbers are out of range. */
export const takeVcpuId = (slot: number, index: number) => {
  if (!validSlot(slot) || !validIndex(index) || ids[slot * MAX_VCPUS_PER_VM + index] !== 0) return -1;
  for (let id = 0; id < MAX_VCPUS; id++) {
    if (ownerOf[id] !== 0) continue;
    ownerOf[id] = slot + 1;
    ids[slot * MAX_VCPUS_PER_VM + index] = id + 1;
    return id;
  }
  return -1;
};

/** VM `slot`'s vCPUs give their ids back. */
export const releaseVcpuIds = (slot: number) => {
  if (!validSlot(slot)) return;
  for (let i = 0; i < MAX_VCPUS_PER_VM; i++) {
    const id = ids[slot * MAX_VCPUS_PER_VM + i] - 1;
    if (id >= 0) ownerOf[id] = 0;
    ids[slot * MAX_VCPUS_PER_VM + i] = 0;
  }
};

/** The id of VM `slot`'s vCPU number `index`, or -1. */
export const vcpuOf = (slot: number, index: number) => (validSlot(slot) && validIndex(index) ? ids[slot * MAX_VCPUS_PER_VM + index] - 1 : -1);
