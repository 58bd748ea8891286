// The physical page allocator. Pages come from the firmware (AllocatePages at an address
// this allocator picks from the UEFI memory map, so it controls alignment: 4 KiB, 2 MiB,
// 1 GiB or any power of two), are zeroed before they are handed out, and when freed are
// kept for reuse (zeroed again when reused). Addresses are doubles (exact below 2^53);
// hostAddressLo/Hi split one for the host ABI. A NUMA node can be asked for: without an
// SRAT every page is on node 0, and the preference is recorded.
import { EFI_CONVENTIONAL_MEMORY, firmwareMapCount, mapPages, mapStart, mapType, readFirmwareMap } from '../platform/firmware-map';
import { metricPageRequest, metricPages } from '../platform/platform-metrics';

export const PAGE_SIZE = 4096;
export const PAGES_2M = 512;
export const PAGES_1G = 262144;
const LOW_LIMIT = 0x100000; // never hand out the first MiB (real-mode and legacy areas)

const MAX_BLOCKS = 1024;
/** Blocks handed out (live) and blocks freed and kept for reuse. Start in bytes, size in pages. */
const liveStart = new Float64Array(MAX_BLOCKS);
const livePages = new Float64Array(MAX_BLOCKS);
let liveCount = 0;
const spareStart = new Float64Array(MAX_BLOCKS);
const sparePages = new Float64Array(MAX_BLOCKS);
let spareCount = 0;

const stats = new Float64Array(8);
const FROM_FIRMWARE = 0; // pages obtained from the firmware
const ALLOCATIONS = 1;
const FREES = 2;
const REUSED = 3; // allocations served from freed blocks
const FAILURES = 4;
const ZEROED = 5; // pages zeroed
const NUMA_REQUESTS = 6; // allocations that asked for a node other than 0

export const enum AllocError {
  BadRequest = -1, // size 0, alignment not a power of two, too many blocks
  NoMemory = -2, // no free region of that size and alignment
  Firmware = -3, // the firmware refused every candidate
  NotAllocated = -4, // free of a block this allocator did not hand out
}

/** The low and high u32 halves of an address, for host calls. */
export const hostAddressLo = (address: number) => address % 4294967296;
export const hostAddressHi = (address: number) => Math.floor(address / 4294967296);

const zero = (start: number, pages: number) => {
  // hv_phys_zero takes a u32 length: zero 1 GiB at a time.
  let done = 0;
  while (done < pages) {
    const chunk = Math.min(pages - done, PAGES_1G);
    const at = start + done * PAGE_SIZE;
    hv_phys_zero(hostAddressLo(at), hostAddressHi(at), chunk * PAGE_SIZE);
    done += chunk;
  }
  stats[ZEROED] += pages;
};

const isPowerOfTwo = (n: number) => n >= 1 && Math.floor(n) === n && (n & (n - 1)) === 0 && n <= PAGES_1G;

const alignUp = (address: number, alignBytes: number) => Math.ceil(address / alignBytes) * alignBytes;

/** A freed block that holds `pages` at `alignPages` alignment: its index, or -1. */
const findSpare = (pages: number, alignPages: number) => {
  for (let i = 0; i < spareCount; i++) {
    const start = alignUp(spareStart[i], alignPages * PAGE_SIZE);
    if (start + pages * PAGE_SIZE <= spareStart[i] + sparePages[i] * PAGE_SIZE) return i;
  }
  return -1;
};

const removeSpare = (i: number) => {
  spareCount--;
  spareStart[i] = spareStart[spareCount];
  sparePages[i] = sparePages[spareCount];
};

const addSpare = (start: number, pages: number) => {
  if (pages <= 0) return;
  if (spareCount === MAX_BLOCKS) {
    hv_efi_free_pages(hostAddressLo(start), hostAddressHi(start), pages); // no room to keep it: back to the firmware
    stats[FROM_FIRMWARE] -= pages;
    return;
  }
  spareStart[spareCount] = start;
  sparePages[spareCount] = pages;
  spareCount++;
};

