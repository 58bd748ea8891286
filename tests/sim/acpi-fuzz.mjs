// A rig for running the kernel's ACPI parser many times on one Wasm instance: the test
// kernel tests/fixtures/kernels/acpi-fuzz.ts (compiled like the kernel, cached) on the
// simulated machine's host functions, with physical memory kept in flat pages so that
// thousands of scans stay fast. hv_phys_read keeps the machine's rule: a read outside the
// firmware memory map (or of MMIO) is a page fault that fails the run.
// read() gives what the kernel decoded, reference() what tests/sim/acpi-reference.mjs
// gets from the same bytes; mutate() applies one random corruption (undo() reverts).
import { join } from 'node:path';
import { ROOT, callExport, listFiles, testEntryModule } from './harness.mjs';
import { Machine, SimFailure } from './machine.mjs';
import { PhysView, SIG, decodeAcpi } from './acpi-reference.mjs';
import { fixChecksum } from './acpi-tables.mjs';

const ENTRY = join(ROOT, 'tests', 'fixtures', 'kernels', 'acpi-fuzz.ts');
const PAGE = 4096;
const TWO32 = 2 ** 32;

/** The fuzz kernel's Wasm module, compiled once per source state. */
export const fuzzModule = () => testEntryModule(ENTRY, 'acpi-fuzz', [...listFiles(join(ROOT, 'kernel')), ...listFiles(join(ROOT, 'drivers'))]);

const call = callExport;

export class AcpiRig {
  /**
   * @param {object} o machine options as machineOptions() gives them (memoryMap, acpi)
   * @param {WebAssembly.Module} module the fuzz kernel
   */
  constructor(o, module) {
    this.memoryMap = o.memoryMap.map(([type, start, pages]) => [Number(type), Number(start), Number(start) + Number(pages) * PAGE]);
    this.pages = new Map();
    for (const r of o.acpi?.regions ?? []) this.write(Number(r.addr), r.bytes, false);
    this.rsdp = o.acpi ? { addr: Number(o.acpi.rsdp.addr), guid: o.acpi.rsdp.revision } : { addr: 0, guid: 0 };
    this.pristineRsdp = { ...this.rsdp };
    this.undoLog = [];
    this.logLines = 0;
    this.lastLog = '';
    this.machine = new Machine({ memoryMap: o.memoryMap, acpi: o.acpi, pmTimerPort: 0, hpetBase: 0 });
    const f = this.machine.hostFunctions();
    const m = this.machine;
    f.hv_phys_read = (lo, hi, outAddr, len) => {
      m.hostCalls++;
      if (m.failure) throw m.failure;
      const addr = hi * TWO32 + lo;
      if (!Number.isInteger(lo) || !Number.isInteger(hi) || lo < 0 || lo >= TWO32 || hi < 0 || hi > 0xfffff || !Number.isInteger(len) || len <= 0) {
        m.failure = new SimFailure(`sim: hv_phys_read: bad arguments (${lo}, ${hi}, ${outAddr}, ${len})`);
        throw m.failure;
      }
      if (!this.#readable(addr, len)) {
        m.failure = new SimFailure(`sim: hv_phys_read: page fault: [0x${addr.toString(16)}, +${len}) is not memory in the firmware's map`);
        throw m.failure;
      }
      new Uint8Array(this.memory.buffer, outAddr, len).set(this.bytes(addr, len));
    };
    f.hv_efi_acpi_rsdp = (outAddr) => {
      m.hostCalls++;
      const dv = new DataView(this.memory.buffer, outAddr, 8);
      dv.setUint32(0, this.rsdp.addr % TWO32, true);
      dv.setUint32(4, Math.floor(this.rsdp.addr / TWO32), true);
      return this.rsdp.guid;
    };
    f.hv_log_line = () => {
      m.hostCalls++;
      this.logLines++;
    };
    this.instance = new WebAssembly.Instance(module, { '': f });
    this.machine.attach(this.instance);
    this.memory = this.instance.exports.$;
    this.exports = this.instance.exports;
    this.exports.m();
    call(this.exports.init);
    this.phys = new PhysView(o.memoryMap, (addr, len) => this.bytes(addr, len));
  }

