// `mem`: the UEFI memory map summarized by memory type.
// Records from hv_efi_memory_map: 24 bytes = 6 u32 (type, pagesLo, pagesHi, physLo,
// physHi, attrHi), from EFI_MEMORY_DESCRIPTOR (UEFI 2.10 section 7.2, GetMemoryMap()).
// Pages are 4 KiB (EFI_PAGE_SIZE); 64-bit values are summed as doubles (exact below 2^53).
import type { MsgKey } from '../i18n/dictionary';
import { text } from '../i18n/messages';
import { dataAddress } from '../host/memory';
import { KernelError } from '../diag/kernel-error';
import { say, sayError } from './output';
import { Status } from './status';

const MAX_DESCRIPTORS = 512;
const RECORD_WORDS = 6;
const RECORD_BYTES = 24;
const map = new Uint32Array(MAX_DESCRIPTORS * RECORD_WORDS);
let mapAddr = -1;

/** EFI_MEMORY_TYPE names, UEFI 2.10 Table 7.10 (values 0..15); other values are OEM/OS types. */
const TYPE_NAMES = [
  'EfiReservedMemoryType',
  'EfiLoaderCode',
  'EfiLoaderData',
  'EfiBootServicesCode',
  'EfiBootServicesData',
  'EfiRuntimeServicesCode',
  'EfiRuntimeServicesData',
  'EfiConventionalMemory',
  'EfiUnusableMemory',
  'EfiACPIReclaimMemory',
  'EfiACPIMemoryNVS',
  'EfiMemoryMappedIO',
  'EfiMemoryMappedIOPortSpace',
  'EfiPalCode',
  'EfiPersistentMemory',
  'EfiUnacceptedMemoryType',
];
const TYPE_DESCRIPTIONS: MsgKey[] = [
  'mem.type.0',
  'mem.type.1',
  'mem.type.2',
  'mem.type.3',
  'mem.type.4',
  'mem.type.5',
  'mem.type.6',
  'mem.type.7',
  'mem.type.8',
  'mem.type.9',
  'mem.type.10',
  'mem.type.11',
  'mem.type.12',
  'mem.type.13',
  'mem.type.14',
  'mem.type.15',
];
const RESERVED = 0;
const CONVENTIONAL = 7;
const MMIO = 11;
const MMIO_PORT_SPACE = 12;
const KNOWN_TYPES = 16;
const OTHER = KNOWN_TYPES; // row for every other type value

const pagesByType = new Float64Array(KNOWN_TYPES + 1);
const seenType = new Uint8Array(KNOWN_TYPES + 1);

const PAGES_PER_MIB = 256; // 1 MiB / 4 KiB

export const cmdMem = () => {
  if (mapAddr < 0) mapAddr = dataAddress(map);
  const result = hv_efi_memory_map(mapAddr, MAX_DESCRIPTORS * RECORD_BYTES);
  if (result < 0) {
    sayError('mem.tooLarge', Math.ceil(-result / RECORD_BYTES), MAX_DESCRIPTORS);
    return Status.Failed;
  }
  if (result === 0) {
    sayError('mem.empty');
    return Status.Failed;
  }
  if (!(result <= MAX_DESCRIPTORS) || Math.floor(result) !== result) throw new KernelError('mem.inconsistent');
  const count = result;
  for (let t = 0; t <= KNOWN_TYPES; t++) {
    pagesByType[t] = 0;
    seenType[t] = 0;
  }
  let total = 0;
  let largest = 0;
  let largestLo = 0;
  let largestHi = 0;
  for (let i = 0; i < count; i++) {
    const r = i * RECORD_WORDS;
    const type = map[r];
    const pages = map[r + 2] * 4294967296 + map[r + 1];
    const row = type < KNOWN_TYPES ? type : OTHER;
    pagesByType[row] += pages;
    seenType[row] = 1;
    if (type !== RESERVED && type !== MMIO && type !== MMIO_PORT_SPACE) total += pages; // memory the OS gets
    if (type === CONVENTIONAL && pages > largest) {
      largest = pages;
      largestLo = map[r + 3];
      largestHi = map[r + 4];
    }
  }
  say('mem.header', count);
  say('mem.row', text('mem.col.type'), text('mem.col.pages'), text('mem.col.mib'), text('mem.col.desc'));
  for (let t = 0; t < KNOWN_TYPES; t++) {
    if (seenType[t] !== 0) say('mem.row', TYPE_NAMES[t], pagesByType[t], pagesByType[t] / PAGES_PER_MIB, text(TYPE_DESCRIPTIONS[t]));
  }
  if (seenType[OTHER] !== 0) {
    say('mem.row', text('mem.type.otherName'), pagesByType[OTHER], pagesByType[OTHER] / PAGES_PER_MIB, text('mem.type.other'));
  }
  say('mem.total', text('mem.totalLabel'), total, total / PAGES_PER_MIB);
  if (largest > 0) say('mem.largestFree', largest / PAGES_PER_MIB, largest, largestHi, largestLo);
  else say('mem.noFree');
  return Status.Ok;
};
