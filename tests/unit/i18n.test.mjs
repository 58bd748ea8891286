// Dictionaries: same keys and arguments in every language, actually translated;
// Japanese and Chinese reach the serial port as correct UTF-8 and ConOut as UCS-2;
// a key missing from a dictionary falls back to English.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { boot, after, variantModule } from '../sim/harness.mjs';
import { dictionaries, fill } from '../sim/dictionaries.mjs';

// Keys whose text is the same in every language on purpose: layouts without words,
// command syntax. (Machine-read lines are not keys: kernel/lib/markers.ts.)
const SAME_EVERYWHERE = new Set([
  'log.prefix', 'help.row', 'mem.row', 'mem.total', 'mem.col.mib',
  'cmd.version.usage', 'cmd.lang.usage', 'cmd.mem.usage', 'cmd.clear.usage',
]);

const placeholders = (s) => [...s.matchAll(/\{(\d)([,:][^}]*)?\}/g)].map(m => m[0]).sort();

test('every dictionary has exactly the English keys', async () => {
  const { en, ja, zh } = await dictionaries();
  const keys = Object.keys(en).sort();
  assert.ok(keys.length > 50);
  for (const [name, dict] of [['ja', ja], ['zh', zh]]) {
    const have = Object.keys(dict).sort();
    assert.deepEqual(keys.filter(k => !have.includes(k)), [], `keys missing in ${name}.ts`);
    assert.deepEqual(have.filter(k => !keys.includes(k)), [], `keys in ${name}.ts that English does not define`);
  }
});

test('translations use the same arguments and format specs as English', async () => {
  const { en, ja, zh } = await dictionaries();
  for (const key of Object.keys(en)) {
    for (const [name, dict] of [['ja', ja], ['zh', zh]]) {
      assert.deepEqual(placeholders(dict[key]), placeholders(en[key]), `${name} ${key}`);
    }
  }
});

test('Japanese and Chinese are translations, not copies of the English text', async () => {
  const { en, ja, zh, verbatim } = await dictionaries();
  for (const key of Object.keys(en)) {
    assert.ok(en[key].length > 0, `en ${key} is empty`);
    for (const [name, dict] of [['ja', ja], ['zh', zh]]) {
      if (SAME_EVERYWHERE.has(key) || verbatim.includes(key)) assert.equal(dict[key], en[key], `${name} ${key} must stay as in English`);
      else assert.notEqual(dict[key], en[key], `${name} ${key} is not translated`);
    }
  }
});

test('machine-read lines are constants, not dictionary entries, and print the same in every language', async () => {
  const { en, ja, zh, markers } = await dictionaries();
  assert.equal(markers.EXIT_LINE, 'ZEROVISOR-EXIT {0}');
  assert.equal(markers.READY_LINE, 'first prompt after {0} TSC ticks');
  for (const dict of [en, ja, zh]) {
    for (const [key, text] of Object.entries(dict)) {
      assert.ok(!text.startsWith('ZEROVISOR-EXIT') && !text.startsWith('first prompt after'), `${key} is a machine string in a dictionary`);
    }
  }
  for (const lang of ['ja', 'zh']) {
    const m = boot({ input: [`lang ${lang}\r`, 'exit 12\r'] });
    assert.match(m.serialText, /\r\n\[boot\] first prompt after \d+ TSC ticks\r\n/);
    assert.match(m.serialText, /\r\nZEROVISOR-EXIT 12\r\n$/);
  }
});

test('Japanese reaches the serial port as the exact UTF-8 of the dictionary text, and ConOut as UCS-2', async () => {
  const { ja } = await dictionaries();
  const m = boot({ input: ['lang ja\r', 'version\r', 'nosuch\r', 'exit\r'] });
  const serial = m.serialBytes;
  for (const text of [
    ja['lang.changed'],
    ja['console.prompt'] + 'version',
    fill(ja['version.line'], 'Zerovisor', '0.1.0'),
    fill(ja['console.unknownCommand'], 'nosuch'),
    fill(ja['exit.bye'], 0),
  ]) {
    const bytes = Buffer.from(text + '\r\n', 'utf8');
    assert.ok(serial.includes(bytes), `serial lacks the UTF-8 bytes of ${JSON.stringify(text)} (${bytes.toString('hex')})`);
    assert.ok(m.conOutRaw.includes(text + '\r\n'), `ConOut lacks ${JSON.stringify(text)}`);
  }
});

test('Chinese reaches the serial port as the exact UTF-8 of the dictionary text', async () => {
  const { zh } = await dictionaries();
  const m = boot({ input: ['lang zh\r', 'help clear\r', 'lang xx\r', 'exit 12\r'] });
  for (const text of [
    zh['lang.changed'],
    zh['console.prompt'] + 'help clear',
    fill(zh['help.usage'], 'clear'),
    zh['cmd.clear.desc'],
    zh['cmd.clear.details'],
    fill(zh['lang.unknown'], 'xx'),
    fill(zh['exit.bye'], 12),
    'ZEROVISOR-EXIT 12',
  ]) {
    assert.ok(m.serialBytes.includes(Buffer.from(text + '\r\n', 'utf8')), `serial lacks ${JSON.stringify(text)}`);
  }
  // and nothing but valid UTF-8 was sent
  assert.doesNotThrow(() => new TextDecoder('utf-8', { fatal: true }).decode(m.serialBytes));
});

test('a key missing from a dictionary shows in English, the rest stays translated', async () => {
  const { ja, en } = await dictionaries();
  const module = variantModule('ja-without-version-desc', [
    { file: 'kernel/i18n/ja.ts', from: /^\s*'cmd\.version\.desc': .*\n/m, to: '' },
  ]);
  const m = boot({ module, input: ['lang ja\r', 'help\r', 'help version\r', 'exit\r'] });
  const s = after(m.serialText, 'lang ja\r\n');
  assert.ok(s.includes(`  version  ${en['cmd.version.desc']}\r\n`), s);
  assert.ok(s.includes(`  mem      ${ja['cmd.mem.desc']}\r\n`), s);
  assert.ok(s.includes(`${fill(ja['help.usage'], 'version')}\r\n${en['cmd.version.desc']}\r\n${ja['cmd.version.details']}\r\n`), s);
  assert.deepEqual(m.fatals, []);
});
