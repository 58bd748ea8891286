// `net`, `net send`, `net recv`: the virtio-net NIC (drivers/virtio-net) from the console.
//   net                                         the device, its MAC, link, queues, counters
//   net send <mac|broadcast> <ethertype> "<text>" [--count N]
//                                               one Ethernet frame (destination, net0's MAC,
//                                               EtherType, the text as UTF-8), N times
//   net recv [--count N] [--timeout ms] [--type <ethertype>] [--quiet]
//                                               waits for N frames (of that EtherType) and
//                                               shows each (source, destination, type,
//                                               length, payload preview)
// The first use of any of them takes the NIC (netInit). Frames are built in and received
// into one preallocated buffer; nothing is allocated per frame.
import type { MsgKey } from '../i18n/dictionary';
import { putUtf8 } from '../i18n/utf8';
import { text } from '../i18n/messages';
import { Span } from '../lib/format';
import { decimalArgument, hexArgument, missingArgument } from './args';
import { Command, COMMAND_USAGE } from './command-table';
import { say, sayError, sayInline } from './output';
import { Status } from './status';
import { spanIs, token, tokenCount } from './tokens';
import { ticksSinceBoot, tscHz } from '../lib/clock';
import { runGuests } from '../services/scheduler';
import { pciBus, pciDev, pciFindDevice, pciFn } from '../../drivers/pci/functions';
import { VIRTIO_VENDOR } from '../../drivers/pci/caps';
import { ProbeError } from '../../drivers/virtio/pci-transport';
import {
  ETH_HEADER, MAX_FRAME, NetCounter, NetInitError, NetState, VIRTIO_NET_DEVICE, netBufferBytes, netBus, netCounter, netDev,
  netErrorArg, netFaultKey, netFaultQueueName, netFeaturesAccepted, netFeaturesOffered, netFirmwareResult, netFn,
  netInit, netInitError, netLinkReported, netLinkUp, netMacByte, netMacText, netProbeError, netQueueSize,
  netPageCount, netPagesBase, netReceive, netSend, netState,
} from '../../drivers/virtio-net/virtio-net';
import { hostAddressHi, hostAddressLo } from '../memory/page-allocator';
import { SnpCounter, SnpState, snpCounter, snpLinkUp, snpMacText, snpMediaReported, snpState } from '../../drivers/snp/snp';

const MAX_COUNT = 1000000;
const MAX_TIMEOUT_MS = 600000;
const DEFAULT_TIMEOUT_MS = 1000;
const POLL_STALL_US = 20;
const PREVIEW_HEX = 16; // payload bytes shown in hex
const PREVIEW_TEXT = 48; // payload bytes shown as text

const frame = new Uint8Array(2048);
const destination = new Uint8Array(6);
const srcCodes = new Uint32Array(17);
const srcSpan = new Span(srcCodes);
const dstCodes = new Uint32Array(17);
const dstSpan = new Span(dstCodes);
const hexCodes = new Uint32Array(PREVIEW_HEX * 3);
const hexSpan = new Span(hexCodes);
const textCodes = new Uint32Array(PREVIEW_TEXT);
const textSpan = new Span(textCodes);

const hexDigit = (v: number) => (v < 10 ? 48 + v : 87 + v);

/** Writes the MAC at bytes[off, off + 6) as "xx:xx:xx:xx:xx:xx" into a span. */
const macText = (span: Span, codes: Uint32Array, bytes: Uint8Array, off: number) => {
  for (let i = 0; i < 6; i++) {
    const b = bytes[off + i];
    codes[i * 3] = hexDigit(b >>> 4);
    codes[i * 3 + 1] = hexDigit(b & 15);
    if (i < 5) codes[i * 3 + 2] = 58;
  }
  span.start = 0;
  span.len = 17;
};

const hexValue = (c: number) => {
  if (c >= 48 && c <= 57) return c - 48;
  if (c >= 97 && c <= 102) return c - 87;
  if (c >= 65 && c <= 70) return c - 55;
  return -1;
};

