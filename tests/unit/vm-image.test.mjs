// Guest images (kernel/vm/image): Multiboot 0.6.96 + ELF32 checks, the a.out-kludge address
// fields, flat binaries and the Multiboot information structure, run in the porffor-compiled
// test kernel (tests/fixtures/kernels/vm-logic.ts) on one Wasm instance.
//   - valid images built here by a small ELF32 writer are accepted with the right segments
//     and entry; each defect on its own is refused with its own error code;
//   - thousands of mutated images (fields set to edge values, bit flips, truncation, other RAM
//     sizes, a caller buffer of only 4 KiB): no trap, and the kernel's answer (error code,
//     segments, entry) equals an independent JS reference validator's for every one, and
//     every accepted image satisfies the loader's invariants;
//   - the information structure parsed back in JS (flags, memory fields, memory map, the
//     boot loader name, the command line in UTF-8), no byte written past its length;
//   - the real test guests in build/guests/*.elf (when built) are accepted.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { ROOT } from '../sim/harness.mjs';
import { FILE_BYTES, SMALL_FILE_BYTES, VmLogic } from '../sim/vm-logic.mjs';
import { prng } from '../sim/acpi-fuzz.mjs';

// Error codes (kernel/vm/image/elf32.ts ImageError).
const E = {
  Ok: 0, NotMultiboot: -1, BadChecksum: -2, UnsupportedFlags: -3, NotElf32: -4, NotX86Executable: -5, BadProgramHeaders: -6,
  Truncated: -7, HeadersOutsideBuffer: -8, BadSegment: -9, SegmentOutsideFile: -10, SegmentOutsideRam: -11, SegmentsOverlap: -12,
  TooManySegments: -13, NoSegments: -14, EntryOutside: -15, BadAddressFields: -16, InfoTooSmall: -17, InfoOutsideRam: -18,
};
const NAME = Object.fromEntries(Object.entries(E).map(([k, v]) => [v, k]));
const MiB = 1 << 20;
const TWO32 = 2 ** 32;
const MAGIC = 0x1badb002;

let rig;
const vm = () => (rig ??= new VmLogic());

// ---- a small ELF32 writer (gABI: Elf32_Ehdr, Elf32_Phdr; Multiboot 0.6.96 3.1) ----

/**
 * @param {object} o
 *   size: file size; entry; phdrs: [{ type, offset, vaddr, paddr, filesz, memsz }];
 *   mb: { at, flags, fields: [header_addr, load_addr, load_end_addr, bss_end_addr, entry_addr] } or null;
 *   elf: false for a file without an ELF header (a.out kludge images)
 */
const buildImage = ({ size, entry = 0, phdrs = [], mb = { flags: 3 }, elf = true, seed = 1 }) => {
  const f = new Uint8Array(size);
  const rng = prng(seed);
  for (let i = 0; i < size; i++) f[i] = rng.int(256); // segment contents: noise
  const dv = new DataView(f.buffer);
  const phoff = 52;
  if (elf) {
    f.fill(0, 0, phoff + 32 * phdrs.length);
    f.set([0x7f, 0x45, 0x4c, 0x46, 1, 1, 1, 0]);
    dv.setUint16(16, 2, true); // ET_EXEC
    dv.setUint16(18, 3, true); // EM_386
    dv.setUint32(20, 1, true);
    dv.setUint32(24, entry >>> 0, true);
    dv.setUint32(28, phoff, true);
    dv.setUint16(40, 52, true);
    dv.setUint16(42, 32, true);
    dv.setUint16(44, phdrs.length, true);
    phdrs.forEach((p, i) => {
      const o = phoff + 32 * i;
      [p.type ?? 1, p.offset ?? 0, p.vaddr ?? p.paddr ?? 0, p.paddr ?? 0, p.filesz ?? 0, p.memsz ?? p.filesz ?? 0, 7, 0x1000]
        .forEach((v, k) => dv.setUint32(o + 4 * k, v >>> 0, true));
    });
  }
  if (mb) {
    const at = mb.at ?? (elf ? (phoff + 32 * phdrs.length + 3) & ~3 : 0);
    dv.setUint32(at, MAGIC, true);
    dv.setUint32(at + 4, mb.flags >>> 0, true);
    dv.setUint32(at + 8, -(MAGIC + mb.flags) >>> 0, true);
    if (mb.fields) mb.fields.forEach((v, k) => dv.setUint32(at + 12 + 4 * k, v >>> 0, true));
  }
  return f;
};

/** Makes the checksum of the Multiboot header at `at` right again. */
const fixChecksum = (f, at) => {
  const dv = new DataView(f.buffer, f.byteOffset);
  dv.setUint32(at + 8, -(dv.getUint32(at, true) + dv.getUint32(at + 4, true)) >>> 0, true);
};

// ---- the reference validator: the same rules, written again in plain JS ----

/**
 * What multibootCheck must answer for `file` (all the file's bytes), `length` (the size the
 * caller states), `ram`, when the caller's buffer holds `bufLen` bytes. Reads outside the
 * bytes the kernel can see throw (a reference bug).
 */
