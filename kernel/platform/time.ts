// Timekeeping: TSC ticks since efi_main, the TSC frequency and where it came from, uptime.
// Frequency: CPUID leaf 0x15 (crystal ratio, SDM vol. 3B section 18.7.3) or 0x16 (base MHz)
// where present; else measured against the ACPI PM timer (3.579545 MHz, ACPI 6.5 section
// 4.8.3.3), the HPET main counter (IA-PC HPET 1.0a section 2.3.6), or the firmware's Stall.
// A measurement reads reference and TSC back to back before and after a firmware stall, so
// its accuracy does not depend on the stall's.
import type { MsgKey } from '../i18n/dictionary';
import { setTscHz, ticksSinceBoot } from '../lib/clock';
import { cpuid, regs } from '../cpu/cpuid';
import { facts } from './facts';

export const enum TscSource {
  Unknown = 0,
  CpuidCrystal = 1, // leaf 0x15
  CpuidBase = 2, // leaf 0x16
  PmTimer = 3,
  Hpet = 4,
  FirmwareStall = 5,
}

let source = TscSource.Unknown;
let measuredHz = 0;
let measuredAgainst = TscSource.Unknown;

/** Where the TSC frequency (lib/clock tscHz) came from. */
export const tscSource = () => source;
/** The frequency measured against a reference clock at boot (0 if none), and which. */
export const tscMeasuredHz = () => measuredHz;
export const tscMeasuredAgainst = () => measuredAgainst;

const CALIBRATION_US = 20000;
const PM_TIMER_HZ = 3579545;
const HPET_CAPABILITIES_HI = 0x04; // counter period in femtoseconds
const HPET_CONFIG = 0x10; // bit 0 ENABLE_CNF
const HPET_COUNTER = 0xf0;

/** HPET register at byte offset `offset` (the base's halves carried as one double). */
const hpetAddress = (offset: number) => facts.hpetHi * 4294967296 + facts.hpetLo + offset;
const hpetRead = (offset: number) => {
  const a = hpetAddress(offset);
  return hv_mmio_read32(a % 4294967296, Math.floor(a / 4294967296));
};
const hpetWrite = (offset: number, value: number) => {
  const a = hpetAddress(offset);
  hv_mmio_write32(a % 4294967296, Math.floor(a / 4294967296), value);
};

let refNow = 0; // reference counter read by readReference()
let tscAtRef = 0;

/** Reads the reference counter between two TSC reads; sets refNow and tscAtRef. */
const readReference = (kind: number) => {
  const before = ticksSinceBoot();
  if (kind === TscSource.PmTimer) refNow = hv_io_in32(facts.pmTimerPort);
  else refNow = hpetRead(HPET_COUNTER);
  const after = ticksSinceBoot();
  tscAtRef = (before + after) / 2;
};

/** TSC Hz measured against `kind` over a firmware stall, or 0 when the reference did not move sanely. */
const measureAgainst = (kind: number) => {
  let refHz = PM_TIMER_HZ;
  let mask = facts.pmTimer32 ? 4294967296 : 16777216;
  let hpetWasEnabled = true;
  if (kind === TscSource.Hpet) {
    const periodFs = hpetRead(HPET_CAPABILITIES_HI);
    if (periodFs === 0 || periodFs > 100000000) return 0; // HPET 1.0a: period at most 100 ns
    refHz = 1e15 / periodFs;
    mask = 4294967296;
    const config = hpetRead(HPET_CONFIG);
    hpetWasEnabled = (config & 1) === 1;
    if (!hpetWasEnabled) hpetWrite(HPET_CONFIG, (config | 1) >>> 0);
  }
  readReference(kind);
  const ref0 = refNow;
  const tsc0 = tscAtRef;
  hv_efi_stall(CALIBRATION_US);
  readReference(kind);
  if (!hpetWasEnabled) hpetWrite(HPET_CONFIG, (hpetRead(HPET_CONFIG) & ~1) >>> 0);
  let refTicks = refNow - ref0;
  if (refTicks < 0) refTicks += mask;
  const seconds = refTicks / refHz;
  if (seconds < CALIBRATION_US / 4e6 || seconds > 1) return 0; // stuck, or absurdly slow firmware
  return (tscAtRef - tsc0) / seconds;
};

const measureAgainstStall = () => {
  const t0 = ticksSinceBoot();
  hv_efi_stall(CALIBRATION_US);
  return (ticksSinceBoot() - t0) / (CALIBRATION_US / 1e6);
};

/** Measures the TSC against the best reference the platform has. */
const measure = () => {
  if (facts.pmTimerPort !== 0) {
    measuredHz = measureAgainst(TscSource.PmTimer);
    measuredAgainst = TscSource.PmTimer;
    if (measuredHz > 0) return;
  }
  if (facts.hpetPresent) {
    measuredHz = measureAgainst(TscSource.Hpet);
    measuredAgainst = TscSource.Hpet;
    if (measuredHz > 0) return;
  }
  measuredHz = measureAgainstStall();
  measuredAgainst = TscSource.FirmwareStall;
};

/** Finds the TSC frequency (run after ACPI discovery). Returns it in Hz. */
export const calibrateTsc = () => {
  const hz = findTscHz();
  setTscHz(hz);
  return hz;
};

const findTscHz = () => {
  let hz = 0;
  source = TscSource.Unknown;
  measure();
  cpuid(0x15, 0);
  if (regs[0] !== 0 && regs[1] !== 0 && regs[2] !== 0) {
    hz = (regs[2] * regs[1]) / regs[0];
    source = TscSource.CpuidCrystal;
    return hz;
  }
  cpuid(0x16, 0);
  if ((regs[0] & 0xffff) !== 0) {
    hz = (regs[0] & 0xffff) * 1e6;
    source = TscSource.CpuidBase;
    return hz;
  }
  hz = Math.round(measuredHz);
  source = measuredAgainst;
  return hz;
};

const SOURCE_KEYS: MsgKey[] = ['time.unknown', 'time.source.1', 'time.source.2', 'time.source.3', 'time.source.4', 'time.source.5'];

/** The message naming a TscSource. */
export const tscSourceKey = (source: number) => SOURCE_KEYS[source >= 0 && source < SOURCE_KEYS.length ? source : 0];
