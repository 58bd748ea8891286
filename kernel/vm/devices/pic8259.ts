// The PC/AT's two 8259A programmable interrupt controllers (Intel 8259A datasheet): the master
// at ports 0x20-0x21, the slave at 0xA0-0xA1 cascaded on the master's IR2, and the edge/level
// control registers (ELCR) at 0x4D0-0x4D1 (PIIX/ICH "ELCR1/ELCR2": 1 = level-triggered).
// ICW1-ICW4 initialization, OCW1 (IMR), OCW2 (EOI, specific EOI, rotations, set priority),
// OCW3 (read IRR/ISR, poll, special mask mode), automatic EOI (with rotation), special fully
// nested mode, spurious IR7 on INTA without a request. 8086 mode only: ICW4's uPM bit and
// ICW1's MCS-80/85 address bits are ignored. The cascade is always IR2 (ICW3 is accepted and
// has no effect), as on every PC.
// Pure: the core reads picOutput before a VM entry and runs the INTA cycle with picAcknowledge.
import { MAX_VMS } from '../../lib/limits';

export const PIC_MASTER_BASE = 0x20;
export const PIC_SLAVE_BASE = 0xa0;
export const PIC_ELCR_BASE = 0x4d0;
export const PIC_PORTS = 2;

const MASTER = 0;
const SLAVE = 1;
const CASCADE_IRQ = 2;
const N = MAX_VMS * 2; // chip i = vm * 2 + (0 master | 1 slave)

// ELCR bits that exist (PIIX4 datasheet 4.1.9: IRQ 0, 1, 2, 8 and 13 are edge only).
const ELCR_MASTER_BITS = 0xf8;
const ELCR_SLAVE_BITS = 0xde;

// Flags (also their bits in the saved state).
const F_LTIM = 0x01; // ICW1 bit 3: level-triggered inputs
const F_SINGLE = 0x02; // ICW1 bit 1: no ICW3
const F_IC4 = 0x04; // ICW1 bit 0: ICW4 follows
const F_AEOI = 0x08; // ICW4 bit 1
const F_ROTATE_AEOI = 0x10; // OCW2 rotate in automatic EOI mode
const F_SFNM = 0x20; // ICW4 bit 4: special fully nested mode
const F_SPECIAL_MASK = 0x40; // OCW3 ESMM/SMM
const F_READ_ISR = 0x80; // OCW3 RR/RIS: port 0 reads ISR (else IRR)

const irr = new Uint8Array(N);
const isr = new Uint8Array(N);
const imr = new Uint8Array(N);
const lines = new Uint8Array(N); // the IR inputs' levels now
const elcr = new Uint8Array(N);
const vectorBase = new Uint8Array(N); // ICW2 & 0xf8
const initStep = new Uint8Array(N); // 0 ready, 1 wants ICW2, 2 ICW3, 3 ICW4
const highest = new Uint8Array(N); // the IR with the highest priority (rotation moves it)
const flags = new Uint8Array(N);
const pollNext = new Uint8Array(N); // OCW3 P: the next read is the poll word

const valid = (vm: number) => vm >= 0 && vm < MAX_VMS;

const levelMask = (c: number) => ((flags[c] & F_LTIM) !== 0 ? 0xff : elcr[c]);

/** Priority rank of the best IR in `mask` (0 highest), 8 when mask is empty. */
const bestRank = (c: number, mask: number) => {
  if (mask === 0) return 8;
  const h = highest[c];
  let rank = 0;
  while ((mask & (1 << ((rank + h) & 7))) === 0) rank++;
  return rank;
};

/** The IR chip c requests the CPU for now (datasheet "Interrupt sequence", priority resolver), or -1. */
const chipRequest = (c: number) => {
  const rank = bestRank(c, irr[c] & ~imr[c]);
  if (rank === 8) return -1;
  let inService = isr[c];
  if ((flags[c] & F_SPECIAL_MASK) !== 0) inService &= ~imr[c];
  if ((flags[c] & F_SFNM) !== 0 && (c & 1) === MASTER) inService &= ~(1 << CASCADE_IRQ);
  return rank < bestRank(c, inService) ? (rank + highest[c]) & 7 : -1;
};

