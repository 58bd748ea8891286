// A PCI bus model for the simulated machine (tests/sim/machine.mjs `devices`): one set of
// configuration spaces reachable two ways at once,
//   - ECAM (PCI Express Base 5.0 section 7.2.2): 4 KiB per function at
//     base + (bus << 20 | device << 15 | function << 12), as an `mmio` device;
//   - configuration mechanism #1 (PCI Local Bus 3.0 section 3.2.2.3.2): CONFIG_ADDRESS at
//     0xCF8 (bit 31 enable, bus 23:16, device 15:11, function 10:8, register 7:2) and
//     CONFIG_DATA at 0xCFC, as an `io` device (32-bit accesses, as the host ABI has them).
// Configuration space semantics (PCI Local Bus 3.0 section 6): absent functions read
// vendor 0xFFFF; the header type's bit 7 marks multi-function devices; BARs keep only the
// bits their size lets software write (writing all ones reads back the size mask) and
// read-only type bits (section 6.2.5.1); the Command register is writable; the status
// register's bit 4 announces the capability list at 0x34 (section 6.7).
// The model also records what a careful enumerator must not do: writing a BAR while the
// Command register lets the function decode that BAR's space.

const VENDOR = 0x00, COMMAND = 0x04, REVISION = 0x08, HEADER_TYPE = 0x0e, BAR0 = 0x10;
const CAP_PTR = 0x34, ROM_ENDPOINT = 0x30, ROM_BRIDGE = 0x38;
const CMD_IO = 1, CMD_MEM = 2;
const CMD_WRITABLE = 0x0547; // I/O, memory, bus master, parity, SERR#, INTx disable
const STATUS_CAP_LIST = 0x10;

const u32 = (v) => v >>> 0;
const hex = (v, n) => v.toString(16).padStart(n, '0');

/** "bb:dd.f" of a function. */
export const bdf = (bus, dev, fn) => `${hex(bus, 2)}:${hex(dev, 2)}.${fn}`;

// ---- capability builders: { id, bytes } where bytes follow the ID and next pointer ----

const le32 = (v) => [v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, (v >>> 24) & 0xff];
const le16 = (v) => [v & 0xff, (v >>> 8) & 0xff];

/** Power Management (PCI Bus Power Management 1.2 section 3.2): PMC version, PMCSR state. */
export const pmCap = (version = 3, state = 0) => ({ id: 0x01, bytes: [...le16(version), ...le16(state), 0, 0] });

/** MSI (PCI Local Bus 3.0 section 6.8.1): message control, address (32 or 64 bit), data. */
export const msiCap = ({ is64 = false, vectorsLog2 = 0, perVectorMask = false } = {}) => {
  const control = (is64 ? 0x80 : 0) | (vectorsLog2 << 1) | (perVectorMask ? 0x100 : 0);
  const body = [...le16(control), ...le32(0)];
  if (is64) body.push(...le32(0));
  body.push(...le16(0), 0, 0);
  if (perVectorMask) body.push(...le32(0), ...le32(0));
  return { id: 0x05, bytes: body };
};

/** PCI Express capability (PCI Express Base 5.0 section 7.5.3): version 2, a port type. */
export const pcieCap = (portType = 0) => ({ id: 0x10, bytes: [...le16(2 | (portType << 4)), ...new Array(56).fill(0)] });

/** MSI-X (PCI Local Bus 3.0 section 6.8.2): table size, table and PBA BIR + offset. */
export const msixCap = ({ tableSize, tableBir, tableOffset, pbaBir, pbaOffset, enabled = false }) => ({
  id: 0x11,
  bytes: [...le16((tableSize - 1) | (enabled ? 0x8000 : 0)), ...le32(tableOffset | tableBir), ...le32(pbaOffset | pbaBir)],
});

/** SATA capability (AHCI 1.3.1 section 2.2): revision 1.0, BAR5 index-data pair. */
export const sataCap = () => ({ id: 0x12, bytes: [0x10, 0x00, ...le32(0x48)] });

/** Subsystem vendor ID capability of a bridge (PCI Code and ID Assignment 1.11, capability 0x0D). */
export const bridgeSubsystemCap = (vendor, device) => ({ id: 0x0d, bytes: [0, 0, ...le16(vendor), ...le16(device)] });

