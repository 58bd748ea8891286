// Hostile ACPI tables, one defect at a time: truncated and overlong tables, lengths that
// overrun, wrong checksums, pointers to nowhere, to themselves or to the wrong table,
// duplicate entries, absurd counts, broken sub-structures. Each must be reported with
// the table and the field, the other tables still parsed, and what the kernel decoded
// must equal what the reference decoder gets from the same bytes.
// Most cases run on the parser alone (tests/fixtures/kernels/acpi-fuzz.ts); the last ones
// on the whole kernel, through the console.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { machineOptions } from '../sim/fixtures/machines.mjs';
import { AcpiRig, fuzzModule, withTables } from '../sim/acpi-fuzz.mjs';
import { FIELD, PROBLEM, SIG, STATE } from '../sim/acpi-reference.mjs';
import { Bytes, fixChecksum, manyCpusMadt, syntheticDmar, syntheticIvrs, syntheticMadt, table } from '../sim/acpi-tables.mjs';
import { bootAcpi, commandOutputs } from '../sim/acpi-console.mjs';

const INTEL4 = 'qemu-q35-intel-iommu-smp4';
const AMD4 = 'qemu-q35-amd-iommu-smp4';
// Where QEMU's tables are (both captures) and free ACPI memory below them.
const AT = { RSDP: 0x1f77d014, XSDT: 0x1f77c0e8, RSDT: 0x1f77c074, FACP: 0x1f778000, APIC: 0x1f777000, HPET: 0x1f776000, MCFG: 0x1f775000, DMAR: 0x1f774000, IVRS: 0x1f774000, FACS: 0x1f7dc000 };
const FREE = 0x1f76c000; // EfiACPIReclaimMemory, unused up to 0x1f772000
const XSDT_INDEX = { FACP: 0, APIC: 1, HPET: 2, MCFG: 3, DMAR: 4, IVRS: 4, WAET: 5, BGRT: 6 };

let module;
const rigs = new Map();
const rig = (name) => {
  module ??= fuzzModule();
  if (!rigs.has(name)) rigs.set(name, new AcpiRig(machineOptions(name), module));
  const r = rigs.get(name);
  r.undo();
  return r;
};

const u32 = (v) => new Bytes().u32(v).done();
const u64 = (v) => new Bytes().u64(v).done();

/**
 * Changes the table at addr (its current Length of bytes) with `edit`; then, unless told,
 * fixes its checksum for the Length it has after the edit.
 */
const patch = (r, addr, edit, { fix = true } = {}) => {
  const bytes = r.bytes(addr, Buffer.from(r.bytes(addr + 4, 4)).readUInt32LE(0));
  const dv = new DataView(bytes.buffer);
  edit(bytes, dv);
  if (fix) fixChecksum(bytes, 9, 0, Math.min(dv.getUint32(4, true), bytes.length));
  r.write(addr, bytes);
};

/** Changes the RSDP (36 bytes); then, unless told, fixes both its checksums. */
const patchRsdp = (r, edit, { fix = true } = {}) => {
  const bytes = r.bytes(AT.RSDP, 36);
  edit(bytes, new DataView(bytes.buffer));
  if (fix) {
    fixChecksum(bytes, 8, 0, 20);
    fixChecksum(bytes, 32, 0, 36);
  }
  r.write(AT.RSDP, bytes);
};

/** Points XSDT entry k at addr (checksum fixed). */
const entry = (r, k, addr) => patch(r, AT.XSDT, (b, dv) => dv.setBigUint64(36 + 8 * k, BigInt(addr), true));

/** Scans; the kernel must agree with the reference; returns the result. */
const scan = (r) => {
  r.scan();
  const got = r.read();
  assert.deepEqual(got, r.reference());
  return got;
};

const named = (result) => result.problems.map(([sig, , , field, problem]) => [Buffer.from(Uint32Array.of(sig).buffer).toString('latin1'), field, problem]);
const has = (result, sig, field, problem) => assert.ok(named(result).some(([s, f, p]) => s === sig && f === field && p === problem),
  `no ${sig}/${field}/${problem} among ${JSON.stringify(named(result))}`);
