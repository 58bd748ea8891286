// wasm2c 1.0.32's exception handling, fixed by toolchain/fix-wasm2c.mjs, checked by
// building porffor's output into a Linux program (explicit bounds checks and call depth
// counting, as on the UEFI target, at -O2) and comparing it with V8 running the Wasm.
import { test, before, after } from 'node:test';
import assert from 'node:assert/strict';
import { compileJs, runWasm, runJsReference, wasm2c, buildNative } from './helpers.mjs';
import { fixWasm2c, fixWasm2cWithStats } from '../../toolchain/fix-wasm2c.mjs';

const source = `
const thrower = (x) => { throw x; };
const maybe = (i) => { if (i >= 0) throw i + 0.5; return i; };
const breaker = (n) => {
  let r = 0;
  for (let i = 0; i < n; i++) { try { if (i == 2) break; r += i; } catch (e) { r += 1000; } }
  return r;
};
const skipper = (n) => {
  let r = 0;
  for (let i = 0; i < n; i++) { try { if (i % 2 == 1) continue; r += i; } catch (e) { r += 1000; } }
  return r;
};
const line = (x) => { print(x); printChar(10); };
export const main = () => {
  // payload order: a thrown number keeps its value (porffor throws (f64, i32 type))
  try { throw 1.5; } catch (e) { line(e); }
  try { thrower(-2.25); } catch (e) { line(e); }
  try { thrower(2 ** 40 + 0.5); } catch (e) { line(e); }
  try { thrower('text'); } catch (e) { line(e == 'text' ? 1 : 0); }
  // call depth: thousands of throws caught from nested calls
  let caught = 0;
  for (let i = 0; i < 5000; i++) { try { maybe(i); } catch (e) { caught += e; } }
  line(caught);
  // stale unwind target: break/continue out of a try, then a throw from elsewhere
  let r = 0;
  try { r = breaker(5) + skipper(6); thrower(7); } catch (e) { r += e * 100; }
  line(r);
  // locals assigned inside a try are seen by its catch
  let a = 1;
  let b = 2;
  try { a = 10; b = a * 3; thrower(5); a = 99; } catch (e) { line(a * 1000 + b + e); }
  return 42;
};
`;

const EXPECTED = ['1.5', '-2.25', '1099511627776.5', '1', '12500000', '707', '10035', ''].join('\n');

let gen, native;
before(async () => {
  gen = wasm2c(await compileJs(source));
  native = await buildNative(gen);
});
after(() => native?.cleanup());

test('reference: V8 runs the source and the Wasm alike', async () => {
  assert.equal(runJsReference(source).out, EXPECTED);
  assert.equal((await runWasm(await compileJs(source))).out, EXPECTED);
});

test('the fixed wasm2c build behaves like V8', () => {
  const { status, stdout } = native.run();
  assert.equal(stdout, `${EXPECTED}\nreturn 42\n`);
  assert.equal(status, 0);
});

test('each fix site kind is found', () => {
  const { stats } = fixWasm2cWithStats(gen.c);
  assert.ok(stats.throwSites > 0 && stats.catchSites > 0, 'payload sites');
  assert.ok(stats.trySites >= 8 && stats.handlerSites === stats.trySites, 'try sites');
  assert.ok(stats.branchSites >= 2, 'branches out of a try');
  assert.ok(stats.volatileVars > 0, 'volatile variables');
});

test('fixWasm2c is idempotent', () => {
  const once = fixWasm2c(gen.c);
  assert.equal(fixWasm2c(once), once);
});

test('fixWasm2c fails loudly on an unexpected shape', () => {
  assert.throws(() => fixWasm2c('int main(void) { return 0; }\n'), /wasm2c banner/);
  const renamed = gen.c.replace('wasm_rt_memcpy(&tmp, wasm_rt_exception(), sizeof(tmp));', 'memcpy(&tmp, wasm_rt_exception(), sizeof tmp);');
  assert.notEqual(renamed, gen.c);
  assert.throws(() => fixWasm2c(renamed), /catch site/);
  const packed = gen.c.replace(/struct wasm_tag_di tmp = \{(w2c_\w+), (w2c_\w+), \};/, 'struct wasm_tag_di tmp = {$1, $2};');
  assert.notEqual(packed, gen.c);
  assert.throws(() => fixWasm2c(packed), /throw site/);
  const tryShape = gen.c.replace(/WASM_RT_UNWIND_TARGET (w2c_T\w+)_unwind_target;\n/, 'WASM_RT_UNWIND_TARGET $1_unwind_target = {0};\n');
  assert.notEqual(tryShape, gen.c);
  assert.throws(() => fixWasm2c(tryShape), /try site/);
});
