// The local APIC (kernel/vm/devices/lapic.ts) in the porffor-compiled test kernel
// (tests/fixtures/kernels/vm-logic.ts), as a guest sees it through its page and its MSRs,
// checked against the SDM vol. 3A chapter 11: the firmware's reset state, TPR/PPR and the
// priority between requested and in-service vectors, EOI order and the level-EOI result,
// the timer's three modes with counts read back and the divide encodings, the x2APIC MSRs'
// #GP cases and IA32_APIC_BASE's transitions, ICR self-IPIs and NMIs, ESR latching, the LVT
// error interrupt, software disable, migration state, and a seeded fuzz run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VmLogic } from '../sim/vm-logic.mjs';
import { prng } from '../sim/acpi-fuzz.mjs';

// xAPIC register offsets (table 11-1)
const ID = 0x20, VER = 0x30, TPR = 0x80, APR = 0x90, PPR = 0xa0, EOI = 0xb0, LDR = 0xd0, DFR = 0xe0, SVR = 0xf0;
const ISR = 0x100, TMR = 0x180, IRR = 0x200, ESR = 0x280, ICR_LO = 0x300, ICR_HI = 0x310;
const LVT_TIMER = 0x320, LVT_THERMAL = 0x330, LVT_PMC = 0x340, LVT0 = 0x350, LVT1 = 0x360, LVT_ERROR = 0x370;
const TMICT = 0x380, TMCCT = 0x390, TDCR = 0x3e0;
const APIC_BASE = 0x1b, TSC_DEADLINE = 0x6e0;
const GP = -2, DONE = -1;

let rig;
const fresh = (v = 0, apicId = 0) => {
  rig ??= new VmLogic();
  rig.lReset(v, apicId);
  return rig;
};
/** Fresh and software-enabled (SVR 0x1FF, spurious vector 0xFF). */
const enabled = (v = 0, apicId = 0) => {
  const r = fresh(v, apicId);
  r.lWrite(v, SVR, 0x1ff);
  return r;
};
const bit = (r, v, base, vector) => (r.lRead(v, base + (vector >> 5) * 0x10) >>> (vector & 31)) & 1;
const takeAll = (r, v) => {
  const got = [];
  for (let vec = r.lPending(v); vec >= 0; vec = r.lPending(v)) {
    assert.ok(r.lAck(v, vec));
    got.push(vec);
  }
  return got;
};

test('reset: the state firmware leaves (xAPIC enabled, BSP, LINT0 ExtINT, LINT1 NMI, software-disabled)', () => {
  const r = fresh(0, 0);
  assert.equal(r.lRead(0, VER), 0x00050014, 'version 0x14, max LVT 5, no EOI-broadcast suppression');
  assert.equal(r.lRead(0, ID), 0);
  assert.deepEqual(r.lMsrRead(0, APIC_BASE), [0xfee00900, 0]);
  assert.equal(r.lRead(0, LVT0), 0x700);
  assert.equal(r.lRead(0, LVT1), 0x400);
  for (const reg of [LVT_TIMER, LVT_THERMAL, LVT_PMC, LVT_ERROR]) assert.equal(r.lRead(0, reg), 0x10000, `LVT ${reg.toString(16)} masked`);
  assert.equal(r.lRead(0, SVR), 0xff);
  assert.equal(r.lRead(0, DFR), 0xffffffff);
  assert.equal(r.lRead(0, LDR), 0);
  assert.equal(r.lRead(0, TPR), 0);
  assert.ok(r.lAcceptsPic(0), 'LINT0 in ExtINT, unmasked: the 8259 reaches the CPU');
  fresh(2, 3);
  assert.equal(r.lRead(2, ID), 0x03000000, 'ID in bits 31:24');
  assert.deepEqual(r.lMsrRead(2, APIC_BASE), [0xfee00800, 0], 'not the BSP');
  r.lAccept(0, 0x40, 0);
  assert.equal(r.lPending(0), -1, 'nothing is taken while software-disabled');
  assert.equal(bit(r, 0, IRR, 0x40), 1, 'but IRR holds it');
  r.lWrite(0, SVR, 0x1ff);
  assert.equal(r.lPending(0), 0x40);
});

