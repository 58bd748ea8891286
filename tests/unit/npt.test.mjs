// Nested page tables with per-region access (kernel/memory/nested-paging.ts), in a
// test-only porffor entry on the simulated machine: what the tables map is read back by
// an independent walker (tests/sim/svm-guest.mjs nptMappings): 4 KiB / 2 MiB / 1 GiB
// leaves, read-only and no-execute regions, protection changes that split a large page
// only where a change ends inside it, and the errors.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { Machine } from '../sim/machine.mjs';
import { ROOT, callExport as call, listFiles, testEntryModule } from '../sim/harness.mjs';
import { machineOptions } from '../sim/fixtures/machines.mjs';
import { nptMappings } from '../sim/svm-guest.mjs';

const ENTRY = join(ROOT, 'tests', 'fixtures', 'kernels', 'npt.ts');
const module = () => testEntryModule(ENTRY, 'npt', [...listFiles(join(ROOT, 'kernel')), ...listFiles(join(ROOT, 'drivers'))]);

// kernel/memory/nested-paging.ts NptAccess / NptError
const R = 1, W = 2, X = 4, ALL = 7;
const ERR = { Misaligned: -2, NotMapped: -5, NoExecuteUnsupported: -6, BadAccess: -7 };
const K4 = 4096n, M2 = 2n << 20n, G1 = 1n << 30n;

const rig = (hostNx = true) => {
  const o = machineOptions('qemu-q35-amd-iommu-smp1');
  const cpu = structuredClone(o.cpu);
  const efer = BigInt(cpu.msrs['0xc0000080'] ?? 0x500);
  cpu.msrs['0xc0000080'] = hostNx ? efer | 0x800n : efer & ~0x800n;
  const machine = new Machine({ ...o, cpu });
  const instance = new WebAssembly.Instance(module(), { '': machine.hostFunctions() });
  machine.attach(instance);
  instance.exports.m();
  const e = instance.exports;
  call(e.init);
  const root = call(e.create);
  assert.ok(root > 0 && root % 4096 === 0, `a table root (${root})`);
  const maps = () => nptMappings(machine, root).map(({ gpa, bytes, flags, nx }) => ({ gpa, bytes, flags, nx }));
  return { machine, e, root, maps };
};

const region = (gpa, bytes, flags, nx = false) => ({ gpa, bytes, flags, nx });

test('RAM mapped with all access; a read-only 4 KiB page splits only its 2 MiB page', () => {
  const { e, root, maps } = rig();
  const ram = call(e.alloc, 16384, 512); // 64 MiB, 2 MiB aligned
  assert.ok(ram > 0);
  assert.equal(call(e.map, root, 0, ram, 64 << 20, ALL), 0);
  assert.deepEqual(maps(), [region(0n, 64n << 20n, 7n)]);
  const tables = call(e.inUse);
  assert.equal(call(e.protect, root, 4096, 4096, R | X), 0);
  assert.deepEqual(maps(), [region(0n, K4, 7n), region(K4, K4, 5n), region(2n * K4, (64n << 20n) - 2n * K4, 7n)],
    'only [4 KiB, 8 KiB) lost write access (P|U without R/W)');
  assert.equal(call(e.inUse), tables + 1, 'one page table for the split 2 MiB page');
  // the same page writable again: the mapping is whole again (the split stays)
  assert.equal(call(e.protect, root, 4096, 4096, ALL), 0);
  assert.deepEqual(maps(), [region(0n, 64n << 20n, 7n)]);
});

test('no-execute for a whole 2 MiB page changes its leaf without a split', () => {
  const { e, root, maps } = rig();
  const ram = call(e.alloc, 2048, 512); // 8 MiB
  assert.equal(call(e.map, root, 0, ram, 8 << 20, ALL), 0);
  const tables = call(e.inUse);
  assert.equal(call(e.protect, root, 2 << 20, 2 << 20, R | W), 0);
  assert.deepEqual(maps(), [region(0n, M2, 7n), region(M2, M2, 7n, true), region(2n * M2, 4n << 20n, 7n)]);
  assert.equal(call(e.inUse), tables, 'no table was added');
});

test('a change inside a 1 GiB page splits it into 2 MiB pages, and one of those into 4 KiB pages', () => {
  const { e, root, maps } = rig();
  // the tables only: [1 GiB, 2 GiB) -> host [1 GiB, ...) is never touched through them here
  assert.equal(call(e.map, root, 1 << 30, 1 << 30, 1 << 30, ALL), 0);
  assert.deepEqual(maps(), [region(G1, G1, 7n)]);
  const tables = call(e.inUse);
  assert.equal(call(e.protect, root, (1 << 30) + (2 << 20), 2 << 20, R), 0);
  assert.deepEqual(maps(), [region(G1, M2, 7n), region(G1 + M2, M2, 5n, true), region(G1 + 2n * M2, G1 - 2n * M2, 7n)]);
  assert.equal(call(e.inUse), tables + 1, 'one page directory for the split 1 GiB page');
  assert.equal(call(e.protect, root, (1 << 30) + (8 << 20) + 8192, 4096, R | X), 0);
  assert.deepEqual(maps().slice(2, 5), [region(G1 + 2n * M2, 4n * M2 - 2n * M2 + 8192n, 7n), region(G1 + 4n * M2 + 8192n, K4, 5n), region(G1 + 4n * M2 + 3n * K4, G1 - 4n * M2 - 3n * K4, 7n)]);
  assert.equal(call(e.inUse), tables + 2);
});

