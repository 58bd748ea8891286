// Where typed-array data lives in the Wasm linear memory, for host functions that take
// addresses. The only module that knows porffor's typed-array layout.
//
// porffor 0.61.13: a typed-array value is the address of a header
//   [length i32][buffer i32][byteOffset i32]
// and the buffer's element data starts 4 bytes after the buffer address
// (the ArrayBuffer keeps its byte length in front of the data).
// For a subarray the header's buffer field already points `byteOffset` bytes in (checked on
// 0.61.13: subarray(8, 16) of a Uint8Array gives an address 8 above the array's), so this
// is element 0 of any view.

type HostView = Uint8Array | Uint16Array | Uint32Array;

/** Linear-memory address of element 0 of `view`. */
export const dataAddress = (view: HostView) => Porffor.wasm.i32.load(view, 0, 4) + 4;

/**
 * Copies src[sOff, + len) to dst[dOff, ...) (clipped to both arrays; distinct arrays), four
 * bytes at a time: a typed-array byte loop costs ~40 instructions a byte, too much for
 * frames and pages on a migration's path.
 */
export const copyBytes = (dst: Uint8Array, dOff: number, src: Uint8Array, sOff: number, len: number) => {
  let n = len;
  if (dOff < 0 || sOff < 0 || n <= 0) return;
  if (dOff + n > dst.length) n = dst.length - dOff;
  if (sOff + n > src.length) n = src.length - sOff;
  if (n <= 0) return;
  const from = dataAddress(src) + sOff;
  const to = dataAddress(dst) + dOff;
  let i = 0;
  for (; i + 4 <= n; i += 4) Porffor.wasm.i32.store(to + i, Porffor.wasm.i32.load(from + i, 0, 0), 0, 0);
  for (; i < n; i++) dst[dOff + i] = src[sOff + i];
};
