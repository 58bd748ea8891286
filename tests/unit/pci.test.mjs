// PCI enumeration (drivers/pci) and the `pci` command, on the kernel's real Wasm over the
// PCI bus model of tests/sim/pci.mjs: QEMU q35's functions through ports 0xCF8/0xCFC and
// through ECAM give the same list; BAR sizes; BARs and Command restored after sizing, and
// decoding off while BARs are probed; capabilities incl. MSI-X and virtio decoded; hostile
// configuration spaces end with a clear error; bad arguments; no memory growth.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { boot, after, variantModule } from '../sim/harness.mjs';
import { dictionaries, fill } from '../sim/dictionaries.mjs';
import { machineOptions } from '../sim/fixtures/machines.mjs';
import {
  pciModel, q35Pci, q35Functions, pmCap, msiCap, msixCap, pcieCap, virtioCap, VIRTIO,
} from '../sim/pci.mjs';

/** Serial output of the commands (after the first prompt), lines without the CR. */
const session = (m) => after(m.serialText, 'TSC ticks\r\n');
const lines = (m) => session(m).split('\r\n');

const dicts = await dictionaries();
const PROMPTS = [dicts.en, dicts.ja, dicts.zh].map((d) => d['console.prompt']);
const isPrompt = (line) => PROMPTS.some((p) => line.startsWith(p));

/** The output of command `cmd` (the lines between its prompt and the next prompt). */
const outputOf = (m, cmd) => {
  const all = lines(m);
  const start = all.findIndex((l) => isPrompt(l) && l.endsWith(`> ${cmd}`));
  assert.ok(start >= 0, `no prompt with "${cmd}" in:\n${session(m)}`);
  const end = all.findIndex((l, i) => i > start && isPrompt(l));
  return all.slice(start + 1, end < 0 ? undefined : end);
};

/** A template with {N} and {N:xD} filled as the kernel's formatter does (tests/sim/dictionaries.mjs's fill takes no specs). */
const render = (template, ...args) => template.replace(/\{(\d)(?::x(\d))?\}/g, (_, i, digits) => (
  digits ? (args[Number(i)] >>> 0).toString(16).padStart(Number(digits), '0').slice(-Number(digits)) : String(args[Number(i)])));

const run = (model, commands, extra = {}) => boot({ input: [...commands.map((c) => `${c}\r`), 'exit\r'], devices: model.devices, ...extra });

// Test kernel: the ECAM window QEMU q35's MCFG describes (0xB0000000, segment 0, buses 0-255),
// set where the access method is chosen, independent of the ACPI parser.
let ecamKernel;
const ecamModule = () => (ecamKernel ??= variantModule('pci-ecam', [{
  file: 'drivers/pci/config.ts',
  from: 'export const pciAccessInit = () => {\n',
  to: 'export const pciAccessInit = () => {\n  facts.ecamCount = 1; facts.ecamSegment[0] = 0; facts.ecamBaseLo[0] = 0xb0000000; facts.ecamBaseHi[0] = 0; facts.ecamStartBus[0] = 0; facts.ecamEndBus[0] = 255;\n',
}]));

const Q35_LIST = [
  '00:00.0 8086:29c0 class 060000 header 00 host bridge',
  '00:01.0 1234:1111 class 030000 header 00 VGA compatible controller',
  '00:02.0 1af4:1001 class 010000 header 00 SCSI storage controller',
  '00:03.0 1b36:000c class 060400 header 01 PCI bridge',
  '00:1f.0 8086:2918 class 060100 header 80 ISA bridge',
  '00:1f.2 8086:2922 class 010601 header 00 SATA controller',
  '00:1f.3 8086:2930 class 0c0500 header 00 SMBus controller',
  '01:00.0 1af4:1041 class 020000 header 00 Ethernet controller',
];

test('pci lists every function of q35 through ports 0xCF8/0xCFC when ACPI has no MCFG', () => {
  const model = q35Pci();
  const m = run(model, ['pci']);
  assert.deepEqual(outputOf(m, 'pci'), [
    'Configuration access: I/O ports 0xCF8/0xCFC (no ECAM window for segment 0 in ACPI MCFG)',
    ...Q35_LIST,
    '8 functions on 2 buses',
  ]);
  assert.ok(model.portReads > 100, `${model.portReads} CONFIG_DATA reads`);
  assert.equal(model.ecamReads + model.ecamWrites, 0, 'ECAM was not used');
});

