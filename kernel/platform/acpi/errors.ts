// Problems found in the ACPI tables: each names the table (signature), the physical
// address of the field or structure, the field, and what is wrong. Kept in a
// preallocated list (the `acpi` command shows it) and logged at Warn as found.
import type { MsgKey } from '../../i18n/dictionary';
import { Span } from '../../lib/format';
import { Category, Level, log } from '../../diag/log';
import { TWO32 } from './reader';
import { words } from './store';

/** What is wrong (errorKey gives its message). */
export const enum Problem {
  Null = 0,
  Unmapped = 1,
  Length = 2,
  Checksum = 3,
  Signature = 4,
  Duplicate = 5,
  Capacity = 6,
  Value = 7,
}

/** The message of a Problem. */
export const errorKey = (problem: number): MsgKey => {
  switch (problem) {
    case Problem.Null:
      return 'acpi.err.null';
    case Problem.Unmapped:
      return 'acpi.err.unmapped';
    case Problem.Length:
      return 'acpi.err.length';
    case Problem.Checksum:
      return 'acpi.err.checksum';
    case Problem.Signature:
      return 'acpi.err.signature';
    case Problem.Duplicate:
      return 'acpi.err.duplicate';
    case Problem.Capacity:
      return 'acpi.err.capacity';
  }
  return 'acpi.err.value';
};

/** The field a problem is in (fieldName gives it as the specifications spell it). */
export const enum Field {
  Signature = 0,
  Length = 1,
  Checksum = 2,
  ExtendedChecksum = 3,
  RsdtAddress = 4,
  XsdtAddress = 5,
  Entry = 6,
  FirmwareCtrl = 7,
  XFirmwareCtrl = 8,
  Dsdt = 9,
  XDsdt = 10,
  PmTmrBlk = 11,
  XPmTmrBlk = 12,
  MadtEntryLength = 13,
  MadtEntry = 14,
  BaseAddress = 15,
  EndBusNumber = 16,
  McfgEntry = 17,
  RemappingStructureLength = 18,
  RemappingStructure = 19,
  DeviceScopeLength = 20,
  DeviceScope = 21,
  DeviceScopePath = 22,
  Drhd = 23,
  IvdbLength = 24,
  Ivdb = 25,
  DeviceEntryType = 26,
  DeviceEntryLength = 27,
  DeviceEntry = 28,
  Ivhd = 29,
  VendorTable = 30,
}

export const fieldName = (field: number) => {
  switch (field) {
    case Field.Signature:
      return 'Signature';
    case Field.Length:
      return 'Length';
    case Field.Checksum:
      return 'Checksum';
    case Field.ExtendedChecksum:
      return 'Extended Checksum';
    case Field.RsdtAddress:
      return 'RsdtAddress';
    case Field.XsdtAddress:
      return 'XsdtAddress';
    case Field.Entry:
      return 'Entry';
    case Field.FirmwareCtrl:
      return 'FIRMWARE_CTRL';
    case Field.XFirmwareCtrl:
      return 'X_FIRMWARE_CTRL';
    case Field.Dsdt:
      return 'DSDT';
    case Field.XDsdt:
      return 'X_DSDT';
    case Field.PmTmrBlk:
      return 'PM_TMR_BLK';
    case Field.XPmTmrBlk:
      return 'X_PM_TMR_BLK';
    case Field.MadtEntryLength:
      return 'Interrupt Controller Structure.Length';
    case Field.MadtEntry:
      return 'Interrupt Controller Structure';
    case Field.BaseAddress:
      return 'Base Address';
    case Field.EndBusNumber:
      return 'End Bus Number';
    case Field.McfgEntry:
      return 'Configuration Space Base Address Allocation';
    case Field.RemappingStructureLength:
      return 'Remapping Structure.Length';
    case Field.RemappingStructure:
      return 'Remapping Structure';
    case Field.DeviceScopeLength:
      return 'Device Scope.Length';
    case Field.DeviceScope:
      return 'Device Scope';
    case Field.DeviceScopePath:
      return 'Device Scope.Path';
    case Field.Drhd:
      return 'DRHD';
    case Field.IvdbLength:
      return 'IVDB.Length';
    case Field.Ivdb:
      return 'IVDB';
    case Field.DeviceEntryType:
      return 'Device Entry.Type';
    case Field.DeviceEntryLength:
      return 'Device Entry.Length';
    case Field.DeviceEntry:
      return 'Device Entry';
    case Field.Ivhd:
      return 'IVHD';
  }
  return 'VendorTable';
};

// ---- text arguments made from table bytes (signatures, OEM IDs) ----

const argText = words(8);
const argSpan = new Span(argText);

/** A byte as shown: printable ASCII as is, anything else '?'. */
const printable = (b: number) => (b >= 0x20 && b <= 0x7e ? b : 0x3f);

/** A signature (u32 as read) as a message argument; the span is shared: use it at once. */
export const signatureArg = (sig: number) => {
  argText[0] = printable(sig & 255);
  argText[1] = printable((sig >>> 8) & 255);
  argText[2] = printable((sig >>> 16) & 255);
  argText[3] = printable(sig >>> 24);
  argSpan.len = 4;
  return argSpan;
};

/** An OEM ID (bytes 0..3 in lo, 4..5 in hi) as a message argument; NUL padding shows as spaces. */
export const oemArg = (lo: number, hi: number) => {
  for (let k = 0; k < 6; k++) {
    const b = k < 4 ? (lo >>> (8 * k)) & 255 : (hi >>> (8 * (k - 4))) & 255;
    argText[k] = b === 0 ? 0x20 : printable(b);
  }
  argSpan.len = 6;
  return argSpan;
};

// ---- the list ----

export const MAX_ERRORS = 32;
export const ERROR_STRIDE = 5;
/** Per problem: signature (u32 as read), address lo, address hi, Field, Problem. */
export const errorRecords = words(MAX_ERRORS * ERROR_STRIDE);
let kept = 0;
let total = 0;

/** Empties the list (a new scan). */
export const clearErrors = () => {
  kept = 0;
  total = 0;
};

/** Problems kept (at most MAX_ERRORS) and found. */
export const errorsKept = () => kept;
export const errorsFound = () => total;

/**
 * Records a problem in table `sig` at physical address `addr` (a double below 2^52) and
 * logs it; past MAX_ERRORS it is only counted.
 */
export const acpiError = (problem: Problem, sig: number, addr: number, field: Field) => {
  total++;
  if (kept >= MAX_ERRORS) return;
  const r = kept * ERROR_STRIDE;
  kept++;
  const hi = Math.floor(addr / TWO32);
  const lo = addr - hi * TWO32;
  errorRecords[r] = sig;
  errorRecords[r + 1] = lo;
  errorRecords[r + 2] = hi;
  errorRecords[r + 3] = field;
  errorRecords[r + 4] = problem;
  log(Level.Warn, Category.Acpi, errorKey(problem), signatureArg(sig), hi, lo, fieldName(field));
};
