// `acpi` and `cpus` on the real kernel, with the ACPI tables captured from QEMU (q35 with
// intel-iommu / amd-iommu, -smp 4 / 1) and the machines Bochs gives (no tables). Expected
// values come from decoding the fixture bytes here (tests/sim/acpi-reference.mjs), and the
// facts the issue names are checked against the numbers QEMU builds.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { after } from '../sim/harness.mjs';
import { machineOptions } from '../sim/fixtures/machines.mjs';
import { bootAcpi, commandOutputs, referenceOf, hex16, sigText, oemText, bdf } from '../sim/acpi-console.mjs';
import { withTables } from '../sim/acpi-fuzz.mjs';
import { syntheticDmar, syntheticIvrs, syntheticMadt } from '../sim/acpi-tables.mjs';

const INTEL4 = 'qemu-q35-intel-iommu-smp4';
const AMD4 = 'qemu-q35-amd-iommu-smp4';

/** Runs the commands on a machine; returns the output lines of each, in order. */
const run = (options, commands, onScan) => {
  const m = bootAcpi({ ...options, input: [...commands.map((c) => `${c}\r`), 'exit\r'] }, onScan);
  assert.equal(m.exitCode, 0, m.serialText);
  const outputs = commandOutputs(m);
  assert.deepEqual(outputs.map((o) => o.command), [...commands, 'exit']);
  return { m, out: outputs.map((o) => o.lines) };
};

test('acpi lists every table of the intel-iommu machine with address, length, revision, OEM ID and checksum', () => {
  const options = machineOptions(INTEL4);
  const ref = referenceOf(options);
  const { out } = run(options, ['acpi']);
  const lines = out[0];
  assert.equal(lines[0], `RSDP at ${hex16(ref.rsdp[1], ref.rsdp[2])}: revision 2, OEM ID "BOCHS "`);
  assert.equal(lines[1], '  Table   Address               Length  Rev.  OEM ID  Checksum');
  const rows = lines.slice(2, 2 + ref.tables.length);
  assert.deepEqual(rows, ref.tables.map(([sig, lo, hi, length, revision, state, oemLo, oemHi]) =>
    `  ${sigText(sig).padEnd(8)}${hex16(lo, hi)}  ${String(length).padStart(8)}  ${String(revision).padStart(4)}  ${oemText(oemLo, oemHi).padEnd(6)}  ${state === 2 ? 'none (FACS)' : 'ok'}`));
  // What QEMU 7.2 builds for q35 with intel-iommu: the XSDT's seven tables, then the DSDT and FACS the FADT names.
  assert.deepEqual(ref.tables.map((t) => sigText(t[0])), ['XSDT', 'FACP', 'APIC', 'HPET', 'MCFG', 'DMAR', 'WAET', 'BGRT', 'DSDT', 'FACS']);
  assert.equal(lines[2 + ref.tables.length], '10 tables, 0 problems.');
  assert.equal(lines.length, 3 + ref.tables.length);
});

test('cpus lists the four processors of -smp 4 and the one of -smp 1, from the MADT', () => {
  for (const [name, count] of [[INTEL4, 4], ['qemu-q35-intel-iommu-smp1', 1], [AMD4, 4], ['qemu-q35-amd-iommu-smp1', 1]]) {
    const options = machineOptions(name);
    const ref = referenceOf(options);
    const cpus = ref.madt.filter((e) => e[0] === 0);
    assert.equal(cpus.length, count, name);
    const { out } = run(options, ['cpus']);
    assert.deepEqual(out[0], [
      '     APIC ID  Kind    State               ACPI UID',
      ...cpus.map(([, uid, id]) => `  ${String(id).padStart(10)}  xAPIC   enabled           ${String(uid).padStart(10)}`),
      `${count} processors (${count} enabled, 0 online-capable); 0 disabled.`,
    ], name);
  }
});

