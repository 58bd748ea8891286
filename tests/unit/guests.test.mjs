// The test guests built by `make guests` (tests/guests/) into build/guests/: each ELF is an
// ELF32 i386 executable (System V ABI) with a valid multiboot v1 header in its first 8192
// bytes (Multiboot 0.6.96 section 3.1), segments at or above 1 MiB, the entry inside a
// loaded segment; hello.bin is exactly the hello guest's loaded bytes from 0x100000 with
// the entry at its first byte; no MMX/SSE instruction anywhere; the dirty guest's checksum
// reference reproduces what the guest printed under QEMU.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { dirtyChecksums, dirtyRoundLines } from '../guests/dirty-reference.mjs';

const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const OUT = join(ROOT, 'build', 'guests');
const GUESTS = {
  hello: ['hello from a Zerovisor guest\n', 'cmdline: ', 'mem_upper: ', 'mmap 0x'],
  probe: ['cpuid 0x40000000 eax 0x', 'msr 0x', ': #GP\n', 'probe done\n'],
  dirty: ['round ', ' checksum 0x', 'pages=', 'rate=', 'rounds=', 'words='],
  oob: ['reading outside my RAM\n', 'read 0x'],
  triple: ['about to triple-fault\n'],
  pit: ['pit: tsc ', 'pit: channel 0 status 0x', 'pit: gate low '],
  'timer-bench': ['timer-bench: armed, ', 'timer-bench: done, active ', ' latency ticks p50 ', 'timer-bench: no TSC-deadline timer\n'],
  strio: ['strio: rep outsb to COM1\n', ': rep outsb through the alias\n', 'long: rep outsb at the 4-level alias\n'],
  mmio: ['mmio: cmpxchg at TMICT next\n', 'mmio: long mode\n', ' differs: ram ', ' forms declared', ' differ'],
};
const LOAD_BASE = 0x100000;
const MB_MAGIC = 0x1badb002;
const PT_LOAD = 1;

// `make guests` is incremental: cheap when everything is up to date.
execFileSync('make', ['-s', 'guests'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });

/** ELF32 little-endian header and program headers (System V ABI, chapter 4 and 5). */
function parseElf32(bytes) {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const h = {
    magic: bytes.subarray(0, 4).toString('latin1'),
    class: bytes[4], data: bytes[5], identVersion: bytes[6],
    type: v.getUint16(16, true), machine: v.getUint16(18, true), version: v.getUint32(20, true),
    entry: v.getUint32(24, true), phoff: v.getUint32(28, true), ehsize: v.getUint16(40, true),
    phentsize: v.getUint16(42, true), phnum: v.getUint16(44, true),
  };
  h.phdrs = [];
  for (let i = 0; i < h.phnum; i++) {
    const o = h.phoff + i * h.phentsize;
    h.phdrs.push({
      type: v.getUint32(o, true), offset: v.getUint32(o + 4, true), vaddr: v.getUint32(o + 8, true),
      paddr: v.getUint32(o + 12, true), filesz: v.getUint32(o + 16, true), memsz: v.getUint32(o + 20, true),
      flags: v.getUint32(o + 24, true), align: v.getUint32(o + 28, true),
    });
  }
  return h;
}

/** The multiboot v1 header: 4-byte aligned in the first 8192 bytes, magic+flags+checksum = 0. */
function findMultiboot(bytes) {
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let o = 0; o + 12 <= Math.min(bytes.length, 8192); o += 4) {
    if (v.getUint32(o, true) !== MB_MAGIC) continue;
    const flags = v.getUint32(o + 4, true);
    const checksum = v.getUint32(o + 8, true);
    return { offset: o, flags, checksum, sum: (MB_MAGIC + flags + checksum) >>> 0 };
  }
  return null;
}

function loads(elf) {
  return elf.phdrs.filter((p) => p.type === PT_LOAD);
}

