// The simulated machine is the host ABI: it must implement exactly the table in
// toolchain/host-abi.mjs (plus porffor's own imports), and the kernel may import
// nothing else and export only what the shim calls.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { hostAbi, porfforBuiltinImports } from '../../toolchain/host-abi.mjs';
import { implementedImports, expectedImports } from '../sim/machine.mjs';
import { kernelModule } from '../sim/harness.mjs';

test('the simulated machine implements exactly the host ABI table and porffor\'s imports', () => {
  assert.deepEqual(implementedImports(), expectedImports());
});

test('every import of the kernel Wasm is in the host ABI table', () => {
  const table = new Map([...hostAbi, ...porfforBuiltinImports].map(f => [f.name, f]));
  const imports = WebAssembly.Module.imports(kernelModule());
  assert.ok(imports.length > 0);
  for (const imp of imports) {
    assert.equal(imp.module, '', `${imp.name} is imported from module "${imp.module}"`);
    assert.equal(imp.kind, 'function', `${imp.name} is a ${imp.kind}`);
    assert.ok(table.has(imp.name), `the kernel imports ${imp.name}, which is not in toolchain/host-abi.mjs`);
  }
});

test('the kernel exports its memory, porffor\'s module code `m` and `main`, no other functions', () => {
  const exports = WebAssembly.Module.exports(kernelModule());
  const functions = exports.filter(e => e.kind === 'function').map(e => e.name).sort();
  assert.deepEqual(functions, ['m', 'main']);
  assert.ok(exports.some(e => e.kind === 'memory' && e.name === '$'));
});
