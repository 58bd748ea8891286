// The live-migration protocol core (kernel/services/migration) in the porffor-compiled test kernel
// (tests/fixtures/kernels/migration.ts), judged by an independent JS reference of the wire
// format (tests/sim/migration.mjs):
//   - CRC-32 and FNV-1a against published vectors and random buffers, in one piece and in two;
//   - frames of every type encoded byte for byte as documented and decoded back; every
//     FrameError provoked; truncation at every length and every single-bit flip refused;
//     5,000 random and mutated frames decoded exactly as the reference decides;
//   - page records: RLE round trips (one value, alternating, random, mixed, worst case),
//     never larger than a raw record; Zero; Duplicate only while the source page still has
//     those contents on the receiver, and a changed source refused; every PageError;
//   - the sinks: Null, Console's hex dump, the not-attached ones, the Buffer pair and its faults;
//   - whole migrations over the Buffer pair with drop, duplicate, reorder and corrupt in both
//     directions (several seeds), with pages changing between rounds: the destination ends
//     with exactly the source's bytes, or both sides report an error, never a silent
//     difference; and hostile streams end the receive session with the right error.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { build } from 'esbuild';
import { join } from 'node:path';
import {
  Migration, FrameType, FrameError, PageEncoding, PageError, SinkKind, SinkError, BufferStat, MigError, OutResult, InStatus,
  IO_BYTES, MEM_PAGES, PAGE, HEADER, MAX_PAYLOAD, MAX_FRAME, crcRef, fnvRef, refFrame, refDecode, resum, startPayload, statePayload,
  completePayload, nakPayload, refRecord, refRleDecode, cat, u16, u32, rd16, rd32,
} from '../sim/migration.mjs';
import { ROOT } from '../sim/harness.mjs';
import { dictionaries } from '../sim/dictionaries.mjs';

let shared;
const rig = () => (shared ??= new Migration());
const enc = (s) => new TextEncoder().encode(s);

/** A deterministic PRNG (mulberry32). */
const prng = (seed) => {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return (t ^ (t >>> 14)) >>> 0;
  };
  return { next, int: (n) => next() % n, bytes: (n) => Uint8Array.from({ length: n }, () => next() & 0xff) };
};

// ---- CRC-32 and FNV-1a ----

test('CRC-32 and FNV-1a give the published check values', () => {
  const m = rig();
  assert.equal(m.crc(enc('123456789')), 0xcbf43926);
  assert.equal(m.crc(new Uint8Array(0)), 0);
  assert.equal(m.crc(enc('The quick brown fox jumps over the lazy dog')), 0x414fa339);
  assert.equal(m.crc(new Uint8Array(4096)), 0xc71c0011);
  assert.equal(crcRef(new Uint8Array(4096)), 0xc71c0011);
  assert.equal(m.fnv(new Uint8Array(0)), 0x811c9dc5);
  assert.equal(m.fnv(enc('a')), 0xe40c292c);
  assert.equal(m.fnv(enc('foobar')), 0xbf9cf968);
});

test('CRC-32 and FNV-1a of random buffers equal the reference, in one piece or two', () => {
  const m = rig();
  const r = prng(1);
  for (let i = 0; i < 200; i++) {
    const len = i < 20 ? i : r.int(6000);
    const off = r.int(IO_BYTES - len);
    const bytes = r.bytes(len);
    m.setIo(bytes, off);
    assert.equal(m.call('crc', off, len) >>> 0, crcRef(bytes), `crc len ${len}`);
    assert.equal(m.call('fnv', off, len) >>> 0, fnvRef(bytes), `fnv len ${len}`);
    const split = r.int(len + 1);
    assert.equal(m.call('crcSplit', off, len, split) >>> 0, crcRef(bytes), `crc split ${split}/${len}`);
  }
});

test('sums read only inside the array: a range past its end is clipped', () => {
  const m = rig();
  const tail = prng(2).bytes(10);
  m.setIo(tail, IO_BYTES - 10);
  assert.equal(m.call('crc', IO_BYTES - 10, 100) >>> 0, crcRef(tail));
  assert.equal(m.call('fnv', IO_BYTES - 10, 100) >>> 0, fnvRef(tail));
  assert.equal(m.call('crc', IO_BYTES + 5, 10) >>> 0, 0);
});

// ---- frames ----

/** Encodes with the kernel at io[off]; returns the frame's bytes (empty when it refused). */
const kernelFrame = (m, fn, off, ...args) => {
  const n = m.call(fn, off, ...args);
  return m.ioBytes(off, n);
};

test('every frame type: the kernel writes the documented bytes and decodes them back', () => {
  const m = rig();
  const name = enc('ゲスト-1');
  m.setName(name);
  const cases = [];
  cases.push([kernelFrame(m, 'encStart', 100, 4096, 7, name.length, 512, 131072, 2, 1),
    refFrame({ type: FrameType.Start, seq: 7, payload: startPayload({ memMiB: 512, pages: 131072, vcpus: 2, flags: 1, name }) })]);
  const opaque = prng(3).bytes(700);
  m.setIo(opaque, 8000);
  cases.push([kernelFrame(m, 'encState', 100, 4096, FrameType.VcpuState, 8, 0, 3, 8000, 700),
    refFrame({ type: FrameType.VcpuState, seq: 8, payload: statePayload(0, 3, opaque) })]);
  cases.push([kernelFrame(m, 'encState', 100, 4096, FrameType.DeviceState, 9, 1, 0, 8000, 16),
    refFrame({ type: FrameType.DeviceState, seq: 9, payload: statePayload(1, 0, opaque.subarray(0, 16)) })]);
  cases.push([kernelFrame(m, 'encComplete', 100, 4096, 0xfffffffe, 1234, 0xdeadbeef, 0x80000001),
    refFrame({ type: FrameType.Complete, seq: 0xfffffffe, payload: completePayload(1234, 0xdeadbeef, 0x80000001) })]);
  cases.push([kernelFrame(m, 'encAbort', 100, 4096, MigError.HashMismatch), refFrame({ type: FrameType.Abort, payload: u32(MigError.HashMismatch) })]);
  cases.push([kernelFrame(m, 'encAck', 100, 4096, 0x12345678), refFrame({ type: FrameType.Ack, payload: u32(0x12345678) })]);
  const list = [5, 9, 0xffffffff, 12];
  m.setNak(list);
  cases.push([kernelFrame(m, 'encNak', 100, 4096, 4), refFrame({ type: FrameType.Nak, payload: nakPayload(list) })]);
  // Pages: records written by the page codec, sealed by frameSeal
  m.call('pReset');
  m.srcPage(0).fill(0);
  m.srcPage(1).set(prng(4).bytes(PAGE));
  const r0 = m.call('pEnc', 0, 17, 100 + HEADER, 4104);
  const r1 = m.call('pEnc', 1, 18, 100 + HEADER + r0, 4104 - r0);
  assert.equal(r0, 8);
  assert.equal(r1, 0, 'a raw page does not fit behind another record');
  const r2 = m.call('pEnc', 1, 18, 100 + HEADER, 4104);
  assert.equal(r2, 4104);
  const pages = m.ioBytes(100 + HEADER, r2);
  cases.push([kernelFrame(m, 'seal', 100, 4200, FrameType.Pages, 10, r2), refFrame({ type: FrameType.Pages, seq: 10, payload: pages })]);
  assert.equal(cases.length, 8);
  for (const [got, want] of cases) {
    const type = rd16(want, 6);
    assert.deepEqual(got, want, `type ${type}`);
    assert.equal(Buffer.from(got.subarray(0, 4)).toString('latin1'), 'ZVMG');
    const d = m.decode(got, 3000);
    assert.deepEqual(d, { error: FrameError.None, type, seq: rd32(want, 8), payloadOffset: 3000 + HEADER, payloadLength: want.length - HEADER }, `type ${type}`);
    assert.equal(refDecode(got), FrameError.None);
  }
  assert.equal(MAX_FRAME, 4128);
});

