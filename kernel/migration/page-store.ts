// Where the migrated pages are read from (side 0, the source) and written to (side 1, the
// destination), one 4 KiB page at a time through a caller's staging page. A side holds
// either a Uint8Array with pages [0, n) back to back (tests, the simulated machine) or
// nothing (every access fails).
// The guest-memory kind (kernel/vm/guest-memory.ts guestRead/guestWrite of a VM slot,
// through the staging page's dataAddress) comes with the wiring of migration into the VMs.
import { PAGE_BYTES } from './page-codec';

const EMPTY: Uint8Array = new Uint8Array(0);
let sourceBuf = EMPTY;
let sourcePages = 0;
let destBuf = EMPTY;
let destPages = 0;

/** Attaches mem (pages [0, pageCount) back to back) to side 0 or 1; false when it is too small. */
export const storeAttachBuffer = (side: number, mem: Uint8Array, pageCount: number) => {
  if (pageCount < 0 || pageCount * PAGE_BYTES > mem.length) return false;
  if (side === 0) {
    sourceBuf = mem;
    sourcePages = pageCount;
    return true;
  }
  if (side === 1) {
    destBuf = mem;
    destPages = pageCount;
    return true;
  }
  return false;
};

export const storeDetach = (side: number) => {
  if (side === 0) {
    sourceBuf = EMPTY;
    sourcePages = 0;
  } else if (side === 1) {
    destBuf = EMPTY;
    destPages = 0;
  }
};

/** Pages side `side` holds (0: nothing attached). */
export const storePages = (side: number) => (side === 0 ? sourcePages : side === 1 ? destPages : 0);

/** Copies page `gpa` of side `side` into dst[dstOff, + 4096); false when either is out of range. */
export const storeLoad = (side: number, gpa: number, dst: Uint8Array, dstOff: number) => {
  if (dstOff < 0 || dstOff + PAGE_BYTES > dst.length || gpa < 0 || gpa >= storePages(side)) return false;
  const mem = side === 0 ? sourceBuf : destBuf;
  const base = gpa * PAGE_BYTES;
  for (let i = 0; i < PAGE_BYTES; i++) dst[dstOff + i] = mem[base + i];
  return true;
};

/** Copies src[srcOff, + 4096) into page `gpa` of side `side`; false when either is out of range. */
export const storeSave = (side: number, gpa: number, src: Uint8Array, srcOff: number) => {
  if (srcOff < 0 || srcOff + PAGE_BYTES > src.length || gpa < 0 || gpa >= storePages(side)) return false;
  const mem = side === 0 ? sourceBuf : destBuf;
  const base = gpa * PAGE_BYTES;
  for (let i = 0; i < PAGE_BYTES; i++) mem[base + i] = src[srcOff + i];
  return true;
};
