// Live migration inside one simulated machine (kernel/services/migration/live.ts, `migrate`): a VM
// under the SVM guest model moves over the loopback buffer to a VM built from the stream;
// the moved vCPU starts exactly where the old one stopped (RIP, every register, RFLAGS),
// the old VM ends as migrated, every step is audited; bad requests are errors that leave
// the VM running.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { boot, ROOT } from '../sim/harness.mjs';
import { machineOptions } from '../sim/fixtures/machines.mjs';
import { SvmGuests } from '../sim/svm-guest.mjs';

execFileSync('make', ['-s', 'guests'], { cwd: ROOT, stdio: ['ignore', 'ignore', 'inherit'] });
const HELLO = readFileSync(join(ROOT, 'build', 'guests', 'hello.elf'));
const PROMPT = /(?:zerovisor> |ゼロバイザー> |zerovisor 控制台> )/; // in each language

const run = (input) => {
  const model = new SvmGuests(() => [...Array(40)].map(() => ({ cpuid: [1, 0] })).concat([{ idle: true }]));
  const m = boot({ ...machineOptions('qemu-q35-intel-iommu-smp4'), files: { '\\hello.elf': HELLO }, input: [...input, 'exit\r'], svmGuest: model.handler });
  const out = (command) => {
    const runs = m.serialText.split(PROMPT).slice(1).map((chunk) => chunk.split('\r\n')).filter((lines) => lines[0] === command);
    assert.ok(runs.length > 0, `"${command}" did not run:\n${m.serialText}`);
    return runs[0].slice(1, -1).join('\n');
  };
  return { m, model, out };
};

test('a VM moves over the loopback buffer: the new vCPU starts where the old one stopped; the old one ends as migrated', () => {
  const { model, out } = run(['vm create a --mem 4 --image \\hello.elf\r', 'vm start a\r', 'sleep 5\r',
    'trace on\r', 'migrate listen --via buffer --as b\r', 'migrate send a --via buffer\r', 'migrate wait --timeout 60\r', 'sleep 5\r', 'vm list\r', 'audit\r', 'migrate\r',
    'metrics\r', 'trace dump\r']);
  assert.deepEqual(model.problems, []);
  const wait = out('migrate wait --timeout 60');
  assert.match(wait, /VM 2 "b" \(4 MiB\) is arriving\./);
  assert.match(wait, /VM 2 "b" arrived and runs\./);
  assert.match(wait, /VM 1 "a" stopped: migrated to another host/);
  assert.match(wait, /1024 pages sent/);
  assert.match(out('vm list'), /^ +1 +a +stopped +4 +-\n +2 +b +running +4 +-$/m);
  const [a, b] = model.guests;
  assert.ok(b, 'the moved VM ran');
  assert.ok(a.records.length >= 2);
  // the old vCPU's last exit (a HLT the kernel stepped over) is where the new one starts
  const last = a.records.at(-1);
  assert.equal(last.kind, 'hlt');
  assert.equal(b.entry.rip, last.rip + BigInt(last.len), 'RIP: past the HLT');
  assert.deepEqual(b.entry.gprs.map((v, i) => (i === 0 || i === 4 ? null : v)), last.before.map((v, i) => (i === 0 || i === 4 ? null : v)), 'the GPRs the shim keeps');
  assert.equal(b.entry.rax, last.before[0], 'RAX (in the VMCB)');
  assert.ok(b.asid !== a.asid, 'its own ASID');
  const audit = out('audit');
  for (const re of [/vm\.migrate\.out +1 +2 +migration of a \(4 MiB\) started/, /vm\.create +2 +0 +VM "b" created with 4 MiB/,
    /vm\.pause +1 +2 +VM "a": running -> paused/, /vm\.migrate\.in +2 +0 +b arrived: 1024 pages/, /vm\.start +2 +1 +VM "b": created -> running/,
    /vm\.migrate\.out +1 +1 +a migrated: \d+ pages sent, downtime \d+ ms/, /vm\.stop +1 +3 +VM "a": paused -> stopped/]) assert.match(audit, re);
  assert.equal(out('migrate'), 'No migration under way.');
  const metrics = out('metrics');
  assert.match(metrics, /^zerovisor_migrations_total\{side="send",outcome="done"\} 1$/m);
  assert.match(metrics, /^zerovisor_migrations_total\{side="receive",outcome="done"\} 1$/m);
  assert.match(metrics, /^zerovisor_migration_pages_sent_total 1024$/m);
  assert.match(metrics, /^zerovisor_migration_wire_bytes_total [1-9]\d*$/m);
  assert.match(metrics, /^zerovisor_migration_frames_resent_total 0$/m, 'a loopback loses nothing');
  const trace = out('trace dump');
  assert.match(trace, /migration\.round +1 +1 +1024 +\d+/, 'round 1 of VM 1 sent every page');
  assert.match(trace, /migration\.round +1 +-1 +1024 +0/, 'and it ended');
});

