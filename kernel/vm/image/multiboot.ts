// Guest images, part 2: Multiboot (version 1, specification 0.6.96) kernels. Finds and
// checks the Multiboot header, loads through the ELF32 program headers (elf32.ts) or the
// header's address fields (flags bit 16), builds the Multiboot information structure, and
// names the register values the boot loader hands over (section 3.2). Pure logic: the
// caller copies the segments (elf32.ts segment table) and the structure into guest RAM.
import { putUtf8, REPLACEMENT_CHAR } from '../../i18n/utf8';
import { ImageError, LOAD_MIN, addSegment, clearSegments, elf32Load, imageEntry, segmentCount, setEntry } from './elf32';
import { le32, putLe32 } from '../../lib/bytes';

/** Multiboot header magic (3.1.2). */
export const MULTIBOOT_HEADER_MAGIC = 0x1badb002;
/** The header lies 32-bit aligned in the first 8192 bytes of the image (3.1.1). */
export const MULTIBOOT_SEARCH = 8192;
/** EAX at the kernel's entry (3.2). */
export const MULTIBOOT_BOOTLOADER_MAGIC = 0x2badb002;

// Header flags (3.1.2): bits 0-15 are requirements the loader must meet or refuse the image.
// Bit 0 (modules page-aligned: there are no modules) and bit 1 (mem_* fields) are always met.
const REQUIRED_UNSUPPORTED = 0xfffc; // bit 2 (video mode table) and the undefined bits 3-15
const FLAG_ADDRESS_FIELDS = 0x10000; // bit 16: header_addr .. entry_addr are valid (the "a.out kludge")

let headerOffset = -1;
let headerFlags = 0;

/** File offset of the accepted Multiboot header (-1 when none). */
export const multibootHeaderOffset = () => headerOffset;
/** The header's flags word. */
export const multibootHeaderFlags = () => headerFlags;

/**
 * Checks a Multiboot v1 image: `file` holds at least the image's first
 * min(length, 8192) bytes (and its ELF program headers), `length` is the whole file's
 * size, `ramBytes` the VM's RAM. On success (0) the segment table (elf32.ts
 * segmentCount/segmentAddress/...) says what to copy where and imageEntry() is the
 * physical entry point; otherwise an ImageError (negative) and an empty table.
 * Every segment lies in [LOAD_MIN = 1 MiB, RAM end) below 4 GiB: the memory below 1 MiB
 * is the loader's (multibootInfo) and the legacy hole.
 */
export const multibootCheck = (file: Uint8Array, length: number, ramBytes: number) => {
  clearSegments();
  headerOffset = -1;
  headerFlags = 0;
  const r = checkImage(file, length, ramBytes);
  if (r !== ImageError.Ok) clearSegments();
  return r;
};

const checkImage = (file: Uint8Array, length: number, ramBytes: number) => {
  let avail = file.length;
  if (avail > length) avail = length;
  let limit = length;
  if (limit > MULTIBOOT_SEARCH) limit = MULTIBOOT_SEARCH;
  if (limit > avail) return ImageError.HeadersOutsideBuffer;
  // 3.1.1/3.1.2: the first aligned magic whose checksum makes magic + flags + checksum = 0.
  let sawMagic = false;
  let at = -1;
  for (let o = 0; o + 12 <= limit; o += 4) {
    if (le32(file, o) !== MULTIBOOT_HEADER_MAGIC) continue;
    sawMagic = true;
    if ((MULTIBOOT_HEADER_MAGIC + le32(file, o + 4) + le32(file, o + 8)) % 4294967296 === 0) {
      at = o;
      break;
    }
  }
  if (at < 0) return sawMagic ? ImageError.BadChecksum : ImageError.NotMultiboot;
  const flags = le32(file, at + 4);
  headerOffset = at;
  headerFlags = flags;
  if ((flags & REQUIRED_UNSUPPORTED) !== 0) return ImageError.UnsupportedFlags;
  if ((flags & FLAG_ADDRESS_FIELDS) === 0) return elf32Load(file, avail, length, ramBytes);
  if (at + 32 > limit) return ImageError.Truncated;
  return addressFields(file, at, length, ramBytes);
};

/**
 * Flags bit 16 (3.1.3): header_addr (+12), load_addr (+16), load_end_addr (+20),
 * bss_end_addr (+24), entry_addr (+28). Loading starts at file offset
 * header offset - (header_addr - load_addr); load_end_addr 0 means to the end of the file;
 * bss_end_addr 0 means no bss. One segment.
 */
