#!/usr/bin/env node
// The VM-exit cost benchmark (issue 4): host instructions per CPUID-exit round trip,
// measured under QEMU TCG -icount shift=0 (one instruction per virtual nanosecond, and
// the TSC runs on that clock), for the full TypeScript exit path and for a floor where
// the shim resumes CPUID exits itself (vm create --cpuid-floor), in the same run. The
// guest (tests/guests/cpuid-bench.zig) times N CPUIDs and the same loop without them.
// Also: the time `vm create` takes for a 64 MiB VM, in a normal (not -icount) run.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const N = 20000;

const make = spawnSync('make', ['--no-print-directory', 'build/zerovisor.efi', 'guests'], { cwd: root, encoding: 'utf8' });
if (make.status !== 0) throw new Error(make.stdout + make.stderr);

const run = (lines, qemuArgs) => {
  const dir = mkdtempSync(join(tmpdir(), 'zv-bench-'));
  writeFileSync(join(dir, 'startup.zv'), lines.join('\n') + '\n');
  const r = spawnSync(join(root, 'toolchain/uefi-run'), ['--timeout', '600', '--script', join(dir, 'startup.zv'),
    '-f', `${join(root, 'build/guests/cpuid-bench.elf')}:cpuid-bench.elf`, join(root, 'build/zerovisor.efi'), '--', ...qemuArgs], { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`run failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
};

const out = run([
  'time',
  `vm create ts --mem 64 --image \\cpuid-bench.elf --cmdline "n=${N}"`,
  'vm start ts',
  'vm wait ts --timeout 600',
  `vm create floor --mem 64 --image \\cpuid-bench.elf --cmdline "n=${N}" --cpuid-floor`,
  'vm start floor',
  'vm wait floor --timeout 600',
  'exit 0',
], ['-icount', 'shift=0']);

const mhz = Number(out.match(/TSC frequency: (\d+\.\d+) MHz/)[1]);
const ticksPerInstruction = mhz / 1000; // -icount shift=0: 1 instruction = 1 virtual ns
const result = (name) => {
  const m = out.match(new RegExp(`\\[${name}\\] cpuid-bench n=(\\d+) cpuid_ticks=(\\d+) loop_ticks=(\\d+)`));
  if (!m) throw new Error(`no result for ${name}:\n${out}`);
  const perExitTicks = (Number(m[2]) - Number(m[3])) / Number(m[1]);
  return perExitTicks / ticksPerInstruction;
};
const ts = result('ts');
const floor = result('floor');

const normal = run(['vm create big --mem 64 --image \\cpuid-bench.elf --cmdline "n=10"', 'vm start big', 'vm wait big --timeout 60', 'exit 0'], []);
const created = normal.match(/built in (\d+\.\d+) ms \((\d+) TSC ticks\)/);

const row = (label, value, unit) => console.log(`${label.padEnd(46)} ${value.padStart(12)} ${unit}`);
row('TSC rate under -icount shift=0', mhz.toFixed(3), 'MHz');
row('CPUID exit, full TypeScript path', ts.toFixed(0), 'host instructions');
row('CPUID exit, floor (shim resumes, no TypeScript)', floor.toFixed(0), 'host instructions');
row('ratio TypeScript / floor', (ts / floor).toFixed(2), 'x (goal: 3x)');
row('vm create, 64 MiB (QEMU TCG, no -icount)', created[1], `ms (${created[2]} TSC ticks)`);
