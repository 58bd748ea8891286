// Unicode text handling without strings: UTF-8 (RFC 3629) encoding and decoding,
// and the terminal column width of a code point.

export const REPLACEMENT_CHAR = 0xfffd;

/**
 * The code point at UTF-16 index i of a kernel string, a surrogate pair joined; it took
 * two units when the result is above 0xFFFF (the caller then skips one more).
 */
export const codePointAt = (s: string, i: number) => {
  const cp = s.charCodeAt(i);
  if (cp >= 0xd800 && cp <= 0xdbff && i + 1 < s.length) {
    const low = s.charCodeAt(i + 1);
    if (low >= 0xdc00 && low <= 0xdfff) return 0x10000 + ((cp - 0xd800) << 10) + (low - 0xdc00);
  }
  return cp;
};

/**
 * Writes the UTF-8 form of code point `cp` at out[pos]; returns the position after it.
 * The caller keeps 4 bytes of room. Surrogates and values above U+10FFFF become U+FFFD.
 */
export const putUtf8 = (out: Uint8Array, pos: number, cp: number) => {
  let c = cp;
  if ((c >= 0xd800 && c <= 0xdfff) || c > 0x10ffff || c < 0) c = REPLACEMENT_CHAR;
  if (c < 0x80) {
    out[pos] = c;
    return pos + 1;
  }
  if (c < 0x800) {
    out[pos] = 0xc0 | (c >>> 6);
    out[pos + 1] = 0x80 | (c & 0x3f);
    return pos + 2;
  }
  if (c < 0x10000) {
    out[pos] = 0xe0 | (c >>> 12);
    out[pos + 1] = 0x80 | ((c >>> 6) & 0x3f);
    out[pos + 2] = 0x80 | (c & 0x3f);
    return pos + 3;
  }
  out[pos] = 0xf0 | (c >>> 18);
  out[pos + 1] = 0x80 | ((c >>> 12) & 0x3f);
  out[pos + 2] = 0x80 | ((c >>> 6) & 0x3f);
  out[pos + 3] = 0x80 | (c & 0x3f);
  return pos + 4;
};

/**
 * Incremental UTF-8 decoder following the WHATWG Encoding Standard's decoder
 * (each maximal invalid subpart becomes one U+FFFD; overlongs, surrogates and
 * values above U+10FFFF are invalid).
 */
export class Utf8Decoder {
  need = 0;
  cp = 0;
  lower = 0x80;
  upper = 0xbf;
  /** Set when the last byte ended a broken sequence and must be fed again. */
  again = false;

  reset() {
    this.need = 0;
    this.cp = 0;
    this.lower = 0x80;
    this.upper = 0xbf;
  }

  /** Feeds one byte; returns a code point, U+FFFD for an error, or -1 while a sequence is incomplete. */
  feed(byte: number) {
    this.again = false;
    if (this.need === 0) {
      if (byte < 0x80) return byte;
      if (byte >= 0xc2 && byte <= 0xdf) {
        this.need = 1;
        this.cp = byte & 0x1f;
      } else if (byte >= 0xe0 && byte <= 0xef) {
        if (byte === 0xe0) this.lower = 0xa0;
        if (byte === 0xed) this.upper = 0x9f;
        this.need = 2;
        this.cp = byte & 0x0f;
      } else if (byte >= 0xf0 && byte <= 0xf4) {
        if (byte === 0xf0) this.lower = 0x90;
        if (byte === 0xf4) this.upper = 0x8f;
        this.need = 3;
        this.cp = byte & 0x07;
      } else {
        return REPLACEMENT_CHAR;
      }
      return -1;
    }
    if (byte < this.lower || byte > this.upper) {
      this.reset();
      this.again = true;
      return REPLACEMENT_CHAR;
    }
    this.lower = 0x80;
    this.upper = 0xbf;
    this.cp = (this.cp << 6) | (byte & 0x3f);
    this.need--;
    if (this.need > 0) return -1;
    const done = this.cp;
    this.cp = 0;
    return done;
  }

  /** Whether a multi-byte sequence has started but not ended. */
  pending() {
    return this.need > 0;
  }
}

/** Replaces control characters (C0, DEL, C1) and lone surrogates with U+FFFD, for display. */
export const visible = (cp: number) => {
  if (cp < 0x20 || (cp >= 0x7f && cp < 0xa0) || (cp >= 0xd800 && cp <= 0xdfff) || cp > 0x10ffff) return REPLACEMENT_CHAR;
  return cp;
};

/**
 * Terminal columns of a code point: 0 for combining marks, 2 for East Asian Wide and
 * Fullwidth characters (Unicode UAX #11, main blocks), 1 otherwise.
 */
export const columns = (cp: number) => {
  if (cp < 0x300) return 1;
  if (cp <= 0x36f) return 0; // combining diacritical marks
  if (cp < 0x1100) return 1;
  if (cp <= 0x115f) return 2; // Hangul Jamo initials
  if (cp >= 0x2e80 && cp <= 0x303e) return 2; // CJK radicals, Kangxi, CJK symbols and punctuation
  if (cp >= 0x3041 && cp <= 0x33ff) return 2; // Hiragana, Katakana, Bopomofo, Hangul compat, CJK compat
  if (cp >= 0x3400 && cp <= 0x4dbf) return 2; // CJK extension A
  if (cp >= 0x4e00 && cp <= 0x9fff) return 2; // CJK unified ideographs
  if (cp >= 0xa000 && cp <= 0xa4cf) return 2; // Yi
  if (cp >= 0xac00 && cp <= 0xd7a3) return 2; // Hangul syllables
  if (cp >= 0xf900 && cp <= 0xfaff) return 2; // CJK compatibility ideographs
  if (cp >= 0xfe30 && cp <= 0xfe4f) return 2; // CJK compatibility forms
  if (cp >= 0xff00 && cp <= 0xff60) return 2; // fullwidth forms
  if (cp >= 0xffe0 && cp <= 0xffe6) return 2; // fullwidth signs
  if (cp >= 0x1f300 && cp <= 0x1f64f) return 2; // pictographs, emoticons
  if (cp >= 0x20000 && cp <= 0x3fffd) return 2; // CJK extensions B and later
  return 1;
};
