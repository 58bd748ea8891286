// CRC-32 as IEEE 802.3 (and zlib, PNG) define it: reflected polynomial 0xEDB88320, register
// preset to 0xFFFFFFFF, result XORed with 0xFFFFFFFF ("123456789" -> 0xCBF43926). Table
// driven, one byte at a time; the 256-entry table is built once when the module starts.
// The incremental form (crc32Update from CRC32_START, then crc32Finish) sums a frame's
// header and payload where they lie, without copying them together. Only bytes inside both
// the given range and the array are read. The byte loop is the shim's (hv_crc32_update: a
// porffor loop costs ~40 instructions a byte); crc32Zeros and the table stay here.
import { dataAddress } from '../../host/memory';

/** The register value to start a sum with. */
export const CRC32_START = 0xffffffff;

const table = new Uint32Array(256);
for (let n = 0; n < 256; n++) {
  let c = n;
  for (let k = 0; k < 8; k++) c = (c & 1) !== 0 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
  table[n] = c;
}

/** Adds bytes[off, off + len) (clipped to the array) to the running register `crc`; returns the new register. */
export const crc32Update = (crc: number, bytes: Uint8Array, off: number, len: number) => {
  let start = off;
  if (start < 0) start = 0;
  let end = off + len;
  if (end > bytes.length) end = bytes.length;
  if (end <= start) return crc >>> 0;
  return hv_crc32_update(crc >>> 0, dataAddress(bytes) + start, end - start) >>> 0; // the shim's loop
};

/** Adds `count` zero bytes to the running register (a field summed as zero). */
export const crc32Zeros = (crc: number, count: number) => {
  const t = table;
  let c = crc >>> 0;
  for (let i = 0; i < count; i++) c = t[c & 0xff] ^ (c >>> 8);
  return c >>> 0;
};

/** The CRC of everything added to the register. */
export const crc32Finish = (crc: number) => (crc ^ 0xffffffff) >>> 0;

/** CRC-32 of bytes[off, off + len) (clipped to the array). */
export const crc32 = (bytes: Uint8Array, off: number, len: number) => crc32Finish(crc32Update(CRC32_START, bytes, off, len));
