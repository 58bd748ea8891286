// Zerovisor kernel entry. The shim runs porffor's module code (`m`), then `main`,
// which runs the console until `exit`.
import { runConsole } from './console/console';
import { describeError } from './diag/kernel-error';
import { fatal } from './diag/log';

export const main = () => {
  try {
    runConsole();
  } catch (e) {
    fatal('fatal.unexpected', describeError(e));
  }
};