test('encoders refuse what they cannot write', () => {
  const m = rig();
  m.setName(enc('x'.repeat(33)));
  assert.equal(m.call('encStart', 0, 4096, 1, 33, 1, 1, 1, 0), 0, 'name of 33 bytes');
  assert.equal(m.call('encStart', 0, 71, 1, 3, 1, 1, 1, 0), 0, 'one byte short of room');
  assert.equal(m.call('encStart', 0, 72, 1, 3, 1, 1, 1, 0), 72);
  assert.equal(m.call('encStart', IO_BYTES - 71, 4096, 1, 3, 1, 1, 1, 0), 0, 'past the end of the array');
  assert.equal(m.call('encStart', 0, 4096, 0, 3, 1, 1, 1, 0), 0, 'a data frame with sequence 0');
  assert.equal(m.call('encStart', 0, 4096, 1, 3, 1, 1, 0x10000, 0), 0, 'vCPUs above 16 bits');
  assert.equal(m.call('encNak', 0, 4096, 0), 0, 'Nak of nothing');
  assert.equal(m.call('encNak', 0, 4096, 17), 0, 'Nak of 17');
  assert.equal(m.call('encState', 0, 8192, FrameType.VcpuState, 1, 0, 0, 8192, MAX_PAYLOAD - 3), 0, 'state above the payload bound');
  assert.equal(m.call('encState', 0, 8192, FrameType.VcpuState, 1, 0, 0, 8192, MAX_PAYLOAD - 4), MAX_FRAME);
  assert.equal(m.call('encState', 0, 8192, FrameType.Complete, 1, 0, 0, 8192, 4), 0, 'state as another type');
  for (const [type, len] of [[FrameType.Start, 47], [FrameType.Pages, 7], [FrameType.Complete, 16], [FrameType.Ack, 0], [FrameType.Nak, 6], [FrameType.Pages, MAX_PAYLOAD + 1], [0, 4], [9, 4]]) {
    assert.equal(m.call('seal', 0, 8192, type, 1, len), 0, `seal type ${type} length ${len}`);
  }
});

test('every FrameError, each provoked past the checks before it', () => {
  const m = rig();
  const good = refFrame({ type: FrameType.Ack, payload: u32(5) });
  const start = startPayload();
  const cases = [
    [FrameError.Short, good.subarray(0, 23)],
    [FrameError.BadMagic, refFrame({ type: FrameType.Ack, payload: u32(5), magic: 0x474d565b })],
    [FrameError.BadVersion, refFrame({ type: FrameType.Ack, payload: u32(5), version: 2 })],
    [FrameError.BadType, refFrame({ type: 0, payload: u32(5) })],
    [FrameError.BadType, refFrame({ type: 9, payload: u32(5) })],
    [FrameError.BadReserved, refFrame({ type: FrameType.Ack, payload: u32(5), reserved: 1 })],
    [FrameError.BadLength, refFrame({ type: FrameType.Ack, payload: new Uint8Array(8) })],
    [FrameError.BadLength, refFrame({ type: FrameType.Pages, payload: new Uint8Array(MAX_PAYLOAD + 1) })],
    [FrameError.BadLength, refFrame({ type: FrameType.Nak, payload: new Uint8Array(10) })],
    [FrameError.Short, refFrame({ type: FrameType.Ack, payload: u32(5), length: 4 }).subarray(0, 27)],
    [FrameError.BadLength, cat(good, Uint8Array.of(0))],
    [FrameError.BadCrc, refFrame({ type: FrameType.Ack, payload: u32(5), crc: 0x12345678 })],
    [FrameError.BadSequence, refFrame({ type: FrameType.Ack, payload: u32(5), seq: 1 })],
    [FrameError.BadSequence, refFrame({ type: FrameType.Abort, payload: u32(1), seq: 3 })],
    [FrameError.BadSequence, refFrame({ type: FrameType.Start, payload: start, seq: 0 })],
    [FrameError.BadSequence, refFrame({ type: FrameType.Pages, payload: new Uint8Array(8), seq: 0 })],
    [FrameError.BadPayload, refFrame({ type: FrameType.Start, payload: startPayload({ nameLength: 33 }) })],
    [FrameError.BadPayload, refFrame({ type: FrameType.Start, payload: startPayload({ reserved: 1 }) })],
    [FrameError.BadPayload, refFrame({ type: FrameType.Start, payload: startPayload({ pad: 0x41 }) })],
    [FrameError.BadPayload, refFrame({ type: FrameType.Nak, payload: nakPayload([1, 2], 1) })],
    [FrameError.BadPayload, refFrame({ type: FrameType.Nak, payload: nakPayload([1], 1, 7) })],
    [FrameError.BadPayload, refFrame({ type: FrameType.Nak, payload: nakPayload([1], 0) })],
    [FrameError.None, good],
  ];
  const seen = new Set();
  for (const [want, bytes] of cases) {
    assert.equal(refDecode(bytes), want, `reference, case ${want}`);
    assert.equal(m.decode(bytes, 500).error, want, `kernel, case ${want}`);
    seen.add(want);
  }
  assert.equal(seen.size, Object.keys(FrameError).length, 'every FrameError value provoked');
});

test('a frame cut at any length is Short; a byte more is BadLength; every single-bit flip is refused', () => {
  const m = rig();
  const r = prng(5);
  const name = enc('vm-α');
  const frames = [
    refFrame({ type: FrameType.Start, seq: 1, payload: startPayload({ name }) }),
    refFrame({ type: FrameType.Pages, seq: 2, payload: refRecord(3, PageEncoding.Raw, r.bytes(PAGE)) }),
    refFrame({ type: FrameType.Complete, seq: 3, payload: completePayload(10, 1, 2) }),
    refFrame({ type: FrameType.Nak, payload: nakPayload([4, 5, 6]) }),
    refFrame({ type: FrameType.Ack, payload: u32(3) }),
  ];
  for (const f of frames) {
    for (let len = 0; len < f.length; len++) {
      assert.equal(m.decode(f.subarray(0, len), 0).error, FrameError.Short, `type ${rd16(f, 6)} cut to ${len}`);
    }
    assert.equal(m.decode(cat(f, Uint8Array.of(0)), 0).error, FrameError.BadLength);
    // the frame ends at the end of the array; a range that claims more is still judged on its own bytes
    m.setIo(f, IO_BYTES - f.length);
    assert.equal(m.call('dec', IO_BYTES - f.length, f.length), FrameError.None);
    assert.equal(m.call('dec', IO_BYTES - f.length, f.length + 100), FrameError.BadLength);
    const bits = f.length > 200 ? [...Array(200)].map(() => r.int(f.length * 8)) : [...Array(f.length * 8).keys()];
    for (const bit of bits) {
      const g = f.slice();
      g[bit >> 3] ^= 1 << (bit & 7);
      const e = m.decode(g, 0).error;
      assert.notEqual(e, FrameError.None, `type ${rd16(f, 6)} bit ${bit}`);
      assert.equal(e, refDecode(g), `type ${rd16(f, 6)} bit ${bit}`);
    }
  }
});

/** A random valid frame (any type, random fields). */
const randomFrame = (r) => {
  const type = 1 + r.int(8);
  const seq = 1 + r.int(0xfffffffe);
  switch (type) {
    case FrameType.Start: {
      const n = r.int(33);
      return refFrame({ type, seq, payload: startPayload({ memMiB: r.next(), pages: r.next(), vcpus: r.int(65536), flags: r.int(65536), name: r.bytes(n).map((b) => b | 1) }) });
    }
    case FrameType.Pages: return refFrame({ type, seq, payload: r.bytes(8 + r.int(MAX_PAYLOAD - 7)) });
    case FrameType.VcpuState: case FrameType.DeviceState: return refFrame({ type, seq, payload: r.bytes(4 + r.int(600)) });
    case FrameType.Complete: return refFrame({ type, seq, payload: completePayload(r.next(), r.next(), r.next()) });
    case FrameType.Abort: case FrameType.Ack: return refFrame({ type, payload: u32(r.next()) });
  }
  const k = 1 + r.int(16);
  return refFrame({ type, payload: nakPayload([...Array(k)].map(() => r.next())) });
};

