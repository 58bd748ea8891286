// 10,000 mutated versions of the captured ACPI tables (and of tables with every structure
// kind): bit flips, bytes set, lengths cut or grown or absurd, sub-structure lengths and
// entry types changed, pointers sent to themselves, to other tables, into the middle of
// tables, to MMIO or past the memory map, duplicated root entries, another RSDP from the
// firmware; most of the time with the checksums made right again so the deeper checks are
// reached. One Wasm instance of the parser (tests/fixtures/kernels/acpi-fuzz.ts) scans
// them all. For every mutation:
//   - no trap, no read outside the memory map (the simulated machine's page fault), and
//     the scan ends (bounded host calls);
//   - no false parse: every record the kernel decoded (tables, problems, RSDP, FADT, MADT,
//     MCFG, HPET, DMAR, IVRS, the facts) equals what the reference decoder gets from the
//     same bytes, and a table the reference finds broken is reported by the kernel too.
// The parser's memory does not grow over all of it.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { machineOptions } from '../sim/fixtures/machines.mjs';
import { AcpiRig, fuzzModule, mutate, prng, pristineTables, withTables } from '../sim/acpi-fuzz.mjs';
import { syntheticDmar, syntheticIvrs, syntheticMadt } from '../sim/acpi-tables.mjs';

const MUTATIONS = 10000;
const SEED = 20261126;

test(`${MUTATIONS} mutated table sets: no crash, no hang, no false parse`, { timeout: 180000 }, (t) => {
  const started = performance.now();
  const module = fuzzModule();
  const scenarios = [
    ['q35 intel-iommu smp4', machineOptions('qemu-q35-intel-iommu-smp4')],
    ['q35 amd-iommu smp4', machineOptions('qemu-q35-amd-iommu-smp4')],
    ['q35 intel-iommu smp1', machineOptions('qemu-q35-intel-iommu-smp1')],
    ['q35 amd-iommu smp1', machineOptions('qemu-q35-amd-iommu-smp1')],
    ['intel with synthetic MADT and DMAR', withTables(machineOptions('qemu-q35-intel-iommu-smp4'), { APIC: syntheticMadt(), DMAR: syntheticDmar() })],
    ['amd with synthetic MADT and IVRS', withTables(machineOptions('qemu-q35-amd-iommu-smp4'), { APIC: syntheticMadt(), IVRS: syntheticIvrs() })],
  ].map(([name, options]) => {
    const rig = new AcpiRig(options, module);
    rig.scan();
    assert.deepEqual(rig.read(), rig.reference(), `${name}: pristine tables`);
    assert.equal(rig.read().problemsFound, 0, `${name}: pristine tables have no problem`);
    return { name, rig, pristine: pristineTables(rig), memory: rig.memory.buffer.byteLength, reads: 0 };
  });
  const rng = prng(SEED);
  let withProblems = 0;
  let problems = 0;
  let maxReads = 0;
  for (let i = 0; i < MUTATIONS; i++) {
    const s = scenarios[i % scenarios.length];
    const { rig } = s;
    const what = mutate(rig, rng, s.pristine);
    const readsBefore = rig.machine.hostCalls;
    try {
      rig.scan();
    } catch (e) {
      assert.fail(`mutation ${i} (${s.name}: ${what}): the scan failed: ${e.message}`);
    }
    maxReads = Math.max(maxReads, rig.machine.hostCalls - readsBefore);
    const got = rig.read();
    const want = rig.reference();
    if (JSON.stringify(got) !== JSON.stringify(want)) {
      const differ = Object.keys(want).filter((k) => JSON.stringify(got[k]) !== JSON.stringify(want[k]));
      assert.deepEqual(Object.fromEntries(differ.map((k) => [k, got[k]])), Object.fromEntries(differ.map((k) => [k, want[k]])),
        `mutation ${i} (${s.name}: ${what}): the kernel decoded something else than the reference`);
    }
    if (got.problemsFound > 0) withProblems++;
    problems += got.problemsFound;
    rig.undo();
  }
  for (const s of scenarios) assert.equal(s.rig.memory.buffer.byteLength, s.memory, `${s.name}: the parser's memory grew`);
  // Bounded work: even a table set made of 1 MiB tables is read in a few hundred host calls.
  assert.ok(maxReads < 3000, `a scan made ${maxReads} host calls`);
  assert.ok(withProblems > MUTATIONS / 3, `only ${withProblems} mutations were found broken: the mutations are too mild`);
  const seconds = (performance.now() - started) / 1000;
  t.diagnostic(`${MUTATIONS} mutations in ${seconds.toFixed(1)} s; ${withProblems} with problems (${problems} problems); at most ${maxReads} host calls per scan`);
});
