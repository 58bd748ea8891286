// The 8259A PIC pair and the ELCR (kernel/vm/devices/pic8259.ts) in the porffor-compiled test
// kernel (tests/fixtures/kernels/vm-logic.ts), driven as Linux's i8259.c drives it and checked
// against the Intel 8259A datasheet: the init_8259A ICW sequence, the INTA cycle (vector,
// IRR -> ISR), OCW1 masking and the probe read-back, fixed priority (a lower IR waits, a
// higher one preempts), the slave through the master's IR2, specific and non-specific EOI,
// rotation, level-triggered inputs from the ELCR, automatic EOI, spurious IR7/IR15, OCW3
// register reads and poll, migration state, and a seeded fuzz run.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { VmLogic } from '../sim/vm-logic.mjs';
import { prng } from '../sim/acpi-fuzz.mjs';

const [M0, M1, S0, S1, ELCR0, ELCR1] = [0x20, 0x21, 0xa0, 0xa1, 0x4d0, 0x4d1];
const READ_IRR = 0x0a;
const READ_ISR = 0x0b;
const EOI = 0x20;

let rig;
const fresh = (vm = 0) => {
  rig ??= new VmLogic();
  rig.picReset(vm);
  return rig;
};

/** Linux 6.1 arch/x86/kernel/i8259.c init_8259A(auto_eoi). */
const initLinux = (r, vm = 0, autoEoi = false) => {
  r.picWrite(vm, M1, 0xff);
  r.picWrite(vm, S1, 0xff);
  r.picWrite(vm, M0, 0x11); // ICW1: edge, cascade, ICW4
  r.picWrite(vm, M1, 0x30); // ICW2: ISA_IRQ_VECTOR(0)
  r.picWrite(vm, M1, 1 << 2); // ICW3: slave on IR2
  r.picWrite(vm, M1, autoEoi ? 0x03 : 0x01); // ICW4: 8086 (+AEOI)
  r.picWrite(vm, S0, 0x11);
  r.picWrite(vm, S1, 0x38); // ISA_IRQ_VECTOR(8)
  r.picWrite(vm, S1, 2); // slave id
  r.picWrite(vm, S1, 0x01);
  r.picWrite(vm, M1, 0x00); // all unmasked (Linux unmasks per IRQ; enough here)
  r.picWrite(vm, S1, 0x00);
};
const reg = (r, vm, port, ocw3) => { r.picWrite(vm, port, ocw3); return r.picRead(vm, port); };
const pulse = (r, vm, irq) => { r.picSetIrq(vm, irq, 1); r.picSetIrq(vm, irq, 0); };

test('Linux\'s probe: the IMR written through 0x21 reads back; an unprogrammed PIC is at vector 0', () => {
  const r = fresh();
  assert.equal(r.picRead(0, M1), 0, 'power-on IMR');
  r.picWrite(0, M1, 0xfb);
  assert.equal(r.picRead(0, M1), 0xfb);
  r.picWrite(0, M1, 0x00);
  pulse(r, 0, 1);
  assert.equal(r.picOutput(0), true);
  assert.equal(r.picAcknowledge(0), 0x01, 'vector base 0 until ICW2');
});

test('init_8259A, then IRQ0: INT asserted, INTA gives 0x30 and sets ISR bit 0, EOI clears it', () => {
  const r = fresh();
  initLinux(r);
  assert.equal(r.picOutput(0), false);
  r.picSetIrq(0, 0, 1);
  assert.equal(r.picOutput(0), true);
  assert.equal(reg(r, 0, M0, READ_IRR), 0x01);
  assert.equal(r.picAcknowledge(0), 0x30);
  assert.equal(reg(r, 0, M0, READ_ISR), 0x01);
  assert.equal(reg(r, 0, M0, READ_IRR), 0x00, 'the edge request is consumed');
  assert.equal(r.picOutput(0), false);
  r.picSetIrq(0, 0, 0);
  r.picWrite(0, M0, EOI);
  assert.equal(reg(r, 0, M0, READ_ISR), 0x00);
  r.picSetIrq(0, 0, 1);
  assert.equal(r.picAcknowledge(0), 0x30, 'a new rising edge');
});

