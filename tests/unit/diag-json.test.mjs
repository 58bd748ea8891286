// JSON lines of `log --json` and `audit --json` with hostile arguments: quotes,
// backslashes, control characters, DEL and C1, non-ASCII, astral characters, a lone
// surrogate, numbers that are fractions, negative, huge, NaN; and strings longer than
// what an entry keeps. Every line must parse with JSON.parse and carry the exact value.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { boot, variantModule } from '../sim/harness.mjs';
import { dictionaries, fill } from '../sim/dictionaries.mjs';

const HOSTILE = 'say "hi" \\ back\\slash\n\t\r\b\f \u0001\u001f\u007f\u0085 é 日本語 😀 \ud800 end';
const LONG = '"'.repeat(300);

/** What the console shows for a string argument: controls and lone surrogates as U+FFFD. */
const visible = (s) => [...s].map((ch) => {
  const cp = ch.codePointAt(0);
  return cp < 0x20 || (cp >= 0x7f && cp < 0xa0) || (cp >= 0xd800 && cp <= 0xdfff) ? '\ufffd' : ch;
}).join('');

let machine;
const hostileRun = () => {
  if (machine) return machine;
  assert.ok([...HOSTILE].length <= 64, 'fits what an entry keeps of its string arguments');
  const module = variantModule('diag-json-hostile', [
    {
      file: 'kernel/console/console.ts',
      from: "import { Category, Level, log } from '../diag/log';",
      to: "import { Category, Level, log } from '../diag/log';\nimport { audit, AuditEvent } from '../diag/audit';",
    },
    {
      file: 'kernel/console/console.ts',
      from: "say('boot.hint');",
      to: `say('boot.hint');
  log(Level.Debug, Category.Diag, 'console.internalError', ${JSON.stringify(HOSTILE)}, 42.5, 9007199254740993, NaN);
  log(Level.Debug, Category.Diag, 'console.internalError', ${JSON.stringify(LONG)}, -0.001);
  log(Level.Debug, Category.Diag, 'console.internalError', 18446744073709551616, 1.7976931348623157e308, 1e-7, -123456789.125);
  audit(AuditEvent.DeviceAssign, 256, 7, 'console.internalError', ${JSON.stringify(HOSTILE)}, -3, 0.1, 1e21);`,
    },
  ]);
  machine = boot({ module, input: ['log --json\r', 'audit --json\r', 'audit\r', 'exit\r'] });
  return machine;
};

const PROMPT = /(?:zerovisor> |ゼロバイザー> |zerovisor 控制台> )/;
const outputOf = (m, command) => {
  const run = m.serialText.split(PROMPT).slice(1).map((chunk) => chunk.split('\r\n')).find((lines) => lines[0] === command);
  assert.ok(run, `"${command}" ran`);
  return run.slice(1, -1);
};

test('log --json escapes quotes, backslashes and control characters and keeps the exact string', async () => {
  const { en } = await dictionaries();
  const m = hostileRun();
  const lines = outputOf(m, 'log --json');
  const raw = lines.find((l) => l.includes('say \\"hi\\"'));
  assert.ok(raw, lines.join('\n'));
  const e = JSON.parse(raw);
  assert.equal(e.key, 'console.internalError');
  assert.equal(e.args[0], HOSTILE);
  assert.equal(e.args[1], 42.5);
  assert.equal(e.args[2], 9007199254740992, '2^53 + 1 is stored as the double 2^53');
  assert.equal(e.args[3], null, 'NaN, which JSON lacks, is null');
  assert.equal(e.msg, fill(en['console.internalError'], visible(HOSTILE), 42.5));
  // the raw line: every control character escaped, non-ASCII left as UTF-8
  for (const ch of raw) assert.ok(ch.codePointAt(0) >= 0x20 && !(ch.codePointAt(0) >= 0x7f && ch.codePointAt(0) < 0xa0), `raw U+${ch.codePointAt(0).toString(16)} in the line`);
  for (const piece of ['say \\"hi\\" \\\\ back\\\\slash\\n\\t\\r\\b\\f \\u0001\\u001f\\u007f\\u0085 é 日本語 😀 \\ud800 end', '"args":[', ',42.5,9007199254740992,null]']) {
    assert.ok(raw.includes(piece), `line has ${piece}: ${raw}`);
  }
  assert.ok(m.serialBytes.includes(Buffer.from('日本語 😀', 'utf8')));
});

test('an argument longer than what an entry keeps is cut, and the line is still valid JSON', () => {
  const m = hostileRun();
  const e = outputOf(m, 'log --json').map((l) => JSON.parse(l)).find((x) => x.args[0]?.startsWith?.('""'));
  assert.equal(e.args[0], '"'.repeat(64), 'string arguments: up to 64 code points per entry');
  assert.equal(e.args[1], -0.001);
  assert.match(e.msg, /^Internal error in command "+$/, 'the text is cut at the line length');
  assert.equal(Buffer.byteLength(`[diag] ${e.msg}`), 240 - 3, 'as much of the line as fits in 240 bytes');
});

test('numbers: integers exactly however large, fractions to 9 decimals (3 from a million up)', () => {
  const m = hostileRun();
  const e = outputOf(m, 'log --json').map((l) => JSON.parse(l)).find((x) => x.args[0] === 2 ** 64);
  assert.ok(e, 'the entry with 2^64');
  assert.deepEqual(e.args, [2 ** 64, Number.MAX_VALUE, 1e-7, -123456789.125]);
  const raw = outputOf(m, 'log --json').find((l) => l.includes('"args":[18446744073709551616,'));
  assert.ok(raw.includes(`,${BigInt(Number.MAX_VALUE)},0.0000001,-123456789.125]`), raw);
});

test('audit --json escapes the same way and keeps subjects and numbers', async () => {
  const { en } = await dictionaries();
  const m = hostileRun();
  const [raw] = outputOf(m, 'audit --json');
  const e = JSON.parse(raw);
  assert.deepEqual([e.seq, e.event, e.subjects, e.key, e.lang], [1, 'device.assign', [256, 7], 'console.internalError', 'en']);
  assert.deepEqual(e.args, [HOSTILE, -3, 0.1, 1e21]);
  assert.ok(raw.includes(',-3,0.1,1000000000000000000000]'), raw);
  assert.equal(e.msg, fill(en['console.internalError'], visible(HOSTILE), -3));
  // the table shows the detail with the control characters made visible, on one line
  const table = outputOf(m, 'audit');
  assert.equal(table.length, 3);
  assert.ok(table[1].endsWith(`${'device.assign'.padEnd(20)} ${'256'.padStart(10)} ${'7'.padStart(10)}  ${fill(en['console.internalError'], visible(HOSTILE), -3)}`), table[1]);
});
