// The virtio-net driver (virtio 1.2 section 5.1) for one modern virtio-net PCI function
// (1af4:1041), polled, over the transport in ../virtio/pci-transport.ts and the split
// virtqueues in ../virtio/virtqueue.ts. It is "net0".
//
// netInit() (idempotent; the console's `net` and the migration code call it):
//   1. the first 1af4:1041 function on PCI; the firmware's drivers are disconnected from
//      it (hv_efi_pci_disconnect, up to 4 passes: OVMF's network stack binds the NIC when
//      it has a bootindex and would otherwise keep polling it);
//   2. its virtio structures located (pci-transport); memory decode and bus mastering on,
//      INTx off in the PCI Command register (PCI Local Bus 3.0 section 6.2.2);
//   3. the initialization sequence of section 3.1.1: reset, ACKNOWLEDGE, DRIVER, features
//      (VIRTIO_F_VERSION_1 required; VIRTIO_NET_F_MAC and VIRTIO_NET_F_STATUS taken when
//      offered; nothing else), FEATURES_OK and a re-read that it stuck, the receive queue
//      0 and transmit queue 1 (4.1.5.1.3), the MAC from the device configuration (5.1.4,
//      read between equal config_generation values, 4.1.4.3.1), DRIVER_OK;
//   4. every receive buffer posted, the receive queue notified.
// All memory comes from the page allocator at that moment (66 pages): a page per ring, 2 KiB
// per buffer. Nothing is allocated afterwards, per packet or otherwise.
//
// Packets (5.1.6): each buffer starts with struct virtio_net_hdr, 12 bytes with
// VIRTIO_F_VERSION_1 (flags, gso_type, hdr_len, gso_size, csum_start, csum_offset,
// num_buffers), then the Ethernet frame (destination, source, EtherType, payload; no FCS).
// Transmitted headers are all zero (no checksum offload, no GSO; the buffers were zeroed
// once and the header bytes are never written again).
//
// A device that misbehaves (virtqueue.ts: a used index that jumps, an unknown descriptor,
// a length longer than the buffer) or reports DEVICE_NEEDS_RESET is logged at Warn,
// counted, marked FAILED (section 2.1.1) and not used again: net0 is "broken".
import { Category, Level, log, logQuiet } from '../../kernel/diag/log';
import { defineCounter, metricSeries, seriesAdd } from '../../kernel/diag/metrics';
import { Span } from '../../kernel/lib/format';
import { text } from '../../kernel/i18n/messages';
import type { MsgKey } from '../../kernel/i18n/dictionary';
import { dataAddress } from '../../kernel/host/memory';
import { allocatePages, hostAddressHi, hostAddressLo } from '../../kernel/memory/page-allocator';
import { pciEnsureScanned } from '../pci/enumerate';
import { pciBus, pciDev, pciFindDevice, pciFn, pciRead32, pciWrite32 } from '../pci/functions';
import { VIRTIO_VENDOR } from '../pci/caps';
import {
  Common, NO_VECTOR, ProbeError, VirtioStatus, addStatus, commonRead16, commonWrite16, commonWrite64, configGeneration,
  deviceFeatures, deviceRead16, deviceRead8, deviceStatus, isrRead, notifyInRange, notifyQueue, probeErrorA, probeErrorB,
  probeErrorC, resetDevice, setDriverFeatures, virtioProbe,
} from '../virtio/pci-transport';
import {
  MAX_QUEUE_SIZE, VqError, vqBufferAddress, vqDescAddress, vqDeviceAddress, vqDriverAddress, vqError, vqErrorArg, vqNotifyWanted,
  vqPeek, vqPeekId, vqPeekLength, vqPop, vqPost, vqSetLength, vqSetup, vqSize, vqUsedCount,
} from '../virtio/virtqueue';

