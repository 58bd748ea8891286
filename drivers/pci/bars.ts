// Base Address Registers: decoding and sizing (PCI Local Bus 3.0 section 6.2.5.1).
// A BAR's low bits say what it is: bit 0 set = I/O space (bits 31:2 the base); else
// memory with type in bits 2:1 (00 32-bit, 10 64-bit taking the next BAR as the upper
// half, 01 below 1 MiB in old devices, 11 reserved) and bit 3 prefetchable (bits 31:4 the
// base). Writing all ones and reading back gives the size as the lowest writable address
// bit. The expansion ROM BAR (section 6.2.5.2: 0x30, bridges 0x38) has its size in
// bits 31:11 and an enable bit 0.
// Sizing is done with I/O and memory decode switched off in the Command register (bits 0
// and 1, section 6.2.2), so that no half-written BAR claims addresses; each BAR and then
// the Command register are written back as they were.
import { MAX_FUNCTIONS, pciHeaderLayout, pciRead32, pciWrite32 } from './functions';

/** BAR slots per function: BAR0-5, then the expansion ROM. */
export const BAR_SLOTS = 7;
export const ROM_SLOT = 6;

export const enum BarKind {
  None = 0, // not implemented (no writable address bits)
  Mem32 = 1,
  Mem64 = 2,
  Io = 3,
  Rom = 4,
  Upper = 5, // upper half of the 64-bit BAR before it
  Broken = 6, // see BarError
}

export const enum BarError {
  None = 0,
  AllOnes = 1, // the BAR reads 0xFFFFFFFF before sizing: left alone
  ReservedType = 2, // memory type 11b
  Mem64Last = 3, // a 64-bit BAR in the last slot has no upper half
  NonContiguous = 4, // the writable bits are not one run; the size comes from the lowest
}

const COMMAND = 0x04;
const CMD_IO = 1;
const CMD_MEMORY = 2;
const BAR0 = 0x10;
const ALL_ONES = 0xffffffff;
const ROM_ADDRESS_MASK = 0xfffff800;
const TWO_32 = 4294967296;

// Per slot: base lo/hi in `bases`; in `info`: kind (bits 2:0), prefetchable (3), ROM
// enabled (4), BarError (7:5), log2 of the size (13:8; sizes are powers of two).
// Tables are made as `new XxxArray(new ArrayBuffer(bytes))`: porffor 0.61.13 gives
// `new XxxArray(n)` a 16 KiB buffer whatever n is (larger ones overrun the next allocation).
const SLOTS = MAX_FUNCTIONS * BAR_SLOTS;
const bases = new Uint32Array(new ArrayBuffer(SLOTS * 2 * 4));
const info = new Uint16Array(new ArrayBuffer(SLOTS * 2));
const PREFETCHABLE = 8;
const ROM_ENABLED = 16;

/** The lowest set bit of a u32 as a number (0 when none). */
const lowestBit = (v: number) => {
  let bit = 1;
  for (let k = 0; k < 32; k++) {
    if (Math.floor(v / bit) % 2 === 1) return bit;
    bit *= 2;
  }
  return 0;
};

/** log2 of a power of two below 2^64 given as lo/hi halves (one of them 0). */
const log2 = (lo: number, hi: number) => {
  let v = hi !== 0 ? hi : lo;
  let k = hi !== 0 ? 32 : 0;
  while (v > 1) {
    v = v / 2;
    k++;
  }
  return k;
};

const setSlot = (f: number, slot: number, kind: number, baseLo: number, baseHi: number, sizeLo: number, sizeHi: number, error: number) => {
  const i = f * BAR_SLOTS + slot;
  bases[i * 2] = baseLo >>> 0;
  bases[i * 2 + 1] = baseHi >>> 0;
  const sizeBits = sizeLo === 0 && sizeHi === 0 ? 0 : log2(sizeLo, sizeHi) * 256;
  info[i] = kind + error * 32 + sizeBits;
};

/** Writes all ones to the BAR at `offset`, reads the mask back, restores `original`. */
const probe = (f: number, offset: number, ones: number, original: number) => {
  pciWrite32(f, offset, ones);
  const mask = pciRead32(f, offset);
  pciWrite32(f, offset, original);
  return mask;
};

/** Number of BARs of a header layout: 6 for devices, 2 for PCI-to-PCI bridges, 1 (socket base) for CardBus. */
export const barCount = (layout: number) => (layout === 0 ? 6 : layout === 1 ? 2 : layout === 2 ? 1 : 0);

