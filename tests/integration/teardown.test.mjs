// `exit` for real: Zerovisor returns to the firmware and the firmware goes on. The runners'
// --after option boots the after-app (tests/runner/after.zig) as BOOTX64.EFI; it starts
// build/zerovisor.efi, and once Zerovisor returns it reports what it finds: StartImage's
// status, CR4.VMXE, EFER.SVME, the firmware's network interfaces (SNP handles with state
// and MAC, also as they were before Zerovisor ran) and whether an ARP request through the
// firmware's SNP gets QEMU user networking's answer. QEMU has no isa-debug-exit device
// then, so Zerovisor's teardown runs to the end, as on a real machine. Each run first
// starts a VM, so virtualization was on (SVM in QEMU -cpu EPYC, VMX in Bochs).
// Set ZEROVISOR_EFI to test another build without `make`.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildRunnerApp } from '../runner/build-app.mjs';
import { section } from './two-hosts.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const efi = process.env.ZEROVISOR_EFI ? resolve(process.env.ZEROVISOR_EFI) : join(root, 'build/zerovisor.efi');
const MAC = '52:54:00:12:34:56';
const SLIRP_GATEWAY_MAC = '52:55:0a:00:02:02'; // QEMU user networking answers for 10.0.2.2 as this
const QEMU_NIC = [
  '-netdev', 'user,id=n0',
  // bootindex: OVMF then binds the NIC (it connects only bootindex devices once any has one)
  '-device', `virtio-net-pci,disable-legacy=on,netdev=n0,mac=${MAC},bootindex=1`,
];
const RUN_A_VM = [
  'vm create hello --mem 16 --image \\hello.elf',
  'vm start hello',
  'vm wait hello --timeout 120',
];

let after;

before(() => {
  const targets = process.env.ZEROVISOR_EFI ? ['guests'] : ['build/zerovisor.efi', 'guests'];
  const r = spawnSync('make', ['--no-print-directory', ...targets], { cwd: root, encoding: 'utf8' });
  assert.equal(r.status, 0, `make failed:\n${r.stdout}${r.stderr}`);
  after = buildRunnerApp('after');
});

const runAfter = (runner, lines, extra = [], qemuArgs = []) => {
  const dir = mkdtempSync(join(tmpdir(), 'zv-teardown-'));
  writeFileSync(join(dir, 'startup.zv'), lines.join('\n') + '\n');
  const r = spawnSync(join(root, 'toolchain', runner), [
    '--timeout', '300', '--script', join(dir, 'startup.zv'), '--after', after,
    '-f', `${join(root, 'build/guests/hello.elf')}:hello.elf`, ...extra, efi,
    ...(qemuArgs.length ? ['--', ...qemuArgs] : []),
  ], { encoding: 'utf8', maxBuffer: 16 << 20 });
  return { code: r.status, out: r.stdout, err: r.stderr };
};

/** The after-app's lines with this prefix ("BEFORE: ", "AFTER: "), prefix removed. */
const facts = (out, prefix) => out.split(/\r?\n/)
  .map((l) => l.replace(/^(?:\x1b\[[0-9;=?]*[A-Za-z])+/, ''))
  .filter((l) => l.startsWith(prefix)).map((l) => l.slice(prefix.length));

const snpLines = (list) => list.filter((l) => /^SNP (handles \d+$|\d+ state |\d+ none$)/.test(l));

/** What every run must show: Zerovisor exited with `code`, and the firmware has its processor and NICs back. */
const checkReturned = (r, { code, svm, nic }) => {
  const { out } = r;
  const exitAt = out.indexOf(`ZEROVISOR-EXIT ${code}\r\n`);
  assert.ok(exitAt >= 0, 'Zerovisor printed its exit line');
  assert.ok(out.indexOf('AFTER: StartImage', exitAt) > exitAt, 'the after-app ran on after Zerovisor');
  const got = facts(out, 'AFTER: ');
  const status = code === 0 ? '0000000000000000' : (2n ** 63n + BigInt(code)).toString(16);
  assert.ok(got.includes(`StartImage 0x${status}`), `Zerovisor returned from StartImage with exit code ${code}`);
  assert.ok(got.includes('CR4.VMXE 0'), 'CR4.VMXE is clear: the processor left VMX operation');
  assert.ok(got.includes(svm ? 'EFER.SVME 0' : 'EFER.SVME n/a'), svm ? 'EFER.SVME is clear' : 'no SVM here');
  // the firmware's network interfaces are as they were before Zerovisor ran
  const beforeSnp = snpLines(facts(out, 'BEFORE: '));
  assert.deepEqual(snpLines(got), beforeSnp, 'the SNP handles, their states and MACs as before Zerovisor');
  if (nic) {
    assert.ok(beforeSnp.some((l) => l.endsWith(`MAC ${MAC}`)), beforeSnp.join('\n'));
    assert.ok(got.includes('ARP transmit 0x0000000000000000'), 'the firmware\'s SNP sends');
    assert.ok(got.includes(`ARP reply from 10.0.2.2 at ${SLIRP_GATEWAY_MAC}`), 'and receives: the gateway answered the ARP request');
  } else {
    assert.deepEqual(beforeSnp, ['SNP handles 0']);
  }
  assert.equal(r.code, code, `the runner's status is the after-app's ZEROVISOR-AFTER ${code}`);
  assert.match(out, new RegExp(`ZEROVISOR-AFTER ${code}\\r\\n`));
};

const withOutput = (r, fn) => {
  try {
    fn();
  } catch (e) {
    e.message += `\n---- output ----\n${r.out}\n---- stderr ----\n${r.err}`;
    throw e;
  }
};

test('QEMU -cpu EPYC: after a VM and `net` (Zerovisor drove the virtio-net NIC itself), `exit 0` gives back SVM off and a NIC the firmware uses', () => {
  const r = runAfter('uefi-run', [...RUN_A_VM, 'net', 'exit 0'], [], QEMU_NIC);
  withOutput(r, () => {
    assert.match(r.out, /VM 1 "hello" stopped: the guest wrote 42 to port 0xF4/);
    assert.ok(section(r.out, 'net').includes('  Taken from the firmware: its UEFI drivers were disconnected.\r\n'));
    checkReturned(r, { code: 0, svm: true, nic: true });
  });
});

test('QEMU -cpu EPYC: after a VM and the firmware\'s SNP in use (migrate listen --via snp), `exit 3` gives the SNP back', () => {
  const r = runAfter('uefi-run', [...RUN_A_VM, 'migrate listen --via snp', 'migrate abort', 'net', 'exit 3'], [], QEMU_NIC);
  withOutput(r, () => {
    assert.match(section(r.out, 'net'), new RegExp(`^snp0 .*in use for migration: MAC ${MAC}, link up`, 'm'));
    checkReturned(r, { code: 3, svm: true, nic: true });
  });
});

test('Bochs corei7_skylake_x: after a VM under VMX, `exit 0` leaves VMX operation (CR4.VMXE clear)', () => {
  const r = runAfter('bochs-run', [...RUN_A_VM, 'exit 0'], ['--cpu', 'corei7_skylake_x']);
  withOutput(r, () => {
    assert.match(r.out, /VM 1 "hello" stopped: the guest wrote 42 to port 0xF4/);
    checkReturned(r, { code: 0, svm: false, nic: false });
  });
});