for (const [name, strings] of Object.entries(GUESTS)) {
  test(`${name}.elf: ELF32 i386 executable, multiboot v1 header, loaded at 1 MiB`, () => {
    const path = join(OUT, `${name}.elf`);
    assert.ok(existsSync(path), `${path} is built`);
    const bytes = readFileSync(path);
    const elf = parseElf32(bytes);
    assert.equal(elf.magic, '\x7fELF');
    assert.equal(elf.class, 1, 'ELFCLASS32 (QEMU -kernel refuses a 64-bit multiboot ELF)');
    assert.equal(elf.data, 1, 'ELFDATA2LSB');
    assert.equal(elf.identVersion, 1);
    assert.equal(elf.type, 2, 'ET_EXEC');
    assert.equal(elf.machine, 3, 'EM_386');
    assert.equal(elf.version, 1);
    assert.equal(elf.ehsize, 52);
    assert.equal(elf.phentsize, 32);

    const mb = findMultiboot(bytes);
    assert.ok(mb, 'a multiboot header in the first 8192 bytes');
    assert.equal(mb.sum, 0, 'magic + flags + checksum = 0 (mod 2^32)');
    assert.equal(mb.flags, 0x3, 'flags: page-aligned modules, memory info; bit 16 clear (ELF layout)');
    assert.equal(mb.flags & 0xfffc, 0, 'no required flag a loader may not know');

    const segs = loads(elf);
    assert.ok(segs.length >= 1, 'at least one PT_LOAD');
    for (const p of segs) {
      assert.ok(p.paddr >= LOAD_BASE, `segment at 0x${p.paddr.toString(16)} is at or above 1 MiB`);
      assert.equal(p.vaddr, p.paddr, 'paging off: virtual = physical');
      assert.ok(p.filesz <= p.memsz);
      assert.ok(p.offset + p.filesz <= bytes.length, 'segment data inside the file');
      assert.ok(p.paddr + p.memsz <= 0x200000, 'image with .bss and stack below 2 MiB (dirty writes from there)');
    }
    const sorted = [...segs].sort((a, b) => a.paddr - b.paddr);
    for (let i = 1; i < sorted.length; i++) {
      assert.ok(sorted[i - 1].paddr + sorted[i - 1].memsz <= sorted[i].paddr, 'segments do not overlap');
    }
    assert.equal(sorted[0].paddr, LOAD_BASE, 'the image starts at 1 MiB');
    const home = segs.find((p) => elf.entry >= p.vaddr && elf.entry < p.vaddr + p.filesz);
    assert.ok(home, `entry 0x${elf.entry.toString(16)} inside a loaded segment's file data`);
    assert.equal(elf.entry, LOAD_BASE, 'entry at the first byte (same code as the flat binary)');
    assert.equal(bytes[home.offset + elf.entry - home.vaddr], 0xeb, 'entry: a short jmp over the header');
    assert.ok(mb.offset >= home.offset && mb.offset < home.offset + home.filesz, 'the header is loaded');

    const text = bytes.toString('latin1');
    for (const s of strings) assert.ok(text.includes(s), `${name} contains ${JSON.stringify(s)}`);
  });
}

test('hello.bin: the hello guest as a flat binary for 0x100000, entry at its first byte', () => {
  const bin = readFileSync(join(OUT, 'hello.bin'));
  const elfBytes = readFileSync(join(OUT, 'hello.elf'));
  const elf = parseElf32(elfBytes);
  const segs = loads(elf).filter((p) => p.filesz > 0);
  const end = Math.max(...segs.map((p) => p.paddr + p.filesz));
  assert.equal(bin.length, end - LOAD_BASE, 'size = end of the file data - 0x100000 (.bss not included)');
  const image = Buffer.alloc(bin.length);
  for (const p of segs) elfBytes.copy(image, p.paddr - LOAD_BASE, p.offset, p.offset + p.filesz);
  assert.ok(bin.equals(image), 'the same bytes as the ELF loads');
  assert.equal(bin[0], 0xeb, 'starts with a short jmp (the entry)');
  const mb = findMultiboot(bin);
  assert.equal(mb?.offset, 4, 'the multiboot header follows the jmp');
  assert.ok(bin.length < 64 * 1024, 'small');
});

test('no MMX/SSE instruction in any guest (a hypervisor need not expose them)', () => {
  // objdump comes with binutils, which toolchain/install-deps.sh installs: never skipped
  for (const name of Object.keys(GUESTS)) {
    const asm = execFileSync('objdump', ['-d', join(OUT, `${name}.elf`)], { encoding: 'utf8', maxBuffer: 1 << 24 });
    const bad = asm.split('\n').filter((l) => /%xmm|%ymm|%mm[0-7]|\b(ld|st)mxcsr\b|\bfxsave\b/.test(l));
    assert.deepEqual(bad, [], `${name}: no vector instructions`);
  }
});

test('dirty-reference.mjs reproduces the checksums the guest printed under QEMU', () => {
  // Captured with: qemu-system-x86_64 -kernel build/guests/dirty.elf -append "pages=8 rate=3 rounds=5"
  assert.deepEqual(dirtyRoundLines(8, 3, 5), [
    'round 1 checksum 0x264926c5',
    'round 2 checksum 0xe3f597c5',
    'round 3 checksum 0xe65d5ac5',
    'round 4 checksum 0x9d46abc5',
    'round 5 checksum 0x89ff38c5',
  ]);
  // Defaults (pages=256 rate=64) with rounds=3.
  assert.deepEqual(dirtyChecksums(256, 64, 3), [0xacde7dc5, 0x070dadc5, 0x2e1795c5]);
  // words=1 (one word per page write: pages that run-length encode), same capture with "words=1"
  assert.deepEqual(dirtyRoundLines(8, 3, 5, 1), [
    'round 1 checksum 0x19b15471',
    'round 2 checksum 0x719e1c19',
    'round 3 checksum 0x4f249e35',
    'round 4 checksum 0x90a3c5c5',
    'round 5 checksum 0xb2e01b81',
  ]);
});
