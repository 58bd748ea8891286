// The local APIC of each vCPU (Intel SDM vol. 3A chapter 11 "Advanced Programmable Interrupt
// Controller"): the xAPIC register page (11.4.1 table 11-1), the x2APIC MSRs (11.12.1.2
// table 11-6) and IA32_APIC_BASE's mode transitions (11.12.5), task and processor priority
// (11.8.3), IRR/ISR/TMR and EOI (11.8.4-11.8.5), the error status register (11.5.3), the
// local vector table (11.5.1) and the timer in its three modes (11.5.4). Pure: nothing is
// injected from here; the interrupt core asks lapicPendingVector / lapicAcknowledge and runs
// the timer through lapicTimerDeadline / lapicTimerService. `now` is the guest's TSC, and the
// timer counts TSC ticks divided by the divide configuration.
// Not offered: LVT CMCI (max LVT entry 5), EOI-broadcast suppression (version bit 24 clear),
// IPIs to other vCPUs (a VM has one vCPU: such IPIs are dropped and counted, see sendIpi).
import { MAX_VCPUS } from '../../lib/limits';

export const LAPIC_BASE = 0xfee00000;
export const LAPIC_VERSION = 0x00050014; // 11.4.8: version 0x14, max LVT entry 5, no EOI-broadcast suppression

export const IA32_APIC_BASE = 0x1b;
export const IA32_TSC_DEADLINE = 0x6e0;
export const X2APIC_MSR_FIRST = 0x800;
export const X2APIC_MSR_LAST = 0x8ff;

// IA32_APIC_BASE bits (11.4.4, 11.12.1)
const BASE_BSP = 0x100;
const BASE_EXTD = 0x400; // x2APIC mode
const BASE_EN = 0x800; // APIC global enable
const BASE_ADDRESS_MASK = 0xfffff000;

// Registers by index = MMIO offset >> 4 = x2APIC MSR - 0x800 (table 11-6).
const R_ID = 0x02;
const R_VERSION = 0x03;
const R_TPR = 0x08;
const R_APR = 0x09;
const R_PPR = 0x0a;
const R_EOI = 0x0b;
const R_RRD = 0x0c;
const R_LDR = 0x0d;
const R_DFR = 0x0e;
const R_SVR = 0x0f;
const R_ISR = 0x10;
const R_TMR = 0x18;
const R_IRR = 0x20;
const R_ESR = 0x28;
const R_ICR_LO = 0x30;
const R_ICR_HI = 0x31;
const R_LVT_TIMER = 0x32;
const R_LVT_ERROR = 0x37;
const R_TIMER_INITIAL = 0x38;
const R_TIMER_CURRENT = 0x39;
const R_TIMER_DIVIDE = 0x3e;
const R_SELF_IPI = 0x3f;

// LVT entries in order of their registers 0x320-0x370
const LVT_TIMER = 0;
const LVT_LINT0 = 3;
const LVT_LINT1 = 4;
const LVT_ERROR = 5;
const LVTS = 6;
const LVT_MASK = 0x10000;
/** Writable bits of each LVT (11.5.1 figure 11-8): delivery status and remote IRR are read-only. */
const LVT_WRITABLE = new Uint32Array([0x700ff, 0x107ff, 0x107ff, 0x1a7ff, 0x1a7ff, 0x100ff]);

const SVR_ENABLE = 0x100;
const SVR_WRITABLE = 0x1ff; // vector, software enable; bit 12 not offered

// ESR bits (11.5.3 figure 11-9)
export const ESR_SEND_ILLEGAL_VECTOR = 0x20;
export const ESR_RECEIVE_ILLEGAL_VECTOR = 0x40;
export const ESR_ILLEGAL_REGISTER = 0x80;

// ICR low bits (11.6.1 figure 11-12)
const ICR_LO_WRITABLE = 0xccfff; // vector, delivery mode, destination mode, level, trigger, shorthand
const DM_FIXED = 0;
const DM_LOWEST = 1;
const DM_NMI = 4;
const DM_EXTINT = 7;

const TIMER_PERIODIC = 1; // 0: one-shot
const TIMER_TSC_DEADLINE = 2;

const N = MAX_VCPUS;
const apicBase = new Uint32Array(N); // IA32_APIC_BASE low half (the high half is always 0)
const initialId = new Uint32Array(N); // the vCPU's APIC ID as assigned (x2APIC ID)
const idReg = new Uint32Array(N); // xAPIC ID register (bits 31:24 writable)
const tpr = new Uint32Array(N);
const ldr = new Uint32Array(N);
const dfr = new Uint32Array(N);
const svr = new Uint32Array(N);
const esrLatched = new Uint32Array(N); // what ESR reads
const esrPending = new Uint32Array(N); // errors since the last ESR write
const icrLo = new Uint32Array(N);
const icrHi = new Uint32Array(N);
const lvt = new Uint32Array(N * LVTS);
const irr = new Uint32Array(N * 8);
const isr = new Uint32Array(N * 8);
const tmr = new Uint32Array(N * 8);
const nmiPending = new Uint8Array(N);
const timerInitial = new Uint32Array(N);
const timerDivide = new Uint32Array(N); // bits 0, 1, 3 as written
const timerRunning = new Uint8Array(N); // one-shot or periodic counting
const timerStart = new Float64Array(N); // guest TSC at which the current period began
const deadlineLo = new Uint32Array(N); // IA32_TSC_DEADLINE as armed (0: disarmed)
const deadlineHi = new Uint32Array(N);
const droppedIpis = new Float64Array(N);
// Periods of a periodic timer that passed while nobody serviced it (the vCPU did not run):
// owed, and delivered one at a time once the last one was taken, so a guest that counts its
// ticks loses none (QEMU's lost_tick_policy=delay). At most a second's worth at 1 kHz.
const timerOwed = new Float64Array(N);
const MAX_TIMER_OWED = 1000;

