// Runs one command line: split into words, find the command, run it. Unknown
// commands get the closest name suggested; an exception inside a command is
// reported (translated) and the console goes on.
import { describeError } from '../diag/kernel-error';
import { Category, Level, logQuiet } from '../diag/log';
import { trace, TracePoint } from '../diag/trace';
import { countCommand } from './cmd-diag';
import { COMMAND_NAMES, findCommand } from './command-table';
import { runCommand, sayUnknownCommand } from './commands';
import { sayError } from './output';
import { token, tokenCount, tokenize } from './tokens';
import { Status } from './status';

export const runLine = (buf: Uint32Array, length: number) => {
  tokenize(buf, length);
  if (tokenCount() === 0) return Status.Ok;
  const word = token(0);
  const command = findCommand(word);
  if (command < 0) return sayUnknownCommand(word, 'console.unknownCommand', 'console.unknownCommandSuggest');
  trace(TracePoint.ConsoleCommand, command, tokenCount(), 0, 0);
  countCommand(command);
  try {
    return runCommand(command);
  } catch (e) {
    const detail = describeError(e);
    sayError('console.internalError', COMMAND_NAMES[command], detail);
    logQuiet(Level.Error, Category.Console, 'console.internalError', COMMAND_NAMES[command], detail);
    return Status.Failed;
  }
};
