// Little-endian integers in byte arrays, written once for the whole kernel (image loaders,
// ACPI, migration frames, virtqueues). Values are unsigned 32-bit numbers; 64-bit ones
// travel as two halves.

export const le16 = (b: Uint8Array, o: number) => b[o] | (b[o + 1] << 8);
export const le32 = (b: Uint8Array, o: number) => (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24)) >>> 0;

export const putLe16 = (b: Uint8Array, o: number, v: number) => {
  b[o] = v & 0xff;
  b[o + 1] = (v >>> 8) & 0xff;
};
export const putLe32 = (b: Uint8Array, o: number, v: number) => {
  b[o] = v & 0xff;
  b[o + 1] = (v >>> 8) & 0xff;
  b[o + 2] = (v >>> 16) & 0xff;
  b[o + 3] = (v >>> 24) & 0xff;
};
