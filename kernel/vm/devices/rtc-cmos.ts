// The PC/AT's real-time clock and CMOS memory, a Motorola MC146818 (MC146818A datasheet) at
// ports 0x70 (index; bit 7 masks NMI, kept for the core) and 0x71 (data).
// - Time registers 0-9 (seconds, alarm, minutes, alarm, hours, alarm, day of week, day of
//   month, month, year) and the century at 0x32 (IBM PC convention), in BCD or binary (status
//   B DM, bit 2) and 24- or 12-hour form (status B bit 1; 12-hour: bit 7 of the hour = PM).
// - The clock is the host's wall clock at VM creation, advanced by the TSC. A guest that sets
//   the time (SET, status B bit 7: updates stop, the registers take writes; clearing SET
//   starts them from what was written) moves only its own clock: an offset from the host's.
// - Status A: UIP (bit 7) during the last 244 us of each second (the datasheet's tBUC before
//   the update), DV2-0 (bits 6-4: 010 runs the divider; anything else stops it, and on
//   returning to 010 the first update comes 500 ms later), RS3-0 (bits 3-0, periodic rate).
//   Status B: SET, PIE, AIE, UIE (cleared when SET is set), SQWE, DM, 24/12, DSE, all kept.
//   Status C: IRQF, PF, AF, UF; flags are set whether enabled or not, a read clears them.
//   Status D: VRT (bit 7) always 1: the battery is good.
// - Interrupts (IRQ 8): periodic (PIE, at the RS rate), alarm (AIE) and update-ended (UIE). The
//   model is pure: the core asks rtcIrqDeadline and calls rtcIrqService, which says when IRQF
//   rose (the IRQ line's edge); while IRQF stays set (C not read) no new edge comes.
// - CMOS memory 0x0E-0x7F as a BIOS leaves it (rtcReset): no floppy, no hard disk, the
//   equipment byte, base memory 640 KiB, extended memory (as QEMU's pc_cmos_init sets it) and
//   the checksum over 0x10-0x2D at 0x2E/0x2F.
// Day of week (register 6) follows the date (1 = Sunday); a guest's own value is not kept.
import { MAX_VMS } from '../../lib/limits';
import { ticksSinceBoot, tscHz } from '../../lib/clock';
import { dataAddress } from '../../host/memory';

export const RTC_INDEX_PORT = 0x70;
export const RTC_DATA_PORT = 0x71;
export const RTC_PORTS = 2;

const CMOS_BYTES = 128;
const REG_SECONDS = 0x00;
const REG_SECONDS_ALARM = 0x01;
const REG_MINUTES = 0x02;
const REG_MINUTES_ALARM = 0x03;
const REG_HOURS = 0x04;
const REG_HOURS_ALARM = 0x05;
const REG_DAY_OF_WEEK = 0x06;
const REG_DAY = 0x07;
const REG_MONTH = 0x08;
const REG_YEAR = 0x09;
const REG_A = 0x0a;
const REG_B = 0x0b;
const REG_C = 0x0c;
const REG_D = 0x0d;
const REG_CENTURY = 0x32;

const A_UIP = 0x80;
const B_SET = 0x80;
const B_PIE = 0x40;
const B_AIE = 0x20;
const B_UIE = 0x10;
const B_BINARY = 0x04;
const B_24_HOUR = 0x02;
const C_IRQF = 0x80;
const C_PF = 0x40;
const C_AF = 0x20;
const C_UF = 0x10;
const D_VRT = 0x80;

const UIP_SECONDS = 244e-6;
const SECONDS_PER_DAY = 86400;

const cmos = new Uint8Array(MAX_VMS * CMOS_BYTES); // A at 0x0A without UIP, B, C; D is constant
const indexReg = new Uint8Array(MAX_VMS); // as written: bits 6-0 the register, bit 7 NMI masked
const baseSecond = new Float64Array(MAX_VMS); // guest seconds since 1970 at divider second 0
const phaseStart = new Float64Array(MAX_VMS); // TSC at which divider second 0 began
const seenSeconds = new Float64Array(MAX_VMS); // divider seconds counted when flags were last updated
const seenTicks = new Float64Array(MAX_VMS); // periodic ticks counted then
const irqEdge = new Uint8Array(MAX_VMS); // IRQF rose: rtcIrqService reports it once

