// Page records, the contents of a Pages frame (frame.ts), back to back:
//
//   offset  size  field
//        0     4  guest-physical page number (gpa >> 12)
//        4     1  encoding (PageEncoding)
//        5     1  reserved, 0
//        6     2  length of what follows
//        8     -  Raw: the 4096 bytes. Rle: 1..4095 bytes of runs (below). Zero: nothing.
//                 Duplicate: 12 bytes: the page number of a page sent earlier with the same
//                 contents u32, then their hash: CRC-32 u32 and FNV-1a u32.
//
// RLE (PackBits-like): a control byte c, then
//   c = 0x00..0x7F  literal: the next c + 1 bytes (1..128) as they are;
//   c = 0x80..0xFF  run: the next byte, repeated c - 0x80 + 3 times (3..130).
// A record's runs must make exactly 4096 bytes from exactly its length. The encoder writes
// runs of 3 or more equal bytes as runs, the rest as literals; it gives up as soon as the
// output would reach 4096 bytes (worst case, all literals, would be 4128) and the page goes
// Raw, so a record is never larger than a raw one (8 + 4096 bytes).
//
// The sender (pageEncode) tries, in order: Zero (every byte 0); Duplicate, when a page sent
// earlier had these contents and still has them on the receiver; Rle, when smaller than the
// page; else Raw. Duplicates come from two fixed tables, preallocated:
//   - the dedup table, 4096 slots, open addressing: content hash (CRC-32, FNV-1a) -> the
//     page sent last with those contents;
//   - "hash last sent", 8192 slots, open addressing keyed by page number: the hash of the
//     contents each page was last sent with (Zero pages included).
// A Duplicate of page S is written only when the dedup table names S for this hash and S's
// last-sent hash is this hash, so the receiver's copy of S holds these contents (frames are
// applied in order). A page that is not in the last-sent table cannot be a source. When a
// table fills to 3/4 it is cleared (only duplicates are lost); a per-page array would need
// 8 bytes for each of a 4 GiB VM's 1M pages, more than porffor can allocate.
//
// The receiver (pageDecode) checks every field before anything is written (PageError, in
// this order): Short (header), BadReserved, BadEncoding, BadLength (Raw 4096, Rle 1..4095,
// Zero 0, Duplicate 12), Short (payload past the range), OutOfRange (page number >= the
// VM's page count), BadSource (Duplicate source >= page count), BadRle (runs that make more
// or fewer than 4096 bytes, or run past the record). It decodes into a staging page; for a
// Duplicate the caller loads the source page there and pageVerify compares its hash
// (DupMismatch: the copy would not be the page the sender meant).
import { dataAddress } from '../../host/memory';
import type { MsgKey } from '../../i18n/dictionary';
import { crc32 } from './crc32';
import { FNV1A_START, fnv1a } from './fnv1a';
import { le32, putLe32 } from '../../lib/bytes';

export const PAGE_BYTES = 4096;
export const RECORD_HEADER_BYTES = 8;
export const DUPLICATE_BYTES = 12;
/** Longest Rle payload (one less than a page). */
export const RLE_MAX = PAGE_BYTES - 1;

export const enum PageEncoding {
  Raw = 1,
  Rle = 2,
  Zero = 3,
  Duplicate = 4,
}

/** Why a page record was rejected (pageErrorKey gives its message). */
export const enum PageError {
  None = 0,
  Short = 1,
  BadReserved = 2,
  BadEncoding = 3,
  BadLength = 4,
  OutOfRange = 5,
  BadSource = 6,
  BadRle = 7,
  DupMismatch = 8,
  NoRoom = 9,
}

export const pageErrorKey = (e: number): MsgKey => {
  switch (e) {
    case PageError.None:
      return 'migration.page.none';
    case PageError.Short:
      return 'migration.page.short';
    case PageError.BadReserved:
      return 'migration.page.badReserved';
    case PageError.BadEncoding:
      return 'migration.page.badEncoding';
    case PageError.BadLength:
      return 'migration.page.badLength';
    case PageError.OutOfRange:
      return 'migration.page.outOfRange';
    case PageError.BadSource:
      return 'migration.page.badSource';
    case PageError.BadRle:
      return 'migration.page.badRle';
    case PageError.DupMismatch:
      return 'migration.page.dupMismatch';
  }
  return 'migration.page.noRoom';
};


