// The I/O APIC of each VM at 0xFEC00000 (Intel 82093AA datasheet): IOREGSEL at offset 0x00,
// IOWIN at 0x10; registers ID (0x00, bits 27:24), version (0x01: 0x00170011, 24 pins),
// arbitration (0x02) and the 24 redirection entries (0x10-0x3F, low then high dword).
// Pins are ISA IRQs (IRQ n on pin n, no overrides). Edge pins deliver once per rising edge
// of their active level; level pins deliver while active, holding remote IRR until the
// local APIC's EOI comes back (ioapicEoi). A pin's polarity says which line level is active.
// Delivery goes to the VM's vCPUs through their local APICs (lapic.ts): fixed and lowest
// priority set IRR, NMI raises an NMI; SMI and INIT are ignored (no SMM, no SMP yet);
// ExtINT means an 8259 delivers the vector: ioapicExtIntAsserted tells the interrupt core.
import { MAX_VCPUS_PER_VM, MAX_VMS } from '../../lib/limits';
import { vcpuOf } from '../vcpu-table';
import { lapicAccept, lapicMatches, lapicNmi } from './lapic';

export const IOAPIC_BASE = 0xfec00000;
export const IOAPIC_PINS = 24;
export const IOAPIC_VERSION = 0x00170011; // max redirection entry 23, version 0x11

const IOREGSEL = 0x00;
const IOWIN = 0x10;
const REG_ID = 0x00;
const REG_VERSION = 0x01;
const REG_ARBITRATION = 0x02;
const REG_REDIRECTION = 0x10;

// redirection entry low dword (datasheet 3.2.4)
const RTE_MASK = 0x10000;
const RTE_LEVEL = 0x8000;
const RTE_REMOTE_IRR = 0x4000;
const RTE_ACTIVE_LOW = 0x2000;
const RTE_LOGICAL = 0x800;
const RTE_WRITABLE = 0x1afff; // vector, delivery mode, destination mode, polarity, trigger, mask
const DM_FIXED = 0;
const DM_LOWEST = 1;
const DM_NMI = 4;
const DM_EXTINT = 7;

const N = MAX_VMS * IOAPIC_PINS;
const select = new Uint8Array(MAX_VMS);
const apicId = new Uint8Array(MAX_VMS); // bits 27:24 of the ID register
const entryLo = new Uint32Array(N);
const entryHi = new Uint32Array(N); // destination in bits 31:24
const line = new Uint8Array(N); // the input line as the board drives it

const valid = (vm: number) => vm >= 0 && vm < MAX_VMS;
const active = (i: number) => (line[i] !== 0) !== ((entryLo[i] & RTE_ACTIVE_LOW) !== 0);

/** Sends pin i's message to the VM's matching local APICs; whether any took it. */
const deliver = (vm: number, i: number) => {
  const lo = entryLo[i];
  const mode = (lo >>> 8) & 7;
  if (mode !== DM_FIXED && mode !== DM_LOWEST && mode !== DM_NMI) return false; // SMI, INIT ignored; ExtINT through the 8259
  const dest = entryHi[i] >>> 24;
  const logical = (lo & RTE_LOGICAL) !== 0;
  let taken = false;
  for (let k = 0; k < MAX_VCPUS_PER_VM; k++) {
    const v = vcpuOf(vm, k);
    if (v < 0 || !lapicMatches(v, dest, logical, false)) continue;
    if (mode === DM_NMI) lapicNmi(v);
    else lapicAccept(v, lo & 0xff, (lo & RTE_LEVEL) !== 0 ? 1 : 0);
    taken = true;
    if (mode === DM_LOWEST) break; // one of them: the first (all share priority today)
  }
  return taken;
};

