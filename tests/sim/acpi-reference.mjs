// A reference decoder for the ACPI tables, written for the tests: it reads the same
// simulated physical memory as the kernel (kernel/platform/acpi) and applies the same
// rules, so for any bytes (real fixtures or mutated ones) the kernel's decoded records,
// problems and facts must equal what this gives. It follows the specifications directly
// (ACPI 6.5 chapter 5, VT-d 3.4 chapter 8, AMD IOMMU 3.08 section 5.2, PCI Firmware 3.3
// section 4.1.2, IA-PC HPET 1.0a section 3.2.4) and shares no code with the kernel.
//
// The result has the kernel's record layouts (see the kernel modules' comments) so a test
// can compare them word for word: tables, problems, rsdp, fadt, madt, mcfg, hpet, dmar,
// ivrs, views and facts.

export const SIG = Object.fromEntries(['XSDT', 'RSDT', 'FACP', 'APIC', 'MCFG', 'HPET', 'DMAR', 'IVRS', 'DSDT', 'FACS', 'RSDP'].map((s) => [s, Buffer.from(s).readUInt32LE(0)]));
/** Field and Problem numbers as the kernel's enums (kernel/platform/acpi/errors.ts). */
export const FIELD = {
  Signature: 0, Length: 1, Checksum: 2, ExtendedChecksum: 3, RsdtAddress: 4, XsdtAddress: 5, Entry: 6,
  FirmwareCtrl: 7, XFirmwareCtrl: 8, Dsdt: 9, XDsdt: 10, PmTmrBlk: 11, XPmTmrBlk: 12, MadtEntryLength: 13,
  MadtEntry: 14, BaseAddress: 15, EndBusNumber: 16, McfgEntry: 17, RemappingStructureLength: 18,
  RemappingStructure: 19, DeviceScopeLength: 20, DeviceScope: 21, DeviceScopePath: 22, Drhd: 23,
  IvdbLength: 24, Ivdb: 25, DeviceEntryType: 26, DeviceEntryLength: 27, DeviceEntry: 28, Ivhd: 29, VendorTable: 30,
};
export const PROBLEM = { Null: 0, Unmapped: 1, Length: 2, Checksum: 3, Signature: 4, Duplicate: 5, Capacity: 6, Value: 7 };
export const STATE = { Ok: 0, BadChecksum: 1, NoChecksum: 2, Unreadable: 3 };
export const LIMITS = {
  tables: 64, rootEntries: 60, errors: 32, madt: 256, ecam: 8, iommus: 16, dmarStructures: 32, scopes: 64,
  pathBytes: 128, ivrsBlocks: 32, deviceEntries: 256, tableLength: 1 << 20, rsdpLength: 4096,
};

const TWO32 = 2 ** 32;
const PAGE = 4096;

/**
 * Physical memory as the simulated machine has it: `bytes(addr, len)` gives its contents,
 * `memoryMap` is [[type, start, pages], ...]. A range is readable when every 4 KiB page
 * piece of it lies inside one descriptor that is not MMIO (types 11, 12).
 */
export class PhysView {
  constructor(memoryMap, bytes) {
    this.map = memoryMap.map(([type, start, pages]) => [Number(type), Number(start), Number(start) + Number(pages) * PAGE]);
    this.bytes = bytes;
  }

  #pieceMapped(a, n) {
    for (const [type, s, e] of this.map) if (a >= s && a + n <= e) return type !== 11 && type !== 12;
    return false;
  }

  mapped(addr, len) {
    if (!(addr >= 0) || !(len > 0) || addr + len > 2 ** 52) return false;
    for (let a = addr; a < addr + len;) {
      const next = Math.min((Math.floor(a / PAGE) + 1) * PAGE, addr + len);
      if (!this.#pieceMapped(a, next - a)) return false;
      a = next;
    }
    return true;
  }
}

