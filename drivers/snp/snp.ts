// The firmware's own network interface through its Simple Network Protocol (UEFI 2.10
// section 24.1), for the Snp migration sink: Zerovisor leaves the NIC to the firmware's
// driver (OVMF's VirtioNetDxe, a NIC's UNDI driver) and sends and receives whole Ethernet
// frames through it. The shim (boot/snp.zig) only makes the calls; the choices are here.
//
// snpInit() (idempotent):
//   1. the SNP handles (hv_efi_snp_locate); the first one is used;
//   2. the firmware's network stack above it (MNP, ARP, IP, PXE, ... which poll Receive and
//      would take our frames) is disconnected, up to 4 passes (a driver may refuse while one
//      above it still runs; the next pass finds none left: -2); the SNP driver stays;
//   3. Mode.State (24.1.1): Stopped -> Start (24.1.2) -> Started -> Initialize (24.1.4) ->
//      Initialized; an interface the stack left Initialized is used as it is;
//   4. it must be Ethernet: a 6-byte address, a 14-byte media header, 1500-byte packets;
//   5. receive filters (24.1.7): unicast and broadcast on (migration frames go to broadcast);
//      a driver that refuses is noted, not fatal (a more liberal filter is allowed);
//   6. TX_BUFFERS transmit buffers of 2 KiB in pages of our own (Transmit, 24.1.12, keeps
//      using a buffer until GetStatus, 24.1.11, hands it back; the Wasm memory may move).
// snpShutdown() before Zerovisor returns to the firmware: Shutdown and Stop (24.1.6, 24.1.3),
// so that its stack, reconnected by the shim, finds the interface Stopped as it expects.
// Nothing is allocated after snpInit, per frame or otherwise.
import { Category, Level, logQuiet } from '../../kernel/diag/log';
import type { MsgKey } from '../../kernel/i18n/dictionary';
import { Span } from '../../kernel/lib/format';
import { dataAddress } from '../../kernel/host/memory';
import { allocatePages, hostAddressHi, hostAddressLo } from '../../kernel/memory/page-allocator';

export const enum SnpState {
  Unprobed = 0,
  Absent = 1, // no SNP handle
  Ready = 2,
  Failed = 3, // snpError() says why
  Shut = 4, // snpShutdown
}

export const enum SnpError {
  None = 0,
  NoHandle = 1,
  Firmware = 2, // a: EFI status of DisconnectController, b: passes
  Start = 3, // a: EFI status
  Initialize = 4, // a: EFI status (or the State it stayed in: b)
  NotEthernet = 5, // a: address size, b: header size
  NoMemory = 6,
  MediaDown = 7,
  Transmit = 8, // a: EFI status
  Busy = 9, // the transmit queue stayed full
}

/** Counters (snpCounter). */
export const enum SnpCounter {
  TxFrames = 0,
  TxBytes = 1,
  TxBusy = 2,
  TxErrors = 3,
  RxFrames = 4,
  RxBytes = 5,
  RxErrors = 6,
  Recycled = 7,
  RxTooLong = 8, // dropped: longer than the reader's buffer
  Count = 9,
}

// EFI status codes (low bits; UEFI 2.10 Appendix D).
const EFI_BUFFER_TOO_SMALL = 5;
const EFI_NOT_READY = 6;
const EFI_ALREADY_STARTED = 20;

// Mode.State (24.1.1)
const STOPPED = 0;
const STARTED = 1;
const INITIALIZED = 2;

// hv_efi_snp_control operations
const OP_START = 1;
const OP_INITIALIZE = 2;
const OP_SHUTDOWN = 3;
const OP_STOP = 4;
const OP_FILTERS = 5;
// EFI_SIMPLE_NETWORK_RECEIVE_UNICAST 0x01, _BROADCAST 0x04 (24.1.7)
const FILTER_UNICAST = 0x01;
const FILTER_BROADCAST = 0x04;

const ETH_HEADER = 14;
export const SNP_MAX_FRAME = 1514;
const INDEX = 0; // the first SNP handle
const FIRMWARE_PASSES = 4;
const TX_BUFFERS = 32;
const TX_BUFFER = 2048;
const TX_PAGES = (TX_BUFFERS * TX_BUFFER) / 4096;
const TX_WAIT_POLLS = 2000; // 10 us apart: how long a send waits for a free transmit buffer
const RECYCLE_PER_CALL = TX_BUFFERS + 1;

let state = SnpState.Unprobed;
let error = SnpError.None;
const errorArgs = new Float64Array(2);
let handles = 0;
let firmwareResult = 0;
let filtersResult = 0;
// Zerovisor started it, or found it up after disconnecting the stack that ran it: either way
// that stack, reconnected on the way out, expects it Stopped (its MNP treats
// EFI_ALREADY_STARTED from Start as an error).
let broughtUp = false;
let txBase = -1;
const txFree = new Uint8Array(TX_BUFFERS); // a stack of free buffer numbers
let txFreeCount = 0;
const counters = new Float64Array(SnpCounter.Count);
const mode = new Uint8Array(40);
const status = new Uint32Array(3);
const scratch = new Uint8Array(4096);
const macCodes = new Uint32Array(17);
/** The MAC as text ("52:54:00:12:34:56"), for messages. */
export const snpMacText = new Span(macCodes);

