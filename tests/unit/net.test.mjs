// The virtio-net driver (drivers/virtio, drivers/virtio-net) and the `net` command on the
// kernel's real Wasm, with a modern virtio-net device model (tests/sim/virtio-net.mjs) behind
// 01:00.0 of the q35 bus model: the NIC is taken from the firmware before it is touched;
// the initialization follows virtio 1.2 section 3.1.1 with only VERSION_1, MAC and STATUS
// accepted; every register is accessed with its own width; frames sent arrive at the device
// with a zero 12-byte virtio_net_hdr; frames the device delivers show up in `net recv`,
// also many more than the ring holds; a device that breaks the ring rules (used index jump,
// oversized length, unknown descriptor, on either queue) is reported, translated, logged
// at Warn, stopped, and never followed: the kernel reads and writes only pages it
// allocated; init failures; argument errors; Japanese and Chinese; exit resets the device;
// no memory growth per frame.
import { test } from 'node:test';
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { boot, after, variantModule, testEntryModule, callExport, listFiles, ROOT } from '../sim/harness.mjs';
import { Machine } from '../sim/machine.mjs';
import { dictionaries, fill } from '../sim/dictionaries.mjs';
import { pciModel, q35Pci, q35Functions } from '../sim/pci.mjs';
import { FEATURES, q35WithVirtioNet } from '../sim/virtio-net.mjs';

const dicts = await dictionaries();
const PROMPTS = [dicts.en, dicts.ja, dicts.zh].map((d) => d['console.prompt']);
const isPrompt = (line) => PROMPTS.some((p) => line.startsWith(p));
const lines = (m) => after(m.serialText, 'TSC ticks\r\n').split('\r\n');

/** The output of the n-th run of command `cmd` (the lines between its prompt and the next one). */
const outputOf = (m, cmd, n = 0) => {
  const all = lines(m);
  let start = -1;
  for (let i = 0, seen = 0; i < all.length; i++) {
    if (isPrompt(all[i]) && all[i].endsWith(`> ${cmd}`) && seen++ === n) {
      start = i;
      break;
    }
  }
  assert.ok(start >= 0, `no prompt with "${cmd}" (run ${n}) in:\n${all.join('\n')}`);
  const end = all.findIndex((l, i) => i > start && isPrompt(l));
  return all.slice(start + 1, end < 0 ? undefined : end);
};

const MAC = [0x52, 0x54, 0x00, 0x12, 0x34, 0x56];
const PEER = [0x52, 0x54, 0x00, 0xaa, 0xbb, 0xcc];
const bytes = (...parts) => Uint8Array.from(parts.flatMap((p) => (typeof p === 'string' ? [...Buffer.from(p, 'utf8')] : Array.isArray(p) ? p : [p])));
/** An Ethernet frame: destination, source, EtherType, payload. */
const ethernet = (dst, src, type, payload) => bytes(dst, src, [type >> 8, type & 0xff], payload);

/**
 * Boots the kernel with the NIC model; `hooks.stall(n)` is called at the n-th hv_efi_stall
 * (the device's chance to deliver frames while the kernel waits). Records every physical
 * read and write the kernel makes, with whether it lay inside pages it had allocated.
 */
const run = (commands, { nic: nicOptions = {}, pciDisconnect, onStall, before, module } = {}) => {
  const { bus, nic, devices } = q35WithVirtioNet(q35Pci, nicOptions);
  before?.(nic);
  const phys = [];
  let stalls = 0;
  const m = boot({
    devices,
    module,
    pciDisconnect: pciDisconnect ? (...a) => pciDisconnect(nic, ...a) : undefined,
    input: [...commands.map((c) => `${c}\r`), 'exit\r'],
    hostHooks: (functions, machine) => {
      nic.attach(machine);
      for (const name of ['hv_phys_read', 'hv_phys_write']) {
        const real = functions[name];
        functions[name] = (lo, hi, addr, len) => {
          const first = (hi * 4294967296 + lo) / 4096;
          const last = (hi * 4294967296 + lo + Math.max(len, 1) - 1) / 4096;
          phys.push({ name, at: hi * 4294967296 + lo, len, owned: machine.allocations.some(([f, n]) => first >= f && last < f + n) });
          return real(lo, hi, addr, len);
        };
      }
      const stall = functions.hv_efi_stall;
      functions.hv_efi_stall = (us) => {
        stall(us);
        stalls++;
        onStall?.(nic, stalls);
        nic.deliver();
      };
    },
  });
  return { m, bus, nic, phys };
};