const reference = (file, length, ram, bufLen) => {
  const visible = Math.min(bufLen, length, file.length);
  const at8 = (o) => {
    if (!(o >= 0 && o < visible)) throw new Error(`reference read outside the visible bytes: ${o} (${visible})`);
    return file[o];
  };
  const u16 = (o) => at8(o) | (at8(o + 1) << 8);
  const u32 = (o) => (at8(o) | (at8(o + 1) << 8) | (at8(o + 2) << 16) | (at8(o + 3) << 24)) >>> 0;
  const fail = (code, extra = {}) => ({ code, segments: [], entry: 0, ...extra });
  const limit = Math.min(length, 8192);
  if (limit > Math.min(bufLen, length)) return fail(E.HeadersOutsideBuffer, { headerOffset: -1, flags: 0 });
  let header = -1;
  let magicSeen = false;
  for (let o = 0; o + 12 <= limit; o += 4) {
    if (u32(o) !== MAGIC) continue;
    magicSeen = true;
    if (((u32(o) + u32(o + 4) + u32(o + 8)) >>> 0) === 0) { header = o; break; }
  }
  if (header < 0) return fail(magicSeen ? E.BadChecksum : E.NotMultiboot, { headerOffset: -1, flags: 0 });
  const flags = u32(header + 4);
  const h = { headerOffset: header, flags };
  if (flags & 0xfffc) return fail(E.UnsupportedFlags, h);
  const segments = [];
  const add = (addr, offset, filesz, memsz) => {
    const end = addr + memsz;
    if (!(addr >= MiB) || !(end <= ram) || end > TWO32) return E.SegmentOutsideRam;
    if (segments.length === 16) return E.TooManySegments;
    if (segments.some((s) => addr < s.addr + s.memsz && s.addr < end)) return E.SegmentsOverlap;
    segments.push({ addr, offset, filesz, memsz });
    return 0;
  };
  if (flags & 0x10000) {
    if (header + 32 > limit) return fail(E.Truncated, h);
    const [headerAddr, loadAddr, loadEnd, bssEnd, entry] = [12, 16, 20, 24, 28].map((k) => u32(header + k));
    if (loadAddr > headerAddr) return fail(E.BadAddressFields, h);
    const offset = header - (headerAddr - loadAddr);
    if (offset < 0) return fail(E.BadAddressFields, h);
    if (loadEnd !== 0 && loadEnd < loadAddr) return fail(E.BadAddressFields, h);
    if (offset > length) return fail(E.SegmentOutsideFile, h);
    const size = loadEnd === 0 ? length - offset : loadEnd - loadAddr;
    if (offset + size > length) return fail(E.SegmentOutsideFile, h);
    if (bssEnd !== 0 && bssEnd < loadAddr + size) return fail(E.BadAddressFields, h);
    const memsz = bssEnd === 0 ? size : bssEnd - loadAddr;
    if (memsz === 0) return fail(E.NoSegments, h);
    const r = add(loadAddr, offset, size, memsz);
    if (r) return fail(r, h);
    if (!(entry >= loadAddr && entry < loadAddr + size)) return fail(E.EntryOutside, h);
    return { code: 0, segments, entry, ...h };
  }
  const avail = Math.min(bufLen, length);
  if (length < 52) return fail(E.NotElf32, h);
  if (avail < 52) return fail(E.HeadersOutsideBuffer, h);
  if (u32(0) !== 0x464c457f || at8(4) !== 1 || at8(5) !== 1 || at8(6) !== 1) return fail(E.NotElf32, h);
  if (u16(16) !== 2 || u16(18) !== 3 || u32(20) !== 1) return fail(E.NotX86Executable, h);
  const phnum = u16(44);
  if (u16(42) !== 32 || phnum === 0xffff) return fail(E.BadProgramHeaders, h);
  const phoff = u32(28);
  if (phoff + 32 * phnum > length) return fail(E.Truncated, h);
  if (phoff + 32 * phnum > avail) return fail(E.HeadersOutsideBuffer, h);
  const vaddrs = [];
  for (let i = 0; i < phnum; i++) {
    const p = phoff + 32 * i;
    if (u32(p) !== 1) continue;
    const [offset, vaddr, paddr, filesz, memsz] = [4, 8, 12, 16, 20].map((k) => u32(p + k));
    if (filesz > memsz) return fail(E.BadSegment, h);
    if (memsz === 0) continue;
    if (offset + filesz > length) return fail(E.SegmentOutsideFile, h);
    const r = add(paddr, offset, filesz, memsz);
    if (r) return fail(r, h);
    vaddrs.push(vaddr);
  }
  if (segments.length === 0) return fail(E.NoSegments, h);
  const e = u32(24);
  const k = segments.findIndex((s, i) => e >= vaddrs[i] && e < vaddrs[i] + s.filesz);
  if (k < 0) return fail(E.EntryOutside, h);
  return { code: 0, segments, entry: segments[k].addr + (e - vaddrs[k]), ...h };
};

/** Runs the kernel's check on `file` and returns what it answered, in the reference's shape. */
const kernelCheck = (file, length, ram, small) => {
  const r = vm();
  r.setFile(file);
  const code = r.check(length, ram, small);
  const res = r.result();
  return { code, segments: res.segments, entry: res.entry, headerOffset: res.headerOffset, flags: res.flags };
};

