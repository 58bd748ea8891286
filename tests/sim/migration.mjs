// A rig for the migration tests: the test kernel tests/fixtures/kernels/migration.ts (CRC-32,
// FNV-1a, frames, page records, sinks, both protocol sides) compiled like the kernel (cached
// in build/test-cache/, keyed by the files that go into it) and instantiated once; every
// host function it imports fails the run if called (the modules are pure logic).
import { crc32Update, fnv1aUpdate } from './checksums.mjs';
import { join } from 'node:path';
import { ROOT, callExport, listFiles, testEntryModule } from './harness.mjs';

const ENTRY = join(ROOT, 'tests', 'fixtures', 'kernels', 'migration.ts');

/** The sources the test kernel is built from (its imports). */
const inputs = () => [
  ...listFiles(join(ROOT, 'kernel', 'services', 'migration')),
  ...listFiles(join(ROOT, 'drivers')), // net-link's links: virtio-net, snp
  join(ROOT, 'kernel', 'host', 'memory.ts'),
  join(ROOT, 'kernel', 'i18n', 'utf8.ts'),
];

/** The test kernel's Wasm module, compiled once per source state. */
export const migrationModule = () => testEntryModule(ENTRY, 'migration', inputs());

const call = callExport;

export const IO_BYTES = 16384;
export const MEM_PAGES = 128;
export const PAGE = 4096;

// kernel/services/migration enums, as the tests name them
export const FrameType = { Start: 1, Pages: 2, VcpuState: 3, DeviceState: 4, Complete: 5, Abort: 6, Ack: 7, Nak: 8 };
export const FrameError = { None: 0, Short: 1, BadMagic: 2, BadVersion: 3, BadType: 4, BadReserved: 5, BadLength: 6, BadCrc: 7, BadSequence: 8, BadPayload: 9 };
export const PageEncoding = { Raw: 1, Rle: 2, Zero: 3, Duplicate: 4 };
export const PageError = { None: 0, Short: 1, BadReserved: 2, BadEncoding: 3, BadLength: 4, OutOfRange: 5, BadSource: 6, BadRle: 7, DupMismatch: 8, NoRoom: 9 };
export const SinkKind = { Console: 0, Null: 1, Buffer: 2, Snp: 3, VirtioNet: 4 };
export const SinkError = { None: 0, NotAttached: 1, BadKind: 2, BadEnd: 3, BadRange: 4, TooLong: 5 };
export const BufferStat = { Sent: 0, Delivered: 1, Dropped: 2, Duplicated: 3, Reordered: 4, Corrupted: 5, Overflowed: 6, Queued: 7 };
export const MigError = {
  None: 0, LocalAbort: 1, PeerAborted: 2, ResendLimit: 3, TooManyErrors: 4, Timeout: 5, SinkFailed: 6, BadOrder: 7, DuplicateStart: 8,
  BadStart: 9, TooLarge: 10, BadPage: 11, DupMismatch: 12, BadState: 13, CountMismatch: 14, Incomplete: 15, HashMismatch: 16,
  NotAttached: 17, BadArgument: 18,
};
export const OutResult = { Ok: 0, Busy: 1, Failed: 2, BadArgument: 3 };
export const OutStatus = { Running: 0, Done: 1, Failed: 2 };
export const InStatus = { Idle: 0, Progress: 1, Started: 2, State: 3, Done: 4, Failed: 5 };

const OUT_INFO = ['error', 'peerReason', 'records', 'acked', 'outstanding', 'framesSent', 'framesResent', 'acksIn', 'naksIn', 'badIn', 'seq'];
const IN_INFO = [
  'error', 'peerReason', 'pageError', 'done', 'pageCount', 'memMiB', 'vcpus', 'flags', 'nameLength', 'records', 'delivered', 'duplicates',
  'gaps', 'corrupt', 'acksOut', 'naksOut', 'expected', 'lastFrameError', 'captureLength',
];

