// porffor never frees memory: logging, auditing, tracing and metric updates must not
// allocate, nor may showing the rings. Measured exactly, by porffor's allocation pointer
// (the data address of a fresh 4-byte typed array, kernel/host/memory.ts's layout),
// before and after 100 or 10,000 rounds of each, and around 20 or 400 console lines of
// log/audit/metrics/trace output; and as the Wasm memory size, like memory-bound.test.mjs.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { boot, variantModule } from '../sim/harness.mjs';

const PROBE = 'Porffor.wasm.i32.load(new Uint8Array(4), 0, 4)';

/** A kernel that runs `rounds` rounds of every recording call at boot and prints what they allocated. */
const stressKernel = (rounds) => variantModule(`diag-stress-${rounds}`, [
  {
    file: 'kernel/console/console.ts',
    from: "import { Category, Level, log } from '../diag/log';",
    to: `import { Category, Level, log, logQuiet } from '../diag/log';
import { audit, AuditEvent } from '../diag/audit';
import { setTracing, trace, TracePoint } from '../diag/trace';
import { counterAdd, defineCounter, defineHistogram, gaugeSet, histogramObserve } from '../diag/metrics';
import { token } from './tokens';
declare function print(x: number): void;
declare function printChar(x: number): void;`,
  },
  {
    file: 'kernel/console/console.ts',
    from: "say('boot.hint');",
    to: `say('boot.hint');
  const C = defineCounter('zerovisor_test_total', 'diag.metric.commands', 'vm', 'kind');
  const H = defineHistogram('zerovisor_test_ticks', 'diag.metric.commands', 10, 10, 6, 'vcpu');
  setTracing(true);
  const before = ${PROBE};
  for (let i = 0; i < ${rounds}; i++) {
    log(Level.Debug, Category.Diag, 'console.internalError', 'stress "1" \\\\ 日本', i + 0.5);
    logQuiet(Level.Warn, Category.Diag, 'console.internalError', token(0), i);
    audit(AuditEvent.VmStart, i, i * 2, 'console.internalError', 'vm', -i);
    trace(TracePoint.VmExit, 0, i, 1, 2);
    counterAdd(C, 1, i % 4, 'exit');
    gaugeSet(C, i, 9, 'gauge');
    histogramObserve(H, i, i % 2);
  }
  print(${PROBE} - before);
  printChar(32);
  setTracing(false);`,
  },
  {
    file: 'kernel/main.ts',
    from: 'const DEBUG_EXIT_PORT',
    to: `declare function print(x: number): void;
const DEBUG_EXIT_PORT`,
  },
  {
    file: 'kernel/main.ts',
    from: '    runLoop();',
    to: `    const consoleBefore = ${PROBE};
    runLoop();
    print(${PROBE} - consoleBefore);`,
  },
]);

const ROUND = ['log\r', 'log --json\r', 'log --level warn\r', 'audit\r', 'audit --json\r', 'metrics\r', 'trace on\r', 'trace dump\r', 'trace\r', 'trace off\r',
  'lang ja\r', 'log\r', 'audit\r', 'trace clear\r', 'lang en\r', 'log --bogus\r', 'trace up\r', 'audit x\r', 'log --level loud\r', 'trace dump\r'];

const session = (lines) => {
  const input = [];
  for (let i = 0; i < lines; i++) input.push(ROUND[i % ROUND.length]);
  input.push('exit\r');
  return input;
};

/** [allocated by the boot-time rounds, allocated while the console ran]. */
const allocated = (m) => m.debugOutput.split(' ').map(Number);

test('10,000 rounds of log, audit, trace and metric updates allocate nothing', (t) => {
  const few = boot({ module: stressKernel(100), input: ['exit\r'] });
  const many = boot({ module: stressKernel(10000), input: ['exit\r'] });
  const [fewBytes] = allocated(few);
  const [manyBytes] = allocated(many);
  t.diagnostic(`bytes allocated: 100 rounds ${fewBytes}, 10,000 rounds ${manyBytes}; Wasm memory ${many.memoryBytes / 1048576} MiB`);
  assert.ok(Number.isInteger(fewBytes) && fewBytes > 0, `probe read ${few.debugOutput}`);
  assert.equal(manyBytes, fewBytes, 'the rounds allocate nothing (only the probe itself)');
  assert.equal(many.memoryBytes, few.memoryBytes);
  assert.equal(many.logLines.length - few.logLines.length, 2 * 9900, 'every entry went to the shim');
});

test('showing the rings allocates nothing: 400 lines of log/audit/metrics/trace use as much memory as 20', (t) => {
  const module = stressKernel(100);
  const short = boot({ module, input: session(20) });
  const long = boot({ module, input: session(400) });
  const [, shortBytes] = allocated(short);
  const [, longBytes] = allocated(long);
  t.diagnostic(`bytes allocated by the console: 20 lines ${shortBytes}, 400 lines ${longBytes}`);
  assert.ok(Number.isInteger(shortBytes) && shortBytes > 0, `probe read ${short.debugOutput}`);
  assert.equal(longBytes, shortBytes);
  assert.equal(long.memoryBytes, short.memoryBytes);
  assert.equal(long.exitCode, 0);
  assert.ok(long.serialText.includes('# TYPE zerovisor_test_ticks histogram'));
});

test('the plain kernel: memory after 400 console lines of diagnostics equals memory after start', () => {
  const m = boot({ input: session(400) });
  assert.equal(m.memoryBytes, m.memoryAfterStart);
});
