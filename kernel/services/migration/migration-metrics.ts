// Metrics of live migration: sessions by side and outcome, and what the sending side moved
// (pages, bytes on the wire, frames sent again) and its last downtime and rounds. Counted when a
// session ends, never per page.
import { counterAdd, defineCounter, defineGauge, metricSeries, seriesSet } from '../../diag/metrics';

const SESSIONS = defineCounter('zerovisor_migrations_total', 'migration.metric.sessions', 'side', 'outcome');
const PAGES = defineCounter('zerovisor_migration_pages_sent_total', 'migration.metric.pages');
const BYTES = defineCounter('zerovisor_migration_wire_bytes_total', 'migration.metric.bytes');
const RESENT = defineCounter('zerovisor_migration_frames_resent_total', 'migration.metric.resent');
const DOWNTIME = defineGauge('zerovisor_migration_last_downtime_ms', 'migration.metric.downtime');
const ROUNDS = defineGauge('zerovisor_migration_last_rounds', 'migration.metric.rounds');
metricSeries(PAGES); // shown from the start, as 0
metricSeries(BYTES);
metricSeries(RESENT);
const downtimeSeries = metricSeries(DOWNTIME);
const roundsSeries = metricSeries(ROUNDS);

/** A sending session ended (`done` or failed) after moving these (`rounds`: those the guest ran through). */
export const countSent = (done: boolean, pages: number, bytes: number, resent: number, downtimeMs: number, rounds: number) => {
  counterAdd(SESSIONS, 1, 'send', done ? 'done' : 'failed');
  counterAdd(PAGES, pages);
  counterAdd(BYTES, bytes);
  counterAdd(RESENT, resent);
  if (done) {
    seriesSet(downtimeSeries, downtimeMs);
    seriesSet(roundsSeries, rounds);
  }
};

/** A receiving session ended. */
export const countReceived = (done: boolean) => counterAdd(SESSIONS, 1, 'receive', done ? 'done' : 'failed');
