// Machine-read text pieces without building strings: JSON string escaping and numbers
// (RFC 8259 sections 6-7) and Prometheus sample values and label values (text
// exposition format 0.0.4), each written as code points into one of four preallocated
// spans (piece0..piece3, kernel/lib/format.ts's Span). A span is then the argument
// of a verbatim message template, e.g. emitLine('diag.json.msgTail', piece0) with
// '],"msg":"{0}"}'; fill the pieces of one template, say it, then reuse them.
//
// Also the stored form of message arguments (storeArgs): numbers as f64, strings and
// spans as their code points up to a cap, replayable as message arguments and
// printable as a JSON array. The log and the audit ring keep their arguments this way.

import { codePointAt } from '../i18n/utf8';
import type { Arg } from '../lib/format';
import { Span } from '../lib/format';
import { emitInline } from '../lib/text-sink';

/** Code points per piece (escaped text; numbers need at most 310); below format.ts's
 * 512-code-point limit for one argument. */
export const PIECE_CAPACITY = 500;
const PIECE_STRIDE = 512;
const pool = new Uint32Array(4 * PIECE_STRIDE);
const newPiece = (k: number) => {
  const span = new Span(pool);
  span.start = k * PIECE_STRIDE; // fixed: the functions below only set len
  return span;
};
export const piece0 = newPiece(0);
export const piece1 = newPiece(1);
export const piece2 = newPiece(2);
export const piece3 = newPiece(3);

const HEX = '0123456789abcdef';

/** Whether `n` more code points fit into the piece. */
const room = (span: Span, n: number) => span.len + n <= PIECE_CAPACITY;

// (porffor 0.61.13 loses the store in `span.buf[span.start + span.len] = cp`, a store
// through a property with a property read in the index: store through a local.)
const putRaw = (span: Span, cp: number) => {
  const buf = span.buf;
  buf[span.start + span.len] = cp;
  span.len++;
};

/** \u00XX-style escape of a code unit below 0x10000. */
const putUnicodeEscape = (span: Span, unit: number) => {
  putRaw(span, 92); // '\'
  putRaw(span, 117); // 'u'
  putRaw(span, HEX.charCodeAt((unit >>> 12) & 15));
  putRaw(span, HEX.charCodeAt((unit >>> 8) & 15));
  putRaw(span, HEX.charCodeAt((unit >>> 4) & 15));
  putRaw(span, HEX.charCodeAt(unit & 15));
};

/**
 * Appends one code point, escaped for the inside of a JSON string (RFC 8259 section 7):
 * quote and backslash as \" \\, C0 controls as \b \f \n \r \t or \u00XX; also DEL, C1
 * controls and lone surrogates as \uXXXX (allowed, and keeps the text printable);
 * other code points stay as they are (UTF-8 on output). False when it does not fit.
 */
export const jsonPut = (span: Span, codePoint: number) => {
  let cp = codePoint;
  if (cp < 0 || cp > 0x10ffff || cp !== Math.floor(cp)) cp = 0xfffd;
  if (cp === 34 || cp === 92) {
    if (!room(span, 2)) return false;
    putRaw(span, 92);
    putRaw(span, cp);
    return true;
  }
  if (cp < 0x20) {
    let short = 0;
    if (cp === 8) short = 98; // \b
    else if (cp === 9) short = 116; // \t
    else if (cp === 10) short = 110; // \n
    else if (cp === 12) short = 102; // \f
    else if (cp === 13) short = 114; // \r
    if (short !== 0) {
      if (!room(span, 2)) return false;
      putRaw(span, 92);
      putRaw(span, short);
      return true;
    }
  }
  if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0) || (cp >= 0xd800 && cp <= 0xdfff)) {
    if (!room(span, 6)) return false;
    putUnicodeEscape(span, cp);
    return true;
  }
  if (!room(span, 1)) return false;
  putRaw(span, cp);
  return true;
};

/** `span` := the JSON-escaped code points buf[start..start+len) (cut at a whole escape when too long). */
export const jsonEscapeCodePoints = (span: Span, buf: Uint32Array, start: number, len: number) => {
  span.len = 0;
  for (let i = 0; i < len; i++) if (!jsonPut(span, buf[start + i])) break;
  return span;
};

/** `span` := the JSON-escaped text of a kernel string (UTF-16 surrogate pairs joined). */
export const jsonEscapeString = (span: Span, s: string) => {
  span.len = 0;
  const n = s.length;
  for (let i = 0; i < n; i++) {
    const cp = codePointAt(s, i);
    if (cp > 0xffff) i++;
    if (!jsonPut(span, cp)) break;
  }
  return span;
};

/**
 * `span` := a label value escaped for the Prometheus text format 0.0.4 (backslash,
 * double quote and line feed as \\ \" \n).
 */
