// `migrate ...`: live migration from the console (kernel/migration/live.ts), and the
// progress lines and summaries it prints while the console waits for input.
import { Span } from './format';
import { decimalArgument, missingArgument, unexpectedArgument } from './args';
import { Command } from './command-table';
import { say, sayError, sayErrorInline, sayInline } from './output';
import { Status } from './status';
import { spanIs, token, tokenCount } from './tokens';
import { ticksSinceBoot, tscHz } from '../platform/time';
import { backgroundWork } from './background';
import { findVm, vmMemMiB, vmName } from '../vm/vm-table';
import { MigError, migErrorKey } from '../migration/migration-error';
import { SinkKind } from '../migration/sink';
import { SnpError, snpError, snpErrorArg, snpErrorKey, snpIndex, snpUsable } from '../../drivers/snp/snp';
import { NetState, netState } from '../../drivers/virtio-net/virtio-net';
import {
  LivePhase, migrationAbort, receiveError, receivePhase, receiveStart, receiveVm, sendBytes, sendDowntimeMs,
  sendDuplicatePages, sendElapsedMs, sendError, sendLastDirty, sendMarkReported, sendPhase, sendRlePages, sendRound,
  sendRoundDirty, sendRoundRate, sendRoundsToReport, sendStart, sendTotalPages, sendVm, sendZeroPages, sendDirtyLog, sendWriteFaults, sendThrottle, sendGuestShare, sendThrottleToReport, sendMarkThrottleReported,
} from '../migration/live';
import { DirtyLog, dirtyBitsAvailable } from '../memory/dirty-log';

const IDLE_STALL_US = 1000;
const MAX_WAIT_S = 3600;
const DEFAULT_DOWNTIME_MS = 50;
const VIA_NAMES = ['buffer', 'net0', 'snp', 'null'];
const VIA_KINDS = [SinkKind.Buffer, SinkKind.VirtioNet, SinkKind.Snp, SinkKind.Null];

let reportedOut = LivePhase.Idle;
let outKind = -1;
let inKind = -1;
let reportedIn = LivePhase.Idle;
let inAnnounced = -1;
const incomingName = new Span(new Uint32Array(32));

/** The transport named by word `index` (--via), or -1 after an error message. */
const viaArgument = (index: number) => {
  const w = token(index);
  for (let i = 0; i < VIA_NAMES.length; i++) if (spanIs(w, VIA_NAMES[i])) return VIA_KINDS[i];
  sayError('migration.badVia', w);
  return -1;
};

const viaName = (kind: number) => {
  for (let i = 0; i < VIA_KINDS.length; i++) if (VIA_KINDS[i] === kind) return VIA_NAMES[i];
  return '?';
};

/** The reason a session failed (`slot`: the VM that was, or was to be, sent); over snp a refused frame is said in the interface's words. */
const sayFailure = (head: boolean, reason: number, slot: number) => {
  if (head) sayInline('migration.sendFailed', slot + 1, vmName(slot));
  else sayInline('migration.receiveFailed');
  const kind = head ? outKind : inKind;
  if (reason === MigError.SinkFailed && kind === SinkKind.Snp && snpError() !== SnpError.None) sayReason();
  else say(migErrorKey(reason));
};

const sayReason = () => say(snpErrorKey(), snpIndex(), snpErrorArg(0), snpErrorArg(1));

/** For --via snp: whether the firmware's interface is up with a link; else says why not. */
const snpReady = () => {
  if (netState() === NetState.Ready) {
    sayError('snp.unusable.net0');
    return false;
  }
  if (snpUsable()) return true;
  sayErrorInline('snp.unusable');
  sayReason();
  return false;
};

/** Prints what happened since the last call: rounds, arrivals, summaries, failures. */
export const reportMigration = () => {
  for (let k = sendRoundsToReport(); k > 0; k--) {
    say('migration.round', sendRound() - k, Math.round(sendRoundRate()), sendBytes(), sendRoundDirty());
  }
  sendMarkReported();
  if (sendThrottleToReport()) {
    say('migration.throttle', sendGuestShare());
    sendMarkThrottleReported();
  }
  const out = sendPhase();
  if (out !== reportedOut) {
    reportedOut = out;
    if (out === LivePhase.Final) say('migration.pausing', sendVm() + 1, vmName(sendVm()), sendLastDirty());
    else if (out === LivePhase.Done) {
      const ms = sendElapsedMs();
      say('migration.summary1', sendVm() + 1, vmName(sendVm()), ms, sendDowntimeMs());
      say('migration.summary2', sendRound() - 1, sendTotalPages(), sendBytes(), ms > 0 ? sendBytes() / 1000 / ms : 0);
      say('migration.summary3', sendZeroPages(), sendDuplicatePages(), sendRlePages());
      if (sendThrottle() > 0) say('migration.summaryThrottle', sendGuestShare());
      if (sendDirtyLog() === DirtyLog.Wp) say('migration.summaryWp', sendWriteFaults());
      else say('migration.summaryAd');
    } else if (out === LivePhase.Failed) sayFailure(true, sendError(), sendVm());
  }
  const inn = receivePhase();
  if (receiveVm() >= 0 && receiveVm() !== inAnnounced && inn === LivePhase.Copy) {
    inAnnounced = receiveVm();
    say('migration.incoming', inAnnounced + 1, vmName(inAnnounced), vmMemMiB[inAnnounced]);
  }
  if (inn !== reportedIn) {
    reportedIn = inn;
    if (inn === LivePhase.Done) say('migration.arrived', receiveVm() + 1, vmName(receiveVm()));
    else if (inn === LivePhase.Failed) sayFailure(false, receiveError(), -1);
  }
};


