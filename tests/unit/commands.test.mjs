// The console commands (help, version, lang, mem, clear, exit here; the platform ones in their own files); unknown commands and bad
// arguments; an exception inside a command.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { boot, after, variantModule } from '../sim/harness.mjs';
import { dictionaries } from '../sim/dictionaries.mjs';
import { ovmfQ35_512M, bigMachine } from '../sim/fixtures/memory-maps.mjs';

/** Serial output of the commands only (after the first prompt). */
const session = (m) => after(m.serialText, 'TSC ticks\r\n');

test('help lists every command with its description', async () => {
  const { en } = await dictionaries();
  const m = boot({ input: ['help\r', 'exit\r'] });
  const s = session(m);
  const rows = after(s, 'zerovisor> help\r\nCommands:\r\n').split('\r\nType "help <command>" for details on one command.\r\nzerovisor> exit')[0].split('\r\n');
  const names = ['help', 'version', 'lang', 'mem', 'clear', 'exit', 'caps', 'acpi', 'cpus', 'pci', 'time', 'log', 'audit', 'metrics', 'trace', 'wdog', 'vm', 'sleep', 'console', 'net', 'migrate'];
  assert.deepEqual(rows, names.map((n) => `  ${n.padEnd(8)} ${en[`cmd.${n}.desc`]}`), s);
  assert.equal(rows[0], '  help     List the commands, or show how to use one');
});

test('help <command> shows the usage and the description; an unknown topic gets a suggestion', () => {
  const m = boot({ input: ['help exit\r', 'HELP Lang\r', 'help memm\r', 'help xyzzy\r', 'help a b\r', 'exit\r'] });
  const s = session(m);
  assert.match(s, /zerovisor> help exit\r\nUsage: exit \[code\]\r\nLeave Zerovisor with an exit code \(0-255\)\r\nPrints ZEROVISOR-EXIT <code> on the serial console\./);
  assert.match(s, /zerovisor> HELP Lang\r\nUsage: lang \[en\|ja\|zh\]\r\n/);
  assert.match(s, /zerovisor> help memm\r\nNo help for "memm": there is no such command\. Did you mean "mem"\?\r\n/);
  assert.match(s, /zerovisor> help xyzzy\r\nNo help for "xyzzy": there is no such command\.\r\n/);
  assert.match(s, /zerovisor> help a b\r\nhelp: unexpected argument "b"\. Usage: help \[command\]\r\n/);
});

test('version shows name, version and the toolchain', () => {
  const m = boot({ input: ['version\r', 'version now\r', 'exit\r'] });
  assert.match(session(m), /zerovisor> version\r\nZerovisor version 0\.1\.0\r\nBuilt with porffor 0\.61\.13, wasm2c 1\.0\.32, zig 0\.11\.0\r\n/);
  assert.match(session(m), /zerovisor> version now\r\nversion: unexpected argument "now"\. Usage: version\r\n/);
});

test('unknown commands name the closest command', () => {
  const m = boot({ input: ['hepl\r', 'verison\r', 'mme\r', 'ver\r', 'exti 3\r', 'xyzzy\r', 'ｈｅｌｐ\r', 'exit\r'] });
  const s = session(m);
  assert.match(s, /Unknown command "hepl"\. Did you mean "help"\?/);
  assert.match(s, /Unknown command "verison"\. Did you mean "version"\?/);
  assert.match(s, /Unknown command "mme"\. Did you mean "mem"\?/);
  assert.match(s, /Unknown command "ver"\. Did you mean "version"\?/);
  assert.match(s, /Unknown command "exti"\. Did you mean "exit"\?/);
  assert.match(s, /Unknown command "xyzzy"\. Type "help" to list the commands\./);
  assert.match(s, /Unknown command "ｈｅｌｐ"\. Type "help" to list the commands\./);
  assert.equal(m.exitCode, 0, 'only the last line exited');
});

test('lang shows the language, switches it, and refuses unknown ones', () => {
  const m = boot({ input: ['lang\r', 'lang xx\r', 'lang ja\r', 'lang\r', 'lang en fr\r', 'lang EN\r', 'exit\r'] });
  const s = session(m);
  assert.match(s, /zerovisor> lang\r\nLanguage: English \(en\)\. Available: en \(English\), ja \(日本語\), zh \(中文\)\.\r\n/);
  assert.match(s, /zerovisor> lang xx\r\nUnknown language "xx"\. Available: en, ja, zh\.\r\n/);
  assert.match(s, /zerovisor> lang ja\r\n言語を日本語に設定しました。\r\nゼロバイザー> lang\r\n現在の言語: 日本語 \(ja\)。/);
  assert.match(s, /ゼロバイザー> lang en fr\r\nlang: 予期しない引数「fr」があります。使い方: lang \[en\|ja\|zh\]\r\n/);
  assert.match(s, /ゼロバイザー> lang EN\r\nLanguage set to English\.\r\nzerovisor> exit/);
});

