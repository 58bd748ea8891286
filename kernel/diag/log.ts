// The kernel log: structured entries (level, category, message key + arguments).
// Each entry is formatted once, "[category] message" in the current language, and kept
// in a ring of recent entries in preallocated memory with its time (TSC ticks since
// boot; microseconds once the TSC frequency is known), level, category, language tag,
// key and arguments (numbers as f64, strings as up to 64 code points). The line is
// handed to the shim (hv_log_line: its fault screen shows the last lines) and, from
// Info up, shown on the console. `log [--level L] [--json]` shows the ring: as a table,
// or as JSON lines
//   {"t_us":..,"tsc":..,"level":"warn","cat":"acpi","lang":"en","key":"..","args":[..],"msg":".."}
// (t_us is null while the TSC frequency is unknown; msg is the text without "[category] ").
import type { MsgKey } from '../i18n/dictionary';
import { language, LANGUAGE_CODES, text } from '../i18n/messages';
import { putUtf8 } from '../i18n/utf8';
import { dataAddress } from '../host/memory';
import { fmtAppend, fmtAppendTemplate, fmtBuf, fmtLength, fmtReset } from '../lib/format';
import type { Span } from '../lib/format';
import type { Arg } from '../lib/format';
import { emitLine, emitInline, emitFormattedLine } from '../lib/text-sink';
import { ticksSinceBoot, tscHz } from '../lib/clock';
import { defineCounter, defineHistogram, metricSeries, seriesAdd, seriesObserve } from './metrics';
import { jsonEscapeCodePoints, jsonEscapeString, jsonNumber, piece0, piece1, PIECE_CAPACITY, reserveArgRecords, sayJsonArgs, storeArgs } from './json';

export const enum Level {
  Debug = 0, // recorded, not shown
  Info = 1,
  Warn = 2,
  Error = 3,
  Fatal = 4,
}

const LEVEL_COUNT = 5;

/** A level's name as `log --level` takes it and JSON shows it. */
export const levelName = (level: number) => {
  switch (level) {
    case Level.Debug:
      return 'debug';
    case Level.Info:
      return 'info';
    case Level.Warn:
      return 'warn';
    case Level.Error:
      return 'error';
  }
  return 'fatal';
};

/** A level's label for the `log` table (translated). */
const levelLabel = (level: number) => {
  switch (level) {
    case Level.Debug:
      return text('diag.level.debug');
    case Level.Info:
      return text('diag.level.info');
    case Level.Warn:
      return text('diag.level.warn');
    case Level.Error:
      return text('diag.level.error');
  }
  return text('diag.level.fatal');
};

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
  Vm = 11,
  Net = 12,
}

/** Category tags as shown in brackets, indexed by Category. */
const CATEGORY_NAMES = ['boot', 'console', 'script', 'kernel', 'acpi', 'pci', 'cpu', 'memory', 'time', 'watchdog', 'diag', 'vm', 'net'];

export const RING_SIZE = 128;
/** Bytes kept of an entry's formatted line (UTF-8); also what the shim gets. */
const LINE_BYTES = 240;
// per entry: the line, then its length, the prefix ("[category] ") length, level,
// category, language
const STRIDE = 248;
const E_LENGTH = LINE_BYTES;
const E_PREFIX = LINE_BYTES + 1;
const E_LEVEL = LINE_BYTES + 2;
const E_CATEGORY = LINE_BYTES + 3;
const E_LANGUAGE = LINE_BYTES + 4;
const ring = new Uint8Array(RING_SIZE * STRIDE);
let ringAddr = -1;
// per entry: TSC ticks since boot, microseconds (-1 while unknown)
const times = new Float64Array(RING_SIZE * 2);
const ringKey: string[] = []; // a message key, or a machine line's (logMarker)
for (let i = 0; i < RING_SIZE; i++) ringKey.push('log.prefix');
const firstRecord = reserveArgRecords(RING_SIZE); // arguments of slot i: record firstRecord + i
let ringNext = 0;
let ringCount = 0;
let total = 0; // entries since boot
let lastSlot = 0;

