// Trace points: a ring of (point id, TSC ticks since boot, 4 numbers) in preallocated
// memory, for the hot paths (VM entry/exit, nested paging updates, event injection,
// IOMMU map changes) and the console. Off by default; while off, trace() returns at
// its first test. When the ring is full the oldest point is overwritten (counted as
// dropped). `trace on|off|dump|clear` in kernel/console/cmd-diag.ts.
//
//   trace(TracePoint.VmExit, vcpu, exitReason, qualificationLo, qualificationHi);
import { ticksSinceBoot } from '../lib/clock';
import { emitLine, emitInline } from '../lib/text-sink';
import { defineCounter, defineGauge, metricSeries, seriesSet } from './metrics';

export const enum TracePoint {
  VmEntry = 0, // vCPU, -, -, -
  VmExit = 1, // vCPU, exit reason / code, qualification (lo, hi)
  NptUpdate = 2, // VM, guest-physical page (lo, hi), new entry flags
  EventInject = 3, // vCPU, vector, type, error code
  IommuMap = 4, // domain, I/O virtual page (lo, hi), host page
  ConsoleCommand = 5, // command index, number of words, -, -
  MigrationRound = 6, // VM, round that ended (0: the pause, -1: done), pages sent in it, dirty pages found
}

/** A trace point's name. */
export const tracePointName = (point: number) => {
  switch (point) {
    case TracePoint.VmEntry:
      return 'vm.entry';
    case TracePoint.VmExit:
      return 'vm.exit';
    case TracePoint.NptUpdate:
      return 'npt.update';
    case TracePoint.EventInject:
      return 'event.inject';
    case TracePoint.IommuMap:
      return 'iommu.map';
    case TracePoint.ConsoleCommand:
      return 'console.command';
    case TracePoint.MigrationRound:
      return 'migration.round';
  }
  return 'unknown';
};

export const TRACE_SIZE = 1024;
const WORDS = 6; // TSC, 4 arguments, point
const words = new Float64Array(TRACE_SIZE * WORDS);
let on = false;
let next = 0;
let count = 0;
let recorded = 0; // since boot
let dropped = 0; // overwritten before being dumped or cleared

/** Records a trace point when tracing is on. */
export const trace = (point: TracePoint, a: number, b: number, c: number, d: number) => {
  if (!on) return;
  const slot = next;
  const w = slot * WORDS;
  words[w] = ticksSinceBoot();
  words[w + 1] = a;
  words[w + 2] = b;
  words[w + 3] = c;
  words[w + 4] = d;
  words[w + 5] = point;
  next = slot + 1 === TRACE_SIZE ? 0 : slot + 1;
  if (count < TRACE_SIZE) count++;
  else dropped++;
  recorded++;
};

export const tracing = () => on;

/** Turns tracing on or off; returns whether that changed anything. */
export const setTracing = (enable: boolean) => {
  if (on === enable) return false;
  on = enable;
  return true;
};

/** Empties the ring; returns how many points it held. */
export const traceClear = () => {
  const held = count;
  count = 0;
  next = 0;
  return held;
};

export const traceCount = () => count;
export const traceRecorded = () => recorded;
export const traceDropped = () => dropped;

const RECORDED = defineCounter('zerovisor_trace_points_recorded_total', 'diag.metric.traceRecorded');
const DROPPED = defineCounter('zerovisor_trace_points_dropped_total', 'diag.metric.traceDropped');
const ENABLED = defineGauge('zerovisor_trace_enabled', 'diag.metric.traceEnabled');
const recordedSeries = metricSeries(RECORDED);
const droppedSeries = metricSeries(DROPPED);
const enabledSeries = metricSeries(ENABLED);

/** Copies the trace totals into their metrics (kept out of trace() to keep it short). */
export const publishTraceMetrics = () => {
  seriesSet(recordedSeries, recorded);
  seriesSet(droppedSeries, dropped);
  seriesSet(enabledSeries, on ? 1 : 0);
};

/** Prints the ring, oldest first, numbered by recording order since boot. */
export const sayTraceDump = () => {
  let slot = next - count;
  if (slot < 0) slot += TRACE_SIZE;
  const firstNumber = recorded - count + 1;
  for (let k = 0; k < count; k++) {
    const w = slot * WORDS;
    emitInline('diag.trace.rowHead', firstNumber + k, words[w], tracePointName(words[w + 5]));
    emitLine('diag.trace.rowArgs', words[w + 1], words[w + 2], words[w + 3], words[w + 4]);
    slot = slot + 1 === TRACE_SIZE ? 0 : slot + 1;
  }
};