const tableState = (result, sig) => result.tables.find((t) => t[0] === SIG[sig])?.[5];

test('the real captures decode with no problem, and the reference decoder agrees word for word', () => {
  for (const name of [INTEL4, AMD4, 'qemu-q35-intel-iommu-smp1', 'qemu-q35-amd-iommu-smp1']) {
    const got = scan(rig(name));
    assert.equal(got.problemsFound, 0, name);
    assert.equal(got.facts.acpiPresent, 1);
    assert.equal(got.facts.pmTimerPort, 0x608);
    assert.equal(got.facts.hpetLo, 0xfed00000);
    assert.deepEqual(got.facts.ecam, [[0xb0000000, 0, 0, 0, 255]]);
    assert.equal(got.facts.cpuCount, name.endsWith('smp4') ? 4 : 1);
    assert.equal(got.facts.ioApicCount, 1);
    assert.equal(got.facts.localApicLo, 0xfee00000);
    const iommu = name.includes('intel') ? [1, 0xfed90000, 0, 0, 8] : [2, 0xfed80000, 0, 0, 9];
    assert.deepEqual(got.facts.iommus, [iommu], name);
  }
});

test('a table with a wrong checksum is reported and not used; the others still are', () => {
  const r = rig(INTEL4);
  patch(r, AT.APIC, (b) => { b[50] ^= 1; }, { fix: false });
  const got = scan(r);
  assert.deepEqual(named(got), [['APIC', FIELD.Checksum, PROBLEM.Checksum]]);
  assert.equal(got.problems[0][1], AT.APIC + 9, 'the address is the Checksum field');
  assert.equal(tableState(got, 'APIC'), STATE.BadChecksum);
  assert.equal(got.madtHeader[0], 0);
  assert.equal(got.facts.cpuCount, 0);
  assert.equal(got.facts.ioApicCount, 0);
  assert.equal(got.facts.iommus.length, 1, 'the DMAR is still decoded');
  assert.equal(got.facts.pmTimerPort, 0x608, 'the FADT too');
});

test('table lengths: too short for the header or the table, absurd, or reaching outside the memory map', () => {
  const r = rig(INTEL4);
  for (const [length, sig, field] of [[20, 'APIC', FIELD.Length], [40, 'APIC', FIELD.Length], [0, 'APIC', FIELD.Length], [0xffffffff, 'APIC', FIELD.Length], [(1 << 20) + 1, 'APIC', FIELD.Length]]) {
    r.undo();
    patch(r, AT.APIC, (b, dv) => dv.setUint32(4, length, true), { fix: length >= 36 && length <= 144 });
    const got = scan(r);
    has(got, sig, field, PROBLEM.Length);
    assert.equal(got.facts.cpuCount, 0);
    assert.equal(got.facts.hpetLo, 0xfed00000, 'the next table is still read');
  }
  // A MADT at the end of the map whose Length runs past it: never read there.
  r.undo();
  const last = 0x20000000 - 64;
  r.write(last, manyCpusMadt(1).subarray(0, 60));
  patch(r, last, (b, dv) => dv.setUint32(4, 100, true), { fix: false });
  entry(r, XSDT_INDEX.APIC, last);
  has(scan(r), 'APIC', FIELD.Length, PROBLEM.Unmapped);
});

