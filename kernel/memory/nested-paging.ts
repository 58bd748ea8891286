// Nested page tables, guest-physical -> host-physical, with 4 KiB, 2 MiB (PS) and 1 GiB
// (PS) pages and per-region access, in one of two formats chosen by the back end:
// - AMD NPT: the long-mode 4-level format (AMD APM vol. 2 section 5.3 and 15.25.5): read
//   (P), write (R/W), execute (NX clear; NX only when the host runs with EFER.NXE, APM
//   15.25.2, else it is a reserved bit). Nested walks are user accesses: every level sets U/S.
// - Intel EPT (SDM vol. 3C 29.3.2): read, write, execute in bits 0-2 at every level, leaf
//   memory type write-back (bits 5:3 = 6); accessed bit 8, dirty bit 9 (SDM 29.3.5).
// Both share PS at bit 7, the address in bits 12-51, and "present" = bit 0 (every mapping
// here is readable). Table pages come from
// the page allocator (zeroed) and are remembered per table set so that they are all
// freed with it. A protection change inside a large page splits it into the next size.
import { Efer, Msr } from '../lib/x86';
import { dataAddress } from '../host/memory';
import { msr, rdmsr } from '../cpu/cpuid';
import { allocatePages, freePages, hostAddressHi, hostAddressLo } from './page-allocator';
import { trace, TracePoint } from '../diag/trace';

const PRESENT = 1;
const WRITABLE = 2;
const USER = 4;
const LARGE = 0x80; // PS
const TABLE_FLAGS = PRESENT | WRITABLE | USER;
const NX_HI = 0x80000000; // bit 63

/** What a guest may do with a region (flags). */
export const enum NptAccess {
  Read = 1,
  Write = 2,
  Execute = 4,
  All = 7,
}

export const NPT_4K = 4096;
export const NPT_2M = 2097152;
export const NPT_1G = 1073741824;

export const enum NptError {
  NoMemory = -1,
  Misaligned = -2,
  TooManyTables = -3,
  AlreadyMapped = -4,
  NotMapped = -5, // nptProtect of a range with holes
  NoExecuteUnsupported = -6, // the host runs without EFER.NXE: every page is executable
  BadAccess = -7, // write without read (not expressible: P is read)
}

let hostNx = -1; // host EFER.NXE (bit 11), read once

/** Whether nested tables can forbid execution (host EFER.NXE). */
export const nptCanForbidExecute = () => {
  if (hostNx < 0) {
    rdmsr(Msr.Efer);
    hostNx = (msr[0] & Efer.NXE) !== 0 ? 1 : 0;
  }
  return hostNx === 1;
};

/** Leaf entry bits for `access`: low flags and the high half (NX); -1 when not expressible. */
let ept = false; // the Intel EPT format (set by the back end before any table is built)
const EPT_WRITE_BACK = 6 << 3;
let dirtyBit = 0x40; // NPT: D is bit 6 (APM 5.4.2); EPT: bit 9

/** Chooses the format of every table built from now on: Intel EPT (true) or AMD NPT (false). */
export const nestedFormatEpt = (on: boolean) => {
  ept = on;
  dirtyBit = on ? 0x200 : 0x40;
};

let eptDirtyBits = false;
/** EPT: whether the EPTP enables accessed/dirty flags (the back end says, from IA32_VMX_EPT_VPID_CAP bit 21). */
export const nestedEptDirtyBits = (on: boolean) => {
  eptDirtyBits = on;
};
let allow2m = true;
let allow1g = true;
/** The leaf sizes the processor walks (EPT: IA32_VMX_EPT_VPID_CAP bits 16, 17; NPT: the host's 1 GiB pages); nptMap uses no others. */
export const nestedPageSizes = (twoMiB: boolean, oneGiB: boolean) => {
  allow2m = twoMiB;
  allow1g = oneGiB;
};

/** Whether the processor sets D bits in these tables (NPT always; EPT only with A/D enabled). */
export const nptHasDirtyBits = () => !ept || eptDirtyBits;

const leafLow = (access: number) => {
  if (ept) return (access & NptAccess.All) | EPT_WRITE_BACK;
  return (access & NptAccess.Write) !== 0 ? PRESENT | WRITABLE | USER : PRESENT | USER;
};
const leafHigh = (access: number) => (ept || (access & NptAccess.Execute) !== 0 ? 0 : NX_HI);
const accessError = (access: number) => {
  if ((access & NptAccess.Read) === 0) return NptError.BadAccess;
  if ((access & NptAccess.Execute) === 0 && !ept && !nptCanForbidExecute()) return NptError.NoExecuteUnsupported;
  return 0;
};

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

