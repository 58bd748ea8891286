// The 8254 PIT and port 0x61 (kernel/vm/devices/pit8254.ts) in the porffor-compiled test
// kernel (tests/fixtures/kernels/vm-logic.ts), with time in the rig's hands: a 1.193182 GHz
// TSC makes one PIT tick 1,000 TSC ticks. Checked against the Intel 82C54 datasheet: mode 0
// (OUT low, high at terminal count, the count wrapping on), mode 2 and 3 periods, the
// LSB/MSB flip-flop, counter latch (the first latch holds), read-back of count and status,
// channel 2's gate from port 0x61 (holds modes 0-4, triggers 1 and 5), OUT2 on port 0x61
// bit 5, and migration state (save, load, malformed state refused).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VmLogic } from '../sim/vm-logic.mjs';

const TICK = 1000n; // TSC ticks per PIT tick at the rig's frequency
let rig;
const fresh = (vm = 0) => {
  rig ??= new VmLogic();
  rig.pitHz(1193182000);
  rig.tsc = 1_000_000n;
  rig.pitReset(vm);
  return rig;
};
const advance = (r, pitTicks) => { r.tsc += BigInt(pitTicks) * TICK; };
const count = (r, vm, ch) => r.pitRead(vm, 0x40 + ch) | (r.pitRead(vm, 0x40 + ch) << 8);
const latchCount = (r, vm, ch) => { r.pitWrite(vm, 0x43, ch << 6); return count(r, vm, ch); };
const program = (r, vm, ch, mode, n) => {
  r.pitWrite(vm, 0x43, (ch << 6) | 0x30 | (mode << 1));
  r.pitWrite(vm, 0x40 + ch, n & 0xff);
  r.pitWrite(vm, 0x40 + ch, (n >> 8) & 0xff);
};
const out2 = (r, vm) => (r.pitRead(vm, 0x61) >> 5) & 1;

test('mode 0 on channel 2: OUT2 low while counting, high at terminal count (Linux\'s pit_calibrate_tsc)', () => {
  const r = fresh();
  r.pitWrite(0, 0x61, 0x01); // gate high, speaker off
  program(r, 0, 2, 0, 59659); // 50 ms
  assert.equal(out2(r, 0), 0);
  advance(r, 59658);
  assert.equal(out2(r, 0), 0, 'one tick before');
  assert.equal(latchCount(r, 0, 2), 1);
  advance(r, 1);
  assert.equal(out2(r, 0), 1, 'at terminal count');
  advance(r, 10);
  assert.equal(latchCount(r, 0, 2), 65536 - 10, 'the count wraps on');
  assert.equal(out2(r, 0), 1, 'OUT stays high');
});

test('mode 2 and mode 3 periods, a count of 0 is 65536, the LSB/MSB flip-flop', () => {
  const r = fresh();
  program(r, 0, 0, 2, 1000);
  advance(r, 1);
  assert.equal(count(r, 0, 0), 999);
  advance(r, 998);
  assert.equal(latchCount(r, 0, 0), 1);
  advance(r, 1);
  assert.equal(latchCount(r, 0, 0), 1000, 'reloaded');
  program(r, 0, 1, 3, 0);
  advance(r, 100);
  assert.equal(latchCount(r, 0, 1), 65536 - 200, 'mode 3 counts by two');
  r.pitWrite(0, 0x43, 0x50 | (2 << 1)); // channel 1, LSB only, mode 2
  r.pitWrite(0, 0x41, 50);
  advance(r, 20);
  assert.equal(r.pitRead(0, 0x41), 30, 'LSB-only access reads one byte');
  assert.equal(r.pitRead(0, 0x41), 30);
});

