// The 8254 programmable interval timer at ports 0x40-0x43 (Intel 82C54 datasheet) and
// system control port B at 0x61 (IBM PC/AT: bit 0 the gate of channel 2, bit 1 speaker data,
// bit 4 the refresh toggle, bit 5 channel 2's OUT). Counters run at 1,193,182 Hz, derived
// from the host's TSC, so a guest that calibrates its TSC against channel 2 (as Linux's
// pit_calibrate_tsc and quick_pit_calibrate do) gets the host's frequency.
// Modes 0-5, binary counts (a BCD count is counted as binary), counter latch and read-back,
// the LSB/MSB flip-flops. Channel 0's OUT is ISA IRQ 0: pitIrq0Due counts its rising edges
// for the platform (kernel/vm/interrupts.ts), which raises the line; pitIrq0Deadline says when
// the next one comes.
import { MAX_VMS } from '../../lib/limits';
import { ticksSinceBoot, tscHz } from '../../lib/clock';

export const PIT_BASE = 0x40;
export const PIT_PORTS = 4; // counters 0-2, control word
export const PORT_B = 0x61;

const PIT_HZ = 1193182;
const REFRESH_HZ = 66667; // port B bit 4 toggles every 15 us
const CHANNELS = 3;
const N = MAX_VMS * CHANNELS;

// Access modes (control word bits 5-4): 1 LSB only, 2 MSB only, 3 LSB then MSB.
const ACCESS_LSB = 1;
const ACCESS_MSB = 2;
const ACCESS_BOTH = 3;

const mode = new Uint8Array(N);
const access = new Uint8Array(N);
const bcd = new Uint8Array(N);
const reload = new Int32Array(N); // 1..65536
const loaded = new Uint8Array(N); // a count was written since the control word
const writeLow = new Uint8Array(N);
const writeHigh = new Uint8Array(N); // LSB-then-MSB: the next write is the MSB
const readHigh = new Uint8Array(N); // LSB-then-MSB: the next read is the MSB
const latchBytes = new Uint8Array(N); // bytes of a latched count still to read
const latched = new Int32Array(N);
const statusLatched = new Uint8Array(N);
const statusByte = new Uint8Array(N);
const triggered = new Uint8Array(N); // modes 1 and 5: a gate edge started the count
const elapsedBase = new Float64Array(N); // PIT ticks counted before the current run
const runStart = new Float64Array(N); // host TSC at which the current run began; -1 paused
const portB = new Uint8Array(MAX_VMS); // bits 0-3 as written
const irq0Served = new Float64Array(MAX_VMS); // channel 0's OUT rising edges already counted by pitIrq0Due

const valid = (vm: number) => vm >= 0 && vm < MAX_VMS;

const pitTicksSince = (start: number) => {
  const hz = tscHz() > 0 ? tscHz() : 1e9;
  return Math.floor(((ticksSinceBoot() - start) * PIT_HZ) / hz);
};

/** PIT ticks channel i has counted since its count was loaded (or its gate edge). */
const elapsed = (i: number) => elapsedBase[i] + (runStart[i] >= 0 ? pitTicksSince(runStart[i]) : 0);

const gate = (vm: number, c: number) => (c === 2 ? (portB[vm] & 1) !== 0 : true);

const counts = (i: number) => loaded[i] !== 0 && (mode[i] === 1 || mode[i] === 5 ? triggered[i] !== 0 : true);

/** The counting element now (65536 reads as 0). */
const countNow = (i: number) => {
  const n = reload[i];
  if (!counts(i)) return n & 0xffff;
  const e = elapsed(i);
  const m = mode[i];
  let v = 0;
  if (m === 2) v = n - (e % n);
  else if (m === 3) v = n - ((2 * e) % n);
  else v = (((n - e) % 65536) + 65536) % 65536;
  return v & 0xffff;
};

/** The OUT pin now (datasheet "Mode definitions"). */
const outNow = (vm: number, c: number, i: number) => {
  const m = mode[i];
  if (loaded[i] === 0) return m === 0 ? 0 : 1;
  if (!counts(i)) return 1; // modes 1 and 5 before their trigger
  const n = reload[i];
  const e = elapsed(i);
  if (m === 0 || m === 1) return e >= n ? 1 : 0;
  if (m === 2) return e % n === n - 1 ? 0 : 1;
  if (m === 3) return (!gate(vm, c) || e % n < (n + 1) >> 1) ? 1 : 0;
  return e === n ? 0 : 1; // modes 4 and 5: one tick low at terminal count
};