export const VIRTIO_NET_DEVICE = 0x1041;
/** Bytes of struct virtio_net_hdr with VIRTIO_F_VERSION_1 (5.1.6). */
export const NET_HDR_BYTES = 12;
/** Longest frame netSend takes: 1500 bytes of payload and the 14-byte Ethernet header. */
export const MAX_FRAME = 1514;
export const ETH_HEADER = 14;
const BUFFER = 2048; // per descriptor: header + the longest frame, with room
const QUEUE_TARGET = 64; // buffers per queue when the device allows that many
const PAGES = 2 + (2 * QUEUE_TARGET * BUFFER) / 4096;
const RX = 0; // virtqueue slots (and virtio queue indexes): receiveq1, transmitq1 (5.1.2)
const TX = 1;
const T = 0; // transport slot
const FIRMWARE_PASSES = 4; // DisconnectController passes before the firmware is said to refuse
const TX_WAIT_POLLS = 2000; // 10 us apart: how long netSend waits for a free transmit buffer

// Feature bits (section 6 and 5.1.3): VIRTIO_NET_F_MAC 5, VIRTIO_NET_F_STATUS 16 (word 0),
// VIRTIO_F_VERSION_1 32 (word 1 bit 0).
const F_MAC = 1 << 5;
const F_STATUS = 1 << 16;
const F_VERSION_1 = 1;
const LINK_UP = 1; // VIRTIO_NET_S_LINK_UP in the config's status (5.1.4)
const CONFIG_STATUS = 6; // struct virtio_net_config: u8 mac[6] at 0, le16 status at 6

// PCI Command register bits (PCI Local Bus 3.0 section 6.2.2).
const CMD_MEMORY = 2;
const CMD_BUS_MASTER = 4;
const CMD_INTX_DISABLE = 0x400;

export const enum NetState {
  Unprobed = 0,
  Absent = 1, // no 1af4:1041 function
  Ready = 2,
  Failed = 3, // initialization failed: netInitError
  Broken = 4, // the device misbehaved: netFault
  Reset = 5, // netShutdown reset it
}

/** Why initialization failed; details in netErrorArg(0..2). */
export const enum NetInitError {
  None = 0,
  Firmware = 1, // a: EFI status of DisconnectController
  Probe = 2, // a, b, c: ProbeError details; netProbeError() the kind
  ResetTimeout = 3,
  Legacy = 4, // no VIRTIO_F_VERSION_1
  FeaturesRejected = 5,
  NoQueues = 6, // a: num_queues
  QueueUnavailable = 7, // a: queue, b: its maximum size
  NotifyRange = 8, // a: queue
  NoMemory = 9, // a: pages
  NeedsReset = 10,
}

/** What a broken device did; details in netErrorArg(0..3). */
export const enum NetFault {
  None = 0,
  Queue = 1, // a VqError (netFaultQueueError) on queue netFaultQueue(): args as virtqueue.ts
  NeedsReset = 2,
}

/** netSend's results (0 when the frame was queued). */
export const enum NetError {
  None = 0,
  NotReady = 1,
  BadLength = 2,
  Busy = 3,
  Broken = 4,
  BadRange = 5,
}

export const enum NetCounter {
  TxFrames = 0,
  TxBytes = 1,
  TxBusy = 2, // frames not sent: the transmit queue stayed full
  TxBadLength = 3,
  RxFrames = 4,
  RxBytes = 5,
  RxRunts = 6, // dropped: shorter than an Ethernet header
  RxTruncated = 7, // longer than the reader's buffer: only the start was copied
  DeviceErrors = 8,
  Count = 9,
}

let state = NetState.Unprobed;
let functionsFound = 0;
let bus = 0;
let dev = 0;
let fn = 0;
let firmwareResult = 0;
let firmwarePasses = 0;
let initError = NetInitError.None;
let probeError = ProbeError.None;
let fault = NetFault.None;
let faultQueue = 0;
let faultVq = VqError.None;
const errorArgs = new Float64Array(4);
const offered = new Uint32Array(2);
const accepted = new Uint32Array(2);
const notifyOff = new Uint32Array(2);
let pagesBase = -1;
let linkReported = false;
const counters = new Float64Array(NetCounter.Count);
const mac = new Uint8Array(6);
const macCodes = new Uint32Array(17);
/** The MAC as text ("52:54:00:12:34:56"), for messages. */
export const netMacText = new Span(macCodes);