  /** The machine's rule (tests/sim/machine.mjs): the range lies in one descriptor, not MMIO. */
  #readable(addr, len) {
    for (const [type, s, e] of this.memoryMap) if (addr >= s && addr + len <= e) return type !== 11 && type !== 12;
    return false;
  }

  bytes(addr, len) {
    const out = new Uint8Array(len);
    for (let i = 0; i < len;) {
      const a = addr + i;
      const page = this.pages.get(Math.floor(a / PAGE));
      const off = a % PAGE;
      const n = Math.min(PAGE - off, len - i);
      if (page) out.set(page.subarray(off, off + n), i);
      i += n;
    }
    return out;
  }

  /** Writes physical memory; with `undoable` the old bytes are kept for undo(). */
  write(addr, data, undoable = true) {
    if (undoable) this.undoLog.push([addr, this.bytes(addr, data.length)]);
    for (let i = 0; i < data.length;) {
      const a = addr + i;
      const key = Math.floor(a / PAGE);
      let page = this.pages.get(key);
      if (!page) this.pages.set(key, (page = new Uint8Array(PAGE)));
      const off = a % PAGE;
      const n = Math.min(PAGE - off, data.length - i);
      page.set(data.subarray(i, i + n), off);
      i += n;
    }
  }

  undo() {
    while (this.undoLog.length) {
      const [addr, old] = this.undoLog.pop();
      this.write(addr, old, false);
    }
    this.rsdp = { ...this.pristineRsdp };
  }

  scan() {
    call(this.exports.scan);
    if (this.machine.failure) throw this.machine.failure;
  }

  scalar(k) { return call(this.exports.scalar, k); }

  #words(k, n, width = 4) {
    const base = call(this.exports.addr, k);
    const dv = new DataView(this.memory.buffer);
    const out = [];
    for (let i = 0; i < n; i++) out.push(width === 4 ? dv.getUint32(base + 4 * i, true) : width === 2 ? dv.getUint16(base + 2 * i, true) : dv.getUint8(base + i));
    return out;
  }

  #rows(k, n, stride) {
    const w = this.#words(k, n * stride);
    return Array.from({ length: n }, (_, i) => w.slice(i * stride, i * stride + stride));
  }

  /** What the kernel decoded in the last scan, in the reference decoder's shape. */
  read() {
    const madtHeader = this.#words(4, 4);
    const dmarHeader = this.#words(8, 6);
    const ivrsHeader = this.#words(12, 5);
    const ecamCount = this.scalar(15);
    const iommuCount = this.scalar(16);
    const col = (k, n, width) => this.#words(k, n, width);
    const ecam = [col(17, ecamCount), col(18, ecamCount), col(19, ecamCount, 2), col(20, ecamCount, 1), col(21, ecamCount, 1)];
    const iommu = [col(22, iommuCount, 1), col(23, iommuCount), col(24, iommuCount), col(25, iommuCount, 2), col(26, iommuCount, 2)];
    const rootCount = this.scalar(23);
    const rootLo = this.#words(15, rootCount), rootHi = this.#words(16, rootCount);
    return {
      rsdp: this.#words(0, 9),
      tables: this.#rows(1, this.scalar(0), 8),
      problems: this.#rows(2, this.scalar(1), 5),
      problemsFound: this.scalar(2),
      rootEntries: rootLo.map((lo, i) => [lo, rootHi[i]]),
      fadt: this.#words(3, 17),
      madtHeader,
      madt: this.#rows(5, madtHeader[3], 5),
      mcfgHeader: this.#words(6, 2),
      hpet: this.#words(7, 9),
      dmarHeader,
      dmar: this.#rows(9, dmarHeader[3], 8),
      scopes: this.#rows(10, dmarHeader[4], 6),
      path: this.#words(11, dmarHeader[5]),
      ivrsHeader,
      ivrs: this.#rows(13, ivrsHeader[2], 13),
      entries: this.#rows(14, ivrsHeader[3], 4),
      views: [17, 18, 19, 20, 21, 22].map((k) => this.scalar(k) + 1),
      facts: {
        acpiPresent: this.scalar(3), acpiRevision: this.scalar(4), acpiTables: this.scalar(5), acpiErrors: this.scalar(6),
        pmTimerPort: this.scalar(7), pmTimer32: this.scalar(8), hpetPresent: this.scalar(9), hpetLo: this.scalar(10),
        hpetHi: this.scalar(11), cpuCount: this.scalar(12), ioApicCount: this.scalar(13), localApicLo: this.scalar(14),
        ecam: Array.from({ length: ecamCount }, (_, i) => ecam.map((c) => c[i])),
        iommus: Array.from({ length: iommuCount }, (_, i) => iommu.map((c) => c[i])),
      },
    };
  }

  /** What the reference decoder gets from the memory as it is now. */
  reference() {
    const r = decodeAcpi(this.rsdp, this.phys);
    r.rootEntries = r.rootEntries.map(([lo, hi]) => [lo, hi]);
    delete r.noRsdpLogged;
    return r;
  }
}

