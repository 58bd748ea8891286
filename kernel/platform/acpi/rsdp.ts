// The RSDP and the root table. RSDP, ACPI 6.5 section 5.2.5.3: Signature "RSD PTR " 0,
// Checksum 8 (over the first 20 bytes), OEMID 9, Revision 15, RsdtAddress 16, and from
// revision 2: Length 20, XsdtAddress 24, Extended Checksum 32 (over Length bytes).
// The root is the XSDT (section 5.2.8, 8-byte entries from offset 36) when the RSDP is
// revision 2+ with a valid extended part and a usable XSDT, else the RSDT (section 5.2.7,
// 4-byte entries). Root entries are copied out, so each table can be opened in turn.
import { dataAddress } from '../../host/memory';
import { Field, Problem, acpiError, oemArg } from './errors';
import { TWO32, openLength, openTable, rangeMapped, tableSum, u8, u16, u32 } from './reader';
import { words } from './store';
import { HEADER_LENGTH, SIG_RSDP, SIG_RSDT, SIG_XSDT, TableState, addTable, tableAddr, tableLength, tableSig, tableState } from './tables';

const RSDP_V1_LENGTH = 20;
const RSDP_V2_LENGTH = 36;
/** Longest RSDP Length accepted (it is 36 in every revision so far). */
const RSDP_MAX_LENGTH = 4096;

/** What the RSDP lookup found (the firmware answers with the ACPI 2.0 GUID, the 1.0 GUID, or none). */
export const enum RsdpState {
  None = 0, // not published
  Unusable = 1, // published, but failed a check
  Ok = 2,
}

/**
 * [0] RsdpState, [1] address lo, [2] address hi, [3] revision, [4] GUID (1 or 2),
 * [5] root table index + 1 (0 none), [6] root entry size, [7] [8] OEM ID bytes 0..3, 4..5.
 */
export const rsdpRecord = words(9);

export const MAX_ROOT_ENTRIES = 60;
/** Pointers listed in the root table. */
export const rootLo = words(MAX_ROOT_ENTRIES);
export const rootHi = words(MAX_ROOT_ENTRIES);
let rootEntries = 0;

// hv_efi_acpi_rsdp's result (lo, hi). A subarray view: dataAddress still gives its first
// element, as porffor keeps the data pointer (less 4) at header + 4, offset included.
const hostOut = words(2);
let hostOutAddr = -1;

export const rootEntryCount = () => rootEntries;

/** The RSDP's OEM ID as a message argument (a shared span: use it at once). */
export const rsdpOemArg = () => oemArg(rsdpRecord[7], rsdpRecord[8]);
export const rsdpState = () => rsdpRecord[0];

/** Index of the root table in the table list, or -1. */
export const rootTable = () => rsdpRecord[5] - 1;

/** Physical address of root entry k. */
export const rootEntryAddr = (k: number) => tableAddr(rootTable()) + HEADER_LENGTH + k * rsdpRecord[6];

const clear = () => {
  for (let i = 0; i < rsdpRecord.length; i++) rsdpRecord[i] = 0;
  rootEntries = 0;
};

/** Copies the open root table's entries (size 4 or 8 bytes) into rootLo/rootHi. */
const readRootEntries = (root: number, entrySize: number) => {
  const sig = tableSig(root);
  const addr = tableAddr(root);
  const length = openLength();
  const bytes = length - HEADER_LENGTH;
  if (bytes % entrySize !== 0) acpiError(Problem.Length, sig, addr + 4, Field.Length);
  let n = Math.floor(bytes / entrySize);
  if (n > MAX_ROOT_ENTRIES) {
    acpiError(Problem.Capacity, sig, addr + HEADER_LENGTH + MAX_ROOT_ENTRIES * entrySize, Field.Entry);
    n = MAX_ROOT_ENTRIES;
  }
  for (let k = 0; k < n; k++) {
    const off = HEADER_LENGTH + k * entrySize;
    rootLo[k] = u32(off);
    rootHi[k] = entrySize === 8 ? u32(off + 4) : 0;
  }
  rootEntries = n;
};

