// A rig for the board fuzz test: the test kernel tests/fixtures/kernels/board-fuzz.ts
// (kernel/vm/devices/board.ts with every device, through guest-clock.ts the vCPU interface
// and both back ends) compiled like the kernel (cached in build/test-cache/) and
// instantiated once. Time is the rig's: hv_tsc reads `tsc`, hv_boot_tsc 0, hv_efi_time a
// fixed date. Every other host function (the back ends import hv_vmwrite, hv_svm_run, ...)
// is a stub that returns 0 and is recorded in `calls`, so a test can say which were called.
import { join } from 'node:path';
import { ROOT, callExport as call, listFiles, testEntryModule } from './harness.mjs';

const ENTRY = join(ROOT, 'tests', 'fixtures', 'kernels', 'board-fuzz.ts');

/** The test kernel's Wasm module, compiled once per source state. */
export const boardFuzzModule = () => testEntryModule(ENTRY, 'board-fuzz', [
  ...listFiles(join(ROOT, 'kernel', 'vm', 'devices')),
  ...listFiles(join(ROOT, 'kernel', 'vcpu')),
  join(ROOT, 'kernel', 'vm', 'guest-clock.ts'),
  join(ROOT, 'kernel', 'vm', 'vcpu-table.ts'),
  join(ROOT, 'kernel', 'vm', 'vm-table.ts'),
  join(ROOT, 'kernel', 'host', 'memory.ts'),
  join(ROOT, 'kernel', 'lib', 'clock.ts'),
  join(ROOT, 'kernel', 'lib', 'limits.ts'),
]);

/** The host functions the clocks need; the rest are recorded stubs. */
export const CLOCK_IMPORTS = ['hv_tsc', 'hv_boot_tsc', 'hv_efi_time'];
export const EFI_DATE = [2026, 12, 8, 1, 2, 3];

export class BoardFuzz {
  constructor(module = boardFuzzModule()) {
    const imports = {};
    this.tsc = 0n;
    /** host function name -> times called (the clocks' too) */
    this.calls = new Map();
    const count = (name) => this.calls.set(name, (this.calls.get(name) ?? 0) + 1);
    for (const imp of WebAssembly.Module.imports(module)) {
      if (imp.kind !== 'function') continue;
      const name = imp.name;
      if (name === 'hv_tsc' || name === 'hv_boot_tsc') {
        const boot = name === 'hv_boot_tsc';
        imports[name] = (addr) => {
          count(name);
          new DataView(this.memory.buffer).setBigUint64(Number(addr), boot ? 0n : this.tsc, true);
        };
        continue;
      }
      if (name === 'hv_efi_time') {
        imports[name] = (addr) => {
          count(name);
          const view = new DataView(this.memory.buffer);
          EFI_DATE.forEach((v, i) => view.setUint32(Number(addr) + i * 4, v, true));
          return 0;
        };
        continue;
      }
      imports[name] = () => {
        count(name);
        return 0;
      };
    }
    this.instance = new WebAssembly.Instance(module, { '': imports });
    this.e = this.instance.exports;
    this.memory = this.e.$;
    this.e.m();
    this.bufBytes = call(this.e.bufBytes);
    this.workAddr = call(this.e.addr, 0);
    this.allAddr = call(this.e.addr, 1);
    this.maxVms = call(this.e.maxVms);
    this.devices = [];
    for (let d = 0; d < call(this.e.devCount); d++) this.devices.push({ index: d, id: call(this.e.devId, d), bytes: call(this.e.devBytes, d) });
  }

  /** The host functions called so far other than the clocks. */
  otherCalls() { return [...this.calls.keys()].filter((n) => !CLOCK_IMPORTS.includes(n)); }

  setHz(hz) { call(this.e.setRate, hz); }
  takeVcpu(vm) { return call(this.e.takeVcpu, vm); }
  vcpu(vm) { return call(this.e.vcpuOfVm, vm); }
  reset(vm) { call(this.e.bReset, vm); }
  portRead(vm, port, size) { return call(this.e.pRead, vm, port, size); }
  /** A DeviceAction (0 continue, 1 stop), -1 for no device. */
  portWrite(vm, port, size, value) { return call(this.e.pWrite, vm, port, size, value); }
  /** [device index or -1, offset into its range] for guest-physical `gpa`. */
  mmioAt(gpa) {
    const d = call(this.e.mAt, gpa);
    return [d, d < 0 ? -1 : call(this.e.mOff)];
  }
  mmioRead(vm, d, offset, size) { return call(this.e.mRead, vm, d, offset, size); }
  mmioWrite(vm, d, offset, size, value) { return call(this.e.mWrite, vm, d, offset, size, value); }
  stopReason() { return call(this.e.stopWhy, 0); }
  stopDetail() { return call(this.e.stopWhy, 1); }
  accesses(vm, d) { return call(this.e.devAccesses, vm, d); }
  activity(vm) { return call(this.e.devActivity, vm); }

  /** Device `d`'s saved state of VM `vm` (a copy). */
  save(d, vm) {
    const n = call(this.e.saveOne, d, vm, 0);
    return new Uint8Array(this.memory.buffer, this.workAddr, n).slice();
  }
  /** loadDevice(d, vm) of `bytes` placed at `off` in the buffer (so off + length may pass its end: truncated); whether it was taken. */
  load(d, vm, bytes, off = 0, len = bytes.length) {
    const at = Math.max(0, off); // a negative offset: the bytes at 0, for a load that must refuse
    const room = Math.max(0, Math.min(bytes.length, this.bufBytes - at));
    const buf = new Uint8Array(this.memory.buffer, this.workAddr, this.bufBytes);
    buf.fill(0);
    buf.set(bytes.subarray(0, room), at);
    return call(this.e.loadOne, d, vm, off, len) === 1;
  }
  /** Every device of VM `vm` saved, one after another (a copy). */
  saveAll(vm) {
    const n = call(this.e.saveAll, vm);
    return new Uint8Array(this.memory.buffer, this.allAddr, n).slice();
  }
  pendingVector(vm) { return call(this.e.lapicFact, vm, 0); }
  droppedIpis(vm) { return call(this.e.lapicFact, vm, 1); }
  nmiPending(vm) { return call(this.e.lapicFact, vm, 2) === 1; }
}
