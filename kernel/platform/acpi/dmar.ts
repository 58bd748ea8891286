// DMAR (VT-d 3.4 chapter 8): Host Address Width 36 (width - 1), Flags 37 (INTR_REMAP
// bit 0, X2APIC_OPT_OUT bit 1, DMA_CTRL_PLATFORM_OPT_IN bit 2), Remapping Structures from
// 48, each Type 0 (2 bytes), Length 2 (2 bytes):
//   0 DRHD (8.3): Flags 4 (INCLUDE_PCI_ALL bit 0), Size 5, Segment 6, Register Base 8, scopes 16
//   1 RMRR (8.4): Segment 6, Base 8, Limit 16, scopes 24
//   2 ATSR (8.5): Flags 4 (ALL_PORTS bit 0), Segment 6, scopes 8
//   3 RHSA (8.6): Register Base 8, Proximity Domain 16
//   4 ANDD (8.7): ACPI Device Number 7
// Device Scope (8.3.1): Type 0, Length 1, Flags 2, Enumeration ID 4, Start Bus 5, then
// Length - 6 bytes of (Device, Function) path entries.
// A structure that is too short or overruns the table ends the walk; a device scope that
// does so ends its structure's scopes. What came before is kept.
import { IommuKind, MAX_IOMMU_UNITS, facts } from '../facts';
import { Field, Problem, acpiError } from './errors';
import { u8, u16, u32 } from './reader';
import { SIG_DMAR, tableAddr, tableLength } from './tables';
import { words } from './store';

const DMAR_STRUCTURES_OFFSET = 48;

export const DMAR_DRHD = 0;
export const DMAR_RMRR = 1;
export const DMAR_ATSR = 2;
export const DMAR_RHSA = 3;
export const DMAR_ANDD = 4;

export const MAX_DMAR_STRUCTURES = 32;
export const DMAR_STRIDE = 8;
/**
 * Per structure: type, flags, segment, a lo, a hi, b lo, b hi, first scope + count * 65536.
 *   DRHD: a = Register Base, b lo = Size      RMRR: a = Base, b = Limit
 *   ATSR: (flags, segment only)               RHSA: a = Register Base, b lo = Proximity Domain
 *   ANDD: a lo = ACPI Device Number           other: a lo = Length
 */
export const dmarStructures = words(MAX_DMAR_STRUCTURES * DMAR_STRIDE);
export const MAX_SCOPES = 64;
export const SCOPE_STRIDE = 6;
/** Per device scope: type, flags, Enumeration ID, Start Bus, first path byte, path entries. */
export const dmarScopes = words(MAX_SCOPES * SCOPE_STRIDE);
export const MAX_PATH_BYTES = 128;
/** Device scope paths: (device, function) byte pairs, a byte per word. */
export const dmarPath = words(MAX_PATH_BYTES);
/** [0] decoded, [1] Host Address Width, [2] Flags, [3] structures, [4] scopes, [5] path bytes. */
export const dmarHeader = words(6);

export const clearDmar = () => {
  for (let i = 0; i < dmarHeader.length; i++) dmarHeader[i] = 0;
};

const minLength = (type: number) => {
  switch (type) {
    case DMAR_DRHD:
      return 16;
    case DMAR_RMRR:
      return 24;
    case DMAR_ATSR:
      return 8;
    case DMAR_RHSA:
      return 20;
    case DMAR_ANDD:
      return 8;
  }
  return 4;
};

/** Offset of the device scopes in a structure of this type, or 0 when it has none. */
const scopesOffset = (type: number) => (type === DMAR_DRHD ? 16 : type === DMAR_RMRR ? 24 : type === DMAR_ATSR ? 8 : 0);

