// Platform discovery on real emulated machines: build/zerovisor.efi under QEMU + OVMF
// (q35 with intel-iommu and 4 CPUs; with amd-iommu and 1 CPU and 4 GiB) and under Bochs
// corei7_skylake_x (VMX with EPT, no ACPI tables), driven by startup.zv.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const efi = join(root, 'build/zerovisor.efi');
const PROMPT = 'zerovisor> ';

before(() => {
  const r = spawnSync('make', ['--no-print-directory', 'build/zerovisor.efi'], { cwd: root, encoding: 'utf8' });
  assert.equal(r.status, 0, `make failed:\n${r.stdout}${r.stderr}`);
});

const runScript = (runner, lines, extra = [], qemuArgs = []) => {
  const dir = mkdtempSync(join(tmpdir(), 'zv-platform-'));
  writeFileSync(join(dir, 'startup.zv'), lines.join('\n') + '\n');
  const args = ['--timeout', '240', '--script', join(dir, 'startup.zv'), ...extra, efi];
  if (qemuArgs.length) args.push('--', ...qemuArgs);
  const r = spawnSync(join(root, 'toolchain', runner), args, { encoding: 'utf8', maxBuffer: 16 << 20 });
  return { code: r.status, out: r.stdout, err: r.stderr };
};

/** What command `cmd` printed: from its echo to the next prompt. */
const section = (out, cmd) => {
  const at = out.indexOf(PROMPT + cmd + '\r\n');
  assert.ok(at >= 0, `command "${cmd}" was not echoed:\n${out}`);
  const rest = out.slice(at + PROMPT.length + cmd.length + 2);
  const end = rest.indexOf(PROMPT);
  return end < 0 ? rest : rest.slice(0, end);
};

const capsJson = (out) => JSON.parse(section(out, 'caps --json').trim());

/**
 * The TSC frequency `time` shows and the one in `caps --json`: the same value, and plausible
 * for an x86 processor (0.5-10 GHz); 0 (calibration failed) or nonsense fails.
 */
const checkTscMHz = (out, source) => {
  const time = section(out, 'time');
  const shown = new RegExp(`TSC frequency: (\\d+\\.\\d{3}) MHz, ${source}`).exec(time);
  assert.ok(shown, time);
  const mhz = Number(shown[1]);
  assert.ok(mhz >= 500 && mhz <= 10000, `a plausible TSC frequency: ${mhz} MHz`);
  assert.ok(Math.abs(capsJson(out).tsc.hz / 1e6 - mhz) < 0.001, `caps says ${capsJson(out).tsc.hz} Hz, time ${mhz} MHz`);
  return mhz;
};

const NET = ['-netdev', 'user,id=n0', '-device', 'virtio-net-pci,netdev=n0,disable-legacy=on'];

