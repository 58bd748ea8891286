// Builds the tiny UEFI apps in tests/runner/ (probe.zig, after.zig) with the pinned Zig into
// build/test-runner/<name>.efi, reusing the previous build while the source and the compiler
// are unchanged (a sha256 stamp next to it). Used by the integration tests.
import { spawnSync } from 'node:child_process';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..', '..');
const ZIG = path.join(ROOT, 'node_modules', '@ryoppippi', 'zig-linux-x64', 'zig');
const OUT_DIR = path.join(ROOT, 'build', 'test-runner');

/** The path of tests/runner/<name>.zig built as a UEFI app; throws with Zig's output when the build fails. */
export function buildRunnerApp(name) {
  const src = path.join(ROOT, 'tests', 'runner', `${name}.zig`);
  const efi = path.join(OUT_DIR, `${name}.efi`);
  const hash = crypto.createHash('sha256')
    .update(fs.readFileSync(src))
    .update(fs.statSync(ZIG).size.toString())
    .digest('hex');
  const stamp = `${efi}.sha256`;
  if (fs.existsSync(efi) && fs.existsSync(stamp) && fs.readFileSync(stamp, 'utf8') === hash) return efi;
  fs.mkdirSync(OUT_DIR, { recursive: true });
  const r = spawnSync(ZIG, [
    'build-exe', '-target', 'x86_64-uefi', '-O', 'ReleaseSmall', src,
    `-femit-bin=${efi}`,
    '--cache-dir', path.join(OUT_DIR, 'zig-cache'),
    '--global-cache-dir', path.join(OUT_DIR, 'zig-global-cache'),
  ], { cwd: OUT_DIR, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`zig build of tests/runner/${name}.zig failed:\n${r.stderr}`);
  fs.writeFileSync(stamp, hash);
  return efi;
}