test('TPR and PPR: a vector is taken only when its class is above PPR\'s; in-service vectors raise PPR', () => {
  const r = enabled();
  for (const vec of [0x31, 0x45, 0x52]) r.lAccept(0, vec);
  assert.equal(r.lPending(0), 0x52);
  r.lWrite(0, TPR, 0x50);
  assert.equal(r.lPending(0), -1, 'class 5 is not above TPR class 5');
  assert.equal(r.lRead(0, PPR), 0x50);
  r.lWrite(0, TPR, 0x14f);
  assert.equal(r.lRead(0, TPR), 0x4f, 'TPR bits 7:0');
  assert.equal(r.lRead(0, PPR), 0x4f, 'PPR = TPR when no higher class is in service');
  assert.equal(r.lPending(0), 0x52);
  assert.ok(r.lAck(0, 0x52));
  assert.equal(bit(r, 0, ISR, 0x52), 1);
  assert.equal(bit(r, 0, IRR, 0x52), 0);
  assert.equal(r.lRead(0, PPR), 0x50, 'PPR = ISR class when above TPR\'s (11.8.3.1)');
  assert.equal(r.lPending(0), -1, '0x45 waits behind the in-service 0x52');
  r.lWrite(0, TPR, 0x57);
  assert.equal(r.lRead(0, PPR), 0x57, 'PPR = TPR when its class equals the in-service one');
  r.lWrite(0, TPR, 0x4f);
  r.lAccept(0, 0x61);
  assert.equal(r.lPending(0), 0x61, 'a higher class nests');
  assert.ok(r.lAck(0, 0x61));
  assert.equal(r.lRead(0, PPR), 0x60);
  assert.equal(r.lRead(0, APR), 0);
  assert.equal(r.lWrite(0, EOI, 0), -1);
  assert.equal(bit(r, 0, ISR, 0x61), 0, 'EOI ends the highest in-service vector first');
  assert.equal(bit(r, 0, ISR, 0x52), 1);
  r.lWrite(0, EOI, 0);
  assert.equal(r.lRead(0, PPR), 0x4f);
  assert.equal(r.lPending(0), -1, '0x45 is class 4: still not above TPR 0x4f');
  r.lWrite(0, TPR, 0);
  assert.deepEqual(takeAll(r, 0), [0x45], 'one at a time: 0x31 waits behind 0x45');
  r.lWrite(0, EOI, 0);
  assert.deepEqual(takeAll(r, 0), [0x31]);
  assert.equal(r.lAck(0, 0x31), false, 'not requested any more');
});

test('TMR and EOI: a level-triggered vector\'s EOI returns it (for the I/O APIC), an edge one\'s does not', () => {
  const r = enabled();
  r.lAccept(0, 0x40, 1);
  assert.equal(bit(r, 0, TMR, 0x40), 1);
  assert.ok(r.lAck(0, 0x40));
  r.lAccept(0, 0x50, 0);
  assert.equal(bit(r, 0, TMR, 0x50), 0);
  assert.ok(r.lAck(0, 0x50));
  assert.equal(r.lWrite(0, EOI, 0), -1, '0x50 ends first, edge');
  assert.equal(r.lWrite(0, EOI, 0), 0x40, 'then the level 0x40');
  assert.equal(r.lWrite(0, EOI, 0), -1, 'nothing in service');
  r.lAccept(0, 0x40, 0);
  assert.equal(bit(r, 0, TMR, 0x40), 0, 'an edge acceptance clears TMR');
});