// transmit descriptors the driver holds (a stack)
const txFree = new Uint8Array(MAX_QUEUE_SIZE);
let txFreeCount = 0;
// a received frame netPoll found and netReceive has not taken: descriptor and frame length
let rxPendingId = -1;
let rxPendingLen = 0;

const FRAMES = defineCounter('zerovisor_net_frames_total', 'net.metric.frames', 'direction');
const BYTES = defineCounter('zerovisor_net_bytes_total', 'net.metric.bytes', 'direction');
const DEVICE_ERRORS = defineCounter('zerovisor_net_device_errors_total', 'net.metric.deviceErrors');
const txFramesSeries = metricSeries(FRAMES, 'tx');
const rxFramesSeries = metricSeries(FRAMES, 'rx');
const txBytesSeries = metricSeries(BYTES, 'tx');
const rxBytesSeries = metricSeries(BYTES, 'rx');
const deviceErrorSeries = metricSeries(DEVICE_ERRORS);

const hexDigit = (v: number) => (v < 10 ? 48 + v : 87 + v);

const setError = (a: number, b: number, c: number, d: number) => {
  errorArgs[0] = a;
  errorArgs[1] = b;
  errorArgs[2] = c;
  errorArgs[3] = d;
};

const failInit = (error: number, a: number, b: number, c: number) => {
  initError = error;
  setError(a, b, c, 0);
  state = NetState.Failed;
  if (error !== NetInitError.Firmware) addStatus(T, VirtioStatus.Failed);
  logQuiet(Level.Warn, Category.Net, 'net.log.initFailed', bus, dev, fn);
  return state;
};

/** Reads the MAC (or makes a locally administered one when the device has none to give). */
const readMac = () => {
  if ((accepted[0] & F_MAC) !== 0) {
    for (let attempt = 0; attempt < 16; attempt++) {
      const before = configGeneration(T);
      for (let i = 0; i < 6; i++) mac[i] = deviceRead8(T, i);
      if (configGeneration(T) === before) break;
    }
  } else {
    mac[0] = 0x02; // locally administered, unicast (IEEE 802 section 8.2)
    mac[1] = 0x5a;
    mac[2] = 0x56;
    mac[3] = bus;
    mac[4] = dev;
    mac[5] = fn;
  }
  for (let i = 0; i < 6; i++) {
    macCodes[i * 3] = hexDigit(mac[i] >>> 4);
    macCodes[i * 3 + 1] = hexDigit(mac[i] & 15);
    if (i < 5) macCodes[i * 3 + 2] = 58; // ':'
  }
  netMacText.start = 0;
  netMacText.len = 17;
};

/** Sets up queue `q` (4.1.5.1.3) in its page; false (after failInit) when it cannot be used. */
const setupQueue = (q: number, ring: number, buffers: number) => {
  commonWrite16(T, Common.QueueSelect, q);
  const max = commonRead16(T, Common.QueueSize);
  if (max < 2) {
    failInit(NetInitError.QueueUnavailable, q, max, 0);
    return false;
  }
  let n = 1;
  while (n * 2 <= max && n * 2 <= QUEUE_TARGET) n *= 2;
  const off = commonRead16(T, Common.QueueNotifyOff);
  if (!notifyInRange(T, off)) {
    failInit(NetInitError.NotifyRange, q, off, 0);
    return false;
  }
  notifyOff[q] = off;
  vqSetup(q, ring, n, buffers, BUFFER, q === RX);
  commonWrite16(T, Common.QueueSize, n);
  commonWrite16(T, Common.QueueMsixVector, NO_VECTOR);
  commonWrite64(T, Common.QueueDesc, vqDescAddress(q));
  commonWrite64(T, Common.QueueDriver, vqDriverAddress(q));
  commonWrite64(T, Common.QueueDevice, vqDeviceAddress(q));
  commonWrite16(T, Common.QueueEnable, 1);
  return true;
};

const notify = (q: number) => {
  if (vqNotifyWanted(q)) notifyQueue(T, q, notifyOff[q]);
};

