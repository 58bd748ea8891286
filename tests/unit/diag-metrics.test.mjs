// `metrics`: the Prometheus text exposition format 0.0.4, checked by a small parser
// (every sample in a declared family, HELP and TYPE once and first, samples grouped,
// histogram buckets cumulative with +Inf equal to _count), and the values of the
// metrics the kernel keeps: commands by name, log entries by level, log line sizes,
// audit events, trace points, ring use. Labelled series (VM, vCPU, device) through a
// kernel variant that uses the API the way the later issues will.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { boot, variantModule } from '../sim/harness.mjs';

const PROMPT = /(?:zerovisor> |ゼロバイザー> |zerovisor 控制台> )/;

const outputOf = (m, command, n = 0) => {
  const runs = m.serialText.split(PROMPT).slice(1).map((chunk) => chunk.split('\r\n')).filter((lines) => lines[0] === command);
  assert.ok(runs.length > n, `"${command}" ran ${runs.length} times`);
  return runs[n].slice(1, -1);
};

const NAME = /^[a-zA-Z_:][a-zA-Z0-9_:]*$/;
const LABEL = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\\n]|\\["\\n])*)"(,|$)/y;

const parseValue = (s) => {
  if (s === '+Inf') return Infinity;
  if (s === '-Inf') return -Infinity;
  if (s === 'NaN') return NaN;
  assert.match(s, /^-?\d+(\.\d+)?(e[+-]\d+)?$/, `value ${s}`);
  return Number(s);
};

const parseLabels = (text) => {
  const labels = {};
  LABEL.lastIndex = 0;
  while (LABEL.lastIndex < text.length) {
    const m = LABEL.exec(text);
    assert.ok(m, `labels {${text}}`);
    assert.ok(!(m[1] in labels), `label ${m[1]} twice`);
    labels[m[1]] = m[2].replace(/\\(.)/g, (_, c) => (c === 'n' ? '\n' : c));
  }
  return labels;
};

/**
 * Parses exposition text (0.0.4) and checks its rules; returns families by name:
 * { help, type, samples: [{ name, labels, value }] }.
 */
const parseExposition = (lines) => {
  const families = new Map();
  let current = null;
  for (const line of lines) {
    let m;
    if ((m = /^# HELP (\S+) (.*)$/.exec(line))) {
      assert.match(m[1], NAME);
      assert.ok(!families.has(m[1]), `family ${m[1]} declared twice`);
      current = { help: m[2], type: null, samples: [] };
      families.set(m[1], current);
    } else if ((m = /^# TYPE (\S+) (counter|gauge|histogram|summary|untyped)$/.exec(line))) {
      const f = families.get(m[1]);
      assert.ok(f === current && f.type === null && f.samples.length === 0, `TYPE ${m[1]} right after its HELP`);
      f.type = m[2];
    } else {
      assert.ok(!line.startsWith('#'), `comment ${line}`);
      m = /^([^{ ]+)(?:\{(.*)\})? (\S+)$/.exec(line);
      assert.ok(m, `sample line ${JSON.stringify(line)}`);
      assert.match(m[1], NAME);
      assert.ok(current && current.type, `sample ${m[1]} before any family`);
      const name = families.has(m[1]) ? m[1] : m[1].replace(/_(bucket|sum|count)$/, '');
      assert.equal(families.get(name), current, `sample ${m[1]} belongs to the family declared last (${[...families.keys()].at(-1)})`);
      if (name !== m[1]) assert.equal(current.type, 'histogram', `${m[1]}: suffixes only for histograms`);
      current.samples.push({ name: m[1], labels: parseLabels(m[2] ?? ''), value: parseValue(m[3]) });
    }
  }
  for (const [name, f] of families) {
    assert.ok(f.type, `${name} has a TYPE`);
    if (f.type === 'counter') for (const s of f.samples) assert.ok(s.value >= 0, `${name} counter ${s.value}`);
    if (f.type !== 'histogram') continue;
    const bySeries = new Map();
    for (const s of f.samples) {
      const { le, ...rest } = s.labels;
      const key = JSON.stringify(rest);
      if (!bySeries.has(key)) bySeries.set(key, { buckets: [], sum: undefined, count: undefined });
      const series = bySeries.get(key);
      if (s.name === `${name}_bucket`) series.buckets.push([parseValue(le), s.value]);
      else if (s.name === `${name}_sum`) series.sum = s.value;
      else if (s.name === `${name}_count`) series.count = s.value;
      else assert.fail(`${s.name} in histogram ${name}`);
    }
    for (const [key, series] of bySeries) {
      assert.ok(series.buckets.length > 0 && series.sum !== undefined && series.count !== undefined, `${name}${key}: buckets, _sum and _count`);
      for (let i = 1; i < series.buckets.length; i++) {
        assert.ok(series.buckets[i][0] > series.buckets[i - 1][0], `${name}${key}: le ascending`);
        assert.ok(series.buckets[i][1] >= series.buckets[i - 1][1], `${name}${key}: buckets cumulative`);
      }
      assert.equal(series.buckets.at(-1)[0], Infinity, `${name}${key}: last bucket is +Inf`);
      assert.equal(series.buckets.at(-1)[1], series.count, `${name}${key}: +Inf bucket equals _count`);
    }
    f.series = bySeries;
  }
  return families;
};

const value = (families, name, labels = {}) => {
  const family = families.get(name.replace(/_(bucket|sum|count)$/, '')) ?? families.get(name);
  assert.ok(family, `no family for ${name}`);
  const s = family.samples.find((x) => x.name === name && JSON.stringify(x.labels) === JSON.stringify(labels));
  assert.ok(s, `no sample ${name}${JSON.stringify(labels)}`);
  return s.value;
};

test('metrics prints valid Prometheus text with the values the kernel counted', () => {
  const m = boot({ input: ['help\r', 'help\r', 'version\r', 'lang ja\r', 'lang en\r', 'trace on\r', 'mem\r', 'log --json\r', 'metrics\r', 'exit\r'] });
  const families = parseExposition(outputOf(m, 'metrics'));
  for (const [name, type] of [['zerovisor_console_commands_total', 'counter'], ['zerovisor_log_entries_total', 'counter'], ['zerovisor_log_line_bytes', 'histogram'],
    ['zerovisor_audit_events_total', 'counter'], ['zerovisor_trace_points_recorded_total', 'counter'], ['zerovisor_trace_points_dropped_total', 'counter'],
    ['zerovisor_trace_enabled', 'gauge'], ['zerovisor_ring_entries', 'gauge'], ['zerovisor_metric_updates_dropped_total', 'counter']]) {
    assert.equal(families.get(name)?.type, type, name);
  }
  assert.equal(families.get('zerovisor_console_commands_total').help, 'Console commands run since boot, by command.');
  // commands by name; `metrics` counts itself before it prints
  assert.equal(value(families, 'zerovisor_console_commands_total', { command: 'help' }), 2);
  assert.equal(value(families, 'zerovisor_console_commands_total', { command: 'version' }), 1);
  assert.equal(value(families, 'zerovisor_console_commands_total', { command: 'lang' }), 2);
  assert.equal(value(families, 'zerovisor_console_commands_total', { command: 'metrics' }), 1);
  assert.equal(value(families, 'zerovisor_console_commands_total', { command: 'wdog' }), 0);
  // log entries by level: the ring (not wrapped yet) has all of them
  const entries = outputOf(m, 'log --json').map((l) => JSON.parse(l));
  for (const level of ['debug', 'info', 'warn', 'error', 'fatal']) {
    assert.equal(value(families, 'zerovisor_log_entries_total', { level }), entries.filter((e) => e.level === level).length, level);
  }
  // log line sizes: the lines the shim got
  const sizes = m.logLines.map((l) => Buffer.byteLength(l, 'utf8'));
  assert.equal(value(families, 'zerovisor_log_line_bytes_count'), sizes.length);
  assert.equal(value(families, 'zerovisor_log_line_bytes_sum'), sizes.reduce((a, b) => a + b, 0));
  assert.equal(value(families, 'zerovisor_log_line_bytes_bucket', { le: '64' }), sizes.filter((n) => n <= 64).length);
  assert.equal(value(families, 'zerovisor_log_line_bytes_bucket', { le: '16' }), sizes.filter((n) => n <= 16).length);
  // audit: two language changes and tracing on
  assert.equal(value(families, 'zerovisor_audit_events_total', { event: 'config.change' }), 3);
  assert.equal(value(families, 'zerovisor_audit_events_total', { event: 'vm.create' }), 0);
  // trace: mem, log --json, metrics
  assert.equal(value(families, 'zerovisor_trace_points_recorded_total'), 3);
  assert.equal(value(families, 'zerovisor_trace_points_dropped_total'), 0);
  assert.equal(value(families, 'zerovisor_trace_enabled'), 1);
  assert.equal(value(families, 'zerovisor_ring_entries', { ring: 'trace' }), 3);
  assert.equal(value(families, 'zerovisor_ring_entries', { ring: 'audit' }), 3);
  assert.equal(value(families, 'zerovisor_ring_entries', { ring: 'log' }), m.logLines.length);
  assert.equal(value(families, 'zerovisor_metric_updates_dropped_total'), 0);
});

test('metrics is the same format in every language (HELP in English)', () => {
  const m = boot({ input: ['metrics\r', 'lang zh\r', 'metrics\r', 'metrics x\r', 'exit\r'] });
  const en = outputOf(m, 'metrics');
  const zh = outputOf(m, 'metrics', 1);
  assert.deepEqual(zh.filter((l) => l.startsWith('#')), en.filter((l) => l.startsWith('#')));
  parseExposition(zh);
  assert.deepEqual(outputOf(m, 'metrics x'), ['metrics：多余的参数“x”。用法：metrics']);
});

test('labelled series per VM, vCPU and device: counters, gauges and histograms; a full series table drops updates, counted', () => {
  const module = variantModule('diag-metrics-labels', [
    {
      file: 'kernel/main.ts',
      from: "import { fatal } from './diag/log';",
      to: "import { fatal } from './diag/log';\nimport { counterAdd, defineCounter, defineGauge, defineHistogram, gaugeAdd, gaugeSet, histogramObserve, metricSeries, seriesAdd } from './diag/metrics';",
    },
    {
      file: 'kernel/main.ts',
      from: "discoverPlatform();",
      to: `discoverPlatform(); // after discovery, whose metrics take series too
  const EXITS = defineCounter('zerovisor_test_exits_total', 'diag.metric.commands', 'vm', 'vcpu', 'reason');
  counterAdd(EXITS, 3, 1, 0, 'cpuid');
  counterAdd(EXITS, 2, 1, 1, 'hlt');
  counterAdd(EXITS, 4, 1, 0, 'cpuid');
  counterAdd(EXITS, -5, 1, 0, 'cpuid');
  const hot = metricSeries(EXITS, 2, 0, 'io "port" \\\\ 0x3f8');
  for (let i = 0; i < 1000; i++) seriesAdd(hot, 1);
  const LAT = defineHistogram('zerovisor_test_latency_ticks', 'diag.metric.commands', 100, 10, 3, 'device');
  histogramObserve(LAT, 50, 24);
  histogramObserve(LAT, 100, 24);
  histogramObserve(LAT, 5000, 24);
  histogramObserve(LAT, 1000000000, 24);
  histogramObserve(LAT, 0.25, 32);
  const VCPUS = defineGauge('zerovisor_test_vcpus', 'diag.metric.commands', 'vm');
  gaugeSet(VCPUS, 4, 1);
  gaugeAdd(VCPUS, -1, 1);
  gaugeSet(VCPUS, 2.5, 2);
  const MANY = defineCounter('zerovisor_test_many_total', 'diag.metric.commands', 'vm');
  for (let i = 0; i < 300; i++) counterAdd(MANY, 1, i);`,
    },
  ]);
  const m = boot({ module, input: ['metrics\r', 'exit\r'] });
  const lines = outputOf(m, 'metrics');
  const families = parseExposition(lines);
  for (const line of [
    '# HELP zerovisor_test_exits_total Console commands run since boot, by command.',
    '# TYPE zerovisor_test_exits_total counter',
    'zerovisor_test_exits_total{vm="1",vcpu="0",reason="cpuid"} 7',
    'zerovisor_test_exits_total{vm="1",vcpu="1",reason="hlt"} 2',
    'zerovisor_test_exits_total{vm="2",vcpu="0",reason="io \\"port\\" \\\\ 0x3f8"} 1000',
    '# TYPE zerovisor_test_latency_ticks histogram',
    'zerovisor_test_latency_ticks_bucket{device="24",le="100"} 2',
    'zerovisor_test_latency_ticks_bucket{device="24",le="1000"} 2',
    'zerovisor_test_latency_ticks_bucket{device="24",le="10000"} 3',
    'zerovisor_test_latency_ticks_bucket{device="24",le="+Inf"} 4',
    'zerovisor_test_latency_ticks_sum{device="24"} 1000005150',
    'zerovisor_test_latency_ticks_count{device="24"} 4',
    'zerovisor_test_latency_ticks_bucket{device="32",le="100"} 1',
    'zerovisor_test_latency_ticks_sum{device="32"} 0.25',
    '# TYPE zerovisor_test_vcpus gauge',
    'zerovisor_test_vcpus{vm="1"} 3',
    'zerovisor_test_vcpus{vm="2"} 2.5',
  ]) assert.ok(lines.includes(line), `missing: ${line}`);
  assert.equal(value(families, 'zerovisor_test_exits_total', { vm: '2', vcpu: '0', reason: 'io "port" \\ 0x3f8' }), 1000);
  // the series table holds 256 series: the rest of the 300 VMs' updates are dropped and counted
  const many = families.get('zerovisor_test_many_total').samples;
  assert.ok(many.length > 100 && many.length < 300, `${many.length} series`);
  assert.deepEqual(many.map((s) => s.labels.vm), many.map((_, i) => String(i)));
  assert.ok(many.every((s) => s.value === 1));
  assert.equal(value(families, 'zerovisor_metric_updates_dropped_total'), 300 - many.length);
  const series = [...families.values()].reduce((n, f) => n + (f.series ? f.series.size : f.samples.length), 0);
  assert.equal(series, 256);
});