test('timer one-shot: expires exactly after initial x divide ticks; the count reads back; the divide encodings', () => {
  const r = enabled();
  const T0 = 5_000_000;
  r.lWrite(0, LVT_TIMER, 0x30);
  r.lWrite(0, TDCR, 0x3, T0); // divide by 16
  r.lWrite(0, TMICT, 1000, T0);
  assert.equal(r.lRead(0, TMICT), 1000);
  assert.equal(r.lRead(0, TMCCT, T0), 1000);
  assert.equal(r.lRead(0, TMCCT, T0 + 16 * 10 + 15), 990);
  assert.equal(r.lDeadline(0), T0 + 16000);
  assert.equal(r.lService(0, T0 + 15999), false, 'not before');
  assert.equal(r.lPending(0), -1);
  assert.equal(r.lRead(0, TMCCT, T0 + 15999), 1);
  assert.equal(r.lService(0, T0 + 16000), true, 'exactly at the deadline');
  assert.equal(r.lPending(0), 0x30);
  assert.equal(r.lRead(0, TMCCT, T0 + 20000), 0, 'stays at 0');
  assert.equal(r.lDeadline(0), -1);
  assert.equal(r.lService(0, T0 + 40000), false, 'one shot');
  r.lWrite(0, TMICT, 0, T0);
  const divisors = [[0x0, 2], [0x1, 4], [0x2, 8], [0x3, 16], [0x8, 32], [0x9, 64], [0xa, 128], [0xb, 1]];
  for (const [code, div] of divisors) {
    r.lWrite(0, TDCR, code | 0x4 | 0xf0, T0);
    assert.equal(r.lRead(0, TDCR), code, 'bits 0, 1, 3 only');
    r.lWrite(0, TMICT, 100, T0);
    assert.equal(r.lDeadline(0), T0 + 100 * div, `divide code ${code}`);
    assert.equal(r.lRead(0, TMCCT, T0 + div), 99);
  }
  r.lWrite(0, TMICT, 0, T0);
  assert.equal(r.lDeadline(0), -1, 'an initial count of 0 stops it');
});

test('timer periodic: n expiries after n periods, reloads from the expiry (no drift), periods missed when late are owed and go one by one', () => {
  const r = enabled();
  const T0 = 1_000_000;
  r.lWrite(0, LVT_TIMER, 0x20000 | 0x31);
  r.lWrite(0, TDCR, 0xb, T0); // divide by 1
  r.lWrite(0, TMICT, 100, T0);
  let fired = 0;
  for (let k = 1; k <= 5; k++) {
    assert.equal(r.lService(0, T0 + 100 * k - 1), false);
    if (r.lService(0, T0 + 100 * k + 7)) fired++; // the caller is 7 ticks late each time
    assert.equal(r.lDeadline(0), T0 + 100 * (k + 1), 'no drift');
    assert.equal(r.lRead(0, TMCCT, T0 + 100 * k + 30), 70);
    assert.equal(r.lPending(0), 0x31);
    r.lAck(0, 0x31);
    r.lWrite(0, EOI, 0);
  }
  assert.equal(fired, 5);
  assert.equal(r.lService(0, T0 + 100 * 9 + 50), true, 'late by 3.5 periods');
  assert.equal(r.lPending(0), 0x31);
  assert.equal(r.lDeadline(0), T0 + 1000, 'the phase caught up; the owed periods wait while one is requested');
  assert.equal(r.lService(0, T0 + 951), false, 'nothing more while the interrupt is still requested');
  r.lAck(0, 0x31);
  r.lWrite(0, EOI, 0);
  // four periods ended since the last expiry (T0 + 600 .. T0 + 900): one fired, three are owed,
  // and each goes once the one before it was taken
  for (let owed = 3; owed >= 1; owed--) {
    assert.equal(r.lDeadline(0), T0 + 900, `an owed period (${owed} left) is due at once`);
    assert.equal(r.lService(0, T0 + 952), true);
    assert.equal(r.lPending(0), 0x31);
    r.lAck(0, 0x31);
    r.lWrite(0, EOI, 0);
  }
  assert.equal(r.lService(0, T0 + 953), false, 'none owed any more');
  assert.equal(r.lPending(0), -1);
  assert.equal(r.lDeadline(0), T0 + 1000, 'the phase kept');
  assert.equal(r.lRead(0, TMCCT, T0 + 950), 50);
  r.lWrite(0, LVT_TIMER, 0x31, T0); // to one-shot: the current period runs out, then it stops
  assert.equal(r.lService(0, T0 + 1000), true);
  assert.equal(r.lDeadline(0), -1);
});

