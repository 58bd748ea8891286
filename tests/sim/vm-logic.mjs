// A rig for the VM logic tests: the test kernel tests/fixtures/kernels/vm-logic.ts (the
// guest image checks, the instruction-length decoder, the UART, debug-exit, PIT, PIC and RTC
// models) compiled like the kernel (cached in build/test-cache/, keyed by the files that go
// into it) and instantiated once; every host function it imports fails the run if called
// (the modules are pure logic), except the clocks: hv_tsc/hv_boot_tsc read the rig's `tsc`,
// hv_efi_time its `efiTime`.
import { join } from 'node:path';
import { ROOT, callExport, listFiles, testEntryModule } from './harness.mjs';

const ENTRY = join(ROOT, 'tests', 'fixtures', 'kernels', 'vm-logic.ts');

/** The sources the test kernel is built from (its imports). */
const inputs = () => [
  ...listFiles(join(ROOT, 'kernel', 'vm', 'image')),
  ...listFiles(join(ROOT, 'kernel', 'vm', 'decode')),
  ...listFiles(join(ROOT, 'kernel', 'vm', 'devices')),
  join(ROOT, 'kernel', 'host', 'memory.ts'),
  join(ROOT, 'kernel', 'i18n', 'utf8.ts'),
  join(ROOT, 'kernel', 'lib', 'clock.ts'),
  join(ROOT, 'kernel', 'lib', 'limits.ts'),
  join(ROOT, 'kernel', 'vm', 'vcpu-table.ts'),
];

/** The test kernel's Wasm module, compiled once per source state. */
export const vmLogicModule = () => testEntryModule(ENTRY, 'vm-logic', inputs());

const call = callExport;

export const FILE_BYTES = 32768;
export const SMALL_FILE_BYTES = 4096;
export const INFO_BYTES = 4096;
export const TAKE_SMALL = 100;

export class VmLogic {
  constructor(module = vmLogicModule()) {
    const imports = {};
    this.tsc = 0n; // what hv_tsc and hv_boot_tsc read (the PIT's time); tests move it
    this.efiTime = [2026, 11, 25, 12, 34, 56]; // what hv_efi_time reports (year..second), or null: GetTime fails
    for (const imp of WebAssembly.Module.imports(module)) {
      if (imp.kind !== 'function') continue;
      if (imp.name === 'hv_tsc' || imp.name === 'hv_boot_tsc') {
        const boot = imp.name === 'hv_boot_tsc';
        imports[imp.name] = (addr) => new DataView(this.memory.buffer).setBigUint64(Number(addr), boot ? 0n : this.tsc, true);
        continue;
      }
      if (imp.name === 'hv_efi_time') {
        imports[imp.name] = (addr) => {
          if (this.efiTime === null) return -1;
          const dv = new DataView(this.memory.buffer, Number(addr), 24);
          this.efiTime.forEach((v, i) => dv.setUint32(i * 4, v, true));
          return 0;
        };
        continue;
      }
      imports[imp.name] = (...args) => {
        throw new Error(`vm-logic: the test kernel called host function ${imp.name}(${args.join(', ')})`);
      };
    }
    this.instance = new WebAssembly.Instance(module, { '': imports });
    this.e = this.instance.exports;
    this.memory = this.e.$;
    this.e.m();
    this.fileAddr = call(this.e.addr, 0);
    this.infoAddr = call(this.e.addr, 1);
    this.cmdAddr = call(this.e.addr, 2);
    this.decAddr = call(this.e.addr, 3);
    this.takeAddr = call(this.e.addr, 4);
    this.pitStateAddr = call(this.e.addr, 5);
    this.picStateAddr = call(this.e.addr, 6);
    this.rtcStateAddr = call(this.e.addr, 7);
    this.lapicStateAddr = call(this.e.addr, 8);
    this.ioapicStateAddr = call(this.e.addr, 9);
  }

  get memoryBytes() { return this.memory.buffer.byteLength; }

  // ---- images ----

  /** Puts `bytes` at the start of the kernel's file buffer (the rest zeroed). */
  setFile(bytes) {
    const view = new Uint8Array(this.memory.buffer, this.fileAddr, FILE_BYTES);
    view.fill(0);
    view.set(bytes.subarray(0, FILE_BYTES));
  }

  /** multibootCheck(file, length, ram) with the full or the 4 KiB buffer. */
  check(length, ramBytes, small = false) { return call(this.e.mbCheck, length, ramBytes, small ? 1 : 0); }

  flat(length, load, entry, ramBytes) { return call(this.e.mbFlat, length, load, entry, ramBytes); }

  image(k) { return call(this.e.image, k); }