test('acpi madt shows the local APICs, the I/O APIC, the interrupt overrides and the NMI of QEMU q35', () => {
  const { out } = run(machineOptions(INTEL4), ['acpi madt']);
  assert.deepEqual(out[0], [
    'MADT at 0x000000001f777000: local APIC address 0xfee00000, flags 0x00000001',
    '  dual 8259 PICs (PCAT_COMPAT): yes',
    '  Local APIC: processor UID 0, APIC ID 0, enabled',
    '  Local APIC: processor UID 1, APIC ID 1, enabled',
    '  Local APIC: processor UID 2, APIC ID 2, enabled',
    '  Local APIC: processor UID 3, APIC ID 3, enabled',
    '  I/O APIC: ID 0, address 0xfec00000, interrupts from GSI 0',
    '  Interrupt source override: bus 0, IRQ 0 is GSI 2, flags 0x0000',
    '  Interrupt source override: bus 0, IRQ 5 is GSI 5, flags 0x000d',
    '  Interrupt source override: bus 0, IRQ 9 is GSI 9, flags 0x000d',
    '  Interrupt source override: bus 0, IRQ 10 is GSI 10, flags 0x000d',
    '  Interrupt source override: bus 0, IRQ 11 is GSI 11, flags 0x000d',
    '  Local APIC NMI: all processors, LINT1, flags 0x0000',
    '11 interrupt controller structures.',
  ]);
});

test('acpi dmar shows the DRHD at 0xfed90000 with the device scopes QEMU builds', () => {
  const options = machineOptions(INTEL4);
  const ref = referenceOf(options);
  const { out } = run(options, ['acpi dmar']);
  const lines = out[0];
  // Host address width is stored as width - 1 (VT-d 3.4 section 8.1): QEMU's 0x26 is 39 bits.
  assert.equal(lines[0], 'DMAR at 0x000000001f774000: host address width 39 bits, flags 0x01');
  assert.equal(lines[1], '  interrupt remapping (INTR_REMAP): yes, x2APIC opt-out (X2APIC_OPT_OUT): no, DMA control opt-in: no');
  assert.equal(lines[2], '  DRHD: segment 0, registers at 0x00000000fed90000, flags 0x00');
  assert.equal(lines[3], '    all other devices of the segment (INCLUDE_PCI_ALL): no, register set size field 0');
  const scopeNames = { 1: 'PCI endpoint', 3: 'I/O APIC' };
  const scopes = ref.scopes.map(([type, , enumId, bus, first, hops]) =>
    `    device scope: ${scopeNames[type]}, enumeration ID ${enumId}, start bus 0x${bus.toString(16).padStart(2, '0')}, path${
      Array.from({ length: hops }, (_, h) => ` ${ref.path[first + 2 * h].toString(16).padStart(2, '0')}.${ref.path[first + 2 * h + 1]}`).join('')}`);
  assert.deepEqual(lines.slice(4, 4 + scopes.length), scopes);
  // QEMU lists the I/O APIC (on bus 0xff) and every PCI function present at boot.
  assert.equal(scopes.length, 8);
  assert.equal(scopes[0], '    device scope: I/O APIC, enumeration ID 0, start bus 0xff, path 00.0');
  assert.ok(scopes.includes('    device scope: PCI endpoint, enumeration ID 0, start bus 0x00, path 1f.2'));
  assert.equal(lines[4 + scopes.length], '1 remapping structures, 8 device scopes.');
});

test('acpi mcfg, hpet and fadt show the ECAM window, the HPET block and the PM timer', () => {
  const { out } = run(machineOptions(INTEL4), ['acpi mcfg', 'acpi hpet', 'acpi fadt']);
  assert.deepEqual(out[0], [
    'MCFG at 0x000000001f775000: 1 allocation structures, 1 ECAM windows used',
    '  segment 0, buses 0x00-0xff, ECAM base 0x00000000b0000000',
  ]);
  assert.deepEqual(out[1], [
    'HPET at 0x000000001f776000: HPET number 0, event timer block ID 0x8086a201',
    '  registers at 0x00000000fed00000 (memory space), minimum clock tick 0, page protection 0x00',
    '  PCI vendor 0x8086, 3 comparators, 64-bit counter: yes, legacy replacement routing: yes',
  ]);
  assert.deepEqual(out[2], [
    'FADT at 0x000000001f778000: revision 3, minor version 0',
    '  flags 0x000084a5: 32-bit PM timer (TMR_VAL_EXT): no, hardware-reduced ACPI: no',
    '  PM timer: I/O port 0x0608 (from X_PM_TMR_BLK), 24 bits',
    '  SCI interrupt 9, preferred power management profile 0, IA-PC boot architecture flags 0x0002',
    '  DSDT at 0x000000001f779000 (from X_DSDT)',
    '  FACS at 0x000000001f7dc000 (from FIRMWARE_CTRL)',
  ]);
});

