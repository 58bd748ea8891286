// `log`: the kernel log ring as a table and as JSON lines, filtered by level; every entry
// keeps time, level, category, language, key and arguments; the ring keeps the newest
// 128 entries; the lines still reach the shim and, from Info up, the console.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { boot } from '../sim/harness.mjs';
import { dictionaries, fill } from '../sim/dictionaries.mjs';

const PROMPT = /(?:zerovisor> |ゼロバイザー> |zerovisor 控制台> )/;

/** [{ command, lines }] for every prompt of the session, in order. */
const transcript = (m) => m.serialText.split(PROMPT).slice(1).map((chunk) => {
  const lines = chunk.split('\r\n');
  return { command: lines[0], lines: lines.slice(1, -1) };
});

/** Output lines of the n-th run of `command` (exact line as typed). */
const outputOf = (m, command, n = 0) => {
  const runs = transcript(m).filter((r) => r.command === command);
  assert.ok(runs.length > n, `"${command}" ran ${runs.length} times`);
  return runs[n].lines;
};

const LEVELS = ['debug', 'info', 'warn', 'error', 'fatal'];

/** The `log --json` lines of a run, parsed. */
const jsonEntries = (m, command = 'log --json', n = 0) => outputOf(m, command, n).map((line) => {
  try {
    return JSON.parse(line);
  } catch (e) {
    assert.fail(`not a JSON line: ${JSON.stringify(line)} (${e.message})`);
  }
});

test('log --json prints one JSON object per entry, oldest first, with time, level, category, language, key, arguments and text', async () => {
  const { en, markers } = await dictionaries();
  const m = boot({ input: ['log --json\r', 'exit\r'] });
  const entries = jsonEntries(m);
  assert.ok(entries.length >= 2, 'the boot entries are in the ring');
  for (const e of entries) {
    assert.deepEqual(Object.keys(e), ['t_us', 'tsc', 'level', 'cat', 'lang', 'key', 'args', 'msg']);
    assert.ok(e.t_us === null || (Number.isInteger(e.t_us) && e.t_us >= 0), `t_us ${e.t_us}`);
    assert.ok(Number.isInteger(e.tsc) && e.tsc > 0, `tsc ${e.tsc}`);
    assert.ok(LEVELS.includes(e.level), e.level);
    assert.match(e.cat, /^[a-z]+$/);
    assert.equal(e.lang, 'en');
    assert.ok(Object.hasOwn(en, e.key) || e.key === markers.READY_KEY, `${e.key} is a message key or the ready line's`);
    assert.ok(Array.isArray(e.args));
    // the logged text is the line the shim got, without "[category] "
    assert.ok(m.logLines.includes(`[${e.cat}] ${e.msg}`), `hv_log_line got [${e.cat}] ${e.msg}`);
  }
  for (let i = 1; i < entries.length; i++) assert.ok(entries[i].tsc >= entries[i - 1].tsc, 'oldest first');
  // the TSC of an entry is a read of the simulated TSC minus the boot TSC
  const reads = new Set(m.tscReads.map((t) => Number(t - 0x1fffff000n)));
  for (const e of entries) assert.ok(reads.has(e.tsc), `${e.tsc} is a TSC read since boot`);
  const ready = entries.find((e) => e.key === 'boot.ready');
  assert.equal(ready.level, 'info');
  assert.equal(ready.cat, 'boot');
  assert.equal(ready.args.length, 1);
  assert.equal(ready.msg, fill(markers.READY_LINE, ready.args[0]));
  assert.ok(m.serialText.includes(`[boot] ${ready.msg}\r\n`));
  const detached = entries.find((e) => e.key === 'boot.serialDetached');
  assert.deepEqual([detached.level, detached.cat, detached.args], ['debug', 'boot', [1]]);
  assert.ok(!m.serialText.includes(`[boot] ${detached.msg}`), 'debug entries are recorded, not shown');
});

test('an entry keeps the language it was formatted in', async () => {
  const { en, ja } = await dictionaries();
  const m = boot({ input: ['lang ja\r', 'trace on\r', 'lang en\r', 'trace off\r', 'log --json\r', 'exit\r'] });
  const entries = jsonEntries(m);
  const on = entries.find((e) => e.key === 'diag.trace.nowOn');
  const off = entries.find((e) => e.key === 'diag.trace.nowOff');
  assert.deepEqual([on.lang, on.msg, on.cat, on.level], ['ja', ja['diag.trace.nowOn'], 'diag', 'info']);
  assert.equal(off.lang, 'en');
  assert.equal(off.msg, fill(en['diag.trace.nowOff'], off.args[0]));
  assert.ok(m.logLines.includes(`[diag] ${ja['diag.trace.nowOn']}`));
});