/** A level pin that is active, unmasked and not awaiting EOI delivers (remote IRR set when a local APIC took it). */
const serviceLevel = (vm: number, i: number) => {
  const lo = entryLo[i];
  if ((lo & (RTE_LEVEL | RTE_MASK | RTE_REMOTE_IRR)) !== RTE_LEVEL || !active(i)) return;
  const mode = (lo >>> 8) & 7;
  if (mode === DM_NMI) return; // NMI is edge-triggered whatever the trigger bit says
  if (deliver(vm, i)) entryLo[i] = (entryLo[i] | RTE_REMOTE_IRR) >>> 0;
};

/** VM `vm`'s ISA line on `pin` goes to `level` (0, 1). */
export const ioapicSetIrq = (vm: number, pin: number, level: number, now: number) => {
  if (!valid(vm) || pin < 0 || pin >= IOAPIC_PINS) return;
  const i = vm * IOAPIC_PINS + pin;
  const was = active(i);
  line[i] = level !== 0 ? 1 : 0;
  const is = active(i);
  const lo = entryLo[i];
  if ((lo & RTE_MASK) !== 0) return; // a masked edge is lost
  const mode = (lo >>> 8) & 7;
  if ((lo & RTE_LEVEL) !== 0 && mode !== DM_NMI) serviceLevel(vm, i);
  else if (is && !was) deliver(vm, i);
};

/** EOI broadcast of `vector` from a local APIC: matching level pins clear remote IRR, and deliver again while active. */
export const ioapicEoi = (vm: number, vector: number, now: number) => {
  if (!valid(vm)) return;
  for (let pin = 0; pin < IOAPIC_PINS; pin++) {
    const i = vm * IOAPIC_PINS + pin;
    if ((entryLo[i] & 0xff) !== (vector & 0xff) || (entryLo[i] & RTE_REMOTE_IRR) === 0) continue;
    entryLo[i] = (entryLo[i] & ~RTE_REMOTE_IRR) >>> 0;
    serviceLevel(vm, i);
  }
};

/** Whether an unmasked ExtINT pin of VM `vm` is active: the 8259's INTR reaches the processor through the I/O APIC. */
export const ioapicExtIntAsserted = (vm: number) => {
  if (!valid(vm)) return false;
  for (let pin = 0; pin < IOAPIC_PINS; pin++) {
    const i = vm * IOAPIC_PINS + pin;
    if ((entryLo[i] & RTE_MASK) === 0 && ((entryLo[i] >>> 8) & 7) === DM_EXTINT && active(i)) return true;
  }
  return false;
};

const readRegister = (vm: number, reg: number) => {
  if (reg === REG_ID || reg === REG_ARBITRATION) return (apicId[vm] << 24) >>> 0; // arbitration ID loads from the ID
  if (reg === REG_VERSION) return IOAPIC_VERSION;
  if (reg >= REG_REDIRECTION && reg < REG_REDIRECTION + 2 * IOAPIC_PINS) {
    const i = vm * IOAPIC_PINS + ((reg - REG_REDIRECTION) >>> 1);
    return (reg & 1) === 0 ? entryLo[i] : entryHi[i]; // delivery status (bit 12) reads idle: delivery is immediate
  }
  return 0xffffffff;
};

const writeRegister = (vm: number, reg: number, value: number) => {
  const x = value >>> 0;
  if (reg === REG_ID) apicId[vm] = (x >>> 24) & 0xf;
  if (reg < REG_REDIRECTION || reg >= REG_REDIRECTION + 2 * IOAPIC_PINS) return; // version, arbitration: read-only
  const i = vm * IOAPIC_PINS + ((reg - REG_REDIRECTION) >>> 1);
  if ((reg & 1) !== 0) {
    entryHi[i] = x & 0xff000000;
    return;
  }
  let next = (x & RTE_WRITABLE) | (entryLo[i] & RTE_REMOTE_IRR);
  if ((next & RTE_LEVEL) === 0) next &= ~RTE_REMOTE_IRR; // remote IRR means nothing for edge pins
  entryLo[i] = next >>> 0;
  serviceLevel(vm, i); // unmasked (or made level) while active: delivers now
};

