// Capabilities (caps, caps --json), timekeeping (time), the firmware watchdog (wdog) and
// the page allocator (mem alloc|free), on machines captured from QEMU and Bochs
// (tests/sim/fixtures/machines). Expected values are decoded here from the captured
// CPUID leaves and MSRs, independently of the kernel.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { boot, after } from '../sim/harness.mjs';
import { machineOptions, machineCapture, machineNames } from '../sim/fixtures/machines.mjs';
import { bigMachine } from '../sim/fixtures/memory-maps.mjs';

const session = (m) => after(m.serialText, 'TSC ticks\r\n');
const run = (commands, options = {}) => boot({ ...options, input: [...commands.map((c) => `${c}\r`), 'exit\r'] });

/** What the capture says, decoded in JS (SDM vol. 2A CPUID, vol. 3D appendix A; APM vol. 3 appendix E). */
const expectedCaps = (name) => {
  const { cpuid, msrs } = machineCapture(name);
  const leaf = (l, s = 0) => cpuid[`0x${l.toString(16)}:0x${s.toString(16)}`] ?? [0, 0, 0, 0];
  const bit = (v, b) => ((v >>> b) & 1) === 1;
  const msr = (n) => BigInt(msrs[`0x${n.toString(16)}`] ?? 0);
  const msrBit = (n, b) => ((msr(n) >> BigInt(b)) & 1n) === 1n;
  const vmx = bit(leaf(1)[2], 5);
  const svm = bit(leaf(0x80000001)[2], 2);
  const trueCtls = vmx && msrBit(0x480, 55);
  const secondary = vmx && msrBit(0x482, 32 + 31);
  const ctl2 = (b) => secondary && msrBit(0x48b, 32 + b);
  const ept = ctl2(1);
  return {
    vendor: leaf(0)[1] === 0x756e6547 ? 'intel' : 'amd',
    x2apic: bit(leaf(1)[2], 21),
    pages1g: bit(leaf(0x80000001)[3], 26),
    invariantTsc: bit(leaf(0x80000007)[3], 8),
    vmx: {
      supported: vmx,
      vmcsRevision: vmx ? Number(msr(0x480) & 0x7fffffffn) : 0,
      trueControls: trueCtls,
      ept,
      ept1g: ept && msrBit(0x48c, 17),
      eptAccessedDirty: ept && msrBit(0x48c, 21),
      vpid: ctl2(5),
      unrestrictedGuest: ctl2(7),
      preemptionTimer: vmx && msrBit(trueCtls ? 0x48d : 0x481, 32 + 6),
    },
    svm: {
      supported: svm,
      asids: svm ? leaf(0x8000000a)[1] : 0,
      nestedPaging: svm && bit(leaf(0x8000000a)[3], 0),
      nrips: svm && bit(leaf(0x8000000a)[3], 3),
      flushByAsid: svm && bit(leaf(0x8000000a)[3], 6),
    },
  };
};

for (const name of machineNames()) {
  test(`caps --json on ${name} reports what its CPUID and MSRs say`, () => {
    const m = run(['caps --json'], machineOptions(name));
    const line = session(m).split('\r\n')[1];
    const caps = JSON.parse(line);
    const want = expectedCaps(name);
    assert.equal(caps.vendor, want.vendor);
    for (const k of ['x2apic', 'pages1g', 'invariantTsc']) assert.equal(caps.features[k], want[k], k);
    for (const [k, v] of Object.entries(want.vmx)) assert.equal(caps.vmx[k], v, `vmx.${k}`);
    for (const [k, v] of Object.entries(want.svm)) assert.equal(caps.svm[k], v, `svm.${k}`);
    const ready = want.svm.nestedPaging ? 'svm' : want.vmx.ept ? 'vmx' : 'none';
    assert.equal(caps.virtualization, ready);
    assert.ok(caps.tsc.hz > 1e8, `TSC ${caps.tsc.hz} Hz`);
  });
}