test('counter latch: the first latch holds until read; read-back latches count and status', () => {
  const r = fresh();
  program(r, 0, 0, 2, 1000);
  advance(r, 100);
  r.pitWrite(0, 0x43, 0x00);
  advance(r, 50);
  r.pitWrite(0, 0x43, 0x00); // ignored: the first latch is unread
  assert.equal(count(r, 0, 0), 900);
  assert.equal(count(r, 0, 0), 850, 'then the live count');
  r.pitWrite(0, 0x43, 0xc2); // read-back: count and status of channel 0
  advance(r, 10);
  assert.equal(r.pitRead(0, 0x40) & 0x7f, 0x34, 'status first: LSB/MSB, mode 2, binary, count loaded');
  assert.equal(count(r, 0, 0), 850, 'then the latched count');
  r.pitWrite(0, 0x43, 0x34); // a control word: no count yet
  r.pitWrite(0, 0x43, 0xe2);
  assert.equal(r.pitRead(0, 0x40), 0x80 | 0x40 | 0x34, 'OUT high, null count');
});

test('channel 2\'s gate (port 0x61 bit 0): low holds modes 0-4, a rise triggers modes 1 and 5', () => {
  const r = fresh();
  r.pitWrite(0, 0x61, 0x01);
  program(r, 0, 2, 0, 1000);
  advance(r, 100);
  r.pitWrite(0, 0x61, 0x00);
  advance(r, 500);
  assert.equal(latchCount(r, 0, 2), 900, 'held');
  r.pitWrite(0, 0x61, 0x01);
  advance(r, 100);
  assert.equal(latchCount(r, 0, 2), 800, 'goes on from there');
  program(r, 0, 2, 1, 300); // gate already high: waits for a rise
  advance(r, 50);
  assert.equal(latchCount(r, 0, 2), 300);
  assert.equal(out2(r, 0), 1);
  r.pitWrite(0, 0x61, 0x00);
  r.pitWrite(0, 0x61, 0x01);
  advance(r, 100);
  assert.equal(latchCount(r, 0, 2), 200, 'triggered');
  assert.equal(out2(r, 0), 0, 'one-shot: OUT low until terminal count');
  advance(r, 200);
  assert.equal(out2(r, 0), 1);
  assert.equal(r.pitRead(0, 0x61) & 0x0f, 0x01, 'port B keeps bits 0-3');
});

test('VMs have their own PIT; the control port and other ports read as nothing', () => {
  const r = fresh(0);
  fresh(3);
  program(r, 0, 0, 2, 1000);
  program(r, 3, 0, 2, 500);
  advance(r, 100);
  assert.equal(latchCount(r, 0, 0), 900);
  assert.equal(latchCount(r, 3, 0), 400);
  assert.equal(r.pitRead(0, 0x43), 0xff);
  assert.equal(r.pitRead(0, 0x44), -1);
  assert.equal(r.pitRead(99, 0x40), -1, 'no such VM');
});

test('migration: state saved and loaded goes on counting from where it was; malformed state is refused', () => {
  const r = fresh(0);
  fresh(1);
  r.pitWrite(0, 0x61, 0x01);
  program(r, 0, 2, 0, 5000);
  program(r, 0, 0, 2, 1000);
  advance(r, 1200);
  const saved = r.pitSave(0);
  assert.equal(saved.length, 49);
  advance(r, 7777); // the transfer takes a while: the count goes on from the saved point
  assert.ok(r.pitLoad(1, saved));
  advance(r, 100);
  assert.equal(latchCount(r, 1, 2), 5000 - 1300);
  assert.equal(latchCount(r, 1, 0), 1000 - 300);
  assert.equal(r.pitRead(1, 0x61) & 0x0f, 0x01);
  for (const [at, value] of [[0, 6], [1, 0], [1, 4], [2, 0x80], [3, 3], [48, 0x10]]) {
    const bad = saved.slice();
    bad[at] = value;
    assert.equal(r.pitLoad(2, bad), false, `byte ${at} = ${value}`);
  }
  assert.equal(r.pitLoad(2, saved.subarray(0, 48)), false, 'short');
});