test('ECAM and ports 0xCF8/0xCFC give the same enumeration of the same bus', () => {
  const viaPorts = q35Pci();
  const viaEcam = q35Pci();
  const a = run(viaPorts, ['pci -v']);
  const b = run(viaEcam, ['pci -v'], { module: ecamModule() });
  const portsOut = outputOf(a, 'pci -v');
  const ecamOut = outputOf(b, 'pci -v');
  assert.equal(ecamOut[0], 'Configuration access: ECAM at 0x00000000b0000000 (ACPI MCFG, segment 0, buses 0-255)');
  assert.equal(portsOut[0], 'Configuration access: I/O ports 0xCF8/0xCFC (no ECAM window for segment 0 in ACPI MCFG)');
  assert.deepEqual(ecamOut.slice(1), portsOut.slice(1));
  assert.ok(ecamOut.length > 60, ecamOut.join('\n'));
  assert.deepEqual(ecamOut.filter((l) => /^[0-9a-f]{2}:/.test(l)), Q35_LIST);
  assert.equal(viaEcam.portReads + viaEcam.portWrites, 0, 'the ports were not used');
  assert.ok(viaEcam.ecamReads > 100);
});

test('with the ACPI tables of QEMU q35, pci uses the ECAM window from MCFG', () => {
  const model = q35Pci();
  const m = run(model, ['pci'], machineOptions('qemu-q35-intel-iommu-smp4'));
  const out = outputOf(m, 'pci');
  assert.equal(out[0], 'Configuration access: ECAM at 0x00000000b0000000 (ACPI MCFG, segment 0, buses 0-255)');
  assert.deepEqual(out.slice(1, 9), Q35_LIST);
  assert.equal(model.portReads, 0);
});

test('BARs: 32-bit, 64-bit, prefetchable, I/O and ROM decoded with their sizes', () => {
  const model = q35Pci();
  const m = run(model, ['pci 00:01.0', 'pci 0:2.0', 'pci 00:1f.2', 'pci 00:1f.3', 'pci 01:00.0']);
  const bars = (cmd) => outputOf(m, cmd).filter((l) => /^ {4}(BAR|ROM)/.test(l));
  assert.deepEqual(bars('pci 00:01.0'), [
    '    BAR0 mem32 pref 0x80000000 size 16 MiB',
    '    BAR2 mem32      0x81010000 size 4 KiB',
    '    ROM  (disabled)  0x81000000 size 64 KiB',
  ]);
  assert.deepEqual(bars('pci 0:2.0'), [
    '    BAR0 io         0x6000 size 128 B',
    '    BAR1 mem32      0x81011000 size 4 KiB',
    '    BAR4 mem64 pref 0x0000000800000000 size 16 KiB',
  ]);
  assert.deepEqual(bars('pci 00:1f.2'), ['    BAR4 io         0x60c0 size 32 B', '    BAR5 mem32      0x81013000 size 4 KiB']);
  assert.deepEqual(bars('pci 00:1f.3'), ['    BAR4 io         0x6080 size 64 B']);
  assert.deepEqual(bars('pci 01:00.0'), ['    BAR1 mem32      0x80c00000 size 4 KiB', '    BAR4 mem64 pref 0x0000000800004000 size 16 KiB']);
});

test('BARs: sizes of 4 GiB and more, 16-bit I/O decoders, an enabled ROM', () => {
  const model = pciModel([{
    bus: 0, dev: 4, fn: 0, vendor: 0x10de, device: 0x2230, classCode: 0x030200, command: 0x0007,
    bars: [
      { kind: 'mem64', size: 2n ** 33n, base: 0x4000000000n, prefetch: true }, null,
      { kind: 'mem64', size: 2n ** 32n, base: 0x5100000000n },
      null,
      { kind: 'io', size: 0x100, base: 0xe000, decode16: true },
      { kind: 'mem32', size: 1 << 31, base: 0x80000000 },
    ],
    rom: { size: 0x80000, base: 0xfe000000, enabled: true },
  }]);
  const m = run(model, ['pci -v']);
  assert.deepEqual(outputOf(m, 'pci -v').filter((l) => /^ {4}(BAR|ROM)/.test(l)), [
    '    BAR0 mem64 pref 0x0000004000000000 size 8 GiB',
    '    BAR2 mem64      0x0000005100000000 size 4 GiB',
    '    BAR4 io         0xe000 size 256 B',
    '    BAR5 mem32      0x80000000 size 2 GiB',
    '    ROM  (enabled)   0xfe000000 size 512 KiB',
  ]);
  assert.deepEqual(model.violations, []);
  assert.deepEqual(model.functions[0].snapshot(), model.functions[0].initial);
});

