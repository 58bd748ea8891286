// The receiving half of the migration transport. It delivers the data stream strictly in
// order and keeps nothing else:
//   - the next expected sequence (from 1): delivered (RxResult.Delivered; the getters
//     give its type, sequence and where its payload lies in rxBuf until the next rxPoll).
//     The caller applies it and then calls rxAck (a cumulative Ack for every frame) or
//     rxFail;
//   - an earlier sequence (a duplicate): dropped, and the cumulative Ack sent again;
//   - a later one (a gap: something was lost or reordered): dropped, Nak(expected);
//   - a corrupt frame (any FrameError), or an Ack or Nak (the sender sends neither):
//     dropped, counted, Nak(expected). More than `maxErrors` of these without a delivered
//     frame between them end the session (TooManyErrors);
//   - Abort: ends the session (PeerAborted; the reason is kept).
// Naks for the same expected sequence go out at most once per `nakInterval` ticks. When
// nothing has been delivered for `idleLimit` ticks the session ends (Timeout), so a stream
// of duplicates, gaps or garbage cannot hold it open. Ending the session sends Abort(reason)
// to the peer (best effort). Time is the caller's ticks.
import {
  FrameError, FrameType, HEADER_BYTES, MAX_FRAME_BYTES, abortReason, encodeAbort, encodeAck, encodeNak, frameDecode, framePayloadLength,
  framePayloadOffset, frameSeq, frameType, isDataType,
} from './frame';
import { MigError } from './migration-error';
import { SinkError, sinkPoll, sinkSend } from './sink';

export const enum RxResult {
  Nothing = 0, // no datagram waiting
  Delivered = 1,
  Duplicate = 2,
  Gap = 3,
  Corrupt = 4,
  Failed = 5, // the session has ended (rxError says why)
}

/** The last datagram taken; a delivered frame's payload lies here. */
export const rxBuf = new Uint8Array(MAX_FRAME_BYTES);
const ctlBuf = new Uint8Array(HEADER_BYTES + 8);
const nakList = new Uint32Array(1);

let sink = 0;
let end = 0;
let nakInterval = 4;
let maxErrors = 16;
let idleLimit = 1000;
let expected = 1;
let lastDelivery = 0;
let lastNakSeq = 0;
let lastNakAt = 0;
let errorsInRow = 0;
let finished = false;
let error = 0;
let peerReason = 0;
let delType = 0;
let delSeq = 0;
let delOff = 0;
let delLen = 0;
let lastFrameError = 0;
// counters
let delivered = 0;
let duplicates = 0;
let gaps = 0;
let corrupt = 0;
let acksOut = 0;
let naksOut = 0;

/** Starts a session on sink `kind`, end `sinkEnd`. */
export const rxInit = (kind: number, sinkEnd: number, nakTicks: number, errorLimit: number, idleTicks: number, nowTicks: number) => {
  sink = kind;
  end = sinkEnd;
  nakInterval = nakTicks >= 0 ? nakTicks : 0;
  maxErrors = errorLimit >= 0 ? errorLimit : 0;
  idleLimit = idleTicks >= 1 ? idleTicks : 1;
  expected = 1;
  lastDelivery = nowTicks;
  lastNakSeq = 0;
  lastNakAt = 0;
  errorsInRow = 0;
  finished = false;
  error = MigError.None;
  peerReason = 0;
  delType = 0;
  delSeq = 0;
  delOff = 0;
  delLen = 0;
  lastFrameError = 0;
  delivered = 0;
  duplicates = 0;
  gaps = 0;
  corrupt = 0;
  acksOut = 0;
  naksOut = 0;
};

const send = (len: number) => {
  if (len > 0 && sinkSend(sink, end, ctlBuf, 0, len) !== SinkError.None && error === MigError.None) error = MigError.SinkFailed;
};

/** Ends the session with `reason`; Abort(reason) to the peer unless it aborted. */
export const rxFail = (reason: number) => {
  if (error !== MigError.None) return;
  error = reason === MigError.None ? MigError.LocalAbort : reason;
  if (reason !== MigError.PeerAborted) send(encodeAbort(ctlBuf, 0, ctlBuf.length, error));
};

/** Sets the idle limit from now on (a listener allows no limit until Start, then a few seconds). */
export const rxSetIdleLimit = (idleTicks: number) => {
  idleLimit = idleTicks >= 1 ? idleTicks : 1;
};