  /** What the last check left: segments, entry, header offset, flags, registers. */
  result() {
    const n = this.image(0);
    const segments = [];
    for (let i = 0; i < n; i++) segments.push({ addr: call(this.e.seg, i, 0), offset: call(this.e.seg, i, 1), filesz: call(this.e.seg, i, 2), memsz: call(this.e.seg, i, 3) });
    return { segments, entry: this.image(1), headerOffset: this.image(2), flags: this.image(3), eax: this.image(4), ebx: this.image(5), eip: this.image(6) };
  }

  segmentField(i, k) { return call(this.e.seg, i, k); }

  /** multibootInfo with the command line `codes` (code points); returns [result, bytes]. */
  info(codes, { capacity = INFO_BYTES, infoAddr = 0x9000, ramBytes, cmdStart = 0, cmdLength = codes.length } = {}) {
    new Uint32Array(this.memory.buffer, this.cmdAddr, 1024).set(codes.slice(0, 1024));
    const view = new Uint8Array(this.memory.buffer, this.infoAddr, INFO_BYTES);
    view.fill(0xee);
    const r = call(this.e.mbInfo, capacity, infoAddr, ramBytes, cmdStart, cmdLength);
    return [r, new Uint8Array(this.memory.buffer, this.infoAddr, INFO_BYTES).slice()];
  }

  // ---- decoder ----

  /** instructionLength over `bytes` (placed at decBuf[offset]). */
  decode(bytes, mode, { available = bytes.length, offset = 0 } = {}) {
    const view = new Uint8Array(this.memory.buffer, this.decAddr, 64);
    view.fill(0x90);
    view.set(bytes.slice(0, 64 - offset), offset);
    return call(this.e.decode, offset, available, mode);
  }

  /** The decoder's facts after the last decode. */
  facts() {
    const k = (i) => call(this.e.decoded, i);
    return {
      op: k(0), prefixes: k(1), operandSize: k(2), addressSize: k(3), port: k(4), size: k(5), in: k(6), string: k(7), rep: k(8),
      segment: k(9), vector: k(10), cr: k(11), gpr: k(12), lock: k(13), portForDx: k(14),
      memReg: k(15), memSize: k(16), memImm: k(17), memHigh: k(18), memTarget: k(19),
    };
  }

  // ---- UART and debug exit ----

  uRead(vm, offset) { return call(this.e.uRead, vm, offset); }
  uWrite(vm, offset, value) { call(this.e.uWrite, vm, offset, value); }
  uPush(vm, byte) { return call(this.e.uPush, vm, byte); }
  uReset(vm) { call(this.e.uReset, vm); }
  uStat(vm, k) { return call(this.e.uStat, vm, k); }
  /** com1Take into the 8 KiB buffer (or the 100-byte one); returns the bytes taken. */
  uTake(vm, small = false) {
    const n = call(this.e.uTake, vm, small ? 1 : 0);
    return new Uint8Array(this.memory.buffer, this.takeAddr, Math.max(0, n)).slice();
  }

  dWrite(vm, value) { call(this.e.dWrite, vm, value); }
  dReset(vm) { call(this.e.dReset, vm); }
  dStat(vm, k) { return call(this.e.dStat, vm, k); }

  // ---- the 8254 PIT and port 0x61 ----

  pitHz(hz) { call(this.e.pHz, hz); }
  pitRead(vm, port) { return call(this.e.pRead, vm, port); }
  pitWrite(vm, port, value) { call(this.e.pWrite, vm, port, value); }
  pitReset(vm) { call(this.e.pReset, vm); }
  /** The saved state's bytes, or null. */
  pitSave(vm) {
    const n = call(this.e.pSave, vm);
    return n < 0 ? null : new Uint8Array(this.memory.buffer, this.pitStateAddr, n).slice();
  }
  /** Loads `bytes` as saved state; whether it was taken. */
  pitLoad(vm, bytes) {
    new Uint8Array(this.memory.buffer, this.pitStateAddr, 64).set(bytes.subarray(0, 64));
    return call(this.e.pLoad, vm, bytes.length) === 1;
  }

  // ---- the 8259A PIC pair and ELCR ----

  picRead(vm, port) { return call(this.e.icRead, vm, port); }
  picWrite(vm, port, value) { call(this.e.icWrite, vm, port, value); }
  picSetIrq(vm, irq, level) { call(this.e.icIrq, vm, irq, level); }
  picOutput(vm) { return call(this.e.icOut, vm) === 1; }
  picAcknowledge(vm) { return call(this.e.icAck, vm); }
  picReset(vm) { call(this.e.icReset, vm); }
  /** The saved state's bytes, or null. */
  picSave(vm) {
    const n = call(this.e.icSave, vm);
    return n < 0 ? null : new Uint8Array(this.memory.buffer, this.picStateAddr, n).slice();
  }
  /** Loads `bytes` as saved state; whether it was taken. */
  picLoad(vm, bytes) {
    new Uint8Array(this.memory.buffer, this.picStateAddr, 64).set(bytes.subarray(0, 64));
    return call(this.e.icLoad, vm, bytes.length) === 1;
  }

