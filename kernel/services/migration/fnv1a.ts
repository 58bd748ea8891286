// FNV-1a, 32 bits (Fowler, Noll, Vo; offset basis 0x811C9DC5, prime 16777619 = 0x01000193):
// the second, independent 32 bits of the migration's 64-bit content hashes (CRC-32 is the
// other half). XOR each byte in, then multiply modulo 2^32 (Math.imul). Incremental like
// crc32.ts; only bytes inside both the given range and the array are read (by the shim's
// loop, hv_fnv1a_update).
import { dataAddress } from '../../host/memory';

/** The hash of no bytes, and the value to start a sum with. */
export const FNV1A_START = 0x811c9dc5;

/** Adds bytes[off, off + len) (clipped to the array) to the running hash `h`. */
export const fnv1aUpdate = (h: number, bytes: Uint8Array, off: number, len: number) => {
  let start = off;
  if (start < 0) start = 0;
  let end = off + len;
  if (end > bytes.length) end = bytes.length;
  if (end <= start) return h >>> 0;
  return hv_fnv1a_update(h >>> 0, dataAddress(bytes) + start, end - start) >>> 0; // the shim's loop
};

/** FNV-1a of bytes[off, off + len) (clipped to the array). */
export const fnv1a = (bytes: Uint8Array, off: number, len: number) => fnv1aUpdate(FNV1A_START, bytes, off, len);