/** One of many ways to spoil a frame (or none); `resum` lets the deeper checks be reached. */
const mutate = (r, f) => {
  const g = f.slice();
  switch (r.int(10)) {
    case 0: return g;
    case 1: { const n = 1 + r.int(3); for (let i = 0; i < n; i++) { const b = r.int(g.length * 8); g[b >> 3] ^= 1 << (b & 7); } return g; }
    case 2: g[r.int(g.length)] = r.next() & 0xff; return g;
    case 3: return g.subarray(0, r.int(g.length));
    case 4: return cat(g, r.bytes(1 + r.int(20)));
    case 5: { // a header field rewritten, CRC made right
      const at = [4, 6, 8, 12, 20][r.int(5)];
      const v = r.int(3) === 0 ? r.next() : r.int(12);
      if (at === 4 || at === 6) g.set(u16(v), at); else g.set(u32(at === 12 ? (r.int(2) ? v : g.length - HEADER + r.int(9) - 4) : v), at);
      return resum(g);
    }
    case 6: { // a payload byte changed, CRC made right
      if (g.length > HEADER) g[HEADER + r.int(Math.min(g.length - HEADER, 64))] = r.next() & 0xff;
      return resum(g);
    }
    case 7: return r.bytes(r.int(80));
    case 8: { const n = r.bytes(HEADER + r.int(40)); n.set(u32(0x474d565a), 0); n.set(u16(1), 4); return r.int(2) ? resum(n) : n; }
    default: { g.set(u16(r.int(12)), 6); return resum(g); }
  }
};

test('5,000 random and mutated frames: no trap, and exactly the reference\'s verdict', () => {
  const m = rig();
  const r = prng(20261126);
  const verdicts = new Map();
  for (let i = 0; i < 5000; i++) {
    const f = mutate(r, randomFrame(r));
    const want = refDecode(f);
    const off = r.int(3) === 0 ? IO_BYTES - f.length : r.int(IO_BYTES - f.length + 1);
    const d = m.decode(f, off);
    assert.equal(d.error, want, `frame ${i} (${f.length} bytes)`);
    if (want === FrameError.None) {
      assert.equal(d.type, rd16(f, 6));
      assert.equal(d.seq, rd32(f, 8));
      assert.equal(d.payloadOffset, off + HEADER);
      assert.equal(d.payloadLength, f.length - HEADER);
    } else assert.equal(d.type, 0, 'a refused frame describes nothing');
    verdicts.set(want, (verdicts.get(want) ?? 0) + 1);
  }
  for (const code of Object.values(FrameError)) assert.ok(verdicts.get(code) > 0, `FrameError ${code} reached by the fuzz: ${[...verdicts]}`);
});

// ---- page records ----

/** Encodes source page `page` as gpa into io[0] with room `cap`; decodes it back into the staging page. */
const pageTrip = (m, page, gpa = page, cap = MAX_PAYLOAD) => {
  const n = m.call('pEnc', page, gpa, 0, cap);
  const record = m.ioBytes(0, n);
  const encoding = n ? record[4] : 0;
  m.stage.fill(0xa5);
  const error = n ? m.call('pDec', 0, n, MEM_PAGES) : -1;
  return { n, record, encoding, error, decoded: m.stage.slice() };
};

test('RLE: one value, alternating, random, mixed and worst-case pages round trip; never larger than raw', () => {
  const m = rig();
  m.call('pReset');
  const r = prng(6);
  const pages = [];
  for (const v of [1, 0x55, 0xff]) pages.push(['one value', new Uint8Array(PAGE).fill(v)]);
  pages.push(['alternating', Uint8Array.from({ length: PAGE }, (_, i) => (i & 1 ? 0xaa : 0x55))]);
  pages.push(['random', r.bytes(PAGE)]);
  pages.push(['pairs (worst case: no run of 3)', Uint8Array.from({ length: PAGE }, (_, i) => ((i >> 1) & 1 ? 7 : 9))]);
  for (let k = 0; k < 60; k++) {
    const p = new Uint8Array(PAGE);
    let i = 0;
    while (i < PAGE) {
      const len = 1 + r.int(k % 3 === 0 ? 8 : 300);
      const lit = r.int(2);
      const v = r.next() & 0xff;
      for (let j = 0; j < len && i < PAGE; j++, i++) p[i] = lit ? r.next() & 0xff : v;
    }
    pages.push([`mixed ${k}`, p]);
  }
  const tail = new Uint8Array(PAGE);
  tail[PAGE - 1] = 1;
  pages.push(['a single byte at the end', tail]);
  const seen = new Set();
  for (const [what, p] of pages) {
    m.srcPage(3).set(p);
    m.call('pReset');
    const t = pageTrip(m, 3, 5);
    assert.equal(t.error, PageError.None, what);
    assert.deepEqual(t.decoded, p, what);
    assert.ok(t.n <= 8 + PAGE, `${what}: ${t.n} bytes`);
    assert.ok(t.encoding === PageEncoding.Rle || t.encoding === PageEncoding.Raw, `${what}: encoding ${t.encoding}`);
    const body = t.record.subarray(8);
    if (t.encoding === PageEncoding.Rle) {
      assert.ok(body.length < PAGE, what);
      assert.deepEqual(refRleDecode(body), p, `${what}: the reference reads the same page`);
    } else {
      assert.deepEqual(body, p, what);
      // raw only when the runs would not be smaller
      assert.equal(m.call('rle', 3, 8192, 4095), -1, `${what}: RLE would not be smaller`);
    }
    seen.add(t.encoding);
  }
  assert.deepEqual([...seen].sort(), [PageEncoding.Raw, PageEncoding.Rle]);
  // worst case of the run format itself: all literals, 32 control bytes more than the page
  m.srcPage(3).set(pages[3][1]);
  assert.equal(m.call('rle', 3, 8192, 8000), PAGE + 32);
  assert.equal(m.call('rle', 3, 8192, PAGE + 31), -1);
  m.srcPage(3).fill(0x55);
  assert.equal(m.call('rle', 3, 8192, 100), 64, '4096 equal bytes: 31 runs of 130 and one of 66');
});

test('the RLE decoder wants exactly one page from exactly the record: overrun, underrun and cut runs are BadRle', () => {
  const m = rig();
  const run = (n, v) => Uint8Array.of(0x80 + n - 3, v);
  const full = cat(...Array(31).fill(run(130, 1)), run(66, 1));
  const bodies = [
    ['exact', full, true],
    ['one byte short', cat(...Array(31).fill(run(130, 1)), run(65, 1)), false],
    ['one byte over', cat(...Array(31).fill(run(130, 1)), run(67, 1)), false],
    ['trailing control byte after the page', cat(full, Uint8Array.of(0)), false],
    ['literal cut short', cat(...Array(31).fill(run(130, 1)), Uint8Array.of(65), new Uint8Array(60)), false],
    ['run missing its byte', cat(...Array(31).fill(run(130, 1)), Uint8Array.of(0x80 + 63)), false],
    ['literal far past the page', cat(Uint8Array.of(127), new Uint8Array(128), ...Array(31).fill(run(130, 2))), false],
  ];
  for (const [what, body, ok] of bodies) {
    assert.equal(refRleDecode(body) !== null, ok, `reference: ${what}`);
    const rec = refRecord(5, PageEncoding.Rle, body);
    m.setIo(rec, 0);
    m.stage.fill(0xa5);
    const e = m.call('pDec', 0, rec.length, 8);
    assert.equal(e, ok ? PageError.None : PageError.BadRle, what);
    if (ok) assert.deepEqual(m.stage.slice(), new Uint8Array(PAGE).fill(1));
  }
});