/** Finds, claims and initializes net0 (once); returns the NetState. */
export const netInit = () => {
  if (state !== NetState.Unprobed) return state;
  pciEnsureScanned();
  const f = pciFindDevice(VIRTIO_VENDOR, VIRTIO_NET_DEVICE, 0);
  functionsFound = 0;
  for (let g = f; g >= 0; g = pciFindDevice(VIRTIO_VENDOR, VIRTIO_NET_DEVICE, g + 1)) functionsFound++;
  if (f < 0) {
    state = NetState.Absent;
    return state;
  }
  bus = pciBus(f);
  dev = pciDev(f);
  fn = pciFn(f);
  // One pass can leave a driver that refused to stop while the drivers above it were still
  // there (OVMF's VirtioNetDxe under MNP); the next finds no driver left (-2): released.
  firmwareResult = hv_efi_pci_disconnect(0, bus, dev, fn);
  firmwarePasses = 1;
  while (firmwareResult > 0 && firmwarePasses < FIRMWARE_PASSES) {
    firmwareResult = hv_efi_pci_disconnect(0, bus, dev, fn);
    firmwarePasses++;
  }
  if (firmwareResult === -2 && firmwarePasses > 1) firmwareResult = 0;
  if (firmwareResult > 0) return failInit(NetInitError.Firmware, firmwareResult, firmwarePasses, 0);
  probeError = virtioProbe(T, f, 8);
  if (probeError !== ProbeError.None) {
    initError = NetInitError.Probe;
    setError(probeErrorA(), probeErrorB(), probeErrorC(), 0);
    state = NetState.Failed;
    logQuiet(Level.Warn, Category.Net, 'net.log.initFailed', bus, dev, fn);
    return state;
  }
  const command = pciRead32(f, 0x04) & 0xffff; // the status half is written as 0: its bits are write-1-to-clear
  pciWrite32(f, 0x04, command | CMD_MEMORY | CMD_BUS_MASTER | CMD_INTX_DISABLE);

  // 3.1.1: reset, ACKNOWLEDGE, DRIVER
  if (!resetDevice(T, 10000)) return failInit(NetInitError.ResetTimeout, 0, 0, 0);
  addStatus(T, VirtioStatus.Acknowledge);
  addStatus(T, VirtioStatus.Driver);
  offered[0] = deviceFeatures(T, 0);
  offered[1] = deviceFeatures(T, 1);
  if ((offered[1] & F_VERSION_1) === 0) return failInit(NetInitError.Legacy, 0, 0, 0);
  accepted[0] = offered[0] & (F_MAC | F_STATUS);
  accepted[1] = F_VERSION_1;
  setDriverFeatures(T, 0, accepted[0]);
  setDriverFeatures(T, 1, accepted[1]);
  addStatus(T, VirtioStatus.FeaturesOk);
  if ((deviceStatus(T) & VirtioStatus.FeaturesOk) === 0) return failInit(NetInitError.FeaturesRejected, 0, 0, 0);

  const queues = commonRead16(T, Common.NumQueues);
  if (queues < 2) return failInit(NetInitError.NoQueues, queues, 0, 0);
  if (pagesBase < 0) {
    const base = allocatePages(PAGES, 1, 0);
    if (base < 0) return failInit(NetInitError.NoMemory, PAGES, 0, 0);
    pagesBase = base;
  }
  const buffers = pagesBase + 2 * 4096;
  if (!setupQueue(RX, pagesBase, buffers)) return state;
  if (!setupQueue(TX, pagesBase + 4096, buffers + QUEUE_TARGET * BUFFER)) return state;
  linkReported = (accepted[0] & F_STATUS) !== 0;
  readMac();
  addStatus(T, VirtioStatus.DriverOk);
  if ((deviceStatus(T) & VirtioStatus.NeedsReset) !== 0) return failInit(NetInitError.NeedsReset, 0, 0, 0);

  // every receive buffer to the device; every transmit buffer to the driver
  const rxSize = vqSize(RX);
  for (let id = 0; id < rxSize; id++) vqPost(RX, id, BUFFER);
  txFreeCount = 0;
  for (let id = vqSize(TX) - 1; id >= 0; id--) {
    txFree[txFreeCount] = id;
    txFreeCount++;
  }
  rxPendingId = -1;
  state = NetState.Ready;
  notify(RX);
  logQuiet(Level.Info, Category.Net, 'net.log.ready', bus, dev, fn, netMacText);
  return state;
};

