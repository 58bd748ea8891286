// The console's commands: names as typed, and the message keys that describe them.
import type { MsgKey } from '../i18n/dictionary';
import type { Span } from '../lib/format';
import { spanIs } from './tokens';

export const enum Command {
  Help = 0,
  Version = 1,
  Lang = 2,
  Mem = 3,
  Clear = 4,
  Exit = 5,
  Caps = 6,
  Acpi = 7,
  Cpus = 8,
  Pci = 9,
  Time = 10,
  Log = 11,
  Audit = 12,
  Metrics = 13,
  Trace = 14,
  Wdog = 15,
  Vm = 16,
  Sleep = 17,
  Console = 18,
  Net = 19,
  Migrate = 20,
}

/** Command names, indexed by Command. */
export const COMMAND_NAMES = ['help', 'version', 'lang', 'mem', 'clear', 'exit', 'caps', 'acpi', 'cpus', 'pci', 'time', 'log', 'audit', 'metrics', 'trace', 'wdog', 'vm', 'sleep', 'console', 'net', 'migrate'];

export const COMMAND_USAGE: MsgKey[] = [
  'cmd.help.usage',
  'cmd.version.usage',
  'cmd.lang.usage',
  'cmd.mem.usage',
  'cmd.clear.usage',
  'cmd.exit.usage',
  'cmd.caps.usage',
  'cmd.acpi.usage',
  'cmd.cpus.usage',
  'cmd.pci.usage',
  'cmd.time.usage',
  'cmd.log.usage',
  'cmd.audit.usage',
  'cmd.metrics.usage',
  'cmd.trace.usage',
  'cmd.wdog.usage',
  'cmd.vm.usage',
  'cmd.sleep.usage',
  'cmd.console.usage',
  'cmd.net.usage',
  'cmd.migrate.usage',
];

export const COMMAND_DESCRIPTION: MsgKey[] = [
  'cmd.help.desc',
  'cmd.version.desc',
  'cmd.lang.desc',
  'cmd.mem.desc',
  'cmd.clear.desc',
  'cmd.exit.desc',
  'cmd.caps.desc',
  'cmd.acpi.desc',
  'cmd.cpus.desc',
  'cmd.pci.desc',
  'cmd.time.desc',
  'cmd.log.desc',
  'cmd.audit.desc',
  'cmd.metrics.desc',
  'cmd.trace.desc',
  'cmd.wdog.desc',
  'cmd.vm.desc',
  'cmd.sleep.desc',
  'cmd.console.desc',
  'cmd.net.desc',
  'cmd.migrate.desc',
];

export const COMMAND_DETAILS: MsgKey[] = [
  'cmd.help.details',
  'cmd.version.details',
  'cmd.lang.details',
  'cmd.mem.details',
  'cmd.clear.details',
  'cmd.exit.details',
  'cmd.caps.details',
  'cmd.acpi.details',
  'cmd.cpus.details',
  'cmd.pci.details',
  'cmd.time.details',
  'cmd.log.details',
  'cmd.audit.details',
  'cmd.metrics.details',
  'cmd.trace.details',
  'cmd.wdog.details',
  'cmd.vm.details',
  'cmd.sleep.details',
  'cmd.console.details',
  'cmd.net.details',
  'cmd.migrate.details',
];

/** The command a word names, or -1. */
export const findCommand = (word: Span) => {
  for (let i = 0; i < COMMAND_NAMES.length; i++) if (spanIs(word, COMMAND_NAMES[i])) return i;
  return -1;
};