test('acpi ivrs shows the AMD IOMMU at 0xfed80000 with its IVHD device entries; acpi dmar says there is none', () => {
  const options = machineOptions(AMD4);
  const ref = referenceOf(options);
  const { out } = run(options, ['acpi ivrs', 'acpi dmar']);
  const lines = out[0];
  assert.equal(ref.ivrs.length, 1);
  const [type, flags, devid, capOffset, lo, hi, segment, info, features] = ref.ivrs[0];
  assert.equal(type, 0x10);
  assert.equal(lo, 0xfed80000);
  assert.equal(lines[0], 'IVRS at 0x000000001f774000: IVinfo 0x00002800');
  assert.equal(lines[1], '  physical address size 40 bits, virtual address size 0 bits, EFR image supported (EFRSup): no');
  assert.equal(lines[2], `  IVHD type 0x10: IOMMU at ${hex16(lo, hi)}, segment ${segment}, its PCI function ${bdf(devid)}`);
  assert.equal(lines[3], `    flags 0x${flags.toString(16)}, capability offset 0x${capOffset.toString(16)}, IOMMU info 0x${info.toString(16).padStart(4, '0')}, feature reporting 0x${features.toString(16).padStart(8, '0')}`);
  const entries = ref.entries.map(([t, id, data, extra]) => t === 2
    ? `    device ${bdf(id)}, DTE setting 0x${data.toString(16).padStart(2, '0')}`
    : `    special device: ${(extra >> 8 & 255) === 1 ? 'I/O APIC' : 'HPET'} with handle ${extra & 255}, DTE setting 0x${data.toString(16).padStart(2, '0')}, requests come from ${bdf(extra >>> 16)}`);
  assert.deepEqual(lines.slice(4, 4 + entries.length), entries);
  // QEMU: one select entry per PCI function, and the I/O APIC as a special device at 00:14.0.
  assert.deepEqual(ref.entries.map((e) => e[0]), [2, 2, 2, 2, 2, 2, 2, 2, 0x48]);
  assert.equal(entries.at(-1), '    special device: I/O APIC with handle 0, DTE setting 0x00, requests come from 00:14.0');
  assert.equal(lines[4 + entries.length], '1 blocks, 9 device entries; the IOMMU list uses the IVHDs of type 0x10.');
  assert.deepEqual(out[1], ['There is no usable DMAR table (signature DMAR); "acpi" lists the tables found.']);
});

for (const name of ['bochs-corei7-skylake-x', 'bochs-ryzen']) {
  test(`${name}: no ACPI tables is said once at boot, and acpi, cpus and acpi madt say so without failing the machine`, () => {
    const { m, out } = run(machineOptions(name), ['acpi', 'cpus', 'acpi madt', 'acpi rescan']);
    const warning = '[acpi] no ACPI tables published by the firmware; continuing without ACPI';
    const boot = m.serialText.split('zerovisor> ')[0];
    assert.equal(boot.split(warning).length - 1, 1, boot);
    assert.ok(m.logLines.includes(warning));
    assert.deepEqual(out[0], ['The firmware published no ACPI tables (no RSDP in the EFI configuration table).']);
    assert.deepEqual(out[1], ['The processors are not known: the firmware published no usable ACPI tables (the MADT lists them).']);
    assert.deepEqual(out[2], ['The firmware published no ACPI tables (no RSDP in the EFI configuration table).']);
    assert.deepEqual(out[3], [warning, 'ACPI tables read again: 0 tables, 0 problems.']);
  });
}