// ---- mutations ----

/** A small deterministic PRNG (mulberry32). */
export const prng = (seed) => {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / TWO32;
  };
  return { next, int: (n) => Math.floor(next() * n), pick: (a2) => a2[Math.floor(next() * a2.length)] };
};

const le = (value, width) => {
  const out = new Uint8Array(width);
  let v = BigInt(value);
  for (let i = 0; i < width; i++) {
    out[i] = Number(v & 0xffn);
    v >>= 8n;
  }
  return out;
};

/** Offsets of the length field of each sub-structure of a pristine table (to corrupt). */
const structureLengths = (sig, t) => {
  const out = [];
  const u8 = (o) => t[o] ?? 0;
  const u16 = (o) => u8(o) | (u8(o + 1) << 8);
  if (sig === SIG.APIC) for (let o = 44; o + 2 <= t.length && u8(o + 1) >= 2; o += u8(o + 1)) out.push([o + 1, 1]);
  if (sig === SIG.DMAR) {
    for (let o = 48; o + 4 <= t.length && u16(o + 2) >= 4; o += u16(o + 2)) {
      out.push([o + 2, 2]);
      const first = { 0: 16, 1: 24, 2: 8 }[u16(o)];
      if (first !== undefined) for (let s = o + first; s + 2 <= o + u16(o + 2) && u8(s + 1) >= 2; s += u8(s + 1)) out.push([s + 1, 1]);
    }
  }
  if (sig === SIG.IVRS) {
    for (let o = 48; o + 4 <= t.length && u16(o + 2) >= 4; o += u16(o + 2)) {
      out.push([o + 2, 2]);
      const type = u8(o);
      if (type === 0x10 || type === 0x11 || type === 0x40) {
        for (let e = o + (type === 0x10 ? 24 : 40); e < o + u16(o + 2);) {
          const et = u8(e);
          out.push([e, 1]); // the entry type decides the entry length
          if (et === 0xf0) out.push([e + 21, 1]);
          e += et < 0x40 ? 4 : et < 0x80 ? 8 : et === 0xf0 ? 22 + u8(e + 21) : 1e9;
        }
      }
    }
  }
  return out;
};

/**
 * Applies 1-3 random corruptions to the rig's tables, then (most of the time) fixes the
 * checksums of what it touched, so the parser's other checks are reached. Returns a
 * description for failure messages.
 */
