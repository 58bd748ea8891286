// The diagnostics commands: `log [--level L] [--json]`, `audit [--json]`, `metrics`,
// `trace [on|off|dump|clear]`; and the per-command counter the dispatcher bumps.
// The rings and formats themselves are in kernel/diag/.
import { text } from '../i18n/messages';
import { Category, Level, levelName, logEntryCount, logMatching, logQuiet, logTotal, RING_SIZE, sayLogJson, sayLogTable } from '../diag/log';
import { audit, AUDIT_SIZE, auditCount, AuditEvent, auditSequence, AuditSetting, sayAuditJson, sayAuditTable } from '../diag/audit';
import { defineCounter, defineGauge, metricSeries, sayMetrics, seriesAdd, seriesSet } from '../diag/metrics';
import { publishTraceMetrics, sayTraceDump, setTracing, traceClear, traceCount, traceDropped, TRACE_SIZE, traceRecorded, tracing } from '../diag/trace';
import { publishVmMetrics } from '../vm/vm-metrics';
import { Command, COMMAND_NAMES, COMMAND_USAGE } from './command-table';
import { unexpectedArgument } from './args';
import { say, sayError, sayInline } from './output';
import { spanIs, token, tokenCount } from './tokens';
import type { Span } from '../lib/format';
import { Status } from './status';

const COMMANDS = defineCounter('zerovisor_console_commands_total', 'diag.metric.commands', 'command');
// Series are taken one after the other: command i's is firstCommandSeries + i.
const firstCommandSeries = metricSeries(COMMANDS, COMMAND_NAMES[0]);
for (let i = 1; i < COMMAND_NAMES.length; i++) metricSeries(COMMANDS, COMMAND_NAMES[i]);

/** Counts a run of command `index` (called by the dispatcher). */
export const countCommand = (index: number) => {
  if (firstCommandSeries >= 0 && index >= 0 && index < COMMAND_NAMES.length) seriesAdd(firstCommandSeries + index, 1);
};

const RING_ENTRIES = defineGauge('zerovisor_ring_entries', 'diag.metric.ringEntries', 'ring');
const logRingSeries = metricSeries(RING_ENTRIES, 'log');
const auditRingSeries = metricSeries(RING_ENTRIES, 'audit');
const traceRingSeries = metricSeries(RING_ENTRIES, 'trace');

/** Whether a word looks like an option ("-x", "--xyz"). */
const isOption = (word: Span) => word.len > 0 && word.buf[word.start] === 45;

/** Reports an option `command` does not have; returns Status.Failed. */
const unknownOption = (command: number, index: number) => {
  sayError('diag.unknownOption', COMMAND_NAMES[command], token(index), text(COMMAND_USAGE[command]));
  return Status.Failed;
};

/** Word `index` is neither an option nor an argument of `command`. */
const badWord = (command: number, index: number) => (isOption(token(index)) ? unknownOption(command, index) : unexpectedArgument(command, index));

/** The level a word names (debug, info, warn, error), or -1. */
const levelNamed = (word: Span) => {
  for (let i: number = Level.Debug; i <= Level.Error; i++) if (spanIs(word, levelName(i))) return i;
  return -1;
};

export const cmdLog = () => {
  const n = tokenCount();
  let minLevel: number = Level.Debug;
  let levelGiven = false;
  let json = false;
  // At most "--level L --json": any fourth word is a repeat or unknown and stops the loop.
  for (let i = 1; i < n; i++) {
    const word = token(i);
    if ((spanIs(word, '--json') && json) || (spanIs(word, '--level') && levelGiven)) {
      sayError('diag.repeatedOption', COMMAND_NAMES[Command.Log], word, text(COMMAND_USAGE[Command.Log]));
      return Status.Failed;
    }
    if (spanIs(word, '--json')) {
      json = true;
    } else if (spanIs(word, '--level')) {
      if (i + 1 >= n) {
        sayError('diag.log.levelMissing', text(COMMAND_USAGE[Command.Log]));
        return Status.Failed;
      }
      const level = levelNamed(token(i + 1));
      if (level < 0) {
        sayError('diag.log.badLevel', token(i + 1));
        return Status.Failed;
      }
      minLevel = level;
      levelGiven = true;
      i++;
    } else {
      return badWord(Command.Log, i);
    }
  }
  if (json) {
    sayLogJson(minLevel);
    return Status.Ok;
  }
  const shown = logMatching(minLevel);
  if (logEntryCount() === 0) {
    say('diag.log.empty');
    return Status.Ok;
  }
  if (shown === 0) {
    say('diag.log.noneAtLevel', levelName(minLevel), logEntryCount());
    return Status.Ok;
  }
  sayLogTable(minLevel);
  say('diag.log.summary', shown, logEntryCount());
  const gone = logTotal() - logEntryCount();
  if (gone > 0) say('diag.log.overwritten', gone, RING_SIZE);
  return Status.Ok;
};

