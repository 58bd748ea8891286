// Runs the real kernel (kernel/main.ts compiled by toolchain/compile.mjs with the
// patched porffor, the same Wasm the EFI build starts from) on the simulated machine.
// The Wasm is cached in build/test-cache/, keyed by a hash of everything that goes
// into it, so a test run compiles it at most once.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Machine } from './machine.mjs';

export const ROOT = join(dirname(fileURLToPath(import.meta.url)), '..', '..');
const CACHE = join(ROOT, 'build', 'test-cache');

const listFiles = (dir) => {
  if (!existsSync(dir)) return [];
  const out = [];
  for (const name of readdirSync(dir).sort()) {
    const p = join(dir, name);
    if (statSync(p).isDirectory()) out.push(...listFiles(p));
    else out.push(p);
  }
  return out;
};

/** Hash of the compiler, its patches, and the sources under `srcRoot`. */
const inputsHash = (srcRoot, extra = '') => {
  const h = createHash('sha256');
  const files = [
    ...listFiles(join(srcRoot, 'kernel')),
    ...listFiles(join(srcRoot, 'drivers')),
  ];
  for (const f of files) h.update(relative(srcRoot, f)).update('\0').update(readFileSync(f)).update('\0');
  for (const f of [join(ROOT, 'toolchain', 'compile.mjs'), join(ROOT, 'toolchain', 'host-abi.mjs'), ...listFiles(join(ROOT, 'toolchain', 'patches'))]) {
    h.update(relative(ROOT, f)).update('\0').update(readFileSync(f)).update('\0');
  }
  const porffor = join(ROOT, 'node_modules', 'porffor');
  h.update(readFileSync(join(porffor, 'package.json')));
  h.update(readFileSync(join(porffor, 'compiler', 'builtins_precompiled.js')).subarray(0, 200));
  h.update(extra);
  return h.digest('hex').slice(0, 20);
};

/** Compiles srcRoot/kernel/main.ts unless the cache has it; returns the Wasm path. */
const compileCached = (srcRoot, name) => {
  const key = inputsHash(srcRoot, name);
  const out = join(CACHE, `${name}-${key}.wasm`);
  if (existsSync(out)) return out;
  mkdirSync(CACHE, { recursive: true });
  const tmp = `${out}.${process.pid}.tmp`;
  try {
    execFileSync(process.execPath, [join(ROOT, 'toolchain', 'compile.mjs'), join(srcRoot, 'kernel', 'main.ts'), tmp], {
      cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 << 20,
    });
  } catch (e) {
    throw new Error(`compiling ${relative(ROOT, srcRoot) || '.'}/kernel/main.ts failed:\n${e.stderr?.toString() ?? e.message}`);
  }
  renameSync(tmp, out); // atomic: parallel test files may race here
  return out;
};

/**
 * A test-only porffor entry (tests/fixtures/kernels/<name>.ts, exporting functions a test
 * calls on one Wasm instance), compiled like the kernel and cached in build/test-cache/,
 * keyed by `inputs` (its sources) and the toolchain.
 * @param {string} entry path of the .ts entry
 * @param {string} name cache file prefix
 * @param {string[]} inputs the source files it is built from
 */
