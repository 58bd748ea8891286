// The tables a VM's OS reads (kernel/vm/tables): built by the porffor-compiled builder
// (tests/fixtures/kernels/vm-tables.ts) into a buffer standing for guest-physical
// 0xE0000-0xFFFFF, then checked twice:
//   (a) by a parser written here from the specifications: the MP floating pointer and
//       configuration table (MP spec 1.4 chapter 4: signatures, lengths, checksums, every
//       entry), the RSDP (ACPI 6.5 5.2.5.3, both checksums), XSDT/RSDT, FADT (5.2.9: the
//       PM blocks, SCI, RESET_REG, the X_ fields), FACS, MADT (5.2.12), and the DSDT's AML
//       decoded (chapter 20) to \_S5 = Package { 5, 5, 0, 0 };
//   (b) by Zerovisor's own ACPI parser (kernel/platform/acpi, the host's): the tables put in
//       a simulated machine's memory, the kernel booted, `acpi`, `acpi madt`, `acpi fadt`
//       and `cpus` run on them.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VmTables, WINDOW_BASE } from '../sim/vm-tables.mjs';
import { machineOptions } from '../sim/fixtures/machines.mjs';
import { bootAcpi, commandOutputs } from '../sim/acpi-console.mjs';

let rig;
const build = (vcpus, ram) => (rig ??= new VmTables()).build(vcpus, ram);

/** A reader of the window by guest-physical address. */
const view = (window) => {
  const at = (gpa) => {
    const o = gpa - WINDOW_BASE;
    assert.ok(o >= 0 && o < window.length, `0x${gpa.toString(16)} is outside 0xE0000-0xFFFFF`);
    return o;
  };
  const dv = new DataView(window.buffer, window.byteOffset, window.byteLength);
  return {
    u8: (gpa) => window[at(gpa)],
    u16: (gpa) => dv.getUint16(at(gpa), true),
    u32: (gpa) => dv.getUint32(at(gpa), true),
    u64: (gpa) => Number(dv.getBigUint64(at(gpa), true)),
    text: (gpa, n) => Buffer.from(window.subarray(at(gpa), at(gpa) + n)).toString('latin1'),
    bytes: (gpa, n) => [...window.subarray(at(gpa), at(gpa) + n)],
    sum: (gpa, n) => window.subarray(at(gpa), at(gpa) + n).reduce((s, b) => (s + b) & 255, 0),
  };
};

/** An ACPI table's header (5.2.6), checked: signature, length within the window, checksum, OEM and creator. */
const header = (v, gpa, sig) => {
  assert.equal(v.text(gpa, 4), sig, `signature at 0x${gpa.toString(16)}`);
  const length = v.u32(gpa + 4);
  assert.equal(v.sum(gpa, length), 0, `${sig} checksum`);
  assert.equal(v.text(gpa + 10, 6), 'ZEROVS', `${sig} OEM ID`);
  assert.equal(v.text(gpa + 16, 8), 'ZEROVSOR', `${sig} OEM table ID`);
  assert.equal(v.text(gpa + 28, 4), 'ZVSR', `${sig} creator ID`);
  assert.equal(gpa % 16, 0, `${sig} 16-byte aligned`);
  return { length, revision: v.u8(gpa + 8) };
};

const gas = (v, gpa) => ({ space: v.u8(gpa), width: v.u8(gpa + 1), offset: v.u8(gpa + 2), access: v.u8(gpa + 3), address: v.u64(gpa + 4) });
const io = (width, access, address) => ({ space: 1, width, offset: 0, access, address });
const NO_GAS = { space: 0, width: 0, offset: 0, access: 0, address: 0 };

