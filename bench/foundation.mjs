#!/usr/bin/env node
// Foundation numbers: image size, time per build stage (cold and warm Zig), and the
// time from efi_main to the first console prompt, read from the TSC by the kernel.
// Each stage is the Makefile's own rule, run into build/bench.
// Usage: node bench/foundation.mjs [--bochs]   (prints numbers; asserts nothing)
import { spawnSync } from 'node:child_process';
import { rmSync, statSync, writeFileSync, readFileSync, mkdirSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const B = 'build/bench';
const out = join(root, B);
rmSync(out, { recursive: true, force: true });
mkdirSync(out, { recursive: true });

const row = (name, value, unit) => console.log(`${name.padEnd(34)} ${String(value).padStart(12)} ${unit}`);

/** Runs one Makefile target into build/bench; returns its wall time and output. */
const make = (target) => {
  const t0 = performance.now();
  const r = spawnSync('make', ['--no-print-directory', `B=${B}`, 'COMPILE_FLAGS=--timings', `${B}/${target}`], { cwd: root, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`make ${target} failed:\n${r.stdout}${r.stderr}`);
  return { ms: performance.now() - t0, stdout: r.stdout };
};

const wasm = make('zerovisor.wasm');
const m = wasm.stdout.match(/esbuild_ms=(\d+) porffor_ms=(\d+) wasm_bytes=(\d+)/);
row('stage esbuild (bundle)', m[1], 'ms');
row('stage porffor (TS -> Wasm)', m[2], 'ms');
row('wasm size', m[3], 'bytes');
row('stage wasm2c + C fixes', make('c/zerovisor.c').ms.toFixed(0), 'ms');
row('generated C size', statSync(join(out, 'c/zerovisor.c')).size, 'bytes');
row('stage zig (cold cache)', make('zerovisor.efi').ms.toFixed(0), 'ms');
spawnSync('touch', [join(out, 'c/zerovisor.c')]);
row('stage zig (warm, C changed)', make('zerovisor.efi').ms.toFixed(0), 'ms');
const efi = join(out, 'zerovisor.efi');
row('image size BOOTX64.EFI', statSync(efi).size, 'bytes');

// Boot to the first prompt under QEMU TCG (and Bochs with --bochs).
writeFileSync(join(out, 'startup.zv'), 'exit 0\n');
const boot = (runner) => {
  const t0 = performance.now();
  const r = spawnSync(join(root, 'toolchain', runner), ['--timeout', '180', '--script', join(out, 'startup.zv'), efi], { encoding: 'utf8' });
  const ms = performance.now() - t0;
  const ticks = (r.stdout ?? '').match(/first prompt after (\d+) TSC ticks/);
  if (!ticks) throw new Error(`${runner}: no "first prompt after N TSC ticks" line:\n${r.stdout}\n${r.stderr}`);
  return { ticks: Number(ticks[1]), ms };
};
const hostMhz = Number((readFileSync('/proc/cpuinfo', 'utf8').match(/cpu MHz\s*:\s*([\d.]+)/) ?? [])[1] ?? NaN);
const q = boot('uefi-run');
row('QEMU efi_main -> first prompt', q.ticks, 'TSC ticks');
if (hostMhz) row('  at host TSC rate (approx.)', (q.ticks / hostMhz / 1000).toFixed(2), 'ms');
row('QEMU whole run (start..exit)', q.ms.toFixed(0), 'ms');
if (process.argv.includes('--bochs')) {
  const b = boot('bochs-run');
  row('Bochs efi_main -> first prompt', b.ticks, 'TSC ticks');
  row('Bochs whole run (start..exit)', b.ms.toFixed(0), 'ms');
}
