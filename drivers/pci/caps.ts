// The capability list (PCI Local Bus 3.0 section 6.7): status bit 4 says there is one;
// its head is at 0x34 (CardBus: 0x14); each entry is ID (byte 0) and next pointer
// (byte 1, low two bits reserved), inside the device-specific area 0x40-0xFF.
// The walk is bounded: a pointer into the header (below 0x40), a pointer that comes back
// to an entry already seen, or an entry reading all ones ends it with a recorded error.
// Decoders for the entries drivers need: MSI-X (section 6.8.2) and the virtio 1.x vendor
// capabilities (virtio 1.2 section 4.1.4).
import { MAX_FUNCTIONS, pciDeviceId, pciHeaderLayout, pciRead32, pciVendor } from './functions';

/** Capabilities kept per function: every dword of 0x40-0xFF once. */
export const MAX_CAPS = 48;

export const enum CapId {
  PowerManagement = 0x01,
  Msi = 0x05,
  VendorSpecific = 0x09,
  PciExpress = 0x10,
  MsiX = 0x11,
}

export const enum CapError {
  None = 0,
  InHeader = 1, // a pointer below 0x40
  Cycle = 2, // a pointer back to an entry already walked
  AllOnes = 3, // an entry reads ID 0xFF (the function stopped answering)
}

const STATUS_CAP_LIST = 0x10; // status register (upper half of 0x04) bit 4
const FIRST = 0x40;

// Per function and capability: offset and ID; per function: count | error << 8 |
// pointer << 16 | where << 24. (`new XxxArray(new ArrayBuffer(bytes))`: porffor 0.61.13
// gives `new XxxArray(n)` a 16 KiB buffer whatever n is.)
const offsets = new Uint8Array(new ArrayBuffer(MAX_FUNCTIONS * MAX_CAPS));
const ids = new Uint8Array(new ArrayBuffer(MAX_FUNCTIONS * MAX_CAPS));
const info = new Uint32Array(new ArrayBuffer(MAX_FUNCTIONS * 4));

/** Walks the capability list of function `f` and records it. */
export const pciWalkCaps = (f: number) => {
  info[f] = 0;
  const layout = pciHeaderLayout(f);
  if (layout > 2) return;
  const status = pciRead32(f, 0x04) >>> 16;
  if ((status & STATUS_CAP_LIST) === 0) return;
  let where = layout === 2 ? 0x14 : 0x34;
  let pointer = pciRead32(f, where) & 0xfc;
  let n = 0;
  let error = CapError.None;
  while (pointer !== 0) {
    if (pointer < FIRST) {
      error = CapError.InHeader;
      break;
    }
    // seen before: among the entries recorded so far (at most 48, one per dword of 0x40-0xFF)
    let again = n >= MAX_CAPS;
    for (let i = 0; i < n && !again; i++) again = offsets[f * MAX_CAPS + i] === pointer;
    if (again) {
      error = CapError.Cycle;
      break;
    }
    const head = pciRead32(f, pointer);
    const id = head & 0xff;
    if (id === 0xff) {
      error = CapError.AllOnes;
      break;
    }
    offsets[f * MAX_CAPS + n] = pointer;
    ids[f * MAX_CAPS + n] = id;
    n++;
    where = pointer + 1;
    pointer = (head >>> 8) & 0xfc;
  }
  info[f] = (n + error * 256 + (error !== CapError.None ? pointer * 65536 + where * 16777216 : 0)) >>> 0;
};

/** Number of capabilities recorded for `f`. */
export const pciCapCount = (f: number) => info[f] & 0xff;
/** Offset and ID of capability `i` of `f`. */
export const pciCapOffset = (f: number, i: number) => offsets[f * MAX_CAPS + i];
export const pciCapId = (f: number, i: number) => ids[f * MAX_CAPS + i];
/** Why the walk stopped early (CapError), the pointer that stopped it, and where that pointer was read. */
export const pciCapError = (f: number) => (info[f] >>> 8) & 0xff;
export const pciCapErrorPointer = (f: number) => (info[f] >>> 16) & 0xff;
export const pciCapErrorWhere = (f: number) => info[f] >>> 24;

/** Index of the first capability with this ID from index `from` on, or -1. */
export const pciFindCap = (f: number, id: number, from: number) => {
  const n = pciCapCount(f);
  for (let i = from < 0 ? 0 : from; i < n; i++) if (pciCapId(f, i) === id) return i;
  return -1;
};

// ---- MSI-X (PCI Local Bus 3.0 section 6.8.2.1-6.8.2.5) ----

export const enum MsixField {
  TableSize = 0, // message control bits 10:0, plus one
  Enabled = 1, // message control bit 15
  Masked = 2, // message control bit 14 (function mask)
  TableBir = 3, // table offset/BIR bits 2:0
  TableOffset = 4, // bits 31:3
  PbaBir = 5,
  PbaOffset = 6,
}
/** Fields of the MSI-X capability read by pciMsixRead. */
export const msixFields = new Uint32Array(new ArrayBuffer(7 * 4));

