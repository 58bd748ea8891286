// Why a migration session ended (both sides). The values travel as an Abort frame's reason
// (frame.ts), so they are part of the protocol: add new ones at the end, never renumber.
import type { MsgKey } from '../../i18n/dictionary';

export const enum MigError {
  None = 0,
  LocalAbort = 1, // this side's caller gave up (outAbort)
  PeerAborted = 2, // the other side sent Abort (its reason: outPeerReason / inPeerReason)
  ResendLimit = 3, // a frame went unacknowledged after the allowed resends
  TooManyErrors = 4, // too many corrupt or unexpected frames without one good frame between
  Timeout = 5, // nothing delivered for too long
  SinkFailed = 6, // the transport refused a frame (not attached, ...)
  BadOrder = 7, // Pages, state or Complete before Start
  DuplicateStart = 8, // a second Start
  BadStart = 9, // Start with a configuration out of range (name, memory, vCPUs, flags)
  TooLarge = 10, // more pages than the destination's memory holds
  BadPage = 11, // a malformed page record (the page error says which check)
  DupMismatch = 12, // a Duplicate whose source page does not hash as announced
  BadState = 13, // vCPU or device state for a vCPU or device the VM does not have
  CountMismatch = 14, // Complete's page count is not the number of page records applied
  Incomplete = 15, // Complete while some page was never sent
  HashMismatch = 16, // the memory hash differs from Complete's
  NotAttached = 17, // no memory attached for the pages
  BadArgument = 18, // a caller's argument out of range (sender side)
  Busy = 19, // a migration is already under way on this side
  NotRunning = 20, // the VM to send is not running (or stopped meanwhile)
  NoMemory = 21, // no memory for the VM or for dirty tracking
  NameTaken = 22, // a VM of that name exists here (listen --as another name)
  NoSlot = 23, // every VM slot is taken here
}

export const migErrorKey = (e: number): MsgKey => {
  switch (e) {
    case MigError.None:
      return 'migration.err.none';
    case MigError.LocalAbort:
      return 'migration.err.localAbort';
    case MigError.PeerAborted:
      return 'migration.err.peerAborted';
    case MigError.ResendLimit:
      return 'migration.err.resendLimit';
    case MigError.TooManyErrors:
      return 'migration.err.tooManyErrors';
    case MigError.Timeout:
      return 'migration.err.timeout';
    case MigError.SinkFailed:
      return 'migration.err.sinkFailed';
    case MigError.BadOrder:
      return 'migration.err.badOrder';
    case MigError.DuplicateStart:
      return 'migration.err.duplicateStart';
    case MigError.BadStart:
      return 'migration.err.badStart';
    case MigError.TooLarge:
      return 'migration.err.tooLarge';
    case MigError.BadPage:
      return 'migration.err.badPage';
    case MigError.DupMismatch:
      return 'migration.err.dupMismatch';
    case MigError.BadState:
      return 'migration.err.badState';
    case MigError.CountMismatch:
      return 'migration.err.countMismatch';
    case MigError.Incomplete:
      return 'migration.err.incomplete';
    case MigError.HashMismatch:
      return 'migration.err.hashMismatch';
    case MigError.NotAttached:
      return 'migration.err.notAttached';
    case MigError.BadArgument:
      return 'migration.err.badArgument';
    case MigError.Busy:
      return 'migration.err.busy';
    case MigError.NotRunning:
      return 'migration.err.notRunning';
    case MigError.NoMemory:
      return 'migration.err.noMemory';
    case MigError.NameTaken:
      return 'migration.err.nameTaken';
    case MigError.NoSlot:
      return 'migration.err.noSlot';
  }
  return 'migration.err.unknown';
};