/** Whether page[off, + 4096) lies inside the array. */
const pageInside = (page: Uint8Array, off: number) => off >= 0 && off + PAGE_BYTES <= page.length;

// ---- content hashes ----

/** CRC-32 of the page at page[off]. */
export const pageCrc = (page: Uint8Array, off: number) => crc32(page, off, PAGE_BYTES);
/** FNV-1a of the page at page[off]. */
export const pageFnv = (page: Uint8Array, off: number) => fnv1a(page, off, PAGE_BYTES);

// The hash of a whole memory (Complete), over the little-endian 32-bit words of pages 0, 1,
// 2, ... in order, two independent multiplicative hashes a word at a time (it runs while
// the guest is paused, so it must be cheap): hi: h = (h ^ w) * 0x01000193 from 0x811C9DC5
// (FNV-1a's constants, per word); lo: h = ((h ^ w) * 0x9E3779B1 + 0x7F4A7C15) from
// 0x2545F491 (both mod 2^32).
let memHi = 0x811c9dc5;
let memLo = 0x2545f491;
export const memHashStart = () => {
  memHi = 0x811c9dc5;
  memLo = 0x2545f491;
};
/** Adds the page at page[off] (inside the array: the callers check) to the memory hash. */
export const memHashPage = (page: Uint8Array, off: number) => {
  const at = dataAddress(page) + off;
  let hi = memHi | 0;
  let lo = memLo | 0;
  for (let i = 0; i < PAGE_BYTES; i += 4) {
    const w = Porffor.wasm.i32.load(at + i, 0, 0);
    hi = Math.imul(hi ^ w, 0x01000193);
    lo = (Math.imul(lo ^ w, 0x9e3779b1) + 0x7f4a7c15) | 0;
  }
  memHi = hi >>> 0;
  memLo = lo >>> 0;
};
export const memHashHi = () => memHi;
export const memHashLo = () => memLo;

const memState = new Uint32Array(2);
/** Adds `length` bytes of RAM at host-physical lo/hi to the memory hash, in the shim (a whole VM's RAM at once). */
export const memHashRam = (lo: number, hi: number, length: number) => {
  memState[0] = memHi;
  memState[1] = memLo;
  hv_phys_word_hash(lo, hi, length, dataAddress(memState));
  memHi = memState[0];
  memLo = memState[1];
};

// ---- RLE ----

/** Length of the run of equal bytes at page[po + i] (at most 130, inside the page). */
const runAt = (page: Uint8Array, po: number, i: number) => {
  const b = page[po + i];
  let n = 1;
  while (n < 130 && i + n < PAGE_BYTES && page[po + i + n] === b) n++;
  return n;
};

/**
 * RLE of the page at page[po] into out[at, + limit); returns the bytes written, or -1 when
 * they would be more than `limit` (then out[at, + limit) holds garbage). The caller
 * guarantees out[at, + limit) lies inside `out`.
 */
export const rleEncode = (page: Uint8Array, po: number, out: Uint8Array, at: number, limit: number) => {
  let i = 0;
  let n = 0;
  while (i < PAGE_BYTES) {
    const r = runAt(page, po, i);
    if (r >= 3) {
      if (n + 2 > limit) return -1;
      out[at + n] = 0x80 + r - 3;
      out[at + n + 1] = page[po + i];
      n += 2;
      i += r;
      continue;
    }
    // a literal up to the next run of 3 (or 128 bytes, or the end)
    let j = i + r;
    while (j < PAGE_BYTES && j - i < 128) {
      if (j + 2 < PAGE_BYTES && page[po + j] === page[po + j + 1] && page[po + j] === page[po + j + 2]) break;
      j++;
    }
    let count = j - i;
    if (count > 128) count = 128;
    if (n + 1 + count > limit) return -1;
    out[at + n] = count - 1;
    for (let k = 0; k < count; k++) out[at + n + 1 + k] = page[po + i + k];
    n += 1 + count;
    i += count;
  }
  return n;
};