/** A table's bytes with the kernel reader's rule: a field not wholly inside reads as 0. */
class Bytes {
  constructor(buf) {
    this.b = buf;
    this.n = buf.length;
  }
  u8(o) { return o >= 0 && o + 1 <= this.n ? this.b[o] : 0; }
  u16(o) { return o >= 0 && o + 2 <= this.n ? this.b[o] | (this.b[o + 1] << 8) : 0; }
  u32(o) { return o >= 0 && o + 4 <= this.n ? (this.b[o] | (this.b[o + 1] << 8) | (this.b[o + 2] << 16) | (this.b[o + 3] << 24)) >>> 0 : 0; }
  sum() { let s = 0; for (const x of this.b) s = (s + x) & 255; return s; }
}

/**
 * Decodes what the firmware publishes: `rsdp` is { addr, guid } as hv_efi_acpi_rsdp
 * returns it (guid 0: none), `phys` a PhysView.
 */
export const decodeAcpi = (rsdp, phys) => {
  const out = {
    rsdp: new Array(9).fill(0), tables: [], problems: [], problemsFound: 0, rootEntries: [],
    fadt: new Array(17).fill(0), madtHeader: [0, 0, 0, 0], madt: [], mcfgHeader: [0, 0], hpet: new Array(9).fill(0),
    dmarHeader: new Array(6).fill(0), dmar: [], scopes: [], path: [], ivrsHeader: new Array(5).fill(0), ivrs: [], entries: [],
    views: new Array(6).fill(0), noRsdpLogged: false,
    facts: { acpiPresent: 0, acpiRevision: 0, acpiTables: 0, acpiErrors: 0, pmTimerPort: 0, pmTimer32: 0, hpetPresent: 0, hpetLo: 0, hpetHi: 0, cpuCount: 0, ioApicCount: 0, localApicLo: 0, ecam: [], iommus: [] },
  };
  const problem = (p, sig, addr, field) => {
    out.problemsFound++;
    if (out.problems.length < LIMITS.errors) out.problems.push([sig >>> 0, addr % TWO32, Math.floor(addr / TWO32), field, p]);
  };
  const read = (addr, len) => new Bytes(phys.bytes(addr, len));

  // ---- the table list (ACPI 6.5 section 5.2.6) ----
  const addTable = (lo, hi, refSig, refAddr, field, facs) => {
    if (lo === 0 && hi === 0) return problem(PROBLEM.Null, refSig, refAddr, field), -1;
    const addr = hi * TWO32 + lo;
    if (hi >= 0x100000 || !phys.mapped(addr, 36)) return problem(PROBLEM.Unmapped, refSig, refAddr, field), -1;
    if (out.tables.some((t) => t[1] === lo && t[2] === hi)) return problem(PROBLEM.Duplicate, refSig, refAddr, field), -1;
    if (out.tables.length >= LIMITS.tables) return problem(PROBLEM.Capacity, refSig, refAddr, field), -1;
    const h = read(addr, 36);
    const sig = h.u32(0);
    const length = h.u32(4);
    const row = [sig, lo, hi, length, facs ? h.u8(32) : h.u8(8), STATE.Ok, facs ? 0 : h.u32(10), facs ? 0 : h.u16(14)];
    out.tables.push(row);
    if (length < (facs ? 64 : 36) || length > LIMITS.tableLength) {
      problem(PROBLEM.Length, sig, addr + 4, FIELD.Length);
      row[5] = STATE.Unreadable;
    } else if (!phys.mapped(addr, length)) {
      problem(PROBLEM.Unmapped, sig, addr + 4, FIELD.Length);
      row[5] = STATE.Unreadable;
    } else if (facs) row[5] = STATE.NoChecksum;
    else if (read(addr, length).sum() !== 0) {
      problem(PROBLEM.Checksum, sig, addr + 9, FIELD.Checksum);
      row[5] = STATE.BadChecksum;
    }
    return out.tables.length - 1;
  };
  const tableAddr = (i) => out.tables[i][2] * TWO32 + out.tables[i][1];
  const tableBytes = (i) => read(tableAddr(i), out.tables[i][3]);

  // ---- RSDP (section 5.2.5.3) and the root table (5.2.7 RSDT, 5.2.8 XSDT) ----
  const findRoot = () => {
    if (rsdp.guid !== 1 && rsdp.guid !== 2) return 'none';
    const addr = Number(rsdp.addr);
    const lo = addr % TWO32, hi = Math.floor(addr / TWO32);
    Object.assign(out.rsdp, { 0: 1, 1: lo, 2: hi, 4: rsdp.guid });
    if (addr === 0) return problem(PROBLEM.Null, SIG.RSDP, addr, FIELD.VendorTable), 'unusable';
    if (hi >= 0x100000 || !phys.mapped(addr, 20)) return problem(PROBLEM.Unmapped, SIG.RSDP, addr, FIELD.VendorTable), 'unusable';
    const v1 = read(addr, 20);
    if (Buffer.from(v1.b.subarray(0, 8)).toString('latin1') !== 'RSD PTR ') return problem(PROBLEM.Signature, SIG.RSDP, addr, FIELD.Signature), 'unusable';
    if (v1.sum() !== 0) return problem(PROBLEM.Checksum, SIG.RSDP, addr + 8, FIELD.Checksum), 'unusable';
    out.rsdp[0] = 2;
    out.rsdp[3] = v1.u8(15);
    out.rsdp[7] = v1.u32(9);
    out.rsdp[8] = v1.u16(13);
    const rsdt = v1.u32(16);
    let xLo = 0, xHi = 0;
    if (out.rsdp[3] >= 2) {
      if (!phys.mapped(addr, 36)) problem(PROBLEM.Unmapped, SIG.RSDP, addr + 20, FIELD.Length);
      else {
        const v2 = read(addr, 36);
        const length = v2.u32(20);
        if (length < 36 || length > LIMITS.rsdpLength) problem(PROBLEM.Length, SIG.RSDP, addr + 20, FIELD.Length);
        else if (!phys.mapped(addr, length)) problem(PROBLEM.Unmapped, SIG.RSDP, addr + 20, FIELD.Length);
        else if (read(addr, length).sum() !== 0) problem(PROBLEM.Checksum, SIG.RSDP, addr + 32, FIELD.ExtendedChecksum);
        else [xLo, xHi] = [v2.u32(24), v2.u32(28)];
      }
    }
    const tryRoot = (lo2, hi2, offset, field, want) => {
      const i = addTable(lo2, hi2, SIG.RSDP, addr + offset, field, false);
      if (i < 0) return -1;
      if (out.tables[i][0] !== want) return problem(PROBLEM.Signature, SIG.RSDP, addr + offset, field), -1;
      return out.tables[i][5] === STATE.Ok ? i : -1;
    };
    let root = -1, size = 4;
    if (xLo !== 0 || xHi !== 0) [root, size] = [tryRoot(xLo, xHi, 24, FIELD.XsdtAddress, SIG.XSDT), 8];
    if (root < 0) [root, size] = [tryRoot(rsdt, 0, 16, FIELD.RsdtAddress, SIG.RSDT), 4];
    if (root < 0) return 'ok';
    out.rsdp[5] = root + 1;
    out.rsdp[6] = size;
    const t = tableBytes(root);
    const rootAddr = tableAddr(root);
    if ((t.n - 36) % size !== 0) problem(PROBLEM.Length, out.tables[root][0], rootAddr + 4, FIELD.Length);
    let n = Math.floor((t.n - 36) / size);
    if (n > LIMITS.rootEntries) {
      problem(PROBLEM.Capacity, out.tables[root][0], rootAddr + 36 + LIMITS.rootEntries * size, FIELD.Entry);
      n = LIMITS.rootEntries;
    }
    for (let k = 0; k < n; k++) out.rootEntries.push([t.u32(36 + k * size), size === 8 ? t.u32(40 + k * size) : 0, rootAddr + 36 + k * size]);
    return 'ok';
  };

  const state = findRoot();
  if (state === 'none') out.noRsdpLogged = true;
  if (state === 'ok') {
    out.facts.acpiPresent = 1;
    out.facts.acpiRevision = out.rsdp[3];
    if (out.rsdp[5] > 0) walk(out, addTable, tableAddr, tableBytes, problem);
  }
  out.facts.acpiTables = out.tables.length;
  out.facts.acpiErrors = out.problemsFound;
  return out;
};

