// "Did you mean ...?": the closest word by optimal string alignment distance
// (Levenshtein plus transposition of adjacent characters, so "hepl" is 1 from "help").
import type { Span } from '../lib/format';
import { foldCase } from './tokens';

const MAX = 32; // longer words get no suggestion
const rowPrev2 = new Uint32Array(MAX + 1);
const rowPrev = new Uint32Array(MAX + 1);
const rowCur = new Uint32Array(MAX + 1);

/** Edit distance between a span and a word (ASCII case-insensitive); MAX + 1 if too long. */
export const distance = (span: Span, word: string) => {
  const n = span.len;
  const m = word.length;
  if (n > MAX || m > MAX) return MAX + 1;
  for (let j = 0; j <= m; j++) rowPrev[j] = j;
  for (let i = 1; i <= n; i++) {
    const a = foldCase(span.buf[span.start + i - 1]);
    rowCur[0] = i;
    for (let j = 1; j <= m; j++) {
      const b = foldCase(word.charCodeAt(j - 1));
      const cost = a === b ? 0 : 1;
      let best = rowPrev[j] + 1;
      if (rowCur[j - 1] + 1 < best) best = rowCur[j - 1] + 1;
      if (rowPrev[j - 1] + cost < best) best = rowPrev[j - 1] + cost;
      if (i > 1 && j > 1 && a === foldCase(word.charCodeAt(j - 2)) && foldCase(span.buf[span.start + i - 2]) === b) {
        if (rowPrev2[j - 2] + 1 < best) best = rowPrev2[j - 2] + 1;
      }
      rowCur[j] = best;
    }
    for (let j = 0; j <= m; j++) {
      rowPrev2[j] = rowPrev[j];
      rowPrev[j] = rowCur[j];
    }
  }
  return rowPrev[m];
};

const isPrefix = (span: Span, word: string) => {
  if (span.len < 2 || span.len > word.length) return false;
  for (let i = 0; i < span.len; i++) {
    if (foldCase(span.buf[span.start + i]) !== foldCase(word.charCodeAt(i))) return false;
  }
  return true;
};

/**
 * Index of the word in `words` closest to `span`, or -1 when none is close enough:
 * within 1 edit for words up to 4 characters, 2 for longer ones, or a prefix of at
 * least 2 characters ("ver" -> "version").
 */
export const closest = (span: Span, words: string[]) => {
  let best = -1;
  let bestDistance = MAX + 1;
  for (let k = 0; k < words.length; k++) {
    const d = distance(span, words[k]);
    if (d < bestDistance) {
      best = k;
      bestDistance = d;
    }
  }
  const limit = span.len <= 4 ? 1 : 2;
  if (best >= 0 && bestDistance <= limit) return best;
  for (let k = 0; k < words.length; k++) if (isPrefix(span, words[k])) return k;
  return -1;
};