test('sizing restores every BAR and Command register, and probes BARs only with decoding off', () => {
  const model = q35Pci();
  run(model, ['pci', 'pci -v', 'pci 01:00.0']);
  assert.ok(model.barWrites >= 3 * 2 * 20, `only ${model.barWrites} BAR writes: were the BARs sized?`);
  assert.deepEqual(model.violations, []);
  for (const f of model.functions) assert.deepEqual(f.snapshot(), f.initial, `${f.bus}:${f.dev}.${f.fn}`);
  // decoding is back on where the firmware had it on
  assert.equal(model.fn(0, 2, 0).command, 0x0007);
  assert.equal(model.fn(0, 0x1f, 3).command, 0x0001);
});

test('the model catches a kernel that sizes BARs with decoding left on', () => {
  const careless = variantModule('pci-decode-on', [{
    file: 'drivers/pci/bars.ts',
    from: '  if (decode !== 0) pciWrite32(f, COMMAND, command - decode);\n',
    to: '',
  }]);
  const model = q35Pci();
  run(model, ['pci'], { module: careless });
  assert.ok(model.violations.some((v) => v.startsWith('00:02.0 BAR0 written with 0xffffffff while decoding')), model.violations.join('\n'));
});

test('capabilities: PM, MSI, PCI Express, MSI-X and the virtio 1.x vendor capabilities decoded', () => {
  const model = q35Pci();
  const m = run(model, ['pci 01:00.0', 'pci 00:03.0', 'pci 00:1f.2']);
  const caps = (cmd) => outputOf(m, cmd).filter((l) => /^ {4}(capability|    )/.test(l));
  assert.deepEqual(caps('pci 01:00.0'), [
    '    capability 0xdc: MSI-X (ID 0x11)',
    '        table size 3, table in BAR1 at offset 0x00000000',
    '        pending bit array in BAR1 at offset 0x00000800, disabled',
    '    capability 0xc8: vendor-specific (ID 0x09)',
    '        virtio PCI configuration access: BAR0 offset 0x00000000 length 0',
    '    capability 0xb4: vendor-specific (ID 0x09)',
    '        virtio notifications: BAR4 offset 0x00003000 length 4096, notify_off_multiplier 4',
    '    capability 0xa4: vendor-specific (ID 0x09)',
    '        virtio device configuration: BAR4 offset 0x00002000 length 4096',
    '    capability 0x94: vendor-specific (ID 0x09)',
    '        virtio ISR status: BAR4 offset 0x00001000 length 4096',
    '    capability 0x84: vendor-specific (ID 0x09)',
    '        virtio common configuration: BAR4 offset 0x00000000 length 4096',
    '    capability 0x7c: Power Management (ID 0x01)',
    '        version 3, power state D0',
    '    capability 0x40: PCI Express (ID 0x10)',
    '        version 2, PCI Express endpoint',
  ]);
  assert.deepEqual(caps('pci 00:03.0'), [
    '    capability 0x54: PCI Express (ID 0x10)',
    '        version 2, root port',
    '    capability 0x48: MSI-X (ID 0x11)',
    '        table size 1, table in BAR0 at offset 0x00000000',
    '        pending bit array in BAR0 at offset 0x00000800, disabled',
    '    capability 0x40: bridge subsystem vendor ID (ID 0x0d)',
  ]);
  assert.deepEqual(caps('pci 00:1f.2'), [
    '    capability 0x80: MSI (ID 0x05)',
    '        64-bit message address, up to 1 vectors, disabled',
    '    capability 0xa8: SATA configuration (ID 0x12)',
  ]);
  assert.ok(outputOf(m, 'pci 00:03.0').includes('    buses: primary 0, secondary 1, subordinate 1'));
});

