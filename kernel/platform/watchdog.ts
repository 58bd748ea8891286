// The firmware watchdog (UEFI 2.10 section 7.5, SetWatchdogTimer): armed for N seconds it
// resets the machine unless re-armed in time. While armed, the console's idle loop pets it
// (re-arms it once half the period has passed), so it fires only when Zerovisor stops running.
import { ticksSinceBoot, tscHz } from '../lib/clock';
import { audit, AuditEvent } from '../diag/audit';
import { Category, Level, logQuiet } from '../diag/log';
import { metricWatchdog, metricWatchdogRearm } from './platform-metrics';

export const WATCHDOG_MAX_SECONDS = 86400;

let armedSeconds = 0;
let lastArmTicks = 0;
let pets = 0;

/** Arms (seconds > 0) or disarms (0) the watchdog; returns the firmware's status (0 = success). */
export const setWatchdog = (seconds: number) => {
  const status = hv_efi_set_watchdog(seconds);
  if (status === 0) {
    armedSeconds = seconds;
    lastArmTicks = ticksSinceBoot();
    pets = 0;
    metricWatchdog(seconds);
    if (seconds > 0) {
      audit(AuditEvent.WatchdogArm, seconds, 0, 'wdog.audit.arm', seconds);
      logQuiet(Level.Info, Category.Watchdog, 'wdog.audit.arm', seconds);
    } else {
      audit(AuditEvent.WatchdogDisarm, 0, 0, 'wdog.audit.disarm');
      logQuiet(Level.Info, Category.Watchdog, 'wdog.audit.disarm');
    }
  }
  return status;
};

/** Re-arms the watchdog when half its period has passed (call from idle loops). */
export const petWatchdog = () => {
  if (armedSeconds === 0) return;
  const hz = tscHz();
  const elapsed = ticksSinceBoot() - lastArmTicks;
  if (hz > 0 && elapsed < (armedSeconds * hz) / 2) return;
  if (hv_efi_set_watchdog(armedSeconds) === 0) {
    lastArmTicks = ticksSinceBoot();
    pets++;
    metricWatchdogRearm();
  }
};

/** Seconds the watchdog is armed for (0 = off). */
export const watchdogSeconds = () => armedSeconds;
/** Times the idle loop re-armed it since it was last set. */
export const watchdogPets = () => pets;
