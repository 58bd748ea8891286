// Metrics: counters, gauges and histograms in preallocated storage, printed in the
// Prometheus text exposition format 0.0.4 (prometheus.io/docs/instrumenting/exposition_formats).
//
// Families are registered once at start (module level):
//   const F = defineCounter('zerovisor_x_total', 'diag.metric.x', 'vm', 'vcpu');
//   const H = defineHistogram('zerovisor_y', 'diag.metric.y', 1000, 4, 8, 'device');
// where the help key's text is English in every language (a verbatim key) and a
// histogram's upper bucket bounds are first * factor^i, i < count (+Inf is implicit). A family has up to 3
// labels; each label value is a number (a VM, vCPU or device id) or a constant string.
// Updates never allocate:
//   counterAdd(F, n, vmId, vcpuId)  gaugeSet(G, v, ...)  gaugeAdd(G, d, ...)
//   histogramObserve(H, v, bdf)
// each finds (or, the first time, takes) the family's series with those label values.
// Hot paths look the series up once with metricSeries(F, vmId, vcpuId) and then use
// seriesAdd / seriesSet / seriesObserve on the id. When the series storage is full the
// update is counted in zerovisor_metric_updates_dropped_total and otherwise ignored.
import type { MsgKey } from '../i18n/dictionary';
import { text } from '../i18n/messages';
import { emitLine, emitInline } from '../lib/text-sink';
import { piece0, piece1, promEscapeString, promNumber } from './json';

export const enum MetricType {
  Counter = 0,
  Gauge = 1,
  Histogram = 2,
}


const MAX_FAMILIES = 48;
const MAX_SERIES = 256;
const MAX_LABELS = 3;
const MAX_BOUNDS = 128; // bucket bounds of all histogram families
const MAX_BUCKETS = 1024; // bucket counters of all histogram series

// Family strings: name, help key, label names.
const FAM_STRINGS = 2 + MAX_LABELS;
const famStrings: string[] = [];
for (let i = 0; i < MAX_FAMILIES * FAM_STRINGS; i++) famStrings.push('');
// Label values that are strings, MAX_LABELS per series.
const labelString: string[] = [];
for (let i = 0; i < MAX_SERIES * MAX_LABELS; i++) labelString.push('');

// Integers: per family type, label count, first bound, bound count, first series, last
// series; then per series family, next series of the family, first bucket counter and
// the kinds of its label values (0 none, 1 number, 2 string).
const FAM_WORDS = 6;
const F_TYPE = 0;
const F_LABELS = 1;
const F_BOUND0 = 2;
const F_BOUNDS = 3;
const F_FIRST = 4;
const F_LAST = 5;
const SER_WORDS = 3 + MAX_LABELS;
const SER_BASE = MAX_FAMILIES * FAM_WORDS;
const S_FAMILY = 0;
const S_NEXT = 1;
const S_BUCKET0 = 2;
const S_KIND0 = 3;
const ints = new Int32Array(SER_BASE + MAX_SERIES * SER_WORDS);

// Numbers: bucket bounds; label values that are numbers; per series value (counter,
// gauge) or sum, and count (histogram); bucket counters (not cumulative).
const LABEL_BASE = MAX_BOUNDS;
const VALUE_BASE = LABEL_BASE + MAX_SERIES * MAX_LABELS;
const BUCKET_BASE = VALUE_BASE + MAX_SERIES * 2;
const nums = new Float64Array(BUCKET_BASE + MAX_BUCKETS);

let families = 0;
let boundsUsed = 0;
let seriesUsed = 0;
let bucketsUsed = 0;

const fam = (f: number, word: number) => ints[f * FAM_WORDS + word];
const ser = (s: number, word: number) => ints[SER_BASE + s * SER_WORDS + word];

const define = (type: number, name: string, help: MsgKey, l1: string, l2: string, l3: string) => {
  if (families >= MAX_FAMILIES) return -1;
  const f = families;
  families++;
  const t = f * FAM_STRINGS;
  famStrings[t] = name;
  famStrings[t + 1] = help;
  famStrings[t + 2] = l1;
  famStrings[t + 3] = l2;
  famStrings[t + 4] = l3;
  const b = f * FAM_WORDS;
  ints[b + F_TYPE] = type;
  ints[b + F_LABELS] = l3 !== '' ? 3 : l2 !== '' ? 2 : l1 !== '' ? 1 : 0;
  ints[b + F_BOUND0] = 0;
  ints[b + F_BOUNDS] = 0;
  ints[b + F_FIRST] = -1;
  ints[b + F_LAST] = -1;
  return f;
};

/** Registers a counter family (at start); returns its id, or -1 when the table is full. */
export const defineCounter = (name: string, help: MsgKey, l1 = '', l2 = '', l3 = '') => define(MetricType.Counter, name, help, l1, l2, l3);

/** Registers a gauge family (at start); returns its id, or -1 when the table is full. */
export const defineGauge = (name: string, help: MsgKey, l1 = '', l2 = '', l3 = '') => define(MetricType.Gauge, name, help, l1, l2, l3);

