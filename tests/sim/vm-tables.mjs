// A rig for the guest platform tables and the ACPI PM device: the test kernel
// tests/fixtures/kernels/vm-tables.ts compiled like the kernel (cached in build/test-cache/)
// and instantiated once; time is the rig's (hv_tsc, hv_boot_tsc read `tsc`), every other host
// function fails the run if called (the modules are pure logic).
import { join } from 'node:path';
import { ROOT, callExport as call, listFiles, testEntryModule } from './harness.mjs';

const ENTRY = join(ROOT, 'tests', 'fixtures', 'kernels', 'vm-tables.ts');

/** The test kernel's Wasm module, compiled once per source state. */
export const vmTablesModule = () => testEntryModule(ENTRY, 'vm-tables', [
  ...listFiles(join(ROOT, 'kernel', 'vm', 'tables')),
  ...listFiles(join(ROOT, 'kernel', 'vm', 'devices')),
  join(ROOT, 'kernel', 'host', 'memory.ts'),
  join(ROOT, 'kernel', 'lib', 'clock.ts'),
]);

export const WINDOW_BASE = 0xe0000;
export const WINDOW_BYTES = 0x20000;

export class VmTables {
  constructor(module = vmTablesModule()) {
    const imports = {};
    this.tsc = 0n;
    for (const imp of WebAssembly.Module.imports(module)) {
      if (imp.kind !== 'function') continue;
      if (imp.name === 'hv_tsc' || imp.name === 'hv_boot_tsc') {
        const boot = imp.name === 'hv_boot_tsc';
        imports[imp.name] = (addr) => new DataView(this.memory.buffer).setBigUint64(Number(addr), boot ? 0n : this.tsc, true);
        continue;
      }
      if (imp.name === 'hv_efi_time') {
        // the board's reset reads the host's wall clock for the RTC: a fixed date
        imports[imp.name] = (addr) => {
          const view = new DataView(this.memory.buffer);
          [2026, 12, 8, 1, 2, 3].forEach((v, i) => view.setUint32(Number(addr) + i * 4, v, true));
          return 0;
        };
        continue;
      }
      imports[imp.name] = (...args) => {
        throw new Error(`vm-tables: the test kernel called host function ${imp.name}(${args.join(', ')})`);
      };
    }
    this.instance = new WebAssembly.Instance(module, { '': imports });
    this.e = this.instance.exports;
    this.memory = this.e.$;
    this.e.m();
    this.windowAddr = call(this.e.addr, 0);
    this.pmStateAddr = call(this.e.addr, 1);
  }

  /** buildPlatformTables(vcpus, ram): [result, window bytes (a copy), acpi bytes, mp bytes]. */
  build(vcpus, ramBytes = 64 << 20, small = false) {
    const r = call(this.e.tBuild, vcpus, ramBytes, small ? 1 : 0);
    return { result: r, window: new Uint8Array(this.memory.buffer, this.windowAddr, WINDOW_BYTES).slice(), acpiBytes: call(this.e.tBytes, 0), mpBytes: call(this.e.tBytes, 1) };
  }

  setHz(hz) { call(this.e.setRate, hz); }
  read(vm, port, size = 1) { return call(this.e.bRead, vm, port, size); }
  /** A board write: its DeviceAction (0 continue, 1 stop), -1 for no device. */
  write(vm, port, value, size = 1) { return call(this.e.bWrite, vm, port, size, value); }
  reset(vm) { call(this.e.bReset, vm); }
  stopReason() { return call(this.e.stopWhy, 0); }
  stopDetail() { return call(this.e.stopWhy, 1); }
  sci(vm) { return call(this.e.pmStat, vm, 0) === 1; }
  timer(vm) { return call(this.e.pmStat, vm, 1); }
  powerButton(vm) { call(this.e.pmButton, vm); }
  /** The saved state's bytes, or null. */
  save(vm) {
    const n = call(this.e.pmSave, vm);
    return n < 0 ? null : new Uint8Array(this.memory.buffer, this.pmStateAddr, n).slice();
  }
  /** Loads `bytes` as saved state; whether it was taken. */
  load(vm, bytes) {
    new Uint8Array(this.memory.buffer, this.pmStateAddr, 64).set(bytes.subarray(0, 64));
    return call(this.e.pmLoad, vm, bytes.length) === 1;
  }
}