const hexDigit = (v: number) => (v < 10 ? 48 + v : 87 + v);

const fail = (e: number, a: number, b: number) => {
  error = e;
  errorArgs[0] = a;
  errorArgs[1] = b;
  state = SnpState.Failed;
  logQuiet(Level.Warn, Category.Net, snpErrorKey(), INDEX, a, b);
  return state;
};

const u32At = (o: number) => (mode[o] | (mode[o + 1] << 8) | (mode[o + 2] << 16) | (mode[o + 3] << 24)) >>> 0;
const readMode = () => hv_efi_snp_mode(INDEX, dataAddress(mode)) === 0;
const modeState = () => u32At(0);

/** Finds and brings up the firmware's first SNP interface (once); returns the SnpState. */
export const snpInit = () => {
  if (state !== SnpState.Unprobed) return state;
  handles = hv_efi_snp_locate();
  if (handles < 1) {
    state = SnpState.Absent;
    error = SnpError.NoHandle;
    return state;
  }
  firmwareResult = hv_efi_snp_release(INDEX);
  let passes = 1;
  while (firmwareResult > 0 && passes < FIRMWARE_PASSES) {
    firmwareResult = hv_efi_snp_release(INDEX);
    passes++;
  }
  if (firmwareResult === -2 && passes > 1) firmwareResult = 0;
  if (firmwareResult > 0) return fail(SnpError.Firmware, firmwareResult, passes);
  if (!readMode()) return fail(SnpError.NoHandle, 0, 0);
  if (modeState() === STOPPED) {
    const s = hv_efi_snp_control(INDEX, OP_START, 0, 0);
    if (s !== 0 && s !== EFI_ALREADY_STARTED) return fail(SnpError.Start, s, 0);
    broughtUp = true;
    readMode();
  }
  if (modeState() === STARTED) {
    const s = hv_efi_snp_control(INDEX, OP_INITIALIZE, 0, 0);
    broughtUp = true;
    if (s !== 0) return fail(SnpError.Initialize, s, STARTED);
    readMode();
  }
  if (modeState() !== INITIALIZED) return fail(SnpError.Initialize, 0, modeState());
  broughtUp = true;
  if (u32At(4) !== 6 || u32At(8) !== ETH_HEADER || u32At(12) < 1500) return fail(SnpError.NotEthernet, u32At(4), u32At(8));
  const want = (FILTER_UNICAST | FILTER_BROADCAST) & u32At(16);
  filtersResult = hv_efi_snp_control(INDEX, OP_FILTERS, want, 0);
  if (txBase < 0) {
    const base = allocatePages(TX_PAGES, 1, 0);
    if (base < 0) return fail(SnpError.NoMemory, TX_PAGES, 0);
    txBase = base;
  }
  txFreeCount = 0;
  for (let i = TX_BUFFERS - 1; i >= 0; i--) {
    txFree[txFreeCount] = i;
    txFreeCount++;
  }
  for (let i = 0; i < 6; i++) {
    const b = mode[32 + i];
    macCodes[i * 3] = hexDigit(b >>> 4);
    macCodes[i * 3 + 1] = hexDigit(b & 15);
    if (i < 5) macCodes[i * 3 + 2] = 58;
  }
  snpMacText.start = 0;
  snpMacText.len = 17;
  state = SnpState.Ready;
  logQuiet(Level.Info, Category.Net, 'snp.log.ready', INDEX, snpMacText);
  return state;
};

/** Takes back the transmit buffers the driver has finished with (GetStatus until it names none). */
const recycle = () => {
  for (let k = 0; k < RECYCLE_PER_CALL; k++) {
    if (hv_efi_snp_status(INDEX, dataAddress(status)) !== 0) return;
    const addr = status[1] + status[2] * 4294967296;
    if (addr === 0) return;
    const n = (addr - txBase) / TX_BUFFER;
    // only a buffer of ours, once: anything else the driver names is ignored
    if (n >= 0 && n < TX_BUFFERS && Math.floor(n) === n && txFreeCount < TX_BUFFERS) {
      let free = false;
      for (let i = 0; i < txFreeCount; i++) free = free || txFree[i] === n;
      if (!free) {
        txFree[txFreeCount] = n;
        txFreeCount++;
        counters[SnpCounter.Recycled]++;
      }
    }
  }
};

/**
 * Sends bytes[off, off + len) as one Ethernet frame (header included, 14 to 1514 bytes):
 * SnpError.None when the driver queued it. Waits (up to ~20 ms) only while every transmit
 * buffer is in flight or the driver's queue is full.
 */