/** The kernel touched no physical memory outside the pages it allocated, and the device saw nothing wrong. */
const clean = ({ nic, phys }) => {
  assert.deepEqual(phys.filter((p) => !p.owned), [], 'physical accesses outside the kernel\'s pages');
  assert.deepEqual(nic.problems, [], 'the device model saw a problem');
};

test('net takes the NIC from the firmware first, then brings it up in the order of virtio 1.2 section 3.1.1', () => {
  let touchedBeforeRelease = -1;
  const r = run(['net'], { pciDisconnect: (nic) => { touchedBeforeRelease = nic.mmioAccesses; return 0; } });
  const { m, bus, nic } = r;
  clean(r);
  assert.deepEqual(m.pciDisconnects, [[0, 1, 0, 0]], 'DisconnectController of segment 0, 01:00.0');
  assert.equal(touchedBeforeRelease, 0, 'no register of the device was touched before the firmware let go of it');
  const [q0, q1] = nic.events.filter((e) => e.startsWith('queue'));
  assert.deepEqual(nic.events, [
    'status 0', // reset
    'status 1', // ACKNOWLEDGE
    'status 3', // DRIVER
    'driver_feature 0 0x10020', // VIRTIO_NET_F_MAC (5), VIRTIO_NET_F_STATUS (16): nothing else of word 0
    'driver_feature 1 0x1', // VIRTIO_F_VERSION_1 (32)
    'status 11', // FEATURES_OK
    q0, q1,
    'status 15', // DRIVER_OK
    'status 0', // exit resets the device so that it stops using Zerovisor's pages
  ]);
  assert.match(q0, /^queue 0 enable size 64 desc 0x[0-9a-f]+000 driver 0x[0-9a-f]+400 device 0x[0-9a-f]+488$/);
  assert.match(q1, /^queue 1 enable size 64 desc 0x[0-9a-f]+000 driver 0x[0-9a-f]+400 device 0x[0-9a-f]+488$/);
  assert.equal(nic.negotiated, FEATURES.mac | FEATURES.status | FEATURES.version1);
  // memory decoding, bus mastering, INTx off (PCI Command bits 1, 2, 10)
  assert.equal(bus.fn(1, 0, 0).command, 0x0406);
  assert.deepEqual(outputOf(m, 'net'), [
    'net0  01:00.0  virtio-net 1af4:1041  ready',
    '  MAC 52:54:00:12:34:56, link up',
    '  Taken from the firmware: its UEFI drivers were disconnected.',
    '  Queues: receive 64 and transmit 64 buffers of 2048 bytes',
    '  Rings and buffers: 66 pages at 0x0000000000100000',
    '  Features: offered 0x0000000120038021, accepted 0x0000000100010020',
    '  Frames sent: 0 (0 bytes); not sent: 0 with the transmit queue full, 0 of a bad length',
    '  Frames received: 0 (0 bytes); dropped: 0 shorter than an Ethernet header; cut to the reader\'s buffer: 0',
    '  Device errors: 0',
  ]);
  // every receive buffer was posted and the device told so
  assert.equal(nic.notifies[0], 1);
});

test('queue sizes follow the device maximum; link down and a device without STATUS are shown as such', () => {
  const small = run(['net'], { nic: { queueMax: 16, link: false } });
  clean(small);
  assert.ok(small.nic.events.some((e) => e.startsWith('queue 0 enable size 16 ')), small.nic.events.join('\n'));
  assert.deepEqual(outputOf(small.m, 'net').slice(1, 4), [
    '  MAC 52:54:00:12:34:56, link down',
    '  Taken from the firmware: its UEFI drivers were disconnected.',
    '  Queues: receive 16 and transmit 16 buffers of 2048 bytes',
  ]);
  const noStatus = run(['net'], { nic: { features: FEATURES.mac | FEATURES.version1, link: false }, pciDisconnect: () => -2 });
  clean(noStatus);
  assert.ok(noStatus.nic.events.includes('driver_feature 0 0x20'));
  assert.deepEqual(outputOf(noStatus.m, 'net').slice(1, 3), [
    '  MAC 52:54:00:12:34:56, link up (the device does not report it)',
    '  No firmware driver was using it; nothing to disconnect.',
  ]);
  const noHandle = run(['net'], { pciDisconnect: () => -1 });
  assert.equal(outputOf(noHandle.m, 'net')[2], '  The firmware had no handle for it; nothing to disconnect.');
});