  // ---- the MC146818 RTC and CMOS (now = the rig's tsc) ----

  rtcReset(vm, ramBytes, hostSeconds) { call(this.e.rtReset, vm, ramBytes, hostSeconds); }
  rtcRead(vm, port) { return call(this.e.rtRead, vm, port); }
  rtcWrite(vm, port, value) { call(this.e.rtWrite, vm, port, value); }
  rtcIrqDeadline(vm) { return call(this.e.rtDeadline, vm); }
  rtcIrqService(vm) { return call(this.e.rtService, vm) === 1; }
  rtcNmiMasked(vm) { return call(this.e.rtNmi, vm) === 1; }
  rtcHostSeconds() { return call(this.e.rtHost); }
  epochSeconds(y, mo, d, h, mi, s) { return call(this.e.rtEpoch, y, mo, d, h, mi, s); }
  /** The saved state's bytes, or null. */
  rtcSave(vm) {
    const n = call(this.e.rtSave, vm);
    return n < 0 ? null : new Uint8Array(this.memory.buffer, this.rtcStateAddr, n).slice();
  }
  /** Loads `bytes` as saved state; whether it was taken. */
  rtcLoad(vm, bytes) {
    new Uint8Array(this.memory.buffer, this.rtcStateAddr, 256).set(bytes.subarray(0, 256));
    return call(this.e.rtLoad, vm, bytes.length) === 1;
  // ---- the local APIC (vCPU v; `now` is the guest TSC the core would pass) ----

  lReset(v, apicId) { call(this.e.lReset, v, apicId); }
  lRead(v, offset, now = 0) { return call(this.e.lRead, v, offset, now); }
  /** -1, or the vector of a level-triggered interrupt just EOI'd. */
  lWrite(v, offset, value, now = 0) { return call(this.e.lWrite, v, offset, value, now); }
  /** [lo, hi], or null for #GP. */
  lMsrRead(v, index, now = 0) { return call(this.e.lMsrRead, v, index, now) === 1 ? [call(this.e.lMsr, 0), call(this.e.lMsr, 1)] : null; }
  /** -2 #GP, -1 done, or an EOI'd level vector. */
  lMsrWrite(v, index, lo, hi = 0, now = 0) { return call(this.e.lMsrWrite, v, index, lo, hi, now); }
  lAccept(v, vector, level = 0) { call(this.e.lAccept, v, vector, level); }
  lPending(v) { return call(this.e.lPending, v); }
  lAck(v, vector) { return call(this.e.lAck, v, vector) === 1; }
  lAcceptsPic(v) { return call(this.e.lStat, v, 0) === 1; }
  lNmiPending(v) { return call(this.e.lStat, v, 1) === 1; }
  lTakeNmi(v) { return call(this.e.lStat, v, 2) === 1; }
  lDroppedIpis(v) { return call(this.e.lStat, v, 3); }
  lDeadline(v) { return call(this.e.lStat, v, 4); }
  lService(v, now) { return call(this.e.lService, v, now) === 1; }
  lLint(v, pin) { call(this.e.lLint, v, pin); }
  lMatch(v, dest, logical, wide = false) { return call(this.e.lMatch, v, dest, logical ? 1 : 0, wide ? 1 : 0) === 1; }
  lSave(v) {
    const n = call(this.e.lSave, v);
    return n < 0 ? null : new Uint8Array(this.memory.buffer, this.lapicStateAddr, n).slice();
  }
  lLoad(v, bytes) {
    new Uint8Array(this.memory.buffer, this.lapicStateAddr, 256).set(bytes.subarray(0, 256));
    return call(this.e.lLoad, v, bytes.length) === 1;
  }

  // ---- the I/O APIC (VM vm) and the VM's vCPU ids ----

  vTake(slot, index = 0) { return call(this.e.vTake, slot, index); }
  vRelease(slot) { call(this.e.vRelease, slot); }
  iReset(vm) { call(this.e.iReset, vm); }
  iRead(vm, offset) { return call(this.e.iRead, vm, offset); }
  iWrite(vm, offset, value) { call(this.e.iWrite, vm, offset, value); }
  iIrq(vm, pin, level) { call(this.e.iIrq, vm, pin, level); }
  iEoi(vm, vector) { call(this.e.iEoi, vm, vector); }
  iExtInt(vm) { return call(this.e.iExtInt, vm) === 1; }
  iSave(vm) {
    const n = call(this.e.iSave, vm);
    return n < 0 ? null : new Uint8Array(this.memory.buffer, this.ioapicStateAddr, n).slice();
  }
  iLoad(vm, bytes) {
    new Uint8Array(this.memory.buffer, this.ioapicStateAddr, 256).set(bytes.subarray(0, 256));
    return call(this.e.iLoad, vm, bytes.length) === 1;
  }
}