test('every PageError: header, encoding, length, range, source', () => {
  const m = rig();
  const raw = prng(7).bytes(PAGE);
  const dup = cat(u32(2), u32(1), u32(2));
  const cases = [
    [PageError.Short, refRecord(1, PageEncoding.Zero).subarray(0, 7)],
    [PageError.BadReserved, refRecord(1, PageEncoding.Zero, undefined, { reserved: 1 })],
    [PageError.BadEncoding, refRecord(1, 0)],
    [PageError.BadEncoding, refRecord(1, 5)],
    [PageError.BadEncoding, refRecord(1, 255)],
    [PageError.BadLength, refRecord(1, PageEncoding.Raw, raw.subarray(0, 4095))],
    [PageError.BadLength, refRecord(1, PageEncoding.Zero, Uint8Array.of(0))],
    [PageError.BadLength, refRecord(1, PageEncoding.Duplicate, dup.subarray(0, 11))],
    [PageError.BadLength, refRecord(1, PageEncoding.Rle, new Uint8Array(0))],
    [PageError.BadLength, refRecord(1, PageEncoding.Rle, raw)],
    [PageError.Short, refRecord(1, PageEncoding.Raw, raw).subarray(0, 8 + 4095)],
    [PageError.Short, refRecord(1, PageEncoding.Duplicate, dup, { length: 12 }).subarray(0, 19)],
    [PageError.OutOfRange, refRecord(8, PageEncoding.Zero)],
    [PageError.OutOfRange, refRecord(0xffffffff, PageEncoding.Raw, raw)],
    [PageError.BadSource, refRecord(1, PageEncoding.Duplicate, cat(u32(8), u32(1), u32(2)))],
    [PageError.BadRle, refRecord(1, PageEncoding.Rle, Uint8Array.of(0x80, 1))],
    [PageError.None, refRecord(7, PageEncoding.Raw, raw)],
    [PageError.None, refRecord(7, PageEncoding.Zero)],
    [PageError.None, refRecord(7, PageEncoding.Duplicate, dup)],
  ];
  for (const [want, rec] of cases) {
    m.setIo(rec, 0);
    assert.equal(m.call('pDec', 0, rec.length, 8), want, `record ${[...rec.subarray(0, 8)]} (${rec.length} bytes)`);
  }
  // the range is what counts, not the array behind it
  const rec = refRecord(1, PageEncoding.Raw, raw);
  m.setIo(rec, 100);
  assert.equal(m.call('pDec', 100, rec.length - 1, 8), PageError.Short);
  m.setIo(rec.subarray(0, 50), IO_BYTES - 50);
  assert.equal(m.call('pDec', IO_BYTES - 50, 5000, 8), PageError.Short);
  // the decoded fields
  m.setIo(refRecord(6, PageEncoding.Duplicate, cat(u32(3), u32(0xdeadbeef), u32(0x01020304))), 0);
  assert.equal(m.call('pDec', 0, 20, 8), PageError.None);
  assert.deepEqual([0, 1, 2, 3, 4, 5].map((k) => m.call('pInfo', k) >>> 0), [20, 6, PageEncoding.Duplicate, 3, 0xdeadbeef, 0x01020304]);
});

test('Zero pages take 8 bytes and decode to zeros', () => {
  const m = rig();
  m.call('pReset');
  m.srcPage(2).fill(0);
  const t = pageTrip(m, 2, 40);
  assert.equal(t.encoding, PageEncoding.Zero);
  assert.equal(t.n, 8);
  assert.deepEqual(t.record, refRecord(40, PageEncoding.Zero));
  assert.deepEqual(t.decoded, new Uint8Array(PAGE));
});

test('Duplicate: only while the source page still has those contents; a changed source is refused', () => {
  const m = rig();
  m.call('pReset');
  const r = prng(8);
  const x = r.bytes(PAGE);
  const y = r.bytes(PAGE);
  m.srcPage(0).set(x);
  m.srcPage(1).set(x);
  assert.equal(pageTrip(m, 0, 10).encoding, PageEncoding.Raw, 'first sending of X');
  const d = pageTrip(m, 1, 11);
  assert.equal(d.encoding, PageEncoding.Duplicate, 'X again, as page 11');
  assert.deepEqual(d.record, refRecord(11, PageEncoding.Duplicate, cat(u32(10), u32(crcRef(x)), u32(fnvRef(x)))));
  // the receiver checks its copy of page 10 before copying it
  m.dstPage(10).set(x);
  assert.equal(m.call('pVerify', 2, 10), PageError.None);
  m.dstPage(10)[4095] ^= 1;
  assert.equal(m.call('pVerify', 2, 10), PageError.DupMismatch, 'the receiver\'s page 10 changed');
  // page 10 and 11 are sent again with other contents: X has no source left
  m.srcPage(0).set(y);
  assert.equal(pageTrip(m, 0, 10).encoding, PageEncoding.Raw);
  m.srcPage(2).set(x);
  const again = pageTrip(m, 2, 12);
  assert.equal(again.encoding, PageEncoding.Duplicate, 'page 11 still has X');
  assert.equal(rd32(again.record, 8), 11);
  m.srcPage(1).fill(0);
  assert.equal(pageTrip(m, 1, 11).encoding, PageEncoding.Zero, 'page 11 becomes zero');
  assert.equal(pageTrip(m, 2, 12).encoding, PageEncoding.Duplicate, 'page 12 itself, unchanged: a duplicate of itself');
  assert.equal(rd32(pageTrip(m, 2, 13).record, 8), 12);
  m.srcPage(2).set(y);
  assert.equal(pageTrip(m, 2, 12).encoding, PageEncoding.Duplicate, 'Y: page 10 has it');
  m.srcPage(3).set(x);
  assert.equal(pageTrip(m, 3, 14).encoding, PageEncoding.Duplicate, 'X: page 13 has it');
  m.srcPage(4).set(x);
  m.srcPage(4)[0] ^= 0x80;
  assert.equal(pageTrip(m, 4, 15).encoding, PageEncoding.Raw, 'one bit different: not a duplicate');
  // a record that did not fit is not remembered as sent
  m.call('pReset');
  m.srcPage(5).set(r.bytes(PAGE));
  assert.equal(m.call('pEnc', 5, 20, 0, 4103), 0);
  assert.equal(m.call('pEnc', 5, 21, 0, 7), 0);
  assert.equal(pageTrip(m, 5, 22).encoding, PageEncoding.Raw, 'page 20 was never sent');
  assert.equal(m.call('pEnc', 5, 23, 0, 19), 0, 'a duplicate needs 20 bytes');
  assert.equal(m.call('pEnc', 5, 23, 0, 20), 20);
});

test('7,000 random sendings: every Duplicate names a page whose last-sent contents match, across table resets', { timeout: 60000 }, () => {
  const m = rig();
  m.call('pReset');
  const r = prng(9);
  const pool = [...Array(12)].map(() => r.bytes(PAGE));
  const lastSent = new Map(); // page number -> the contents the receiver has for it
  const counts = [0, 0, 0, 0, 0];
  for (let i = 0; i < 7000; i++) {
    // a few page numbers sent often, with contents from a small pool (duplicates); many fresh
    // page numbers and fresh contents (the tables fill and are cleared)
    const gpa = r.int(10) === 0 ? r.int(40) : 100 + i;
    const pick = r.int(20);
    const content = pick < 9 ? r.bytes(PAGE) : pick === 9 ? new Uint8Array(PAGE) : pool[r.int(pool.length)];
    m.srcPage(0).set(content);
    const n = m.call('pEnc', 0, gpa, 0, MAX_PAYLOAD);
    assert.ok(n > 0);
    const rec = m.ioBytes(0, n);
    assert.equal(rd32(rec, 0), gpa);
    const encoding = rec[4];
    counts[encoding]++;
    if (encoding === PageEncoding.Duplicate) {
      const source = rd32(rec, 8);
      assert.ok(lastSent.has(source), `sending ${i}: page ${source} was never sent`);
      assert.deepEqual(lastSent.get(source), content, `sending ${i}: page ${source} no longer has these contents`);
      assert.equal(rd32(rec, 12), crcRef(content));
      assert.equal(rd32(rec, 16), fnvRef(content));
    }
    lastSent.set(gpa, content);
  }
  assert.ok(counts[PageEncoding.Duplicate] > 1000, `duplicates: ${counts}`);
  assert.ok(counts[PageEncoding.Zero] > 100, `zero pages: ${counts}`);
  assert.ok(m.call('pStat', 6) >= 2, 'both tables filled up and were cleared');
});

// ---- sinks ----