const addressFields = (file: Uint8Array, at: number, length: number, ramBytes: number) => {
  const headerAddr = le32(file, at + 12);
  const loadAddr = le32(file, at + 16);
  const loadEnd = le32(file, at + 20);
  const bssEnd = le32(file, at + 24);
  const entryAddr = le32(file, at + 28);
  if (loadAddr > headerAddr) return ImageError.BadAddressFields;
  const offset = at - (headerAddr - loadAddr);
  if (offset < 0) return ImageError.BadAddressFields;
  if (loadEnd !== 0 && loadEnd < loadAddr) return ImageError.BadAddressFields;
  if (offset > length) return ImageError.SegmentOutsideFile;
  const loadSize = loadEnd === 0 ? length - offset : loadEnd - loadAddr;
  if (offset + loadSize > length) return ImageError.SegmentOutsideFile;
  if (bssEnd !== 0 && bssEnd < loadAddr + loadSize) return ImageError.BadAddressFields;
  const memSize = bssEnd === 0 ? loadSize : bssEnd - loadAddr;
  if (memSize === 0) return ImageError.NoSegments;
  const r = addSegment(loadAddr, offset, loadSize, memSize, loadAddr, LOAD_MIN, ramBytes);
  if (r !== ImageError.Ok) return r;
  if (entryAddr < loadAddr || entryAddr >= loadAddr + loadSize) return ImageError.EntryOutside;
  setEntry(entryAddr);
  return ImageError.Ok;
};

// ---- the Multiboot information structure (3.3) ----

/** Bytes of the fixed part (up to and including the framebuffer fields, offset 115). */
export const INFO_FIXED = 116;
/** One memory map entry: size (u32, = 20, not counting itself), base_addr u64, length u64, type u32. */
export const MMAP_ENTRY = 24;
/** flags: mem_lower/mem_upper (bit 0), cmdline (bit 2), mmap_* (bit 6), boot_loader_name (bit 9). */
export const INFO_FLAGS = 0x245;
const INFO_MEM_LOWER = 4;
const INFO_MEM_UPPER = 8;
const INFO_CMDLINE = 16;
const INFO_MMAP_LENGTH = 44;
const INFO_MMAP_ADDR = 48;
const INFO_BOOT_LOADER_NAME = 64;
const MEMORY_AVAILABLE = 1;
const MEMORY_RESERVED = 2;
/** Conventional memory ends at 640 KiB; 640 KiB-1 MiB is reserved (VGA, ROMs: the legacy hole). */
export const LOW_MEMORY_END = 0xa0000;
const HIGH_MEMORY = 0x100000;
const TWO32 = 4294967296;
const LOADER_NAME = 'Zerovisor';
const LOADER_NAME_BYTES = 10; // with its NUL

