// Platform discovery at boot, before the first prompt: the memory map, ACPI tables,
// CPU capabilities, the TSC frequency. Each step reports its own problems and the next
// one runs regardless.
import { readFirmwareMap } from '../memory/firmware-map';
import { discoverAcpi } from './acpi/acpi';

export const discoverPlatform = () => {
  readFirmwareMap();
  discoverAcpi();
};