test('root table entries: zero, outside the map, MMIO, listed twice, pointing at a root table', () => {
  const r = rig(INTEL4);
  const cases = [
    [0, PROBLEM.Null], [0xfed00000, PROBLEM.Unmapped], [0xffc00000, PROBLEM.Unmapped], [2 ** 60, PROBLEM.Unmapped],
    [AT.XSDT, PROBLEM.Duplicate], [AT.FACP, PROBLEM.Duplicate], [AT.RSDT, PROBLEM.Signature],
  ];
  for (const [target, problem] of cases) {
    r.undo();
    entry(r, XSDT_INDEX.WAET, target);
    const got = scan(r);
    assert.deepEqual(named(got), [['XSDT', FIELD.Entry, problem]], `entry -> 0x${target.toString(16)}`);
    assert.equal(got.problems[0][1], AT.XSDT + 36 + 8 * XSDT_INDEX.WAET, 'the address is the entry');
    assert.equal(got.facts.cpuCount, 4);
  }
  // A second, different MADT: the first is used, the second reported.
  r.undo();
  r.write(FREE, manyCpusMadt(2));
  entry(r, XSDT_INDEX.WAET, FREE);
  const got = scan(r);
  assert.deepEqual(named(got), [['XSDT', FIELD.Entry, PROBLEM.Duplicate]]);
  assert.equal(got.facts.cpuCount, 4);
});

test('the root table: a Length that is no whole number of entries, more entries than kept, a bad XSDT falls back to the RSDT', () => {
  const r = rig(INTEL4);
  patch(r, AT.XSDT, (b, dv) => dv.setUint32(4, 92 - 3, true));
  let got = scan(r);
  has(got, 'XSDT', FIELD.Length, PROBLEM.Length);
  assert.equal(got.rootEntries.length, 6);

  r.undo();
  const entries = new Bytes();
  for (let k = 0; k < 70; k++) entries.u64(k < 7 ? Buffer.from(r.bytes(AT.XSDT + 36 + 8 * k, 4)).readUInt32LE(0) : 0x1f777000);
  r.write(FREE, table('XSDT', entries.done()));
  patchRsdp(r, (b, dv) => dv.setBigUint64(24, BigInt(FREE), true));
  got = scan(r);
  has(got, 'XSDT', FIELD.Entry, PROBLEM.Capacity);
  assert.equal(got.rootEntries.length, 60);
  assert.equal(got.problemsFound, 1 + 53, 'one capacity problem, and each repeated MADT entry is a duplicate');
  assert.equal(got.problems.length, 32, 'at most 32 problems are kept');

  r.undo();
  patch(r, AT.XSDT, (b) => { b[40] ^= 0x10; }, { fix: false });
  got = scan(r);
  assert.deepEqual(named(got), [['XSDT', FIELD.Checksum, PROBLEM.Checksum]]);
  assert.equal(got.rsdp[6], 4, 'the RSDT (4-byte entries) is the root');
  assert.equal(got.facts.cpuCount, 4);
  assert.equal(got.facts.iommus.length, 1);
});

test('the RSDP: checksum, extended checksum, revision 0, Length, and what the firmware hands over', () => {
  const r = rig(INTEL4);
  patchRsdp(r, (b) => { b[10] ^= 1; }, { fix: false });
  let got = scan(r);
  assert.deepEqual(named(got), [['RSDP', FIELD.Checksum, PROBLEM.Checksum]]);
  assert.equal(got.facts.acpiPresent, 0);
  assert.equal(got.tables.length, 0);

  r.undo();
  patchRsdp(r, (b) => { b[33] ^= 1; }, { fix: false });
  got = scan(r);
  assert.deepEqual(named(got), [['RSDP', FIELD.ExtendedChecksum, PROBLEM.Checksum]]);
  assert.equal(got.rsdp[6], 4, 'without a trusted XsdtAddress the RSDT is used');
  assert.equal(got.facts.cpuCount, 4);

  r.undo();
  patchRsdp(r, (b) => { b[15] = 0; });
  got = scan(r);
  assert.equal(got.problemsFound, 0);
  assert.equal(got.rsdp[6], 4, 'an ACPI 1.0 RSDP has only the RSDT');

  r.undo();
  patchRsdp(r, (b, dv) => dv.setUint32(20, 0x7fffffff, true));
  got = scan(r);
  has(got, 'RSDP', FIELD.Length, PROBLEM.Length);

  for (const [rsdp, problem] of [[{ addr: 0xfed00000, guid: 2 }, PROBLEM.Unmapped], [{ addr: 0, guid: 2 }, PROBLEM.Null], [{ addr: AT.XSDT, guid: 2 }, PROBLEM.Signature]]) {
    r.undo();
    r.rsdp = rsdp;
    got = scan(r);
    assert.equal(named(got)[0][0], 'RSDP');
    assert.equal(named(got)[0][2], problem);
    assert.equal(got.facts.acpiPresent, 0);
  }
  r.undo();
  r.rsdp = { addr: AT.RSDP, guid: 0 };
  got = scan(r);
  assert.equal(got.problemsFound, 0, 'no RSDP at all is not a problem in the tables');
  assert.equal(got.tables.length, 0);
});