test('timer TSC-deadline: fires at the deadline and not before, 0 disarms, reads back, switching modes disarms', () => {
  const r = enabled();
  r.lWrite(0, LVT_TIMER, 0x40000 | 0x41);
  r.lWrite(0, TMICT, 500, 0);
  assert.equal(r.lRead(0, TMICT), 0, 'the initial count is ignored');
  assert.equal(r.lDeadline(0), -1);
  assert.equal(r.lMsrWrite(0, TSC_DEADLINE, 0x2345678, 0x1), DONE);
  assert.deepEqual(r.lMsrRead(0, TSC_DEADLINE), [0x2345678, 1]);
  const D = 0x100000000 + 0x2345678;
  assert.equal(r.lDeadline(0), D);
  assert.equal(r.lService(0, D - 1), false);
  assert.equal(r.lPending(0), -1);
  assert.equal(r.lService(0, D), true);
  assert.equal(r.lPending(0), 0x41);
  assert.deepEqual(r.lMsrRead(0, TSC_DEADLINE), [0, 0], 'disarmed once fired');
  assert.equal(r.lService(0, D + 1000), false);
  r.lMsrWrite(0, TSC_DEADLINE, 5000, 0);
  r.lMsrWrite(0, TSC_DEADLINE, 0, 0);
  assert.equal(r.lDeadline(0), -1, '0 disarms');
  r.lMsrWrite(0, TSC_DEADLINE, 10, 0);
  assert.equal(r.lService(0, 1e9), true, 'a deadline in the past fires at the next service');
  r.lMsrWrite(0, TSC_DEADLINE, 777, 0);
  r.lWrite(0, LVT_TIMER, 0x41);
  assert.deepEqual(r.lMsrRead(0, TSC_DEADLINE), [0, 0], 'other modes read 0');
  assert.equal(r.lDeadline(0), -1, 'leaving TSC-deadline mode disarms');
  r.lMsrWrite(0, TSC_DEADLINE, 777, 0);
  r.lWrite(0, LVT_TIMER, 0x40041);
  assert.deepEqual(r.lMsrRead(0, TSC_DEADLINE), [0, 0], 'writes in another mode were ignored');
  r.lWrite(0, LVT_TIMER, 0x41);
  r.lWrite(0, TMICT, 100, 0);
  r.lWrite(0, LVT_TIMER, 0x40041);
  assert.equal(r.lRead(0, TMICT), 0, 'entering TSC-deadline mode stops the count');
  assert.equal(r.lDeadline(0), -1);
});

test('a masked LVT timer counts and expires but raises nothing', () => {
  const r = enabled();
  r.lWrite(0, LVT_TIMER, 0x10000 | 0x20000 | 0x50);
  r.lWrite(0, TDCR, 0xb, 0);
  r.lWrite(0, TMICT, 10, 0);
  assert.equal(r.lRead(0, TMCCT, 4), 6);
  assert.equal(r.lService(0, 10), true);
  assert.equal(r.lPending(0), -1);
  assert.equal(bit(r, 0, IRR, 0x50), 0);
  r.lWrite(0, LVT_TIMER, 0x20000 | 0x50);
  assert.equal(r.lService(0, 20), true);
  assert.equal(r.lPending(0), 0x50, 'unmasked, the next period raises it');
});

