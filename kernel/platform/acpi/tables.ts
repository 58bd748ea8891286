// The list of ACPI tables found, and the checks every table gets before it is used:
// pointer not zero, header and whole length inside the memory map, length within
// [36, 1 MiB], not listed twice, checksum (ACPI 6.5 section 5.2.6, System Description
// Table Header: Signature 0, Length 4, Revision 8, Checksum 9, OEMID 10..15).
// The FACS (section 5.2.10) has no checksum or OEMID; its Version (offset 32) is shown
// as its revision.
import { Field, Problem, acpiError, oemArg, signatureArg } from './errors';
import { TWO32, openTable, rangeMapped, tableSum, u8, u16, u32 } from './reader';
import { words } from './store';

export const SIG_XSDT = 0x54445358;
export const SIG_RSDT = 0x54445352;
export const SIG_FACP = 0x50434146;
export const SIG_APIC = 0x43495041;
export const SIG_MCFG = 0x4746434d;
export const SIG_HPET = 0x54455048;
export const SIG_DMAR = 0x52414d44;
export const SIG_IVRS = 0x53525649;
export const SIG_DSDT = 0x54445344;
export const SIG_FACS = 0x53434146;
/** Not a table signature: names the RSDP in problems. */
export const SIG_RSDP = 0x50445352;

export const HEADER_LENGTH = 36;
const FACS_MIN_LENGTH = 64;
/** Longest table accepted (a sanity cap: real DSDTs stay well below). */
export const MAX_TABLE_LENGTH = 1048576;

export const enum TableState {
  Ok = 0,
  BadChecksum = 1,
  NoChecksum = 2, // FACS
  Unreadable = 3, // length out of range or not all in the memory map
}

export const MAX_TABLES = 64;
export const TABLE_STRIDE = 8;
/**
 * Per table: signature (u32 as read), address lo, address hi, length, revision,
 * TableState, OEM ID bytes 0..3, OEM ID bytes 4..5.
 */
export const tableRecords = words(MAX_TABLES * TABLE_STRIDE);
let count = 0;

export const clearTables = () => {
  count = 0;
};
export const tableCount = () => count;
export const tableSig = (i: number) => tableRecords[i * TABLE_STRIDE];
export const tableLo = (i: number) => tableRecords[i * TABLE_STRIDE + 1];
export const tableHi = (i: number) => tableRecords[i * TABLE_STRIDE + 2];
export const tableLength = (i: number) => tableRecords[i * TABLE_STRIDE + 3];
export const tableRevision = (i: number) => tableRecords[i * TABLE_STRIDE + 4];
export const tableState = (i: number) => tableRecords[i * TABLE_STRIDE + 5];
/** Physical address of table i (a double). */
export const tableAddr = (i: number) => tableHi(i) * TWO32 + tableLo(i);

/** Table i's signature as a message argument (a shared span: use it at once). */
export const tableSignatureArg = (i: number) => signatureArg(tableSig(i));

/** Table i's OEM ID as a message argument (a shared span: use it at once). */
export const tableOemArg = (i: number) => oemArg(tableRecords[i * TABLE_STRIDE + 6], tableRecords[i * TABLE_STRIDE + 7]);

/**
 * Checks the table that field `field` of table `refSig` (at physical `refAddr`) points to
 * at (lo, hi), lists it, and opens it for reading. Returns its index, or -1 when it could
 * not be listed (the problem is reported against the referring field). A listed table
 * whose state is not Ok was reported against itself.
 */
export const addTable = (lo: number, hi: number, refSig: number, refAddr: number, field: Field, facs: boolean) => {
  if (lo === 0 && hi === 0) {
    acpiError(Problem.Null, refSig, refAddr, field);
    return -1;
  }
  const addr = hi * TWO32 + lo;
  if (hi >= 0x100000 || !rangeMapped(addr, HEADER_LENGTH)) {
    acpiError(Problem.Unmapped, refSig, refAddr, field);
    return -1;
  }
  for (let i = 0; i < count; i++) {
    if (tableLo(i) === lo && tableHi(i) === hi) {
      acpiError(Problem.Duplicate, refSig, refAddr, field);
      return -1;
    }
  }
  if (count >= MAX_TABLES) {
    acpiError(Problem.Capacity, refSig, refAddr, field);
    return -1;
  }
  openTable(addr, HEADER_LENGTH);
  const i = count;
  count++;
  const sig = u32(0);
  const length = u32(4);
  const r = i * TABLE_STRIDE;
  tableRecords[r] = sig;
  tableRecords[r + 1] = lo;
  tableRecords[r + 2] = hi;
  tableRecords[r + 3] = length;
  tableRecords[r + 4] = facs ? u8(32) : u8(8);
  tableRecords[r + 6] = facs ? 0 : u32(10);
  tableRecords[r + 7] = facs ? 0 : u16(14);
  let state = TableState.Ok;
  if (length < (facs ? FACS_MIN_LENGTH : HEADER_LENGTH) || length > MAX_TABLE_LENGTH) {
    acpiError(Problem.Length, sig, addr + 4, Field.Length);
    state = TableState.Unreadable;
  } else if (!rangeMapped(addr, length)) {
    acpiError(Problem.Unmapped, sig, addr + 4, Field.Length);
    state = TableState.Unreadable;
  } else if (facs) {
    state = TableState.NoChecksum;
  } else {
    openTable(addr, length);
    if (tableSum() !== 0) {
      acpiError(Problem.Checksum, sig, addr + 9, Field.Checksum);
      state = TableState.BadChecksum;
    }
  }
  tableRecords[r + 5] = state;
  openTable(addr, state === TableState.Unreadable ? 0 : length);
  return i;
};