test('net send: the device receives the frame after a zero 12-byte virtio_net_hdr', () => {
  const r = run(['net send 52:54:00:aa:bb:cc 88b5 "hello, wire"', 'net send broadcast 0800 "x y" --count 3', 'net', 'metrics']);
  clean(r);
  const { m, nic } = r;
  assert.deepEqual(outputOf(m, 'net send 52:54:00:aa:bb:cc 88b5 "hello, wire"'), ['Sent to 52:54:00:aa:bb:cc, EtherType 0x88b5: 1 frame(s) of 25 bytes.']);
  const burst = outputOf(m, 'net send broadcast 0800 "x y" --count 3');
  assert.equal(burst[0], 'Sent to ff:ff:ff:ff:ff:ff, EtherType 0x0800: 3 frame(s) of 17 bytes.');
  assert.match(burst[1], /^ {2}\d+\.\d{3} ms: \d+ frames\/s$/);
  assert.equal(nic.sent.length, 4);
  for (const s of nic.sent) assert.deepEqual([...s.header], new Array(12).fill(0));
  assert.deepEqual(nic.sent[0].frame, ethernet(PEER, MAC, 0x88b5, 'hello, wire'));
  for (const s of nic.sent.slice(1)) assert.deepEqual(s.frame, ethernet([0xff, 0xff, 0xff, 0xff, 0xff, 0xff], MAC, 0x0800, 'x y'));
  assert.equal(nic.notifies[1], 4, 'one transmit notification per frame');
  assert.equal(outputOf(m, 'net')[6], '  Frames sent: 4 (76 bytes); not sent: 0 with the transmit queue full, 0 of a bad length');
  const metrics = outputOf(m, 'metrics');
  for (const line of ['zerovisor_net_frames_total{direction="tx"} 4', 'zerovisor_net_bytes_total{direction="tx"} 76', 'zerovisor_net_frames_total{direction="rx"} 0', 'zerovisor_net_device_errors_total 0']) {
    assert.ok(metrics.includes(line), `${line} in:\n${metrics.join('\n')}`);
  }
});

test('net send reuses transmit buffers: 300 frames through a ring of 64', () => {
  const r = run(['net send 52:54:00:aa:bb:cc 88b5 "#" --count 300', 'net send 52:54:00:aa:bb:cc 88b5 "last one"']);
  clean(r);
  assert.equal(r.nic.sent.length, 301);
  assert.deepEqual(r.nic.sent.at(-1).frame, ethernet(PEER, MAC, 0x88b5, 'last one'));
  assert.deepEqual(r.nic.sent[299].frame, ethernet(PEER, MAC, 0x88b5, '#'));
});

test('net recv shows the frames the device delivers: addresses, type, length, payload in hex and text', () => {
  const r = run(['net', 'net recv --count 2', 'net recv --timeout 30'], {
    before: (nic) => {
      nic.inject(ethernet(MAC, PEER, 0x88b5, 'hello from the wire'));
      nic.inject(ethernet([0xff, 0xff, 0xff, 0xff, 0xff, 0xff], PEER, 0x0806, [0, 1, 8, 0, 6, 4, 0, 1, 0x7f]));
    },
  });
  clean(r);
  const { m } = r;
  const out = outputOf(m, 'net recv --count 2');
  assert.deepEqual(out.slice(0, 4), [
    'Frame from 52:54:00:aa:bb:cc to 52:54:00:12:34:56, EtherType 0x88b5, 33 bytes',
    '  68 65 6c 6c 6f 20 66 72 6f 6d 20 74 68 65 20 77  "hello from the wire"',
    'Frame from 52:54:00:aa:bb:cc to ff:ff:ff:ff:ff:ff, EtherType 0x0806, 23 bytes',
    '  00 01 08 00 06 04 00 01 7f  "........."',
  ]);
  assert.match(out[4], /^Frames received: 2 \(56 bytes\); \d+\.\d{3} ms from the first to the last\.$/);
  assert.deepEqual(outputOf(m, 'net recv --timeout 30'), ['net recv: 0 of 1 frames arrived within 30 ms.']);
});

test('net recv waits for frames that arrive later, and recycles receive buffers: 200 frames through a ring of 64', () => {
  let next = 0;
  const r = run(['net recv --count 200 --quiet --timeout 5000', 'net'], {
    onStall: (nic) => {
      // a few frames at a time while the kernel waits, more than the ring holds in total
      for (let k = 0; k < 3 && next < 200; k++, next++) nic.inject(ethernet(MAC, PEER, 0x88b5, `frame ${next}`));
    },
  });
  clean(r);
  const out = outputOf(r.m, 'net recv --count 200 --quiet --timeout 5000');
  assert.equal(out.length, 1, out.join('\n'));
  const bytesTotal = Array.from({ length: 200 }, (_, i) => 14 + `frame ${i}`.length).reduce((a, b) => a + b);
  assert.match(out[0], new RegExp(`^Frames received: 200 \\(${bytesTotal} bytes\\); `));
  assert.equal(r.nic.delivered, 200);
  assert.ok(outputOf(r.m, 'net').includes(`  Frames received: 200 (${bytesTotal} bytes); dropped: 0 shorter than an Ethernet header; cut to the reader's buffer: 0`));
});