const agree = (file, length, ram, small, what) => {
  const got = kernelCheck(file, length, ram, small);
  const want = reference(file, length, ram, small ? SMALL_FILE_BYTES : FILE_BYTES);
  if (want.code !== 0) {
    want.segments = [];
    want.entry = 0;
  }
  assert.deepEqual({ ...got, code: NAME[got.code] ?? got.code }, { ...want, code: NAME[want.code] }, what);
  return got;
};

/** The loader's invariants on an accepted image. */
const invariants = (got, length, ram, what) => {
  assert.ok(got.segments.length >= 1 && got.segments.length <= 16, what);
  let inside = false;
  got.segments.forEach((s, i) => {
    assert.ok(s.addr >= MiB && s.addr + s.memsz <= ram && s.addr + s.memsz <= TWO32, `${what}: segment ${i} in RAM`);
    assert.ok(s.offset + s.filesz <= length, `${what}: segment ${i} in the file`);
    assert.ok(s.filesz <= s.memsz && s.memsz > 0, `${what}: segment ${i} sizes`);
    got.segments.slice(0, i).forEach((t) => assert.ok(s.addr >= t.addr + t.memsz || t.addr >= s.addr + s.memsz, `${what}: overlap`));
    if (got.entry >= s.addr && got.entry < s.addr + s.filesz) inside = true;
  });
  assert.ok(inside, `${what}: the entry is in a segment's file bytes`);
};

// ---- base images ----

const BASES = [
  { name: 'one segment', file: () => buildImage({ size: 0x500, entry: 0x100010, phdrs: [{ offset: 0x100, paddr: 0x100000, filesz: 0x400, memsz: 0x2000 }] }), ram: 16 * MiB },
  {
    name: 'text, data, bss, GNU_STACK and NOTE',
    file: () => buildImage({
      size: 0x700, entry: 0x100100, seed: 2,
      phdrs: [
        { offset: 0x200, paddr: 0x100000, filesz: 0x300, memsz: 0x300 },
        { offset: 0x500, paddr: 0x102000, filesz: 0x100, memsz: 0x1000 },
        { type: 0x6474e551, offset: 0, paddr: 0, filesz: 0, memsz: 0 },
        { type: 4, offset: 0x600, paddr: 0, filesz: 0x20, memsz: 0x20 },
      ],
    }),
    ram: 4 * MiB,
  },
  { name: 'higher half (vaddr != paddr)', file: () => buildImage({ size: 0x900, entry: 0xc0100020, seed: 3, phdrs: [{ offset: 0x100, vaddr: 0xc0100000, paddr: 0x100000, filesz: 0x800, memsz: 0x8000 }] }), ram: 2 * MiB },
  {
    name: 'address fields, no ELF (a.out kludge)',
    file: () => buildImage({ size: 0x800, elf: false, seed: 4, mb: { at: 0, flags: 0x10003, fields: [0x100000, 0x100000, 0, 0x110000, 0x100020] } }),
    ram: 8 * MiB,
  },
  {
    name: 'address fields inside an ELF file',
    file: () => buildImage({
      size: 0x1000, entry: 0x200000, seed: 5, phdrs: [{ offset: 0, paddr: 0x200000, filesz: 0x1000 }],
      mb: { at: 0x60, flags: 0x10002, fields: [0x300060, 0x300000, 0x300400, 0x300800, 0x300010] },
    }),
    ram: 8 * MiB,
  },
  {
    name: 'a file larger than the buffer (segment bytes past it)',
    file: () => buildImage({ size: 100000, entry: 0x100000 + 60000, seed: 6, phdrs: [{ offset: 0x1000, paddr: 0x100000, filesz: 90000, memsz: 0x20000 }] }),
    ram: 64 * MiB,
  },
  {
    name: 'sixteen segments',
    file: () => buildImage({
      size: 0x1400, entry: 0x10f004, seed: 7,
      phdrs: Array.from({ length: 16 }, (_, i) => ({ offset: 0x400 + 0x100 * i, paddr: 0x100000 + 0x1000 * i, filesz: 0x100, memsz: 0x1000 })),
    }),
    ram: 2 * MiB,
  },
  {
    name: 'header at the end of the first 8 KiB',
    file: () => buildImage({ size: 0x2400, entry: 0x100000, seed: 8, phdrs: [{ offset: 0x2000, paddr: 0x100000, filesz: 0x400, memsz: 0x400 }], mb: { at: 8180, flags: 0 } }),
    ram: 2 * MiB,
  },
  {
    name: 'a RAM of more than 4 GiB',
    file: () => buildImage({ size: 0x500, entry: 0xfff00010, seed: 9, phdrs: [{ offset: 0x100, paddr: 0xfff00000, filesz: 0x400, memsz: 0x100000 }] }),
    ram: 8 * 1024 * MiB,
  },
];