/** Input `ir` of chip c goes to `level`: edge inputs latch IRR on a rise, level inputs follow. */
const setLine = (c: number, ir: number, level: number) => {
  const bit = 1 << ir;
  const was = lines[c] & bit;
  if (level !== 0) {
    lines[c] |= bit;
    if ((levelMask(c) & bit) !== 0 || was === 0) irr[c] |= bit;
  } else {
    lines[c] &= ~bit;
    if ((levelMask(c) & bit) !== 0) irr[c] &= ~bit;
  }
};

/** The slave's INT drives the master's IR2. */
const cascade = (vm: number) => setLine(vm * 2 + MASTER, CASCADE_IRQ, chipRequest(vm * 2 + SLAVE) >= 0 ? 1 : 0);

/** INTA on chip c for IR `ir`: IRR -> ISR (or AEOI), an edge request is consumed. */
const intack = (c: number, ir: number) => {
  const bit = 1 << ir;
  if ((flags[c] & F_AEOI) !== 0) {
    if ((flags[c] & F_ROTATE_AEOI) !== 0) highest[c] = (ir + 1) & 7;
  } else isr[c] |= bit;
  if ((levelMask(c) & bit) === 0) irr[c] &= ~bit;
};

/** Level inputs mirror their lines after a trigger-mode change; edge inputs wait for a new rise. */
const resample = (c: number) => {
  const level = levelMask(c);
  irr[c] = (irr[c] & ~level) | (lines[c] & level);
};

/** ICW1 (datasheet "Initialization command words"): IMR and ISR cleared, IR7 lowest, IRR reads, edge sense reset. */
const writeIcw1 = (c: number, value: number) => {
  flags[c] = (value & 0x08 ? F_LTIM : 0) | (value & 0x02 ? F_SINGLE : 0) | (value & 0x01 ? F_IC4 : 0);
  imr[c] = 0;
  isr[c] = 0;
  highest[c] = 0;
  pollNext[c] = 0;
  initStep[c] = 1;
  const level = levelMask(c);
  irr[c] = lines[c] & level; // an edge request needs a new low-to-high transition
};

/** OCW2: EOIs and priority rotation (datasheet table "Operation command word 2"). */
const writeOcw2 = (c: number, value: number) => {
  const command = value >> 5;
  const ir = value & 7;
  switch (command) {
    case 0: // rotate in AEOI mode (clear)
      flags[c] &= ~F_ROTATE_AEOI;
      return;
    case 4: // rotate in AEOI mode (set)
      flags[c] |= F_ROTATE_AEOI;
      return;
    case 1: // non-specific EOI
    case 5: { // rotate on non-specific EOI
      const rank = bestRank(c, isr[c]);
      if (rank === 8) return;
      const top = (rank + highest[c]) & 7;
      isr[c] &= ~(1 << top);
      if (command === 5) highest[c] = (top + 1) & 7;
      return;
    }
    case 3: // specific EOI
      isr[c] &= ~(1 << ir);
      return;
    case 7: // rotate on specific EOI
      isr[c] &= ~(1 << ir);
      highest[c] = (ir + 1) & 7;
      return;
    case 6: // set priority: IR `ir` becomes the lowest
      highest[c] = (ir + 1) & 7;
      return;
  }
  // 2: no operation
};

/** OCW3: P (poll), ESMM/SMM, RR/RIS. */
const writeOcw3 = (c: number, value: number) => {
  if ((value & 0x04) !== 0) pollNext[c] = 1;
  if ((value & 0x02) !== 0) flags[c] = (flags[c] & ~F_READ_ISR) | (value & 0x01 ? F_READ_ISR : 0);
  if ((value & 0x40) !== 0) flags[c] = (flags[c] & ~F_SPECIAL_MASK) | (value & 0x20 ? F_SPECIAL_MASK : 0);
};