test('masking: a masked request waits in IRR and is delivered when unmasked', () => {
  const r = fresh();
  initLinux(r);
  r.picWrite(0, M1, 0x10); // mask IRQ4
  pulse(r, 0, 4);
  assert.equal(r.picOutput(0), false);
  assert.equal(reg(r, 0, M0, READ_IRR), 0x10);
  r.picWrite(0, S1, 0x02); // mask IRQ9
  pulse(r, 0, 9);
  assert.equal(r.picOutput(0), false);
  r.picWrite(0, M1, 0x00);
  assert.equal(r.picOutput(0), true);
  assert.equal(r.picAcknowledge(0), 0x34);
  r.picWrite(0, M0, EOI);
  r.picWrite(0, S1, 0x00);
  assert.equal(r.picOutput(0), true);
  assert.equal(r.picAcknowledge(0), 0x39);
});

test('fixed priority: IRQ1 waits while IRQ0 is in service; IRQ0 preempts IRQ3', () => {
  const r = fresh();
  initLinux(r);
  pulse(r, 0, 0);
  assert.equal(r.picAcknowledge(0), 0x30);
  pulse(r, 0, 1);
  assert.equal(r.picOutput(0), false, 'IRQ1 has a lower priority than IRQ0 in service');
  r.picWrite(0, M0, EOI);
  assert.equal(r.picOutput(0), true);
  assert.equal(r.picAcknowledge(0), 0x31);
  r.picWrite(0, M0, EOI);
  pulse(r, 0, 3);
  assert.equal(r.picAcknowledge(0), 0x33);
  pulse(r, 0, 0);
  assert.equal(r.picOutput(0), true, 'IRQ0 preempts IRQ3');
  assert.equal(r.picAcknowledge(0), 0x30);
  assert.equal(reg(r, 0, M0, READ_ISR), 0x09);
  r.picWrite(0, M0, EOI); // non-specific: the highest in service (IRQ0)
  assert.equal(reg(r, 0, M0, READ_ISR), 0x08);
  pulse(r, 0, 5);
  pulse(r, 0, 4);
  assert.equal(r.picOutput(0), false, 'both below IRQ3');
  r.picWrite(0, M0, 0x63); // specific EOI for IRQ3
  assert.equal(r.picAcknowledge(0), 0x34, 'IRQ4 before IRQ5');
});

test('the slave through IR2: IRQ 8 and 12 give 0x38 and 0x3C, both ISRs set, specific EOIs', () => {
  const r = fresh();
  initLinux(r);
  r.picSetIrq(0, 12, 1);
  assert.equal(r.picOutput(0), true);
  assert.equal(r.picAcknowledge(0), 0x3c);
  assert.equal(reg(r, 0, S0, READ_ISR), 0x10);
  assert.equal(reg(r, 0, M0, READ_ISR), 0x04, 'the master\'s IR2 is in service');
  r.picSetIrq(0, 8, 1);
  assert.equal(r.picOutput(0), false, 'fully nested: the master blocks IR2 while in service');
  r.picWrite(0, S0, 0x64); // Linux's mask_and_ack_8259A: specific EOI to the slave, then IR2 on the master
  r.picWrite(0, M0, 0x62);
  assert.equal(r.picOutput(0), true);
  assert.equal(r.picAcknowledge(0), 0x38);
  assert.equal(reg(r, 0, S0, READ_ISR), 0x01);
  assert.equal(reg(r, 0, M0, READ_ISR), 0x04);
  r.picWrite(0, S0, 0x60);
  r.picWrite(0, M0, 0x62);
  assert.equal(reg(r, 0, S0, READ_ISR), 0x00);
  assert.equal(reg(r, 0, M0, READ_ISR), 0x00);
  assert.equal(r.picOutput(0), false);
  r.picSetIrq(0, 2, 1);
  assert.equal(r.picOutput(0), false, 'ISA IRQ 2 is the cascade, not an input');
});

