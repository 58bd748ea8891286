// A VM's time stamp counter: the guest's TSC runs at the host's rate from 0 at `vm create`
// (as a machine's does from power-on), through the back end's TSC offset (SVM TSC_OFFSET,
// APM 15.30.5; VMX TSC offsetting, SDM 26.6.5), so RDTSC runs without an exit. Live migration
// carries the guest's TSC and the destination sets its offset so the count goes on from
// there: a moved VM's time never runs backwards (the downtime does not count). Device models
// take `now` in guest TSC ticks (the LAPIC timer, TSC-deadline); host ticks since boot are
// what the scheduler sleeps on.
import { MAX_VMS } from '../lib/limits';
import { bootTsc, ticksSinceBoot } from '../lib/clock';
import { setTscOffset } from '../vcpu/vcpu';

const base = new Float64Array(MAX_VMS); // guest TSC - host ticks since boot

/** Sets VM `slot`'s vCPU `vcpu` so that its TSC reads `guestNow` at host tick `hostNow` (since boot). */
export const setGuestTsc = (slot: number, vcpu: number, guestNow: number, hostNow: number) => {
  base[slot] = guestNow - hostNow;
  // offset = guest - raw host TSC, a two's-complement u64 as halves
  const offset = base[slot] - bootTsc();
  const magnitude = offset < 0 ? -offset : offset;
  let hi = Math.floor(magnitude / 4294967296);
  let lo = magnitude - hi * 4294967296;
  if (offset < 0) {
    lo = (4294967296 - lo) % 4294967296;
    hi = (lo === 0 ? 4294967296 - hi : 4294967295 - hi) % 4294967296;
  }
  setTscOffset(vcpu, lo >>> 0, hi >>> 0);
};

/** VM `slot`'s TSC now. */
export const guestTsc = (slot: number) => ticksSinceBoot() + base[slot];
/** VM `slot`'s TSC at host tick `hostNow` (since boot). */
export const guestTscAt = (slot: number, hostNow: number) => hostNow + base[slot];
/** The host tick (since boot) at which VM `slot`'s TSC reads `guestTicks`. */
export const hostTicksAt = (slot: number, guestTicks: number) => guestTicks - base[slot];
