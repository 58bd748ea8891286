// The host ABI's checksum primitives in JS (toolchain/host-abi.mjs hv_crc32_update,
// hv_fnv1a_update, hv_phys_word_hash), for the simulated machine and the pure-logic rigs.

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? (c >>> 1) ^ 0xedb88320 : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();
export const crc32Update = (crc, bytes) => {
  let c = crc >>> 0;
  for (const b of bytes) c = (CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8)) >>> 0;
  return c;
};
export const fnv1aUpdate = (h, bytes) => {
  let x = h >>> 0;
  for (const b of bytes) x = Math.imul(x ^ b, 0x01000193) >>> 0;
  return x;
};
export const wordHash = (hi, lo, bytes) => {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  let h = hi >>> 0;
  let l = lo >>> 0;
  for (let i = 0; i + 4 <= bytes.length; i += 4) {
    const w = dv.getUint32(i, true);
    h = Math.imul(h ^ w, 0x01000193) >>> 0;
    l = (Math.imul(l ^ w, 0x9e3779b1) + 0x7f4a7c15) >>> 0;
  }
  return [h, l];
};
