// A modern virtio-net device (virtio 1.2 sections 4.1 and 5.1) for the simulated machine,
// behind the PCI function 01:00.0 (1af4:1041) of the q35 bus model (tests/sim/pci.mjs):
// its BAR4 holds, as QEMU 7.2 lays it out, the common configuration at +0x0000, ISR at
// +0x1000, the device configuration at +0x2000 and the notifications at +0x3000
// (notify_off_multiplier 4). The device
//   - follows the BAR and the PCI Command register: MMIO while memory decoding is off, or
//     DMA while bus mastering is off, is recorded as a problem (and MMIO reads all ones);
//   - checks that every field is accessed with its own width (section 4.1.3.1);
//   - implements the status, feature and queue registers and a real split-ring backend
//     (section 2.7): on a transmit notification it reads the available ring and the
//     descriptors from simulated physical memory (Machine.physRead) and records each
//     packet (the 12-byte virtio_net_hdr and the frame); received frames (inject) go
//     into the buffers the driver posted, with a used element for each;
//   - checks what the driver hands it: descriptors inside memory the kernel allocated,
//     the right direction flags, no notification before DRIVER_OK;
//   - can misbehave once, on purpose (misbehave): a used index that jumps, a used length
//     longer than the buffer, a descriptor id that was not posted.
// Everything the driver did is in `events` (status writes, features, queue setup) and
// everything that was wrong in `problems`.

const COMMON = 0x0000, ISR = 0x1000, DEVICE = 0x2000, NOTIFY = 0x3000, MULTIPLIER = 4;
const FEATURE_MAC = 1n << 5n, FEATURE_STATUS = 1n << 16n, FEATURE_VERSION_1 = 1n << 32n;
const FEATURE_CSUM = 1n << 0n, FEATURE_MRG_RXBUF = 1n << 15n, FEATURE_CTRL_VQ = 1n << 17n, FEATURE_EVENT_IDX = 1n << 29n;
/** What QEMU 7.2's virtio-net offers, roughly: the ones the driver wants and some it must leave off. */
export const QEMU_FEATURES = FEATURE_CSUM | FEATURE_MAC | FEATURE_MRG_RXBUF | FEATURE_STATUS | FEATURE_CTRL_VQ | FEATURE_EVENT_IDX | FEATURE_VERSION_1;
export const FEATURES = { mac: FEATURE_MAC, status: FEATURE_STATUS, version1: FEATURE_VERSION_1 };

// common configuration fields: offset -> [width in bits, name]
const FIELDS = new Map([
  [0x00, [32, 'device_feature_select']], [0x04, [32, 'device_feature']], [0x08, [32, 'driver_feature_select']],
  [0x0c, [32, 'driver_feature']], [0x10, [16, 'config_msix_vector']], [0x12, [16, 'num_queues']],
  [0x14, [8, 'device_status']], [0x15, [8, 'config_generation']], [0x16, [16, 'queue_select']],
  [0x18, [16, 'queue_size']], [0x1a, [16, 'queue_msix_vector']], [0x1c, [16, 'queue_enable']],
  [0x1e, [16, 'queue_notify_off']], [0x20, [32, 'queue_desc_lo']], [0x24, [32, 'queue_desc_hi']],
  [0x28, [32, 'queue_driver_lo']], [0x2c, [32, 'queue_driver_hi']], [0x30, [32, 'queue_device_lo']],
  [0x34, [32, 'queue_device_hi']],
]);

const hex = (v) => `0x${v.toString(16)}`;

