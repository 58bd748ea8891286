// The simulated machine is as strict about physical memory as the kernel's correctness
// needs: every physical access the kernel (or a device or guest it set up) makes must be
// inside memory it allocated from the firmware, except reads of firmware memory on the
// allow-list (ACPI and runtime-services descriptors, placed tables); firmware does not
// clear the pages it hands out, at any size. The host functions are called directly here,
// as the kernel calls them, on a machine with the OVMF q35 memory map
// (tests/sim/fixtures/memory-maps.mjs); every unit test that boots the kernel gets the same
// rules by default.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { ALLOCATION_PATTERN, Machine } from '../sim/machine.mjs';
import { SnpModel } from '../sim/snp.mjs';
import { machineOptions } from '../sim/fixtures/machines.mjs';

const hi = (addr) => Math.floor(addr / 4294967296);
const lo = (addr) => addr % 4294967296;

/** A machine with 64 KiB of "linear memory" for the buffers, and its host functions. */
const machine = (options = {}) => {
  const m = new Machine(options);
  m.attach({ exports: { $: new WebAssembly.Memory({ initial: 1 }) } });
  const f = m.hostFunctions();
  const linear = () => new Uint8Array(m.memory.buffer);
  return { m, f, linear };
};

// addresses in the OVMF q35 map (ovmfQ35_512M)
const FREE = 0x01000000; // EfiConventionalMemory
const ACPI_NVS = 0x00800000; // EfiACPIMemoryNVS
const RESERVED = 0x1faa9000; // EfiReservedMemoryType
const RUNTIME_DATA = 0x1f946000; // EfiRuntimeServicesData
const ACPI_RECLAIM = 0x1faad000; // EfiACPIReclaimMemory
const BOOT_DATA = 0x00900000; // EfiBootServicesData

test('a kernel write lands only in pages it allocated: free, reserved, runtime, ACPI NVS and boot-services memory refuse it', () => {
  const cases = [
    [FREE, 'free \\(EfiConventionalMemory\\)'], [RESERVED, 'EfiReservedMemoryType'], [RUNTIME_DATA, 'EfiRuntimeServicesData'],
    [ACPI_NVS, 'EfiACPIMemoryNVS'], [ACPI_RECLAIM, 'EfiACPIReclaimMemory'], [BOOT_DATA, 'EfiBootServicesData'],
  ];
  for (const [addr, type] of cases) {
    const { f } = machine();
    assert.throws(() => f.hv_phys_write(lo(addr), hi(addr), 0, 16),
      new RegExp(`^Error: sim: hv_phys_write: write to \\[0x${addr.toString(16)}, \\+16\\): 0x${addr.toString(16)} is ${type} memory the kernel never allocated$`));
    const { f: g } = machine();
    assert.throws(() => g.hv_phys_zero(lo(addr), hi(addr), 4096), /sim: hv_phys_zero: write to .* the kernel never allocated/);
  }
  const allocated = () => {
    const x = machine();
    assert.equal(x.f.hv_efi_alloc_pages(lo(FREE), hi(FREE), 2), 0);
    x.linear().set([1, 2, 3, 4], 0);
    return x;
  };
  const { m, f } = allocated();
  f.hv_phys_write(lo(FREE + 4094), hi(FREE + 4094), 0, 4); // across the two allocated pages
  assert.deepEqual([...m.physRead(FREE + 4094, 4)], [1, 2, 3, 4]);
  assert.throws(() => allocated().f.hv_phys_write(lo(FREE + 8190), hi(FREE + 8190), 0, 4), /^Error: sim: hv_phys_write: write to \[0x1001ffe, \+4\): 0x1002000 is free \(EfiConventionalMemory\) memory the kernel never allocated$/, 'one byte past the allocation');
  const freed = allocated();
  assert.equal(freed.f.hv_efi_free_pages(lo(FREE), hi(FREE), 2), 0);
  assert.throws(() => freed.f.hv_phys_write(lo(FREE), hi(FREE), 0, 4), /^Error: sim: hv_phys_write: write to \[0x1000000, \+4\): 0x1000000 is free/, 'after FreePages the pages are not the kernel\'s');
});

test('reads: the kernel\'s pages and the firmware allow-list (ACPI, runtime services, placed tables, named ranges); free memory and boot-services data refuse', () => {
  const placed = 0x02000000; // a firmware table placed in memory the map calls free
  const fresh = () => machine({ acpi: { regions: [{ addr: placed, bytes: Uint8Array.of(1, 2, 3, 4) }] }, firmwareReads: [[BOOT_DATA + 0x1000, 64]] }).f;
  const f = fresh();
  for (const addr of [ACPI_NVS, ACPI_RECLAIM, RUNTIME_DATA, placed, BOOT_DATA + 0x1000]) f.hv_phys_read(lo(addr), hi(addr), 0, 4);
  assert.equal(f.hv_efi_alloc_pages(lo(FREE), hi(FREE), 1), 0);
  f.hv_phys_read(lo(FREE), hi(FREE), 0, 4096);
  assert.throws(() => fresh().hv_phys_read(lo(placed), hi(placed), 0, 5), /^Error: sim: hv_phys_read: read of \[0x2000000, \+5\): 0x2000004 is free \(EfiConventionalMemory\) memory the kernel never allocated, and not on the firmware read allow-list$/);
  assert.throws(() => fresh().hv_phys_read(lo(FREE), hi(FREE), 0, 4), /^Error: sim: hv_phys_read: read of \[0x1000000, \+4\): .* not on the firmware read allow-list/);
  assert.throws(() => fresh().hv_phys_read(lo(RESERVED), hi(RESERVED), 0, 4), /0x1faa9000 is EfiReservedMemoryType memory the kernel never allocated/);
  assert.throws(() => fresh().hv_phys_read(lo(BOOT_DATA), hi(BOOT_DATA), 0, 4), /0x900000 is EfiBootServicesData memory the kernel never allocated/);
});