export const mutate = (rig, rng, pristine) => {
  const tables = pristine.tables; // [{ sig, addr, length }] incl. the RSDP as sig 'RSDP'
  const addresses = tables.map((t) => t.addr);
  const touched = new Set();
  const steps = [];
  const n = 1 + rng.int(3);
  // Tables with structures inside get picked more often.
  const weighted = tables.flatMap((t) => Array((WEIGHT[t.sig] ?? 1)).fill(t));
  for (let s = 0; s < n; s++) {
    const t = rng.pick(weighted);
    const isRsdp = t.sig === 'RSDP';
    const size = t.sig === 'DSDT' ? 64 : t.length;
    const kind = rng.int(12);
    touched.add(t);
    if (kind === 0) {
      const off = rng.int(size);
      const bit = 1 << rng.int(8);
      rig.write(t.addr + off, Uint8Array.of(rig.bytes(t.addr + off, 1)[0] ^ bit));
      steps.push(`${t.sig}+${off} ^= ${bit}`);
    } else if (kind === 1) {
      const off = rng.int(size);
      const v = rng.pick([0, 0xff, 1, 0x80, rng.int(256)]);
      rig.write(t.addr + off, Uint8Array.of(v));
      steps.push(`${t.sig}+${off} = ${v}`);
    } else if (kind === 2 || kind === 3) {
      // the table's length: shorter, longer, absurd
      const at = isRsdp ? 20 : 4;
      const v = rng.pick([0, 1, 19, 20, 35, 36, 37, 63, 64, t.length - 1, t.length - rng.int(16), t.length + 1, t.length + rng.int(64),
        t.length + 8 * rng.int(200), (1 << 20), (1 << 20) + 1, 0xffffffff, rng.int(TWO32), 4096, 4097]) >>> 0;
      rig.write(t.addr + at, le(v, 4));
      steps.push(`${t.sig}.Length = ${v}`);
    } else if (kind >= 4 && kind <= 7) {
      // a sub-structure's length or an IVHD entry's type
      const fields = structureLengths(Buffer.from(t.sig, 'latin1').readUInt32LE(0), rig.bytes(t.addr, t.length));
      if (fields.length === 0) continue;
      const [off, width] = rng.pick(fields);
      const was = width === 1 ? rig.bytes(t.addr + off, 1)[0] : Buffer.from(rig.bytes(t.addr + off, 2)).readUInt16LE(0);
      const near = (was + rng.pick([-4, -3, -2, -1, 1, 2, 3, 4, 6, 8])) & (width === 1 ? 0xff : 0xffff);
      const v = width === 1 ? rng.pick([0, 1, 2, 3, 5, 6, 7, 0x3f, 0x40, 0x7f, 0x80, 0xf0, 0xff, rng.int(256), near, near])
        : rng.pick([0, 1, 3, 4, 7, 8, 0xffff, rng.int(65536), rng.int(200), near, near]);
      rig.write(t.addr + off, le(v, width));
      steps.push(`${t.sig}+${off} (length/type) = ${v}`);
    } else if (kind === 8 || kind === 9) {
      // a pointer redirected: to itself, another table, the RSDP, zero, MMIO, past the map
      const fields = pointerFields(t, rig);
      if (fields.length === 0) continue;
      const [off, width] = rng.pick(fields);
      const other = rng.pick(addresses);
      const target = rng.pick([t.addr, other, other + 1 + rng.int(40), pristine.rsdp, 0, 0xfed00000, 0xffc00000, 0xb0000000,
        0x1000, 0xfffffff000, 2 ** 40, 0x1f7fe000 - 8, 0x1f76c000 - 4, rng.int(TWO32), 0xffffffff]);
      const v = width === 4 ? target % TWO32 : rng.next() < 0.1 ? BigInt(rng.int(TWO32)) << 32n : target;
      rig.write(t.addr + off, le(v, width));
      steps.push(`${t.sig}+${off} -> 0x${v.toString(16)}`);
    } else if (kind === 10) {
      // duplicate root entries
      const root = tables.find((x) => x.sig === 'XSDT' || x.sig === 'RSDT');
      if (!root) continue;
      const size = root.sig === 'XSDT' ? 8 : 4;
      const count = Math.floor((root.length - 36) / size);
      const [a, b] = [rng.int(count), rng.int(count)];
      rig.write(root.addr + 36 + b * size, rig.bytes(root.addr + 36 + a * size, size));
      touched.add(root);
      steps.push(`${root.sig} entry ${b} = entry ${a}`);
    } else if (kind === 11 && rng.next() < 0.5) {
      // a table moved to the end of a memory range, so that its body runs out of the map
      const root = tables.find((x) => x.sig === 'XSDT');
      const moved = rng.pick(tables.filter((x) => ENTRY_OF[x.sig] !== undefined));
      if (!root || !moved) continue;
      const end = rng.pick([0x20000000, 0xa0000]);
      const at = end - 36 - rng.int(moved.length);
      rig.write(at, rig.bytes(moved.addr, moved.length).subarray(0, end - at));
      rig.write(root.addr + 36 + 8 * ENTRY_OF[moved.sig], le(at, 8));
      touched.add(root);
      steps.push(`${moved.sig} moved to 0x${at.toString(16)}`);
    } else {
      // what the firmware hands over: another RSDP address or GUID
      rig.rsdp = rng.pick([{ addr: 0, guid: 2 }, { addr: rng.pick(addresses), guid: 2 }, { addr: pristine.rsdp, guid: rng.pick([0, 1, 3]) },
        { addr: 0xfed00000, guid: 1 }, { addr: 0x1f77e000 - 8, guid: 2 }, { addr: pristine.rsdp + 1, guid: 2 }]);
      steps.push(`RSDP from firmware = 0x${rig.rsdp.addr.toString(16)} guid ${rig.rsdp.guid}`);
    }
  }
  if (rng.next() < 0.6) {
    for (const t of touched) fixChecksums(rig, t);
    steps.push('checksums fixed');
  }
  return steps.join('; ');
};

