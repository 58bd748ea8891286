// Guest linear -> guest-physical addresses, by walking the guest's own page tables the
// way its CPU would (Intel SDM vol. 3A 4.3 32-bit paging, 4.4 PAE, 4.5 4-level; AMD APM
// vol. 2 5.3-5.4): for fetching the instruction at RIP and the memory of INS/OUTS when the
// guest has paging on. Only presence is checked (the guest's CPU already checked rights to
// reach the instruction). Linear addresses are hi/lo halves; every table read goes
// through the VM's RAM check, so a table outside the guest's memory is "not mapped".
import { dataAddress } from '../host/memory';
import { guestCr0, guestCr3Hi, guestCr3Lo, guestCr4, guestEferLo } from '../vcpu/vcpu';
import { guestRead } from './guest-memory';
import { Cr0, Cr4, Efer } from '../lib/x86';

const TWO_32 = 4294967296;
const PRESENT = 1;
const LARGE = 0x80; // PS

const entry = new Uint32Array(2);
let entryAt = -1;

/** Reads the 4- or 8-byte table entry at guest-physical `gpa` into entry[]; false when outside RAM. */
const readEntry = (slot: number, gpa: number, bytes: number) => {
  if (entryAt < 0) entryAt = dataAddress(entry);
  entry[1] = 0;
  return guestRead(slot, gpa, entryAt, bytes);
};

/** Bits 12-51 of the 8-byte entry just read. */
const frame64 = () => (entry[1] & 0xfffff) * TWO_32 + ((entry[0] & 0xfffff000) >>> 0);

/** The 8-byte entry `index` of the table at `table`; its frame address, -1 when not present, -2 for a large page. */
const step64 = (slot: number, table: number, index: number) => {
  if (!readEntry(slot, table + index * 8, 8)) return -1;
  if ((entry[0] & PRESENT) === 0) return -1;
  return (entry[0] & LARGE) !== 0 ? -2 : frame64();
};

/** Guest-physical address of linear hi:lo for VM `slot`'s vCPU `vcpu` (its registers at its last exit), or -1 when not mapped. */
export const guestPhysical = (slot: number, vcpu: number, hi: number, lo: number) => {
  if ((guestCr0(vcpu) & Cr0.PG) === 0) return hi * TWO_32 + lo; // paging off: linear is physical
  const cr4 = guestCr4(vcpu);
  const cr3Lo = guestCr3Lo(vcpu);
  if ((guestEferLo(vcpu) & Efer.LMA) !== 0) {
    // 4-level: PML4 (bits 47-39), PDPT (38-30), PD (29-21), PT (20-12)
    const pml4 = (guestCr3Hi(vcpu) & 0xfffff) * TWO_32 + ((cr3Lo & 0xfffff000) >>> 0);
    const pdpt = step64(slot, pml4, (hi >>> 7) & 0x1ff);
    if (pdpt < 0) return -1;
    const pd = step64(slot, pdpt, ((hi & 0x7f) << 2) | (lo >>> 30));
    if (pd === -2) return frame64() - ((entry[0] & 0x3ffff000) >>> 0) + (lo & 0x3fffffff); // 1 GiB page
    if (pd < 0) return -1;
    return leaf64(slot, pd, lo);
  }
  if ((cr4 & Cr4.PAE) !== 0) {
    // PAE: 4 PDPTEs at CR3 bits 31-5, then PD and PT of 8-byte entries
    const pdpte = ((cr3Lo & 0xffffffe0) >>> 0) + (lo >>> 30) * 8;
    if (!readEntry(slot, pdpte, 8) || (entry[0] & PRESENT) === 0) return -1;
    return leaf64(slot, frame64(), lo);
  }
  // 32-bit paging: PD (bits 31-22), PT (21-12); 4 MiB pages with CR4.PSE (PSE-36: PDE bits 20-13 are address bits 39-32)
  const pde = ((cr3Lo & 0xfffff000) >>> 0) + (lo >>> 22) * 4;
  if (!readEntry(slot, pde, 4) || (entry[0] & PRESENT) === 0) return -1;
  if ((entry[0] & LARGE) !== 0 && (cr4 & Cr4.PSE) !== 0) {
    return ((entry[0] >>> 13) & 0xff) * TWO_32 + ((entry[0] & 0xffc00000) >>> 0) + (lo & 0x3fffff);
  }
  const pte = ((entry[0] & 0xfffff000) >>> 0) + ((lo >>> 12) & 0x3ff) * 4;
  if (!readEntry(slot, pte, 4) || (entry[0] & PRESENT) === 0) return -1;
  return ((entry[0] & 0xfffff000) >>> 0) + (lo & 0xfff);
};

/** The PD at `pd` and its PT, 8-byte entries (PAE and 4-level share them); 2 MiB pages. */
const leaf64 = (slot: number, pd: number, lo: number) => {
  const pt = step64(slot, pd, (lo >>> 21) & 0x1ff);
  if (pt === -2) return frame64() - ((entry[0] & 0x1ff000) >>> 0) + (lo & 0x1fffff); // 2 MiB page
  if (pt < 0) return -1;
  // a PTE's bit 7 is PAT, not a page size
  if (!readEntry(slot, pt + ((lo >>> 12) & 0x1ff) * 8, 8) || (entry[0] & PRESENT) === 0) return -1;
  return frame64() + (lo & 0xfff);
};