const ENTRIES = defineCounter('zerovisor_log_entries_total', 'diag.metric.logEntries', 'level');
// Series are taken one after the other: level l's is firstLevelSeries + l.
const firstLevelSeries = metricSeries(ENTRIES, levelName(0));
for (let i = 1; i < LEVEL_COUNT; i++) metricSeries(ENTRIES, levelName(i));
const LINE_SIZES = defineHistogram('zerovisor_log_line_bytes', 'diag.metric.logLineBytes', 16, 2, 5); // 16 .. 256
const lineSizeSeries = metricSeries(LINE_SIZES);

/** Formats an entry (`template`: the text of `key`), stores it in the ring and hands it to the shim. */
const record = (level: number, category: number, key: string, template: string, a?: Arg, b?: Arg, c?: Arg, d?: Arg) => {
  const ticks = ticksSinceBoot();
  fmtReset();
  fmtAppend('log.prefix', CATEGORY_NAMES[category]);
  const prefix = fmtLength();
  fmtAppendTemplate(template, a, b, c, d);
  const n = fmtLength();
  const slot = ringNext;
  const base = slot * STRIDE;
  let len = 0;
  let prefixBytes = 0;
  for (let i = 0; i < n && len + 4 <= LINE_BYTES; i++) {
    len = putUtf8(ring, base + len, fmtBuf[i]) - base;
    if (i + 1 === prefix) prefixBytes = len;
  }
  ring[base + E_LENGTH] = len;
  ring[base + E_PREFIX] = prefixBytes;
  ring[base + E_LEVEL] = level;
  ring[base + E_CATEGORY] = category;
  ring[base + E_LANGUAGE] = language();
  const hz = tscHz();
  times[slot * 2] = ticks;
  times[slot * 2 + 1] = hz > 0 ? Math.floor((ticks * 1000000) / hz) : -1;
  ringKey[slot] = key;
  storeArgs(firstRecord + slot, a, b, c, d);
  lastSlot = slot;
  ringNext = slot + 1 === RING_SIZE ? 0 : slot + 1;
  if (ringCount < RING_SIZE) ringCount++;
  total++;
  if (firstLevelSeries >= 0 && level < LEVEL_COUNT) seriesAdd(firstLevelSeries + level, 1);
  seriesObserve(lineSizeSeries, len);
  if (ringAddr < 0) ringAddr = dataAddress(ring);
  hv_log_line(ringAddr + base, len);
};

/** Logs an entry; from Info up it is also shown on the console. */
export const log = (level: Level, category: Category, key: MsgKey, a?: Arg, b?: Arg, c?: Arg, d?: Arg) => {
  record(level, category, key, text(key), a, b, c, d);
  if (level >= Level.Info) emitFormattedLine();
};

/** Logs an entry without showing it (the console has already reported it its own way). */
export const logQuiet = (level: Level, category: Category, key: MsgKey, a?: Arg, b?: Arg, c?: Arg, d?: Arg) => {
  record(level, category, key, text(key), a, b, c, d);
};

/** Logs and shows a machine line (kernel/lib/markers.ts: the same in every language) under the JSON key `key`. */
export const logMarker = (level: Level, category: Category, key: string, template: string, a?: Arg) => {
  record(level, category, key, template, a);
  if (level >= Level.Info) emitFormattedLine();
};

/** Number of entries in the ring (at most its size). */
export const logEntryCount = () => ringCount;

/** Entries logged since boot (the ring keeps the last RING_SIZE). */
export const logTotal = () => total;

const slotOf = (k: number) => {
  let slot = ringNext - 1 - k;
  if (slot < 0) slot += RING_SIZE;
  return slot;
};

/** Message key of the k-th newest entry (0 = newest), k < logEntryCount(). */
export const logEntryKey = (k: number) => ringKey[slotOf(k)];

/**
 * Unrecoverable: logs, shows the reason, and hands it to the shim's fault screen
 * (hv_fatal does not return on hardware; where it does, the caller stops).
 */
