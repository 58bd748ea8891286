// The boot shim and the freestanding Wasm runtime, booted for real under QEMU + OVMF:
// a test kernel (tests/fixtures/kernels/fault.ts) ends in each kind of fatal error and
// the fault screen must name it, show the last log lines, and end the run non-zero.
// Also: an unchanged tree is not rebuilt.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const faultBuild = 'build/test-fault-kernel';
const make = (...args) => spawnSync('make', ['--no-print-directory', ...args], { cwd: root, encoding: 'utf8' });

before(() => {
  const r = make(`B=${faultBuild}`, 'KERNEL_ENTRY=tests/fixtures/kernels/fault.ts');
  assert.equal(r.status, 0, `building the fault kernel failed:\n${r.stdout}${r.stderr}`);
});

const bootWith = (scriptText) => {
  const dir = mkdtempSync(join(tmpdir(), 'zv-shim-'));
  writeFileSync(join(dir, 'startup.zv'), scriptText);
  const r = spawnSync(join(root, 'toolchain/uefi-run'), ['--timeout', '90', '--script', join(dir, 'startup.zv'), join(root, faultBuild, 'zerovisor.efi')], { encoding: 'utf8' });
  return { code: r.status, out: r.stdout, err: r.stderr };
};

const faultScreen = (out) => {
  const at = out.indexOf('*** ZEROVISOR FAULT ***');
  assert.ok(at >= 0, `no fault screen in:\n${out}`);
  return out.slice(at);
};

for (const [key, reason] of [
  ['o', 'wasm trap: out-of-bounds memory access (OOB)'],
  ['t', 'wasm trap: uncaught exception (UNCAUGHT_EXCEPTION)'],
  ['f', 'kernel fatal error: fault-kernel asked for a fatal stop'],
]) {
  test(`fault screen for "${reason}"`, () => {
    const { code, out } = bootWith(`${key}\n`);
    assert.match(out, /fault-kernel: about to fault/);
    const screen = faultScreen(out);
    assert.ok(screen.includes(reason), `reason missing:\n${screen}`);
    const lines = screen.split(/\r?\n/);
    const logAt = lines.indexOf('last log lines:');
    assert.deepEqual(lines.slice(logAt + 1, logAt + 3), ['  fault-kernel: first log line', '  fault-kernel: second log line']);
    assert.match(screen, /halted\.\r?\nZEROVISOR-EXIT 70/);
    assert.equal(code, 70, 'a fault ends the run with exit code 70');
  });
}

test('a kernel that does not fault ends with its own exit code', () => {
  const { code, out } = bootWith('none\n');
  assert.match(out, /fault-kernel: no fault chosen/);
  assert.ok(!out.includes('ZEROVISOR FAULT'));
  assert.equal(code, 9);
});

test('an unchanged tree is not rebuilt', () => {
  const r = make('-n', `B=${faultBuild}`, 'KERNEL_ENTRY=tests/fixtures/kernels/fault.ts');
  assert.equal(r.status, 0);
  assert.match(r.stdout.trim(), /^make(\[\d+\])?: Nothing to be done for 'all'\.$/, `make would run:\n${r.stdout}`);
});
