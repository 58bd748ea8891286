// Splits a line into words (separated by spaces, tabs or U+3000 ideographic spaces)
// without copying: each word is a Span over the line. A word that starts with a double
// quote runs to the next double quote (or the end of the line) and keeps its spaces; the
// quotes are not part of it.
import { Span } from '../lib/format';

/** Words kept; a line may have more (tokenCount() counts them all). */
export const MAX_TOKENS = 16;

const spans: Span[] = [];
const placeholder = new Uint32Array(1);
for (let i = 0; i < MAX_TOKENS; i++) spans.push(new Span(placeholder));
let count = 0;

const isSpace = (cp: number) => cp === 0x20 || cp === 0x09 || cp === 0x3000;

/** ASCII letters to lower case (command names and arguments are matched case-insensitively). */
export const foldCase = (cp: number) => (cp >= 65 && cp <= 90 ? cp + 32 : cp);

export const tokenize = (buf: Uint32Array, length: number) => {
  count = 0;
  let i = 0;
  while (i < length) {
    while (i < length && isSpace(buf[i])) i++;
    if (i >= length) break;
    let start = i;
    let end = i;
    if (buf[i] === 0x22) {
      start = i + 1;
      i = start;
      while (i < length && buf[i] !== 0x22) i++;
      end = i;
      if (i < length) i++; // the closing quote
    } else {
      while (i < length && !isSpace(buf[i])) i++;
      end = i;
    }
    if (count < MAX_TOKENS) {
      const s = spans[count];
      s.buf = buf;
      s.start = start;
      s.len = end - start;
    }
    count++;
  }
};

/** Number of words on the line. */
export const tokenCount = () => count;

/** Word i (i < MAX_TOKENS). */
export const token = (i: number) => spans[i];

/** Whether a span spells `word` (ASCII case-insensitive). */
export const spanIs = (span: Span, word: string) => {
  if (span.len !== word.length) return false;
  for (let i = 0; i < span.len; i++) {
    if (foldCase(span.buf[span.start + i]) !== foldCase(word.charCodeAt(i))) return false;
  }
  return true;
};
