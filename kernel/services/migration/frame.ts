// The migration wire frame: one frame per datagram, a 24-byte header and a typed payload,
// all little-endian.
//
//   offset  size  field
//        0     4  magic 0x474D565A ("ZVMG" in byte order)
//        4     2  version (1)
//        6     2  type (FrameType)
//        8     4  sequence: 1, 2, 3, ... on the data stream (Start .. Complete);
//                 0 on the unsequenced control frames (Abort, Ack, Nak)
//       12     4  payload length in bytes (at most MAX_PAYLOAD)
//       16     4  CRC-32 (crc32.ts) over the header, this field taken as zero, and the payload
//       20     4  reserved, 0
//       24     -  payload
//
// Payloads (offsets from the payload start):
//   Start       48 bytes: memory MiB u32 @0, pages carried u32 @4 (pages [0, n), at most
//               MiB * 256), vCPUs u16 @8, flags u16 @10, name length u8 @12 (at most 32),
//               3 reserved zero bytes @13, name (UTF-8, zero padded) 32 bytes @16
//   Pages       page records back to back (page-codec.ts), 8 .. MAX_PAYLOAD bytes
//   VcpuState   vCPU u16 @0, part u16 @2, opaque state bytes @4 (the rest of the payload)
//   DeviceState device u16 @0 (DEVICE_UART_COM1), part u16 @2, opaque state bytes @4
//   Complete    12 bytes: page records sent in the session u32 @0, memory hash of pages
//               [0, n) in order (page-codec.ts memHashPage): hi u32 @4, lo u32 @8
//   Abort       4 bytes: reason u32 (a MigError, migration-error.ts)
//   Ack         4 bytes: highest sequence received in order (cumulative)
//   Nak         4 + 4k bytes: k u16 @0 (1 .. NAK_MAX), reserved u16 @2 = 0, k sequences u32
//               @4; the first is the receiver's next expected sequence (all before it arrived)
//
// MAX_PAYLOAD is one raw page record (8 + 4096 bytes), so a frame is at most 4128 bytes: a
// page is never split across frames, compressed records share a frame up to that budget,
// and a lost frame costs one page's worth of resending. A frame is larger than a 1500-byte
// Ethernet MTU whatever the bound (the transport fragments it, or uses a 9000-byte jumbo
// frame, which it fits); 4128 keeps the sender's 64-frame transmit log at 264 KB, below
// porffor's 1 MiB single-allocation limit.
//
// The decoder never throws and reads nothing outside the range it is given. It checks, in
// this order, and reports the first failure (FrameError):
//   Short       fewer than 24 bytes
//   BadMagic, BadVersion, BadType (not 1..8), BadReserved (header word 20 not 0)
//   BadLength   payload length above MAX_PAYLOAD or not one the type allows
//   Short       the range is shorter than 24 + payload length
//   BadLength   the range is longer (a datagram holds exactly one frame)
//   BadCrc
//   BadSequence a data frame with sequence 0, or a control frame with another
//   BadPayload  Start: name length above 32, a reserved byte or a byte of the name's
//               padding not 0; Nak: count not 1..NAK_MAX or not the payload's, reserved not 0
import type { MsgKey } from '../../i18n/dictionary';
import { CRC32_START, crc32Finish, crc32Update, crc32Zeros } from './crc32';
import { PAGE_BYTES, RECORD_HEADER_BYTES } from './page-codec';
import { le16, le32, putLe16, putLe32 } from '../../lib/bytes';

export const FRAME_MAGIC = 0x474d565a;
export const FRAME_VERSION = 1;
export const HEADER_BYTES = 24;
/** Largest payload: one raw page record. */
export const MAX_PAYLOAD = RECORD_HEADER_BYTES + PAGE_BYTES;
/** Largest frame (4128 bytes). */
export const MAX_FRAME_BYTES = HEADER_BYTES + MAX_PAYLOAD;
export const START_BYTES = 48;
export const START_NAME_OFFSET = 16;
export const NAME_MAX_BYTES = 32;
export const STATE_HEADER_BYTES = 4;
export const COMPLETE_BYTES = 12;
export const ABORT_BYTES = 4;
export const ACK_BYTES = 4;
/** Most sequences one Nak lists. */
export const NAK_MAX = 16;
/** DeviceState device ids. */
export const DEVICE_UART_COM1 = 1;

export const enum FrameType {
  Start = 1,
  Pages = 2,
  VcpuState = 3,
  DeviceState = 4,
  Complete = 5,
  Abort = 6,
  Ack = 7,
  Nak = 8,
}

