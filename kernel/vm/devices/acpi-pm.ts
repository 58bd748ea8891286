// The ACPI fixed-hardware power management registers (ACPI 6.5 section 4.8.3) at ports
// 0x600-0x60B, as the FADT describes them (kernel/vm/tables/acpi.ts):
//   0x600 PM1a_STS (16 bits, write 1 to clear; Table 4.15): TMR_STS bit 0 (the timer's bit 23
//         changed), PWRBTN_STS bit 8 (the power button was pressed: acpiPmPowerButton);
//   0x602 PM1a_EN (Table 4.16): TMR_EN 0, GBL_EN 5, PWRBTN_EN 8, SLPBTN_EN 9, RTC_EN 10;
//   0x604 PM1a_CNT (Table 4.17): SCI_EN bit 0 reads 1 (no SMI_CMD: the machine is always in
//         ACPI mode), BM_RLD bit 1, GBL_RLS bit 2 (write-only), SLP_TYP bits 12:10, SLP_EN
//         bit 13 (write-only): SLP_EN with SLP_TYP 5 (the DSDT's \_S5) is soft-off; other
//         sleep types are not offered (no \_S1-\_S4) and are ignored;
//   0x606-0x607 nothing (read all ones);
//   0x608 PM_TMR (4.8.3.3, read-only): a 24-bit counter at 3.579545 MHz (FADT TMR_VAL_EXT
//         clear), from the host's TSC like the PIT (lib/clock.ts).
// Unused bits read 0, writes to them are ignored. The SCI (ISA IRQ 9, level) is asserted while
// a status bit and its enable bit are both set (acpiPmSciLevel); the core polls it: this model
// injects nothing. A wider access covers the next ports, lowest first.
import { MAX_VMS } from '../../lib/limits';
import { ticksSinceBoot, tscHz } from '../../lib/clock';

export const ACPI_PM_BASE = 0x600;
export const ACPI_PM_PORTS = 12;
export const PM_TIMER_HZ = 3579545;
/** The sleep type \_S5 names (the DSDT's Package { 5, 5, 0, 0 }). */
export const SLP_TYP_S5 = 5;

const TMR_STS = 0x0001;
const PWRBTN_STS = 0x0100;
const STATUS_BITS = TMR_STS | PWRBTN_STS;
const ENABLE_BITS = 0x0001 | 0x0020 | 0x0100 | 0x0200 | 0x0400;
const SCI_EN = 0x0001;
const CONTROL_BITS = 0x0002 | 0x1c00; // BM_RLD, SLP_TYP: kept as written
const SLP_EN = 0x2000;
const TIMER_PERIOD = 16777216; // 2^24
const TIMER_HALF = 8388608; // 2^23: TMR_STS is set when bit 23 changes

const status = new Uint16Array(MAX_VMS); // latched status bits (TMR_STS here once seen)
const enable = new Uint16Array(MAX_VMS);
const control = new Uint16Array(MAX_VMS); // CONTROL_BITS as written
const timerOffset = new Float64Array(MAX_VMS); // VM's count = host count + offset (unwrapped)
const timerEpoch = new Float64Array(MAX_VMS); // count / 2^23 (floored) when TMR_STS was last cleared

const valid = (vm: number) => vm >= 0 && vm < MAX_VMS;

/** PM timer ticks since the host booted: whole seconds and the rest, so the product stays exact. */
const hostCount = () => {
  const hz = tscHz() > 0 ? tscHz() : 1e9;
  const ticks = ticksSinceBoot();
  const seconds = Math.floor(ticks / hz);
  return seconds * PM_TIMER_HZ + Math.floor(((ticks - seconds * hz) * PM_TIMER_HZ) / hz);
};

/** VM `vm`'s timer count, not wrapped. */
const countNow = (vm: number) => hostCount() + timerOffset[vm];

const statusNow = (vm: number, count: number) => {
  const rolled = Math.floor(count / TIMER_HALF) !== timerEpoch[vm] ? TMR_STS : 0;
  return status[vm] | rolled;
};

/** Clears the status bits set in `bits` (write 1 to clear). */
const clearStatus = (vm: number, bits: number, count: number) => {
  if ((bits & TMR_STS) !== 0) timerEpoch[vm] = Math.floor(count / TIMER_HALF);
  status[vm] &= ~bits & 0xffff;
};

const timerValue = (count: number) => {
  const v = count % TIMER_PERIOD;
  return v < 0 ? v + TIMER_PERIOD : v;
};

/** Register byte at offset `r` (0-11) with the timer sampled at `count`. */
const readByte = (vm: number, r: number, count: number) => {
  switch (r) {
    case 0:
      return statusNow(vm, count) & 0xff;
    case 1:
      return (statusNow(vm, count) >> 8) & 0xff;
    case 2:
      return enable[vm] & 0xff;
    case 3:
      return enable[vm] >> 8;
    case 4:
      return (control[vm] | SCI_EN) & 0xff;
    case 5:
      return control[vm] >> 8;
    case 8:
    case 9:
    case 10:
    case 11:
      return (timerValue(count) >> ((r - 8) * 8)) & 0xff;
  }
  return 0xff;
};