/** Word `index` as a MAC (six hex bytes joined by ':' or '-', or "broadcast") into `destination`; false when it is not one. */
const macArgument = (index: number) => {
  const w = token(index);
  if (spanIs(w, 'broadcast')) {
    for (let i = 0; i < 6; i++) destination[i] = 0xff;
    return true;
  }
  if (w.len !== 17) return false;
  for (let i = 0; i < 6; i++) {
    const at = w.start + i * 3;
    const h = hexValue(w.buf[at]);
    const l = hexValue(w.buf[at + 1]);
    if (h < 0 || l < 0) return false;
    if (i < 5 && w.buf[at + 2] !== 58 && w.buf[at + 2] !== 45) return false;
    destination[i] = h * 16 + l;
  }
  return true;
};

const initErrorKey = (): MsgKey => {
  switch (netInitError()) {
    case NetInitError.Firmware: return 'net.init.firmware';
    case NetInitError.Probe: {
      const p = netProbeError();
      if (p === ProbeError.Missing) return 'net.init.missing';
      if (p === ProbeError.NotMemory) return 'net.init.notMemory';
      if (p === ProbeError.Unassigned) return 'net.init.unassigned';
      if (p === ProbeError.OutsideBar) return 'net.init.outsideBar';
      return 'net.init.tooShort';
    }
    case NetInitError.ResetTimeout: return 'net.init.reset';
    case NetInitError.Legacy: return 'net.init.legacy';
    case NetInitError.FeaturesRejected: return 'net.init.featuresRejected';
    case NetInitError.NoQueues: return 'net.init.noQueues';
    case NetInitError.QueueUnavailable: return 'net.init.queueUnavailable';
    case NetInitError.NotifyRange: return 'net.init.notifyRange';
    case NetInitError.NoMemory: return 'net.init.noMemory';
  }
  return 'net.init.needsReset';
};

/** The name of a virtio structure type (1-4), in the current language. */
const structName = (type: number) => {
  if (type === 1) return text('net.cfg.1');
  if (type === 2) return text('net.cfg.2');
  if (type === 3) return text('net.cfg.3');
  return text('net.cfg.4');
};

const stateKey = (s: number): MsgKey => {
  if (s === NetState.Ready) return 'net.state.ready';
  if (s === NetState.Broken) return 'net.state.broken';
  if (s === NetState.Reset) return 'net.state.reset';
  return 'net.state.failed';
};

const errorKey = (e: number): MsgKey => {
  switch (e) {
    case 1: return 'net.error.1';
    case 2: return 'net.error.2';
    case 3: return 'net.error.3';
    case 4: return 'net.error.4';
  }
  return 'net.error.5';
};

/** While the firmware's SNP carries migration frames, net leaves the NIC to it and shows that. */
const showSnp = () => {
  const up = snpLinkUp();
  say('net.snp', snpMacText, text(!snpMediaReported() ? 'net.link.assumed' : up ? 'net.link.up' : 'net.link.down'));
  say('net.snp.counters', snpCounter(SnpCounter.TxFrames), snpCounter(SnpCounter.TxBytes), snpCounter(SnpCounter.RxFrames), snpCounter(SnpCounter.RxBytes));
  return Status.Ok;
};

const showNet = () => {
  if (snpState() === SnpState.Ready) return showSnp();
  if (netInit() === NetState.Absent) {
    say('net.none');
    return Status.Ok;
  }
  const up = netLinkUp(); // also notices a device that reports DEVICE_NEEDS_RESET
  const state = netState();
  say('net.device', netBus(), netDev(), netFn(), text(stateKey(state)));
  if (state === NetState.Failed) {
    sayInline('net.indent');
    const a = netErrorArg(0);
    if (netInitError() === NetInitError.Probe) say(initErrorKey(), structName(a), netErrorArg(1), netErrorArg(2));
    else say(initErrorKey(), a, netErrorArg(1), netErrorArg(2));
  } else {
    const link = !up ? 'net.link.down' : netLinkReported() ? 'net.link.up' : 'net.link.assumed';
    say('net.mac', netMacText, text(link));
    if (state === NetState.Broken) {
      sayInline('net.indent');
      say(netFaultKey(), netFaultQueueName(), netErrorArg(0), netErrorArg(1), netErrorArg(2));
    }
  }
  if (netFirmwareResult() === 0) say('net.firmware.released');
  else if (netFirmwareResult() === -2) say('net.firmware.unbound');
  else if (netFirmwareResult() < 0) say('net.firmware.none');
  if (state !== NetState.Failed) {
    say('net.queues', netQueueSize(0), netQueueSize(1), netBufferBytes());
    say('net.memory', netPageCount(), hostAddressHi(netPagesBase()), hostAddressLo(netPagesBase()));
    say('net.features', netFeaturesOffered(1), netFeaturesOffered(0), netFeaturesAccepted(1), netFeaturesAccepted(0));
  }
  say('net.counters.tx', netCounter(NetCounter.TxFrames), netCounter(NetCounter.TxBytes), netCounter(NetCounter.TxBusy), netCounter(NetCounter.TxBadLength));
  say('net.counters.rx', netCounter(NetCounter.RxFrames), netCounter(NetCounter.RxBytes), netCounter(NetCounter.RxRunts), netCounter(NetCounter.RxTruncated));
  say('net.counters.errors', netCounter(NetCounter.DeviceErrors));
  for (let f = pciFindDevice(VIRTIO_VENDOR, VIRTIO_NET_DEVICE, 0); f >= 0; f = pciFindDevice(VIRTIO_VENDOR, VIRTIO_NET_DEVICE, f + 1)) {
    if (pciBus(f) === netBus() && pciDev(f) === netDev() && pciFn(f) === netFn()) continue;
    say('net.other', pciBus(f), pciDev(f), pciFn(f));
  }
  return Status.Ok;
};

