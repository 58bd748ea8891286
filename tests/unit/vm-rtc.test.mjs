// The MC146818 RTC and CMOS memory (kernel/vm/devices/rtc-cmos.ts) in the porffor-compiled
// test kernel (tests/fixtures/kernels/vm-logic.ts), with time in the rig's hands: a 2 GHz TSC
// (1 s = 2e9 ticks) and a fixed host date from hv_efi_time. Checked against the MC146818A
// datasheet and the PC/AT CMOS layout: the host's date in seconds since 1970 (leap years
// included, against Date.UTC), the time registers in BCD and binary, 24- and 12-hour form,
// the century, the clock advancing with the TSC, SET (the guest sets its own time and it runs
// on from there), leap days, UIP's 244 us window, the divider, the periodic interrupt at rate
// 6 (976.5625 us) with PF/IRQF in status C cleared by reading, update-ended and alarm
// interrupts, the NMI mask bit of port 0x70, the BIOS's memory sizes, migration, and a fuzz run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VmLogic } from '../sim/vm-logic.mjs';
import { prng } from '../sim/acpi-fuzz.mjs';

const HZ = 2e9;
const SECOND = 2_000_000_000n;
const MIB = 1048576;
const [INDEX, DATA] = [0x70, 0x71];
const [SEC, MIN, HOUR, DOW, DAY, MONTH, YEAR, A, B, C, D, CENTURY] = [0, 2, 4, 6, 7, 8, 9, 0x0a, 0x0b, 0x0c, 0x0d, 0x32];
const utc = (y, mo, d, h = 0, mi = 0, s = 0) => Date.UTC(y, mo - 1, d, h, mi, s) / 1000;

let rig;
const fresh = (vm = 0, seconds = utc(2026, 11, 25, 12, 34, 56), ramBytes = 256 * MIB) => {
  rig ??= new VmLogic();
  rig.pitHz(HZ);
  rig.tsc = 10n * SECOND;
  rig.rtcReset(vm, ramBytes, seconds);
  return rig;
};
const advance = (r, ticks) => { r.tsc += BigInt(ticks); };
const read = (r, vm, reg) => { r.rtcWrite(vm, INDEX, reg); return r.rtcRead(vm, DATA); };
const write = (r, vm, reg, value) => { r.rtcWrite(vm, INDEX, reg); r.rtcWrite(vm, DATA, value); };
const bcd = (v) => ((v / 10) << 4) | (v % 10);
/** The date and time the guest reads, as Linux's mc146818_get_time would (BCD, 24-hour). */
const readClock = (r, vm) => [YEAR, MONTH, DAY, HOUR, MIN, SEC].map((reg) => read(r, vm, reg));

test('the host clock: hv_efi_time\'s date in seconds since 1970, leap years right', () => {
  const r = fresh();
  r.efiTime = [2026, 11, 25, 12, 34, 56];
  assert.equal(r.rtcHostSeconds(), utc(2026, 11, 25, 12, 34, 56));
  r.efiTime = [2028, 2, 29, 23, 59, 59];
  assert.equal(r.rtcHostSeconds(), utc(2028, 2, 29, 23, 59, 59));
  r.efiTime = [2026, 13, 1, 0, 0, 0];
  assert.equal(r.rtcHostSeconds(), 0, 'an impossible date');
  r.efiTime = null;
  assert.equal(r.rtcHostSeconds(), 0, 'GetTime failed: 1970');
  r.efiTime = [2026, 11, 25, 12, 34, 56];
  const rand = prng(1970).next;
  for (let i = 0; i < 300; i++) {
    const y = 1900 + Math.floor(rand() * 300);
    const mo = 1 + Math.floor(rand() * 12);
    const d = 1 + Math.floor(rand() * 28);
    assert.equal(r.epochSeconds(y, mo, d, 1, 2, 3), utc(y, mo, d, 1, 2, 3), `${y}-${mo}-${d}`);
  }
});