/** Tries the root table at (lo, hi) named by RSDP field `field`; returns its index or -1. */
const tryRoot = (lo: number, hi: number, rsdpAddr: number, fieldOffset: number, field: Field, want: number) => {
  const i = addTable(lo, hi, SIG_RSDP, rsdpAddr + fieldOffset, field, false);
  if (i < 0) return -1;
  if (tableSig(i) !== want) {
    acpiError(Problem.Signature, SIG_RSDP, rsdpAddr + fieldOffset, field);
    return -1;
  }
  return tableState(i) === TableState.Ok ? i : -1;
};

/**
 * Finds the RSDP through the EFI configuration table, checks it, and reads the root
 * table's entries. Returns the RsdpState.
 */
export const findRoot = () => {
  clear();
  if (hostOutAddr < 0) hostOutAddr = dataAddress(hostOut);
  hostOut[0] = 0;
  hostOut[1] = 0;
  const guid = hv_efi_acpi_rsdp(hostOutAddr);
  if (guid !== 1 && guid !== 2) return RsdpState.None;
  const lo = hostOut[0];
  const hi = hostOut[1];
  const addr = hi * TWO32 + lo;
  rsdpRecord[0] = RsdpState.Unusable;
  rsdpRecord[1] = lo;
  rsdpRecord[2] = hi;
  rsdpRecord[4] = guid;
  if ((lo === 0 && hi === 0) || hi >= 0x100000 || !rangeMapped(addr, RSDP_V1_LENGTH)) {
    acpiError(lo === 0 && hi === 0 ? Problem.Null : Problem.Unmapped, SIG_RSDP, addr, Field.VendorTable);
    return RsdpState.Unusable;
  }
  openTable(addr, RSDP_V1_LENGTH);
  if (u32(0) !== 0x20445352 || u32(4) !== 0x20525450) {
    acpiError(Problem.Signature, SIG_RSDP, addr, Field.Signature);
    return RsdpState.Unusable;
  }
  if (tableSum() !== 0) {
    acpiError(Problem.Checksum, SIG_RSDP, addr + 8, Field.Checksum);
    return RsdpState.Unusable;
  }
  const revision = u8(15);
  const rsdt = u32(16);
  rsdpRecord[0] = RsdpState.Ok;
  rsdpRecord[3] = revision;
  rsdpRecord[7] = u32(9);
  rsdpRecord[8] = u16(13);
  // The extended part (revision 2+): Length, XsdtAddress, Extended Checksum.
  let xsdtLo = 0;
  let xsdtHi = 0;
  if (revision >= 2) {
    if (!rangeMapped(addr, RSDP_V2_LENGTH)) {
      acpiError(Problem.Unmapped, SIG_RSDP, addr + 20, Field.Length);
    } else {
      openTable(addr, RSDP_V2_LENGTH);
      const length = u32(20);
      xsdtLo = u32(24);
      xsdtHi = u32(28);
      if (length < RSDP_V2_LENGTH || length > RSDP_MAX_LENGTH) {
        acpiError(Problem.Length, SIG_RSDP, addr + 20, Field.Length);
        xsdtLo = 0;
        xsdtHi = 0;
      } else if (!rangeMapped(addr, length)) {
        acpiError(Problem.Unmapped, SIG_RSDP, addr + 20, Field.Length);
        xsdtLo = 0;
        xsdtHi = 0;
      } else {
        openTable(addr, length);
        if (tableSum() !== 0) {
          acpiError(Problem.Checksum, SIG_RSDP, addr + 32, Field.ExtendedChecksum);
          xsdtLo = 0;
          xsdtHi = 0;
        }
      }
    }
  }
  let root = -1;
  let entrySize = 4;
  if (xsdtLo !== 0 || xsdtHi !== 0) {
    root = tryRoot(xsdtLo, xsdtHi, addr, 24, Field.XsdtAddress, SIG_XSDT);
    entrySize = 8;
  }
  if (root < 0) {
    root = tryRoot(rsdt, 0, addr, 16, Field.RsdtAddress, SIG_RSDT);
    entrySize = 4;
  }
  if (root < 0) return RsdpState.Ok;
  rsdpRecord[5] = root + 1;
  rsdpRecord[6] = entrySize;
  openTable(tableAddr(root), tableLength(root));
  readRootEntries(root, entrySize);
  return RsdpState.Ok;
};