/** Takes the NIC if needed; false (after an error naming `sub`) when it cannot be used. */
const ready = (sub: string) => {
  if (snpState() === SnpState.Ready) {
    sayError('net.snpInUse', sub);
    return false;
  }
  if (netInit() === NetState.Ready) return true;
  sayError('net.notReady', sub);
  return false;
};

/** Word `index` as a count from 1 to MAX_COUNT, or -1 after an error. */
const countArgument = (sub: string, index: number) => {
  const n = index < tokenCount() ? decimalArgument(index, MAX_COUNT) : -1;
  if (n < 1) {
    if (index >= tokenCount()) missingArgument(Command.Net);
    else sayError('net.badCount', sub, token(index), MAX_COUNT);
    return -1;
  }
  return n;
};

const milliseconds = (ticks: number) => (ticks * 1000) / (tscHz() > 0 ? tscHz() : 1e9);

const netSendCommand = () => {
  const n = tokenCount();
  if (n < 5) return missingArgument(Command.Net);
  let count = 1;
  for (let i = 5; i < n; i += 2) {
    if (!spanIs(token(i), '--count')) {
      sayError('net.badOption', token(1), token(i));
      return Status.Failed;
    }
    count = countArgument('send', i + 1);
    if (count < 0) return Status.Failed;
  }
  if (!macArgument(2)) {
    sayError('net.send.badMac', token(2));
    return Status.Failed;
  }
  const type = hexArgument(3);
  if (type < 0x600 || type > 0xffff) {
    sayError('net.badType', token(1), token(3));
    return Status.Failed;
  }
  if (!ready('send')) return Status.Failed;
  for (let i = 0; i < 6; i++) {
    frame[i] = destination[i];
    frame[6 + i] = netMacByte(i);
  }
  frame[12] = type >>> 8;
  frame[13] = type & 0xff;
  const payload = token(4);
  let len = ETH_HEADER;
  for (let i = 0; i < payload.len && len <= MAX_FRAME; i++) len = putUtf8(frame, len, payload.buf[payload.start + i]);
  if (len > MAX_FRAME) {
    let total = ETH_HEADER;
    for (let i = 0; i < payload.len; i++) {
      const cp = payload.buf[payload.start + i];
      total += cp < 0x80 ? 1 : cp < 0x800 ? 2 : cp < 0x10000 ? 3 : 4;
    }
    sayError('net.send.tooLong', total, MAX_FRAME);
    return Status.Failed;
  }
  macText(dstSpan, dstCodes, destination, 0);
  const start = ticksSinceBoot();
  for (let i = 0; i < count; i++) {
    const e = netSend(frame, 0, len);
    if (e !== 0) {
      sayError('net.send.failed', i + 1, count, text(errorKey(e)));
      return Status.Failed;
    }
  }
  const ms = milliseconds(ticksSinceBoot() - start);
  say('net.send.done', count, len, dstSpan, type);
  if (count > 1) say('net.send.rate', ms, ms > 0 ? Math.round((count * 1000) / ms) : 0);
  return Status.Ok;
};

