// Guests in VMs for real: build/zerovisor.efi runs the test guests (build/guests, built by
// `make guests`), driven by startup.zv, on every platform that exercises a back end: AMD
// SVM with nested paging in QEMU TCG -cpu EPYC (no NRIPS: RIP advances come from decoding)
// and in Bochs ryzen (NRIPS), Intel VMX with EPT in Bochs corei7_skylake_x. One table lists
// each scenario once with the platforms it runs on; the checks are the same everywhere.
import { test, before } from 'node:test';
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, dirname, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { dirtyRoundLines } from '../guests/dirty-reference.mjs';
import { guestLines, joined, section } from './two-hosts.mjs';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..', '..');
const efi = join(root, 'build/zerovisor.efi');
const guests = join(root, 'build/guests');
const GUEST_FILES = ['hello.elf', 'probe.elf', 'dirty.elf', 'oob.elf', 'triple.elf', 'hello.bin', 'strio.elf', 'pit.elf', 'irq.elf', 'mmio.elf'];

before(() => {
  const r = spawnSync('make', ['--no-print-directory', 'build/zerovisor.efi', 'guests'], { cwd: root, encoding: 'utf8' });
  assert.equal(r.status, 0, `make failed:\n${r.stdout}${r.stderr}`);
});

const runScript = (runner, lines, extra = []) => {
  const dir = mkdtempSync(join(tmpdir(), 'zv-vm-'));
  writeFileSync(join(dir, 'startup.zv'), lines.join('\n') + '\n');
  const files = GUEST_FILES.flatMap((f) => ['-f', `${join(guests, f)}:${f}`]);
  const r = spawnSync(join(root, 'toolchain', runner), ['--timeout', '400', '--script', join(dir, 'startup.zv'), ...files, ...extra, efi], { encoding: 'utf8', maxBuffer: 16 << 20 });
  return { code: r.status, out: r.stdout, err: r.stderr };
};