/** XSDT entry of each table in the QEMU captures. */
const ENTRY_OF = { FACP: 0, APIC: 1, HPET: 2, MCFG: 3, DMAR: 4, IVRS: 4, WAET: 5, BGRT: 6 };

const WEIGHT = { APIC: 4, DMAR: 4, IVRS: 4, FACP: 2, XSDT: 2, RSDT: 2, RSDP: 2, MCFG: 2, HPET: 2 };

/** Pointer fields of a pristine table: [offset, width]. */
const pointerFields = (t, rig) => {
  if (t.sig === 'RSDP') return [[16, 4], [24, 8]];
  if (t.sig === 'XSDT') return Array.from({ length: Math.floor((t.length - 36) / 8) }, (_, k) => [36 + 8 * k, 8]);
  if (t.sig === 'RSDT') return Array.from({ length: Math.floor((t.length - 36) / 4) }, (_, k) => [36 + 4 * k, 4]);
  if (t.sig === 'FACP') return [[36, 4], [40, 4], [132, 8], [140, 8], [212, 8], [76, 4], [208, 1]].filter(([o]) => o < t.length);
  if (t.sig === 'HPET') return [[44, 8], [40, 1]];
  if (t.sig === 'MCFG') return [[44, 8]];
  return [];
};

/** Makes the checksum(s) of table t right again for its current length, where that can be read. */
const fixChecksums = (rig, t) => {
  if (t.sig === 'FACS') return;
  if (t.sig === 'RSDP') {
    const head = rig.bytes(t.addr, 36);
    rig.write(t.addr, fixChecksum(rig.bytes(t.addr, 20), 8));
    const length = Buffer.from(head).readUInt32LE(20);
    if (length >= 33 && length <= 4096 && rig.phys.mapped(t.addr, length)) rig.write(t.addr, fixChecksum(rig.bytes(t.addr, length), 32));
    return;
  }
  const length = Buffer.from(rig.bytes(t.addr, 8)).readUInt32LE(4);
  if (length >= 10 && length <= 1 << 20 && rig.phys.mapped(t.addr, length)) rig.write(t.addr, fixChecksum(rig.bytes(t.addr, length), 9));
};

/**
 * Machine options with some tables replaced by others of the same signature (written at
 * the same address, so they must fit before the next table).
 */
export const withTables = (options, replacements) => {
  const regions = options.acpi.regions.map((r) => {
    const sig = Buffer.from(r.bytes.subarray(0, 4)).toString('latin1');
    return replacements[sig] ? { addr: r.addr, bytes: replacements[sig] } : r;
  });
  return { ...options, acpi: { ...options.acpi, regions } };
};

/** The pristine tables of a rig (from the reference decoder), for mutate(). */
export const pristineTables = (rig) => {
  const r = rig.reference();
  const tables = r.tables.map(([sig, lo, hi, length]) => ({ sig: Buffer.from(Uint32Array.of(sig).buffer).toString('latin1'), addr: hi * TWO32 + lo, length }));
  tables.push({ sig: 'RSDP', addr: rig.rsdp.addr, length: 36 });
  return { tables, rsdp: rig.rsdp.addr };
};