/** A write to port A0=1: an ICW2-ICW4 while initializing, else OCW1 (the IMR). */
const writeData = (c: number, value: number) => {
  const step = initStep[c];
  if (step === 0) imr[c] = value;
  else if (step === 1) {
    vectorBase[c] = value & 0xf8; // T7-T3; the low 3 bits are the IR
    initStep[c] = (flags[c] & F_SINGLE) === 0 ? 2 : (flags[c] & F_IC4) !== 0 ? 3 : 0;
  } else if (step === 2) initStep[c] = (flags[c] & F_IC4) !== 0 ? 3 : 0; // ICW3: the cascade is fixed at IR2
  else {
    flags[c] = (flags[c] & ~(F_AEOI | F_SFNM)) | (value & 0x02 ? F_AEOI : 0) | (value & 0x10 ? F_SFNM : 0);
    initStep[c] = 0;
  }
};

/** The poll word (OCW3 P): 0x80 | IR with the INTA's effect, or 0 when nothing requests. */
const pollRead = (vm: number, c: number) => {
  const ir = chipRequest(c);
  if (ir < 0) return 0;
  intack(c, ir);
  return 0x80 | ir;
};

/** VM `vm` reads the byte at `port` (0x20, 0x21, 0xA0, 0xA1, 0x4D0, 0x4D1); -1 for another port. */
export const picRead = (vm: number, port: number) => {
  if (!valid(vm)) return -1;
  if (port === PIC_ELCR_BASE || port === PIC_ELCR_BASE + 1) return elcr[vm * 2 + port - PIC_ELCR_BASE];
  let c = 0;
  if (port === PIC_MASTER_BASE || port === PIC_MASTER_BASE + 1) c = vm * 2 + MASTER;
  else if (port === PIC_SLAVE_BASE || port === PIC_SLAVE_BASE + 1) c = vm * 2 + SLAVE;
  else return -1;
  if (pollNext[c] !== 0) {
    pollNext[c] = 0;
    const word = pollRead(vm, c);
    cascade(vm);
    return word;
  }
  if ((port & 1) !== 0) return imr[c];
  return (flags[c] & F_READ_ISR) !== 0 ? isr[c] : irr[c];
};

/** VM `vm` writes byte `value` to `port` (0x20, 0x21, 0xA0, 0xA1, 0x4D0, 0x4D1). */
export const picWrite = (vm: number, port: number, value: number) => {
  if (!valid(vm)) return;
  const v = value & 0xff;
  if (port === PIC_ELCR_BASE || port === PIC_ELCR_BASE + 1) {
    const c = vm * 2 + port - PIC_ELCR_BASE;
    elcr[c] = v & (c & 1 ? ELCR_SLAVE_BITS : ELCR_MASTER_BITS);
    resample(c);
    cascade(vm);
    return;
  }
  let c = 0;
  if (port === PIC_MASTER_BASE || port === PIC_MASTER_BASE + 1) c = vm * 2 + MASTER;
  else if (port === PIC_SLAVE_BASE || port === PIC_SLAVE_BASE + 1) c = vm * 2 + SLAVE;
  else return;
  if ((port & 1) !== 0) writeData(c, v);
  else if ((v & 0x10) !== 0) writeIcw1(c, v);
  else if ((v & 0x08) !== 0) writeOcw3(c, v);
  else writeOcw2(c, v);
  cascade(vm);
};

/** ISA line `irq` (0-15) of VM `vm` goes to `level` (0 or 1). IRQ 2 is the cascade: ignored. */
export const picSetIrq = (vm: number, irq: number, level: number) => {
  if (!valid(vm) || irq < 0 || irq > 15 || irq === CASCADE_IRQ) return;
  setLine(vm * 2 + (irq >> 3), irq & 7, level !== 0 ? 1 : 0);
  if (irq >= 8) cascade(vm);
};