test('net recv --type shows only frames of that EtherType and counts the others it passed over', () => {
  const r = run(['net recv --count 2 --type 88b5'], {
    before: (nic) => {
      nic.inject(ethernet([0x33, 0x33, 0xff, 0, 0, 1], PEER, 0x86dd, 'neighbour solicitation'));
      nic.inject(ethernet(MAC, PEER, 0x88b5, 'one'));
      nic.inject(ethernet([0x33, 0x33, 0, 0, 0, 0x16], PEER, 0x86dd, 'MLD report'));
      nic.inject(ethernet(MAC, PEER, 0x88b5, 'two'));
    },
  });
  clean(r);
  const out = outputOf(r.m, 'net recv --count 2 --type 88b5');
  assert.deepEqual(out.filter((l) => l.startsWith('Frame ') || l.startsWith('  ')), [
    'Frame from 52:54:00:aa:bb:cc to 52:54:00:12:34:56, EtherType 0x88b5, 17 bytes',
    '  6f 6e 65  "one"',
    'Frame from 52:54:00:aa:bb:cc to 52:54:00:12:34:56, EtherType 0x88b5, 17 bytes',
    '  74 77 6f  "two"',
    '  2 frames of other EtherTypes were passed over.',
  ]);
  assert.match(out[4], /^Frames received: 2 \(34 bytes\)/);
});

test('frames shorter than an Ethernet header are dropped and counted; the next one still arrives', () => {
  const r = run(['net recv', 'net'], {
    before: (nic) => {
      nic.inject(bytes(MAC, PEER));
      nic.inject(ethernet(MAC, PEER, 0x88b5, 'after the runt'));
    },
  });
  clean(r);
  assert.equal(outputOf(r.m, 'net recv')[0], 'Frame from 52:54:00:aa:bb:cc to 52:54:00:12:34:56, EtherType 0x88b5, 28 bytes');
  assert.ok(outputOf(r.m, 'net').includes('  Frames received: 1 (28 bytes); dropped: 1 shorter than an Ethernet header; cut to the reader\'s buffer: 0'));
});

// ---- a device that breaks the virtqueue rules ----

const HOSTILE = [
  {
    what: 'a receive used index that jumps past what was made available',
    misbehave: { queue: 0, kind: 'jump', by: 3 },
    message: 'net0 stopped: the used index of its receive queue went from 0 to 67 with only 64 buffers outstanding. Nothing it reported was used.',
  },
  {
    what: 'a receive used length larger than the posted buffer',
    misbehave: { queue: 0, kind: 'length', length: 0x100000 },
    message: 'net0 stopped: its receive queue returned descriptor 0 with 1048576 bytes, more than the 2048 bytes of its buffer. Nothing it reported was used.',
  },
  {
    what: 'a receive descriptor id beyond the ring',
    misbehave: { queue: 0, kind: 'id', id: 0x12345 },
    message: 'net0 stopped: its receive queue returned descriptor 74565, which was not given to the device (queue size 64). Nothing it reported was used.',
  },
];

for (const h of HOSTILE) {
  test(`hostile device: ${h.what} is reported, logged at Warn and never followed`, () => {
    const r = run(['net recv', 'net recv', 'net send broadcast 88b5 "still there?"', 'net', 'log --level warn'], {
      before: (nic) => {
        nic.misbehave(h.misbehave);
        nic.inject(ethernet(MAC, PEER, 0x88b5, 'bait'));
      },
    });
    clean(r);
    const { m, nic } = r;
    assert.deepEqual(outputOf(m, 'net recv'), [`[net] ${h.message}`, 'net recv: the device was stopped after an error (see "net" and "log").']);
    assert.deepEqual(outputOf(m, 'net recv', 1), ['net recv: there is no usable virtio-net device (see "net").']);
    assert.deepEqual(outputOf(m, 'net send broadcast 88b5 "still there?"'), ['net send: there is no usable virtio-net device (see "net").']);
    assert.equal(nic.sent.length, 0, 'nothing was sent after the device broke');
    const net = outputOf(m, 'net');
    assert.equal(net[0], 'net0  01:00.0  virtio-net 1af4:1041  stopped after a device error');
    assert.equal(net[2], `  ${h.message}`);
    assert.ok(net.includes('  Device errors: 1'), net.join('\n'));
    assert.ok(net.includes('  Frames received: 0 (0 bytes); dropped: 0 shorter than an Ethernet header; cut to the reader\'s buffer: 0'), net.join('\n'));
    assert.ok(m.logLines.includes(`[net] ${h.message}`), m.logLines.join('\n'));
    assert.ok(outputOf(m, 'log --level warn').some((l) => l.includes(h.message)), outputOf(m, 'log --level warn').join('\n'));
    // FAILED (section 2.1.1) told to the device, which then was reset on exit
    assert.ok(nic.events.includes('status 143'), nic.events.join('\n'));
  });
}