/** A command-line code point as written: NUL, surrogates and values past U+10FFFF become U+FFFD. */
const cmdChar = (cp: number) => ((cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff || cp <= 0 ? REPLACEMENT_CHAR : cp);
const utf8Length = (cp: number) => (cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4);

/** One mmap entry at out[o] for [base, base + length) (values below 2^53). */
const putRange = (out: Uint8Array, o: number, base: number, length: number, type: number) => {
  putLe32(out, o, 20);
  const baseHi = Math.floor(base / TWO32);
  putLe32(out, o + 4, base - baseHi * TWO32);
  putLe32(out, o + 8, baseHi);
  const lengthHi = Math.floor(length / TWO32);
  putLe32(out, o + 12, length - lengthHi * TWO32);
  putLe32(out, o + 16, lengthHi);
  putLe32(out, o + 20, type);
};

/** Memory map entries for a VM with this much RAM: [0, 640 KiB), the hole, [1 MiB, end). */
const mmapEntries = (ramBytes: number) => (ramBytes > HIGH_MEMORY ? 3 : 2);

/**
 * Builds the Multiboot information structure for a VM with `ramBytes` of RAM into
 * out[0..), to be copied to guest physical `infoAddr`. Layout: the fixed part (116 bytes,
 * flags INFO_FLAGS, unused fields 0), the memory map (available [0, min(RAM, 640 KiB)),
 * reserved [640 KiB, 1 MiB), available [1 MiB, RAM end) when RAM is larger), the boot loader
 * name "Zerovisor", the command line (cmd[cmdStart .. cmdStart + cmdLength) as UTF-8, see
 * cmdChar), each NUL-terminated. Every pointer inside is a guest physical address.
 * mem_lower/mem_upper are in KiB (3.3). The structure must lie in [4 KiB, min(RAM, 640 KiB))
 * (so never under a segment, which lies above 1 MiB). Returns the bytes used (EBX =
 * infoAddr) or InfoTooSmall/InfoOutsideRam (negative).
 */
export const multibootInfo = (
  out: Uint8Array,
  capacity: number,
  infoAddr: number,
  ramBytes: number,
  cmd: Uint32Array,
  cmdStart: number,
  cmdLength: number,
) => {
  let cap = out.length;
  if (cap > capacity) cap = capacity;
  let first = cmdStart;
  let last = cmdStart + cmdLength;
  if (first < 0) first = 0;
  if (last > cmd.length) last = cmd.length;
  let cmdBytes = 0;
  for (let i = first; i < last; i++) cmdBytes += utf8Length(cmdChar(cmd[i]));
  const entries = mmapEntries(ramBytes);
  const nameAt = INFO_FIXED + entries * MMAP_ENTRY;
  const cmdAt = nameAt + LOADER_NAME_BYTES;
  const total = cmdAt + cmdBytes + 1;
  if (total > cap) return ImageError.InfoTooSmall;
  let lowEnd = ramBytes;
  if (lowEnd > LOW_MEMORY_END) lowEnd = LOW_MEMORY_END;
  if (!(infoAddr >= 0x1000) || !(infoAddr + total <= lowEnd)) return ImageError.InfoOutsideRam;
  for (let i = 0; i < total; i++) out[i] = 0;
  putLe32(out, 0, INFO_FLAGS);
  putLe32(out, INFO_MEM_LOWER, Math.floor(lowEnd / 1024));
  let upper = ramBytes > HIGH_MEMORY ? Math.floor((ramBytes - HIGH_MEMORY) / 1024) : 0;
  if (upper > 0xffffffff) upper = 0xffffffff;
  putLe32(out, INFO_MEM_UPPER, upper);
  putLe32(out, INFO_CMDLINE, infoAddr + cmdAt);
  putLe32(out, INFO_MMAP_LENGTH, entries * MMAP_ENTRY);
  putLe32(out, INFO_MMAP_ADDR, infoAddr + INFO_FIXED);
  putLe32(out, INFO_BOOT_LOADER_NAME, infoAddr + nameAt);
  putRange(out, INFO_FIXED, 0, lowEnd, MEMORY_AVAILABLE);
  putRange(out, INFO_FIXED + MMAP_ENTRY, LOW_MEMORY_END, HIGH_MEMORY - LOW_MEMORY_END, MEMORY_RESERVED);
  if (entries === 3) putRange(out, INFO_FIXED + 2 * MMAP_ENTRY, HIGH_MEMORY, ramBytes - HIGH_MEMORY, MEMORY_AVAILABLE);
  for (let i = 0; i < LOADER_NAME_BYTES - 1; i++) out[nameAt + i] = LOADER_NAME.charCodeAt(i);
  let pos = cmdAt;
  for (let i = first; i < last; i++) pos = putUtf8(out, pos, cmdChar(cmd[i]));
  return total;
};

// ---- the machine state at the kernel's entry (3.2) ----
// EAX = MULTIBOOT_BOOTLOADER_MAGIC, EBX = the information structure's guest physical address,
// EIP = imageEntry(); CS a 32-bit execute/read segment and DS/ES/FS/GS/SS 32-bit read/write
// segments, base 0, limit 0xFFFFFFFF; CR0.PE = 1, CR0.PG = 0; EFLAGS.VM = 0, EFLAGS.IF = 0;
// A20 enabled; ESP, GDTR and IDTR undefined (the kernel sets up its own).

/** CR0 at entry: PE, plus ET (bit 4), which the CPU keeps set. */
export const BOOT_CR0 = 0x11;
/** EFLAGS at entry: only the reserved bit 1. */
export const BOOT_EFLAGS = 0x2;
/** Segment attributes in the VMCB format (AMD APM vol. 2, 15.5.1: type, S, DPL, P, AVL, L, D/B, G):
 *  code = type 0xB (execute/read, accessed), S, P, D, G. */
export const BOOT_CODE_ATTRIBUTES = 0xc9b;
/** Data/stack = type 0x3 (read/write, accessed), S, P, B, G. */
export const BOOT_DATA_ATTRIBUTES = 0xc93;
/** Selectors loaded at entry (any value works: GDTR is undefined until the kernel loads its own). */
export const BOOT_CODE_SELECTOR = 0x10;
export const BOOT_DATA_SELECTOR = 0x18;

/** EAX at entry. */
export const bootEax = () => MULTIBOOT_BOOTLOADER_MAGIC;
/** EBX at entry: the information structure's guest physical address. */
export const bootEbx = (infoAddr: number) => infoAddr;
/** EIP at entry: the accepted image's entry point. */
export const bootEip = () => imageEntry();
/** Whether the last check accepted an image (segments ready). */
export const imageReady = () => segmentCount() > 0;