const writeEntry = (table: number, index: number, address: number, flags: number, high = 0) => {
  if (entryAddr < 0) entryAddr = dataAddress(entry);
  entry[0] = ((address % 4294967296) + flags) >>> 0;
  entry[1] = (Math.floor(address / 4294967296) | high) >>> 0;
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
 * Maps [gpa, gpa + bytes) to [hpa, ...) with `access` (NptAccess flags), with the largest
 * pages both sides' alignment allows. All three must be 4 KiB aligned. 0 or an NptError.
 */
export const nptMap = (root: number, gpa: number, hpa: number, bytes: number, access: number) => {
  if (gpa % NPT_4K !== 0 || hpa % NPT_4K !== 0 || bytes % NPT_4K !== 0) return NptError.Misaligned;
  const bad = accessError(access);
  if (bad !== 0) return bad;
  const low = leafLow(access);
  const high = leafHigh(access);
  let done = 0;
  while (done < bytes) {
    const g = gpa + done;
    const h = hpa + done;
    const left = bytes - done;
    const pdpt = nextTable(root, root, indexAt(g, L4));
    if (pdpt < 0) return pdpt;
    if (allow1g && g % NPT_1G === 0 && h % NPT_1G === 0 && left >= NPT_1G) {
      writeEntry(pdpt, indexAt(g, NPT_1G), h, low | LARGE, high);
      done += NPT_1G;
      continue;
    }
    const pd = nextTable(root, pdpt, indexAt(g, NPT_1G));
    if (pd < 0) return pd;
    if (allow2m && g % NPT_2M === 0 && h % NPT_2M === 0 && left >= NPT_2M) {
      writeEntry(pd, indexAt(g, NPT_2M), h, low | LARGE, high);
      done += NPT_2M;
      continue;
    }
    const pt = nextTable(root, pd, indexAt(g, NPT_2M));
    if (pt < 0) return pt;
    lastLeafTable = pt;
    writeEntry(pt, indexAt(g, NPT_4K), h, low, high);
    done += NPT_4K;
  }
  return 0;
};

// A table page built in linear memory and written with one host call (splitting).
const splitWords = new Uint32Array(1024);
let splitAddr = -1;

/**
 * Replaces the large leaf just read (entry[]) at entry `index` of `table`, covering
 * `size` bytes, by a table of 512 leaves of size / 512 with the same address range and
 * bits (2 MiB leaves keep PS; 4 KiB ones drop it, bit 7 is PAT there). The new table or an NptError.
 */
const split = (root: number, table: number, index: number, size: number) => {
  if (splitAddr < 0) splitAddr = dataAddress(splitWords);
  const base = entryAddress() - (entryAddress() % size);
  const low = entry[0] & 0xfff & (size === NPT_2M ? ~LARGE : 0xfff);
  const high = entry[1] & NX_HI;
  const page = newTable(root);
  if (page < 0) return page;
  const part = size / 512;
  for (let i = 0; i < 512; i++) {
    const a = base + i * part;
    splitWords[i * 2] = ((a % 4294967296) + low) >>> 0;
    splitWords[i * 2 + 1] = (Math.floor(a / 4294967296) | high) >>> 0;
  }
  hv_phys_write(hostAddressLo(page), hostAddressHi(page), splitAddr, 4096);
  writeEntry(table, index, page, TABLE_FLAGS);
  return page;
};

/** The table under entry `index` of `table` for a change to [g, g + left): split a large leaf the change does not cover whole. */
const tableFor = (root: number, table: number, index: number, g: number, left: number, size: number) => {
  readEntry(table, index);
  if ((entry[0] & PRESENT) === 0) return NptError.NotMapped;
  if ((entry[0] & LARGE) === 0) return entryAddress();
  if (g % size === 0 && left >= size) return 0; // the whole leaf changes: no split
  return split(root, table, index, size);
};

/** Sets the access bits of the leaf just read (entry[]) at `index` of `table`. */
const reprotect = (table: number, index: number, low: number, high: number) => {
  if ((entry[0] & LARGE) === 0) {
    writeEntry(table, index, entryAddress(), low, high);
    return;
  }
  const pat = entry[0] & 0x1000; // a large leaf's PAT bit sits where a 4 KiB frame's bit 12 would
  writeEntry(table, index, entryAddress() - pat, LARGE | pat | low, high);
};

/** Whether every page of [gpa, gpa + bytes) is mapped (walks without changing anything). */
const rangeMapped = (root: number, gpa: number, bytes: number) => {
  let done = 0;
  while (done < bytes) {
    const g = gpa + done;
    let table = root;
    let size = L4;
    for (;;) {
      readEntry(table, indexAt(g, size));
      if ((entry[0] & PRESENT) === 0) return false;
      if (size === NPT_4K || (entry[0] & LARGE) !== 0) break;
      table = entryAddress();
      size = size === L4 ? NPT_1G : size === NPT_1G ? NPT_2M : NPT_4K;
    }
    done += size - (g % size); // to the end of this leaf
  }
  return true;
};

/**
 * Gives the mapped range [gpa, gpa + bytes) the access `access` (NptAccess flags),
 * splitting large pages at the range's ends. 4 KiB aligned; every page must be mapped
 * (else nothing changes).
 * A running guest's TLB must be flushed before it runs again (its first user, dirty
 * tracking for migration, adds that to the vCPU interface).
 * 0 or an NptError.
 */
export const nptProtect = (root: number, gpa: number, bytes: number, access: number) => {
  if (gpa % NPT_4K !== 0 || bytes % NPT_4K !== 0) return NptError.Misaligned;
  const bad = accessError(access);
  if (bad !== 0) return bad;
  if (!rangeMapped(root, gpa, bytes)) return NptError.NotMapped; // all or nothing
  const low = leafLow(access);
  const high = leafHigh(access);
  let done = 0;
  while (done < bytes) {
    const g = gpa + done;
    const left = bytes - done;
    const pdpt = tableFor(root, root, indexAt(g, L4), g, left, L4);
    if (pdpt < 0) return pdpt;
    const pd = tableFor(root, pdpt, indexAt(g, NPT_1G), g, left, NPT_1G);
    if (pd < 0) return pd;
    if (pd === 0) {
      readEntry(pdpt, indexAt(g, NPT_1G));
      reprotect(pdpt, indexAt(g, NPT_1G), low, high);
      done += NPT_1G;
      continue;
    }
    const pt = tableFor(root, pd, indexAt(g, NPT_2M), g, left, NPT_2M);
    if (pt < 0) return pt;
    if (pt === 0) {
      readEntry(pd, indexAt(g, NPT_2M));
      reprotect(pd, indexAt(g, NPT_2M), low, high);
      done += NPT_2M;
      continue;
    }
    readEntry(pt, indexAt(g, NPT_4K));
    if ((entry[0] & PRESENT) === 0) return NptError.NotMapped;
    lastLeafTable = pt;
    reprotect(pt, indexAt(g, NPT_4K), low, high);
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

// ---- dirty tracking (AMD APM vol. 2 5.4.2: the processor sets a leaf's D bit, bit 6,
// on a write through it, in nested tables too; EPT: bit 9 when the EPTP enables A/D
// flags, SDM 29.3.5) ----

/** Maps [gpa, gpa + bytes) (mapped, 2 MiB aligned) with 4 KiB pages only, so that D bits are per page. 0 or an NptError. */
export const nptSmallPages = (root: number, gpa: number, bytes: number) => {
  if (gpa % NPT_2M !== 0 || bytes % NPT_2M !== 0) return NptError.Misaligned;
  if (!rangeMapped(root, gpa, bytes)) return NptError.NotMapped;
  for (let g = gpa; g < gpa + bytes; g += NPT_2M) {
    const pdpt = tableFor(root, root, indexAt(g, L4), g, NPT_2M, L4);
    if (pdpt < 0) return pdpt;
    const pd = tableFor(root, pdpt, indexAt(g, NPT_1G), g, NPT_2M, NPT_1G); // a 1 GiB leaf splits (the range is smaller)
    if (pd < 0) return pd;
    readEntry(pd, indexAt(g, NPT_2M));
    if ((entry[0] & LARGE) !== 0) {
      const pt = split(root, pd, indexAt(g, NPT_2M), NPT_2M);
      if (pt < 0) return pt;
    }
  }
  return 0;
};

/**
 * Collects and clears the D bits of the 4 KiB leaves over [gpa, gpa + bytes) (2 MiB
 * aligned, mapped by nptSmallPages): bit (page - gpa / 4096) of `dirty` is set for every
 * page written since the last call. The vCPUs' TLBs must be flushed before they run again
 * (a cached translation would let writes through without setting D). The number of dirty
 * pages, or an NptError.
 */
export const nptTakeDirty = (root: number, gpa: number, bytes: number, dirty: Uint8Array) => {
  if (gpa % NPT_2M !== 0 || bytes % NPT_2M !== 0 || bytes / 32768 > dirty.length) return NptError.Misaligned;
  if (splitAddr < 0) splitAddr = dataAddress(splitWords);
  let count = 0;
  for (let g = gpa; g < gpa + bytes; g += NPT_2M) {
    readEntry(root, indexAt(g, L4));
    if ((entry[0] & PRESENT) === 0) return NptError.NotMapped;
    const pdpt = entryAddress();
    readEntry(pdpt, indexAt(g, NPT_1G));
    if ((entry[0] & PRESENT) === 0 || (entry[0] & LARGE) !== 0) return NptError.NotMapped;
    const pd = entryAddress();
    readEntry(pd, indexAt(g, NPT_2M));
    if ((entry[0] & PRESENT) === 0 || (entry[0] & LARGE) !== 0) return NptError.NotMapped;
    const pt = entryAddress();
    hv_phys_read(hostAddressLo(pt), hostAddressHi(pt), splitAddr, 4096);
    let changed = false;
    const first = (g - gpa) / NPT_4K;
    for (let i = 0; i < 512; i++) {
      const low = splitWords[i * 2];
      if ((low & PRESENT) === 0 || (low & dirtyBit) === 0) continue;
      splitWords[i * 2] = (low & ~dirtyBit) >>> 0;
      const page = first + i;
      dirty[page >>> 3] = dirty[page >>> 3] | (1 << (page & 7));
      count++;
      changed = true;
    }
    if (changed) hv_phys_write(hostAddressLo(pt), hostAddressHi(pt), splitAddr, 4096);
  }
  return count;
};

// ---- write-protection (dirty tracking where D bits are not to be had): a leaf without
// write access (bit 1 in both formats: NPT R/W, EPT W) makes the guest's write exit with a
// nested page fault (APM vol. 2 15.25.6; an EPT violation, SDM 29.3.3); the fault path
// gives that one leaf its write access back. The leaves the log protects carry LOGGED in
// bit 11, which both formats leave to software (NPT AVL, APM 5.4.1; EPT "ignored", SDM
// table 29-6; bit 9 is EPT's dirty flag), so neither what it protected nor what was
// written since needs memory of its own ----

const LOGGED = 0x800;

/** The 4 KiB leaf table over the 2 MiB-aligned `gpa` (mapped by nptSmallPages), or NptError.NotMapped. */
export const nptLeafTable = (root: number, gpa: number) => {
  readEntry(root, indexAt(gpa, L4));
  if ((entry[0] & PRESENT) === 0) return NptError.NotMapped;
  readEntry(entryAddress(), indexAt(gpa, NPT_1G));
  if ((entry[0] & PRESENT) === 0 || (entry[0] & LARGE) !== 0) return NptError.NotMapped;
  readEntry(entryAddress(), indexAt(gpa, NPT_2M));
  if ((entry[0] & PRESENT) === 0 || (entry[0] & LARGE) !== 0) return NptError.NotMapped;
  return entryAddress();
};

/**
 * One pass over the leaves of leaf table `pt` (pages first .. first + 511):
 *   protect  writable leaves lose R/W and become LOGGED (how many);
 *   take     LOGGED leaves written since (R/W back) lose R/W again, their bits set in `out` (how many);
 *   release  LOGGED leaves get R/W back and stop being LOGGED.
 */
const logPass = (pt: number, first: number, pass: number, out: Uint8Array) => {
  if (splitAddr < 0) splitAddr = dataAddress(splitWords);
  hv_phys_read(hostAddressLo(pt), hostAddressHi(pt), splitAddr, 4096);
  let n = 0;
  for (let i = 0; i < 512; i++) {
    const low = splitWords[i * 2];
    if ((low & PRESENT) === 0) continue;
    if (pass === 0) {
      if ((low & WRITABLE) === 0) continue;
      splitWords[i * 2] = ((low & ~WRITABLE) | LOGGED) >>> 0;
    } else if (pass === 1) {
      if ((low & (LOGGED | WRITABLE)) !== (LOGGED | WRITABLE)) continue;
      splitWords[i * 2] = (low & ~WRITABLE) >>> 0;
      const page = first + i;
      out[page >>> 3] = out[page >>> 3] | (1 << (page & 7));
    } else {
      if ((low & LOGGED) === 0) continue;
      splitWords[i * 2] = ((low & ~LOGGED) | WRITABLE) >>> 0;
    }
    n++;
  }
  if (n > 0) hv_phys_write(hostAddressLo(pt), hostAddressHi(pt), splitAddr, 4096);
  return n;
};

const none = new Uint8Array(1); // logPass's `out` where it is not written
export const nptLogProtect = (pt: number) => logPass(pt, 0, 0, none);
export const nptLogTake = (pt: number, first: number, out: Uint8Array) => logPass(pt, first, 1, out);
export const nptLogRelease = (pt: number) => logPass(pt, 0, 2, none);

/** The fault path: leaf `index` of `pt` gets R/W back if it is LOGGED (true), else nothing changes. Two host calls, no walk. */
export const nptLogAllow = (pt: number, index: number) => {
  if (entryAddr < 0) entryAddr = dataAddress(entry);
  const at = pt + index * 8;
  hv_phys_read(hostAddressLo(at), hostAddressHi(at), entryAddr, 4);
  if ((entry[0] & (PRESENT | LOGGED)) !== (PRESENT | LOGGED)) return false;
  entry[0] = (entry[0] | WRITABLE) >>> 0;
  hv_phys_write(hostAddressLo(at), hostAddressHi(at), entryAddr, 4);
  return true;
};
