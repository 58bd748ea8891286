// Boot: banner, the serial port taken from the firmware before use, the UART set up,
// the boot-time log line, log lines handed to the shim, a machine without COM1.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { machineOptions } from '../sim/fixtures/machines.mjs';
import { boot, serialLines, variantModule } from '../sim/harness.mjs';
import { efi } from '../sim/machine.mjs';

test('the banner and the hint come first, on the serial port and on ConOut', () => {
  const m = boot({ input: ['exit\r'] });
  const lines = serialLines(m);
  assert.equal(lines[0], 'Zerovisor 0.1.0 - bare-metal x86-64 hypervisor');
  assert.equal(lines[1], 'Type "help" for a list of commands.');
  assert.equal(m.conTerm.lines()[0], 'Zerovisor 0.1.0 - bare-metal x86-64 hypervisor');
});

test('the firmware terminal is detached from the serial port before the first byte is sent', () => {
  const m = boot({ input: ['exit\r'] });
  assert.equal(m.detachCalls, 1);
  assert.equal(m.serialBytesAtDetach, 0);
  assert.ok(m.serialOut.length > 0);
});

test('COM1 is programmed for 115200 8N1 with FIFOs and no interrupts (16550 registers)', () => {
  const m = boot({ input: ['exit\r'] });
  assert.equal(m.uart.lcr, 0x03, 'LCR: 8 data bits, no parity, 1 stop bit, DLAB off');
  assert.equal(m.uart.dll, 1, 'divisor latch low: 115200 baud');
  assert.equal(m.uart.dlm, 0, 'divisor latch high');
  assert.equal(m.uart.fcr, 0xc7, 'FCR: FIFOs on and cleared, 14-byte trigger');
  assert.equal(m.uart.ier, 0, 'IER: polled');
  assert.equal(m.uart.mcr & 0x03, 0x03, 'MCR: DTR and RTS');
});

test('the first prompt logs the TSC ticks since efi_main, exactly, across a 2^32 carry', () => {
  const bootTsc = 0x3ffffff00n; // lo is 256 below 2^32
  const m = boot({ input: ['exit\r'], bootTsc, ...machineOptions('qemu-q35-intel-iommu-smp4') });
  const lines = serialLines(m);
  const ticks = BigInt(lines[2].match(/first prompt after (\d+) TSC ticks/)?.[1] ?? -1);
  // the logged number is one of the TSC reads minus the boot TSC
  const read = m.tscReads.findLast((t) => t - bootTsc === ticks);
  assert.ok(read !== undefined, `${ticks} is not a TSC read minus ${bootTsc}: ${m.tscReads}`);
  assert.ok((read >> 32n) !== (bootTsc >> 32n), 'the read crosses into the next hi word');
  const line = `[boot] first prompt after ${ticks} TSC ticks`;
  assert.equal(lines[2], line);
  assert.match(lines[3], /^zerovisor> /, 'the prompt follows the log line');
  assert.ok(m.logLines.includes(line), 'the line is handed to the shim (hv_log_line)');
  assert.match(m.serialText, /first prompt after \d+ TSC ticks/);
});

test('without a UART the console runs on ConIn/ConOut alone and still exits', () => {
  const m = boot({ uart: false, input: [...efi.text('version'), efi.enter, ...efi.text('exit 4'), efi.enter] });
  assert.equal(m.serialOut.length, 0);
  const screen = m.conTerm.lines();
  assert.ok(screen.includes('[boot] no serial port at COM1; using the firmware console only'), screen.join('\n'));
  assert.ok(screen.includes('zerovisor> version'));
  assert.ok(screen.includes('Zerovisor version 0.1.0'));
  assert.equal(m.exitCode, 4);
  assert.deepEqual(m.debugExit, [4]);
});

test('the kernel writes nothing through porffor\'s print imports', () => {
  const m = boot({ input: ['help\r', 'mem\r', 'exit\r'] });
  assert.equal(m.debugOutput, '');
  assert.deepEqual(m.otherPortWrites, [], 'no port writes besides COM1 and 0xF4');
});

test('an exception outside any command is fatal: shown, handed to hv_fatal, and main returns', () => {
  const module = variantModule('console-dereferences-null', [{
    file: 'kernel/console/console.ts',
    from: "say('boot.hint');",
    to: "say('boot.hint');\n  const broken: any = null;\n  broken.x = 1;",
  }]);
  const m = boot({ module, input: [] });
  const reason = '[kernel] unexpected exception in the console: Cannot set property of null';
  assert.deepEqual(m.fatals, [reason]);
  assert.ok(m.serialText.endsWith(`${reason}\r\n`), m.serialText);
  assert.ok(m.logLines.includes(reason));
  assert.equal(m.exitCode, undefined);
});

// A terminal that stops reading (QEMU's chardev backing up behind a busy reader) holds THRE
// clear. At 20,000 TSC ticks per host call one second is 150,000 LSR polls. The stall starts
// as "version" answers: after the echo of the line typed at the first prompt.
const stallAtVersion = () => {
  const text = boot({ input: ['version\r', 'exit\r'], hostCallTicks: 20000 }).serialText;
  return Buffer.byteLength(text.slice(0, text.indexOf('zerovisor> version\r\n') + 'zerovisor> version\r\n'.length));
};

test('a terminal that stops reading for a second loses no output: Zerovisor waits for THRE', () => {
  const m = boot({ input: ['version\r', 'exit 3\r'], hostCallTicks: 20000, uartStall: { afterBytes: stallAtVersion(), seconds: 1 } });
  assert.ok(m.uartStallEnd > 0, 'the stall happened');
  assert.equal(m.debugExit.at(-1), 3);
  assert.match(m.serialText, /zerovisor> version\r\nZerovisor version 0\.1\.0\r\n/);
  assert.match(m.serialText, /ZEROVISOR-EXIT 3\r\n/);
});

test('a terminal that stops reading for longer: output waits 2 s, is dropped meanwhile, and comes back when it reads', () => {
  const m = boot({
    input: ['version\r', 'sleep 8000\r', 'time\r', 'exit 4\r'], hostCallTicks: 20000, uartStall: { afterBytes: stallAtVersion(), seconds: 5 },
  });
  assert.equal(m.debugExit.at(-1), 4, 'the console ran on, every command');
  assert.ok(!m.serialText.includes('Zerovisor version 0.1.0'), 'said while nobody read: dropped');
  assert.match(m.serialText, /Uptime: /, 'said after the terminal read again');
  assert.match(m.serialText, /ZEROVISOR-EXIT 4\r\n/);
  assert.match(m.conTerm.lines().join('\n'), /Zerovisor version 0\.1\.0/, 'the firmware console had it all along');
});