/**
 * Registers a histogram family (at start) whose `count` upper bucket bounds grow
 * exponentially: first, first * factor, first * factor^2, ... (factor > 1; the +Inf
 * bucket is implicit). Returns its id, or -1 when the tables are full.
 */
export const defineHistogram = (name: string, help: MsgKey, first: number, factor: number, count: number, l1 = '', l2 = '', l3 = '') => {
  if (count < 1 || boundsUsed + count > MAX_BOUNDS || !(factor > 1)) return -1;
  const f = define(MetricType.Histogram, name, help, l1, l2, l3);
  if (f < 0) return -1;
  ints[f * FAM_WORDS + F_BOUND0] = boundsUsed;
  ints[f * FAM_WORDS + F_BOUNDS] = count;
  let bound = first;
  for (let i = 0; i < count; i++) {
    nums[boundsUsed + i] = bound;
    bound *= factor;
  }
  boundsUsed += count;
  return f;
};

const DROPPED = defineCounter('zerovisor_metric_updates_dropped_total', 'diag.metric.dropped');
let droppedSeries = -1;

const labelMatches = (s: number, k: number, v: number | string | undefined) => {
  const kind = ser(s, S_KIND0 + k);
  if (v === undefined) return kind === 0;
  if (typeof v === 'number') return kind === 1 && nums[LABEL_BASE + s * MAX_LABELS + k] === v;
  return kind === 2 && labelString[s * MAX_LABELS + k] === v;
};

const labelStore = (s: number, k: number, v: number | string | undefined) => {
  const at = SER_BASE + s * SER_WORDS + S_KIND0 + k;
  if (v === undefined) {
    ints[at] = 0;
  } else if (typeof v === 'number') {
    ints[at] = 1;
    nums[LABEL_BASE + s * MAX_LABELS + k] = v;
  } else {
    ints[at] = 2;
    labelString[s * MAX_LABELS + k] = v;
  }
};

/**
 * The series of family `family` with these label values (as many as the family has
 * labels), taken from the preallocated storage the first time; -1 when full. Series
 * are taken in order: ids of series created one after the other are consecutive.
 */
export const metricSeries = (family: number, v1?: number | string, v2?: number | string, v3?: number | string) => {
  if (family < 0 || family >= families) return -1;
  for (let s = fam(family, F_FIRST); s >= 0; s = ser(s, S_NEXT)) {
    if (labelMatches(s, 0, v1) && labelMatches(s, 1, v2) && labelMatches(s, 2, v3)) return s;
  }
  const nBounds = fam(family, F_BOUNDS);
  if (seriesUsed >= MAX_SERIES || bucketsUsed + nBounds > MAX_BUCKETS) {
    if (droppedSeries >= 0) nums[VALUE_BASE + droppedSeries * 2] += 1;
    return -1;
  }
  const s = seriesUsed;
  seriesUsed++;
  const sb = SER_BASE + s * SER_WORDS;
  ints[sb + S_FAMILY] = family;
  ints[sb + S_NEXT] = -1;
  ints[sb + S_BUCKET0] = bucketsUsed;
  for (let i = 0; i < nBounds; i++) nums[BUCKET_BASE + bucketsUsed + i] = 0;
  bucketsUsed += nBounds;
  labelStore(s, 0, v1);
  labelStore(s, 1, v2);
  labelStore(s, 2, v3);
  nums[VALUE_BASE + s * 2] = 0;
  nums[VALUE_BASE + s * 2 + 1] = 0;
  const last = fam(family, F_LAST);
  if (last < 0) ints[family * FAM_WORDS + F_FIRST] = s;
  else ints[SER_BASE + last * SER_WORDS + S_NEXT] = s;
  ints[family * FAM_WORDS + F_LAST] = s;
  return s;
};

droppedSeries = metricSeries(DROPPED);

/** Adds n to a series: n >= 0 for a counter, any n for a gauge. */
export const seriesAdd = (series: number, n: number) => {
  if (series < 0 || series >= seriesUsed) return;
  if (n < 0 && fam(ser(series, S_FAMILY), F_TYPE) === MetricType.Counter) return;
  nums[VALUE_BASE + series * 2] += n;
};

/** Sets a gauge series; also sets a counter series to a total that is kept elsewhere. */
export const seriesSet = (series: number, v: number) => {
  if (series < 0 || series >= seriesUsed) return;
  nums[VALUE_BASE + series * 2] = v;
};

/** Records one observation in a histogram series. */
export const seriesObserve = (series: number, v: number) => {
  if (series < 0 || series >= seriesUsed) return;
  const f = ser(series, S_FAMILY);
  if (fam(f, F_TYPE) !== MetricType.Histogram) return;
  const b0 = fam(f, F_BOUND0);
  const nb = fam(f, F_BOUNDS);
  const c0 = BUCKET_BASE + ser(series, S_BUCKET0);
  for (let i = 0; i < nb; i++) {
    if (v <= nums[b0 + i]) {
      nums[c0 + i] += 1;
      break;
    }
  }
  nums[VALUE_BASE + series * 2] += v;
  nums[VALUE_BASE + series * 2 + 1] += 1;
};