/** VM `vm` reads the dword at `offset` of the I/O APIC's page: IOREGSEL, IOWIN, else all ones. */
export const ioapicRead = (vm: number, offset: number, now: number) => {
  if (!valid(vm)) return 0xffffffff;
  if (offset === IOREGSEL) return select[vm];
  if (offset === IOWIN) return readRegister(vm, select[vm]);
  return 0xffffffff;
};

/** VM `vm` writes the dword `value` at `offset`: IOREGSEL selects, IOWIN writes the selected register; others are ignored. */
export const ioapicWrite = (vm: number, offset: number, value: number, now: number) => {
  if (!valid(vm)) return;
  if (offset === IOREGSEL) select[vm] = value & 0xff;
  else if (offset === IOWIN) writeRegister(vm, select[vm], value);
};

/** Power-on (datasheet 3.2.4): every pin masked, edge, active high, fixed, physical destination 0; ID 0; lines low. */
export const ioapicReset = (vm: number) => {
  if (!valid(vm)) return;
  select[vm] = 0;
  apicId[vm] = 0;
  for (let pin = 0; pin < IOAPIC_PINS; pin++) {
    const i = vm * IOAPIC_PINS + pin;
    entryLo[i] = RTE_MASK;
    entryHi[i] = 0;
    line[i] = 0;
  }
};

// ---- live migration: IOREGSEL, ID, then per pin the low and high dwords and the line ----
const PIN_BYTES = 9;
export const IOAPIC_STATE_BYTES = 2 + IOAPIC_PINS * PIN_BYTES;

const putDword = (out: Uint8Array, off: number, value: number) => {
  const x = value >>> 0;
  out[off] = x & 0xff;
  out[off + 1] = (x >>> 8) & 0xff;
  out[off + 2] = (x >>> 16) & 0xff;
  out[off + 3] = (x >>> 24) & 0xff;
};
const getDword = (src: Uint8Array, off: number) => (src[off] | (src[off + 1] << 8) | (src[off + 2] << 16) | (src[off + 3] << 24)) >>> 0;

/** Writes VM `vm`'s I/O APIC to out[off, + IOAPIC_STATE_BYTES); false when out is too short. */
export const ioapicSave = (vm: number, out: Uint8Array, off: number) => {
  if (!valid(vm) || off < 0 || off + IOAPIC_STATE_BYTES > out.length) return false;
  out[off] = select[vm];
  out[off + 1] = apicId[vm];
  for (let pin = 0; pin < IOAPIC_PINS; pin++) {
    const i = vm * IOAPIC_PINS + pin;
    const o = off + 2 + pin * PIN_BYTES;
    putDword(out, o, entryLo[i]);
    putDword(out, o + 4, entryHi[i]);
    out[o + 8] = line[i];
  }
  return true;
};

/** Sets VM `vm`'s I/O APIC from saved state; false (nothing changed) when malformed. */
export const ioapicLoad = (vm: number, src: Uint8Array, off: number, len: number) => {
  if (!valid(vm) || len !== IOAPIC_STATE_BYTES || off < 0 || off + len > src.length || src[off + 1] > 0xf) return false;
  for (let pin = 0; pin < IOAPIC_PINS; pin++) {
    const o = off + 2 + pin * PIN_BYTES;
    const lo = getDword(src, o);
    if ((lo & ~(RTE_WRITABLE | RTE_REMOTE_IRR)) !== 0 || ((lo & RTE_REMOTE_IRR) !== 0 && (lo & RTE_LEVEL) === 0)) return false;
    if ((getDword(src, o + 4) & 0x00ffffff) !== 0 || src[o + 8] > 1) return false;
  }
  select[vm] = src[off];
  apicId[vm] = src[off + 1];
  for (let pin = 0; pin < IOAPIC_PINS; pin++) {
    const i = vm * IOAPIC_PINS + pin;
    const o = off + 2 + pin * PIN_BYTES;
    entryLo[i] = getDword(src, o);
    entryHi[i] = getDword(src, o + 4);
    line[i] = src[o + 8];
  }
  return true;
};