test('virtio capabilities: shared memory, unknown types, short ones; vendor capabilities of other vendors', () => {
  const model = pciModel([
    {
      bus: 0, dev: 5, fn: 0, vendor: 0x1af4, device: 0x105a, classCode: 0x018000,
      bars: [null, null, { kind: 'mem64', size: 2n ** 34n, base: 0x6000000000n, prefetch: true }],
      caps: [
        { at: 0x40, ...virtioCap(VIRTIO.sharedMemory, 2, 0, 0, { shmId: 1, offsetHi: 1, lengthHi: 2 }) },
        { at: 0x58, ...virtioCap(7, 2, 0x100, 0x200) },
        { at: 0x68, id: 0x09, bytes: [12, VIRTIO.notify, 4, 0, 0, 0, 0, 0, 0, 0] },
        { at: 0x80, ...msixCap({ tableSize: 2048, tableBir: 2, tableOffset: 0x10000, pbaBir: 2, pbaOffset: 0x18000, enabled: true }) },
      ],
    },
    {
      bus: 0, dev: 6, fn: 0, vendor: 0x8086, device: 0x1234, classCode: 0x088000,
      caps: [{ at: 0x40, ...virtioCap(VIRTIO.common, 0, 0, 0x1000) }],
    },
  ]);
  const m = run(model, ['pci -v']);
  const out = outputOf(m, 'pci -v');
  for (const line of [
    '00:05.0 1af4:105a class 018000 header 00 mass storage controller',
    '        virtio shared memory region 1: BAR2 offset 0x0000000100000000',
    '        length 0x0000000200000000',
    '        virtio cfg_type 7: BAR2 offset 0x00000100 length 512',
    '        virtio capability of cfg_type 2 is too short (cap_len 12); not decoded',
    '        table size 2048, table in BAR2 at offset 0x00010000',
    '        pending bit array in BAR2 at offset 0x00018000, enabled',
    '00:06.0 8086:1234 class 088000 header 00 system peripheral',
    '        vendor-specific data, 16 bytes',
  ]) assert.ok(out.includes(line), `missing "${line}" in:\n${out.join('\n')}`);
});

/** One function with the given capability list (and whatever else `extra` says). */
const oneFunction = (extra) => pciModel([{ bus: 0, dev: 3, fn: 0, vendor: 0x1234, device: 0x5678, classCode: 0x0b4000, ...extra }]);

test('a capability pointer cycle ends the walk with an error', () => {
  const m = run(oneFunction({ caps: [{ at: 0x40, ...pmCap() }, { at: 0x50, ...msiCap(), next: 0x40 }] }), ['pci -v']);
  assert.deepEqual(outputOf(m, 'pci -v').slice(2, 7), [
    '    capability 0x40: Power Management (ID 0x01)',
    '        version 3, power state D0',
    '    capability 0x50: MSI (ID 0x05)',
    '        32-bit message address, up to 1 vectors, disabled',
    '    capability list error: the pointer at 0x51 leads back to 0x40 (a cycle); the walk stopped there',
  ]);
});

test('a capability that points to itself, and a full list of 48 entries then a cycle, end', () => {
  const self = run(oneFunction({ caps: [{ at: 0xfc, id: 0x05, bytes: [0, 0], next: 0xfc }] }), ['pci -v']);
  assert.ok(session(self).includes('capability list error: the pointer at 0xfd leads back to 0xfc (a cycle)'), session(self));
  const caps = [];
  for (let at = 0x40; at < 0x100; at += 4) caps.push({ at, id: 0x09, bytes: [4, 0] });
  caps.at(-1).next = 0x40;
  const full = run(oneFunction({ caps }), ['pci -v']);
  const out = outputOf(full, 'pci -v');
  assert.equal(out.filter((l) => l.startsWith('    capability 0x')).length, 48);
  assert.ok(out.includes('    capability list error: the pointer at 0xfd leads back to 0x40 (a cycle); the walk stopped there'), out.join('\n'));
});

test('capability pointers into the header end the walk with an error', () => {
  const fromHead = run(oneFunction({ capPtr: 0x10 }), ['pci -v']);
  assert.ok(outputOf(fromHead, 'pci -v').includes(
    '    capability list error: the pointer at 0x34 leads to 0x10, inside the header (below 0x40); the walk stopped there'), session(fromHead));
  const fromEntry = run(oneFunction({ caps: [{ at: 0x40, ...pcieCap(0), next: 0x3c }] }), ['pci -v']);
  assert.deepEqual(outputOf(fromEntry, 'pci -v').slice(2), [
    '    capability 0x40: PCI Express (ID 0x10)',
    '        version 2, PCI Express endpoint',
    '    capability list error: the pointer at 0x41 leads to 0x3c, inside the header (below 0x40); the walk stopped there',
    '1 functions on 1 buses',
  ]);
});