test('valid images are accepted with their segments and entry', () => {
  const r = vm();
  const expected = {
    'one segment': { segments: [{ addr: 0x100000, offset: 0x100, filesz: 0x400, memsz: 0x2000 }], entry: 0x100010 },
    'text, data, bss, GNU_STACK and NOTE': { segments: [{ addr: 0x100000, offset: 0x200, filesz: 0x300, memsz: 0x300 }, { addr: 0x102000, offset: 0x500, filesz: 0x100, memsz: 0x1000 }], entry: 0x100100 },
    'higher half (vaddr != paddr)': { segments: [{ addr: 0x100000, offset: 0x100, filesz: 0x800, memsz: 0x8000 }], entry: 0x100020 },
    'address fields, no ELF (a.out kludge)': { segments: [{ addr: 0x100000, offset: 0, filesz: 0x800, memsz: 0x10000 }], entry: 0x100020 },
    'address fields inside an ELF file': { segments: [{ addr: 0x300000, offset: 0, filesz: 0x400, memsz: 0x800 }], entry: 0x300010 },
    'a file larger than the buffer (segment bytes past it)': { segments: [{ addr: 0x100000, offset: 0x1000, filesz: 90000, memsz: 0x20000 }], entry: 0x100000 + 60000 },
    'header at the end of the first 8 KiB': { segments: [{ addr: 0x100000, offset: 0x2000, filesz: 0x400, memsz: 0x400 }], entry: 0x100000 },
    'a RAM of more than 4 GiB': { segments: [{ addr: 0xfff00000, offset: 0x100, filesz: 0x400, memsz: 0x100000 }], entry: 0xfff00010 },
  };
  for (const b of BASES) {
    const f = b.file();
    const got = agree(f, f.length, b.ram, false, b.name);
    assert.equal(got.code, 0, `${b.name}: ${NAME[got.code]}`);
    if (expected[b.name]) {
      assert.deepEqual(got.segments, expected[b.name].segments, b.name);
      assert.equal(got.entry, expected[b.name].entry, b.name);
    }
    invariants(got, f.length, b.ram, b.name);
    const res = r.result();
    assert.equal(res.eax, 0x2badb002, 'EAX');
    assert.equal(res.ebx, 0x9000, 'EBX is the info address');
    assert.equal(res.eip, got.entry, 'EIP is the entry');
  }
  assert.equal(kernelCheck(BASES[6].file(), 0x1400, 2 * MiB, false).segments.length, 16);
});

