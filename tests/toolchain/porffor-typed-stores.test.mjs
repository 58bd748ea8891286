// Numbers stored into typed arrays and through DataView setters must wrap like JS
// (ToUint8 / ToInt16 / ToUint32 ... are modular), not saturate
// (toolchain/patches/porffor/04-typed-stores-modular.patch).
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { compileJs, runWasm, runJsReference } from './helpers.mjs';

// one line per value: every element type, compound assignment, DataView both endians
const source = `
const V = [0, 1, -1, -2, 0x1ff, 0x1234, 0x12345, 0x7fffffff, 0x80000000, 0xdeadbeef, 0xffffffff, 2 ** 32 + 5, -(2 ** 31), 300.7, -300.7, 2 ** 53, NaN, Infinity];
const line = (x) => { print(x); printChar(32); };
export const main = () => {
  const u8 = new Uint8Array(1), i8 = new Int8Array(1), u16 = new Uint16Array(1), i16 = new Int16Array(1), u32 = new Uint32Array(1), i32 = new Int32Array(1);
  const dv = new DataView(new ArrayBuffer(8));
  for (let k = 0; k < V.length; k++) {
    const v = V[k];
    u8[0] = v; i8[0] = v; u16[0] = v; i16[0] = v; u32[0] = v; i32[0] = v;
    line(u8[0]); line(i8[0]); line(u16[0]); line(i16[0]); line(u32[0]); line(i32[0]);
    u32[0] = v | 0x80000000; line(u32[0]); i32[0] = v >>> 1; line(i32[0]);
    u8[0] += v; line(u8[0]);
    for (const le of [true, false]) {
      dv.setUint8(0, v); line(dv.getUint8(0)); line(dv.getInt8(0));
      dv.setInt8(1, v); line(dv.getUint8(1));
      dv.setUint16(0, v, le); line(dv.getUint16(0, le)); line(dv.getUint16(0, !le)); line(dv.getInt16(0, le));
      dv.setInt16(2, v, le); line(dv.getUint16(2, le));
      dv.setUint32(0, v, le); line(dv.getUint32(0, le)); line(dv.getUint32(0, !le)); line(dv.getInt32(0, le));
      dv.setInt32(4, v, le); line(dv.getUint32(4, le)); line(dv.getInt32(4, !le));
      dv.setUint32(0, v | 0, le); line(dv.getUint32(0, le));
    }
    printChar(10);
  }
  return 0;
};
`;

let compiled;
before(async () => { compiled = await compileJs(source); });

test('typed array stores and DataView round trips match V8', async () => {
  const expected = runJsReference(source).out.split('\n');
  const actual = (await runWasm(compiled)).out.split('\n');
  assert.equal(actual.length, expected.length);
  const wrong = [];
  for (let i = 0; i < expected.length; i++) if (actual[i] !== expected[i]) wrong.push(`line ${i + 1}:\n  got  ${actual[i]}\n  want ${expected[i]}`);
  assert.deepEqual(wrong.slice(0, 5), [], `${wrong.length} of ${expected.length} lines differ from V8`);
});
