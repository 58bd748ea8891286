// The audit ring: security-relevant events (VMs, IOMMU domains, device assignment,
// configuration changes, the watchdog) in preallocated memory. Each event gets a
// sequence number, counted from 1 since boot and never reused, also when the ring wraps
// over its oldest events; `audit` shows which ones are gone.
//
//   audit(event, subjectA, subjectB, detailKey, a?, b?, c?, d?)  -> sequence number
//
// event: AuditEvent. subjectA / subjectB: numeric ids of what the event is about, 0
// when unused: VM id and vCPU id; IOMMU domain id and VM id; device (PCI segment * 65536
// + bus:dev.fn) and VM id or domain id; for ConfigChange an AuditSetting and its new
// value; for WatchdogArm the timeout in seconds. detailKey with its arguments (numbers,
// kernel strings, spans; stored as numbers and up to 64 code points) says what happened;
// `audit` shows it in the current language, `audit --json` also by key and arguments.
import type { MsgKey } from '../i18n/dictionary';
import { language, LANGUAGE_CODES, text } from '../i18n/messages';
import type { Arg } from '../lib/format';
import { fmtAppend, fmtBuf, fmtLength, fmtReset } from '../lib/format';
import { emitLine, emitInline } from '../lib/text-sink';
import { ticksSinceBoot, tscHz } from '../lib/clock';
import { defineCounter, metricSeries, seriesAdd } from './metrics';
import { jsonEscapeCodePoints, jsonEscapeString, jsonNumber, piece0, piece1, piece2, reserveArgRecords, sayJsonArgs, storeArgs, storedArg } from './json';

export const enum AuditEvent {
  VmCreate = 0,
  VmStart = 1,
  VmStop = 2,
  VmDestroy = 3,
  IommuDomainCreate = 4,
  IommuDomainDestroy = 5,
  DeviceAssign = 6,
  DeviceUnassign = 7,
  ConfigChange = 8,
  WatchdogArm = 9,
  WatchdogDisarm = 10,
  VmPause = 11,
  VmResume = 12,
  VmSuspend = 13,
  MigrationOut = 14, // a VM left for another host
  MigrationIn = 15, // a VM arrived from another host
}

const EVENT_COUNT = 16;

/** An event's name (the same in every language and in JSON). */
export const auditEventName = (event: number) => {
  switch (event) {
    case AuditEvent.VmCreate:
      return 'vm.create';
    case AuditEvent.VmStart:
      return 'vm.start';
    case AuditEvent.VmStop:
      return 'vm.stop';
    case AuditEvent.VmDestroy:
      return 'vm.destroy';
    case AuditEvent.IommuDomainCreate:
      return 'iommu.domain.create';
    case AuditEvent.IommuDomainDestroy:
      return 'iommu.domain.destroy';
    case AuditEvent.DeviceAssign:
      return 'device.assign';
    case AuditEvent.DeviceUnassign:
      return 'device.unassign';
    case AuditEvent.ConfigChange:
      return 'config.change';
    case AuditEvent.WatchdogArm:
      return 'watchdog.arm';
    case AuditEvent.WatchdogDisarm:
      return 'watchdog.disarm';
    case AuditEvent.VmPause:
      return 'vm.pause';
    case AuditEvent.VmResume:
      return 'vm.resume';
    case AuditEvent.VmSuspend:
      return 'vm.suspend';
    case AuditEvent.MigrationOut:
      return 'vm.migrate.out';
    case AuditEvent.MigrationIn:
      return 'vm.migrate.in';
  }
  return 'unknown';
};

/** What a ConfigChange is about (its subjectA). */
export const enum AuditSetting {
  Language = 1, // subjectB: the new language id (LANGUAGE_CODES index)
  Trace = 2, // subjectB: 1 on, 0 off, 2 ring cleared
}

export const AUDIT_SIZE = 256;
// per event: sequence, TSC ticks, microseconds (-1 unknown), subjectA, subjectB, event
const WORDS = 6;
const W_SEQ = 0;
const W_TSC = 1;
const W_US = 2;
const W_A = 3;
const W_B = 4;
const W_EVENT = 5;
const numbers = new Float64Array(AUDIT_SIZE * WORDS);
const keys: MsgKey[] = [];
for (let i = 0; i < AUDIT_SIZE; i++) keys.push('diag.audit.empty');
const firstRecord = reserveArgRecords(AUDIT_SIZE); // detail arguments of slot i: record firstRecord + i
let next = 0;
let count = 0;
let sequence = 0; // of the newest event