const GUESTS_SCENARIO = {
  name: 'five guests, two at once; output, exit status, NPF, a flat binary, CPUID and MSR policy, list and audit',
  lines: [
    'vm create hello --mem 16 --image \\hello.elf --cmdline "console=ttyS0 quiet"',
    'vm create probe --mem 8 --image \\probe.elf',
    'vm create dirty --mem 8 --image \\dirty.elf --cmdline "pages=8 rate=3 rounds=40"',
    'vm create oob --mem 8 --image \\oob.elf',
    'vm create flat --mem 4 --image \\hello.bin --entry 100000',
    'vm create bad --mem 4 --image \\startup.zv',
    'vm start hello',
    'vm start dirty',
    'vm start probe',
    'vm wait hello --timeout 60',
    'vm wait dirty --timeout 60',
    'vm wait probe --timeout 60',
    'vm start oob',
    'vm start flat',
    'vm wait oob --timeout 60',
    'vm wait flat --timeout 60',
    'vm start hello',
    'vm info hello',
    'vm info oob',
    'vm list',
    'audit',
    'vm destroy flat',
    'exit 0',
  ],
  code: 0,
  check: (out) => {
    // hello: the Multiboot information (command line, memory) arrived; exit status 42
    assert.deepEqual(guestLines(out, 'hello'), [
      'hello from a Zerovisor guest',
      'cmdline: console=ttyS0 quiet',
      `mem_upper: ${15 * 1024}`,
      'mmap 0x0 0xa0000 1',
      'mmap 0xa0000 0x60000 2',
      'mmap 0x100000 0xf00000 1',
    ]);
    const hello = section(out, 'vm info hello');
    assert.match(hello, /VM 1 "hello": stopped/);
    assert.match(hello, /Exit status: 42/);
    assert.match(hello, /Stopped because: the guest wrote 42 to port 0xF4/);
    assert.match(hello, /^ +io +[1-9]\d*\r?$/m);

    // probe: hypervisor bit and Zerovisor's leaf; SVM hidden; a denied MSR is a #GP
    const probe = guestLines(out, 'probe');
    // leaf 1 ECX (SDM vol. 2A table 3-10): hypervisor (31) set; VMX (5), XSAVE (26), OSXSAVE (27)
    // and AVX (28) hidden, though Bochs skylake and QEMU EPYC have XSAVE and Bochs skylake VMX
    const leaf1 = /^cpuid 0x1 ecx 0x([0-9a-f]+) edx 0x[0-9a-f]+ hypervisor 1$/m.exec(probe.join('\n'));
    assert.ok(leaf1, probe.join('\n'));
    const ecx = parseInt(leaf1[1], 16);
    assert.equal(ecx >>> 31, 1, 'hypervisor bit');
    for (const [bit, name] of [[5, 'VMX'], [26, 'XSAVE'], [27, 'OSXSAVE'], [28, 'AVX']]) assert.equal((ecx >>> bit) & 1, 0, `${name} hidden: ecx 0x${leaf1[1]}`);
    assert.equal((ecx >>> 0) & 1, 1, `SSE3 passed through: ecx 0x${leaf1[1]}`);
    assert.ok(probe.includes('cpuid 0x40000000 eax 0x40000000 signature ZerovisorZV.'), probe.join('\n'));
    assert.ok(probe.some((l) => /^cpuid 0x80000001 .* svm 0$/.test(l)), probe.join('\n'));
    assert.ok(probe.includes('msr 0xc0010114: #GP'));
    assert.ok(probe.includes('probe done'));

    // the memory writer, running at the same time as two others: its checksums are exact
    const dirty = guestLines(out, 'dirty').filter((l) => l.startsWith('round '));
    assert.deepEqual(dirty, dirtyRoundLines(8, 3, 40));

    // isolation: reading outside its RAM stops the VM with a nested page fault, audited
    assert.match(section(out, 'vm info oob'), /Stopped because: it touched guest-physical 0x0000000001800000, outside its memory/);
    assert.deepEqual(guestLines(out, 'flat'), ['hello from a Zerovisor guest']);
    assert.match(out, /VM 5 "flat" stopped: the guest wrote 43 to port 0xF4/);
    assert.match(out, /vm create: \\startup\.zv is not a usable image: no Multiboot header in its first 8 KiB\./);
    assert.match(out, /vm: VM 1 "hello" is stopped; it cannot be running\./);

    const list = section(out, 'vm list');
    for (const row of [/^ +1 +hello +stopped +16 +42/m, /^ +2 +probe +stopped +8 +17/m, /^ +3 +dirty +stopped +8 +34/m, /^ +4 +oob +stopped +8 +-/m]) assert.match(list, row);
    const audit = section(out, 'audit');
    assert.match(audit, /vm\.create .*VM "hello" created with 16 MiB/);
    assert.match(audit, /vm\.start .*VM "hello": created -> running/);
    assert.match(audit, /vm\.stop .*VM "oob" stopped: access to guest-physical 0x0000000001800000 outside its memory/);
    assert.match(section(out, 'vm destroy flat'), /VM 5 "flat" destroyed/);
  },
};

