// Bitwise operators compiled by porffor must wrap like JS (ToInt32 / ToUint32 are
// modular), not saturate (toolchain/patches/porffor/02-bitwise-modular-toint32.patch).
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { compileJs, runWasm, runJsReference } from './helpers.mjs';

// operands the hypervisor meets: u32 values, negatives, beyond 2^32 up to 2^53, and
// the odd ones (fractions, NaN, infinities)
const VALUES = [
  '0', '1', '-1', '5', '-5', '31', '32', '33', '0x7fffffff', '0x80000000', '0xdeadbeef', '0xffffffff',
  '0xf0f0f0f0', '2 ** 32', '2 ** 32 + 5', '-(2 ** 31)', '-(2 ** 31) - 1', '-4294967297', '2 ** 40 + 0x1234',
  '2 ** 53', '2 ** 53 - 1', '-(2 ** 53)', '1.5', '-1.5', '0.9', '4294967296.75', 'NaN', 'Infinity', '-Infinity',
];
const BINARY = ['|', '&', '^', '<<', '>>', '>>>'];

// Each line of output is one result; values come from an array so they are only known
// at run time, plus a block of literal expressions (compile-time folding).
const LITERALS = [
  '0xdeadbeef | 0', '(1 << 31) >>> 0', '~0x80000000', '-1 >>> 0', '0xffffffff & 0xf0f0f0f0', '(2 ** 32 + 5) | 0',
  '~0xdeadbeef', '0x80000000 >> 4', '0x80000000 >>> 4', '1 << 31', '1 << 32', '(0xffffffff ^ 0x0f0f0f0f) >>> 0',
];
const source = `
const V = [${VALUES.join(', ')}];
const line = (x) => { print(x); printChar(10); };
export const main = () => {
  ${LITERALS.map(e => `line(${e});`).join('\n  ')}
  for (let i = 0; i < V.length; i++) {
    const a = V[i];
    line(a | 0); line(a >>> 0); line(~a); line(~~a); line(a >> 0); line(a << 0);
    line(Math.imul(a, 3)); line(Math.imul(a, a)); line(Math.clz32(a));
    for (let j = 0; j < V.length; j++) {
      const b = V[j];
      ${BINARY.map(op => `line(a ${op} b);`).join(' ')}
    }
    // compound assignments
    let c = a; c |= 0x10; line(c);
    c = a; c &= 0xffff0000; line(c);
    c = a; c ^= -1; line(c);
    c = a; c <<= 31; line(c);
    c = a; c >>= 3; line(c);
    c = a; c >>>= 0; line(c);
    c = a; c >>>= 28; line(c);
  }
  // results of bitwise ops feeding each other
  let h = 0x811c9dc5;
  for (let k = 0; k < 64; k++) { h ^= k * 0x01000193; h = Math.imul(h, 0x01000193) >>> 0; h = (h << 7 | h >>> 25) >>> 0; }
  line(h);
  return 0;
};
`;

let compiled;
before(async () => { compiled = await compileJs(source); });

test('bitwise operators, ~, compound assignments, Math.imul/clz32 match V8', async () => {
  const expected = runJsReference(source).out.split('\n');
  const actual = (await runWasm(compiled)).out.split('\n');
  assert.equal(actual.length, expected.length);
  const wrong = [];
  for (let i = 0; i < expected.length; i++) if (actual[i] !== expected[i]) wrong.push(`line ${i + 1}: got ${actual[i]}, want ${expected[i]}`);
  assert.deepEqual(wrong.slice(0, 20), [], `${wrong.length} results differ from V8`);
});

test('the measured cases', async () => {
  const lines = (await runWasm(compiled)).out.split('\n');
  assert.deepEqual(lines.slice(0, 6), ['-559038737', '2147483648', '2147483647', '4294967295', '-252645136', '5']);
});