export const fatal = (key: MsgKey, a?: Arg, b?: Arg) => {
  record(Level.Fatal, Category.Kernel, key, text(key), a, b);
  emitFormattedLine();
  hv_fatal(ringAddr + lastSlot * STRIDE, ring[lastSlot * STRIDE + E_LENGTH]);
};

// ---- `log`: the ring, oldest first ----

/** `span` := code points of the entry's line from byte `from` (the ring holds valid UTF-8). */
const decodeLine = (span: Span, slot: number, from: number) => {
  const base = slot * STRIDE;
  const end = base + ring[base + E_LENGTH];
  const buf = span.buf;
  let n = 0;
  let i = base + from;
  while (i < end && n < PIECE_CAPACITY) {
    const b0 = ring[i];
    let cp = b0;
    let extra = 0;
    if (b0 >= 0xf0) {
      cp = b0 & 0x07;
      extra = 3;
    } else if (b0 >= 0xe0) {
      cp = b0 & 0x0f;
      extra = 2;
    } else if (b0 >= 0xc0) {
      cp = b0 & 0x1f;
      extra = 1;
    }
    i++;
    for (let k = 0; k < extra && i < end; k++) {
      cp = cp * 64 + (ring[i] & 0x3f);
      i++;
    }
    buf[span.start + n] = cp;
    n++;
  }
  span.len = n;
  return span;
};

/** Microseconds of the entry in `slot`, or -1 while the TSC frequency is unknown. */
const microsOf = (slot: number) => {
  const us = times[slot * 2 + 1];
  if (us >= 0) return us;
  const hz = tscHz();
  return hz > 0 ? Math.floor((times[slot * 2] * 1000000) / hz) : -1;
};

const levelOf = (slot: number) => ring[slot * STRIDE + E_LEVEL];

/** How many entries in the ring are at `minLevel` or above. */
export const logMatching = (minLevel: number) => {
  let n = 0;
  for (let k = 0; k < ringCount; k++) if (levelOf(slotOf(k)) >= minLevel) n++;
  return n;
};

/** Prints the entries at `minLevel` or above as a table, oldest first. */
export const sayLogTable = (minLevel: number) => {
  emitLine('diag.log.row', text('diag.log.col.us'), text('diag.col.tsc'), text('diag.log.col.level'), text('diag.log.col.message'));
  for (let k = ringCount - 1; k >= 0; k--) {
    const slot = slotOf(k);
    const level = levelOf(slot);
    if (level < minLevel) continue;
    decodeLine(piece0, slot, 0);
    const us = microsOf(slot);
    if (us >= 0) emitLine('diag.log.row', us, times[slot * 2], levelLabel(level), piece0);
    else emitLine('diag.log.row', text('diag.log.unknownTime'), times[slot * 2], levelLabel(level), piece0);
  }
};

/** Prints the entries at `minLevel` or above as JSON lines, oldest first. */
export const sayLogJson = (minLevel: number) => {
  for (let k = ringCount - 1; k >= 0; k--) {
    const slot = slotOf(k);
    const base = slot * STRIDE;
    const level = ring[base + E_LEVEL];
    if (level < minLevel) continue;
    const us = microsOf(slot);
    jsonNumber(piece0, us < 0 ? NaN : us); // null while unknown
    jsonNumber(piece1, times[slot * 2]);
    emitInline('diag.json.logHead', piece0, piece1, levelName(level), CATEGORY_NAMES[ring[base + E_CATEGORY]]);
    jsonEscapeString(piece0, ringKey[slot]);
    emitInline('diag.json.logKey', LANGUAGE_CODES[ring[base + E_LANGUAGE]], piece0);
    sayJsonArgs(firstRecord + slot);
    decodeLine(piece1, slot, ring[base + E_PREFIX]);
    jsonEscapeCodePoints(piece0, piece1.buf, piece1.start, piece1.len);
    emitLine('diag.json.msgTail', piece0);
  }
};
