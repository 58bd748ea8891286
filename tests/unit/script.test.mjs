// startup.zv: run line by line at start as if typed, errors with line numbers,
// then the interactive prompt (unless the script exits).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { machineOptions } from '../sim/fixtures/machines.mjs';
import { boot, after } from '../sim/harness.mjs';

const session = (m) => after(m.serialText, 'TSC ticks\r\n');

test('script lines run as if typed, echoed after the prompt; comments and blank lines are skipped', () => {
  const script = '# set up\n\nversion\n   \n  # indented comment\nlang\n';
  const m = boot({ script, input: ['exit 4\r'] });
  assert.deepEqual(m.fileReads, ['\\startup.zv']);
  const s = m.serialText;
  assert.match(s, /\[script\] Running startup\.zv \(\d+ bytes\)\r\n\[boot\] first prompt after \d+ TSC ticks\r\nzerovisor> version\r\nZerovisor version 0\.1\.0\r\n/);
  assert.match(s, /zerovisor> lang\r\nLanguage: English \(en\)\./);
  assert.match(s, /\[script\] startup\.zv finished: 2 commands run, 0 failed\.\r\nzerovisor> exit 4\r\n/);
  assert.doesNotMatch(s, /zerovisor> #/);
  assert.equal(m.exitCode, 4);
});

test('errors in the script are reported with their line numbers, and the script goes on', () => {
  const script = 'version\n# comment\nhepl\n\nexit abc\nlang xx\nhelp a b\n';
  const m = boot({ script, input: ['nosuch\r', 'exit\r'] });
  const s = session(m);
  assert.match(s, /zerovisor> hepl\r\nstartup\.zv line 3: Unknown command "hepl"\. Did you mean "help"\?\r\n/);
  assert.match(s, /zerovisor> exit abc\r\nstartup\.zv line 5: exit: "abc" is not an exit code; use a number from 0 to 255\.\r\n/);
  assert.match(s, /zerovisor> lang xx\r\nstartup\.zv line 6: Unknown language "xx"\./);
  assert.match(s, /zerovisor> help a b\r\nstartup\.zv line 7: help: unexpected argument "b"\./);
  assert.match(s, /startup\.zv finished: 5 commands run, 4 failed\./);
  // typed lines get no script position
  assert.match(s, /zerovisor> nosuch\r\nUnknown command "nosuch"\./);
  assert.equal(m.exitCode, 0);
});

test('a script ending in exit ends the run without waiting for input', () => {
  const m = boot({ script: 'version\nexit 9\nversion\n' });
  assert.equal(m.exitCode, 9);
  assert.deepEqual(m.debugExit, [9]);
  assert.equal(m.serialText.split('Zerovisor version 0.1.0').length - 1, 1, 'nothing after exit runs');
  assert.match(m.serialText, /ZEROVISOR-EXIT 9\r\n$/);
  assert.doesNotMatch(m.serialText, /finished/);
});

test('CRLF line ends, a UTF-8 BOM and a last line without newline are handled', () => {
  const m = boot({ script: '\ufeffversion\r\nlang ja\r\nexit 2' });
  assert.match(m.serialText, /zerovisor> version\r\nZerovisor version 0\.1\.0\r\nBuilt with [^\r]*\r\nzerovisor> lang ja\r\n言語を日本語に設定しました。\r\nゼロバイザー> exit 2\r\n/);
  assert.equal(m.exitCode, 2);
});

test('after `lang ja` in the script, errors come in Japanese with the line number', () => {
  const m = boot({ script: 'lang ja\nverison\n', input: ['exit\r'] });
  assert.match(m.serialText, /ゼロバイザー> verison\r\nstartup\.zv の 2 行目: 不明なコマンド「verison」です。「version」のことですか？\r\n/);
  assert.match(m.serialText, /\[script\] startup\.zv の実行が終わりました: 実行したコマンド 2 件、失敗 1 件。\r\nゼロバイザー> exit/);
});

test('over-long lines, invalid UTF-8 and control characters in the script are reported, not passed on', () => {
  const script = Buffer.concat([
    Buffer.from('version\n'),
    Buffer.from('exit ' + '1'.repeat(400) + '\n'),
    Buffer.from([0x68, 0xff, 0x65, 0x6c, 0x70, 0x0a]), // h <invalid> e l p
    Buffer.from('he\x1b[2Jlp\n'),
    Buffer.from('exit 3\n'),
  ]);
  const m = boot({ script });
  const s = session(m);
  assert.ok(s.includes(`zerovisor> exit ${'1'.repeat(251)}\r\nstartup.zv line 2: The line is longer than 256 characters and was ignored.\r\n`), 'the first 256 characters are echoed, then the error');
  assert.match(s, /zerovisor> h\uFFFDelp\r\nstartup\.zv line 3: Unknown command "h\uFFFDelp"\./);
  assert.match(s, /zerovisor> he\uFFFD\[2Jlp\r\nstartup\.zv line 4: Unknown command "he\uFFFD\[2Jlp"\./);
  assert.ok(!m.serialText.includes('\x1b[2J'), 'the ESC from the file never reaches the terminal');
  assert.equal(m.exitCode, 3);
});

test('a script too large or unreadable is reported and the prompt follows', () => {
  const big = boot({ script: 'version\n'.repeat(9000), input: ['exit 1\r'] });
  assert.match(big.serialText, /startup\.zv is larger than 65536 bytes and was not run\.\r\n/);
  assert.doesNotMatch(big.serialText, /Zerovisor version/);
  assert.equal(big.exitCode, 1);
  const broken = boot({ fileErrors: { '\\startup.zv': -3 }, input: ['exit 1\r'] });
  assert.match(broken.serialText, /startup\.zv could not be read \(error -3\)\.\r\n/);
  assert.equal(broken.exitCode, 1);
});

test('without startup.zv the prompt comes right after the banner', () => {
  const m = boot({ input: ['exit\r'], ...machineOptions('qemu-q35-intel-iommu-smp4') });
  assert.deepEqual(m.fileReads, ['\\startup.zv']);
  assert.doesNotMatch(m.serialText, /\[script\]/);
  assert.match(m.serialText, /^Zerovisor 0\.1\.0 - bare-metal x86-64 hypervisor\r\nType "help" for a list of commands\.\r\n\[boot\] first prompt after \d+ TSC ticks\r\nzerovisor> exit\r\n/);
});
