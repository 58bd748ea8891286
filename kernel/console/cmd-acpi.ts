// ACPI tables and the CPUs they list (acpi, cpus). (Being written.)
import { Status } from './status';

export const cmdAcpi = () => Status.Failed;
export const cmdCpus = () => Status.Failed;
