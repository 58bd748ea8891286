// The shim's own checksum loops (boot/host.zig: hv_crc32_update, hv_fnv1a_update,
// hv_phys_word_hash), run for real under QEMU + OVMF: a test kernel
// (tests/fixtures/kernels/hashes.ts) hashes known bytes through the host calls and prints
// the results; they must equal the published check values and references computed here
// from each definition (not the simulator's copies in tests/sim/checksums.mjs). One boot.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import zlib from 'node:zlib';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const hashBuild = 'build/test-hash-kernel';
const make = (...args) => spawnSync('make', ['--no-print-directory', ...args], { cwd: root, encoding: 'utf8' });

let results; // name -> [hex, ...] from the kernel's "HASH <name> <hex>..." lines
let output;

before(() => {
  const b = make(`B=${hashBuild}`, 'KERNEL_ENTRY=tests/fixtures/kernels/hashes.ts');
  assert.equal(b.status, 0, `building the hash kernel failed:\n${b.stdout}${b.stderr}`);
  const dir = mkdtempSync(join(tmpdir(), 'zv-hashes-'));
  writeFileSync(join(dir, 'startup.zv'), '# the hash kernel reads no script\n');
  const r = spawnSync(join(root, 'toolchain/uefi-run'), ['--timeout', '90', '--script', join(dir, 'startup.zv'), join(root, hashBuild, 'zerovisor.efi')], { encoding: 'utf8' });
  output = r.stdout;
  assert.equal(r.status, 0, `the hash kernel did not end with 0:\n${r.stdout}${r.stderr}`);
  results = new Map();
  for (const m of output.matchAll(/^HASH (\S+) ([0-9a-f]{8})(?: ([0-9a-f]{8}))?\r?$/gm)) {
    results.set(m[1], m[3] === undefined ? [m[2]] : [m[2], m[3]]);
  }
});

const got = (name) => {
  assert.ok(results.has(name), `no "HASH ${name}" line in:\n${output}`);
  return results.get(name);
};
const hex = (n) => (n >>> 0).toString(16).padStart(8, '0');

// The page the kernel fills: byte i is (i * 7 + (i >>> 8) * 13 + 1) & 0xff.
const page = Uint8Array.from({ length: 4096 }, (_, i) => (i * 7 + (i >>> 8) * 13 + 1) & 0xff);

// FNV-1a 32-bit (Fowler/Noll/Vo; IETF draft-eastlake-fnv): offset basis 0x811C9DC5, for
// each byte xor then multiply by the FNV prime 16777619 (0x01000193) mod 2^32.
const fnv1a = (bytes) => bytes.reduce((h, b) => Number((BigInt((h ^ b) >>> 0) * 16777619n) % 4294967296n), 0x811c9dc5);

// The migration word hash as host-abi.mjs defines it, with BigInt arithmetic: over
// little-endian u32 words w, hi = (hi ^ w) * 0x01000193, lo = (lo ^ w) * 0x9E3779B1 + 0x7F4A7C15 (mod 2^32).
const wordHash = (hi, lo, bytes) => {
  let h = BigInt(hi);
  let l = BigInt(lo);
  for (let i = 0; i + 4 <= bytes.length; i += 4) {
    const w = BigInt(bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16)) + (BigInt(bytes[i + 3]) << 24n);
    h = ((h ^ w) * 0x01000193n) & 0xffffffffn;
    l = (((l ^ w) * 0x9e3779b1n) + 0x7f4a7c15n) & 0xffffffffn;
  }
  return [hex(Number(h)), hex(Number(l))];
};

test('CRC-32 loop: the CRC-32/ISO-HDLC check value, a split update, a whole page', () => {
  // The catalogue check value of CRC-32/ISO-HDLC (zlib, IEEE 802.3) over "123456789".
  assert.deepEqual(got('crc32-check'), ['cbf43926']);
  assert.deepEqual(got('crc32-split'), ['cbf43926'], 'the register carries over between updates');
  assert.deepEqual(got('crc32-empty'), ['00000000']);
  assert.deepEqual(got('crc32-page'), [hex(zlib.crc32(page))], 'a page of the pattern, against zlib');
});

test('FNV-1a loop: published test vectors and a whole page', () => {
  // FNV-1a 32-bit test vectors (draft-eastlake-fnv, appendix C): "" 0x811c9dc5,
  // "a" 0xe40c292c, "foobar" 0xbf9cf968.
  assert.deepEqual(got('fnv1a-empty'), ['811c9dc5']);
  assert.deepEqual(got('fnv1a-a'), ['e40c292c']);
  assert.deepEqual(got('fnv1a-foobar'), ['bf9cf968']);
  assert.equal(hex(fnv1a(Buffer.from('foobar'))), 'bf9cf968', 'the reference here agrees with the vector');
  assert.deepEqual(got('fnv1a-page'), [hex(fnv1a(page))]);
});

test('word hash over RAM: a page, no words, and one word whose hi half is FNV-1a of "a"', () => {
  assert.deepEqual(got('words-page'), wordHash(0x811c9dc5, 0, page));
  assert.deepEqual(got('words-empty'), ['811c9dc5', '12345678'], 'no words: the state is unchanged');
  // The word 0x00000061 from the FNV offset basis: the hi half does FNV-1a's one step on
  // the byte 0x61, so it equals the published FNV-1a of "a".
  const a = got('words-a');
  assert.equal(a[0], 'e40c292c');
  assert.deepEqual(a, wordHash(0x811c9dc5, 0, Uint8Array.of(0x61, 0, 0, 0)));
});
