// Guest images, part 3: raw flat binaries: the file's bytes are copied as they are to one
// guest physical address and run from an entry address the operator gives. Fills the
// same segment table as the other kinds (elf32.ts), as one segment.
import { ImageError, addSegment, clearSegments, setEntry } from './elf32';

/** Lowest load address of a flat image: the first 4 KiB page stays unused. */
export const FLAT_LOAD_MIN = 0x1000;

/**
 * Checks a flat image of `length` bytes loaded at guest physical `loadAddress` and entered
 * at `entry`: not empty, [loadAddress, loadAddress + length) inside [4 KiB, RAM end) and
 * below 4 GiB, entry inside the image. On success (0) the segment table holds the one
 * segment (file offset 0, file size = memory size = length) and imageEntry() is `entry`;
 * otherwise NoSegments, SegmentOutsideRam or EntryOutside (negative).
 */
export const flatCheck = (length: number, loadAddress: number, entry: number, ramBytes: number) => {
  clearSegments();
  if (!(length > 0)) return ImageError.NoSegments;
  if (!(loadAddress >= 0)) return ImageError.SegmentOutsideRam;
  const r = addSegment(loadAddress, 0, length, length, loadAddress, FLAT_LOAD_MIN, ramBytes);
  if (r !== ImageError.Ok) return r;
  if (!(entry >= loadAddress && entry < loadAddress + length)) {
    clearSegments();
    return ImageError.EntryOutside;
  }
  setEntry(entry);
  return ImageError.Ok;
};
