#!/usr/bin/env node
// The interrupt benchmark (issue 13): a guest with a 1 kHz local APIC timer in TSC-deadline
// mode (tests/guests/timer-bench.zig, x2APIC when offered), once halting between interrupts
// (`idle`) and once spinning (`busy`), on QEMU EPYC (AMD SVM) and Bochs corei7_skylake_x
// (Intel VMX). For each: interrupts/s, exits/s by reason, the mean host ticks to handle one
// exit, the guest's share of wall time (time in the guest), the host's busy share (time in the
// guest plus exit handling: what running this guest cost Zerovisor), and the guest's interrupt
// latency (TSC from the deadline to the handler's first instruction) p50/p99/max.
//
// How: one boot per back end runs both modes in turn. The guest measures its TSC rate, prints
// "armed" and halts until its first deadline (`quiet` ms later); Zerovisor's counters (`vm
// info`: exits by reason, interrupts injected, time in the guest; `metrics`:
// zerovisor_vm_exit_handling_ticks sum and count; `time`: uptime in TSC ticks) are read then,
// and again when the guest prints "done, active <ticks>" at the end of its recorded window.
// The console's printing stalls the guest (commands run between its slices), so both readings
// fall where no deadline is due or recorded; rates and shares are over the active time the
// guest reports (TSC from the first deadline to the window's end; the guest's TSC runs at the
// host's rate), as the halted rest of `quiet` costs nothing. Host busy = time in the guest
// (vmRunTicks: from one exit's handling done to the next exit, so it includes delivering the
// interrupt and the world switch) + exit handling (the scheduler's observeExitTicks
// histogram, which is global: one VM runs at a time here). Not counted: the scheduler's
// haltedWakes polls of a halted vCPU and the idle loop (Zerovisor idles in the firmware's
// Stall service, which spins: the host CPU is not put to sleep, but it does no guest's work).
//
// Two artefacts of the method: the io exits are the guest printing its "done" line (two per
// character), and after "done" the guest runs on until the second reading, which the shares'
// numerator counts but the active time does not: a busy guest's shares pass 100% by that much.
//
// Caveats: both are emulators, and time in them is emulated. QEMU TCG's TSC follows the
// host's clock while it translates and runs code many times slower than hardware (and
// emulates VMRUN and #VMEXIT in software), so per-exit costs are in TSC ticks of a slow
// machine, an idle guest's host share is far above what hardware would show, and latencies
// are inflated and jitter with the load on the machine. Bochs runs on its own instruction
// clock (bochs-run: `ips` 200 M/s, clock sync=none), and its TSC follows that clock, not any
// real processor's time; the back ends are not comparable in absolute terms, only each mode
// against the other on one back end.
//
// What to expect of a busy guest: on SVM (no preemption timer) Zerovisor arms nothing at the
// guest's next deadline while the guest runs, so a spinning guest's timer interrupt waits for
// the next exit, which is the next host interrupt (the firmware's timer tick, about 100/s on
// QEMU): late by up to that tick's period, then the missed deadlines come in a burst through
// interrupt-window exits (they do not drift: the guest arms previous + 1 ms, already past).
// On VMX each entry sets the preemption timer to the nearer of the slice's end and the VM's
// next device timer: the interrupt comes on time, one `slice` exit per deadline.
//
// Usage: node bench/interrupts.mjs   (ZV_BENCH_ONLY=qemu|bochs|bochs-svm runs one back end;
// ZV_BENCH_EFI measures another image; ZV_BENCH_LOG=<prefix> keeps each console output in
// <prefix>-<back end>.txt; ZV_BENCH_REPLAY=<prefix> prints the table from such files, booting
// nothing). `quiet` must outlast the console's printing of the first reading (about 0.6 s of
// Zerovisor's time under QEMU and Bochs ryzen, 0.1 s on Bochs skylake, whose seconds are
// short: see the note the script prints); the script warns when it did not.
import { readFileSync, writeFileSync } from 'node:fs';
import { bootWithScript, buildForBench, guestFile } from './emulator.mjs';