/** Acknowledges everything delivered so far. */
export const rxAck = () => {
  if (error !== MigError.None) return;
  acksOut++;
  send(encodeAck(ctlBuf, 0, ctlBuf.length, expected - 1));
};

/** The stream is complete: keep re-acknowledging duplicates, deliver nothing more, never time out. */
export const rxFinish = () => {
  finished = true;
};

const nak = (now: number) => {
  if (lastNakSeq === expected && now - lastNakAt < nakInterval) return;
  lastNakSeq = expected;
  lastNakAt = now;
  nakList[0] = expected;
  naksOut++;
  send(encodeNak(ctlBuf, 0, ctlBuf.length, nakList, 1));
};

const idleCheck = (now: number) => {
  if (!finished && error === MigError.None && now - lastDelivery >= idleLimit) rxFail(MigError.Timeout);
};

const bad = (now: number) => {
  corrupt++;
  errorsInRow++;
  if (errorsInRow > maxErrors) {
    rxFail(MigError.TooManyErrors);
    return RxResult.Failed;
  }
  if (!finished) nak(now);
  idleCheck(now);
  return error !== MigError.None ? RxResult.Failed : RxResult.Corrupt;
};

/**
 * Judges one datagram, bytes[off, off + len), at time `now` (rxPoll gives it what the sink
 * has; a caller with its own transport may give it datagrams directly). On Delivered the
 * payload offset is into `bytes`.
 */
export const rxReceive = (bytes: Uint8Array, off: number, len: number, now: number) => {
  delType = 0;
  if (error !== MigError.None) return RxResult.Failed;
  const fe = frameDecode(bytes, off, len);
  if (fe !== FrameError.None) {
    lastFrameError = fe;
    return bad(now);
  }
  const type = frameType();
  if (type === FrameType.Abort) {
    peerReason = abortReason(bytes, framePayloadOffset());
    rxFail(MigError.PeerAborted);
    return RxResult.Failed;
  }
  if (!isDataType(type)) {
    lastFrameError = FrameError.BadType;
    return bad(now);
  }
  const seq = frameSeq();
  if (seq < expected) {
    duplicates++;
    rxAck();
    idleCheck(now);
    return error !== MigError.None ? RxResult.Failed : RxResult.Duplicate;
  }
  if (seq > expected || finished) {
    gaps++;
    if (!finished) nak(now);
    idleCheck(now);
    return error !== MigError.None ? RxResult.Failed : RxResult.Gap;
  }
  expected = seq + 1;
  lastDelivery = now;
  errorsInRow = 0;
  delivered++;
  delType = type;
  delSeq = seq;
  delOff = framePayloadOffset();
  delLen = framePayloadLength();
  return RxResult.Delivered;
};

/** Takes the next datagram from the sink into rxBuf, if any, and judges it (rxReceive) at time `now`. */
export const rxPoll = (now: number) => {
  delType = 0;
  if (error !== MigError.None) return RxResult.Failed;
  const n = sinkPoll(sink, end, rxBuf, 0, MAX_FRAME_BYTES);
  if (n === 0) {
    idleCheck(now);
    return error !== MigError.None ? RxResult.Failed : RxResult.Nothing;
  }
  if (n < 0) {
    if (n === -SinkError.TooLong) {
      lastFrameError = FrameError.BadLength;
      return bad(now);
    }
    rxFail(MigError.SinkFailed);
    return RxResult.Failed;
  }
  return rxReceive(rxBuf, 0, n, now);
};

/** The delivered frame (after RxResult.Delivered): type, sequence, payload offset (in rxBuf after rxPoll), payload length. */
export const rxType = () => delType;
export const rxSeq = () => delSeq;
export const rxPayloadOffset = () => delOff;
export const rxPayloadLength = () => delLen;
export const rxError = () => error;
export const rxPeerReason = () => peerReason;
/** The next sequence expected. */
export const rxExpected = () => expected;
/** The FrameError of the last corrupt frame. */
export const rxLastFrameError = () => lastFrameError;
export const rxDelivered = () => delivered;
export const rxDuplicates = () => duplicates;
export const rxGaps = () => gaps;
export const rxCorrupt = () => corrupt;
export const rxAcksOut = () => acksOut;
export const rxNaksOut = () => naksOut;