export class VirtioNet {
  /**
   * @param {object} pci the PciFunction of the device (pciModel(...).fn(bus, dev, fn))
   * @param {object} [o]
   * @param {number[]} [o.mac] six bytes
   * @param {bigint} [o.features] offered features
   * @param {number} [o.queueMax] maximum queue size
   * @param {number} [o.numQueues]
   * @param {boolean} [o.link]
   * @param {number} [o.bar] the BAR holding the structures (4)
   */
  constructor(pci, o = {}) {
    this.pci = pci;
    this.mac = o.mac ?? [0x52, 0x54, 0x00, 0x12, 0x34, 0x56];
    this.offered = o.features ?? QEMU_FEATURES;
    this.queueMax = o.queueMax ?? 256;
    this.numQueues = o.numQueues ?? 3;
    this.link = o.link ?? true;
    this.bar = o.bar ?? 4;
    this.machine = null;
    this.events = [];
    this.problems = [];
    this.sent = []; // { header: Uint8Array(12), frame: Uint8Array }
    this.pending = []; // frames to deliver
    this.delivered = 0;
    this.notifies = [0, 0, 0];
    this.misbehaviour = null;
    this.holdTransmit = false; // true: transmit notifications are not acted on (the queue fills up)
    this.mmioAccesses = 0;
    this.generation = 0;
    this.negotiated = null; // the driver features of the last FEATURES_OK that was accepted
    this.#reset();
    const device = this;
    this.mmio = {
      get base() { return device.barBase(); },
      size: 0x4000,
      read8: (off) => device.#read(off, 8),
      read16: (off) => device.#read(off, 16),
      read32: (off) => device.#read(off, 32),
      write8: (off, v) => device.#write(off, 8, v),
      write16: (off, v) => device.#write(off, 16, v),
      write32: (off, v) => device.#write(off, 32, v),
    };
  }

  /** The machine whose physical memory the device reads and writes (boot's hostHooks). */
  attach(machine) {
    this.machine = machine;
  }

  /** For Machine's `devices`. */
  get devices() {
    return [{ mmio: this.mmio }];
  }

  barBase() {
    const r = this.pci.barRegs;
    return r[this.bar + 1].value * 4294967296 + r[this.bar].value;
  }