test('special fully nested mode lets a higher slave IRQ through while the slave is in service', () => {
  const r = fresh();
  initLinux(r);
  r.picWrite(0, M0, 0x11);
  r.picWrite(0, M1, 0x30);
  r.picWrite(0, M1, 0x04);
  r.picWrite(0, M1, 0x11); // ICW4: SFNM, 8086
  pulse(r, 0, 12);
  assert.equal(r.picAcknowledge(0), 0x3c);
  pulse(r, 0, 8);
  assert.equal(r.picOutput(0), true);
  assert.equal(r.picAcknowledge(0), 0x38);
});

test('level-triggered through the ELCR: requested while high, not after lowered; reserved bits read 0', () => {
  const r = fresh();
  initLinux(r);
  r.picWrite(0, ELCR0, 0xff);
  r.picWrite(0, ELCR1, 0xff);
  assert.equal(r.picRead(0, ELCR0), 0xf8, 'IRQ 0, 1, 2 are edge only');
  assert.equal(r.picRead(0, ELCR1), 0xde, 'IRQ 8 and 13 are edge only');
  r.picWrite(0, ELCR0, 0x20);
  r.picWrite(0, ELCR1, 0x02);
  r.picSetIrq(0, 5, 1);
  assert.equal(r.picAcknowledge(0), 0x35);
  r.picWrite(0, M0, EOI);
  assert.equal(r.picOutput(0), true, 'still high: requested again');
  assert.equal(r.picAcknowledge(0), 0x35);
  r.picSetIrq(0, 5, 0);
  r.picWrite(0, M0, EOI);
  assert.equal(r.picOutput(0), false);
  assert.equal(reg(r, 0, M0, READ_IRR), 0x00);
  r.picSetIrq(0, 9, 1);
  assert.equal(r.picAcknowledge(0), 0x39);
  r.picWrite(0, S0, EOI);
  r.picWrite(0, M0, EOI);
  assert.equal(r.picAcknowledge(0), 0x39, 'slave level input still high');
  r.picSetIrq(0, 9, 0);
  r.picWrite(0, S0, EOI);
  r.picWrite(0, M0, EOI);
  assert.equal(r.picOutput(0), false);
  // an edge input (IRQ 3) pulsed is remembered
  pulse(r, 0, 3);
  assert.equal(r.picAcknowledge(0), 0x33);
});

test('LTIM in ICW1 makes every input of that chip level-triggered', () => {
  const r = fresh();
  r.picWrite(0, M0, 0x19);
  r.picWrite(0, M1, 0x20);
  r.picWrite(0, M1, 0x04);
  r.picWrite(0, M1, 0x01);
  pulse(r, 0, 0);
  assert.equal(r.picOutput(0), false, 'a pulse that is gone is no request');
  r.picSetIrq(0, 0, 1);
  assert.equal(r.picAcknowledge(0), 0x20);
});

test('automatic EOI: no ISR bit, the next request goes through at once', () => {
  const r = fresh();
  initLinux(r, 0, true);
  pulse(r, 0, 3);
  assert.equal(r.picAcknowledge(0), 0x33);
  assert.equal(reg(r, 0, M0, READ_ISR), 0x00);
  pulse(r, 0, 4);
  assert.equal(r.picAcknowledge(0), 0x34);
  r.picWrite(0, M0, 0x80); // rotate in AEOI mode: an acknowledged IR becomes the lowest
  pulse(r, 0, 1);
  assert.equal(r.picAcknowledge(0), 0x31);
  pulse(r, 0, 0);
  pulse(r, 0, 1);
  pulse(r, 0, 2 + 1);
  assert.equal(r.picAcknowledge(0), 0x33, 'IR2 is now the highest, then IR3');
});