export const snpSend = (bytes: Uint8Array, off: number, len: number) => {
  if (state !== SnpState.Ready) return SnpError.NoHandle;
  if (!(off >= 0) || !(len >= ETH_HEADER) || len > SNP_MAX_FRAME || off + len > bytes.length) return SnpError.Transmit;
  for (let i = 0; i < TX_WAIT_POLLS; i++) {
    if (txFreeCount === 0) recycle();
    if (txFreeCount > 0) {
      const n = txFree[txFreeCount - 1];
      const at = txBase + n * TX_BUFFER;
      hv_phys_write(hostAddressLo(at), hostAddressHi(at), dataAddress(bytes) + off, len);
      const s = hv_efi_snp_transmit(INDEX, hostAddressLo(at), hostAddressHi(at), len);
      if (s === 0) {
        txFreeCount--;
        counters[SnpCounter.TxFrames]++;
        counters[SnpCounter.TxBytes] += len;
        return SnpError.None;
      }
      if (s !== EFI_NOT_READY) {
        counters[SnpCounter.TxErrors]++;
        error = SnpError.Transmit;
        errorArgs[0] = s;
        errorArgs[1] = 0;
        return SnpError.Transmit;
      }
      recycle(); // the driver's queue is full: its finished buffers come back through GetStatus
    }
    hv_efi_stall(10);
  }
  counters[SnpCounter.TxBusy]++;
  error = SnpError.Busy;
  return SnpError.Busy;
};

/** Copies the next received frame into out[off, off + cap): its length, or 0 when none waits (errors are counted). */
export const snpReceive = (out: Uint8Array, off: number, cap: number) => {
  if (state !== SnpState.Ready || !(off >= 0) || !(cap >= 0) || off + cap > out.length) return 0;
  const n = hv_efi_snp_receive(INDEX, dataAddress(out) + off, cap);
  if (n > 0) {
    counters[SnpCounter.RxFrames]++;
    counters[SnpCounter.RxBytes] += n;
    return n;
  }
  if (n < 0) counters[SnpCounter.RxErrors]++;
  // a frame longer than the reader's buffer stays at the head of the queue (24.1.14): take it
  // into our own, larger one and drop it, or it would block every frame after it
  if (n === -EFI_BUFFER_TOO_SMALL && hv_efi_snp_receive(INDEX, dataAddress(scratch), scratch.length) > 0) counters[SnpCounter.RxTooLong]++;
  return 0;
};

/** Whether the interface reports a link (MediaPresent after GetStatus; assumed when it cannot tell, 24.1.1). */
export const snpLinkUp = () => {
  if (state !== SnpState.Ready) return false;
  recycle();
  if (!readMode()) return false;
  return mode[27] === 0 || mode[28] !== 0;
};

/** Whether the interface can carry frames now: up and with a link; else snpError() says why. */
export const snpUsable = () => {
  if (snpInit() !== SnpState.Ready) return false;
  if (snpLinkUp()) return true;
  error = SnpError.MediaDown;
  errorArgs[0] = 0;
  errorArgs[1] = 0;
  return false;
};

/** Back to Stopped (Shutdown, Stop) if Zerovisor brought it up, before the firmware gets it back. */
export const snpShutdown = () => {
  if (state !== SnpState.Ready && state !== SnpState.Failed) return;
  if (!broughtUp) return;
  hv_efi_snp_control(INDEX, OP_SHUTDOWN, 0, 0);
  hv_efi_snp_control(INDEX, OP_STOP, 0, 0);
  state = SnpState.Shut;
};

// ---- what the console shows ----
export const snpState = () => state;
export const snpError = () => error;
export const snpErrorArg = (i: number) => errorArgs[i];
export const snpHandles = () => handles;
export const snpIndex = () => INDEX;
export const snpFirmwareResult = () => firmwareResult;
export const snpFiltersResult = () => filtersResult;
export const snpCounter = (c: number) => counters[c];
export const snpMacByte = (i: number) => mode[32 + i];
export const snpMaxPacket = () => u32At(12);
export const snpMediaReported = () => mode[27] !== 0;
export const snpTxBuffers = () => TX_BUFFERS;

export const snpErrorKey = (): MsgKey => {
  switch (error) {
    case SnpError.None: return 'snp.err.none';
    case SnpError.NoHandle: return 'snp.err.noHandle';
    case SnpError.Firmware: return 'snp.err.firmware';
    case SnpError.Start: return 'snp.err.start';
    case SnpError.Initialize: return 'snp.err.initialize';
    case SnpError.NotEthernet: return 'snp.err.notEthernet';
    case SnpError.NoMemory: return 'snp.err.noMemory';
    case SnpError.MediaDown: return 'snp.err.mediaDown';
    case SnpError.Transmit: return 'snp.err.transmit';
  }
  return 'snp.err.busy';
};