/** Starts channel c counting from its new count: now if its gate lets it, else at the gate's rise. */
const start = (vm: number, c: number, i: number) => {
  if (c === 0) irq0Served[vm] = 0;
  elapsedBase[i] = 0;
  triggered[i] = 0;
  runStart[i] = gate(vm, c) ? ticksSinceBoot() : -1;
};

const latchCount = (vm: number, c: number) => {
  const i = vm * CHANNELS + c;
  if (latchBytes[i] !== 0) return; // the first latch holds until read
  latched[i] = countNow(i);
  latchBytes[i] = access[i] === ACCESS_BOTH ? 2 : 1;
};

const latchStatus = (vm: number, c: number) => {
  const i = vm * CHANNELS + c;
  if (statusLatched[i] !== 0) return;
  statusByte[i] = (outNow(vm, c, i) << 7) | (loaded[i] === 0 ? 0x40 : 0) | (access[i] << 4) | (mode[i] << 1) | bcd[i];
  statusLatched[i] = 1;
};

/** Port 0x43: a control word, a counter latch or a read-back command (datasheet "Read-Back Command"). */
const writeControl = (vm: number, value: number) => {
  const select = value >> 6;
  if (select === 3) {
    for (let c = 0; c < CHANNELS; c++) {
      if ((value & (2 << c)) === 0) continue;
      if ((value & 0x20) === 0) latchCount(vm, c);
      if ((value & 0x10) === 0) latchStatus(vm, c);
    }
    return;
  }
  const rw = (value >> 4) & 3;
  if (rw === 0) {
    latchCount(vm, select);
    return;
  }
  const i = vm * CHANNELS + select;
  let m = (value >> 1) & 7;
  if (m > 5) m -= 4; // 6 and 7 are modes 2 and 3
  mode[i] = m;
  access[i] = rw;
  bcd[i] = value & 1;
  loaded[i] = 0;
  writeHigh[i] = 0;
  readHigh[i] = 0;
  latchBytes[i] = 0;
  statusLatched[i] = 0;
  elapsedBase[i] = 0;
  runStart[i] = -1;
  if (select === 0) irq0Served[vm] = 0;
};

const writeCounter = (vm: number, c: number, value: number) => {
  const i = vm * CHANNELS + c;
  let count = 0;
  if (access[i] === ACCESS_LSB) count = value;
  else if (access[i] === ACCESS_MSB) count = value << 8;
  else if (writeHigh[i] === 0) {
    writeLow[i] = value;
    writeHigh[i] = 1;
    return;
  } else {
    count = writeLow[i] | (value << 8);
    writeHigh[i] = 0;
  }
  reload[i] = count === 0 ? 65536 : count;
  loaded[i] = 1;
  start(vm, c, i);
};

const readCounter = (vm: number, c: number) => {
  const i = vm * CHANNELS + c;
  if (statusLatched[i] !== 0) {
    statusLatched[i] = 0;
    return statusByte[i];
  }
  let v = 0;
  let high = false;
  if (latchBytes[i] !== 0) {
    v = latched[i];
    high = access[i] === ACCESS_MSB || (access[i] === ACCESS_BOTH && latchBytes[i] === 1);
    latchBytes[i]--;
  } else {
    v = countNow(i);
    high = access[i] === ACCESS_MSB || (access[i] === ACCESS_BOTH && readHigh[i] !== 0);
    if (access[i] === ACCESS_BOTH) readHigh[i] ^= 1;
  }
  return high ? (v >> 8) & 0xff : v & 0xff;
};

/** Port B write: bits 0-3 kept; channel 2's gate follows bit 0 (pause, resume, or a mode 1/5 trigger on the rise). */
const writePortB = (vm: number, value: number) => {
  const i = vm * CHANNELS + 2;
  const was = portB[vm] & 1;
  portB[vm] = value & 0x0f;
  const now = portB[vm] & 1;
  if (was === now || loaded[i] === 0) return;
  const m = mode[i];
  if (now === 1 && (m === 1 || m === 5)) {
    triggered[i] = 1;
    elapsedBase[i] = 0;
    runStart[i] = ticksSinceBoot();
  } else if (now === 1) {
    if (runStart[i] < 0) runStart[i] = ticksSinceBoot();
  } else if (m !== 1 && m !== 5 && runStart[i] >= 0) {
    elapsedBase[i] = elapsed(i); // gate low: counting holds
    runStart[i] = -1;
  }
};

