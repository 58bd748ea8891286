// What typed lines and script lines share: the prompt (the first one logs the boot
// time) and running the edited line.
import { dataAddress } from '../host/memory';
import { Category, Level, logMarker } from '../diag/log';
import { READY_KEY, READY_LINE } from '../lib/markers';
import { runLine } from './dispatch';
import { historyAdd, line, lineLength, lineOverflowed, LINE_MAX } from './editor';
import { sayError, sayInline } from './output';
import { Status } from './status';

const now = new Uint32Array(2);
const boot = new Uint32Array(2);
let promptShown = false;

/** Logs "[boot] first prompt after N TSC ticks" (N from the TSC read at efi_main). */
const logBootTime = () => {
  hv_tsc(dataAddress(now));
  hv_boot_tsc(dataAddress(boot));
  const ticks = (now[1] - boot[1]) * 4294967296 + (now[0] - boot[0]);
  logMarker(Level.Info, Category.Boot, READY_KEY, READY_LINE, ticks);
};

export const showPrompt = () => {
  if (!promptShown) {
    promptShown = true;
    logBootTime();
  }
  sayInline('console.prompt');
};

/** Runs the line in the editor (typed or from the script). */
export const executeLine = () => {
  if (lineOverflowed()) {
    sayError('console.lineTooLong', LINE_MAX);
    return Status.Failed;
  }
  historyAdd();
  return runLine(line, lineLength());
};
