// The I/O APIC (kernel/vm/devices/ioapic.ts) in the porffor-compiled test kernel
// (tests/fixtures/kernels/vm-logic.ts), delivering to the local APIC of the VM's vCPU, checked
// against the 82093AA datasheet: IOREGSEL/IOWIN, ID/version/arbitration, redirection entries
// with their read-only bits, edge pins (once per rising edge), level pins (remote IRR, again
// after EOI while the line is still active), masks, polarity, physical/logical/broadcast
// destinations, NMI and ExtINT, migration state, and a seeded fuzz run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VmLogic } from '../sim/vm-logic.mjs';
import { prng } from '../sim/acpi-fuzz.mjs';

const IOREGSEL = 0x00, IOWIN = 0x10;
const SVR = 0xf0, EOI = 0xb0, LDR = 0xd0, DFR = 0xe0, IRR = 0x200, TMR = 0x180;
const MASKED = 0x10000, LEVEL = 0x8000, REMOTE_IRR = 0x4000, ACTIVE_LOW = 0x2000, LOGICAL = 0x800;

let rig;
let cpu = -1; // the vCPU id of VM slot 0
/** VM slot 0 with one vCPU (APIC ID `apicId`, software-enabled) and a reset I/O APIC. */
const fresh = (apicId = 0) => {
  rig ??= new VmLogic();
  rig.vRelease(0);
  cpu = rig.vTake(0, 0);
  assert.ok(cpu >= 0);
  rig.lReset(cpu, apicId);
  rig.lWrite(cpu, SVR, 0x1ff);
  rig.iReset(0);
  return rig;
};
const reg = (r, vm, index) => { r.iWrite(vm, IOREGSEL, index); return r.iRead(vm, IOWIN); };
const setReg = (r, vm, index, value) => { r.iWrite(vm, IOREGSEL, index); r.iWrite(vm, IOWIN, value); };
const route = (r, pin, lo, dest = 0) => { setReg(r, 0, 0x11 + 2 * pin, dest << 24); setReg(r, 0, 0x10 + 2 * pin, lo); };
const entry = (r, pin) => reg(r, 0, 0x10 + 2 * pin);
const irrBit = (r, vector) => (r.lRead(cpu, IRR + (vector >> 5) * 0x10) >>> (vector & 31)) & 1;
const tmrBit = (r, vector) => (r.lRead(cpu, TMR + (vector >> 5) * 0x10) >>> (vector & 31)) & 1;
/** Takes the pending vector (INTA) and returns it, or -1. */
const take = (r) => {
  const v = r.lPending(cpu);
  if (v >= 0) r.lAck(cpu, v);
  return v;
};

test('registers: ID, version 0x00170011, arbitration; IOREGSEL reads back; other offsets read all ones', () => {
  const r = fresh();
  assert.equal(reg(r, 0, 0x01), 0x00170011);
  assert.equal(reg(r, 0, 0x00), 0);
  setReg(r, 0, 0x00, 0xffffffff);
  assert.equal(reg(r, 0, 0x00), 0x0f000000, 'ID bits 27:24');
  assert.equal(reg(r, 0, 0x02), 0x0f000000, 'arbitration ID');
  setReg(r, 0, 0x01, 0);
  assert.equal(reg(r, 0, 0x01), 0x00170011, 'version is read-only');
  r.iWrite(0, IOREGSEL, 0x13);
  assert.equal(r.iRead(0, IOREGSEL), 0x13);
  assert.equal(r.iRead(0, 0x20), 0xffffffff);
  assert.equal(r.iRead(0, 0x04), 0xffffffff);
  assert.equal(reg(r, 0, 0x40), 0xffffffff, 'past the last entry');
  assert.equal(reg(r, 0, 0x05), 0xffffffff);
});

