// `trace`: off by default and then records nothing; on, every console command leaves a
// console.command point (command index, word count, TSC); the ring keeps the newest
// 1024 points and counts the overwritten ones; on/off/clear are audited; translated.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { boot } from '../sim/harness.mjs';
import { dictionaries, fill } from '../sim/dictionaries.mjs';

const PROMPT = /(?:zerovisor> |ゼロバイザー> |zerovisor 控制台> )/;

const outputOf = (m, command, n = 0) => {
  const runs = m.serialText.split(PROMPT).slice(1).map((chunk) => chunk.split('\r\n')).filter((lines) => lines[0] === command);
  assert.ok(runs.length > n, `"${command}" ran ${runs.length} times`);
  return runs[n].slice(1, -1);
};

const COMMANDS = ['help', 'version', 'lang', 'mem', 'clear', 'exit', 'caps', 'acpi', 'cpus', 'pci', 'time', 'log', 'audit', 'metrics', 'trace', 'wdog'];

/** Rows of a `trace dump`: { number, tsc, point, args }. */
const dumpRows = (lines) => lines.slice(1, -1).map((row) => {
  const f = row.trim().split(/ +/);
  assert.equal(f.length, 7, row);
  return { number: Number(f[0]), tsc: Number(f[1]), point: f[2], args: f.slice(3).map(Number) };
});

test('tracing is off by default and then records nothing', () => {
  const m = boot({ input: ['trace\r', 'help\r', 'version\r', 'log\r', 'trace dump\r', 'trace\r', 'exit\r'] });
  assert.deepEqual(outputOf(m, 'trace'), ['Tracing is off (the default); "trace on" starts it.', '0 of 1024 trace points in the ring; 0 recorded since boot, 0 overwritten.']);
  assert.deepEqual(outputOf(m, 'trace dump'), ['The trace ring is empty. Tracing is off; "trace on" starts it.']);
  assert.deepEqual(outputOf(m, 'trace', 1), outputOf(m, 'trace'));
});

test('trace on records a console.command point per command; trace off stops it; dump lists them oldest first', () => {
  const m = boot({ input: ['trace on\r', 'help\r', 'lang en\r', 'mem\r', 'trace\r', 'trace off\r', 'version\r', 'help mem\r', 'trace dump\r', 'trace off\r', 'trace on\r', 'trace on\r', 'exit\r'] });
  assert.deepEqual(outputOf(m, 'trace on'), ['Tracing is now on.']);
  assert.deepEqual(outputOf(m, 'trace'), ['Tracing is on.', '4 of 1024 trace points in the ring; 4 recorded since boot, 0 overwritten.']);
  assert.deepEqual(outputOf(m, 'trace off'), ['Tracing is now off; 5 trace points are in the ring.']);
  const dump = outputOf(m, 'trace dump');
  assert.match(dump[0], /^ +No\. +TSC ticks Point +Arguments$/);
  const rows = dumpRows(dump);
  // help, lang en, mem, trace, trace off: not version and help mem (tracing was off)
  assert.deepEqual(rows.map((r) => [r.number, r.point, COMMANDS[r.args[0]], r.args[1], r.args[2], r.args[3]]), [
    [1, 'console.command', 'help', 1, 0, 0],
    [2, 'console.command', 'lang', 2, 0, 0],
    [3, 'console.command', 'mem', 1, 0, 0],
    [4, 'console.command', 'trace', 1, 0, 0],
    [5, 'console.command', 'trace', 2, 0, 0],
  ]);
  for (let i = 1; i < rows.length; i++) assert.ok(rows[i].tsc > rows[i - 1].tsc);
  const reads = new Set(m.tscReads.map((t) => Number(t - 0x1fffff000n)));
  assert.ok(rows.every((r) => reads.has(r.tsc)), 'times are TSC reads since boot');
  assert.equal(dump.at(-1), '5 of 1024 trace points in the ring; 5 recorded since boot, 0 overwritten.');
  assert.deepEqual(outputOf(m, 'trace off', 1), ['Tracing is already off.']);
  assert.deepEqual(outputOf(m, 'trace on', 2), ['Tracing is already on.']);
});

