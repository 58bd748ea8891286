// The console must run for as long as the machine does: porffor never frees memory,
// so reading keys, editing, running commands and printing must not allocate. Typing
// 5,000 lines must leave the Wasm memory exactly as large as typing 200 does.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { boot } from '../sim/harness.mjs';
import { vt, efi } from '../sim/machine.mjs';

const MIB = 1 << 20;

// One round of typical use: every command, errors, editing keys, history, both inputs.
const ROUND = [
  ['help\r'],
  ['version\r'],
  ['mem\r'],
  ['lang ja\r'],
  ['help lang\r'],
  ['hepl\r'],
  ['lang zh\r'],
  ['exit abc\r'],
  ['vrsion', vt.home, vt.right, 'e', vt.end, vt.enter],
  ['lang en\r'],
  [vt.up, vt.up, vt.enter],
  ['help mem x\r'],
  [...efi.text('mme'), efi.home, efi.del, efi.end, ...efi.text('m'), efi.enter],
  ['日本語のコマンド\r'],
  ['x'.repeat(300), '\r'],
  ['clear\r'],
];

const typing = (lines) => {
  const input = [];
  for (let i = 0; i < lines; i++) input.push(...ROUND[i % ROUND.length]);
  input.push('exit 0\r');
  return input;
};

test('typing 5,000 lines does not grow the Wasm memory', (t) => {
  const short = boot({ input: typing(200) });
  const long = boot({ input: typing(5000) });
  assert.equal(long.exitCode, 0);
  assert.equal(long.serialText.split('ZEROVISOR-EXIT 0').length - 1, 1);
  const perThousand = (long.memoryBytes - short.memoryBytes) / 4.8;
  t.diagnostic(`memory after start ${long.memoryAfterStart / MIB} MiB; after 200 lines ${short.memoryBytes / MIB} MiB; after 5000 lines ${long.memoryBytes / MIB} MiB; growth per 1000 lines ${perThousand} bytes`);
  assert.equal(long.memoryBytes, short.memoryBytes, 'memory grew between 200 and 5,000 typed lines');
  assert.ok(long.memoryBytes - long.memoryAfterStart <= MIB, 'the console itself allocates at most one more MiB after start');
  // 6 MiB: with live migration's transmit log (264 KiB), loopback queues (594 KiB) and page bitmaps for 4 GiB VMs
  assert.ok(long.memoryBytes <= 6 * MIB, `the kernel uses ${long.memoryBytes / MIB} MiB`);
});