/** What VM `vm` reads at `port` (0x600-0x60B), `size` bytes (1, 2, 4); ports past the block read all ones. */
export const acpiPmRead = (vm: number, port: number, size: number) => {
  if (!valid(vm)) return -1;
  const count = countNow(vm);
  let value = 0;
  let scale = 1;
  for (let i = 0; i < size; i++) {
    const r = port + i - ACPI_PM_BASE;
    value += (r >= 0 && r < ACPI_PM_PORTS ? readByte(vm, r, count) : 0xff) * scale;
    scale *= 256;
  }
  return value;
};

/** A byte write at offset `r`; returns the sleep type SLP_EN asks for, or -1. */
const writeByte = (vm: number, r: number, b: number, count: number) => {
  switch (r) {
    case 0:
      clearStatus(vm, b & STATUS_BITS, count);
      break;
    case 1:
      clearStatus(vm, (b << 8) & STATUS_BITS, count);
      break;
    case 2:
      enable[vm] = ((enable[vm] & 0xff00) | b) & ENABLE_BITS;
      break;
    case 3:
      enable[vm] = ((enable[vm] & 0xff) | (b << 8)) & ENABLE_BITS;
      break;
    case 4:
      control[vm] = ((control[vm] & 0xff00) | b) & CONTROL_BITS; // SCI_EN fixed, GBL_RLS: no firmware to tell
      break;
    case 5:
      control[vm] = ((control[vm] & 0xff) | (b << 8)) & CONTROL_BITS;
      if (((b << 8) & SLP_EN) !== 0) return (control[vm] >> 10) & 7;
      break;
  }
  return -1;
};

/**
 * VM `vm` writes `value` (`size` bytes) at `port`: whether that powers the machine off (SLP_EN
 * with SLP_TYP 5). The timer is read-only; other sleep types change nothing but SLP_TYP.
 */
export const acpiPmWrite = (vm: number, port: number, size: number, value: number) => {
  if (!valid(vm)) return false;
  const count = countNow(vm);
  let off = false;
  for (let i = 0; i < size; i++) {
    const r = port + i - ACPI_PM_BASE;
    if (r < 0 || r >= ACPI_PM_PORTS) continue;
    if (writeByte(vm, r, (value >>> (i * 8)) & 0xff, count) === SLP_TYP_S5) off = true;
  }
  return off;
};

/** Whether VM `vm`'s SCI is asserted: a status bit with its enable bit set (SCI_EN is always 1). */
export const acpiPmSciLevel = (vm: number) => valid(vm) && (statusNow(vm, countNow(vm)) & enable[vm]) !== 0;

/** The operator pressed VM `vm`'s power button (PWRBTN_STS; an SCI when PWRBTN_EN is set). */
export const acpiPmPowerButton = (vm: number) => {
  if (valid(vm)) status[vm] |= PWRBTN_STS;
};

/** The timer's 24-bit value now (what a read of 0x608 returns). */
export const acpiPmTimer = (vm: number) => (valid(vm) ? timerValue(countNow(vm)) : 0);

/** Power-on: status and enables clear, SLP_TYP 0, the timer counting from 0. */
export const acpiPmReset = (vm: number) => {
  if (!valid(vm)) return;
  status[vm] = 0;
  enable[vm] = 0;
  control[vm] = 0;
  timerOffset[vm] = -hostCount();
  timerEpoch[vm] = 0;
};

// ---- live migration: PM1_STS (2), PM1_EN (2), PM1_CNT (2), PM_TMR (4), little-endian ----
export const ACPI_PM_STATE_BYTES = 10;

/** Writes VM `vm`'s registers to out[off, + ACPI_PM_STATE_BYTES); false when out is too short. */
export const acpiPmSave = (vm: number, out: Uint8Array, off: number) => {
  if (!valid(vm) || off < 0 || off + ACPI_PM_STATE_BYTES > out.length) return false;
  const count = countNow(vm);
  const s = statusNow(vm, count);
  const c = control[vm] | SCI_EN;
  const t = timerValue(count);
  out[off] = s & 0xff;
  out[off + 1] = s >> 8;
  out[off + 2] = enable[vm] & 0xff;
  out[off + 3] = enable[vm] >> 8;
  out[off + 4] = c & 0xff;
  out[off + 5] = c >> 8;
  out[off + 6] = t & 0xff;
  out[off + 7] = (t >> 8) & 0xff;
  out[off + 8] = (t >> 16) & 0xff;
  out[off + 9] = 0;
  return true;
};

/** Sets VM `vm`'s registers from saved state (the timer continues from the saved value); false (nothing changed) when malformed. */
export const acpiPmLoad = (vm: number, src: Uint8Array, off: number, len: number) => {
  if (!valid(vm) || len !== ACPI_PM_STATE_BYTES || off < 0 || off + len > src.length) return false;
  const s = src[off] | (src[off + 1] << 8);
  const e = src[off + 2] | (src[off + 3] << 8);
  const c = src[off + 4] | (src[off + 5] << 8);
  if ((s & ~STATUS_BITS) !== 0 || (e & ~ENABLE_BITS) !== 0 || (c & ~(CONTROL_BITS | SCI_EN)) !== 0 || (c & SCI_EN) === 0) return false;
  if (src[off + 9] !== 0) return false;
  const t = src[off + 6] + src[off + 7] * 256 + src[off + 8] * 65536;
  const host = hostCount();
  status[vm] = s;
  enable[vm] = e;
  control[vm] = c & CONTROL_BITS;
  timerOffset[vm] = t - host;
  timerEpoch[vm] = Math.floor(t / TIMER_HALF);
  return true;
};
