// Line editing as a user sees it: keys from a VT100 terminal on COM1 and from the
// firmware keyboard (ConIn), the line shown on both screens, the line that runs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { boot } from '../sim/harness.mjs';
import { efi, vt } from '../sim/machine.mjs';

const PROMPT = 'zerovisor> ';
const promptLines = (term) => term.lines().filter(l => l.startsWith(PROMPT)).map(l => l.slice(PROMPT.length));
const versionRuns = (m) => m.serialText.split('Zerovisor version 0.1.0\r\n').length - 1;

test('VT100 keys: Home, Right and insert mid-line fix a typo; the fixed line runs', () => {
  const m = boot({ input: ['vrsion', vt.home, vt.right, 'e', vt.enter, 'exit\r'] });
  assert.deepEqual(promptLines(m.serialTerm), ['version', 'exit']);
  assert.deepEqual(promptLines(m.conTerm), ['version', 'exit']);
  assert.equal(versionRuns(m), 1);
  assert.deepEqual(m.serialTerm.unknownSequences, []);
});

test('VT100 keys: Backspace and Delete in the middle of the line', () => {
  const m = boot({ input: ['helxp', vt.left, vt.backspace, vt.enter, 'mmem', vt.home, vt.del, vt.enter, 'exit\r'] });
  assert.deepEqual(promptLines(m.serialTerm), ['help', 'mem', 'exit']);
  assert.deepEqual(promptLines(m.conTerm), ['help', 'mem', 'exit']);
  assert.match(m.serialText, /Commands:/);
  assert.match(m.serialText, /UEFI memory map: 45 descriptors/);
});

test('VT100 keys: End, and the alternative Home/End sequences (ESC [1~, ESC [4~, ESC O H, ESC O F)', () => {
  const m = boot({
    input: [
      'ersio', vt.home, 'v', vt.end, 'n', vt.enter, // version
      'lp', '\x1b[1~', 'he', '\x1b[4~', vt.enter, // help
      'em', '\x1bOH', 'm', '\x1bOF', vt.enter, // mem
      'exit\r',
    ],
  });
  assert.deepEqual(promptLines(m.serialTerm), ['version', 'help', 'mem', 'exit']);
});

test('UEFI ConIn keys edit the line the same way (scan codes for arrows, Home, End, Delete)', () => {
  const m = boot({
    input: [
      ...efi.text('vrsion'), efi.home, efi.right, ...efi.text('e'), efi.end, efi.enter,
      ...efi.text('helxp'), efi.left, efi.backspace, efi.enter,
      ...efi.text('mmem'), efi.home, efi.del, efi.enter,
      ...efi.text('exit'), efi.enter,
    ],
  });
  assert.deepEqual(promptLines(m.conTerm), ['version', 'help', 'mem', 'exit']);
  assert.deepEqual(promptLines(m.serialTerm), ['version', 'help', 'mem', 'exit']);
  assert.equal(versionRuns(m), 1);
});

test('wide (CJK) characters are edited as one character and shown in two columns', () => {
  const m = boot({ input: ['abc日本語', vt.left, vt.left, 'x', vt.left, vt.left, vt.backspace, vt.enter, 'exit\r'] });
  // abc日本語 -> abc日x本語 -> (cursor before x, then before 日) -> Backspace removes c
  assert.deepEqual(promptLines(m.serialTerm), ['ab日x本語', 'exit']);
  assert.deepEqual(promptLines(m.conTerm), ['ab日x本語', 'exit']);
  assert.match(m.serialText, /Unknown command "ab日x本語"/);
});

test('history: Up recalls older lines, Down newer ones and finally the unfinished line', () => {
  const m = boot({
    input: [
      'version\r', 'help\r',
      'me', vt.up, vt.up, vt.down, vt.down, 'm', vt.enter, // back to the draft "me" + "m"
      vt.up, vt.up, vt.up, vt.enter, // mem, help, version -> version
      'exit\r',
    ],
  });
  assert.deepEqual(promptLines(m.serialTerm), ['version', 'help', 'mem', 'version', 'exit']);
  assert.deepEqual(promptLines(m.conTerm), ['version', 'help', 'mem', 'version', 'exit']);
  assert.equal(versionRuns(m), 2);
});