test('hostile device: a transmit used element naming a descriptor that was not posted stops the NIC', () => {
  const r = run(['net send broadcast 88b5 "one"', 'net send broadcast 88b5 "two"', 'net'], {
    before: (nic) => nic.misbehave({ queue: 1, kind: 'id', id: 5 }),
  });
  clean(r);
  const message = 'net0 stopped: its transmit queue returned descriptor 5, which was not given to the device (queue size 64). Nothing it reported was used.';
  assert.deepEqual(outputOf(r.m, 'net send broadcast 88b5 "one"'), ['Sent to ff:ff:ff:ff:ff:ff, EtherType 0x88b5: 1 frame(s) of 17 bytes.']);
  assert.deepEqual(outputOf(r.m, 'net send broadcast 88b5 "two"'), [`[net] ${message}`, 'net send: frame 1 of 1 was not sent: the device was stopped after an error.']);
  assert.equal(r.nic.sent.length, 1);
  assert.equal(outputOf(r.m, 'net')[2], `  ${message}`);
});

test('hostile device: a transmit used index that jumps stops the NIC', () => {
  const r = run(['net send broadcast 88b5 "one"', 'net send broadcast 88b5 "two"'], {
    before: (nic) => nic.misbehave({ queue: 1, kind: 'jump', by: 10 }),
  });
  clean(r);
  assert.deepEqual(outputOf(r.m, 'net send broadcast 88b5 "two"'), [
    '[net] net0 stopped: the used index of its transmit queue went from 0 to 74 with only 1 buffers outstanding. Nothing it reported was used.',
    'net send: frame 1 of 1 was not sent: the device was stopped after an error.',
  ]);
});

test('a device that reports DEVICE_NEEDS_RESET is stopped: at start, or later when net looks at it', () => {
  const needsReset = (nic, when) => {
    const real = nic.mmio.read8;
    nic.mmio.read8 = (off) => (off === 0x14 && when() ? real(off) | 64 : real(off));
  };
  const atStart = run(['net'], { before: (nic) => needsReset(nic, () => (nic.status & 4) !== 0) });
  assert.deepEqual(outputOf(atStart.m, 'net').slice(0, 2), ['net0  01:00.0  virtio-net 1af4:1041  not usable', '  It reports an internal error (DEVICE_NEEDS_RESET).']);
  let broken = false;
  const later = run(['net recv --timeout 5', 'net', 'net send broadcast 88b5 "x"'], {
    before: (nic) => needsReset(nic, () => broken),
    onStall: (nic) => { broken ||= (nic.status & 4) !== 0; }, // while net recv waits, after DRIVER_OK
  });
  clean(later);
  const message = 'net0 stopped: the device reports an internal error (DEVICE_NEEDS_RESET).';
  const out = outputOf(later.m, 'net');
  assert.deepEqual(out.slice(0, 3), [`[net] ${message}`, 'net0  01:00.0  virtio-net 1af4:1041  stopped after a device error', '  MAC 52:54:00:12:34:56, link down']);
  assert.equal(out[3], `  ${message}`);
  assert.deepEqual(outputOf(later.m, 'net send broadcast 88b5 "x"'), ['net send: there is no usable virtio-net device (see "net").']);
});

// ---- devices that cannot be used ----