test('each defect on its own is refused with its error code', () => {
  const seg = { offset: 0x100, paddr: 0x100000, filesz: 0x400, memsz: 0x2000 };
  const img = (o) => buildImage({ size: 0x500, entry: 0x100010, phdrs: [seg], ...o });
  const set32 = (f, at, v) => { new DataView(f.buffer).setUint32(at, v >>> 0, true); return f; };
  const set16 = (f, at, v) => { new DataView(f.buffer).setUint16(at, v, true); return f; };
  const MB = 52 + 32; // where buildImage puts the header after one program header
  const cases = [
    ['no header', () => img({ mb: null }), E.NotMultiboot],
    ['header not 4-byte aligned', () => img({ mb: { at: 86, flags: 3 } }), E.NotMultiboot],
    ['header past 8 KiB', () => buildImage({ size: 0x2400, entry: 0x100000, phdrs: [{ offset: 0x2000, paddr: 0x100000, filesz: 0x100 }], mb: { at: 8184, flags: 0 } }), E.NotMultiboot],
    ['bad checksum', () => set32(img({}), MB + 8, 0), E.BadChecksum],
    ['video mode asked (flags bit 2)', () => img({ mb: { flags: 7 } }), E.UnsupportedFlags],
    ['undefined required bit 15', () => img({ mb: { flags: 0x8000 } }), E.UnsupportedFlags],
    ['ELF64 class', () => { const f = img({}); f[4] = 2; return f; }, E.NotElf32],
    ['big-endian', () => { const f = img({}); f[5] = 2; return f; }, E.NotElf32],
    ['not ELF', () => { const f = img({}); f[1] = 0x58; return f; }, E.NotElf32],
    ['a relocatable object', () => set16(img({}), 16, 1), E.NotX86Executable],
    ['x86-64 machine', () => set16(img({}), 18, 62), E.NotX86Executable],
    ['phentsize 56', () => set16(img({}), 42, 56), E.BadProgramHeaders],
    ['PN_XNUM', () => set16(img({}), 44, 0xffff), E.BadProgramHeaders],
    ['program headers past the end', () => set32(img({}), 28, 0x4f0), E.Truncated],
    ['phoff + phnum * 32 past 2^32', () => set32(img({}), 28, 0xfffffff0), E.Truncated],
    ['filesz > memsz', () => img({ phdrs: [{ ...seg, memsz: 0x3ff }] }), E.BadSegment],
    ['segment bytes past the file', () => img({ phdrs: [{ ...seg, filesz: 0x401, memsz: 0x2000 }] }), E.SegmentOutsideFile],
    ['offset + filesz wraps 2^32', () => img({ phdrs: [{ ...seg, offset: 0xffffff00, filesz: 0x200 }] }), E.SegmentOutsideFile],
    ['segment below 1 MiB', () => img({ entry: 0xff010, phdrs: [{ ...seg, paddr: 0xff000 }] }), E.SegmentOutsideRam],
    ['segment at 0', () => img({ entry: 0x10, phdrs: [{ ...seg, paddr: 0 }] }), E.SegmentOutsideRam],
    ['segment past RAM', () => img({ entry: 0xfff010, phdrs: [{ ...seg, paddr: 0xfff000 }] }), E.SegmentOutsideRam],
    ['paddr + memsz wraps 2^32', () => img({ entry: 0xfffff010, phdrs: [{ ...seg, paddr: 0xfffff000 }] }), E.SegmentOutsideRam],
    ['two segments overlap', () => img({ phdrs: [seg, { ...seg, paddr: 0x101000 }] }), E.SegmentsOverlap],
    ['seventeen segments', () => buildImage({ size: 0x1400, entry: 0x100000, phdrs: Array.from({ length: 17 }, (_, i) => ({ offset: 0x400, paddr: 0x100000 + 0x1000 * i, filesz: 0x10, memsz: 0x10 })) }), E.TooManySegments],
    ['no PT_LOAD', () => img({ phdrs: [{ ...seg, type: 4 }] }), E.NoSegments],
    ['only an empty PT_LOAD', () => img({ phdrs: [{ ...seg, filesz: 0, memsz: 0 }] }), E.NoSegments],
    ['no program headers', () => img({ phdrs: [] }), E.NoSegments],
    ['entry in the bss', () => img({ entry: 0x100400 }), E.EntryOutside],
    ['entry before the segment', () => img({ entry: 0xfffff }), E.EntryOutside],
    ['shorter than an ELF header', () => buildImage({ size: 40, elf: false, mb: { at: 0, flags: 0 } }), E.NotElf32],
    ['address fields cut by the end of the file', () => buildImage({ size: 28, elf: false, mb: { at: 0, flags: 0x10000 } }), E.Truncated],
    ['load_addr > header_addr', () => buildImage({ size: 0x800, elf: false, mb: { at: 0, flags: 0x10000, fields: [0x100000, 0x100004, 0, 0, 0x100004] } }), E.BadAddressFields],
    ['load offset before the file', () => buildImage({ size: 0x800, elf: false, mb: { at: 0, flags: 0x10000, fields: [0x100010, 0x100000, 0, 0, 0x100004] } }), E.BadAddressFields],
    ['load_end_addr < load_addr', () => buildImage({ size: 0x800, elf: false, mb: { at: 0, flags: 0x10000, fields: [0x100000, 0x100000, 0xfffff, 0, 0x100000] } }), E.BadAddressFields],
    ['load_end_addr past the file', () => buildImage({ size: 0x800, elf: false, mb: { at: 0, flags: 0x10000, fields: [0x100000, 0x100000, 0x100801, 0, 0x100000] } }), E.SegmentOutsideFile],
    ['bss_end_addr inside the loaded part', () => buildImage({ size: 0x800, elf: false, mb: { at: 0, flags: 0x10000, fields: [0x100000, 0x100000, 0, 0x100100, 0x100000] } }), E.BadAddressFields],
    ['entry_addr past the loaded part', () => buildImage({ size: 0x800, elf: false, mb: { at: 0, flags: 0x10000, fields: [0x100000, 0x100000, 0, 0, 0x100800] } }), E.EntryOutside],
    ['a.out kludge below 1 MiB', () => buildImage({ size: 0x800, elf: false, mb: { at: 0, flags: 0x10000, fields: [0x7c00, 0x7c00, 0, 0, 0x7c00] } }), E.SegmentOutsideRam],
    ['a.out kludge loading nothing', () => buildImage({ size: 0x800, elf: false, mb: { at: 0, flags: 0x10000, fields: [0x100000, 0x100000, 0x100000, 0, 0x100000] } }), E.NoSegments],
  ];
  for (const [what, make, code] of cases) {
    const f = make();
    const got = agree(f, f.length, 16 * MiB, false, what);
    assert.equal(NAME[got.code], NAME[code], what);
    assert.equal(vm().image(0), 0, `${what}: no segments are left after a refusal`);
  }
  // Sizes that are not numbers.
  assert.equal(NAME[kernelCheck(BASES[0].file(), 0x500, NaN, false).code], 'SegmentOutsideRam', 'RAM NaN');
  assert.equal(NAME[kernelCheck(BASES[0].file(), NaN, 16 * MiB, false).code], 'NotMultiboot', 'length NaN');
  assert.equal(NAME[kernelCheck(BASES[0].file(), -5, 16 * MiB, false).code], 'NotMultiboot', 'length < 0');
  assert.equal(vm().flat(NaN, 0x100000, 0x100000, 16 * MiB), E.NoSegments);
  assert.equal(vm().flat(0x1000, NaN, 0x100000, 16 * MiB), E.SegmentOutsideRam);
  assert.equal(vm().flat(0x1000, 0x100000, NaN, 16 * MiB), E.EntryOutside);
  assert.equal(vm().flat(0x1000, 0x100000, 0x100000, NaN), E.SegmentOutsideRam);
  // A zero-length file and a length the buffer does not hold.
  assert.equal(NAME[kernelCheck(new Uint8Array(0), 0, 16 * MiB, false).code], 'NotMultiboot');
  const big = BASES[0].file();
  assert.equal(NAME[kernelCheck(big, 8192, 16 * MiB, true).code], 'HeadersOutsideBuffer', 'only 4 KiB given of an 8 KiB file');
  assert.equal(NAME[kernelCheck(big, 4096, 16 * MiB, true).code], 'Ok', 'a 4 KiB buffer is enough for a 4 KiB file');
  const far = buildImage({ size: 0x2000, entry: 0x100000, phdrs: [{ offset: 0, paddr: 0x100000, filesz: 0x100 }] });
  new DataView(far.buffer).setUint32(28, 0x1800, true); // program headers past the first 4 KiB
  far.set(far.subarray(52, 84), 0x1800);
  assert.equal(NAME[kernelCheck(far, 1 << 20, 16 * MiB, true).code], 'HeadersOutsideBuffer', 'phdrs past a 4 KiB buffer');
  assert.equal(NAME[kernelCheck(far, 1 << 20, 16 * MiB, false).code], 'Ok', 'phdrs inside the 32 KiB buffer');
});

