// Live migration of a running VM (design: pre-copy), both ends, driven a step at a time
// from the console's idle loop (migrationStep) so that guests and the console keep going.
// Source: a dirty log on (kernel/memory/dirty-log.ts: D bits or write-protection), round 1 sends every
// page while the guest runs, each later round the pages written during the one before,
// until sending them would fit the downtime target (or MAX_ROUNDS); then the VM pauses,
// the last dirty pages, the vCPU and COM1 state and Complete go, and when the peer has
// acknowledged everything the VM stops as Migrated. Any failure resumes it where it was.
// Destination: Start makes a VM of that size, pages land in its RAM, the state is loaded,
// Complete's memory hash is checked, and the VM runs; a failure (or IDLE_MS without a frame once
// Start came: the link died) destroys the half-built VM.
import { Span } from '../../lib/format';
import { audit, AuditEvent } from '../../diag/audit';
import { Category, Level, logQuiet } from '../../diag/log';
import { REPLACEMENT_CHAR, Utf8Decoder, putUtf8 } from '../../i18n/utf8';
import { DirtyLog, dirtyLogFaults, dirtyLogStart, dirtyLogStop, dirtyLogTake } from '../../vm/dirty-log';
import { ticksSinceBoot, tscHz } from '../../lib/clock';
import { VCPU_STATE_BYTES, loadVcpuState, saveVcpuState } from '../../vcpu/vcpu';
import { deviceById, deviceCount, deviceId, deviceStateBytes } from '../../vm/devices/bus';
import { loadDevice, saveDevice } from '../../vm/devices/board';
import { vcpuOf } from '../../vm/vcpu-table';
import { loadVcpuMsrs, saveVcpuMsrs, VCPU_MSRS_BYTES, VCPU_MSRS_PART } from '../../vm/vcpu-msrs';
import { changeState, createError, CreateError, createIncomingVm, destroyVm, stopVm } from '../../vm/lifecycle';
import { guestOutputFinal } from '../../vm/vm-events';
import { setVmSlice } from '../scheduler';
import { StopReason, VmState, findVm, vmMemMiB, vmName, vmNptRoot, vmState } from '../../vm/vm-table';
import { FrameType, NAME_MAX_BYTES } from './frame';
import {
  InStatus, inError, inInit, inMemMiB, inNameByte, inNameLength, inPageCount, inPoll, inSetIdleLimit, inStateId,
  inStateLength, inStateOffset, inStatePart, inStateType,
} from './incoming';
import { MigError } from './migration-error';
import { OutResult, OutStatus, outAbort, outComplete, outError, outInit, outPage, outPoll, outStart, outState } from './outgoing';
import { PAGE_BYTES, PageEncoding, codecSetRle, encodedCount } from './page-codec';
import { storeAttachVm, storeDetach } from './page-store';
import { rxBuf, rxFail } from './receiver';
import { txBytesSent, txFramesResent } from './sender';
import { countReceived, countSent } from './migration-metrics';
import { trace, TracePoint } from '../../diag/trace';
import { SinkKind, bufferInit } from './sink';

export const enum LivePhase {
  Idle = 0,
  Copy = 1, // rounds while the guest runs
  Final = 2, // the guest is paused: last pages and state
  Wait = 3, // everything sent: until the peer acknowledges Complete
  Done = 4,
  Failed = 5,
}

export const MAX_ROUNDS = 30;
const PAGES_PER_CALL = 256; // then the peer's answers are polled again
// Auto-converge: when a round's guest wrote more than half of what the round sent, the guest
// gets less of the processor, a level at a time: its slice (ms) and the migration's time per
// step (ms) that follows it; the guest's share is slice / (slice + step).
const THROTTLE_SLICE_MS = [10, 10, 10, 10, 10, 5, 2, 1];
const THROTTLE_STEP_MS = [5, 10, 20, 40, 90, 95, 98, 99];
const THROTTLE_MAX = 7;
const RECEIVE_PER_STEP = 256;
const MAX_PAGES = 4096 * 256;
const RTO_MS = 200;
const MAX_RESENDS = 20;
const NAK_MS = 50;
const ERROR_LIMIT = 64;
const IDLE_MS = 10000; // the destination gives up after this long without a frame (once Start came)
// After Complete the destination still answers resends (its Ack may have been lost) this long,
// so a source whose last Ack was dropped does not fail and run on beside the arrived VM.
const LINGER_MS = IDLE_MS;
const NO_LIMIT = 1e300; // a listener waits for Start as long as the operator lets it