test('the time in BCD (the BIOS default) and in binary; day of week and century', () => {
  const r = fresh(0, utc(2026, 11, 25, 12, 34, 56) + 0.25);
  assert.equal(read(r, 0, B), 0x02, '24-hour BCD');
  assert.deepEqual(readClock(r, 0), [0x26, 0x11, 0x25, 0x12, 0x34, 0x56]);
  assert.equal(read(r, 0, DOW), 4, 'a Wednesday (1 = Sunday)');
  assert.equal(read(r, 0, CENTURY), 0x20);
  write(r, 0, B, 0x06);
  assert.deepEqual(readClock(r, 0), [26, 11, 25, 12, 34, 56]);
  assert.equal(read(r, 0, CENTURY), 20);
  assert.equal(read(r, 0, D), 0x80, 'valid RAM and time');
});

test('12-hour mode: hours 1-12 with bit 7 for PM', () => {
  for (const [h, bcdHour, binHour] of [[0, 0x12, 12], [1, 0x01, 1], [11, 0x11, 11], [12, 0x92, 0x8c], [13, 0x81, 0x81], [23, 0x91, 0x8b]]) {
    const r = fresh(0, utc(2026, 1, 1, h, 0, 0));
    write(r, 0, B, 0x00);
    assert.equal(read(r, 0, HOUR), bcdHour, `${h}:00 BCD`);
    write(r, 0, B, 0x04);
    assert.equal(read(r, 0, HOUR), binHour, `${h}:00 binary`);
  }
});

test('the clock advances with the TSC', () => {
  const r = fresh();
  advance(r, SECOND - 1n);
  assert.equal(read(r, 0, SEC), 0x56);
  advance(r, 1);
  assert.equal(read(r, 0, SEC), 0x57, 'a second later');
  advance(r, 4n * SECOND);
  assert.deepEqual(readClock(r, 0), [0x26, 0x11, 0x25, 0x12, 0x35, 0x01]);
  advance(r, 86400n * 37n * SECOND);
  assert.deepEqual(readClock(r, 0), [0x27, 0x01, 0x01, 0x12, 0x35, 0x01], '37 days later, a new year');
});

test('SET: the guest sets its own time, which runs on from there; the host\'s VM 1 is not moved', () => {
  const r = fresh(0);
  fresh(1);
  write(r, 0, B, 0x82 | 0x10);
  assert.equal(read(r, 0, B), 0x82, 'SET clears UIE');
  advance(r, 5n * SECOND);
  assert.equal(read(r, 0, SEC), 0x56, 'updates stop');
  for (const [reg, v] of [[CENTURY, 0x19], [YEAR, 0x99], [MONTH, 0x12], [DAY, 0x31], [HOUR, 0x23], [MIN, 0x59], [SEC, 0x58]]) write(r, 0, reg, v);
  advance(r, 3n * SECOND);
  assert.deepEqual(readClock(r, 0), [0x99, 0x12, 0x31, 0x23, 0x59, 0x58]);
  write(r, 0, B, 0x02);
  assert.deepEqual(readClock(r, 0), [0x99, 0x12, 0x31, 0x23, 0x59, 0x58], 'kept');
  advance(r, 2n * SECOND);
  assert.deepEqual(readClock(r, 0), [0x00, 0x01, 0x01, 0x00, 0x00, 0x00], 'and advancing');
  assert.equal(read(r, 0, CENTURY), 0x20);
  assert.deepEqual(readClock(r, 1), [0x26, 0x11, 0x25, 0x12, 0x35, 0x06], 'VM 1 keeps the host\'s time');
});

test('leap days: 2028-02-28 -> 02-29 -> 03-01; 2100 is not a leap year', () => {
  const r = fresh(0, utc(2028, 2, 28, 23, 59, 59));
  advance(r, SECOND);
  assert.deepEqual(readClock(r, 0), [0x28, 0x02, 0x29, 0x00, 0x00, 0x00]);
  assert.equal(read(r, 0, DOW), 3, 'a Tuesday');
  advance(r, 86399n * SECOND);
  assert.deepEqual(readClock(r, 0), [0x28, 0x02, 0x29, 0x23, 0x59, 0x59]);
  advance(r, SECOND);
  assert.deepEqual(readClock(r, 0), [0x28, 0x03, 0x01, 0x00, 0x00, 0x00]);
  const r2 = fresh(0, utc(2100, 2, 28, 23, 59, 59));
  advance(r2, SECOND);
  assert.deepEqual(readClock(r2, 0), [0x00, 0x03, 0x01, 0x00, 0x00, 0x00]);
  assert.equal(read(r2, 0, CENTURY), 0x21);
});

