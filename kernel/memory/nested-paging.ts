// Nested page tables for AMD NPT: the long-mode 4-level format (AMD APM vol. 2 section
// 5.3 and 15.25.5), guest-physical -> host-physical, with 4 KiB, 2 MiB (PDE.PS) and
// 1 GiB (PDPTE.PS) pages. Nested walks are user accesses, so every level sets U/S.
// Table pages come from the page allocator (zeroed) and are remembered per table set
// so that they are all freed with it.
import { dataAddress } from '../host/memory';
import { allocatePages, freePages, hostAddressHi, hostAddressLo } from './page-allocator';
import { trace, TracePoint } from '../diag/trace';

const PRESENT = 1;
const WRITABLE = 2;
const USER = 4;
const LARGE = 0x80; // PS
const TABLE_FLAGS = PRESENT | WRITABLE | USER;

export const NPT_4K = 4096;
export const NPT_2M = 2097152;
export const NPT_1G = 1073741824;

export const enum NptError {
  NoMemory = -1,
  Misaligned = -2,
  TooManyTables = -3,
  AlreadyMapped = -4,
}

const MAX_TABLES = 512;
const tablePage = new Float64Array(MAX_TABLES);
const tableOwner = new Float64Array(MAX_TABLES); // root it belongs to (0 = free slot)
let tableCount = 0;

const entry = new Uint32Array(2);
let entryAddr = -1;
let lastLeafTable = -1; // the 4 KiB table being filled (its entries are traced as leaves)

const readEntry = (table: number, index: number) => {
  if (entryAddr < 0) entryAddr = dataAddress(entry);
  const at = table + index * 8;
  hv_phys_read(hostAddressLo(at), hostAddressHi(at), entryAddr, 8);
};

const writeEntry = (table: number, index: number, address: number, flags: number) => {
  if (entryAddr < 0) entryAddr = dataAddress(entry);
  entry[0] = ((address % 4294967296) + flags) >>> 0;
  entry[1] = Math.floor(address / 4294967296) >>> 0;
  if ((flags & LARGE) !== 0 || table === lastLeafTable) trace(TracePoint.NptUpdate, table % 4294967296, index, entry[0], entry[1]);
  const at = table + index * 8;
  hv_phys_write(hostAddressLo(at), hostAddressHi(at), entryAddr, 8);
};

/** Address in an entry just read (bits 12..51). */
const entryAddress = () => (entry[1] & 0xfffff) * 4294967296 + (entry[0] - (entry[0] & 0xfff));

const newTable = (root: number) => {
  let slot = -1;
  for (let i = 0; i < tableCount; i++) if (tableOwner[i] === 0) slot = i;
  if (slot < 0) {
    if (tableCount === MAX_TABLES) return NptError.TooManyTables;
    slot = tableCount;
    tableCount++;
  }
  const page = allocatePages(1, 1, 0);
  if (page < 0) return NptError.NoMemory;
  tablePage[slot] = page;
  tableOwner[slot] = root < 0 ? page : root;
  return page;
};

/** A new, empty table set; its root (the nCR3 value) or an NptError. */
export const nptCreate = () => newTable(-1);

/** The next-level table under entry `index` of `table`, created when absent; or an NptError. */
const nextTable = (root: number, table: number, index: number) => {
  readEntry(table, index);
  if ((entry[0] & PRESENT) !== 0) {
    if ((entry[0] & LARGE) !== 0) return NptError.AlreadyMapped;
    return entryAddress();
  }
  const page = newTable(root);
  if (page < 0) return page;
  writeEntry(table, index, page, TABLE_FLAGS);
  return page;
};

const indexAt = (gpa: number, shift: number) => Math.floor(gpa / shift) % 512;
const L4 = 549755813888; // 512 GiB per PML4 entry

/**
 * Maps [gpa, gpa + bytes) to [hpa, ...), writable, with the largest pages both sides'
 * alignment allows. All three must be 4 KiB aligned. Returns 0 or an NptError.
 */
export const nptMap = (root: number, gpa: number, hpa: number, bytes: number) => {
  if (gpa % NPT_4K !== 0 || hpa % NPT_4K !== 0 || bytes % NPT_4K !== 0) return NptError.Misaligned;
  let done = 0;
  while (done < bytes) {
    const g = gpa + done;
    const h = hpa + done;
    const left = bytes - done;
    const pdpt = nextTable(root, root, indexAt(g, L4));
    if (pdpt < 0) return pdpt;
    if (g % NPT_1G === 0 && h % NPT_1G === 0 && left >= NPT_1G) {
      writeEntry(pdpt, indexAt(g, NPT_1G), h, TABLE_FLAGS | LARGE);
      done += NPT_1G;
      continue;
    }
    const pd = nextTable(root, pdpt, indexAt(g, NPT_1G));
    if (pd < 0) return pd;
    if (g % NPT_2M === 0 && h % NPT_2M === 0 && left >= NPT_2M) {
      writeEntry(pd, indexAt(g, NPT_2M), h, TABLE_FLAGS | LARGE);
      done += NPT_2M;
      continue;
    }
    const pt = nextTable(root, pd, indexAt(g, NPT_2M));
    if (pt < 0) return pt;
    lastLeafTable = pt;
    writeEntry(pt, indexAt(g, NPT_4K), h, TABLE_FLAGS);
    done += NPT_4K;
  }
  return 0;
};

/** Frees every table page of the set rooted at `root`. */
export const nptDestroy = (root: number) => {
  for (let i = 0; i < tableCount; i++) {
    if (tableOwner[i] !== root) continue;
    freePages(tablePage[i]);
    tableOwner[i] = 0;
  }
};
