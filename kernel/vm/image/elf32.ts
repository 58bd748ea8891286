// Guest images, part 1: the ELF32 executable reader (System V ABI, ELF gABI "Object Files",
// Intel386 supplement) and the table of load segments every image kind fills
// (multiboot.ts, flat.ts). Pure logic over a byte buffer: nothing here touches guest RAM.
//
// The caller passes `file` (a Uint8Array holding the first bytes of the image, possibly
// all of it) and `length` (the size of the whole file). Headers must lie in the bytes the
// buffer holds; segment contents only need to lie inside the file, since the caller copies
// them itself from the file offsets of the segment table.
import { le16, le32 } from '../../lib/bytes';

/** Why an image was refused (0 = accepted). The console prints one message key per code. */
export const enum ImageError {
  Ok = 0,
  /** No Multiboot header magic 0x1BADB002 in the first 8192 bytes (Multiboot 0.6.96 3.1.1). */
  NotMultiboot = -1,
  /** Header magic found, but magic + flags + checksum is not 0 mod 2^32 for any of them. */
  BadChecksum = -2,
  /** The header asks for something Zerovisor cannot give (flags bits 2-15: video mode, unknown). */
  UnsupportedFlags = -3,
  /** Not an ELF32 little-endian file (e_ident magic, EI_CLASS, EI_DATA, EI_VERSION) or shorter than its header. */
  NotElf32 = -4,
  /** ELF32, but not an executable for x86 (e_type ET_EXEC, e_machine EM_386, e_version 1). */
  NotX86Executable = -5,
  /** e_phentsize is not 32 or e_phnum is PN_XNUM (0xFFFF). */
  BadProgramHeaders = -6,
  /** A header (ELF program headers, Multiboot address fields) runs past the end of the file. */
  Truncated = -7,
  /** A header lies in the file but past the bytes the caller's buffer holds: pass more. */
  HeadersOutsideBuffer = -8,
  /** A PT_LOAD segment with p_filesz > p_memsz. */
  BadSegment = -9,
  /** A segment's file bytes [p_offset, p_offset + p_filesz) are not inside the file. */
  SegmentOutsideFile = -10,
  /** A segment's guest memory is below LOAD_MIN, past the VM's RAM or past 4 GiB. */
  SegmentOutsideRam = -11,
  /** Two segments share guest memory. */
  SegmentsOverlap = -12,
  /** More than MAX_SEGMENTS loadable segments. */
  TooManySegments = -13,
  /** Nothing to load (no PT_LOAD with p_memsz > 0, empty flat image, zero-size a.out kludge). */
  NoSegments = -14,
  /** The entry point is not inside the file bytes of a loaded segment. */
  EntryOutside = -15,
  /** Multiboot address fields (flags bit 16) that contradict each other (Multiboot 0.6.96 3.1.3). */
  BadAddressFields = -16,
  /** multibootInfo: the caller's buffer is too small for the information structure. */
  InfoTooSmall = -17,
  /** multibootInfo: the structure would not lie in the VM's low memory [0, 640 KiB). */
  InfoOutsideRam = -18,
}

/** Loadable segments kept per image. */
export const MAX_SEGMENTS = 16;
/** Lowest guest physical address a multiboot segment may use: below 1 MiB is the loader's
 *  (information structure, command line, memory map) and the legacy hole 640 KiB-1 MiB. */
export const LOAD_MIN = 0x100000;
/** Segments must end at or below 4 GiB (32-bit physical addresses). */
export const LOAD_LIMIT = 4294967296;

// ELF32 header fields (gABI "ELF Header"): offsets into the file.
const EHDR_SIZE = 52;
const E_TYPE = 16;
const E_MACHINE = 18;
const E_VERSION = 20;
const E_ENTRY = 24;
const E_PHOFF = 28;
const E_PHENTSIZE = 42;
const E_PHNUM = 44;
const ET_EXEC = 2;
const EM_386 = 3;
const PN_XNUM = 0xffff;
// Program header (gABI "Program Header"): Elf32_Phdr, 32 bytes.
const PHDR_SIZE = 32;
const P_TYPE = 0;
const P_OFFSET = 4;
const P_VADDR = 8;
const P_PADDR = 12;
const P_FILESZ = 16;
const P_MEMSZ = 20;
const PT_LOAD = 1;

// The segment table: guest physical address, file offset, file size, memory size (u32 each).
const segAddr = new Uint32Array(MAX_SEGMENTS);
const segOffset = new Uint32Array(MAX_SEGMENTS);
const segFile = new Uint32Array(MAX_SEGMENTS);
const segMem = new Uint32Array(MAX_SEGMENTS);
const segVaddr = new Uint32Array(MAX_SEGMENTS);
let segCount = 0;
let entry = 0;