test('Null counts, Console dumps hex, Snp and VirtioNet are not attached, bad arguments are refused', () => {
  const m = rig();
  const f = refFrame({ type: FrameType.Ack, payload: u32(0x41424344) });
  m.setIo(f, 0);
  const frames0 = m.call('sStat', 0);
  const bytes0 = m.call('sStat', 1);
  assert.equal(m.call('sSend', SinkKind.Null, 0, 0, f.length), SinkError.None);
  assert.equal(m.call('sSend', SinkKind.Null, 0, 0, f.length), SinkError.None);
  assert.equal(m.call('sStat', 0) - frames0, 2);
  assert.equal(m.call('sStat', 1) - bytes0, 2 * f.length);
  assert.equal(m.call('sPoll', SinkKind.Null, 0, 0, 4096), 0);
  m.call('cClear');
  assert.equal(m.call('sSend', SinkKind.Console, 0, 0, f.length), SinkError.None);
  const hex = (b) => [...b].map((x) => x.toString(16).padStart(2, '0'));
  const line = (off, b) => {
    const h = hex(b);
    while (h.length < 16) h.push('  ');
    const ascii = [...b].map((x) => (x >= 0x20 && x < 0x7f ? String.fromCharCode(x) : '.')).join('');
    return `${off.toString(16).padStart(4, '0')}  ${h.slice(0, 8).join(' ')}  ${h.slice(8).join(' ')}  ${ascii}\n`;
  };
  assert.equal(m.consoleText(), line(0, f.subarray(0, 16)) + line(16, f.subarray(16)));
  assert.ok(m.consoleText().startsWith('0000  5a 56 4d 47 01 00 07 00  00 00 00 00 04 00 00 00  ZVMG'), m.consoleText());
  assert.equal(m.call('sPoll', SinkKind.Console, 0, 0, 4096), 0);
  // full: whole lines only, the rest counted
  for (let i = 0; i < 100; i++) m.call('sSend', SinkKind.Console, 0, 0, 4096);
  assert.ok(m.call('sStat', 2) <= 16384);
  const text = m.consoleText();
  assert.ok(text.endsWith('\n'));
  assert.ok(text.length > 16384 - 73, 'it filled up');
  assert.equal(m.call('sStat', 3), 100 * 256 - (text.split('\n').length - 1 - 2), 'every line that did not fit is counted');
  m.call('cClear');
  for (const kind of [SinkKind.Snp, SinkKind.VirtioNet]) {
    assert.equal(m.call('sSend', kind, 0, 0, f.length), SinkError.NotAttached);
    assert.equal(m.call('sPoll', kind, 0, 0, 4096), -SinkError.NotAttached);
  }
  assert.equal(m.call('sSend', 9, 0, 0, f.length), SinkError.BadKind);
  assert.equal(m.call('sPoll', 9, 0, 0, 4096), -SinkError.BadKind);
  assert.equal(m.call('sSend', SinkKind.Buffer, 2, 0, f.length), SinkError.BadEnd);
  assert.equal(m.call('sSend', SinkKind.Null, 0, IO_BYTES - 4, 8), SinkError.BadRange);
  assert.equal(m.call('sSend', SinkKind.Null, 0, 0, MAX_FRAME + 1), SinkError.TooLong);
});

/** Datagrams waiting at end `end` of the Buffer pair. */
const drain = (m, end) => {
  const out = [];
  for (;;) {
    const n = m.call('sPoll', SinkKind.Buffer, end, 8192, MAX_FRAME);
    if (n <= 0) return out;
    out.push(m.ioBytes(8192, n));
  }
};

test('the Buffer pair: in order both ways, and each fault does what it says, the same for the same seed', () => {
  const m = rig();
  m.call('bInit');
  const msgs = [...Array(10)].map((_, i) => Uint8Array.of(i, i, i, i));
  const send = (end) => msgs.forEach((b) => { m.setIo(b, 0); assert.equal(m.call('sSend', SinkKind.Buffer, end, 0, 4), 0); });
  send(0);
  assert.deepEqual(drain(m, 0), []);
  assert.deepEqual(drain(m, 1), msgs);
  send(1);
  assert.deepEqual(drain(m, 0), msgs);
  const faulty = (drop, dup, reorder, corrupt, seed) => {
    m.call('bInit');
    m.call('bFaults', 0, drop, dup, reorder, corrupt, seed);
    send(0);
    return drain(m, 1);
  };
  assert.deepEqual(faulty(1000, 0, 0, 0, 1), []);
  assert.equal(m.call('bStat', 0, BufferStat.Dropped), 10);
  assert.deepEqual(faulty(0, 1000, 0, 0, 1), msgs.flatMap((b) => [b, b]));
  const reordered = faulty(0, 0, 1000, 0, 1);
  assert.deepEqual(reordered.map((b) => b[0]), [1, 2, 3, 4, 5, 6, 7, 8, 9, 0], 'each frame swapped before the one queued earlier');
  const corrupted = faulty(0, 0, 0, 1000, 1);
  assert.equal(corrupted.length, 10);
  corrupted.forEach((b, i) => assert.equal([...b].filter((x, k) => x !== msgs[i][k]).length, 1, `one byte changed in ${i}`));
  const a = faulty(300, 300, 300, 300, 77);
  const b = faulty(300, 300, 300, 300, 77);
  const c = faulty(300, 300, 300, 300, 78);
  assert.deepEqual(a, b);
  assert.notDeepEqual(a, c);
  // a full queue drops
  m.call('bInit');
  for (let i = 0; i < 80; i++) m.call('sSend', SinkKind.Buffer, 0, 0, 4);
  assert.equal(m.call('bStat', 0, BufferStat.Queued), 72);
  assert.equal(m.call('bStat', 0, BufferStat.Overflowed), 8);
  assert.equal(drain(m, 1).length, 72);
  // a datagram longer than the poller's room is dropped, not cut
  m.call('sSend', SinkKind.Buffer, 0, 0, 100);
  assert.equal(m.call('sPoll', SinkKind.Buffer, 1, 8192, 99), -SinkError.TooLong);
  assert.equal(m.call('sPoll', SinkKind.Buffer, 1, 8192, 4096), 0);
});

// ---- whole migrations ----

/** Fills source pages [0, n) with a mix: zero, random, one value, runs, text, copies of others. */
const fillSource = (m, n, seed) => {
  const r = prng(seed);
  for (let g = 0; g < n; g++) {
    const p = m.srcPage(g);
    switch (g % 7) {
      case 0: p.fill(0); break;
      case 1: p.set(r.bytes(PAGE)); break;
      case 2: p.fill(g); break;
      case 3: for (let i = 0; i < PAGE; i++) p[i] = (i >> 6) & 0xff; break;
      case 4: p.set(enc(`page ${g} `.repeat(500)).subarray(0, PAGE)); break;
      case 5: p.set(m.srcPage(g - 4)); break;
      default: p.set(r.bytes(PAGE)); p.fill(0, 1000, 3000);
    }
  }
};

/**
 * One migration over the Buffer pair: Start, pages [0, n), `rounds` rounds of changed
 * pages sent again, vCPU and device state, Complete; then both sides polled until each is
 * done or failed. faults: per mille [drop, duplicate, reorder, corrupt] in both directions.
 */