const REASONS = ['cpuid', 'io', 'msr', 'hlt', 'hypercall', 'npf', 'shutdown', 'interrupt', 'invalid', 'other', 'slice', 'window'];
const MODES = ['idle', 'busy'];

const BACK_ENDS = [
  { key: 'qemu', name: 'QEMU EPYC (SVM)', runner: 'uefi-run', runnerArgs: [], quiet: 1500, warmup: 200, window: 2000, tail: 300, timeout: 600 },
  { key: 'bochs', name: 'Bochs skylake (VMX)', runner: 'bochs-run', runnerArgs: ['--cpu', 'corei7_skylake_x'], quiet: 600, warmup: 200, window: 1000, tail: 200, timeout: 1500 },
  // SVM without TCG's noise, only when ZV_BENCH_ONLY names it (10 more minutes)
  { key: 'bochs-svm', name: 'Bochs ryzen (SVM)', runner: 'bochs-run', runnerArgs: ['--cpu', 'ryzen'], quiet: 1500, warmup: 200, window: 1000, tail: 200, timeout: 1500, optional: true },
];

/** The startup script: per mode, counters before the timer starts ("armed") and in the tail ("done"). */
const script = (b) => [
  'time',
  ...MODES.flatMap((mode) => [
    `vm create ${mode} --mem 16 --image \\timer-bench.elf --cmdline "${mode} ms=${b.window} warmup=${b.warmup} tail=${b.tail} quiet=${b.quiet}"`,
    `vm start ${mode}`,
    `vm wait ${mode} --output armed --timeout 300`,
    `vm info ${mode}`,
    'metrics',
    'time',
    `vm wait ${mode} --output done --timeout 600`,
    'time',
    `vm info ${mode}`,
    'metrics',
    `vm wait ${mode} --timeout 600`,
    `vm destroy ${mode}`,
  ]),
  'exit 0',
];

/** `vm info` of `name` at or after `from` in `out`: the guest time (ms), exits by reason, interrupts injected, and where it ends. */
const vmInfo = (out, name, from) => {
  const title = new RegExp(`VM \\d+ "${name}": [A-Za-z]+\r?$`, 'gm'); // 'vm.info.title' (not 'vm.changed', which ends in a period)
  title.lastIndex = from;
  const at = title.exec(out)?.index ?? -1;
  if (at < 0) throw new Error(`no vm info for ${name}:\n${out.slice(from)}`);
  const lines = out.slice(at).split('\n').slice(1);
  const info = { guestMs: NaN, exits: {}, injected: NaN, end: at };
  let used = out.indexOf('\n', at) + 1;
  for (const line of lines) {
    if (!line.startsWith('  ')) break;
    used += line.length + 1;
    let m;
    if ((m = line.match(/time in the guest: ([\d.]+) ms/))) info.guestMs = Number(m[1]);
    else if ((m = line.match(/^ {4}(\w+) +(\d+)\s*$/)) && REASONS.includes(m[1])) info.exits[m[1]] = Number(m[2]);
    else if ((m = line.match(/Interrupts injected: (\d+)/))) info.injected = Number(m[1]);
  }
  info.end = used;
  if (Number.isNaN(info.guestMs) || Number.isNaN(info.injected)) throw new Error(`vm info for ${name} not understood:\n${lines.slice(0, 30).join('\n')}`);
  return info;
};

/** The exit-handling histogram's sum and count in the `metrics` output at or after `from`. */
const exitTicks = (out, from) => {
  const sum = out.slice(from).match(/zerovisor_vm_exit_handling_ticks_sum (\S+)/);
  const count = out.slice(from).match(/zerovisor_vm_exit_handling_ticks_count (\S+)/);
  if (!sum || !count) throw new Error(`no exit-handling histogram in the metrics:\n${out.slice(from, from + 4000)}`);
  return { sum: Number(sum[1]), count: Number(count[1]), end: from + out.slice(from).indexOf(count[0]) + count[0].length };
};