const readPortB = (vm: number) => {
  const refresh = Math.floor((ticksSinceBoot() * REFRESH_HZ) / (tscHz() > 0 ? tscHz() : 1e9)) & 1;
  return portB[vm] | (refresh << 4) | (outNow(vm, 2, vm * CHANNELS + 2) << 5);
};

/**
 * Channel 0's OUT rising edges since its count was loaded, PIT ticks `e` in: modes 2 and 3
 * rise at every multiple of the count, mode 0 once at terminal count, mode 4 one tick after
 * its low pulse (datasheet "Mode definitions"); modes 1 and 5 need a gate edge channel 0 never gets.
 */
const irq0EdgesAt = (i: number, e: number) => {
  const m = mode[i];
  const n = reload[i];
  if (m === 2 || m === 3) return Math.floor(e / n);
  if (m === 0) return e >= n ? 1 : 0;
  if (m === 4) return e >= n + 1 ? 1 : 0;
  return 0;
};

/** How many times VM `vm`'s IRQ 0 (channel 0's OUT) rose since the last call: 0, or more when the caller was late (one interrupt is raised for them). */
export const pitIrq0Due = (vm: number) => {
  const i = vm * CHANNELS;
  if (!valid(vm) || loaded[i] === 0 || runStart[i] < 0) return 0;
  const edges = irq0EdgesAt(i, elapsed(i));
  const due = edges - irq0Served[vm];
  if (due <= 0) return 0;
  irq0Served[vm] = edges;
  return due;
};

/** The host TSC (ticks since boot) of VM `vm`'s next IRQ 0 edge, or -1 when none is coming. */
export const pitIrq0Deadline = (vm: number) => {
  const i = vm * CHANNELS;
  if (!valid(vm) || loaded[i] === 0 || runStart[i] < 0) return -1;
  const m = mode[i];
  const n = reload[i];
  const served = irq0Served[vm];
  let edge = -1; // in PIT ticks since the count was loaded
  if (m === 2 || m === 3) edge = (served + 1) * n;
  else if (m === 0 && served === 0) edge = n;
  else if (m === 4 && served === 0) edge = n + 1;
  if (edge < 0) return -1;
  const hz = tscHz() > 0 ? tscHz() : 1e9;
  return runStart[i] + Math.ceil(((edge - elapsedBase[i]) * hz) / PIT_HZ);
};

/** VM `vm` reads the byte at `port` (0x40-0x43, 0x61); -1 for another port. */
export const pitRead = (vm: number, port: number) => {
  if (!valid(vm)) return -1;
  if (port === PORT_B) return readPortB(vm);
  if (port >= PIT_BASE && port < PIT_BASE + CHANNELS) return readCounter(vm, port - PIT_BASE);
  if (port === PIT_BASE + 3) return 0xff; // the control word is write-only
  return -1;
};

/** VM `vm` writes byte `value` to `port` (0x40-0x43, 0x61). */
export const pitWrite = (vm: number, port: number, value: number) => {
  if (!valid(vm)) return;
  const b = value & 0xff;
  if (port === PORT_B) writePortB(vm, b);
  else if (port === PIT_BASE + 3) writeControl(vm, b);
  else if (port >= PIT_BASE && port < PIT_BASE + CHANNELS) writeCounter(vm, port - PIT_BASE, b);
};

/** Power-on: every channel unprogrammed (mode 0, LSB then MSB, count 65536), gate 2 low. */
export const pitReset = (vm: number) => {
  if (!valid(vm)) return;
  for (let c = 0; c < CHANNELS; c++) {
    const i = vm * CHANNELS + c;
    mode[i] = 0;
    access[i] = ACCESS_BOTH;
    bcd[i] = 0;
    reload[i] = 65536;
    loaded[i] = 0;
    writeLow[i] = 0;
    writeHigh[i] = 0;
    readHigh[i] = 0;
    latchBytes[i] = 0;
    latched[i] = 0;
    statusLatched[i] = 0;
    statusByte[i] = 0;
    triggered[i] = 0;
    elapsedBase[i] = 0;
    runStart[i] = -1;
  }
  portB[vm] = 0;
  irq0Served[vm] = 0;
};