/** A decoder for the AML the DSDT may hold: DefName with a DefPackage of integers (20.2.5.1, 20.2.5.4, 20.2.3). */
const decodeAml = (bytes) => {
  const names = {};
  let i = 0;
  const pkgLength = () => {
    const lead = bytes[i++];
    const follow = lead >> 6;
    let n = follow === 0 ? lead & 0x3f : lead & 0x0f;
    for (let k = 0; k < follow; k++) n |= bytes[i++] << (4 + 8 * k);
    return n;
  };
  const integer = () => {
    const op = bytes[i++];
    if (op === 0x00) return 0;
    if (op === 0x01) return 1;
    if (op === 0xff) return 0xffffffffffffffffn;
    if (op === 0x0a) return bytes[i++];
    if (op === 0x0b) { const v = bytes[i] | (bytes[i + 1] << 8); i += 2; return v; }
    if (op === 0x0c) { const v = (bytes[i] | (bytes[i + 1] << 8) | (bytes[i + 2] << 16) | (bytes[i + 3] << 24)) >>> 0; i += 4; return v; }
    throw new Error(`AML: opcode 0x${op.toString(16)} at ${i - 1} is not an integer`);
  };
  while (i < bytes.length) {
    assert.equal(bytes[i++], 0x08, 'NameOp');
    const name = Buffer.from(bytes.slice(i, i + 4)).toString('latin1');
    i += 4;
    assert.equal(bytes[i++], 0x12, 'PackageOp');
    const start = i;
    const length = pkgLength();
    const count = bytes[i++];
    const elements = [];
    while (i < start + length) elements.push(integer());
    assert.equal(i, start + length, 'PkgLength covers the package');
    assert.equal(elements.length, count, 'NumElements');
    names[name] = elements;
  }
  return names;
};

