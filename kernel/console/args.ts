// Argument helpers shared by the commands: unexpected words, numbers, options.
import { text } from '../i18n/messages';
import { COMMAND_NAMES, COMMAND_USAGE } from './command-table';
import { sayError } from './output';
import { token, tokenCount } from './tokens';
import { Status } from './status';

/** Reports word `index` as one too many for `command`; returns Status.Failed. */
export const unexpectedArgument = (command: number, index: number) => {
  sayError('console.unexpectedArg', COMMAND_NAMES[command], token(index), text(COMMAND_USAGE[command]));
  return Status.Failed;
};

/** Reports that `command` needs more words; returns Status.Failed. */
export const missingArgument = (command: number) => {
  sayError('console.missingArg', COMMAND_NAMES[command], text(COMMAND_USAGE[command]));
  return Status.Failed;
};

/** Word `index` as a decimal integer up to `max` (digits only), or -1. */
export const decimalArgument = (index: number, max: number) => {
  if (index >= tokenCount()) return -1;
  const word = token(index);
  if (word.len === 0) return -1;
  let value = 0;
  for (let i = 0; i < word.len; i++) {
    const digit = word.buf[word.start + i] - 48;
    if (digit < 0 || digit > 9) return -1;
    value = value * 10 + digit;
    if (value > max) return -1;
  }
  return value;
};
