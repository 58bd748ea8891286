// The ACPI PM registers at 0x600-0x60B (kernel/vm/devices/acpi-pm.ts) through the board's
// port routing (kernel/vm/devices/board.ts) in the porffor-compiled test kernel
// (tests/fixtures/kernels/vm-tables.ts), with time in the rig's hands: a 3.579545 GHz TSC makes
// one PM timer tick 1,000 TSC ticks. Checked against ACPI 6.5 section 4.8.3: the 24-bit timer
// at 3.579545 MHz (wrapping, read-only, TMR_STS when bit 23 changes), PM1 status write 1 to
// clear, the enable mask, SCI_EN reading 1, SLP_EN with SLP_TYP 5 stopping the VM ("powered
// off") and other sleep types ignored, migration state, and a seeded fuzz.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VmTables } from '../sim/vm-tables.mjs';

const TICK = 1000n; // TSC ticks per PM timer tick at the rig's frequency
const STS = 0x600, EN = 0x602, CNT = 0x604, TMR = 0x608;
const STOP_POWERED_OFF = 11; // StopReason.PoweredOff
let rig;
const fresh = (vm = 0) => {
  rig ??= new VmTables();
  rig.setHz(3579545000);
  rig.tsc = 5_000_000n;
  rig.reset(vm);
  return rig;
};
const advance = (r, pmTicks) => { r.tsc += BigInt(pmTicks) * TICK; };

test('PM timer: 3.579545 MHz from the TSC, 24 bits wide, wrapping; byte reads compose; read-only', () => {
  const r = fresh();
  assert.equal(r.read(0, TMR, 4), 0, 'counts from 0 at power-on');
  advance(r, 12345);
  assert.equal(r.read(0, TMR, 4), 12345);
  assert.equal(r.read(0, TMR, 2), 12345 & 0xffff);
  advance(r, 0xabcdef - 12345);
  assert.deepEqual([0, 1, 2, 3].map((i) => r.read(0, TMR + i, 1)), [0xef, 0xcd, 0xab, 0x00], 'bits 31:24 read 0 (TMR_VAL_EXT clear)');
  advance(r, 0x1000000 - 0xabcdef + 5);
  assert.equal(r.read(0, TMR, 4), 5, 'wraps at 2^24');
  assert.equal(r.write(0, TMR, 0x123456, 4), 0);
  assert.equal(r.read(0, TMR, 4), 5, 'writes ignored');
  // at a real rate: one second of a 2.5 GHz TSC is 3,579,545 ticks
  r.setHz(2500000000);
  r.tsc = 0n;
  r.reset(0);
  r.tsc = 2500000000n;
  assert.equal(r.read(0, TMR, 4), 3579545);
  r.tsc += 2500000000n * 5n; // 6 s: 21,477,270 ticks, past one wrap
  assert.equal(r.read(0, TMR, 4), 3579545 * 6 - 0x1000000);
  r.setHz(3579545000);
});

test('PM1 control: SCI_EN reads 1 and stays; BM_RLD and SLP_TYP read back, SLP_EN and GBL_RLS read 0', () => {
  const r = fresh();
  assert.equal(r.read(0, CNT, 2), 0x0001);
  assert.equal(r.write(0, CNT, 0x0000, 2), 0);
  assert.equal(r.read(0, CNT, 2), 0x0001, 'SCI_EN cannot be cleared (no SMI_CMD)');
  assert.equal(r.write(0, CNT, 0x1406, 2), 0, 'SLP_TYP 5 without SLP_EN: nothing yet');
  assert.equal(r.read(0, CNT, 2), 0x1403);
  assert.equal(r.read(0, 0x606, 2), 0xffff, 'nothing at 0x606-0x607');
});

test('S5: SLP_EN with SLP_TYP 5 stops the VM, powered off; other sleep types are ignored', () => {
  const r = fresh();
  for (const typ of [0, 1, 2, 3, 4, 6, 7]) {
    assert.equal(r.write(0, CNT, (typ << 10) | 0x2000, 2), 0, `SLP_TYP ${typ}`);
  }
  // ACPICA's sequence: SLP_TYP first, then SLP_TYP | SLP_EN
  assert.equal(r.write(0, CNT, 5 << 10, 2), 0);
  assert.equal(r.write(0, CNT, (5 << 10) | 0x2000, 2), 1, 'stops');
  assert.equal(r.stopReason(), STOP_POWERED_OFF);
  assert.equal(r.stopDetail(), CNT);
  fresh();
  assert.equal(r.write(0, CNT + 1, 0x34, 1), 1, 'a byte write of the high half works too');
  fresh();
  assert.equal(r.write(0, CNT, 0x34000001, 4), 0, 'SLP_EN in bits 31:16 of a dword at 0x604 is past the register');
  assert.equal(r.write(0, 0x603, 0x340000, 4), 1, 'a dword at 0x603 covers PM1_CNT\'s high byte');
});