const migrate = (m, { pages = 96, faults = [0, 0, 0, 0], seed = 1, rounds = 2, rto = 16, maxResends = 12, nakInterval = 4, maxErrors = 32, idle = 3000, dstPages = pages, name = 'guest-1' } = {}) => {
  m.call('bInit');
  m.call('bFaults', 0, ...faults, seed);
  m.call('bFaults', 1, ...faults, seed * 7 + 1);
  fillSource(m, pages, seed);
  m.dst.fill(0xee);
  assert.equal(m.call('attach', pages, dstPages), 1);
  m.call('oInit', SinkKind.Buffer, 0, pages, rto, maxResends, 0);
  m.call('iInit', SinkKind.Buffer, 1, nakInterval, maxErrors, idle, 0);
  let now = 0;
  const step = () => { now += m.call('run', now, 1, 256); };
  let failed = false;
  const push = (fn) => {
    if (failed) return;
    for (let i = 0; i < 100000; i++) {
      const r = fn();
      if (r === OutResult.Busy) { step(); continue; }
      if (r === OutResult.Failed) failed = true;
      else assert.equal(r, OutResult.Ok);
      return;
    }
    assert.fail('the sender stayed busy');
  };
  const nameBytes = enc(name);
  m.setName(nameBytes);
  push(() => m.call('oStart', nameBytes.length, 1, 2, 0));
  for (let g = 0; g < pages; g++) push(() => m.call('oPage', g));
  const r = prng(seed + 1000);
  const sent = [];
  for (let round = 0; round < rounds; round++) {
    step();
    const changed = [...new Set([...Array(pages >> 3)].map(() => r.int(pages)))];
    for (const g of changed) {
      const p = m.srcPage(g);
      if (r.int(2)) p.set(r.bytes(64), r.int(PAGE - 64)); else p.set(m.srcPage(r.int(pages)));
      push(() => m.call('oPage', g));
      sent.push(g);
    }
  }
  const vcpu = prng(seed + 2).bytes(1500);
  const uart = prng(seed + 3).bytes(40);
  m.setIo(vcpu, 0);
  push(() => m.call('oState', FrameType.VcpuState, 1, 0, 0, vcpu.length));
  m.setIo(uart, 0);
  push(() => m.call('oState', FrameType.DeviceState, 1, 0, 0, uart.length));
  push(() => m.call('oComplete'));
  now += m.call('run', now, 50000, 256);
  const status = m.call('oPoll', now);
  return { out: m.outInfo(), in: m.inInfo(), status, ticks: now, records: pages + sent.length, vcpu, uart, failedEarly: failed };
};

const samePages = (m, n) => {
  for (let g = 0; g < n; g++) if (Buffer.compare(m.srcPage(g), m.dstPage(g)) !== 0) return g;
  return -1;
};

/** What every run must show: the destination is the source, or both sides said why not. */
const judge = (m, res, pages, what) => {
  if (res.in.done) {
    assert.equal(samePages(m, pages), -1, `${what}: the destination is done, so its memory must be the source's`);
    assert.equal(res.in.error, 0, what);
    assert.equal(res.in.records, res.records, what);
  }
  if (res.status === 1) assert.equal(res.in.done, 1, `${what}: the sender is done only when the receiver verified Complete`);
  if (!res.in.done) {
    assert.notEqual(res.in.error, 0, `${what}: the receiver did not finish, so it must say why`);
    assert.notEqual(res.out.error, 0, `${what}: the receiver failed, so the sender must know`);
  }
};

test('a clean migration: the destination has the source\'s bytes, configuration and state', () => {
  const m = new Migration();
  const res = migrate(m, { pages: MEM_PAGES, rounds: 3, name: 'ゲスト-1' });
  assert.equal(res.status, 1, JSON.stringify(res));
  assert.equal(res.in.done, 1);
  assert.equal(samePages(m, MEM_PAGES), -1);
  assert.equal(res.out.framesResent, 0);
  assert.deepEqual([res.in.pageCount, res.in.memMiB, res.in.vcpus, res.in.flags, res.in.records], [MEM_PAGES, 1, 2, 0, res.records]);
  assert.equal(m.inName(), 'ゲスト-1');
  const cap = m.capture();
  assert.deepEqual(cap, cat(Uint8Array.of(FrameType.VcpuState, 1, 0, 0), u16(res.vcpu.length), res.vcpu, Uint8Array.of(FrameType.DeviceState, 1, 0, 0), u16(res.uart.length), res.uart));
  for (const e of [PageEncoding.Raw, PageEncoding.Rle, PageEncoding.Zero, PageEncoding.Duplicate]) assert.ok(m.call('pStat', e) > 0, `encoding ${e} used`);
});

test('lossy links (drop, duplicate, reorder, corrupt at 3% both ways, 8 seeds; 10% once): exact copy or both sides fail', { timeout: 120000 }, (t) => {
  const m = new Migration();
  const runs = [];
  for (let seed = 1; seed <= 8; seed++) runs.push([`seed ${seed}`, { seed, faults: [30, 30, 30, 30] }]);
  runs.push(['10% of everything', { seed: 99, faults: [100, 100, 100, 100] }]);
  runs.push(['corrupt only, 20%', { seed: 5, faults: [0, 0, 0, 200] }]);
  runs.push(['reorder only, 30%', { seed: 6, faults: [0, 0, 300, 0] }]);
  let done = 0;
  for (const [what, opts] of runs) {
    const res = migrate(m, { pages: 96, ...opts });
    judge(m, res, 96, what);
    if (res.in.done) done++;
    t.diagnostic(`${what}: ${res.in.done ? 'copied' : `failed (sender ${res.out.error}, receiver ${res.in.error})`} in ${res.ticks} ticks; frames ${res.out.framesSent} + ${res.out.framesResent} resent; receiver: ${res.in.gaps} gaps, ${res.in.duplicates} duplicates, ${res.in.corrupt} corrupt`);
    assert.ok(res.out.framesResent > 0 || opts.faults.every((f) => f === 0), `${what}: faults made resends`);
  }
  assert.ok(done >= runs.length - 1, `most lossy runs still finish: ${done}/${runs.length}`);
});

test('a dead link: the sender gives up after its resends, the receiver times out; both say why', () => {
  const m = new Migration();
  const res = migrate(m, { pages: 8, faults: [1000, 0, 0, 0], maxResends: 3, idle: 400, rounds: 0 });
  judge(m, res, 8, 'dead link');
  assert.equal(res.out.error, MigError.ResendLimit);
  assert.equal(res.in.error, MigError.Timeout);
  assert.equal(res.in.done, 0);
});

test('a corrupting link, with few errors allowed: the receiver stops (TooManyErrors), and the sender hears it', () => {
  const m = new Migration();
  const res = migrate(m, { pages: 16, faults: [0, 0, 0, 1000], maxErrors: 5, idle: 100000, rounds: 0 });
  judge(m, res, 16, 'corrupting link');
  assert.equal(res.in.error, MigError.TooManyErrors);
  assert.notEqual(res.out.error, MigError.None);
});

test('no allocation per frame or page: the Wasm memory does not grow over a second migration', () => {
  const m = new Migration();
  migrate(m, { pages: 64, faults: [20, 20, 20, 20], seed: 3 });
  const before = m.memory.buffer.byteLength;
  const res = migrate(m, { pages: MEM_PAGES, faults: [20, 20, 20, 20], seed: 4, rounds: 4 });
  judge(m, res, MEM_PAGES, 'second run');
  assert.equal(m.memory.buffer.byteLength, before);
});

test('the window: 64 frames unacknowledged, then Busy; an Ack frees them', () => {
  const m = new Migration();
  m.call('bInit');
  const r = prng(11);
  for (let g = 0; g < MEM_PAGES; g++) m.srcPage(g).set(r.bytes(PAGE));
  m.call('attach', MEM_PAGES, MEM_PAGES);
  m.call('oInit', SinkKind.Buffer, 0, MEM_PAGES, 4, 3, 0);
  m.setName(enc('w'));
  assert.equal(m.call('oStart', 1, 1, 1, 0), OutResult.Ok);
  let g = 0;
  while (m.call('oPage', g) === OutResult.Ok) g++;
  assert.equal(m.call('oPage', g), OutResult.Busy);
  assert.equal(m.outInfo().outstanding, 64, 'Start and 63 full Pages frames (one raw page each)');
  assert.equal(g, 63, 'pages 0..62, one a frame');
  assert.equal(drain(m, 1).length, 64);
  m.setIo(refFrame({ type: FrameType.Ack, payload: u32(10) }), 0);
  m.call('sSend', SinkKind.Buffer, 1, 0, 28);
  m.setIo(refFrame({ type: FrameType.Ack, payload: u32(500) }), 0); // never sent: ignored
  m.call('sSend', SinkKind.Buffer, 1, 0, 28);
  m.setIo(refFrame({ type: FrameType.Nak, payload: nakPayload([900]) }), 0); // never sent: ignored
  m.call('sSend', SinkKind.Buffer, 1, 0, 32);
  assert.equal(m.call('oPoll', 1), 0);
  assert.deepEqual([m.outInfo().acked, m.outInfo().outstanding, m.outInfo().badIn], [10, 54, 2]);
  assert.equal(m.call('oPage', g), OutResult.Ok);
  // a Nak of the next expected frame: it and the frames after it go again (go-back-N, at most 16 more)
  m.setIo(refFrame({ type: FrameType.Nak, payload: nakPayload([12]) }), 0);
  m.call('sSend', SinkKind.Buffer, 1, 0, 32);
  assert.equal(m.call('oPoll', 2), 0);
  assert.equal(m.outInfo().acked, 11, 'a Nak of 12 acknowledges 11');
  const again = drain(m, 1).map((f) => rd32(f, 8));
  assert.deepEqual(again, [...Array(17)].map((_, i) => 12 + i));
  // the peer's Abort ends the session with its reason
  m.setIo(refFrame({ type: FrameType.Abort, payload: u32(MigError.HashMismatch) }), 0);
  m.call('sSend', SinkKind.Buffer, 1, 0, 28);
  assert.equal(m.call('oPoll', 3), 2);
  assert.deepEqual([m.outInfo().error, m.outInfo().peerReason], [MigError.PeerAborted, MigError.HashMismatch]);
  assert.equal(m.call('oPage', 0), OutResult.Failed);
});