export const testEntryModule = (entry, name, inputs) => {
  const h = createHash('sha256');
  const toolchain = [join(ROOT, 'toolchain', 'compile.mjs'), join(ROOT, 'toolchain', 'host-abi.mjs'),
    ...listFiles(join(ROOT, 'toolchain', 'patches')), join(ROOT, 'node_modules', 'porffor', 'package.json')];
  // the whole kernel too: a test kernel's imports reach into lib/, diag/ and more, and a stale
  // cached Wasm would test yesterday's code
  const kernel = [...listFiles(join(ROOT, 'kernel')), ...listFiles(join(ROOT, 'drivers'))];
  for (const f of [...new Set([entry, ...inputs, ...kernel, ...toolchain])]) h.update(relative(ROOT, f)).update('\0').update(readFileSync(f)).update('\0');
  const out = join(CACHE, `${name}-${h.digest('hex').slice(0, 20)}.wasm`);
  if (!existsSync(out)) {
    mkdirSync(CACHE, { recursive: true });
    const tmp = `${out}.${process.pid}.tmp`;
    try {
      execFileSync(process.execPath, [join(ROOT, 'toolchain', 'compile.mjs'), entry, tmp], { cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
    } catch (e) {
      throw new Error(`compiling ${relative(ROOT, entry)} failed:\n${e.stderr?.toString() ?? e.message}`);
    }
    renameSync(tmp, out);
  }
  return new WebAssembly.Module(readFileSync(out));
};

/** Calls a porffor export: arguments go as (value, type) pairs, the result comes back as [value, type]; type 1 is a number. */
export const callExport = (fn, ...args) => fn(...args.flatMap((a) => [a, 1]))[0];

/** Every file below `dir`, sorted. */
export { listFiles };

const modules = new Map();
const moduleFor = (path) => {
  if (!modules.has(path)) modules.set(path, new WebAssembly.Module(readFileSync(path)));
  return modules.get(path);
};

/** The kernel's Wasm module (compiled once, cached on disk and in this process). */
export const kernelModule = () => moduleFor(compileCached(ROOT, 'kernel'));

/** Path of the kernel's Wasm file. */
export const kernelWasmPath = () => compileCached(ROOT, 'kernel');

/**
 * A kernel built from a copy of kernel/ and drivers/ with text edits applied, e.g. a
 * dictionary with a key removed. Every edit must match, so a variant cannot silently
 * become the plain kernel.
 * @param {string} name
 * @param {Array<{ file: string, from: string | RegExp, to: string }>} edits
 */
export const variantModule = (name, edits) => {
  const dir = join(CACHE, 'src', name);
  rmSync(dir, { recursive: true, force: true });
  cpSync(join(ROOT, 'kernel'), join(dir, 'kernel'), { recursive: true });
  cpSync(join(ROOT, 'drivers'), join(dir, 'drivers'), { recursive: true });
  for (const { file, from, to } of edits) {
    const p = join(dir, file);
    const before = readFileSync(p, 'utf8');
    const after = before.replace(from, to);
    if (after === before) throw new Error(`variant ${name}: edit of ${file} matched nothing: ${from}`);
    writeFileSync(p, after);
  }
  return moduleFor(compileCached(dir, `variant-${name}`));
};

/**
 * Boots the kernel on a fresh simulated machine and runs it until `main` returns.
 * @param {object} [options] Machine options (input, files, memoryMap, uart, ...), plus
 *   script: the contents of \startup.zv; module: another Wasm module (variantModule);
 *   hostHooks(functions, machine): may wrap the host functions before the kernel gets them.
 * @returns {Machine} the machine, for its outputs
 */
export const boot = (options = {}) => {
  const files = { ...(options.files ?? {}) };
  if (options.script !== undefined) files['\\startup.zv'] = options.script;
  const machine = new Machine({ ...options, files });
  const functions = machine.hostFunctions();
  options.hostHooks?.(functions, machine);
  const instance = new WebAssembly.Instance(options.module ?? kernelModule(), { '': functions });
  machine.attach(instance);
  try {
    instance.exports.m();
    machine.memoryAfterStart = machine.memoryBytes;
    instance.exports.main();
  } catch (e) {
    if (machine.failure) throw machine.failure;
    throw e;
  }
  if (machine.failure) throw machine.failure;
  return machine;
};

/** Lines of serial output (CRLF-separated). */
export const serialLines = (machine) => machine.serialText.split('\r\n');

/** The text the serial output shows after the first line containing `marker`. */
export const after = (text, marker) => {
  const i = text.indexOf(marker);
  if (i < 0) throw new Error(`"${marker}" not found in:\n${text}`);
  return text.slice(i + marker.length);
};
