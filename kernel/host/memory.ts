// Where typed-array data lives in the Wasm linear memory, for host functions that take
// addresses. The only module that knows porffor's typed-array layout.
//
// porffor 0.61.13: a typed-array value is the address of a header
//   [length i32][buffer i32][byteOffset i32]
// and the buffer's element data starts 4 bytes after the buffer address
// (the ArrayBuffer keeps its byte length in front of the data).
// Only views made with `new XxxArray(n)` are passed to the host (byteOffset 0).

type HostView = Uint8Array | Uint16Array | Uint32Array;

/** Linear-memory address of element 0 of `view`. */
export const dataAddress = (view: HostView) => Porffor.wasm.i32.load(view, 0, 4) + 4;