test('FADT pointers and the PM timer block', () => {
  const r = rig(INTEL4);
  patch(r, AT.FACP, (b, dv) => dv.setBigUint64(140, BigInt(AT.FACP), true));
  let got = scan(r);
  assert.deepEqual(named(got), [['FACP', FIELD.XDsdt, PROBLEM.Duplicate]]);

  r.undo();
  patch(r, AT.FACP, (b, dv) => dv.setBigUint64(140, BigInt(AT.APIC + 0x40), true));
  got = scan(r);
  assert.equal(named(got).at(-1)[0], 'FACP');
  assert.equal(named(got).at(-1)[1], FIELD.XDsdt);

  r.undo();
  patch(r, AT.FACP, (b, dv) => dv.setUint32(36, AT.XSDT, true)); // FIRMWARE_CTRL at the XSDT: a cycle
  got = scan(r);
  assert.deepEqual(named(got), [['FACP', FIELD.FirmwareCtrl, PROBLEM.Duplicate]]);

  r.undo();
  patch(r, AT.FACP, (b, dv) => dv.setBigUint64(212, 0x10000n, true)); // an I/O port past 0xffff
  got = scan(r);
  assert.deepEqual(named(got), [['FACP', FIELD.XPmTmrBlk, PROBLEM.Value]]);
  assert.equal(got.facts.pmTimerPort, 0x608, 'PM_TMR_BLK is used instead');
  assert.equal(got.fadt[4], 1);

  r.undo();
  patch(r, AT.FACP, (b, dv) => { b[208] = 0; dv.setUint32(76, 0x1008, true); dv.setUint32(112, dv.getUint32(112, true) | 0x100, true); });
  got = scan(r);
  assert.equal(got.problemsFound, 0);
  assert.equal(got.facts.pmTimerPort, 0x1008, 'X_PM_TMR_BLK in memory space is not a port: PM_TMR_BLK');
  assert.equal(got.facts.pmTimer32, 1, 'TMR_VAL_EXT');
});

test('HPET and MCFG values that cannot be used', () => {
  const r = rig(INTEL4);
  patch(r, AT.HPET, (b) => { b[40] = 1; });
  let got = scan(r);
  assert.deepEqual(named(got), [['HPET', FIELD.BaseAddress, PROBLEM.Value]]);
  assert.equal(got.facts.hpetPresent, 0);

  r.undo();
  patch(r, AT.MCFG, (b) => { b[54] = 0x10; b[55] = 0x0f; });
  got = scan(r);
  assert.deepEqual(named(got), [['MCFG', FIELD.EndBusNumber, PROBLEM.Value]]);
  assert.equal(got.facts.ecam.length, 0);

  r.undo();
  const body = new Bytes().u64(0);
  for (let k = 0; k < 10; k++) body.u64(0xb0000000 + k * 0x10000000).u16(k).u8(0).u8(255).u32(0);
  r.write(FREE, table('MCFG', body.done()));
  entry(r, XSDT_INDEX.MCFG, FREE);
  got = scan(r);
  assert.deepEqual(named(got), [['MCFG', FIELD.McfgEntry, PROBLEM.Capacity]]);
  assert.equal(got.facts.ecam.length, 8);
});

