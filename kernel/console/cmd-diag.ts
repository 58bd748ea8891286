// The diagnostics rings (log, audit, metrics, trace). (Being written.)
import { Status } from './status';

export const cmdLog = () => Status.Failed;
export const cmdAudit = () => Status.Failed;
export const cmdMetrics = () => Status.Failed;
export const cmdTrace = () => Status.Failed;