/** IA32_TSC_DEADLINE / x2APIC MSR read results (lapicMsrRead). */
export let lapicMsrLo = 0;
export let lapicMsrHi = 0;

const valid = (v: number) => v >= 0 && v < N;
const hardwareEnabled = (v: number) => (apicBase[v] & BASE_EN) !== 0;
const x2apic = (v: number) => (apicBase[v] & BASE_EXTD) !== 0;
const softwareEnabled = (v: number) => (svr[v] & SVR_ENABLE) !== 0;
const timerMode = (v: number) => (lvt[v * LVTS + LVT_TIMER] >>> 17) & 3;
/** 11.5.4 figure 11-10: bits 0, 1, 3 give divide by 2, 4, ..., 128, and 0b111 by 1. */
const divisor = (v: number) => {
  const d = (timerDivide[v] & 3) | ((timerDivide[v] >>> 1) & 4);
  return d === 7 ? 1 : 2 << d;
};
const x2apicLdr = (id: number) => (((id >>> 4) << 16) | (1 << (id & 0xf))) >>> 0; // 11.12.10.2

/** Highest set vector of the 256-bit register at words[v*8, +8), or -1. */
const highest = (words: Uint32Array, v: number) => {
  for (let w = 7; w >= 0; w--) {
    const x = words[v * 8 + w];
    if (x !== 0) return w * 32 + 31 - Math.clz32(x);
  }
  return -1;
};
const bitSet = (words: Uint32Array, v: number, vector: number) => (words[v * 8 + (vector >>> 5)] & (1 << (vector & 31))) !== 0;
const setBit = (words: Uint32Array, v: number, vector: number) => {
  words[v * 8 + (vector >>> 5)] |= 1 << (vector & 31);
};
const clearBit = (words: Uint32Array, v: number, vector: number) => {
  words[v * 8 + (vector >>> 5)] &= ~(1 << (vector & 31));
};

/** 11.8.3.1: PPR is TPR when TPR's class is at least the highest in-service one, else that class. */
const ppr = (v: number) => {
  const inService = highest(isr, v);
  const isrv = inService < 0 ? 0 : inService;
  return (tpr[v] >>> 4) >= (isrv >>> 4) ? tpr[v] : isrv & 0xf0;
};

/** An error is recorded (11.5.3); a newly set bit raises the LVT error vector when unmasked. */
const raiseError = (v: number, bit: number) => {
  if ((esrPending[v] & bit) !== 0) return;
  esrPending[v] |= bit;
  const e = lvt[v * LVTS + LVT_ERROR];
  if ((e & LVT_MASK) === 0) lapicAccept(v, e & 0xff, 0);
};

/** An interrupt arrives at vCPU `vcpu`'s APIC (11.8.4): IRR set, TMR set for level (trigger 1), cleared for edge. */
export const lapicAccept = (vcpu: number, vector: number, level: number) => {
  if (!valid(vcpu) || !hardwareEnabled(vcpu)) return;
  const vec = vector & 0xff;
  if (vec < 16) {
    raiseError(vcpu, ESR_RECEIVE_ILLEGAL_VECTOR);
    return;
  }
  setBit(irr, vcpu, vec);
  if (level !== 0) setBit(tmr, vcpu, vec);
  else clearBit(tmr, vcpu, vec);
};

/** An NMI for vCPU `vcpu` (the I/O APIC's NMI delivery mode, LINT1 in NMI mode, an NMI IPI). */
export const lapicNmi = (vcpu: number) => {
  if (valid(vcpu)) nmiPending[vcpu] = 1;
};

/** The LINT0/LINT1 pin `pin` (0, 1) fires (edge): its LVT says what it delivers (11.5.1). */
export const lapicLocalInterrupt = (vcpu: number, pin: number) => {
  if (!valid(vcpu) || !hardwareEnabled(vcpu) || (pin !== 0 && pin !== 1)) return;
  const e = lvt[vcpu * LVTS + LVT_LINT0 + pin];
  if ((e & LVT_MASK) !== 0) return;
  const mode = (e >>> 8) & 7;
  if (mode === DM_NMI) lapicNmi(vcpu);
  else if (mode === DM_FIXED) lapicAccept(vcpu, e & 0xff, (e >>> 15) & 1);
};

/**
 * Whether a message to `destination`, physical or logical, is for vCPU `vcpu` (11.6.2). `wide`:
 * a 32-bit x2APIC destination (an x2APIC ICR); else 8 bits (the I/O APIC, an xAPIC ICR), whose
 * broadcast 0xFF reaches x2APIC-mode APICs too.
 */