test('QEMU q35 + intel-iommu, 4 CPUs: SVM with NPT, the DMAR unit at 0xfed90000, 4 CPUs, PCI with virtio-net', () => {
  const { code, out } = runScript('uefi-run', ['caps --json', 'acpi', 'acpi dmar', 'cpus', 'pci', 'pci 00:03.0', 'time', 'mem alloc 1 2m', 'wdog 30', 'wdog off', 'exit 0'], [],
    ['-machine', 'q35,kernel-irqchip=split', '-device', 'intel-iommu,intremap=on', '-smp', '4', ...NET]);
  assert.equal(code, 0, `exit code; output:\n${out}`);

  const caps = capsJson(out);
  assert.equal(caps.vendor, 'amd');
  assert.equal(caps.svm.supported, true);
  assert.equal(caps.svm.nestedPaging, true);
  assert.equal(caps.virtualization, 'svm');
  assert.equal(caps.iommu.vtd, 1);
  assert.equal(caps.acpi, true);
  assert.equal(caps.cpus, 4);
  assert.equal(caps.tsc.source, 'pm-timer');

  const acpi = section(out, 'acpi');
  for (const sig of ['XSDT', 'FACP', 'APIC', 'HPET', 'MCFG', 'DMAR', 'DSDT']) assert.match(acpi, new RegExp(`^  ${sig} +0x[0-9a-f]{16} +\\d+ +\\d+ +\\S+ +ok\\r?$`, 'm'), `${sig} listed with a good checksum`);
  assert.match(acpi, / 0 problems\./);

  const dmar = section(out, 'acpi dmar');
  assert.match(dmar, /DRHD: segment 0, registers at 0x00000000fed90000/);
  assert.match(dmar, /interrupt remapping \(INTR_REMAP\): yes/);
  assert.match(dmar, /device scope: I\/O APIC/);
  assert.match(dmar, /device scope: PCI endpoint, .* path 03\.0/, 'the virtio-net function is in a device scope');

  const cpus = section(out, 'cpus');
  assert.equal(cpus.match(/^ +\d+ +xAPIC +enabled +\d+\r?$/gm)?.length, 4, cpus);
  assert.match(cpus, /^4 processors/m);

  const pci = section(out, 'pci');
  assert.match(pci, /ECAM at 0x00000000b0000000/);
  assert.match(pci, /^00:00\.0 8086:29c0 class 060000 /m);
  assert.match(pci, /^00:03\.0 1af4:1041 class 020000 .*Ethernet controller/m);
  assert.match(pci, /^00:1f\.2 8086:2922 class 010601 /m);

  const net = section(out, 'pci 00:03.0');
  assert.match(net, /MSI-X/);
  assert.match(net, /virtio common configuration: BAR\d offset/);
  assert.match(net, /virtio notifications: BAR\d offset 0x[0-9a-f]{8} length \d+, notify_off_multiplier \d+/);

  checkTscMHz(out, 'from the ACPI PM timer');
  const at = Number.parseInt(section(out, 'mem alloc 1 2m').match(/at 0x([0-9a-f]{16}), zeroed/)[1], 16);
  assert.equal(at % (2 << 20), 0);
  assert.match(section(out, 'wdog 30'), /Watchdog armed/);
  assert.match(section(out, 'wdog off'), /Watchdog disarmed/);
});

test('QEMU q35 + amd-iommu, 1 CPU, 4 GiB: the IVRS unit at 0xfed80000, one CPU, a 1 GiB page from the firmware', () => {
  const { code, out } = runScript('uefi-run', ['caps --json', 'acpi ivrs', 'cpus', 'mem alloc 262144 1g', 'exit 0'], [],
    ['-machine', 'q35', '-device', 'amd-iommu', '-smp', '1', '-m', '4G', ...NET]);
  assert.equal(code, 0, `exit code; output:\n${out}`);
  const caps = capsJson(out);
  assert.equal(caps.iommu.amdVi, 1);
  assert.equal(caps.iommu.vtd, 0);
  assert.equal(caps.cpus, 1);
  assert.match(section(out, 'acpi ivrs'), /0x00000000fed80000/);
  assert.match(section(out, 'cpus'), /^1 processors? /m);
  const at = Number.parseInt(section(out, 'mem alloc 262144 1g').match(/at 0x([0-9a-f]{16}), zeroed/)[1], 16);
  assert.equal(at % 2 ** 30, 0, '1 GiB aligned');
});

test('Bochs corei7_skylake_x: VMX with EPT found, no ACPI tables, PCI through ports CF8/CFC, no crash', () => {
  const { code, out } = runScript('bochs-run', ['caps --json', 'acpi', 'cpus', 'pci', 'time', 'exit 5'], ['--cpu', 'corei7_skylake_x']);
  assert.equal(code, 5, `exit code; output:\n${out}`);
  const caps = capsJson(out);
  assert.equal(caps.vendor, 'intel');
  assert.equal(caps.vmx.supported, true);
  assert.equal(caps.vmx.ept, true);
  assert.equal(caps.vmx.unrestrictedGuest, true);
  assert.equal(caps.virtualization, 'vmx');
  assert.equal(caps.acpi, false);
  assert.match(out, /no ACPI tables/i);
  assert.match(section(out, 'pci'), /ports 0xCF8\/0xCFC/i);
  assert.equal(capsJson(out).tsc.source, 'cpuid-16');
  checkTscMHz(out, 'from CPUID leaf 0x16');
});