test('a BAR that reads all ones is left alone and reported; reserved and misplaced 64-bit BARs too', () => {
  const model = pciModel([
    {
      bus: 0, dev: 3, fn: 0, vendor: 0x1234, device: 0x0001, classCode: 0xff0000, command: 0x0003,
      bars: [{ kind: 'mem32', size: 0x1000, base: 0x90000000 }, { kind: 'mem32', size: 0x1000, base: 0x90001000 },
        { kind: 'raw', value: 0x90002000, mask: 0xfffff000, low: 0x6 }, null, null,
        { kind: 'raw', value: 0x90004000, mask: 0xfffff000, low: 0x4 }],
      allOnesBars: [1],
    },
  ]);
  const m = run(model, ['pci -v']);
  assert.deepEqual(outputOf(m, 'pci -v').slice(1), [
    '00:03.0 1234:0001 class ff0000 header 00 other class',
    '    BAR0 mem32      0x90000000 size 4 KiB',
    '    BAR1: reads 0xFFFFFFFF (the function does not decode it or does not answer); left alone',
    '    BAR2: memory type 11b is reserved; skipped',
    '    BAR5: a 64-bit BAR in the last slot has no upper half; skipped',
    '1 functions on 1 buses',
  ]);
  assert.deepEqual(model.violations, []);
  // probed (all ones, then the original back): BAR0 and the unimplemented BAR3 and BAR4; never the others
  assert.deepEqual(model.functions[0].barWriteCounts, [2, 0, 0, 2, 2, 0]);
});

test('odd BARs: I/O above 0xFFFF, holes in the size mask, a ROM BAR reading all ones', () => {
  const model = pciModel([{
    bus: 0, dev: 3, fn: 0, vendor: 0x1234, device: 0x0002, classCode: 0x078000, command: 0x0003,
    bars: [{ kind: 'io', size: 0x40, base: 0x10040 }, { kind: 'raw', value: 0x90000000, mask: 0xf0f0f000, low: 0 }],
    allOnesBars: [6],
  }]);
  const m = run(model, ['pci -v']);
  assert.deepEqual(outputOf(m, 'pci -v').slice(1), [
    '00:03.0 1234:0002 class 078000 header 00 communication controller',
    '    BAR0 io         0x00010040 (above 0xFFFF: x86 cannot reach it) size 64 B',
    '    BAR1 mem32      0x90000000 size 4 KiB',
    '    BAR1: its writable address bits are not contiguous; the size above comes from the lowest one',
    '    ROM: reads 0xFFFFFFFF (the function does not decode it or does not answer); left alone',
    '1 functions on 1 buses',
  ]);
  assert.deepEqual(model.violations, []);
});

test('MCFG windows: an unusable one is skipped and said so; a window ending at bus 0 keeps bridges from leaving it', () => {
  const module = variantModule('pci-ecam-odd', [{
    file: 'drivers/pci/config.ts',
    from: 'export const pciAccessInit = () => {\n',
    to: 'export const pciAccessInit = () => {\n  facts.ecamCount = 2; facts.ecamSegment[0] = 0; facts.ecamBaseLo[0] = 0xb0000800; facts.ecamBaseHi[0] = 0; facts.ecamStartBus[0] = 0; facts.ecamEndBus[0] = 255;\n'
      + '  facts.ecamSegment[1] = 0; facts.ecamBaseLo[1] = 0xb0000000; facts.ecamBaseHi[1] = 0; facts.ecamStartBus[1] = 0; facts.ecamEndBus[1] = 0;\n',
  }]);
  const model = q35Pci();
  const out = outputOf(run(model, ['pci'], { module }), 'pci');
  assert.deepEqual(out.slice(0, 2), [
    'An MCFG window for segment 0 at 0x00000000b0000800 is not usable (base zero or not 1 MiB aligned, or no buses) and was skipped',
    'Configuration access: ECAM at 0x00000000b0000000 (ACPI MCFG, segment 0, buses 0-0)',
  ]);
  assert.ok(out.includes('Bridge 00:03.0: subordinate bus 1 lies outside the buses its own bus was reached through; not followed'), out.join('\n'));
  assert.equal(out.at(-1), '7 functions on 1 buses');
});

