// IVRS (AMD I/O Virtualization Technology (IOMMU) Specification 3.08, section 5.2):
// IVinfo 36 (EFRSup bit 0, PASize bits 14:8, VASize bits 21:15), then I/O virtualization
// definition blocks from 48, each Type 0, Flags 1, Length 2 (2 bytes), DeviceID 4:
//   IVHD 10h (5.2.2.2): Capability Offset 6, IOMMU Base Address 8, PCI Segment Group 16,
//     IOMMU Info 18, IOMMU Feature Reporting 20, device entries from 24
//   IVHD 11h/40h: the same up to 18, IOMMU Attributes 20, EFR Register Image 24,
//     device entries from 40
//   IVMD 20h/21h/22h (5.2.2.3): Auxiliary Data 6, Start Address 16, Memory Block Length 24
// IVHD device entries (5.2.2.2, Table 95): types 00h-3Fh are 4 bytes, 40h-7Fh 8 bytes,
// F0h (ACPI HID device) 22 + UID Length (byte 21); each has DeviceID 1 and DTE Setting 3.
// 42h/43h alias: source DeviceID 5; 46h/47h extended: Extended DTE Setting 4 (u32);
// 48h special device: Handle 4, Used ID 5, Variety 7 (1 IOAPIC, 2 HPET).
// A block or entry that is too short or overruns ends its walk; what came before is kept.
import { IommuKind, MAX_IOMMU_UNITS, facts } from '../facts';
import { Field, Problem, acpiError } from './errors';
import { u8, u16, u32 } from './reader';
import { SIG_IVRS, tableAddr, tableLength } from './tables';
import { words } from './store';

const IVRS_BLOCKS_OFFSET = 48;

export const IVHD_10 = 0x10;
export const IVHD_11 = 0x11;
export const IVHD_40 = 0x40;
export const IVMD_ALL = 0x20;
export const IVMD_SELECT = 0x21;
export const IVMD_RANGE = 0x22;
export const DEV_ACPI_HID = 0xf0;

export const MAX_IVRS_BLOCKS = 32;
export const BLOCK_STRIDE = 13;
/**
 * Per block: type, flags, DeviceID, then
 *   IVHD: Capability Offset, base lo, base hi, segment, IOMMU Info, Feature Reporting (10h)
 *         or Attributes, EFR lo, EFR hi, first entry + count * 65536
 *   IVMD: Auxiliary Data, start lo, start hi, length lo, length hi
 *   other: Length
 * and [12] the block's offset in the table.
 */
export const ivrsBlocks = words(MAX_IVRS_BLOCKS * BLOCK_STRIDE);
export const MAX_DEVICE_ENTRIES = 256;
export const ENTRY_STRIDE = 4;
/**
 * Per device entry: type, DeviceID, DTE setting, extra: alias source DeviceID (42h/43h),
 * Extended DTE Setting (46h/47h), Handle + Variety * 256 + Used ID * 65536 (48h),
 * UID Length (F0h), else 0.
 */
export const ivrsEntries = words(MAX_DEVICE_ENTRIES * ENTRY_STRIDE);
/** [0] decoded, [1] IVinfo, [2] blocks, [3] device entries, [4] IVHD type the facts use. */
export const ivrsHeader = words(5);

export const clearIvrs = () => {
  for (let i = 0; i < ivrsHeader.length; i++) ivrsHeader[i] = 0;
};

export const isIvhd = (type: number) => type === IVHD_10 || type === IVHD_11 || type === IVHD_40;
const isIvmd = (type: number) => type === IVMD_ALL || type === IVMD_SELECT || type === IVMD_RANGE;

const minLength = (type: number) => (type === IVHD_10 ? 24 : isIvhd(type) ? 40 : isIvmd(type) ? 32 : 4);

/** Reads the device entries in [from, end) of the open table; returns how many were kept. */
const readEntries = (addr: number, from: number, end: number) => {
  let kept = 0;
  let e = from;
  while (e < end) {
    const type = u8(e);
    let len = 0;
    if (type < 0x80) len = type < 0x40 ? 4 : 8;
    else if (type === DEV_ACPI_HID) len = e + 22 <= end ? 22 + u8(e + 21) : 22;
    else {
      acpiError(Problem.Value, SIG_IVRS, addr + e, Field.DeviceEntryType);
      break;
    }
    if (e + len > end) {
      acpiError(Problem.Length, SIG_IVRS, addr + e, Field.DeviceEntryLength);
      break;
    }
    const n = ivrsHeader[3];
    if (n >= MAX_DEVICE_ENTRIES) {
      acpiError(Problem.Capacity, SIG_IVRS, addr + e, Field.DeviceEntry);
      break;
    }
    let extra = 0;
    if (type === 0x42 || type === 0x43) extra = u16(e + 5);
    else if (type === 0x46 || type === 0x47) extra = u32(e + 4);
    else if (type === 0x48) extra = (u8(e + 4) | (u8(e + 7) << 8) | (u16(e + 5) << 16)) >>> 0;
    else if (type === DEV_ACPI_HID) extra = u8(e + 21);
    const r = n * ENTRY_STRIDE;
    ivrsEntries[r] = type;
    ivrsEntries[r + 1] = u16(e + 1);
    ivrsEntries[r + 2] = u8(e + 3);
    ivrsEntries[r + 3] = extra;
    ivrsHeader[3] = n + 1;
    kept++;
    e += len;
  }
  return kept;
};