const TRIPLE_SCENARIO = {
  name: 'guests that triple-fault, halt with interrupts off or reset the machine (0xCF9, 8042) stop alone; a VM running beside them finishes',
  lines: [
    'vm create triple --mem 4 --image \\triple.elf',
    'vm create hello --mem 8 --image \\hello.elf --cmdline "beside"',
    'vm create halt --mem 4 --image \\triple.elf --cmdline halt',
    'vm create cf9 --mem 4 --image \\triple.elf --cmdline cf9',
    'vm create kbd --mem 4 --image \\triple.elf --cmdline kbd',
    'vm start triple',
    'vm start hello',
    'vm start halt',
    'vm start cf9',
    'vm start kbd',
    'vm wait triple --timeout 120',
    'vm wait hello --timeout 120',
    'vm wait halt --timeout 120',
    'vm wait cf9 --timeout 120',
    'vm wait kbd --timeout 120',
    'vm info halt',
    'vm list',
    'exit 9',
  ],
  code: 9,
  check: (out) => {
    assert.match(out, /\[triple\] about to triple-fault/);
    assert.match(out, /VM 1 "triple" stopped: triple fault \(shutdown\) at 0x[0-9a-f]{8}/);
    assert.deepEqual(guestLines(out, 'hello').slice(0, 2), ['hello from a Zerovisor guest', 'cmdline: beside']);
    const list = section(out, 'vm list');
    assert.match(list, /^ +1 +triple +stopped +4 +-/m);
    assert.match(list, /^ +2 +hello +stopped +8 +42/m);
    // HLT with IF=0: nothing could wake it; it stops, and the HLT is where it stopped
    assert.deepEqual(guestLines(out, 'halt'), ['about to halt with interrupts off']);
    assert.match(section(out, 'vm info halt'), /Stopped because: HLT with interrupts off at 0x001[0-9a-f]{5}\r?$/m);
    assert.match(list, /^ +3 +halt +stopped +4 +-/m);
    // a reset through 0xCF9 (SYS_RST, then RST_CPU rising) or the 8042's 0xFE stops the VM
    assert.deepEqual(guestLines(out, 'cf9'), ['about to reset through port 0xcf9']);
    assert.match(out, /VM 4 "cf9" stopped: it reset the machine \(port 0x0cf9\)/);
    assert.deepEqual(guestLines(out, 'kbd'), ['about to reset through the keyboard controller']);
    assert.match(out, /VM 5 "kbd" stopped: it reset the machine \(port 0x0064\)/);
  },
};

const LIFECYCLE_SCENARIO = {
  name: 'a guest that never gives the CPU back is time-sliced (VMX preemption timer; SVM host interrupts), paused, resumed and stopped from the console while another VM finishes',
  lines: [
    'vm create spin --mem 8 --image \\dirty.elf --cmdline "pages=64 rate=20000 rounds=0"',
    'vm create hello --mem 8 --image \\hello.elf --cmdline "beside"',
    'vm start spin',
    'vm start hello',
    'vm wait hello --timeout 120',
    'vm pause spin',
    'vm info spin',
    'vm resume spin',
    'sleep 1000',
    'vm stop spin',
    'vm info spin',
    'audit',
    'exit 11',
  ],
  code: 11,
  check: (out, platform) => {
    // spin writes 20,000 pages between two lines of output: only the timer takes the CPU back
    assert.deepEqual(guestLines(out, 'hello').slice(0, 2), ['hello from a Zerovisor guest', 'cmdline: beside']);
    assert.match(out, /VM 2 "hello" stopped: the guest wrote 42 to port 0xF4/);
    assert.match(section(out, 'vm info spin'), /VM 1 "spin": paused/);
    const stopped = out.split('vm info spin').at(-1);
    assert.match(stopped, /VM 1 "spin": stopped/);
    assert.match(stopped, /Stopped because: stopped by the operator/);
    // what ends the slices of a guest that never exits: the VMX preemption timer (its own
    // exit row, "slice"), or on SVM the host timer's interrupt (INTR intercept)
    const exitsOf = (name) => Number(new RegExp(`^ +${name} +(\\d+)\\r?$`, 'm').exec(stopped)?.[1] ?? -1);
    assert.ok(exitsOf(platform.slicer) >= 10, `time slices ended by the ${platform.slicer} exit: ${exitsOf(platform.slicer)}\n${stopped}`);
    const audit = section(out, 'audit');
    for (const t of [/vm\.pause .*VM "spin": running -> paused/, /vm\.resume .*VM "spin": paused -> running/, /vm\.stop .*VM "spin": running -> stopped/]) assert.match(audit, t);
  },
};

