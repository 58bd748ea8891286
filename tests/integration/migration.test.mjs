// Live migration for real (issue 5): the memory-writer guest (tests/guests/dirty.zig) runs
// under SVM in QEMU TCG, moves while it runs to a VM built from the migration stream, and
// goes on there: its output continues where it stopped (mid-line included), its checksum
// sequence is the reference's to the end (tests/guests/dirty-reference.mjs; the guest also
// checks every page it rewrites still holds what it wrote), and it exits with 0x22.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { dirtyRoundLines } from '../guests/dirty-reference.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const efi = join(root, 'build/zerovisor.efi');
const PROMPT = 'zerovisor> ';

before(() => {
  const r = spawnSync('make', ['--no-print-directory', 'build/zerovisor.efi', 'guests'], { cwd: root, encoding: 'utf8' });
  assert.equal(r.status, 0, `make failed:\n${r.stdout}${r.stderr}`);
});

const runScript = (lines, extra = []) => {
  const dir = mkdtempSync(join(tmpdir(), 'zv-mig-'));
  writeFileSync(join(dir, 'startup.zv'), lines.join('\n') + '\n');
  const r = spawnSync(join(root, 'toolchain', 'uefi-run'), ['--timeout', '400', '--script', join(dir, 'startup.zv'),
    '-f', `${join(root, 'build/guests/dirty.elf')}:dirty.elf`, efi, '--', ...extra], { encoding: 'utf8', maxBuffer: 16 << 20 });
  return { code: r.status, out: r.stdout };
};

const section = (out, cmd) => {
  const at = out.indexOf(PROMPT + cmd + '\r\n');
  assert.ok(at >= 0, `command "${cmd}" was not echoed:\n${out}`);
  const rest = out.slice(at + PROMPT.length + cmd.length + 2);
  const end = rest.indexOf(PROMPT);
  return end < 0 ? rest : rest.slice(0, end);
};

const guestLines = (out, name) => out.split(/\r?\n/).filter((l) => l.startsWith(`[${name}] `)).map((l) => l.slice(name.length + 3));

/** The guest's output across the move: the source's lines, its unfinished last line continued by the destination's first. */
const joined = (before, after) => {
  const a = [...before];
  const b = [...after];
  if (a.length > 0 && !/^round \d+ checksum 0x[0-9a-f]{8}$|^dirty: /.test(a.at(-1))) b[0] = a.pop() + (b[0] ?? '');
  return [...a, ...b];
};

test('QEMU EPYC: a running memory writer migrates (loopback buffer) and goes on with its checksum sequence unbroken', () => {
  const { code, out } = runScript([
    'vm create dirty --mem 8 --image \\dirty.elf --cmdline "pages=64 rate=8 rounds=300"',
    'vm start dirty',
    'sleep 300',
    'migrate listen --via buffer --as moved',
    'migrate send dirty --via buffer',
    'migrate wait --timeout 300',
    'vm wait moved --timeout 300',
    'vm list',
    'audit',
    'exit 9',
  ]);
  assert.equal(code, 9, `exit code; output:\n${out}`);
  const src = guestLines(out, 'dirty');
  const dst = guestLines(out, 'moved');
  assert.ok(src.filter((l) => l.startsWith('round ')).length >= 2, 'the guest ran on the source first');
  assert.ok(dst.filter((l) => l.startsWith('round ')).length >= 2, 'and went on at the destination');
  const rounds = joined(src, dst).filter((l) => l.startsWith('round '));
  assert.deepEqual(rounds, dirtyRoundLines(64, 8, 300), 'one unbroken checksum sequence, as the reference computes it');
  const wait = section(out, 'migrate wait --timeout 300');
  assert.match(wait, /VM 2 "moved" \(8 MiB\) is arriving\./);
  assert.match(wait, /round 1: \d+ pages\/s; the guest wrote \d+ pages meanwhile/);
  assert.match(wait, /VM 1 "dirty" paused for the last \d+ pages and its state\./);
  assert.match(wait, /VM 2 "moved" arrived and runs\./);
  assert.match(wait, /VM 1 "dirty" stopped: migrated to another host/);
  assert.match(wait, /VM 1 "dirty" migrated in \d+\.\d ms; downtime \d+\.\d ms\./);
  assert.match(wait, /pages sent as zero: \d+, as duplicates: \d+, run-length encoded: 0/);
  const list = section(out, 'vm list');
  assert.match(list, /^ +1 +dirty +stopped +8 +-/m, 'the source stopped without an exit status of its own');
  assert.match(list, /^ +2 +moved +stopped +8 +34/m, 'the destination ran the guest to its end (0x22: every page held its contents)');
  const audit = section(out, 'audit');
  assert.match(audit, /vm\.migrate\.out +1 +2 +migration of dirty \(8 MiB\) started/);
  assert.match(audit, /vm\.migrate\.in +2 +0 +moved arrived: 2048 pages/);
  assert.match(audit, /vm\.migrate\.out +1 +1 +dirty migrated: \d+ pages sent, downtime \d+ ms/);
});