const valid = (vm: number) => vm >= 0 && vm < MAX_VMS;
const hz = () => (tscHz() > 0 ? tscHz() : 1e9);

// ---- calendar: days since 1970-01-01 <-> proleptic Gregorian date (H. Hinnant's algorithms) ----

/** Days from 1970-01-01 to year-month-day (any integers; month 1-12). */
export const daysFromCivil = (year: number, month: number, day: number) => {
  const y = month <= 2 ? year - 1 : year;
  const era = Math.floor(y / 400);
  const yoe = y - era * 400;
  const mp = month > 2 ? month - 3 : month + 9;
  const doy = Math.floor((153 * mp + 2) / 5) + day - 1;
  const doe = yoe * 365 + Math.floor(yoe / 4) - Math.floor(yoe / 100) + doy;
  return era * 146097 + doe - 719468;
};

let civilYear = 1970;
let civilMonth = 1;
let civilDay = 1;

/** Sets civilYear, civilMonth, civilDay from days since 1970-01-01. */
const civilFromDays = (days: number) => {
  const z = days + 719468;
  const era = Math.floor(z / 146097);
  const doe = z - era * 146097;
  const yoe = Math.floor((doe - Math.floor(doe / 1460) + Math.floor(doe / 36524) - Math.floor(doe / 146096)) / 365);
  const doy = doe - (365 * yoe + Math.floor(yoe / 4) - Math.floor(yoe / 100));
  const mp = Math.floor((5 * doy + 2) / 153);
  civilDay = doy - Math.floor((153 * mp + 2) / 5) + 1;
  civilMonth = mp < 10 ? mp + 3 : mp - 9;
  civilYear = yoe + era * 400 + (civilMonth <= 2 ? 1 : 0);
};

/** Seconds since 1970-01-01 00:00:00 of a date and time. */
export const epochSeconds = (year: number, month: number, day: number, hour: number, minute: number, second: number) =>
  daysFromCivil(year, month, day) * SECONDS_PER_DAY + hour * 3600 + minute * 60 + second;

const efiTime = new Uint32Array(6);

/** The host's wall clock (UEFI GetTime) in seconds since 1970; 0 (1970-01-01) when the firmware has none. */
export const rtcHostSeconds = () => {
  if (hv_efi_time(dataAddress(efiTime)) !== 0) return 0;
  const month = efiTime[1];
  const day = efiTime[2];
  if (month < 1 || month > 12 || day < 1 || day > 31 || efiTime[3] > 23 || efiTime[4] > 59 || efiTime[5] > 59) return 0;
  return epochSeconds(efiTime[0], month, day, efiTime[3], efiTime[4], efiTime[5]);
};

// ---- the divider chain and the clock ----

const at = (vm: number, reg: number) => vm * CMOS_BYTES + reg;

/** DV2-0 = 010: the 32.768 kHz time base runs. */
const dividerRuns = (vm: number) => ((cmos[at(vm, REG_A)] >> 4) & 7) === 2;

/** Whether the time registers count (divider running, SET clear). */
const updating = (vm: number) => dividerRuns(vm) && (cmos[at(vm, REG_B)] & B_SET) === 0;

/** Seconds the divider has counted since its second 0 (0 while it is stopped). */
const dividerSeconds = (vm: number, now: number) => (dividerRuns(vm) ? (now - phaseStart[vm]) / hz() : 0);

/** The guest's clock at `now`: whole seconds since 1970. */
const clockSecond = (vm: number, now: number) => baseSecond[vm] + Math.floor(dividerSeconds(vm, now));

/** Periodic interrupt rate of RS3-0 with the 32.768 kHz time base (datasheet table 5), 0 for none. */
const periodicHz = (vm: number) => {
  const rs = cmos[at(vm, REG_A)] & 15;
  if (rs === 0) return 0;
  return rs < 3 ? 32768 >> (rs + 6) : 32768 >> (rs - 1);
};

