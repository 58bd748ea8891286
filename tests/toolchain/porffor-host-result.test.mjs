// Patch 05: a value returned by a host import is a number. Unpatched, it took the type
// the previous typed call in the same function left behind, so comparisons and typeof
// on hardware values (a port read right after a string method call) went wrong.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './helpers.mjs';

test('host import results compare and typeof as numbers after a typed call', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'zv-host-result-'));
  writeFileSync(join(dir, 'k.ts'), `
export const main = () => {
  const name = 'zerovisor';
  const upper = name.toUpperCase();
  const v = hv_io_in8(0x3ff);
  hv_io_out8(1, v === 0x5a ? 1 : 0);
  hv_io_out8(2, typeof v === 'number' ? 1 : 0);
  hv_io_out8(3, v + 1);
  hv_io_out8(4, upper.length);
  const lo = new Uint32Array(2);
  const w = hv_io_in8(0x3fd);
  hv_io_out8(5, w == 0x60 ? 1 : 0);
  hv_io_out8(6, lo.length);
};
`);
  execFileSync('node', [join(ROOT, 'toolchain/compile.mjs'), join(dir, 'k.ts'), join(dir, 'k.wasm')]);
  const out = new Map();
  const stub = () => 0;
  const { instance } = await WebAssembly.instantiate(readFileSync(join(dir, 'k.wasm')), {
    '': new Proxy({
      hv_io_in8: (port) => (port === 0x3ff ? 0x5a : 0x60),
      hv_io_out8: (port, value) => out.set(port, value),
    }, { get: (t, k) => t[k] ?? stub }),
  });
  instance.exports.m();
  instance.exports.main();
  assert.deepEqual(Object.fromEntries(out), { 1: 1, 2: 1, 3: 0x5b, 4: 9, 5: 1, 6: 2 });
});