// ---- mutations ----

const EDGE = (len, ram, was) => [0, 1, 4, 0xfff, 0x1000, 0xfffff, 0x100000, 0x100001, 0x10000, len, len - 1, len + 1, len - 32, ram, ram - 0x1000,
  ram - 1, 0x7fffffff, 0x80000000, 0xfffff000, 0xffffffff, 0xfffffffc, was + 1, was - 1, was + 0x1000, was - 0x1000, was * 2, was >>> 1];
const RAMS = [0, MiB, MiB + 0x1000, 2 * MiB, 16 * MiB, 64 * MiB, 0xe0000000, TWO32, 8 * 1024 * MiB, 2 ** 52];

/** Field offsets worth corrupting in a base image: [offset, width]. */
const fieldsOf = (f) => {
  const out = [[16, 2], [18, 2], [20, 4], [24, 4], [28, 4], [42, 2], [44, 2], [4, 1], [5, 1], [6, 1], [0, 1]];
  const dv = new DataView(f.buffer);
  if (f.length >= 52 && dv.getUint32(0, true) === 0x464c457f) {
    const phnum = Math.min(dv.getUint16(44, true), 20);
    const phoff = dv.getUint32(28, true);
    for (let i = 0; i < phnum; i++) for (let k = 0; k < 6; k++) if (phoff + 32 * i + 4 * k + 4 <= f.length) out.push([phoff + 32 * i + 4 * k, 4]);
  }
  for (let o = 0; o + 12 <= Math.min(f.length, 8192); o += 4) {
    if (dv.getUint32(o, true) !== MAGIC) continue;
    for (let k = 1; k < 8; k++) if (o + 4 * k + 4 <= f.length) out.push([o + 4 * k, 4]);
  }
  return out;
};

const headerAt = (f) => {
  const dv = new DataView(f.buffer);
  for (let o = 0; o + 12 <= Math.min(f.length, 8192); o += 4) if (dv.getUint32(o, true) === MAGIC) return o;
  return -1;
};

test('5,000 mutated images: no trap, the same answer as the reference, invariants on every acceptance', { timeout: 120000 }, (t) => {
  const MUTATIONS = 5000;
  const rng = prng(20261126);
  const bases = BASES.map((b) => ({ ...b, bytes: b.file() }));
  const r = vm();
  const memory = r.memoryBytes;
  const outcomes = {};
  let accepted = 0;
  for (let i = 0; i < MUTATIONS; i++) {
    const base = bases[i % bases.length];
    const f = base.bytes.slice();
    const dv = new DataView(f.buffer);
    let length = f.length;
    let ram = base.ram;
    let small = false;
    const steps = [];
    const n = 1 + rng.int(3);
    for (let s = 0; s < n; s++) {
      const kind = rng.int(10);
      if (kind <= 3) {
        const fields = fieldsOf(f);
        const [off, width] = rng.pick(fields);
        const was = width === 4 ? dv.getUint32(off, true) : width === 2 ? dv.getUint16(off, true) : f[off];
        const v = rng.next() < 0.2 ? rng.int(TWO32) : rng.pick(EDGE(length, Math.min(ram, TWO32 - 1), was));
        if (width === 4) dv.setUint32(off, v >>> 0, true);
        else if (width === 2) dv.setUint16(off, v & 0xffff, true);
        else f[off] = v & 0xff;
        steps.push(`+${off} = 0x${(v >>> 0).toString(16)}`);
      } else if (kind === 4) {
        const off = rng.int(Math.min(f.length, 512));
        f[off] ^= 1 << rng.int(8);
        steps.push(`+${off} bit flip`);
      } else if (kind === 5) {
        length = rng.pick([0, 11, 12, 51, 52, 53, rng.int(length), length - 1, length - rng.int(64), length + rng.int(64), 0x7fffffff, TWO32 - 1]);
        if (length > f.length) length = Math.min(length, f.length); // bytes past the file are not there
        steps.push(`length ${length}`);
      } else if (kind === 6) {
        ram = rng.pick(RAMS);
        steps.push(`ram ${ram}`);
      } else if (kind === 7) {
        small = true;
        steps.push('4 KiB buffer');
      } else if (kind === 8) {
        // another (maybe broken) header earlier, or the magic moved
        const at = 4 * rng.int(Math.min(f.length, 8192) >> 2);
        if (at + 12 <= f.length) {
          dv.setUint32(at, MAGIC, true);
          dv.setUint32(at + 4, rng.pick([0, 3, 0x10000, 0x10003, rng.int(TWO32)]), true);
          if (rng.next() < 0.5) fixChecksum(f, at);
          steps.push(`magic at ${at}`);
        }
      } else {
        // a segment pointed at another's memory or past RAM
        if (f.length >= 52 && dv.getUint32(0, true) === 0x464c457f && dv.getUint16(44, true) > 0 && dv.getUint32(28, true) + 32 <= f.length) {
          const p = dv.getUint32(28, true);
          const v = rng.pick([0x100000, 0x101000, 0x100800, ram - 0x400, ram, 0xfffff000, 0xc0000000]);
          dv.setUint32(p + 12, v >>> 0, true);
          steps.push(`paddr[0] = 0x${v.toString(16)}`);
        }
      }
    }
    const at = headerAt(f);
    if (at >= 0 && at + 12 <= f.length && rng.next() < 0.7) {
      fixChecksum(f, at);
      steps.push('checksum fixed');
    }
    const what = `mutation ${i} (${base.name}: ${steps.join('; ')})`;
    let got;
    try {
      got = agree(f, length, ram, small, what);
    } catch (e) {
      if (e instanceof assert.AssertionError) throw e;
      assert.fail(`${what}: the kernel trapped: ${e.message}`);
    }
    outcomes[NAME[got.code]] = (outcomes[NAME[got.code]] ?? 0) + 1;
    if (got.code === 0) {
      accepted++;
      invariants(got, length, ram, what);
    }
  }
  assert.equal(r.memoryBytes, memory, 'the kernel memory grew');
  assert.ok(accepted > MUTATIONS / 20, `only ${accepted} accepted: the mutations are too harsh`);
  assert.ok(MUTATIONS - accepted > MUTATIONS / 2, `only ${MUTATIONS - accepted} refused: the mutations are too mild`);
  assert.ok(Object.keys(outcomes).length >= 14, `few distinct outcomes: ${JSON.stringify(outcomes)}`);
  t.diagnostic(`${MUTATIONS} mutations: ${accepted} accepted; ${JSON.stringify(outcomes)}`);
});