test('no virtio-net device, or a firmware that does not let go: said so, and the device is not touched', () => {
  const none = boot({ devices: pciModel(q35Functions().filter((f) => f.device !== 0x1041)).devices, input: ['net\r', 'net send broadcast 88b5 "x"\r', 'exit\r'] });
  assert.deepEqual(outputOf(none, 'net'), ['No virtio-net device (PCI 1af4:1041) was found. Under QEMU: -device virtio-net-pci,disable-legacy=on,netdev=<id>,bootindex=<n>.']);
  assert.deepEqual(outputOf(none, 'net send broadcast 88b5 "x"'), ['net send: there is no usable virtio-net device (see "net").']);
  assert.deepEqual(none.pciDisconnects, []);

  const r = run(['net'], { pciDisconnect: () => 14 });
  assert.equal(r.nic.mmioAccesses, 0);
  assert.equal(r.m.pciDisconnects.length, 4, 'four passes');
  assert.deepEqual(outputOf(r.m, 'net').slice(0, 2), [
    'net0  01:00.0  virtio-net 1af4:1041  not usable',
    '  The firmware did not let go of it (DisconnectController: EFI status 14 after 4 tries).',
  ]);

  // OVMF 2022.11 with the NIC bound: the first pass stops the network stack but VirtioNetDxe
  // refuses (EFI_NOT_FOUND: nothing stopped); the second finds no driver left (-2)
  let passes = 0;
  const second = run(['net'], { pciDisconnect: () => { passes++; return passes === 1 ? 14 : -2; } });
  clean(second);
  assert.equal(second.m.pciDisconnects.length, 2);
  assert.deepEqual(outputOf(second.m, 'net').slice(0, 3), [
    'net0  01:00.0  virtio-net 1af4:1041  ready',
    '  MAC 52:54:00:12:34:56, link up',
    '  Taken from the firmware: its UEFI drivers were disconnected.',
  ]);
  assert.equal(r.bus.fn(1, 0, 0).command, 0, 'the Command register was left alone');
});

test('a legacy-only device, and one that refuses the features, end with FAILED and a reason', () => {
  const legacy = run(['net'], { nic: { features: FEATURES.mac | FEATURES.status } });
  assert.deepEqual(outputOf(legacy.m, 'net').slice(0, 2), ['net0  01:00.0  virtio-net 1af4:1041  not usable', '  It does not offer VIRTIO_F_VERSION_1 (a legacy-only device).']);
  assert.deepEqual(legacy.nic.events, ['status 0', 'status 1', 'status 3', 'status 131']);

  // a device that clears FEATURES_OK: the model refuses unless VERSION_1 is accepted; make it refuse anyway
  const refusing = run(['net'], {
    before: (nic) => {
      const real = nic.mmio.write8;
      nic.mmio.write8 = (off, v) => real(off, off === 0x14 ? v & ~8 : v);
    },
  });
  assert.deepEqual(outputOf(refusing.m, 'net').slice(0, 2), ['net0  01:00.0  virtio-net 1af4:1041  not usable', '  It refused the features (FEATURES_OK did not stay set).']);
  assert.ok(!refusing.nic.events.some((e) => e.startsWith('queue')), 'no queue was set up');
  assert.equal(refusing.nic.events.at(-1), 'status 131');
});

test('a virtio structure outside its BAR, or a device with one queue, is not used', () => {
  const one = run(['net'], { nic: { numQueues: 1 } });
  assert.deepEqual(outputOf(one.m, 'net').slice(0, 2), ['net0  01:00.0  virtio-net 1af4:1041  not usable', '  It has 1 queues; a receive and a transmit queue are needed.']);
  // the notify structure claims 0x3000 + 0x2000 bytes of a 16 KiB BAR
  const { bus, nic, devices } = q35WithVirtioNet(() => {
    const fns = q35Functions();
    const f = fns.find((x) => x.device === 0x1041);
    const notify = f.caps.find((c) => c.id === 0x09 && c.bytes[1] === 2);
    notify.bytes[10] = 0x00; notify.bytes[11] = 0x20; // length 0x2000
    return pciModel(fns);
  });
  const m = boot({ devices, hostHooks: (fns, machine) => nic.attach(machine), input: ['net\r', 'exit\r'] });
  assert.deepEqual(outputOf(m, 'net').slice(0, 2), ['net0  01:00.0  virtio-net 1af4:1041  not usable', '  Its notification structure runs past the end of BAR4 (to offset 20480).']);
  assert.equal(nic.mmioAccesses, 0);
  assert.equal(bus.fn(1, 0, 0).command, 0);
});

// ---- the console ----

