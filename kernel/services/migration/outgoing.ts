// The source side of a migration: the protocol over the sending transport (sender.ts).
// The caller, in this order: outInit; outStart (the VM's configuration); outPage for every
// page, as often as pages change (each call reads the page from side 0 of page-store.ts,
// encodes it with page-codec.ts and packs the record into the current Pages frame, which
// goes out when full or on outFlush); outState for vCPU and device state; outComplete
// (the page-record count and the memory hash of pages [0, n) as they are now: the guest
// must be stopped and its last dirty pages sent). Between calls, and whenever a call
// answers Busy (the window is full), it calls outPoll(now) until the session is Done (the
// Complete frame acknowledged) or Failed (outError says why).
import {
  FrameType, HEADER_BYTES, MAX_FRAME_BYTES, MAX_PAYLOAD, encodeComplete, encodeStart, encodeState, frameSeal,
} from './frame';
import { MigError } from './migration-error';
import { PAGE_BYTES, codecReset, memHashHi, memHashLo, pageEncode } from './page-codec';
import { storeHash, storeLoad, storePages } from './page-store';
import { txAbort, txBegin, txCommit, txError, txInit, txLog, txOutstanding, txPeerReason, txPoll, txSeq } from './sender';

export const enum OutResult {
  Ok = 0,
  Busy = 1, // the window is full: outPoll, then call again
  Failed = 2, // the session has ended (outError)
  BadArgument = 3, // out of range, or out of order (a page before Start, anything after Complete)
}

export const enum OutStatus {
  Running = 0,
  Done = 1,
  Failed = 2,
}

const stage = new Uint8Array(PAGE_BYTES);

let pageCount = 0;
let started = false;
let completed = false;
let curOff = -1; // txLog offset of the Pages frame being filled, -1: none
let curLen = 0; // its payload bytes so far
let records = 0;

/**
 * Starts a session sending pages [0, pages) of side 0 (at most what is attached) over sink
 * `kind`, end `end`; rto and maxResends as in sender.ts.
 */
export const outInit = (kind: number, end: number, pages: number, rto: number, maxResends: number, now: number) => {
  txInit(kind, end, rto, maxResends, now);
  codecReset();
  pageCount = pages >= 0 && pages <= storePages(0) ? pages : 0;
  started = false;
  completed = false;
  curOff = -1;
  curLen = 0;
  records = 0;
  if (pageCount !== pages) txAbort(MigError.NotAttached);
};

const result = () => (txError() !== MigError.None ? OutResult.Failed : OutResult.Ok);

/** Start: name[nameOff, + nameLen) as UTF-8 (1..32 bytes), memory in MiB, vCPUs, flags. */
export const outStart = (name: Uint8Array, nameOff: number, nameLen: number, memMiB: number, vcpus: number, flags: number) => {
  if (txError() !== MigError.None) return OutResult.Failed;
  if (started || nameLen < 1) return OutResult.BadArgument;
  const off = txBegin();
  if (off < 0) return result() === OutResult.Failed ? OutResult.Failed : OutResult.Busy;
  const n = encodeStart(txLog, off, MAX_FRAME_BYTES, txSeq(), name, nameOff, nameLen, memMiB, pageCount, vcpus, flags);
  if (n === 0) return OutResult.BadArgument;
  started = true;
  txCommit(n);
  return result();
};

/** Sends the Pages frame being filled, if any. */
export const outFlush = () => {
  if (txError() !== MigError.None) return OutResult.Failed;
  if (curOff >= 0 && curLen > 0) {
    const n = frameSeal(txLog, curOff, MAX_FRAME_BYTES, FrameType.Pages, txSeq(), curLen);
    curOff = -1;
    curLen = 0;
    if (n === 0) {
      txAbort(MigError.BadArgument); // cannot happen: the records were sized to fit
      return OutResult.Failed;
    }
    txCommit(n);
  }
  return result();
};

/** Sends page `gpa` as it is now. */
export const outPage = (gpa: number) => {
  if (txError() !== MigError.None) return OutResult.Failed;
  if (!started || completed || gpa < 0 || gpa >= pageCount) return OutResult.BadArgument;
  if (!storeLoad(0, gpa, stage, 0)) {
    txAbort(MigError.NotAttached);
    return OutResult.Failed;
  }
  for (let attempt = 0; attempt < 2; attempt++) {
    if (curOff < 0) {
      const off = txBegin();
      if (off < 0) return result() === OutResult.Failed ? OutResult.Failed : OutResult.Busy;
      curOff = off;
      curLen = 0;
    }
    const n = pageEncode(stage, 0, gpa, txLog, curOff + HEADER_BYTES + curLen, MAX_PAYLOAD - curLen);
    if (n > 0) {
      curLen += n;
      records++;
      return OutResult.Ok;
    }
    if (curLen === 0) break; // an empty frame always holds a raw page
    if (outFlush() !== OutResult.Ok) return OutResult.Failed;
  }
  txAbort(MigError.BadArgument);
  return OutResult.Failed;
};

/** VcpuState (type 3) or DeviceState (type 4): id, part, the opaque bytes src[off, + len). */
export const outState = (type: number, id: number, part: number, src: Uint8Array, off: number, len: number) => {
  if (txError() !== MigError.None) return OutResult.Failed;
  if (!started || completed || (type !== FrameType.VcpuState && type !== FrameType.DeviceState)) return OutResult.BadArgument;
  if (outFlush() !== OutResult.Ok) return OutResult.Failed;
  const at = txBegin();
  if (at < 0) return result() === OutResult.Failed ? OutResult.Failed : OutResult.Busy;
  const n = encodeState(txLog, at, MAX_FRAME_BYTES, type, txSeq(), id, part, src, off, len);
  if (n === 0) return OutResult.BadArgument;
  txCommit(n);
  return result();
};

/** Complete: the record count and the hash of pages [0, n) of side 0 as they are now. */
export const outComplete = () => {
  if (txError() !== MigError.None) return OutResult.Failed;
  if (!started || completed) return OutResult.BadArgument;
  if (outFlush() !== OutResult.Ok) return OutResult.Failed;
  const at = txBegin();
  if (at < 0) return result() === OutResult.Failed ? OutResult.Failed : OutResult.Busy;
  if (!storeHash(0, pageCount)) {
    txAbort(MigError.NotAttached);
    return OutResult.Failed;
  }
  const n = encodeComplete(txLog, at, MAX_FRAME_BYTES, txSeq(), records, memHashHi(), memHashLo());
  if (n === 0) return OutResult.BadArgument;
  completed = true;
  txCommit(n);
  return result();
};

/** Gives up: Abort(reason) to the peer. */
export const outAbort = (reason: number) => txAbort(reason);

/** Takes the peer's answers and resends what is due, at time `now`. */
export const outPoll = (now: number) => {
  if (txPoll(now) !== MigError.None) return OutStatus.Failed;
  return completed && txOutstanding() === 0 ? OutStatus.Done : OutStatus.Running;
};

export const outError = () => txError();
export const outPeerReason = () => txPeerReason();
/** Page records sent so far. */
export const outRecords = () => records;