test('MADT structures: length 0, overrunning the table, and more than 256 processors', () => {
  const r = rig(INTEL4);
  patch(r, AT.APIC, (b) => { b[44 + 8 * 2 + 1] = 0; });
  let got = scan(r);
  assert.deepEqual(named(got), [['APIC', FIELD.MadtEntryLength, PROBLEM.Length]]);
  assert.equal(got.problems[0][1], AT.APIC + 44 + 16);
  assert.equal(got.madt.length, 2, 'the structures before it are kept');
  assert.equal(got.facts.cpuCount, 2);

  r.undo();
  patch(r, AT.APIC, (b) => { b[44 + 8 * 3 + 1] = 200; });
  got = scan(r);
  assert.deepEqual(named(got), [['APIC', FIELD.MadtEntryLength, PROBLEM.Length]]);

  r.undo();
  patch(r, AT.APIC, (b) => { b[44 + 1] = 7; }); // a Local APIC needs 8 bytes
  assert.deepEqual(named(scan(r)), [['APIC', FIELD.MadtEntryLength, PROBLEM.Length]]);

  r.undo();
  r.write(FREE, manyCpusMadt(300));
  entry(r, XSDT_INDEX.APIC, FREE);
  got = scan(r);
  assert.deepEqual(named(got), [['APIC', FIELD.MadtEntry, PROBLEM.Capacity]]);
  assert.equal(got.facts.cpuCount, 256);
});

test('DMAR structures and device scopes that are broken or too many', () => {
  const r = rig(INTEL4);
  patch(r, AT.DMAR, (b) => { b[48 + 16 + 8 + 1] = 7; }); // the second scope: an odd Length
  let got = scan(r);
  assert.deepEqual(named(got), [['DMAR', FIELD.DeviceScopeLength, PROBLEM.Length]]);
  assert.equal(got.scopes.length, 1);
  assert.deepEqual(got.facts.iommus, [[1, 0xfed90000, 0, 0, 1]], 'the unit stays, with the scopes read before');

  r.undo();
  patch(r, AT.DMAR, (b) => { b[48 + 2] = 3; b[48 + 3] = 0; });
  got = scan(r);
  assert.deepEqual(named(got), [['DMAR', FIELD.RemappingStructureLength, PROBLEM.Length]]);
  assert.equal(got.facts.iommus.length, 0);

  r.undo();
  const units = new Bytes().u8(47).u8(1).bytes(new Uint8Array(10));
  for (let k = 0; k < 20; k++) units.u16(0).u16(16).u8(0).u8(0).u16(0).u64(0xfed90000 + k * 0x1000);
  r.write(FREE, table('DMAR', units.done()));
  entry(r, XSDT_INDEX.DMAR, FREE);
  got = scan(r);
  assert.deepEqual(named(got), [['DMAR', FIELD.Drhd, PROBLEM.Capacity], ['DMAR', FIELD.Drhd, PROBLEM.Capacity], ['DMAR', FIELD.Drhd, PROBLEM.Capacity], ['DMAR', FIELD.Drhd, PROBLEM.Capacity]]);
  assert.equal(got.facts.iommus.length, 16);

  r.undo();
  const scopes = new Bytes().u8(47).u8(1).bytes(new Uint8Array(10)).u16(0).u16(16 + 70 * 8).u8(0).u8(0).u16(0).u64(0xfed90000);
  for (let k = 0; k < 70; k++) scopes.u8(1).u8(8).u16(0).u8(0).u8(0).u8(k & 31).u8(0);
  r.write(FREE, table('DMAR', scopes.done()));
  entry(r, XSDT_INDEX.DMAR, FREE);
  got = scan(r);
  assert.deepEqual(named(got), [['DMAR', FIELD.DeviceScope, PROBLEM.Capacity]]);
  assert.equal(got.scopes.length, 64);
});