const DEVICE_STATE_MAX = 256; // bytes of one device's saved state at most
const stage = new Uint8Array(VCPU_STATE_BYTES + VCPU_MSRS_BYTES + DEVICE_STATE_MAX);
const nameUtf8 = new Uint8Array(128);
const dirty = new Uint8Array(MAX_PAGES / 8);

const msToTicks = (ms: number) => ((tscHz() > 0 ? tscHz() : 1e9) * ms) / 1000;
const ticksToMs = (ticks: number) => (ticks * 1000) / (tscHz() > 0 ? tscHz() : 1e9);

// ---- source ----

let outPhase = LivePhase.Idle;
let outSlot = -1;
let outPages = 0;
let round = 0;
let cursor = 0; // next page of this round to look at
let roundPages = 0; // pages sent this round
let roundBegan = 0;
let roundBusy = 0; // ticks spent in migration steps this round
let roundBytes0 = 0; // bytes on the wire when it began
let throttle = 0; // auto-converge level
let throttleReported = 0;
let began = 0;
let pausedAt = 0;
let paused = false;
let maxDowntimeTicks = 0;
let targetMs = 0; // --max-downtime
let estimateMs = 0; // the pause the last round's figures foretold
let capped = false; // paused at MAX_ROUNDS with the target still out of reach
let lastDirty = 0;
let totalPages = 0;
let sentState = 0; // Final: 0 pages, 1 vCPU state sent, 2 its MSRs sent, 2 + d device d sent, then Complete
let outFailure = 0; // MigError
let roundsReported = 0;
let doneAt = 0;
let roundRate = 0; // pages/s of the last finished round
let roundDirty = 0;
let usedLog = DirtyLog.Ad;

/** Progress and summary figures of the source side (for the console). */
export const sendPhase = () => outPhase;
export const sendVm = () => outSlot;
export const sendRound = () => round;
export const sendRoundPages = () => roundPages;
export const sendTotalPages = () => totalPages;
export const sendLastDirty = () => lastDirty;
export const sendBytes = () => txBytesSent();
export const sendError = () => outFailure;
export const sendElapsedMs = () => ticksToMs(ticksSinceBoot() - began);
/** The guest's pause: until the peer confirmed everything (so far, while it lasts). */
export const sendDowntimeMs = () => (outPhase === LivePhase.Done ? ticksToMs(doneAt - pausedAt) : paused ? ticksToMs(ticksSinceBoot() - pausedAt) : 0);
export const sendZeroPages = () => encodedCount(PageEncoding.Zero);
export const sendDuplicatePages = () => encodedCount(PageEncoding.Duplicate);
export const sendRlePages = () => encodedCount(PageEncoding.Rle);
/** Rounds the guest ran through (the copy while paused not counted): at most MAX_ROUNDS. */
export const sendRoundsRun = () => (outPhase === LivePhase.Copy ? round : round - 1);
/** Whether the pause came from MAX_ROUNDS, not from the target: then the estimate it missed, and the target (ms). */
export const sendRoundCapped = () => capped;
export const sendEstimateMs = () => estimateMs;
export const sendTargetMs = () => targetMs;
/** Rounds finished since the console last asked (for progress lines); then the round's figures. */
export const sendRoundsToReport = () => round - 1 - roundsReported;
export const sendMarkReported = () => {
  roundsReported = round - 1;
};
export const sendRoundRate = () => roundRate;
/** The auto-converge level (0: not throttled) and the guest's share of the processor it gives (percent). */
export const sendThrottle = () => throttle;
export const sendGuestShare = () => Math.round((100 * THROTTLE_SLICE_MS[throttle]) / (THROTTLE_SLICE_MS[throttle] + THROTTLE_STEP_MS[throttle]));
/** Whether the throttle changed since the console last asked. */
export const sendThrottleToReport = () => throttle !== throttleReported;
export const sendMarkThrottleReported = () => {
  throttleReported = throttle;
};
/** How dirty pages were tracked (DirtyLog), and the write faults it took (Wp). */
export const sendDirtyLog = () => usedLog;
export const sendWriteFaults = () => dirtyLogFaults();
export const sendRoundDirty = () => roundDirty;

