// Little-endian field writers and the byte checksum the MP spec (4.1, 4.2) and ACPI (5.2.5.3,
// 5.2.6) use, for the table builders.

export const put8 = (out: Uint8Array, at: number, v: number) => {
  out[at] = v & 0xff;
};
export const put16 = (out: Uint8Array, at: number, v: number) => {
  out[at] = v & 0xff;
  out[at + 1] = (v >>> 8) & 0xff;
};
export const put32 = (out: Uint8Array, at: number, v: number) => {
  out[at] = v & 0xff;
  out[at + 1] = (v >>> 8) & 0xff;
  out[at + 2] = (v >>> 16) & 0xff;
  out[at + 3] = (v >>> 24) & 0xff;
};
/** A guest-physical address below 4 GiB as a 64-bit field. */
export const put64 = (out: Uint8Array, at: number, v: number) => {
  put32(out, at, v);
  put32(out, at + 4, 0);
};
export const putText = (out: Uint8Array, at: number, s: string) => {
  for (let i = 0; i < s.length; i++) out[at + i] = s.charCodeAt(i);
};

/** Sets out[at] so that out[from, from + length) sums to 0 modulo 256. */
export const checksum = (out: Uint8Array, from: number, length: number, at: number) => {
  out[at] = 0;
  let sum = 0;
  for (let i = from; i < from + length; i++) sum += out[i];
  out[at] = (256 - (sum & 0xff)) & 0xff;
};

export const align16 = (n: number) => (n + 15) & ~15;
