// ACPI discovery. (Being written.)
import { facts } from '../facts';

/** Finds and parses the ACPI tables, filling facts; safe to call again (rescans). */
export const discoverAcpi = () => {
  facts.acpiPresent = false;
};