test('caps on QEMU EPYC: SVM with nested paging, no NRIPS, no VMX, running under TCG', () => {
  const s = session(run(['caps'], machineOptions('qemu-q35-intel-iommu-smp4')));
  assert.match(s, /Processor: AMD EPYC Processor \(family 23, model 1, stepping 2\)/);
  assert.match(s, /Running under a hypervisor: TCGTCGTCGTCG/);
  assert.match(s, /Intel VMX: not offered by this processor/);
  assert.match(s, /AMD SVM: offered \(revision 1, 16 ASIDs\)/);
  assert.match(s, /  nested paging +yes\r\n  next RIP save \(NRIPS\) +no\r\n/);
  assert.match(s, /Virtualization: ready \(AMD SVM with nested paging\)/);
});

test('caps on Bochs corei7_skylake_x: VMX with EPT, VPID and unrestricted guest; feature control unlocked', () => {
  const s = session(run(['caps'], machineOptions('bochs-corei7-skylake-x')));
  assert.match(s, /Intel VMX: offered \(VMCS revision 0x0000002b, 4096-byte regions\)/);
  assert.match(s, /IA32_FEATURE_CONTROL: not locked/);
  assert.match(s, /  EPT +yes\r\n/);
  assert.match(s, /  unrestricted guest +yes\r\n/);
  assert.match(s, /AMD SVM: not offered by this processor/);
  assert.match(s, /ACPI: the firmware published no tables/);
  assert.match(s, /Virtualization: ready \(Intel VMX with EPT\)/);
});

test('VMX locked off by the firmware: caps says guests cannot run', () => {
  const o = machineOptions('bochs-corei7-skylake-x');
  o.cpu.msrs['0x3a'] = 1n; // locked, VMX outside SMX not allowed
  const s = session(run(['caps'], o));
  assert.match(s, /IA32_FEATURE_CONTROL: locked, VMX outside SMX no/);
  assert.match(s, /Virtualization: not possible here/);
});

test('without secondary controls, caps does not read the MSRs that then do not exist', () => {
  const o = machineOptions('bochs-corei7-skylake-x');
  o.cpu.msrs['0x482'] &= ~(1n << 63n); // no "activate secondary controls"
  o.cpu.msrs['0x48e'] &= ~(1n << 63n);
  delete o.cpu.msrs['0x48b']; // the simulated CPU faults on them now
  delete o.cpu.msrs['0x48c'];
  const caps = JSON.parse(session(run(['caps --json'], o)).split('\r\n')[1]);
  assert.equal(caps.vmx.supported, true);
  assert.equal(caps.vmx.ept, false);
  assert.equal(caps.virtualization, 'none');
});

test('caps: a bad argument is a translated error with the usage', () => {
  const s = session(run(['caps -j', 'lang ja', 'caps x y'], machineOptions('bochs-ryzen')));
  assert.match(s, /caps: unexpected argument "-j"\. Usage: caps \[--json\]/);
  assert.match(s, /caps: 予期しない引数「x」があります。使い方: caps \[--json\]/);
});