export const cmdAudit = () => {
  const n = tokenCount();
  if (n > 2) return unexpectedArgument(Command.Audit, 2);
  if (n === 2) {
    if (!spanIs(token(1), '--json')) return badWord(Command.Audit, 1);
    sayAuditJson();
    return Status.Ok;
  }
  const count = auditCount();
  if (count === 0) {
    say('diag.audit.empty');
    return Status.Ok;
  }
  sayAuditTable();
  const last = auditSequence();
  say('diag.audit.summary', count, last - count + 1, last, AUDIT_SIZE);
  return Status.Ok;
};

export const cmdMetrics = () => {
  if (tokenCount() > 1) return badWord(Command.Metrics, 1);
  publishTraceMetrics();
  publishVmMetrics();
  seriesSet(logRingSeries, logEntryCount());
  seriesSet(auditRingSeries, auditCount());
  seriesSet(traceRingSeries, traceCount());
  sayMetrics();
  return Status.Ok;
};

const sayTraceCounts = () => say('diag.trace.counts', traceCount(), TRACE_SIZE, traceRecorded(), traceDropped());

export const cmdTrace = () => {
  const n = tokenCount();
  if (n > 2) return unexpectedArgument(Command.Trace, 2);
  if (n === 1) {
    if (tracing()) say('diag.trace.stateOn');
    else say('diag.trace.stateOff');
    sayTraceCounts();
    return Status.Ok;
  }
  const action = token(1);
  if (spanIs(action, 'on')) {
    if (!setTracing(true)) {
      say('diag.trace.alreadyOn');
      return Status.Ok;
    }
    audit(AuditEvent.ConfigChange, AuditSetting.Trace, 1, 'diag.audit.traceOn');
    logQuiet(Level.Info, Category.Diag, 'diag.trace.nowOn');
    say('diag.trace.nowOn');
    return Status.Ok;
  }
  if (spanIs(action, 'off')) {
    if (!setTracing(false)) {
      say('diag.trace.alreadyOff');
      return Status.Ok;
    }
    audit(AuditEvent.ConfigChange, AuditSetting.Trace, 0, 'diag.audit.traceOff', traceCount());
    logQuiet(Level.Info, Category.Diag, 'diag.trace.nowOff', traceCount());
    say('diag.trace.nowOff', traceCount());
    return Status.Ok;
  }
  if (spanIs(action, 'dump')) {
    if (traceCount() === 0) {
      if (tracing()) say('diag.trace.empty');
      else say('diag.trace.emptyOff');
      return Status.Ok;
    }
    sayInline('diag.trace.rowHead', text('diag.trace.col.number'), text('diag.col.tsc'), text('diag.trace.col.point'));
    say('diag.trace.col.args');
    sayTraceDump();
    sayTraceCounts();
    return Status.Ok;
  }
  if (spanIs(action, 'clear')) {
    const held = traceClear();
    audit(AuditEvent.ConfigChange, AuditSetting.Trace, 2, 'diag.audit.traceCleared', held);
    say('diag.trace.cleared', held);
    return Status.Ok;
  }
  if (isOption(action)) return unknownOption(Command.Trace, 1);
  sayError('diag.unknownAction', COMMAND_NAMES[Command.Trace], action, text(COMMAND_USAGE[Command.Trace]));
  return Status.Failed;
};