test('x2APIC: MSRs #GP outside x2APIC mode, read-only, write-only and reserved ones; the page reads all ones', () => {
  const r = enabled(0, 5);
  assert.equal(r.lMsrRead(0, 0x802), null, '#GP in xAPIC mode');
  assert.equal(r.lMsrWrite(0, 0x808, 0), GP);
  assert.equal(r.lMsrWrite(0, APIC_BASE, 0xfee00c00), DONE, 'xAPIC -> x2APIC');
  assert.deepEqual(r.lMsrRead(0, 0x802), [5, 0], '32-bit x2APIC ID');
  assert.deepEqual(r.lMsrRead(0, 0x803), [0x00050014, 0]);
  assert.deepEqual(r.lMsrRead(0, 0x80d), [(0 << 16) | (1 << 5), 0], 'LDR derived from the ID (11.12.10.2)');
  assert.equal(r.lRead(0, VER), 0xffffffff, 'the page is gone');
  r.lWrite(0, TPR, 0x30);
  assert.deepEqual(r.lMsrRead(0, 0x808), [0, 0], 'page writes ignored');
  assert.equal(r.lMsrWrite(0, 0x808, 0x20), DONE);
  assert.deepEqual(r.lMsrRead(0, 0x80a), [0x20, 0], 'PPR');
  assert.equal(r.lMsrWrite(0, 0x808, 0x20, 1), GP, 'reserved bits 63:32');
  for (const ro of [0x802, 0x803, 0x80a, 0x80d, 0x810, 0x818, 0x820, 0x839]) assert.equal(r.lMsrWrite(0, ro, 0), GP, `write ${ro.toString(16)}`);
  for (const wo of [0x80b, 0x83f]) assert.equal(r.lMsrRead(0, wo), null, `read ${wo.toString(16)}`);
  for (const reserved of [0x800, 0x809, 0x80c, 0x80e, 0x82f, 0x831, 0x83a, 0x8ff]) {
    assert.equal(r.lMsrRead(0, reserved), null, `read ${reserved.toString(16)}`);
    assert.equal(r.lMsrWrite(0, reserved, 0), GP, `write ${reserved.toString(16)}`);
  }
  assert.equal(r.lMsrWrite(0, 0x80b, 1), GP, 'a non-zero EOI');
  assert.equal(r.lMsrWrite(0, 0x828, 1), GP, 'a non-zero ESR write');
  assert.equal(r.lMsrWrite(0, 0x83f, 0x55), DONE, 'SELF_IPI');
  assert.equal(r.lPending(0), 0x55);
  r.lAck(0, 0x55);
  assert.equal(r.lMsrWrite(0, 0x80b, 0), DONE);
  r.lAccept(0, 0x66, 1);
  r.lAck(0, 0x66);
  assert.deepEqual(r.lMsrRead(0, 0x813), [1 << 6, 0], 'ISR word 3');
  assert.equal(r.lMsrWrite(0, 0x80b, 0), 0x66, 'level EOI through the MSR');
  assert.equal(r.lMsrWrite(0, 0x830, 0x77, 5), DONE, 'ICR as one MSR, destination 5 in bits 63:32');
  assert.deepEqual(r.lMsrRead(0, 0x830), [0x77, 5]);
  assert.equal(r.lPending(0), 0x77);
  r.lMsrWrite(0, 0x838, 0);
  assert.equal(r.lMsrWrite(0, 0x832, 0x20), DONE, 'LVT timer');
  assert.deepEqual(r.lMsrRead(0, 0x832), [0x20, 0]);
});

test('x2APIC destinations: 32-bit physical IDs, logical cluster:bitmap from the derived LDR, broadcasts', () => {
  const r = enabled(0, 0x123);
  assert.equal(r.lMsrWrite(0, APIC_BASE, 0xfee00800 | 0x400), DONE);
  assert.deepEqual(r.lMsrRead(0, 0x80d), [0x00120008, 0], 'LDR: cluster 0x12, bit 3');
  assert.ok(r.lMatch(0, 0x123, false, true));
  assert.equal(r.lMatch(0, 0x23, false, true), false);
  assert.ok(r.lMatch(0, 0x0012000c, true, true));
  assert.equal(r.lMatch(0, 0x00130008, true, true), false, 'another cluster');
  assert.equal(r.lMatch(0, 0x00120004, true, true), false, 'another member');
  assert.ok(r.lMatch(0, 0xffffffff, false, true), 'x2APIC broadcast');
  assert.ok(r.lMatch(0, 0xff, false, false), 'an 8-bit broadcast (I/O APIC) reaches x2APIC mode too');
  assert.equal(r.lMatch(0, 0xff, false, true), false, '0xFF is an ID in a 32-bit destination');
  r.lMsrWrite(0, 0x830, 0x800 | 0x71, 0x00120008);
  assert.equal(r.lPending(0), 0x71, 'logical self-IPI through the 64-bit ICR');
});

