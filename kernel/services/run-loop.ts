// One turn of the machine: what runs besides the operator's console. kernel/main.ts
// turns it between console polls; a console command that waits (sleep, vm wait, migrate
// wait, net recv, console) turns it while it waits. Between turns the caller idles until
// the earliest deadline (nextDeadline), not a fixed poll.
import { ticksSinceBoot, tscHz } from '../lib/clock';
import { petWatchdog } from '../platform/watchdog';
import { migrationStep } from './migration/live';
import { nextWakeTicks, runGuests } from './scheduler';

/** Runs the guests a slice each, moves migrations (and their network link) on, pets the watchdog; whether work was done. */
export const runTurn = () => {
  const ran = runGuests();
  const migrating = migrationStep();
  petWatchdog();
  return ran > 0 || migrating;
};

/** The TSC tick at which runTurn has work again: a halted vCPU's wake-up, or -1 for none. */
export const nextDeadline = () => nextWakeTicks();

/** Idles (the firmware's Stall) until `deadline` ticks (or none: -1), for at most `maxUs` microseconds. */
export const idleUntil = (deadline: number, maxUs: number) => {
  let us = maxUs;
  if (deadline >= 0) {
    const hz = tscHz() > 0 ? tscHz() : 1e9;
    const left = ((deadline - ticksSinceBoot()) * 1e6) / hz;
    if (left < us) us = left;
  }
  if (us >= 1) hv_efi_stall(Math.floor(us));
};