test('IVRS blocks and device entries: unknown variable-length type, overrunning entry, absurd length, too many', () => {
  const r = rig(AMD4);
  const ivhd = 48;
  patch(r, AT.IVRS, (b) => { b[ivhd + 24 + 8] = 0x81; }); // the third entry
  let got = scan(r);
  assert.deepEqual(named(got), [['IVRS', FIELD.DeviceEntryType, PROBLEM.Value]]);
  assert.equal(got.entries.length, 2);
  assert.deepEqual(got.facts.iommus, [[2, 0xfed80000, 0, 0, 2]]);

  r.undo();
  patch(r, AT.IVRS, (b, dv) => { dv.setUint16(ivhd + 2, 0x40 - 1, true); dv.setUint32(4, 112 - 1, true); });
  got = scan(r);
  assert.deepEqual(named(got), [['IVRS', FIELD.DeviceEntryLength, PROBLEM.Length]]);
  assert.equal(got.entries.length, 8);

  r.undo();
  patch(r, AT.IVRS, (b, dv) => dv.setUint16(ivhd + 2, 0xffff, true));
  got = scan(r);
  assert.deepEqual(named(got), [['IVRS', FIELD.IvdbLength, PROBLEM.Length]]);
  assert.equal(got.facts.iommus.length, 0);

  r.undo();
  const many = new Bytes().u32(0).u64(0).u8(0x10).u8(0).u16(24 + 300 * 4).u16(2).u16(0x40).u64(0xfed80000).u16(0).u16(0).u32(0);
  for (let k = 0; k < 300; k++) many.u8(2).u16(k).u8(0);
  r.write(FREE, table('IVRS', many.done()));
  entry(r, XSDT_INDEX.IVRS, FREE);
  got = scan(r);
  assert.deepEqual(named(got), [['IVRS', FIELD.DeviceEntry, PROBLEM.Capacity]]);
  assert.equal(got.entries.length, 256);
});

test('the synthetic DMAR and IVRS decode fully and the facts take the newest IVHD type', () => {
  const r = rig(AMD4);
  r.write(AT.IVRS, syntheticIvrs());
  let got = scan(r);
  assert.equal(got.problemsFound, 0);
  assert.deepEqual(got.ivrs.map((b) => b[0]), [0x10, 0x11, 0x40, 0x20, 0x21, 0x22, 0x30]);
  assert.deepEqual(got.facts.iommus, [[2, 0xfeb80000, 0, 0, 15]], 'one IOMMU (from its 40h IVHD), not three');
  const intel = rig(INTEL4);
  intel.write(AT.DMAR, syntheticDmar());
  got = scan(intel);
  assert.equal(got.problemsFound, 0);
  assert.deepEqual(got.facts.iommus, [[1, 0xfed90000, 0, 0, 2], [1, 0xfed91000, 0, 0, 3]]);
});

// ---- through the console ----

const run = (options, commands, onScan) => {
  const m = bootAcpi({ ...options, input: [...commands.map((c) => `${c}\r`), 'exit\r'] }, onScan);
  assert.equal(m.exitCode, 0);
  return { m, boot: m.serialText.split('zerovisor> ')[0], out: commandOutputs(m).map((o) => o.lines) };
};

/** Every third scan, a MADT with a wrong checksum (so the problem list is used too). */
const corruptSometimes = (machine, call) => {
  if (call % 3 === 0) corruptMadt(machine);
  else if (call % 3 === 1 && call > 1) corruptMadt(machine); // flips the bit back
};

const corruptMadt = (machine) => {
  const bytes = machine.physRead(AT.APIC, 144);
  bytes[50] ^= 1;
  machine.physWrite(AT.APIC, bytes);
};

test('a MADT with a wrong checksum: logged at boot, shown by acpi, and cpus has no processors to list', () => {
  const { m, boot, out } = run(machineOptions(INTEL4), ['acpi', 'cpus', 'acpi madt'], (machine, call) => { if (call === 1) corruptMadt(machine); });
  const line = 'APIC: field Checksum at 0x000000001f777009: wrong checksum; the table is not used';
  assert.ok(boot.includes(`[acpi] ${line}\r\n`), boot);
  assert.ok(m.logLines.includes(`[acpi] ${line}`));
  assert.ok(out[0].includes('  APIC    0x000000001f777000       144     1  BOCHS   bad'), out[0].join('\n'));
  assert.deepEqual(out[0].slice(-3), ['10 tables, 1 problems.', 'Problems:', `  ${line}`]);
  assert.deepEqual(out[1], ['The processors are not known: there is no usable MADT; "acpi" lists the tables found.']);
  assert.deepEqual(out[2], ['There is no usable MADT table (signature APIC); "acpi" lists the tables found.']);
});