/** Why a frame was rejected (frameErrorKey gives its message). */
export const enum FrameError {
  None = 0,
  Short = 1,
  BadMagic = 2,
  BadVersion = 3,
  BadType = 4,
  BadReserved = 5,
  BadLength = 6,
  BadCrc = 7,
  BadSequence = 8,
  BadPayload = 9,
}

export const frameErrorKey = (e: number): MsgKey => {
  switch (e) {
    case FrameError.None:
      return 'migration.frame.none';
    case FrameError.Short:
      return 'migration.frame.short';
    case FrameError.BadMagic:
      return 'migration.frame.badMagic';
    case FrameError.BadVersion:
      return 'migration.frame.badVersion';
    case FrameError.BadType:
      return 'migration.frame.badType';
    case FrameError.BadReserved:
      return 'migration.frame.badReserved';
    case FrameError.BadLength:
      return 'migration.frame.badLength';
    case FrameError.BadCrc:
      return 'migration.frame.badCrc';
    case FrameError.BadSequence:
      return 'migration.frame.badSequence';
  }
  return 'migration.frame.badPayload';
};

// Little-endian fields: lib/bytes.ts (callers check the range first).

/** Whether frames of `type` carry a sequence number (the data stream). */
export const isDataType = (type: number) => type >= FrameType.Start && type <= FrameType.Complete;

/** Whether a payload of `len` bytes is one frames of `type` may carry. */
export const payloadLengthOk = (type: number, len: number) => {
  if (len < 0 || len > MAX_PAYLOAD) return false;
  switch (type) {
    case FrameType.Start:
      return len === START_BYTES;
    case FrameType.Pages:
      return len >= RECORD_HEADER_BYTES;
    case FrameType.VcpuState:
    case FrameType.DeviceState:
      return len >= STATE_HEADER_BYTES;
    case FrameType.Complete:
      return len === COMPLETE_BYTES;
    case FrameType.Abort:
      return len === ABORT_BYTES;
    case FrameType.Ack:
      return len === ACK_BYTES;
    case FrameType.Nak:
      return len >= 8 && len <= 4 + 4 * NAK_MAX && (len & 3) === 0;
  }
  return false;
};

/** The frame's CRC: header (CRC field as zero) and payload, where they lie. */
const frameCrc = (b: Uint8Array, off: number, payloadLen: number) => {
  let c = crc32Update(CRC32_START, b, off, 16);
  c = crc32Zeros(c, 4);
  c = crc32Update(c, b, off + 20, 4);
  c = crc32Update(c, b, off + HEADER_BYTES, payloadLen);
  return crc32Finish(c);
};

/** Bytes usable at out[off]: cap, clipped to the array; -1 when off is outside it. */
const room = (out: Uint8Array, off: number, cap: number) => {
  if (off < 0 || off > out.length || cap < 0) return -1;
  const left = out.length - off;
  return cap < left ? cap : left;
};

// ---- encoding ----

/**
 * Writes the header of a frame whose payload is already at out[off + 24, + payloadLen) and
 * sums it. Returns the frame's length, or 0 (nothing written) when the type is unknown,
 * the payload length is not one it allows, or the frame does not fit in `cap` bytes.
 * Data frames need seq >= 1; control frames get 0 whatever `seq` says.
 */
export const frameSeal = (out: Uint8Array, off: number, cap: number, type: number, seq: number, payloadLen: number) => {
  if (!payloadLengthOk(type, payloadLen)) return 0;
  const total = HEADER_BYTES + payloadLen;
  if (room(out, off, cap) < total) return 0;
  const data = isDataType(type);
  if (data && (seq < 1 || seq > 0xffffffff)) return 0;
  putLe32(out, off, FRAME_MAGIC);
  putLe16(out, off + 4, FRAME_VERSION);
  putLe16(out, off + 6, type);
  putLe32(out, off + 8, data ? seq : 0);
  putLe32(out, off + 12, payloadLen);
  putLe32(out, off + 16, 0);
  putLe32(out, off + 20, 0);
  putLe32(out, off + 16, frameCrc(out, off, payloadLen));
  return total;
};

/** Copies src[srcOff, + len) to out[at, + len); the caller has checked both ranges. */
const copyIn = (out: Uint8Array, at: number, src: Uint8Array, srcOff: number, len: number) => {
  for (let i = 0; i < len; i++) out[at + i] = src[srcOff + i];
};

/** Zeroes out[at, + len); the caller has checked the range. */
const zeroIn = (out: Uint8Array, at: number, len: number) => {
  for (let i = 0; i < len; i++) out[at + i] = 0;
};

