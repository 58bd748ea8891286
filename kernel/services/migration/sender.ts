// The sending half of the migration transport: sequence numbers from 1, a transmit log of
// WINDOW frames (a preallocated ring, frame s in slot (s - 1) % WINDOW), cumulative Acks
// that release frames, Naks and timeouts that resend them (go-back-N: the receiver keeps
// only the next expected frame, so after a loss the frames behind it are resent too).
//   - txBegin gives the slot for the next frame while fewer than WINDOW are unacknowledged;
//     the caller writes a sealed frame with sequence txSeq() there and txCommit sends it.
//   - txPoll(now) takes what the peer sent: Ack(n) releases frames <= n; Nak(list) means
//     everything before its first sequence arrived (an implied Ack) and resends the listed
//     frames, then up to GO_BACK_MAX frames after the first; Abort ends the session
//     (PeerAborted). Then, if the oldest unacknowledged frame was sent `rto` ticks ago or
//     more, it is resent with up to GO_BACK_MAX after it.
//   - A frame is not resent within `rto / 4` ticks of its last sending; the Nak'd or timed-out
//     frame's resends are counted, and beyond `maxResends` the session ends (ResendLimit)
//     with a best-effort Abort to the peer.
// Time is the caller's: ticks passed to txPoll (no host calls here). Sequence numbers are
// not wrapped: 2^32 frames of 4 KiB are 16 TiB, more than any VM this runs.
import { encodeAbort, FrameError, FrameType, MAX_FRAME_BYTES, abortReason, ackSeq, frameDecode, framePayloadOffset, frameType, nakCount, nakSeq } from './frame';
import { MigError } from './migration-error';
import { SinkError, sinkPoll, sinkSend } from './sink';

export const WINDOW = 64;
/** Frames resent after a Nak'd or timed-out one, at most. */
export const GO_BACK_MAX = 16;
/** Datagrams txPoll takes per call, at most. */
const POLL_BATCH = 32;

/** The transmit log: WINDOW frames of MAX_FRAME_BYTES (264,192 bytes). */
export const txLog = new Uint8Array(WINDOW * MAX_FRAME_BYTES);
const frameLen = new Uint16Array(WINDOW);
const sentAt = new Float64Array(WINDOW);
const resends = new Uint16Array(WINDOW);
const inBuf = new Uint8Array(MAX_FRAME_BYTES);
const ctlBuf = new Uint8Array(64);

let sink = 0;
let end = 0;
let rto = 16;
let holdoff = 4;
let maxResends = 8;
let nextSeq = 1;
let acked = 0;
let now = 0;
let error = 0;
let peerReason = 0;
// counters
let framesSent = 0;
let bytesSent = 0;
let framesResent = 0;
let acksIn = 0;
let naksIn = 0;
let badIn = 0;

/** Starts a session on sink `kind`, end `sinkEnd`; rto in ticks (>= 1); maxResends per frame. */
export const txInit = (kind: number, sinkEnd: number, rtoTicks: number, resendLimit: number, nowTicks: number) => {
  sink = kind;
  end = sinkEnd;
  rto = rtoTicks >= 1 ? rtoTicks : 1;
  holdoff = Math.floor(rto / 4);
  maxResends = resendLimit >= 0 ? resendLimit : 0;
  nextSeq = 1;
  acked = 0;
  now = nowTicks;
  error = MigError.None;
  peerReason = 0;
  framesSent = 0;
  bytesSent = 0;
  framesResent = 0;
  acksIn = 0;
  naksIn = 0;
  badIn = 0;
};

const slotOf = (seq: number) => (seq - 1) % WINDOW;

/** Ends the session with `reason`, telling the peer (best effort) unless it told us. */
const fail = (reason: number) => {
  if (error !== MigError.None) return;
  error = reason;
  if (reason !== MigError.PeerAborted) {
    const n = encodeAbort(ctlBuf, 0, ctlBuf.length, reason);
    if (n > 0) sinkSend(sink, end, ctlBuf, 0, n);
  }
};

/** Gives up the session (the caller's decision): Abort(reason) to the peer. */
export const txAbort = (reason: number) => fail(reason === MigError.None ? MigError.LocalAbort : reason);

/** Offset in txLog of the slot for the next frame, or -1 (window full, or the session ended). */
export const txBegin = () => {
  if (error !== MigError.None || nextSeq - 1 - acked >= WINDOW) return -1;
  return slotOf(nextSeq) * MAX_FRAME_BYTES;
};

