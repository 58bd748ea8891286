// Where migration frames go and come from, behind one interface: sinkSend(kind, end, ...)
// hands one datagram (one frame) to a transport, sinkPoll(kind, end, ...) takes the next
// one that arrived for that end, if any. `end` (0 or 1) names the side of a two-ended
// transport (Buffer); the others ignore it. A switch, not objects: porffor has no closures
// over locals and every object costs ~16 KB.
//   Null       takes everything, counts frames and bytes, never receives.
//   Console    takes everything and appends a hex dump of it to a preallocated text
//              buffer (16 bytes a line: "0000  5a 56 4d 47 ...  ZVMG...."); whole lines
//              only, the lines that do not fit are counted as lost. Never receives.
//   Buffer     an in-memory loopback pair: what end 0 sends, end 1 polls, and back
//              (two queues of 72 frames, preallocated). For tests it injects faults per
//              direction at per-mille rates from a deterministic PRNG (xorshift32): drop,
//              duplicate, reorder (swap with the frame queued before), corrupt (XOR one
//              byte with a non-zero value). A full queue drops (counted).
//   VirtioNet  net0 (drivers/virtio-net), frames in Ethernet fragments (net-link.ts).
//   Snp        the firmware's network interface through its Simple Network Protocol
//              (drivers/snp), the same Ethernet fragments. NotAttached when it is not usable.
import type { MsgKey } from '../../i18n/dictionary';
import { MAX_FRAME_BYTES } from './frame';
import { copyBytes } from '../../host/memory';
import { Link, netLinkPoll, netLinkReady, netLinkSend } from './net-link';

export const enum SinkKind {
  Console = 0,
  Null = 1,
  Buffer = 2,
  Snp = 3,
  VirtioNet = 4,
}

export const enum SinkError {
  None = 0,
  NotAttached = 1,
  BadKind = 2,
  BadEnd = 3,
  BadRange = 4,
  TooLong = 5,
}

export const sinkErrorKey = (e: number): MsgKey => {
  switch (e) {
    case SinkError.None:
      return 'migration.sink.none';
    case SinkError.NotAttached:
      return 'migration.sink.notAttached';
    case SinkError.BadKind:
      return 'migration.sink.badKind';
    case SinkError.BadEnd:
      return 'migration.sink.badEnd';
    case SinkError.BadRange:
      return 'migration.sink.badRange';
  }
  return 'migration.sink.tooLong';
};

/** Counters of a Buffer direction (bufferStat). */
export const enum BufferStat {
  Sent = 0,
  Delivered = 1,
  Dropped = 2,
  Duplicated = 3,
  Reordered = 4,
  Corrupted = 5,
  Overflowed = 6,
  Queued = 7,
}

const rangeOk = (bytes: Uint8Array, off: number, len: number) => off >= 0 && len >= 0 && off + len <= bytes.length;

// ---- Null ----

let nullFrameCount = 0;
let nullByteCount = 0;
export const nullFrames = () => nullFrameCount;
export const nullBytes = () => nullByteCount;

// ---- Console ----

export const CONSOLE_BYTES = 16384;
/** The hex dump text (ASCII, LF line ends); consoleLength() bytes of it are valid. */
export const consoleText = new Uint8Array(CONSOLE_BYTES);
let consoleLen = 0;
let consoleLostLines = 0;
const LINE_BYTES = 4 + 2 + 16 * 3 + 1 + 1 + 16 + 1; // "0000  ", 16 x "xx " (one more space after 8), " ", ASCII, LF

export const consoleLength = () => consoleLen;
export const consoleLost = () => consoleLostLines;
export const consoleClear = () => {
  consoleLen = 0;
  consoleLostLines = 0;
};

const hexDigit = (v: number) => (v < 10 ? 48 + v : 87 + v);

const consolePut = (c: number) => {
  const at = consoleLen;
  if (at < CONSOLE_BYTES) {
    consoleText[at] = c;
    consoleLen = at + 1;
  }
};

const consoleHex = (v: number, digits: number) => {
  for (let d = digits - 1; d >= 0; d--) consolePut(hexDigit((v >>> (4 * d)) & 15));
};