test('acpi rescan reads the tables again: a problem appears, then goes when the table is mended', () => {
  let saved;
  const { m, out } = run(machineOptions(INTEL4), ['cpus', 'acpi rescan', 'cpus', 'acpi rescan', 'cpus'], (machine, call) => {
    if (call === 2) {
      saved = machine.physRead(AT.APIC, 144);
      const bytes = Uint8Array.from(saved);
      bytes[44 + 16 + 1] = 0; // the third Local APIC: Length 0
      machine.physWrite(AT.APIC, fixChecksum(bytes, 9));
    }
    if (call === 3) machine.physWrite(AT.APIC, saved);
  });
  assert.equal(m.scans, 3);
  assert.equal(out[0].at(-1), '4 processors (4 enabled, 0 online-capable); 0 disabled.');
  assert.deepEqual(out[1], [
    '[acpi] APIC: field Interrupt Controller Structure.Length at 0x000000001f77703c: length out of range (too short, too long, or past the end of the table)',
    'ACPI tables read again: 10 tables, 1 problems.',
  ]);
  assert.equal(out[2].at(-1), '2 processors (2 enabled, 0 online-capable); 0 disabled.');
  assert.deepEqual(out[3], ['ACPI tables read again: 10 tables, 0 problems.']);
  assert.equal(out[4].at(-1), '4 processors (4 enabled, 0 online-capable); 0 disabled.');
});

test('past 32 problems the rest are counted, said once, and acpi says how many were not kept', () => {
  const options = machineOptions(INTEL4);
  const { m, boot, out } = run(options, ['acpi'], (machine, call) => {
    if (call !== 1) return;
    const entries = new Bytes();
    for (let k = 0; k < 60; k++) entries.u64(k < 7 ? Buffer.from(machine.physRead(AT.XSDT + 36 + 8 * k, 4)).readUInt32LE(0) : 0);
    machine.physWrite(FREE, table('XSDT', entries.done()));
    const rsdp = machine.physRead(AT.RSDP, 36);
    new DataView(rsdp.buffer).setUint32(24, FREE, true);
    machine.physWrite(AT.RSDP, fixChecksum(rsdp, 32));
  });
  const nulls = boot.split('\r\n').filter((l) => /^\[acpi\] XSDT: field Entry at 0x[0-9a-f]{16} is zero$/.test(l));
  assert.equal(nulls.length, 32);
  assert.ok(boot.includes('[acpi] 21 more problems were found but not kept.\r\n'));
  assert.equal(out[0].filter((l) => / {2}XSDT: field Entry at 0x[0-9a-f]{16} is zero$/.test(l)).length, 32);
  assert.ok(out[0].includes('10 tables, 53 problems.'), out[0].join('\n'));
  assert.equal(out[0].at(-1), '21 more problems were found but not kept.');
  assert.ok(m.logLines.length > 32);
});

test('rescanning and showing the tables 300 times does not grow the kernel\'s memory', () => {
  const options = withTables(machineOptions(AMD4), { APIC: syntheticMadt(), IVRS: syntheticIvrs() });
  const round = ['acpi rescan', 'acpi', 'acpi madt', 'acpi ivrs', 'acpi fadt', 'acpi hpet', 'acpi mcfg', 'cpus', 'acpi dmar'];
  const few = run(options, Array(10).fill(round).flat(), corruptSometimes).m;
  const many = run(options, Array(300).fill(round).flat(), corruptSometimes).m;
  assert.equal(many.scans, 301);
  assert.equal(many.memoryBytes, few.memoryBytes);
});
