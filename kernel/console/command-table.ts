// The console's commands: names as typed, and the message keys that describe them.
import type { MsgKey } from '../i18n/dictionary';
import type { Span } from './format';
import { spanIs } from './tokens';

export const enum Command {
  Help = 0,
  Version = 1,
  Lang = 2,
  Mem = 3,
  Clear = 4,
  Exit = 5,
}

/** Command names, indexed by Command. */
export const COMMAND_NAMES = ['help', 'version', 'lang', 'mem', 'clear', 'exit'];

export const COMMAND_USAGE: MsgKey[] = [
  'cmd.help.usage',
  'cmd.version.usage',
  'cmd.lang.usage',
  'cmd.mem.usage',
  'cmd.clear.usage',
  'cmd.exit.usage',
];

export const COMMAND_DESCRIPTION: MsgKey[] = [
  'cmd.help.desc',
  'cmd.version.desc',
  'cmd.lang.desc',
  'cmd.mem.desc',
  'cmd.clear.desc',
  'cmd.exit.desc',
];

export const COMMAND_DETAILS: MsgKey[] = [
  'cmd.help.details',
  'cmd.version.details',
  'cmd.lang.details',
  'cmd.mem.details',
  'cmd.clear.details',
  'cmd.exit.details',
];

/** The command a word names, or -1. */
export const findCommand = (word: Span) => {
  for (let i = 0; i < COMMAND_NAMES.length; i++) if (spanIs(word, COMMAND_NAMES[i])) return i;
  return -1;
};