export class Migration {
  constructor(module = migrationModule()) {
    const imports = {};
    for (const imp of WebAssembly.Module.imports(module)) {
      if (imp.kind !== 'function') continue;
      imports[imp.name] = (...args) => {
        throw new Error(`migration: the test kernel called host function ${imp.name}(${args.join(', ')})`);
      };
    }
    // the checksum primitives are pure: the real ones, over this instance's memory
    const mem = (addr, len) => new Uint8Array(this.instance.exports.$.buffer, addr, len);
    imports.hv_crc32_update = (crc, addr, len) => crc32Update(crc, mem(addr, len));
    imports.hv_fnv1a_update = (h, addr, len) => fnv1aUpdate(h, mem(addr, len));
    // PCI configuration by ports CF8/CFC with nothing there (all ones): net0 is absent, so the
    // VirtioNet sink answers "not attached" as it would on a machine without the NIC
    imports.hv_io_out32 = () => {};
    imports.hv_io_in32 = () => 0xffffffff;
    // and the firmware offers no SNP interface: the Snp sink is not attached either
    imports.hv_efi_snp_locate = () => 0;
    this.instance = new WebAssembly.Instance(module, { '': imports });
    this.e = this.instance.exports;
    this.memory = this.e.$;
    this.e.m();
    this.ioAddr = call(this.e.addr, 0);
    this.srcAddr = call(this.e.addr, 1);
    this.dstAddr = call(this.e.addr, 2);
    this.stageAddr = call(this.e.addr, 3);
    this.nakAddr = call(this.e.addr, 4);
    this.captureAddr = call(this.e.addr, 5);
    this.consoleAddr = call(this.e.addr, 6);
    this.nameAddr = call(this.e.addr, 7);
  }

  /** Calls export `name` with numbers. */
  call(name, ...args) { return call(this.e[name], ...args); }

  view(at, len) { return new Uint8Array(this.memory.buffer, at, len); }
  get io() { return this.view(this.ioAddr, IO_BYTES); }
  get src() { return this.view(this.srcAddr, MEM_PAGES * PAGE); }
  get dst() { return this.view(this.dstAddr, MEM_PAGES * PAGE); }
  get stage() { return this.view(this.stageAddr, PAGE); }
  /** Puts bytes into the io buffer at `off`. */
  setIo(bytes, off = 0) { this.io.set(bytes, off); }
  ioBytes(off, len) { return this.io.slice(off, off + len); }
  srcPage(g) { return this.view(this.srcAddr + g * PAGE, PAGE); }
  dstPage(g) { return this.view(this.dstAddr + g * PAGE, PAGE); }
  setName(bytes) { this.view(this.nameAddr, 64).fill(0).set(bytes); }
  setNak(list) { new Uint32Array(this.memory.buffer, this.nakAddr, 32).set(list); }
  consoleText() { return Buffer.from(this.view(this.consoleAddr, this.call('sStat', 2))).toString('latin1'); }
  capture() { return this.view(this.captureAddr, this.call('iInfo', 18)).slice(); }

  crc(bytes) { this.setIo(bytes); return this.call('crc', 0, bytes.length) >>> 0; }
  fnv(bytes) { this.setIo(bytes); return this.call('fnv', 0, bytes.length) >>> 0; }

  /** Decodes `bytes` placed at io[off]; returns { error, type, seq, payloadOffset, payloadLength }. */
  decode(bytes, off = 0, len = bytes.length) {
    this.setIo(bytes, off);
    const error = this.call('dec', off, len);
    return { error, type: this.call('decInfo', 0), seq: this.call('decInfo', 1) >>> 0, payloadOffset: this.call('decInfo', 2), payloadLength: this.call('decInfo', 3) };
  }

  outInfo() { return Object.fromEntries(OUT_INFO.map((k, i) => [k, this.call('oInfo', i)])); }
  inInfo() { return Object.fromEntries(IN_INFO.map((k, i) => [k, this.call('iInfo', i)])); }
  inName() {
    const n = this.call('iInfo', 8);
    return Buffer.from(Array.from({ length: n }, (_, i) => this.call('iName', i))).toString('utf8');
  }
}

// ---- an independent JS reference of the wire format (kernel/services/migration/frame.ts and
// page-codec.ts header comments), for building frames and judging the kernel's answers ----

const CRC_TABLE = (() => {
  const t = new Uint32Array(256);
  for (let n = 0; n < 256; n++) {
    let c = n;
    for (let k = 0; k < 8; k++) c = c & 1 ? 0xedb88320 ^ (c >>> 1) : c >>> 1;
    t[n] = c >>> 0;
  }
  return t;
})();

/** CRC-32 (IEEE 802.3) of a byte array. */
export const crcRef = (bytes, c0 = 0xffffffff) => {
  let c = c0;
  for (const b of bytes) c = CRC_TABLE[(c ^ b) & 0xff] ^ (c >>> 8);
  return (c ^ 0xffffffff) >>> 0;
};

/** FNV-1a 32 of a byte array. */
export const fnvRef = (bytes) => {
  let h = 0x811c9dc5;
  for (const b of bytes) h = Math.imul(h ^ b, 0x01000193) >>> 0;
  return h >>> 0;
};

export const HEADER = 24;
export const MAX_PAYLOAD = 4104;
export const MAX_FRAME = HEADER + MAX_PAYLOAD;
export const MAGIC = 0x474d565a;
const DATA_TYPES = new Set([1, 2, 3, 4, 5]);