  #reset() {
    this.status = 0;
    this.deviceSelect = 0;
    this.driverSelect = 0;
    this.driverFeatures = 0n;
    this.queueSelect = 0;
    this.isr = 0;
    this.queues = [];
    for (let q = 0; q < this.numQueues; q++) {
      this.queues.push({ size: this.queueMax, msix: 0, enable: 0, notifyOff: q, desc: 0n, driver: 0n, device: 0n, lastAvail: 0, usedIdx: 0 });
    }
  }

  problem(s) {
    this.problems.push(s);
  }

  // ---- registers ----

  #read(off, bits) {
    this.mmioAccesses++;
    if ((this.pci.command & 2) === 0) {
      this.problem(`MMIO read at +${hex(off)} with memory decoding off`);
      return 2 ** bits - 1;
    }
    if (off >= COMMON && off < ISR) return this.#commonRead(off, bits);
    if (off === ISR) {
      if (bits !== 8) this.problem(`ISR read with ${bits} bits`);
      const v = this.isr;
      this.isr = 0;
      return v;
    }
    if (off >= DEVICE && off < NOTIFY) return this.#configRead(off - DEVICE, bits);
    this.problem(`read of +${hex(off)} (${bits} bits)`);
    return 0;
  }

  #write(off, bits, v) {
    this.mmioAccesses++;
    if ((this.pci.command & 2) === 0) {
      this.problem(`MMIO write at +${hex(off)} with memory decoding off`);
      return;
    }
    if (off >= COMMON && off < ISR) return this.#commonWrite(off, bits, v);
    if (off >= NOTIFY && off < NOTIFY + 0x1000) return this.#notify(off - NOTIFY, bits, v);
    this.problem(`write of ${hex(v)} to +${hex(off)} (${bits} bits)`);
  }

  #field(off, bits, access) {
    const f = FIELDS.get(off);
    if (!f) {
      this.problem(`${access} of common configuration +${hex(off)}, which is no field start`);
      return null;
    }
    if (f[0] !== bits) this.problem(`${access} of ${f[1]} with ${bits} bits (it has ${f[0]})`);
    return f[1];
  }

  get q() {
    return this.queues[this.queueSelect];
  }

  #commonRead(off, bits) {
    const name = this.#field(off, bits, 'read');
    const q = this.q;
    switch (name) {
      case 'device_feature_select': return this.deviceSelect;
      case 'device_feature': return this.deviceSelect < 2 ? Number((this.offered >> BigInt(32 * this.deviceSelect)) & 0xffffffffn) : 0;
      case 'driver_feature_select': return this.driverSelect;
      case 'driver_feature': return this.driverSelect < 2 ? Number((this.driverFeatures >> BigInt(32 * this.driverSelect)) & 0xffffffffn) : 0;
      case 'config_msix_vector': return 0xffff;
      case 'num_queues': return this.numQueues;
      case 'device_status': return this.status;
      case 'config_generation': return this.generation & 0xff;
      case 'queue_select': return this.queueSelect;
      case 'queue_size': return q ? q.size : 0;
      case 'queue_msix_vector': return q ? q.msix : 0xffff;
      case 'queue_enable': return q ? q.enable : 0;
      case 'queue_notify_off': return q ? q.notifyOff : 0;
      case 'queue_desc_lo': return q ? Number(q.desc & 0xffffffffn) : 0;
      case 'queue_desc_hi': return q ? Number(q.desc >> 32n) : 0;
      case 'queue_driver_lo': return q ? Number(q.driver & 0xffffffffn) : 0;
      case 'queue_driver_hi': return q ? Number(q.driver >> 32n) : 0;
      case 'queue_device_lo': return q ? Number(q.device & 0xffffffffn) : 0;
      case 'queue_device_hi': return q ? Number(q.device >> 32n) : 0;
    }
    return 0;
  }

  #setHalf(q, key, hi, v) {
    const mask = hi ? 0xffffffffn : 0xffffffff00000000n;
    q[key] = (q[key] & mask) | (hi ? BigInt(v) << 32n : BigInt(v));
  }

  #commonWrite(off, bits, v) {
    const name = this.#field(off, bits, 'write');
    const q = this.q;
    const queueField = name && name.startsWith('queue_') && name !== 'queue_select';
    if (queueField && !q) {
      this.problem(`${name} written for queue ${this.queueSelect}, which does not exist`);
      return;
    }
    if (queueField && q.enable && name !== 'queue_enable') this.problem(`${name} written while queue ${this.queueSelect} is enabled`);
    switch (name) {
      case 'device_feature_select': this.deviceSelect = v; return;
      case 'driver_feature_select': this.driverSelect = v; return;
      case 'driver_feature': {
        if (this.driverSelect > 1) return;
        if ((this.status & 8) !== 0) this.problem('driver_feature written after FEATURES_OK');
        const shift = BigInt(32 * this.driverSelect);
        this.driverFeatures = (this.driverFeatures & ~(0xffffffffn << shift)) | (BigInt(v) << shift);
        this.events.push(`driver_feature ${this.driverSelect} ${hex(v)}`);
        return;
      }
      case 'config_msix_vector': return;
      case 'device_status': return this.#setStatus(v);
      case 'queue_select': this.queueSelect = v; return;
      case 'queue_size':
        if (v > this.queueMax || v === 0 || (v & (v - 1)) !== 0) this.problem(`queue_size ${v} for queue ${this.queueSelect} (maximum ${this.queueMax}, a power of two)`);
        q.size = v;
        return;
      case 'queue_msix_vector': q.msix = v; return;
      case 'queue_enable':
        if (v !== 1) this.problem(`queue_enable written with ${v}`);
        if ((this.status & 8) === 0) this.problem(`queue ${this.queueSelect} enabled before FEATURES_OK`);
        q.enable = 1;
        this.events.push(`queue ${this.queueSelect} enable size ${q.size} desc ${hex(q.desc)} driver ${hex(q.driver)} device ${hex(q.device)}`);
        return;
      case 'queue_desc_lo': this.#setHalf(q, 'desc', false, v); return;
      case 'queue_desc_hi': this.#setHalf(q, 'desc', true, v); return;
      case 'queue_driver_lo': this.#setHalf(q, 'driver', false, v); return;
      case 'queue_driver_hi': this.#setHalf(q, 'driver', true, v); return;
      case 'queue_device_lo': this.#setHalf(q, 'device', false, v); return;
      case 'queue_device_hi': this.#setHalf(q, 'device', true, v); return;
      case null: return;
    }
    this.problem(`write of read-only ${name}`);
  }

  #setStatus(v) {
    this.events.push(`status ${v}`);
    if (v === 0) {
      this.#reset();
      return;
    }
    if ((this.status & ~v) !== 0 && (v & 128) === 0) this.problem(`device_status ${hex(v)} clears bits of ${hex(this.status)}`);
    if ((v & 8) !== 0 && (this.status & 8) === 0) {
      const extra = this.driverFeatures & ~this.offered;
      if (extra !== 0n || (this.driverFeatures & FEATURE_VERSION_1) === 0n) {
        this.events.push('features refused');
        v &= ~8;
      } else this.negotiated = this.driverFeatures;
    }
    if ((v & 4) !== 0 && (this.status & 4) === 0 && (this.pci.command & 4) === 0) this.problem('DRIVER_OK with bus mastering off');
    this.status = v;
  }

  #configRead(off, bits) {
    if (off < 6) {
      if (bits !== 8) this.problem(`mac[${off}] read with ${bits} bits`);
      return this.mac[off];
    }
    if (off === 6) {
      if (bits !== 16) this.problem(`status read with ${bits} bits`);
      return this.link ? 1 : 0;
    }
    if (off === 8) return 1; // max_virtqueue_pairs
    this.problem(`device configuration +${hex(off)} read`);
    return 0;
  }

  #notify(off, bits, v) {
    if (bits !== 16) this.problem(`notification with ${bits} bits`);
    const q = this.queues[v];
    if (!q) return this.problem(`notification of queue ${v}, which does not exist`);
    if (off !== q.notifyOff * MULTIPLIER) this.problem(`notification of queue ${v} at +${hex(off)}, not at its notify address +${hex(q.notifyOff * MULTIPLIER)}`);
    if ((this.status & 4) === 0) this.problem(`notification of queue ${v} before DRIVER_OK`);
    this.notifies[v]++;
    if (v === 1) this.#transmit();
    if (v === 0) this.deliver();
  }

  /** The link state; a change bumps config_generation and raises the configuration ISR bit. */
  setLink(up) {
    this.link = up;
    this.generation++;
    this.isr |= 2;
  }

  // ---- the split rings (section 2.7) in simulated physical memory ----

  #ready(qi) {
    const q = this.queues[qi];
    if (!this.machine || !q || !q.enable || (this.status & 4) === 0 || (this.status & 128) !== 0) return null;
    if ((this.pci.command & 4) === 0) {
      this.problem('DMA with bus mastering off');
      return null;
    }
    return q;
  }

  #u16(addr) {
    const b = this.machine.ownedRead(addr, 2, 'virtio-net (a ring read)');
    return b[0] | (b[1] << 8);
  }

  #le(bytes) {
    return bytes.reduce((v, b, i) => v + b * 2 ** (8 * i), 0);
  }

  /** Whether [addr, +len) lies in pages the kernel allocated from the firmware. */
  #owned(addr, len) {
    const first = Number(addr) / 4096, last = (Number(addr) + len - 1) / 4096;
    return this.machine.allocations.some(([f, n]) => first >= f && last < f + n);
  }

  #descriptor(q, qi, id) {
    const d = this.machine.ownedRead(q.desc + BigInt(16 * id), 16, 'virtio-net (a descriptor read)');
    const addr = BigInt(this.#le(d.subarray(0, 8)));
    const len = this.#le(d.subarray(8, 12));
    const flags = d[12] | (d[13] << 8);
    if ((flags & 1) !== 0 || (flags & 4) !== 0) this.problem(`queue ${qi} descriptor ${id} is chained or indirect (flags ${flags})`);
    if (!this.#owned(addr, Math.max(len, 1))) this.problem(`queue ${qi} descriptor ${id} points at ${hex(addr)} +${len}, outside the kernel's pages`);
    return { addr, len, flags };
  }

  #pushUsed(q, id, len) {
    const at = q.device + 4n + BigInt(8 * (q.usedIdx % q.size));
    const elem = new Uint8Array(8);
    new DataView(elem.buffer).setUint32(0, id >>> 0, true);
    new DataView(elem.buffer).setUint32(4, len >>> 0, true);
    this.machine.ownedWrite(at, elem, 'virtio-net (used ring)');
    q.usedIdx = (q.usedIdx + 1) & 0xffff;
    this.#writeUsedIdx(q);
    this.isr |= 1;
  }

  #writeUsedIdx(q) {
    this.machine.ownedWrite(q.device + 2n, Uint8Array.of(q.usedIdx & 0xff, q.usedIdx >> 8), 'virtio-net (used ring index)');
  }

  /** Applies the one-time misbehaviour for queue qi if it is armed: true when it replaced the normal used element. */
  #misbehave(q, qi, id, len) {
    const m = this.misbehaviour;
    if (!m || m.queue !== qi) return false;
    this.misbehaviour = null;
    if (m.kind === 'jump') {
      q.usedIdx = (q.usedIdx + q.size + (m.by ?? 3)) & 0xffff;
      this.#writeUsedIdx(q);
    } else if (m.kind === 'length') {
      this.#pushUsed(q, id, m.length ?? 0x10000);
    } else if (m.kind === 'id') {
      this.#pushUsed(q, m.id ?? (id + 1) % q.size, len);
    }
    return true;
  }

  #transmit() {
    const q = this.#ready(1);
    if (!q || this.holdTransmit) return;
    const avail = this.#u16(q.driver + 2n);
    while (q.lastAvail !== avail) {
      const id = this.#u16(q.driver + 4n + BigInt(2 * (q.lastAvail % q.size)));
      q.lastAvail = (q.lastAvail + 1) & 0xffff;
      if (id >= q.size) {
        this.problem(`transmit avail entry ${id} is no descriptor`);
        continue;
      }
      const d = this.#descriptor(q, 1, id);
      if ((d.flags & 2) !== 0) this.problem(`transmit descriptor ${id} is device-writable`);
      const bytes = this.machine.physRead(d.addr, d.len);
      this.sent.push({ header: bytes.slice(0, 12), frame: bytes.slice(12) });
      if (!this.#misbehave(q, 1, id, 0)) this.#pushUsed(q, id, 0);
    }
  }

  /** Queues a frame (bytes from the destination MAC on) for the driver's receive buffers. */
  inject(frame) {
    this.pending.push(Uint8Array.from(frame));
    this.deliver();
  }

  /** Puts pending frames into posted receive buffers, as far as there are buffers. */
  deliver() {
    const q = this.#ready(0);
    if (!q) return;
    const avail = this.#u16(q.driver + 2n);
    while (this.pending.length > 0 && q.lastAvail !== avail) {
      const frame = this.pending.shift();
      const id = this.#u16(q.driver + 4n + BigInt(2 * (q.lastAvail % q.size)));
      q.lastAvail = (q.lastAvail + 1) & 0xffff;
      if (id >= q.size) {
        this.problem(`receive avail entry ${id} is no descriptor`);
        continue;
      }
      const d = this.#descriptor(q, 0, id);
      if ((d.flags & 2) === 0) this.problem(`receive descriptor ${id} is not device-writable`);
      if (d.len < 12 + frame.length) {
        this.problem(`receive descriptor ${id} has ${d.len} bytes, too few for a ${frame.length}-byte frame`);
        continue;
      }
      const packet = new Uint8Array(12 + frame.length);
      packet[10] = 1; // num_buffers
      packet.set(frame, 12);
      this.machine.physWrite(d.addr, packet);
      this.delivered++;
      if (!this.#misbehave(q, 0, id, packet.length)) this.#pushUsed(q, id, packet.length);
    }
  }

  /** Arms one misbehaviour: { queue: 0 (receive) | 1 (transmit), kind: 'jump' | 'length' | 'id', by?, length?, id? }. */
  misbehave(m) {
    this.misbehaviour = m;
  }
}

/**
 * The q35 bus with a VirtioNet behind 01:00.0, as OVMF leaves it after its own driver let
 * go (Command register 0: no decoding, no bus mastering).
 */
export const q35WithVirtioNet = (pciModelFn, o = {}) => {
  const bus = pciModelFn();
  const fn = bus.fn(1, 0, 0);
  fn.command = o.command ?? 0;
  const nic = new VirtioNet(fn, o);
  return { bus, nic, devices: [...bus.devices, ...nic.devices] };
};