const active = (phase: number) => phase === LivePhase.Copy || phase === LivePhase.Final || phase === LivePhase.Wait;

const migrateSend = () => {
  const n = tokenCount();
  if (n < 3) return missingArgument(Command.Migrate);
  const slot = findVm(token(2));
  if (slot < 0) {
    sayError('vm.notFound', token(2));
    return Status.Failed;
  }
  let kind: number = SinkKind.Buffer;
  let rle = false;
  let downtime = DEFAULT_DOWNTIME_MS;
  let log: number = dirtyBitsAvailable() ? DirtyLog.Ad : DirtyLog.Wp;
  for (let i = 3; i < n; i++) {
    const w = token(i);
    if (spanIs(w, '--rle')) rle = true;
    else if (spanIs(w, '--dirty-log') && i + 1 < n) {
      const v = token(++i);
      if (spanIs(v, 'wp')) log = DirtyLog.Wp;
      else if (spanIs(v, 'ad') && dirtyBitsAvailable()) log = DirtyLog.Ad;
      else {
        sayError(spanIs(v, 'ad') ? 'migration.noDirtyBits' : 'migration.badDirtyLog', v);
        return Status.Failed;
      }
    }
    else if (spanIs(w, '--via') && i + 1 < n) {
      kind = viaArgument(++i);
      if (kind < 0) return Status.Failed;
    } else if (spanIs(w, '--max-downtime') && i + 1 < n) {
      downtime = decimalArgument(++i, 60000);
      if (downtime < 1) {
        sayError('migration.badDowntime', token(i));
        return Status.Failed;
      }
    } else return unexpectedArgument(Command.Migrate, i);
  }
  if (kind === SinkKind.Snp && !snpReady()) return Status.Failed;
  outKind = kind;
  const e = sendStart(slot, kind, rle, downtime, vmName(slot), log);
  if (e !== MigError.None) {
    sayFailure(true, e, slot); // refused before it began: not the last VM sent
    reportedOut = sendPhase();
    return Status.Failed;
  }
  reportedOut = LivePhase.Copy;
  say('migration.sending', slot + 1, vmName(slot), viaName(kind), downtime);
  say(log === DirtyLog.Wp ? 'migration.dirtyLogWp' : 'migration.dirtyLogAd');
  return Status.Ok;
};

const migrateListen = () => {
  const n = tokenCount();
  let kind: number = SinkKind.Buffer;
  let renamed = false;
  for (let i = 2; i < n; i++) {
    const w = token(i);
    if (spanIs(w, '--via') && i + 1 < n) {
      kind = viaArgument(++i);
      if (kind < 0) return Status.Failed;
    } else if (spanIs(w, '--as') && i + 1 < n) {
      const name = token(++i);
      if (name.len < 1 || name.len > 32 || findVm(name) >= 0) {
        sayError('migration.badName', name);
        return Status.Failed;
      }
      for (let k = 0; k < name.len; k++) incomingName.buf[k] = name.buf[name.start + k];
      incomingName.len = name.len;
      renamed = true;
    } else return unexpectedArgument(Command.Migrate, i);
  }
  if (kind === SinkKind.Snp && !snpReady()) return Status.Failed;
  inKind = kind;
  const e = receiveStart(kind, renamed ? incomingName : null);
  if (e !== MigError.None) {
    sayFailure(false, e, -1);
    return Status.Failed;
  }
  reportedIn = LivePhase.Copy;
  inAnnounced = -1;
  say('migration.listening', viaName(kind));
  return Status.Ok;
};

/** Until no migration is under way (or `--timeout` seconds): Ok when every side that ran ended well. */
const migrateWait = () => {
  const n = tokenCount();
  let seconds = MAX_WAIT_S;
  if (n > 2) {
    if (!spanIs(token(2), '--timeout') || n !== 4) return unexpectedArgument(Command.Migrate, 2);
    seconds = decimalArgument(3, MAX_WAIT_S);
    if (seconds < 0) return unexpectedArgument(Command.Migrate, 3);
  }
  const hz = tscHz() > 0 ? tscHz() : 1e9;
  const until = ticksSinceBoot() + hz * seconds;
  while (active(sendPhase()) || active(receivePhase())) {
    if (ticksSinceBoot() >= until) {
      sayError('migration.waitTimeout', seconds);
      return Status.Failed;
    }
    if (!backgroundWork()) hv_efi_stall(IDLE_STALL_US);
  }
  reportMigration();
  return sendPhase() === LivePhase.Failed || receivePhase() === LivePhase.Failed ? Status.Failed : Status.Ok;
};

const migrateStatus = () => {
  const out = sendPhase();
  const inn = receivePhase();
  if (!active(out) && !active(inn)) say('migration.status.idle');
  if (active(out)) say('migration.status.send', sendVm() + 1, vmName(sendVm()), sendRound(), sendTotalPages());
  if (active(inn)) say('migration.status.receive');
  return Status.Ok;
};

export const cmdMigrate = () => {
  const n = tokenCount();
  if (n === 1) return migrateStatus();
  const sub = token(1);
  if (spanIs(sub, 'send')) return migrateSend();
  if (spanIs(sub, 'listen')) return migrateListen();
  if (spanIs(sub, 'wait')) return migrateWait();
  if (spanIs(sub, 'abort')) {
    if (n > 2) return unexpectedArgument(Command.Migrate, 2);
    migrationAbort();
    reportMigration();
    return Status.Ok;
  }
  return unexpectedArgument(Command.Migrate, 1);
};