export const lapicMatches = (vcpu: number, destination: number, logical: boolean, wide: boolean) => {
  if (!valid(vcpu) || !hardwareEnabled(vcpu)) return false;
  const dest = wide ? destination >>> 0 : destination & 0xff;
  if (x2apic(vcpu)) {
    if (dest === (wide ? 0xffffffff : 0xff)) return true;
    if (!logical) return dest === initialId[vcpu];
    const l = ldr[vcpu];
    return (dest >>> 16) === (l >>> 16) && (dest & l & 0xffff) !== 0; // 11.12.10.2: cluster, then bitmap
  }
  const d = dest & 0xff;
  if (d === 0xff) return true;
  if (!logical) return d === idReg[vcpu] >>> 24;
  const l = ldr[vcpu] >>> 24;
  if ((dfr[vcpu] >>> 28) === 0xf) return (d & l) !== 0; // flat model
  return (d >>> 4) === (l >>> 4) && (d & l & 0xf) !== 0; // cluster model
};

/** The vector vCPU `vcpu` would take now: the highest requested one above PPR's class (11.8.3), or -1. */
export const lapicPendingVector = (vcpu: number) => {
  if (!valid(vcpu) || !hardwareEnabled(vcpu) || !softwareEnabled(vcpu)) return -1;
  const vec = highest(irr, vcpu);
  if (vec < 0 || (vec >>> 4) <= (ppr(vcpu) >>> 4)) return -1;
  return vec;
};

/** The processor takes `vector` (INTA): IRR -> ISR; false when it was not requested. */
export const lapicAcknowledge = (vcpu: number, vector: number) => {
  if (!valid(vcpu) || vector < 16 || vector > 255 || !bitSet(irr, vcpu, vector)) return false;
  clearBit(irr, vcpu, vector);
  setBit(isr, vcpu, vector);
  return true;
};

/** Whether the 8259's INT reaches the processor: the APIC globally disabled, or LINT0 unmasked in ExtINT mode. */
export const lapicAcceptsPic = (vcpu: number) => {
  if (!valid(vcpu)) return false;
  if (!hardwareEnabled(vcpu)) return true;
  const e = lvt[vcpu * LVTS + LVT_LINT0];
  return (e & LVT_MASK) === 0 && ((e >>> 8) & 7) === DM_EXTINT;
};

export const lapicNmiPending = (vcpu: number) => valid(vcpu) && nmiPending[vcpu] !== 0;

/** Takes the pending NMI: whether there was one. */
export const lapicTakeNmi = (vcpu: number) => {
  if (!valid(vcpu) || nmiPending[vcpu] === 0) return false;
  nmiPending[vcpu] = 0;
  return true;
};

/** IPIs vCPU `vcpu` sent that had no vCPU to reach (no other vCPU exists yet), for metrics. */
export const lapicDroppedIpis = (vcpu: number) => (valid(vcpu) ? droppedIpis[vcpu] : 0);

/** EOI (11.8.5): the highest in-service vector ends; returns it when it was level-triggered (for the I/O APIC), else -1. */
const endOfInterrupt = (v: number) => {
  const vec = highest(isr, v);
  if (vec < 0) return -1;
  clearBit(isr, v, vec);
  return bitSet(tmr, v, vec) ? vec : -1;
};

/**
 * The ICR was written (11.6.1): fixed, lowest-priority and NMI IPIs reach this vCPU through
 * the self shorthand, the all-including-self shorthand, or a destination that matches it.
 * Any other target is another vCPU, and a VM has one today: those IPIs (and INIT, SIPI, SMI)
 * are dropped and counted (lapicDroppedIpis). An illegal vector (< 16) in a fixed IPI or a
 * reserved delivery mode (3, 7) sets ESR "send illegal vector" and sends nothing.
 */
const sendIpi = (v: number) => {
  const lo = icrLo[v];
  const vec = lo & 0xff;
  const mode = (lo >>> 8) & 7;
  const shorthand = (lo >>> 18) & 3;
  if (mode === 3 || mode === 7 || ((mode === DM_FIXED || mode === DM_LOWEST) && vec < 16)) {
    raiseError(v, ESR_SEND_ILLEGAL_VECTOR);
    return;
  }
  let self = false;
  if (shorthand === 1 || shorthand === 2) self = true;
  else if (shorthand === 0) {
    const dest = x2apic(v) ? icrHi[v] : icrHi[v] >>> 24;
    self = lapicMatches(v, dest, (lo & 0x800) !== 0, x2apic(v));
  }
  const others = shorthand === 3 || (shorthand === 0 && !self); // all-including-self: this vCPU is all of them
  if (others || (mode !== DM_FIXED && mode !== DM_LOWEST && mode !== DM_NMI)) droppedIpis[v]++;
  if (!self) return;
  if (mode === DM_NMI) lapicNmi(v);
  else if (mode === DM_FIXED || mode === DM_LOWEST) lapicAccept(v, vec, 0); // 11.6.1: trigger only matters for INIT
};

// ---- the timer (11.5.4) ----

/** The counts the timer has left now (TMCCT). */
const currentCount = (v: number, now: number) => {
  const initial = timerInitial[v];
  if (timerRunning[v] === 0 || initial === 0 || timerMode(v) === TIMER_TSC_DEADLINE) return 0;
  const div = divisor(v);
  const period = initial * div;
  let elapsed = now - timerStart[v];
  if (elapsed < 0) elapsed = 0;
  if (timerMode(v) === TIMER_PERIODIC) return initial - Math.floor((elapsed % period) / div);
  return elapsed >= period ? 0 : initial - Math.floor(elapsed / div);
};