/** The sequence number the next frame must carry. */
export const txSeq = () => nextSeq;

const transmit = (seq: number) => {
  const slot = slotOf(seq);
  const e = sinkSend(sink, end, txLog, slot * MAX_FRAME_BYTES, frameLen[slot]);
  if (e !== SinkError.None) fail(MigError.SinkFailed);
  else bytesSent += frameLen[slot];
};

/** Sends the len-byte frame written at txBegin's slot and keeps it until acknowledged. */
export const txCommit = (len: number) => {
  if (error !== MigError.None) return error;
  if (len < 1 || len > MAX_FRAME_BYTES || nextSeq - 1 - acked >= WINDOW) return MigError.BadArgument;
  const seq = nextSeq;
  const slot = slotOf(seq);
  frameLen[slot] = len;
  sentAt[slot] = now;
  resends[slot] = 0;
  nextSeq = seq + 1;
  framesSent++;
  transmit(seq);
  return error;
};

/** Resends frame seq unless it went out within the hold-off; counted ones may end the session. */
const resend = (seq: number, counted: boolean) => {
  const slot = slotOf(seq);
  if (now - sentAt[slot] < holdoff) return; // probably still on its way
  if (counted) {
    const r = resends[slot] + 1;
    resends[slot] = r;
    if (r > maxResends) {
      fail(MigError.ResendLimit);
      return;
    }
  }
  sentAt[slot] = now;
  framesResent++;
  transmit(seq);
};

/** Resends `seq` (counted), then up to GO_BACK_MAX unacknowledged frames after it. */
const goBack = (seq: number) => {
  resend(seq, true);
  for (let s = seq + 1; s < nextSeq && s <= seq + GO_BACK_MAX && error === MigError.None; s++) resend(s, false);
};

const release = (upTo: number) => {
  if (upTo > acked && upTo < nextSeq) acked = upTo;
};

const takeFrame = (len: number) => {
  if (frameDecode(inBuf, 0, len) !== FrameError.None) {
    badIn++;
    return;
  }
  const p = framePayloadOffset();
  switch (frameType()) {
    case FrameType.Ack: {
      acksIn++;
      const a = ackSeq(inBuf, p);
      if (a >= nextSeq) badIn++; // acknowledges frames never sent
      else release(a);
      return;
    }
    case FrameType.Nak: {
      naksIn++;
      const count = nakCount(inBuf, p);
      const first = nakSeq(inBuf, p, 0);
      if (first < 1 || first > nextSeq) {
        badIn++; // asks for frames never sent
        return;
      }
      release(first - 1);
      for (let i = 0; i < count && error === MigError.None; i++) {
        const s = nakSeq(inBuf, p, i);
        if (s <= acked || s >= nextSeq) continue;
        if (i === 0 && s === acked + 1) goBack(s);
        else resend(s, true);
      }
      return;
    }
    case FrameType.Abort:
      peerReason = abortReason(inBuf, p);
      fail(MigError.PeerAborted);
      return;
  }
  badIn++; // data frames do not come this way
};

/**
 * Takes the peer's frames and resends what timed out, at time `nowTicks`. Returns the
 * session's MigError (None while it goes on).
 */
export const txPoll = (nowTicks: number) => {
  now = nowTicks;
  for (let i = 0; i < POLL_BATCH && error === MigError.None; i++) {
    const n = sinkPoll(sink, end, inBuf, 0, MAX_FRAME_BYTES);
    if (n === 0) break;
    if (n < 0) {
      if (n === -SinkError.TooLong) {
        badIn++;
        continue;
      }
      fail(MigError.SinkFailed);
      break;
    }
    takeFrame(n);
  }
  if (error === MigError.None && acked + 1 < nextSeq) {
    const oldest = acked + 1;
    if (now - sentAt[slotOf(oldest)] >= rto) goBack(oldest);
  }
  return error;
};

export const txError = () => error;
/** The reason the peer gave in its Abort. */
export const txPeerReason = () => peerReason;
/** Highest sequence the peer acknowledged. */
export const txAcked = () => acked;
/** Frames sent and not yet acknowledged. */
export const txOutstanding = () => nextSeq - 1 - acked;
export const txFramesSent = () => framesSent;
/** Bytes handed to the transport, resends included (bytes on the wire). */
export const txBytesSent = () => bytesSent;
export const txFramesResent = () => framesResent;
export const txAcksIn = () => acksIn;
export const txNaksIn = () => naksIn;
/** Frames from the peer that were corrupt or made no sense. */
export const txBadIn = () => badIn;