/** Decodes src[at, + len) into dst[dstOff, + 4096) (checked by the caller); whether it made exactly one page from exactly those bytes. */
export const rleDecode = (src: Uint8Array, at: number, len: number, dst: Uint8Array, dstOff: number) => {
  let i = 0;
  let made = 0;
  while (i < len) {
    const c = src[at + i];
    if (c < 0x80) {
      const count = c + 1;
      if (i + 1 + count > len || made + count > PAGE_BYTES) return false;
      for (let k = 0; k < count; k++) dst[dstOff + made + k] = src[at + i + 1 + k];
      made += count;
      i += 1 + count;
    } else {
      const count = c - 0x80 + 3;
      if (i + 2 > len || made + count > PAGE_BYTES) return false;
      const b = src[at + i + 1];
      for (let k = 0; k < count; k++) dst[dstOff + made + k] = b;
      made += count;
      i += 2;
    }
  }
  return made === PAGE_BYTES;
};

// ---- the sender's tables ----

const DEDUP_SLOTS = 4096; // a power of two
const DEDUP_LIMIT = 3072;
const dedupCrc = new Uint32Array(DEDUP_SLOTS);
const dedupFnv = new Uint32Array(DEDUP_SLOTS);
const dedupPage = new Uint32Array(DEDUP_SLOTS);
const dedupUsed = new Uint8Array(DEDUP_SLOTS);
let dedupCount = 0;

const LAST_SLOTS = 8192; // a power of two
const LAST_LIMIT = 6144;
const lastPage = new Uint32Array(LAST_SLOTS);
const lastCrc = new Uint32Array(LAST_SLOTS);
const lastFnv = new Uint32Array(LAST_SLOTS);
const lastUsed = new Uint8Array(LAST_SLOTS);
let lastCount = 0;

const ZERO_CRC = 0xc71c0011; // CRC-32 of 4096 zero bytes
const zeroPageFnv = () => {
  let h = FNV1A_START;
  for (let i = 0; i < PAGE_BYTES; i++) h = Math.imul(h, 0x01000193);
  return h >>> 0;
};
const zeroFnv = zeroPageFnv(); // FNV-1a of 4096 zero bytes

/** Encodings written, by PageEncoding (index 0: records that did not fit). */
const encoded = new Float64Array(5);
let lastEncoding = 0;
let dedupResets = 0;

const clearDedup = () => {
  for (let i = 0; i < DEDUP_SLOTS; i++) dedupUsed[i] = 0;
  dedupCount = 0;
};
const clearLast = () => {
  for (let i = 0; i < LAST_SLOTS; i++) lastUsed[i] = 0;
  lastCount = 0;
};

/** Forgets every page sent (a new session). */
let rleOn = true;
/** Whether pages may go as Rle (else Raw when not zero or a duplicate). */
export const codecSetRle = (on: boolean) => {
  rleOn = on;
};

export const codecReset = () => {
  clearDedup();
  clearLast();
  for (let i = 0; i < 5; i++) encoded[i] = 0;
  lastEncoding = 0;
  dedupResets = 0;
};

/** The slot of page `gpa` in the last-sent table, or -1. */
const lastFind = (gpa: number) => {
  let i = (Math.imul(gpa, 0x9e3779b1) >>> 19) & (LAST_SLOTS - 1);
  for (let probes = 0; probes < LAST_SLOTS; probes++) {
    if (lastUsed[i] === 0) return -1;
    if (lastPage[i] === gpa) return i;
    i = (i + 1) & (LAST_SLOTS - 1);
  }
  return -1;
};

/** Records that page `gpa` was sent with contents hashing to (crc, fnv). */
const lastSet = (gpa: number, crc: number, fnv: number) => {
  let i = lastFind(gpa);
  if (i < 0) {
    if (lastCount >= LAST_LIMIT) {
      clearLast();
      dedupResets++;
    }
    i = (Math.imul(gpa, 0x9e3779b1) >>> 19) & (LAST_SLOTS - 1);
    while (lastUsed[i] !== 0) i = (i + 1) & (LAST_SLOTS - 1);
    lastUsed[i] = 1;
    lastPage[i] = gpa;
    lastCount++;
  }
  lastCrc[i] = crc;
  lastFnv[i] = fnv;
};

/** The dedup slot holding hash (crc, fnv), or the empty slot where it would go. */
const dedupSlot = (crc: number, fnv: number) => {
  let i = (crc ^ fnv) & (DEDUP_SLOTS - 1);
  for (let probes = 0; probes < DEDUP_SLOTS; probes++) {
    if (dedupUsed[i] === 0) return i;
    if (dedupCrc[i] === crc && dedupFnv[i] === fnv) return i;
    i = (i + 1) & (DEDUP_SLOTS - 1);
  }
  return -1; // cannot happen below DEDUP_LIMIT
};

