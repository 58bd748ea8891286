// Metrics of the platform rooms (Prometheus names; shown by `metrics`): what discovery
// found, the page allocator, the watchdog. Updated where the values change.
import { defineCounter, defineGauge, counterAdd, gaugeSet } from '../diag/metrics';

const TSC_HZ = defineGauge('zerovisor_tsc_hz', 'platform.metric.tscHz', 'source');
const CPUS = defineGauge('zerovisor_cpus', 'platform.metric.cpus');
const IOMMU_UNITS = defineGauge('zerovisor_iommu_units', 'platform.metric.iommuUnits', 'kind');
const PAGES = defineGauge('zerovisor_pages', 'platform.metric.pages', 'state');
const PAGE_REQUESTS = defineCounter('zerovisor_page_requests_total', 'platform.metric.pageRequests', 'result');
const WATCHDOG_SECONDS = defineGauge('zerovisor_watchdog_seconds', 'platform.metric.watchdogSeconds');
const WATCHDOG_PETS = defineCounter('zerovisor_watchdog_rearms_total', 'platform.metric.watchdogRearms');

const TSC_SOURCE_NAMES = ['unknown', 'cpuid-15', 'cpuid-16', 'pm-timer', 'hpet', 'firmware-stall'];

export const metricDiscovery = (tscHz: number, tscSource: number, cpus: number, vtdUnits: number, amdViUnits: number) => {
  gaugeSet(TSC_HZ, Math.round(tscHz), TSC_SOURCE_NAMES[tscSource]);
  gaugeSet(CPUS, cpus);
  gaugeSet(IOMMU_UNITS, vtdUnits, 'vtd');
  gaugeSet(IOMMU_UNITS, amdViUnits, 'amdvi');
};

/** After an allocation or a free: pages in use, kept for reuse, obtained from the firmware. */
export const metricPages = (inUse: number, spare: number, fromFirmware: number) => {
  gaugeSet(PAGES, inUse, 'in_use');
  gaugeSet(PAGES, spare, 'spare');
  gaugeSet(PAGES, fromFirmware, 'from_firmware');
};

export const metricPageRequest = (ok: boolean) => counterAdd(PAGE_REQUESTS, 1, ok ? 'ok' : 'failed');

export const metricWatchdog = (seconds: number) => gaugeSet(WATCHDOG_SECONDS, seconds);
export const metricWatchdogRearm = () => counterAdd(WATCHDOG_PETS, 1);
