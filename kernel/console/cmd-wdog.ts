// The firmware watchdog (wdog). (Being written.)
import { Status } from './status';

export const cmdWdog = () => Status.Failed;
