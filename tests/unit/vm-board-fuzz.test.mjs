// The board as a guest reaches it (kernel/vm/devices/board.ts), fuzzed with every device at
// once, for two VMs side by side, in the porffor-compiled test kernel
// tests/fixtures/kernels/board-fuzz.ts (rig: tests/sim/board-fuzz.mjs). Seeded streams of
// port accesses in and around every device's range (COM1, debug-exit, PIT and port B, 0xCF9,
// the 8042, PIC and ELCR, RTC, ACPI PM) and at random ports, sizes 1/2/4, random values, and
// MMIO accesses at random offsets and sizes in the I/O APIC's and local APIC's pages. Checked
// after every access, as a guest would observe it:
//   - nothing throws (a porffor trap fails the run);
//   - an unknown port reads -1 (all ones at the dispatch) and takes no write; reads fit their
//     size; non-dword APIC accesses read all ones and change nothing;
//   - a write stops the VM only when it means to (any debug-exit write; 0xCF9 with RST_CPU
//     rising; 8042 command 0xFE; PM1a_CNT with SLP_EN and SLP_TYP 5), with the bus's stop
//     reason and detail saying why; nothing else touches the stop request;
//   - local APIC: reserved registers set ESR "illegal register"; an ICR write aimed at another
//     destination is counted as dropped (or sets ESR "send illegal vector") and requests
//     nothing of this vCPU (IRR, ISR, NMI and lapicPendingVector unchanged).
// After each stream: the devices of every other VM slot saved identically before and after
// (state and access counts), and save -> load -> save of every device of both VMs gives the
// same bytes. Then every device takes random, mutated and truncated state: a load either
// refuses and changes nothing (neither this VM nor the other) or takes state that saves back
// byte for byte.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { BoardFuzz, CLOCK_IMPORTS, boardFuzzModule } from '../sim/board-fuzz.mjs';
import { prng } from '../sim/acpi-fuzz.mjs';

const SEEDS = [1, 7, 42, 1337, 0xc0ffee, 0xdeadbeef, 20261208, 0x5eed];
const ROUNDS = 4;
const ACCESSES = 4000; // per VM per round: 32,000 per seed
const LOAD_TRIALS = 12; // per device per VM per round

// DeviceIds (board.ts) and StopReasons (vm-table.ts)
const ID = { Com1: 1, DebugExit: 2, Pit: 3, ResetControl: 4, Kbc: 5, Pic: 6, Rtc: 7, Ioapic: 8, Lapic: 9, AcpiPm: 10, GuestClock: 11 };
const STOP = { DebugExit: 1, Reset: 10, PoweredOff: 11 };
const DEVICE_NAMES = Object.fromEntries(Object.entries(ID).map(([k, v]) => [v, k]));

// the ports of each device: [first, last, device id]
const PORT_RANGES = [
  [0x3f8, 0x3ff, ID.Com1], [0xf4, 0xf4, ID.DebugExit], [0x40, 0x43, ID.Pit], [0x61, 0x61, ID.Pit],
  [0xcf9, 0xcf9, ID.ResetControl], [0x60, 0x60, ID.Kbc], [0x64, 0x64, ID.Kbc], [0x20, 0x21, ID.Pic],
  [0xa0, 0xa1, ID.Pic], [0x4d0, 0x4d1, ID.Pic], [0x70, 0x71, ID.Rtc], [0x600, 0x60b, ID.AcpiPm],
];
const rangeOf = (port) => PORT_RANGES.find(([a, b]) => port >= a && port <= b);
/** Devices whose wider accesses are split by byte: ports past the range read all ones. */
const BYTE_SPLIT = new Set([ID.Com1, ID.Pit, ID.Pic, ID.Rtc, ID.AcpiPm]);

const IOAPIC_BASE = 0xfec00000;
const LAPIC_BASE = 0xfee00000;
const PAGE = 0x1000;