test('history: a recalled line can be edited before it runs, and Up stops at the oldest line', () => {
  const m = boot({ input: ['lang ja\r', 'lang en\r', vt.up, vt.up, vt.up, vt.up, vt.backspace, vt.backspace, 'zh\r', 'exit\r'] });
  const screen = m.serialTerm.lines();
  for (const line of ['zerovisor> lang ja', 'ゼロバイザー> lang en', 'zerovisor> lang zh', 'zerovisor 控制台> exit']) {
    assert.ok(screen.includes(line), `"${line}" not on the screen:\n${screen.join('\n')}`);
  }
  assert.match(m.serialText, /语言已设置为中文。/);
});

test('CR LF from a terminal is one Enter', () => {
  const m = boot({ input: ['version\r\n', 'exit\r\n'] });
  assert.deepEqual(promptLines(m.serialTerm), ['version', 'exit']);
  assert.equal(versionRuns(m), 1);
});

test('a partial escape sequence is given up after a pause, and typing goes on', () => {
  const m = boot({ input: ['\x1b[', { idle: 100 }, 'version\r', 'exit\r'] });
  assert.deepEqual(promptLines(m.serialTerm), ['version', 'exit']);
  assert.equal(versionRuns(m), 1);
});

test('a lone ESC (and UEFI Escape) clears the line', () => {
  const m = boot({ input: ['junk', '\x1b', { idle: 100 }, 'version\r', ...efi.text('more junk'), efi.esc, 'exit 6\r'] });
  assert.deepEqual(promptLines(m.serialTerm), ['version', 'exit 6']);
  assert.deepEqual(promptLines(m.conTerm), ['version', 'exit 6']);
  assert.equal(m.exitCode, 6);
});

test('Ctrl-C drops the line; Ctrl-U clears it; Ctrl-K cuts it at the cursor; Ctrl-A/E move', () => {
  const m = boot({
    input: [
      'exit 9', '\x03', // dropped
      'exit 8', '\x15', 'version\r', // cleared, then version
      'help me', vt.left, vt.left, vt.left, '\x0b', '\r', // "help"
      'elp', '\x01', 'h', '\x05', '\r', // "help"
      'exit 2\r',
    ],
  });
  assert.equal(m.exitCode, 2);
  assert.equal(versionRuns(m), 1);
  assert.equal(m.serialText.split('Commands:').length - 1, 2);
  assert.deepEqual(promptLines(m.serialTerm).slice(1), ['version', 'help', 'help', 'exit 2']);
});

test('keys that do nothing at the ends of the line leave it intact', () => {
  const m = boot({ input: [vt.backspace, vt.left, vt.del, 'help', vt.right, vt.del, vt.down, vt.enter, 'exit\r'] });
  assert.deepEqual(promptLines(m.serialTerm), ['help', 'exit']);
});

test('a line longer than 256 characters rings the bell once and is refused with an error', () => {
  const m = boot({ input: ['exit 1' + '1'.repeat(300), '\r', 'exit 5\r'] });
  assert.equal(m.serialBytes.filter(b => b === 0x07).length, 1, 'one bell');
  assert.match(m.serialText, /The line is longer than 256 characters and was ignored\.\r\n/);
  assert.equal(m.exitCode, 5);
  assert.deepEqual(m.debugExit, [5]);
});

test('control characters are not inserted into the line', () => {
  const m = boot({ input: ['ver\x00\x07\x1f\tsion\r', 'exit\r'] });
  assert.equal(versionRuns(m), 1);
});

test('recalling a line over a wider one (same length, wide characters) leaves no leftovers', () => {
  const m = boot({ input: ['日本語テスト文\r', 'abcdefg\r', vt.up, vt.up, vt.down, vt.enter, 'exit\r'] });
  const shown = promptLines(m.serialTerm);
  assert.deepEqual(shown, ['日本語テスト文', 'abcdefg', 'abcdefg', 'exit']);
  assert.deepEqual(promptLines(m.conTerm), ['日本語テスト文', 'abcdefg', 'abcdefg', 'exit']);
});
