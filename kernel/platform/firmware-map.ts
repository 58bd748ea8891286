// The UEFI memory map as the firmware reports it now (GetMemoryMap, UEFI 2.10 section
// 7.2), read into preallocated arrays: 24-byte records from hv_efi_memory_map
// (type, pagesLo, pagesHi, physLo, physHi, attrHi). Start and page counts are kept as
// doubles (exact below 2^53).
import { dataAddress } from '../host/memory';

export const MAX_DESCRIPTORS = 512;
const RECORD_WORDS = 6;
export const RECORD_BYTES = 24;
const raw = new Uint32Array(MAX_DESCRIPTORS * RECORD_WORDS);
let rawAddr = -1;

/** Per descriptor: EFI_MEMORY_TYPE, physical start (bytes), number of 4 KiB pages, attribute bits 32..63. */
export const mapType = new Uint32Array(MAX_DESCRIPTORS);
export const mapStart = new Float64Array(MAX_DESCRIPTORS);
export const mapPages = new Float64Array(MAX_DESCRIPTORS);
export const mapAttrHi = new Uint32Array(MAX_DESCRIPTORS);
let count = 0;

export const EFI_CONVENTIONAL_MEMORY = 7;
export const EFI_MEMORY_MAPPED_IO = 11;
export const EFI_MEMORY_MAPPED_IO_PORT_SPACE = 12;

/**
 * Reads the map. Returns the descriptor count (>= 0), or -(bytes needed) when it has more
 * than MAX_DESCRIPTORS; a count that makes no sense gives 0.
 */
export const readFirmwareMap = () => {
  if (rawAddr < 0) rawAddr = dataAddress(raw);
  const result = hv_efi_memory_map(rawAddr, MAX_DESCRIPTORS * RECORD_BYTES);
  if (result < 0) {
    count = 0;
    return result;
  }
  count = result <= MAX_DESCRIPTORS && Math.floor(result) === result ? result : 0;
  for (let i = 0; i < count; i++) {
    const r = i * RECORD_WORDS;
    mapType[i] = raw[r];
    mapPages[i] = raw[r + 2] * 4294967296 + raw[r + 1];
    mapStart[i] = raw[r + 4] * 4294967296 + raw[r + 3];
    mapAttrHi[i] = raw[r + 5];
  }
  return count;
};

/** Descriptors read by the last readFirmwareMap(). */
export const firmwareMapCount = () => count;

/**
 * The type of the descriptor that holds all of [start, start + length) (bytes, doubles),
 * or -1 when no single descriptor does. Uses the last map read.
 */
export const memoryTypeOfRange = (start: number, length: number) => {
  for (let i = 0; i < count; i++) {
    const s = mapStart[i];
    if (start >= s && start + length <= s + mapPages[i] * 4096) return mapType[i];
  }
  return -1;
};

/** Whether [start, start + length) is RAM or firmware-owned memory the map lists (not MMIO). */
export const isMappedMemory = (start: number, length: number) => {
  const t = memoryTypeOfRange(start, length);
  return t >= 0 && t !== EFI_MEMORY_MAPPED_IO && t !== EFI_MEMORY_MAPPED_IO_PORT_SPACE;
};
