// PCI devices (pci). (Being written.)
import { Status } from './status';

export const cmdPci = () => Status.Failed;