/** Decodes table i (open, checksum good) as the IVRS; adds the IOMMUs to the facts. */
export const decodeIvrs = (i: number) => {
  const addr = tableAddr(i);
  const length = tableLength(i);
  if (length < IVRS_BLOCKS_OFFSET) {
    acpiError(Problem.Length, SIG_IVRS, addr + 4, Field.Length);
    return;
  }
  ivrsHeader[0] = 1;
  ivrsHeader[1] = u32(36);
  let n = 0;
  let off = IVRS_BLOCKS_OFFSET;
  while (off < length) {
    const type = u8(off);
    const len = u16(off + 2);
    if (off + 4 > length || len < minLength(type) || off + len > length) {
      acpiError(Problem.Length, SIG_IVRS, addr + off, Field.IvdbLength);
      break;
    }
    if (n >= MAX_IVRS_BLOCKS) {
      acpiError(Problem.Capacity, SIG_IVRS, addr + off, Field.Ivdb);
      break;
    }
    const r = n * BLOCK_STRIDE;
    ivrsBlocks[r] = type;
    ivrsBlocks[r + 1] = u8(off + 1);
    ivrsBlocks[r + 2] = u16(off + 4);
    for (let k = 3; k < BLOCK_STRIDE; k++) ivrsBlocks[r + k] = 0;
    ivrsBlocks[r + 12] = off;
    if (isIvhd(type)) {
      ivrsBlocks[r + 3] = u16(off + 6);
      ivrsBlocks[r + 4] = u32(off + 8);
      ivrsBlocks[r + 5] = u32(off + 12);
      ivrsBlocks[r + 6] = u16(off + 16);
      ivrsBlocks[r + 7] = u16(off + 18);
      ivrsBlocks[r + 8] = u32(off + 20);
      if (type !== IVHD_10) {
        ivrsBlocks[r + 9] = u32(off + 24);
        ivrsBlocks[r + 10] = u32(off + 28);
      }
      const first = ivrsHeader[3];
      const kept = readEntries(addr, off + (type === IVHD_10 ? 24 : 40), off + len);
      ivrsBlocks[r + 11] = first + kept * 65536;
    } else if (isIvmd(type)) {
      ivrsBlocks[r + 3] = u16(off + 6);
      ivrsBlocks[r + 4] = u32(off + 16);
      ivrsBlocks[r + 5] = u32(off + 20);
      ivrsBlocks[r + 6] = u32(off + 24);
      ivrsBlocks[r + 7] = u32(off + 28);
    } else {
      ivrsBlocks[r + 3] = len;
    }
    n++;
    ivrsHeader[2] = n;
    off += len;
  }
  addUnits(addr);
};

/**
 * The facts take the IVHDs of the highest type present (an IOMMU is described once per
 * IVHD type the firmware supports; software uses the newest one it knows).
 */
const addUnits = (addr: number) => {
  const n = ivrsHeader[2];
  let highest = 0;
  for (let k = 0; k < n; k++) {
    const type = ivrsBlocks[k * BLOCK_STRIDE];
    if (isIvhd(type) && type > highest) highest = type;
  }
  ivrsHeader[4] = highest;
  for (let k = 0; k < n; k++) {
    const r = k * BLOCK_STRIDE;
    if (ivrsBlocks[r] !== highest || highest === 0) continue;
    const u = facts.iommuCount;
    if (u >= MAX_IOMMU_UNITS) {
      acpiError(Problem.Capacity, SIG_IVRS, addr + ivrsBlocks[r + 12], Field.Ivhd);
      break;
    }
    facts.iommuKind[u] = IommuKind.AmdViIvhd;
    facts.iommuBaseLo[u] = ivrsBlocks[r + 4];
    facts.iommuBaseHi[u] = ivrsBlocks[r + 5];
    facts.iommuSegment[u] = ivrsBlocks[r + 6];
    facts.iommuDevices[u] = ivrsBlocks[r + 11] >>> 16;
    facts.iommuCount = u + 1;
  }
};

/** First device entry and number of entries of IVHD block k. */
export const blockEntries = (k: number) => ivrsBlocks[k * BLOCK_STRIDE + 11] & 0xffff;
export const blockEntryCount = (k: number) => ivrsBlocks[k * BLOCK_STRIDE + 11] >>> 16;
