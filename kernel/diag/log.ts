// The kernel log: structured entries (level, category, message key + arguments).
// Each entry is formatted once, "[category] message" in the current language, kept in
// a ring of recent lines in preallocated memory, handed to the shim (hv_log_line: its
// fault screen shows the last lines) and, from Info up, shown on the console.
import type { MsgKey } from '../i18n/dictionary';
import { putUtf8 } from '../i18n/utf8';
import { dataAddress } from '../host/memory';
import { fmtAppend, fmtBuf, fmtLength, fmtReset } from '../console/format';
import type { Arg } from '../console/format';
import { writeFormattedLine } from '../console/output';

export const enum Level {
  Debug = 0, // recorded, not shown
  Info = 1,
  Warn = 2,
  Error = 3,
  Fatal = 4,
}

export const enum Category {
  Boot = 0,
  Console = 1,
  Script = 2,
  Kernel = 3,
  Acpi = 4,
  Pci = 5,
  Cpu = 6,
  Memory = 7,
  Time = 8,
  Watchdog = 9,
  Diag = 10,
}

/** Category tags as shown in brackets, indexed by Category. */
const CATEGORY_NAMES = ['boot', 'console', 'script', 'kernel', 'acpi', 'pci', 'cpu', 'memory', 'time', 'watchdog', 'diag'];

const RING_SIZE = 32;
const LINE_BYTES = 240;
const ring = new Uint8Array(RING_SIZE * LINE_BYTES);
const ringLength = new Uint16Array(RING_SIZE);
const ringLevel = new Uint8Array(RING_SIZE);
const ringCategory = new Uint8Array(RING_SIZE);
const ringKey: string[] = [];
for (let i = 0; i < RING_SIZE; i++) ringKey.push('');
let ringNext = 0;
let ringCount = 0;

const staging = new Uint8Array(LINE_BYTES);
let stagingAddr = -1;
let stagedLength = 0;

/** Formats an entry, stores it in the ring and hands it to the shim. */
const record = (level: number, category: number, key: MsgKey, a?: Arg, b?: Arg, c?: Arg, d?: Arg) => {
  fmtReset();
  fmtAppend('log.prefix', CATEGORY_NAMES[category]);
  fmtAppend(key, a, b, c, d);
  const n = fmtLength();
  let len = 0;
  for (let i = 0; i < n && len + 4 <= LINE_BYTES; i++) len = putUtf8(staging, len, fmtBuf[i]);
  stagedLength = len;
  const base = ringNext * LINE_BYTES;
  for (let i = 0; i < len; i++) ring[base + i] = staging[i];
  ringLength[ringNext] = len;
  ringLevel[ringNext] = level;
  ringCategory[ringNext] = category;
  ringKey[ringNext] = key;
  ringNext = ringNext + 1 === RING_SIZE ? 0 : ringNext + 1;
  if (ringCount < RING_SIZE) ringCount++;
  if (stagingAddr < 0) stagingAddr = dataAddress(staging);
  hv_log_line(stagingAddr, len);
};

/** Logs an entry; from Info up it is also shown on the console. */
export const log = (level: Level, category: Category, key: MsgKey, a?: Arg, b?: Arg, c?: Arg, d?: Arg) => {
  record(level, category, key, a, b, c, d);
  if (level >= Level.Info) writeFormattedLine();
};

/** Logs an entry without showing it (the console has already reported it its own way). */
export const logQuiet = (level: Level, category: Category, key: MsgKey, a?: Arg, b?: Arg, c?: Arg, d?: Arg) => {
  record(level, category, key, a, b, c, d);
};

/** Number of entries in the ring (at most its size). */
export const logEntryCount = () => ringCount;

/** Message key of the k-th newest entry (0 = newest), k < logEntryCount(). */
export const logEntryKey = (k: number) => {
  let slot = ringNext - 1 - k;
  if (slot < 0) slot += RING_SIZE;
  return ringKey[slot];
};

/**
 * Unrecoverable: logs, shows the reason, and hands it to the shim's fault screen
 * (hv_fatal does not return on hardware; where it does, the caller stops).
 */
export const fatal = (key: MsgKey, a?: Arg, b?: Arg) => {
  record(Level.Fatal, Category.Kernel, key, a, b);
  writeFormattedLine();
  hv_fatal(stagingAddr, stagedLength);
};
