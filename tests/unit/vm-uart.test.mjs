// The guest's 16550A UART at COM1 and QEMU's debug-exit port (kernel/vm/devices) in the
// porffor-compiled test kernel (tests/fixtures/kernels/vm-logic.ts):
//   - register semantics after the 16550A datasheet: reset values, DLAB (DLL/DLM over
//     RBR/THR/IER), IER's 4 bits, IIR priorities and FIFO bits, FCR clearing, LCR, MCR,
//     LSR (THRE|TEMT always, DR while input waits, OE after an overflow), MSR (loopback,
//     deltas), scratch; the probes Linux's 8250 driver makes;
//   - the output ring (4 KiB, dropped counter, taking in pieces, wrap-around) and the input
//     ring (256 bytes, dropped counter); VMs do not see each other;
//   - 20,000 random register accesses over 8 VMs against a JS model of the same device;
//   - the debug exit: status = the value written.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { TAKE_SMALL, VmLogic } from '../sim/vm-logic.mjs';
import { prng } from '../sim/acpi-fuzz.mjs';

const VMS = 8;
const OUT_RING = 4096;
const IN_RING = 256;
const [RBR, IER, IIR, LCR, MCR, LSR, MSR, SCR] = [0, 1, 2, 3, 4, 5, 6, 7];
const [THR, DLL, DLM, FCR] = [0, 0, 1, 2];
const STAT = { outPending: 0, inPending: 1, transmitted: 2, outDropped: 3, inDropped: 4, irq: 5 };

let rig;
const u = () => (rig ??= new VmLogic());
const fresh = (vm = 0) => {
  u().uReset(vm);
  return u();
};
const send = (r, vm, text) => { for (const b of Buffer.from(text)) r.uWrite(vm, THR, b); };
const stat = (r, vm) => Object.fromEntries(Object.entries(STAT).map(([k, i]) => [k, r.uStat(vm, i)]));

test('reset values (16550A datasheet table III)', () => {
  const r = fresh(0);
  assert.deepEqual([IER, IIR, LCR, MCR, LSR, MSR, SCR].map((o) => r.uRead(0, o)), [0, 0x01, 0, 0, 0x60, 0xb0, 0]);
  assert.deepEqual(stat(r, 0), { outPending: 0, inPending: 0, transmitted: 0, outDropped: 0, inDropped: 0, irq: 0 });
});

test('DLAB: the divisor latch over RBR/THR and IER', () => {
  const r = fresh(0);
  r.uWrite(0, IER, 0x05);
  r.uWrite(0, LCR, 0x83); // DLAB, 8N1
  r.uWrite(0, DLL, 0x0c);
  r.uWrite(0, DLM, 0x01);
  assert.equal(r.uRead(0, DLL), 0x0c);
  assert.equal(r.uRead(0, DLM), 0x01);
  assert.equal(r.uStat(0, STAT.outPending), 0, 'a DLL write is not a transmitted byte');
  r.uPush(0, 0x41);
  assert.equal(r.uRead(0, DLL), 0x0c, 'a DLL read does not take input');
  assert.equal(r.uStat(0, STAT.inPending), 1);
  r.uWrite(0, LCR, 0x03);
  assert.equal(r.uRead(0, LCR), 0x03);
  assert.equal(r.uRead(0, IER), 0x05, 'IER kept under the divisor latch');
  assert.equal(r.uRead(0, RBR), 0x41);
  r.uWrite(0, LCR, 0x80);
  assert.equal(r.uRead(0, DLL), 0x0c, 'the divisor is kept');
  assert.equal(r.uRead(0, DLM), 0x01);
  assert.equal(r.uRead(0, IIR), 0x01, 'IIR is readable with DLAB set');
  r.uWrite(0, LCR, 0);
});

test('scratch, IER low bits, MCR low bits, LSR and MSR writes ignored', () => {
  const r = fresh(1);
  for (const v of [0, 0xa5, 0x5a, 0xff]) {
    r.uWrite(1, SCR, v);
    assert.equal(r.uRead(1, SCR), v);
  }
  r.uWrite(1, IER, 0xff);
  assert.equal(r.uRead(1, IER), 0x0f);
  r.uWrite(1, MCR, 0xff);
  assert.equal(r.uRead(1, MCR), 0x1f);
  r.uWrite(1, MCR, 0);
  r.uRead(1, MSR);
  r.uWrite(1, LSR, 0);
  r.uWrite(1, MSR, 0);
  assert.equal(r.uRead(1, LSR), 0x60);
  assert.equal(r.uRead(1, MSR), 0xb0);
  assert.equal(r.uRead(1, 8), 0xff, 'no register 8');
  assert.equal(r.uRead(1, -1), 0xff);
});

