// PCI configuration space access, one doubleword at a time, by bus/device/function.
//   - ECAM (PCI Express Base 5.0 section 7.2.2, Table 7-1): 4 KiB per function at
//     base + bus * 1 MiB + device * 32 KiB + function * 4 KiB, where base is the MCFG
//     window's address for bus 0 (PCI Firmware 3.3 section 4.1.2, Table 4-3); the whole
//     4 KiB (extended configuration space) is reachable.
//   - Configuration mechanism #1 (PCI Local Bus 3.0 section 3.2.2.3.2): CONFIG_ADDRESS at
//     port 0xCF8 (bit 31 enable, bus 23:16, device 15:11, function 10:8, register 7:2),
//     then CONFIG_DATA at 0xCFC; only the first 256 bytes.
// ECAM is used when ACPI found an MCFG window for segment 0 (kernel/platform/facts.ts).
// Addresses are computed as doubles (exact below 2^53) and handed over as lo/hi halves.
import { facts, MAX_ECAM_SEGMENTS } from '../../kernel/platform/facts';

export const enum PciAccess {
  Ports = 1,
  Ecam = 2,
}

const CONFIG_ADDRESS = 0xcf8;
const CONFIG_DATA = 0xcfc;
const ENABLE = 0x80000000;
const TWO_32 = 4294967296;
const MIB = 1048576;
export const ALL_ONES = 0xffffffff;

let method = PciAccess.Ports;
let ecamBase = 0;
let ecamStart = 0;
let ecamEnd = 255;
let rejectedBase = -1; // a segment 0 window that could not be used, or -1

/**
 * Picks the access method from the platform facts: the MCFG window of segment 0 when
 * there is a usable one (base 1 MiB aligned, not 0, start bus <= end bus), else the ports.
 */
export const pciAccessInit = () => {
  method = PciAccess.Ports;
  rejectedBase = -1;
  ecamStart = 0;
  ecamEnd = 255;
  const n = facts.ecamCount < MAX_ECAM_SEGMENTS ? facts.ecamCount : MAX_ECAM_SEGMENTS;
  for (let i = 0; i < n; i++) {
    if (facts.ecamSegment[i] !== 0) continue;
    const base = facts.ecamBaseHi[i] * TWO_32 + facts.ecamBaseLo[i];
    const start = facts.ecamStartBus[i];
    const end = facts.ecamEndBus[i];
    if (base === 0 || base % MIB !== 0 || start > end) {
      rejectedBase = base;
      continue;
    }
    method = PciAccess.Ecam;
    ecamBase = base;
    ecamStart = start;
    ecamEnd = end;
    return;
  }
};

/** PciAccess.Ecam or PciAccess.Ports. */
export const pciAccessMethod = () => method;
/** The ECAM window in use: base (bus 0) as lo/hi halves, bus range. */
export const pciEcamBaseLo = () => ecamBase % TWO_32;
export const pciEcamBaseHi = () => Math.floor(ecamBase / TWO_32);
/** First and last bus the configuration access reaches. */
export const pciFirstBus = () => ecamStart;
export const pciLastBus = () => ecamEnd;
/** A segment 0 window from MCFG that was unusable (then the ports are used): its base, or -1. */
export const pciRejectedEcam = () => rejectedBase;
/** Bytes of configuration space per function the access method reaches. */
export const pciConfigSize = () => (method === PciAccess.Ecam ? 4096 : 256);

const reachable = (bus: number, dev: number, fn: number, offset: number) =>
  bus >= ecamStart && bus <= ecamEnd && dev >= 0 && dev < 32 && fn >= 0 && fn < 8 && offset >= 0 && offset < pciConfigSize();

const ecamAddress = (bus: number, dev: number, fn: number, offset: number) =>
  ecamBase + bus * MIB + dev * 32768 + fn * 4096 + (offset - (offset % 4));

const portAddress = (bus: number, dev: number, fn: number, offset: number) =>
  ENABLE + bus * 65536 + dev * 2048 + fn * 256 + (offset - (offset % 4));

/** The doubleword at `offset` (rounded down to a multiple of 4); 0xFFFFFFFF when unreachable. */
export const pciConfigRead32 = (bus: number, dev: number, fn: number, offset: number) => {
  if (!reachable(bus, dev, fn, offset)) return ALL_ONES;
  if (method === PciAccess.Ecam) {
    const a = ecamAddress(bus, dev, fn, offset);
    return hv_mmio_read32(a % TWO_32, Math.floor(a / TWO_32)) >>> 0;
  }
  hv_io_out32(CONFIG_ADDRESS, portAddress(bus, dev, fn, offset));
  return hv_io_in32(CONFIG_DATA) >>> 0;
};

/** Writes the doubleword at `offset` (rounded down to a multiple of 4); ignored when unreachable. */
export const pciConfigWrite32 = (bus: number, dev: number, fn: number, offset: number, value: number) => {
  if (!reachable(bus, dev, fn, offset)) return;
  const v = value >>> 0;
  if (method === PciAccess.Ecam) {
    const a = ecamAddress(bus, dev, fn, offset);
    hv_mmio_write32(a % TWO_32, Math.floor(a / TWO_32), v);
    return;
  }
  hv_io_out32(CONFIG_ADDRESS, portAddress(bus, dev, fn, offset));
  hv_io_out32(CONFIG_DATA, v);
};