test('wrong arguments get the usage; help acpi and help cpus describe the commands', () => {
  const { out } = run(machineOptions(INTEL4), ['acpi tables', 'acpi madt dmar', 'cpus all', 'help acpi', 'help cpus', 'ACPI MADT']);
  const usage = 'acpi [madt|dmar|ivrs|mcfg|hpet|fadt|rescan]';
  assert.deepEqual(out[0], [`acpi: unknown table or action "tables". Usage: ${usage}`]);
  assert.deepEqual(out[1], [`acpi: unexpected argument "dmar". Usage: ${usage}`]);
  assert.deepEqual(out[2], ['cpus: unexpected argument "all". Usage: cpus']);
  assert.equal(out[3][0], `Usage: ${usage}`);
  assert.equal(out[3][1], 'List the ACPI tables, or show one decoded');
  assert.equal(out[4][0], 'Usage: cpus');
  assert.match(out[5][0], /^MADT at 0x000000001f777000/);
});

test('the decoders on tables with every structure kind: MADT x2APIC and NMIs, DMAR RMRR/ATSR/RHSA/ANDD, IVRS 10h/11h/40h', () => {
  const options = withTables(machineOptions(AMD4), { APIC: syntheticMadt(), IVRS: syntheticIvrs() });
  const { out } = run(options, ['acpi madt', 'cpus', 'acpi ivrs', 'acpi']);
  assert.deepEqual(out[0], [
    'MADT at 0x000000001f777000: local APIC address 0xfee00000, flags 0x00000001',
    '  dual 8259 PICs (PCAT_COMPAT): yes',
    '  Local APIC: processor UID 0, APIC ID 0, enabled',
    '  Local APIC: processor UID 1, APIC ID 2, online-capable',
    '  Local APIC: processor UID 2, APIC ID 4, disabled',
    '  Local x2APIC: processor UID 300, x2APIC ID 256, enabled',
    '  Local x2APIC: processor UID 301, x2APIC ID 257, online-capable',
    '  I/O APIC: ID 8, address 0xfec00000, interrupts from GSI 0',
    '  I/O APIC: ID 9, address 0xfec01000, interrupts from GSI 24',
    '  Interrupt source override: bus 0, IRQ 0 is GSI 2, flags 0x0000',
    '  Interrupt source override: bus 0, IRQ 9 is GSI 9, flags 0x000d',
    '  NMI source: GSI 30, flags 0x0005',
    '  Local APIC NMI: all processors, LINT1, flags 0x0005',
    '  Local x2APIC NMI: all processors, LINT1, flags 0x0005',
    '  Local x2APIC NMI: processor UID 300, LINT0, flags 0x0000',
    '  Local APIC address override: 0x00000000fee00000',
    '  Structure of type 127, 4 bytes (not decoded)',
    '15 interrupt controller structures.',
  ]);
  assert.deepEqual(out[1], [
    '     APIC ID  Kind    State               ACPI UID',
    '           0  xAPIC   enabled                    0',
    '           2  xAPIC   online-capable             1',
    '           4  xAPIC   disabled                   2',
    '         256  x2APIC  enabled                  300',
    '         257  x2APIC  online-capable           301',
    '4 processors (2 enabled, 2 online-capable); 1 disabled.',
  ]);
  const entries = [
    '    all devices, DTE setting 0x00',
    '    device 00:01.0, DTE setting 0x10',
    '    range from 01:00.0, DTE setting 0x00',
    '    range to 01:1f.7',
    '    device 02:00.0, DTE setting 0x00, requests appear as 02:01.0',
    '    range from 03:00.0, DTE setting 0x00, requests appear as 03:01.0',
    '    range to 03:1f.7',
    '    device 04:00.0, DTE setting 0x00, extended DTE setting 0x80000000',
    '    range from 05:00.0, DTE setting 0x00, extended DTE setting 0x00000001',
    '    range to 05:1f.7',
    '    special device: I/O APIC with handle 33, DTE setting 0xd7, requests come from 00:14.0',
    '    special device: HPET with handle 0, DTE setting 0x00, requests come from 00:14.2',
    '    ACPI device (HID entry) 00:14.5, DTE setting 0x40',
    '    device entry of reserved type 0x00',
    '    device entry of reserved type 0x50',
  ];
  assert.deepEqual(out[2], [
    'IVRS at 0x000000001f774000: IVinfo 0x00203041',
    '  physical address size 48 bits, virtual address size 64 bits, EFR image supported (EFRSup): yes',
    '  IVHD type 0x10: IOMMU at 0x00000000feb80000, segment 0, its PCI function 00:00.2',
    '    flags 0xb0, capability offset 0x40, IOMMU info 0x0013, feature reporting 0x80048f6e',
    ...entries,
    '  IVHD type 0x11: IOMMU at 0x00000000feb80000, segment 0, its PCI function 00:00.2',
    '    flags 0x30, capability offset 0x40, IOMMU info 0x0013, attributes 0x00000000',
    '    extended feature register image 0x246577efa2254afa',
    ...entries,
    '  IVHD type 0x40: IOMMU at 0x00000000feb80000, segment 0, its PCI function 00:00.2',
    '    flags 0x30, capability offset 0x40, IOMMU info 0x0013, attributes 0x00000000',
    '    extended feature register image 0x246577efa2254afa',
    ...entries,
    '  IVMD type 0x20: memory at 0x000000003e000000, flags 0x08, 0x0000000000100000 bytes',
    '  IVMD type 0x21: memory at 0x000000003f000000, flags 0x09, 0x0000000000002000 bytes',
    '  IVMD type 0x22: memory at 0x000000003f100000, flags 0x09, 0x0000000000001000 bytes',
    '  Block of type 0x30, 8 bytes (not decoded)',
    '7 blocks, 45 device entries; the IOMMU list uses the IVHDs of type 0x40.',
  ]);
  assert.match(out[3].join('\n'), /\n {2}IVRS {4}0x000000001f774000 +583 +2 {2}ZVTEST {2}ok\n/);
});

