// Metrics of the VMs: exits by VM and reason, device accesses by VM and device, and a
// histogram of what handling one exit costs in TSC ticks (from #VMEXIT back in the
// dispatch to ready for the next VMRUN).
// The exit path only counts in vmExits; the counters are published from it when metrics
// are shown, and the counts of a VM that was destroyed stay in its id's totals.
import { counterAdd, defineCounter, defineHistogram, metricSeries, seriesSet, seriesSetHistogram } from '../diag/metrics';
import { EXIT_REASON_COUNT, EXIT_REASON_NAMES } from '../vcpu/exit-reason';
import { MAX_VMS, vmExits } from './vm-table';
import { MAX_DEVICES } from '../lib/limits';
import { deviceAccesses, deviceCount, deviceName } from './devices/bus';

const EXITS = defineCounter('zerovisor_vm_exits_total', 'vm.metric.exits', 'vm', 'reason');
const NRIPS_MISMATCHES = defineCounter('zerovisor_nrips_decoder_mismatches_total', 'vm.metric.nripsMismatch');
metricSeries(NRIPS_MISMATCHES); // shown from the start, as 0
// buckets: <= 256, 1 Ki, 4 Ki, ... 4 Mi ticks, and above
const TICKS_FIRST = 256;
const TICKS_FACTOR = 4;
const TICKS_BOUNDS = 8;
const EXIT_TICKS = defineHistogram('zerovisor_vm_exit_handling_ticks', 'vm.metric.exitTicks', TICKS_FIRST, TICKS_FACTOR, TICKS_BOUNDS);
const ticksCounts = new Float64Array(TICKS_BOUNDS + 1);
let ticksSum = 0;

const DEVICE_ACCESSES = defineCounter('zerovisor_device_accesses_total', 'vm.metric.deviceAccesses', 'vm', 'device');
const deviceSeries = new Int32Array(MAX_VMS * MAX_DEVICES); // series + 1, 0 until looked up
const retiredAccesses = new Float64Array(MAX_VMS * MAX_DEVICES);

/** Series of (vm, reason), looked up on first use so the exit path does no lookups. */
const series = new Int32Array(MAX_VMS * EXIT_REASON_COUNT);
for (let i = 0; i < series.length; i++) series[i] = -1;
let ticksSeries = -1;

/** Exits of VMs that were in each slot before the current one. */
const retired = new Float64Array(MAX_VMS * EXIT_REASON_COUNT);

/** Keeps the exit counts of the VM in `slot` before the slot's counts start again. */
export const retireExitCounts = (slot: number) => {
  for (let r = 0; r < EXIT_REASON_COUNT; r++) retired[slot * EXIT_REASON_COUNT + r] += vmExits[slot * EXIT_REASON_COUNT + r];
  for (let d = 0; d < MAX_DEVICES; d++) retiredAccesses[slot * MAX_DEVICES + d] += deviceAccesses(slot, d);
};

/** Sets the exit counters from vmExits (called before metrics are shown). */
export const publishVmMetrics = () => {
  for (let i = 0; i < MAX_VMS * EXIT_REASON_COUNT; i++) {
    const total = retired[i] + vmExits[i];
    if (total === 0) continue;
    if (series[i] < 0) series[i] = metricSeries(EXITS, Math.floor(i / EXIT_REASON_COUNT) + 1, EXIT_REASON_NAMES[i % EXIT_REASON_COUNT]);
    if (series[i] >= 0) seriesSet(series[i], total);
  }
  for (let slot = 0; slot < MAX_VMS; slot++) {
    for (let d = 0; d < deviceCount(); d++) {
      const i = slot * MAX_DEVICES + d;
      const total = retiredAccesses[i] + deviceAccesses(slot, d);
      if (total === 0) continue;
      if (deviceSeries[i] === 0) deviceSeries[i] = metricSeries(DEVICE_ACCESSES, slot + 1, deviceName(d)) + 1;
      if (deviceSeries[i] > 0) seriesSet(deviceSeries[i] - 1, total);
    }
  }
  if (ticksSum === 0 && ticksCounts[0] === 0) return;
  if (ticksSeries < 0) ticksSeries = metricSeries(EXIT_TICKS);
  seriesSetHistogram(ticksSeries, ticksCounts, ticksSum);
};

export const observeExitTicks = (ticks: number) => {
  let bucket = 0;
  let bound = TICKS_FIRST;
  while (bucket < TICKS_BOUNDS && ticks > bound) {
    bound *= TICKS_FACTOR;
    bucket++;
  }
  ticksCounts[bucket]++;
  ticksSum += ticks;
};

/** NRIPS and the instruction decoder disagreed on an instruction's length. */
export const countNripsMismatch = () => counterAdd(NRIPS_MISMATCHES, 1);
