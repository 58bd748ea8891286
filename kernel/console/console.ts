// The operator's console, one client of the run loop (kernel/main.ts): it starts (output,
// banner, listeners for the layers below), runs startup.zv, then is polled: each poll
// shows the prompt when a line begins, takes at most one key, and runs a finished line;
// after each turn of the machine it says what migrations did.
import { PRODUCT_NAME, PRODUCT_VERSION } from '../lib/version';
import { Category, Level, log } from '../diag/log';
import { Edit, editorKey, editorReset } from './editor';
import { Key, inputIdle, pollInput } from './input';
import { detachedTerminals, drainOutput, outputInit, say } from './output';
import { registerVmListeners } from '../vm/vm-events';
import { showGuestOutput } from './guest-output';
import { sayVmStopped } from './vm-announce';
import { reportMigration } from './migration-report';
import { runStartupScript } from './script';
import { executeLine, showPrompt } from './session';

let lineOpen = false; // a prompt is shown and its line is being edited

/** Takes the screens and the serial port, registers the console as the sink of the layers below, greets. */
export const consoleStart = () => {
  const serial = outputInit();
  registerVmListeners(showGuestOutput, sayVmStopped);
  log(Level.Debug, Category.Boot, 'boot.serialDetached', detachedTerminals());
  if (!serial) log(Level.Warn, Category.Boot, 'boot.noSerial');
  say('boot.banner', PRODUCT_NAME, PRODUCT_VERSION);
  say('boot.hint');
};

/** Runs startup.zv from the boot volume, line by line, as if typed. */
export const consoleStartupScript = () => {
  runStartupScript();
};

/** One look at the console: the prompt when a line begins, one key; whether a key was taken. */
export const consolePoll = () => {
  if (!lineOpen) {
    showPrompt();
    editorReset();
    lineOpen = true;
  }
  const ev = pollInput();
  if (ev === Key.None) {
    inputIdle();
    return false;
  }
  const edit = editorKey(ev);
  if (edit === Edit.Submitted) {
    lineOpen = false;
    executeLine();
  } else if (edit === Edit.Cancelled) lineOpen = false;
  return true;
};

/** After a turn of the run loop: what migrations did. */
export const consoleNews = () => {
  reportMigration();
};

/** Everything said reaches the screens before the machine stops. */
export const consoleStop = () => {
  drainOutput();
};