test('outgoing refuses calls out of order or out of range', () => {
  const m = new Migration();
  m.call('bInit');
  m.call('attach', 8, 8);
  m.call('oInit', SinkKind.Buffer, 0, 8, 16, 3, 0);
  assert.equal(m.call('oPage', 0), OutResult.BadArgument, 'a page before Start');
  assert.equal(m.call('oComplete'), OutResult.BadArgument, 'Complete before Start');
  m.setName(enc('x'.repeat(40)));
  assert.equal(m.call('oStart', 0, 1, 1, 0), OutResult.BadArgument, 'no name');
  assert.equal(m.call('oStart', 33, 1, 1, 0), OutResult.BadArgument, 'a name of 33 bytes');
  assert.equal(m.call('oStart', 32, 1, 1, 0), OutResult.Ok);
  assert.equal(m.call('oStart', 3, 1, 1, 0), OutResult.BadArgument, 'a second Start');
  assert.equal(m.call('oPage', 8), OutResult.BadArgument, 'a page past the memory');
  assert.equal(m.call('oState', FrameType.Ack, 0, 0, 0, 4), OutResult.BadArgument);
  assert.equal(m.call('oComplete'), OutResult.Ok);
  assert.equal(m.call('oPage', 0), OutResult.BadArgument, 'a page after Complete');
  assert.equal(m.call('oInit', SinkKind.Buffer, 0, 9, 16, 3, 0), MigError.NotAttached, 'more pages than attached');
  assert.equal(m.call('oInit', SinkKind.Snp, 0, 8, 16, 3, 0), 0);
  assert.equal(m.call('oStart', 3, 1, 1, 0), OutResult.Failed, 'a transport that is not attached');
  assert.equal(m.outInfo().error, MigError.SinkFailed);
});

// ---- hostile streams at the receiver ----

/** A receive session on end 1 with frames injected from end 0 and the answers read there. */
const hostile = ({ pages = 4, maxErrors = 8, idle = 500, nakInterval = 4 } = {}) => {
  const m = rig();
  m.call('bInit');
  m.dst.fill(0xee);
  m.call('attach', MEM_PAGES, pages);
  m.call('iInit', SinkKind.Buffer, 1, nakInterval, maxErrors, idle, 0);
  const h = {
    m,
    /** Sends frames (byte arrays) to the receiver; polls it after each; returns the last status. */
    send(frames, now = 1) {
      let s;
      for (const f of [].concat(frames)) {
        m.setIo(f, 0);
        assert.equal(m.call('sSend', SinkKind.Buffer, 0, 0, f.length), SinkError.None, `a frame of ${f.length} bytes`);
        s = m.call('iPoll', now);
      }
      return s;
    },
    /** The receiver's answers so far, as { type, value } (Ack: the sequence; Nak: the list; Abort: the reason). */
    answers() {
      return drain(m, 0).map((f) => {
        assert.equal(refDecode(f), FrameError.None, 'the receiver sends valid frames');
        const type = rd16(f, 6);
        const p = f.subarray(HEADER);
        if (type === FrameType.Nak) return { type: 'nak', value: [...Array(rd16(p, 0))].map((_, i) => rd32(p, 4 + 4 * i)) };
        return { type: type === FrameType.Ack ? 'ack' : type === FrameType.Abort ? 'abort' : `type ${type}`, value: rd32(p, 0) };
      });
    },
    info: () => m.inInfo(),
  };
  return h;
};

const START = (seq = 1, opts = {}) => refFrame({ type: FrameType.Start, seq, payload: startPayload({ pages: 4, ...opts }) });
const PAGES = (seq, ...records) => refFrame({ type: FrameType.Pages, seq, payload: cat(...records) });
const COMPLETE = (seq, pages, hi, lo) => refFrame({ type: FrameType.Complete, seq, payload: completePayload(pages, hi, lo) });
/** kernel/services/migration/page-codec.ts memHashPage over the pages' little-endian words. */
const memHash = (pages) => {
  const all = cat(...pages);
  const dv = new DataView(all.buffer, all.byteOffset, all.byteLength);
  let hi = 0x811c9dc5;
  let lo = 0x2545f491;
  for (let i = 0; i + 4 <= all.length; i += 4) {
    const w = dv.getUint32(i, true);
    hi = Math.imul(hi ^ w, 0x01000193) >>> 0;
    lo = (Math.imul(lo ^ w, 0x9e3779b1) + 0x7f4a7c15) >>> 0;
  }
  return [hi, lo];
};

test('a well-behaved hand-made stream is accepted: Raw, Rle, Zero and Duplicate pages, then Complete', () => {
  const h = hostile();
  const r = prng(12);
  const a = r.bytes(PAGE);
  const ones = new Uint8Array(PAGE).fill(1);
  const rle = cat(...Array(31).fill(Uint8Array.of(0x80 + 127, 1)), Uint8Array.of(0x80 + 63, 1));
  assert.equal(h.send(START()), InStatus.Started);
  assert.equal(h.send(PAGES(2, refRecord(0, PageEncoding.Raw, a))), InStatus.Progress);
  assert.equal(h.send(PAGES(3, refRecord(1, PageEncoding.Zero), refRecord(2, PageEncoding.Rle, rle), refRecord(3, PageEncoding.Duplicate, cat(u32(0), u32(crcRef(a)), u32(fnvRef(a)))))), InStatus.Progress);
  assert.equal(h.send(COMPLETE(4, 4, ...memHash([a, new Uint8Array(PAGE), ones, a]))), InStatus.Done);
  assert.deepEqual(h.answers(), [1, 2, 3, 4].map((v) => ({ type: 'ack', value: v })));
  assert.deepEqual(h.m.dstPage(3).slice(), a);
  assert.deepEqual(h.m.dstPage(2).slice(), ones);
  // a resent Complete is acknowledged again, nothing else changes
  assert.equal(h.send(COMPLETE(4, 4, 0, 0)), InStatus.Done);
  assert.deepEqual(h.answers(), [{ type: 'ack', value: 4 }]);
});

/** Runs `frames` into a fresh receive session and checks it ends with `error`, telling the sender so. */
const expectFailure = (frames, error, opts) => {
  const h = hostile(opts);
  assert.equal(h.send(frames), InStatus.Failed);
  assert.equal(h.info().error, error);
  const aborts = h.answers().filter((a) => a.type === 'abort');
  assert.deepEqual(aborts, [{ type: 'abort', value: error }], 'one Abort with the reason');
  assert.equal(h.send(START(1)), InStatus.Failed, 'a failed session stays failed');
  return h;
};

test('hostile order: data before Start, a second Start', () => {
  expectFailure([PAGES(1, refRecord(0, PageEncoding.Zero))], MigError.BadOrder);
  expectFailure([COMPLETE(1, 0, 0, 0)], MigError.BadOrder);
  expectFailure([refFrame({ type: FrameType.VcpuState, seq: 1, payload: statePayload(0, 0, new Uint8Array(4)) })], MigError.BadOrder);
  expectFailure([START(1), START(2)], MigError.DuplicateStart);
});

