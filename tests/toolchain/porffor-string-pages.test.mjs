// String constants survive instantiation: porffor 0.61.13 filled the first 16 KiB page of
// interned strings as if it started at 0 (it starts at 16), so the last strings ran into
// page 1, whose data segment, written later, overwrote them ("acpi" and "pci" became
// unknown commands) (toolchain/patches/porffor/07-string-bin-page0.patch).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { compileJs, runWasm, runJsReference } from './helpers.mjs';
import { kernelWasmPath } from '../sim/harness.mjs';
import { readFileSync } from 'node:fs';

/** Active data segments of a Wasm module: { offset, bytes }. */
const dataSegments = (buf) => {
  let p = 8;
  const leb = () => { let r = 0, s = 0, b; do { b = buf[p++]; r += (b & 0x7f) * 2 ** s; s += 7; } while (b & 0x80); return r; };
  const segs = [];
  while (p < buf.length) {
    const id = buf[p++];
    const size = leb();
    const end = p + size;
    if (id === 11) {
      const n = leb();
      for (let i = 0; i < n; i++) {
        assert.equal(leb(), 0, 'only active segments of memory 0');
        assert.equal(buf[p++], 0x41, 'offset is an i32.const');
        let r = 0, s = 0, b;
        do { b = buf[p++]; r |= (b & 0x7f) << s; s += 7; } while (b & 0x80);
        if (s < 32 && (b & 0x40)) r |= -1 << s;
        p++; // end
        const len = leb();
        segs.push({ offset: r, bytes: buf.subarray(p, p + len) });
        p += len;
      }
    }
    p = end;
  }
  return segs;
};

/** Segments whose bytes a later segment overwrites. */
const clobbered = (segs) => segs.filter((a, i) => segs.slice(i + 1).some((b) => b.offset < a.offset + a.bytes.length && a.offset < b.offset + b.bytes.length));

test('no data segment of the kernel overlaps another', () => {
  const segs = dataSegments(readFileSync(kernelWasmPath()));
  assert.ok(segs.length > 100);
  assert.deepEqual(clobbered(segs).map((s) => Buffer.from(s.bytes.subarray(4)).toString('latin1')), []);
});

test('a program with more than a page of string constants prints every one intact', async () => {
  // ~20 KiB of distinct strings, so the first page fills up and a second one starts
  const words = Array.from({ length: 700 }, (_, i) => `word-${i}-${'x'.repeat(i % 37)}`);
  const source = `
const WORDS = ${JSON.stringify(words)};
export const main = () => {
  for (let i = 0; i < WORDS.length; i++) {
    const w = WORDS[i];
    for (let k = 0; k < w.length; k++) printChar(w.charCodeAt(k));
    printChar(10);
  }
  return 0;
};
`;
  const wasm = await compileJs(source);
  assert.deepEqual(clobbered(dataSegments(Buffer.from(wasm))), []);
  const { out } = await runWasm(wasm);
  assert.equal(out, runJsReference(source).out);
});