const bit = (page: number) => (dirty[page >>> 3] & (1 << (page & 7))) !== 0;

const failSend = (reason: number) => {
  outFailure = reason;
  outAbort(reason);
  dirtyLogStop(); // a write-protected VM gets its write access back before it runs on
  setVmSlice(outSlot, 0);
  if (paused && vmState[outSlot] === VmState.Paused) changeState(outSlot, VmState.Running); // the VM carries on here
  paused = false;
  outPhase = LivePhase.Failed;
  storeDetach(0);
  countSent(false, totalPages, txBytesSent(), txFramesResent(), 0, 0);
  logQuiet(Level.Warn, Category.Vm, 'migration.log.sendFailed', vmName(outSlot), reason);
};

/** The pages written since the last call (into `dirty`, kernel/memory/dirty-log.ts); how many, or < 0. */
const takeDirty = () => dirtyLogTake(dirty);

/**
 * Starts sending VM `slot` (Running) over `kind` (a SinkKind; end 0 of the Buffer pair).
 * Returns a MigError (None when it started).
 */
export const sendStart = (slot: number, kind: number, rle: boolean, maxDowntimeMs: number, name: Span, logMode: number) => {
  if (outPhase === LivePhase.Copy || outPhase === LivePhase.Final || outPhase === LivePhase.Wait) return MigError.Busy;
  if (vmState[slot] !== VmState.Running) return MigError.NotRunning;
  outSlot = slot;
  outPages = vmMemMiB[slot] * 256;
  if (!dirtyLogStart(slot, vmNptRoot[slot], outPages, logMode)) return MigError.NoMemory;
  usedLog = logMode;
  if (kind === SinkKind.Buffer && inPhase !== LivePhase.Copy) bufferInit(); // a fresh loopback unless a listener waits on it
  began = ticksSinceBoot();
  doneAt = 0;
  pausedAt = began;
  paused = false;
  maxDowntimeTicks = msToTicks(maxDowntimeMs);
  targetMs = maxDowntimeMs;
  estimateMs = 0;
  capped = false;
  round = 1;
  roundsReported = 0;
  cursor = 0;
  roundPages = 0;
  roundBegan = began;
  roundBusy = 0;
  roundBytes0 = 0;
  throttle = 0;
  throttleReported = 0;
  totalPages = 0;
  lastDirty = outPages;
  roundRate = 0;
  roundDirty = 0;
  sentState = 0;
  outFailure = 0;
  codecSetRle(rle);
  storeAttachVm(0, slot, outPages);
  outInit(kind, 0, outPages, msToTicks(RTO_MS), MAX_RESENDS, began);
  if (takeDirty() < 0) {
    dirtyLogStop();
    return MigError.NoMemory; // tracking starts before round 1 reads anything
  }
  // the name as UTF-8, whole characters only, within Start's NAME_MAX_BYTES
  let n = 0;
  for (let i = 0; i < name.len; i++) {
    const m = putUtf8(nameUtf8, n, name.buf[name.start + i]);
    if (m > NAME_MAX_BYTES) break;
    n = m;
  }
  if (outStart(nameUtf8, 0, n, vmMemMiB[slot], 1, 0) !== OutResult.Ok) {
    outFailure = outError() !== MigError.None ? outError() : MigError.SinkFailed;
    dirtyLogStop();
    outPhase = LivePhase.Failed;
    return outFailure;
  }
  outPhase = LivePhase.Copy;
  audit(AuditEvent.MigrationOut, slot + 1, kind, 'migration.audit.sendStart', vmName(slot), vmMemMiB[slot]);
  return MigError.None;
};