const binary = (vm: number) => (cmos[at(vm, REG_B)] & B_BINARY) !== 0;
const toFormat = (vm: number, v: number) => (binary(vm) ? v : (Math.floor(v / 10) << 4) | v % 10);
const fromFormat = (vm: number, b: number) => (binary(vm) ? b : (b >> 4) * 10 + (b & 15));
const clamp = (v: number, lo: number, hi: number) => (v < lo ? lo : v > hi ? hi : v);

/** Register `reg` (a time register or the century) for the guest second `s`, in VM vm's format. */
const timeRegister = (vm: number, reg: number, s: number) => {
  const days = Math.floor(s / SECONDS_PER_DAY);
  const inDay = s - days * SECONDS_PER_DAY;
  if (reg === REG_SECONDS) return toFormat(vm, inDay % 60);
  if (reg === REG_MINUTES) return toFormat(vm, Math.floor(inDay / 60) % 60);
  if (reg === REG_HOURS) {
    const h = Math.floor(inDay / 3600);
    if ((cmos[at(vm, REG_B)] & B_24_HOUR) !== 0) return toFormat(vm, h);
    return toFormat(vm, h % 12 === 0 ? 12 : h % 12) | (h >= 12 ? 0x80 : 0);
  }
  if (reg === REG_DAY_OF_WEEK) return ((((days + 4) % 7) + 7) % 7) + 1; // 1970-01-01 was a Thursday (5)
  civilFromDays(days);
  if (reg === REG_DAY) return toFormat(vm, civilDay);
  if (reg === REG_MONTH) return toFormat(vm, civilMonth);
  if (reg === REG_YEAR) return toFormat(vm, ((civilYear % 100) + 100) % 100);
  return toFormat(vm, clamp(Math.floor(civilYear / 100), 0, 99)); // century
};

const isTimeRegister = (reg: number) =>
  reg === REG_SECONDS || reg === REG_MINUTES || reg === REG_HOURS || reg === REG_DAY_OF_WEEK || reg === REG_DAY || reg === REG_MONTH || reg === REG_YEAR || reg === REG_CENTURY;

/** Updates stop: the time registers take the clock's value now. */
const latch = (vm: number, now: number) => {
  const s = clockSecond(vm, now);
  cmos[at(vm, REG_SECONDS)] = timeRegister(vm, REG_SECONDS, s);
  cmos[at(vm, REG_MINUTES)] = timeRegister(vm, REG_MINUTES, s);
  cmos[at(vm, REG_HOURS)] = timeRegister(vm, REG_HOURS, s);
  cmos[at(vm, REG_DAY_OF_WEEK)] = timeRegister(vm, REG_DAY_OF_WEEK, s);
  cmos[at(vm, REG_DAY)] = timeRegister(vm, REG_DAY, s);
  cmos[at(vm, REG_MONTH)] = timeRegister(vm, REG_MONTH, s);
  cmos[at(vm, REG_YEAR)] = timeRegister(vm, REG_YEAR, s);
  cmos[at(vm, REG_CENTURY)] = timeRegister(vm, REG_CENTURY, s);
};

/** Updates start: the clock goes on from what the time registers hold (out-of-range fields clamped). */
const unlatch = (vm: number, now: number) => {
  const second = clamp(fromFormat(vm, cmos[at(vm, REG_SECONDS)]), 0, 59);
  const minute = clamp(fromFormat(vm, cmos[at(vm, REG_MINUTES)]), 0, 59);
  const h = cmos[at(vm, REG_HOURS)];
  let hour = 0;
  if ((cmos[at(vm, REG_B)] & B_24_HOUR) !== 0) hour = clamp(fromFormat(vm, h), 0, 23);
  else hour = (clamp(fromFormat(vm, h & 0x7f), 1, 12) % 12) + ((h & 0x80) !== 0 ? 12 : 0);
  const day = clamp(fromFormat(vm, cmos[at(vm, REG_DAY)]), 1, 31);
  const month = clamp(fromFormat(vm, cmos[at(vm, REG_MONTH)]), 1, 12);
  const year = clamp(fromFormat(vm, cmos[at(vm, REG_CENTURY)]), 0, 99) * 100 + clamp(fromFormat(vm, cmos[at(vm, REG_YEAR)]), 0, 99);
  baseSecond[vm] = epochSeconds(year, month, day, hour, minute, second) - Math.floor(dividerSeconds(vm, now));
};