/** Gives up on the device after it misbehaved: FAILED, logged, counted. */
const breakDevice = (q: number) => {
  if (q >= 0) {
    fault = NetFault.Queue;
    faultQueue = q;
    faultVq = vqError(q);
    setError(vqErrorArg(q, 0), vqErrorArg(q, 1), vqErrorArg(q, 2), 0);
  } else {
    fault = NetFault.NeedsReset;
  }
  state = NetState.Broken;
  counters[NetCounter.DeviceErrors]++;
  seriesAdd(deviceErrorSeries, 1);
  addStatus(T, VirtioStatus.Failed);
  log(Level.Warn, Category.Net, netFaultKey(), netFaultQueueName(), errorArgs[0], errorArgs[1], errorArgs[2]);
};

/** Takes back transmit buffers the device has finished with. False when the device broke. */
const reclaimTx = () => {
  const ready = vqUsedCount(TX);
  if (ready < 0) {
    breakDevice(TX);
    return false;
  }
  for (let i = 0; i < ready; i++) {
    if (!vqPeek(TX)) {
      breakDevice(TX);
      return false;
    }
    txFree[txFreeCount] = vqPeekId();
    txFreeCount++;
    vqPop(TX);
  }
  return true;
};

/**
 * Sends bytes[off, off + len) as one Ethernet frame (destination, source, EtherType,
 * payload; 14 to MAX_FRAME bytes; `bytes` may be any Uint8Array, a subarray too). Copies
 * it into a transmit buffer and returns at once: 0, or a NetError. Waits (up to ~20 ms)
 * only when every transmit buffer is in flight.
 */
export const netSend = (bytes: Uint8Array, off: number, len: number) => {
  if (state !== NetState.Ready) return state === NetState.Broken ? NetError.Broken : NetError.NotReady;
  if (!(off >= 0) || !(len >= 0) || off + len > bytes.length) return NetError.BadRange;
  if (len < ETH_HEADER || len > MAX_FRAME) {
    counters[NetCounter.TxBadLength]++;
    return NetError.BadLength;
  }
  if (!reclaimTx()) return NetError.Broken;
  for (let i = 0; txFreeCount === 0 && i < TX_WAIT_POLLS; i++) {
    hv_efi_stall(10);
    if (!reclaimTx()) return NetError.Broken;
  }
  if (txFreeCount === 0) {
    counters[NetCounter.TxBusy]++;
    return NetError.Busy;
  }
  txFreeCount--;
  const id = txFree[txFreeCount];
  const at = vqBufferAddress(TX, id) + NET_HDR_BYTES;
  hv_phys_write(hostAddressLo(at), hostAddressHi(at), dataAddress(bytes) + off, len);
  vqSetLength(TX, id, NET_HDR_BYTES + len);
  vqPost(TX, id, NET_HDR_BYTES + len);
  notify(TX);
  counters[NetCounter.TxFrames]++;
  counters[NetCounter.TxBytes] += len;
  seriesAdd(txFramesSeries, 1);
  seriesAdd(txBytesSeries, len);
  return NetError.None;
};

/** Gives receive buffer `id` back to the device. */
const repost = (id: number) => {
  vqPost(RX, id, BUFFER);
  notify(RX);
};

/**
 * Length of the next received frame (without the virtio header), or 0 when none has
 * arrived (or the device is not usable). The frame stays until netReceive takes it.
 */
export const netPoll = () => {
  if (state !== NetState.Ready) return 0;
  if (rxPendingId >= 0) return rxPendingLen;
  let ready = vqUsedCount(RX);
  while (ready > 0) {
    if (!vqPeek(RX)) {
      breakDevice(RX);
      return 0;
    }
    const id = vqPeekId();
    const len = vqPeekLength() - NET_HDR_BYTES;
    vqPop(RX);
    if (len < ETH_HEADER) {
      counters[NetCounter.RxRunts]++;
      repost(id);
      ready--;
      continue;
    }
    rxPendingId = id;
    rxPendingLen = len;
    return len;
  }
  if (ready < 0) breakDevice(RX);
  return 0;
};

