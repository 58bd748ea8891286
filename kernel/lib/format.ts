// Message formatting: a dictionary template plus arguments, rendered as code points
// into one preallocated buffer (no strings are built). The output writer and the log
// take their text from here, so everything they show starts from a message key.
//
// Template syntax (see kernel/i18n/en.ts): {N} with N = 0..3, optionally
//   ,W   right-align in W terminal columns   ,-W  left-align
//   :xD  D hex digits (zero-padded)          :fD  D decimals
import { text } from '../i18n/messages';
import type { MsgKey } from '../i18n/dictionary';
import { codePointAt, columns, visible } from '../i18n/utf8';

/** A run of code points in a buffer (e.g. a word the user typed), usable as an argument. */
export class Span {
  buf: Uint32Array;
  start = 0;
  len = 0;
  constructor(buf: Uint32Array) {
    this.buf = buf;
  }
}

/** A message argument: a number, a string from the kernel's own tables, or a span of input. */
export type Arg = number | string | Span;

export const FORMAT_CAPACITY = 2048;
/** The formatted text, as code points; fmtLength() of them are valid. */
export const fmtBuf = new Uint32Array(FORMAT_CAPACITY);
let fmtLen = 0;

const SCRATCH_CAPACITY = 512;
const scratch = new Uint32Array(SCRATCH_CAPACITY);
let scratchLen = 0;

export const fmtLength = () => fmtLen;
export const fmtReset = () => {
  fmtLen = 0;
};

const put = (cp: number) => {
  if (fmtLen < FORMAT_CAPACITY) {
    fmtBuf[fmtLen] = cp;
    fmtLen++;
  }
};

const scratchPut = (cp: number) => {
  if (scratchLen < SCRATCH_CAPACITY) {
    scratch[scratchLen] = cp;
    scratchLen++;
  }
};

/** Decimal digits of a non-negative integer below 2^53 into the scratch buffer. */
const scratchInteger = (value: number) => {
  const first = scratchLen;
  let x = value;
  do {
    let q = Math.floor(x / 10);
    let digit = x - q * 10;
    if (digit < 0) {
      q -= 1;
      digit += 10;
    } else if (digit >= 10) {
      q += 1;
      digit -= 10;
    }
    scratchPut(48 + digit);
    x = q;
  } while (x > 0 && scratchLen < SCRATCH_CAPACITY);
  // digits came out least significant first
  let lo = first;
  let hi = scratchLen - 1;
  while (lo < hi) {
    const t = scratch[lo];
    scratch[lo] = scratch[hi];
    scratch[hi] = t;
    lo++;
    hi--;
  }
};

const scratchNumber = (value: number, kind: number, digits: number) => {
  if (value !== value || value === Infinity || value === -Infinity) {
    scratchPut(63); // '?'
    return;
  }
  if (kind === 120) {
    // 'x': the low 32 bits as `digits` hex digits
    const v = value >>> 0;
    for (let shift = (digits - 1) * 4; shift >= 0; shift -= 4) {
      const nibble = (v >>> shift) & 15;
      scratchPut(nibble < 10 ? 48 + nibble : 87 + nibble);
    }
    return;
  }
  let x = value;
  if (x < 0) {
    scratchPut(45); // '-'
    x = -x;
  }
  let decimals = digits;
  if (kind !== 102) decimals = Math.floor(x) === x ? 0 : 1; // plain: integers as such, else one decimal
  if (decimals === 0) {
    scratchInteger(Math.round(x));
    return;
  }
  let scale = 1;
  for (let i = 0; i < decimals; i++) scale *= 10;
  const scaled = Math.round(x * scale);
  const whole = Math.floor(scaled / scale);
  scratchInteger(whole);
  scratchPut(46); // '.'
  // fractional digits, filled from the right
  let frac = scaled - whole * scale;
  const first = scratchLen;
  for (let i = 0; i < decimals; i++) scratchPut(48);
  for (let k = first + decimals - 1; k >= first; k--) {
    const q = Math.floor(frac / 10);
    if (k < SCRATCH_CAPACITY) scratch[k] = 48 + (frac - q * 10);
    frac = q;
  }
};

const scratchString = (s: string) => {
  const n = s.length;
  for (let i = 0; i < n; i++) {
    const cp = codePointAt(s, i);
    if (cp > 0xffff) i++;
    scratchPut(visible(cp));
  }
};

const scratchSpan = (span: Span) => {
  const buf = span.buf;
  const end = span.start + span.len;
  for (let i = span.start; i < end; i++) scratchPut(visible(buf[i]));
};

const scratchArg = (arg: Arg | undefined, kind: number, digits: number) => {
  if (arg === undefined) return;
  if (typeof arg === 'number') scratchNumber(arg, kind, digits);
  else if (typeof arg === 'string') scratchString(arg);
  else scratchSpan(arg);
};

const isDigit = (c: number) => c >= 48 && c <= 57;

/**
 * Renders the placeholder starting at template[i] ('{'); returns the index after it,
 * or i when the text there is not a placeholder (then '{' is literal).
 */
const placeholder = (t: string, i: number, a?: Arg, b?: Arg, c?: Arg, d?: Arg) => {
  const n = t.length;
  let j = i + 1;
  if (j >= n) return i;
  const index = t.charCodeAt(j) - 48;
  if (index < 0 || index > 3) return i;
  j++;
  let width = 0;
  let left = false;
  let kind = 0;
  let digits = 0;
  if (j < n && t.charCodeAt(j) === 44) {
    // ','
    j++;
    if (j < n && t.charCodeAt(j) === 45) {
      left = true;
      j++;
    }
    while (j < n && isDigit(t.charCodeAt(j))) {
      width = width * 10 + t.charCodeAt(j) - 48;
      j++;
    }
  }
  if (j < n && t.charCodeAt(j) === 58) {
    // ':'
    j++;
    if (j < n) {
      kind = t.charCodeAt(j);
      j++;
    }
    while (j < n && isDigit(t.charCodeAt(j))) {
      digits = digits * 10 + t.charCodeAt(j) - 48;
      j++;
    }
    if (digits > 8) digits = 8;
  }
  if (j >= n || t.charCodeAt(j) !== 125) return i; // '}'
  scratchLen = 0;
  if (index === 0) scratchArg(a, kind, digits);
  else if (index === 1) scratchArg(b, kind, digits);
  else if (index === 2) scratchArg(c, kind, digits);
  else scratchArg(d, kind, digits);
  let cols = 0;
  for (let k = 0; k < scratchLen; k++) cols += columns(scratch[k]);
  if (!left) for (let k = cols; k < width; k++) put(32);
  for (let k = 0; k < scratchLen; k++) put(scratch[k]);
  if (left) for (let k = cols; k < width; k++) put(32);
  return j + 1;
};

/** Appends a template (a message's text, or a machine string from kernel/lib/markers.ts) with its arguments. */
export const fmtAppendTemplate = (t: string, a?: Arg, b?: Arg, c?: Arg, d?: Arg) => {
  const n = t.length;
  let i = 0;
  while (i < n) {
    const cp = codePointAt(t, i);
    if (cp === 123) {
      const next = placeholder(t, i, a, b, c, d);
      if (next !== i) {
        i = next;
        continue;
      }
    }
    if (cp > 0xffff) i++;
    put(cp);
    i++;
  }
};

/** Appends the message `key` (current language) with its arguments to the buffer. */
export const fmtAppend = (key: MsgKey, a?: Arg, b?: Arg, c?: Arg, d?: Arg) => fmtAppendTemplate(text(key), a, b, c, d);
