// A typed array made from a length owns a buffer of that length: porffor 0.61.13 gave
// every one a fixed 16 KiB, so a larger array overwrote the allocations after it (the
// console's 32 KiB history wrote into its neighbours and, through them, into string
// constants) (toolchain/patches/porffor/06-typedarray-buffer-size.patch).
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { compileJs, runWasm, runJsReference } from './helpers.mjs';

const source = `
const line = (x) => { print(x); printChar(10); };
export const main = () => {
  const sizes = [4096, 4097, 8192, 20000, 65536];
  for (let k = 0; k < sizes.length; k++) {
    const n = sizes[k];
    const big = new Uint32Array(n);
    const after = new Uint16Array(32);
    const bytes = new Uint8Array(n * 3);
    const tail = new Float64Array(8);
    for (let i = 0; i < 32; i++) after[i] = 1000 + i;
    for (let i = 0; i < 8; i++) tail[i] = 0.5 + i;
    for (let i = 0; i < n; i++) big[i] = 0xabcd0000 + i;
    for (let i = 0; i < n * 3; i++) bytes[i] = i;
    let sumAfter = 0;
    for (let i = 0; i < 32; i++) sumAfter += after[i];
    let sumTail = 0;
    for (let i = 0; i < 8; i++) sumTail += tail[i];
    line(big.length); line(after.length); line(sumAfter); line(sumTail);
    line(big[n - 1]); line(bytes[n * 3 - 1]); line(bytes.length);
  }
  return 0;
};
`;

let compiled;
before(async () => { compiled = await compileJs(source); });

test('typed arrays larger than 16 KiB do not overwrite the arrays allocated after them', async () => {
  const expected = runJsReference(source).out;
  const { out } = await runWasm(compiled);
  assert.equal(out, expected);
});
