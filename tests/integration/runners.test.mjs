// Integration tests for the emulator runners toolchain/uefi-run (QEMU + OVMF)
// and toolchain/bochs-run (Bochs + OVMF), driven by the probe app
// tests/runner/probe.zig (and, for --after, the after-app tests/runner/after.zig with the
// probe as the app it starts).
//
// Run from the repository root: node --test tests/integration/runners.test.mjs
// Tests in this file run one after another, so at most one emulator runs at a
// time. Do not run this file in parallel with other emulator tests.

import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { buildRunnerApp } from '../runner/build-app.mjs';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const UEFI_RUN = path.join(ROOT, 'toolchain', 'uefi-run');
const BOCHS_RUN = path.join(ROOT, 'toolchain', 'bochs-run');

// What the probe prints first; must come through byte for byte.
const GREETING = 'PROBE: hello from the runner probe / こんにちは 世界 / 你好，世界';
// What the probe prints for `cat /EFI/zv/data.txt` once data.txt is there.
const DATA_LISTING = '--- /EFI/zv/data.txt ---\r\npayload line 1\r\n数据 データ\r\n--- end ---';


let work; // scratch directory for scripts and added files
let PROBE; // build/test-runner/probe.efi
let AFTER; // build/test-runner/after.efi

/**
 * Runs a runner with a piped (non-TTY) stdin. `onOutput(text, child)` sees the
 * accumulated stdout; `env` replaces the environment. Resolves with status, signal,
 * stdout (Buffer), stderr, ms.
 */
function run(cmd, args, { onOutput, limitMs = 120_000, env = process.env } = {}) {
  return new Promise((resolve) => {
    const t0 = Date.now();
    const child = spawn(cmd, args, { cwd: work, stdio: ['pipe', 'pipe', 'pipe'], env });
    const out = [];
    let err = '';
    child.stdout.on('data', (d) => {
      out.push(d);
      if (onOutput) onOutput(Buffer.concat(out).toString('utf8'), child);
    });
    child.stderr.on('data', (d) => { err += d.toString('utf8'); });
    child.stdin.on('error', () => {});
    // Safety net so a broken runner cannot hang the test suite.
    const guard = setTimeout(() => child.kill('SIGTERM'), limitMs);
    child.on('close', (status, signal) => {
      clearTimeout(guard);
      resolve({ status, signal, stdout: Buffer.concat(out), stderr: err, ms: Date.now() - t0 });
    });
  });
}

function script(name, text) {
  const p = path.join(work, name);
  fs.writeFileSync(p, text);
  return p;
}

function assertContains(buf, text, what) {
  assert.ok(buf.includes(Buffer.from(text, 'utf8')),
    `${what}: expected ${JSON.stringify(text)} in output:\n${buf.toString('utf8')}`);
}

before(() => {
  PROBE = buildRunnerApp('probe');
  AFTER = buildRunnerApp('after');
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'zv-runner-test-'));
  fs.writeFileSync(path.join(work, 'data.txt'), 'payload line 1\n数据 データ\n');
  fs.writeFileSync(path.join(work, 'note.txt'), 'note at the root\n');
  process.on('exit', () => fs.rmSync(work, { recursive: true, force: true }));
});

// ---------------------------------------------------------------------------
// the command line both runners share (toolchain/runner-common.mjs); no emulator runs

for (const [name, runner] of [['uefi-run', UEFI_RUN], ['bochs-run', BOCHS_RUN]]) {
  test(`${name}: bad flag and missing app fail clearly (exit 125), --help`, async () => {
    let r = await run(runner, ['--bogus', PROBE]);
    assert.equal(r.status, 125);
    assert.equal(r.stderr.split('\n')[1], `Try '${name} --help'.`);
    assert.match(r.stderr, new RegExp(`^${name}: unknown option '--bogus'`));
    assert.equal(r.stdout.length, 0);

    r = await run(runner, [PROBE, PROBE]);
    assert.equal(r.status, 125);
    assert.match(r.stderr, /expected one APP\.efi/);

    r = await run(runner, [path.join(work, 'no-such.efi')]);
    assert.equal(r.status, 125);
    assert.match(r.stderr, /APP\.efi not found/);

    r = await run(runner, ['--script', path.join(work, 'no-such.zv'), PROBE]);
    assert.equal(r.status, 125);
    assert.match(r.stderr, /--script: no such file/);

    r = await run(runner, ['--after', path.join(work, 'no-such-after.efi'), PROBE]);
    assert.equal(r.status, 125);
    assert.match(r.stderr, /--after: no such file/);

    r = await run(runner, ['--help']);
    assert.equal(r.status, 0);
    assert.match(r.stdout.toString(), new RegExp(`^Usage: ${name} `));
    assert.match(r.stdout.toString(), /--after AFTER\.efi/);
  });
}

// ---------------------------------------------------------------------------
// uefi-run