test('bad requests are errors and the VM keeps running; a transport that is not there fails cleanly', () => {
  const { out, model } = run(['vm create a --mem 4 --image \\hello.elf\r', 'vm start a\r', 'migrate send nosuch\r', 'migrate send a --via carrier-pigeon\r',
    'migrate send a --max-downtime 0\r', 'migrate send a --bogus\r', 'migrate listen --as a\r', 'migrate wait --timeout x\r', 'migrate send a --via net0\r',
    'migrate frobnicate\r', 'vm list\r']);
  assert.deepEqual(model.problems, []);
  assert.match(out('migrate send nosuch'), /no VM "nosuch"/);
  assert.match(out('migrate send a --via carrier-pigeon'), /Unknown transport "carrier-pigeon": buffer, net0, snp or null\./);
  assert.match(out('migrate send a --max-downtime 0'), /Not a downtime in milliseconds \(1-60000\): "0"\./);
  assert.match(out('migrate send a --bogus'), /^migrate: unexpected argument "--bogus"\. Usage: migrate \[send/);
  assert.equal(out('migrate listen --as a'), 'migrate listen --as: "a" cannot be a name (1-32 characters, not used by another VM).');
  assert.match(out('migrate wait --timeout x'), /^migrate: unexpected argument "x"\. Usage: /);
  assert.match(out('migrate send a --via net0'), /Migration of VM 1 "a" failed \(the VM stays here\): /);
  assert.match(out('vm list'), /^ +1 +a +running +4 +-$/m, 'still running');
});

test('a migration the destination refuses (a VM of that name exists there) fails on both sides; the source runs on, nothing is left behind', () => {
  const { out, model } = run(['vm create a --mem 4 --image \\hello.elf\r', 'vm start a\r', 'sleep 5\r',
    'migrate listen --via buffer\r', 'migrate send a --via buffer\r', 'migrate wait --timeout 60\r', 'vm list\r', 'metrics\r', 'lang ja\r', 'migrate send a --via carrier-pigeon\r']);
  assert.deepEqual(model.problems, []);
  const wait = out('migrate wait --timeout 60');
  assert.match(wait, /The arriving migration failed \(nothing of it is kept\): a VM of that name exists here \(migrate listen --as <name>\)/);
  assert.match(wait, /Migration of VM 1 "a" failed \(the VM stays here\): the other side ended the migration/);
  assert.match(out('vm list'), /^ +1 +a +running +4 +-$/m);
  assert.doesNotMatch(out('vm list'), /^ +2 /m, 'no half-built VM');
  const metrics = out('metrics');
  assert.match(metrics, /^zerovisor_migrations_total\{side="send",outcome="failed"\} 1$/m);
  assert.match(metrics, /^zerovisor_migrations_total\{side="receive",outcome="failed"\} 1$/m);
  assert.match(out('migrate send a --via carrier-pigeon'), /不明な転送路「carrier-pigeon」/, 'errors in the console\'s language');
});

test('the MTRR state moves with the vCPU: the moved guest reads back the MTRR_DEF_TYPE it wrote before the move', () => {
  const MTRR_DEF_TYPE = 0x2ff;
  const WRITTEN = 0xc06; // E, FE, write-back default
  const model = new SvmGuests(({ index }) => index === 0
    ? [{ wrmsr: [MTRR_DEF_TYPE, WRITTEN] }, { rdmsr: MTRR_DEF_TYPE }, ...[...Array(40)].map(() => ({ cpuid: [1, 0] })), { idle: true }]
    : [{ rdmsr: MTRR_DEF_TYPE }, { idle: true }]);
  const m = boot({ ...machineOptions('qemu-q35-intel-iommu-smp4'), files: { '\\hello.elf': HELLO }, svmGuest: model.handler,
    input: ['vm create a --mem 4 --image \\hello.elf\r', 'vm start a\r', 'sleep 5\r', 'migrate listen --via buffer --as b\r',
      'migrate send a --via buffer\r', 'migrate wait --timeout 60\r', 'sleep 5\r', 'exit\r'] });
  assert.deepEqual(model.problems, []);
  assert.match(m.serialText, /VM 2 "b" arrived and runs\./);
  const [a, b] = model.guests;
  const readBefore = model.records(a, 'rdmsr')[0];
  assert.equal(readBefore.outcome.regs.rax & 0xffffffffn, BigInt(WRITTEN), 'the source reads what it wrote');
  assert.ok(b, 'the moved VM ran');
  const readAfter = model.records(b, 'rdmsr')[0];
  assert.ok(readAfter?.outcome, 'the moved VM read the MSR');
  assert.equal(readAfter.outcome.regs.rax & 0xffffffffn, BigInt(WRITTEN), 'and reads it back after the move');
  assert.equal(readAfter.outcome.regs.rdx & 0xffffffffn, 0n);
});