const consoleDump = (bytes: Uint8Array, off: number, len: number) => {
  for (let line = 0; line < len; line += 16) {
    if (consoleLen + LINE_BYTES > CONSOLE_BYTES) {
      consoleLostLines += Math.floor((len - line + 15) / 16);
      return;
    }
    consoleHex(line & 0xffff, 4);
    consolePut(32);
    consolePut(32);
    for (let i = 0; i < 16; i++) {
      if (line + i < len) consoleHex(bytes[off + line + i], 2);
      else {
        consolePut(32);
        consolePut(32);
      }
      consolePut(32);
      if (i === 7) consolePut(32);
    }
    consolePut(32);
    for (let i = 0; i < 16 && line + i < len; i++) {
      const b = bytes[off + line + i];
      consolePut(b >= 0x20 && b < 0x7f ? b : 0x2e);
    }
    consolePut(10);
  }
};

// ---- Buffer ----

const QUEUE_SLOTS = 72;
const slots = new Uint8Array(2 * QUEUE_SLOTS * MAX_FRAME_BYTES); // direction d owns slots [d * 72, + 72)
const slotLen = new Uint16Array(2 * QUEUE_SLOTS);
const ring = new Uint16Array(2 * QUEUE_SLOTS); // per direction: slot numbers in delivery order
const ringHead = new Uint16Array(2);
const ringCount = new Uint16Array(2);
const freeSlots = new Uint16Array(2 * QUEUE_SLOTS); // per direction: a stack of free slot numbers
const freeTop = new Uint16Array(2);
const faultDrop = new Uint16Array(2);
const faultDup = new Uint16Array(2);
const faultReorder = new Uint16Array(2);
const faultCorrupt = new Uint16Array(2);
const prng = new Uint32Array(2);
const stats = new Float64Array(2 * 8);

const bufferReset = () => {
  for (let d = 0; d < 2; d++) {
    ringHead[d] = 0;
    ringCount[d] = 0;
    freeTop[d] = QUEUE_SLOTS;
    for (let i = 0; i < QUEUE_SLOTS; i++) freeSlots[d * QUEUE_SLOTS + i] = d * QUEUE_SLOTS + i;
  }
  for (let i = 0; i < 16; i++) stats[i] = 0;
};

/** Empties both queues, zeroes the counters and turns the faults off. */
export const bufferInit = () => {
  bufferReset();
  for (let d = 0; d < 2; d++) {
    faultDrop[d] = 0;
    faultDup[d] = 0;
    faultReorder[d] = 0;
    faultCorrupt[d] = 0;
    prng[d] = 1;
  }
};
bufferInit();

const clip = (v: number) => (v < 0 ? 0 : v > 1000 ? 1000 : v);

/** Faults for direction `dir` (0: end 0 -> end 1, 1: back), in per mille (0..1000), and the PRNG seed. */
export const bufferFaults = (dir: number, dropPm: number, dupPm: number, reorderPm: number, corruptPm: number, seed: number) => {
  if (dir !== 0 && dir !== 1) return SinkError.BadEnd;
  faultDrop[dir] = clip(dropPm);
  faultDup[dir] = clip(dupPm);
  faultReorder[dir] = clip(reorderPm);
  faultCorrupt[dir] = clip(corruptPm);
  prng[dir] = seed >>> 0 === 0 ? 1 : seed >>> 0;
  return SinkError.None;
};

/** Counter `k` (BufferStat) of direction `dir`. */
export const bufferStat = (dir: number, k: number) => {
  if ((dir !== 0 && dir !== 1) || k < 0 || k > 7) return 0;
  if (k === BufferStat.Queued) return ringCount[dir];
  return stats[dir * 8 + k];
};

const count = (dir: number, k: number) => {
  stats[dir * 8 + k]++;
};

/** xorshift32 (Marsaglia 2003): the next value of direction dir's PRNG. */
const nextRandom = (dir: number) => {
  let x = prng[dir];
  x ^= x << 13;
  x ^= x >>> 17;
  x ^= x << 5;
  prng[dir] = x;
  return x >>> 0;
};

const roll = (dir: number, perMille: number) => perMille > 0 && nextRandom(dir) % 1000 < perMille;

