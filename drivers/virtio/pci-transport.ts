// The virtio 1.x PCI transport ("modern" devices): where the device's structures are, and
// access to them with the width each field has.
//   - The vendor capabilities (virtio 1.2 section 4.1.4) name, per structure, a BAR and an
//     offset and length inside it: common configuration (4.1.4.3), notifications (4.1.4.4,
//     plus notify_off_multiplier), ISR status (4.1.4.5) and device-specific configuration
//     (4.1.4.6). The first well-formed capability of each type is used (4.1.4.1).
//   - The BAR must be a memory BAR (32- or 64-bit) with an address, and the structure must
//     lie inside it; then its address is BAR base + offset (a double, exact below 2^53).
//   - Every field is read and written with its own width (section 4.1.3.1): 8-, 16- and
//     32-bit fields with one access of that size; 64-bit fields as two 32-bit halves, low
//     first.
// Common configuration (struct virtio_pci_common_cfg, 4.1.4.3), byte offsets:
//   0x00 le32 device_feature_select   0x04 le32 device_feature (RO)
//   0x08 le32 driver_feature_select   0x0C le32 driver_feature
//   0x10 le16 config_msix_vector      0x12 le16 num_queues (RO)
//   0x14 u8   device_status           0x15 u8   config_generation (RO)
//   0x16 le16 queue_select            0x18 le16 queue_size
//   0x1A le16 queue_msix_vector       0x1C le16 queue_enable
//   0x1E le16 queue_notify_off (RO)   0x20 le64 queue_desc
//   0x28 le64 queue_driver            0x30 le64 queue_device   (0x38 bytes in virtio 1.0)
// Device status bits (section 2.1): ACKNOWLEDGE 1, DRIVER 2, DRIVER_OK 4, FEATURES_OK 8,
// DEVICE_NEEDS_RESET 64, FAILED 128; writing 0 resets the device (4.1.4.3.1).
// One device is driven per transport slot; slots are indexes 0..MAX_TRANSPORTS-1.
import { BarKind, pciBarBaseHi, pciBarBaseLo, pciBarKind, pciBarSize } from '../pci/bars';
import { VirtioCapType, VirtioField, pciFindVirtioCap, virtioFields } from '../pci/caps';

export const MAX_TRANSPORTS = 2;

export const enum Common {
  DeviceFeatureSelect = 0x00,
  DeviceFeature = 0x04,
  DriverFeatureSelect = 0x08,
  DriverFeature = 0x0c,
  ConfigMsixVector = 0x10,
  NumQueues = 0x12,
  DeviceStatus = 0x14,
  ConfigGeneration = 0x15,
  QueueSelect = 0x16,
  QueueSize = 0x18,
  QueueMsixVector = 0x1a,
  QueueEnable = 0x1c,
  QueueNotifyOff = 0x1e,
  QueueDesc = 0x20,
  QueueDriver = 0x28,
  QueueDevice = 0x30,
  Size = 0x38,
}

export const enum VirtioStatus {
  Acknowledge = 1,
  Driver = 2,
  DriverOk = 4,
  FeaturesOk = 8,
  NeedsReset = 64,
  Failed = 128,
}

/** MSI-X "no vector" (section 4.1.4.3): the device raises no MSI-X message for it. */
export const NO_VECTOR = 0xffff;

/** Why a device's structures could not be located (virtioProbe). */
export const enum ProbeError {
  None = 0,
  Missing = 1, // no well-formed capability of that type (a: cfg_type)
  NotMemory = 2, // its BAR is not a memory BAR (a: cfg_type, b: BAR)
  Unassigned = 3, // its BAR has no address (a: cfg_type, b: BAR)
  OutsideBar = 4, // offset + length run past the BAR (a: cfg_type, b: BAR, c: offset + length)
  TooShort = 5, // shorter than the structure (a: cfg_type, b: length)
}

const TWO_32 = 4294967296;
// per slot and structure type (1 common, 2 notify, 3 ISR, 4 device): address, length
const address = new Float64Array(MAX_TRANSPORTS * 5);
const length = new Float64Array(MAX_TRANSPORTS * 5);
const multiplier = new Float64Array(MAX_TRANSPORTS);
let probeA = 0;
let probeB = 0;
let probeC = 0;

/** Details of the last ProbeError: cfg_type, BAR or length, end offset. */
export const probeErrorA = () => probeA;
export const probeErrorB = () => probeB;
export const probeErrorC = () => probeC;

const fail = (error: number, a: number, b: number, c: number) => {
  probeA = a;
  probeB = b;
  probeC = c;
  return error;
};

/** Finds structure `type` of PCI function `f` and records where it is; a ProbeError. */
const locate = (t: number, f: number, type: number, minLength: number) => {
  if (pciFindVirtioCap(f, type) < 0) return fail(ProbeError.Missing, type, 0, 0);
  const bar = virtioFields[VirtioField.Bar];
  const offset = virtioFields[VirtioField.OffsetLo];
  const len = virtioFields[VirtioField.LengthLo];
  const mult = virtioFields[VirtioField.NotifyMultiplier];
  if (bar > 5) return fail(ProbeError.NotMemory, type, bar, 0);
  const kind = pciBarKind(f, bar);
  if (kind !== BarKind.Mem32 && kind !== BarKind.Mem64) return fail(ProbeError.NotMemory, type, bar, 0);
  const base = pciBarBaseHi(f, bar) * TWO_32 + pciBarBaseLo(f, bar);
  if (base === 0) return fail(ProbeError.Unassigned, type, bar, 0);
  if (offset + len > pciBarSize(f, bar)) return fail(ProbeError.OutsideBar, type, bar, offset + len);
  if (len < minLength) return fail(ProbeError.TooShort, type, len, 0);
  address[t * 5 + type] = base + offset;
  length[t * 5 + type] = len;
  if (type === VirtioCapType.Notify) multiplier[t] = mult;
  return ProbeError.None;
};