/** Loadable segments of the last accepted image (0 after a refused one). */
export const segmentCount = () => segCount;
/** Guest physical address of segment i. */
export const segmentAddress = (i: number) => (i >= 0 && i < segCount ? segAddr[i] : 0);
/** File offset of segment i's bytes. */
export const segmentFileOffset = (i: number) => (i >= 0 && i < segCount ? segOffset[i] : 0);
/** Bytes of segment i copied from the file (the first ones). */
export const segmentFileSize = (i: number) => (i >= 0 && i < segCount ? segFile[i] : 0);
/** Bytes of guest memory segment i covers; those past the file size are zeroed. */
export const segmentMemorySize = (i: number) => (i >= 0 && i < segCount ? segMem[i] : 0);
/** Guest physical entry point of the last accepted image. */
export const imageEntry = () => entry;

/** Empties the segment table (done by every check before it starts). */
export const clearSegments = () => {
  segCount = 0;
  entry = 0;
};

/** Sets the entry point (guest physical). */
export const setEntry = (address: number) => {
  entry = address;
};

/**
 * Adds a segment after checking its guest memory range: [LOAD_MIN or `low`, RAM end) and
 * below 4 GiB, no overlap with the segments already added. Returns Ok or an ImageError.
 */
export const addSegment = (address: number, offset: number, fileSize: number, memSize: number, vaddr: number, low: number, ramBytes: number) => {
  const end = address + memSize;
  if (!(address >= low) || !(end <= ramBytes) || end > LOAD_LIMIT) return ImageError.SegmentOutsideRam;
  const n = segCount;
  if (n >= MAX_SEGMENTS) return ImageError.TooManySegments;
  for (let i = 0; i < n; i++) {
    const a = segAddr[i];
    if (address < a + segMem[i] && a < end) return ImageError.SegmentsOverlap;
  }
  segAddr[n] = address;
  segOffset[n] = offset;
  segFile[n] = fileSize;
  segMem[n] = memSize;
  segVaddr[n] = vaddr;
  segCount = n + 1;
  return ImageError.Ok;
};


/**
 * Reads an ELF32 executable: checks the header (gABI e_ident, e_type, e_machine), the
 * program header table, and every PT_LOAD segment with p_memsz > 0 (file range inside the
 * file, p_filesz <= p_memsz, p_paddr range in guest RAM at or above LOAD_MIN, no overlap),
 * then the entry point: e_entry must lie in [p_vaddr, p_vaddr + p_filesz) of a loaded
 * segment and becomes p_paddr + (e_entry - p_vaddr) (what GRUB does for kernels whose
 * virtual and physical addresses differ). Fills the segment table. `avail` is how many of
 * `file`'s bytes are valid (at most `length`).
 */
export const elf32Load = (file: Uint8Array, avail: number, length: number, ramBytes: number) => {
  clearSegments();
  const r = readElf(file, avail, length, ramBytes);
  if (r !== ImageError.Ok) clearSegments();
  return r;
};

const readElf = (file: Uint8Array, avail: number, length: number, ramBytes: number) => {
  if (length < EHDR_SIZE) return ImageError.NotElf32;
  if (avail < EHDR_SIZE) return ImageError.HeadersOutsideBuffer;
  // e_ident: ELFMAG, EI_CLASS = ELFCLASS32, EI_DATA = ELFDATA2LSB, EI_VERSION = EV_CURRENT
  if (file[0] !== 0x7f || file[1] !== 0x45 || file[2] !== 0x4c || file[3] !== 0x46) return ImageError.NotElf32;
  if (file[4] !== 1 || file[5] !== 1 || file[6] !== 1) return ImageError.NotElf32;
  if (le16(file, E_TYPE) !== ET_EXEC || le16(file, E_MACHINE) !== EM_386 || le32(file, E_VERSION) !== 1) return ImageError.NotX86Executable;
  const phnum = le16(file, E_PHNUM);
  if (le16(file, E_PHENTSIZE) !== PHDR_SIZE || phnum === PN_XNUM) return ImageError.BadProgramHeaders;
  const phoff = le32(file, E_PHOFF);
  const tableEnd = phoff + phnum * PHDR_SIZE;
  if (tableEnd > length) return ImageError.Truncated;
  if (tableEnd > avail) return ImageError.HeadersOutsideBuffer;
  for (let i = 0; i < phnum; i++) {
    const p = phoff + i * PHDR_SIZE;
    if (le32(file, p + P_TYPE) !== PT_LOAD) continue;
    const offset = le32(file, p + P_OFFSET);
    const fileSize = le32(file, p + P_FILESZ);
    const memSize = le32(file, p + P_MEMSZ);
    if (fileSize > memSize) return ImageError.BadSegment;
    if (memSize === 0) continue;
    if (offset + fileSize > length) return ImageError.SegmentOutsideFile;
    const r = addSegment(le32(file, p + P_PADDR), offset, fileSize, memSize, le32(file, p + P_VADDR), LOAD_MIN, ramBytes);
    if (r !== ImageError.Ok) return r;
  }
  if (segCount === 0) return ImageError.NoSegments;
  const e = le32(file, E_ENTRY);
  for (let i = 0; i < segCount; i++) {
    const v = segVaddr[i];
    if (e >= v && e < v + segFile[i]) {
      entry = segAddr[i] + (e - v);
      return ImageError.Ok;
    }
  }
  return ImageError.EntryOutside;
};