// ---- live migration: 16 bytes per channel, then port B; counts travel as ticks elapsed ----
const CHANNEL_BYTES = 16;
export const PIT_STATE_BYTES = CHANNELS * CHANNEL_BYTES + 1;

const putLe = (out: Uint8Array, off: number, value: number, bytes: number) => {
  for (let k = 0; k < bytes; k++) out[off + k] = (value >>> (8 * k)) & 0xff;
};
const getLe = (src: Uint8Array, off: number, bytes: number) => {
  let v = 0;
  for (let k = bytes - 1; k >= 0; k--) v = v * 256 + src[off + k];
  return v;
};

/** Writes VM `vm`'s PIT and port B to out[off, + PIT_STATE_BYTES); false when out is too short. */
export const pitSave = (vm: number, out: Uint8Array, off: number) => {
  if (!valid(vm) || off < 0 || off + PIT_STATE_BYTES > out.length) return false;
  for (let c = 0; c < CHANNELS; c++) {
    const i = vm * CHANNELS + c;
    const o = off + c * CHANNEL_BYTES;
    out[o] = mode[i];
    out[o + 1] = access[i];
    out[o + 2] = bcd[i] | (loaded[i] << 1) | (writeHigh[i] << 2) | (readHigh[i] << 3) | (statusLatched[i] << 4) | (triggered[i] << 5) | ((runStart[i] >= 0 ? 1 : 0) << 6);
    out[o + 3] = latchBytes[i];
    putLe(out, o + 4, reload[i] & 0xffff, 2);
    putLe(out, o + 6, latched[i], 2);
    out[o + 8] = writeLow[i];
    out[o + 9] = statusByte[i];
    const e = elapsed(i);
    putLe(out, o + 10, e > 0xffffffff ? 0xffffffff : e, 4);
    out[o + 14] = 0;
    out[o + 15] = 0;
  }
  out[off + CHANNELS * CHANNEL_BYTES] = portB[vm];
  return true;
};

/** Sets VM `vm`'s PIT from saved state; false (nothing changed) when malformed. */
export const pitLoad = (vm: number, src: Uint8Array, off: number, len: number) => {
  if (!valid(vm) || len !== PIT_STATE_BYTES || off < 0 || off + len > src.length) return false;
  for (let c = 0; c < CHANNELS; c++) {
    const o = off + c * CHANNEL_BYTES;
    if (src[o] > 5 || src[o + 1] < 1 || src[o + 1] > 3 || (src[o + 2] & 0x80) !== 0 || src[o + 3] > 2 || src[o + 14] !== 0 || src[o + 15] !== 0) return false;
  }
  if ((src[off + CHANNELS * CHANNEL_BYTES] & 0xf0) !== 0) return false;
  const now = ticksSinceBoot();
  for (let c = 0; c < CHANNELS; c++) {
    const i = vm * CHANNELS + c;
    const o = off + c * CHANNEL_BYTES;
    const flags = src[o + 2];
    mode[i] = src[o];
    access[i] = src[o + 1];
    bcd[i] = flags & 1;
    loaded[i] = (flags >> 1) & 1;
    writeHigh[i] = (flags >> 2) & 1;
    readHigh[i] = (flags >> 3) & 1;
    statusLatched[i] = (flags >> 4) & 1;
    triggered[i] = (flags >> 5) & 1;
    latchBytes[i] = src[o + 3];
    const r = getLe(src, o + 4, 2);
    reload[i] = r === 0 ? 65536 : r;
    latched[i] = getLe(src, o + 6, 2);
    writeLow[i] = src[o + 8];
    statusByte[i] = src[o + 9];
    elapsedBase[i] = getLe(src, o + 10, 4);
    runStart[i] = (flags & 0x40) !== 0 ? now : -1;
  }
  portB[vm] = src[off + CHANNELS * CHANNEL_BYTES];
  irq0Served[vm] = irq0EdgesAt(vm * CHANNELS, elapsedBase[vm * CHANNELS]); // the edges before the move were the source's
  return true;
};
