#!/usr/bin/env node
// The live-migration benchmark (issue 5): a running 64 MiB memory-writer guest
// (tests/guests/dirty.elf) migrated by Zerovisor, with total time, downtime, rounds, bytes on
// the wire and throughput as `migrate` reports them: once over the loopback buffer inside
// one QEMU TCG host, once between two QEMU hosts over virtio-net (`-netdev dgram` on
// 127.0.0.1, `--via net0`); and, measured in the same run as the peer figure, QEMU's own
// live migration of the same guest (64 MiB, multiboot -kernel, TCG) between two QEMU
// processes over loopback TCP (QMP query-migrate). ZV_BENCH_ONLY=loopback|net|qemu runs one;
// ZV_BENCH_EFI=<file> measures that build instead of this tree's (before/after comparisons);
// ZV_BENCH_LOG=<prefix> keeps each host's console output in <prefix>-<run>.txt.
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ports, twoHostRun, until } from '../tests/integration/two-hosts.mjs';
import { buildForBench, EFI, root } from './emulator.mjs';

const DIRTY = join(root, 'build/guests/dirty.elf');
const CMDLINE = 'pages=256 rate=16 rounds=0';

buildForBench();

const row = (label, value, unit) => console.log(`${label.padEnd(46)} ${String(value).padStart(12)} ${unit}`);

// ---- Zerovisor ----
const keep = (run, out) => {
  if (process.env.ZV_BENCH_LOG) writeFileSync(`${process.env.ZV_BENCH_LOG}-${run}.txt`, out);
};
const GUEST = [`vm create dirty --mem 64 --image \\dirty.elf --cmdline "${CMDLINE}"`, 'vm start dirty', 'sleep 500'];

/** The figures of the summary `migrate` printed in `out`. */
const summary = (out) => {
  const s1 = out.match(/migrated in (\d+\.\d) ms; downtime (\d+\.\d) ms/);
  const s2 = out.match(/(\d+) rounds, (\d+) pages sent, (\d+) bytes on the wire \((\d+\.\d+) MB\/s\)/);
  const s3 = out.match(/pages sent as zero: (\d+), as duplicates: (\d+)/);
  if (!s1 || !s2 || !s3) throw new Error(`no migration summary:\n${out}`);
  const throttle = out.match(/auto-converge: the guest got (\d+)% of the processor at the end/);
  return {
    total: Number(s1[1]), downtime: Number(s1[2]), rounds: Number(s2[1]), pages: Number(s2[2]), bytes: Number(s2[3]), mbps: Number(s2[4]),
    zero: Number(s3[1]), dup: Number(s3[2]), throttle: throttle ? Number(throttle[1]) : 100,
  };
};

const loopback = () => {
  const dir = mkdtempSync(join(tmpdir(), 'zv-bench-mig-'));
  writeFileSync(join(dir, 'startup.zv'), [
    ...GUEST,
    'migrate listen --via buffer --as moved',
    'migrate send dirty --via buffer',
    'migrate wait --timeout 900',
    'sleep 200',
    'vm list',
    'exit 0',
  ].join('\n') + '\n');
  const r = spawnSync(join(root, 'toolchain/uefi-run'), ['--timeout', '1200', '--script', join(dir, 'startup.zv'), '-f', `${DIRTY}:dirty.elf`,
    EFI], { encoding: 'utf8', maxBuffer: 64 << 20 });
  keep('loopback', r.stdout);
  if (r.status !== 0) throw new Error(`run failed (${r.status}):\n${r.stdout}\n${r.stderr}`);
  if (!/^ +2 +moved +running +64/m.test(r.stdout)) throw new Error(`the moved VM is not running:\n${r.stdout}`);
  return summary(r.stdout);
};

const twoHosts = async () => {
  const efi = EFI;
  const [portA, portB] = ports();
  const b = twoHostRun(efi, 'bench-b', ['migrate listen --via net0', 'migrate wait --timeout 900', 'sleep 200', 'vm list', 'exit 0'], '52:54:00:00:09:0b', portB, portA, []);
  await until(() => b.output().includes('Waiting for a VM to arrive over net0.'), 240000, 'host B to listen');
  const a = twoHostRun(efi, 'bench-a', [...GUEST, 'migrate send dirty --via net0', 'migrate wait --timeout 900', 'exit 0'], '52:54:00:00:09:0a', portA, portB,
    [`${DIRTY}:dirty.elf`]);
  const [ra, rb] = await Promise.all([a.done, b.done]);
  keep('net-a', ra.out);
  keep('net-b', rb.out);
  if (ra.code !== 0 || rb.code !== 0) throw new Error(`two-host run failed (${ra.code}, ${rb.code}):\n${ra.out}\n---\n${rb.out}`);
  if (!/^ +1 +dirty +running +64/m.test(rb.out)) throw new Error(`the VM does not run on host B:\n${rb.out}`);
  return summary(ra.out);
};

const report = (z, how) => {
  console.log(`Zerovisor, ${how}: a running 64 MiB memory writer`);
  row('  total time', z.total.toFixed(1), 'ms');
  row('  downtime', z.downtime.toFixed(1), 'ms');
  row('  rounds', z.rounds, '');
  row('  pages sent (zero / duplicate)', `${z.pages} (${z.zero}/${z.dup})`, 'pages');
  row('  bytes on the wire', z.bytes, 'bytes');
  row('  throughput', z.mbps.toFixed(2), 'MB/s');
  row('  guest\'s share of the processor at the end', z.throttle, '%');
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

const only = process.env.ZV_BENCH_ONLY ?? (process.env.ZV_BENCH_PEER_ONLY ? 'qemu' : '');
if (!only || only === 'loopback') report(loopback(), 'QEMU TCG, loopback buffer');
if (!only || only === 'net') report(await twoHosts(), 'two QEMU TCG hosts, virtio-net dgram, --via net0');
if (!only || only === 'qemu') {
  const p = await qemuPeer();
  console.log('QEMU 7.2 migrate (TCG, the same guest in 64 MiB, loopback TCP)');
  row('  total time', p.total, 'ms');
  row('  downtime', p.downtime, 'ms');
  row('  dirty-sync rounds', p.rounds, '');
  row('  bytes transferred', p.bytes, 'bytes');
  row('  throughput', p.mbps.toFixed(2), 'MB/s');
}