/** Everything an OS would read, decoded and checked; returns the facts. */
const parse = (window, vcpus) => {
  const v = view(window);
  // ---- MP (MP spec 1.4): the floating pointer found by a scan of 0xF0000-0xFFFFF ----
  const floats = [];
  for (let a = 0xf0000; a < 0x100000; a += 16) if (v.text(a, 4) === '_MP_' && v.sum(a, v.u8(a + 8) * 16) === 0) floats.push(a);
  assert.deepEqual(floats, [0xf0000], 'one MP floating pointer, at 0xF0000');
  const fp = 0xf0000;
  assert.equal(v.u8(fp + 8), 1, 'length: one paragraph');
  assert.equal(v.u8(fp + 9), 4, 'spec revision 1.4');
  assert.deepEqual(v.bytes(fp + 11, 5), [0, 0, 0, 0, 0], 'a configuration table is present; virtual wire mode (no IMCR)');
  const pcmp = v.u32(fp + 4);
  assert.equal(v.text(pcmp, 4), 'PCMP');
  const pcmpLength = v.u16(pcmp + 4);
  assert.equal(v.sum(pcmp, pcmpLength), 0, 'PCMP checksum');
  assert.equal(v.u8(pcmp + 6), 4);
  assert.equal(v.text(pcmp + 8, 8), 'ZEROVS  ');
  assert.equal(v.u32(pcmp + 36), 0xfee00000, 'local APIC address');
  assert.equal(v.u16(pcmp + 40), 0, 'no extended table');
  const sizes = { 0: 20, 1: 8, 2: 8, 3: 8, 4: 8 };
  const mp = [];
  let at = pcmp + 44;
  for (let k = 0; k < v.u16(pcmp + 34); k++) {
    const type = v.u8(at);
    assert.ok(type in sizes, `entry type ${type}`);
    if (type === 0) mp.push({ type, apicId: v.u8(at + 1), version: v.u8(at + 2), flags: v.u8(at + 3), signature: v.u32(at + 4), features: v.u32(at + 8) });
    else if (type === 1) mp.push({ type, bus: v.u8(at + 1), name: v.text(at + 2, 6) });
    else if (type === 2) mp.push({ type, id: v.u8(at + 1), version: v.u8(at + 2), flags: v.u8(at + 3), address: v.u32(at + 4) });
    else mp.push({ type, kind: v.u8(at + 1), flags: v.u16(at + 2), bus: v.u8(at + 4), irq: v.u8(at + 5), dest: v.u8(at + 6), pin: v.u8(at + 7) });
    at += sizes[type];
  }
  assert.equal(at, pcmp + pcmpLength, 'the entries fill the base table');
  assert.deepEqual(mp.map((e) => e.type), [...mp.map((e) => e.type)].sort((a, b) => a - b), 'entries sorted by type');
  const expectedMp = [
    ...Array.from({ length: vcpus }, (_, i) => ({ type: 0, apicId: i, version: 0x14, flags: i === 0 ? 3 : 1, signature: 0x600, features: 0x201 })),
    { type: 1, bus: 0, name: 'ISA   ' },
    { type: 2, id: vcpus, version: 0x11, flags: 1, address: 0xfec00000 },
    ...Array.from({ length: 16 }, (_, irq) => irq).filter((irq) => irq !== 2)
      .map((irq) => ({ type: 3, kind: 0, flags: 0, bus: 0, irq, dest: vcpus, pin: irq })),
    { type: 4, kind: 3, flags: 0, bus: 0, irq: 0, dest: 0xff, pin: 0 },
    { type: 4, kind: 1, flags: 0, bus: 0, irq: 0, dest: 0xff, pin: 1 },
  ];
  assert.deepEqual(mp, expectedMp);

  // ---- ACPI: the RSDP found by a scan of 0xE0000-0xFFFFF on 16-byte boundaries (5.2.5.1) ----
  const rsdps = [];
  for (let a = 0xe0000; a < 0x100000; a += 16) if (v.text(a, 8) === 'RSD PTR ' && v.sum(a, 20) === 0) rsdps.push(a);
  assert.deepEqual(rsdps, [0xe0000], 'one RSDP, at 0xE0000');
  const rsdp = 0xe0000;
  assert.equal(v.u8(rsdp + 15), 2, 'revision 2');
  assert.equal(v.u32(rsdp + 20), 36);
  assert.equal(v.sum(rsdp, 36), 0, 'extended checksum');
  assert.equal(v.text(rsdp + 9, 6), 'ZEROVS');
  const xsdt = v.u64(rsdp + 24);
  const rsdt = v.u32(rsdp + 16);
  const x = header(v, xsdt, 'XSDT');
  const r = header(v, rsdt, 'RSDT');
  assert.equal((x.length - 36) % 8, 0);
  const entries = Array.from({ length: (x.length - 36) / 8 }, (_, k) => v.u64(xsdt + 36 + 8 * k));
  assert.deepEqual(Array.from({ length: (r.length - 36) / 4 }, (_, k) => v.u32(rsdt + 36 + 4 * k)), entries, 'the RSDT lists what the XSDT does');
  const bySig = Object.fromEntries(entries.map((a) => [v.text(a, 4), a]));
  assert.deepEqual(Object.keys(bySig).sort(), ['APIC', 'FACP']);

  // FADT (5.2.9, Table 5.9)
  const f = bySig.FACP;
  const fadt = header(v, f, 'FACP');
  assert.equal(fadt.length, 276, 'the ACPI 6 layout');
  assert.equal(fadt.revision, 6);
  assert.equal(v.u8(f + 131), 5, 'minor version');
  const flags = v.u32(f + 112);
  assert.equal(flags & (1 << 20), 0, 'not hardware-reduced');
  assert.equal(flags & (1 << 8), 0, '24-bit timer');
  assert.notEqual(flags & (1 << 10), 0, 'RESET_REG_SUP');
  assert.equal(flags & (1 << 4), 0, 'a fixed-feature power button');
  const facs = v.u32(f + 36);
  assert.equal(v.u64(f + 132), facs, 'X_FIRMWARE_CTRL');
  assert.equal(v.text(facs, 4), 'FACS');
  assert.equal(v.u32(facs + 4), 64);
  assert.equal(facs % 64, 0, 'FACS 64-byte aligned');
  const dsdt = v.u32(f + 40);
  assert.equal(v.u64(f + 140), dsdt, 'X_DSDT');
  assert.deepEqual({
    sci: v.u16(f + 46), smiCmd: v.u32(f + 48), pm1aEvt: v.u32(f + 56), pm1bEvt: v.u32(f + 60), pm1aCnt: v.u32(f + 64), pm1bCnt: v.u32(f + 68),
    pm2Cnt: v.u32(f + 72), pmTmr: v.u32(f + 76), gpe0: v.u32(f + 80), gpe1: v.u32(f + 84), pm1EvtLen: v.u8(f + 88), pm1CntLen: v.u8(f + 89),
    pm2CntLen: v.u8(f + 90), pmTmrLen: v.u8(f + 91), bootArch: v.u16(f + 109), resetValue: v.u8(f + 128),
  }, {
    sci: 9, smiCmd: 0, pm1aEvt: 0x600, pm1bEvt: 0, pm1aCnt: 0x604, pm1bCnt: 0, pm2Cnt: 0, pmTmr: 0x608, gpe0: 0, gpe1: 0,
    pm1EvtLen: 4, pm1CntLen: 2, pm2CntLen: 0, pmTmrLen: 4, bootArch: 0x3, resetValue: 0x06,
  });
  assert.deepEqual(gas(v, f + 116), io(8, 1, 0xcf9), 'RESET_REG');
  assert.deepEqual([148, 160, 172, 184, 196, 208, 220, 232, 244, 256].map((o) => gas(v, f + o)), [
    io(32, 2, 0x600), NO_GAS, io(16, 2, 0x604), NO_GAS, NO_GAS, io(32, 3, 0x608), NO_GAS, NO_GAS, NO_GAS, NO_GAS,
  ], 'X_PM1a_EVT_BLK ... SLEEP_STATUS_REG');

  // MADT (5.2.12)
  const m = bySig.APIC;
  const madt = header(v, m, 'APIC');
  assert.equal(v.u32(m + 36), 0xfee00000);
  assert.equal(v.u32(m + 40), 1, 'PCAT_COMPAT');
  const structures = [];
  for (let o = m + 44; o < m + madt.length;) {
    const type = v.u8(o);
    const len = v.u8(o + 1);
    assert.ok(len >= 2 && o + len <= m + madt.length, 'structure inside the table');
    if (type === 0) structures.push({ type, len, uid: v.u8(o + 2), apicId: v.u8(o + 3), flags: v.u32(o + 4) });
    else if (type === 1) structures.push({ type, len, id: v.u8(o + 2), address: v.u32(o + 4), gsiBase: v.u32(o + 8) });
    else if (type === 2) structures.push({ type, len, bus: v.u8(o + 2), source: v.u8(o + 3), gsi: v.u32(o + 4), flags: v.u16(o + 8) });
    else if (type === 4) structures.push({ type, len, uid: v.u8(o + 2), flags: v.u16(o + 3), lint: v.u8(o + 5) });
    else assert.fail(`MADT structure type ${type}`);
    o += len;
  }
  assert.deepEqual(structures, [
    ...Array.from({ length: vcpus }, (_, i) => ({ type: 0, len: 8, uid: i, apicId: i, flags: 1 })),
    { type: 1, len: 12, id: vcpus, address: 0xfec00000, gsiBase: 0 },
    { type: 2, len: 10, bus: 0, source: 9, gsi: 9, flags: 0x000d },
    { type: 4, len: 6, uid: 0xff, flags: 0x0005, lint: 1 },
  ]);

  // DSDT (5.2.11.1) and its AML
  const d = header(v, dsdt, 'DSDT');
  assert.equal(d.revision, 2);
  const aml = v.bytes(dsdt + 36, d.length - 36);
  assert.deepEqual(aml, [0x08, 0x5f, 0x53, 0x35, 0x5f, 0x12, 0x08, 0x04, 0x0a, 0x05, 0x0a, 0x05, 0x00, 0x00]);
  assert.deepEqual(decodeAml(aml), { _S5_: [5, 5, 0, 0] });

  // no table overlaps another or the MP structures
  const spans = [[rsdp, 36], [facs, 64], [xsdt, x.length], [rsdt, r.length], [f, fadt.length], [m, madt.length], [dsdt, d.length], [fp, 16], [pcmp, pcmpLength]]
    .sort((a, b) => a[0] - b[0]);
  for (let k = 1; k < spans.length; k++) assert.ok(spans[k - 1][0] + spans[k - 1][1] <= spans[k][0], `0x${spans[k][0].toString(16)} overlaps`);
  return { spans, dsdt, facs, xsdt, madt: m, fadt: f };
};