export const promEscapeString = (span: Span, s: string) => {
  span.len = 0;
  const n = s.length;
  for (let i = 0; i < n; i++) {
    const cp = s.charCodeAt(i);
    const escaped = cp === 92 || cp === 34 || cp === 10;
    if (!room(span, escaped ? 2 : 1)) break;
    if (escaped) putRaw(span, 92);
    putRaw(span, cp === 10 ? 110 : cp);
  }
  return span;
};

const putAscii = (span: Span, s: string) => {
  for (let i = 0; i < s.length; i++) putRaw(span, s.charCodeAt(i));
};

/** Decimal digits of an integer 0 <= x < 2^53. */
const putInteger = (span: Span, value: number) => {
  const first = span.start + span.len;
  let x = value;
  do {
    const q = Math.floor(x / 10);
    putRaw(span, 48 + (x - q * 10));
    x = q;
  } while (x > 0);
  // digits came out least significant first
  let lo = first;
  let hi = span.start + span.len - 1;
  const buf = span.buf;
  while (lo < hi) {
    const t = buf[lo];
    buf[lo] = buf[hi];
    buf[hi] = t;
    lo++;
    hi--;
  }
};

const TWO_POW_53 = 9007199254740992;
const LIMB = 10000000; // 10^7: limb * 2 + carry stays exact in a double
const limbs = new Float64Array(46); // 322 digits > any double

/** An integer-valued double >= 2^53, exactly (as m * 2^k, m < 2^53, in base-10^7 limbs). */
const putBigInteger = (span: Span, value: number) => {
  let m = value;
  let k = 0;
  while (m >= TWO_POW_53) {
    m /= 2; // exact: the low bits of so large a double are zero
    k++;
  }
  let n = 0;
  while (m > 0) {
    let q = Math.floor(m / LIMB);
    let r = m - q * LIMB;
    if (r < 0) {
      q--;
      r += LIMB;
    } else if (r >= LIMB) {
      q++;
      r -= LIMB;
    }
    limbs[n] = r;
    n++;
    m = q;
  }
  for (let i = 0; i < k; i++) {
    let carry = 0;
    for (let j = 0; j < n; j++) {
      const v = limbs[j] * 2 + carry;
      carry = v >= LIMB ? 1 : 0;
      limbs[j] = v - carry * LIMB;
    }
    if (carry > 0 && n < 46) {
      limbs[n] = carry;
      n++;
    }
  }
  putInteger(span, limbs[n - 1]);
  for (let j = n - 2; j >= 0; j--) {
    const v = limbs[j];
    for (let d = LIMB / 10; d >= 1; d /= 10) putRaw(span, 48 + (Math.floor(v / d) - Math.floor(v / (d * 10)) * 10));
  }
};

/** Non-negative finite x: integers exactly, fractions with up to 9 decimals (trailing zeros dropped). */
const putMagnitude = (span: Span, x: number) => {
  if (x >= TWO_POW_53) {
    putBigInteger(span, x);
    return;
  }
  if (Math.floor(x) === x) {
    putInteger(span, x);
    return;
  }
  let decimals = 9;
  let scale = 1000000000;
  if (x >= 1000000) {
    decimals = 3;
    scale = 1000;
  }
  const scaled = Math.round(x * scale);
  if (scaled >= TWO_POW_53) {
    putInteger(span, Math.round(x));
    return;
  }
  const whole = Math.floor(scaled / scale);
  putInteger(span, whole);
  let frac = scaled - whole * scale;
  if (frac <= 0) return;
  while (decimals > 0 && frac - Math.floor(frac / 10) * 10 === 0) {
    frac = Math.floor(frac / 10);
    decimals--;
  }
  putRaw(span, 46); // '.'
  let div = 1;
  for (let i = 1; i < decimals; i++) div *= 10;
  while (div >= 1) {
    const d = Math.floor(frac / div);
    putRaw(span, 48 + d);
    frac -= d * div;
    div /= 10;
  }
};

/** `span` := a JSON number (RFC 8259 section 6); NaN and infinities, which JSON lacks, as null. */
export const jsonNumber = (span: Span, value: number) => {
  span.len = 0;
  if (value !== value || value === Infinity || value === -Infinity) {
    putAscii(span, 'null');
    return span;
  }
  let x = value;
  if (x < 0) {
    putRaw(span, 45);
    x = -x;
  }
  putMagnitude(span, x);
  return span;
};

/** `span` := a Prometheus sample value or le bound (Go ParseFloat syntax: NaN, +Inf, -Inf). */
export const promNumber = (span: Span, value: number) => {
  span.len = 0;
  if (value !== value) putAscii(span, 'NaN');
  else if (value === Infinity) putAscii(span, '+Inf');
  else if (value === -Infinity) putAscii(span, '-Inf');
  else {
    let x = value;
    if (x < 0) {
      putRaw(span, 45);
      x = -x;
    }
    putMagnitude(span, x);
  }
  return span;
};

// ---- Stored message arguments ----

/** What a stored argument slot holds. */
export const enum ArgKind {
  None = 0,
  Number = 1,
  Text = 2,
}