test('IA32_APIC_BASE transitions (11.12.5): x2APIC only from xAPIC, back only through disabled; disable is power-on', () => {
  const r = enabled(0, 0);
  r.lAccept(0, 0x80);
  assert.equal(r.lMsrWrite(0, APIC_BASE, 0xfee00400), GP, 'EXTD without EN is invalid');
  assert.equal(r.lMsrWrite(0, APIC_BASE, 0xfed00900), GP, 'no relocation');
  assert.equal(r.lMsrWrite(0, APIC_BASE, 0xfee00900, 1), GP, 'no relocation above 4 GiB');
  assert.equal(r.lMsrWrite(0, APIC_BASE, 0xfee00901), GP, 'reserved bit');
  assert.equal(r.lMsrWrite(0, APIC_BASE, 0xfee00d00), DONE, '-> x2APIC');
  assert.equal(r.lMsrWrite(0, APIC_BASE, 0xfee00900), GP, 'x2APIC -> xAPIC');
  assert.deepEqual(r.lMsrRead(0, APIC_BASE), [0xfee00d00, 0]);
  assert.equal(r.lMsrWrite(0, APIC_BASE, 0xfee00100), DONE, '-> disabled');
  assert.ok(r.lAcceptsPic(0), 'disabled: the 8259 goes straight to the CPU');
  assert.equal(r.lPending(0), -1);
  assert.equal(r.lRead(0, VER), 0xffffffff, 'no page while disabled');
  r.lAccept(0, 0x90);
  assert.equal(r.lMsrWrite(0, APIC_BASE, 0xfee00d00), GP, 'disabled -> x2APIC');
  assert.equal(r.lMsrWrite(0, APIC_BASE, 0xfee00900), DONE, 'disabled -> xAPIC');
  assert.equal(r.lRead(0, SVR), 0xff, 'power-on state');
  assert.equal(r.lRead(0, LVT0), 0x10000, 'LVTs masked at power-on');
  assert.equal(r.lAcceptsPic(0), false);
  assert.equal(bit(r, 0, IRR, 0x80), 0, 'IRR cleared');
  assert.equal(bit(r, 0, IRR, 0x90), 0, 'nothing accepted while disabled');
  assert.equal(r.lMsrWrite(0, APIC_BASE, 0xfee00d00), DONE);
  assert.equal(r.lMsrWrite(0, APIC_BASE, 0xfee00d00), DONE, 'no change is fine');
});

test('ICR: fixed and NMI IPIs to self; other targets dropped and counted; illegal vectors set ESR', () => {
  const r = enabled(0, 2);
  r.lWrite(0, ICR_LO, 0x40000 | 0x60);
  assert.equal(bit(r, 0, IRR, 0x60), 1, 'shorthand self');
  assert.equal(r.lRead(0, ICR_LO), 0x40060, 'delivery status idle');
  r.lWrite(0, ICR_HI, 0x02ffffff);
  assert.equal(r.lRead(0, ICR_HI), 0x02000000);
  r.lWrite(0, ICR_LO, 0x61);
  assert.equal(bit(r, 0, IRR, 0x61), 1, 'physical destination = own ID');
  r.lWrite(0, ICR_LO, 0x80000 | 0x62);
  assert.equal(bit(r, 0, IRR, 0x62), 1, 'all including self');
  assert.equal(r.lDroppedIpis(0), 0);
  r.lWrite(0, ICR_LO, 0xc0000 | 0x63);
  assert.equal(bit(r, 0, IRR, 0x63), 0, 'all excluding self');
  r.lWrite(0, ICR_HI, 0x07000000);
  r.lWrite(0, ICR_LO, 0x64);
  assert.equal(bit(r, 0, IRR, 0x64), 0, 'another APIC ID');
  r.lWrite(0, ICR_LO, 0x500); // INIT
  assert.equal(r.lDroppedIpis(0), 3);
  r.lWrite(0, ICR_LO, 0x40400);
  assert.ok(r.lNmiPending(0), 'NMI to self');
  assert.ok(r.lTakeNmi(0));
  assert.equal(r.lTakeNmi(0), false);
  r.lWrite(0, ICR_LO, 0x40005);
  r.lWrite(0, ICR_LO, 0x40300 | 0x70); // reserved delivery mode
  assert.equal(bit(r, 0, IRR, 0x70), 0);
  r.lWrite(0, ESR, 0);
  assert.equal(r.lRead(0, ESR), 0x20, 'send illegal vector');
  r.lWrite(0, LDR, 0x04ffffff);
  assert.equal(r.lRead(0, LDR), 0x04000000);
  r.lWrite(0, ICR_HI, 0x04000000);
  r.lWrite(0, ICR_LO, 0x800 | 0x65);
  assert.equal(bit(r, 0, IRR, 0x65), 1, 'logical destination matching the LDR (flat)');
});

