// `migrate ...`: live migration from the console (kernel/services/migration/live.ts); the
// progress lines and summaries are migration-report.ts's.
import { Span } from '../lib/format';
import { decimalArgument, missingArgument, unexpectedArgument } from './args';
import { Command } from './command-table';
import { say, sayError, sayErrorInline } from './output';
import { Status } from './status';
import { spanIs, token, tokenCount } from './tokens';
import { ticksSinceBoot, tscHz } from '../lib/clock';
import { waitTurn } from './wait';
import { reportMigration, reportReceiveBegun, reportSendBegun, reportSendRefused, sayFailure, saySnpReason } from './migration-report';
import { findVm, vmName } from '../vm/vm-table';
import { MigError } from '../services/migration/migration-error';
import { SinkKind } from '../services/migration/sink';
import { snpUsable } from '../../drivers/snp/snp';
import { NetState, netState } from '../../drivers/virtio-net/virtio-net';
import { LivePhase, migrationAbort, receivePhase, receiveStart, sendPhase, sendRoundsRun, sendStart, sendTotalPages, sendVm } from '../services/migration/live';
import { DirtyLog, dirtyBitsAvailable } from '../vm/dirty-log';

const MAX_WAIT_S = 3600;
const DEFAULT_DOWNTIME_MS = 50;
const VIA_NAMES = ['buffer', 'net0', 'snp', 'null'];
const VIA_KINDS = [SinkKind.Buffer, SinkKind.VirtioNet, SinkKind.Snp, SinkKind.Null];

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

/** For --via snp: whether the firmware's interface is up with a link; else says why not. */
const snpReady = () => {
  if (netState() === NetState.Ready) {
    sayError('snp.unusable.net0');
    return false;
  }
  if (snpUsable()) return true;
  sayErrorInline('snp.unusable');
  saySnpReason();
  return false;
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
  const e = sendStart(slot, kind, rle, downtime, vmName(slot), log);
  if (e !== MigError.None) {
    sayFailure(true, e, slot, kind); // refused before it began: not the last VM sent
    reportSendRefused();
    return Status.Failed;
  }
  reportSendBegun(kind);
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
  const e = receiveStart(kind, renamed ? incomingName : null);
  if (e !== MigError.None) {
    sayFailure(false, e, -1, kind);
    return Status.Failed;
  }
  reportReceiveBegun(kind);
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
    waitTurn();
  }
  reportMigration();
  return sendPhase() === LivePhase.Failed || receivePhase() === LivePhase.Failed ? Status.Failed : Status.Ok;
};

const migrateStatus = () => {
  const out = sendPhase();
  const inn = receivePhase();
  if (!active(out) && !active(inn)) say('migration.status.idle');
  if (active(out)) say('migration.status.send', sendVm() + 1, vmName(sendVm()), sendRoundsRun(), sendTotalPages());
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