test('redirection entries: reset masked, writable bits read back, delivery status and remote IRR read-only', () => {
  const r = fresh();
  for (let pin = 0; pin < 24; pin++) {
    assert.equal(entry(r, pin), MASKED, `pin ${pin}`);
    assert.equal(reg(r, 0, 0x11 + 2 * pin), 0);
  }
  setReg(r, 0, 0x16, 0xffffffff);
  assert.equal(reg(r, 0, 0x16), 0x1afff, 'no delivery status (12) nor remote IRR (14)');
  setReg(r, 0, 0x17, 0xffffffff);
  assert.equal(reg(r, 0, 0x17), 0xff000000, 'destination bits 63:56');
  setReg(r, 0, 0x3e, 0x8000 | 0x2000 | 0x800 | 0x100 | 0x42);
  assert.equal(reg(r, 0, 0x3e), 0xa942, 'pin 23');
});

test('edge pins: one delivery per rising edge', () => {
  const r = fresh();
  route(r, 4, 0x34);
  r.iIrq(0, 4, 1);
  assert.equal(take(r), 0x34);
  assert.equal(tmrBit(r, 0x34), 0, 'edge: TMR clear');
  r.iIrq(0, 4, 1);
  assert.equal(irrBit(r, 0x34), 0, 'no new edge');
  r.iIrq(0, 4, 0);
  assert.equal(irrBit(r, 0x34), 0, 'a falling edge delivers nothing');
  r.iIrq(0, 4, 1);
  assert.equal(irrBit(r, 0x34), 1);
  assert.equal(r.lWrite(cpu, EOI, 0), -1);
  assert.equal(entry(r, 4) & REMOTE_IRR, 0);
});

test('level pins: remote IRR until EOI; delivered again after EOI while the line is high', () => {
  const r = fresh();
  route(r, 9, LEVEL | 0x49);
  r.iIrq(0, 9, 1);
  assert.equal(entry(r, 9) & REMOTE_IRR, REMOTE_IRR);
  assert.equal(tmrBit(r, 0x49), 1, 'level: TMR set');
  assert.equal(take(r), 0x49);
  r.iIrq(0, 9, 1);
  assert.equal(irrBit(r, 0x49), 0, 'held by remote IRR');
  setReg(r, 0, 0x10 + 18, LEVEL | 0x49); // a write keeps the read-only remote IRR
  assert.equal(entry(r, 9) & REMOTE_IRR, REMOTE_IRR);
  const eoi = r.lWrite(cpu, EOI, 0);
  assert.equal(eoi, 0x49, 'the local APIC names the level vector');
  r.iEoi(0, eoi);
  assert.equal(irrBit(r, 0x49), 1, 'still high: delivered again');
  assert.equal(entry(r, 9) & REMOTE_IRR, REMOTE_IRR);
  assert.equal(take(r), 0x49);
  r.iIrq(0, 9, 0);
  r.iEoi(0, r.lWrite(cpu, EOI, 0));
  assert.equal(entry(r, 9) & REMOTE_IRR, 0, 'EOI clears remote IRR');
  assert.equal(irrBit(r, 0x49), 0, 'line low: nothing more');
  r.iEoi(0, 0x55);
  r.iIrq(0, 9, 1);
  assert.equal(take(r), 0x49, 'the next assertion delivers');
});

test('masked pins: an edge is lost; a level pin whose line is high delivers when unmasked', () => {
  const r = fresh();
  route(r, 3, MASKED | 0x33);
  r.iIrq(0, 3, 1);
  route(r, 3, 0x33);
  assert.equal(irrBit(r, 0x33), 0, 'the edge came while masked');
  route(r, 10, MASKED | LEVEL | 0x3a);
  r.iIrq(0, 10, 1);
  assert.equal(irrBit(r, 0x3a), 0);
  assert.equal(entry(r, 10) & REMOTE_IRR, 0);
  route(r, 10, LEVEL | 0x3a);
  assert.equal(irrBit(r, 0x3a), 1, 'unmasked while high');
  assert.equal(entry(r, 10) & REMOTE_IRR, REMOTE_IRR);
  route(r, 10, 0x3a);
  assert.equal(entry(r, 10) & REMOTE_IRR, 0, 'remote IRR means nothing for an edge pin');
});

