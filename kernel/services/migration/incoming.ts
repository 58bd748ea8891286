// The destination side of a migration: the protocol over the receiving transport
// (receiver.ts). inPoll takes one datagram at a time and applies delivered frames:
//   Start       once, first: the name (1..32 bytes of UTF-8, no control characters),
//               1..MAX_MIB MiB, 1..MAX_VCPUS vCPUs, only known flags, 1..MiB * 256 pages;
//               the pages must fit the memory attached as side 1 of page-store.ts.
//               InStatus.Started: the getters give the configuration.
//   Pages       every record decoded (page-codec.ts) into a staging page, checked (a
//               Duplicate's source page, read back from side 1, must hash as announced),
//               then written to side 1; each page is marked as received.
//   VcpuState, DeviceState  checked against the configuration (vCPU < vCPUs, a device on the VM's bus with state)
//               and handed to the caller: InStatus.State, the getters say where the bytes lie.
//   Complete    its record count must be the records applied, every page [0, n) must have
//               come, and the hash of side 1's pages must be the one announced: InStatus.Done.
// Anything else ends the session (InStatus.Failed, inError says why, the sender gets an
// Abort with that reason): a frame out of order (before Start), a second Start, a bad
// record, a hash or count that does not match, or the transport's limits (receiver.ts).
// Pages already written stay written: the caller destroys the half-built VM.
import { boardHasDeviceState } from '../../vm/devices/board';
import {
  FrameType, NAME_MAX_BYTES, START_NAME_OFFSET, STATE_HEADER_BYTES, completeHashHi, completeHashLo,
  completePages, startFlags, startMemMiB, startNameLength, startPageCount, startVcpus, stateId, statePart,
} from './frame';
import { MigError } from './migration-error';
import {
  PAGE_BYTES, PageEncoding, PageError, memHashHi, memHashLo, pageDecode, pageVerify, recordEncoding,
  recordGpa, recordLength, recordSource,
} from './page-codec';
import { storeHash, storeLoad, storePages, storeSave } from './page-store';
import {
  RxResult, rxAck, rxBuf, rxError, rxFail, rxFinish, rxInit, rxPayloadLength, rxPayloadOffset, rxPeerReason, rxPoll, rxSetIdleLimit, rxType,
} from './receiver';
import { REPLACEMENT_CHAR, Utf8Decoder, visible } from '../../i18n/utf8';

export const enum InStatus {
  Idle = 0, // nothing arrived
  Progress = 1, // a datagram was handled (pages applied, a duplicate, a loss noted, ...)
  Started = 2, // Start accepted
  State = 3, // vCPU or device state delivered (inStateType, inStateId, ...)
  Done = 4, // Complete verified: the memory is the sender's
  Failed = 5,
}

/** The largest VM memory a Start may ask for (kernel/vm/lifecycle.ts MAX_VM_MIB). */
export const MAX_MIB = 4096;
export const MAX_VCPUS = 64;
/** Start flags: none is defined yet (the field is there for later versions); a Start with any is refused. */
const KNOWN_FLAGS = 0;
/** Pages the received-map covers (4 GiB). */
const MAX_PAGES = MAX_MIB * 256;

const stage = new Uint8Array(PAGE_BYTES);
const received = new Uint8Array(MAX_PAGES / 8);
const nameBytes = new Uint8Array(NAME_MAX_BYTES);
const utf8 = new Utf8Decoder();

let started = false;
let done = false;
let pageCount = 0;
let memMiB = 0;
let vcpus = 0;
let flags = 0;
let nameLen = 0;
let applied = 0;
let pageError = 0;
let stateType = 0;
let stateIdent = 0;
let statePartNo = 0;
let stateOff = 0;
let stateLen = 0;

/** Starts a session receiving into side 1 over sink `kind`, end `end`; limits as in receiver.ts. */
export const inInit = (kind: number, end: number, nakInterval: number, maxErrors: number, idleLimit: number, now: number) => {
  rxInit(kind, end, nakInterval, maxErrors, idleLimit, now);
  started = false;
  done = false;
  pageCount = 0;
  memMiB = 0;
  vcpus = 0;
  flags = 0;
  nameLen = 0;
  applied = 0;
  pageError = 0;
  stateType = 0;
};

const fail = (reason: number) => {
  rxFail(reason);
  return InStatus.Failed;
};

const nameOk = (p: number, len: number) => {
  if (len < 1 || len > NAME_MAX_BYTES) return false;
  utf8.reset();
  for (let i = 0; i < len; i++) {
    const cp = utf8.feed(rxBuf[p + i]);
    if (cp === REPLACEMENT_CHAR || utf8.again) return false;
    if (cp >= 0 && visible(cp) !== cp) return false;
  }
  return !utf8.pending();
};

