// `wdog [<seconds>|off]`: the firmware watchdog (kernel/platform/watchdog.ts).
import { setWatchdog, WATCHDOG_MAX_SECONDS, watchdogPets, watchdogSeconds } from '../platform/watchdog';
import { decimalArgument, unexpectedArgument } from './args';
import { Command } from './command-table';
import { say, sayError } from './output';
import { Status } from './status';
import { spanIs, token, tokenCount } from './tokens';

export const cmdWdog = () => {
  const n = tokenCount();
  if (n > 2) return unexpectedArgument(Command.Wdog, 2);
  if (n === 1) {
    if (watchdogSeconds() > 0) say('wdog.armed', watchdogSeconds(), watchdogPets());
    else say('wdog.off');
    return Status.Ok;
  }
  const off = spanIs(token(1), 'off');
  const seconds = off ? 0 : decimalArgument(1, WATCHDOG_MAX_SECONDS);
  if (seconds < 0 || (!off && seconds === 0)) {
    sayError('wdog.badSeconds', token(1), WATCHDOG_MAX_SECONDS);
    return Status.Failed;
  }
  const status = setWatchdog(seconds);
  if (status !== 0) {
    sayError('wdog.failed', status);
    return Status.Failed;
  }
  if (off) say('wdog.cleared');
  else say('wdog.set', seconds);
  return Status.Ok;
};