/** Reads the device scopes in [from, end) of the open table; returns how many were kept. */
const readScopes = (addr: number, from: number, end: number) => {
  let kept = 0;
  let s = from;
  while (s < end) {
    const len = u8(s + 1);
    if (s + 2 > end || len < 6 || (len & 1) !== 0 || s + len > end) {
      acpiError(Problem.Length, SIG_DMAR, addr + s, Field.DeviceScopeLength);
      break;
    }
    const scopes = dmarHeader[4];
    if (scopes >= MAX_SCOPES) {
      acpiError(Problem.Capacity, SIG_DMAR, addr + s, Field.DeviceScope);
      break;
    }
    const pathBytes = len - 6;
    const used = dmarHeader[5];
    if (used + pathBytes > MAX_PATH_BYTES) {
      acpiError(Problem.Capacity, SIG_DMAR, addr + s + 6, Field.DeviceScopePath);
      break;
    }
    const r = scopes * SCOPE_STRIDE;
    dmarScopes[r] = u8(s);
    dmarScopes[r + 1] = u8(s + 2);
    dmarScopes[r + 2] = u8(s + 4);
    dmarScopes[r + 3] = u8(s + 5);
    dmarScopes[r + 4] = used;
    dmarScopes[r + 5] = pathBytes / 2;
    for (let k = 0; k < pathBytes; k++) dmarPath[used + k] = u8(s + 6 + k);
    dmarHeader[4] = scopes + 1;
    dmarHeader[5] = used + pathBytes;
    kept++;
    s += len;
  }
  return kept;
};

/** Decodes table i (open, checksum good) as the DMAR; adds its DRHDs to the facts. */
export const decodeDmar = (i: number) => {
  const addr = tableAddr(i);
  const length = tableLength(i);
  if (length < DMAR_STRUCTURES_OFFSET) {
    acpiError(Problem.Length, SIG_DMAR, addr + 4, Field.Length);
    return;
  }
  dmarHeader[0] = 1;
  dmarHeader[1] = u8(36);
  dmarHeader[2] = u8(37);
  let n = 0;
  let off = DMAR_STRUCTURES_OFFSET;
  while (off < length) {
    const type = u16(off);
    const len = u16(off + 2);
    if (off + 4 > length || len < minLength(type) || off + len > length) {
      acpiError(Problem.Length, SIG_DMAR, addr + off, Field.RemappingStructureLength);
      break;
    }
    if (n >= MAX_DMAR_STRUCTURES) {
      acpiError(Problem.Capacity, SIG_DMAR, addr + off, Field.RemappingStructure);
      break;
    }
    const r = n * DMAR_STRIDE;
    dmarStructures[r] = type;
    for (let k = 1; k < DMAR_STRIDE; k++) dmarStructures[r + k] = 0;
    switch (type) {
      case DMAR_DRHD:
        dmarStructures[r + 1] = u8(off + 4);
        dmarStructures[r + 2] = u16(off + 6);
        dmarStructures[r + 3] = u32(off + 8);
        dmarStructures[r + 4] = u32(off + 12);
        dmarStructures[r + 5] = u8(off + 5);
        break;
      case DMAR_RMRR:
        dmarStructures[r + 2] = u16(off + 6);
        dmarStructures[r + 3] = u32(off + 8);
        dmarStructures[r + 4] = u32(off + 12);
        dmarStructures[r + 5] = u32(off + 16);
        dmarStructures[r + 6] = u32(off + 20);
        break;
      case DMAR_ATSR:
        dmarStructures[r + 1] = u8(off + 4);
        dmarStructures[r + 2] = u16(off + 6);
        break;
      case DMAR_RHSA:
        dmarStructures[r + 3] = u32(off + 8);
        dmarStructures[r + 4] = u32(off + 12);
        dmarStructures[r + 5] = u32(off + 16);
        break;
      case DMAR_ANDD:
        dmarStructures[r + 3] = u8(off + 7);
        break;
      default:
        dmarStructures[r + 3] = len;
    }
    const first = dmarHeader[4];
    const scopes = scopesOffset(type);
    const kept = scopes > 0 ? readScopes(addr, off + scopes, off + len) : 0;
    dmarStructures[r + 7] = first + kept * 65536;
    n++;
    dmarHeader[3] = n;
    if (type === DMAR_DRHD) {
      const u = facts.iommuCount;
      if (u >= MAX_IOMMU_UNITS) {
        acpiError(Problem.Capacity, SIG_DMAR, addr + off, Field.Drhd);
      } else {
        facts.iommuKind[u] = IommuKind.VtdDrhd;
        facts.iommuBaseLo[u] = dmarStructures[r + 3];
        facts.iommuBaseHi[u] = dmarStructures[r + 4];
        facts.iommuSegment[u] = dmarStructures[r + 2];
        facts.iommuDevices[u] = kept;
        facts.iommuCount = u + 1;
      }
    }
    off += len;
  }
};

/** First scope and number of scopes of structure k. */
export const structureScopes = (k: number) => dmarStructures[k * DMAR_STRIDE + 7] & 0xffff;
export const structureScopeCount = (k: number) => dmarStructures[k * DMAR_STRIDE + 7] >>> 16;
