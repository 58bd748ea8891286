// Metrics of the VMs: exits by VM and reason, and a histogram of what handling one exit
// costs in TSC ticks (from #VMEXIT back in the dispatch to ready for the next VMRUN).
import { counterAdd, defineCounter, defineHistogram, metricSeries, seriesAdd, seriesObserve } from '../diag/metrics';
import { EXIT_REASON_COUNT, EXIT_REASON_NAMES } from '../vcpu/exit-reason';
import { MAX_VMS } from './vm-table';

const EXITS = defineCounter('zerovisor_vm_exits_total', 'vm.metric.exits', 'vm', 'reason');
const NRIPS_MISMATCHES = defineCounter('zerovisor_nrips_decoder_mismatches_total', 'vm.metric.nripsMismatch');
metricSeries(NRIPS_MISMATCHES); // shown from the start, as 0
const EXIT_TICKS = defineHistogram('zerovisor_vm_exit_handling_ticks', 'vm.metric.exitTicks', 256, 4, 8);

/** Series of (vm, reason), looked up on first use so the exit path does no lookups. */
const series = new Int32Array(MAX_VMS * EXIT_REASON_COUNT);
for (let i = 0; i < series.length; i++) series[i] = -1;
let ticksSeries = -1;

export const countExit = (slot: number, reason: number) => {
  const i = slot * EXIT_REASON_COUNT + reason;
  if (series[i] < 0) series[i] = metricSeries(EXITS, slot + 1, EXIT_REASON_NAMES[reason]);
  if (series[i] >= 0) seriesAdd(series[i], 1);
};

export const observeExitTicks = (ticks: number) => {
  if (ticksSeries < 0) ticksSeries = metricSeries(EXIT_TICKS);
  if (ticksSeries >= 0) seriesObserve(ticksSeries, ticks);
};

/** NRIPS and the instruction decoder disagreed on an instruction's length. */
export const countNripsMismatch = () => counterAdd(NRIPS_MISMATCHES, 1);
