// TypeScript -> one ES module (esbuild) -> Wasm (porffor 0.61.13, patched).
// Usage: node toolchain/compile.mjs ENTRY.ts OUT.wasm [--bundle-out OUT.js]
// porffor keeps global state and reads its options from process.argv when its modules
// load, so each compile runs in its own process (this one).
import { build } from 'esbuild';
import { writeFileSync, mkdirSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { hostAbi, porfforBuiltinImports } from './host-abi.mjs';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');

/** Bundles an entry into one ES module source with types stripped. */
export const bundle = async (entry) => {
  const result = await build({
    entryPoints: [resolve(entry)],
    bundle: true,
    write: false,
    format: 'esm',
    platform: 'neutral',
    target: 'es2022',
    charset: 'utf8',
    legalComments: 'none',
    treeShaking: true,
    logLevel: 'error',
  });
  return exportInPlace(result.outputFiles[0].text);
};

// porffor does not understand esbuild's closing `export { a, b };`: move each export
// onto its top-level declaration instead (`var a = ...` -> `export var a = ...`).
const exportInPlace = (source) => {
  const match = source.match(/^export \{([^}]*)\};?\s*$/m);
  if (!match) return source;
  let out = source.replace(match[0], '');
  for (const item of match[1].split(',').map(s => s.trim()).filter(Boolean)) {
    if (item.includes(' as ')) throw new Error(`compile: renamed export "${item}" is not supported; export the binding under its own name`);
    const decl = new RegExp(`^(var|let|const|function|class) ${item}\\b`, 'm');
    if (!decl.test(out)) throw new Error(`compile: cannot find the top-level declaration of export "${item}"`);
    out = out.replace(decl, `export $1 ${item}`);
  }
  return out;
};

/** Compiles bundled source to Wasm bytes with the host ABI as imports. */
export const compileToWasm = async (source) => {
  process.argv = ['node', 'porf', '--module', '-O1', ...(process.env.ZV_PORF_DEBUG ? ['-d'] : [])];
  const builtins = await import(join(root, 'node_modules/porffor/compiler/builtins.js'));
  const { default: compile } = await import(join(root, 'node_modules/porffor/compiler/index.js'));
  for (const fn of [...porfforBuiltinImports, ...hostAbi]) {
    builtins.createImport(fn.name, fn.params.length, fn.result ? 1 : 0);
    builtins.importedFuncs[fn.name].import = fn.name; // stable import name (patch 01)
  }
  const quiet = console.log;
  console.log = () => {};
  try {
    return compile(source).wasm;
  } finally {
    console.log = quiet;
  }
};

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const args = process.argv.slice(2);
  const flag = (name) => { const i = args.indexOf(name); return i < 0 ? undefined : args.splice(i, name === '--timings' ? 1 : 2)[1] ?? true; };
  const timings = flag('--timings');
  const bundleOut = flag('--bundle-out');
  const [entry, out] = args;
  if (!entry || !out) {
    console.error('usage: node toolchain/compile.mjs ENTRY.ts OUT.wasm [--bundle-out OUT.js] [--timings]');
    process.exit(2);
  }
  const t0 = performance.now();
  const source = await bundle(entry);
  const t1 = performance.now();
  if (typeof bundleOut === 'string') {
    mkdirSync(dirname(bundleOut), { recursive: true });
    writeFileSync(bundleOut, source);
  }
  const wasm = await compileToWasm(source);
  const t2 = performance.now();
  mkdirSync(dirname(out), { recursive: true });
  writeFileSync(out, wasm);
  if (timings) console.log(`esbuild_ms=${(t1 - t0).toFixed(0)} porffor_ms=${(t2 - t1).toFixed(0)} wasm_bytes=${wasm.length}`);
}