test('transmit: THR to the output ring, LSR always THRE|TEMT, 4 KiB then dropped', () => {
  const r = fresh(0);
  send(r, 0, 'Hello, world\r\n');
  assert.equal(r.uRead(0, LSR), 0x60);
  assert.equal(Buffer.from(r.uTake(0)).toString(), 'Hello, world\r\n');
  assert.equal(r.uTake(0).length, 0);
  // 5000 bytes: 4096 kept, 904 dropped
  for (let i = 0; i < 5000; i++) r.uWrite(0, THR, i & 0xff);
  assert.deepEqual(stat(r, 0), { outPending: 4096, inPending: 0, transmitted: 5014, outDropped: 904, inDropped: 0, irq: 0 });
  assert.equal(r.uRead(0, LSR), 0x60, 'THRE|TEMT even with the ring full');
  const small = r.uTake(0, true);
  assert.equal(small.length, TAKE_SMALL);
  assert.deepEqual([...small], Array.from({ length: TAKE_SMALL }, (_, i) => i & 0xff));
  const rest = r.uTake(0);
  assert.equal(rest.length, 4096 - TAKE_SMALL);
  assert.deepEqual([...rest], Array.from({ length: rest.length }, (_, i) => (i + TAKE_SMALL) & 0xff));
  // wrap-around: the ring's head is now at 4096 mod 4096 + ...; write 3000, take, write 3000, take
  for (let round = 0; round < 4; round++) {
    for (let i = 0; i < 3000; i++) r.uWrite(0, THR, (i * 7 + round) & 0xff);
    const got = r.uTake(0);
    assert.deepEqual([...got], Array.from({ length: 3000 }, (_, i) => (i * 7 + round) & 0xff), `round ${round}`);
  }
  assert.equal(r.uStat(0, STAT.outDropped), 904, 'nothing more dropped');
});

test('receive: DR while input waits, RBR in order, 256 bytes then dropped with OE', () => {
  const r = fresh(2);
  assert.equal(r.uPush(2, 0x61), 1);
  assert.equal(r.uPush(2, 0x62), 1);
  assert.equal(r.uRead(2, LSR), 0x61, 'DR|THRE|TEMT');
  assert.equal(r.uRead(2, RBR), 0x61);
  assert.equal(r.uRead(2, RBR), 0x62);
  assert.equal(r.uRead(2, LSR), 0x60);
  assert.equal(r.uRead(2, RBR), 0x62, 'an empty RBR reads the last byte again');
  for (let i = 0; i < 300; i++) assert.equal(r.uPush(2, i & 0xff), i < 256 ? 1 : 0, `push ${i}`);
  assert.equal(r.uStat(2, STAT.inPending), 256);
  assert.equal(r.uStat(2, STAT.inDropped), 44);
  assert.equal(r.uRead(2, LSR), 0x63, 'DR|OE|THRE|TEMT');
  assert.equal(r.uRead(2, LSR), 0x61, 'OE clears when read');
  const got = [];
  while (r.uRead(2, LSR) & 1) got.push(r.uRead(2, RBR));
  assert.deepEqual(got, Array.from({ length: 256 }, (_, i) => i));
  assert.equal(r.uPush(2, 0x1ff), 1);
  assert.equal(r.uRead(2, RBR), 0xff, 'only the low 8 bits');
});