/**
 * The memory writer moves inside the host; `log`: the dirty log (ad: the nested tables' D bits,
 * wp: write-protection). The guest writes until stopped; the script waits for its lines (2
 * rounds before the move, 2 lines after it), not for a time, however fast the emulator runs it.
 */
const migrationScenario = (log) => ({
  name: `the running memory writer migrates inside the host (loopback buffer, --dirty-log ${log}) and goes on with its checksum sequence unbroken`,
  lines: [
    'vm create dirty --mem 8 --image \\dirty.elf --cmdline "pages=64 rate=8"',
    'vm start dirty',
    'vm wait dirty --output "round 2 checksum" --timeout 200',
    'migrate listen --via buffer --as moved',
    `migrate send dirty --via buffer --dirty-log ${log}`,
    'migrate wait --timeout 200',
    'vm wait moved --output checksum --timeout 200',
    'vm wait moved --output checksum --timeout 200',
    'vm stop moved',
    'vm list',
    'audit',
    'exit 9',
  ],
  code: 9,
  check: (out) => {
    const src = guestLines(out, 'dirty');
    const dst = guestLines(out, 'moved');
    assert.ok(src.filter((l) => l.startsWith('round ')).length >= 2, 'the guest ran on the source first');
    assert.ok(dst.filter((l) => l.startsWith('round ')).length >= 2, 'and went on at the destination');
    // (the destination's last line may be cut short by `vm stop`: left out)
    const rounds = joined(src, dst.slice(0, -1)).filter((l) => l.startsWith('round '));
    assert.ok(rounds.length > src.length, 'whole rounds from the destination too');
    assert.deepEqual(rounds, dirtyRoundLines(64, 8, rounds.length), 'one unbroken checksum sequence, as the reference computes it');
    const wait = section(out, 'migrate wait --timeout 200');
    assert.match(wait, /VM 2 "moved" \(8 MiB\) is arriving\./);
    assert.match(wait, /VM 1 "dirty" paused for the last \d+ pages and its state\./);
    assert.match(wait, /VM 2 "moved" arrived and runs\./);
    assert.match(wait, /VM 1 "dirty" migrated in \d+\.\d ms; downtime \d+\.\d ms\./);
    if (log === 'ad') assert.match(wait, /dirty pages tracked by the nested page tables' dirty bits/);
    else {
      const faults = Number(/dirty pages tracked by write-protection: (\d+) write faults/.exec(wait)?.[1] ?? 0);
      assert.ok(faults > 0, `the guest's writes faulted on write-protected pages: ${faults}`);
    }
    const list = section(out, 'vm list');
    assert.match(list, /^ +1 +dirty +stopped +8 +-/m, 'the source stopped (migrated)');
    assert.match(list, /^ +2 +moved +stopped +8 +-/m, 'the destination ran until stopped from the console');
    assert.match(out, /VM 1 "dirty" stopped: migrated to another host/);
    const audit = section(out, 'audit');
    assert.match(audit, /vm\.migrate\.in +2 +0 +moved arrived: 2048 pages/);
    assert.match(audit, /vm\.migrate\.out +1 +1 +dirty migrated: \d+ pages sent, downtime \d+ ms/);
  },
});

/** What tests/guests/strio.zig prints when every string I/O and paged exit was handled right. */
const STRIO_LINES = [
  'strio: rep outsb to COM1',
  'strio: rep outsb with an FS override',
  'rep outsb, DF=1: backwards',
  'strio: rep insb from port 0x2f0 read 8 x 0xff',
  'strio: paging on',
  'paged: rep outsb through the alias',
  'paged: cpuid 0x40000000 at 0x40100339 ebx 0x6f72655a',
  'paged: rep outsb through the alias',
  'paged: cpuid 0x40000000 at 0x80100339 ebx 0x6f72655a',
  'paged: rep insb from port 0x2f0 read 8 x 0xff',
  'strio: PAE paging on',
  'pae: rep outsb through the alias',
  'pae: cpuid 0x40000000 at 0x40300339 ebx 0x6f72655a',
  'pae: rep outsb through the alias',
  'pae: cpuid 0x40000000 at 0x80300339 ebx 0x6f72655a',
  'strio: entering 64-bit mode',
  'long: rep outsb at the 4-level alias',
  'long: cpuid 0x40000000 ebx 0x6f72655a',
];

const STRIO_SCENARIO = {
  name: 'INS/OUTS (REP, DF=1, segment override) and exits at paged linear addresses in 32-bit, PAE and 4-level paging (decoded through the guest page tables)',
  lines: [
    'vm create strio --mem 8 --image \\strio.elf',
    'vm start strio',
    'vm wait strio --timeout 200',
    'vm list',
    'metrics',
    'exit 7',
  ],
  code: 7,
  check: (out, platform) => {
    const lines = guestLines(out, 'strio');
    assert.deepEqual(lines.map((l) => l.replace(/ at 0x[0-9a-f]{8}/, ' at ADDR')), STRIO_LINES.map((l) => l.replace(/ at 0x[0-9a-f]{8}/, ' at ADDR')));
    assert.match(lines[6], / at 0x401[0-9a-f]{5} /, 'the 4 MiB alias');
    assert.match(lines[8], / at 0x801[0-9a-f]{5} /, 'the 4 KiB-page alias');
    assert.match(lines[12], / at 0x403[0-9a-f]{5} /, 'the 2 MiB-page alias (PAE)');
    assert.match(lines[14], / at 0x803[0-9a-f]{5} /, 'the 4 KiB-page alias (PAE)');
    assert.match(section(out, 'vm list'), /^ +1 +strio +stopped +8 +42/m, 'the exit status came through OUTSB at a 64-bit linear address above 4 GiB');
    // where the processor reports instruction lengths (NRIPS, VMX), it and the decoder agreed on every exit
    if (platform.lengths) assert.match(section(out, 'metrics'), /^zerovisor_nrips_decoder_mismatches_total 0\r?$/m);
  },
};

const PIT_SCENARIO = {
  name: 'the 8254 PIT and port 0x61: a TSC calibrated against channel 2 as Linux does, counter latch, read-back status, gate',
  lines: [
    'time',
    'vm create pit --mem 4 --image \\pit.elf',
    'vm start pit',
    'vm wait pit --timeout 200',
    'vm list',
    'exit 5',
  ],
  code: 5,
  check: (out) => {
    const lines = guestLines(out, 'pit');
    assert.deepEqual(lines.slice(1), ['pit: channel 0 latched count in 1..1000', 'pit: channel 0 status 0x34', 'pit: gate low holds channel 2'], lines.join('\n'));
    // the guest's 50 ms of channel 2 measure the TSC Zerovisor knows, within 2 %
    const khz = Number(/^pit: tsc (\d+) kHz$/.exec(lines[0])?.[1]);
    const mhz = Number(/TSC frequency: (\d+\.\d+) MHz/.exec(section(out, 'time'))?.[1]);
    assert.ok(mhz > 0 && Math.abs(khz / 1000 - mhz) / mhz < 0.02, `guest ${khz} kHz, Zerovisor ${mhz} MHz`);
    assert.match(section(out, 'vm list'), /^ +1 +pit +stopped +4 +42/m);
  },
};

/** A `{us}` timing line of the irq guest: within `tolerance` of `expected` microseconds. */
const timed = (lines, re, expected, tolerance) => {
  const line = lines.find((l) => re.test(l));
  assert.ok(line, `no line matching ${re} in:\n${lines.join('\n')}`);
  const us = Number(re.exec(line)[1]);
  assert.ok(Math.abs(us - expected) <= expected * tolerance, `${line}: expected ${expected} us within ${tolerance * 100} %`);
  return us;
};

const IRQ_SCENARIO = {
  name: 'interrupts as an OS takes them: PIT through the PIC and the I/O APIC, LAPIC timer modes, x2APIC, IPIs, NMI, UART IRQ 4',
  lines: [
    'time',
    'vm create irq --mem 4 --image \\irq.elf',
    'vm start irq',
    'vm wait irq --timeout 300',
    'vm info irq',
    'exit 5',
  ],
  code: 5,
  check: (out) => {
    const lines = guestLines(out, 'irq');
    const khz = Number(/^irq: tsc (\d+) kHz$/.exec(lines[0])?.[1]);
    const mhz = Number(/TSC frequency: (\d+\.\d+) MHz/.exec(section(out, 'time'))?.[1]);
    assert.ok(mhz > 0 && Math.abs(khz / 1000 - mhz) / mhz < 0.02, `guest ${khz} kHz, Zerovisor ${mhz} MHz`);
    for (const exact of ['pic: imr 0xfe', 'pic: isr 0x00', 'ioapic: version 0x170011', 'lapic: version 0x50014',
      'lapic: self ipi 1, nmi 1, esr 0x0', 'x2apic: base 0xfee00d00, version 0x50014, mmio 0xffffffff',
      'x2apic: self ipi 2, deadline fired', 'uart: thre 1', 'irq: unexpected 0']) {
      assert.ok(lines.includes(exact), `"${exact}" missing:\n${lines.join('\n')}`);
    }
    assert.ok(lines.some((l) => /^uart: loopback ping via [1-4] interrupts$/.test(l)), lines.join('\n'));
    // 1 kHz from the PIT (channel 0, mode 2) and from the LAPIC timer (periodic, divide 1); the
    // bounds leave room for an emulator on a loaded machine (timings: bench/interrupts.mjs)
    timed(lines, /^pic: 100 irq0 in (\d+) us$/, 100000, 0.25);
    timed(lines, /^ioapic: 50 irq0 in (\d+) us$/, 50000, 0.25);
    timed(lines, /^lapic: periodic 50 in (\d+) us$/, 50000, 0.25);
    const oneShot = /^lapic: one-shot after (\d+) us, count (\d+)$/.exec(lines.find((l) => l.startsWith('lapic: one-shot')) ?? '');
    assert.ok(oneShot && Number(oneShot[1]) >= 4950 && Number(oneShot[1]) < 25000 && oneShot[2] === '0', `one-shot: ${oneShot}`);
    // the guest's own check: never before the deadline ("fired early" would not match)
    const late = /^lapic: deadline fired (\d+) us late, armed 0$/.exec(lines.find((l) => l.startsWith('lapic: deadline')) ?? '');
    assert.ok(late && Number(late[1]) < 20000, `TSC-deadline: ${lines.find((l) => l.startsWith('lapic: deadline'))}`);
    // vm info counts what went in, by vector
    const info = section(out, 'vm info irq');
    const vector = (v) => Number(new RegExp(`vector 0x${v} +(\\d+)`).exec(info)?.[1] ?? 0);
    assert.ok(vector('20') >= 100 && vector('50') >= 50 && vector('40') >= 52 && vector('41') === 2 && vector('24') >= 2, info);
    assert.match(info, /Interrupts injected: \d+; NMIs: 1/);
  },
};

const RESTART_SCENARIO = {
  name: 'vm create --on-reset restart: a guest that resets (0xCF9, the 8042) starts again from its image; a bad choice is refused',
  lines: [
    'vm create cf9 --mem 4 --image \\triple.elf --cmdline cf9 --on-reset restart',
    'vm create kbd --mem 4 --image \\triple.elf --cmdline kbd --on-reset restart',
    'vm create bad --mem 4 --image \\triple.elf --on-reset reboot',
    'vm start cf9',
    'vm start kbd',
    // each wait sees a line printed after it began: three boots of each at least
    ...[1, 2, 3].flatMap(() => ['vm wait cf9 --output "about to reset" --timeout 120', 'vm wait kbd --output "about to reset" --timeout 120']),
    'vm info cf9',
    'vm info kbd',
    'vm stop cf9',
    'vm stop kbd',
    'vm list',
    'exit 9',
  ],
  code: 9,
  check: (out) => {
    assert.match(out, /--on-reset takes "restart" or "stop", not "reboot"/);
    for (const [name, said] of [['cf9', 'about to reset through port 0xcf9'], ['kbd', 'about to reset through the keyboard controller']]) {
      const lines = guestLines(out, name);
      assert.ok(lines.filter((l) => l === said).length >= 3, `${name} restarted and ran again:\n${lines.join('\n')}`);
      assert.ok(!lines.includes('survived the reset'), lines.join('\n'));
      const info = section(out, `vm info ${name}`);
      assert.match(info, new RegExp(`"${name}": running`));
      const restarts = Number(/Restarts after a reset by the guest \(--on-reset restart\): (\d+)/.exec(info)?.[1]);
      assert.ok(restarts >= 2, info);
    }
    assert.doesNotMatch(section(out, 'vm list'), / bad /);
  },
};

const HALT_SCENARIO = {
  name: 'a guest halted with interrupts on and nothing armed stays halted: no exits, no false stop',
  lines: [
    'vm create idle --mem 4 --image \\irq.elf --cmdline halt',
    'vm start idle',
    'vm wait idle --output "halt: sleeping" --timeout 120',
    'vm info idle',
    'sleep 2000',
    'vm info 1',
    'vm stop idle',
    'vm list',
    'exit 5',
  ],
  code: 5,
  check: (out) => {
    const before = section(out, 'vm info idle');
    const after = section(out, 'vm info 1');
    for (const info of [before, after]) {
      assert.match(info, /VM 1 "idle": running/);
      assert.match(info, /The vCPU is halted \(HLT\), waiting for an interrupt/);
    }
    const exits = (info) => [...info.matchAll(/^ +([a-z]+) +(\d+)$/gm)].map((m) => `${m[1]} ${m[2]}`).join(', ');
    assert.equal(exits(after), exits(before), 'no exit while halted with nothing armed');
    assert.match(section(out, 'vm list'), /^ +1 +idle +stopped +4/m);
  },
};

/** The forms tests/guests/mmio.zig runs: 221 in 32-bit protected mode, 44 in 64-bit mode. */
const MMIO_FORMS = 265;

const MMIO_SCENARIO = {
  name: 'MMIO emulation: every instruction form on the local APIC timer\'s TMICT leaves registers, flags and memory as on RAM; an undecodable one stops the VM with its bytes',
  lines: [
    'vm create mmio --mem 4 --image \\mmio.elf',
    'vm create undec --mem 4 --image \\mmio.elf --cmdline undecodable',
    'vm start mmio',
    'vm wait mmio --timeout 300',
    'vm start undec',
    'vm wait undec --timeout 60',
    'vm info undec',
    'vm list',
    'exit 6',
  ],
  code: 6,
  check: (out) => {
    // each form on RAM and on TMICT: "mmio: <form> differs: ..." lines would come between these
    assert.deepEqual(guestLines(out, 'mmio'), [
      `mmio: ${MMIO_FORMS} forms declared`,
      'mmio: long mode',
      `mmio: ${MMIO_FORMS} forms, 0 differ`,
    ]);
    const list = section(out, 'vm list');
    assert.match(list, /^ +1 +mmio +stopped +4 +42/m, 'exit status 42: no form differed');
    // CMPXCHG (0F B1 /r) is not an emulated form: the VM stops at the device's address and shows the instruction
    assert.deepEqual(guestLines(out, 'undec'), ['mmio: cmpxchg at TMICT next']);
    const why = 'an instruction Zerovisor does not emulate \\(0xfee00380; bytes 0f b1 08 90 90 90 90 90\\)';
    assert.match(out, new RegExp(`VM 2 "undec" stopped: ${why}`));
    assert.match(section(out, 'vm info undec'), new RegExp(`Stopped because: ${why}`));
    assert.match(list, /^ +2 +undec +stopped +4 +-/m);
  },
};

/** The platforms that exercise a back end for real (docs: ../shared/notes/emulators.md). */
const PLATFORMS = {
  qemuEpyc: { name: 'QEMU EPYC (SVM + NPT, no NRIPS)', runner: 'uefi-run', extra: [], banner: /Virtualization: ready \(AMD SVM with nested paging\)/, lengths: false, slicer: 'interrupt' },
  bochsRyzen: { name: 'Bochs ryzen (SVM + NPT, NRIPS)', runner: 'bochs-run', extra: ['--cpu', 'ryzen'], banner: /Virtualization: ready \(AMD SVM with nested paging\)/, lengths: true, slicer: 'interrupt' },
  bochsSkylake: { name: 'Bochs corei7_skylake_x (VMX + EPT)', runner: 'bochs-run', extra: ['--cpu', 'corei7_skylake_x'], banner: /Virtualization: ready \(Intel VMX with EPT\)/, lengths: true, slicer: 'slice' },
};

/** Each scenario once, with the platforms it runs on. */
const SCENARIOS = [
  { ...GUESTS_SCENARIO, platforms: ['qemuEpyc', 'bochsRyzen', 'bochsSkylake'] },
  { ...STRIO_SCENARIO, platforms: ['qemuEpyc', 'bochsRyzen', 'bochsSkylake'] },
  { ...PIT_SCENARIO, platforms: ['qemuEpyc', 'bochsSkylake'] },
  { ...IRQ_SCENARIO, platforms: ['qemuEpyc', 'bochsSkylake'] },
  { ...HALT_SCENARIO, platforms: ['qemuEpyc', 'bochsSkylake'] },
  { ...RESTART_SCENARIO, platforms: ['qemuEpyc', 'bochsSkylake'] },
  { ...MMIO_SCENARIO, platforms: ['qemuEpyc', 'bochsSkylake'] },
  // Not on Bochs ryzen: Bochs 2.7's SVM does not turn a guest's triple fault into the
  // SHUTDOWN intercept; the emulator itself stops ("3rd (13) exception with no resolution").
  { ...TRIPLE_SCENARIO, platforms: ['qemuEpyc', 'bochsSkylake'] },
  // Not on Bochs ryzen: its SVM never turns the host's timer into an INTR intercept while a
  // guest runs, so a guest that does not exit keeps the CPU until it does (seconds here).
  // VMX has the preemption timer (SDM 26.5.1) besides external-interrupt exiting.
  { ...LIFECYCLE_SCENARIO, platforms: ['qemuEpyc', 'bochsSkylake'] },
  // VMX: EPT A/D bits or EPT write-protection, and the VMCS guest state ("VMX1"), carry the
  // move (QEMU EPYC: tests/integration/migration.test.mjs, both logs)
  { ...migrationScenario('ad'), platforms: ['bochsSkylake'] },
  { ...migrationScenario('wp'), platforms: ['bochsSkylake'] },
];

for (const scenario of SCENARIOS) {
  for (const key of scenario.platforms) {
    const platform = PLATFORMS[key];
    test(`${platform.name}: ${scenario.name}`, () => {
      const { code, out } = runScript(platform.runner, ['caps', ...scenario.lines], platform.extra);
      assert.equal(code, scenario.code, `exit code; output:\n${out}`);
      assert.match(out, platform.banner, 'the back end this platform exercises');
      scenario.check(out, platform);
    });
  }
}
