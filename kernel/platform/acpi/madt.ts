// MADT, signature APIC (ACPI 6.5 section 5.2.12): Local Interrupt Controller Address 36,
// Flags 40 (PCAT_COMPAT bit 0), then Interrupt Controller Structures from 44, each
// Type 0, Length 1. Decoded types (offsets within the structure):
//   0 Processor Local APIC (5.2.12.2, 8 bytes): UID 2, APIC ID 3, Flags 4
//   1 I/O APIC (5.2.12.3, 12): I/O APIC ID 2, Address 4, GSI Base 8
//   2 Interrupt Source Override (5.2.12.5, 10): Bus 2, Source 3, GSI 4, Flags 8
//   3 NMI Source (5.2.12.6, 8): Flags 2, GSI 4
//   4 Local APIC NMI (5.2.12.7, 6): UID 2, Flags 3, LINT# 5
//   5 Local APIC Address Override (5.2.12.8, 12): Address 4 (64-bit)
//   9 Processor Local x2APIC (5.2.12.12, 16): X2APIC ID 4, Flags 8, UID 12
//  10 Local x2APIC NMI (5.2.12.13, 12): Flags 2, UID 4, LINT# 8
// Local APIC Flags (Table 5.23): Enabled bit 0, Online Capable bit 1.
// Other types are kept as (type, length). A structure that is too short or overruns the
// table ends the walk: the structures before it are kept.
import { Field, Problem, acpiError } from './errors';
import { u8, u16, u32 } from './reader';
import { SIG_APIC, tableAddr, tableLength } from './tables';
import { words } from './store';

const MADT_ENTRIES_OFFSET = 44;

export const MADT_LOCAL_APIC = 0;
export const MADT_IO_APIC = 1;
export const MADT_OVERRIDE = 2;
export const MADT_NMI_SOURCE = 3;
export const MADT_LOCAL_APIC_NMI = 4;
export const MADT_ADDRESS_OVERRIDE = 5;
export const MADT_X2APIC = 9;
export const MADT_X2APIC_NMI = 10;

export const LAPIC_ENABLED = 1;
export const LAPIC_ONLINE_CAPABLE = 2;

export const MAX_MADT_ENTRIES = 256;
export const MADT_STRIDE = 5;
/**
 * Per structure: type, then
 *   0 / 9: UID, APIC ID, Flags          1: I/O APIC ID, Address, GSI Base
 *   2: Bus, Source, GSI, Flags           3: Flags, GSI
 *   4 / 10: UID, Flags, LINT#            5: Address lo, Address hi
 *   other: Length.
 */
export const madtEntries = words(MAX_MADT_ENTRIES * MADT_STRIDE);
/** [0] decoded, [1] Local Interrupt Controller Address, [2] Flags, [3] structures kept. */
export const madtHeader = words(4);

export const clearMadt = () => {
  for (let i = 0; i < madtHeader.length; i++) madtHeader[i] = 0;
};

/** Minimum Length of a structure of this type. */
const minLength = (type: number) => {
  switch (type) {
    case MADT_LOCAL_APIC:
      return 8;
    case MADT_IO_APIC:
      return 12;
    case MADT_OVERRIDE:
      return 10;
    case MADT_NMI_SOURCE:
      return 8;
    case MADT_LOCAL_APIC_NMI:
      return 6;
    case MADT_ADDRESS_OVERRIDE:
      return 12;
    case MADT_X2APIC:
      return 16;
    case MADT_X2APIC_NMI:
      return 12;
  }
  return 2;
};

const put = (n: number, type: number, a: number, b: number, c: number, d: number) => {
  const r = n * MADT_STRIDE;
  madtEntries[r] = type;
  madtEntries[r + 1] = a;
  madtEntries[r + 2] = b;
  madtEntries[r + 3] = c;
  madtEntries[r + 4] = d;
};

/** Decodes table i (open, checksum good) as the MADT. */
export const decodeMadt = (i: number) => {
  const addr = tableAddr(i);
  const length = tableLength(i);
  if (length < MADT_ENTRIES_OFFSET) {
    acpiError(Problem.Length, SIG_APIC, addr + 4, Field.Length);
    return;
  }
  madtHeader[0] = 1;
  madtHeader[1] = u32(36);
  madtHeader[2] = u32(40);
  let n = 0;
  let off = MADT_ENTRIES_OFFSET;
  while (off < length) {
    const type = u8(off);
    const len = u8(off + 1);
    if (off + 2 > length || len < minLength(type) || off + len > length) {
      acpiError(Problem.Length, SIG_APIC, addr + off, Field.MadtEntryLength);
      break;
    }
    if (n >= MAX_MADT_ENTRIES) {
      acpiError(Problem.Capacity, SIG_APIC, addr + off, Field.MadtEntry);
      break;
    }
    switch (type) {
      case MADT_LOCAL_APIC:
        put(n, type, u8(off + 2), u8(off + 3), u32(off + 4), 0);
        break;
      case MADT_IO_APIC:
        put(n, type, u8(off + 2), u32(off + 4), u32(off + 8), 0);
        break;
      case MADT_OVERRIDE:
        put(n, type, u8(off + 2), u8(off + 3), u32(off + 4), u16(off + 8));
        break;
      case MADT_NMI_SOURCE:
        put(n, type, u16(off + 2), u32(off + 4), 0, 0);
        break;
      case MADT_LOCAL_APIC_NMI:
        put(n, type, u8(off + 2), u16(off + 3), u8(off + 5), 0);
        break;
      case MADT_ADDRESS_OVERRIDE:
        put(n, type, u32(off + 4), u32(off + 8), 0, 0);
        break;
      case MADT_X2APIC:
        put(n, type, u32(off + 12), u32(off + 4), u32(off + 8), 0);
        break;
      case MADT_X2APIC_NMI:
        put(n, type, u32(off + 4), u16(off + 2), u8(off + 8), 0);
        break;
      default:
        put(n, type, len, 0, 0, 0);
    }
    n++;
    off += len;
  }
  madtHeader[3] = n;
};

/** Number of structures kept. */
export const madtCount = () => madtHeader[3];

/** Whether structure k is a processor (Local APIC or x2APIC). */
export const isProcessor = (k: number) => {
  const type = madtEntries[k * MADT_STRIDE];
  return type === MADT_LOCAL_APIC || type === MADT_X2APIC;
};

/** The Local APIC address: the Address Override when there is one below 4 GiB, else the header's. */
export const localApicAddress = () => {
  const n = madtCount();
  for (let k = 0; k < n; k++) {
    const r = k * MADT_STRIDE;
    if (madtEntries[r] === MADT_ADDRESS_OVERRIDE && madtEntries[r + 2] === 0) return madtEntries[r + 1];
  }
  return madtHeader[1];
};