const dedupSet = (crc: number, fnv: number, gpa: number) => {
  if (dedupCount >= DEDUP_LIMIT) {
    clearDedup();
    dedupResets++;
  }
  const i = dedupSlot(crc, fnv);
  if (i < 0) return;
  if (dedupUsed[i] === 0) {
    dedupUsed[i] = 1;
    dedupCrc[i] = crc;
    dedupFnv[i] = fnv;
    dedupCount++;
  }
  dedupPage[i] = gpa; // the newest page with these contents
};

/** A page whose last-sent contents hash to (crc, fnv), or -1. */
const duplicateSource = (crc: number, fnv: number) => {
  const i = dedupSlot(crc, fnv);
  if (i < 0 || dedupUsed[i] === 0) return -1;
  const source = dedupPage[i];
  const j = lastFind(source);
  if (j < 0 || lastCrc[j] !== crc || lastFnv[j] !== fnv) return -1; // sent again since, with other contents
  return source;
};

/** Whether the page at page[po] (inside the array: checked by the callers) is all zeros; read a word at a time. */
const isZero = (page: Uint8Array, po: number) => {
  const at = dataAddress(page) + po;
  for (let i = 0; i < PAGE_BYTES; i += 4) if (Porffor.wasm.i32.load(at + i, 0, 0) !== 0) return false;
  return true;
};

/** Copies a page from src[so] to dst[do] (both inside their arrays: checked by the callers), a word at a time. */
const copyPage = (src: Uint8Array, so: number, dst: Uint8Array, dOff: number) => {
  const from = dataAddress(src) + so;
  const to = dataAddress(dst) + dOff;
  for (let i = 0; i < PAGE_BYTES; i += 4) Porffor.wasm.i32.store(to + i, Porffor.wasm.i32.load(from + i, 0, 0), 0, 0);
};

const putHeader = (out: Uint8Array, off: number, gpa: number, encoding: number, length: number) => {
  putLe32(out, off, gpa);
  out[off + 4] = encoding;
  out[off + 5] = 0;
  out[off + 6] = length & 0xff;
  out[off + 7] = (length >>> 8) & 0xff;
};

/**
 * Encodes page `gpa`, whose contents are page[po, + 4096), as one record at out[off] in at
 * most `cap` bytes (clipped to the array). Returns the record's length, or 0 when it does
 * not fit (nothing is recorded as sent then: encode it again into a new frame) or the
 * arguments are out of range.
 */
export const pageEncode = (page: Uint8Array, po: number, gpa: number, out: Uint8Array, off: number, cap: number) => {
  lastEncoding = 0;
  if (!pageInside(page, po) || gpa < 0 || gpa > 0xffffffff || off < 0 || off > out.length) return 0;
  let room = out.length - off;
  if (cap < room) room = cap;
  if (room < RECORD_HEADER_BYTES) {
    encoded[0]++;
    return 0;
  }
  if (isZero(page, po)) {
    putHeader(out, off, gpa, PageEncoding.Zero, 0);
    lastSet(gpa, ZERO_CRC, zeroFnv);
    lastEncoding = PageEncoding.Zero;
    encoded[PageEncoding.Zero]++;
    return RECORD_HEADER_BYTES;
  }
  const crc = pageCrc(page, po);
  const fnv = pageFnv(page, po);
  let length = -1;
  let encoding = 0;
  const source = duplicateSource(crc, fnv);
  if (source >= 0) {
    if (room < RECORD_HEADER_BYTES + DUPLICATE_BYTES) {
      encoded[0]++;
      return 0;
    }
    putLe32(out, off + 8, source);
    putLe32(out, off + 12, crc);
    putLe32(out, off + 16, fnv);
    encoding = PageEncoding.Duplicate;
    length = DUPLICATE_BYTES;
  } else {
    let limit = room - RECORD_HEADER_BYTES;
    if (limit > RLE_MAX) limit = RLE_MAX;
    length = rleOn ? rleEncode(page, po, out, off + RECORD_HEADER_BYTES, limit) : -1;
    encoding = PageEncoding.Rle;
    if (length < 0) {
      if (room < RECORD_HEADER_BYTES + PAGE_BYTES) {
        encoded[0]++;
        return 0;
      }
      copyPage(page, po, out, off + RECORD_HEADER_BYTES);
      encoding = PageEncoding.Raw;
      length = PAGE_BYTES;
    }
  }
  putHeader(out, off, gpa, encoding, length);
  lastSet(gpa, crc, fnv);
  dedupSet(crc, fnv, gpa);
  lastEncoding = encoding;
  encoded[encoding]++;
  return RECORD_HEADER_BYTES + length;
};

