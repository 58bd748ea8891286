// Storage of the ACPI parser, allocated once at start. porffor 0.61 gives every typed
// array its own 16 KiB allocation (a larger one would run into the next), so the
// parser's records are views (subarray: a 12-byte header each) into two pools.
const POOL_WORDS = 4095; // 16380 bytes: the most one allocation holds

const poolA = new Uint32Array(POOL_WORDS);
const poolB = new Uint32Array(POOL_WORDS);
let usedA = 0;
let usedB = 0;

/** A view of n u32 words for a module's records (taken at module start, never freed). */
export const words = (n: number) => {
  if (usedA + n <= POOL_WORDS) {
    const view = poolA.subarray(usedA, usedA + n);
    usedA += n;
    return view;
  }
  const view = poolB.subarray(usedB, usedB + n);
  usedB += n;
  return view;
};

/** Words taken from the pools (a test checks they fit: usedB <= POOL_WORDS). */
export const wordsUsed = () => usedA + usedB;
export const wordsCapacity = () => 2 * POOL_WORDS;
