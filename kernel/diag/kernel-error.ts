// Exceptions the kernel throws on purpose carry a message key, so that whoever
// catches them can report them translated. (Not an Error subclass: porffor does not
// set `message` through super(); the key is what matters here.)
import type { MsgKey } from '../i18n/dictionary';
import { text } from '../i18n/messages';

export class KernelError {
  key: MsgKey;
  constructor(key: MsgKey) {
    this.key = key;
  }
}

/**
 * A description of any caught exception, as a message argument: translated for a
 * KernelError; for errors from the runtime (porffor's TypeError and friends, which
 * are not `instanceof Error` there) their own message.
 */
export const describeError = (e: unknown) => {
  if (e instanceof KernelError) return text(e.key);
  if (typeof e === 'object' && e !== null) {
    const message = (e as { message?: unknown }).message;
    if (typeof message === 'string' && message.length > 0) return message;
  }
  return text('console.unexpectedException');
};