/** The next `time` uptime (TSC ticks since Zerovisor started) at or after `from`. */
const uptime = (out, from) => {
  const re = /Uptime: [\d.]+ s \((\d+) TSC ticks/g;
  re.lastIndex = from;
  const m = re.exec(out);
  if (!m) throw new Error(`no uptime after offset ${from}:\n${out.slice(from, from + 2000)}`);
  return { ticks: Number(m[1]), end: re.lastIndex };
};

/** The figures of one mode, whose part of the output starts at `from`. */
const measure = (out, mode, from, hz, b) => {
  const a = vmInfo(out, mode, from);
  const ha = exitTicks(out, a.end);
  const ta = uptime(out, ha.end);
  const done = out.slice(ta.end).match(new RegExp(`\\[${mode}\\] timer-bench: done, active (\\d+) ticks`));
  if (!done) throw new Error(`${mode} never said done:\n${out.slice(ta.end, ta.end + 4000)}`);
  const tb = uptime(out, ta.end);
  const b2 = vmInfo(out, mode, tb.end);
  const hb = exitTicks(out, b2.end);
  const result = out.slice(hb.end).match(new RegExp(`timer-bench: ${mode} apic (\\w+) tsc (\\d+) kHz n (\\d+) in (\\d+) us latency ticks p50 (\\d+) p99 (\\d+) max (\\d+) us p50 ([\\d.]+) p99 ([\\d.]+) max ([\\d.]+) early (\\d+) other (\\d+)`));
  if (!result) throw new Error(`no result line of ${mode}:\n${out.slice(hb.end, hb.end + 4000)}`);
  const wall = tb.ticks - ta.ticks; // host TSC ticks between the two readings
  const active = Number(done[1]); // guest TSC (the host's rate) from the first deadline to the window's end
  const injected = b2.injected - a.injected;
  if (injected < b.warmup + b.window) {
    console.error(`warning: ${b.name} ${mode}: ${injected} interrupts between the readings, fewer than ${b.warmup + b.window}: the first reading came after the timer started (raise quiet)`);
  }
  // Both halt through the rest of `quiet` (costing nothing): rates and shares are over the
  // active time, from the first deadline to the window's end.
  const span = active;
  const seconds = span / hz;
  const exits = {};
  let exitCount = 0;
  for (const r of REASONS) {
    const d = (b2.exits[r] ?? 0) - (a.exits[r] ?? 0);
    if (d > 0) exits[r] = d / seconds;
    exitCount += d;
  }
  const guestTicks = ((b2.guestMs - a.guestMs) * hz) / 1000;
  const handled = hb.sum - ha.sum;
  return {
    mode,
    apic: result[1],
    interruptsPerSecond: injected / (active / hz),
    exits,
    exitsPerSecond: exitCount / seconds,
    ticksPerExit: hb.count > ha.count ? handled / (hb.count - ha.count) : NaN,
    guestShare: guestTicks / span,
    hostShare: (guestTicks + handled) / span,
    handlingShare: handled / span,
    hostTicksPerInterrupt: (guestTicks + handled) / injected,
    wall,
    active,
    latencyUs: { p50: Number(result[8]), p99: Number(result[9]), max: Number(result[10]) },
    latencyTicks: { p50: Number(result[5]), p99: Number(result[6]), max: Number(result[7]) },
    guestCount: Number(result[3]),
    early: Number(result[11]),
    other: Number(result[12]),
    end: hb.end,
  };
};

const runBackEnd = (b) => {
  const replay = process.env.ZV_BENCH_REPLAY;
  const out = replay ? readFileSync(`${replay}-${b.key}.txt`, 'utf8')
    : bootWithScript(b.runner, script(b), { files: [guestFile('timer-bench.elf')], runnerArgs: b.runnerArgs, timeout: b.timeout });
  if (process.env.ZV_BENCH_LOG && !replay) writeFileSync(`${process.env.ZV_BENCH_LOG}-${b.key}.txt`, out);
  const mhz = out.match(/TSC frequency: (\d+\.\d+) MHz/);
  if (!mhz) throw new Error(`no TSC frequency:\n${out}`);
  const hz = Number(mhz[1]) * 1e6;
  // Zerovisor may take its TSC rate from CPUID (leaf 0x15/0x16) over its boot measurement; when
  // the two disagree, its (and its guests' PIT-measured) seconds are not the emulator's.
  const measured = out.match(/Measured at boot against [^:]*: (\d+\.\d+) MHz/);
  const skew = measured ? Number(mhz[1]) / Number(measured[1]) : 1;
  const rows = [];
  let from = 0;
  for (const mode of MODES) {
    const r = measure(out, mode, from, hz, b);
    rows.push(r);
    from = r.end;
  }
  return { ...b, mhz: Number(mhz[1]), measuredMhz: measured ? Number(measured[1]) : NaN, skew, rows };
};

if (!process.env.ZV_BENCH_REPLAY) buildForBench();
const only = process.env.ZV_BENCH_ONLY ?? '';
const results = BACK_ENDS.filter((b) => (only ? b.key === only : !b.optional)).map(runBackEnd);

const pct = (x) => `${(100 * x).toFixed(2)}%`;
const cols = [
  ['back end', 20], ['mode', 5], ['apic', 6], ['irq/s', 7], ['exits/s', 8], ['exits/s by reason', 52], ['ticks/exit', 10],
  ['guest', 7], ['host busy', 9], ['lat p50 us', 10], ['p99 us', 10], ['max us', 10],
];
console.log(cols.map(([h, w], i) => (i < 3 || i === 5 ? h.padEnd(w) : h.padStart(w))).join(' '));
for (const b of results) {
  for (const r of b.rows) {
    const reasons = Object.entries(r.exits).map(([k, v]) => `${k} ${v.toFixed(0)}`).join(', ');
    const cells = [b.name, r.mode, r.apic, r.interruptsPerSecond.toFixed(0), r.exitsPerSecond.toFixed(0), reasons, r.ticksPerExit.toFixed(0),
      pct(r.guestShare), pct(r.hostShare), r.latencyUs.p50.toFixed(3), r.latencyUs.p99.toFixed(3), r.latencyUs.max.toFixed(3)];
    console.log(cells.map((c, i) => (i < 3 || i === 5 ? String(c).padEnd(cols[i][1]) : String(c).padStart(cols[i][1]))).join(' '));
  }
}
for (const b of results) {
  console.log(`${b.name}: TSC ${b.mhz.toFixed(3)} MHz; latency in guest TSC ticks (p50/p99/max), guest-side checks:`);
  if (Math.abs(b.skew - 1) > 0.05) {
    console.log(`  note: Zerovisor uses ${b.mhz.toFixed(3)} MHz but measured ${b.measuredMhz.toFixed(3)} MHz at boot: its seconds (and so the`
      + ` guest's, from the PIT it emulates) are ${b.skew.toFixed(2)}x shorter than the emulator's; rates and latencies above are in Zerovisor's time`);
  }
  for (const r of b.rows) {
    console.log(`  ${r.mode}: ${r.latencyTicks.p50}/${r.latencyTicks.p99}/${r.latencyTicks.max} ticks over ${r.guestCount} interrupts; `
      + `${(r.wall / b.mhz / 1000).toFixed(1)} ms between the readings, ${(r.active / b.mhz / 1000).toFixed(1)} ms of them with the timer on; `
      + `exit handling ${pct(r.handlingShare)}, host ${(r.hostTicksPerInterrupt / b.mhz).toFixed(1)} us (${r.hostTicksPerInterrupt.toFixed(0)} ticks) per interrupt; early ${r.early}, unexpected vectors ${r.other}`);
  }
}