const takeStart = (p: number) => {
  if (started) return fail(MigError.DuplicateStart);
  const mib = startMemMiB(rxBuf, p);
  const pages = startPageCount(rxBuf, p);
  const cpus = startVcpus(rxBuf, p);
  const f = startFlags(rxBuf, p);
  const len = startNameLength(rxBuf, p);
  if (!nameOk(p + START_NAME_OFFSET, len)) return fail(MigError.BadStart);
  if (mib < 1 || mib > MAX_MIB || cpus < 1 || cpus > MAX_VCPUS || (f & ~KNOWN_FLAGS) !== 0) return fail(MigError.BadStart);
  if (pages < 1 || pages > mib * 256) return fail(MigError.BadStart);
  // a store attached beforehand must hold the pages; one attached on Started (a VM made
  // for them) is checked at the first page
  if (storePages(1) > 0 && pages > storePages(1)) return fail(MigError.TooLarge);
  for (let i = 0; i < len; i++) nameBytes[i] = rxBuf[p + START_NAME_OFFSET + i];
  nameLen = len;
  memMiB = mib;
  vcpus = cpus;
  flags = f;
  pageCount = pages;
  const bytes = (pages + 7) >>> 3;
  for (let i = 0; i < bytes; i++) received[i] = 0;
  started = true;
  rxAck();
  return InStatus.Started;
};

const takePages = (p: number, len: number) => {
  if (pageCount > storePages(1)) return fail(MigError.TooLarge);
  const endAt = p + len;
  let at = p;
  while (at < endAt) {
    const e = pageDecode(rxBuf, at, endAt - at, pageCount, stage, 0);
    if (e !== PageError.None) {
      pageError = e;
      return fail(MigError.BadPage);
    }
    const gpa = recordGpa();
    if (recordEncoding() === PageEncoding.Duplicate) {
      if (!storeLoad(1, recordSource(), stage, 0)) return fail(MigError.NotAttached);
      const v = pageVerify(stage, 0);
      if (v !== PageError.None) {
        pageError = v;
        return fail(MigError.DupMismatch);
      }
    }
    if (!storeSave(1, gpa, stage, 0)) return fail(MigError.NotAttached);
    const byte = gpa >>> 3;
    if (byte < received.length) received[byte] = received[byte] | (1 << (gpa & 7));
    applied++;
    at += recordLength();
  }
  rxAck();
  return InStatus.Progress;
};

const takeState = (type: number, p: number, len: number) => {
  const id = stateId(rxBuf, p);
  if (type === FrameType.VcpuState ? id >= vcpus : !boardHasDeviceState(id)) return fail(MigError.BadState);
  stateType = type;
  stateIdent = id;
  statePartNo = statePart(rxBuf, p);
  stateOff = p + STATE_HEADER_BYTES;
  stateLen = len - STATE_HEADER_BYTES;
  rxAck();
  return InStatus.State;
};

const takeComplete = (p: number) => {
  if (completePages(rxBuf, p) !== applied) return fail(MigError.CountMismatch);
  for (let g = 0; g < pageCount; g++) {
    if ((received[g >>> 3] & (1 << (g & 7))) === 0) return fail(MigError.Incomplete);
  }
  if (!storeHash(1, pageCount)) return fail(MigError.NotAttached);
  if (memHashHi() !== completeHashHi(rxBuf, p) || memHashLo() !== completeHashLo(rxBuf, p)) return fail(MigError.HashMismatch);
  done = true;
  rxAck();
  rxFinish();
  return InStatus.Done;
};

/** Takes and applies the next datagram, if any, at time `now`. */
export const inPoll = (now: number) => {
  stateType = 0;
  const r = rxPoll(now);
  if (r === RxResult.Failed) return InStatus.Failed;
  if (r === RxResult.Nothing) return done ? InStatus.Done : InStatus.Idle;
  if (r !== RxResult.Delivered) return done ? InStatus.Done : InStatus.Progress;
  const type = rxType();
  const p = rxPayloadOffset();
  const len = rxPayloadLength();
  if (type === FrameType.Start) return takeStart(p);
  if (!started) return fail(MigError.BadOrder);
  if (type === FrameType.Pages) return takePages(p, len);
  if (type === FrameType.VcpuState || type === FrameType.DeviceState) return takeState(type, p, len);
  return takeComplete(p);
};

/** The idle limit from now on (receiver.ts rxSetIdleLimit). */
export const inSetIdleLimit = (idleTicks: number) => rxSetIdleLimit(idleTicks);
export const inError = () => rxError();
export const inPeerReason = () => rxPeerReason();
/** The PageError behind BadPage or DupMismatch. */
export const inPageError = () => pageError;
export const inDone = () => done;
export const inPageCount = () => pageCount;
export const inMemMiB = () => memMiB;
export const inVcpus = () => vcpus;
export const inFlags = () => flags;
export const inNameLength = () => nameLen;
/** Byte i of the VM's name (UTF-8). */
export const inNameByte = (i: number) => (i >= 0 && i < nameLen ? nameBytes[i] : 0);
export const inRecords = () => applied;
/** After InStatus.State: VcpuState or DeviceState, the vCPU or device, the part, and where the bytes lie in rxBuf. */
export const inStateType = () => stateType;
export const inStateId = () => stateIdent;
export const inStatePart = () => statePartNo;
export const inStateOffset = () => stateOff;
export const inStateLength = () => stateLen;
