// Interrupts of a VM: the ISA lines, the timers that drive them, and delivery to the vCPU.
//
// The device models are pure (kernel/vm/devices/): the PIT, the RTC and the UART say when
// their lines rise, the 8259A pair and the I/O APIC turn lines into vectors, the local APIC
// holds what its vCPU is asked to take. Before each entry the scheduler calls deliverInterrupt:
// timers that came due raise their lines, then one event goes in (an NMI first, then the
// LAPIC's highest vector, then the PIC's through LINT0 in ExtINT mode), when the guest can
// take it (RFLAGS.IF, no interrupt shadow; SDM 6.8.3), else an interrupt-window exit is asked
// for (SVM V_IRQ + VINTR, APM 15.21.4; VMX interrupt-window exiting, SDM 26.7.5) and the
// vector waits in its controller. An event whose delivery an exit interrupted goes in again
// first (vcpu.ts reinjectInterrupted).
//
// ISA IRQ n is PIC input n and I/O APIC pin n (identity: the guest's MADT has no override but
// the SCI's polarity). A guest that halts with interrupts on sleeps until a line or a timer
// wakes it (haltedWakes); with nothing armed it stays halted, costing nothing.
import { MAX_VCPUS, MAX_VMS } from '../lib/limits';
import { ticksSinceBoot } from '../lib/clock';
import {
  eventPending, injectInterrupt, injectNmi, interruptsOpen, nmiOpen, requestWindow,
} from '../vcpu/vcpu';
import { deviceActivity, clearDeviceActivity } from './devices/bus';
import { picAcknowledge, picOutput, picSetIrq } from './devices/pic8259';
import { ioapicExtIntAsserted, ioapicSetIrq } from './devices/ioapic';
import {
  lapicAcceptsPic, lapicAcknowledge, lapicNmiPending, lapicPendingVector, lapicTakeNmi, lapicTimerDeadline, lapicTimerService,
} from './devices/lapic';
import { pitIrq0Deadline, pitIrq0Due } from './devices/pit8254';
import { rtcIrqDeadline, rtcIrqService } from './devices/rtc-cmos';
import { com1Interrupt } from './devices/uart16550';
import { acpiPmSciLevel } from './devices/acpi-pm';
import { guestTscAt, hostTicksAt } from './guest-clock';

export const IRQ_PIT = 0;
export const IRQ_COM1 = 4;
export const IRQ_RTC = 8;
export const IRQ_SCI = 9; // level-triggered, active high (the guest's MADT says so)

const NONE = 1e300; // no timer armed

const lines = new Uint32Array(MAX_VMS); // ISA line levels, bit n = IRQ n
const nextTimer = new Float64Array(MAX_VMS); // host tick (since boot) of the earliest device timer
const windowOn = new Uint8Array(MAX_VCPUS); // an interrupt- or NMI-window exit is asked for
const waiting = new Uint8Array(MAX_VCPUS); // an interrupt may wait in a controller: look before the next entry
/** Interrupts injected, per VM and vector (`vm info`). */
export const injectedByVector = new Float64Array(MAX_VMS * 256);
/** NMIs injected, per VM. */
export const injectedNmis = new Float64Array(MAX_VMS);

/** Sets ISA line `irq` of VM `slot` to `level` (0, 1): the PIC and the I/O APIC see the change. */
export const setIsaIrq = (slot: number, irq: number, level: number) => {
  const bit = 1 << irq;
  const was = (lines[slot] & bit) !== 0 ? 1 : 0;
  if (was === level) return;
  lines[slot] = level !== 0 ? (lines[slot] | bit) >>> 0 : (lines[slot] & ~bit) >>> 0;
  picSetIrq(slot, irq, level);
  ioapicSetIrq(slot, irq, level, guestTscAt(slot, ticksSinceBoot()));
};

/** An edge on ISA line `irq`: up and down again (the PIT's OUT0 pulse, the RTC's IRQ 8). */
const pulseIsaIrq = (slot: number, irq: number) => {
  setIsaIrq(slot, irq, 1);
  setIsaIrq(slot, irq, 0);
};

/** A new VM's lines are all low, no timer armed, nothing waiting. */
export const resetInterrupts = (slot: number, vcpu: number) => {
  lines[slot] = 0;
  nextTimer[slot] = 0; // look at the devices at the first entry
  windowOn[vcpu] = 0;
  waiting[vcpu] = 1;
  for (let v = 0; v < 256; v++) injectedByVector[slot * 256 + v] = 0;
  injectedNmis[slot] = 0;
};