const deadlineArmed = (v: number) => deadlineLo[v] !== 0 || deadlineHi[v] !== 0;

/** Whether an owed period can go now: the timer's last interrupt was taken (its IRR bit is clear). */
const owedDue = (v: number) => timerOwed[v] > 0 && !bitSet(irr, v, lvt[v * LVTS + LVT_TIMER] & 0xff);

/** Guest TSC at which vCPU `vcpu`'s timer fires next (due now when in the past), or -1 when it is not armed. */
export const lapicTimerDeadline = (vcpu: number) => {
  if (!valid(vcpu)) return -1;
  if (timerMode(vcpu) === TIMER_TSC_DEADLINE) return deadlineArmed(vcpu) ? deadlineHi[vcpu] * 4294967296 + deadlineLo[vcpu] : -1;
  if (timerRunning[vcpu] === 0 || timerInitial[vcpu] === 0) return -1;
  if (timerMode(vcpu) === TIMER_PERIODIC && owedDue(vcpu)) return timerStart[vcpu]; // an owed period: due now
  return timerStart[vcpu] + timerInitial[vcpu] * divisor(vcpu);
};

/** Fires vCPU `vcpu`'s timer if it is due at `now`: the LVT timer vector is requested unless masked. Whether it expired. */
export const lapicTimerService = (vcpu: number, now: number) => {
  const due = lapicTimerDeadline(vcpu);
  if (due < 0 || now < due) return false;
  const mode = timerMode(vcpu);
  if (mode === TIMER_TSC_DEADLINE) {
    deadlineLo[vcpu] = 0;
    deadlineHi[vcpu] = 0;
  } else if (mode === TIMER_PERIODIC) {
    // the next period counts from this expiry, not from now: no drift. Late by several periods:
    // one fires now, the others are owed; with no new period ended this is an owed one going.
    const period = timerInitial[vcpu] * divisor(vcpu);
    const periods = Math.floor((now - timerStart[vcpu]) / period);
    if (periods >= 1) {
      timerStart[vcpu] += periods * period;
      timerOwed[vcpu] += periods - 1;
      if (timerOwed[vcpu] > MAX_TIMER_OWED) timerOwed[vcpu] = MAX_TIMER_OWED;
    } else timerOwed[vcpu]--;
  } else timerRunning[vcpu] = 0;
  const e = lvt[vcpu * LVTS + LVT_TIMER];
  if ((e & LVT_MASK) === 0) lapicAccept(vcpu, e & 0xff, 0);
  else timerOwed[vcpu] = 0; // a masked timer owes nothing
  return true;
};

/** A new divide configuration: the count so far is kept, the rest runs at the new rate. */
const setDivide = (v: number, value: number, now: number) => {
  const running = timerRunning[v] !== 0 && timerInitial[v] !== 0 && timerMode(v) !== TIMER_TSC_DEADLINE;
  const left = running ? currentCount(v, now) : 0;
  timerDivide[v] = value & 0xb;
  if (running) timerStart[v] = now - (timerInitial[v] - left) * divisor(v);
};

const setTimerInitial = (v: number, value: number, now: number) => {
  if (timerMode(v) === TIMER_TSC_DEADLINE) return; // 11.5.4.1: ignored in TSC-deadline mode
  timerOwed[v] = 0;
  timerInitial[v] = value >>> 0;
  timerRunning[v] = value !== 0 ? 1 : 0;
  timerStart[v] = now;
};

/** LVT timer write: a change between TSC-deadline and the counting modes disarms the timer (11.5.4.1). */
const setLvtTimer = (v: number, value: number) => {
  let next = value & LVT_WRITABLE[LVT_TIMER];
  const old = lvt[v * LVTS + LVT_TIMER];
  if (((next >>> 17) & 3) === 3) next = (next & ~0x60000) | (old & 0x60000); // reserved mode: the mode stays
  if ((((old >>> 17) & 3) === TIMER_TSC_DEADLINE) !== (((next >>> 17) & 3) === TIMER_TSC_DEADLINE)) {
    timerOwed[v] = 0;
    timerInitial[v] = 0;
    timerRunning[v] = 0;
    deadlineLo[v] = 0;
    deadlineHi[v] = 0;
  }
  lvt[v * LVTS + LVT_TIMER] = next;
};

// ---- registers ----