/**
 * A Start frame: the VM's configuration, its name as UTF-8 bytes name[nameOff, + nameLen)
 * (at most 32). Returns the frame's length, or 0 when an argument is out of range or it
 * does not fit.
 */
export const encodeStart = (
  out: Uint8Array, off: number, cap: number, seq: number, name: Uint8Array, nameOff: number, nameLen: number,
  memMiB: number, pageCount: number, vcpus: number, flags: number,
) => {
  if (nameLen < 0 || nameLen > NAME_MAX_BYTES || nameOff < 0 || nameOff + nameLen > name.length) return 0;
  if (vcpus < 0 || vcpus > 0xffff || flags < 0 || flags > 0xffff || memMiB < 0 || memMiB > 0xffffffff || pageCount < 0 || pageCount > 0xffffffff) return 0;
  if (room(out, off, cap) < HEADER_BYTES + START_BYTES) return 0;
  const p = off + HEADER_BYTES;
  zeroIn(out, p, START_BYTES);
  putLe32(out, p, memMiB);
  putLe32(out, p + 4, pageCount);
  putLe16(out, p + 8, vcpus);
  putLe16(out, p + 10, flags);
  out[p + 12] = nameLen;
  copyIn(out, p + START_NAME_OFFSET, name, nameOff, nameLen);
  return frameSeal(out, off, cap, FrameType.Start, seq, START_BYTES);
};

/**
 * A VcpuState or DeviceState frame (`type`): id (vCPU or device), part (for state longer
 * than one frame), and the opaque bytes src[srcOff, + srcLen). Returns the length or 0.
 */
export const encodeState = (
  out: Uint8Array, off: number, cap: number, type: number, seq: number, id: number, part: number,
  src: Uint8Array, srcOff: number, srcLen: number,
) => {
  if (type !== FrameType.VcpuState && type !== FrameType.DeviceState) return 0;
  if (id < 0 || id > 0xffff || part < 0 || part > 0xffff) return 0;
  if (srcLen < 0 || srcOff < 0 || srcOff + srcLen > src.length || STATE_HEADER_BYTES + srcLen > MAX_PAYLOAD) return 0;
  if (room(out, off, cap) < HEADER_BYTES + STATE_HEADER_BYTES + srcLen) return 0;
  const p = off + HEADER_BYTES;
  putLe16(out, p, id);
  putLe16(out, p + 2, part);
  copyIn(out, p + STATE_HEADER_BYTES, src, srcOff, srcLen);
  return frameSeal(out, off, cap, type, seq, STATE_HEADER_BYTES + srcLen);
};

/** A Complete frame: page records sent, and the memory hash (hi, lo). */
export const encodeComplete = (out: Uint8Array, off: number, cap: number, seq: number, pages: number, hashHi: number, hashLo: number) => {
  if (room(out, off, cap) < HEADER_BYTES + COMPLETE_BYTES) return 0;
  const p = off + HEADER_BYTES;
  putLe32(out, p, pages);
  putLe32(out, p + 4, hashHi);
  putLe32(out, p + 8, hashLo);
  return frameSeal(out, off, cap, FrameType.Complete, seq, COMPLETE_BYTES);
};

/** An Abort frame (unsequenced) with a MigError reason. */
export const encodeAbort = (out: Uint8Array, off: number, cap: number, reason: number) => {
  if (room(out, off, cap) < HEADER_BYTES + ABORT_BYTES) return 0;
  putLe32(out, off + HEADER_BYTES, reason);
  return frameSeal(out, off, cap, FrameType.Abort, 0, ABORT_BYTES);
};

/** An Ack frame: everything up to and including `seq` arrived in order. */
export const encodeAck = (out: Uint8Array, off: number, cap: number, seq: number) => {
  if (room(out, off, cap) < HEADER_BYTES + ACK_BYTES) return 0;
  putLe32(out, off + HEADER_BYTES, seq);
  return frameSeal(out, off, cap, FrameType.Ack, 0, ACK_BYTES);
};

/** A Nak frame listing list[0, count) (1 .. NAK_MAX sequences; list[0] is the next expected). */
export const encodeNak = (out: Uint8Array, off: number, cap: number, list: Uint32Array, count: number) => {
  if (count < 1 || count > NAK_MAX || count > list.length) return 0;
  const len = 4 + 4 * count;
  if (room(out, off, cap) < HEADER_BYTES + len) return 0;
  const p = off + HEADER_BYTES;
  putLe16(out, p, count);
  putLe16(out, p + 2, 0);
  for (let i = 0; i < count; i++) putLe32(out, p + 4 + 4 * i, list[i]);
  return frameSeal(out, off, cap, FrameType.Nak, 0, len);
};