/**
 * Copies the next received frame into out[off, off + cap) and returns its length (at
 * most cap: a longer frame is cut and counted), or 0 when none has arrived.
 */
export const netReceive = (out: Uint8Array, off: number, cap: number) => {
  if (!(off >= 0) || !(cap >= 0) || off + cap > out.length) return 0;
  const len = netPoll();
  if (len === 0) return 0;
  const id = rxPendingId;
  const n = len < cap ? len : cap;
  if (n < len) counters[NetCounter.RxTruncated]++;
  const at = vqBufferAddress(RX, id) + NET_HDR_BYTES;
  hv_phys_read(hostAddressLo(at), hostAddressHi(at), dataAddress(out) + off, n);
  rxPendingId = -1;
  counters[NetCounter.RxFrames]++;
  counters[NetCounter.RxBytes] += len;
  seriesAdd(rxFramesSeries, 1);
  seriesAdd(rxBytesSeries, len);
  repost(id);
  return n;
};

/** Whether the link is up (VIRTIO_NET_S_LINK_UP; assumed up when the device does not report it, 5.1.4). Also notices DEVICE_NEEDS_RESET. */
export const netLinkUp = () => {
  if (state !== NetState.Ready) return false;
  isrRead(T); // acknowledges a configuration-change interrupt (4.1.4.5)
  if ((deviceStatus(T) & VirtioStatus.NeedsReset) !== 0) {
    breakDevice(-1);
    return false;
  }
  if (!linkReported) return true;
  return (deviceRead16(T, CONFIG_STATUS) & LINK_UP) !== 0;
};

/** Whether the device reports its link state (VIRTIO_NET_F_STATUS was negotiated). */
export const netLinkReported = () => linkReported;

/**
 * Resets net0 (writing 0 to device_status) so that it stops using Zerovisor's memory, before
 * Zerovisor leaves to the firmware. Its pages stay allocated.
 */
export const netShutdown = () => {
  if (state !== NetState.Ready && state !== NetState.Broken) return;
  resetDevice(T, 1000);
  state = NetState.Reset;
};

// ---- what the console shows ----
export const netState = () => state;
/** virtio-net functions (1af4:1041) found; net0 is the first. */
export const netFunctionsFound = () => functionsFound;
export const netBus = () => bus;
export const netDev = () => dev;
export const netFn = () => fn;
/** What hv_efi_pci_disconnect returned: 0 released, -1 no firmware handle, -2 no firmware driver had it. */
export const netFirmwareResult = () => firmwareResult;
export const netInitError = () => initError;
export const netProbeError = () => probeError;
export const netFault = () => fault;
export const netFaultQueue = () => faultQueue;
export const netFaultQueueError = () => faultVq;
export const netErrorArg = (i: number) => errorArgs[i];
export const netFeaturesOffered = (word: number) => offered[word];
export const netFeaturesAccepted = (word: number) => accepted[word];
export const netQueueSize = (q: number) => vqSize(q);
export const netBufferBytes = () => BUFFER;
export const netCounter = (c: number) => counters[c];
export const netMacByte = (i: number) => mac[i];
/** The MAC as two numbers: its first two bytes, and its last four (big-endian, as written). */
export const netMacHi = () => mac[0] * 256 + mac[1];
export const netMacLo = () => ((mac[2] << 24) | (mac[3] << 16) | (mac[4] << 8) | mac[5]) >>> 0;
/** Physical address of the pages net0 owns (rings and buffers) and their count; -1 before. */
export const netPagesBase = () => pagesBase;
export const netPageCount = () => PAGES;

/** The name of the queue that misbehaved, in the current language. */
export const netFaultQueueName = () => (faultQueue === RX ? text('net.queue.rx') : text('net.queue.tx'));

/** The message key of netFault (args: queue name, then netErrorArg 0-2). */
export const netFaultKey = (): MsgKey => {
  if (fault === NetFault.NeedsReset) return 'net.fault.needsReset';
  if (faultVq === VqError.IndexJump) return 'net.fault.jump';
  if (faultVq === VqError.UnknownId) return 'net.fault.unknownId';
  return 'net.fault.badLength';
};
