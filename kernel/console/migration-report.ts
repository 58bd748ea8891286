// What the console says of live migrations as they go: rounds, throttling, arrivals,
// summaries and failures, printed after each turn of the run loop while the console waits.
import { say, sayInline } from './output';
import { vmMemMiB, vmName } from '../vm/vm-table';
import { MigError, migErrorKey } from '../services/migration/migration-error';
import { SinkKind } from '../services/migration/sink';
import { SnpError, snpError, snpErrorArg, snpErrorKey, snpIndex } from '../../drivers/snp/snp';
import { DirtyLog } from '../vm/dirty-log';
import {
  LivePhase, receiveError, receivePhase, receiveVm, sendBytes, sendDowntimeMs, sendDuplicatePages, sendElapsedMs,
  sendError, sendLastDirty, sendMarkReported, sendPhase, sendRlePages, sendRound, sendRoundDirty, sendRoundRate,
  sendRoundsToReport, sendTotalPages, sendVm, sendZeroPages, sendDirtyLog, sendWriteFaults, sendThrottle, sendGuestShare,
  sendThrottleToReport, sendMarkThrottleReported, sendRoundCapped, sendEstimateMs, sendTargetMs, sendRoundsRun,
} from '../services/migration/live';

let reportedOut = LivePhase.Idle;
let outKind = -1;
let inKind = -1;
let reportedIn = LivePhase.Idle;
let inAnnounced = -1;

/** The firmware interface's own words for why it refused (migrate --via snp). */
export const saySnpReason = () => say(snpErrorKey(), snpIndex(), snpErrorArg(0), snpErrorArg(1));

/** The reason a session failed (`slot`: the VM that was, or was to be, sent); over snp a refused frame is said in the interface's words. */
export const sayFailure = (head: boolean, reason: number, slot: number, kind: number) => {
  if (head) sayInline('migration.sendFailed', slot + 1, vmName(slot));
  else sayInline('migration.receiveFailed');
  if (reason === MigError.SinkFailed && kind === SinkKind.Snp && snpError() !== SnpError.None) saySnpReason();
  else say(migErrorKey(reason));
};


/** A send over transport `kind` began (its progress is reported from now on). */
export const reportSendBegun = (kind: number) => {
  outKind = kind;
  reportedOut = LivePhase.Copy;
};

/** A send was refused before it began: its state is not news (the refusal was said). */
export const reportSendRefused = () => {
  reportedOut = sendPhase();
};

/** A listener over transport `kind` began. */
export const reportReceiveBegun = (kind: number) => {
  inKind = kind;
  reportedIn = LivePhase.Copy;
  inAnnounced = -1;
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
      say('migration.summary2', sendRoundsRun(), sendTotalPages(), sendBytes(), ms > 0 ? sendBytes() / 1000 / ms : 0);
      if (sendRoundCapped()) say('migration.roundCap', sendRoundsRun(), sendEstimateMs(), sendTargetMs());
      say('migration.summary3', sendZeroPages(), sendDuplicatePages(), sendRlePages());
      if (sendThrottle() > 0) say('migration.summaryThrottle', sendGuestShare());
      if (sendDirtyLog() === DirtyLog.Wp) say('migration.summaryWp', sendWriteFaults());
      else say('migration.summaryAd');
    } else if (out === LivePhase.Failed) sayFailure(true, sendError(), sendVm(), outKind);
  }
  const inn = receivePhase();
  if (receiveVm() >= 0 && receiveVm() !== inAnnounced && inn === LivePhase.Copy) {
    inAnnounced = receiveVm();
    say('migration.incoming', inAnnounced + 1, vmName(inAnnounced), vmMemMiB[inAnnounced]);
  }
  if (inn !== reportedIn) {
    reportedIn = inn;
    if (inn === LivePhase.Done) say('migration.arrived', receiveVm() + 1, vmName(receiveVm()));
    else if (inn === LivePhase.Failed) sayFailure(false, receiveError(), -1, inKind);
  }
};
