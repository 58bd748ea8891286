// Shared by the benchmarks that boot Zerovisor: the tree's root, the image they measure
// (ZV_BENCH_EFI=<file> measures that build instead of this tree's, for before/after
// comparisons, and then only the guests are built), and one boot under QEMU + OVMF
// (toolchain/uefi-run) or Bochs (toolchain/bochs-run) with a startup script, whose console
// output is returned.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const EFI = process.env.ZV_BENCH_EFI ? resolve(process.env.ZV_BENCH_EFI) : join(root, 'build/zerovisor.efi');

/** Builds the image (unless ZV_BENCH_EFI names one) and the test guests. */
export const buildForBench = () => {
  const targets = [...(process.env.ZV_BENCH_EFI ? [] : ['build/zerovisor.efi']), 'guests'];
  const r = spawnSync('make', ['--no-print-directory', ...targets], { cwd: root, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(r.stdout + r.stderr);
};

/** `-f` argument putting test guest build/guests/<name> at the ESP's root. */
export const guestFile = (name) => `${join(root, 'build/guests', name)}:${name}`;

/**
 * Boots the image under `runner` ('uefi-run' or 'bochs-run') with `lines` as \startup.zv;
 * returns the console output. `files`: guestFile()s; `runnerArgs`: options of the runner
 * (e.g. ['--cpu', 'ryzen']); `emulatorArgs`: after `--` (QEMU options); `timeout` in seconds.
 */
export const bootWithScript = (runner, lines, { files = [], runnerArgs = [], emulatorArgs = [], timeout = 600 } = {}) => {
  const dir = mkdtempSync(join(tmpdir(), 'zv-bench-'));
  writeFileSync(join(dir, 'startup.zv'), lines.join('\n') + '\n');
  const args = [...runnerArgs, '--timeout', String(timeout), '--script', join(dir, 'startup.zv'),
    ...files.flatMap((f) => ['-f', f]), EFI, ...(emulatorArgs.length ? ['--', ...emulatorArgs] : [])];
  const r = spawnSync(join(root, 'toolchain', runner), args, { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`${runner} ${runnerArgs.join(' ')} failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  return r.stdout;
};