/** The flags counted up to `now` are seen: no flag for them later. */
const resync = (vm: number, now: number) => {
  const e = dividerSeconds(vm, now);
  seenSeconds[vm] = Math.floor(e);
  seenTicks[vm] = Math.floor(e * periodicHz(vm));
};

/** IRQF = PF&PIE | AF&AIE | UF&UIE; its rise is the IRQ line's edge. */
const raiseIrqf = (vm: number) => {
  const c = cmos[at(vm, REG_C)];
  if ((c & C_IRQF) === 0 && (c & cmos[at(vm, REG_B)] & (C_PF | C_AF | C_UF)) !== 0) {
    cmos[at(vm, REG_C)] = c | C_IRQF;
    irqEdge[vm] = 1;
  }
};

const alarmMatches = (vm: number, reg: number, alarmReg: number, s: number) => {
  const alarm = cmos[at(vm, alarmReg)];
  return (alarm & 0xc0) === 0xc0 || alarm === timeRegister(vm, reg, s); // 11xxxxxx: "don't care"
};

/** Status C's flags brought up to `now`: UF (and AF on an alarm match) per update, PF per periodic tick. */
const countFlags = (vm: number, now: number) => {
  if (!dividerRuns(vm)) return;
  const e = (now - phaseStart[vm]) / hz();
  const seconds = Math.floor(e);
  if (seconds !== seenSeconds[vm]) {
    seenSeconds[vm] = seconds;
    if ((cmos[at(vm, REG_B)] & B_SET) === 0) {
      const s = baseSecond[vm] + seconds;
      let flags = C_UF;
      if (alarmMatches(vm, REG_SECONDS, REG_SECONDS_ALARM, s) && alarmMatches(vm, REG_MINUTES, REG_MINUTES_ALARM, s) && alarmMatches(vm, REG_HOURS, REG_HOURS_ALARM, s)) flags |= C_AF;
      cmos[at(vm, REG_C)] |= flags;
    }
  }
  const rate = periodicHz(vm);
  if (rate > 0) {
    const ticks = Math.floor(e * rate);
    if (ticks !== seenTicks[vm]) {
      seenTicks[vm] = ticks;
      cmos[at(vm, REG_C)] |= C_PF;
    }
  }
  raiseIrqf(vm);
};

/** Status A or B written: updates stop or start with the change (the format in force when they stop or start). */
const writeStatus = (vm: number, reg: number, value: number, now: number) => {
  countFlags(vm, now);
  const wasRunning = dividerRuns(vm);
  const wasUpdating = updating(vm);
  if (wasUpdating) latch(vm, now);
  if (reg === REG_A) cmos[at(vm, REG_A)] = value & 0x7f;
  else cmos[at(vm, REG_B)] = (value & B_SET) !== 0 ? value & ~B_UIE : value;
  if (!wasRunning && dividerRuns(vm)) phaseStart[vm] = now - 0.5 * hz(); // the first update 500 ms after the divider starts
  if (!wasUpdating && updating(vm)) unlatch(vm, now); // stopped, the registers held the time
  resync(vm, now);
  raiseIrqf(vm);
};

const readData = (vm: number, reg: number, now: number) => {
  if (isTimeRegister(reg)) return updating(vm) ? timeRegister(vm, reg, clockSecond(vm, now)) : cmos[at(vm, reg)];
  if (reg === REG_A) {
    const e = dividerSeconds(vm, now);
    const uip = updating(vm) && e - Math.floor(e) >= 1 - UIP_SECONDS;
    return cmos[at(vm, REG_A)] | (uip ? A_UIP : 0);
  }
  if (reg === REG_C) {
    countFlags(vm, now);
    const c = cmos[at(vm, REG_C)];
    cmos[at(vm, REG_C)] = 0;
    return c;
  }
  if (reg === REG_D) return D_VRT;
  return cmos[at(vm, reg)];
};