const VIEW_OF = new Map([[SIG.FACP, 0], [SIG.APIC, 1], [SIG.MCFG, 2], [SIG.HPET, 3], [SIG.DMAR, 4], [SIG.IVRS, 5]]);

const walk = (out, addTable, tableAddr, tableBytes, problem) => {
  const rootSig = out.tables[out.rsdp[5] - 1][0];
  for (const [lo, hi, entryAddr] of out.rootEntries) {
    const i = addTable(lo, hi, rootSig, entryAddr, FIELD.Entry, false);
    if (i < 0) continue;
    const sig = out.tables[i][0];
    if (sig === SIG.XSDT || sig === SIG.RSDT) {
      problem(PROBLEM.Signature, rootSig, entryAddr, FIELD.Entry);
      continue;
    }
    if (out.tables[i][5] !== STATE.Ok || !VIEW_OF.has(sig)) continue;
    const view = VIEW_OF.get(sig);
    if (out.views[view] !== 0) {
      if (sig !== SIG.HPET) problem(PROBLEM.Duplicate, rootSig, entryAddr, FIELD.Entry);
      continue;
    }
    out.views[view] = i + 1;
    const t = tableBytes(i);
    const addr = tableAddr(i);
    [fadt, madt, mcfg, hpet, dmar, ivrs][view](out, t, addr, problem);
  }
  const f = out.fadt;
  if (out.views[0] !== 0 && f[0] !== 0) {
    const fadtAddr = tableAddr(out.views[0] - 1);
    const fromFadt = (lo, hi, field, offset, want) => {
      if (lo === 0 && hi === 0 && want === SIG.FACS) return;
      const i = addTable(lo, hi, SIG.FACP, fadtAddr + offset, field, want === SIG.FACS);
      if (i >= 0 && out.tables[i][0] !== want) problem(PROBLEM.Signature, SIG.FACP, fadtAddr + offset, field);
    };
    fromFadt(f[9], f[10], f[11], f[12], SIG.DSDT);
    fromFadt(f[13], f[14], f[15], f[16], SIG.FACS);
    out.facts.pmTimerPort = f[3];
    out.facts.pmTimer32 = f[3] !== 0 && (f[2] & 0x100) !== 0 ? 1 : 0;
  }
  if (out.madtHeader[0] !== 0) {
    out.facts.cpuCount = out.madt.filter((e) => (e[0] === 0 || e[0] === 9) && (e[3] & 3) !== 0).length;
    out.facts.ioApicCount = out.madt.filter((e) => e[0] === 1).length;
    const override = out.madt.find((e) => e[0] === 5 && e[2] === 0);
    out.facts.localApicLo = override ? override[1] : out.madtHeader[1];
  }
  if (out.hpet[0] !== 0) Object.assign(out.facts, { hpetPresent: 1, hpetLo: out.hpet[4], hpetHi: out.hpet[5] });
};

