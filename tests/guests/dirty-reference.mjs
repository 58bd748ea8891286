// What tests/guests/dirty.zig prints: the checksum after each round, for a run with
// `pages` pages, `rate` pages per round and `words` words written per page (words= on its
// command line, 1024 by default). Page write k fills its first `words` words with k*1024 + i
// (mod 2^32); the checksum is FNV-1a 32-bit over the little-endian bytes of every word
// written, in write order, carried over from round to round.
export function dirtyChecksums(pages, rate, rounds, words = 1024) {
  void pages; // the pattern depends only on the write number, not on which page it lands
  const out = [];
  let h = 0x811c9dc5;
  let k = 0;
  for (let r = 1; r <= rounds; r++) {
    for (let n = 0; n < rate; n++, k++) {
      for (let i = 0; i < words; i++) {
        let w = ((k * 1024) + i) >>> 0;
        for (let b = 0; b < 4; b++) {
          h = Math.imul(h ^ (w & 0xff), 0x01000193) >>> 0;
          w >>>= 8;
        }
      }
    }
    out.push(h);
  }
  return out;
}

/// The lines dirty prints for `rounds` rounds ("round <n> checksum 0x<hex>").
export function dirtyRoundLines(pages, rate, rounds, words = 1024) {
  return dirtyChecksums(pages, rate, rounds, words).map((h, i) => `round ${i + 1} checksum 0x${h.toString(16)}`);
}
