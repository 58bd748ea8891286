// `audit`: the ring of security-relevant events with sequence numbers that are never
// reused; language changes and tracing changes are audited as configuration changes;
// the ring keeps the newest 256 events; table and JSON lines; translated.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { boot } from '../sim/harness.mjs';
import { dictionaries, fill } from '../sim/dictionaries.mjs';

const PROMPT = /(?:zerovisor> |ゼロバイザー> |zerovisor 控制台> )/;

/** Output lines of the n-th run of `command` (exact line as typed). */
const outputOf = (m, command, n = 0) => {
  const runs = m.serialText.split(PROMPT).slice(1).map((chunk) => chunk.split('\r\n')).filter((lines) => lines[0] === command);
  assert.ok(runs.length > n, `"${command}" ran ${runs.length} times`);
  return runs[n].slice(1, -1);
};

/** Terminal columns of a string: 2 for CJK and fullwidth characters (as the kernel counts them). */
const columns = (s) => [...s].reduce((n, ch) => n + (/[\u1100-\u115f\u2e80-\u303e\u3041-\u33ff\u3400-\u4dbf\u4e00-\u9fff\uac00-\ud7a3\uff00-\uff60]/.test(ch) ? 2 : 1), 0);
const right = (s, w) => ' '.repeat(Math.max(0, w - columns(s))) + s;
const left = (s, w) => s + ' '.repeat(Math.max(0, w - columns(s)));

const jsonLines = (m, command, n = 0) => outputOf(m, command, n).map((line) => {
  try {
    return JSON.parse(line);
  } catch (e) {
    assert.fail(`not a JSON line: ${JSON.stringify(line)} (${e.message})`);
  }
});

test('nothing is audited at boot', () => {
  const m = boot({ input: ['audit\r', 'audit --json\r', 'exit\r'] });
  assert.deepEqual(outputOf(m, 'audit'), ['No audit events have been recorded.']);
  assert.deepEqual(outputOf(m, 'audit --json'), []);
});

test('a language change is audited as a configuration change; choosing the current language is not', async () => {
  const { en, ja } = await dictionaries();
  const m = boot({ input: ['lang en\r', 'lang ja\r', 'lang ja\r', 'audit\r', 'lang en\r', 'audit --json\r', 'audit\r', 'exit\r'] });
  const events = jsonLines(m, 'audit --json');
  assert.equal(events.length, 2);
  for (const e of events) {
    assert.deepEqual(Object.keys(e), ['seq', 'tsc', 't_us', 'event', 'subjects', 'lang', 'key', 'args', 'msg']);
    assert.equal(e.event, 'config.change');
    assert.equal(e.key, 'diag.audit.langChanged');
    assert.equal(e.lang, 'en', 'the detail is shown in the current language');
    assert.ok(e.t_us === null || Number.isInteger(e.t_us));
    assert.ok(m.tscReads.map((t) => Number(t - 0x1fffff000n)).includes(e.tsc), 'the time is a TSC read since boot');
  }
  assert.deepEqual(events.map((e) => e.seq), [1, 2]);
  assert.ok(events[1].tsc > events[0].tsc);
  assert.deepEqual(events[0].subjects, [1, 1], 'setting 1 (language), new value 1 (ja)');
  assert.deepEqual(events[1].subjects, [1, 0]);
  assert.deepEqual(events[0].args, ['en', 'ja']);
  assert.deepEqual(events[1].args, ['ja', 'en']);
  assert.equal(events[0].msg, fill(en['diag.audit.langChanged'], 'en', 'ja'));

  // the table: translated header and detail, sequence, TSC, event, subjects
  const jaTable = outputOf(m, 'audit');
  assert.equal(jaTable.length, 3);
  assert.equal(jaTable[0], `${right(ja['diag.audit.col.seq'], 6)} ${right(ja['diag.col.tsc'], 16)} ${left(ja['diag.audit.col.event'], 20)} `
    + `${right(ja['diag.audit.col.subjectA'], 10)} ${right(ja['diag.audit.col.subjectB'], 10)}  ${ja['diag.audit.col.detail']}`);
  assert.equal(jaTable[1], `${'1'.padStart(6)} ${String(events[0].tsc).padStart(16)} ${'config.change'.padEnd(20)} ${'1'.padStart(10)} ${'1'.padStart(10)}  ${fill(ja['diag.audit.langChanged'], 'en', 'ja')}`);
  assert.equal(jaTable[2], fill(ja['diag.audit.summary'], 1, 1, 1, 256));
  const enTable = outputOf(m, 'audit', 1);
  assert.match(enTable[0], /^ +Seq +TSC ticks Event +Subject A +Subject B  Detail$/);
  assert.match(enTable[2], / +2 +\d+ config\.change +1 +0  console language changed from ja to en$/);
  assert.equal(enTable[3], '2 events shown (sequence numbers 1 to 2); the ring keeps the last 256.');
});

test('the ring keeps the newest 256 events; sequence numbers keep counting and are never reused', () => {
  const input = [];
  for (let i = 0; i < 150; i++) input.push('trace on\r', 'trace off\r'); // 300 events
  input.push('lang ja\r', 'audit --json\r', 'audit\r', 'exit\r');
  const m = boot({ input });
  const events = jsonLines(m, 'audit --json');
  assert.equal(events.length, 256);
  const seqs = events.map((e) => e.seq);
  assert.deepEqual(seqs, Array.from({ length: 256 }, (_, i) => 301 - 255 + i), 'the newest 256, in order');
  for (let i = 1; i < events.length; i++) assert.ok(events[i].tsc > events[i - 1].tsc);
  assert.equal(events.at(-1).key, 'diag.audit.langChanged');
  assert.deepEqual(events.at(-2).subjects, [2, 0], 'setting 2 (trace) turned off');
  assert.equal(events.at(-2).key, 'diag.audit.traceOff');
  assert.deepEqual(events.at(-3).subjects, [2, 1]);
  assert.equal(events.at(-3).lang, 'ja');
  const table = outputOf(m, 'audit');
  assert.equal(table.length, 258);
  assert.match(table[1], /^ +46 /);
  assert.match(table.at(-1), /^256 件を表示しました（通し番号 46〜301）。/);
});

test('audit rejects unknown words with translated errors', async () => {
  const { zh } = await dictionaries();
  const m = boot({ input: ['audit all\r', 'audit --all\r', 'audit --json x\r', 'lang zh\r', 'audit --all\r', 'exit\r'] });
  assert.deepEqual(outputOf(m, 'audit all'), ['audit: unexpected argument "all". Usage: audit [--json]']);
  assert.deepEqual(outputOf(m, 'audit --all'), ['audit: unknown option "--all". Usage: audit [--json]']);
  assert.deepEqual(outputOf(m, 'audit --json x'), ['audit: unexpected argument "x". Usage: audit [--json]']);
  assert.deepEqual(outputOf(m, 'audit --all', 1), [fill(zh['diag.unknownOption'], 'audit', '--all', 'audit [--json]')]);
});