const cat = (...parts) => {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
};
export { cat };
export const u16 = (v) => Uint8Array.of(v & 0xff, (v >>> 8) & 0xff);
export const u32 = (v) => Uint8Array.of(v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff);
export const rd16 = (b, o) => b[o] | (b[o + 1] << 8);
export const rd32 = (b, o) => (b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24)) >>> 0;

/** A frame laid out as documented; any header field may be overridden (crc: the stored CRC). */
export const refFrame = ({ type, seq = DATA_TYPES.has(type) ? 1 : 0, payload = new Uint8Array(0), magic = MAGIC, version = 1, reserved = 0, length = payload.length, crc }) => {
  const f = cat(u32(magic), u16(version), u16(type), u32(seq), u32(length), u32(0), u32(reserved), payload);
  f.set(u32(crc ?? crcRef(f)), 16);
  return f;
};

/** Recomputes a frame's CRC in place (after a field was changed on purpose). */
export const resum = (f) => {
  if (f.length < HEADER) return f;
  f.set(u32(0), 16);
  f.set(u32(crcRef(f)), 16);
  return f;
};

export const startPayload = ({ memMiB = 1, pages = 4, vcpus = 1, flags = 0, name = new TextEncoder().encode('vm'), nameLength = name.length, pad = 0, reserved = 0 } = {}) => {
  const p = new Uint8Array(48);
  p.set(u32(memMiB), 0);
  p.set(u32(pages), 4);
  p.set(u16(vcpus), 8);
  p.set(u16(flags), 10);
  p[12] = nameLength;
  p[13] = reserved;
  p.set(name.subarray(0, 32), 16);
  if (pad) p[47] = pad;
  return p;
};
export const statePayload = (id, part, bytes) => cat(u16(id), u16(part), bytes);
export const completePayload = (pages, hi, lo) => cat(u32(pages), u32(hi), u32(lo));
export const nakPayload = (list, count = list.length, reserved = 0) => cat(u16(count), u16(reserved), ...list.map(u32));

const lengthAllowed = (type, len) => {
  if (len > MAX_PAYLOAD) return false;
  switch (type) {
    case 1: return len === 48;
    case 2: return len >= 8;
    case 3: case 4: return len >= 4;
    case 5: return len === 12;
    case 6: case 7: return len === 4;
    case 8: return len >= 8 && len <= 4 + 4 * 16 && len % 4 === 0;
  }
  return false;
};

/** What frameDecode must answer for exactly these bytes (the FrameError codes). */
export const refDecode = (b) => {
  if (b.length < HEADER) return 1;
  if (rd32(b, 0) !== MAGIC) return 2;
  if (rd16(b, 4) !== 1) return 3;
  const type = rd16(b, 6);
  if (type < 1 || type > 8) return 4;
  if (rd32(b, 20) !== 0) return 5;
  const plen = rd32(b, 12);
  if (!lengthAllowed(type, plen)) return 6;
  if (b.length < HEADER + plen) return 1;
  if (b.length > HEADER + plen) return 6;
  const z = b.slice();
  z.set(u32(0), 16);
  if (crcRef(z) !== rd32(b, 16)) return 7;
  const seq = rd32(b, 8);
  if (DATA_TYPES.has(type) ? seq === 0 : seq !== 0) return 8;
  const p = b.subarray(HEADER);
  if (type === 1) {
    const n = p[12];
    if (n > 32 || p[13] || p[14] || p[15]) return 9;
    for (let i = 16 + n; i < 48; i++) if (p[i]) return 9;
  }
  if (type === 8) {
    const count = rd16(p, 0);
    if (count < 1 || count > 16 || 4 + 4 * count !== plen || rd16(p, 2) !== 0) return 9;
  }
  return 0;
};

/** A page record: header and body as documented (length and reserved may be overridden). */
export const refRecord = (gpa, encoding, body = new Uint8Array(0), { length = body.length, reserved = 0 } = {}) =>
  cat(u32(gpa), Uint8Array.of(encoding, reserved), u16(length), body);

/** The page an RLE body makes, or null when it is not exactly one page from exactly these bytes. */
export const refRleDecode = (body) => {
  const out = [];
  let i = 0;
  while (i < body.length) {
    const c = body[i];
    if (c < 0x80) {
      if (i + 1 + c + 1 > body.length) return null;
      for (let k = 0; k <= c; k++) out.push(body[i + 1 + k]);
      i += c + 2;
    } else {
      if (i + 2 > body.length) return null;
      for (let k = 0; k < c - 0x80 + 3; k++) out.push(body[i + 1]);
      i += 2;
    }
    if (out.length > PAGE) return null;
  }
  return out.length === PAGE ? Uint8Array.from(out) : null;
};
