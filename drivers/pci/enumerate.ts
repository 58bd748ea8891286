// Bus enumeration: every function reachable from the root bus through the bridges, with
// bus numbers as the firmware assigned them (nothing is renumbered).
// A device answers with a vendor ID other than 0xFFFF (PCI Local Bus 3.0 section 6.2.1);
// functions 1-7 are looked at only when function 0's header type has bit 7 set
// (multi-function, section 6.2.1). A PCI-to-PCI bridge (header layout 1) forwards to the
// buses secondary..subordinate (PCI-to-PCI Bridge 1.2 section 3.2.5.3-3.2.5.5); those must
// lie above the bridge's own bus, inside the range its own bus was reached through, and
// not overlap what another bridge claimed: a bridge that breaks this is reported and not
// followed, so the scan visits each bus at most once and always ends.
import { pciAccessInit, pciConfigRead32, pciFirstBus, pciLastBus } from './config';
import { MAX_FUNCTIONS, pciFunctionAdd, pciFunctionCount, pciFunctionsReset } from './functions';
import { pciSizeBars } from './bars';
import { pciWalkCaps } from './caps';

export const enum ScanProblem {
  TooManyFunctions = 1, // value: MAX_FUNCTIONS
  UnknownHeader = 2, // value: header layout
  Unconfigured = 3, // bridge with bus numbers 0
  BusNotAbove = 4, // value: secondary bus <= the bridge's own bus
  Inverted = 5, // value: subordinate bus < secondary bus
  Outside = 6, // value: subordinate bus beyond the range the bridge's bus was reached through
  Overlap = 7, // value: secondary bus; part of the range belongs to another bridge
}

const MAX_PROBLEMS = 32;
// [kind, bus << 8 | device << 3 | function, value]
const problems = new Uint32Array(new ArrayBuffer(MAX_PROBLEMS * 3 * 4));
let problemCount = 0;
let problemsDropped = 0;

// Buses to scan (entries 0-255: bus | last bus of its range << 8), then which queue entry
// claimed each bus (entries 256-511). (`new XxxArray(new ArrayBuffer(bytes))`: porffor
// 0.61.13 gives `new XxxArray(n)` a 16 KiB buffer whatever n is.)
const scan = new Uint32Array(new ArrayBuffer(512 * 4));
const OWNER = 256;
const NO_OWNER = 0xffff;
let queued = 0;
let busesScanned = 0;
let scanned = false;

const problem = (kind: number, bus: number, dev: number, fn: number, value: number) => {
  if (problemCount >= MAX_PROBLEMS) {
    problemsDropped++;
    return;
  }
  problems[problemCount * 3] = kind;
  problems[problemCount * 3 + 1] = bus * 256 + dev * 8 + fn;
  problems[problemCount * 3 + 2] = value;
  problemCount++;
};

/** Checks a bridge's bus numbers and queues its secondary bus when they are sound. */
const followBridge = (bus: number, dev: number, fn: number, busNumbers: number, entry: number, last: number) => {
  const secondary = (busNumbers >>> 8) & 0xff;
  const subordinate = (busNumbers >>> 16) & 0xff;
  if (secondary === 0 && subordinate === 0) return problem(ScanProblem.Unconfigured, bus, dev, fn, 0);
  if (secondary <= bus) return problem(ScanProblem.BusNotAbove, bus, dev, fn, secondary);
  if (subordinate < secondary) return problem(ScanProblem.Inverted, bus, dev, fn, subordinate);
  if (subordinate > last) return problem(ScanProblem.Outside, bus, dev, fn, subordinate);
  for (let b = secondary; b <= subordinate; b++) {
    if (scan[OWNER + b] !== entry) return problem(ScanProblem.Overlap, bus, dev, fn, secondary);
  }
  if (queued >= 256) return problem(ScanProblem.Overlap, bus, dev, fn, secondary); // cannot happen: one entry per bus
  for (let b = secondary; b <= subordinate; b++) scan[OWNER + b] = queued;
  scan[queued] = secondary + subordinate * 256;
  queued++;
};

/** Records one function; false when the table is full. */
const addFunction = (bus: number, dev: number, fn: number, ids: number, entry: number, last: number) => {
  const classRevision = pciConfigRead32(bus, dev, fn, 0x08);
  const headerType = (pciConfigRead32(bus, dev, fn, 0x0c) >>> 16) & 0xff;
  const layout = headerType & 0x7f;
  const busNumbers = layout === 1 ? pciConfigRead32(bus, dev, fn, 0x18) : 0;
  const f = pciFunctionAdd(bus, dev, fn, ids, classRevision, headerType, busNumbers);
  if (f < 0) {
    problem(ScanProblem.TooManyFunctions, bus, dev, fn, MAX_FUNCTIONS);
    return false;
  }
  if (layout > 2) {
    problem(ScanProblem.UnknownHeader, bus, dev, fn, layout);
    return true;
  }
  pciSizeBars(f);
  pciWalkCaps(f);
  if (layout === 1) followBridge(bus, dev, fn, busNumbers, entry, last);
  return true;
};

/** Scans one bus; false when the function table filled up. */
const scanBus = (bus: number, entry: number, last: number) => {
  for (let dev = 0; dev < 32; dev++) {
    const ids = pciConfigRead32(bus, dev, 0, 0);
    if ((ids & 0xffff) === 0xffff) continue;
    const multi = ((pciConfigRead32(bus, dev, 0, 0x0c) >>> 16) & 0x80) !== 0;
    if (!addFunction(bus, dev, 0, ids, entry, last)) return false;
    if (!multi) continue;
    for (let fn = 1; fn < 8; fn++) {
      const fnIds = pciConfigRead32(bus, dev, fn, 0);
      if ((fnIds & 0xffff) === 0xffff) continue;
      if (!addFunction(bus, dev, fn, fnIds, entry, last)) return false;
    }
  }
  return true;
};

/**
 * (Re)scans the whole hierarchy: picks the access method, fills the function table with
 * each function's BARs (sized) and capabilities. Returns the number of functions.
 */
export const pciScan = () => {
  pciAccessInit();
  pciFunctionsReset();
  problemCount = 0;
  problemsDropped = 0;
  busesScanned = 0;
  const first = pciFirstBus();
  const last = pciLastBus();
  for (let b = 0; b < 256; b++) scan[OWNER + b] = b >= first && b <= last ? 0 : NO_OWNER;
  scan[0] = first + last * 256;
  queued = 1;
  for (let entry = 0; entry < queued; entry++) {
    busesScanned++;
    if (!scanBus(scan[entry] & 0xff, entry, scan[entry] >>> 8)) break;
  }
  scanned = true;
  return pciFunctionCount();
};

/** Scans unless a scan was done; for drivers that only need the table. */
export const pciEnsureScanned = () => {
  if (!scanned) pciScan();
};

/** Buses the last scan looked at. */
export const pciBusesScanned = () => busesScanned;
/** Problems the last scan met: count, then kind, function (bus << 8 | dev << 3 | fn) and value of each. */
export const pciProblemCount = () => problemCount;
export const pciProblemsDropped = () => problemsDropped;
export const pciProblemKind = (i: number) => problems[i * 3];
export const pciProblemBus = (i: number) => problems[i * 3 + 1] >>> 8;
export const pciProblemDev = (i: number) => (problems[i * 3 + 1] >>> 3) & 31;
export const pciProblemFn = (i: number) => problems[i * 3 + 1] & 7;
export const pciProblemValue = (i: number) => problems[i * 3 + 2];
