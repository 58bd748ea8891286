// Live migration for real (issue 5): the memory-writer guest (tests/guests/dirty.zig) runs
// under SVM in QEMU TCG, moves while it runs to a VM built from the migration stream, and
// goes on there: its output continues where it stopped (mid-line included), its checksum
// sequence is the reference's to the end (tests/guests/dirty-reference.mjs; the guest also
// checks every page it rewrites still holds what it wrote), and it exits with 0x22. Once
// inside one host (loopback buffer), once between two QEMUs joined on 127.0.0.1 (net0).
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { dirtyRoundLines } from '../guests/dirty-reference.mjs';
import { faultyRelay, guestLines, joined, ports, section, twoHostRun, until } from './two-hosts.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const efi = join(root, 'build/zerovisor.efi');

before(() => {
  const r = spawnSync('make', ['--no-print-directory', 'build/zerovisor.efi', 'guests'], { cwd: root, encoding: 'utf8' });
  assert.equal(r.status, 0, `make failed:\n${r.stdout}${r.stderr}`);
});

const runScript = (lines, extra = []) => {
  const dir = mkdtempSync(join(tmpdir(), 'zv-mig-'));
  writeFileSync(join(dir, 'startup.zv'), lines.join('\n') + '\n');
  const r = spawnSync(join(root, 'toolchain', 'uefi-run'), ['--timeout', '400', '--script', join(dir, 'startup.zv'),
    '-f', `${join(root, 'build/guests/dirty.elf')}:dirty.elf`, efi, '--', ...extra], { encoding: 'utf8', maxBuffer: 16 << 20 });
  return { code: r.status, out: r.stdout };
};


/** Host A of the two-host tests: the memory writer runs, then moves over net0 (or `via`). */
const hostA = (via = 'net0', extra = []) => [
  'vm create dirty --mem 8 --image \\dirty.elf --cmdline "pages=64 rate=8 rounds=300"',
  'vm start dirty',
  'sleep 300',
  `migrate send dirty --via ${via}`,
  'migrate wait --timeout 300',
  'vm list',
  ...extra,
  'exit 6',
];
const HOST_A = hostA();