/** Sends pages of this round from `cursor` until the window is full or PAGES_PER_CALL went; true when the round is through. */
const sendSome = () => {
  let sent = 0;
  while (cursor < outPages && sent < PAGES_PER_CALL) {
    if (round > 1 || outPhase === LivePhase.Final) {
      // later rounds and the final copy: only dirty pages (skip clean bytes fast)
      if (dirty[cursor >>> 3] === 0) {
        cursor = (cursor | 7) + 1;
        continue;
      }
      if (!bit(cursor)) {
        cursor++;
        continue;
      }
    }
    const r = outPage(cursor);
    if (r === OutResult.Busy) return false;
    if (r !== OutResult.Ok) {
      failSend(outError() !== MigError.None ? outError() : MigError.BadArgument);
      return false;
    }
    cursor++;
    sent++;
    roundPages++;
    totalPages++;
  }
  return cursor >= outPages;
};

/** The end of a Copy round: dirty pages so far; the next round, or the pause and the final copy. */
const endRound = (now: number) => {
  const d = takeDirty();
  if (d < 0) {
    failSend(MigError.NoMemory);
    return;
  }
  const seconds = ticksToMs(now - roundBegan) / 1000;
  roundRate = seconds > 0 ? roundPages / seconds : roundPages;
  roundDirty = d;
  lastDirty = d;
  // the pause sends at the rate the migration's own time went at (no guest slices then), in
  // pages and in bytes (zero and duplicate pages go faster than written ones: the slower)
  const busy = ticksToMs(roundBusy) / 1000;
  const rate = busy > 0 ? roundPages / busy : roundRate;
  const byteRate = busy > 0 ? (txBytesSent() - roundBytes0) / busy : 0;
  const byPages = rate > 0 ? (d / rate) * 1000 : 0;
  const byBytes = byteRate > 0 ? ((d * PAGE_BYTES) / byteRate) * 1000 : 0;
  const downtime = byBytes > byPages ? byBytes : byPages;
  estimateMs = downtime;
  trace(TracePoint.MigrationRound, outSlot + 1, round, roundPages, d);
  if (round > 1 && d * 2 > roundPages && throttle < THROTTLE_MAX) {
    throttle++; // the guest outruns the link: auto-converge
    setVmSlice(outSlot, THROTTLE_SLICE_MS[throttle]);
  }
  round++;
  cursor = 0;
  roundPages = 0;
  roundBegan = now;
  roundBusy = 0;
  roundBytes0 = txBytesSent();
  const fits = d === 0 || msToTicks(downtime) <= maxDowntimeTicks;
  if (fits || round > MAX_ROUNDS) {
    capped = !fits;
    // stop the guest here: what it wrote since the last scan is all that is left (the scan
    // and the pause happen with no guest instruction in between)
    guestOutputFinal(outSlot);
    changeState(outSlot, VmState.Paused);
    trace(TracePoint.MigrationRound, outSlot + 1, 0, 0, d);
    paused = true;
    pausedAt = now;
    outPhase = LivePhase.Final;
  }
};

const sendFinal = () => {
  if (sentState === 0) {
    if (!sendSome()) return;
    if (!saveVcpuState(vcpuOf(outSlot, 0), stage, 0)) {
      failSend(MigError.BadState);
      return;
    }
    const r = outState(FrameType.VcpuState, 0, 0, stage, 0, VCPU_STATE_BYTES);
    if (r === OutResult.Busy) return;
    if (r !== OutResult.Ok) return failSend(outError() !== MigError.None ? outError() : MigError.BadState);
    sentState = 1;
  }
  if (sentState === 1) {
    // the MSRs the dispatch emulates (MTRR_DEF_TYPE): the vCPU's own part 1
    saveVcpuMsrs(vcpuOf(outSlot, 0), stage, VCPU_STATE_BYTES);
    const r = outState(FrameType.VcpuState, 0, VCPU_MSRS_PART, stage, VCPU_STATE_BYTES, VCPU_MSRS_BYTES);
    if (r === OutResult.Busy) return;
    if (r !== OutResult.Ok) return failSend(outError() !== MigError.None ? outError() : MigError.BadState);
    sentState = 2;
  }
  // then each device on the VM's bus that has state: sentState 2 + its index
  while (sentState >= 2 && sentState - 2 < deviceCount()) {
    const d = sentState - 2;
    const bytes = deviceStateBytes(d);
    if (bytes > 0) {
      if (bytes > DEVICE_STATE_MAX) return failSend(MigError.BadState);
      const at = VCPU_STATE_BYTES + VCPU_MSRS_BYTES;
      saveDevice(d, outSlot, stage, at);
      const r = outState(FrameType.DeviceState, deviceId(d), 0, stage, at, bytes);
      if (r === OutResult.Busy) return;
      if (r !== OutResult.Ok) return failSend(outError() !== MigError.None ? outError() : MigError.BadState);
    }
    sentState++;
  }
  if (sentState === 2 + deviceCount()) {
    const r = outComplete();
    if (r === OutResult.Busy) return;
    if (r !== OutResult.Ok) return failSend(outError() !== MigError.None ? outError() : MigError.BadArgument);
    sentState++;
    outPhase = LivePhase.Wait;
  }
};