/** Register `reg` (offset >> 4) as the mode reads it; -1 for none. */
const readRegister = (v: number, reg: number, now: number) => {
  if (reg >= R_ISR && reg < R_ISR + 8) return isr[v * 8 + reg - R_ISR];
  if (reg >= R_TMR && reg < R_TMR + 8) return tmr[v * 8 + reg - R_TMR];
  if (reg >= R_IRR && reg < R_IRR + 8) return irr[v * 8 + reg - R_IRR];
  if (reg >= R_LVT_TIMER && reg <= R_LVT_ERROR) {
    return lvt[v * LVTS + reg - R_LVT_TIMER];
  }
  switch (reg) {
    case R_ID: return x2apic(v) ? initialId[v] : idReg[v];
    case R_VERSION: return LAPIC_VERSION;
    case R_TPR: return tpr[v];
    case R_APR: return 0;
    case R_PPR: return ppr(v);
    case R_RRD: return 0;
    case R_LDR: return ldr[v];
    case R_DFR: return dfr[v];
    case R_SVR: return svr[v];
    case R_ESR: return esrLatched[v];
    case R_ICR_LO: return icrLo[v]; // delivery status (bit 12) always idle
    case R_ICR_HI: return icrHi[v];
    case R_TIMER_INITIAL: return timerInitial[v];
    case R_TIMER_CURRENT: return currentCount(v, now);
    case R_TIMER_DIVIDE: return timerDivide[v];
  }
  return -1;
};

/** Writes register `reg`: -1, or an EOI'd level vector. Read-only and reserved registers are left to the callers. */
const writeRegister = (v: number, reg: number, value: number, now: number) => {
  const x = value >>> 0;
  if (reg >= R_LVT_TIMER && reg <= R_LVT_ERROR) {
    const k = reg - R_LVT_TIMER;
    if (k === LVT_TIMER) setLvtTimer(v, x);
    else lvt[v * LVTS + k] = x & LVT_WRITABLE[k];
    if (!softwareEnabled(v)) lvt[v * LVTS + k] |= LVT_MASK; // 11.4.7.2: the masks stay set
    return -1;
  }
  switch (reg) {
    case R_ID:
      idReg[v] = x & 0xff000000;
      break;
    case R_TPR:
      tpr[v] = x & 0xff;
      break;
    case R_EOI:
      return endOfInterrupt(v);
    case R_LDR:
      ldr[v] = x & 0xff000000;
      break;
    case R_DFR:
      dfr[v] = (x | 0x0fffffff) >>> 0;
      break;
    case R_SVR:
      svr[v] = x & SVR_WRITABLE;
      if (!softwareEnabled(v)) for (let k = 0; k < LVTS; k++) lvt[v * LVTS + k] |= LVT_MASK; // 11.4.7.2
      break;
    case R_ESR:
      esrLatched[v] = esrPending[v]; // 11.5.3: a write latches the errors since the last one
      esrPending[v] = 0;
      break;
    case R_ICR_LO:
      icrLo[v] = x & ICR_LO_WRITABLE;
      sendIpi(v);
      break;
    case R_ICR_HI:
      icrHi[v] = x & 0xff000000;
      break;
    case R_TIMER_INITIAL:
      setTimerInitial(v, x, now);
      break;
    case R_TIMER_DIVIDE:
      setDivide(v, x, now);
      break;
  }
  return -1;
};

/** The xAPIC page's writable registers (table 11-1). */
const xapicWritable = (reg: number) => {
  if (reg >= R_LVT_TIMER && reg <= R_LVT_ERROR) return true;
  switch (reg) {
    case R_ID: case R_TPR: case R_EOI: case R_LDR: case R_DFR: case R_SVR: case R_ESR:
    case R_ICR_LO: case R_ICR_HI: case R_TIMER_INITIAL: case R_TIMER_DIVIDE:
      return true;
  }
  return false;
};

/** vCPU `vcpu` reads the 32-bit register at `offset` of its APIC page (table 11-1). All ones when the page is not the xAPIC's (x2APIC mode, disabled). */
export const lapicRead = (vcpu: number, offset: number, now: number) => {
  if (!valid(vcpu) || !hardwareEnabled(vcpu) || x2apic(vcpu)) return 0xffffffff;
  const reg = (offset >>> 4) & 0xff;
  const r = offset >= 0 && offset < 0x1000 && (offset & 0xf) === 0 && reg !== R_SELF_IPI ? readRegister(vcpu, reg, now) : -1;
  if (r < 0) {
    if (reg !== R_EOI) raiseError(vcpu, ESR_ILLEGAL_REGISTER);
    return 0; // EOI is write-only and reads 0; reserved registers read 0 and set ESR bit 7
  }
  return r >>> 0;
};

/** vCPU `vcpu` writes the 32-bit register at `offset`: -1, or the vector of a level-triggered interrupt just EOI'd (for the I/O APIC). */
export const lapicWrite = (vcpu: number, offset: number, value: number, now: number) => {
  if (!valid(vcpu) || !hardwareEnabled(vcpu) || x2apic(vcpu)) return -1;
  const reg = (offset >>> 4) & 0xff;
  if (offset < 0 || offset >= 0x1000 || (offset & 0xf) !== 0 || (reg !== R_EOI && readRegister(vcpu, reg, now) < 0)) {
    raiseError(vcpu, ESR_ILLEGAL_REGISTER);
    return -1;
  }
  if (!xapicWritable(reg)) return -1; // read-only registers ignore writes
  return writeRegister(vcpu, reg, value, now);
};

// ---- MSRs ----