test('time: CPUID leaf 0x16 on Bochs Skylake (3500 MHz), measured against the firmware Stall too', () => {
  const s = session(run(['time'], machineOptions('bochs-corei7-skylake-x')));
  assert.match(s, /TSC frequency: 3500\.000 MHz, from CPUID leaf 0x16 \(base frequency\)/);
  assert.match(s, /Measured at boot against the firmware's Stall service: 3000\.\d{3} MHz/); // the simulated TSC runs at 3 GHz
  assert.match(s, /Invariant TSC: yes/);
  assert.match(s, /Uptime: \d+\.\d{3} s \(\d+ TSC ticks since Zerovisor started\)/);
});

test('time: CPUID leaf 0x15 with a crystal frequency gives the exact ratio', () => {
  const o = machineOptions('bochs-corei7-skylake-x');
  o.cpu.cpuid['0x15:0x0'] = [2, 250, 24000000, 0]; // 24 MHz * 250 / 2 = 3 GHz
  const s = session(run(['time'], o));
  assert.match(s, /TSC frequency: 3000\.000 MHz, from CPUID leaf 0x15 \(crystal clock ratio\)/);
});

test('time: without CPUID frequency leaves or ACPI, the TSC is measured against the firmware Stall', () => {
  const s = session(run(['time', 'time now'], machineOptions('bochs-ryzen')));
  const mhz = Number(s.match(/TSC frequency: (\d+\.\d+) MHz, from the firmware's Stall service/)[1]);
  assert.ok(Math.abs(mhz - 3000) < 3000 * 0.005, `${mhz} MHz`);
  assert.match(s, /Invariant TSC: yes/);
  assert.match(s, /time: unexpected argument "now"\. Usage: time/);
});

test('wdog arms, shows, re-arms while idle, and disarms the firmware watchdog; bad values are refused', () => {
  const m = boot({ input: ['wdog\r', 'wdog 2\r', { idle: 2500 }, 'wdog\r', 'wdog 0\r', 'wdog 86401\r', 'wdog soon\r', 'wdog off\r', 'wdog\r', 'exit\r'] });
  const s = session(m);
  assert.match(s, /zerovisor> wdog\r\nThe watchdog is off\.\r\n/);
  assert.match(s, /Watchdog armed: the machine resets if Zerovisor stops running for 2 s\./);
  const pets = Number(s.match(/The watchdog is armed for 2 s \(re-armed (\d+) times by the console\)\./)[1]);
  assert.ok(pets >= 1, 'the idle console re-armed it');
  assert.match(s, /wdog: "0" is not a number of seconds from 1 to 86400, or "off"\./);
  assert.match(s, /wdog: "86401" is not a number/);
  assert.match(s, /wdog: "soon" is not a number/);
  assert.match(s, /Watchdog disarmed\.\r\nzerovisor> wdog\r\nThe watchdog is off\./);
  assert.deepEqual(m.watchdogCalls, [2, ...Array(pets).fill(2), 0]);
});

test('mem alloc hands out zeroed pages from the firmware at the asked alignment, mem free keeps them for reuse', () => {
  const m = run(['mem alloc 3', 'mem alloc 1 2m', 'mem free 0x200000', 'mem alloc 1 2m', 'mem']);
  const s = session(m);
  const addrs = [...s.matchAll(/Allocated (\d+) page\(s\) \(\d+\.\d MiB\) at 0x([0-9a-f]{16}), zeroed\./g)].map((x) => [Number(x[1]), Number.parseInt(x[2], 16)]);
  assert.equal(addrs.length, 3, s);
  const [[n1, a1], [, a2], [, a3]] = addrs;
  assert.equal(n1, 3);
  assert.ok(a1 >= 0x100000 && a1 % 4096 === 0);
  assert.equal(a2 % (2 << 20), 0, '2 MiB aligned');
  assert.equal(a2, 0x200000);
  assert.equal(a3, a2, 'the freed block is reused');
  // the firmware was asked for exactly those pages, and they were zeroed (the simulated firmware fills them)
  assert.deepEqual(m.allocCalls, [[a1, 3], [a2, 1]]);
  assert.ok(m.physRead(a1, 3 * 4096).every((b) => b === 0));
  assert.deepEqual(m.zeroCalls.filter(([a]) => a === a2), [[a2, 4096], [a2, 4096]], 'zeroed when handed out and again when reused');
  assert.match(s, /Freed 1 page\(s\) at 0x0000000000200000; they are kept for reuse\./);
  assert.match(s, /Page allocator: 2 block\(s\) in use, 4 pages \(0\.0 MiB\); 0 pages kept for reuse/);
  assert.match(s, /  4 pages obtained from the firmware; 3 allocations, 1 frees, 1 served from freed blocks/);
  // the firmware's map now shows the pages as loader data
  assert.match(s, /EfiLoaderData +37 /);
});

test('mem alloc 1 1g: refused on a 512 MiB machine, granted 1 GiB aligned above 4 GiB on a big one', () => {
  const small = session(run(['mem alloc 1 1g']));
  assert.match(small, /mem alloc: no free region has 1 page\(s\) aligned to 1g\./);
  const m = run(['mem alloc 262144 1g'], { memoryMap: bigMachine });
  const s = session(m);
  assert.match(s, /Allocated 262144 page\(s\) \(1024\.0 MiB\) at 0x0000000040000000, zeroed\./);
});

test('mem alloc|free: bad arguments are translated errors and change nothing', () => {
  const m = run(['mem alloc', 'mem alloc x', 'mem alloc 0', 'mem alloc 2 3m', 'mem free', 'mem free 0xzz', 'mem free 0x1000', 'mem frob', 'lang zh', 'mem alloc -1']);
  const s = session(m);
  assert.match(s, /mem: more arguments are needed\. Usage: mem \[alloc <pages> \[4k\|2m\|1g\] \| free <address>\]/);
  assert.match(s, /mem alloc: "x" is not a page count from 1 to 1048576\./);
  assert.match(s, /mem alloc: "0" is not a page count/);
  assert.match(s, /mem alloc: "3m" is not an alignment; use 4k, 2m or 1g\./);
  assert.match(s, /mem free: "0xzz" is not an address/);
  assert.match(s, /mem free: nothing was allocated at 0x0000000000001000 by "mem alloc"\./);
  assert.match(s, /mem: unknown subcommand "frob"\./);
  assert.match(s, /mem alloc：“-1”不是 1 到 1048576 的页数。/);
  assert.deepEqual(m.allocCalls, []);
});

test('the watchdog is audited and, with the page allocator and discovery, shown in metrics', () => {
  const s = session(run(['wdog 30', 'wdog off', 'mem alloc 2', 'mem alloc 1 2m', 'mem free 0x200000', 'mem alloc 1 1g', 'audit --json', 'metrics'], machineOptions('qemu-q35-intel-iommu-smp4')));
  const auditLines = after(s, 'zerovisor> audit --json\r\n').split('zerovisor> metrics')[0].trim().split('\r\n').map((l) => JSON.parse(l));
  assert.deepEqual(auditLines.map((e) => [e.seq, e.event, e.subjects, e.key, e.args]), [
    [1, 'watchdog.arm', [30, 0], 'wdog.audit.arm', [30]],
    [2, 'watchdog.disarm', [0, 0], 'wdog.audit.disarm', []],
  ]);
  const metrics = after(s, 'zerovisor> metrics\r\n');
  const sample = (name) => Number(metrics.match(new RegExp(`^${name.replace(/[{}"]/g, (c) => `\\${c}`)} (\\S+)\\r?$`, 'm'))?.[1]);
  assert.equal(sample('zerovisor_watchdog_seconds'), 0);
  assert.equal(sample('zerovisor_pages{state="in_use"}'), 2);
  assert.equal(sample('zerovisor_pages{state="spare"}'), 1);
  assert.equal(sample('zerovisor_pages{state="from_firmware"}'), 3);
  assert.equal(sample('zerovisor_page_requests_total{result="ok"}'), 2);
  assert.equal(sample('zerovisor_page_requests_total{result="failed"}'), 1);
  assert.equal(sample('zerovisor_cpus'), 4);
  assert.equal(sample('zerovisor_iommu_units{kind="vtd"}'), 1);
  assert.ok(Math.abs(sample('zerovisor_tsc_hz{source="pm-timer"}') - 3e9) < 3e9 * 0.005);
  assert.match(metrics, /^# TYPE zerovisor_pages gauge\r?$/m);
});

test('caps --json stays valid JSON when the CPU brand string holds quotes and backslashes', () => {
  const o = machineOptions('qemu-q35-intel-iommu-smp4');
  const text = 'Evil "CPU" \\ brand\x01\x7f';
  const bytes = Buffer.alloc(48);
  bytes.write(text, 'latin1');
  for (let i = 0; i < 3; i++) o.cpu.cpuid[`0x${(0x80000002 + i).toString(16)}:0x0`] = [0, 1, 2, 3].map((r) => bytes.readUInt32LE(i * 16 + r * 4));
  const caps = JSON.parse(session(run(['caps --json'], o)).split('\r\n')[1]);
  assert.equal(caps.brand, 'Evil "CPU" \\ brand');
});