const sizeOne = (f: number, slot: number, last: number) => {
  const offset = BAR0 + slot * 4;
  const original = pciRead32(f, offset);
  if (original === ALL_ONES) {
    setSlot(f, slot, BarKind.Broken, 0, 0, 0, 0, BarError.AllOnes);
    return slot + 1;
  }
  if (original % 2 === 1) {
    // I/O space
    const raw = probe(f, offset, ALL_ONES, original);
    const mask = raw - (raw % 4);
    // a decoder of 16 address bits reads the upper half back as zeros (section 6.2.5.1)
    const wide = mask >= 65536 ? mask : mask === 0 ? 0 : mask + 0xffff0000;
    const size = lowestBit(wide);
    if (size === 0) {
      setSlot(f, slot, BarKind.None, 0, 0, 0, 0, BarError.None);
      return slot + 1;
    }
    setSlot(f, slot, BarKind.Io, original - (original % 4), 0, size, 0, wide === TWO_32 - size ? BarError.None : BarError.NonContiguous);
    return slot + 1;
  }
  const type = Math.floor(original / 2) % 4;
  const prefetchable = Math.floor(original / 8) % 2 === 1 ? PREFETCHABLE : 0;
  const baseLo = original - (original % 16);
  if (type === 3) {
    setSlot(f, slot, BarKind.Broken, 0, 0, 0, 0, BarError.ReservedType);
    return slot + 1;
  }
  if (type !== 2) {
    const mask = probe(f, offset, ALL_ONES, original);
    const bits = mask - (mask % 16);
    const size = lowestBit(bits);
    if (size === 0) setSlot(f, slot, BarKind.None, 0, 0, 0, 0, BarError.None);
    else setSlot(f, slot, BarKind.Mem32 + prefetchable, baseLo, 0, size, 0, bits === TWO_32 - size ? BarError.None : BarError.NonContiguous);
    return slot + 1;
  }
  if (slot >= last) {
    setSlot(f, slot, BarKind.Broken, 0, 0, 0, 0, BarError.Mem64Last);
    return slot + 1;
  }
  const originalHi = pciRead32(f, offset + 4);
  pciWrite32(f, offset, ALL_ONES);
  pciWrite32(f, offset + 4, ALL_ONES);
  const mask = pciRead32(f, offset);
  const maskHi = pciRead32(f, offset + 4);
  pciWrite32(f, offset, original);
  pciWrite32(f, offset + 4, originalHi);
  const bits = mask - (mask % 16);
  let sizeLo = lowestBit(bits);
  let sizeHi = 0;
  let contiguous = bits === TWO_32 - sizeLo && maskHi === ALL_ONES;
  if (sizeLo === 0) {
    sizeHi = lowestBit(maskHi);
    contiguous = maskHi === TWO_32 - sizeHi;
  }
  if (sizeLo === 0 && sizeHi === 0) setSlot(f, slot, BarKind.None, 0, 0, 0, 0, BarError.None);
  else setSlot(f, slot, BarKind.Mem64 + prefetchable, baseLo, originalHi, sizeLo, sizeHi, contiguous ? BarError.None : BarError.NonContiguous);
  setSlot(f, slot + 1, BarKind.Upper, 0, 0, 0, 0, BarError.None);
  return slot + 2;
};

const sizeRom = (f: number, offset: number) => {
  const original = pciRead32(f, offset);
  if (original === ALL_ONES) {
    setSlot(f, ROM_SLOT, BarKind.Broken, 0, 0, 0, 0, BarError.AllOnes);
    return;
  }
  // keep the enable bit clear while probing: the ROM must not decode a half-set address
  const mask = probe(f, offset, ROM_ADDRESS_MASK, original);
  const bits = mask - (mask % 2048);
  const size = lowestBit(bits);
  if (size === 0) {
    setSlot(f, ROM_SLOT, BarKind.None, 0, 0, 0, 0, BarError.None);
    return;
  }
  const enabled = original % 2 === 1 ? ROM_ENABLED : 0;
  setSlot(f, ROM_SLOT, BarKind.Rom + enabled, original - (original % 2048), 0, size, 0, bits === TWO_32 - size ? BarError.None : BarError.NonContiguous);
};

/** Decodes and sizes the BARs of function `f`, leaving its registers as they were. */
export const pciSizeBars = (f: number) => {
  for (let s = 0; s < BAR_SLOTS; s++) setSlot(f, s, BarKind.None, 0, 0, 0, 0, BarError.None);
  const layout = pciHeaderLayout(f);
  const n = barCount(layout);
  const romOffset = layout === 0 ? 0x30 : layout === 1 ? 0x38 : 0;
  if (n === 0) return;
  const command = pciRead32(f, COMMAND) & 0xffff; // the status half is written as 0: its bits are write-1-to-clear
  const decode = command & (CMD_IO | CMD_MEMORY);
  if (decode !== 0) pciWrite32(f, COMMAND, command - decode);
  let slot = 0;
  while (slot < n) slot = sizeOne(f, slot, n - 1);
  if (romOffset !== 0) sizeRom(f, romOffset);
  if (decode !== 0) pciWrite32(f, COMMAND, command);
};

const slotInfo = (f: number, slot: number) => info[f * BAR_SLOTS + slot];

/** BarKind of slot `slot` (0-5 BARs, ROM_SLOT the expansion ROM). */
export const pciBarKind = (f: number, slot: number) => slotInfo(f, slot) & 7;
export const pciBarPrefetchable = (f: number, slot: number) => (slotInfo(f, slot) & PREFETCHABLE) !== 0;
export const pciRomEnabled = (f: number) => (slotInfo(f, ROM_SLOT) & ROM_ENABLED) !== 0;
/** BarError of the slot. */
export const pciBarError = (f: number, slot: number) => (slotInfo(f, slot) >>> 5) & 7;
/** Base address as the firmware set it, lo/hi halves. */
export const pciBarBaseLo = (f: number, slot: number) => bases[(f * BAR_SLOTS + slot) * 2];
export const pciBarBaseHi = (f: number, slot: number) => bases[(f * BAR_SLOTS + slot) * 2 + 1];
/** Size in bytes as a number (exact: a power of two), 0 for no BAR. */
export const pciBarSize = (f: number, slot: number) => {
  const kind = pciBarKind(f, slot);
  if (kind === BarKind.None || kind === BarKind.Upper || kind === BarKind.Broken) return 0;
  return Math.pow(2, slotInfo(f, slot) >>> 8);
};
/** Size as lo/hi halves. */
export const pciBarSizeLo = (f: number, slot: number) => pciBarSize(f, slot) % TWO_32;
export const pciBarSizeHi = (f: number, slot: number) => Math.floor(pciBarSize(f, slot) / TWO_32);