test('MP and ACPI tables for 1 to 8 vCPUs: every signature, length, checksum and entry as the specifications say', () => {
  for (let vcpus = 1; vcpus <= 8; vcpus++) {
    const { result, window, acpiBytes, mpBytes } = build(vcpus);
    assert.equal(result, 0, `${vcpus} vCPUs`);
    const { spans } = parse(window, vcpus);
    // what writePlatformTables copies covers every table: [0xE0000, + acpiBytes) and [0xF0000, + mpBytes)
    for (const [a, n] of spans) {
      const inAcpi = a >= 0xe0000 && a + n <= 0xe0000 + acpiBytes;
      const inMp = a >= 0xf0000 && a + n <= 0xf0000 + mpBytes;
      assert.ok(inAcpi || inMp, `0x${a.toString(16)} (+${n}) is outside what is copied into the VM`);
    }
    assert.ok(acpiBytes <= 0x1000 && mpBytes <= 0x1000);
  }
});

test('the builder refuses a vCPU count out of range, a short buffer and RAM that does not reach 1 MiB', () => {
  for (const n of [0, -1, 9, 1.5, NaN]) assert.equal(build(n).result, -1, `${n} vCPUs`);
  assert.equal(rig.build(1, 64 << 20, true).result, -2);
  assert.equal(build(1, 0xfffff).result, -3);
  assert.equal(build(1, 0x100000).result, 0, 'a 1 MiB VM has the hole');
});