test('hv_phys_word_hash, the VMXON and VMPTRLD revision reads and SNP GetStatus\'s buffer check read the memory the kernel owns', () => {
  assert.throws(() => machine().f.hv_phys_word_hash(lo(FREE), hi(FREE), 4096, 0), /^Error: sim: hv_phys_word_hash: read of \[0x1000000, \+4096\): 0x1000000 is free/);
  assert.throws(() => machine().f.hv_phys_word_hash(0, 0x10, 4096, 0), /hv_phys_word_hash: page fault: \[0x1000000000, \+4096\) is not memory in the firmware's map/);

  const cpu = machineOptions('bochs-corei7-skylake-x').cpu;
  cpu.msrs['0x3a'] = 5n;
  const vmx = machine({ cpu });
  vmx.m.vmx.cr4 |= 0x2000n; // CR4.VMXE
  assert.throws(() => vmx.f.hv_vmx_on(lo(FREE), hi(FREE)), /^Error: sim: VMXON: read of \[0x1000000, \+4\): .* the kernel never allocated/);
  const ok = machine({ cpu });
  ok.m.vmx.cr4 |= 0x2000n;
  assert.equal(ok.f.hv_efi_alloc_pages(lo(FREE), hi(FREE), 1), 0);
  new DataView(ok.m.memory.buffer).setUint32(0, Number(BigInt(cpu.msrs['0x480']) & 0x7fffffffn), true);
  ok.f.hv_phys_write(lo(FREE), hi(FREE), 0, 4);
  assert.equal(ok.f.hv_vmx_on(lo(FREE), hi(FREE)), 0, 'VMXON of an allocated region with the revision');
  assert.throws(() => ok.f.hv_vmptrld(lo(FREE + 0x1000), hi(FREE + 0x1000)), /^Error: sim: VMPTRLD: read of \[0x1001000, \+4\): .* the kernel never allocated/);

  const sent = () => {
    const net = machine({ snp: [new SnpModel({ state: 2 })] });
    assert.equal(net.f.hv_efi_snp_locate(), 1);
    assert.equal(net.f.hv_efi_alloc_pages(lo(FREE), hi(FREE), 1), 0);
    assert.equal(net.f.hv_efi_snp_transmit(0, lo(FREE), hi(FREE), 60), 0);
    return net;
  };
  const net = sent();
  assert.equal(net.f.hv_efi_snp_status(0, 0), 0, 'GetStatus hands the buffer back while it is the kernel\'s');
  const early = sent();
  assert.equal(early.f.hv_efi_free_pages(lo(FREE), hi(FREE), 1), 0); // freed while the firmware still holds the buffer
  assert.throws(() => early.f.hv_efi_snp_status(0, 0), /^Error: sim: hv_efi_snp_status: read of \[0x1000000, \+60\): 0x1000000 is free .* the kernel never allocated/);
  const unowned = machine({ snp: [new SnpModel({ state: 2 })] });
  assert.equal(unowned.f.hv_efi_snp_locate(), 1);
  assert.throws(() => unowned.f.hv_efi_snp_transmit(0, lo(FREE), hi(FREE), 60), /^Error: sim: hv_efi_snp_transmit: read of .* the kernel never allocated/);
});

test('every allocated page holds the firmware\'s pattern until written, however large the allocation; zeroing and reallocating work page by page', () => {
  const { m, f, linear } = machine();
  const pages = 0x10000; // 256 MiB: far above what filling eagerly would allow
  const base = 0x01000000;
  assert.equal(f.hv_efi_alloc_pages(lo(base), hi(base), pages), 0);
  const lastPage = base + (pages - 1) * 4096;
  f.hv_phys_read(lo(lastPage), hi(lastPage), 0, 4096);
  assert.ok(linear().subarray(0, 4096).every((b) => b === ALLOCATION_PATTERN), 'the last page of a 256 MiB allocation reads as the pattern');
  f.hv_phys_zero(lo(base + 100), hi(base + 100), pages * 4096 - 200);
  const edges = m.physRead(base, 4096 * 2);
  assert.ok(edges.subarray(0, 100).every((b) => b === ALLOCATION_PATTERN), 'bytes before the zeroed range keep the pattern');
  assert.ok(edges.subarray(100).every((b) => b === 0), 'zeroed from the start of the range');
  assert.deepEqual([...m.physRead(base + pages * 4096 - 101, 2)], [0, ALLOCATION_PATTERN], 'zeroed to the end of the range, not beyond');
  linear().set([7], 0);
  f.hv_phys_write(lo(lastPage), hi(lastPage), 0, 1);
  assert.deepEqual([...m.physRead(lastPage, 2)], [7, 0], 'a write to a zeroed page keeps the rest zero');
  assert.equal(f.hv_efi_free_pages(lo(base), hi(base), pages), 0);
  assert.equal(f.hv_efi_alloc_pages(lo(base), hi(base), 1), 0);
  assert.ok(m.physRead(base, 4096).every((b) => b === ALLOCATION_PATTERN), 'a page allocated again holds the pattern again, not the last owner\'s data');
});
