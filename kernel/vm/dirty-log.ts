// The dirty-page log of a VM's RAM for live migration (design: pre-copy "through the nested
// page tables' accessed/dirty bits, or by write-protection where A/D is unavailable"),
// vendor-neutral, one VM at a time (one migration sends at a time):
//   Ad  the processor sets a nested leaf's D bit when the guest writes through it (AMD APM
//       vol. 2 15.25.5; EPT with A/D enabled, Intel SDM vol. 3C 29.3.5); a take scans and
//       clears them.
//   Wp  every writable leaf loses write access; the guest's first write to a page exits with
//       a nested page fault, dirtyLogFault gives that page its write access back (the
//       instruction then runs again); a take reports the pages writable again and takes
//       their write access once more. The nested tables themselves hold the state.
// Both map the RAM with 4 KiB leaves first, and flush the guest's TLB after changing leaves
// (a cached translation would let writes through unseen). Nothing allocates after load; the
// fault path is two host calls.
import { flushGuestTlb } from '../vcpu/vcpu';
import { VmState, vmNptRoot, vmState } from './vm-table';
import { vcpuOf } from './vcpu-table';
import { MAX_VCPUS_PER_VM } from '../lib/limits';
import { nptHasDirtyBits, nptLeafTable, nptLogAllow, nptLogProtect, nptLogRelease, nptLogTake, nptSmallPages, nptTakeDirty } from '../memory/nested-paging';

/** Every vCPU of VM `slot` flushes its TLB at its next entry (its nested tables changed). */
const flushVmTlbs = (slot: number) => {
  for (let i = 0; i < MAX_VCPUS_PER_VM; i++) {
    const vcpu = vcpuOf(slot, i);
    if (vcpu >= 0) flushGuestTlb(vcpu);
  }
};

export const enum DirtyLog {
  Ad = 0,
  Wp = 1,
}

const MAX_PAGES = 4096 * 256; // 4 GiB, the largest VM (kernel/vm/lifecycle.ts MAX_VM_MIB)
const leafTable = new Float64Array(MAX_PAGES / 512); // each 2 MiB's leaf table

let mode = -1; // -1: no log
let slot = -1;
let root = 0;
let pages = 0;
let faults = 0;

/** Whether the nested tables have dirty bits (AMD NPT: always, APM vol. 2 15.25.5; EPT: with A/D enabled). */
export const dirtyBitsAvailable = () => nptHasDirtyBits();

/** Starts a log (DirtyLog) of VM `vmSlot`'s RAM, pages [0, ramPages) under nested root `nptRoot`; false when it cannot be mapped so. */
export const dirtyLogStart = (vmSlot: number, nptRoot: number, ramPages: number, logMode: number) => {
  dirtyLogStop();
  if (ramPages < 1 || ramPages > MAX_PAGES || ramPages % 512 !== 0) return false;
  if (nptSmallPages(nptRoot, 0, ramPages * 4096) !== 0) return false;
  const chunks = ramPages / 512;
  for (let c = 0; c < chunks; c++) {
    const pt = nptLeafTable(nptRoot, c * 2097152);
    if (pt < 0) return false;
    leafTable[c] = pt;
  }
  slot = vmSlot;
  root = nptRoot;
  pages = ramPages;
  faults = 0;
  mode = logMode;
  if (mode === DirtyLog.Wp) for (let c = 0; c < chunks; c++) nptLogProtect(leafTable[c]);
  flushVmTlbs(slot);
  return true;
};

/** The log under way (DirtyLog), or -1. */
export const dirtyLogMode = () => mode;
/** Write faults the Wp log took since it started. */
export const dirtyLogFaults = () => faults;

/**
 * Pages written since the last take (or the start): their bits set in `out` (cleared over the
 * VM's pages first), and the log goes on from here. The number of pages, or < 0 (no log, or
 * the nested tables are not as the log left them).
 */
export const dirtyLogTake = (out: Uint8Array) => {
  if (mode < 0) return -1;
  const bytes = pages >>> 3;
  for (let i = 0; i < bytes; i++) out[i] = 0;
  let n = 0;
  if (mode === DirtyLog.Ad) n = nptTakeDirty(root, 0, pages * 4096, out);
  else for (let c = 0; c < pages / 512; c++) n += nptLogTake(leafTable[c], c * 512, out);
  flushVmTlbs(slot);
  return n;
};

/**
 * A nested page fault of VM `vmSlot` at guest-physical `gpa`: true when it was a write to a
 * page the Wp log protects (writable again: the guest retries the instruction).
 */
export const dirtyLogFault = (vmSlot: number, gpa: number) => {
  if (mode !== DirtyLog.Wp || vmSlot !== slot || gpa < 0) return false;
  const page = Math.floor(gpa / 4096);
  if (page >= pages || !nptLogAllow(leafTable[page >>> 9], page & 511)) return false; // not the log's: a real fault
  flushVmTlbs(slot);
  faults++;
  return true;
};

/** Ends the log: a Wp log gives every page it protected its write access back (while the VM's tables are there). */
export const dirtyLogStop = () => {
  if (mode === DirtyLog.Wp && vmState[slot] !== VmState.Free && vmNptRoot[slot] === root) {
    for (let c = 0; c < pages / 512; c++) nptLogRelease(leafTable[c]);
    flushVmTlbs(slot);
  }
  mode = -1;
  slot = -1;
};
