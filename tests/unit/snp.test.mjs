// The Snp migration sink (drivers/snp, kernel/services/migration/net-link.ts) on the kernel's real Wasm,
// with the simulated machine's SNP interfaces (tests/sim/snp.mjs): `migrate ... --via snp`
// says in the user's language why the firmware's interface cannot be used (no handle, a
// firmware that keeps it, Start or Initialize failing, no link, not Ethernet, a refused
// frame); when it can, the firmware's stack is disconnected, the interface goes Stopped ->
// Started -> Initialized with unicast and broadcast receive, frames leave as Ethernet
// fragments to broadcast with EtherType 0x88B5 from the interface's MAC, transmit buffers
// are not touched until GetStatus gives them back, arriving fragments (padded, or 2 bytes
// long as OVMF hands them over) are reassembled, and `exit` leaves the interface Stopped
// for the firmware's stack.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { boot, ROOT } from '../sim/harness.mjs';
import { machineOptions } from '../sim/fixtures/machines.mjs';
import { SvmGuests } from '../sim/svm-guest.mjs';
import { SnpModel, SnpState } from '../sim/snp.mjs';
import { FrameType, refFrame, startPayload, rd32 } from '../sim/migration.mjs';

execFileSync('make', ['-s', 'guests'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
const HELLO = readFileSync(join(ROOT, 'build', 'guests', 'hello.elf'));
const PROMPT = /(?:zerovisor> |ゼロバイザー> |zerovisor 控制台> )/;
const MAC = [0x52, 0x54, 0x00, 0x00, 0x05, 0x0a];

const run = (input, snp = []) => {
  const model = new SvmGuests(() => [...Array(40)].map(() => ({ cpuid: [1, 0] })).concat([{ idle: true }]));
  const m = boot({ ...machineOptions('qemu-q35-intel-iommu-smp4'), files: { '\\hello.elf': HELLO }, input: [...input, 'exit\r'], svmGuest: model.handler, snp });
  const out = (command) => {
    const runs = m.serialText.split(PROMPT).slice(1).map((chunk) => chunk.split('\r\n')).filter((lines) => lines[0] === command);
    assert.ok(runs.length > 0, `"${command}" did not run:\n${m.serialText}`);
    return runs[0].slice(1, -1).join('\n');
  };
  return { m, out, model };
};

const UNUSABLE = "The firmware's network interface (SNP) cannot be used: ";

test('no SNP handle: --via snp says so, with what QEMU needs; in Japanese and Chinese too', () => {
  const { out } = run(['migrate listen --via snp\r', 'vm create a --mem 4 --image \\hello.elf\r', 'vm start a\r', 'migrate send a --via snp\r', 'vm list\r']);
  const none = `${UNUSABLE}no network interface offers the Simple Network Protocol (under QEMU the NIC needs a bootindex for OVMF to set it up)`;
  assert.equal(out('migrate listen --via snp'), none);
  assert.equal(out('migrate send a --via snp'), none);
  assert.match(out('vm list'), /^ +1 +a +running +4 +-$/m, 'the VM runs on');
  const [, ja, zh] = run(['migrate listen --via snp\r', 'lang ja\r', 'migrate listen --via snp\r', 'lang zh\r', 'migrate listen --via snp\r']).m.serialText
    .split(PROMPT).filter((c) => c.startsWith('migrate listen --via snp')).map((c) => c.split('\r\n')[1]);
  assert.equal(ja, 'ファームウェアのネットワークインターフェース（SNP）は使えません: Simple Network Protocol を提供するネットワークインターフェースがありません（QEMU では OVMF に初期化させるため NIC に bootindex が必要です）');
  assert.equal(zh, '无法使用固件的网络接口（SNP）：没有提供 Simple Network Protocol 的网络接口（在 QEMU 中网卡需要 bootindex，OVMF 才会初始化它）');
});

const failures = [
  { what: 'a firmware that keeps the interface (DisconnectController fails on every pass)', o: { release: [21] }, says: 'the firmware\'s network stack did not let go of interface 0 (DisconnectController: EFI status 21 after 4 tries)', calls: ['release', 'release', 'release', 'release'] },
  { what: 'Start failing', o: { startStatus: 7 }, says: 'interface 0 did not start (Start: EFI status 7)', calls: ['release', 'start'] },
  { what: 'Initialize failing', o: { initializeStatus: 9 }, says: 'interface 0 did not initialize (Initialize: EFI status 9, state 1)', calls: ['release', 'start', 'initialize'] },
  { what: 'no link', o: { mediaPresent: false }, says: 'interface 0 has no link (media not present)' },
  { what: 'an interface that is not Ethernet', o: { mediaHeaderSize: 22 }, says: 'interface 0 is not Ethernet (address size 6, media header size 22)' },
];
for (const f of failures) {
  test(`--via snp with ${f.what}: the reason, and nothing started`, () => {
    const snp = new SnpModel({ mac: MAC, ...f.o });
    const { out } = run(['migrate listen --via snp\r', 'migrate\r'], [snp]);
    assert.equal(out('migrate listen --via snp'), UNUSABLE + f.says);
    assert.equal(out('migrate'), 'No migration under way.');
    if (f.calls) assert.deepEqual(snp.calls.filter((c) => !c.startsWith('filters')), [...f.calls, ...(f.o.startStatus || f.o.release ? [] : ['shutdown', 'stop'])]);
  });
}

test('a usable interface: the firmware\'s stack is let go, Stopped -> Started -> Initialized, unicast + broadcast; net shows it; exit leaves it Stopped', () => {
  const snp = new SnpModel({ mac: MAC, release: [7, -2] }); // a driver that refuses once, then none is left
  const { out } = run(['migrate listen --via snp\r', 'net\r', 'net send broadcast 88b5 "x"\r', 'migrate abort\r'], [snp]);
  assert.equal(out('migrate listen --via snp'), 'Waiting for a VM to arrive over snp.');
  assert.deepEqual(snp.calls.slice(0, 5), ['release', 'release', 'start', 'initialize', 'filters 5 0']);
  assert.equal(out('net'), 'snp0  the firmware\'s network interface (Simple Network Protocol), in use for migration: MAC 52:54:00:00:05:0a, link up\n  Frames sent: 0 (0 bytes); received: 0 (0 bytes)');
  assert.equal(out('net send broadcast 88b5 "x"'), 'net send: the NIC is in use through the firmware\'s network interface (migrate --via snp); net0 stays off it.');
  assert.deepEqual(snp.calls.slice(-2), ['shutdown', 'stop']);
  assert.equal(snp.state, SnpState.Stopped, 'as the firmware\'s network stack expects to find it');
});

test('an interface the firmware\'s stack left Initialized is used as it is', () => {
  const snp = new SnpModel({ mac: MAC, state: SnpState.Initialized, release: [-2] });
  const { out } = run(['migrate listen --via snp\r'], [snp]);
  assert.equal(out('migrate listen --via snp'), 'Waiting for a VM to arrive over snp.');
  assert.deepEqual(snp.calls.slice(0, 2), ['release', 'filters 5 0']);
});

/** Reassembles the migration frames in Ethernet frames sent by the kernel (the fragment layout of net-link.ts). */
const reassemble = (frames) => {
  const out = [];
  let parts = [];
  for (const f of frames) {
    assert.deepEqual([...f.subarray(0, 6)], [0xff, 0xff, 0xff, 0xff, 0xff, 0xff], 'to broadcast');
    assert.deepEqual([...f.subarray(6, 12)], MAC, 'from the interface\'s MAC');
    assert.equal((f[12] << 8) | f[13], 0x88b5);
    const [index, count, length] = [f[16], f[17], f[18] | (f[19] << 8)];
    assert.equal(count, Math.ceil(length / 1494));
    parts[index] = f.subarray(20);
    if (index === count - 1) {
      const whole = Buffer.concat(parts.slice(0, count));
      assert.equal(whole.length, length);
      out.push(whole);
      parts = [];
    }
  }
  return out;
};

test('migrate send --via snp: Ethernet fragments of the migration frames; buffers reused only after GetStatus; the VM runs on after an abort', () => {
  const snp = new SnpModel({ mac: MAC, txQueue: 4 });
  const { out, model } = run(['vm create a --mem 4 --image \\hello.elf\r', 'vm start a\r', 'migrate send a --via snp\r', 'sleep 100\r', 'migrate abort\r', 'vm list\r', 'net\r'], [snp]);
  assert.deepEqual(model.problems, []);
  assert.deepEqual(snp.problems, [], 'no transmit buffer was changed or sent again while the driver held it');
  assert.match(out('migrate send a --via snp'), /^Migrating VM 1 "a" over snp \(downtime target 50 ms\)/);
  assert.match(out('migrate abort'), /Migration of VM 1 "a" failed \(the VM stays here\): the migration was cancelled on this side/);
  assert.match(out('vm list'), /^ +1 +a +running +4 +-$/m);
  const frames = reassemble(snp.sent);
  assert.ok(frames.length > 4, `${frames.length} migration frames`);
  assert.equal(rd32(frames[0], 0), 0x474d565a, 'the magic "ZVMG"');
  assert.equal(frames[0][6], FrameType.Start);
  assert.ok(snp.sent.some((f) => f.length === 1514), 'full-size fragments');
  assert.match(out('net'), new RegExp(`Frames sent: ${snp.sent.length} \\(${snp.sent.reduce((n, f) => n + f.length, 0)} bytes\\)`));
});

test('a frame the interface refuses: the migration fails with the interface\'s reason, and the VM runs on', () => {
  const snp = new SnpModel({ mac: MAC, transmitStatus: 7 });
  const { out } = run(['vm create a --mem 4 --image \\hello.elf\r', 'vm start a\r', 'migrate send a --via snp\r', 'vm list\r'], [snp]);
  assert.equal(out('migrate send a --via snp'), 'Migration of VM 1 "a" failed (the VM stays here): interface 0 refused a frame (Transmit: EFI status 7)');
  assert.match(out('vm list'), /^ +1 +a +running +4 +-$/m);
});

/** Ethernet fragments of one migration frame as a peer would send them. */
const fragments = (frame, id, src, extra = 0) => {
  const out = [];
  const count = Math.ceil(frame.length / 1494);
  for (let i = 0; i < count; i++) {
    const data = frame.subarray(i * 1494, Math.min(frame.length, (i + 1) * 1494));
    const f = new Uint8Array(Math.max(60, 20 + data.length + extra)); // short frames padded to 60 (IEEE 802.3)
    f.fill(0xff, 0, 6);
    f.set(src, 6);
    f.set([0x88, 0xb5, id & 0xff, id >> 8, i, count, frame.length & 0xff, frame.length >> 8], 12);
    f.set(data, 20);
    out.push(f);
  }
  return out;
};

test('migrate listen --via snp: a Start in fragments (padded; 2 bytes long, as OVMF hands frames over) arrives, and the answer goes back as a fragment', () => {
  const PEER = [0x52, 0x54, 0x00, 0x00, 0x05, 0x0b];
  const snp = new SnpModel({ mac: MAC });
  const start = refFrame({ type: FrameType.Start, seq: 1, payload: startPayload({ memMiB: 1, pages: 256, name: new TextEncoder().encode('visitor') }) });
  const other = new Uint8Array(64); // another EtherType on the wire: passed over
  other.set([0x08, 0x00], 12);
  snp.rx.push(other, ...fragments(start, 7, PEER, 2));
  const { out } = run(['migrate listen --via snp\r', 'sleep 20\r', 'migrate\r', 'migrate abort\r'], [snp]);
  assert.equal(out('migrate listen --via snp'), 'Waiting for a VM to arrive over snp.');
  assert.match(out('sleep 20'), /VM 1 "visitor" \(1 MiB\) is arriving\./);
  const answers = reassemble(snp.sent);
  assert.ok(answers.length >= 1);
  assert.equal(answers[0][6], FrameType.Ack);
  assert.equal(rd32(answers[0], 24), 1, 'Start acknowledged');
});