const writeData = (vm: number, reg: number, value: number, now: number) => {
  if (isTimeRegister(reg)) {
    if (!updating(vm)) {
      cmos[at(vm, reg)] = value;
      return;
    }
    countFlags(vm, now);
    latch(vm, now); // a write while running sets that field of the running clock
    cmos[at(vm, reg)] = value;
    unlatch(vm, now);
    resync(vm, now);
  } else if (reg === REG_A || reg === REG_B) writeStatus(vm, reg, value, now);
  else if (reg !== REG_C && reg !== REG_D) cmos[at(vm, reg)] = value; // C and D are read-only
};

/** VM `vm` reads the byte at `port` (0x70, 0x71) at guest TSC `now`; -1 for another port. */
export const rtcRead = (vm: number, port: number, now: number) => {
  if (!valid(vm)) return -1;
  if (port === RTC_DATA_PORT) return readData(vm, indexReg[vm] & 0x7f, now);
  if (port === RTC_INDEX_PORT) return 0xff; // write-only
  return -1;
};

/** VM `vm` writes byte `value` to `port` (0x70, 0x71) at guest TSC `now`. */
export const rtcWrite = (vm: number, port: number, value: number, now: number) => {
  if (!valid(vm)) return;
  if (port === RTC_INDEX_PORT) indexReg[vm] = value & 0xff;
  else if (port === RTC_DATA_PORT) writeData(vm, indexReg[vm] & 0x7f, value & 0xff, now);
};

/** Whether the guest masked NMI (port 0x70 bit 7 as last written). */
export const rtcNmiMasked = (vm: number) => valid(vm) && (indexReg[vm] & 0x80) !== 0;

/** Guest TSC at which the next enabled interrupt comes (0: one is due now), or -1 for none. */
export const rtcIrqDeadline = (vm: number) => {
  if (!valid(vm)) return -1;
  if (irqEdge[vm] !== 0) return 0;
  if ((cmos[at(vm, REG_C)] & C_IRQF) !== 0 || !dividerRuns(vm)) return -1; // IRQF held until C is read
  const b = cmos[at(vm, REG_B)];
  const ticksPerSecond = hz();
  let deadline = -1;
  const rate = periodicHz(vm);
  if ((b & B_PIE) !== 0 && rate > 0) deadline = phaseStart[vm] + ((seenTicks[vm] + 1) * ticksPerSecond) / rate;
  if ((b & (B_UIE | B_AIE)) !== 0 && (b & B_SET) === 0) {
    const update = phaseStart[vm] + (seenSeconds[vm] + 1) * ticksPerSecond;
    if (deadline < 0 || update < deadline) deadline = update;
  }
  return deadline;
};

/** Runs the clock's interrupt logic up to `now`; true when IRQ 8 must be raised (IRQF rose). */
export const rtcIrqService = (vm: number, now: number) => {
  if (!valid(vm)) return false;
  countFlags(vm, now);
  if (irqEdge[vm] === 0) return false;
  irqEdge[vm] = 0;
  return true;
};

const putWord = (vm: number, reg: number, value: number) => {
  cmos[at(vm, reg)] = value & 0xff;
  cmos[at(vm, reg + 1)] = (value >> 8) & 0xff;
};

/**
 * Power-on with a BIOS's CMOS contents for `ramBytes` of RAM, the clock at `hostSeconds`
 * (seconds since 1970, e.g. rtcHostSeconds()): status A 0x26 (divider on, 1024 Hz), B 0x02
 * (24-hour BCD, no interrupts), index 0, NMI unmasked.
 */