test('PM1 status: TMR_STS when bit 23 changes, PWRBTN_STS from the button; write 1 to clear; enables masked; the SCI', () => {
  const r = fresh();
  assert.equal(r.read(0, STS, 2), 0);
  assert.equal(r.write(0, EN, 0xffff, 2), 0);
  assert.equal(r.read(0, EN, 2), 0x0721, 'TMR_EN, GBL_EN, PWRBTN_EN, SLPBTN_EN, RTC_EN');
  r.write(0, EN, 0, 2);
  advance(r, 0x7fffff);
  assert.equal(r.read(0, STS, 2), 0, 'bit 23 not yet set');
  advance(r, 1);
  assert.equal(r.read(0, STS, 2), 0x0001, 'TMR_STS');
  assert.equal(r.sci(0), false, 'TMR_EN clear: no SCI');
  r.write(0, EN, 0x0001, 2);
  assert.equal(r.sci(0), true, 'TMR_EN: SCI');
  r.write(0, STS, 0xfffe, 2);
  assert.equal(r.read(0, STS, 2), 0x0001, 'writing 0 to TMR_STS leaves it');
  r.write(0, STS, 0x0001, 2);
  assert.equal(r.read(0, STS, 2), 0, 'cleared');
  assert.equal(r.sci(0), false);
  advance(r, 0x800000);
  assert.equal(r.read(0, STS, 1), 1, 'bit 23 fell: set again');
  r.write(0, STS, 1, 1);
  r.powerButton(0);
  assert.equal(r.read(0, STS, 2), 0x0100);
  assert.equal(r.sci(0), false, 'PWRBTN_EN clear');
  r.write(0, EN + 1, 0x01, 1);
  assert.equal(r.read(0, EN, 2), 0x0101);
  assert.equal(r.sci(0), true);
  r.write(0, STS + 1, 0x01, 1);
  assert.equal(r.read(0, STS, 2), 0);
  assert.equal(r.sci(0), false);
});

test('VMs have their own registers and timer', () => {
  const r = fresh(0);
  advance(r, 100);
  r.reset(1);
  advance(r, 100);
  r.write(1, EN, 0x0100, 2);
  assert.equal(r.read(0, TMR, 4), 200);
  assert.equal(r.read(1, TMR, 4), 100);
  assert.equal(r.read(0, EN, 2), 0);
  assert.equal(r.read(1, EN, 2), 0x0100);
});

test('migration: the timer goes on from its saved value; status, enables and SLP_TYP travel; malformed state is refused', () => {
  const r = fresh(0);
  advance(r, 0x7fff00);
  r.write(0, EN, 0x0101, 2);
  r.write(0, CNT, 3 << 10, 2);
  r.powerButton(0);
  advance(r, 0x100); // TMR_STS too
  const saved = r.save(0);
  assert.equal(saved.length, 10);
  assert.deepEqual([...saved], [0x01, 0x01, 0x01, 0x01, 0x01, 0x0c, 0x00, 0x00, 0x80, 0x00]);
  fresh(1);
  r.tsc += 123456789n; // another host, another time
  assert.equal(r.load(1, saved), true);
  assert.equal(r.read(1, TMR, 4), 0x800000);
  assert.equal(r.read(1, STS, 2), 0x0101);
  assert.equal(r.read(1, EN, 2), 0x0101);
  assert.equal(r.read(1, CNT, 2), 0x0c01);
  assert.deepEqual(r.save(1), saved, 'save -> load -> save');
  advance(r, 10);
  assert.equal(r.read(1, TMR, 4), 0x80000a);
  r.write(1, STS, 0x0101, 2);
  assert.equal(r.read(1, STS, 2), 0, 'a loaded TMR_STS clears');
  const before = r.save(1);
  const bad = (i, v) => { const b = saved.slice(); b[i] = v; return b; };
  for (const [what, bytes] of [
    ['short', saved.subarray(0, 9)], ['long', Uint8Array.from([...saved, 0])], ['reserved status bit', bad(0, 0x03)],
    ['reserved enable bit', bad(3, 0x80)], ['SCI_EN clear', bad(4, 0x00)], ['SLP_EN set', bad(5, 0x2c)], ['timer bits 31:24', bad(9, 1)],
  ]) {
    assert.equal(r.load(1, bytes), false, what);
    assert.deepEqual(r.save(1), before, `${what}: nothing changed`);
  }
});

test('fuzz: random accesses to 0x600-0x60B never throw; registers stay in their bits; S5 only from SLP_EN with SLP_TYP 5', () => {
  const r = fresh(2);
  let seed = 0x13acd5;
  const rand = (n) => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return Math.floor((seed / 2 ** 32) * n);
  };
  let stops = 0;
  for (let i = 0; i < 4000; i++) {
    const size = [1, 2, 4][rand(3)];
    const port = 0x5fe + rand(16);
    const value = rand(2 ** 32);
    r.tsc += BigInt(rand(3)) * BigInt(rand(5_000_000));
    if (rand(10) === 0) r.powerButton(2);
    if (rand(2) === 0) {
      const v = r.read(2, port, size);
      if (port < 0x600 || port > 0x60b) assert.equal(v, -1, 'no device there');
      else assert.ok(v >= 0 && v < 2 ** (8 * size), `read ${port.toString(16)}/${size}: ${v}`);
    } else {
      // which byte of the write lands on 0x605 (PM1_CNT bits 15:8), if any
      const k = 0x605 - port;
      const high = k >= 0 && k < size ? (value >>> (8 * k)) & 0xff : -1;
      const expected = high >= 0 && (high & 0x20) !== 0 && ((high >> 2) & 7) === 5 ? 1 : 0;
      const action = r.write(2, port, value, size);
      assert.equal(action, port < 0x600 || port > 0x60b ? -1 : expected, `write ${port.toString(16)}/${size} = ${value.toString(16)}`);
      if (action === 1) stops++;
    }
    assert.equal(r.read(2, STS, 2) & ~0x0101, 0);
    assert.equal(r.read(2, EN, 2) & ~0x0721, 0);
    assert.equal(r.read(2, CNT, 2) & ~0x1c03, 0);
    assert.equal(r.read(2, CNT, 1) & 1, 1, 'SCI_EN');
    assert.ok(r.read(2, TMR, 4) < 2 ** 24);
    if (i % 50 === 0) {
      const s = r.save(2);
      assert.equal(r.load(2, s), true);
      assert.deepEqual(r.save(2), s, 'save -> load -> save');
    }
  }
  assert.ok(stops > 0, 'the fuzz reached S5');
});