/** Power-on state of the registers (11.4.7.1), the ID and IA32_APIC_BASE aside. */
const powerOn = (v: number) => {
  idReg[v] = (initialId[v] & 0xff) << 24;
  tpr[v] = 0;
  ldr[v] = 0;
  dfr[v] = 0xffffffff;
  svr[v] = 0xff;
  esrLatched[v] = 0;
  esrPending[v] = 0;
  icrLo[v] = 0;
  icrHi[v] = 0;
  for (let k = 0; k < LVTS; k++) lvt[v * LVTS + k] = LVT_MASK;
  for (let w = 0; w < 8; w++) {
    irr[v * 8 + w] = 0;
    isr[v * 8 + w] = 0;
    tmr[v * 8 + w] = 0;
  }
  nmiPending[v] = 0;
  timerInitial[v] = 0;
  timerDivide[v] = 0;
  timerRunning[v] = 0;
  timerStart[v] = 0;
  timerOwed[v] = 0;
  deadlineLo[v] = 0;
  deadlineHi[v] = 0;
};

/** IA32_APIC_BASE write (11.12.5 figure 11-27): false for #GP. */
const writeApicBase = (v: number, lo: number, hi: number) => {
  const x = lo >>> 0;
  if (hi !== 0 || (x & 0x2ff) !== 0 || ((x & BASE_ADDRESS_MASK) >>> 0) !== LAPIC_BASE) return false; // reserved bits, relocation
  const en = (x & BASE_EN) !== 0;
  const extd = (x & BASE_EXTD) !== 0;
  const wasEn = hardwareEnabled(v);
  const wasExtd = x2apic(v);
  if (extd && !en) return false; // invalid state
  if (wasExtd && en && !extd) return false; // x2APIC -> xAPIC only through disabled
  if (!wasEn && extd) return false; // disabled -> x2APIC only through xAPIC
  const keep = apicBase[v] & BASE_BSP;
  if (!en) {
    if (wasEn) powerOn(v); // hardware disable: the power-on state
  } else if (extd && !wasExtd) ldr[v] = x2apicLdr(initialId[v]); // xAPIC -> x2APIC: ID and LDR from the x2APIC ID
  apicBase[v] = (LAPIC_BASE | keep | (en ? BASE_EN : 0) | (extd ? BASE_EXTD : 0)) >>> 0;
  return true;
};

/** vCPU `vcpu` reads MSR `index` at `now`: true and lapicMsrLo/lapicMsrHi set, or false for #GP. */
export const lapicMsrRead = (vcpu: number, index: number, now: number) => {
  lapicMsrLo = 0;
  lapicMsrHi = 0;
  if (!valid(vcpu)) return false;
  if (index === IA32_APIC_BASE) {
    lapicMsrLo = apicBase[vcpu];
    return true;
  }
  if (index === IA32_TSC_DEADLINE) {
    if (timerMode(vcpu) === TIMER_TSC_DEADLINE && hardwareEnabled(vcpu)) {
      lapicMsrLo = deadlineLo[vcpu];
      lapicMsrHi = deadlineHi[vcpu];
    }
    return true; // 11.5.4.1: reads 0 in the other modes
  }
  if (index < X2APIC_MSR_FIRST || index > X2APIC_MSR_LAST || !hardwareEnabled(vcpu) || !x2apic(vcpu)) return false;
  const reg = index - X2APIC_MSR_FIRST;
  if (reg === R_APR || reg === R_RRD || reg === R_DFR || reg === R_ICR_HI || reg === R_EOI || reg === R_SELF_IPI) return false;
  const r = readRegister(vcpu, reg, now);
  if (r < 0) return false;
  lapicMsrLo = r >>> 0;
  if (reg === R_ICR_LO) lapicMsrHi = icrHi[vcpu];
  return true;
};

/** vCPU `vcpu` writes MSR `index` (value hi:lo) at `now`: -2 for #GP, -1 done, or an EOI'd level vector. */
export const lapicMsrWrite = (vcpu: number, index: number, lo: number, hi: number, now: number) => {
  if (!valid(vcpu)) return -2;
  const l = lo >>> 0;
  const h = hi >>> 0;
  if (index === IA32_APIC_BASE) return writeApicBase(vcpu, l, h) ? -1 : -2;
  if (index === IA32_TSC_DEADLINE) {
    if (timerMode(vcpu) === TIMER_TSC_DEADLINE && hardwareEnabled(vcpu)) {
      deadlineLo[vcpu] = l; // 0 disarms; a deadline in the past fires at the next service
      deadlineHi[vcpu] = h;
    }
    return -1; // ignored in the other modes
  }
  if (index < X2APIC_MSR_FIRST || index > X2APIC_MSR_LAST || !hardwareEnabled(vcpu) || !x2apic(vcpu)) return -2;
  const reg = index - X2APIC_MSR_FIRST;
  if (reg === R_ICR_LO) {
    icrHi[vcpu] = h; // 11.12.9: the ICR is one 64-bit MSR, destination in bits 63:32
    icrLo[vcpu] = l & ICR_LO_WRITABLE;
    sendIpi(vcpu);
    return -1;
  }
  if (h !== 0) return -2; // reserved bits 63:32
  switch (reg) {
    case R_TPR:
    case R_SVR:
    case R_TIMER_INITIAL:
    case R_TIMER_DIVIDE:
      return writeRegister(vcpu, reg, l, now);
    case R_EOI:
      return l !== 0 ? -2 : endOfInterrupt(vcpu); // 11.12.1.2: a non-zero EOI is #GP
    case R_ESR:
      return l !== 0 ? -2 : writeRegister(vcpu, reg, 0, now); // ditto for ESR
    case R_SELF_IPI:
      if ((l & 0xff) < 16) raiseError(vcpu, ESR_SEND_ILLEGAL_VECTOR);
      else lapicAccept(vcpu, l & 0xff, 0);
      return -1;
  }
  if (reg >= R_LVT_TIMER && reg <= R_LVT_ERROR) return writeRegister(vcpu, reg, l, now);
  return -2; // read-only or reserved
};

