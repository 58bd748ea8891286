// Nothing typed can crash Zerovisor: a few thousand random and hostile lines on COM1
// and the firmware keyboard (over-long lines, control characters, escape sequences,
// invalid UTF-8, random UEFI keys), then `exit 7`.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { boot } from '../sim/harness.mjs';

/** mulberry32: a small seeded PRNG, so a failure can be reproduced. */
const prng = (seed) => () => {
  seed = (seed + 0x6d2b79f5) | 0;
  let t = Math.imul(seed ^ (seed >>> 15), 1 | seed);
  t = (t + Math.imul(t ^ (t >>> 7), 61 | t)) ^ t;
  return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
};

const SEED = 0x5eed2026;
const LINES = 3000;

const hostileInput = (seed, lines) => {
  const rnd = prng(seed);
  const int = (n) => Math.floor(rnd() * n);
  const pick = (a) => a[int(a.length)];
  const bytes = (n) => Buffer.from(Array.from({ length: n }, () => int(256)));
  const escapes = ['\x1b[A', '\x1b[B', '\x1b[C', '\x1b[D', '\x1b[H', '\x1b[F', '\x1b[3~', '\x1b[1~', '\x1b[4~', '\x1bOH',
    '\x1b[999999999999C', '\x1b[1;5D', '\x1b[?25l', '\x1b[200~', '\x1b[<0;1;1M', '\x1b]0;title\x07', '\x1bP', '\x1b\x1b',
    '\x1b[', '\x1b[12', '\x1b[' + '9'.repeat(40) + 'Z', '\x1bO', '\x1bOz', '\x1b[2J', '\x1bc', '\x1b[3;', '\x9b31m'];
  const invalidUtf8 = [[0x80], [0xbf, 0x80], [0xc0, 0x80], [0xc1, 0xbf], [0xe0, 0x80, 0x80], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80],
    [0xf5, 0x80], [0xff], [0xfe], [0xe3, 0x81], [0xf0, 0x9f, 0x98], [0xc3]].map(b => Buffer.from(b));
  const words = ['help', 'version', 'lang', 'mem', 'clear', 'hepl', 'verison', 'lnag', 'mme', 'HELP', '日本語', '中文', '\u202e', 'e\u0301', '😀', '\ufeff'];
  const commandsWithBadArgs = ['help help help', 'help ' + '\u3000'.repeat(3) + 'x', 'lang ' + 'x'.repeat(300), 'lang ja en', 'mem 1', 'version -v', 'clear all', 'help ' + 'a'.repeat(40)];
  const efiKey = () => ({ key: int(0x21) * 65536 + (rnd() < 0.3 ? int(0x20) : int(0x10000)) });
  const input = [];
  for (let i = 0; i < lines; i++) {
    switch (int(10)) {
      case 0: input.push(bytes(int(80))); break; // random bytes
      case 1: for (let k = int(20); k > 0; k--) input.push(pick(escapes), pick(words)); break;
      case 2: for (let k = int(12); k > 0; k--) input.push(pick(invalidUtf8), pick(words)); break;
      case 3: for (let k = int(30); k > 0; k--) input.push(efiKey()); break;
      case 4: input.push(pick(commandsWithBadArgs)); break;
      case 5: for (let k = int(10); k > 0; k--) input.push(pick(words), pick(['\x1b[D', '\x1b[C', '\x7f', '\x1b[3~', '\x1b[A', '\x1b[B', '\x01', '\x05', '\x0b', ' '])); break;
      case 6: input.push(Buffer.from(Array.from({ length: int(40) }, () => int(32)))); break; // C0 controls
      case 7: input.push(pick(words), { idle: int(60) }, pick(escapes).slice(0, 1 + int(3)), { idle: int(60) }); break; // partial sequences
      case 8: if (i % 500 === 8) input.push('x'.repeat(10 * 1024)); else input.push(pick(words) + ' ' + bytes(int(8)).toString('latin1')); break;
      default: input.push(pick(words), ' ', pick(words));
    }
    input.push(rnd() < 0.2 ? { key: 0x0d } : '\r');
  }
  // whatever state the line is in: wait out partial sequences, clear the line, exit
  input.push({ idle: 100 }, '\x15', 'exit 7\r');
  return input;
};

test(`${LINES} hostile lines on COM1 and ConIn do not crash the console; exit 7 still works`, () => {
  const input = hostileInput(SEED, LINES);
  const m = boot({ input });
  assert.deepEqual(m.fatals, []);
  assert.equal(m.exitCode, 7);
  assert.deepEqual(m.debugExit, [7]);
  assert.equal(m.unreadInput, 0);
  assert.match(m.serialText, /ZEROVISOR-EXIT 7\r\n$/);
  // the console answered every line with a new prompt
  const prompts = m.serialText.split(/(?:zerovisor|ゼロバイザー|zerovisor 控制台)> /).length - 1;
  assert.ok(prompts >= LINES, `${prompts} prompts for ${LINES} lines`);
  // what reached the terminals is valid UTF-8 and only the console's own control sequences
  assert.doesNotThrow(() => new TextDecoder('utf-8', { fatal: true }).decode(m.serialBytes));
  assert.deepEqual(m.serialTerm.unknownSequences, []);
  assert.doesNotMatch(m.conOutRaw, /[\x00-\x07\x09\x0b\x0c\x0e-\x1f\x7f-\x9f]/);
  // and memory stayed put
  const grown = m.memoryBytes - m.memoryAfterStart;
  assert.ok(grown <= 1 << 20, `Wasm memory grew by ${grown} bytes`);
});