/** Whether the master's INT output is asserted. */
export const picOutput = (vm: number) => valid(vm) && chipRequest(vm * 2 + MASTER) >= 0;

/**
 * The INTA cycle: the vector of the highest-priority request, IRR -> ISR (AEOI honoured).
 * Without a request (it went away) the chip answers IR7 without setting ISR: vector base + 7 of
 * the master, or of the slave when the master granted IR2 (then the master's ISR2 is set).
 */
export const picAcknowledge = (vm: number) => {
  if (!valid(vm)) return -1;
  const m = vm * 2 + MASTER;
  const s = vm * 2 + SLAVE;
  const ir = chipRequest(m);
  let vector = 0;
  if (ir < 0) vector = vectorBase[m] + 7;
  else {
    if (ir === CASCADE_IRQ) {
      const slaveIr = chipRequest(s);
      if (slaveIr >= 0) intack(s, slaveIr);
      vector = vectorBase[s] + (slaveIr >= 0 ? slaveIr : 7);
    } else vector = vectorBase[m] + ir;
    intack(m, ir);
  }
  cascade(vm);
  return vector;
};

/** Power-on: both chips unprogrammed (IMR 0, vector base 0, edge-triggered), ELCR 0, lines low. */
export const picReset = (vm: number) => {
  if (!valid(vm)) return;
  for (let k = 0; k < 2; k++) {
    const c = vm * 2 + k;
    irr[c] = 0;
    isr[c] = 0;
    imr[c] = 0;
    lines[c] = 0;
    elcr[c] = 0;
    vectorBase[c] = 0;
    initStep[c] = 0;
    highest[c] = 0;
    flags[c] = 0;
    pollNext[c] = 0;
  }
};

// ---- live migration: 10 bytes per chip, master first ----
const CHIP_BYTES = 10;
export const PIC_STATE_BYTES = 2 * CHIP_BYTES;

/** Writes VM `vm`'s PIC pair and ELCR to out[off, + PIC_STATE_BYTES); false when out is too short. */
export const picSave = (vm: number, out: Uint8Array, off: number) => {
  if (!valid(vm) || off < 0 || off + PIC_STATE_BYTES > out.length) return false;
  for (let k = 0; k < 2; k++) {
    const c = vm * 2 + k;
    const o = off + k * CHIP_BYTES;
    out[o] = irr[c];
    out[o + 1] = isr[c];
    out[o + 2] = imr[c];
    out[o + 3] = lines[c];
    out[o + 4] = elcr[c];
    out[o + 5] = vectorBase[c];
    out[o + 6] = initStep[c];
    out[o + 7] = highest[c];
    out[o + 8] = flags[c];
    out[o + 9] = pollNext[c];
  }
  return true;
};

/** Sets VM `vm`'s PIC pair from saved state; false (nothing changed) when malformed. */
export const picLoad = (vm: number, src: Uint8Array, off: number, len: number) => {
  if (!valid(vm) || len !== PIC_STATE_BYTES || off < 0 || off + len > src.length) return false;
  for (let k = 0; k < 2; k++) {
    const o = off + k * CHIP_BYTES;
    const elcrBits = k === MASTER ? ELCR_MASTER_BITS : ELCR_SLAVE_BITS;
    if ((src[o + 4] & ~elcrBits) !== 0 || (src[o + 5] & 7) !== 0 || src[o + 6] > 3 || src[o + 7] > 7 || src[o + 9] > 1) return false;
  }
  for (let k = 0; k < 2; k++) {
    const c = vm * 2 + k;
    const o = off + k * CHIP_BYTES;
    irr[c] = src[o];
    isr[c] = src[o + 1];
    imr[c] = src[o + 2];
    lines[c] = src[o + 3];
    elcr[c] = src[o + 4];
    vectorBase[c] = src[o + 5];
    initStep[c] = src[o + 6];
    highest[c] = src[o + 7];
    flags[c] = src[o + 8];
    pollNext[c] = src[o + 9];
  }
  return true;
};
