// The capabilities Zerovisor found (caps). (Being written.)
import { Status } from './status';

export const cmdCaps = () => Status.Failed;
