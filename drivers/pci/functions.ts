// The table of PCI functions found by the last scan (enumerate.ts), in preallocated
// memory, and configuration access by table index. Header fields: PCI Local Bus 3.0
// section 6.2.1 (Figure 6-1); bridge bus numbers: PCI-to-PCI Bridge 1.2 section 3.2.5.
import { pciConfigRead32, pciConfigWrite32 } from './config';

/** Functions the table holds; a scan that finds more stops there and says so. */
export const MAX_FUNCTIONS = 256;

// Per function: [bus << 8 | device << 3 | function, vendor | device ID << 16,
//   revision | class code << 8, header type | primary << 8 | secondary << 16 | subordinate << 24]
const WORDS = 4;
const table = new Uint32Array(new ArrayBuffer(MAX_FUNCTIONS * WORDS * 4)); // (not new Uint32Array(n): see bars.ts)
let count = 0;

export const pciFunctionsReset = () => {
  count = 0;
};

/** Adds a function; returns its index, or -1 when the table is full. */
export const pciFunctionAdd = (bus: number, dev: number, fn: number, ids: number, classRevision: number, headerType: number, busNumbers: number) => {
  if (count >= MAX_FUNCTIONS) return -1;
  const w = count * WORDS;
  table[w] = bus * 256 + dev * 8 + fn;
  table[w + 1] = ids >>> 0;
  table[w + 2] = classRevision >>> 0;
  table[w + 3] = ((headerType & 0xff) + (busNumbers & 0xffffff) * 256) >>> 0;
  count++;
  return count - 1;
};

/** Number of functions found by the last scan. */
export const pciFunctionCount = () => count;

export const pciBus = (f: number) => table[f * WORDS] >>> 8;
export const pciDev = (f: number) => (table[f * WORDS] >>> 3) & 31;
export const pciFn = (f: number) => table[f * WORDS] & 7;
export const pciVendor = (f: number) => table[f * WORDS + 1] & 0xffff;
export const pciDeviceId = (f: number) => table[f * WORDS + 1] >>> 16;
/** Class code: base class << 16 | subclass << 8 | programming interface. */
export const pciClass = (f: number) => table[f * WORDS + 2] >>> 8;
export const pciRevision = (f: number) => table[f * WORDS + 2] & 0xff;
/** Header type byte as read (bit 7: multi-function device). */
export const pciHeaderType = (f: number) => table[f * WORDS + 3] & 0xff;
/** Header layout: 0 device, 1 PCI-to-PCI bridge, 2 CardBus bridge. */
export const pciHeaderLayout = (f: number) => table[f * WORDS + 3] & 0x7f;
/** Bridges: bus numbers as the firmware programmed them. */
export const pciPrimaryBus = (f: number) => (table[f * WORDS + 3] >>> 8) & 0xff;
export const pciSecondaryBus = (f: number) => (table[f * WORDS + 3] >>> 16) & 0xff;
export const pciSubordinateBus = (f: number) => table[f * WORDS + 3] >>> 24;

/** Configuration doubleword of function `f` at `offset`. */
export const pciRead32 = (f: number, offset: number) => pciConfigRead32(pciBus(f), pciDev(f), pciFn(f), offset);

/** Writes a configuration doubleword of function `f`. */
export const pciWrite32 = (f: number, offset: number, value: number) => pciConfigWrite32(pciBus(f), pciDev(f), pciFn(f), offset, value);

/** The next function (from index `from` on) with this vendor and device ID, or -1. */
export const pciFindDevice = (vendor: number, device: number, from: number) => {
  for (let f = from < 0 ? 0 : from; f < count; f++) {
    if (pciVendor(f) === vendor && pciDeviceId(f) === device) return f;
  }
  return -1;
};

/** The function at bus:device.function, or -1. */
export const pciFindAddress = (bus: number, dev: number, fn: number) => {
  const rid = bus * 256 + dev * 8 + fn;
  for (let f = 0; f < count; f++) if (table[f * WORDS] === rid) return f;
  return -1;
};