// ---- decoding ----

let decType = 0;
let decSeq = 0;
let decPayloadOff = 0;
let decPayloadLen = 0;

/** Type of the last frame frameDecode accepted (0 before any). */
export const frameType = () => decType;
/** Its sequence number. */
export const frameSeq = () => decSeq;
/** Where its payload starts in the array it was decoded from. */
export const framePayloadOffset = () => decPayloadOff;
export const framePayloadLength = () => decPayloadLen;

/** Checks the payload fields the type defines (after the length and CRC checks). */
const payloadOk = (b: Uint8Array, p: number, type: number, len: number) => {
  if (type === FrameType.Start) {
    const nameLen = b[p + 12];
    if (nameLen > NAME_MAX_BYTES) return false;
    if (b[p + 13] !== 0 || b[p + 14] !== 0 || b[p + 15] !== 0) return false;
    for (let i = nameLen; i < NAME_MAX_BYTES; i++) if (b[p + START_NAME_OFFSET + i] !== 0) return false;
    return true;
  }
  if (type === FrameType.Nak) {
    const count = le16(b, p);
    if (count < 1 || count > NAK_MAX || 4 + 4 * count !== len) return false;
    return le16(b, p + 2) === 0;
  }
  return true;
};

/**
 * Checks that bytes[off, off + len) is exactly one valid frame. On FrameError.None the
 * getters above describe it; on an error they describe nothing (type 0).
 */
export const frameDecode = (bytes: Uint8Array, off: number, len: number) => {
  decType = 0;
  decSeq = 0;
  decPayloadOff = 0;
  decPayloadLen = 0;
  if (off < 0 || len < 0 || off > bytes.length) return FrameError.Short;
  let avail = bytes.length - off;
  if (len < avail) avail = len;
  if (avail < HEADER_BYTES) return FrameError.Short;
  if (le32(bytes, off) !== FRAME_MAGIC) return FrameError.BadMagic;
  if (le16(bytes, off + 4) !== FRAME_VERSION) return FrameError.BadVersion;
  const type = le16(bytes, off + 6);
  if (type < FrameType.Start || type > FrameType.Nak) return FrameError.BadType;
  if (le32(bytes, off + 20) !== 0) return FrameError.BadReserved;
  const plen = le32(bytes, off + 12);
  if (!payloadLengthOk(type, plen)) return FrameError.BadLength;
  if (avail < HEADER_BYTES + plen) return FrameError.Short;
  if (len > HEADER_BYTES + plen) return FrameError.BadLength;
  if (le32(bytes, off + 16) !== frameCrc(bytes, off, plen)) return FrameError.BadCrc;
  const seq = le32(bytes, off + 8);
  if (isDataType(type) ? seq === 0 : seq !== 0) return FrameError.BadSequence;
  if (!payloadOk(bytes, off + HEADER_BYTES, type, plen)) return FrameError.BadPayload;
  decType = type;
  decSeq = seq;
  decPayloadOff = off + HEADER_BYTES;
  decPayloadLen = plen;
  return FrameError.None;
};

// ---- payload fields of a decoded frame (p: its payload offset) ----

export const startMemMiB = (b: Uint8Array, p: number) => le32(b, p);
export const startPageCount = (b: Uint8Array, p: number) => le32(b, p + 4);
export const startVcpus = (b: Uint8Array, p: number) => le16(b, p + 8);
export const startFlags = (b: Uint8Array, p: number) => le16(b, p + 10);
export const startNameLength = (b: Uint8Array, p: number) => b[p + 12];
export const stateId = (b: Uint8Array, p: number) => le16(b, p);
export const statePart = (b: Uint8Array, p: number) => le16(b, p + 2);
export const completePages = (b: Uint8Array, p: number) => le32(b, p);
export const completeHashHi = (b: Uint8Array, p: number) => le32(b, p + 4);
export const completeHashLo = (b: Uint8Array, p: number) => le32(b, p + 8);
export const abortReason = (b: Uint8Array, p: number) => le32(b, p);
export const ackSeq = (b: Uint8Array, p: number) => le32(b, p);
export const nakCount = (b: Uint8Array, p: number) => le16(b, p);
export const nakSeq = (b: Uint8Array, p: number, i: number) => le32(b, p + 4 + 4 * i);
