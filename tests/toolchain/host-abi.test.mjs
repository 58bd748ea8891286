// The host ABI table is the one source of the kernel's imports: the compiled kernel
// imports exactly table functions under their own names (porffor patch 01 makes the
// names stable; unpatched they would be "a", "b", ... in registration order), and the
// generated TypeScript declarations and Zig bindings list every table function.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, writeFileSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ROOT } from './helpers.mjs';
import { hostAbi, porfforBuiltinImports } from '../../toolchain/host-abi.mjs';
import { renderDts, renderZig } from '../../toolchain/gen-abi.mjs';

test('compiled code imports host functions under their table names', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'zv-abi-'));
  const entry = join(dir, 'k.ts');
  // Uses the last two table functions so their registration index is high.
  const [a, b] = hostAbi.slice(-2);
  writeFileSync(entry, `export const main = () => { ${a.name}(${a.params.map(() => '0').join(', ')}); ${b.name}(${b.params.map(() => '1').join(', ')}); hv_io_out8(0xf4, 0); };\n`);
  execFileSync('node', [join(ROOT, 'toolchain/compile.mjs'), entry, join(dir, 'k.wasm')]);
  const module = await WebAssembly.compile(readFileSync(join(dir, 'k.wasm')));
  const imports = WebAssembly.Module.imports(module).map(i => `${i.module}/${i.name}`).sort();
  assert.deepEqual(imports, [`/${a.name}`, `/${b.name}`, '/hv_io_out8'].sort());
});

test('generated declarations and bindings cover the whole table', () => {
  const dts = renderDts();
  const zig = renderZig();
  for (const f of hostAbi) {
    assert.ok(dts.includes(`declare function ${f.name}(`), `${f.name} missing from host-abi.d.ts`);
    assert.ok(zig.includes(`export fn Z_Z_${f.name}(`), `${f.name} missing from host_abi.zig`);
    assert.ok(zig.includes(`host.${f.name}(`), `${f.name} not forwarded to boot/host.zig`);
  }
  for (const f of porfforBuiltinImports) assert.ok(zig.includes(`export fn Z_Z_${f.name}(`));
  assert.equal(new Set(hostAbi.map(f => f.name)).size, hostAbi.length, 'duplicate names in the table');
});

test('every table function is implemented by the boot shim', () => {
  const host = readFileSync(join(ROOT, 'boot/host.zig'), 'utf8');
  for (const f of [...porfforBuiltinImports, ...hostAbi]) {
    assert.match(host, new RegExp(`pub fn ${f.name}\\(`), `boot/host.zig lacks ${f.name}`);
  }
});
