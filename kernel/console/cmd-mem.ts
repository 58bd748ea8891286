// `mem`: the UEFI memory map summarized by memory type, and the page allocator's state;
// `mem alloc <pages> [4k|2m|1g]` and `mem free <address>` exercise the allocator.
// Records from hv_efi_memory_map: 24 bytes = 6 u32 (type, pagesLo, pagesHi, physLo,
// physHi, attrHi), from EFI_MEMORY_DESCRIPTOR (UEFI 2.10 section 7.2, GetMemoryMap()).
// Pages are 4 KiB (EFI_PAGE_SIZE); 64-bit values are summed as doubles (exact below 2^53).
import type { MsgKey } from '../i18n/dictionary';
import { text } from '../i18n/messages';
import { dataAddress } from '../host/memory';
import { KernelError } from '../diag/kernel-error';
import { say, sayError } from './output';
import { Status } from './status';
import { decimalArgument, hexArgument, unexpectedArgument } from './args';
import { Command, COMMAND_NAMES, COMMAND_USAGE } from './command-table';
import { spanIs, token, tokenCount } from './tokens';
import {
  allocatePages, AllocError, allocationCount, failureCount, freeCount, freePages, liveBlocks, numaNodes,
  PAGES_1G, PAGES_2M, pagesFromFirmware, pagesInUse, reuseCount, sparePagesKept, zeroedPages,
  hostAddressHi, hostAddressLo, allocatedPagesAt,
} from '../memory/page-allocator';

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

const MAX_ALLOC_PAGES = 4 * PAGES_1G; // 16 GiB in one request
const ALIGN_WORDS = ['4k', '2m', '1g'];
const ALIGN_PAGES = [1, PAGES_2M, PAGES_1G];

const showAllocator = () => {
  say('alloc.header', liveBlocks(), pagesInUse(), pagesInUse() / PAGES_PER_MIB, sparePagesKept());
  say('alloc.firmware', pagesFromFirmware(), allocationCount(), freeCount(), reuseCount());
  say('alloc.zeroed', zeroedPages(), failureCount(), numaNodes());
};

const memAlloc = () => {
  const n = tokenCount();
  if (n > 4) return unexpectedArgument(Command.Mem, 4);
  const pages = decimalArgument(2, MAX_ALLOC_PAGES);
  if (n < 3) {
    sayError('console.missingArg', COMMAND_NAMES[Command.Mem], text(COMMAND_USAGE[Command.Mem]));
    return Status.Failed;
  }
  if (pages <= 0) {
    sayError('alloc.badCount', token(2), MAX_ALLOC_PAGES);
    return Status.Failed;
  }
  let align = 0;
  if (n === 4) {
    align = -1;
    for (let i = 0; i < ALIGN_WORDS.length; i++) if (spanIs(token(3), ALIGN_WORDS[i])) align = i;
    if (align < 0) {
      sayError('alloc.badAlign', token(3));
      return Status.Failed;
    }
  }
  const at = allocatePages(pages, ALIGN_PAGES[align], 0);
  if (at === AllocError.BadRequest) sayError('alloc.tooMany');
  else if (at === AllocError.NoMemory) sayError('alloc.noMemory', pages, ALIGN_WORDS[align]);
  else if (at === AllocError.Firmware) sayError('alloc.firmwareRefused', pages);
  if (at < 0) return Status.Failed;
  say('alloc.done', pages, pages / PAGES_PER_MIB, hostAddressHi(at), hostAddressLo(at));
  return Status.Ok;
};

const memFree = () => {
  const n = tokenCount();
  if (n > 3) return unexpectedArgument(Command.Mem, 3);
  const at = hexArgument(2);
  if (at < 0) {
    if (n < 3) sayError('console.missingArg', COMMAND_NAMES[Command.Mem], text(COMMAND_USAGE[Command.Mem]));
    else sayError('alloc.badAddress', token(2));
    return Status.Failed;
  }
  const pages = allocatedPagesAt(at);
  if (freePages(at) !== 0) {
    sayError('alloc.notAllocated', hostAddressHi(at), hostAddressLo(at));
    return Status.Failed;
  }
  say('alloc.freed', pages, hostAddressHi(at), hostAddressLo(at));
  return Status.Ok;
};

export const cmdMem = () => {
  if (tokenCount() > 1) {
    if (spanIs(token(1), 'alloc')) return memAlloc();
    if (spanIs(token(1), 'free')) return memFree();
    sayError('alloc.unknownSub', token(1), text(COMMAND_USAGE[Command.Mem]));
    return Status.Failed;
  }
  return memMap();
};

const memMap = () => {
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
  showAllocator();
  return Status.Ok;
};