/** Arguments per record (message templates take {0}..{3}). */
export const ARGS_PER_RECORD = 4;
/** Code points kept of a record's string arguments together; the rest is cut. */
export const RECORD_TEXT = 64;
const INFO = 3; // per argument: kind, text offset in the record, text length
/** Records for all rings together (the log's 128 and the audit ring's 256). */
const MAX_RECORDS = 384;
const argInfo = new Uint8Array(MAX_RECORDS * ARGS_PER_RECORD * INFO);
const argNumbers = new Float64Array(MAX_RECORDS * ARGS_PER_RECORD);
const argText = new Uint32Array(MAX_RECORDS * RECORD_TEXT);
let recordsReserved = 0;

/**
 * Reserves `count` records of argument storage (at module start); returns the first
 * record's number, or -1 when there is no room. Records are numbered from there.
 */
export const reserveArgRecords = (count: number) => {
  if (recordsReserved + count > MAX_RECORDS) return -1;
  const first = recordsReserved;
  recordsReserved += count;
  return first;
};

/** Stores one argument; returns the record text used so far. */
const storeOne = (record: number, i: number, arg: Arg | undefined, used: number) => {
  const at = (record * ARGS_PER_RECORD + i) * INFO;
  argInfo[at + 1] = 0;
  argInfo[at + 2] = 0;
  if (arg === undefined) {
    argInfo[at] = ArgKind.None;
    return used;
  }
  if (typeof arg === 'number') {
    argInfo[at] = ArgKind.Number;
    argNumbers[record * ARGS_PER_RECORD + i] = arg;
    return used;
  }
  argInfo[at] = ArgKind.Text;
  const base = record * RECORD_TEXT;
  let len = used;
  if (typeof arg === 'string') {
    const n = arg.length;
    for (let k = 0; k < n && len < RECORD_TEXT; k++) {
      const cp = codePointAt(arg, k);
      if (cp > 0xffff) k++;
      argText[base + len] = cp;
      len++;
    }
  } else {
    const src = arg.buf;
    const end = arg.start + arg.len;
    for (let k = arg.start; k < end && len < RECORD_TEXT; k++) {
      argText[base + len] = src[k];
      len++;
    }
  }
  argInfo[at + 1] = used;
  argInfo[at + 2] = len - used;
  return len;
};

/** Stores the arguments of a record (a number from reserveArgRecords onwards). */
export const storeArgs = (record: number, a?: Arg, b?: Arg, c?: Arg, d?: Arg) => {
  if (record < 0 || record >= recordsReserved) return;
  let used = storeOne(record, 0, a, 0);
  used = storeOne(record, 1, b, used);
  used = storeOne(record, 2, c, used);
  storeOne(record, 3, d, used);
};

/** Number of arguments a record has (up to the last one given). */
const storedArgCount = (record: number) => {
  if (record < 0 || record >= recordsReserved) return 0;
  const at = record * ARGS_PER_RECORD * INFO;
  let n = ARGS_PER_RECORD;
  while (n > 0 && argInfo[at + (n - 1) * INFO] === ArgKind.None) n--;
  return n;
};

// Spans for replaying stored text arguments, one per argument position.
const replay0 = new Span(argText);
const replay1 = new Span(argText);
const replay2 = new Span(argText);
const replay3 = new Span(argText);

/**
 * Argument i of a record as a message argument: a number, a span over the stored code
 * points (valid until argument i of another record is replayed), or undefined.
 */
export const storedArg = (record: number, i: number) => {
  if (record < 0 || record >= recordsReserved) return undefined;
  const at = (record * ARGS_PER_RECORD + i) * INFO;
  const kind = argInfo[at];
  if (kind === ArgKind.Number) return argNumbers[record * ARGS_PER_RECORD + i];
  if (kind === ArgKind.None) return undefined;
  const view = i === 0 ? replay0 : i === 1 ? replay1 : i === 2 ? replay2 : replay3;
  view.start = record * RECORD_TEXT + argInfo[at + 1];
  view.len = argInfo[at + 2];
  return view;
};

/**
 * Writes the arguments of a record as the elements of a JSON array (the caller writes
 * the brackets), without ending the line. Uses piece3.
 */
export const sayJsonArgs = (record: number) => {
  const n = storedArgCount(record);
  for (let i = 0; i < n; i++) {
    const at = (record * ARGS_PER_RECORD + i) * INFO;
    const kind = argInfo[at];
    if (kind === ArgKind.Text) {
      jsonEscapeCodePoints(piece3, argText, record * RECORD_TEXT + argInfo[at + 1], argInfo[at + 2]);
      if (i === 0) emitInline('diag.json.stringFirst', piece3);
      else emitInline('diag.json.stringNext', piece3);
    } else {
      if (kind === ArgKind.Number) jsonNumber(piece3, argNumbers[record * ARGS_PER_RECORD + i]);
      else jsonNumber(piece3, NaN); // a gap before a later argument: null
      if (i === 0) emitInline('diag.json.valueFirst', piece3);
      else emitInline('diag.json.valueNext', piece3);
    }
  }
};