// ---- flat binaries ----

test('flat binaries: fit in RAM, entry inside', () => {
  const r = vm();
  const cases = [
    [[0x1000, 0x100000, 0x100000, 16 * MiB], 0],
    [[0x1000, 0x100000, 0x100fff, 16 * MiB], 0],
    [[0x200, 0x7c00, 0x7c00, MiB], 0],
    [[0x1000, 0x1000, 0x1000, MiB], 0],
    [[0x1000, 0x100000, 0x101000, 16 * MiB], E.EntryOutside],
    [[0x1000, 0x100000, 0xfffff, 16 * MiB], E.EntryOutside],
    [[0, 0x100000, 0x100000, 16 * MiB], E.NoSegments],
    [[0x1000, 0xfff, 0x1000, 16 * MiB], E.SegmentOutsideRam],
    [[0x1000, 0, 0, 16 * MiB], E.SegmentOutsideRam],
    [[0x1000, 0xfff001, 0xfff001, 16 * MiB], E.SegmentOutsideRam],
    [[0x1000, 0xfff000, 0xfff000, 16 * MiB], 0],
    [[0x2000, 0xfffff000, 0xfffff000, 8 * 1024 * MiB], E.SegmentOutsideRam],
    [[0x1000, 0xfffff000, 0xfffff000, 8 * 1024 * MiB], 0],
    [[0x1000, -4096, 0, 16 * MiB], E.SegmentOutsideRam],
  ];
  for (const [[len, load, entry, ram], code] of cases) {
    const got = r.flat(len, load, entry, ram);
    assert.equal(NAME[got], NAME[code], `flat ${JSON.stringify([len, load, entry, ram])}`);
    const res = r.result();
    if (code === 0) {
      assert.deepEqual(res.segments, [{ addr: load, offset: 0, filesz: len, memsz: len }]);
      assert.equal(res.entry, entry);
      assert.equal(res.eip, entry);
    } else assert.equal(res.segments.length, 0);
  }
});

// ---- the information structure ----

const parseInfo = (bytes, infoAddr) => {
  const dv = new DataView(bytes.buffer);
  const at = (guest) => guest - infoAddr;
  const cstr = (guest) => {
    const o = at(guest);
    const end = bytes.indexOf(0, o);
    return bytes.subarray(o, end);
  };
  const mmap = [];
  const mmapAt = at(dv.getUint32(48, true));
  for (let o = mmapAt; o < mmapAt + dv.getUint32(44, true);) {
    const size = dv.getUint32(o, true);
    mmap.push([dv.getUint32(o + 4, true) + dv.getUint32(o + 8, true) * TWO32, dv.getUint32(o + 12, true) + dv.getUint32(o + 16, true) * TWO32, dv.getUint32(o + 20, true)]);
    o += size + 4;
  }
  return {
    flags: dv.getUint32(0, true), memLower: dv.getUint32(4, true), memUpper: dv.getUint32(8, true),
    unused: [12, 20, 24, 28, 32, 36, 40, 52, 56, 60, 68, 72, 76, 80, 84, 88, 92, 96, 100, 104, 108, 112].map((o) => dv.getUint32(o, true)),
    cmdline: new TextDecoder().decode(cstr(dv.getUint32(16, true))),
    name: new TextDecoder().decode(cstr(dv.getUint32(64, true))),
    pointers: [16, 48, 64].map((o) => dv.getUint32(o, true)),
    mmap,
  };
};

const codePoints = (s) => Array.from(s, (c) => c.codePointAt(0));