test('acpi dmar decodes RMRR, ATSR, RHSA, ANDD and multi-level device scope paths', () => {
  const options = withTables(machineOptions(INTEL4), { DMAR: syntheticDmar() });
  const { out } = run(options, ['acpi dmar']);
  assert.deepEqual(out[0], [
    'DMAR at 0x000000001f774000: host address width 48 bits, flags 0x03',
    '  interrupt remapping (INTR_REMAP): yes, x2APIC opt-out (X2APIC_OPT_OUT): yes, DMA control opt-in: no',
    '  DRHD: segment 0, registers at 0x00000000fed90000, flags 0x00',
    '    all other devices of the segment (INCLUDE_PCI_ALL): no, register set size field 0',
    '    device scope: PCI endpoint, enumeration ID 0, start bus 0x00, path 02.0',
    '    device scope: PCI sub-hierarchy, enumeration ID 0, start bus 0x00, path 1c.0 00.0',
    '  DRHD: segment 0, registers at 0x00000000fed91000, flags 0x01',
    '    all other devices of the segment (INCLUDE_PCI_ALL): yes, register set size field 0',
    '    device scope: I/O APIC, enumeration ID 2, start bus 0xf0, path 1f.0',
    '    device scope: HPET, enumeration ID 0, start bus 0x00, path 1f.7',
    '    device scope: ACPI namespace device, enumeration ID 1, start bus 0x00, path (empty)',
    '  RMRR: segment 0, reserved memory 0x000000003e000000 to 0x000000003e0fffff',
    '    device scope: PCI endpoint, enumeration ID 0, start bus 0x00, path 14.0',
    '  ATSR: segment 0, flags 0x00, all root ports (ALL_PORTS): no',
    '    device scope: PCI sub-hierarchy, enumeration ID 0, start bus 0x00, path 01.0',
    '  RHSA: registers at 0x00000000fed90000, proximity domain 1',
    '  ANDD: ACPI device number 7',
    '  Remapping structure of type 9, 8 bytes (not decoded)',
    '7 remapping structures, 7 device scopes.',
  ]);
});

test('acpi and cpus in Japanese and Chinese', () => {
  const { out } = run(machineOptions('qemu-q35-intel-iommu-smp1'), ['lang ja', 'acpi', 'cpus', 'lang zh', 'acpi', 'lang en'].filter(Boolean));
  assert.equal(out[1][1], '  表      アドレス                長さ    版  OEM     チェックサム');
  assert.equal(out[1][2], '  XSDT    0x000000001f77c0e8        92     1  BOCHS   正常');
  assert.equal(out[1].at(-1), 'テーブル 10 個、問題 0 件。');
  assert.equal(out[2].at(-1), 'プロセッサ 1 個（有効 1 個、オンライン可能 0 個）、無効 0 個。');
});