test('uefi-run: exit code 0, UTF-8 serial output byte-exact, script echoed', async (t) => {
  const s = script('zero.zv', '0\n# first line is the exit code\n');
  const r = await run(UEFI_RUN, ['--script', s, '--timeout', '60', PROBE]);
  assert.equal(r.status, 0, r.stderr);
  assertContains(r.stdout, GREETING, 'greeting');
  assertContains(r.stdout, '--- startup.zv ---\r\n0\r\n# first line is the exit code\r\n--- end ---', 'script echo');
  assertContains(r.stdout, 'ZEROVISOR-EXIT 0\r\n', 'exit line');
  assert.doesNotMatch(r.stderr, /TCG doesn't support/, 'TCG feature warnings are filtered');
  t.diagnostic(`uefi-run boot to exit: ${r.ms} ms`);
});

test('uefi-run: exit code 5 and --add-file places files', async () => {
  const s = script('five.zv', '5\ncat /EFI/zv/data.txt\ncat \\note.txt\ncat /missing.txt\n');
  const r = await run(UEFI_RUN, [
    '--script', s, '--timeout', '60',
    '-f', `${path.join(work, 'data.txt')}:EFI\\zv\\data.txt`,
    '--add-file', path.join(work, 'note.txt'),
    PROBE,
  ]);
  assert.equal(r.status, 5, r.stderr);
  assertContains(r.stdout, DATA_LISTING, 'nested file');
  assertContains(r.stdout, '--- \\note.txt ---\r\nnote at the root\r\n--- end ---', 'root file');
  assertContains(r.stdout, 'MISSING /missing.txt', 'missing file');
  assertContains(r.stdout, 'ZEROVISOR-EXIT 5\r\n', 'exit line');
});

test('uefi-run: stdin reaches the guest serial port', async () => {
  const s = script('read.zv', '7\nread\n');
  const r = await run(UEFI_RUN, ['--script', s, '--timeout', '60', PROBE], {
    onOutput(text, child) {
      if (text.includes('PROBE: waiting for input') && !child.sent) {
        child.sent = true;
        child.stdin.write('typed 入力 input\r');
      }
    },
  });
  assert.equal(r.status, 7, r.stderr);
  assertContains(r.stdout, 'PROBE: got typed 入力 input\r\n', 'echoed input');
});

test('uefi-run: --timeout kills a run that never ends (exit 124)', async () => {
  const s = script('hang.zv', 'hang\n');
  const r = await run(UEFI_RUN, ['--script', s, '--timeout', '9', PROBE]);
  assert.equal(r.status, 124, r.stderr);
  assert.match(r.stderr, /uefi-run: timeout/);
  assertContains(r.stdout, 'PROBE: hanging', 'probe reached its endless loop');
  assert.ok(r.ms >= 9000, `took ${r.ms} ms: stopped before the 9 s timeout`);
});

// --after: the after-app is BOOTX64.EFI and starts the probe from \EFI\zerovisor\main.efi;
// without isa-debug-exit the probe's write to 0xf4 does not end the run, the probe returns
// to the after-app, and the run ends at the after-app's "ZEROVISOR-AFTER <N>" line.
test('uefi-run --after: the app returns to the firmware, the run ends at the after-app\'s line', async () => {
  const s = script('after.zv', '5\ncat /EFI/zv/data.txt\n');
  const r = await run(UEFI_RUN, [
    '--script', s, '--timeout', '60', '--after', AFTER,
    '-f', `${path.join(work, 'data.txt')}:EFI\\zv\\data.txt`,
    PROBE,
  ]);
  assert.equal(r.status, 5, r.stderr);
  const out = r.stdout.toString('utf8');
  assertContains(r.stdout, 'AFTER: running \\EFI\\zerovisor\\main.efi\r\n', 'the after-app runs first');
  assertContains(r.stdout, GREETING, 'the probe runs');
  assertContains(r.stdout, DATA_LISTING, 'the probe reads its volume (script, added file)');
  const exitAt = out.indexOf('ZEROVISOR-EXIT 5\r\n');
  assert.ok(exitAt >= 0, out);
  // the probe's error status carries its code (UEFI 2.10 appendix D: high bit set)
  assert.ok(out.indexOf('AFTER: StartImage 0x8000000000000005\r\n') > exitAt, `the after-app goes on after the exit line:\n${out}`);
  assertContains(r.stdout, 'ZEROVISOR-AFTER 5\r\n', 'the after-app\'s final line');
  assert.doesNotMatch(r.stderr, /terminating on signal|uefi-run:/, 'a quiet end');
});

test('uefi-run: a bad --timeout fails clearly (exit 125)', async () => {
  const r = await run(UEFI_RUN, ['--timeout', 'soon', PROBE]);
  assert.equal(r.status, 125);
  assert.match(r.stderr, /--timeout: expected a positive number/);
});

test('uefi-run: a QEMU error is reported as exit 125', async () => {
  const r = await run(UEFI_RUN, [PROBE, '--', '-device', 'no-such-device-model']);
  assert.equal(r.status, 125);
  assert.match(r.stderr, /no-such-device-model/);
  assert.match(r.stderr, /uefi-run: QEMU failed/);
});

// ---------------------------------------------------------------------------
// bochs-run

test('bochs-run: a bad --megs fails clearly (exit 125)', async () => {
  const r = await run(BOCHS_RUN, ['--megs', 'lots', PROBE]);
  assert.equal(r.status, 125);
  assert.match(r.stderr, /--megs: expected a whole number/);
});

// In the C.UTF-8 locale, the usual default, whatever this machine's is: Bochs 2.7 aborted
// at start in it until bochs-run chose the dummy sound driver (see bochsrc() there).
test('bochs-run: boots the probe (corei7_skylake_x, LANG=C.UTF-8), exit code from the serial log', async (t) => {
  const s = script('three.zv', '3\ncat /EFI/zv/data.txt\n');
  const { LC_ALL, ...env } = process.env;
  const r = await run(BOCHS_RUN, [
    '--cpu', 'corei7_skylake_x', '--timeout', '90', '--script', s,
    '-f', `${path.join(work, 'data.txt')}:/EFI/zv/`,
    PROBE,
  ], { env: { ...env, LANG: 'C.UTF-8' } });
  assert.equal(r.status, 3, r.stderr);
  assertContains(r.stdout, GREETING, 'greeting');
  assertContains(r.stdout, DATA_LISTING, 'added file');
  assert.ok(r.stdout.toString('utf8').endsWith('ZEROVISOR-EXIT 3\r\n'), 'output ends at the exit line');
  t.diagnostic(`bochs-run boot to exit: ${r.ms} ms`);
});
