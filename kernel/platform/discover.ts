// Platform discovery at boot, before the first prompt: the memory map, ACPI tables,
// CPU capabilities, the TSC frequency. Each step reports its own problems and the next
// one runs regardless.
import { readFirmwareMap } from './firmware-map';
import { detectCapabilities } from '../cpu/capabilities';
import { Category, Level, log } from '../diag/log';
import { text } from '../i18n/messages';
import { discoverAcpi } from './acpi/acpi';
import { calibrateTsc, tscSource, tscSourceKey } from './time';
import { caps } from '../cpu/capabilities';
import { metricDiscovery } from './platform-metrics';

export const discoverPlatform = () => {
  readFirmwareMap();
  discoverAcpi();
  detectCapabilities();
  const hz = calibrateTsc();
  log(Level.Debug, Category.Time, 'time.calibrated', hz / 1e6, text(tscSourceKey(tscSource())));
  metricDiscovery(hz, tscSource(), caps.cpus, caps.vtdUnits, caps.amdViUnits);
};
