// How a console command waits (`sleep`, `vm wait`, `migrate wait`, `net recv`, `console`):
// it turns the machine's run loop itself, says what migrations did, and idles until the
// next deadline, at most one input-poll period.
import { idleUntil, nextDeadline, runTurn } from '../services/run-loop';
import { reportMigration } from './migration-report';

/** The longest idle between two looks at the keyboard (UEFI ConIn is polled). */
export const INPUT_POLL_US = 1000;

/** One turn of the run loop while a command waits; idles when nothing ran. */
export const waitTurn = () => {
  const busy = runTurn();
  reportMigration();
  if (!busy) idleUntil(nextDeadline(), INPUT_POLL_US);
  return busy;
};
