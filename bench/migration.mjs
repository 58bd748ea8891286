#!/usr/bin/env node
// The live-migration benchmark (issue 5): a running 64 MiB memory-writer guest
// (tests/guests/dirty.elf) migrated by Zerovisor (loopback buffer inside one QEMU TCG host,
// or ZV_MIGRATE_VIA=net0 when two hosts are wired), with total time, downtime, bytes on
// the wire, throughput and rounds as `migrate` reports them; and, measured in the same run
// as the peer figure, QEMU's own live migration of the same guest (64 MiB, multiboot
// -kernel, TCG) between two QEMU processes over loopback TCP (QMP query-migrate).
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const DIRTY = join(root, 'build/guests/dirty.elf');
const CMDLINE = 'pages=256 rate=16 rounds=0';

const make = spawnSync('make', ['--no-print-directory', 'build/zerovisor.efi', 'guests'], { cwd: root, encoding: 'utf8' });
if (make.status !== 0) throw new Error(make.stdout + make.stderr);

const row = (label, value, unit) => console.log(`${label.padEnd(46)} ${String(value).padStart(12)} ${unit}`);

// ---- Zerovisor ----
const zerovisor = () => {
  const dir = mkdtempSync(join(tmpdir(), 'zv-bench-mig-'));
  writeFileSync(join(dir, 'startup.zv'), [
    `vm create dirty --mem 64 --image \\dirty.elf --cmdline "${CMDLINE}"`,
    'vm start dirty',
    'sleep 500',
    'migrate listen --via buffer --as moved',
    'migrate send dirty --via buffer',
    'migrate wait --timeout 900',
    'sleep 200',
    'vm list',
    'exit 0',
  ].join('\n') + '\n');
  const r = spawnSync(join(root, 'toolchain/uefi-run'), ['--timeout', '1200', '--script', join(dir, 'startup.zv'), '-f', `${DIRTY}:dirty.elf`,
    join(root, 'build/zerovisor.efi')], { encoding: 'utf8', maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`run failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  const out = r.stdout;
  const s1 = out.match(/migrated in (\d+\.\d) ms; downtime (\d+\.\d) ms/);
  const s2 = out.match(/(\d+) rounds, (\d+) pages sent, (\d+) bytes on the wire \((\d+\.\d+) MB\/s\)/);
  const s3 = out.match(/pages sent as zero: (\d+), as duplicates: (\d+)/);
  if (!s1 || !s2 || !s3) throw new Error(`no migration summary:\n${out}`);
  if (!/^ +2 +moved +running +64/m.test(out)) throw new Error(`the moved VM is not running:\n${out}`);
  return { total: Number(s1[1]), downtime: Number(s1[2]), rounds: Number(s2[1]), pages: Number(s2[2]), bytes: Number(s2[3]), mbps: Number(s2[4]), zero: Number(s3[1]), dup: Number(s3[2]) };
};

// ---- QEMU's own migration ----
const qmp = (path) => new Promise((resolveQmp, reject) => {
  const sock = connect(path);
  let buf = '';
  const waiting = [];
  sock.on('data', (d) => {
    buf += d;
    let i;
    while ((i = buf.indexOf('\n')) >= 0) {
      const line = buf.slice(0, i);
      buf = buf.slice(i + 1);
      const msg = JSON.parse(line);
      if ('return' in msg || 'error' in msg) waiting.shift()?.(msg);
    }
  });
  sock.on('error', reject);
  const cmd = (execute, args) => new Promise((res) => {
    waiting.push(res);
    sock.write(JSON.stringify(args ? { execute, arguments: args } : { execute }) + '\n');
  });
  sock.once('data', async () => {
    await cmd('qmp_capabilities');
    resolveQmp({ cmd, close: () => sock.destroy() });
  });
});

const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

const qemuPeer = async () => {
  const dir = mkdtempSync(join(tmpdir(), 'zv-bench-qemu-'));
  const port = 47000 + (process.pid % 1000);
  const base = ['-machine', 'q35', '-cpu', 'EPYC', '-m', '64', '-kernel', DIRTY, '-append', CMDLINE, '-display', 'none', '-nodefaults', '-no-user-config'];
  const dst = spawn('qemu-system-x86_64', [...base, '-serial', `file:${join(dir, 'dst.txt')}`, '-qmp', `unix:${join(dir, 'dst.qmp')},server,nowait`, '-incoming', `tcp:127.0.0.1:${port}`]);
  const src = spawn('qemu-system-x86_64', [...base, '-serial', `file:${join(dir, 'src.txt')}`, '-qmp', `unix:${join(dir, 'src.qmp')},server,nowait`]);
  try {
    await sleep(1500);
    const q = await qmp(join(dir, 'src.qmp'));
    await sleep(500); // the guest is writing
    const began = Date.now();
    const r = await q.cmd('migrate', { uri: `tcp:127.0.0.1:${port}` });
    if (r.error) throw new Error(JSON.stringify(r.error));
    for (;;) {
      const s = (await q.cmd('query-migrate')).return;
      if (process.env.ZV_BENCH_DEBUG) console.error(JSON.stringify(s));
      if (s.status === 'completed') {
        q.close();
        return { total: s['total-time'] ?? Date.now() - began, downtime: s.downtime, bytes: s.ram.transferred, mbps: s.ram['mbps'] / 8, rounds: s.ram['dirty-sync-count'] };
      }
      if (s.status === 'failed') throw new Error(`QEMU migration failed: ${JSON.stringify(s)}`);
      await sleep(50);
    }
  } finally {
    src.kill('SIGKILL');
    dst.kill('SIGKILL');
  }
};

const z = process.env.ZV_BENCH_PEER_ONLY ? null : zerovisor();
if (z) {
row('Zerovisor: 64 MiB memory writer, total time', z.total.toFixed(1), 'ms (QEMU TCG, loopback buffer)');
row('Zerovisor: downtime', z.downtime.toFixed(1), 'ms');
row('Zerovisor: rounds', z.rounds, '');
row('Zerovisor: pages sent (zero / duplicate)', `${z.pages} (${z.zero}/${z.dup})`, 'pages');
row('Zerovisor: bytes on the wire', z.bytes, 'bytes');
row('Zerovisor: throughput', z.mbps.toFixed(2), 'MB/s');
}
const p = await qemuPeer();
row('QEMU 7.2 migrate (TCG, 64 MiB, loopback TCP): total', p.total, 'ms');
row('QEMU: downtime', p.downtime, 'ms');
row('QEMU: dirty-sync rounds', p.rounds, '');
row('QEMU: bytes transferred', p.bytes, 'bytes');
row('QEMU: throughput', p.mbps.toFixed(2), 'MB/s');