/** Takes [start, +pages) out of spare block i, keeping what is left on either side. */
const carveSpare = (i: number, start: number, pages: number) => {
  const blockStart = spareStart[i];
  const blockEnd = blockStart + sparePages[i] * PAGE_SIZE;
  removeSpare(i);
  addSpare(blockStart, (start - blockStart) / PAGE_SIZE);
  const end = start + pages * PAGE_SIZE;
  addSpare(end, (blockEnd - end) / PAGE_SIZE);
};

const updateMetrics = () => metricPages(pagesInUse(), sparePagesKept(), stats[FROM_FIRMWARE]);

/** Asks the firmware for `pages` at `alignPages` alignment in free memory; the address or an AllocError. */
const fromFirmware = (pages: number, alignPages: number) => {
  const n = readFirmwareMap();
  if (n <= 0) return AllocError.Firmware;
  let refused = false;
  for (let i = 0; i < firmwareMapCount(); i++) {
    if (mapType[i] !== EFI_CONVENTIONAL_MEMORY) continue;
    const regionStart = Math.max(mapStart[i], LOW_LIMIT);
    const regionEnd = mapStart[i] + mapPages[i] * PAGE_SIZE;
    const start = alignUp(regionStart, alignPages * PAGE_SIZE);
    if (start + pages * PAGE_SIZE > regionEnd) continue;
    if (hv_efi_alloc_pages(hostAddressLo(start), hostAddressHi(start), pages) === 0) {
      stats[FROM_FIRMWARE] += pages;
      return start;
    }
    refused = true;
  }
  return refused ? AllocError.Firmware : AllocError.NoMemory;
};

/**
 * Allocates `pages` zeroed 4 KiB pages aligned to `alignPages` pages (a power of two up to
 * PAGES_1G), preferably on NUMA node `node`. Returns the physical address, or an AllocError (< 0).
 */
export const allocatePages = (pages: number, alignPages: number, node: number) => {
  if (!(pages >= 1) || Math.floor(pages) !== pages || !isPowerOfTwo(alignPages) || liveCount === MAX_BLOCKS) {
    stats[FAILURES]++;
    metricPageRequest(false);
    return AllocError.BadRequest;
  }
  if (node !== 0) stats[NUMA_REQUESTS]++;
  let start = -1;
  const spare = findSpare(pages, alignPages);
  if (spare >= 0) {
    start = alignUp(spareStart[spare], alignPages * PAGE_SIZE);
    carveSpare(spare, start, pages);
    stats[REUSED]++;
  } else {
    start = fromFirmware(pages, alignPages);
    if (start < 0) {
      stats[FAILURES]++;
      metricPageRequest(false);
      return start;
    }
  }
  zero(start, pages);
  liveStart[liveCount] = start;
  livePages[liveCount] = pages;
  liveCount++;
  stats[ALLOCATIONS]++;
  metricPageRequest(true);
  updateMetrics();
  return start;
};

/** Frees a block allocatePages returned (the whole block). Returns 0 or AllocError.NotAllocated. */
export const freePages = (start: number) => {
  for (let i = 0; i < liveCount; i++) {
    if (liveStart[i] !== start) continue;
    const pages = livePages[i];
    liveCount--;
    liveStart[i] = liveStart[liveCount];
    livePages[i] = livePages[liveCount];
    addSpare(start, pages);
    stats[FREES]++;
    updateMetrics();
    return 0;
  }
  return AllocError.NotAllocated;
};

/** Size in pages of the live block at `start`, or 0. */
export const allocatedPagesAt = (start: number) => {
  for (let i = 0; i < liveCount; i++) if (liveStart[i] === start) return livePages[i];
  return 0;
};

export const liveBlocks = () => liveCount;
export const pagesInUse = () => {
  let n = 0;
  for (let i = 0; i < liveCount; i++) n += livePages[i];
  return n;
};
export const sparePagesKept = () => {
  let n = 0;
  for (let i = 0; i < spareCount; i++) n += sparePages[i];
  return n;
};
export const pagesFromFirmware = () => stats[FROM_FIRMWARE];
export const allocationCount = () => stats[ALLOCATIONS];
export const freeCount = () => stats[FREES];
export const reuseCount = () => stats[REUSED];
export const failureCount = () => stats[FAILURES];
export const zeroedPages = () => stats[ZEROED];
export const numaRequests = () => stats[NUMA_REQUESTS];
/** NUMA nodes known to the allocator (1 until an SRAT is read). */
export const numaNodes = () => 1;
