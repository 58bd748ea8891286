// The dirty log of a live migration, both ways (kernel/vm/dirty-log.ts): a guest under
// the SVM model keeps writing pages while it moves over the loopback buffer, with the nested
// tables' D bits (ad) and with write-protection (wp, a nested page fault at each first write).
// What the user checks: the move succeeds (the receiver verifies the whole memory against the
// sender's hash), every written page is the same on both sides, the console says which log was
// used; a wp migration that fails leaves the VM with its write access (no more faults); a
// guest that writes faster than its pages go is throttled until the migration converges
// (auto-converge). Host calls cost 10 us of machine time here, so that sending takes long
// next to the guest's writes, as it does on a real link.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { boot, ROOT } from '../sim/harness.mjs';
import { machineOptions } from '../sim/fixtures/machines.mjs';
import { SvmGuests, nptMappings, nptTranslate } from '../sim/svm-guest.mjs';

execFileSync('make', ['-s', 'guests'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
const HELLO = readFileSync(join(ROOT, 'build', 'guests', 'hello.elf'));
const PROMPT = /(?:zerovisor> |ゼロバイザー> |zerovisor 控制台> )/;
/** Write k: a word of one of `pages` pages from 2 MiB on. */
const target = (k, pages) => 0x200000 + ((k * 37) % pages) * 4096 + (k % 1024) * 4;

const run = (input, { writes = 6000, pages = 300, micros = 500 } = {}) => {
  // the source writes a word every `micros` (a host interrupt after each store: an exit
  // that ends nothing), then idles; the moved copy idles
  const writer = [];
  for (let k = 0; k < writes; k++) writer.push({ store: [target(k, pages), 0x5a000000 + k] }, { intr: true, micros });
  writer.push({ idle: true });
  const model = new SvmGuests(({ index }) => (index === 0 ? writer : [{ idle: true }]));
  const m = boot({ ...machineOptions('qemu-q35-intel-iommu-smp4'), files: { '\\hello.elf': HELLO }, input: [...input, 'exit\r'], svmGuest: model.handler,
    hostCallTicks: 30000 });
  const out = (command) => {
    const runs = m.serialText.split(PROMPT).slice(1).map((chunk) => chunk.split('\r\n')).filter((lines) => lines[0] === command);
    assert.ok(runs.length > 0, `"${command}" did not run:\n${m.serialText}`);
    return runs[0].slice(1, -1).join('\n');
  };
  return { m, model, out };
};

const page = (m, g, gpa) => m.physRead(nptTranslate(m, g.ncr3, BigInt(gpa)).hpa, 4096);

/** Every page the source wrote is the same at the destination. */
const samePages = (m, a, b, writes, pages) => {
  const written = new Set();
  for (let k = 0; k < writes; k++) written.add(target(k, pages) & ~0xfff);
  for (const gpa of written) assert.deepEqual(page(m, b, gpa), page(m, a, gpa), `page 0x${gpa.toString(16)}`);
};

for (const log of ['ad', 'wp']) {
  test(`--dirty-log ${log}: a guest that keeps writing moves with every page it wrote, as it was at the pause`, () => {
    const send = `migrate send a --via buffer --dirty-log ${log}`;
    const { m, model, out } = run(['vm create a --mem 4 --image \\hello.elf\r', 'vm start a\r', 'sleep 2\r',
      'migrate listen --via buffer --as b\r', `${send}\r`, 'migrate wait --timeout 60\r', 'vm list\r']);
    assert.deepEqual(model.problems, []);
    const [a, b] = model.guests;
    assert.ok(b, 'the moved VM ran');
    assert.ok(a.next < a.actions.length - 1, 'the source was still writing when it paused');
    const wait = out('migrate wait --timeout 60');
    assert.match(wait, /VM 2 "b" arrived and runs\./);
    assert.match(wait, /^VM 1 "a" paused for the last [1-9]\d* pages and its state\.$/m, 'the guest wrote pages after they went: they go again');
    if (log === 'ad') {
      assert.match(out(send), /^ {2}dirty pages: the nested page tables' dirty bits \(--dirty-log ad\)$/m);
      assert.match(wait, /^ {2}dirty pages tracked by the nested page tables' dirty bits$/m);
      assert.equal(a.storeFaults, 0, 'no write faults');
    } else {
      assert.match(out(send), /^ {2}dirty pages: write-protection, a fault at the guest's first write to a page in each round \(--dirty-log wp\)$/m);
      const faults = Number(wait.match(/^ {2}dirty pages tracked by write-protection: (\d+) write faults$/m)?.[1]);
      assert.ok(faults > 0, `write faults counted:\n${wait}`);
      assert.equal(faults, a.storeFaults, 'each fault the guest took, counted once');
      for (const r of model.records(a, 'npf')) assert.equal(r.outcome?.advance ?? 0, 0, 'a faulting store runs again (RIP stays)');
    }
    samePages(m, a, b, 6000, 300);
    assert.match(out('vm list'), /^ +1 +a +stopped +4 +-\n +2 +b +running +4 +-$/m);
  });
}

test('--dirty-log wp: a migration that fails gives the VM its write access back; it writes on without faults', () => {
  const { m, model, out } = run(['vm create a --mem 4 --image \\hello.elf\r', 'vm start a\r', 'sleep 2\r',
    'migrate listen --via buffer\r', 'migrate send a --via buffer --dirty-log wp\r', 'migrate wait --timeout 60\r', 'sleep 100\r', 'vm list\r',
    'migrate send a --dirty-log xy\r', 'lang ja\r', 'migrate send a --dirty-log xy\r']);
  assert.deepEqual(model.problems, []);
  const [a] = model.guests;
  assert.match(out('migrate wait --timeout 60'), /Migration of VM 1 "a" failed \(the VM stays here\): the other side ended the migration/);
  assert.match(out('vm list'), /^ +1 +a +running +4 +-$/m);
  for (const map of nptMappings(m, a.ncr3)) assert.equal(map.flags, 7n, `RAM 0x${map.gpa.toString(16)}+0x${map.bytes.toString(16)} is writable again`);
  // the guest went on writing during `sleep 100`, without faults after the last one the log took
  const lastFault = a.records.findLastIndex((r) => r.kind === 'npf');
  assert.ok(a.storeFaults > 0 && lastFault >= 0, 'the log write-protected the guest while it lasted');
  assert.ok(a.records.slice(lastFault + 1).filter((r) => r.kind === 'intr').length >= 100, 'many stores after it, none faulting');
  assert.match(out('migrate send a --dirty-log xy'), /Unknown dirty log "xy": ad \(the nested page tables' dirty bits\) or wp \(write-protection\)\./);
  assert.match(m.serialText, /不明なダーティログ「xy」/, 'in the console\'s language');
});

test('auto-converge: a guest that writes faster than its pages go gets less and less of the processor until the rest fits the downtime', () => {
  const send = 'migrate send a --via buffer --max-downtime 5';
  const { m, model, out } = run(['vm create a --mem 4 --image \\hello.elf\r', 'vm start a\r', 'sleep 2\r',
    'migrate listen --via buffer --as b\r', `${send}\r`, 'migrate wait --timeout 60\r', 'vm list\r'], { writes: 100000, pages: 500, micros: 20 });
  assert.deepEqual(model.problems, []);
  const [a, b] = model.guests;
  const wait = out('migrate wait --timeout 60');
  const shares = [...wait.matchAll(/^ {2}auto-converge: the guest writes faster than its pages go; it now gets (\d+)% of the processor$/gm)].map((x) => Number(x[1]));
  assert.ok(shares.length >= 2, `throttled step by step:\n${wait}`);
  assert.ok(shares.every((v, i) => i === 0 || v < shares[i - 1]), `each step gives the guest less: ${shares}`);
  const rounds = Number(wait.match(/^ {2}(\d+) rounds, /m)?.[1]);
  assert.ok(rounds > shares.length && rounds < 30, `it converged before the round limit: ${rounds} rounds`);
  assert.match(wait, new RegExp(`^ {2}auto-converge: the guest got ${shares.at(-1)}% of the processor at the end$`, 'm'));
  assert.ok(a.next < a.actions.length - 1, 'the guest was still writing when it paused');
  samePages(m, a, b, 100000, 500);
  assert.match(out('vm list'), /^ +2 +b +running +4 +-$/m);
});