// ---- FADT (ACPI 6.5 section 5.2.9) ----
const fadt = (out, t, addr, problem) => {
  if (t.n < 116) return problem(PROBLEM.Length, SIG.FACP, addr + 4, FIELD.Length);
  const f = out.fadt;
  f[0] = 1;
  f[1] = t.u8(8);
  f[2] = t.u32(112);
  f[5] = t.u16(46);
  f[6] = t.u8(45);
  f[7] = t.u16(109);
  f[8] = t.n >= 132 ? t.u8(131) : 0;
  const xFacs = t.n >= 140 && (t.u32(132) || t.u32(136));
  [f[13], f[14], f[15], f[16]] = xFacs ? [t.u32(132), t.u32(136), FIELD.XFirmwareCtrl, 132] : [t.u32(36), 0, FIELD.FirmwareCtrl, 36];
  const xDsdt = t.n >= 148 && (t.u32(140) || t.u32(144));
  [f[9], f[10], f[11], f[12]] = xDsdt ? [t.u32(140), t.u32(144), FIELD.XDsdt, 140] : [t.u32(40), 0, FIELD.Dsdt, 40];
  // PM timer: X_PM_TMR_BLK (GAS at 208, section 5.2.3.2) in system I/O space, else PM_TMR_BLK.
  if (t.n >= 220 && t.u8(208) === 1 && (t.u32(212) || t.u32(216))) {
    if (t.u32(216) === 0 && t.u32(212) <= 0xffff) [f[3], f[4]] = [t.u32(212), 2];
    else problem(PROBLEM.Value, SIG.FACP, addr + 212, FIELD.XPmTmrBlk);
  }
  if (f[4] === 0) {
    const port = t.u32(76);
    if (port > 0xffff) problem(PROBLEM.Value, SIG.FACP, addr + 76, FIELD.PmTmrBlk);
    else if (port !== 0) [f[3], f[4]] = [port, 1];
  }
};

