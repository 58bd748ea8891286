// A rig for the MMIO emulation tests: the test kernel tests/fixtures/kernels/mmio-logic.ts
// built from a copy of kernel/ (build/test-cache/src/mmio-logic) whose kernel/vm/mmio-device.ts
// reaches the scripted device (tests/fixtures/kernels/mmio-scripted-board.ts) instead of the
// board; compiled and cached like every test kernel (harness.mjs testEntryModule). Guest RAM
// is a 1 MiB buffer here, read and written through hv_phys_read/hv_phys_write; every other
// host function fails the run if called.
import { cpSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT, callExport, testEntryModule } from './harness.mjs';

const SRC = join(ROOT, 'build', 'test-cache', 'src', 'mmio-logic');
const FIXTURES = join(ROOT, 'tests', 'fixtures', 'kernels');
export const RAM_BYTES = 1 << 20;

/** The test kernel's Wasm module (its source copy made afresh, the Wasm compiled once per source state). */
export const mmioLogicModule = () => {
  rmSync(SRC, { recursive: true, force: true });
  cpSync(join(ROOT, 'kernel'), join(SRC, 'kernel'), { recursive: true });
  mkdirSync(join(SRC, 'tests', 'fixtures', 'kernels'), { recursive: true });
  for (const f of ['mmio-logic.ts', 'mmio-scripted-board.ts']) cpSync(join(FIXTURES, f), join(SRC, 'tests', 'fixtures', 'kernels', f));
  const device = join(SRC, 'kernel', 'vm', 'mmio-device.ts');
  const before = readFileSync(device, 'utf8');
  const after = before.replace("from './devices/board'", "from '../../tests/fixtures/kernels/mmio-scripted-board'");
  if (after === before) throw new Error('mmio-logic: kernel/vm/mmio-device.ts no longer imports ./devices/board');
  writeFileSync(device, after);
  return testEntryModule(join(SRC, 'tests', 'fixtures', 'kernels', 'mmio-logic.ts'), 'mmio-logic',
    [join(FIXTURES, 'mmio-logic.ts'), join(FIXTURES, 'mmio-scripted-board.ts'), device]);
};

const call = callExport;
export const REG = { rax: 0, rcx: 1, rdx: 2, rbx: 3, rsp: 4, rbp: 5, rsi: 6, rdi: 7, r8: 8, r9: 9, r10: 10, r11: 11, r12: 12, r13: 13, r14: 14, r15: 15 };
export const Result = { Done: 0, Stop: 1, Undecodable: 2, Fault: 3 };

export class MmioLogic {
  constructor(module = mmioLogicModule()) {
    this.ram = new Uint8Array(RAM_BYTES);
    const imports = {};
    const phys = (lo, hi, len) => {
      const at = hi * 2 ** 32 + lo;
      if (at < 0 || at + len > RAM_BYTES) throw new Error(`mmio-logic: physical access at 0x${at.toString(16)} outside the rig's RAM`);
      return at;
    };
    for (const imp of WebAssembly.Module.imports(module)) {
      if (imp.kind !== 'function') continue;
      if (imp.name === 'hv_phys_read') {
        imports[imp.name] = (lo, hi, out, len) => { const at = phys(lo, hi, len); new Uint8Array(this.memory.buffer, out, len).set(this.ram.subarray(at, at + len)); };
      } else if (imp.name === 'hv_phys_write') {
        imports[imp.name] = (lo, hi, src, len) => { const at = phys(lo, hi, len); this.ram.set(new Uint8Array(this.memory.buffer, src, len), at); };
      } else {
        imports[imp.name] = (...args) => { throw new Error(`mmio-logic: the test kernel called host function ${imp.name}(${args.join(', ')})`); };
      }
    }
    this.instance = new WebAssembly.Instance(module, { '': imports });
    this.e = this.instance.exports;
    this.memory = this.e.$;
    this.e.m();
    call(this.e.mmInit);
    this.devA = call(this.e.mmDevice, 0);
    this.devB = call(this.e.mmDevice, 1);
    this.instAddr = call(this.e.mmInstAddr);
  }

  /** Register r as a BigInt. */
  reg(r) { return (BigInt(call(this.e.mmRegHi, r) >>> 0) << 32n) | BigInt(call(this.e.mmRegLo, r) >>> 0); }
  setReg(r, v) {
    v = BigInt.asUintN(64, BigInt(v));
    call(this.e.mmSetReg, r, Number(v & 0xffffffffn), Number(v >> 32n));
  }
  get flags() { return call(this.e.mmFlags) >>> 0; }
  set flags(v) { call(this.e.mmSetFlags, v >>> 0); }
  /** k: 0-5 segment bases ES..GS, 6 CR0, 7 EFER, 8 CR3, 9 CR4. */
  setState(k, v) {
    v = BigInt.asUintN(64, BigInt(v));
    call(this.e.mmSetState, k, Number(v & 0xffffffffn), Number(v >> 32n));
  }

  /** Resets the scripted device: reads answer `reads` in order, then `fallback`; a write at `stopAt` stops the VM. */
  device({ reads = [], fallback = 0, stopAt = -1 } = {}) {
    call(this.e.mmDevReset, fallback, stopAt);
    for (const v of reads) call(this.e.mmDevPush, v);
  }
  /** The device accesses since the reset: [{ dev, write, offset, size, value }]. */
  accesses() {
    const out = [];
    const n = call(this.e.mmDevCount);
    for (let i = 0; i < n; i++) {
      const k = call(this.e.mmDevLog, i, 0);
      out.push({ dev: k % 16, write: k >= 16, offset: call(this.e.mmDevLog, i, 1), size: call(this.e.mmDevLog, i, 2), value: call(this.e.mmDevLog, i, 3) });
    }
    return out;
  }

  /** emulateMmio of `bytes` (code size `mode`) for an access at `offset` of device `dev` (default: A): { result, length, fault }. */
  emulate(bytes, mode, { offset = 0, dev = this.devA, available = bytes.length } = {}) {
    const view = new Uint8Array(this.memory.buffer, this.instAddr, 32);
    view.fill(0x90);
    view.set(bytes.slice(0, 32));
    const result = call(this.e.mmEmulate, dev, offset, available, mode);
    return { result, length: call(this.e.mmLength), fault: call(this.e.mmFaultAt) };
  }
}