test('ESR: writes latch the errors since the last write; an unmasked LVT error raises its vector', () => {
  const r = enabled();
  r.lAccept(0, 3);
  assert.equal(r.lPending(0), -1, 'vectors 0-15 are illegal');
  assert.equal(bit(r, 0, IRR, 3), 0);
  assert.equal(r.lRead(0, ESR), 0, 'nothing latched yet');
  r.lWrite(0, ESR, 0);
  assert.equal(r.lRead(0, ESR), 0x40, 'receive illegal vector');
  assert.equal(r.lRead(0, ESR), 0x40, 'reads do not clear');
  r.lRead(0, 0x3f0); // a reserved register
  r.lWrite(0, ESR, 0);
  assert.equal(r.lRead(0, ESR), 0x80, 'illegal register address');
  r.lWrite(0, ESR, 0);
  assert.equal(r.lRead(0, ESR), 0);
  r.lWrite(0, LVT_ERROR, 0xe0);
  r.lAccept(0, 7);
  assert.equal(r.lPending(0), 0xe0, 'LVT error');
  r.lWrite(0, LVT_ERROR, 0x05); // an illegal vector in the LVT error: one more error, no loop
  r.lWrite(0, ESR, 0);
  r.lAccept(0, 8);
  r.lWrite(0, ESR, 0);
  assert.equal(r.lRead(0, ESR), 0x40);
});

test('software disable (SVR bit 8 clear) masks the LVTs and holds IRR; LINT pins follow their LVTs', () => {
  const r = enabled();
  r.lWrite(0, LVT_TIMER, 0x20);
  r.lAccept(0, 0x80);
  r.lWrite(0, SVR, 0xff);
  for (const reg of [LVT_TIMER, LVT0, LVT1]) assert.equal(r.lRead(0, reg) & 0x10000, 0x10000, `LVT ${reg.toString(16)} masked`);
  r.lWrite(0, LVT0, 0x700);
  assert.equal(r.lRead(0, LVT0), 0x10700, 'the mask cannot be cleared while disabled');
  assert.equal(r.lAcceptsPic(0), false);
  assert.equal(r.lPending(0), -1);
  r.lWrite(0, SVR, 0x1ff);
  assert.equal(r.lPending(0), 0x80, 'IRR held');
  r.lWrite(0, LVT0, 0x700);
  assert.ok(r.lAcceptsPic(0));
  r.lWrite(0, LVT0, 0x31);
  r.lLint(0, 0);
  assert.equal(bit(r, 0, IRR, 0x31), 1, 'LINT0 fixed');
  r.lWrite(0, LVT1, 0x400);
  r.lLint(0, 1);
  assert.ok(r.lTakeNmi(0), 'LINT1 NMI');
  r.lWrite(0, LVT1, 0x10400);
  r.lLint(0, 1);
  assert.equal(r.lNmiPending(0), false, 'masked');
  assert.equal(r.lRead(0, LVT1), 0x10400);
  r.lWrite(0, LVT0, 0xffffffff);
  assert.equal(r.lRead(0, LVT0), 0x1a7ff, 'LINT0 writable bits');
  r.lWrite(0, DFR, 0);
  assert.equal(r.lRead(0, DFR), 0x0fffffff, 'DFR bits 27:0 read 1');
});

test('migration: save -> load goes on from the same state; malformed state is refused and changes nothing', () => {
  const r = enabled(0, 4);
  fresh(1, 4);
  r.lWrite(0, TPR, 0x20);
  r.lAccept(0, 0x44, 1);
  r.lAck(0, 0x44);
  r.lAccept(0, 0x99);
  r.lWrite(0, LVT_TIMER, 0x20000 | 0x35);
  r.lWrite(0, TDCR, 0x1, 1000);
  r.lWrite(0, TMICT, 250, 1000);
  r.lWrite(0, ICR_LO, 0x40400);
  const saved = r.lSave(0);
  assert.equal(saved.length, 192);
  assert.ok(r.lLoad(1, saved));
  assert.deepEqual(r.lSave(1), saved, 'round trip');
  assert.equal(r.lDeadline(1), 2000);
  assert.equal(r.lRead(1, TMCCT, 1400), 150);
  assert.equal(r.lPending(1), 0x99);
  assert.ok(r.lNmiPending(1));
  assert.equal(r.lWrite(1, EOI, 0), 0x44, 'ISR and TMR came along');
  const before = r.lSave(1);
  const corrupt = [[0, 0x01], [1, 0x04], [3, 0x7f], [2 * 4, 0x01], [3 * 4 + 1, 1], [6 * 4 + 1, 0x10], [7 * 4, 1], [9 * 4 + 1, 0x30], [11 * 4 + 2, 0x06],
    [11 * 4 + 3, 1], [18 * 4, 4], [19 * 4, 4], [21 * 4 + 3, 0xff], [24 * 4, 1], [32 * 4 + 1, 0x80], [40 * 4, 0x10], [5 * 4, 0]];
  for (const [at, value] of corrupt) {
    const bad = saved.slice();
    bad[at] = value;
    assert.equal(r.lLoad(1, bad), false, `byte ${at} = ${value}`);
  }
  assert.equal(r.lLoad(1, saved.subarray(0, 191)), false, 'short');
  assert.deepEqual(r.lSave(1), before, 'nothing changed');
  r.lMsrWrite(0, APIC_BASE, 0xfee00c00);
  const x2 = r.lSave(0);
  assert.ok(r.lLoad(1, x2));
  assert.deepEqual(r.lMsrRead(1, 0x802), [4, 0]);
  const badLdr = x2.slice();
  badLdr[4 * 4] ^= 1;
  assert.equal(r.lLoad(1, badLdr), false, 'x2APIC LDR must follow the ID');
});