test('IIR: priorities, THRE clearing, FIFO bits; FCR clears the receiver', () => {
  const r = fresh(3);
  r.uWrite(3, IER, 0x02); // THRE
  assert.equal(r.uRead(3, IIR), 0x02, 'enabling ETBEI with THR empty raises THRE');
  assert.equal(r.uRead(3, IIR), 0x01, 'reading IIR cleared it');
  r.uWrite(3, THR, 0x41);
  assert.equal(r.uRead(3, IIR), 0x02, 'the byte left: THRE again');
  r.uWrite(3, THR, 0x42);
  r.uWrite(3, IER, 0x03);
  r.uPush(3, 0x30);
  assert.equal(r.uRead(3, IIR), 0x04, 'received data over THRE');
  assert.equal(r.uRead(3, IIR), 0x04, 'stays until the data is read');
  r.uRead(3, RBR);
  assert.equal(r.uRead(3, IIR), 0x02, 'THRE was not cleared while data was reported');
  r.uWrite(3, IER, 0x07);
  for (let i = 0; i < 257; i++) r.uPush(3, i);
  assert.equal(r.uRead(3, IIR), 0x06, 'line status (overrun) first');
  r.uRead(3, LSR);
  assert.equal(r.uRead(3, IIR), 0x04);
  // FIFO: IIR bits 7:6
  r.uWrite(3, FCR, 0x01);
  assert.equal(r.uStat(3, STAT.inPending), 0, 'turning the FIFOs on clears them');
  assert.equal(r.uRead(3, IIR) & 0xc0, 0xc0);
  r.uPush(3, 1);
  r.uPush(3, 2);
  r.uWrite(3, FCR, 0xc1);
  assert.equal(r.uStat(3, STAT.inPending), 2, 'a write without the clear bit keeps the data');
  r.uWrite(3, FCR, 0x03);
  assert.equal(r.uStat(3, STAT.inPending), 0, 'FCR1 clears the receiver');
  r.uPush(3, 1);
  r.uWrite(3, FCR, 0x00);
  assert.equal(r.uStat(3, STAT.inPending), 0, 'turning the FIFOs off clears them');
  assert.equal(r.uRead(3, IIR) & 0xc0, 0);
  r.uWrite(3, FCR, 0x02);
  r.uPush(3, 1);
  r.uWrite(3, FCR, 0x02);
  assert.equal(r.uStat(3, STAT.inPending), 1, 'the clear bit needs FCR0');
  // modem status interrupt
  r.uRead(3, RBR);
  r.uWrite(3, IER, 0x08);
  r.uRead(3, MSR);
  r.uWrite(3, MCR, 0x10); // loopback: lines drop -> deltas
  assert.equal(r.uRead(3, IIR), 0x00, 'modem status');
  r.uRead(3, MSR);
  assert.equal(r.uRead(3, IIR), 0x01);
});

test('the interrupt line: a pending interrupt gated by OUT2', () => {
  const r = fresh(4);
  r.uWrite(4, IER, 0x01);
  r.uPush(4, 0x41);
  assert.equal(r.uStat(4, STAT.irq), 0, 'OUT2 off');
  r.uWrite(4, MCR, 0x08);
  assert.equal(r.uStat(4, STAT.irq), 1);
  r.uRead(4, RBR);
  assert.equal(r.uStat(4, STAT.irq), 0);
});

test('loopback and MSR: the Linux 8250 probes', () => {
  const r = fresh(5);
  // autoconfig: IER scratch test
  r.uWrite(5, IER, 0);
  const s2 = r.uRead(5, IER) & 0x0f;
  r.uWrite(5, IER, 0x0f);
  const s3 = r.uRead(5, IER) & 0x0f;
  r.uWrite(5, IER, 0);
  assert.deepEqual([s2, s3], [0, 0x0f]);
  // loopback test: MCR = LOOP | OUT2 | RTS -> MSR & 0xF0 = DCD | CTS
  r.uWrite(5, MCR, 0x1a);
  assert.equal(r.uRead(5, MSR) & 0xf0, 0x90);
  r.uWrite(5, MCR, 0x1f);
  assert.equal(r.uRead(5, MSR) & 0xf0, 0xf0);
  r.uWrite(5, MCR, 0x10);
  const m = r.uRead(5, MSR);
  assert.equal(m & 0xf0, 0);
  assert.equal(m & 0x0f, 0x0f, 'DCTS, DDSR, TERI (RI fell), DDCD');
  assert.equal(r.uRead(5, MSR) & 0x0f, 0, 'deltas clear when read');
  // FIFO detection: FCR = enable -> IIR bits 7:6 = 11 (16550A)
  r.uWrite(5, FCR, 0x01);
  assert.equal(r.uRead(5, IIR) >> 6, 3);
  // transmit in loopback: back to the receiver, nothing out
  send(r, 5, 'loop');
  assert.equal(r.uStat(5, STAT.outPending), 0);
  assert.equal(r.uStat(5, STAT.transmitted), 0);
  assert.deepEqual([0, 1, 2, 3].map(() => r.uRead(5, RBR)), [...Buffer.from('loop')]);
  r.uWrite(5, MCR, 0x0b);
  assert.equal(r.uRead(5, MSR), 0xb0 | 0x0b, 'out of loopback: the line is up again (deltas of the change)');
  send(r, 5, 'x');
  assert.equal(Buffer.from(r.uTake(5)).toString(), 'x');
});