const stepSend = (now: number) => {
  const status = outPoll(now);
  if (status === OutStatus.Failed) {
    failSend(outError());
    return;
  }
  if (outPhase === LivePhase.Copy) {
    if (vmState[outSlot] !== VmState.Running) {
      failSend(MigError.NotRunning); // stopped or paused by the operator or the guest meanwhile
      return;
    }
    if (sendSome()) endRound(now);
  } else if (outPhase === LivePhase.Final) sendFinal();
  else if (outPhase === LivePhase.Wait && status === OutStatus.Done) {
    doneAt = now;
    paused = false;
    outPhase = LivePhase.Done;
    dirtyLogStop();
    setVmSlice(outSlot, 0);
    storeDetach(0);
    trace(TracePoint.MigrationRound, outSlot + 1, -1, totalPages, 0);
    countSent(true, totalPages, txBytesSent(), txFramesResent(), ticksToMs(doneAt - pausedAt), round - 1);
    audit(AuditEvent.MigrationOut, outSlot + 1, 1, 'migration.audit.sent', vmName(outSlot), totalPages, Math.round(ticksToMs(doneAt - pausedAt)));
    stopVm(outSlot, StopReason.Migrated, 0);
  }
};

// ---- destination ----

let inPhase = LivePhase.Idle;
let inSlot = -1;
let inFailure = 0;
let inBegan = 0;
const inName = new Span(new Uint32Array(32));
const decoder = new Utf8Decoder();

export const receivePhase = () => inPhase;
export const receiveVm = () => inSlot;
export const receiveError = () => inFailure;
export const receiveElapsedMs = () => ticksToMs(ticksSinceBoot() - inBegan);

let rename: Span | null = null;

/** Listens for a migration on `kind` (end 1 of the Buffer pair); the VM is called `as` when given. A MigError. */
export const receiveStart = (kind: number, as: Span | null) => {
  if (inPhase === LivePhase.Copy || inPhase === LivePhase.Final) return MigError.Busy;
  if (kind === SinkKind.Buffer && !(outPhase === LivePhase.Copy || outPhase === LivePhase.Final || outPhase === LivePhase.Wait)) bufferInit();
  inBegan = ticksSinceBoot();
  inInit(kind, 1, msToTicks(NAK_MS), ERROR_LIMIT, NO_LIMIT, inBegan);
  inSlot = -1;
  inFailure = 0;
  rename = as;
  inPhase = LivePhase.Copy;
  lingerUntil = 0;
  return MigError.None;
};

/** Ends the destination side with `reason` (telling the sender when the reason is this side's): the half-built VM goes. */
const failReceive = (reason: number, tellPeer: boolean) => {
  if (tellPeer) rxFail(reason); // an Abort with the reason
  inFailure = reason;
  if (inSlot >= 0 && vmState[inSlot] === VmState.Created) destroyVm(inSlot);
  inSlot = -1;
  storeDetach(1);
  inPhase = LivePhase.Failed;
  countReceived(false);
  logQuiet(Level.Warn, Category.Vm, 'migration.log.receiveFailed', reason);
};

/** The VM's name: the listener's, else Start's (UTF-8, checked by incoming.ts) as code points. */
const takeName = () => {
  if (rename !== null) {
    for (let i = 0; i < rename.len; i++) inName.buf[i] = rename.buf[rename.start + i];
    inName.len = rename.len;
    return;
  }
  decoder.reset();
  let n = 0;
  for (let i = 0; i < inNameLength() && n < 32; i++) {
    const cp = decoder.feed(inNameByte(i));
    if (cp >= 0 && cp !== REPLACEMENT_CHAR) inName.buf[n++] = cp;
  }
  inName.len = n;
};