test('polarity: an active-low pin is asserted by a low line', () => {
  const r = fresh();
  r.iIrq(0, 5, 1); // idle high
  route(r, 5, ACTIVE_LOW | 0x35);
  assert.equal(irrBit(r, 0x35), 0);
  r.iIrq(0, 5, 0);
  assert.equal(take(r), 0x35, 'the falling line is the active edge');
  r.iIrq(0, 5, 1);
  assert.equal(irrBit(r, 0x35), 0);
  route(r, 11, MASKED | ACTIVE_LOW | LEVEL | 0x3b);
  route(r, 11, ACTIVE_LOW | LEVEL | 0x3b);
  assert.equal(irrBit(r, 0x3b), 1, 'a low line on an active-low level pin is asserted');
});

test('destinations: physical ID, broadcast, logical flat and cluster; NMI and ExtINT', () => {
  const r = fresh(2);
  const hit = (pin, lo, dest, vector) => {
    r.iIrq(0, pin, 0);
    route(r, pin, lo, dest);
    r.iIrq(0, pin, 1);
    const got = irrBit(r, vector);
    if (got) { r.lAck(cpu, vector); r.lWrite(cpu, EOI, 0); }
    return got;
  };
  assert.equal(hit(1, 0x41, 2, 0x41), 1, 'physical, own ID');
  assert.equal(hit(1, 0x41, 1, 0x41), 0, 'physical, another ID');
  assert.equal(hit(1, 0x41, 0xff, 0x41), 1, 'broadcast');
  assert.equal(hit(1, 0x100 | 0x42, 2, 0x42), 1, 'lowest priority');
  r.lWrite(cpu, LDR, 0x02000000);
  assert.equal(hit(2, LOGICAL | 0x43, 0x06, 0x43), 1, 'logical flat: bitmap overlap');
  assert.equal(hit(2, LOGICAL | 0x43, 0x01, 0x43), 0, 'logical flat: no overlap');
  r.lWrite(cpu, DFR, 0x0fffffff);
  r.lWrite(cpu, LDR, 0x31000000);
  assert.equal(hit(2, LOGICAL | 0x44, 0x31, 0x44), 1, 'cluster 3, member 0');
  assert.equal(hit(2, LOGICAL | 0x44, 0x21, 0x44), 0, 'another cluster');
  assert.equal(hit(2, LOGICAL | 0x44, 0x32, 0x44), 0, 'another member');
  route(r, 6, 0x400, 2);
  r.iIrq(0, 6, 1);
  assert.ok(r.lTakeNmi(cpu), 'NMI delivery mode');
  r.iIrq(0, 6, 0);
  route(r, 6, LEVEL | 0x400, 2);
  r.iIrq(0, 6, 1);
  assert.ok(r.lTakeNmi(cpu), 'NMI is edge whatever the trigger bit');
  assert.equal(entry(r, 6) & REMOTE_IRR, 0);
  route(r, 0, 0x700);
  assert.equal(r.iExtInt(0), false);
  r.iIrq(0, 0, 1);
  assert.ok(r.iExtInt(0), 'ExtINT: the 8259 answers the INTA');
  assert.equal(r.lPending(cpu), -1);
  route(r, 0, MASKED | 0x700);
  assert.equal(r.iExtInt(0), false);
  route(r, 7, 0x200 | 0x47, 2); // SMI
  r.iIrq(0, 7, 1);
  assert.equal(irrBit(r, 0x47), 0, 'SMI ignored');
  r.lMsrWrite(cpu, 0x1b, 0xfee00c00); // x2APIC mode (registers through MSRs): the I/O APIC's 8-bit destinations still match
  const x2hit = (dest) => {
    r.iIrq(0, 1, 0);
    route(r, 1, 0x41, dest);
    r.iIrq(0, 1, 1);
    const got = (r.lMsrRead(cpu, 0x822)[0] >>> 1) & 1; // IRR bit of 0x41
    if (got) { r.lAck(cpu, 0x41); r.lMsrWrite(cpu, 0x80b, 0); }
    return got;
  };
  assert.equal(x2hit(2), 1, 'x2APIC, physical ID');
  assert.equal(x2hit(3), 0, 'x2APIC, another ID');
  assert.equal(x2hit(0xff), 1, 'x2APIC, broadcast');
  r.lMsrWrite(cpu, 0x1b, 0xfee00000);
  route(r, 8, 0x48, 0xff);
  r.iIrq(0, 8, 1);
  r.lMsrWrite(cpu, 0x1b, 0xfee00800);
  r.lWrite(cpu, SVR, 0x1ff);
  assert.equal(irrBit(r, 0x48), 0, 'a disabled local APIC takes nothing');
});