test('UIP: set for the last 244 us before each update, never while SET', () => {
  const r = fresh(0, utc(2026, 11, 25, 12, 34, 56));
  const start = r.tsc;
  const at = (ticks) => { r.tsc = start + BigInt(ticks); return read(r, 0, A); };
  assert.equal(at(0), 0x26);
  assert.equal(at(HZ - 245e-6 * HZ), 0x26, '245 us before');
  assert.equal(at(HZ - 243e-6 * HZ), 0xa6, '243 us before');
  assert.equal(read(r, 0, SEC), 0x56, 'the update has not happened');
  assert.equal(at(HZ), 0x26);
  assert.equal(read(r, 0, SEC), 0x57);
  write(r, 0, B, 0x82);
  assert.equal(at(2 * HZ - 100e-6 * HZ), 0x26);
});

test('the divider: DV = 11x holds the clock; back to 010, the first update comes 500 ms later', () => {
  const r = fresh();
  write(r, 0, A, 0x70);
  advance(r, 3n * SECOND);
  assert.equal(read(r, 0, SEC), 0x56);
  assert.equal(read(r, 0, A), 0x70);
  write(r, 0, A, 0x26);
  advance(r, 4n * SECOND / 10n);
  assert.equal(read(r, 0, SEC), 0x56);
  advance(r, 2n * SECOND / 10n);
  assert.equal(read(r, 0, SEC), 0x57);
});

test('periodic interrupt at rate 6: every 976.5625 us, PF and IRQF in C until read', () => {
  const r = fresh();
  assert.equal(read(r, 0, A) & 0x0f, 6, 'the BIOS leaves rate 6 (1024 Hz)');
  assert.equal(r.rtcIrqDeadline(0), -1, 'no interrupt enabled');
  advance(r, 2_000_000);
  assert.equal(read(r, 0, C), 0x40, 'PF is set whether enabled or not; no IRQF');
  assert.equal(read(r, 0, C), 0x00, 'a read clears C');
  write(r, 0, B, 0x42);
  const d1 = r.rtcIrqDeadline(0);
  assert.ok(d1 > Number(r.tsc) && d1 - Number(r.tsc) <= 1953125 + 1, `${d1} after ${r.tsc}`);
  r.tsc = BigInt(Math.ceil(d1)) - 1n;
  assert.equal(r.rtcIrqService(0), false, 'just before');
  r.tsc += 1n;
  assert.equal(r.rtcIrqService(0), true, 'IRQ 8');
  assert.equal(r.rtcIrqService(0), false, 'once');
  assert.equal(r.rtcIrqDeadline(0), -1, 'IRQF holds the line until C is read');
  assert.equal(read(r, 0, C), 0xc0);
  const d2 = r.rtcIrqDeadline(0);
  assert.ok(Math.abs(d2 - d1 - 976.5625e-6 * HZ) < 1, `period ${d2 - d1}`);
  r.tsc = BigInt(Math.ceil(d2));
  assert.equal(r.rtcIrqService(0), true);
  write(r, 0, A, 0x23); // 8192 Hz
  read(r, 0, C);
  const d3 = r.rtcIrqDeadline(0);
  r.tsc = BigInt(Math.ceil(d3));
  assert.equal(r.rtcIrqService(0), true);
  read(r, 0, C);
  assert.ok(Math.abs(r.rtcIrqDeadline(0) - d3 - 122.0703125e-6 * HZ) < 1);
  write(r, 0, A, 0x20); // rate 0: none
  read(r, 0, C);
  assert.equal(r.rtcIrqDeadline(0), -1);
});