/** Shows the frame in `frame` (len bytes): addresses, type, length, a payload preview. */
const showFrame = (len: number) => {
  macText(srcSpan, srcCodes, frame, 6);
  macText(dstSpan, dstCodes, frame, 0);
  say('net.recv.frame', srcSpan, dstSpan, frame[12] * 256 + frame[13], len);
  const payload = len - ETH_HEADER;
  const hexBytes = payload < PREVIEW_HEX ? payload : PREVIEW_HEX;
  let h = 0;
  for (let i = 0; i < hexBytes; i++) {
    const b = frame[ETH_HEADER + i];
    if (i > 0) {
      hexCodes[h] = 32;
      h++;
    }
    hexCodes[h] = hexDigit(b >>> 4);
    hexCodes[h + 1] = hexDigit(b & 15);
    h += 2;
  }
  hexSpan.start = 0;
  hexSpan.len = h;
  const textBytes = payload < PREVIEW_TEXT ? payload : PREVIEW_TEXT;
  for (let i = 0; i < textBytes; i++) {
    const b = frame[ETH_HEADER + i];
    textCodes[i] = b >= 0x20 && b < 0x7f ? b : 46;
  }
  textSpan.start = 0;
  textSpan.len = textBytes;
  say('net.recv.preview', hexSpan, textSpan);
};

const netRecvCommand = () => {
  const n = tokenCount();
  let count = 1;
  let timeout = DEFAULT_TIMEOUT_MS;
  let quiet = false;
  let only = -1;
  for (let i = 2; i < n; i++) {
    const w = token(i);
    if (spanIs(w, '--quiet')) {
      quiet = true;
    } else if (spanIs(w, '--type')) {
      if (i + 1 >= n) return missingArgument(Command.Net);
      only = hexArgument(i + 1);
      if (only < 0x600 || only > 0xffff) {
        sayError('net.badType', token(1), token(i + 1));
        return Status.Failed;
      }
      i++;
    } else if (spanIs(w, '--count')) {
      count = countArgument('recv', i + 1);
      if (count < 0) return Status.Failed;
      i++;
    } else if (spanIs(w, '--timeout')) {
      timeout = i + 1 < n ? decimalArgument(i + 1, MAX_TIMEOUT_MS) : -1;
      if (timeout < 1) {
        if (i + 1 >= n) return missingArgument(Command.Net);
        sayError('net.recv.badTimeout', token(i + 1), MAX_TIMEOUT_MS);
        return Status.Failed;
      }
      i++;
    } else {
      sayError('net.badOption', token(1), w);
      return Status.Failed;
    }
  }
  if (!ready('recv')) return Status.Failed;
  const hz = tscHz() > 0 ? tscHz() : 1e9;
  const deadline = ticksSinceBoot() + (hz * timeout) / 1000;
  let got = 0;
  let bytes = 0;
  let first = 0;
  let last = 0;
  let passed = 0;
  while (got < count) {
    const len = netReceive(frame, 0, frame.length);
    if (len > 0 && only >= 0 && frame[12] * 256 + frame[13] !== only) {
      passed++;
      continue;
    }
    if (len > 0) {
      last = ticksSinceBoot();
      if (got === 0) first = last;
      got++;
      bytes += len;
      if (!quiet) showFrame(len);
      continue;
    }
    if (netState() !== NetState.Ready) {
      sayError('net.recv.broken');
      return Status.Failed;
    }
    if (ticksSinceBoot() >= deadline) break;
    if (runGuests() === 0) hv_efi_stall(POLL_STALL_US);
  }
  if (got < count) {
    sayError('net.recv.timeout', got, count, timeout);
    if (passed > 0) say('net.recv.passed', passed);
    return Status.Failed;
  }
  say('net.recv.done', got, bytes, milliseconds(last - first));
  if (passed > 0) say('net.recv.passed', passed);
  return Status.Ok;
};

export const cmdNet = () => {
  const n = tokenCount();
  if (n === 1) return showNet();
  if (spanIs(token(1), 'send')) return netSendCommand();
  if (spanIs(token(1), 'recv')) return netRecvCommand();
  sayError('net.unknownSub', token(1), text(COMMAND_USAGE[Command.Net]));
  return Status.Failed;
};
