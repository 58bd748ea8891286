// `vm wait <vm> --output <text>` (kernel/console/cmd-vm.ts, guest-output.ts): a script waits
// for what a guest prints instead of for a time, so that it does not depend on how fast the
// machine runs the guest. What the user checks: the wait returns as soon as a line holding
// the text came (UTF-8 included), not when the VM stops; text printed before the wait began
// does not count; it fails after --timeout, or when the VM stops without printing the text;
// bad requests are errors, in the console's language.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { boot, ROOT } from '../sim/harness.mjs';
import { machineOptions } from '../sim/fixtures/machines.mjs';
import { SvmGuests, com1 } from '../sim/svm-guest.mjs';

execFileSync('make', ['-s', 'guests'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
const HELLO = readFileSync(join(ROOT, 'build', 'guests', 'hello.elf'));
const PROMPT = /(?:zerovisor> |ゼロバイザー> |zerovisor 控制台> )/;

// the guest: a line, 2 s of work, the line waited for, 6 s more, a last line, then it stops
const WORK = { cpuid: [0, 0], micros: 2000000 };
const GUEST = [
  ...com1('booting\n'), WORK,
  ...com1('ready: señal 1\n'), WORK, WORK, WORK,
  ...com1('done\n'), { out: [0xf4, 0, 1] },
];

const run = (input) => {
  const model = new SvmGuests(() => GUEST);
  const m = boot({ ...machineOptions('qemu-q35-intel-iommu-smp4'), files: { '\\hello.elf': HELLO }, input: [...input, 'exit\r'], svmGuest: model.handler });
  /** What the n-th run of `command` printed. */
  const out = (command, n = 0) => {
    const runs = m.serialText.split(PROMPT).slice(1).map((chunk) => chunk.split('\r\n')).filter((lines) => lines[0] === command);
    assert.ok(runs.length > n, `"${command}" ran ${runs.length} times:\n${m.serialText}`);
    return runs[n].slice(1, -1).join('\n');
  };
  return { m, model, out };
};

test('vm wait --output returns when the guest prints a line holding the text, not when it stops; earlier lines do not count', () => {
  const { model, out } = run(['vm create a --mem 4 --image \\hello.elf\r', 'vm wait a --output ready\r', 'vm start a\r',
    'vm wait a --output "señal 1"\r', 'vm list\r', 'vm wait a --output ready --timeout 1\r', 'vm wait a --output nope --timeout 60\r', 'vm list\r']);
  assert.deepEqual(model.problems, []);
  assert.equal(out('vm wait a --output ready'), 'vm wait: VM 1 "a" has not been started.');
  const seen = out('vm wait a --output "señal 1"');
  // (the console shows a guest's bytes one character each: the ñ's two UTF-8 bytes as two)
  assert.match(seen, /^\[a\] ready: se.+al 1$/m, 'the line came during the wait');
  assert.match(seen, /^VM 1 "a" printed "señal 1"\.$/m);
  assert.doesNotMatch(seen, /\[a\] done/, 'it returned before the guest went on');
  assert.match(out('vm list'), /^ +1 +a +running +4 +-$/m, 'the guest still runs');
  // "ready" was printed before this wait began: only new lines count, and none holds it
  assert.equal(out('vm wait a --output ready --timeout 1'), 'vm wait: VM 1 "a" printed no line holding "ready" in 1 s.');
  const stopped = out('vm wait a --output nope --timeout 60');
  assert.match(stopped, /^\[a\] done$/m);
  assert.match(stopped, /^vm wait: VM 1 "a" stopped without printing "nope"\.$/m);
  assert.match(out('vm list', 1), /^ +1 +a +stopped +4 +0$/m);
});

test('vm wait --output: bad requests are errors, in the console\'s language', () => {
  const long = 'x'.repeat(201);
  const { out } = run(['vm create a --mem 4 --image \\hello.elf\r', 'vm start a\r', 'vm wait a --output\r', 'vm wait a --output ""\r',
    `vm wait a --output ${long}\r`, 'vm wait a --output ready --timeout 0\r', 'vm wait a --output ready --bogus\r', 'lang ja\r', 'vm wait a --output ""\r',
    'lang zh\r', 'vm wait a --output ""\r']);
  assert.match(out('vm wait a --output'), /^vm: unexpected argument "--output"\. Usage: .*vm wait <id\|name> \[--timeout <s>\] \[--output <text>\]/);
  assert.equal(out('vm wait a --output ""'), 'vm wait --output: "" cannot be looked for (1 to 200 bytes of text, within one line).');
  assert.equal(out(`vm wait a --output ${long}`), `vm wait --output: "${long}" cannot be looked for (1 to 200 bytes of text, within one line).`);
  assert.equal(out('vm wait a --output ready --timeout 0'), 'vm wait: "0" is not a number of seconds from 1 to 3600.');
  assert.match(out('vm wait a --output ready --bogus'), /^vm: unexpected argument "--bogus"\. Usage: /);
  assert.equal(out('vm wait a --output ""', 1), 'vm wait --output: 「」は探せません（1 行に収まる 1〜200 バイトの文字列）。');
  assert.equal(out('vm wait a --output ""', 2), 'vm wait --output：无法查找“”（一行之内 1 到 200 字节的文本）。');
});