// local APIC registers (SDM 11.4.1 table 11-1) by index = offset >> 4
const LAPIC_READABLE = new Set([0x02, 0x03, 0x08, 0x09, 0x0a, 0x0c, 0x0d, 0x0e, 0x0f, 0x28, 0x30, 0x31, 0x38, 0x39, 0x3e]);
for (let r = 0x10; r < 0x28; r++) LAPIC_READABLE.add(r); // ISR, TMR, IRR
for (let r = 0x32; r <= 0x37; r++) LAPIC_READABLE.add(r); // LVTs
const LAPIC_EOI = 0x0b;
const LAPIC_OFFSETS = [...LAPIC_READABLE, LAPIC_EOI, 0x3f, 0x00, 0x01, 0x04, 0x07, 0x29, 0x2f, 0x3a, 0x3d, 0x40, 0xff].map((r) => r << 4);
const ESR_SEND_ILLEGAL_VECTOR = 0x20;
const ESR_ILLEGAL_REGISTER = 0x80;
// the local APIC's saved state, dwords (lapic.ts)
const S = { BASE: 0, ID: 2, LDR: 4, DFR: 5, ESR_PENDING: 8, ICR_HI: 10, LVT_ERROR: 16, FLAGS: 19, IRR: 24, ISR: 32, TMR: 40 };
const dword = (bytes, k) => (bytes[k * 4] | (bytes[k * 4 + 1] << 8) | (bytes[k * 4 + 2] << 16) | (bytes[k * 4 + 3] << 24)) >>> 0;
const hex = (v) => (v < 0 ? String(v) : `0x${v.toString(16)}`);
const same = (a, b) => a.length === b.length && a.every((x, i) => x === b[i]);

let module;
const newRig = () => new BoardFuzz((module ??= boardFuzzModule()));

/** A board with every VM slot given a vCPU, slot and vCPU id crossed (slot 0 has vCPU 1, slot 1 vCPU 0), all reset. */
const boot = (hz) => {
  const rig = newRig();
  rig.tsc = 1000000n;
  rig.setHz(hz);
  const order = [1, 0, 7, 2, 6, 3, 5, 4];
  order.forEach((vm, id) => assert.equal(rig.takeVcpu(vm), id));
  for (let vm = 0; vm < rig.maxVms; vm++) rig.reset(vm);
  return rig;
};

/** Whether an xAPIC destination matches the APIC in saved state `st` (SDM 11.6.2). */
const matchesSelf = (st, dest, logical) => {
  const d = dest & 0xff;
  if (d === 0xff) return true;
  if (!logical) return d === dword(st, S.ID) >>> 24;
  const l = dword(st, S.LDR) >>> 24;
  if (dword(st, S.DFR) >>> 28 === 0xf) return (d & l) !== 0;
  return d >>> 4 === l >>> 4 && (d & l & 0xf) !== 0;
};
const irrWords = (st, from) => Array.from({ length: 8 }, (_, w) => dword(st, from + w));