/**
 * A virtio vendor capability (virtio 1.2 section 4.1.4): struct virtio_pci_cap
 * (cap_len, cfg_type, bar, id, padding, offset, length), plus notify_off_multiplier for
 * notify (4.1.4.4), pci_cfg_data for pci-cfg (4.1.4.9), offset_hi/length_hi for shared memory (4.1.4.7).
 */
export const virtioCap = (cfgType, bar, offset, length, { multiplier = 0, shmId = 0, offsetHi = 0, lengthHi = 0 } = {}) => {
  const extra = cfgType === 2 ? le32(multiplier) : cfgType === 5 ? le32(0) : cfgType === 8 ? [...le32(offsetHi), ...le32(lengthHi)] : [];
  const capLen = 16 + extra.length;
  return { id: 0x09, bytes: [capLen, cfgType, bar, cfgType === 8 ? shmId : 0, 0, 0, ...le32(offset), ...le32(length), ...extra] };
};

export const VIRTIO = { common: 1, notify: 2, isr: 3, device: 4, pciCfg: 5, sharedMemory: 8 };

// ---- one function's configuration space ----

class PciFunction {
  /**
   * @param {object} s
   * @param {number} s.bus @param {number} s.dev @param {number} s.fn
   * @param {number} s.vendor @param {number} s.device
   * @param {number} s.classCode 24 bits: base class, subclass, programming interface
   * @param {number} [s.revision] @param {number} [s.headerType] 0, 1 (bridge), 2 (CardBus)
   * @param {boolean} [s.multi] header type bit 7
   * @param {number} [s.command] initial Command register (decode enabled, as firmware leaves it)
   * @param {Array<{kind:'mem32'|'mem64'|'io'|'raw', size?:number|bigint, base?:number|bigint, prefetch?:boolean,
   *   decode16?: boolean, value?: number, mask?: number, low?: number}|null>} [s.bars]
   * @param {{size:number, base:number, enabled?:boolean}} [s.rom]
   * @param {Array<{at:number, id:number, bytes:number[], next?:number}>} [s.caps] in list order
   * @param {number} [s.capPtr] overrides the capability pointer at 0x34
   * @param {number[]} [s.buses] bridges: [primary, secondary, subordinate]
   * @param {number[]} [s.allOnesBars] BAR indexes (6: the ROM BAR) that read 0xFFFFFFFF whatever is written
   */
  constructor(s, model) {
    this.spec = s;
    this.model = model;
    this.bus = s.bus; this.dev = s.dev; this.fn = s.fn;
    this.cfg = new Uint8Array(4096);
    const headerType = s.headerType ?? 0;
    this.headerType = headerType;
    this.w32(VENDOR, u32(s.vendor | (s.device << 16)));
    this.w32(REVISION, u32((s.revision ?? 0) | (s.classCode << 8)));
    this.cfg[HEADER_TYPE] = headerType | (s.multi ? 0x80 : 0);
    this.command = s.command ?? 0x0007;
    this.barCount = headerType === 0 ? 6 : headerType === 1 ? 2 : 1;
    // BAR state: per dword, { mask, low (read-only low bits), value }
    this.barRegs = [];
    const bars = s.bars ?? [];
    for (let i = 0; i < this.barCount; i++) this.barRegs.push({ mask: 0, low: 0, value: 0, kind: null });
    for (let i = 0; i < bars.length && i < this.barCount; i++) {
      const b = bars[i];
      if (!b) continue;
      const size = BigInt(b.size ?? 0);
      const base = BigInt(b.base ?? 0);
      if (b.kind === 'raw') {
        // a register as given: writable bits `mask`, read-only bits `low`
        Object.assign(this.barRegs[i], { mask: u32(b.mask), low: u32(b.low), value: u32(b.value), kind: (b.low & 1) ? 'io' : 'mem' });
      } else if (b.kind === 'io') {
        // decode16: a decoder of 16 address bits, whose upper half reads back as zeros
        const mask = b.decode16 ? Number(~(size - 1n) & 0xfffcn) : Number(~(size - 1n) & 0xfffffffcn);
        Object.assign(this.barRegs[i], { mask: u32(mask), low: 1, value: Number(base & 0xffffffffn), kind: 'io' });
      } else {
        const low = (b.kind === 'mem64' ? 4 : 0) | (b.prefetch ? 8 : 0);
        const mask64 = ~(size - 1n) & 0xfffffffffffffff0n;
        Object.assign(this.barRegs[i], { mask: Number(mask64 & 0xfffffff0n), low, value: Number(base & 0xfffffff0n), kind: 'mem' });
        if (b.kind === 'mem64') {
          Object.assign(this.barRegs[i + 1], { mask: Number((mask64 >> 32n) & 0xffffffffn), low: 0, value: Number(base >> 32n), kind: 'mem' });
          i++;
        }
      }
      for (const r of this.barRegs) r.value = u32(r.value & r.mask);
    }
    this.allOnesBars = new Set(s.allOnesBars ?? []);
    this.barWriteCounts = this.barRegs.map(() => 0);
    this.romAt = headerType === 1 ? ROM_BRIDGE : headerType === 0 ? ROM_ENDPOINT : -1;
    this.rom = s.rom ? { mask: u32(~(s.rom.size - 1) & 0xfffff800), value: u32(s.rom.base | (s.rom.enabled ? 1 : 0)) } : null;
    if (headerType === 1) {
      const [p, sec, sub] = s.buses ?? [s.bus, 0, 0];
      this.cfg[0x18] = p; this.cfg[0x19] = sec; this.cfg[0x1a] = sub;
    }
    const caps = s.caps ?? [];
    for (let i = 0; i < caps.length; i++) {
      const c = caps[i];
      const next = c.next ?? (i + 1 < caps.length ? caps[i + 1].at : 0);
      this.cfg[c.at] = c.id;
      this.cfg[c.at + 1] = next;
      c.bytes.forEach((b, k) => { this.cfg[c.at + 2 + k] = b; });
    }
    const capPtr = s.capPtr ?? (caps.length ? caps[0].at : 0);
    if (capPtr) {
      this.status = STATUS_CAP_LIST;
      this.cfg[headerType === 2 ? 0x14 : CAP_PTR] = capPtr;
    } else this.status = 0;
    this.initial = this.snapshot();
  }

