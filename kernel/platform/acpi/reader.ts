// Physical memory for the ACPI parser. A read happens only inside ranges the firmware
// memory map lists as memory (kernel/memory/firmware-map.ts isMappedMemory), in pieces
// that never cross a 4 KiB page (so never a descriptor boundary). One table at a time is
// "open": a window of its bytes with bounds-checked little-endian readers that give 0
// outside the table, so a decoder can never read past what the table's length allows.
import { dataAddress } from '../../host/memory';
import { isMappedMemory } from '../firmware-map';

const PAGE = 4096;
export const TWO32 = 4294967296;
/** Physical addresses the host ABI takes are below 2^52. */
const PHYS_LIMIT = 4503599627370496;
/** Bytes of a table held at once (porffor traps on typed arrays above ~16 KiB). */
const WINDOW = 8192;

const win = new Uint8Array(WINDOW);
let winAddr = -1;
let base = 0; // physical address of the open table (exact: below 2^52)
let size = 0; // its length
let winStart = 0; // table offset of win[0]
let winLen = 0;

/** Whether [addr, addr + len) is memory in the firmware map, checked page by page. */
export const rangeMapped = (addr: number, len: number) => {
  if (!(addr >= 0) || !(len > 0) || addr + len > PHYS_LIMIT) return false;
  const end = addr + len;
  let a = addr;
  while (a < end) {
    let next = (Math.floor(a / PAGE) + 1) * PAGE;
    if (next > end) next = end;
    if (!isMappedMemory(a, next - a)) return false;
    a = next;
  }
  return true;
};

/** Reads [addr, addr + len) (len <= WINDOW) into the window; false if any page is not memory. */
const fill = (addr: number, len: number) => {
  if (winAddr < 0) winAddr = dataAddress(win);
  if (!(addr >= 0) || addr + len > PHYS_LIMIT) return false;
  const end = addr + len;
  let a = addr;
  let dst = 0;
  while (a < end) {
    let next = (Math.floor(a / PAGE) + 1) * PAGE;
    if (next > end) next = end;
    const n = next - a;
    if (!isMappedMemory(a, n)) return false;
    const hi = Math.floor(a / TWO32);
    hv_phys_read(a - hi * TWO32, hi, winAddr + dst, n);
    a = next;
    dst += n;
  }
  return true;
};

/** Opens the `length` bytes at physical `addr` as the current table (nothing is read yet). */
export const openTable = (addr: number, length: number) => {
  base = addr;
  size = length;
  winStart = 0;
  winLen = 0;
};

/** Length of the open table. */
export const openLength = () => size;

/** Window index of table bytes [off, off + n), loading them if needed; -1 outside the table. */
const at = (off: number, n: number) => {
  if (off < 0 || off + n > size) return -1;
  if (off >= winStart && off + n <= winStart + winLen) return off - winStart;
  let len = size - off;
  if (len > WINDOW) len = WINDOW;
  winLen = 0;
  if (!fill(base + off, len)) return -1;
  winStart = off;
  winLen = len;
  return 0;
};

/** Byte at table offset `off` (0 outside the table). */
export const u8 = (off: number) => {
  const i = at(off, 1);
  return i < 0 ? 0 : win[i];
};

/** Little-endian u16 at `off` (0 outside the table). */
export const u16 = (off: number) => {
  const i = at(off, 2);
  return i < 0 ? 0 : win[i] | (win[i + 1] << 8);
};

/** Little-endian u32 at `off` (0 outside the table). */
export const u32 = (off: number) => {
  const i = at(off, 4);
  if (i < 0) return 0;
  return (win[i] | (win[i + 1] << 8) | (win[i + 2] << 16) | (win[i + 3] << 24)) >>> 0;
};

/** Sum of the open table's bytes modulo 256 (0 means the checksum is right); -1 if unreadable. */
export const tableSum = () => {
  let sum = 0;
  let off = 0;
  while (off < size) {
    const i = at(off, 1);
    if (i < 0) return -1;
    const end = winLen;
    for (let k = i; k < end; k++) sum += win[k];
    off = winStart + winLen;
    sum = sum & 255;
  }
  return sum;
};

/** Physical address (double) of table offset `off`. */
export const addrOf = (off: number) => base + off;