test('log shows the ring as a table, oldest first, and --level keeps that level and above', async () => {
  const m = boot({ input: ['log\r', 'log --level info\r', 'log --level warn --json\r', 'log --json --level debug\r', 'log --level error\r', 'exit\r'] });
  const all = jsonEntries(m, 'log --json --level debug');
  const table = outputOf(m, 'log');
  assert.match(table[0], /^ +µs +TSC ticks Level +Message$/);
  const rows = table.slice(1, -1);
  assert.equal(rows.length, all.length);
  assert.equal(table.at(-1), `${all.length} of ${all.length} entries shown.`);
  const label = { debug: 'debug', info: 'info', warn: 'warning', error: 'error', fatal: 'fatal' };
  rows.forEach((row, i) => {
    const e = all[i];
    const time = e.t_us === null ? '-' : String(e.t_us);
    assert.equal(row, `${time.padStart(12)} ${String(e.tsc).padStart(14)} ${label[e.level].padEnd(8)} [${e.cat}] ${e.msg}`);
  });
  const info = outputOf(m, 'log --level info').slice(1, -1);
  const wantInfo = all.filter((e) => e.level !== 'debug');
  assert.ok(wantInfo.length > 0 && wantInfo.length < all.length, 'the boot log has debug and info entries');
  assert.equal(info.length, wantInfo.length);
  assert.ok(info.every((row) => !/ debug +\[/.test(row)));
  const warn = jsonEntries(m, 'log --level warn --json');
  assert.deepEqual(warn, all.filter((e) => ['warn', 'error', 'fatal'].includes(e.level)));
  const error = outputOf(m, 'log --level error');
  const errors = all.filter((e) => e.level === 'error' || e.level === 'fatal').length;
  if (errors === 0) assert.deepEqual(error, [`No log entries at level error or above (${all.length} entries in the ring).`]);
});

test('the ring keeps the newest 128 entries; the table says how many were overwritten', () => {
  const toggles = [];
  for (let i = 0; i < 70; i++) toggles.push('trace on\r', 'trace off\r'); // one log entry each
  const m = boot({ input: [...toggles, 'log --json\r', 'log\r', 'exit\r'] });
  const entries = jsonEntries(m);
  assert.equal(entries.length, 128);
  for (let i = 1; i < entries.length; i++) assert.ok(entries[i].tsc > entries[i - 1].tsc, 'oldest first, no repeats');
  // the newest are the last toggles: ..., on, off
  assert.equal(entries.at(-1).key, 'diag.trace.nowOff');
  assert.equal(entries.at(-2).key, 'diag.trace.nowOn');
  assert.ok(entries.every((e) => e.key.startsWith('diag.trace.')), 'the boot entries were overwritten');
  const table = outputOf(m, 'log');
  const total = m.logLines.length - 0; // every entry went to the shim
  assert.equal(table.at(-2), '128 of 128 entries shown.');
  assert.equal(table.at(-1), `${total - 128} older entries were overwritten (the ring keeps the last 128).`);
});

test('log rejects bad options with translated errors', async () => {
  const { ja } = await dictionaries();
  const usage = 'log [--level debug|info|warn|error] [--json]';
  const m = boot({ input: ['log --level\r', 'log --level loud\r', 'log --bogus\r', 'log extra\r', 'log --json --json\r', 'log --level info --level warn\r',
    'lang ja\r', 'log --level\r', 'log --level LOUD\r', 'log -x\r', 'exit\r'] });
  assert.deepEqual(outputOf(m, 'log --level'), [`log: --level needs a level: debug, info, warn or error. Usage: ${usage}`]);
  assert.deepEqual(outputOf(m, 'log --level loud'), ['log: unknown level "loud". Levels: debug, info, warn, error.']);
  assert.deepEqual(outputOf(m, 'log --bogus'), [`log: unknown option "--bogus". Usage: ${usage}`]);
  assert.deepEqual(outputOf(m, 'log extra'), [`log: unexpected argument "extra". Usage: ${usage}`]);
  assert.deepEqual(outputOf(m, 'log --json --json'), [`log: option "--json" is given more than once. Usage: ${usage}`]);
  assert.deepEqual(outputOf(m, 'log --level info --level warn'), [`log: option "--level" is given more than once. Usage: ${usage}`]);
  assert.deepEqual(outputOf(m, 'log --level', 1), [fill(ja['diag.log.levelMissing'], usage)]);
  assert.deepEqual(outputOf(m, 'log --level LOUD'), [fill(ja['diag.log.badLevel'], 'LOUD')]);
  assert.deepEqual(outputOf(m, 'log -x'), [fill(ja['diag.unknownOption'], 'log', '-x', usage)]);
});

test('log in Japanese and Chinese: translated table header and levels, the entries as logged', async () => {
  const { ja, zh } = await dictionaries();
  const m = boot({ input: ['lang ja\r', 'log --level info\r', 'lang zh\r', 'log\r', 'exit\r'] });
  const jaTable = outputOf(m, 'log --level info');
  for (const word of [ja['diag.log.col.us'], ja['diag.col.tsc'], ja['diag.log.col.level'], ja['diag.log.col.message']]) assert.ok(jaTable[0].includes(word), jaTable[0]);
  assert.ok(jaTable.some((row) => row.includes(` ${ja['diag.level.info']} `) && row.includes('[boot] first prompt after')), jaTable.join('\n'));
  const zhTable = outputOf(m, 'log');
  assert.ok(zhTable.some((row) => row.includes(` ${zh['diag.level.debug']} `)), zhTable.join('\n'));
  assert.match(zhTable.at(-1), /^已显示 \d+ 条中的 \d+ 条。$/);
});