test('the Multiboot information structure, parsed back', () => {
  const r = vm();
  const cases = [
    { ram: 64 * MiB, cmd: 'console=ttyS0 loglevel=7', addr: 0x9000 },
    { ram: 2 * MiB, cmd: '', addr: 0x1000 },
    { ram: MiB, cmd: 'x', addr: 0x8000 },
    { ram: 8 * 1024 * MiB, cmd: 'héllo wörld 日本語 😀', addr: 0x9000 },
    { ram: 512 * 1024, cmd: 'small', addr: 0x9000 },
  ];
  for (const c of cases) {
    const codes = codePoints(c.cmd);
    const [len, bytes] = r.info(codes, { ramBytes: c.ram, infoAddr: c.addr });
    const utf8 = new TextEncoder().encode(c.cmd).length;
    const entries = c.ram > MiB ? 3 : 2;
    assert.equal(len, 116 + 24 * entries + 10 + utf8 + 1, `${c.cmd}: length`);
    assert.ok(bytes.subarray(len).every((b) => b === 0xee), 'nothing written past the length');
    const p = parseInfo(bytes, c.addr);
    assert.equal(p.flags, 0x245);
    const low = Math.min(c.ram, 0xa0000);
    assert.equal(p.memLower, Math.floor(low / 1024));
    assert.equal(p.memUpper, c.ram > MiB ? (c.ram - MiB) / 1024 : 0);
    assert.ok(p.unused.every((v) => v === 0), 'fields without a flag are 0');
    assert.equal(p.cmdline, c.cmd);
    assert.equal(p.name, 'Zerovisor');
    assert.ok(p.pointers.every((v) => v >= c.addr && v < c.addr + len), 'pointers are guest physical, inside the structure');
    const mmap = [[0, low, 1], [0xa0000, 0x60000, 2]];
    if (c.ram > MiB) mmap.push([MiB, c.ram - MiB, 1]);
    assert.deepEqual(p.mmap, mmap, `${c.cmd}: memory map`);
  }
  // A span in the middle of the code points; invalid ones become U+FFFD.
  const codes = [0x41, 0x42, 0xd800, 0x110000, 0, 0x43, 0x44];
  const [len, bytes] = r.info(codes, { ramBytes: 16 * MiB, cmdStart: 1, cmdLength: 5 });
  assert.equal(parseInfo(bytes, 0x9000).cmdline, 'B\ufffd\ufffd\ufffdC');
  assert.equal(len, 116 + 72 + 10 + 1 + 9 + 1 + 1);
  // Errors: too small a buffer, outside low memory, below 4 KiB.
  const long = codePoints('a'.repeat(600));
  const need = 116 + 72 + 10 + 601;
  assert.equal(r.info(long, { ramBytes: 16 * MiB, capacity: need - 1 })[0], E.InfoTooSmall);
  assert.equal(r.info(long, { ramBytes: 16 * MiB, capacity: need })[0], need);
  assert.equal(r.info([], { ramBytes: 16 * MiB, infoAddr: 0xa0000 - 199 })[0], 199, 'ends exactly at 640 KiB');
  assert.equal(r.info([], { ramBytes: 16 * MiB, infoAddr: 0xa0000 - 198 })[0], E.InfoOutsideRam);
  assert.equal(r.info([], { ramBytes: 0x9000 + 100, infoAddr: 0x9000 })[0], E.InfoOutsideRam, 'past the RAM');
  assert.equal(r.info([], { ramBytes: 16 * MiB, infoAddr: 0xfff })[0], E.InfoOutsideRam, 'in the first page');
  assert.equal(r.info([], { ramBytes: 16 * MiB, infoAddr: MiB })[0], E.InfoOutsideRam, 'above 640 KiB');
  assert.equal(r.info([], { ramBytes: NaN })[0], E.InfoOutsideRam, 'a RAM size that is not a number');
  assert.equal(r.info([], { ramBytes: 16 * MiB, infoAddr: NaN })[0], E.InfoOutsideRam);
  const [, untouched] = r.info([], { ramBytes: 16 * MiB, capacity: 10 });
  assert.ok(untouched.every((b) => b === 0xee), 'a refused structure writes nothing');
});

// ---- the real test guests ----

test('the test guests in build/guests are accepted', (t) => {
  const dir = join(ROOT, 'build', 'guests');
  const elves = existsSync(dir) ? readdirSync(dir).filter((n) => n.endsWith('.elf')).sort() : [];
  if (elves.length === 0) {
    t.skip('no build/guests/*.elf (make guests)');
    return;
  }
  for (const name of elves) {
    const f = new Uint8Array(readFileSync(join(dir, name)));
    const got = agree(f, f.length, 64 * MiB, false, name);
    assert.equal(NAME[got.code], 'Ok', name);
    invariants(got, f.length, 64 * MiB, name);
    t.diagnostic(`${name}: ${got.segments.map((s) => `0x${s.addr.toString(16)}+0x${s.memsz.toString(16)} (file 0x${s.offset.toString(16)}+0x${s.filesz.toString(16)})`).join(', ')}, entry 0x${got.entry.toString(16)}`);
  }
  for (const name of readdirSync(dir).filter((n) => n.endsWith('.bin'))) {
    const len = readFileSync(join(dir, name)).length;
    assert.equal(vm().flat(len, 0x100000, 0x100000, 64 * MiB), 0, `${name} as a flat image at 1 MiB`);
  }
});
