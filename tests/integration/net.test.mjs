// virtio-net for real: two QEMU processes (q35 + OVMF, TCG) each with a modern virtio-net
// NIC (disable-legacy=on, a fixed mac=, bootindex so that OVMF sets it up and Zerovisor has
// to take it from the firmware), joined by `-netdev dgram` on 127.0.0.1. Host B starts
// first and waits in `net recv`; host A starts once B listens. A sends three frames, B
// shows them with the right source, destination, EtherType, length and text, answers, A
// shows the answer; then A sends a burst that B counts. Both show their MAC and link up.
// Set ZEROVISOR_EFI to test another build (e.g. build/net/zerovisor.efi) without `make`.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { PROMPT, ports, section, twoHostRun, until } from './two-hosts.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const efi = process.env.ZEROVISOR_EFI ? resolve(process.env.ZEROVISOR_EFI) : join(root, 'build/zerovisor.efi');
const MAC_A = '52:54:00:00:00:0a';
const MAC_B = '52:54:00:00:00:0b';
const BURST = Number(process.env.ZEROVISOR_NET_BURST ?? 200); // frames in the burst (more for a measurement)

before(() => {
  if (process.env.ZEROVISOR_EFI) return;
  const r = spawnSync('make', ['--no-print-directory', 'build/zerovisor.efi'], { cwd: root, encoding: 'utf8' });
  assert.equal(r.status, 0, `make failed:\n${r.stdout}${r.stderr}`);
});

const host = (name, lines, mac, local, remote) => twoHostRun(efi, name, lines, mac, local, remote, []);

test('two QEMUs on 127.0.0.1: frames sent by one are received by the other with their contents, both ways, and a burst', async () => {
  const [portA, portB] = ports();
  // --type: the link also carries what A's firmware sent before Zerovisor took its NIC
  // (OVMF's IPv6 neighbour discovery and MLD)
  const recvB = 'net recv --count 3 --timeout 120000 --type 88b5';
  const burstB = `net recv --count ${BURST} --timeout 120000 --type 88b6 --quiet`;
  const b = host('b', [
    'net',
    recvB,
    `net send ${MAC_A} 88b5 "pong from B"`,
    burstB,
    'net',
    'exit 0',
  ], MAC_B, portB, portA);
  try {
    await until(() => b.output().includes(PROMPT + recvB), 240000, 'host B to listen');
  } catch (e) {
    b.kill();
    const { out } = await b.done;
    throw new Error(`${e.message}; B's output:\n${out}`);
  }
  const sendA = `net send ${MAC_B} 88b5 "hello from A" --count 3`;
  const burstA = `net send ${MAC_B} 88b6 "burst frame with a payload of some size" --count ${BURST}`;
  const a = host('a', [
    'net',
    sendA,
    'net recv --timeout 120000 --type 88b5',
    'sleep 500',
    burstA,
    'net',
    'exit 0',
  ], MAC_A, portA, portB);
  const [ra, rb] = await Promise.all([a.done, b.done]);
  try {
    check(ra, rb, { recvB, burstB, burstA });
  } catch (e) {
    e.message += `\n---- host A ----\n${ra.out}\n${ra.err}\n---- host B ----\n${rb.out}\n${rb.err}`;
    throw e;
  }
});

const check = (ra, rb, { recvB, burstB, burstA }) => {
  assert.equal(rb.code, 0, 'host B exit code');
  assert.equal(ra.code, 0, 'host A exit code');

  // both NICs: taken from OVMF (which bound them: bootindex), MAC from mac=, link up
  for (const [r, mac] of [[ra, MAC_A], [rb, MAC_B]]) {
    const net = section(r.out, 'net');
    assert.match(net, /^net0 {2}\d\d:\d\d\.\d {2}virtio-net 1af4:1041 {2}ready\r$/m, net);
    assert.ok(net.includes(`  MAC ${mac}, link up\r\n`), net);
    assert.ok(net.includes('  Taken from the firmware: its UEFI drivers were disconnected.\r\n'), net);
    assert.match(net, /Features: offered 0x[0-9a-f]{16}, accepted 0x0000000100010020/);
  }

  // A -> B: three frames with A's MAC as source, B's as destination, the text as payload
  const got = section(rb.out, recvB).split('\r\n');
  const frameLine = `Frame from ${MAC_A} to ${MAC_B}, EtherType 0x88b5, 26 bytes`;
  const preview = `  68 65 6c 6c 6f 20 66 72 6f 6d 20 41  "hello from A"`;
  assert.deepEqual(got.slice(0, 6), [frameLine, preview, frameLine, preview, frameLine, preview], got.join('\n'));
  assert.match(got[6], /^Frames received: 3 \(78 bytes\)/);

  // B -> A: the answer
  const answer = section(ra.out, 'net recv --timeout 120000 --type 88b5').split('\r\n');
  assert.equal(answer[0], `Frame from ${MAC_B} to ${MAC_A}, EtherType 0x88b5, 25 bytes`);
  assert.equal(answer[1], '  70 6f 6e 67 20 66 72 6f 6d 20 42  "pong from B"');

  // the burst: every frame arrived (the peers are paced by QEMU's socket queues)
  const sent = section(ra.out, burstA);
  assert.match(sent, new RegExp(`Sent to ${MAC_B}, EtherType 0x88b6: ${BURST} frame\\(s\\) of 53 bytes\\.`));
  const rate = /(\d+\.\d{3}) ms: (\d+) frames\/s/.exec(sent);
  assert.ok(rate, sent);
  const received = section(rb.out, burstB);
  const recvd = /Frames received: (\d+) \((\d+) bytes\); (\d+\.\d{3}) ms from the first to the last/.exec(received);
  assert.ok(recvd, received);
  assert.equal(Number(recvd[1]), BURST);
  assert.equal(Number(recvd[2]), BURST * 53);
  console.log(`# burst of ${BURST} frames of 53 bytes: A sent in ${rate[1]} ms (${rate[2]} frames/s); B received them over ${recvd[3]} ms`);

  // counters add up on both sides
  const netA = section(ra.out.slice(ra.out.indexOf(burstA)), 'net');
  assert.ok(netA.includes(`  Frames sent: ${3 + BURST} (${3 * 26 + BURST * 53} bytes); not sent: 0 with the transmit queue full, 0 of a bad length`), netA);
  assert.ok(netA.includes('  Frames received: 1 (25 bytes)'), netA);
  assert.ok(netA.includes('  Device errors: 0'), netA);
  const netB = section(rb.out.slice(rb.out.indexOf(burstB)), 'net');
  const rx = /Frames received: (\d+) \((\d+) bytes\)/.exec(netB);
  assert.ok(rx && Number(rx[1]) >= 3 + BURST && Number(rx[2]) >= 3 * 26 + BURST * 53, netB);
  assert.ok(netB.includes('  Frames sent: 1 (25 bytes)'), netB);
};