export const rtcReset = (vm: number, ramBytes: number, hostSeconds: number) => {
  if (!valid(vm)) return;
  const now = ticksSinceBoot();
  for (let r = 0; r < CMOS_BYTES; r++) cmos[at(vm, r)] = 0;
  cmos[at(vm, REG_A)] = 0x26;
  cmos[at(vm, REG_B)] = B_24_HOUR;
  cmos[at(vm, REG_D)] = D_VRT;
  indexReg[vm] = 0;
  irqEdge[vm] = 0;
  const whole = Math.floor(hostSeconds);
  baseSecond[vm] = whole;
  phaseStart[vm] = now - (hostSeconds - whole) * hz();
  resync(vm, now);
  // IBM PC/AT CMOS layout, as QEMU's pc_cmos_init fills it for SeaBIOS.
  cmos[at(vm, 0x10)] = 0x00; // no floppy drives
  cmos[at(vm, 0x12)] = 0x00; // no hard disks
  cmos[at(vm, 0x14)] = 0x02; // equipment: no floppy, math coprocessor, EGA/VGA (or none) display
  putWord(vm, 0x15, 640); // base memory, KiB
  const kib = Math.floor(ramBytes / 1024) - 1024;
  const extended = clamp(kib, 0, 0xffff); // KiB above 1 MiB
  putWord(vm, 0x17, extended);
  putWord(vm, 0x30, extended);
  const above16 = ramBytes > 16 * 1048576 ? Math.floor((ramBytes - 16 * 1048576) / 65536) : 0;
  putWord(vm, 0x34, clamp(above16, 0, 0xffff)); // 64 KiB blocks above 16 MiB
  let sum = 0;
  for (let r = 0x10; r <= 0x2d; r++) sum += cmos[at(vm, r)];
  cmos[at(vm, 0x2e)] = (sum >> 8) & 0xff; // checksum, big-endian
  cmos[at(vm, 0x2f)] = sum & 0xff;
};

// ---- live migration: the 128 bytes, the index, then the clock as it reads now ----
const SECOND_BIAS = 140737488355328; // 2^47: saved seconds are biased to stay non-negative in 6 bytes
export const RTC_STATE_BYTES = CMOS_BYTES + 12;

/** Writes VM `vm`'s RTC and CMOS to out[off, + RTC_STATE_BYTES); false when out is too short. */
export const rtcSave = (vm: number, out: Uint8Array, off: number) => {
  if (!valid(vm) || off < 0 || off + RTC_STATE_BYTES > out.length) return false;
  const now = ticksSinceBoot();
  for (let r = 0; r < CMOS_BYTES; r++) out[off + r] = cmos[at(vm, r)];
  out[off + CMOS_BYTES] = indexReg[vm];
  const e = dividerSeconds(vm, now);
  let whole = Math.floor(e);
  let micros = Math.round((e - whole) * 1e6); // to the nearest: a load's float error does not creep
  if (micros > 999999) {
    whole++;
    micros = 0;
  }
  let second = baseSecond[vm] + whole + SECOND_BIAS;
  for (let k = 0; k < 6; k++) {
    out[off + CMOS_BYTES + 1 + k] = second % 256;
    second = Math.floor(second / 256);
  }
  for (let k = 0; k < 4; k++) out[off + CMOS_BYTES + 7 + k] = (micros >>> (8 * k)) & 0xff;
  out[off + CMOS_BYTES + 11] = irqEdge[vm];
  return true;
};

/** Sets VM `vm`'s RTC and CMOS from saved state; false (nothing changed) when malformed. */
export const rtcLoad = (vm: number, src: Uint8Array, off: number, len: number) => {
  if (!valid(vm) || len !== RTC_STATE_BYTES || off < 0 || off + len > src.length) return false;
  let micros = 0;
  for (let k = 3; k >= 0; k--) micros = micros * 256 + src[off + CMOS_BYTES + 7 + k];
  if ((src[off + REG_A] & A_UIP) !== 0 || (src[off + REG_C] & 0x0f) !== 0 || src[off + REG_D] !== D_VRT || micros > 999999 || src[off + CMOS_BYTES + 11] > 1) return false;
  if (micros !== 0 && ((src[off + REG_A] >> 4) & 7) !== 2) return false; // a stopped divider has no phase (rtcSave writes 0)
  const now = ticksSinceBoot();
  for (let r = 0; r < CMOS_BYTES; r++) cmos[at(vm, r)] = src[off + r];
  indexReg[vm] = src[off + CMOS_BYTES];
  let second = 0;
  for (let k = 5; k >= 0; k--) second = second * 256 + src[off + CMOS_BYTES + 1 + k];
  baseSecond[vm] = second - SECOND_BIAS;
  phaseStart[vm] = now - (micros / 1e6) * hz();
  irqEdge[vm] = src[off + CMOS_BYTES + 11];
  resync(vm, now);
  return true;
};