/**
 * Locates the common, notify, ISR and device structures of virtio PCI function `f` for
 * slot `t`. `deviceLength`: the bytes of device configuration the driver reads.
 * Returns a ProbeError (details in probeErrorA/B/C).
 */
export const virtioProbe = (t: number, f: number, deviceLength: number) => {
  let e = locate(t, f, VirtioCapType.Common, Common.Size);
  if (e === ProbeError.None) e = locate(t, f, VirtioCapType.Notify, 2);
  if (e === ProbeError.None) e = locate(t, f, VirtioCapType.Isr, 1);
  if (e === ProbeError.None) e = locate(t, f, VirtioCapType.Device, deviceLength);
  return e;
};

const lo = (a: number) => a % TWO_32;
const hi = (a: number) => Math.floor(a / TWO_32);

const common = (t: number, offset: number) => address[t * 5 + VirtioCapType.Common] + offset;

// ---- common configuration, each field with its width ----
export const commonRead8 = (t: number, offset: number) => {
  const a = common(t, offset);
  return hv_mmio_read8(lo(a), hi(a));
};
export const commonRead16 = (t: number, offset: number) => {
  const a = common(t, offset);
  return hv_mmio_read16(lo(a), hi(a));
};
export const commonRead32 = (t: number, offset: number) => {
  const a = common(t, offset);
  return hv_mmio_read32(lo(a), hi(a)) >>> 0;
};
export const commonWrite8 = (t: number, offset: number, v: number) => {
  const a = common(t, offset);
  hv_mmio_write8(lo(a), hi(a), v & 0xff);
};
export const commonWrite16 = (t: number, offset: number, v: number) => {
  const a = common(t, offset);
  hv_mmio_write16(lo(a), hi(a), v & 0xffff);
};
export const commonWrite32 = (t: number, offset: number, v: number) => {
  const a = common(t, offset);
  hv_mmio_write32(lo(a), hi(a), v >>> 0);
};
/** A 64-bit field as two 32-bit writes, low half first (section 4.1.3.1). */
export const commonWrite64 = (t: number, offset: number, value: number) => {
  commonWrite32(t, offset, lo(value));
  commonWrite32(t, offset + 4, hi(value));
};

// ---- device-specific configuration (bytes and 16-bit fields) and ISR ----
export const deviceRead8 = (t: number, offset: number) => {
  const a = address[t * 5 + VirtioCapType.Device] + offset;
  return hv_mmio_read8(lo(a), hi(a));
};
export const deviceRead16 = (t: number, offset: number) => {
  const a = address[t * 5 + VirtioCapType.Device] + offset;
  return hv_mmio_read16(lo(a), hi(a));
};
/** Reads (and so clears) the ISR status byte (section 4.1.4.5): bit 0 queue, bit 1 configuration change. */
export const isrRead = (t: number) => {
  const a = address[t * 5 + VirtioCapType.Isr];
  return hv_mmio_read8(lo(a), hi(a));
};

/** Whether a queue's notification address (queue_notify_off * multiplier) lies inside the notify structure. */
export const notifyInRange = (t: number, notifyOff: number) => notifyOff * multiplier[t] + 2 <= length[t * 5 + VirtioCapType.Notify];

/** Notifies the device that queue `q` has new buffers: its index, 16 bits, at its notify address (4.1.4.4). */
export const notifyQueue = (t: number, q: number, notifyOff: number) => {
  const a = address[t * 5 + VirtioCapType.Notify] + notifyOff * multiplier[t];
  hv_mmio_write16(lo(a), hi(a), q);
};

// ---- status ----
export const deviceStatus = (t: number) => commonRead8(t, Common.DeviceStatus);
/** Sets more status bits (the ones already set stay). */
export const addStatus = (t: number, bits: number) => commonWrite8(t, Common.DeviceStatus, deviceStatus(t) | bits);

/**
 * Resets the device (writes 0 to device_status) and waits, up to `polls` reads 10 us
 * apart, for it to read back 0 (section 4.1.4.3.2). Returns whether it did.
 */
export const resetDevice = (t: number, polls: number) => {
  commonWrite8(t, Common.DeviceStatus, 0);
  for (let i = 0; i < polls; i++) {
    if (deviceStatus(t) === 0) return true;
    hv_efi_stall(10);
  }
  return false;
};

/** Feature bits 32 * word .. 32 * word + 31 the device offers. */
export const deviceFeatures = (t: number, word: number) => {
  commonWrite32(t, Common.DeviceFeatureSelect, word);
  return commonRead32(t, Common.DeviceFeature);
};

/** Accepts feature bits 32 * word .. 32 * word + 31. */
export const setDriverFeatures = (t: number, word: number, bits: number) => {
  commonWrite32(t, Common.DriverFeatureSelect, word);
  commonWrite32(t, Common.DriverFeature, bits);
};

/** Reads config_generation (section 4.1.4.3): device configuration read between two equal values is consistent. */
export const configGeneration = (t: number) => commonRead8(t, Common.ConfigGeneration);
