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

/** Word `index` as a hexadecimal number with an optional 0x prefix, below 2^52, or -1. */
export const hexArgument = (index: number) => {
  if (index >= tokenCount()) return -1;
  const word = token(index);
  let i = 0;
  if (word.len > 2 && word.buf[word.start] === 48 && (word.buf[word.start + 1] === 120 || word.buf[word.start + 1] === 88)) i = 2;
  if (i >= word.len) return -1;
  let value = 0;
  for (; i < word.len; i++) {
    const c = word.buf[word.start + i];
    let digit = -1;
    if (c >= 48 && c <= 57) digit = c - 48;
    else if (c >= 97 && c <= 102) digit = c - 87;
    else if (c >= 65 && c <= 70) digit = c - 55;
    if (digit < 0) return -1;
    value = value * 16 + digit;
    if (value >= 4503599627370496) return -1;
  }
  return value;
};