export const pciMsixRead = (f: number, offset: number) => {
  const control = pciRead32(f, offset) >>> 16;
  const table = pciRead32(f, offset + 4);
  const pba = pciRead32(f, offset + 8);
  msixFields[MsixField.TableSize] = (control & 0x7ff) + 1;
  msixFields[MsixField.Enabled] = (control >>> 15) & 1;
  msixFields[MsixField.Masked] = (control >>> 14) & 1;
  msixFields[MsixField.TableBir] = table & 7;
  msixFields[MsixField.TableOffset] = table - (table & 7);
  msixFields[MsixField.PbaBir] = pba & 7;
  msixFields[MsixField.PbaOffset] = pba - (pba & 7);
};

// ---- virtio vendor capabilities (virtio 1.2 section 4.1.4) ----
// struct virtio_pci_cap: cap_vndr, cap_next, cap_len, cfg_type (dword 0); bar, id,
// padding (dword 1); offset (dword 2); length (dword 3). Notify adds
// notify_off_multiplier (dword 4, section 4.1.4.4); shared memory adds offset_hi and
// length_hi (dwords 4, 5: struct virtio_pci_cap64, section 4.1.4.7).

/** Virtio's PCI vendor ID and device ID range (virtio 1.2 section 4.1.2). */
export const VIRTIO_VENDOR = 0x1af4;
const VIRTIO_FIRST_DEVICE = 0x1000;
const VIRTIO_LAST_DEVICE = 0x107f;

export const enum VirtioCapType {
  Common = 1,
  Notify = 2,
  Isr = 3,
  Device = 4,
  PciCfg = 5,
  SharedMemory = 8,
  Vendor = 9,
}

export const enum VirtioField {
  CapLen = 0,
  CfgType = 1,
  Bar = 2,
  Id = 3,
  OffsetLo = 4,
  OffsetHi = 5,
  LengthLo = 6,
  LengthHi = 7,
  NotifyMultiplier = 8,
}
/** Fields of the virtio capability read by pciVirtioCapRead. */
export const virtioFields = new Uint32Array(new ArrayBuffer(9 * 4));

/** Whether `f` is a virtio device (so its vendor capabilities are virtio ones). */
export const pciIsVirtio = (f: number) => pciVendor(f) === VIRTIO_VENDOR && pciDeviceId(f) >= VIRTIO_FIRST_DEVICE && pciDeviceId(f) <= VIRTIO_LAST_DEVICE;

/**
 * Reads the virtio capability at `offset` into virtioFields. Returns false when it is too
 * short for its type (cap_len below 16, notify below 20, shared memory below 24) or runs
 * past the 256-byte configuration header.
 */
export const pciVirtioCapRead = (f: number, offset: number) => {
  const d0 = pciRead32(f, offset);
  const d1 = pciRead32(f, offset + 4);
  const capLen = (d0 >>> 16) & 0xff;
  const type = d0 >>> 24;
  virtioFields[VirtioField.CapLen] = capLen;
  virtioFields[VirtioField.CfgType] = type;
  virtioFields[VirtioField.Bar] = d1 & 0xff;
  virtioFields[VirtioField.Id] = (d1 >>> 8) & 0xff;
  for (let i = VirtioField.OffsetLo; i <= VirtioField.NotifyMultiplier; i++) virtioFields[i] = 0;
  const needed = type === VirtioCapType.Notify ? 20 : type === VirtioCapType.SharedMemory ? 24 : 16;
  if (capLen < needed || offset + capLen > 256) return false;
  virtioFields[VirtioField.OffsetLo] = pciRead32(f, offset + 8);
  virtioFields[VirtioField.LengthLo] = pciRead32(f, offset + 12);
  if (type === VirtioCapType.Notify) virtioFields[VirtioField.NotifyMultiplier] = pciRead32(f, offset + 16);
  if (type === VirtioCapType.SharedMemory) {
    virtioFields[VirtioField.OffsetHi] = pciRead32(f, offset + 16);
    virtioFields[VirtioField.LengthHi] = pciRead32(f, offset + 20);
  }
  return true;
};

/**
 * Offset of the first well-formed virtio capability of `cfgType` in `f` (the one a driver
 * should use, virtio 1.2 section 4.1.4), or -1. Leaves its fields in virtioFields.
 */
export const pciFindVirtioCap = (f: number, cfgType: number) => {
  if (!pciIsVirtio(f)) return -1;
  const n = pciCapCount(f);
  for (let i = 0; i < n; i++) {
    if (pciCapId(f, i) !== CapId.VendorSpecific) continue;
    const offset = pciCapOffset(f, i);
    if (((pciRead32(f, offset) >>> 24) & 0xff) !== cfgType) continue;
    if (pciVirtioCapRead(f, offset)) return offset;
  }
  return -1;
};
