// Two Zerovisor hosts on one machine: QEMU processes (q35 + OVMF, TCG) with a modern
// virtio-net NIC each (disable-legacy=on, a fixed mac=, bootindex so that OVMF sets it up
// and Zerovisor takes it from the firmware), joined by `-netdev dgram` on 127.0.0.1.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
export const PROMPT = 'zerovisor> ';

/** Two free-looking UDP ports on 127.0.0.1 (from the process id, so parallel runs differ). */
export const ports = () => {
  const base = 20000 + ((process.pid * 7) % 20000) * 2;
  return [base, base + 1];
};

/**
 * Starts uefi-run on `efi` with a startup.zv, `files` (HOST:ESP_PATH) on the ESP and a NIC
 * (mac, bootindex) on a dgram netdev from local port `local` to `remote`. Returns { done: Promise<{code, out}>, output(): string }.
 */
export const twoHostRun = (efi, name, lines, mac, local, remote, files) => {
  const dir = mkdtempSync(join(tmpdir(), `zv-net-${name}-`));
  writeFileSync(join(dir, 'startup.zv'), lines.join('\n') + '\n');
  const qemu = [
    '-netdev', `dgram,id=n0,local.type=inet,local.host=127.0.0.1,local.port=${local},remote.type=inet,remote.host=127.0.0.1,remote.port=${remote}`,
    '-device', `virtio-net-pci,disable-legacy=on,netdev=n0,mac=${mac},bootindex=1`,
  ];
  const child = spawn(join(root, 'toolchain', 'uefi-run'), ['--timeout', '400', '--script', join(dir, 'startup.zv'), ...files.flatMap((f) => ['-f', f]), efi, '--', ...qemu], { stdio: ['pipe', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  child.stdout.on('data', (d) => { out += d.toString('latin1'); });
  child.stderr.on('data', (d) => { err += d.toString(); });
  const done = new Promise((resolveDone) => child.on('close', (code) => resolveDone({ code, out: Buffer.from(out, 'latin1').toString('utf8'), err })));
  return { done, output: () => out, kill: () => child.kill('SIGTERM') };
};

/** Resolves when `probe()` is true (checked every 100 ms), rejects after `ms`. */
export const until = (probe, ms, what) => new Promise((ok, fail) => {
  const start = Date.now();
  const tick = setInterval(() => {
    if (probe()) {
      clearInterval(tick);
      ok();
    } else if (Date.now() - start > ms) {
      clearInterval(tick);
      fail(new Error(`timed out waiting for ${what}`));
    }
  }, 100);
});

/** What command `cmd` printed: from its echo to the next prompt. */
export const section = (out, cmd) => {
  const at = out.indexOf(PROMPT + cmd + '\r\n');
  assert.ok(at >= 0, `command "${cmd}" was not echoed:\n${out}`);
  const rest = out.slice(at + PROMPT.length + cmd.length + 2);
  const end = rest.indexOf(PROMPT);
  return end < 0 ? rest : rest.slice(0, end);
};

