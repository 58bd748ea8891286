// The kernel's layers have a direction (README "Architecture"): a module imports only
// from its own layer or the layers below it, and no chain of imports comes back to where
// it started. A static check of every import in kernel/ and drivers/ (TypeScript syntax
// trees; `import type` counts too, as a reader follows it the same way).
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { existsSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import ts from 'typescript';
import { ROOT } from '../sim/harness.mjs';

/** Bottom to top; a path belongs to the first prefix it starts with. */
export const LAYERS = [
  { name: 'base', paths: ['kernel/host/', 'kernel/i18n/', 'kernel/lib/'] },
  { name: 'diagnostics', paths: ['kernel/diag/'] },
  { name: 'platform', paths: ['kernel/platform/', 'kernel/cpu/'] },
  { name: 'memory', paths: ['kernel/memory/'] },
  { name: 'drivers', paths: ['drivers/'] },
  { name: 'vcpu', paths: ['kernel/vcpu/'] },
  { name: 'vm', paths: ['kernel/vm/'] },
  { name: 'services', paths: ['kernel/services/'] },
  { name: 'console', paths: ['kernel/console/'] },
  { name: 'main', paths: ['kernel/main.ts'] },
];

const listTs = (dir) => readdirSync(dir).flatMap((name) => {
  const p = join(dir, name);
  if (statSync(p).isDirectory()) return listTs(p);
  return name.endsWith('.ts') && !name.endsWith('.d.ts') ? [p] : [];
});

export const layerOf = (file) => LAYERS.findIndex((l) => l.paths.some((p) => file === p || file.startsWith(p)));

const resolveImport = (from, spec) => {
  const base = resolve(dirname(join(ROOT, from)), spec);
  for (const c of [`${base}.ts`, `${base}.d.ts`, base, join(base, 'index.ts')]) {
    if (existsSync(c) && statSync(c).isFile()) return relative(ROOT, c);
  }
  return null;
};

/** file -> [{ to, line }] for every relative import (static and `import type`). */
export const importGraph = (root = ROOT) => {
  const graph = new Map();
  for (const path of [...listTs(join(root, 'kernel')), ...listTs(join(root, 'drivers'))]) {
    const file = relative(root, path);
    const ast = ts.createSourceFile(path, readFileSync(path, 'utf8'), ts.ScriptTarget.ES2022, true);
    const edges = [];
    for (const st of ast.statements) {
      if (!(ts.isImportDeclaration(st) || ts.isExportDeclaration(st)) || !st.moduleSpecifier) continue;
      const spec = st.moduleSpecifier.text;
      if (!spec.startsWith('.')) continue;
      edges.push({ to: resolveImport(file, spec), spec, line: ast.getLineAndCharacterOfPosition(st.getStart()).line + 1 });
    }
    graph.set(file, edges);
  }
  return graph;
};

/** The import cycles of a graph (each as a list of files, first repeated at the end). */
export const findCycles = (graph) => {
  const state = new Map(); // 1 on the path, 2 done
  const stack = [];
  const cycles = [];
  const visit = (f) => {
    state.set(f, 1);
    stack.push(f);
    for (const { to } of graph.get(f) ?? []) {
      if (!to || !graph.has(to)) continue;
      if (state.get(to) === 1) cycles.push([...stack.slice(stack.indexOf(to)), to]);
      else if (!state.has(to)) visit(to);
    }
    stack.pop();
    state.set(f, 2);
  };
  for (const f of [...graph.keys()].sort()) if (!state.has(f)) visit(f);
  return cycles;
};

/** Imports that point up the layers, as "file:line -> target (layer -> layer)". */
export const upwardImports = (graph) => {
  const bad = [];
  for (const [file, edges] of graph) {
    for (const { to, line } of edges) {
      if (!to) continue;
      const a = layerOf(file);
      const b = layerOf(to);
      if (b > a) bad.push(`${file}:${line} -> ${to} (${LAYERS[a].name} -> ${LAYERS[b].name})`);
    }
  }
  return bad;
};

const graph = importGraph();

test('every kernel and driver module belongs to a layer', () => {
  const homeless = [...graph.keys()].filter((f) => layerOf(f) < 0);
  assert.deepEqual(homeless, [], 'add the folder to LAYERS here and to the README');
});

test('every relative import resolves to a file', () => {
  const broken = [];
  for (const [file, edges] of graph) for (const e of edges) if (!e.to) broken.push(`${file}:${e.line} ${e.spec}`);
  assert.deepEqual(broken, []);
});

test('no import points up the layers', () => {
  assert.deepEqual(upwardImports(graph), []);
});

test('no import cycle', () => {
  assert.deepEqual(findCycles(graph).map((c) => c.join(' -> ')), []);
});

test('the checks catch what they are for', () => {
  // A made-up graph: diag importing the console, and a two-module cycle inside vm.
  const fake = new Map([
    ['kernel/diag/log.ts', [{ to: 'kernel/console/output.ts', line: 3 }]],
    ['kernel/console/output.ts', []],
    ['kernel/vm/a.ts', [{ to: 'kernel/vm/b.ts', line: 1 }]],
    ['kernel/vm/b.ts', [{ to: 'kernel/vm/a.ts', line: 1 }]],
  ]);
  assert.deepEqual(upwardImports(fake), ['kernel/diag/log.ts:3 -> kernel/console/output.ts (diagnostics -> console)']);
  assert.deepEqual(findCycles(fake), [['kernel/vm/a.ts', 'kernel/vm/b.ts', 'kernel/vm/a.ts']]);
  assert.equal(layerOf('kernel/main.ts'), LAYERS.length - 1);
  assert.equal(layerOf('kernel/nowhere/x.ts'), -1);
});