  w32(off, v) {
    new DataView(this.cfg.buffer).setUint32(off, u32(v), true);
  }

  /** The registers a sizing must leave as it found them: Command and every BAR dword (and the ROM BAR). */
  snapshot() {
    const out = { command: this.command, bars: this.barRegs.map((r) => r.value) };
    if (this.rom) out.rom = this.rom.value;
    return out;
  }

  barIndex(off) {
    if (off < BAR0 || off >= BAR0 + 4 * this.barCount) return -1;
    return (off - BAR0) >> 2;
  }

  read(off) {
    if (off === COMMAND) return u32(this.command | (this.status << 16));
    const bar = this.barIndex(off);
    if (bar >= 0) {
      if (this.allOnesBars.has(bar)) return 0xffffffff;
      const r = this.barRegs[bar];
      return u32(r.value | r.low);
    }
    if (off === this.romAt && this.allOnesBars.has(6)) return 0xffffffff;
    if (off === this.romAt && this.rom) return this.rom.value;
    return new DataView(this.cfg.buffer).getUint32(off, true);
  }

  write(off, v) {
    if (off === COMMAND) {
      this.command = (v & CMD_WRITABLE) | (this.command & ~CMD_WRITABLE & 0xffff);
      return;
    }
    const bar = this.barIndex(off);
    if (bar >= 0) {
      const r = this.barRegs[bar];
      const decoding = r.kind === 'io' ? (this.command & CMD_IO) !== 0 : r.kind === 'mem' ? (this.command & CMD_MEM) !== 0 : false;
      this.model.barWrites++;
      this.barWriteCounts[bar]++;
      if (decoding) this.model.violations.push(`${bdf(this.bus, this.dev, this.fn)} BAR${bar} written with 0x${hex(v, 8)} while decoding (command 0x${hex(this.command, 4)})`);
      r.value = u32(v & r.mask);
      return;
    }
    if (off === this.romAt && this.rom) {
      if ((this.command & CMD_MEM) !== 0) this.model.violations.push(`${bdf(this.bus, this.dev, this.fn)} ROM BAR written while decoding`);
      this.rom.value = u32(v & (this.rom.mask | 1));
      return;
    }
    if (this.headerType === 1 && off === 0x18) {
      // bus numbers are writable; the enumerator should leave them as firmware set them
      this.model.violations.push(`${bdf(this.bus, this.dev, this.fn)} bus numbers written with 0x${hex(v, 8)}`);
    }
    // everything else is read-only here
  }
}