test('update-ended and alarm interrupts: UF each second, AF when the alarm matches', () => {
  const r = fresh(0, utc(2026, 11, 25, 12, 34, 56) + 0.5);
  write(r, 0, A, 0x20); // no periodic flag
  write(r, 0, B, 0x12);
  const d = r.rtcIrqDeadline(0);
  assert.ok(Math.abs(d - (Number(r.tsc) + HZ / 2)) < 2, 'at the next second');
  r.tsc = BigInt(Math.ceil(d));
  assert.equal(r.rtcIrqService(0), true);
  assert.equal(read(r, 0, C), 0x90);
  assert.equal(read(r, 0, SEC), 0x57);
  write(r, 0, B, 0x22); // AIE only
  write(r, 0, 1, 0x00); // alarm 12:35:00
  write(r, 0, 3, 0x35);
  write(r, 0, 5, 0x12);
  r.tsc += 2n * SECOND;
  assert.equal(r.rtcIrqService(0), false, '12:34:59: no match');
  r.tsc += SECOND;
  assert.equal(r.rtcIrqService(0), true, '12:35:00');
  assert.equal(read(r, 0, C), 0xb0);
  write(r, 0, 5, 0xc0); // any hour
  write(r, 0, 3, 0xc0); // any minute
  write(r, 0, 1, 0x02);
  r.tsc += 2n * SECOND;
  assert.equal(r.rtcIrqService(0), true, '12:35:02');
});

test('port 0x70: bit 7 masks NMI and does not change the register index', () => {
  const r = fresh();
  r.rtcWrite(0, INDEX, 0x80 | A);
  assert.equal(r.rtcRead(0, DATA), 0x26);
  assert.equal(r.rtcNmiMasked(0), true);
  r.rtcWrite(0, INDEX, 0x80 | D);
  assert.equal(r.rtcRead(0, DATA), 0x80);
  r.rtcWrite(0, INDEX, SEC);
  assert.equal(r.rtcNmiMasked(0), false);
  assert.equal(r.rtcRead(0, DATA), 0x56);
  assert.equal(r.rtcRead(0, INDEX), 0xff, 'the index is write-only');
  assert.equal(r.rtcRead(0, 0x72), -1);
  assert.equal(r.rtcRead(99, DATA), -1);
  write(r, 0, D, 0x00);
  assert.equal(read(r, 0, D), 0x80, 'D is read-only');
  write(r, 0, C, 0xff);
  assert.equal(read(r, 0, C), 0x00, 'C is read-only');
});

test('CMOS memory as a BIOS leaves it: 256 MiB and 32 MiB of RAM; the rest is kept', () => {
  const r = fresh(0, 0, 256 * MIB);
  const word = (reg) => read(r, 0, reg) | (read(r, 0, reg + 1) << 8);
  assert.equal(read(r, 0, 0x10), 0x00, 'no floppy');
  assert.equal(read(r, 0, 0x14), 0x02, 'equipment: coprocessor, no floppy');
  assert.equal(word(0x15), 640, 'base memory KiB');
  assert.equal(word(0x17), 0xffff, 'extended memory KiB (capped)');
  assert.equal(word(0x30), 0xffff);
  assert.equal(word(0x34), (256 - 16) * 16, '64 KiB blocks above 16 MiB');
  let sum = 0;
  for (let i = 0x10; i <= 0x2d; i++) sum += read(r, 0, i);
  assert.equal((read(r, 0, 0x2e) << 8) | read(r, 0, 0x2f), sum, 'checksum');
  fresh(0, 0, 32 * MIB);
  assert.equal(word(0x17), 31 * 1024);
  assert.equal(word(0x30), 31 * 1024);
  assert.equal(word(0x34), 256);
  write(r, 0, 0x50, 0xa5);
  write(r, 0, 0x7f, 0x5a);
  assert.equal(read(r, 0, 0x50), 0xa5);
  assert.equal(read(r, 0, 0x7f), 0x5a);
  assert.equal(read(r, 0, 0x80 | 0x7f), 0x5a, 'bit 7 of the index is the NMI mask');
  assert.deepEqual(readClock(r, 0), [0x70, 0x01, 0x01, 0x00, 0x00, 0x00], '1970');
});