test('VMs are separate; slots outside 0..7 do nothing', () => {
  const r = u();
  for (let v = 0; v < VMS; v++) r.uReset(v);
  for (let v = 0; v < VMS; v++) {
    r.uWrite(v, SCR, 0x10 + v);
    send(r, v, `vm${v}`);
    r.uPush(v, 0x30 + v);
  }
  for (let v = 0; v < VMS; v++) {
    assert.equal(r.uRead(v, SCR), 0x10 + v);
    assert.equal(Buffer.from(r.uTake(v)).toString(), `vm${v}`);
    assert.equal(r.uRead(v, RBR), 0x30 + v);
  }
  for (const v of [-1, 8, 100]) {
    assert.equal(r.uRead(v, LSR), 0xff);
    r.uWrite(v, THR, 0x41);
    assert.equal(r.uPush(v, 0x41), 0);
    assert.equal(r.uTake(v).length, 0);
    assert.equal(r.uStat(v, STAT.outPending), 0);
  }
});

// ---- a JS model of the same device, for random access sequences ----

class Model {
  constructor() { this.reset(); }
  reset() {
    Object.assign(this, { ier: 0, lcr: 0, mcr: 0, fcr: 0, scr: 0, dll: 1, dlm: 0, rbr: 0, thre: 0, oe: 0, delta: 0, out: [], inq: [], tx: 0, outDrop: 0, inDrop: 0 });
  }
  lines() {
    const m = this.mcr;
    if (!(m & 0x10)) return 0xb0;
    return (m & 2 ? 0x10 : 0) | (m & 1 ? 0x20 : 0) | (m & 4 ? 0x40 : 0) | (m & 8 ? 0x80 : 0);
  }
  receive(b) {
    if (this.inq.length >= IN_RING) { this.inDrop++; this.oe = 1; return 0; }
    this.inq.push(b);
    return 1;
  }
  pending() {
    if (this.ier & 4 && this.oe) return 6;
    if (this.ier & 1 && this.inq.length) return 4;
    if (this.ier & 2 && this.thre) return 2;
    if (this.ier & 8 && this.delta) return 0;
    return 1;
  }
  read(o) {
    const dlab = this.lcr & 0x80;
    switch (o) {
      case 0: if (dlab) return this.dll; if (this.inq.length) this.rbr = this.inq.shift(); return this.rbr;
      case 1: return dlab ? this.dlm : this.ier;
      case 2: { const id = this.pending(); if (id === 2) this.thre = 0; return (this.fcr & 1 ? 0xc0 : 0) | id; }
      case 3: return this.lcr;
      case 4: return this.mcr;
      case 5: { const v = (this.inq.length ? 1 : 0) | (this.oe ? 2 : 0) | 0x60; this.oe = 0; return v; }
      case 6: { const v = this.lines() | this.delta; this.delta = 0; return v; }
      case 7: return this.scr;
    }
    return 0xff;
  }
  write(o, value) {
    const v = value & 0xff;
    const dlab = this.lcr & 0x80;
    switch (o) {
      case 0:
        if (dlab) { this.dll = v; return; }
        this.thre = 1;
        if (this.mcr & 0x10) { this.receive(v); return; }
        this.tx++;
        if (this.out.length >= OUT_RING) this.outDrop++; else this.out.push(v);
        return;
      case 1:
        if (dlab) { this.dlm = v; return; }
        if ((this.ier ^ v) & 2) this.thre = v & 2 ? 1 : 0;
        this.ier = v & 0x0f;
        return;
      case 2:
        if (((this.fcr ^ v) & 1) || (v & 3) === 3) this.inq = [];
        this.fcr = v & 1 ? v & 0xc9 : 0;
        return;
      case 3: this.lcr = v; return;
      case 4: {
        const before = this.lines();
        this.mcr = v & 0x1f;
        const after = this.lines();
        const d = before ^ after;
        if (d & 0x10) this.delta |= 1;
        if (d & 0x20) this.delta |= 2;
        if (before & 0x40 && !(after & 0x40)) this.delta |= 4;
        if (d & 0x80) this.delta |= 8;
        return;
      }
      case 7: this.scr = v;
    }
  }
  take(max) { return this.out.splice(0, max); }
}