/**
 * A PCI bus model over `specs` (see PciFunction): { devices (for Machine), fn(bus, dev, fn),
 * functions, violations, counts }.
 * @param {object[]} specs
 * @param {{ ecamBase?: number, ecamBuses?: number, ports?: boolean, ecam?: boolean,
 *   aliasFrom?: number, maxAccesses?: number }} [o] aliasFrom: buses from this number on
 *   answer with the functions of bus `aliasFrom` (a device that ignores the bus number);
 *   maxAccesses: configuration accesses after which the model throws (default 2,000,000)
 */
export const pciModel = (specs, o = {}) => {
  const model = { violations: [], barWrites: 0, ecamReads: 0, ecamWrites: 0, portReads: 0, portWrites: 0 };
  const maxAccesses = o.maxAccesses ?? 2000000;
  const count = () => {
    // a kernel that loops over configuration space fails the test instead of hanging it
    if (model.ecamReads + model.ecamWrites + model.portReads + model.portWrites > maxAccesses) {
      throw new Error(`pci model: more than ${maxAccesses} configuration accesses`);
    }
  };
  const byAddr = new Map();
  model.functions = specs.map((s) => new PciFunction(s, model));
  for (const f of model.functions) byAddr.set(`${f.bus}:${f.dev}:${f.fn}`, f);
  model.fn = (bus, dev, fn) => byAddr.get(`${bus}:${dev}:${fn}`);
  const lookup = (bus, dev, fn) => {
    const b = o.aliasFrom !== undefined && bus >= o.aliasFrom ? o.aliasFrom : bus;
    return byAddr.get(`${b}:${dev}:${fn}`);
  };
  const read = (bus, dev, fn, off) => {
    const f = lookup(bus, dev, fn);
    return f ? f.read(off) : 0xffffffff;
  };
  const write = (bus, dev, fn, off, v) => {
    const f = lookup(bus, dev, fn);
    if (f) f.write(off, v);
  };
  const ecamBase = o.ecamBase ?? 0xb0000000;
  const ecamBuses = o.ecamBuses ?? 256;
  const split = (offset) => [Math.floor(offset / 0x100000), Math.floor(offset / 0x8000) % 32, Math.floor(offset / 0x1000) % 8, offset % 0x1000];
  model.devices = [];
  if (o.ecam ?? true) {
    model.devices.push({
      mmio: {
        base: ecamBase, size: ecamBuses * 0x100000,
        read32: (offset) => {
          model.ecamReads++;
          count();
          const [b, d, f, r] = split(offset);
          return read(b, d, f, r);
        },
        write32: (offset, v) => {
          model.ecamWrites++;
          count();
          const [b, d, f, r] = split(offset);
          write(b, d, f, r, v);
        },
      },
    });
  }
  if (o.ports ?? true) {
    let address = 0;
    const target = () => [(address >>> 16) & 0xff, (address >>> 11) & 0x1f, (address >>> 8) & 7, address & 0xfc];
    model.devices.push({
      io: {
        base: 0xcf8, size: 8,
        in32: (port) => {
          if (port === 0xcf8) return address;
          if (port !== 0xcfc) return 0xffffffff;
          model.portReads++;
          count();
          if ((address & 0x80000000) === 0) return 0xffffffff;
          const [b, d, f, r] = target();
          return read(b, d, f, r);
        },
        out32: (port, v) => {
          if (port === 0xcf8) {
            address = u32(v & 0x80fffffc);
            return;
          }
          if (port !== 0xcfc) return;
          model.portWrites++;
          count();
          if ((address & 0x80000000) === 0) return;
          const [b, d, f, r] = target();
          write(b, d, f, r, v);
        },
      },
    });
  }
  return model;
};

// ---- QEMU q35 under OVMF, as toolchain/uefi-run starts it, plus a PCIe root port with a
// modern virtio-net behind it. IDs, classes, BAR sizes and capability offsets as QEMU 7.2
// presents them; addresses as OVMF assigns them (32-bit window from 0x80000000, 64-bit
// BARs above 4 GiB, I/O from 0x6000).

