#!/usr/bin/env node
// The VM-exit cost benchmark (issue 4): host instructions per CPUID-exit round trip,
// measured under QEMU TCG -icount shift=0 (one instruction per virtual nanosecond, and
// the TSC runs on that clock), for the full TypeScript exit path and for a floor where
// the shim resumes CPUID exits itself (vm create --cpuid-floor), in the same run. The
// guest (tests/guests/cpuid-bench.zig) times N CPUIDs and the same loop without them.
// Also: the time `vm create` takes for a 64 MiB VM, in a normal (not -icount) run; and the
// same CPUID round trip under Bochs, for Intel VMX (corei7_skylake_x) and AMD SVM (ryzen)
// side by side. Bochs's TSC counts its own emulated instructions (its `ips` clock), which
// are not QEMU's host instructions: those figures are reported separately.
import { bootWithScript, buildForBench, guestFile } from './emulator.mjs';

const N = 20000;

buildForBench();

const run = (lines, qemuArgs) => bootWithScript('uefi-run', lines, { files: [guestFile('cpuid-bench.elf')], emulatorArgs: qemuArgs, timeout: 600 });

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

// Bochs: the same guest, the full path and the floor in one run per CPU model.
const BOCHS_N = 5000;
const bochs = (cpu) => {
  const out = bootWithScript('bochs-run', [
    `vm create ts --mem 16 --image \\cpuid-bench.elf --cmdline "n=${BOCHS_N}"`,
    'vm start ts',
    'vm wait ts --timeout 600',
    `vm create floor --mem 16 --image \\cpuid-bench.elf --cmdline "n=${BOCHS_N}" --cpuid-floor`,
    'vm start floor',
    'vm wait floor --timeout 600',
    'exit 0',
  ], { files: [guestFile('cpuid-bench.elf')], runnerArgs: ['--cpu', cpu], timeout: 900 });
  const ticks = (name) => {
    const m = out.match(new RegExp(`\\[${name}\\] cpuid-bench n=(\\d+) cpuid_ticks=(\\d+) loop_ticks=(\\d+)`));
    if (!m) throw new Error(`no result for ${name} on Bochs ${cpu}:\n${out}`);
    return (Number(m[2]) - Number(m[3])) / Number(m[1]);
  };
  return { ts: ticks('ts'), floor: ticks('floor') };
};
const vmx = bochs('corei7_skylake_x');
const svm = bochs('ryzen');

const row = (label, value, unit) => console.log(`${label.padEnd(46)} ${value.padStart(12)} ${unit}`);
row('TSC rate under -icount shift=0', mhz.toFixed(3), 'MHz');
row('CPUID exit, full TypeScript path', ts.toFixed(0), 'host instructions');
row('CPUID exit, floor (shim resumes, no TypeScript)', floor.toFixed(0), 'host instructions');
row('ratio TypeScript / floor', (ts / floor).toFixed(2), 'x (goal: 3x)');
row('vm create, 64 MiB (QEMU TCG, no -icount)', created[1], `ms (${created[2]} TSC ticks)`);
console.log('Bochs 2.7 (TSC ticks per CPUID exit; Bochs counts its own emulated instructions, not comparable with QEMU\'s):');
row('  VMX (corei7_skylake_x), full TypeScript path', vmx.ts.toFixed(0), 'ticks');
row('  VMX, floor (shim resumes, no TypeScript)', vmx.floor.toFixed(0), 'ticks');
row('  VMX ratio TypeScript / floor', (vmx.ts / vmx.floor).toFixed(2), 'x');
row('  SVM (ryzen), full TypeScript path', svm.ts.toFixed(0), 'ticks');
row('  SVM, floor (shim resumes, no TypeScript)', svm.floor.toFixed(0), 'ticks');
row('  SVM ratio TypeScript / floor', (svm.ts / svm.floor).toFixed(2), 'x');
