// Splits a line into words (separated by spaces, tabs or U+3000 ideographic spaces)
// without copying: each word is a Span over the line.
import { Span } from './format';

/** Words kept; a line may have more (tokenCount() counts them all). */
export const MAX_TOKENS = 8;

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
    const start = i;
    while (i < length && !isSpace(buf[i])) i++;
    if (count < MAX_TOKENS) {
      const s = spans[count];
      s.buf = buf;
      s.start = start;
      s.len = i - start;
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
