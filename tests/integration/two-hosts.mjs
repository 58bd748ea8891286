// Two Zerovisor hosts on one machine: QEMU processes (q35 + OVMF, TCG) with a modern
// virtio-net NIC each (disable-legacy=on, a fixed mac=, bootindex so that OVMF sets it up
// and Zerovisor takes it from the firmware), joined by `-netdev dgram` on 127.0.0.1.
// Also what the QEMU tests read from a run's output: a command's section, a guest's lines.
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
 * (mac, bootindex) on a dgram netdev from local port `local` to `remote` (with ZV_PCAP=1 in the
 * environment, each host's frames also go to /tmp/zv-<name>.pcap). Returns { done: Promise<{code, out}>, output(): string }.
 */
export const twoHostRun = (efi, name, lines, mac, local, remote, files) => {
  const dir = mkdtempSync(join(tmpdir(), `zv-net-${name}-`));
  writeFileSync(join(dir, 'startup.zv'), lines.join('\n') + '\n');
  const qemu = [
    '-netdev', `dgram,id=n0,local.type=inet,local.host=127.0.0.1,local.port=${local},remote.type=inet,remote.host=127.0.0.1,remote.port=${remote}`,
    '-device', `virtio-net-pci,disable-legacy=on,netdev=n0,mac=${mac},bootindex=1`,
    ...(process.env.ZV_PCAP ? ['-object', `filter-dump,id=f0,netdev=n0,file=/tmp/zv-${name}.pcap`] : []),
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

/** The lines a guest printed, in order ("[name] text" lines). */
export const guestLines = (out, name) => out.split(/\r?\n/).filter((l) => l.startsWith(`[${name}] `)).map((l) => l.slice(name.length + 3));

/** What command `cmd` printed: from its echo to the next prompt. */
export const section = (out, cmd) => {
  const at = out.indexOf(PROMPT + cmd + '\r\n');
  assert.ok(at >= 0, `command "${cmd}" was not echoed:\n${out}`);
  const rest = out.slice(at + PROMPT.length + cmd.length + 2);
  const end = rest.indexOf(PROMPT);
  return end < 0 ? rest : rest.slice(0, end);
};


/**
 * A UDP relay between two dgram netdevs that damages the link: host A talks to
 * 127.0.0.1:relayA, host B to 127.0.0.1:relayB; each datagram is forwarded to the other
 * host, except that, with a deterministic PRNG, `drop` per mille are dropped, `dup` sent
 * twice, `reorder` held back and sent after the next one, `corrupt` sent with one byte
 * flipped. The link can also die: after `cutAfter` datagrams (both ways) nothing more is
 * forwarded; after `corruptAfter`, every datagram arrives corrupted. Returns { close(), stats }.
 */
export const faultyRelay = async ({ portA, portB, relayA, relayB, drop = 0, dup = 0, reorder = 0, corrupt = 0, seed = 1, cutAfter = Infinity, corruptAfter = Infinity }) => {
  const { createSocket } = await import('node:dgram');
  let x = seed >>> 0 || 1;
  const rand = () => {
    x ^= x << 13; x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5; x >>>= 0;
    return x % 1000;
  };
  const stats = { forwarded: 0, dropped: 0, duplicated: 0, reordered: 0, corrupted: 0, cut: 0 };
  const sockA = createSocket('udp4');
  const sockB = createSocket('udp4');
  const held = new Map();
  const forward = (out, port, msg, dir) => {
    const send = (m) => out.send(m, port, '127.0.0.1');
    if (stats.forwarded >= cutAfter) {
      stats.cut++;
      return;
    }
    const later = held.get(dir);
    held.delete(dir);
    stats.forwarded++;
    if (rand() < drop) stats.dropped++;
    else {
      let m = msg;
      if (stats.forwarded > corruptAfter && m.length > 36) {
        // a dying link: a byte of every frame's checked part (past the Ethernet and fragment headers)
        m = Buffer.from(msg);
        m[20 + (rand() % 16)] ^= 1 + (rand() % 255);
        stats.corrupted++;
      } else if (rand() < corrupt) {
        m = Buffer.from(msg);
        const i = 14 + (rand() * 7919) % Math.max(1, m.length - 14); // past the Ethernet header: the payload
        m[Math.min(i, m.length - 1)] ^= 1 + (rand() % 255);
        stats.corrupted++;
      }
      if (rand() < reorder && !later) {
        held.set(dir, m);
        stats.reordered++;
      } else {
        send(m);
        if (rand() < dup) {
          send(m);
          stats.duplicated++;
        }
      }
    }
    if (later) send(later);
  };
  sockA.on('message', (msg) => forward(sockB, portB, msg, 'ab'));
  sockB.on('message', (msg) => forward(sockA, portA, msg, 'ba'));
  await Promise.all([new Promise((r) => sockA.bind(relayA, '127.0.0.1', r)), new Promise((r) => sockB.bind(relayB, '127.0.0.1', r))]);
  return { stats, close: () => { sockA.close(); sockB.close(); } };
};

/**
 * The memory writer's output across a move: the source's lines, then the destination's; when
 * the move cut a line, the destination's first line is its rest (it does not begin a line
 * of the guest's own: "round ..." or "dirty: ...") and is joined to the source's last.
 */
export const joined = (before, after) => {
  const a = [...before];
  const b = [...after];
  if (a.length > 0 && b.length > 0 && !/^(round |dirty: )/.test(b[0])) b[0] = a.pop() + b[0];
  return [...a, ...b];
};
