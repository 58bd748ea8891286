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