const virtioCaps = (first, notifyMultiplier, msix) => {
  // QEMU adds common, ISR, device, notify, pci-cfg in this order, each at the list head,
  // and MSI-X last: the list runs MSI-X, pci-cfg, notify, device, ISR, common.
  const at = [first, first + 0x10, first + 0x20, first + 0x30, first + 0x44, first + 0x58];
  return [
    { at: at[5], ...msixCap(msix) },
    { at: at[4], ...virtioCap(VIRTIO.pciCfg, 0, 0, 0) },
    { at: at[3], ...virtioCap(VIRTIO.notify, 4, 0x3000, 0x1000, { multiplier: notifyMultiplier }) },
    { at: at[2], ...virtioCap(VIRTIO.device, 4, 0x2000, 0x1000) },
    { at: at[1], ...virtioCap(VIRTIO.isr, 4, 0x1000, 0x1000) },
    { at: at[0], ...virtioCap(VIRTIO.common, 4, 0x0000, 0x1000) },
  ];
};

/** Function specs of the q35 topology. */
export const q35Functions = () => [
  { bus: 0, dev: 0, fn: 0, vendor: 0x8086, device: 0x29c0, classCode: 0x060000, command: 0x0000 },
  {
    bus: 0, dev: 1, fn: 0, vendor: 0x1234, device: 0x1111, revision: 2, classCode: 0x030000, command: 0x0003,
    bars: [{ kind: 'mem32', size: 16 << 20, base: 0x80000000, prefetch: true }, null, { kind: 'mem32', size: 0x1000, base: 0x81010000 }],
    rom: { size: 0x10000, base: 0x81000000 },
  },
  {
    bus: 0, dev: 2, fn: 0, vendor: 0x1af4, device: 0x1001, classCode: 0x010000, command: 0x0007,
    bars: [{ kind: 'io', size: 0x80, base: 0x6000 }, { kind: 'mem32', size: 0x1000, base: 0x81011000 }, null, null,
      { kind: 'mem64', size: 0x4000, base: 0x800000000n, prefetch: true }],
    caps: virtioCaps(0x40, 4, { tableSize: 2, tableBir: 1, tableOffset: 0, pbaBir: 1, pbaOffset: 0x800, enabled: true }),
  },
  {
    bus: 0, dev: 3, fn: 0, vendor: 0x1b36, device: 0x000c, classCode: 0x060400, headerType: 1, command: 0x0007,
    bars: [{ kind: 'mem32', size: 0x1000, base: 0x81012000 }], buses: [0, 1, 1],
    caps: [
      { at: 0x54, ...pcieCap(4) },
      { at: 0x48, ...msixCap({ tableSize: 1, tableBir: 0, tableOffset: 0, pbaBir: 0, pbaOffset: 0x800 }) },
      { at: 0x40, ...bridgeSubsystemCap(0x1b36, 0) },
    ],
  },
  {
    bus: 1, dev: 0, fn: 0, vendor: 0x1af4, device: 0x1041, revision: 1, classCode: 0x020000, command: 0x0006,
    bars: [null, { kind: 'mem32', size: 0x1000, base: 0x80c00000 }, null, null, { kind: 'mem64', size: 0x4000, base: 0x800004000n, prefetch: true }],
    caps: [
      ...virtioCaps(0x84, 4, { tableSize: 3, tableBir: 1, tableOffset: 0, pbaBir: 1, pbaOffset: 0x800 }),
      { at: 0x7c, ...pmCap(3, 0) },
      { at: 0x40, ...pcieCap(0) },
    ],
  },
  { bus: 0, dev: 0x1f, fn: 0, vendor: 0x8086, device: 0x2918, revision: 2, classCode: 0x060100, multi: true, command: 0x0007 },
  {
    bus: 0, dev: 0x1f, fn: 2, vendor: 0x8086, device: 0x2922, revision: 2, classCode: 0x010601, command: 0x0007,
    bars: [null, null, null, null, { kind: 'io', size: 0x20, base: 0x60c0 }, { kind: 'mem32', size: 0x1000, base: 0x81013000 }],
    caps: [{ at: 0x80, ...msiCap({ is64: true }) }, { at: 0xa8, ...sataCap() }],
  },
  {
    bus: 0, dev: 0x1f, fn: 3, vendor: 0x8086, device: 0x2930, revision: 2, classCode: 0x0c0500, command: 0x0001,
    bars: [null, null, null, null, { kind: 'io', size: 0x40, base: 0x6080 }],
  },
];

/** The q35 bus model (ECAM at 0xB0000000 for buses 0-255 and ports 0xCF8/0xCFC). */
export const q35Pci = (o = {}) => pciModel(q35Functions(), o);
