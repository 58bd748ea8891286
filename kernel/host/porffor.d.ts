// The porffor intrinsics the kernel uses, for `tsc --noEmit --strict`. They compile to
// single Wasm memory instructions: load(address, align, offset), store(address, value, align, offset).
// Loads are signed; store values must be `| 0`. No bounds check: use through kernel/host/memory.ts only.
declare namespace Porffor {
  namespace wasm {
    namespace i32 {
      function load(address: unknown, align: number, offset: number): number;
      function load8_u(address: unknown, align: number, offset: number): number;
      function load16_u(address: unknown, align: number, offset: number): number;
      function store(address: unknown, value: number, align: number, offset: number): void;
      function store8(address: unknown, value: number, align: number, offset: number): void;
      function store16(address: unknown, value: number, align: number, offset: number): void;
    }
  }
}