/** Queues one copy (maybe corrupted, maybe swapped with the one before). */
const enqueue = (dir: number, bytes: Uint8Array, off: number, len: number) => {
  const n = ringCount[dir];
  if (n >= QUEUE_SLOTS || freeTop[dir] === 0) {
    count(dir, BufferStat.Overflowed);
    return;
  }
  const top = freeTop[dir] - 1;
  freeTop[dir] = top;
  const slot = freeSlots[dir * QUEUE_SLOTS + top];
  const base = slot * MAX_FRAME_BYTES;
  copyBytes(slots, base, bytes, off, len);
  slotLen[slot] = len;
  if (len > 0 && roll(dir, faultCorrupt[dir])) {
    const at = base + (nextRandom(dir) % len);
    slots[at] = slots[at] ^ (1 + (nextRandom(dir) % 255));
    count(dir, BufferStat.Corrupted);
  }
  const tail = (ringHead[dir] + n) % QUEUE_SLOTS;
  ring[dir * QUEUE_SLOTS + tail] = slot;
  ringCount[dir] = n + 1;
  if (n >= 1 && roll(dir, faultReorder[dir])) {
    const prev = (tail + QUEUE_SLOTS - 1) % QUEUE_SLOTS;
    const other = ring[dir * QUEUE_SLOTS + prev];
    ring[dir * QUEUE_SLOTS + prev] = slot;
    ring[dir * QUEUE_SLOTS + tail] = other;
    count(dir, BufferStat.Reordered);
  }
};

const bufferSend = (dir: number, bytes: Uint8Array, off: number, len: number) => {
  count(dir, BufferStat.Sent);
  if (roll(dir, faultDrop[dir])) {
    count(dir, BufferStat.Dropped);
    return;
  }
  enqueue(dir, bytes, off, len);
  if (roll(dir, faultDup[dir])) {
    enqueue(dir, bytes, off, len);
    count(dir, BufferStat.Duplicated);
  }
};

const bufferPoll = (dir: number, out: Uint8Array, off: number, cap: number) => {
  const n = ringCount[dir];
  if (n === 0) return 0;
  const head = ringHead[dir];
  const slot = ring[dir * QUEUE_SLOTS + head];
  ringHead[dir] = (head + 1) % QUEUE_SLOTS;
  ringCount[dir] = n - 1;
  const top = freeTop[dir];
  if (top < QUEUE_SLOTS) {
    freeSlots[dir * QUEUE_SLOTS + top] = slot;
    freeTop[dir] = top + 1;
  }
  const len = slotLen[slot];
  if (len > cap) return -SinkError.TooLong; // dropped: the caller's buffer cannot hold it
  const base = slot * MAX_FRAME_BYTES;
  copyBytes(out, off, slots, base, len);
  count(dir, BufferStat.Delivered);
  return len;
};

// ---- the interface ----

/** Sends bytes[off, + len) as one datagram from end `end`. SinkError.None when taken (a transport may still lose it). */
export const sinkSend = (kind: number, end: number, bytes: Uint8Array, off: number, len: number) => {
  if (!rangeOk(bytes, off, len)) return SinkError.BadRange;
  if (len > MAX_FRAME_BYTES) return SinkError.TooLong;
  switch (kind) {
    case SinkKind.Null:
      nullFrameCount++;
      nullByteCount += len;
      return SinkError.None;
    case SinkKind.Console:
      consoleDump(bytes, off, len);
      return SinkError.None;
    case SinkKind.Buffer:
      if (end !== 0 && end !== 1) return SinkError.BadEnd;
      bufferSend(end, bytes, off, len);
      return SinkError.None;
    case SinkKind.VirtioNet:
      return netLinkSend(Link.Net0, bytes, off, len) ? SinkError.None : SinkError.NotAttached;
    case SinkKind.Snp:
      return netLinkSend(Link.Snp, bytes, off, len) ? SinkError.None : SinkError.NotAttached;
  }
  return SinkError.BadKind;
};

/**
 * Takes the next datagram that arrived for end `end` into out[off, + cap): its length
 * (> 0), 0 when none is waiting, or -SinkError (a datagram longer than cap is dropped).
 */
export const sinkPoll = (kind: number, end: number, out: Uint8Array, off: number, cap: number) => {
  if (off < 0 || cap < 0 || off > out.length) return -SinkError.BadRange;
  let room = out.length - off;
  if (cap < room) room = cap;
  switch (kind) {
    case SinkKind.Null:
    case SinkKind.Console:
      return 0;
    case SinkKind.Buffer:
      if (end !== 0 && end !== 1) return -SinkError.BadEnd;
      return bufferPoll(1 - end, out, off, room);
    case SinkKind.VirtioNet:
      return netLinkReady(Link.Net0) ? netLinkPoll(Link.Net0, out, off, room) : -SinkError.NotAttached;
    case SinkKind.Snp:
      return netLinkReady(Link.Snp) ? netLinkPoll(Link.Snp, out, off, room) : -SinkError.NotAttached;
  }
  return -SinkError.BadKind;
};