// ---- MADT (section 5.2.12) ----
const MADT_MIN = { 0: 8, 1: 12, 2: 10, 3: 8, 4: 6, 5: 12, 9: 16, 10: 12 };
const madt = (out, t, addr, problem) => {
  if (t.n < 44) return problem(PROBLEM.Length, SIG.APIC, addr + 4, FIELD.Length);
  out.madtHeader = [1, t.u32(36), t.u32(40), 0];
  for (let off = 44; off < t.n;) {
    const type = t.u8(off), len = t.u8(off + 1);
    if (off + 2 > t.n || len < (MADT_MIN[type] ?? 2) || off + len > t.n) {
      problem(PROBLEM.Length, SIG.APIC, addr + off, FIELD.MadtEntryLength);
      break;
    }
    if (out.madt.length >= LIMITS.madt) {
      problem(PROBLEM.Capacity, SIG.APIC, addr + off, FIELD.MadtEntry);
      break;
    }
    const o = off;
    out.madt.push({
      0: () => [0, t.u8(o + 2), t.u8(o + 3), t.u32(o + 4), 0], // Processor Local APIC: UID, APIC ID, Flags
      1: () => [1, t.u8(o + 2), t.u32(o + 4), t.u32(o + 8), 0], // I/O APIC: ID, Address, GSI Base
      2: () => [2, t.u8(o + 2), t.u8(o + 3), t.u32(o + 4), t.u16(o + 8)], // Override: Bus, Source, GSI, Flags
      3: () => [3, t.u16(o + 2), t.u32(o + 4), 0, 0], // NMI Source: Flags, GSI
      4: () => [4, t.u8(o + 2), t.u16(o + 3), t.u8(o + 5), 0], // Local APIC NMI: UID, Flags, LINT#
      5: () => [5, t.u32(o + 4), t.u32(o + 8), 0, 0], // Local APIC Address Override
      9: () => [9, t.u32(o + 12), t.u32(o + 4), t.u32(o + 8), 0], // x2APIC: UID, X2APIC ID, Flags
      10: () => [10, t.u32(o + 4), t.u16(o + 2), t.u8(o + 8), 0], // x2APIC NMI: UID, Flags, LINT#
    }[type]?.() ?? [type, len, 0, 0, 0]);
    off += len;
  }
  out.madtHeader[3] = out.madt.length;
};

// ---- MCFG (PCI Firmware 3.3 section 4.1.2) ----
const mcfg = (out, t, addr, problem) => {
  if (t.n < 44) return problem(PROBLEM.Length, SIG.MCFG, addr + 4, FIELD.Length);
  if ((t.n - 44) % 16 !== 0) problem(PROBLEM.Length, SIG.MCFG, addr + 4, FIELD.Length);
  const n = Math.floor((t.n - 44) / 16);
  out.mcfgHeader = [1, n];
  for (let k = 0; k < n; k++) {
    const o = 44 + k * 16;
    const [lo, hi, seg, start, end] = [t.u32(o), t.u32(o + 4), t.u16(o + 8), t.u8(o + 10), t.u8(o + 11)];
    if (end < start) {
      problem(PROBLEM.Value, SIG.MCFG, addr + o + 11, FIELD.EndBusNumber);
      continue;
    }
    if (lo === 0 && hi === 0) {
      problem(PROBLEM.Value, SIG.MCFG, addr + o, FIELD.BaseAddress);
      continue;
    }
    if (out.facts.ecam.length >= LIMITS.ecam) {
      problem(PROBLEM.Capacity, SIG.MCFG, addr + o, FIELD.McfgEntry);
      break;
    }
    out.facts.ecam.push([lo, hi, seg, start, end]);
  }
};