test('migration: the clock and CMOS go on from where they were; malformed state is refused', () => {
  const r = fresh(0);
  fresh(1, utc(2001, 1, 1));
  write(r, 0, B, 0x82);
  for (const [reg, v] of [[YEAR, 0x30], [MONTH, 0x06], [DAY, 0x15], [HOUR, 0x08], [MIN, 0x00], [SEC, 0x00]]) write(r, 0, reg, v);
  write(r, 0, B, 0x42);
  write(r, 0, 0x40, 0x77);
  advance(r, 3n * SECOND + SECOND / 4n);
  r.rtcWrite(0, INDEX, 0x80 | MIN);
  const saved = r.rtcSave(0);
  assert.equal(saved.length, 140);
  advance(r, 7n * SECOND); // the transfer takes a while: the clock goes on from the saved point
  assert.ok(r.rtcLoad(1, saved));
  assert.equal(r.rtcRead(1, DATA), 0x00, 'the index came along');
  assert.equal(r.rtcNmiMasked(1), true);
  assert.deepEqual(readClock(r, 1), [0x30, 0x06, 0x15, 0x08, 0x00, 0x03]);
  advance(r, (SECOND * 3n) / 4n);
  assert.equal(read(r, 1, SEC), 0x04, 'the phase within the second came along');
  assert.equal(read(r, 1, 0x40), 0x77);
  assert.equal(read(r, 1, B), 0x42);
  assert.ok(r.rtcIrqDeadline(1) > 0, 'periodic interrupts on');
  const before = r.rtcSave(2);
  for (const [at, value] of [[A, 0xa6], [C, 0x01], [D, 0x00], [138, 0x0f], [139, 2]]) {
    const bad = saved.slice();
    bad[at] = value;
    assert.equal(r.rtcLoad(2, bad), false, `byte ${at} = ${value}`);
  }
  assert.equal(r.rtcLoad(2, saved.subarray(0, 139)), false, 'short');
  assert.deepEqual(r.rtcSave(2), before, 'nothing changed');
});

test('fuzz: 20,000 random accesses over 4 VMs never throw, keep C and D sane, round-trip through save/load', () => {
  const r = fresh(0);
  for (let vm = 1; vm < 4; vm++) fresh(vm, utc(2000 + vm, vm, vm));
  const rand = prng(146818).next;
  const pick = (n) => Math.floor(rand() * n);
  for (let step = 0; step < 20000; step++) {
    const vm = pick(4);
    const op = pick(12);
    if (op < 3) r.rtcWrite(vm, INDEX, rand() < 0.7 ? pick(0x0e) | (pick(2) << 7) : pick(256));
    else if (op < 6) {
      const reg = [A, B, SEC, MIN, HOUR, DAY, MONTH, YEAR, CENTURY, pick(128)][pick(10)];
      const value = reg === A ? [0x26, 0x20 | pick(16), 0x70, pick(256)][pick(4)] : pick(256);
      write(r, vm, reg, value);
    } else if (op < 8) {
      const v = r.rtcRead(vm, DATA);
      assert.ok(v >= 0 && v <= 0xff, `read ${v}`);
    } else if (op < 9) advance(r, pick(2 * HZ / 1000) * (rand() < 0.05 ? 1000 : 1));
    else if (op < 10) {
      const d = r.rtcIrqDeadline(vm);
      assert.ok(d === -1 || d >= 0, `deadline ${d}`);
      r.rtcIrqService(vm);
    } else if (op < 11) {
      assert.equal(read(r, vm, D), 0x80);
      assert.equal(read(r, vm, C) & 0x0f, 0);
    } else {
      const s = r.rtcSave(vm);
      const other = (vm + 1) % 4;
      const keep = r.rtcSave(other);
      assert.ok(r.rtcLoad(other, s));
      assert.deepEqual(r.rtcSave(other), s);
      assert.ok(r.rtcLoad(other, keep));
    }
  }
});
