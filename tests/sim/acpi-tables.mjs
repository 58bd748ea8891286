// Building ACPI tables for tests: headers with checksums, and the structures the QEMU
// captures do not have (x2APIC, NMI source, RMRR/ATSR/RHSA/ANDD, IVHD 11h/40h, IVMD,
// alias/extended/special/ACPI HID device entries), so every decoder path runs on bytes.

/** Little-endian byte writer. */
export class Bytes {
  constructor() { this.b = []; }
  u8(v) { this.b.push(v & 255); return this; }
  u16(v) { return this.u8(v).u8(v >>> 8); }
  u32(v) { return this.u16(v & 0xffff).u16(v >>> 16); }
  u64(v) { const x = BigInt(v); return this.u32(Number(x & 0xffffffffn)).u32(Number(x >> 32n)); }
  str(s) { for (const c of Buffer.from(s, 'latin1')) this.u8(c); return this; }
  bytes(a) { for (const c of a) this.u8(c); return this; }
  get length() { return this.b.length; }
  done() { return Uint8Array.from(this.b); }
}

/** Sets byte `at` so that the bytes [from, to) sum to 0 modulo 256. */
export const fixChecksum = (bytes, at, from = 0, to = bytes.length) => {
  bytes[at] = 0;
  let sum = 0;
  for (let i = from; i < to; i++) sum = (sum + bytes[i]) & 255;
  bytes[at] = (256 - sum) & 255;
  return bytes;
};

/** A table: the 36-byte header (ACPI 6.5 section 5.2.6) and `body`, checksum fixed. */
export const table = (sig, body, { revision = 1, oem = 'ZVTEST' } = {}) => {
  const b = new Bytes().str(sig).u32(36 + body.length).u8(revision).u8(0).str(oem.padEnd(6).slice(0, 6)).str('ZEROVSOR').u32(1).str('ZVTS').u32(1).bytes(body);
  return fixChecksum(b.done(), 9);
};

/** An MADT with every decoded structure type and one the parser does not know. */
export const syntheticMadt = () => {
  const s = new Bytes().u32(0xfee00000).u32(1);
  s.u8(0).u8(8).u8(0).u8(0).u32(1); // Local APIC: UID 0, ID 0, enabled
  s.u8(0).u8(8).u8(1).u8(2).u32(2); // UID 1, ID 2, online-capable
  s.u8(0).u8(8).u8(2).u8(4).u32(0); // disabled
  s.u8(9).u8(16).u16(0).u32(0x100).u32(1).u32(300); // x2APIC ID 0x100, enabled, UID 300
  s.u8(9).u8(16).u16(0).u32(0x101).u32(2).u32(301); // x2APIC, online-capable
  s.u8(1).u8(12).u8(8).u8(0).u32(0xfec00000).u32(0); // I/O APIC 8
  s.u8(1).u8(12).u8(9).u8(0).u32(0xfec01000).u32(24); // I/O APIC 9 from GSI 24
  s.u8(2).u8(10).u8(0).u8(0).u32(2).u16(0); // IRQ0 -> GSI2
  s.u8(2).u8(10).u8(0).u8(9).u32(9).u16(0xd); // IRQ9 level, active low
  s.u8(3).u8(8).u16(0x5).u32(30); // NMI source GSI 30
  s.u8(4).u8(6).u8(0xff).u16(0x5).u8(1); // LAPIC NMI all, LINT1
  s.u8(10).u8(12).u16(0x5).u32(0xffffffff).u8(1).u8(0).u16(0); // x2APIC NMI all
  s.u8(10).u8(12).u16(0).u32(300).u8(0).u8(0).u16(0); // x2APIC NMI UID 300 LINT0
  s.u8(5).u8(12).u16(0).u64(0xfee00000); // Local APIC address override
  s.u8(0x7f).u8(4).u16(0xabcd); // unknown type
  return table('APIC', s.done(), { revision: 5 });
};

const scope = (type, enumId, bus, path) => {
  const b = new Bytes().u8(type).u8(6 + 2 * path.length).u8(0).u8(0).u8(enumId).u8(bus);
  for (const [d, f] of path) b.u8(d).u8(f);
  return b.done();
};