// ---- HPET (IA-PC HPET 1.0a section 3.2.4) ----
const hpet = (out, t, addr, problem) => {
  if (t.n < 56) return problem(PROBLEM.Length, SIG.HPET, addr + 4, FIELD.Length);
  if (t.u8(40) !== 0 || (t.u32(44) === 0 && t.u32(48) === 0)) return problem(PROBLEM.Value, SIG.HPET, addr + 40, FIELD.BaseAddress);
  out.hpet = [1, t.u32(36), t.u8(40), t.u8(41), t.u32(44), t.u32(48), t.u8(52), t.u16(53), t.u8(55)];
};

// ---- DMAR (VT-d 3.4 chapter 8) ----
const DMAR_MIN = { 0: 16, 1: 24, 2: 8, 3: 20, 4: 8 };
const DMAR_SCOPES = { 0: 16, 1: 24, 2: 8 };
const dmar = (out, t, addr, problem) => {
  if (t.n < 48) return problem(PROBLEM.Length, SIG.DMAR, addr + 4, FIELD.Length);
  out.dmarHeader = [1, t.u8(36), t.u8(37), 0, 0, 0];
  for (let off = 48; off < t.n;) {
    const type = t.u16(off), len = t.u16(off + 2);
    if (off + 4 > t.n || len < (DMAR_MIN[type] ?? 4) || off + len > t.n) {
      problem(PROBLEM.Length, SIG.DMAR, addr + off, FIELD.RemappingStructureLength);
      break;
    }
    if (out.dmar.length >= LIMITS.dmarStructures) {
      problem(PROBLEM.Capacity, SIG.DMAR, addr + off, FIELD.RemappingStructure);
      break;
    }
    const o = off;
    const rec = {
      0: () => [0, t.u8(o + 4), t.u16(o + 6), t.u32(o + 8), t.u32(o + 12), t.u8(o + 5), 0], // DRHD
      1: () => [1, 0, t.u16(o + 6), t.u32(o + 8), t.u32(o + 12), t.u32(o + 16), t.u32(o + 20)], // RMRR
      2: () => [2, t.u8(o + 4), t.u16(o + 6), 0, 0, 0, 0], // ATSR
      3: () => [3, 0, 0, t.u32(o + 8), t.u32(o + 12), t.u32(o + 16), 0], // RHSA
      4: () => [4, 0, 0, t.u8(o + 7), 0, 0, 0], // ANDD
    }[type]?.() ?? [type, 0, 0, len, 0, 0, 0];
    const first = out.scopes.length;
    let kept = 0;
    if (DMAR_SCOPES[type] !== undefined) {
      const end = off + len;
      for (let s = off + DMAR_SCOPES[type]; s < end;) {
        const sl = t.u8(s + 1);
        if (s + 2 > end || sl < 6 || sl % 2 !== 0 || s + sl > end) {
          problem(PROBLEM.Length, SIG.DMAR, addr + s, FIELD.DeviceScopeLength);
          break;
        }
        if (out.scopes.length >= LIMITS.scopes) {
          problem(PROBLEM.Capacity, SIG.DMAR, addr + s, FIELD.DeviceScope);
          break;
        }
        if (out.path.length + sl - 6 > LIMITS.pathBytes) {
          problem(PROBLEM.Capacity, SIG.DMAR, addr + s + 6, FIELD.DeviceScopePath);
          break;
        }
        out.scopes.push([t.u8(s), t.u8(s + 2), t.u8(s + 4), t.u8(s + 5), out.path.length, (sl - 6) / 2]);
        for (let k = 6; k < sl; k++) out.path.push(t.u8(s + k));
        kept++;
        s += sl;
      }
    }
    rec.push(first + kept * 65536);
    out.dmar.push(rec);
    if (type === 0) {
      if (out.facts.iommus.length >= LIMITS.iommus) problem(PROBLEM.Capacity, SIG.DMAR, addr + off, FIELD.Drhd);
      else out.facts.iommus.push([1, rec[3], rec[4], rec[2], kept]);
    }
    off += len;
  }
  Object.assign(out.dmarHeader, { 3: out.dmar.length, 4: out.scopes.length, 5: out.path.length });
};