test('a chain of bridges claiming all 255 buses below ends: each bus once, the bad bridge reported', () => {
  const specs = [];
  for (let bus = 0; bus < 256; bus++) {
    specs.push({ bus, dev: 0, fn: 0, vendor: 0x8086, device: 0x244e, classCode: 0x060400, headerType: 1, buses: [bus, (bus + 1) & 0xff, 255] });
  }
  const model = pciModel(specs);
  const m = run(model, ['pci']);
  const out = outputOf(m, 'pci');
  assert.equal(out.filter((l) => /^[0-9a-f]{2}:00\.0 8086:244e class 060400 header 01 PCI bridge$/.test(l)).length, 256);
  assert.ok(out.includes('Bridge ff:00.0: secondary bus 0 is not above its own bus; not followed'), out.slice(-3).join('\n'));
  assert.equal(out.at(-1), '256 functions on 256 buses');
});

test('more functions than the table holds: the scan stops and says where', () => {
  const specs = [];
  for (let bus = 0; bus < 9; bus++) {
    for (let dev = 0; dev < 32; dev++) {
      if (dev === 0 && bus < 8) specs.push({ bus, dev, fn: 0, vendor: 0x8086, device: 0x244e, classCode: 0x060400, headerType: 1, buses: [bus, bus + 1, 8] });
      else specs.push({ bus, dev, fn: 0, vendor: 0x1af4, device: 0x1041, classCode: 0x020000 });
    }
  }
  const m = run(pciModel(specs), ['pci']);
  const out = outputOf(m, 'pci');
  assert.ok(out.includes('More than 256 PCI functions: the scan stopped at 08:00.0'), out.slice(-3).join('\n'));
  assert.equal(out.at(-1), '256 functions on 9 buses');
});

test('a device answering on every bus, overlapping bridges and unknown headers are reported, not followed', () => {
  const alias = pciModel([
    { bus: 0, dev: 1, fn: 0, vendor: 0x1b36, device: 0x000c, classCode: 0x060400, headerType: 1, buses: [0, 1, 255] },
    { bus: 1, dev: 0, fn: 0, vendor: 0x1b36, device: 0x000e, classCode: 0x060400, headerType: 1, buses: [1, 2, 255] },
  ], { aliasFrom: 1 });
  const a = outputOf(run(alias, ['pci']), 'pci');
  assert.deepEqual(a.slice(1), [
    '00:01.0 1b36:000c class 060400 header 01 PCI bridge',
    '01:00.0 1b36:000e class 060400 header 01 PCI bridge',
    '02:00.0 1b36:000e class 060400 header 01 PCI bridge',
    'Bridge 02:00.0: secondary bus 2 is not above its own bus; not followed',
    '3 functions on 3 buses',
  ]);
  const odd = pciModel([
    { bus: 0, dev: 1, fn: 0, vendor: 0x1b36, device: 0x000c, classCode: 0x060400, headerType: 1, buses: [0, 1, 4] },
    { bus: 0, dev: 2, fn: 0, vendor: 0x1b36, device: 0x000c, classCode: 0x060400, headerType: 1, buses: [0, 3, 3] },
    { bus: 0, dev: 3, fn: 0, vendor: 0x1b36, device: 0x000c, classCode: 0x060400, headerType: 1, buses: [0, 6, 5] },
    { bus: 0, dev: 4, fn: 0, vendor: 0x1b36, device: 0x000c, classCode: 0x060400, headerType: 1, buses: [0, 0, 0] },
    { bus: 0, dev: 5, fn: 0, vendor: 0x1234, device: 0x7f7f, classCode: 0xff0000, headerType: 0x7f },
    { bus: 1, dev: 0, fn: 0, vendor: 0x1b36, device: 0x000c, classCode: 0x060400, headerType: 1, buses: [1, 2, 9] },
  ]);
  const o = outputOf(run(odd, ['pci']), 'pci');
  for (const line of [
    'Bridge 00:02.0: buses from 3 on are already claimed by another bridge; not followed',
    'Bridge 00:03.0: subordinate bus 5 is below its secondary bus; not followed',
    'Bridge 00:04.0 has no bus numbers assigned; not followed',
    '00:05.0: unknown header layout 127; its BARs and capabilities were not read',
    'Bridge 01:00.0: subordinate bus 9 lies outside the buses its own bus was reached through; not followed',
    '6 functions on 2 buses',
  ]) assert.ok(o.includes(line), `missing "${line}" in:\n${o.join('\n')}`);
});

