// Where the migrated pages are read from (side 0, the source) and written to (side 1, the
// destination), one 4 KiB page at a time through a caller's staging page. A side holds
// either a Uint8Array with pages [0, n) back to back (tests, the simulated machine) or
// nothing (every access fails).
// or a VM's RAM (kernel/vm/guest-memory.ts guestRead/guestWrite of a VM slot, through the
// staging page's linear address).
import { dataAddress } from '../../host/memory';
import { guestRead, guestWrite } from '../../vm/guest-memory';
import { PAGE_BYTES, memHashPage, memHashRam, memHashStart } from './page-codec';
import { hostAddressHi, hostAddressLo } from '../../memory/page-allocator';
import { vmRamBase } from '../../vm/vm-table';

const EMPTY: Uint8Array = new Uint8Array(0);
let sourceBuf = EMPTY;
let sourcePages = 0;
let destBuf = EMPTY;
let destPages = 0;
let sourceVm = -1; // VM slot when side 0 is a VM's RAM
let destVm = -1;

/** Attaches VM `slot`'s RAM, pages [0, pageCount), as side 0 or 1. */
export const storeAttachVm = (side: number, slot: number, pageCount: number) => {
  if (side === 0) {
    sourceBuf = EMPTY;
    sourceVm = slot;
    sourcePages = pageCount;
  } else if (side === 1) {
    destBuf = EMPTY;
    destVm = slot;
    destPages = pageCount;
  }
};

/** Attaches mem (pages [0, pageCount) back to back) to side 0 or 1; false when it is too small. */
export const storeAttachBuffer = (side: number, mem: Uint8Array, pageCount: number) => {
  if (pageCount < 0 || pageCount * PAGE_BYTES > mem.length) return false;
  if (side === 0) {
    sourceBuf = mem;
    sourceVm = -1;
    sourcePages = pageCount;
    return true;
  }
  if (side === 1) {
    destBuf = mem;
    destVm = -1;
    destPages = pageCount;
    return true;
  }
  return false;
};

export const storeDetach = (side: number) => {
  if (side === 0) {
    sourceBuf = EMPTY;
    sourceVm = -1;
    sourcePages = 0;
  } else if (side === 1) {
    destBuf = EMPTY;
    destVm = -1;
    destPages = 0;
  }
};

/** Pages side `side` holds (0: nothing attached). */
export const storePages = (side: number) => (side === 0 ? sourcePages : side === 1 ? destPages : 0);

/** Copies page `gpa` of side `side` into dst[dstOff, + 4096); false when either is out of range. */
export const storeLoad = (side: number, gpa: number, dst: Uint8Array, dstOff: number) => {
  if (dstOff < 0 || dstOff + PAGE_BYTES > dst.length || gpa < 0 || gpa >= storePages(side)) return false;
  const vm = side === 0 ? sourceVm : destVm;
  if (vm >= 0) return guestRead(vm, gpa * PAGE_BYTES, dataAddress(dst) + dstOff, PAGE_BYTES);
  const mem = side === 0 ? sourceBuf : destBuf;
  const base = gpa * PAGE_BYTES;
  for (let i = 0; i < PAGE_BYTES; i++) dst[dstOff + i] = mem[base + i];
  return true;
};

/** Copies src[srcOff, + 4096) into page `gpa` of side `side`; false when either is out of range. */
export const storeSave = (side: number, gpa: number, src: Uint8Array, srcOff: number) => {
  if (srcOff < 0 || srcOff + PAGE_BYTES > src.length || gpa < 0 || gpa >= storePages(side)) return false;
  const vm = side === 0 ? sourceVm : destVm;
  if (vm >= 0) return guestWrite(vm, gpa * PAGE_BYTES, dataAddress(src) + srcOff, PAGE_BYTES);
  const mem = side === 0 ? sourceBuf : destBuf;
  const base = gpa * PAGE_BYTES;
  for (let i = 0; i < PAGE_BYTES; i++) mem[base + i] = src[srcOff + i];
  return true;
};

const hashStage = new Uint8Array(PAGE_BYTES);

/** The memory hash (page-codec.ts memHash*) of pages [0, pages) of side `side`, from memHashStart; false when they are not all there. */
export const storeHash = (side: number, pages: number) => {
  memHashStart();
  if (pages < 0 || pages > storePages(side)) return false;
  const vm = side === 0 ? sourceVm : side === 1 ? destVm : -1;
  if (vm >= 0) {
    // a VM's RAM is one block (kernel/vm/lifecycle.ts): the shim sums it in one go
    const at = vmRamBase[vm];
    memHashRam(hostAddressLo(at), hostAddressHi(at), pages * PAGE_BYTES);
    return true;
  }
  for (let g = 0; g < pages; g++) {
    if (!storeLoad(side, g, hashStage, 0)) return false;
    memHashPage(hashStage, 0);
  }
  return true;
};