const stepReceive = (now: number) => {
  // everything that arrived (the sender puts up to a window's worth out per step)
  for (let k = 0; k < RECEIVE_PER_STEP; k++) {
    const s = inPoll(now);
    if (s === InStatus.Idle) return;
    if (s === InStatus.Failed) return failReceive(inError(), false); // incoming.ts has told the sender
    if (s === InStatus.Started) {
      inSetIdleLimit(msToTicks(IDLE_MS));
      takeName();
      if (findVm(inName) >= 0) return failReceive(MigError.NameTaken, true);
      const slot = createIncomingVm(inName, inMemMiB());
      if (slot < 0) return failReceive(createError === CreateError.NoSlot ? MigError.NoSlot : MigError.NoMemory, true);
      inSlot = slot;
      storeAttachVm(1, slot, inPageCount());
    } else if (s === InStatus.State) {
      const device = inStateType() === FrameType.DeviceState ? deviceById(inStateId()) : -1;
      const vcpu = inStateType() === FrameType.VcpuState ? vcpuOf(inSlot, inStateId()) : -1;
      const ok = inStateType() === FrameType.VcpuState
        ? vcpu >= 0 && (inStatePart() === VCPU_MSRS_PART
          ? loadVcpuMsrs(vcpu, rxBuf, inStateOffset(), inStateLength())
          : inStatePart() === 0 && loadVcpuState(vcpu, rxBuf, inStateOffset(), inStateLength()))
        : device >= 0 && loadDevice(device, inSlot, rxBuf, inStateOffset(), inStateLength());
      if (!ok) return failReceive(MigError.BadState, true);
    } else if (s === InStatus.Done) {
      storeDetach(1);
      inPhase = LivePhase.Done;
      lingerUntil = now + msToTicks(LINGER_MS);
      countReceived(true);
      audit(AuditEvent.MigrationIn, inSlot + 1, 0, 'migration.audit.received', vmName(inSlot), inPageCount());
      changeState(inSlot, VmState.Running);
      return;
    }
  }
};

const sending = () => outPhase === LivePhase.Copy || outPhase === LivePhase.Final || outPhase === LivePhase.Wait;

/**
 * One step of whatever migration is under way (called between console input polls): sending
 * and receiving for the throttle level's step time, or until a round ends (the guest's turn).
 */
let lingerUntil = 0;

const LINGER_POLLS = 8; // datagrams looked at per turn while lingering (resends come one RTO apart)

/** After Done: answers what the source resends (receiver.ts acknowledges duplicates again). */
const linger = (now: number) => {
  for (let k = 0; k < LINGER_POLLS; k++) if (inPoll(now) !== InStatus.Done) return;
};

export const migrationStep = () => {
  if (!sending() && inPhase !== LivePhase.Copy) {
    if (inPhase === LivePhase.Done && lingerUntil > 0) {
      const now = ticksSinceBoot();
      if (now < lingerUntil) linger(now);
      else lingerUntil = 0;
    }
    return false; // lingering is not work enough to keep the run loop from idling
  }
  const began = ticksSinceBoot();
  const budget = msToTicks(THROTTLE_STEP_MS[sending() ? throttle : 0]);
  let now = began;
  for (;;) {
    const r = round;
    const phase = outPhase;
    if (sending()) stepSend(now);
    if (inPhase === LivePhase.Copy) stepReceive(now);
    const after = ticksSinceBoot();
    if (round !== r || outPhase !== phase) break;
    if (outPhase === LivePhase.Copy) roundBusy += after - now;
    now = after;
    if (now - began >= budget || (!sending() && inPhase !== LivePhase.Copy)) break;
  }
  return true;
};

/** The operator gives up the migration(s) under way. */
export const migrationAbort = () => {
  if (outPhase === LivePhase.Copy || outPhase === LivePhase.Final || outPhase === LivePhase.Wait) failSend(MigError.LocalAbort);
  if (inPhase === LivePhase.Copy) failReceive(MigError.LocalAbort, true);
};