/** One seed's run; `tally` gathers counts for the report. */
const fuzzSeed = (seed, tally) => {
  const rnd = prng(seed);
  const rig = boot(rnd.pick([1e9, 2.1e9, 3.6e9]));
  const lapicIndex = rig.devices.find((x) => x.id === ID.Lapic).index;
  const resetControl = [0, 0]; // 0xCF9 as last written (bits 1-3), per VM
  let where = '';
  let lastStop = [rig.stopReason(), rig.stopDetail()];

  const tick = () => {
    rig.tsc += BigInt(rnd.next() < 0.01 ? rnd.int(4e9) : rnd.int(200000));
  };
  const value32 = () => (rnd.next() < 0.3 ? rnd.pick([0, 0xff, 0xffff, 0xffffffff, 0x80000000, 1]) : rnd.int(0x100000000));

  /** The stop a port write must cause: [reason, detail] or null. */
  const expectedStop = (vm, port, size, value) => {
    if (port === 0xf4) return [STOP.DebugExit, (size === 1 ? value & 0xff : size === 2 ? value & 0xffff : value) >>> 0];
    if (port === 0xcf9 && size === 1) {
      const rising = (resetControl[vm] & 4) === 0 && (value & 4) !== 0;
      resetControl[vm] = value & 0x0e;
      return rising ? [STOP.Reset, 0xcf9] : null;
    }
    if (port === 0x64 && size === 1 && (value & 0xff) === 0xfe) return [STOP.Reset, 0x64];
    for (let i = 0; i < size; i++) {
      if (port + i === 0x605 && ((value >>> (8 * i)) & 0x3c) === 0x34) return [STOP.PoweredOff, 0x604]; // SLP_EN, SLP_TYP 5: the detail is PM1a_CNT
    }
    return null;
  };

  const portAccess = (vm) => {
    let port;
    const r = rnd.next();
    if (r < 0.85) {
      const [a, b] = rnd.pick(PORT_RANGES);
      port = a - 3 + rnd.int(b - a + 7);
    } else port = rnd.int(0x10000);
    let size = rnd.pick([1, 1, 2, 4]);
    let meant = -1; // a write that may mean a stop: its PM1a_CNT high byte
    if (rnd.next() < 0.03) {
      // PM1a_CNT's high byte (SLP_EN bit 13, SLP_TYP 12:10) from each port and size that covers it
      [port, size] = rnd.pick([[0x604, 2], [0x605, 1], [0x602, 4], [0x603, 4], [0x605, 2], [0x605, 4]]);
      meant = (rnd.next() < 0.5 ? 0x34 : rnd.int(256)) | (rnd.next() < 0.8 ? 0x20 : 0);
    }
    const range = rangeOf(port);
    if (meant < 0 && rnd.next() < 0.5) {
      where = `read ${hex(port)}/${size}`;
      const v = rig.portRead(vm, port, size);
      tally.portReads++;
      assert.ok(Number.isInteger(v), `${where}: ${v}`);
      if (!range || range[2] === ID.DebugExit || ((range[2] === ID.ResetControl || range[2] === ID.Kbc) && size !== 1)) {
        assert.equal(v, -1, `${where}: no device answers (all ones at the dispatch)`);
        return;
      }
      assert.ok(v >= 0 && v < 2 ** (8 * size), `${where}: ${hex(v)} does not fit ${size} bytes`);
      if (BYTE_SPLIT.has(range[2])) {
        for (let i = 0; i < size; i++) if (port + i > range[1]) assert.equal(Math.floor(v / 2 ** (8 * i)) % 256, 0xff, `${where}: byte ${i} is past the device`);
      }
      if (port === 0x64) assert.equal(v, 0x1c, `${where}: the 8042's status`);
      if (port === 0x60) assert.equal(v, 0, `${where}: the 8042's data`);
      if (port === 0xcf9) assert.equal(v, resetControl[vm], `${where}: RST_CNT reads back bits 1-3`);
      if (port === 0x606 || port === 0x607) assert.equal(v % 256, 0xff, `${where}: nothing at 0x606-0x607`);
      return;
    }
    // writes: values biased towards the ones that mean something
    let value = value32();
    if (rnd.next() < 0.1) value = (value & ~0xff) | rnd.pick([0xfe, 0x04, 0x06, 0x0e, 0x34]); // bytes that mean something somewhere
    if (port === 0x64 && rnd.next() < 0.2) value = 0xfe;
    if (port === 0xcf9 && rnd.next() < 0.5) value = rnd.pick([0x02, 0x04, 0x06, 0x0e, 0x00]);
    if (meant >= 0) {
      const shift = 8 * (0x605 - port);
      value = ((value & ~(0xff * 2 ** shift)) + meant * 2 ** shift) >>> 0;
    }
    where = `write ${hex(port)}/${size} ${hex(value)}`;
    const before = range ? null : rig.saveAll(vm);
    const want = range ? expectedStop(vm, port, size, value) : null;
    const action = rig.portWrite(vm, port, size, value);
    tally.portWrites++;
    const stop = [rig.stopReason(), rig.stopDetail()];
    if (!range) {
      assert.equal(action, -1, `${where}: no device has the port`);
      assert.ok(same(rig.saveAll(vm), before), `${where}: a write to no device changed a device`);
    } else if (want) {
      assert.equal(action, 1, `${where}: must stop the VM`);
      assert.deepEqual(stop, want, `${where}: stop reason and detail`);
      tally.stops[want[0]] = (tally.stops[want[0]] ?? 0) + 1;
    } else assert.equal(action, 0, `${where}: must not stop the VM`);
    if (!want) assert.deepEqual(stop, lastStop, `${where}: the stop request changed without a stop`);
    lastStop = stop;
  };

  const lapicState = (vm) => rig.save(lapicIndex, vm);

  /** A dword write to the local APIC, checked against what it must do to the ESR, IRR and dropped IPIs. */
  const lapicWriteChecked = (vm, d, offset, value) => {
    const pre = lapicState(vm);
    const prePending = rig.pendingVector(vm);
    const preDropped = rig.droppedIpis(vm);
    assert.equal(rig.mmioWrite(vm, d, offset, 4, value), 0, `${where}: an APIC write never stops the VM`);
    const post = lapicState(vm);
    const base = dword(pre, S.BASE);
    if ((base & 0x800) === 0 || (base & 0x400) !== 0) {
      assert.ok(same(pre, post), `${where}: the xAPIC page of a disabled or x2APIC-mode APIC takes no write`);
      return;
    }
    const reg = offset >>> 4;
    if ((offset & 0xf) !== 0 || (!LAPIC_READABLE.has(reg) && reg !== LAPIC_EOI)) {
      assert.ok((dword(post, S.ESR_PENDING) & ESR_ILLEGAL_REGISTER) !== 0, `${where}: a reserved register sets ESR bit 7`);
      tally.esrIllegalRegister++;
      return;
    }
    if (reg !== 0x30) return;
    // ICR low: the IPI goes (SDM 11.6.1)
    const lo = value & 0xccfff;
    const vec = lo & 0xff;
    const mode = (lo >>> 8) & 7;
    const shorthand = (lo >>> 18) & 3;
    const lvtError = dword(pre, S.LVT_ERROR);
    const errorVector = (lvtError & 0x10000) === 0 ? lvtError & 0xff : -1;
    if (mode === 3 || mode === 7 || ((mode === 0 || mode === 1) && vec < 16)) {
      assert.ok((dword(post, S.ESR_PENDING) & ESR_SEND_ILLEGAL_VECTOR) !== 0, `${where}: an illegal IPI sets ESR bit 5`);
      assert.equal(rig.droppedIpis(vm), preDropped, `${where}: an illegal IPI is not sent`);
      const grew = irrWords(post, S.IRR).map((w, i) => (w & ~irrWords(pre, S.IRR)[i]) >>> 0);
      grew.forEach((w, i) => {
        if (w !== 0) assert.ok(errorVector >= 16 && w === 1 << (errorVector & 31) >>> 0 && i === errorVector >>> 5, `${where}: only the LVT error vector may be requested (IRR word ${i} gained ${hex(w)})`);
      });
      tally.icrIllegal++;
      return;
    }
    const self = shorthand === 1 || shorthand === 2 || (shorthand === 0 && matchesSelf(pre, dword(pre, S.ICR_HI) >>> 24, (lo & 0x800) !== 0));
    const others = shorthand === 3 || (shorthand === 0 && !self);
    const dropped = others || (mode !== 0 && mode !== 1 && mode !== 4);
    assert.equal(rig.droppedIpis(vm), preDropped + (dropped ? 1 : 0), `${where}: dropped IPIs (self ${self}, others ${others}, mode ${mode})`);
    if (!self) {
      for (const from of [S.IRR, S.ISR, S.TMR]) assert.deepEqual(irrWords(post, from), irrWords(pre, from), `${where}: an IPI to another vCPU requested something of this one`);
      assert.equal(dword(post, S.FLAGS) & 2, dword(pre, S.FLAGS) & 2, `${where}: an NMI IPI to another vCPU reached this one`);
      assert.equal(rig.pendingVector(vm), prePending, `${where}: lapicPendingVector changed by an IPI to another vCPU`);
      tally.icrOthers++;
    } else {
      if (mode === 0 || mode === 1) assert.ok((dword(post, S.IRR + (vec >>> 5)) & (1 << (vec & 31))) !== 0, `${where}: a fixed self-IPI sets IRR`);
      if (mode === 4) assert.ok(rig.nmiPending(vm), `${where}: an NMI self-IPI`);
      tally.icrSelf++;
    }
  };

  const lapicValue = (offset) => {
    switch (offset) {
      case 0x0f0: return (rnd.int(0x200) | (rnd.next() < 0.7 ? 0x100 : 0)) >>> 0; // SVR, mostly enabled
      case 0x310: return (rnd.pick([0, 0, 0xff, 1, 2, 0x80, rnd.int(256)]) << 24) >>> 0; // destination
      case 0x300: return (rnd.int(256) | (rnd.pick([0, 0, 1, 4, 2, 5, 6, 3, 7]) << 8) | (rnd.next() < 0.3 ? 0x800 : 0) | (rnd.next() < 0.3 ? 0x8000 : 0) | (rnd.pick([0, 0, 1, 2, 3]) << 18)) >>> 0;
      case 0x0d0: return (rnd.int(256) << 24) >>> 0; // LDR
      case 0x0e0: return rnd.pick([0xffffffff, 0x0fffffff]); // DFR flat or cluster
      case 0x280: return 0; // ESR: latch
    }
    return value32();
  };

  const mmioAccess = (vm) => {
    const lapic = rnd.next() < 0.6;
    const base = lapic ? LAPIC_BASE : IOAPIC_BASE;
    const r = rnd.next();
    let offset;
    if (r < 0.04) {
      // around the pages, outside them: no device (the dispatch stops the VM, not the board)
      const gpa = rnd.next() < 0.5 ? base - 1 - rnd.int(8) : base + PAGE + rnd.int(8);
      where = `mmio at ${hex(gpa)}`;
      assert.equal(rig.mmioAt(gpa)[0], -1, `${where}: unmapped`);
      tally.mmioUnmapped++;
      return;
    }
    if (r < 0.65 && lapic) offset = rnd.next() < 0.4 ? rnd.pick([0x300, 0x300, 0x300, 0x310, 0x280, 0x0d0, 0x020]) : rnd.pick(LAPIC_OFFSETS); // ICR, ESR, LDR, ID more often
    else if (r < 0.65) offset = rnd.pick([0x00, 0x10, 0x20, 0x30, 0x40]);
    else if (r < 0.85) offset = rnd.int(PAGE / 4) * 4;
    else offset = rnd.int(PAGE);
    const size = rnd.next() < 0.75 ? 4 : rnd.pick([1, 2]);
    const [d, off] = rig.mmioAt(base + offset);
    assert.equal(rig.devices[d]?.id, lapic ? ID.Lapic : ID.Ioapic, `mmio at ${hex(base + offset)}: device`);
    assert.equal(off, offset, `mmio at ${hex(base + offset)}: offset`);
    const dword4 = size === 4 && (offset & 3) === 0;
    if (rnd.next() < 0.45) {
      where = `${lapic ? 'lapic' : 'ioapic'} read ${hex(offset)}/${size}`;
      const pre = lapic ? lapicState(vm) : null;
      const v = rig.mmioRead(vm, d, offset, size);
      tally.mmioReads++;
      if (!dword4) {
        assert.equal(v, -1, `${where}: not an aligned dword: all ones`);
        if (lapic) assert.ok(same(lapicState(vm), pre), `${where}: a refused read changed the APIC`);
        return;
      }
      assert.ok(Number.isInteger(v) && v >= 0 && v <= 0xffffffff, `${where}: ${v}`);
      if (lapic) {
        const b = dword(pre, S.BASE);
        const enabled = (b & 0x800) !== 0 && (b & 0x400) === 0;
        if (!enabled) assert.equal(v, 0xffffffff, `${where}: no xAPIC page`);
        else if (offset >>> 4 !== LAPIC_EOI && ((offset & 0xf) !== 0 || !LAPIC_READABLE.has(offset >>> 4))) { // EOI (write-only) reads 0 quietly
          assert.equal(v, 0, `${where}: a reserved register reads 0`);
          assert.ok((dword(lapicState(vm), S.ESR_PENDING) & ESR_ILLEGAL_REGISTER) !== 0, `${where}: and sets ESR bit 7`);
          tally.esrIllegalRegister++;
        }
      }
      return;
    }
    const value = lapic ? lapicValue(offset) : rnd.next() < 0.5 ? rnd.pick([0, 1, 2, ...Array.from({ length: 48 }, (_, i) => 0x10 + i), rnd.int(256)]) : value32();
    where = `${lapic ? 'lapic' : 'ioapic'} write ${hex(offset)}/${size} ${hex(value)}`;
    tally.mmioWrites++;
    if (!dword4) {
      const before = rig.saveAll(vm);
      assert.equal(rig.mmioWrite(vm, d, offset, size, value), 0, `${where}: continue`);
      assert.ok(same(rig.saveAll(vm), before), `${where}: not an aligned dword: ignored`);
      return;
    }
    if (lapic) lapicWriteChecked(vm, d, offset, value);
    else assert.equal(rig.mmioWrite(vm, d, offset, size, value), 0, `${where}: an I/O APIC write never stops the VM`);
  };

  /** Every device of every VM slot but `vm`, and their access counts. */
  const others = (vm) => {
    const out = [];
    for (let o = 0; o < rig.maxVms; o++) {
      if (o === vm) continue;
      out.push(o, [...rig.saveAll(o)], rig.devices.map((x) => rig.accesses(o, x.index)), rig.activity(o));
    }
    return out;
  };

  const roundTrip = (vm) => {
    const theirs = rig.saveAll(1 - vm);
    for (const dev of rig.devices) {
      const first = rig.save(dev.index, vm);
      assert.equal(first.length, dev.bytes);
      assert.ok(rig.load(dev.index, vm, first), `${DEVICE_NAMES[dev.id]} of VM ${vm}: its own saved state is refused`);
      const second = rig.save(dev.index, vm);
      assert.deepEqual([...second], [...first], `${DEVICE_NAMES[dev.id]} of VM ${vm}: save -> load -> save differs`);
      tally.roundTrips++;
    }
    assert.ok(same(rig.saveAll(1 - vm), theirs), `VM ${vm}'s save -> load changed VM ${1 - vm}'s devices`);
  };

  const randomLoads = (vm) => {
    const other = 1 - vm;
    for (const dev of rig.devices) {
      const name = `${DEVICE_NAMES[dev.id]} of VM ${vm}`;
      for (let t = 0; t < LOAD_TRIALS; t++) {
        const saved = rig.save(dev.index, vm);
        let bytes = saved.slice();
        let off = 0;
        let len = dev.bytes;
        let kind = rnd.int(6);
        if (dev.bytes === 0 && kind < 2) kind = 3;
        switch (kind) {
          case 0: // random bytes
            bytes = Uint8Array.from({ length: dev.bytes }, () => rnd.int(256));
            break;
          case 1: // saved state with a few bytes changed
            for (let k = 1 + rnd.int(3); k > 0; k--) {
              const i = rnd.int(dev.bytes);
              bytes[i] = rnd.next() < 0.5 ? bytes[i] ^ (1 << rnd.int(8)) : rnd.int(256);
            }
            break;
          case 2: // too short a length
            len = rnd.int(dev.bytes);
            break;
          case 3: // too long a length
            len = dev.bytes + 1 + rnd.int(8);
            bytes = Uint8Array.from({ length: len }, (_, i) => (i < dev.bytes ? saved[i] : rnd.int(256)));
            break;
          case 4: // the source ends inside the state
            off = rig.bufBytes - rnd.int(Math.max(1, dev.bytes));
            break;
          case 5: // a negative offset
            off = -1 - rnd.int(4);
            break;
        }
        where = `${name}: load kind ${kind} (off ${off}, len ${len}, ${Buffer.from(bytes).toString('hex')})`;
        const mine = rig.saveAll(vm);
        const theirs = rig.saveAll(other);
        const taken = rig.load(dev.index, vm, bytes, off, len);
        tally.loads[taken ? 'taken' : 'refused']++;
        assert.ok(same(rig.saveAll(other), theirs), `${where}: VM ${other}'s devices changed`);
        if (!taken) {
          assert.ok(same(rig.saveAll(vm), mine), `${where}: refused, yet the devices changed`);
          continue;
        }
        assert.ok(kind < 2 || (dev.bytes === 0 && len === 0) || (kind === 4 && dev.bytes === 0), `${where}: a truncated or misplaced state was taken`);
        assert.equal(Buffer.from(rig.save(dev.index, vm)).toString("hex"), Buffer.from(bytes.subarray(0, dev.bytes)).toString("hex"), `${where}: taken, but it saves back differently`);
      }
    }
  };

  for (let round = 0; round < ROUNDS; round++) {
    for (const vm of [0, 1]) {
      const t0 = rig.tsc;
      const before = others(vm);
      if (rnd.next() < 0.25) {
        rig.reset(vm); // as a restart would: the others must not notice either
        resetControl[vm] = 0;
      }
      for (let i = 0; i < ACCESSES; i++) {
        tick();
        try {
          if (rnd.next() < 0.65) portAccess(vm);
          else mmioAccess(vm);
        } catch (e) {
          e.message = `seed ${seed} round ${round} VM ${vm} access ${i}: ${e.message}`;
          throw e;
        }
      }
      const t1 = rig.tsc;
      rig.tsc = t0; // the others' clocks read as before
      assert.deepEqual(others(vm), before, `seed ${seed} round ${round}: a stream aimed at VM ${vm} changed another VM's devices`);
      rig.tsc = t1;
      try {
        for (const v of [0, 1]) roundTrip(v);
        for (const v of [0, 1]) randomLoads(v);
      } catch (e) {
        e.message = `seed ${seed} round ${round}: ${e.message}`;
        throw e;
      }
    }
  }
  return rig;
};