/** Expected mem figures, computed here from the fixture. */
const summarize = (map) => {
  const byType = new Map();
  let total = 0n, largest = 0n, largestAt = 0n;
  for (const [type, start, pages] of map) {
    const row = type < 16 ? type : 'other';
    byType.set(row, (byType.get(row) ?? 0n) + BigInt(pages));
    if (type !== 0 && type !== 11 && type !== 12) total += BigInt(pages);
    if (type === 7 && BigInt(pages) > largest) { largest = BigInt(pages); largestAt = BigInt(start); }
  }
  return { byType, total, largest, largestAt };
};
const mib = (pages) => (Number(pages) / 256).toFixed(1);
const NAMES = ['EfiReservedMemoryType', 'EfiLoaderCode', 'EfiLoaderData', 'EfiBootServicesCode', 'EfiBootServicesData',
  'EfiRuntimeServicesCode', 'EfiRuntimeServicesData', 'EfiConventionalMemory', 'EfiUnusableMemory', 'EfiACPIReclaimMemory',
  'EfiACPIMemoryNVS', 'EfiMemoryMappedIO', 'EfiMemoryMappedIOPortSpace', 'EfiPalCode', 'EfiPersistentMemory', 'EfiUnacceptedMemoryType'];

const memRows = (text) => {
  const rows = new Map();
  for (const line of text.split('\r\n')) {
    const m = /^  (\S.*?)\s+(\d+)\s+(\d+\.\d)  (.*)$/.exec(line);
    if (m) rows.set(m[1], { pages: BigInt(m[2]), mib: m[3], description: m[4] });
  }
  return rows;
};

test('mem summarizes the OVMF q35 512 MiB map by type, with total and largest free region', () => {
  const m = boot({ input: ['mem\r', 'exit\r'] });
  const s = session(m);
  const want = summarize(ovmfQ35_512M);
  assert.match(s, new RegExp(`UEFI memory map: ${ovmfQ35_512M.length} descriptors\\r\\n  Type {28}Pages {8}MiB  Description\\r\\n`));
  const rows = memRows(s);
  assert.equal(rows.size, want.byType.size);
  for (const [type, pages] of want.byType) {
    const row = rows.get(NAMES[type]);
    assert.ok(row, `no row for ${NAMES[type]}`);
    assert.equal(row.pages, pages, NAMES[type]);
    assert.equal(row.mib, mib(pages), NAMES[type]);
  }
  assert.equal(rows.get('EfiConventionalMemory').description, 'free memory');
  assert.equal(rows.get('EfiMemoryMappedIO').description, 'memory-mapped I/O');
  const total = new RegExp(`  Total \\(no reserved, MMIO\\)\\s+${want.total}\\s+${mib(want.total)}\\r\\n`);
  assert.match(s, total);
  assert.equal(mib(want.total), '511.1');
  assert.match(s, new RegExp(`Largest free region: ${mib(want.largest)} MiB \\(${want.largest} pages\\) at 0x${want.largestAt.toString(16).padStart(16, '0')}\\r\\n`));
});

test('mem handles 64-bit page counts and addresses, and groups OEM/OS types as "other"', () => {
  const m = boot({ input: ['mem\r', 'exit\r'], memoryMap: bigMachine });
  const s = session(m);
  const want = summarize(bigMachine);
  const rows = memRows(s);
  assert.equal(rows.get('EfiPersistentMemory').pages, 0x100000000n);
  assert.equal(rows.get('EfiPersistentMemory').mib, mib(0x100000000n));
  assert.equal(rows.get('(other types)').pages, 0x30n);
  assert.equal(rows.get('(other types)').description, 'OEM or operating-system defined types');
  assert.equal(rows.get('EfiConventionalMemory').pages, want.byType.get(7));
  assert.match(s, new RegExp(`Total \\(no reserved, MMIO\\)\\s+${want.total}\\s+${mib(want.total)}`));
  assert.match(s, /Largest free region: 6144\.0 MiB \(1572864 pages\) at 0x0000000100000000\r\n/);
});