// ---- IVRS (AMD IOMMU 3.08 section 5.2) ----
const isIvhd = (type) => type === 0x10 || type === 0x11 || type === 0x40;
const isIvmd = (type) => type >= 0x20 && type <= 0x22;
const ivrs = (out, t, addr, problem) => {
  if (t.n < 48) return problem(PROBLEM.Length, SIG.IVRS, addr + 4, FIELD.Length);
  out.ivrsHeader = [1, t.u32(36), 0, 0, 0];
  for (let off = 48; off < t.n;) {
    const type = t.u8(off), len = t.u16(off + 2);
    const min = type === 0x10 ? 24 : isIvhd(type) ? 40 : isIvmd(type) ? 32 : 4;
    if (off + 4 > t.n || len < min || off + len > t.n) {
      problem(PROBLEM.Length, SIG.IVRS, addr + off, FIELD.IvdbLength);
      break;
    }
    if (out.ivrs.length >= LIMITS.ivrsBlocks) {
      problem(PROBLEM.Capacity, SIG.IVRS, addr + off, FIELD.Ivdb);
      break;
    }
    const rec = [type, t.u8(off + 1), t.u16(off + 4), 0, 0, 0, 0, 0, 0, 0, 0, 0, off];
    if (isIvhd(type)) {
      [rec[3], rec[4], rec[5], rec[6], rec[7], rec[8]] = [t.u16(off + 6), t.u32(off + 8), t.u32(off + 12), t.u16(off + 16), t.u16(off + 18), t.u32(off + 20)];
      if (type !== 0x10) [rec[9], rec[10]] = [t.u32(off + 24), t.u32(off + 28)];
      const first = out.entries.length;
      const end = off + len;
      for (let e = off + (type === 0x10 ? 24 : 40); e < end;) {
        const et = t.u8(e);
        let el;
        if (et < 0x80) el = et < 0x40 ? 4 : 8; // 00h-3Fh 4 bytes, 40h-7Fh 8 bytes
        else if (et === 0xf0) el = e + 22 <= end ? 22 + t.u8(e + 21) : 22; // ACPI HID: UID Length at 21
        else {
          problem(PROBLEM.Value, SIG.IVRS, addr + e, FIELD.DeviceEntryType);
          break;
        }
        if (e + el > end) {
          problem(PROBLEM.Length, SIG.IVRS, addr + e, FIELD.DeviceEntryLength);
          break;
        }
        if (out.entries.length >= LIMITS.deviceEntries) {
          problem(PROBLEM.Capacity, SIG.IVRS, addr + e, FIELD.DeviceEntry);
          break;
        }
        let extra = 0;
        if (et === 0x42 || et === 0x43) extra = t.u16(e + 5); // alias: source DeviceID
        else if (et === 0x46 || et === 0x47) extra = t.u32(e + 4); // extended DTE setting
        else if (et === 0x48) extra = (t.u8(e + 4) + t.u8(e + 7) * 256 + t.u16(e + 5) * 65536) >>> 0; // handle, variety, used ID
        else if (et === 0xf0) extra = t.u8(e + 21);
        out.entries.push([et, t.u16(e + 1), t.u8(e + 3), extra]);
        e += el;
      }
      rec[11] = first + (out.entries.length - first) * 65536;
    } else if (isIvmd(type)) {
      [rec[3], rec[4], rec[5], rec[6], rec[7]] = [t.u16(off + 6), t.u32(off + 16), t.u32(off + 20), t.u32(off + 24), t.u32(off + 28)];
    } else rec[3] = len;
    out.ivrs.push(rec);
    off += len;
  }
  const highest = Math.max(0, ...out.ivrs.filter((b) => isIvhd(b[0])).map((b) => b[0]));
  Object.assign(out.ivrsHeader, { 2: out.ivrs.length, 3: out.entries.length, 4: highest });
  if (highest === 0) return;
  for (const b of out.ivrs.filter((x) => x[0] === highest)) {
    if (out.facts.iommus.length >= LIMITS.iommus) {
      problem(PROBLEM.Capacity, SIG.IVRS, addr + b[12], FIELD.Ivhd);
      break;
    }
    out.facts.iommus.push([2, b[4], b[5], b[6], b[11] >>> 16]);
  }
};