test('net: argument errors name the word and the rule', () => {
  const r = run([
    'net send 52:54:00:aa:bb 88b5 "x"', 'net send broadcast 5dc "x"', 'net send broadcast 88b5 "x" --count 0',
    'net send broadcast 88b5 "x" --times 2', 'net send broadcast',
    'net recv --timeout 0', 'net recv --count x', 'net recv --fast', 'net recv --type ip', 'net bogus',
  ]);
  assert.deepEqual(outputOf(r.m, 'net send 52:54:00:aa:bb 88b5 "x"'), ['net send: "52:54:00:aa:bb" is not a MAC address; write six hex bytes such as 52:54:00:12:34:56, or broadcast.']);
  assert.deepEqual(outputOf(r.m, 'net send broadcast 5dc "x"'), ['net send: "5dc" is not an EtherType; write a hex number from 0600 to ffff, such as 88b5.']);
  assert.deepEqual(outputOf(r.m, 'net send broadcast 88b5 "x" --count 0'), ['net send: "0" is not a count from 1 to 1000000.']);
  assert.deepEqual(outputOf(r.m, 'net send broadcast 88b5 "x" --times 2'), ['net send: unknown option "--times".']);
  assert.match(outputOf(r.m, 'net send broadcast')[0], /^net: more arguments are needed\. Usage: net \| net send/);
  assert.deepEqual(outputOf(r.m, 'net recv --timeout 0'), ['net recv: "0" is not a number of milliseconds from 1 to 600000.']);
  assert.deepEqual(outputOf(r.m, 'net recv --count x'), ['net recv: "x" is not a count from 1 to 1000000.']);
  assert.deepEqual(outputOf(r.m, 'net recv --fast'), ['net recv: unknown option "--fast".']);
  assert.deepEqual(outputOf(r.m, 'net recv --type ip'), ['net recv: "ip" is not an EtherType; write a hex number from 0600 to ffff, such as 88b5.']);
  assert.match(outputOf(r.m, 'net bogus')[0], /^net: unknown subcommand "bogus"\. Usage: net \| net send /);
  assert.equal(r.nic.sent.length, 0);
});

test('net speaks Japanese and Chinese', () => {
  for (const lang of ['ja', 'zh']) {
    const d = dicts[lang];
    const r = run([`lang ${lang}`, 'net', 'net recv --timeout 5']);
    const out = outputOf(r.m, 'net');
    assert.equal(out[0], `net0  01:00.0  virtio-net 1af4:1041  ${d['net.state.ready']}`);
    assert.equal(out[1], d['net.mac'].replace('{0}', '52:54:00:12:34:56').replace('{1}', d['net.link.up']));
    assert.equal(out[2], d['net.firmware.released']);
    assert.deepEqual(outputOf(r.m, 'net recv --timeout 5'), [fill(d['net.recv.timeout'], 0, 1, 5)]);
  }
});

test('sending and receiving does not grow the Wasm memory', () => {
  const round = (n) => {
    const commands = [];
    for (let i = 0; i < n; i++) commands.push('net send 52:54:00:aa:bb:cc 88b5 "ping" --count 4', 'net recv --count 2', 'net');
    let k = 0;
    return run(commands, { onStall: (nic) => { if (k < 2 * n) { nic.inject(ethernet(MAC, PEER, 0x88b5, `pong ${k}`)); k++; } } });
  };
  const short = round(10);
  const long = round(150);
  assert.equal(long.nic.sent.length, 600);
  assert.equal(long.nic.delivered, 300);
  assert.equal(long.m.memoryBytes, short.m.memoryBytes);
});

test('the ring checks are what keeps the kernel in its own pages: without them a bad id is followed', () => {
  const trusting = variantModule('net-trusting-ring', [{
    file: 'drivers/virtio/virtqueue.ts',
    from: 'if (id >= n || posted[q * MAX_QUEUE_SIZE + id] === 0) {',
    to: 'if (false) {',
  }, {
    file: 'drivers/virtio/virtqueue.ts',
    from: 'if (len > postedLen[q * MAX_QUEUE_SIZE + id]) {',
    to: 'if (false) {',
  }]);
  // the simulated machine refuses a read of memory the kernel does not own: the run fails there
  assert.throws(
    () => run(['net recv'], { module: trusting, before: (nic) => { nic.misbehave({ queue: 0, kind: 'id', id: 0x12345 }); nic.inject(ethernet(MAC, PEER, 0x88b5, 'bait')); } }),
    /sim: hv_phys_read: read of \[0x[0-9a-f]+, \+\d+\): 0x[0-9a-f]+ is free \(EfiConventionalMemory\) memory the kernel never allocated/,
    'the trusting driver read where the device pointed',
  );
});

// ---- the driver API the migration code uses (tests/fixtures/kernels/net-api.ts) ----

const apiModule = () => testEntryModule(join(ROOT, 'tests', 'fixtures', 'kernels', 'net-api.ts'), 'net-api',
  [...listFiles(join(ROOT, 'drivers')), ...listFiles(join(ROOT, 'kernel'))]);

