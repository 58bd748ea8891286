// The console: boot banner, startup.zv, then the interactive prompt until `exit`.
import { PRODUCT_NAME, PRODUCT_VERSION } from '../version';
import { Category, Level, log } from '../diag/log';
import { Edit, editorKey, editorReset } from './editor';
import { Key, inputIdle, pollInput } from './input';
import { detachedTerminals, outputInit, say } from './output';
import { runStartupScript } from './script';
import { discoverPlatform } from '../platform/discover';
import { petWatchdog } from '../platform/watchdog';
import { backgroundWork } from './background';
import { executeLine, showPrompt } from './session';
import { exitRequested } from './state';

const IDLE_STALL_US = 1000; // between polls when no key is waiting

/** Reads keys until a line is submitted (true) or dropped with Ctrl-C (false). */
const readLine = () => {
  editorReset();
  for (;;) {
    const ev = pollInput();
    if (ev === Key.None) {
      if (!backgroundWork()) hv_efi_stall(IDLE_STALL_US);
      inputIdle();
      petWatchdog();
      continue;
    }
    const edit = editorKey(ev);
    if (edit === Edit.Submitted) return true;
    if (edit === Edit.Cancelled) return false;
  }
};

/** Runs the console until `exit`; returns then. */
export const runConsole = () => {
  const serial = outputInit();
  log(Level.Debug, Category.Boot, 'boot.serialDetached', detachedTerminals());
  if (!serial) log(Level.Warn, Category.Boot, 'boot.noSerial');
  say('boot.banner', PRODUCT_NAME, PRODUCT_VERSION);
  say('boot.hint');
  discoverPlatform();
  runStartupScript();
  while (!exitRequested()) {
    showPrompt();
    if (readLine()) executeLine();
  }
};
