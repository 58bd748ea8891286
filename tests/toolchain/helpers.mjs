// Shared helpers for the toolchain tests: compile JS with the patched porffor, run the
// Wasm on V8, and build wasm2c's C output into a Linux program with gcc.
import { execFile, execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { fixWasm2c } from '../../toolchain/fix-wasm2c.mjs';

const execFileAsync = promisify(execFile);

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
// ZV_PORFFOR_DIR points the tests at another porffor copy (e.g. an unpatched one, to
// check that a test fails without its fix).
export const PORFFOR_DIR = process.env.ZV_PORFFOR_DIR ?? join(ROOT, 'node_modules', 'porffor');
export const WASM2C_RUNTIME = '/usr/src/wasm2c';

/** A temporary directory, removed by the returned cleanup function. */
export const tempDir = () => {
  const dir = mkdtempSync(join(tmpdir(), 'zv-toolchain-'));
  return { dir, cleanup: () => rmSync(dir, { recursive: true, force: true }) };
};

// porffor keeps global state and reads its options from process.argv when its modules
// load: one child process per compile. Source on stdin, Wasm bytes on stdout.
const COMPILE_CHILD = `
const flags = JSON.parse(process.argv[1]);
const dir = process.argv[2];
process.argv = ['node', 'porf', '--module', ...flags];
const chunks = [];
for await (const chunk of process.stdin) chunks.push(chunk);
const b = await import(dir + '/compiler/builtins.js');
const { default: compile } = await import(dir + '/compiler/index.js');
for (const [n, p, r] of [['print', 1, 0], ['printChar', 1, 0], ['time', 0, 1], ['timeOrigin', 0, 1]]) {
  b.createImport(n, p, r);
  b.importedFuncs[n].import = n;
}
const log = console.log;
console.log = () => {};
const { wasm } = compile(Buffer.concat(chunks).toString('utf8'));
console.log = log;
process.stdout.write(Buffer.from(wasm));
`;

/**
 * Compiles a JS module (exporting `main`) with porffor.
 * @returns {Promise<Uint8Array>} the Wasm module
 */
export const compileJs = async (source, flags = ['-O1']) => {
  const child = spawn(process.execPath, ['--input-type=module', '-e', COMPILE_CHILD, JSON.stringify(flags), PORFFOR_DIR]);
  child.stdin.end(source);
  const { stdout, stderr, code } = await new Promise((resolve) => {
    const out = [], err = [];
    child.stdout.on('data', d => out.push(d));
    child.stderr.on('data', d => err.push(d));
    child.on('close', code => resolve({ stdout: Buffer.concat(out), stderr: Buffer.concat(err).toString(), code }));
  });
  if (code !== 0) throw new Error(`porffor failed (${code}):\n${stderr}`);
  return new Uint8Array(stdout);
};

/** The imports porffor's output needs, for V8 runs (MAIN_C prints numbers alike). */
const printer = () => {
  let out = '';
  return {
    imports: {
      print: x => { out += String(x); },
      printChar: c => { out += String.fromCharCode(c); },
      time: () => 0,
      timeOrigin: () => 0,
    },
    output: () => out,
  };
};

/**
 * Runs a porffor Wasm module on V8: `m` (porffor's name for the module's top-level
 * code) and then the exported `main`. @returns {{ out: string, ret: unknown }}
 */
export const runWasm = async (bytes) => {
  const p = printer();
  const { instance } = await WebAssembly.instantiate(bytes, { '': p.imports });
  instance.exports.m();
  const ret = instance.exports.main();
  return { out: p.output(), ret };
};

/** Runs the same source directly on V8 (print/printChar as globals), for reference. */
export const runJsReference = (source) => {
  const p = printer();
  const body = source.replace(/^export /gm, '') + '\nreturn main();';
  const ret = new Function('print', 'printChar', body)(p.imports.print, p.imports.printChar);
  return { out: p.output(), ret };
};

/** Disassembly with wasm-objdump -d. */
export const disassemble = (bytes) => {
  const { dir, cleanup } = tempDir();
  try {
    writeFileSync(join(dir, 'm.wasm'), bytes);
    return execFileSync('wasm-objdump', ['-d', join(dir, 'm.wasm')], { encoding: 'utf8', maxBuffer: 256 << 20 });
  } finally {
    cleanup();
  }
};

/**
 * wasm2c --enable-exceptions on the module, named `zv`.
 * @returns {{ c: string, h: string }}
 */
export const wasm2c = (bytes) => {
  const { dir, cleanup } = tempDir();
  try {
    writeFileSync(join(dir, 'zv.wasm'), bytes);
    execFileSync('wasm2c', ['--enable-exceptions', join(dir, 'zv.wasm'), '-n', 'zv', '-o', join(dir, 'zv.c')], { stdio: 'pipe' });
    return { c: readFileSync(join(dir, 'zv.c'), 'utf8'), h: readFileSync(join(dir, 'zv.h'), 'utf8') };
  } finally {
    cleanup();
  }
};

// Host side of the wasm2c 1.0.32 API for a module named zv: imports from module "" are
// functions Z_Z_<name>(struct Z__instance_t*, ...) the embedder defines; exports are
// Z_zvZ_<name>(Z_zv_instance_t*); porffor's m (top-level code) and main return
// (f64 value, i32 type).
const MAIN_C = `
#include <stdio.h>
#include <stdlib.h>
#include "zv.h"
#include "wasm-rt-impl.h"

struct Z__instance_t { int unused; };

/* numbers as JS prints them, for integers and short decimals */
static void print_number(double x) {
  char buf[64];
  if (x != x) { fputs("NaN", stdout); return; }
  if (x == (double)(long long)x && x < 1e21 && x > -1e21) { printf("%lld", (long long)x); return; }
  for (int p = 1; p <= 17; p++) {
    snprintf(buf, sizeof buf, "%.*g", p, x);
    if (strtod(buf, NULL) == x) break;
  }
  fputs(buf, stdout);
}

void Z_Z_print(struct Z__instance_t* i, f64 x) { (void)i; print_number(x); }
void Z_Z_printChar(struct Z__instance_t* i, f64 c) { (void)i; putchar((int)c); }
f64 Z_Z_time(struct Z__instance_t* i) { (void)i; return 0; }
f64 Z_Z_timeOrigin(struct Z__instance_t* i) { (void)i; return 0; }

int main(void) {
  static Z_zv_instance_t instance;
  static struct Z__instance_t imports;
  wasm_rt_init();
  Z_zv_init_module();
  wasm_rt_trap_t trap = (wasm_rt_trap_t)wasm_rt_impl_try();
  if (trap != WASM_RT_TRAP_NONE) {
    printf("\\ntrap: %s\\n", wasm_rt_strerror(trap));
    fflush(stdout);
    return 3;
  }
  Z_zv_instantiate(&instance, &imports);
  Z_zvZ_m(&instance);
  struct wasm_multi_di ret = Z_zvZ_main(&instance);
  printf("\\nreturn ");
  print_number(ret.d0);
  printf("\\n");
  Z_zv_free(&instance);
  wasm_rt_free();
  return 0;
}
`;

/**
 * Builds wasm2c output as a Linux program (explicit bounds checks and call depth
 * counting, as on the UEFI target) and returns a function running it.
 * @param {{ c: string, h: string }} gen wasm2c output
 * @param {{ fix?: (c: string) => string, opt?: string }} options
 */
export const buildNative = async (gen, { fix = fixWasm2c, opt = '-O2' } = {}) => {
  const { dir, cleanup } = tempDir();
  writeFileSync(join(dir, 'zv.c'), fix ? fix(gen.c) : gen.c);
  writeFileSync(join(dir, 'zv.h'), gen.h);
  writeFileSync(join(dir, 'main.c'), MAIN_C);
  const exe = join(dir, 'zv');
  try {
    await execFileAsync('gcc', [opt, '-std=gnu11', '-DWASM_RT_MEMCHECK_SIGNAL_HANDLER=0', `-I${WASM2C_RUNTIME}`, `-I${dir}`,
      join(dir, 'zv.c'), join(dir, 'main.c'), join(WASM2C_RUNTIME, 'wasm-rt-impl.c'), '-lm', '-o', exe], { maxBuffer: 64 << 20 });
  } catch (e) {
    cleanup();
    throw new Error(`gcc failed:\n${e.stderr}`);
  }
  // (a broken build can loop forever or print without end: time and output are capped)
  const run = () => {
    try {
      return { status: 0, stdout: execFileSync(exe, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 20000, maxBuffer: 1 << 20 }) };
    } catch (e) {
      return { status: e.status ?? e.signal ?? e.code, stdout: (e.stdout ?? '').slice(0, 4000) };
    }
  };
  return { run, cleanup };
};