const EVENTS = defineCounter('zerovisor_audit_events_total', 'diag.metric.audit', 'event');
// Series are taken one after the other: event e's is firstEventSeries + e.
const firstEventSeries = metricSeries(EVENTS, auditEventName(0));
for (let e = 1; e < EVENT_COUNT; e++) metricSeries(EVENTS, auditEventName(e));

/** Records an event; returns its sequence number. */
export const audit = (event: AuditEvent, subjectA: number, subjectB: number, key: MsgKey, a?: Arg, b?: Arg, c?: Arg, d?: Arg) => {
  const slot = next;
  const w = slot * WORDS;
  const ticks = ticksSinceBoot();
  const hz = tscHz();
  sequence++;
  numbers[w + W_SEQ] = sequence;
  numbers[w + W_TSC] = ticks;
  numbers[w + W_US] = hz > 0 ? Math.floor((ticks * 1000000) / hz) : -1;
  numbers[w + W_A] = subjectA;
  numbers[w + W_B] = subjectB;
  numbers[w + W_EVENT] = event;
  keys[slot] = key;
  storeArgs(firstRecord + slot, a, b, c, d);
  next = slot + 1 === AUDIT_SIZE ? 0 : slot + 1;
  if (count < AUDIT_SIZE) count++;
  if (firstEventSeries >= 0 && event >= 0 && event < EVENT_COUNT) seriesAdd(firstEventSeries + event, 1);
  return sequence;
};

/** Events in the ring, and the sequence number of the newest (= events since boot). */
export const auditCount = () => count;
export const auditSequence = () => sequence;

const oldestSlot = () => {
  const slot = next - count;
  return slot < 0 ? slot + AUDIT_SIZE : slot;
};

/** Formats the detail of the event in `slot` (current language) into the format buffer. */
const formatDetail = (slot: number) => {
  fmtReset();
  fmtAppend(keys[slot], storedArg(firstRecord + slot, 0), storedArg(firstRecord + slot, 1), storedArg(firstRecord + slot, 2), storedArg(firstRecord + slot, 3));
};

/** Prints the ring as a table, oldest first. */
export const sayAuditTable = () => {
  emitInline('diag.audit.rowHead', text('diag.audit.col.seq'), text('diag.col.tsc'), text('diag.audit.col.event'));
  emitInline('diag.audit.rowSubjects', text('diag.audit.col.subjectA'), text('diag.audit.col.subjectB'));
  emitLine('diag.audit.col.detail');
  let slot = oldestSlot();
  for (let k = 0; k < count; k++) {
    const w = slot * WORDS;
    emitInline('diag.audit.rowHead', numbers[w + W_SEQ], numbers[w + W_TSC], auditEventName(numbers[w + W_EVENT]));
    emitInline('diag.audit.rowSubjects', numbers[w + W_A], numbers[w + W_B]);
    emitLine(keys[slot], storedArg(firstRecord + slot, 0), storedArg(firstRecord + slot, 1), storedArg(firstRecord + slot, 2), storedArg(firstRecord + slot, 3));
    slot = slot + 1 === AUDIT_SIZE ? 0 : slot + 1;
  }
};

/** Prints the ring as JSON lines, oldest first. */
export const sayAuditJson = () => {
  const hz = tscHz();
  let slot = oldestSlot();
  for (let k = 0; k < count; k++) {
    const w = slot * WORDS;
    let us = numbers[w + W_US];
    if (us < 0 && hz > 0) us = Math.floor((numbers[w + W_TSC] * 1000000) / hz);
    jsonNumber(piece0, numbers[w + W_SEQ]);
    jsonNumber(piece1, numbers[w + W_TSC]);
    jsonNumber(piece2, us < 0 ? NaN : us); // null while the TSC frequency is unknown
    emitInline('diag.json.auditHead', piece0, piece1, piece2, auditEventName(numbers[w + W_EVENT]));
    jsonNumber(piece0, numbers[w + W_A]);
    jsonNumber(piece1, numbers[w + W_B]);
    jsonEscapeString(piece2, keys[slot]);
    emitInline('diag.json.auditSubjects', piece0, piece1, LANGUAGE_CODES[language()], piece2);
    sayJsonArgs(firstRecord + slot);
    formatDetail(slot);
    jsonEscapeCodePoints(piece0, fmtBuf, 0, fmtLength());
    emitLine('diag.json.msgTail', piece0);
    slot = slot + 1 === AUDIT_SIZE ? 0 : slot + 1;
  }
};