/** A DMAR with DRHDs, RMRR, ATSR, RHSA, ANDD and an unknown structure (VT-d 3.4 chapter 8). */
export const syntheticDmar = () => {
  const s = new Bytes().u8(47).u8(0x3).bytes(new Uint8Array(10));
  const drhd = (flags, segment, base, scopes) => {
    const body = new Bytes().bytes(scopes.flatMap((x) => [...x]));
    return new Bytes().u16(0).u16(16 + body.length).u8(flags).u8(0).u16(segment).u64(base).bytes(body.b);
  };
  s.bytes(drhd(0, 0, 0xfed90000, [scope(1, 0, 0, [[2, 0]]), scope(2, 0, 0, [[0x1c, 0], [0, 0]])]).b);
  s.bytes(drhd(1, 0, 0xfed91000, [scope(3, 2, 0xf0, [[0x1f, 0]]), scope(4, 0, 0, [[0x1f, 7]]), scope(5, 1, 0, [])]).b);
  const rmrrScopes = [...scope(1, 0, 0, [[0x14, 0]])];
  s.u16(1).u16(24 + rmrrScopes.length).u16(0).u16(0).u64(0x3e000000).u64(0x3e0fffff).bytes(rmrrScopes);
  const atsrScopes = [...scope(2, 0, 0, [[1, 0]])];
  s.u16(2).u16(8 + atsrScopes.length).u8(0).u8(0).u16(0).bytes(atsrScopes);
  s.u16(3).u16(20).u32(0).u64(0xfed90000).u32(1);
  s.u16(4).u16(13).u8(0).u8(0).u8(0).u8(7).str('\\_SB\0');
  s.u16(0x9).u16(8).u32(0x12345678);
  return table('DMAR', s.done());
};

/** An IVRS with IVHD 10h, 11h and 40h for one IOMMU, every device entry kind, and IVMDs. */
export const syntheticIvrs = () => {
  const s = new Bytes().u32(0x00203041).u64(0);
  const entries = new Bytes()
    .u8(1).u16(0).u8(0) // all
    .u8(2).u16(0x0008).u8(0x10) // select 00:01.0
    .u8(3).u16(0x0100).u8(0) // start 01:00.0
    .u8(4).u16(0x01ff).u8(0) // end 01:1f.7
    .u8(0x42).u16(0x0200).u8(0).u8(0).u16(0x0208).u8(0) // alias select
    .u8(0x43).u16(0x0300).u8(0).u8(0).u16(0x0308).u8(0) // alias start
    .u8(4).u16(0x03ff).u8(0)
    .u8(0x46).u16(0x0400).u8(0).u32(0x80000000) // extended select
    .u8(0x47).u16(0x0500).u8(0).u32(1) // extended start
    .u8(4).u16(0x05ff).u8(0)
    .u8(0x48).u16(0).u8(0xd7).u8(0x21).u16(0x00a0).u8(1) // special IOAPIC 0x21 at 00:14.0
    .u8(0x48).u16(0).u8(0).u8(0).u16(0x00a2).u8(2) // special HPET 0 at 00:14.2
    .u8(0xf0).u16(0x00a5).u8(0x40).str('AMDI0020').str('\0'.repeat(8)).u8(2).u8(3).str('ID0') // ACPI HID, UID "ID0"
    .u8(0).u16(0).u8(0) // 4-byte reserved type 0
    .u8(0x50).u16(0x0600).u8(0).u32(0); // 8-byte reserved type 50h
  const ivhd = (type, flags) => {
    const head = new Bytes().u8(type).u8(flags);
    const fixed = type === 0x10 ? 24 : 40;
    head.u16(fixed + entries.length).u16(0x0002).u16(0x40).u64(0xfeb80000).u16(0).u16(0x0013);
    if (type === 0x10) head.u32(0x80048f6e);
    else head.u32(0x00000000).u64(0x246577efa2254afan).u64(0);
    return head.bytes(entries.b);
  };
  s.bytes(ivhd(0x10, 0xb0).b).bytes(ivhd(0x11, 0x30).b).bytes(ivhd(0x40, 0x30).b);
  s.u8(0x20).u8(0x08).u16(32).u16(0).u16(0).u64(0).u64(0x3e000000).u64(0x100000); // IVMD all
  s.u8(0x21).u8(0x09).u16(32).u16(0x00a0).u16(0).u64(0).u64(0x3f000000).u64(0x2000); // IVMD select
  s.u8(0x22).u8(0x09).u16(32).u16(0x0100).u16(0x01ff).u64(0).u64(0x3f100000).u64(0x1000); // IVMD range
  s.u8(0x30).u8(0).u16(8).u16(0).u16(0); // an unknown block type
  return table('IVRS', s.done(), { revision: 2 });
};

/** An MADT listing `n` x2APIC processors (for the capacity limit). */
export const manyCpusMadt = (n) => {
  const s = new Bytes().u32(0xfee00000).u32(0);
  for (let i = 0; i < n; i++) s.u8(9).u8(16).u16(0).u32(i).u32(1).u32(i);
  return table('APIC', s.done());
};