test('Zerovisor\'s ACPI parser reads the tables: acpi, acpi madt, acpi fadt and cpus on a machine that has them', () => {
  const vcpus = 2;
  const { window, result } = build(vcpus);
  assert.equal(result, 0);
  const base = machineOptions('qemu-q35-intel-iommu-smp1');
  const memoryMap = [...base.memoryMap.filter(([, start]) => start < 0xe0000n), [9, 0xe0000n, 0x20n, 0n], ...base.memoryMap.filter(([, start]) => start >= 0x100000n)];
  const options = {
    ...base,
    memoryMap,
    acpi: { rsdp: { addr: 0xe0000n, revision: 2 }, regions: [{ addr: 0xe0000n, bytes: Buffer.from(window) }] },
    hpetBase: 0,
    input: ['acpi\r', 'acpi madt\r', 'acpi fadt\r', 'cpus\r', 'exit\r'],
  };
  const m = bootAcpi(options);
  assert.equal(m.exitCode, 0, m.serialText);
  const out = commandOutputs(m).map((o) => o.lines);
  const v = view(window);
  const hex = (a) => `0x${a.toString(16).padStart(16, '0')}`;
  const fadtAt = v.u64(v.u64(0xe0000 + 24) + 36);
  const madtAt = v.u64(v.u64(0xe0000 + 24) + 44);
  assert.equal(out[0][0], 'RSDP at 0x00000000000e0000: revision 2, OEM ID "ZEROVS"');
  const xsdtAt = v.u64(0xe0000 + 24);
  const dsdtAt = v.u32(fadtAt + 40);
  const facsAt = v.u32(fadtAt + 36);
  const row = (sig, at, length, rev, oem, state) => `  ${sig.padEnd(8)}${hex(at)}  ${String(length).padStart(8)}  ${String(rev).padStart(4)}  ${oem.padEnd(6)}  ${state}`;
  assert.deepEqual(out[0].slice(2), [
    row('XSDT', xsdtAt, 52, 1, 'ZEROVS', 'ok'),
    row('FACP', fadtAt, 276, 6, 'ZEROVS', 'ok'),
    row('APIC', madtAt, 44 + 8 * vcpus + 28, 5, 'ZEROVS', 'ok'),
    row('DSDT', dsdtAt, 50, 2, 'ZEROVS', 'ok'),
    row('FACS', facsAt, 64, 2, '', 'none (FACS)'),
    '5 tables, 0 problems.',
  ]);
  assert.deepEqual(out[1], [
    `MADT at ${hex(madtAt)}: local APIC address 0xfee00000, flags 0x00000001`,
    '  dual 8259 PICs (PCAT_COMPAT): yes',
    '  Local APIC: processor UID 0, APIC ID 0, enabled',
    '  Local APIC: processor UID 1, APIC ID 1, enabled',
    '  I/O APIC: ID 2, address 0xfec00000, interrupts from GSI 0',
    '  Interrupt source override: bus 0, IRQ 9 is GSI 9, flags 0x000d',
    '  Local APIC NMI: all processors, LINT1, flags 0x0005',
    '5 interrupt controller structures.',
  ]);
  assert.deepEqual(out[2], [
    `FADT at ${hex(fadtAt)}: revision 6, minor version 5`,
    '  flags 0x00000465: 32-bit PM timer (TMR_VAL_EXT): no, hardware-reduced ACPI: no',
    '  PM timer: I/O port 0x0608 (from X_PM_TMR_BLK), 24 bits',
    '  SCI interrupt 9, preferred power management profile 0, IA-PC boot architecture flags 0x0003',
    `  DSDT at ${hex(dsdtAt)} (from X_DSDT)`,
    `  FACS at ${hex(facsAt)} (from X_FIRMWARE_CTRL)`,
  ]);
  assert.equal(out[3].at(-1), '2 processors (2 enabled, 0 online-capable); 0 disabled.');
});