test('rotation: rotate on non-specific EOI and set priority', () => {
  const r = fresh();
  initLinux(r);
  pulse(r, 0, 0);
  assert.equal(r.picAcknowledge(0), 0x30);
  r.picWrite(0, M0, 0xa0); // rotate on non-specific EOI: IR0 lowest
  pulse(r, 0, 0);
  pulse(r, 0, 7);
  assert.equal(r.picAcknowledge(0), 0x37, 'IR7 now outranks IR0');
  r.picWrite(0, M0, 0xe7); // rotate on specific EOI 7
  assert.equal(r.picAcknowledge(0), 0x30);
  r.picWrite(0, M0, EOI);
  r.picWrite(0, M0, 0xc4); // set priority: IR4 lowest, IR5 highest
  pulse(r, 0, 4);
  pulse(r, 0, 6);
  assert.equal(r.picAcknowledge(0), 0x36);
});

test('spurious IR7 / IR15 when the request goes away before INTA', () => {
  const r = fresh();
  initLinux(r);
  r.picWrite(0, ELCR0, 0x20);
  r.picSetIrq(0, 5, 1);
  assert.equal(r.picOutput(0), true);
  r.picSetIrq(0, 5, 0);
  assert.equal(r.picAcknowledge(0), 0x37, 'IR7 of the master');
  assert.equal(reg(r, 0, M0, READ_ISR), 0x00, 'a spurious IR7 sets no ISR bit');
  // the slave's level request vanishes after the master latched IR2
  r.picWrite(0, ELCR1, 0x04);
  r.picSetIrq(0, 10, 1);
  r.picSetIrq(0, 10, 0);
  assert.equal(r.picOutput(0), true, 'the master latched the slave\'s edge on IR2');
  assert.equal(r.picAcknowledge(0), 0x3f, 'IR7 of the slave');
  assert.equal(reg(r, 0, S0, READ_ISR), 0x00);
  assert.equal(reg(r, 0, M0, READ_ISR), 0x04, 'the master\'s IR2 is in service: Linux EOIs it');
  // masked after the core saw INT
  r.picWrite(0, M0, EOI);
  pulse(r, 0, 6);
  assert.equal(r.picOutput(0), true);
  r.picWrite(0, M1, 0x40);
  assert.equal(r.picAcknowledge(0), 0x37);
});

test('OCW3: IRR and ISR reads stay selected, IMR on the odd port, poll mode, special mask mode', () => {
  const r = fresh();
  initLinux(r);
  r.picWrite(0, M1, 0x08);
  pulse(r, 0, 3);
  pulse(r, 0, 1);
  r.picWrite(0, M0, READ_IRR);
  assert.equal(r.picRead(0, M0), 0x0a);
  assert.equal(r.picRead(0, M0), 0x0a, 'the selection stays');
  assert.equal(r.picRead(0, M1), 0x08);
  assert.equal(r.picAcknowledge(0), 0x31);
  r.picWrite(0, M0, READ_ISR);
  assert.equal(r.picRead(0, M0), 0x02);
  r.picWrite(0, M0, 0x08); // OCW3 without RR: the selection is kept
  assert.equal(r.picRead(0, M0), 0x02);
  r.picWrite(0, M0, EOI);
  r.picWrite(0, M1, 0x00);
  r.picWrite(0, M0, 0x0c); // poll
  assert.equal(r.picRead(0, M0), 0x83, 'I=1, W=3, acknowledged');
  assert.equal(r.picRead(0, M0), 0x08, 'back to ISR reads');
  r.picWrite(0, M0, 0x0c);
  assert.equal(r.picRead(0, M0), 0x00, 'nothing requests');
  // special mask mode: a masked in-service IR3 no longer blocks lower IR5
  pulse(r, 0, 5);
  assert.equal(r.picOutput(0), false);
  r.picWrite(0, M1, 0x08);
  r.picWrite(0, M0, 0x68); // ESMM | SMM
  assert.equal(r.picOutput(0), true);
  assert.equal(r.picAcknowledge(0), 0x35);
  r.picWrite(0, M0, 0x48); // reset special mask
  pulse(r, 0, 6);
  assert.equal(r.picOutput(0), false);
});

