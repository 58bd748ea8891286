// Metrics of the VMs: exits by VM and reason, and a histogram of what handling one exit
// costs in TSC ticks (from #VMEXIT back in the dispatch to ready for the next VMRUN).
// The exit path only counts in vmExits; the counters are published from it when metrics
// are shown, and the counts of a VM that was destroyed stay in its id's totals.
import { counterAdd, defineCounter, defineHistogram, metricSeries, seriesObserve, seriesSet } from '../diag/metrics';
import { EXIT_REASON_COUNT, EXIT_REASON_NAMES } from '../vcpu/exit-reason';
import { MAX_VMS, vmExits } from './vm-table';

const EXITS = defineCounter('zerovisor_vm_exits_total', 'vm.metric.exits', 'vm', 'reason');
const NRIPS_MISMATCHES = defineCounter('zerovisor_nrips_decoder_mismatches_total', 'vm.metric.nripsMismatch');
metricSeries(NRIPS_MISMATCHES); // shown from the start, as 0
const EXIT_TICKS = defineHistogram('zerovisor_vm_exit_handling_ticks', 'vm.metric.exitTicks', 256, 4, 8);

/** Series of (vm, reason), looked up on first use so the exit path does no lookups. */
const series = new Int32Array(MAX_VMS * EXIT_REASON_COUNT);
for (let i = 0; i < series.length; i++) series[i] = -1;
let ticksSeries = -1;

/** Exits of VMs that were in each slot before the current one. */
const retired = new Float64Array(MAX_VMS * EXIT_REASON_COUNT);

/** Keeps the exit counts of the VM in `slot` before the slot's counts start again. */
export const retireExitCounts = (slot: number) => {
  for (let r = 0; r < EXIT_REASON_COUNT; r++) retired[slot * EXIT_REASON_COUNT + r] += vmExits[slot * EXIT_REASON_COUNT + r];
};

/** Sets the exit counters from vmExits (called before metrics are shown). */
export const publishVmMetrics = () => {
  for (let i = 0; i < MAX_VMS * EXIT_REASON_COUNT; i++) {
    const total = retired[i] + vmExits[i];
    if (total === 0) continue;
    if (series[i] < 0) series[i] = metricSeries(EXITS, Math.floor(i / EXIT_REASON_COUNT) + 1, EXIT_REASON_NAMES[i % EXIT_REASON_COUNT]);
    if (series[i] >= 0) seriesSet(series[i], total);
  }
};

export const observeExitTicks = (ticks: number) => {
  if (ticksSeries < 0) ticksSeries = metricSeries(EXIT_TICKS);
  if (ticksSeries >= 0) seriesObserve(ticksSeries, ticks);
};

/** NRIPS and the instruction decoder disagreed on an instruction's length. */
export const countNripsMismatch = () => counterAdd(NRIPS_MISMATCHES, 1);