/** vCPU `vcpu`'s APIC as firmware leaves it for an OS: enabled in xAPIC mode at 0xFEE00000, ID `apicId`, LINT0 ExtINT, LINT1 NMI, software-disabled. */
export const lapicReset = (vcpu: number, apicId: number) => {
  if (!valid(vcpu)) return;
  initialId[vcpu] = apicId >>> 0;
  powerOn(vcpu);
  apicBase[vcpu] = (LAPIC_BASE | BASE_EN | (apicId === 0 ? BASE_BSP : 0)) >>> 0;
  lvt[vcpu * LVTS + LVT_LINT0] = 0x700; // virtual wire: the 8259 through LINT0 (MP spec 3.6.2.2)
  lvt[vcpu * LVTS + LVT_LINT1] = 0x400;
  droppedIpis[vcpu] = 0;
};

// ---- live migration: 48 little-endian dwords per vCPU; times as guest TSC values ----
const DWORDS = 48;
export const LAPIC_STATE_BYTES = DWORDS * 4;

const putDword = (out: Uint8Array, off: number, value: number) => {
  const x = value >>> 0;
  out[off] = x & 0xff;
  out[off + 1] = (x >>> 8) & 0xff;
  out[off + 2] = (x >>> 16) & 0xff;
  out[off + 3] = (x >>> 24) & 0xff;
};
const getDword = (src: Uint8Array, off: number) => (src[off] | (src[off + 1] << 8) | (src[off + 2] << 16) | (src[off + 3] << 24)) >>> 0;

// dword layout
const S_BASE = 0;
const S_INITIAL_ID = 1;
const S_ID = 2;
const S_TPR = 3;
const S_LDR = 4;
const S_DFR = 5;
const S_SVR = 6;
const S_ESR_LATCHED = 7;
const S_ESR_PENDING = 8;
const S_ICR_LO = 9;
const S_ICR_HI = 10;
const S_LVT = 11; // 6
const S_TIMER_INITIAL = 17;
const S_TIMER_DIVIDE = 18;
const S_FLAGS = 19; // bit 0 timer running, bit 1 NMI pending, bits 31:16 periods owed
const S_TIMER_START = 20; // lo, hi
const S_DEADLINE = 22; // lo, hi
const S_IRR = 24;
const S_ISR = 32;
const S_TMR = 40;

/** Writes vCPU `vcpu`'s APIC to out[off, + LAPIC_STATE_BYTES); false when out is too short. */
export const lapicSave = (vcpu: number, out: Uint8Array, off: number) => {
  if (!valid(vcpu) || off < 0 || off + LAPIC_STATE_BYTES > out.length) return false;
  putDword(out, off + S_BASE * 4, apicBase[vcpu]);
  putDword(out, off + S_INITIAL_ID * 4, initialId[vcpu]);
  putDword(out, off + S_ID * 4, idReg[vcpu]);
  putDword(out, off + S_TPR * 4, tpr[vcpu]);
  putDword(out, off + S_LDR * 4, ldr[vcpu]);
  putDword(out, off + S_DFR * 4, dfr[vcpu]);
  putDword(out, off + S_SVR * 4, svr[vcpu]);
  putDword(out, off + S_ESR_LATCHED * 4, esrLatched[vcpu]);
  putDword(out, off + S_ESR_PENDING * 4, esrPending[vcpu]);
  putDword(out, off + S_ICR_LO * 4, icrLo[vcpu]);
  putDword(out, off + S_ICR_HI * 4, icrHi[vcpu]);
  for (let k = 0; k < LVTS; k++) putDword(out, off + (S_LVT + k) * 4, lvt[vcpu * LVTS + k]);
  putDword(out, off + S_TIMER_INITIAL * 4, timerInitial[vcpu]);
  putDword(out, off + S_TIMER_DIVIDE * 4, timerDivide[vcpu]);
  putDword(out, off + S_FLAGS * 4, (timerRunning[vcpu] | (nmiPending[vcpu] << 1) | (timerOwed[vcpu] << 16)) >>> 0);
  const start = timerStart[vcpu] > 0 ? Math.floor(timerStart[vcpu]) : 0;
  putDword(out, off + S_TIMER_START * 4, start % 4294967296);
  putDword(out, off + (S_TIMER_START + 1) * 4, Math.floor(start / 4294967296));
  putDword(out, off + S_DEADLINE * 4, deadlineLo[vcpu]);
  putDword(out, off + (S_DEADLINE + 1) * 4, deadlineHi[vcpu]);
  for (let w = 0; w < 8; w++) {
    putDword(out, off + (S_IRR + w) * 4, irr[vcpu * 8 + w]);
    putDword(out, off + (S_ISR + w) * 4, isr[vcpu * 8 + w]);
    putDword(out, off + (S_TMR + w) * 4, tmr[vcpu * 8 + w]);
  }
  return true;
};

