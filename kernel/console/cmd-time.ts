// Timekeeping (time). (Being written.)
import { Status } from './status';

export const cmdTime = () => Status.Failed;