test('VMs have their own PICs; other ports and VMs read as nothing', () => {
  const r = fresh(0);
  fresh(5);
  initLinux(r, 0);
  initLinux(r, 5);
  r.picWrite(5, S1, 0x38 + 1);
  pulse(r, 0, 1);
  assert.equal(r.picOutput(5), false);
  assert.equal(r.picAcknowledge(0), 0x31);
  assert.equal(r.picRead(5, S1), 0x39);
  assert.equal(r.picRead(0, 0x22), -1);
  assert.equal(r.picRead(99, M0), -1);
  assert.equal(r.picOutput(99), false);
});

test('migration: saved state goes on where it was; malformed state is refused and changes nothing', () => {
  const r = fresh(0);
  fresh(1);
  initLinux(r, 0);
  r.picWrite(0, ELCR1, 0x04);
  r.picWrite(0, M1, 0x10);
  pulse(r, 0, 4);
  pulse(r, 0, 12);
  r.picSetIrq(0, 10, 1);
  assert.equal(r.picAcknowledge(0), 0x3a);
  r.picWrite(0, M0, READ_ISR);
  const saved = r.picSave(0);
  assert.equal(saved.length, 20);
  assert.ok(r.picLoad(1, saved));
  assert.deepEqual(r.picSave(1), saved);
  assert.equal(r.picRead(1, M0), 0x04, 'ISR read selected, IR2 in service');
  assert.equal(r.picRead(1, M1), 0x10);
  r.picWrite(1, S0, 0x62);
  r.picWrite(1, M0, 0x62);
  assert.equal(r.picAcknowledge(1), 0x3a, 'IRQ10 still high (level)');
  r.picSetIrq(1, 10, 0);
  r.picWrite(1, S0, 0x62);
  r.picWrite(1, M0, 0x62);
  assert.equal(r.picAcknowledge(1), 0x3c);
  const before = r.picSave(2);
  for (const [at, value] of [[4, 0x01], [5, 0x31], [6, 4], [7, 8], [9, 2], [14, 0x20], [15, 0x3c], [16, 9]]) {
    const bad = saved.slice();
    bad[at] = value;
    assert.equal(r.picLoad(2, bad), false, `byte ${at} = ${value}`);
  }
  assert.equal(r.picLoad(2, saved.subarray(0, 19)), false, 'short');
  assert.deepEqual(r.picSave(2), before);
});

test('fuzz: 30,000 random accesses over 4 VMs never throw, keep valid bits, and round-trip through save/load', () => {
  const r = fresh(0);
  const rand = prng(0x8259).next;
  const pick = (n) => Math.floor(rand() * n);
  const ports = [M0, M1, S0, S1, ELCR0, ELCR1];
  for (let vm = 0; vm < 4; vm++) fresh(vm);
  for (let step = 0; step < 30000; step++) {
    const vm = pick(4);
    const op = pick(10);
    if (op < 4) {
      const port = ports[pick(6)];
      const biased = [0x11, 0x19, 0x20, 0x60 | pick(8), 0x0a, 0x0b, 0x0c, 0x68, 0x48, 0xa0, 0xc0 | pick(8), 0xe0 | pick(8)];
      r.picWrite(vm, port, rand() < 0.5 ? pick(256) : biased[pick(biased.length)]);
    } else if (op < 6) {
      const v = r.picRead(vm, ports[pick(6)]);
      assert.ok(v >= 0 && v <= 0xff, `read ${v}`);
    } else if (op < 8) r.picSetIrq(vm, pick(16), pick(2));
    else if (op < 9) {
      if (r.picOutput(vm)) {
        const v = r.picAcknowledge(vm);
        assert.ok(v >= 0 && v <= 0xff);
      }
    } else {
      const s = r.picSave(vm);
      assert.ok((s[4] & 0x07) === 0 && (s[14] & 0x21) === 0, 'ELCR reserved bits');
      assert.ok((s[5] & 7) === 0 && (s[15] & 7) === 0, 'vector bases');
      assert.ok(s[6] <= 3 && s[7] <= 7 && s[16] <= 3 && s[17] <= 7);
      const other = (vm + 1) % 4;
      const keep = r.picSave(other);
      assert.ok(r.picLoad(other, s));
      assert.deepEqual(r.picSave(other), s);
      assert.ok(r.picLoad(other, keep));
    }
  }
});