test('fuzz: 20,000 seeded random accesses; never throws, vectors 0-15 never requested, save -> load -> save round-trips', { timeout: 120000 }, () => {
  const r = fresh(0, 0);
  const rnd = prng(0x1a71c);
  const offsets = [ID, VER, TPR, APR, PPR, EOI, LDR, DFR, SVR, ISR, TMR + 0x30, IRR + 0x70, ESR, ICR_LO, ICR_HI, LVT_TIMER, LVT_THERMAL, LVT_PMC,
    LVT0, LVT1, LVT_ERROR, TMICT, TMCCT, TDCR, 0x3f0, 0x2f0, 0x24, 0xfff];
  const msrs = [APIC_BASE, TSC_DEADLINE, 0x802, 0x808, 0x80a, 0x80b, 0x80d, 0x80f, 0x828, 0x830, 0x832, 0x835, 0x838, 0x839, 0x83e, 0x83f, 0x809, 0x8ff];
  const values = () => rnd.pick([0, 1, 0xff, 0x1ff, 0x10000, 0x20000 | rnd.int(256), 0x40000 | rnd.int(256), 0xffffffff, rnd.int(0x100000000), rnd.int(300)]);
  for (let v = 0; v < 4; v++) fresh(v, v);
  let now = 0;
  for (let i = 0; i < 20000; i++) {
    const v = rnd.int(4);
    now += rnd.int(2000);
    switch (rnd.int(9)) {
      case 0: case 1: r.lWrite(v, rnd.pick(offsets), values(), now); break;
      case 2: r.lRead(v, rnd.pick(offsets), now); break;
      case 3: r.lMsrWrite(v, rnd.pick(msrs), rnd.pick([0xfee00800, 0xfee00c00, 0xfee00000, 0xfee00400]) === 0 ? 0 : values(), rnd.int(4) === 0 ? 1 : 0, now); break;
      case 4: if (rnd.int(3) === 0) r.lMsrWrite(v, APIC_BASE, rnd.pick([0xfee00800, 0xfee00c00, 0xfee00000, 0xfee00400, 0xfee00900]), 0, now); else r.lMsrRead(v, rnd.pick(msrs), now); break;
      case 5: r.lAccept(v, rnd.int(256), rnd.int(2)); break;
      case 6: { const p = r.lPending(v); if (p >= 0) { assert.ok(p >= 16); assert.ok(r.lAck(v, p)); } break; }
      case 7: r.lService(v, now); break;
      case 8: if (rnd.int(50) === 0) r.lReset(v, v); else r.lLint(v, rnd.int(2)); break;
    }
    if (i % 97 === 0) {
      const s = r.lSave(v);
      const dv = new DataView(s.buffer);
      for (const w of [24, 32, 40]) assert.equal(dv.getUint32(w * 4, true) & 0xffff, 0, `vectors 0-15 in IRR/ISR/TMR at step ${i}`);
      assert.ok(r.lLoad(7, s), `its own state loads at step ${i}`);
      assert.deepEqual(r.lSave(7), s);
      const p = r.lPending(v);
      assert.ok(p === -1 || (p >= 16 && p <= 255));
    }
  }
});