test('board fuzz: two VMs, every device, seeded streams and random state', (t) => {
  const started = Date.now();
  const total = { portReads: 0, portWrites: 0, mmioReads: 0, mmioWrites: 0, mmioUnmapped: 0, stops: {}, icrOthers: 0, icrSelf: 0, icrIllegal: 0, esrIllegalRegister: 0, roundTrips: 0, loads: { taken: 0, refused: 0 } };
  const hostCalls = new Set();
  for (const seed of SEEDS) {
    const tally = { portReads: 0, portWrites: 0, mmioReads: 0, mmioWrites: 0, mmioUnmapped: 0, stops: {}, icrOthers: 0, icrSelf: 0, icrIllegal: 0, esrIllegalRegister: 0, roundTrips: 0, loads: { taken: 0, refused: 0 } };
    const rig = fuzzSeed(seed, tally);
    for (const n of rig.calls.keys()) hostCalls.add(n);
    assert.deepEqual(rig.otherCalls(), [], `seed ${seed}: the devices called host functions other than the clocks`);
    // each stream must reach what it checks
    assert.ok(tally.stops[1] > 0 && tally.stops[10] > 0 && tally.stops[11] > 0, `seed ${seed}: every stop reason seen (${JSON.stringify(tally.stops)})`);
    assert.ok(tally.icrOthers >= 20, `seed ${seed}: IPIs to other vCPUs checked (${tally.icrOthers})`);
    assert.ok(tally.loads.taken > 0 && tally.loads.refused > 0, `seed ${seed}: loads taken and refused`);
    for (const [k, v] of Object.entries(tally)) {
      if (typeof v === 'number') total[k] += v;
      else for (const [k2, v2] of Object.entries(v)) total[k][k2] = (total[k][k2] ?? 0) + v2;
    }
  }
  t.diagnostic(`seeds ${SEEDS.join(', ')}: ${JSON.stringify(total)}; host functions called: ${[...hostCalls].sort().join(', ')}; ${Date.now() - started} ms`);
  for (const n of hostCalls) assert.ok(CLOCK_IMPORTS.includes(n), n);
});