test('mem reports a map it cannot hold and an empty map as errors', () => {
  const many = Array.from({ length: 600 }, (_, i) => [7, BigInt(i) * 0x1000n, 1n]);
  const m = boot({ input: ['mem\r', 'exit\r'], memoryMap: many });
  assert.match(session(m), /The memory map has 600 descriptors; at most 512 can be read\.\r\n/);
  const e = boot({ input: ['mem\r', 'exit\r'], memoryMap: [] });
  assert.match(session(e), /zerovisor> mem\r\nThe firmware returned no memory map\.\r\n/);
});

test('an exception inside a command is reported, translated, and the console goes on', () => {
  // firmware claiming more records than the buffer holds: `mem` throws
  const m = boot({ input: ['mem\r', 'lang ja\r', 'mem\r', 'exit 3\r'], memoryMapResult: () => 100000 });
  const s = session(m);
  assert.match(s, /zerovisor> mem\r\nInternal error in command mem: the firmware returned an inconsistent memory map\r\n/);
  assert.match(s, /ゼロバイザー> mem\r\nコマンド mem で内部エラーが発生しました: ファームウェアが矛盾したメモリマップを返しました\r\n/);
  assert.ok(m.logLines.includes('[console] Internal error in command mem: the firmware returned an inconsistent memory map'));
  assert.equal(m.exitCode, 3);
  assert.deepEqual(m.fatals, []);
});

test('clear clears ConOut and the serial terminal', () => {
  const m = boot({ input: ['help\r', 'clear\r', 'version\r', 'clear now\r', 'exit\r'] });
  assert.equal(m.conClears, 1);
  assert.match(m.serialText, /zerovisor> clear\r\n\x1b\[2J\x1b\[Hzerovisor> version/);
  assert.equal(m.conTerm.lines()[0], 'zerovisor> version', 'ConOut starts over after clear');
  assert.equal(m.serialTerm.lines()[0], 'zerovisor> version', 'the serial terminal starts over after clear');
  assert.match(m.serialText, /clear: unexpected argument "now"\. Usage: clear/);
});

test('exit prints ZEROVISOR-EXIT <code>, writes the code to port 0xF4, and returns to the firmware', () => {
  for (const [typed, code] of [['exit', 0], ['exit 255', 255], ['exit 007', 7], ['EXIT 1', 1]]) {
    const m = boot({ input: [`${typed}\r`, 'version\r'] });
    assert.match(m.serialText, new RegExp(`Leaving Zerovisor with exit code ${code}\\.\\r\\nZEROVISOR-EXIT ${code}\\r\\n$`));
    assert.deepEqual(m.debugExit, [code], typed);
    assert.deepEqual(m.exitCalls, [code], typed);
    assert.equal(m.unreadInput, 'version\r'.length, 'nothing is read after exit');
  }
});

test('exit refuses codes that are not 0..255', () => {
  const m = boot({ input: ['exit abc\r', 'exit 300\r', 'exit -1\r', 'exit 256\r', 'exit 1.5\r', 'exit 1 2\r', 'exit 9\r'] });
  const s = session(m);
  for (const bad of ['abc', '300', '-1', '256', '1.5']) {
    assert.match(s, new RegExp(`exit: "${bad.replace('.', '\\.')}" is not an exit code; use a number from 0 to 255\\.\\r\\n`));
  }
  assert.match(s, /exit: unexpected argument "2"\. Usage: exit \[code\]/);
  assert.deepEqual(m.debugExit, [9]);
  assert.deepEqual(m.exitCalls, [9]);
});

test('a runtime error inside a command (here: a null dereference) is reported with its message', () => {
  const module = variantModule('version-dereferences-null', [{
    file: 'kernel/console/commands.ts',
    from: "say('version.line', PRODUCT_NAME, PRODUCT_VERSION);",
    to: "const broken: any = null;\n  say('version.line', broken.name, PRODUCT_VERSION);",
  }]);
  const m = boot({ module, input: ['version\r', 'lang zh\r', 'version\r', 'exit 3\r'] });
  const s = session(m);
  assert.match(s, /zerovisor> version\r\nInternal error in command version: Cannot get property of null\r\nzerovisor> lang zh/);
  assert.match(s, /zerovisor 控制台> version\r\n命令 version 发生内部错误：Cannot get property of null\r\n/);
  assert.equal(m.exitCode, 3);
  assert.deepEqual(m.fatals, []);
});
