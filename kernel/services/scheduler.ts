// Runs the Running VMs on the boot CPU, round robin, each for a time slice: a vCPU runs
// until its slice is used up (a host timer interrupt makes it exit), it halts (HLT with
// interrupts on), or it stops. Before every entry the platform delivers the interrupt the
// vCPU can take (kernel/vm/interrupts.ts). A halted vCPU is not entered again until an
// interrupt wakes it: its VM waits for its next device timer, or for nothing at all when none
// is armed (input from the console wakes it too). The run loop (run-loop.ts) calls
// runGuests() each turn, so the console stays responsive while guests run.
import { ticksSinceBoot, tscHz } from '../lib/clock';
import { EXIT_REASON_COUNT, ExitReason } from '../vcpu/exit-reason';
import { enterGuest, exitCode, reinjectInterrupted, setTimerExit } from '../vcpu/vcpu';
import { trace, TracePoint } from '../diag/trace';
import { ExitAction, handleExit, stopDetail, stopReason } from '../vm/exits';
import { restartVm, stopVm } from '../vm/lifecycle';
import { MAX_VMS, OnReset, StopReason, VmState, vmExits, vmHalted, vmIdleUntil, vmOnReset, vmRunTicks, vmState } from '../vm/vm-table';
import { guestOutputReady } from '../vm/vm-events';
import { vcpuOf } from '../vm/vcpu-table';
import { observeExitTicks } from '../vm/vm-metrics';
import { deliverInterrupt, haltedWakes, nextTimerTicks } from '../vm/interrupts';

const SLICE_MS = 10;
const MAX_EXITS_PER_SLICE = 100000;
const NEVER = 1e300; // a halted vCPU with no timer armed

let next = 0;
const sliceMs = new Float64Array(MAX_VMS); // a VM's own slice (0: SLICE_MS)

/** Gives VM `slot` slices of `ms` (0: the usual SLICE_MS): live migration throttles a guest so. */
export const setVmSlice = (slot: number, ms: number) => {
  sliceMs[slot] = ms > 0 ? ms : 0;
};

/** Runs VM `slot` for up to `sliceTicks` TSC ticks. */
const runSlice = (slot: number, sliceTicks: number) => {
  const vcpu = vcpuOf(slot, 0);
  const start = ticksSinceBoot();
  let before = start; // two TSC reads per exit: at the exit and after handling it (the next entry)
  for (let n = 0; n < MAX_EXITS_PER_SLICE; n++) {
    deliverInterrupt(slot, vcpu, before);
    const timer = nextTimerTicks(slot);
    setTimerExit(vcpu, timer < 0 ? -1 : timer > before ? timer - before : 0);
    trace(TracePoint.VmEntry, slot + 1, 0, 0, 0);
    const reason = enterGuest(vcpu);
    const exitAt = ticksSinceBoot();
    reinjectInterrupted(vcpu); // an event the exit cut short goes in again first
    trace(TracePoint.VmExit, slot + 1, reason, exitCode(vcpu), 0);
    vmExits[slot * EXIT_REASON_COUNT + reason]++; // the metrics are published from here
    const action = handleExit(slot, vcpu, reason);
    const done = ticksSinceBoot();
    observeExitTicks(done - exitAt);
    vmRunTicks[slot] += exitAt - before;
    if (action === ExitAction.Stop) {
      // a reset restarts the VM when it was created so (--on-reset restart), unless its image is gone
      if (stopReason === StopReason.Reset && vmOnReset[slot] === OnReset.Restart && restartVm(slot) === 0) return;
      stopVm(slot, stopReason, stopDetail);
      return;
    }
    if (action === ExitAction.Yield && reason === ExitReason.Hlt) {
      vmHalted[slot] = 1;
      const timer = nextTimerTicks(slot);
      vmIdleUntil[slot] = timer >= 0 ? timer : NEVER;
      return;
    }
    if (done - start >= sliceTicks) return;
    before = done;
  }
};

/** Gives every Running VM one time slice; returns how many VMs ran. */
export const runGuests = () => {
  const hz = tscHz() > 0 ? tscHz() : 1e9;
  const slice = (hz * SLICE_MS) / 1000;
  let ran = 0;
  for (let k = 0; k < MAX_VMS; k++) {
    const slot = (next + k) % MAX_VMS;
    if (vmState[slot] !== VmState.Running) continue;
    if (vmHalted[slot] !== 0) {
      const vcpu = vcpuOf(slot, 0);
      if (!haltedWakes(slot, vcpu, ticksSinceBoot())) {
        const timer = nextTimerTicks(slot);
        vmIdleUntil[slot] = timer >= 0 ? timer : NEVER;
        continue;
      }
      vmHalted[slot] = 0;
      vmIdleUntil[slot] = 0;
    }
    runSlice(slot, sliceMs[slot] > 0 ? (hz * sliceMs[slot]) / 1000 : slice);
    guestOutputReady(slot);
    ran++;
  }
  next = (next + 1) % MAX_VMS;
  return ran;
};

/** When runGuests has work: now (0) if a Running VM is not halted, else the earliest timer of a halted one; -1 if none. */
export const nextWakeTicks = () => {
  let earliest = -1;
  for (let slot = 0; slot < MAX_VMS; slot++) {
    if (vmState[slot] !== VmState.Running) continue;
    const wake = vmIdleUntil[slot];
    if (wake >= NEVER) continue;
    if (earliest < 0 || wake < earliest) earliest = wake;
  }
  return earliest;
};