for (const log of ['ad', 'wp']) test(`QEMU EPYC: a running memory writer migrates (loopback buffer, --dirty-log ${log}) and goes on with its checksum sequence unbroken`, () => {
  const { code, out } = runScript([
    'vm create dirty --mem 8 --image \\dirty.elf --cmdline "pages=64 rate=8 rounds=300"',
    'vm start dirty',
    'sleep 300',
    'migrate listen --via buffer --as moved',
    `migrate send dirty --via buffer --dirty-log ${log}`,
    'migrate wait --timeout 300',
    'vm wait moved --timeout 300',
    'vm list',
    'audit',
    'exit 9',
  ]);
  assert.equal(code, 9, `exit code; output:\n${out}`);
  const src = guestLines(out, 'dirty');
  const dst = guestLines(out, 'moved');
  assert.ok(src.filter((l) => l.startsWith('round ')).length >= 2, 'the guest ran on the source first');
  assert.ok(dst.filter((l) => l.startsWith('round ')).length >= 2, 'and went on at the destination');
  const rounds = joined(src, dst).filter((l) => l.startsWith('round '));
  assert.deepEqual(rounds, dirtyRoundLines(64, 8, 300), 'one unbroken checksum sequence, as the reference computes it');
  const wait = section(out, 'migrate wait --timeout 300');
  assert.match(wait, /VM 2 "moved" \(8 MiB\) is arriving\./);
  assert.match(wait, /round 1: \d+ pages\/s, \d+ bytes on the wire so far; the guest wrote \d+ pages meanwhile/);
  assert.match(wait, /VM 1 "dirty" paused for the last \d+ pages and its state\./);
  assert.match(wait, /VM 2 "moved" arrived and runs\./);
  assert.match(wait, /VM 1 "dirty" stopped: migrated to another host/);
  assert.match(wait, /VM 1 "dirty" migrated in \d+\.\d ms; downtime \d+\.\d ms\./);
  assert.match(wait, /pages sent as zero: \d+, as duplicates: \d+, run-length encoded: 0/);
  if (log === 'wp') assert.match(wait, /^ {2}dirty pages tracked by write-protection: [1-9]\d* write faults$/m);
  else assert.match(wait, /^ {2}dirty pages tracked by the nested page tables' dirty bits$/m);
  const list = section(out, 'vm list');
  assert.match(list, /^ +1 +dirty +stopped +8 +-/m, 'the source stopped without an exit status of its own');
  assert.match(list, /^ +2 +moved +stopped +8 +34/m, 'the destination ran the guest to its end (0x22: every page held its contents)');
  const audit = section(out, 'audit');
  assert.match(audit, /vm\.migrate\.out +1 +2 +migration of dirty \(8 MiB\) started/);
  assert.match(audit, /vm\.migrate\.in +2 +0 +moved arrived: 2048 pages/);
  assert.match(audit, /vm\.migrate\.out +1 +1 +dirty migrated: \d+ pages sent, downtime \d+ ms/);
});

test('two QEMUs on 127.0.0.1: the running memory writer moves from host A to host B over virtio-net and goes on there', async () => {
  const [portA, portB] = ports();
  const macA = '52:54:00:00:01:0a';
  const macB = '52:54:00:00:01:0b';
  const listen = 'migrate listen --via net0';
  const b = twoHostRun(efi, 'mig-b', [listen, 'migrate wait --timeout 300', 'vm wait dirty --timeout 300', 'vm list', 'audit', 'exit 5'], macB, portB, portA, []);
  try {
    await until(() => b.output().includes('Waiting for a VM to arrive over net0.'), 240000, 'host B to listen');
  } catch (e) {
    b.kill();
    const { out } = await b.done;
    throw new Error(`${e.message}; B's output:\n${out}`);
  }
  const a = twoHostRun(efi, 'mig-a', HOST_A, macA, portA, portB, [`${join(root, 'build/guests/dirty.elf')}:dirty.elf`]);
  const [ra, rb] = await Promise.all([a.done, b.done]);
  try {
    assert.equal(ra.code, 6, 'host A exit code');
    assert.equal(rb.code, 5, 'host B exit code');
    const rounds = joined(guestLines(ra.out, 'dirty'), guestLines(rb.out, 'dirty')).filter((l) => l.startsWith('round '));
    assert.ok(guestLines(ra.out, 'dirty').length >= 2 && guestLines(rb.out, 'dirty').length >= 2, 'the guest ran on both hosts');
    assert.deepEqual(rounds, dirtyRoundLines(64, 8, 300), 'one unbroken checksum sequence across the two hosts');
    assert.match(section(ra.out, 'migrate wait --timeout 300'), /VM 1 "dirty" migrated in \d+\.\d ms; downtime \d+\.\d ms\./);
    assert.match(section(ra.out, 'vm list'), /^ +1 +dirty +stopped +8 +-/m);
    assert.match(section(rb.out, 'migrate wait --timeout 300'), /VM 1 "dirty" arrived and runs\./);
    assert.match(section(rb.out, 'vm list'), /^ +1 +dirty +stopped +8 +34/m, 'host B ran the guest to its end with every page intact');
    assert.match(section(rb.out, 'audit'), /vm\.migrate\.in +1 +0 +dirty arrived: 2048 pages/);
  } catch (e) {
    e.message += `\n---- host A ----\n${ra.out}\n---- host B ----\n${rb.out}`;
    throw e;
  }
});

const DAMAGED_ROUNDS = 4000;

for (const via of ['net0', 'snp']) test(`a damaged link (a relay drops, duplicates, reorders and corrupts a few percent of frames): the VM arrives intact${via === 'snp' ? ' (--via snp)' : ''}`, async () => {
  const [portA, portB] = ports();
  const relayA = portA + 2000;
  const relayB = portB + 2000;
  const relay = await faultyRelay({ portA, portB, relayA, relayB, drop: 20, dup: 20, reorder: 20, corrupt: 20, seed: 7 });
  const macA = '52:54:00:00:02:0a';
  const macB = '52:54:00:00:02:0b';
  let ra;
  let rb;
  try {
    const b = twoHostRun(efi, `bad-${via}-b`, [`migrate listen --via ${via}`, 'migrate wait --timeout 300', 'vm wait dirty --timeout 300', 'vm list', 'exit 5'], macB, portB, relayB, []);
    await until(() => b.output().includes(`Waiting for a VM to arrive over ${via}.`), 240000, 'host B to listen');
    // a longer run: each lost fragment costs the go-back-N link a burst of frames, so the copy
    // takes many rounds at 20-30 pages/s (the guest is throttled meanwhile) and must not outlast
    // the guest, which writes about 180 rounds a second at full speed (1000 rounds ran out)
    const a = twoHostRun(efi, `bad-${via}-a`, hostA(via).map((l) => l.replace('rounds=300', `rounds=${DAMAGED_ROUNDS}`)), macA, portA, relayA,
      [`${join(root, 'build/guests/dirty.elf')}:dirty.elf`]);
    [ra, rb] = await Promise.all([a.done, b.done]);
  } finally {
    relay.close();
  }
  try {
    const s = relay.stats;
    assert.ok(s.dropped > 0 && s.duplicated > 0 && s.reordered > 0 && s.corrupted > 0, `the relay damaged the link: ${JSON.stringify(s)}`);
    assert.equal(ra.code, 6, 'host A exit code');
    assert.equal(rb.code, 5, 'host B exit code');
    // identical memory (the guest checks its pages and the checksum sequence goes on), never a different VM
    const rounds = joined(guestLines(ra.out, 'dirty'), guestLines(rb.out, 'dirty')).filter((l) => l.startsWith('round '));
    assert.deepEqual(rounds, dirtyRoundLines(64, 8, DAMAGED_ROUNDS));
    assert.match(section(rb.out, 'vm list'), /^ +1 +dirty +stopped +8 +34/m);
    assert.match(section(ra.out, 'vm list'), /^ +1 +dirty +stopped +8 +-/m);
  } catch (e) {
    e.message += `\n---- host A ----\n${ra?.out}\n---- host B ----\n${rb?.out}`;
    throw e;
  }
});

test('two QEMUs: the memory writer moves from A to B through the firmware\'s own network interface (SNP, --via snp) and goes on there', async () => {
  const [portA, portB] = ports();
  const macA = '52:54:00:00:03:0a';
  const macB = '52:54:00:00:03:0b';
  const b = twoHostRun(efi, 'snp-b', ['migrate listen --via snp', 'migrate wait --timeout 300', 'vm wait dirty --timeout 300', 'vm list', 'net', 'exit 5'], macB, portB, portA, []);
  try {
    await until(() => b.output().includes('Waiting for a VM to arrive over snp.'), 240000, 'host B to listen');
  } catch (e) {
    b.kill();
    const { out } = await b.done;
    throw new Error(`${e.message}; B's output:\n${out}`);
  }
  const a = twoHostRun(efi, 'snp-a', hostA('snp', ['net', 'log --level info']), macA, portA, portB, [`${join(root, 'build/guests/dirty.elf')}:dirty.elf`]);
  const [ra, rb] = await Promise.all([a.done, b.done]);
  try {
    assert.equal(ra.code, 6, 'host A exit code');
    assert.equal(rb.code, 5, 'host B exit code');
    const rounds = joined(guestLines(ra.out, 'dirty'), guestLines(rb.out, 'dirty')).filter((l) => l.startsWith('round '));
    assert.ok(guestLines(ra.out, 'dirty').length >= 2 && guestLines(rb.out, 'dirty').length >= 2, 'the guest ran on both hosts');
    assert.deepEqual(rounds, dirtyRoundLines(64, 8, 300), 'one unbroken checksum sequence across the two hosts');
    const wait = section(ra.out, 'migrate wait --timeout 300');
    assert.match(wait, /VM 1 "dirty" migrated in \d+\.\d ms; downtime \d+\.\d ms\./);
    assert.match(section(ra.out, 'vm list'), /^ +1 +dirty +stopped +8 +-/m);
    assert.match(section(rb.out, 'migrate wait --timeout 300'), /VM 1 "dirty" arrived and runs\./);
    assert.match(section(rb.out, 'vm list'), /^ +1 +dirty +stopped +8 +34/m, 'host B ran the guest to its end with every page intact');
    // the NIC stayed with the firmware's driver: net shows the SNP interface with its MAC, not net0
    assert.match(section(ra.out, 'net'), new RegExp(`^snp0 .*MAC ${macA}, link up`, 'm'));
    assert.match(section(rb.out, 'net'), new RegExp(`^snp0 .*MAC ${macB}, link up`, 'm'));
    assert.match(section(ra.out, 'net'), /Frames sent: [1-9]\d* \(\d+ bytes\); received: [1-9]\d*/);
    assert.doesNotMatch(ra.out + rb.out, /^net0 /m);
    console.log(`snp: ${wait.match(/migrated in [\d.]+ ms; downtime [\d.]+ ms/)[0]}; ${wait.match(/\d+ rounds, \d+ pages sent, \d+ bytes on the wire \([\d.]+ MB\/s\)/)?.[0]}`);
  } catch (e) {
    e.message += `\n---- host A ----\n${ra.out}\n---- host B ----\n${rb.out}`;
    throw e;
  }
});

/**
 * The link between A and B dies mid-migration (`link`: faultyRelay's cutAfter or
 * corruptAfter); returns both runs and the relay's stats.
 */
const deadLink = async (link, macs) => {
  const [portA, portB] = ports();
  const relayA = portA + 2000;
  const relayB = portB + 2000;
  const relay = await faultyRelay({ portA, portB, relayA, relayB, seed: 3, ...link });
  try {
    const b = twoHostRun(efi, 'dead-b', ['migrate listen --via net0', 'migrate wait --timeout 300', 'vm list', 'exit 5'], macs[1], portB, relayB, []);
    await until(() => b.output().includes('Waiting for a VM to arrive over net0.'), 240000, 'host B to listen');
    const a = twoHostRun(efi, 'dead-a', [
      'vm create dirty --mem 8 --image \\dirty.elf --cmdline "pages=64 rate=8 rounds=0"',
      'vm start dirty',
      'sleep 300',
      'migrate send dirty --via net0',
      'migrate wait --timeout 300',
      'sleep 1000',
      'vm list',
      'exit 6',
    ], macs[0], portA, relayA, [`${join(root, 'build/guests/dirty.elf')}:dirty.elf`]);
    const [ra, rb] = await Promise.all([a.done, b.done]);
    return { ra, rb, stats: relay.stats };
  } finally {
    relay.close();
  }
};

/** What a user checks on both hosts after the link died: both say why, A's VM runs on, B kept nothing. */
const judgeDeadLink = ({ ra, rb }, senderWhy, receiverWhy) => {
  try {
    assert.equal(ra.code, 6, 'host A exit code');
    assert.equal(rb.code, 5, 'host B exit code');
    const failed = 'Migration of VM 1 "dirty" failed (the VM stays here): ';
    assert.match(section(ra.out, 'migrate wait --timeout 300'), new RegExp(`${failed.replace(/[()]/g, '\\$&')}${senderWhy}`));
    // the guest goes on at A: more rounds after the failure, one unbroken checksum sequence
    const after = guestLines(ra.out.slice(ra.out.indexOf(failed)), 'dirty').filter((l) => l.startsWith('round '));
    assert.ok(after.length >= 2, `the guest printed rounds on A after the failure: ${after.length}`);
    // (the last line may be cut short by `exit`: left out)
    const rounds = guestLines(ra.out, 'dirty').slice(0, -1).filter((l) => l.startsWith('round '));
    assert.deepEqual(rounds, dirtyRoundLines(64, 8, rounds.length), 'its memory intact');
    assert.match(section(ra.out, 'vm list'), /^ +1 +dirty +running +8 +-$/m, 'still running on A');
    const wait = section(rb.out, 'migrate wait --timeout 300');
    assert.match(wait, /VM 1 "dirty" \(8 MiB\) is arriving\./, 'B had begun to build it');
    assert.match(wait, new RegExp(`The arriving migration failed \\(nothing of it is kept\\): ${receiverWhy}`));
    assert.doesNotMatch(wait, /arrived and runs/);
    assert.equal(section(rb.out, 'vm list').trim(), 'No VMs. Create one with "vm create".', 'no half-built VM on B');
  } catch (e) {
    e.message += `\n---- host A ----\n${ra.out}\n---- host B ----\n${rb.out}`;
    throw e;
  }
};

test('the link dies mid-migration (the relay stops forwarding): both sides fail with the reason, the VM runs on at A, B keeps nothing', async () => {
  const r = await deadLink({ cutAfter: 40 }, ['52:54:00:00:03:0a', '52:54:00:00:03:0b']);
  assert.ok(r.stats.cut > 0, `the relay cut the link: ${JSON.stringify(r.stats)}`);
  judgeDeadLink(r, 'a frame was never acknowledged, though resent many times', 'nothing arrived from the other side for too long');
});

test('the link turns to noise mid-migration (every frame corrupted): both sides fail with the reason, the VM runs on at A, B keeps nothing', async () => {
  const r = await deadLink({ corruptAfter: 40 }, ['52:54:00:00:04:0a', '52:54:00:00:04:0b']);
  assert.ok(r.stats.corrupted > 64, `the relay corrupted the link: ${JSON.stringify(r.stats)}`);
  judgeDeadLink(r, 'a frame was never acknowledged, though resent many times', 'too many corrupt or unexpected frames arrived');
});
