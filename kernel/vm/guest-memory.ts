// A VM's RAM seen from the host: guest-physical [0, memory size) is host-physical
// [ram base, ...), one block from the page allocator. Every access is checked against
// the VM's RAM; nothing outside it is ever read or written.
import { hostAddressHi, hostAddressLo } from '../memory/page-allocator';
import { vmMemMiB, vmRamBase } from './vm-table';

const MIB = 1048576;

/** Whether [gpa, gpa + length) is inside the VM's RAM. */
export const inGuestRam = (slot: number, gpa: number, length: number) => gpa >= 0 && length >= 0 && gpa + length <= vmMemMiB[slot] * MIB;

/** Copies guest-physical bytes into linear memory; false when outside the VM's RAM. */
export const guestRead = (slot: number, gpa: number, outAddr: number, length: number) => {
  if (!inGuestRam(slot, gpa, length)) return false;
  const at = vmRamBase[slot] + gpa;
  hv_phys_read(hostAddressLo(at), hostAddressHi(at), outAddr, length);
  return true;
};

/** Copies linear-memory bytes into guest-physical memory; false when outside the VM's RAM. */
export const guestWrite = (slot: number, gpa: number, srcAddr: number, length: number) => {
  if (!inGuestRam(slot, gpa, length)) return false;
  const at = vmRamBase[slot] + gpa;
  hv_phys_write(hostAddressLo(at), hostAddressHi(at), srcAddr, length);
  return true;
};

/** Zeroes guest-physical bytes; false when outside the VM's RAM. */
export const guestZero = (slot: number, gpa: number, length: number) => {
  if (!inGuestRam(slot, gpa, length)) return false;
  const at = vmRamBase[slot] + gpa;
  hv_phys_zero(hostAddressLo(at), hostAddressHi(at), length);
  return true;
};