test('errors: misaligned, holes, write without read, no-execute when the host has no EFER.NXE', () => {
  const { e, root, maps } = rig();
  const ram = call(e.alloc, 512, 512);
  assert.equal(call(e.map, root, 0, ram, 2 << 20, ALL), 0);
  assert.equal(call(e.protect, root, 100, 4096, R), ERR.Misaligned);
  assert.equal(call(e.map, root, 4 << 20, ram + 1, 4096, ALL), ERR.Misaligned);
  assert.equal(call(e.protect, root, 0, 4 << 20, R), ERR.NotMapped, 'the range runs past the mapping');
  assert.equal(call(e.protect, root, 0, 4096, W | X), ERR.BadAccess);
  assert.equal(call(e.map, root, 8 << 20, ram, 4096, W), ERR.BadAccess);
  const noNx = rig(false);
  assert.equal(call(noNx.e.map, noNx.root, 0, ram, 4096, R | W), ERR.NoExecuteUnsupported);
  assert.deepEqual(noNx.maps(), [], 'nothing was mapped');
  assert.equal(call(noNx.e.map, noNx.root, 0, ram, 4096, ALL), 0);
  assert.deepEqual(noNx.maps(), [region(0n, K4, 7n)]);
  assert.deepEqual(maps(), [region(0n, M2, 7n)], 'the failed calls changed nothing');
});

test('EPT format (Intel SDM 29.3.2): read/write/execute in bits 0-2, write-back leaves, 1 GiB and 2 MiB leaves only where the processor offers them', () => {
  const { machine, e, root, maps } = rig();
  const leafAt = (gpa) => {
    // the raw leaf for gpa (walks like the processor: PS at the PDPTE or PDE ends it)
    let table = BigInt(root);
    for (const shift of [39n, 30n, 21n, 12n]) {
      const entry = new DataView(machine.physRead(table + ((BigInt(gpa) >> shift) & 511n) * 8n, 8).buffer).getBigUint64(0, true);
      if (shift === 12n || (entry & 0x80n) !== 0n) return { entry, shift };
      table = entry & 0xffffffffff000n;
    }
  };
  assert.equal(call(e.format, 1, 1, 1), 0);
  // the tables only: [0, 1 GiB) -> host [1 GiB, 2 GiB) is never touched through them here
  assert.equal(call(e.map, root, 0, 2 ** 30, 2 ** 30, ALL), 0);
  const big = leafAt(0);
  assert.equal(big.shift, 30n, 'a 1 GiB leaf');
  assert.equal(big.entry & 0xffn, 0xb7n, 'R|W|X, memory type 6 (WB) in bits 5:3, PS');
  assert.equal(big.entry >> 63n, 0n, 'no NX bit in EPT (bit 63 is "suppress #VE")');
  assert.equal(call(e.protect, root, 4096, 4096, R | X), 0);
  assert.equal(leafAt(4096).entry & 0x3fn, 0x35n, 'read-only, executable, WB: R|X without W');
  assert.equal(leafAt(4096).shift, 12n, 'the change split down to 4 KiB');
  assert.equal(call(e.protect, root, 8192, 4096, R | W), 0, 'no-execute needs no host EFER.NXE in EPT');
  assert.equal(leafAt(8192).entry & 7n, 3n);
  // a processor without 1 GiB EPT pages: the same range in 2 MiB leaves
  const { e: e2, root: root2, maps: maps2, machine: m2 } = rig();
  assert.equal(call(e2.format, 1, 1, 0), 0);
  assert.equal(call(e2.map, root2, 0, 2 ** 30, 2 ** 30, ALL), 0);
  const pdpte = new DataView(m2.physRead(new DataView(m2.physRead(BigInt(root2), 8).buffer).getBigUint64(0, true) & 0xffffffffff000n, 8).buffer).getBigUint64(0, true);
  assert.equal(pdpte & 0x80n, 0n, 'no 1 GiB leaf');
  assert.deepEqual(maps2(), [region(0n, G1, 7n)], 'still all of it, mapped');
  assert.deepEqual(maps().map((r) => r.flags), [7n, 5n, 3n, 7n], 'the walker sees the same regions');
});