test('20,000 random accesses over 8 VMs agree with the JS model', { timeout: 120000 }, (t) => {
  const r = u();
  const rng = prng(16550);
  const models = Array.from({ length: VMS }, () => new Model());
  for (let v = 0; v < VMS; v++) r.uReset(v);
  const memory = r.memoryBytes;
  const counts = { read: 0, write: 0, push: 0, take: 0, reset: 0 };
  for (let i = 0; i < 20000; i++) {
    const v = rng.int(VMS);
    const m = models[v];
    const k = rng.int(100);
    const what = `step ${i} (vm ${v})`;
    if (k < 40) {
      const o = rng.int(8);
      assert.equal(r.uRead(v, o), m.read(o), `${what}: read ${o}`);
      counts.read++;
    } else if (k < 80) {
      const o = rng.pick([0, 0, 0, 0, 1, 2, 3, 3, 4, 4, 5, 6, 7]);
      // LCR mostly without DLAB so THR traffic happens; MCR loopback sometimes
      const value = o === 3 ? (rng.next() < 0.8 ? rng.int(0x80) : rng.int(256)) : o === 4 ? (rng.next() < 0.7 ? rng.int(0x10) : rng.int(256)) : rng.int(512);
      r.uWrite(v, o, value);
      m.write(o, value);
      counts.write++;
    } else if (k < 93) {
      const n = rng.pick([1, 1, 5, 40, 300]);
      for (let j = 0; j < n; j++) {
        const b = rng.int(256);
        assert.equal(r.uPush(v, b), m.receive(b), `${what}: push`);
      }
      counts.push++;
    } else if (k < 99) {
      const small = rng.next() < 0.5;
      assert.deepEqual([...r.uTake(v, small)], m.take(small ? TAKE_SMALL : 8192), `${what}: take`);
      counts.take++;
    } else {
      r.uReset(v);
      m.reset();
      counts.reset++;
    }
    if (i % 50 === 0) {
      assert.deepEqual(stat(r, v), {
        outPending: m.out.length, inPending: m.inq.length, transmitted: m.tx, outDropped: m.outDrop, inDropped: m.inDrop,
        irq: m.mcr & 8 && m.pending() !== 1 ? 1 : 0,
      }, `${what}: counters`);
    }
  }
  assert.equal(r.memoryBytes, memory, 'the kernel memory grew');
  t.diagnostic(JSON.stringify(counts));
});

// ---- the debug exit ----

test('debug exit: the value written is the status', () => {
  const r = u();
  for (let v = 0; v < VMS; v++) r.dReset(v);
  assert.deepEqual([0, 1, 2].map((k) => r.dStat(0, k)), [0, 0, 0]);
  r.dWrite(0, 0x31);
  assert.deepEqual([0, 1, 2].map((k) => r.dStat(0, k)), [1, 0x31, 1]);
  r.dWrite(0, 0);
  assert.deepEqual([0, 1, 2].map((k) => r.dStat(0, k)), [1, 0, 2], 'status 0 is a request too');
  r.dWrite(1, 0xffffffff);
  assert.equal(r.dStat(1, 1), 0xffffffff);
  r.dWrite(2, -1);
  assert.equal(r.dStat(2, 1), 0xffffffff, 'a signed 32-bit value is kept as u32');
  r.dWrite(3, 0x1234);
  assert.equal(r.dStat(3, 1), 0x1234);
  assert.equal(r.dStat(4, 0), 0, 'other VMs untouched');
  r.dReset(0);
  assert.deepEqual([0, 1, 2].map((k) => r.dStat(0, k)), [0, 0, 0]);
  for (const v of [-1, 8]) {
    r.dWrite(v, 5);
    assert.deepEqual([0, 1, 2].map((k) => r.dStat(v, k)), [0, 0, 0]);
  }
});
