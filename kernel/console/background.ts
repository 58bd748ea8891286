// What the console does while it waits (for a key, `sleep`, `vm wait`, `migrate wait`):
// run the guests, move migrations on, and print what they have to say.
import { migrationStep } from '../migration/live';
import { runGuests } from '../vm/scheduler';
import { reportMigration } from './cmd-migrate';

/** One round of background work; whether anything ran (else the caller may stall a little). */
export const backgroundWork = () => {
  const ran = runGuests();
  const migrating = migrationStep();
  reportMigration();
  return ran > 0 || migrating;
};