test('the ring keeps the newest 1024 points and counts the overwritten ones; clear empties it', () => {
  const input = ['trace on\r'];
  for (let i = 0; i < 1100; i++) input.push(i % 2 ? 'version\r' : 'help version\r');
  input.push('trace dump\r', 'trace clear\r', 'trace\r', 'trace dump\r', 'exit\r');
  const m = boot({ input });
  const dump = outputOf(m, 'trace dump');
  const rows = dumpRows(dump);
  assert.equal(rows.length, 1024);
  // recorded: 1100 commands and the dump itself
  assert.deepEqual(rows.map((r) => r.number), Array.from({ length: 1024 }, (_, i) => 1101 - 1023 + i));
  assert.deepEqual(rows.at(-1).args, [14, 2, 0, 0], 'the newest is "trace dump"');
  assert.deepEqual(rows.at(-2).args, [1, 1, 0, 0], 'then "version"');
  assert.deepEqual(rows.at(-3).args, [0, 2, 0, 0], 'then "help version"');
  assert.equal(dump.at(-1), '1024 of 1024 trace points in the ring; 1101 recorded since boot, 77 overwritten.');
  assert.deepEqual(outputOf(m, 'trace clear'), ['Trace ring cleared: 1024 trace points discarded.']);
  // "trace clear" was recorded (overwriting one more) before it cleared the ring
  assert.deepEqual(outputOf(m, 'trace'), ['Tracing is on.', '1 of 1024 trace points in the ring; 1103 recorded since boot, 78 overwritten.']);
  const after = dumpRows(outputOf(m, 'trace dump', 1));
  assert.deepEqual(after.map((r) => r.number), [1103, 1104], 'numbering goes on after a clear');
});

test('turning tracing on or off and clearing the ring are audited', () => {
  const m = boot({ input: ['trace on\r', 'trace on\r', 'help\r', 'trace clear\r', 'trace off\r', 'audit --json\r', 'exit\r'] });
  const events = outputOf(m, 'audit --json').map((l) => JSON.parse(l));
  assert.deepEqual(events.map((e) => [e.seq, e.event, e.subjects, e.key, e.args]), [
    [1, 'config.change', [2, 1], 'diag.audit.traceOn', []],
    [2, 'config.change', [2, 2], 'diag.audit.traceCleared', [3]],
    [3, 'config.change', [2, 0], 'diag.audit.traceOff', [1]],
  ]);
  assert.equal(events[1].msg, 'trace ring cleared (3 trace points discarded)');
});

test('trace in Japanese and Chinese; unknown actions and options are translated errors', async () => {
  const { ja, zh } = await dictionaries();
  const usage = 'trace [on|off|dump|clear]';
  const m = boot({ input: ['trace up\r', 'trace on off\r', 'trace --now\r', 'lang ja\r', 'trace\r', 'trace on\r', 'trace up\r', 'lang zh\r', 'trace dump\r', 'trace off\r', 'exit\r'] });
  assert.deepEqual(outputOf(m, 'trace up'), [`trace: unknown action "up". Usage: ${usage}`]);
  assert.deepEqual(outputOf(m, 'trace on off'), [`trace: unexpected argument "off". Usage: ${usage}`]);
  assert.deepEqual(outputOf(m, 'trace --now'), [`trace: unknown option "--now". Usage: ${usage}`]);
  assert.deepEqual(outputOf(m, 'trace'), [ja['diag.trace.stateOff'], fill(ja['diag.trace.counts'], 0, 1024, 0, 0)]);
  assert.deepEqual(outputOf(m, 'trace on'), [ja['diag.trace.nowOn']]);
  assert.deepEqual(outputOf(m, 'trace up', 1), [fill(ja['diag.unknownAction'], 'trace', 'up', usage)]);
  const dump = outputOf(m, 'trace dump');
  for (const word of [zh['diag.trace.col.number'], zh['diag.col.tsc'], zh['diag.trace.col.point'], zh['diag.trace.col.args']]) assert.ok(dump[0].includes(word), dump[0]);
  // trace up, lang zh, trace dump
  assert.equal(dump.at(-1), fill(zh['diag.trace.counts'], 3, 1024, 3, 0));
  assert.deepEqual(outputOf(m, 'trace off'), [fill(zh['diag.trace.nowOff'], 4)]);
});
