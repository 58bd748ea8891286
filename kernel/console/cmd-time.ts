// `time`: the TSC frequency and where it came from, the boot measurement, uptime.
import { text } from '../i18n/messages';
import { caps, detectCapabilities } from '../cpu/capabilities';
import { ticksSinceBoot, tscHz } from '../lib/clock';
import { tscMeasuredAgainst, tscMeasuredHz, tscSource, tscSourceKey } from '../platform/time';
import { unexpectedArgument } from './args';
import { Command } from './command-table';
import { say } from './output';
import { Status } from './status';
import { tokenCount } from './tokens';

export const cmdTime = () => {
  if (tokenCount() > 1) return unexpectedArgument(Command.Time, 1);
  detectCapabilities();
  const hz = tscHz();
  if (hz > 0) say('time.frequency', hz / 1e6, text(tscSourceKey(tscSource())));
  else say('time.unknown');
  if (tscMeasuredHz() > 0 && tscMeasuredAgainst() !== tscSource()) {
    say('time.measured', text(tscSourceKey(tscMeasuredAgainst())), tscMeasuredHz() / 1e6);
  }
  say('time.invariant', text(caps.invariantTsc ? 'caps.yes' : 'caps.no'));
  const ticks = ticksSinceBoot();
  if (hz > 0) say('time.uptime', ticks / hz, ticks);
  else say('time.uptimeTicks', ticks);
  return Status.Ok;
};