/** The API kernel on a machine with the NIC model; its exports as plain functions. */
const api = (nicOptions = {}) => {
  const { nic, devices } = q35WithVirtioNet(q35Pci, nicOptions);
  const machine = new Machine({ devices });
  const instance = new WebAssembly.Instance(apiModule(), machine.imports());
  machine.attach(instance);
  nic.attach(machine);
  instance.exports.m();
  const e = instance.exports;
  const call = (name, ...args) => callExport(e[name], ...args);
  const buf = () => new Uint8Array(e.$.buffer, call('bufAddr'), 8192);
  return { nic, machine, call, buf };
};

const NET_ERROR = { None: 0, NotReady: 1, BadLength: 2, Busy: 3, Broken: 4, BadRange: 5 };
const COUNTER = { TxFrames: 0, TxBytes: 1, TxBusy: 2, TxBadLength: 3, RxFrames: 4, RxBytes: 5, RxRunts: 6, RxTruncated: 7, DeviceErrors: 8 };

test('driver API: netSend from any offset and from a subarray; lengths and ranges checked', () => {
  const { nic, call, buf } = api();
  assert.equal(call('send', 0, 60), NET_ERROR.NotReady, 'before netInit');
  assert.equal(call('init'), 2, 'NetState.Ready');
  assert.equal(call('macHi'), 0x5254);
  assert.equal(call('macLo'), 0x00123456);
  assert.equal(call('link'), 1);
  const frame = ethernet(PEER, MAC, 0x88b5, 'from offset 100');
  buf().set(frame, 100);
  assert.equal(call('send', 100, frame.length), NET_ERROR.None);
  const other = ethernet(PEER, MAC, 0x88b6, 'from a subarray');
  buf().set(other, 3000 + 7);
  assert.equal(call('sendView', 3000, 200, 7, other.length), NET_ERROR.None);
  assert.deepEqual(nic.sent.map((p) => p.frame), [frame, other]);
  assert.equal(call('send', 0, 13), NET_ERROR.BadLength);
  assert.equal(call('send', 0, 1515), NET_ERROR.BadLength);
  assert.equal(call('send', 8000, 200), NET_ERROR.BadRange);
  assert.equal(call('sendView', 0, 100, 50, 60), NET_ERROR.BadRange, 'the range is checked against the view, not the buffer behind it');
  assert.equal(call('send', -1, 60), NET_ERROR.BadRange);
  assert.equal(nic.sent.length, 2);
  assert.equal(call('counter', COUNTER.TxFrames), 2);
  assert.equal(call('counter', COUNTER.TxBytes), frame.length + other.length);
  assert.equal(call('counter', COUNTER.TxBadLength), 2);
});

test('driver API: a full transmit queue makes netSend wait a little, then say Busy', () => {
  const { nic, machine, call, buf } = api();
  call('init');
  nic.holdTransmit = true;
  buf().set(ethernet(PEER, MAC, 0x88b5, 'x'), 0);
  for (let i = 0; i < 64; i++) assert.equal(call('send', 0, 15), NET_ERROR.None, `frame ${i}`);
  const stalled = machine.stallMicros;
  assert.equal(call('send', 0, 15), NET_ERROR.Busy);
  assert.ok(machine.stallMicros - stalled >= 10000, `waited ${machine.stallMicros - stalled} us`);
  assert.equal(call('counter', COUNTER.TxBusy), 1);
  assert.equal(nic.sent.length, 0);
});

test('driver API: netPoll keeps the frame until netReceive takes it; a short reader buffer cuts it', () => {
  const { nic, call, buf } = api();
  call('init');
  assert.equal(call('poll'), 0);
  assert.equal(call('receive', 0, 2048), 0);
  const a = ethernet(MAC, PEER, 0x88b5, 'first frame, 32 bytes of it.....');
  const b = ethernet(MAC, PEER, 0x88b5, 'second');
  nic.inject(a);
  nic.inject(b);
  assert.equal(call('poll'), a.length);
  assert.equal(call('poll'), a.length, 'polling again does not consume it');
  assert.equal(call('receive', 8000, 500), 0, 'a range outside the buffer takes nothing');
  assert.equal(call('receive', 500, 20), 20, 'cut to the reader\'s 20 bytes');
  assert.deepEqual(buf().slice(500, 520), a.slice(0, 20));
  assert.equal(call('counter', COUNTER.RxTruncated), 1);
  assert.equal(call('receiveView', 4000, 100, 10, 90), b.length);
  assert.deepEqual(buf().slice(4010, 4010 + b.length), b);
  assert.equal(call('poll'), 0);
  assert.equal(call('counter', COUNTER.RxFrames), 2);
  assert.equal(call('counter', COUNTER.RxBytes), a.length + b.length);
});