test('hostile Start: name, memory, vCPUs, flags and page count out of range; more pages than the memory', () => {
  const bad = [
    { name: new Uint8Array(0) },
    { name: Uint8Array.of(0xc3) }, // a cut UTF-8 sequence
    { name: Uint8Array.of(0xc0, 0xaf) }, // overlong
    { name: Uint8Array.of(0x61, 0x1b, 0x5b, 0x32, 0x4a) }, // ESC [ 2 J
    { name: Uint8Array.of(0xc2, 0x9b) }, // C1 CSI
    { memMiB: 0 }, { memMiB: 4097 }, { vcpus: 0 }, { vcpus: 65 }, { flags: 1 }, { flags: 2 }, { pages: 0 }, { memMiB: 1, pages: 257 },
  ];
  for (const opts of bad) expectFailure([START(1, opts)], MigError.BadStart);
  expectFailure([START(1, { pages: 5 })], MigError.TooLarge);
  const h = hostile();
  assert.equal(h.send(START(1, { name: enc('zé-虚拟机'), memMiB: 4096, vcpus: 64, flags: 0 })), InStatus.Started);
  assert.equal(h.m.inName(), 'zé-虚拟机');
});

test('hostile pages: malformed records, pages outside the memory, a Duplicate of a page that differs', () => {
  const a = prng(13).bytes(PAGE);
  let h = expectFailure([START(), PAGES(2, refRecord(0, PageEncoding.Rle, Uint8Array.of(0x80, 1)))], MigError.BadPage);
  assert.equal(h.info().pageError, PageError.BadRle);
  h = expectFailure([START(), PAGES(2, refRecord(4, PageEncoding.Zero))], MigError.BadPage);
  assert.equal(h.info().pageError, PageError.OutOfRange);
  h = expectFailure([START(), PAGES(2, refRecord(0, PageEncoding.Zero), refRecord(1, PageEncoding.Raw, a.subarray(0, 100), { length: PAGE }))], MigError.BadPage);
  assert.equal(h.info().pageError, PageError.Short);
  h = expectFailure([START(), PAGES(2, refRecord(0, PageEncoding.Raw, a)), PAGES(3, refRecord(1, PageEncoding.Duplicate, cat(u32(0), u32(crcRef(a) ^ 1), u32(fnvRef(a)))))], MigError.DupMismatch);
  assert.equal(h.info().pageError, PageError.DupMismatch);
  assert.deepEqual(h.m.dstPage(1).slice(), new Uint8Array(PAGE).fill(0xee), 'the refused page was not written');
  // a Duplicate of a page the receiver has with other contents (the sender's claim is wrong)
  h = expectFailure([START(), PAGES(2, refRecord(0, PageEncoding.Zero)), PAGES(3, refRecord(1, PageEncoding.Duplicate, cat(u32(0), u32(crcRef(a)), u32(fnvRef(a)))))], MigError.DupMismatch);
});

test('hostile Complete: a wrong page count, a wrong hash, pages missing', () => {
  const z = new Uint8Array(PAGE);
  const four = [0, 1, 2, 3].map((g) => refRecord(g, PageEncoding.Zero));
  expectFailure([START(), PAGES(2, ...four), COMPLETE(3, 5, ...memHash([z, z, z, z]))], MigError.CountMismatch);
  expectFailure([START(), PAGES(2, ...four), COMPLETE(3, 4, ...memHash([z, z, z, Uint8Array.of(1)]))], MigError.HashMismatch);
  const [hi, lo] = memHash([z, z, z, z]);
  expectFailure([START(), PAGES(2, ...four), COMPLETE(3, 4, hi, lo ^ 1)], MigError.HashMismatch);
  expectFailure([START(), PAGES(2, ...four.slice(0, 3), four[0]), COMPLETE(3, 4, hi, lo)], MigError.Incomplete);
});

test('hostile state: a vCPU or device the VM does not have', () => {
  expectFailure([START(1, { vcpus: 2 }), refFrame({ type: FrameType.VcpuState, seq: 2, payload: statePayload(2, 0, new Uint8Array(8)) })], MigError.BadState);
  expectFailure([START(), refFrame({ type: FrameType.DeviceState, seq: 2, payload: statePayload(2, 0, new Uint8Array(8)) })], MigError.BadState);
});

test('hostile transport: garbage ends the session after maxErrors; duplicates and gaps cannot hold it open past the idle limit', () => {
  const r = prng(14);
  // garbage: Nak(expected) for each (rate-limited), then TooManyErrors at the 9th
  let h = hostile({ maxErrors: 8, nakInterval: 1000 });
  for (let i = 0; i < 8; i++) assert.equal(h.send(r.bytes(40)), InStatus.Progress);
  assert.equal(h.info().corrupt, 8);
  assert.deepEqual(h.answers(), [{ type: 'nak', value: [1] }], 'one Nak for the same gap within the interval');
  assert.equal(h.send(refFrame({ type: FrameType.Ack, payload: u32(1) })), InStatus.Failed, 'an Ack counts as an error at the receiver');
  assert.equal(h.info().error, MigError.TooManyErrors);
  assert.deepEqual(h.answers(), [{ type: 'abort', value: MigError.TooManyErrors }]);
  // a good frame resets the count
  h = hostile({ maxErrors: 2 });
  h.send([r.bytes(30), r.bytes(30), START(), r.bytes(30), r.bytes(30)]);
  assert.equal(h.info().error, MigError.None);
  // duplicates are acknowledged again; a gap gets Nak(expected); neither delivers anything
  h = hostile({ idle: 50, nakInterval: 10 });
  h.send(START(1));
  h.answers();
  assert.equal(h.send(START(1), 5), InStatus.Progress);
  assert.equal(h.send(PAGES(5, refRecord(0, PageEncoding.Zero)), 6), InStatus.Progress);
  assert.equal(h.send(PAGES(6, refRecord(0, PageEncoding.Zero)), 7), InStatus.Progress);
  assert.equal(h.send(PAGES(7, refRecord(0, PageEncoding.Zero)), 20), InStatus.Progress);
  assert.deepEqual(h.answers(), [{ type: 'ack', value: 1 }, { type: 'nak', value: [2] }, { type: 'nak', value: [2] }]);
  assert.deepEqual([h.info().duplicates, h.info().gaps, h.info().delivered], [1, 3, 1]);
  for (let t = 21; t < 50; t++) h.send(START(1), t);
  assert.equal(h.send(START(1), 51), InStatus.Failed, 'nothing delivered for 50 ticks');
  assert.equal(h.info().error, MigError.Timeout);
  // the sender's Abort
  h = hostile();
  h.send(START());
  assert.equal(h.send(refFrame({ type: FrameType.Abort, payload: u32(MigError.LocalAbort) })), InStatus.Failed);
  assert.deepEqual([h.info().error, h.info().peerReason], [MigError.PeerAborted, MigError.LocalAbort]);
  assert.deepEqual(h.answers(), [{ type: 'ack', value: 1 }], 'no Abort back to an Abort');
});

// ---- messages ----

test('every error value has a message key, in English, Japanese and Chinese', async () => {
  const names = ['frame', 'page-codec', 'sink', 'migration-error'];
  const result = await build({
    stdin: { contents: names.map((n) => `export * from './${n}';`).join('\n'), resolveDir: join(ROOT, 'kernel', 'services', 'migration'), loader: 'ts' },
    bundle: true, write: false, format: 'esm', platform: 'neutral', logLevel: 'error',
  });
  const mod = await import(`data:text/javascript;base64,${Buffer.from(result.outputFiles[0].text).toString('base64')}`);
  const { en, ja, zh } = await dictionaries();
  const groups = [[mod.frameErrorKey, FrameError], [mod.pageErrorKey, PageError], [mod.sinkErrorKey, SinkError], [mod.migErrorKey, MigError]];
  const keys = new Set();
  for (const [fn, values] of groups) {
    for (const [name, v] of Object.entries(values)) {
      const key = fn(v);
      assert.ok(key in en && key in ja && key in zh, `${name}: ${key}`);
      assert.ok(!keys.has(key), `${name}: ${key} is used twice`);
      keys.add(key);
    }
  }
  assert.equal(mod.migErrorKey(999), 'migration.err.unknown');
});