test('multi-function devices: functions 1-7 only when function 0 says so', () => {
  const model = pciModel([
    { bus: 0, dev: 1, fn: 0, vendor: 0x8086, device: 0x1111, classCode: 0x0c0300 },
    { bus: 0, dev: 1, fn: 3, vendor: 0x8086, device: 0x2222, classCode: 0x0c0300 },
    { bus: 0, dev: 2, fn: 0, vendor: 0x8086, device: 0x3333, classCode: 0x040300, multi: true },
    { bus: 0, dev: 2, fn: 7, vendor: 0x8086, device: 0x4444, classCode: 0x070000 },
  ]);
  const out = outputOf(run(model, ['pci']), 'pci');
  assert.deepEqual(out.slice(1), [
    '00:01.0 8086:1111 class 0c0300 header 00 USB controller',
    '00:02.0 8086:3333 class 040300 header 80 audio device',
    '00:02.7 8086:4444 class 070000 header 00 serial controller',
    '3 functions on 1 buses',
  ]);
});

test('pci arguments: an address, bad addresses, unknown options, too many words', () => {
  const model = q35Pci();
  const m = run(model, ['pci 00:1F.3', 'pci 00:1f.7', 'pci 1:0', 'pci 00:20.0', 'pci 100:00.0', 'pci zz:00.0', 'pci -x', 'pci -v -v', 'pci 0:2.0 0:3.0', 'pci -v 0:2.0 x']);
  const s = session(m);
  assert.deepEqual(outputOf(m, 'pci 00:1F.3'), [
    'Configuration access: I/O ports 0xCF8/0xCFC (no ECAM window for segment 0 in ACPI MCFG)',
    '00:1f.3 8086:2930 class 0c0500 header 00 SMBus controller',
    '    BAR4 io         0x6080 size 64 B',
  ]);
  assert.deepEqual(outputOf(m, 'pci 00:1f.7').slice(1), ['pci: no function at 00:1f.7']);
  for (const bad of ['1:0', '00:20.0', '100:00.0', 'zz:00.0']) {
    assert.ok(s.includes(`> pci ${bad}\r\npci: "${bad}" is not a function address; write bus:device.function in hex, for example 00:1f.2\r\n`), bad);
  }
  assert.ok(s.includes('> pci -x\r\npci: unexpected argument "-x". Usage: pci [-v] [bus:device.function]\r\n'));
  assert.ok(s.includes('> pci -v -v\r\npci: unexpected argument "-v". Usage: pci [-v] [bus:device.function]\r\n'));
  assert.ok(s.includes('> pci 0:2.0 0:3.0\r\npci: unexpected argument "0:3.0". Usage: pci [-v] [bus:device.function]\r\n'));
  assert.ok(s.includes('> pci -v 0:2.0 x\r\npci: unexpected argument "x". Usage: pci [-v] [bus:device.function]\r\n'));
});

test('pci speaks Japanese and Chinese: errors, rows, details', () => {
  const { ja, zh } = dicts;
  const m = run(q35Pci(), ['lang ja', 'pci 1:0', 'pci 00:1f.3', 'lang zh', 'pci 00:1f.7', 'pci']);
  const s = session(m);
  for (const text of [
    fill(ja['pci.badAddress'], '1:0'),
    ja['pci.access.ports'],
    '00:1f.3 ' + render(ja['pci.row'], 0x8086, 0x2930, 0x0c0500, 0) + ja['pci.class.0c05'],
    render(ja['pci.bar.io'], 4, 0x6080) + '64 B',
    fill(zh['pci.notFound'], '00:1f.7'),
    '00:1f.2 ' + render(zh['pci.row'], 0x8086, 0x2922, 0x010601, 0) + zh['pci.class.0106'],
    fill(zh['pci.summary'], 8, 2),
  ]) assert.ok(s.includes(text + '\r\n'), `missing ${JSON.stringify(text)} in:\n${s}`);
});

test('running pci -v again and again does not grow the Wasm memory', () => {
  const few = run(q35Pci(), new Array(3).fill('pci -v'));
  const many = run(q35Pci(), new Array(40).fill('pci -v'));
  assert.equal(many.serialText.split('8 functions on 2 buses').length - 1, 40);
  assert.equal(many.memoryBytes, few.memoryBytes);
});