/** Whether saved state at src[off] is one this model can be in. */
const wellFormed = (src: Uint8Array, off: number) => {
  const base = getDword(src, off + S_BASE * 4);
  if ((base & 0x2ff) !== 0 || ((base & BASE_ADDRESS_MASK) >>> 0) !== LAPIC_BASE) return false;
  if ((base & BASE_EXTD) !== 0 && (base & BASE_EN) === 0) return false;
  if ((getDword(src, off + S_ID * 4) & 0x00ffffff) !== 0 || getDword(src, off + S_TPR * 4) > 0xff || (getDword(src, off + S_SVR * 4) & ~SVR_WRITABLE) !== 0) return false;
  if ((base & BASE_EXTD) !== 0 ? getDword(src, off + S_LDR * 4) !== x2apicLdr(getDword(src, off + S_INITIAL_ID * 4)) : (getDword(src, off + S_LDR * 4) & 0x00ffffff) !== 0) return false;
  if ((getDword(src, off + S_DFR * 4) & 0x0fffffff) !== 0x0fffffff) return false;
  const esrBits = ESR_SEND_ILLEGAL_VECTOR | ESR_RECEIVE_ILLEGAL_VECTOR | ESR_ILLEGAL_REGISTER;
  if ((getDword(src, off + S_ESR_LATCHED * 4) & ~esrBits) !== 0 || (getDword(src, off + S_ESR_PENDING * 4) & ~esrBits) !== 0) return false;
  if ((getDword(src, off + S_ICR_LO * 4) & ~ICR_LO_WRITABLE) !== 0 || (getDword(src, off + S_FLAGS * 4) & 0xfffc) !== 0 || getDword(src, off + S_FLAGS * 4) >>> 16 > MAX_TIMER_OWED || (getDword(src, off + S_TIMER_DIVIDE * 4) & ~0xb) !== 0) return false;
  if ((base & BASE_EXTD) === 0 && (getDword(src, off + S_ICR_HI * 4) & 0x00ffffff) !== 0) return false;
  for (let k = 0; k < LVTS; k++) if ((getDword(src, off + (S_LVT + k) * 4) & ~LVT_WRITABLE[k]) !== 0) return false;
  if (((getDword(src, off + (S_LVT + LVT_TIMER) * 4) >>> 17) & 3) === 3) return false;
  if (getDword(src, off + (S_TIMER_START + 1) * 4) >= 0x200000) return false; // beyond 2^53
  // vectors 0-15 are never requested
  if ((getDword(src, off + S_IRR * 4) & 0xffff) !== 0 || (getDword(src, off + S_ISR * 4) & 0xffff) !== 0 || (getDword(src, off + S_TMR * 4) & 0xffff) !== 0) return false;
  return true;
};

/** Sets vCPU `vcpu`'s APIC from saved state; false (nothing changed) when malformed. */
export const lapicLoad = (vcpu: number, src: Uint8Array, off: number, len: number) => {
  if (!valid(vcpu) || len !== LAPIC_STATE_BYTES || off < 0 || off + len > src.length || !wellFormed(src, off)) return false;
  apicBase[vcpu] = getDword(src, off + S_BASE * 4);
  initialId[vcpu] = getDword(src, off + S_INITIAL_ID * 4);
  idReg[vcpu] = getDword(src, off + S_ID * 4);
  tpr[vcpu] = getDword(src, off + S_TPR * 4);
  ldr[vcpu] = getDword(src, off + S_LDR * 4);
  dfr[vcpu] = getDword(src, off + S_DFR * 4);
  svr[vcpu] = getDword(src, off + S_SVR * 4);
  esrLatched[vcpu] = getDword(src, off + S_ESR_LATCHED * 4);
  esrPending[vcpu] = getDword(src, off + S_ESR_PENDING * 4);
  icrLo[vcpu] = getDword(src, off + S_ICR_LO * 4);
  icrHi[vcpu] = getDword(src, off + S_ICR_HI * 4);
  for (let k = 0; k < LVTS; k++) lvt[vcpu * LVTS + k] = getDword(src, off + (S_LVT + k) * 4);
  timerInitial[vcpu] = getDword(src, off + S_TIMER_INITIAL * 4);
  timerDivide[vcpu] = getDword(src, off + S_TIMER_DIVIDE * 4);
  const flags = getDword(src, off + S_FLAGS * 4);
  timerRunning[vcpu] = flags & 1;
  nmiPending[vcpu] = (flags >>> 1) & 1;
  timerOwed[vcpu] = flags >>> 16;
  timerStart[vcpu] = getDword(src, off + (S_TIMER_START + 1) * 4) * 4294967296 + getDword(src, off + S_TIMER_START * 4);
  deadlineLo[vcpu] = getDword(src, off + S_DEADLINE * 4);
  deadlineHi[vcpu] = getDword(src, off + (S_DEADLINE + 1) * 4);
  for (let w = 0; w < 8; w++) {
    irr[vcpu * 8 + w] = getDword(src, off + (S_IRR + w) * 4);
    isr[vcpu * 8 + w] = getDword(src, off + (S_ISR + w) * 4);
    tmr[vcpu * 8 + w] = getDword(src, off + (S_TMR + w) * 4);
  }
  return true;
};