/** The encoding of the last record pageEncode wrote (0: it wrote none). */
export const encodedLast = () => lastEncoding;
/** Records written with `encoding` (0: attempts that did not fit). */
export const encodedCount = (encoding: number) => (encoding >= 0 && encoding < 5 ? encoded[encoding] : 0);
/** How often a full table was cleared. */
export const tableResets = () => dedupResets;

// ---- the receiver ----

let recLength = 0;
let recGpa = 0;
let recEncoding = 0;
let recSource = 0;
let recHashHi = 0;
let recHashLo = 0;

/** Bytes the last decoded record took (header included). */
export const recordLength = () => recLength;
export const recordGpa = () => recGpa;
export const recordEncoding = () => recEncoding;
/** Duplicate: the page to copy, and the hash it must have. */
export const recordSource = () => recSource;
export const recordHashHi = () => recHashHi;
export const recordHashLo = () => recHashLo;

/**
 * Decodes the record at src[off, off + len) (clipped to the array) for a VM of `pageCount`
 * pages: Raw, Rle and Zero into dst[dstOff, + 4096); a Duplicate only sets recordSource and
 * its hash (load that page into dst, then pageVerify). The getters describe the record
 * when the result is PageError.None.
 */
export const pageDecode = (src: Uint8Array, off: number, len: number, pageCount: number, dst: Uint8Array, dstOff: number) => {
  recLength = 0;
  recGpa = 0;
  recEncoding = 0;
  recSource = 0;
  recHashHi = 0;
  recHashLo = 0;
  if (!pageInside(dst, dstOff)) return PageError.NoRoom;
  if (off < 0 || len < 0 || off > src.length) return PageError.Short;
  let avail = src.length - off;
  if (len < avail) avail = len;
  if (avail < RECORD_HEADER_BYTES) return PageError.Short;
  const gpa = le32(src, off);
  const encoding = src[off + 4];
  const length = src[off + 6] | (src[off + 7] << 8);
  if (src[off + 5] !== 0) return PageError.BadReserved;
  if (encoding < PageEncoding.Raw || encoding > PageEncoding.Duplicate) return PageError.BadEncoding;
  let lengthOk = false;
  if (encoding === PageEncoding.Raw) lengthOk = length === PAGE_BYTES;
  else if (encoding === PageEncoding.Rle) lengthOk = length >= 1 && length <= RLE_MAX;
  else if (encoding === PageEncoding.Zero) lengthOk = length === 0;
  else lengthOk = length === DUPLICATE_BYTES;
  if (!lengthOk) return PageError.BadLength;
  if (RECORD_HEADER_BYTES + length > avail) return PageError.Short;
  if (gpa >= pageCount) return PageError.OutOfRange;
  const p = off + RECORD_HEADER_BYTES;
  if (encoding === PageEncoding.Duplicate) {
    const source = le32(src, p);
    if (source >= pageCount) return PageError.BadSource;
    recSource = source;
    recHashHi = le32(src, p + 4);
    recHashLo = le32(src, p + 8);
  } else if (encoding === PageEncoding.Rle) {
    if (!rleDecode(src, p, length, dst, dstOff)) return PageError.BadRle;
  } else if (encoding === PageEncoding.Zero) {
    const to = dataAddress(dst) + dstOff;
    for (let i = 0; i < PAGE_BYTES; i += 4) Porffor.wasm.i32.store(to + i, 0, 0, 0);
  } else {
    copyPage(src, p, dst, dstOff);
  }
  recLength = RECORD_HEADER_BYTES + length;
  recGpa = gpa;
  recEncoding = encoding;
  return PageError.None;
};

/** After a Duplicate: whether the page loaded at page[po] hashes as the record said. */
export const pageVerify = (page: Uint8Array, po: number) => {
  if (!pageInside(page, po)) return PageError.NoRoom;
  if (pageCrc(page, po) !== recHashHi || pageFnv(page, po) !== recHashLo) return PageError.DupMismatch;
  return PageError.None;
};