// A test kernel whose main uses the driver API the way a device driver will (the console
// does not reach all of it, and esbuild drops what nothing calls).
const API_MAIN = `
import { outputInit, say } from './console/output';
import { pciEnsureScanned } from '../drivers/pci/enumerate';
import { pciFindDevice, pciRead32, pciWrite32, pciBus, pciDev, pciFn } from '../drivers/pci/functions';
import { pciBarBaseHi, pciBarBaseLo, pciBarSizeHi, pciBarSizeLo } from '../drivers/pci/bars';
import { pciFindCap, pciCapOffset, pciFindVirtioCap, pciMsixRead, msixFields, virtioFields } from '../drivers/pci/caps';
export const main = () => {
  outputInit();
  pciEnsureScanned();
  const net = pciFindDevice(0x1af4, 0x1041, 0);
  say('pci.bdf', pciBus(net), pciDev(net), pciFn(net));
  say('pci.summary', pciFindDevice(0x1af4, 0x1041, net + 1), pciFindDevice(0x1af4, 0x1001, 0));
  say('pci.cap.virtioShm', 4, 4, pciBarBaseHi(net, 4), pciBarBaseLo(net, 4));
  say('pci.cap.virtioShmLength', pciBarSizeHi(net, 4), pciBarSizeLo(net, 4));
  const notify = pciFindVirtioCap(net, 2);
  say('pci.cap.virtioNotify', virtioFields[2], virtioFields[4], virtioFields[6], virtioFields[8]);
  say('pci.cap.virtio', notify, pciFindVirtioCap(net, 1), virtioFields[4], pciFindVirtioCap(net, 8));
  pciMsixRead(net, pciCapOffset(net, pciFindCap(net, 0x11, 0)));
  say('pci.cap.msixTable', msixFields[0], msixFields[5], msixFields[6]); // table size, PBA BIR and offset
  pciWrite32(net, 4, (pciRead32(net, 4) & 0xffff) | 4);
  say('pci.summary', pciRead32(net, 4) & 0xffff, pciFindVirtioCap(pciFindDevice(0x8086, 0x2922, 0), 1));
};
`;

test('the driver API: find a function by vendor:device, BAR base and size, virtio and MSI-X capabilities, config writes', () => {
  const module = variantModule('pci-api', [{ file: 'kernel/main.ts', from: /^[\s\S]*$/, to: API_MAIN }]);
  const model = q35Pci();
  const m = boot({ module, devices: model.devices });
  assert.deepEqual(m.serialText.split('\r\n').slice(0, 8), [
    '01:00.0 ',
    '-1 functions on 2 buses', // no second 1af4:1041; the transitional virtio-blk 1af4:1001 is entry 2
    '        virtio shared memory region 4: BAR4 offset 0x0000000800004000',
    '        length 0x0000000000004000',
    '        virtio notifications: BAR4 offset 0x00003000 length 4096, notify_off_multiplier 4',
    '        virtio 180: BAR132 offset 0x00000000 length -1', // notify at 0xb4, common at 0x84, no shared memory
    '        table size 3, table in BAR1 at offset 0x00000800',
    '6 functions on -1 buses', // Command now 0x0006 (bus master set); AHCI is no virtio device
  ]);
  assert.equal(model.fn(1, 0, 0).command, 0x0006);
});

test('the q35 model is what the tests claim: QEMU IDs, multi-function ISA bridge, virtio-net behind a root port', () => {
  const fns = q35Functions();
  assert.deepEqual(fns.map((f) => [f.bus, f.dev, f.fn, f.vendor.toString(16), f.device.toString(16)]), [
    [0, 0, 0, '8086', '29c0'], [0, 1, 0, '1234', '1111'], [0, 2, 0, '1af4', '1001'], [0, 3, 0, '1b36', 'c'],
    [1, 0, 0, '1af4', '1041'], [0, 31, 0, '8086', '2918'], [0, 31, 2, '8086', '2922'], [0, 31, 3, '8086', '2930'],
  ]);
  const model = q35Pci();
  // the model itself: absent functions, sizing semantics, ports and ECAM agree
  const [ecam, ports] = model.devices;
  assert.equal(ecam.mmio.read32((0 << 20) | (5 << 15)), 0xffffffff);
  ports.io.out32(0xcf8, 0x80000000 | (2 << 11) | 0x10);
  assert.equal(ports.io.in32(0xcfc), 0x6001);
  assert.equal(ecam.mmio.read32((2 << 15) | 0x0c) >>> 16 & 0xff, 0x00);
  assert.equal(ecam.mmio.read32((31 << 15) | 0x0c) >>> 16 & 0xff, 0x80);
});