test('migration: save -> load round-trips; malformed state is refused and changes nothing', () => {
  const r = fresh();
  setReg(r, 0, 0, 0x05000000);
  route(r, 9, LEVEL | 0x49, 3);
  route(r, 2, ACTIVE_LOW | 0x32);
  r.iIrq(0, 9, 1);
  r.iIrq(0, 2, 1);
  r.iWrite(0, IOREGSEL, 0x21);
  const saved = r.iSave(0);
  assert.equal(saved.length, 218);
  rig.iReset(1);
  assert.ok(r.iLoad(1, saved));
  assert.deepEqual(r.iSave(1), saved);
  assert.equal(r.iRead(1, IOREGSEL), 0x21);
  r.iWrite(1, IOREGSEL, 0);
  assert.equal(r.iRead(1, IOWIN), 0x05000000);
  const before = r.iSave(1);
  const pin = (p, k) => 2 + p * 9 + k;
  for (const [at, value] of [[1, 0x10], [pin(0, 1), 0x11], [pin(0, 1), 0x50], [pin(3, 2), 0x04], [pin(3, 4), 1], [pin(3, 8), 2]]) {
    const bad = saved.slice();
    bad[at] = value;
    assert.equal(r.iLoad(1, bad), false, `byte ${at} = ${value}`);
  }
  assert.equal(r.iLoad(1, saved.subarray(0, 217)), false, 'short');
  assert.deepEqual(r.iSave(1), before, 'nothing changed');
});

test('fuzz: 20,000 seeded random accesses; never throws, read-only bits hold, save -> load -> save round-trips', { timeout: 120000 }, () => {
  const r = fresh();
  const rnd = prng(0x10a71c);
  let eois = 0;
  for (let i = 0; i < 20000; i++) {
    switch (rnd.int(7)) {
      case 0: r.iWrite(0, rnd.pick([IOREGSEL, IOWIN, 0x20, 0x04]), rnd.pick([rnd.int(0x100000000), rnd.int(0x40), 0x10000 | rnd.int(0x10000), rnd.int(0x20000)])); break;
      case 1: r.iWrite(0, IOREGSEL, rnd.int(0x40)); r.iRead(0, IOWIN); break;
      case 2: case 3: r.iIrq(0, rnd.int(26) - 1, rnd.int(2)); break;
      case 4: { const v = take(r); if (v >= 0) assert.ok(v >= 16); break; }
      case 5: { const v = r.lWrite(cpu, EOI, 0); if (v >= 0) { eois++; r.iEoi(0, v); } break; }
      case 6: r.iEoi(0, rnd.int(256)); break;
    }
    if (i % 101 === 0) {
      for (let p = 0; p < 24; p++) {
        const lo = entry(r, p);
        assert.equal(lo & 0x1000, 0, 'delivery status idle');
        assert.ok((lo & REMOTE_IRR) === 0 || (lo & LEVEL) !== 0, 'remote IRR only on level pins');
      }
      assert.equal(reg(r, 0, 1), 0x00170011);
      const s = r.iSave(0);
      assert.ok(r.iLoad(7, s));
      assert.deepEqual(r.iSave(7), s);
      assert.equal(r.lRead(cpu, IRR) & 0xffff, 0, 'vectors 0-15 never requested');
    }
  }
  assert.ok(eois > 0, 'level pins were exercised');
});