/**
 * Sets a histogram series from counts kept elsewhere (a hot path that only counts):
 * counts[i] observations in bucket i (the family's bounds, in order; one more for
 * above the last), their sum. The bucket counts are per bucket, not cumulative.
 */
export const seriesSetHistogram = (series: number, counts: Float64Array, sum: number) => {
  if (series < 0 || series >= seriesUsed) return;
  const f = ser(series, S_FAMILY);
  if (fam(f, F_TYPE) !== MetricType.Histogram) return;
  const nb = fam(f, F_BOUNDS);
  const c0 = BUCKET_BASE + ser(series, S_BUCKET0);
  let total = 0;
  for (let i = 0; i <= nb && i < counts.length; i++) {
    if (i < nb) nums[c0 + i] = counts[i];
    total += counts[i];
  }
  nums[VALUE_BASE + series * 2] = sum;
  nums[VALUE_BASE + series * 2 + 1] = total;
};

/** Adds n (>= 0) to the counter series with these label values. */
export const counterAdd = (family: number, n: number, v1?: number | string, v2?: number | string, v3?: number | string) => {
  seriesAdd(metricSeries(family, v1, v2, v3), n);
};

/** Sets the gauge series with these label values. */
export const gaugeSet = (family: number, v: number, v1?: number | string, v2?: number | string, v3?: number | string) => {
  seriesSet(metricSeries(family, v1, v2, v3), v);
};

/** Adds d (may be negative) to the gauge series with these label values. */
export const gaugeAdd = (family: number, d: number, v1?: number | string, v2?: number | string, v3?: number | string) => {
  seriesAdd(metricSeries(family, v1, v2, v3), d);
};

/** Records one observation in the histogram series with these label values. */
export const histogramObserve = (family: number, v: number, v1?: number | string, v2?: number | string, v3?: number | string) => {
  seriesObserve(metricSeries(family, v1, v2, v3), v);
};

// ---- Exposition (text format 0.0.4) ----

/** piece1 := label value k of series s. */
const labelValue = (s: number, k: number) => {
  if (ser(s, S_KIND0 + k) === 1) promNumber(piece1, nums[LABEL_BASE + s * MAX_LABELS + k]);
  else promEscapeString(piece1, labelString[s * MAX_LABELS + k]);
};

/**
 * One sample line: name + suffix, the series' labels, an `le` label when `le` is not
 * NaN, and the value.
 */
const sample = (family: number, suffix: string, series: number, le: number, value: number) => {
  const t = family * FAM_STRINGS;
  const name = famStrings[t];
  const nLabels = fam(family, F_LABELS);
  if (nLabels === 0 && le !== le) {
    emitLine('diag.prom.sample', name, suffix, promNumber(piece0, value));
    return;
  }
  for (let k = 0; k < nLabels; k++) {
    labelValue(series, k);
    if (k === 0) emitInline('diag.prom.labelsOpen', name, suffix, famStrings[t + 2], piece1);
    else emitInline('diag.prom.label', famStrings[t + 2 + k], piece1);
  }
  if (le === le) {
    promNumber(piece1, le);
    if (nLabels === 0) emitInline('diag.prom.leOpen', name, suffix, piece1);
    else emitInline('diag.prom.le', piece1);
  }
  emitLine('diag.prom.labelsClose', promNumber(piece0, value));
};

/** Prints every family and series in the Prometheus text format. */
export const sayMetrics = () => {
  for (let f = 0; f < families; f++) {
    const type = fam(f, F_TYPE);
    const t = f * FAM_STRINGS;
    emitLine('diag.prom.help', famStrings[t], text(famStrings[t + 1] as MsgKey));
    if (type === MetricType.Counter) emitLine('diag.prom.typeCounter', famStrings[t]);
    else if (type === MetricType.Gauge) emitLine('diag.prom.typeGauge', famStrings[t]);
    else emitLine('diag.prom.typeHistogram', famStrings[t]);
    for (let s = fam(f, F_FIRST); s >= 0; s = ser(s, S_NEXT)) {
      const v = VALUE_BASE + s * 2;
      if (type !== MetricType.Histogram) {
        sample(f, '', s, NaN, nums[v]);
        continue;
      }
      const b0 = fam(f, F_BOUND0);
      const nb = fam(f, F_BOUNDS);
      const c0 = BUCKET_BASE + ser(s, S_BUCKET0);
      let cumulative = 0;
      for (let i = 0; i < nb; i++) {
        cumulative += nums[c0 + i];
        sample(f, '_bucket', s, nums[b0 + i], cumulative);
      }
      sample(f, '_bucket', s, Infinity, nums[v + 1]);
      sample(f, '_sum', s, NaN, nums[v]);
      sample(f, '_count', s, NaN, nums[v + 1]);
    }
  }
};