/** Runs VM `slot`'s device timers that came due by host tick `hostNow` and follows the UART's and the SCI's lines; arms nextTimer. */
const serviceDevices = (slot: number, vcpu: number, hostNow: number) => {
  const guestNow = guestTscAt(slot, hostNow);
  if (pitIrq0Due(slot) > 0) pulseIsaIrq(slot, IRQ_PIT);
  if (rtcIrqService(slot, hostNow)) pulseIsaIrq(slot, IRQ_RTC); // the RTC and the PIT keep host time
  lapicTimerService(vcpu, guestNow);
  setIsaIrq(slot, IRQ_COM1, com1Interrupt(slot) ? 1 : 0);
  setIsaIrq(slot, IRQ_SCI, acpiPmSciLevel(slot) ? 1 : 0);
  let next = NONE;
  const pit = pitIrq0Deadline(slot);
  if (pit >= 0 && pit < next) next = pit;
  const rtc = rtcIrqDeadline(slot);
  if (rtc >= 0 && rtc < next) next = rtc;
  const apic = lapicTimerDeadline(vcpu);
  if (apic >= 0 && hostTicksAt(slot, apic) < next) next = hostTicksAt(slot, apic);
  nextTimer[slot] = next;
  waiting[vcpu] = 1;
};

/** Whether the PIC's INT reaches vCPU `vcpu`: through LINT0 in ExtINT mode (or the APIC off), or an I/O APIC pin in ExtINT mode. */
const picReaches = (slot: number, vcpu: number) => (lapicAcceptsPic(vcpu) || ioapicExtIntAsserted(slot)) && picOutput(slot);

/** Whether vCPU `vcpu` has an interrupt or NMI to take. */
const somethingPending = (slot: number, vcpu: number) =>
  lapicNmiPending(vcpu) || lapicPendingVector(vcpu) >= 0 || picReaches(slot, vcpu);

const setWindow = (vcpu: number, nmi: boolean, on: boolean) => {
  if (on) {
    requestWindow(vcpu, nmi, true);
    windowOn[vcpu] = 1;
  } else if (windowOn[vcpu] !== 0) {
    requestWindow(vcpu, false, false);
    requestWindow(vcpu, true, false);
    windowOn[vcpu] = 0;
  }
};

/**
 * Before VM `slot`'s vCPU `vcpu` enters at host tick `hostNow`: due timers run, and the
 * interrupt it can take goes in (or a window exit is asked for). Cheap when nothing
 * happened: no device touched, no timer due, nothing waiting.
 */
export const deliverInterrupt = (slot: number, vcpu: number, hostNow: number) => {
  if (deviceActivity(slot) !== 0 || hostNow >= nextTimer[slot]) {
    clearDeviceActivity(slot);
    serviceDevices(slot, vcpu, hostNow);
  }
  if (waiting[vcpu] === 0) return;
  if (eventPending(vcpu)) {
    // one event per entry: the rest waits for the window after it
    if (somethingPending(slot, vcpu)) setWindow(vcpu, false, true);
    return;
  }
  if (lapicNmiPending(vcpu)) {
    if (nmiOpen(vcpu)) {
      lapicTakeNmi(vcpu);
      injectNmi(vcpu);
      injectedNmis[slot]++;
      setWindow(vcpu, false, false);
    } else setWindow(vcpu, true, true);
    return;
  }
  const vector = lapicPendingVector(vcpu);
  const fromPic = vector < 0 && picReaches(slot, vcpu);
  if (vector < 0 && !fromPic) {
    setWindow(vcpu, false, false);
    waiting[vcpu] = 0;
    return;
  }
  if (!interruptsOpen(vcpu)) {
    setWindow(vcpu, false, true);
    return;
  }
  let v = vector;
  if (fromPic) v = picAcknowledge(slot); // the INTA cycle: IRR -> ISR, the vector (or a spurious IRQ 7/15)
  else lapicAcknowledge(vcpu, vector);
  injectInterrupt(vcpu, v);
  injectedByVector[slot * 256 + (v & 0xff)]++;
  setWindow(vcpu, false, false);
  // another may wait behind it: look again at the next entry
};

/**
 * VM `slot`'s vCPU `vcpu` halted with interrupts on: whether it wakes at host tick `hostNow`
 * (an interrupt or NMI is pending, after the timers due ran).
 */
export const haltedWakes = (slot: number, vcpu: number, hostNow: number) => {
  if (deviceActivity(slot) !== 0 || hostNow >= nextTimer[slot]) {
    clearDeviceActivity(slot);
    serviceDevices(slot, vcpu, hostNow);
  }
  return somethingPending(slot, vcpu);
};

/** The host tick (since boot) of VM `slot`'s next device timer, or -1 when none is armed. */
export const nextTimerTicks = (slot: number) => (nextTimer[slot] >= NONE ? -1 : nextTimer[slot]);
