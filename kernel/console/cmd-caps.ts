// `caps [--json]`: what detectCapabilities() found (kernel/cpu/capabilities.ts).
import type { MsgKey } from '../i18n/dictionary';
import { text } from '../i18n/messages';
import { brandName, canVirtualize, caps, detectCapabilities, hypervisorName, vendorName } from '../cpu/capabilities';
import { tscHz } from '../lib/clock';
import { tscSource, tscSourceKey } from '../platform/time';
import { watchdogSeconds } from '../platform/watchdog';
import { unexpectedArgument } from './args';
import { Command } from './command-table';
import { jsonBegin, jsonBool, jsonEnd, jsonNumber, jsonObject, jsonString } from './json-writer';
import { say } from './output';
import { Status } from './status';
import { spanIs, token, tokenCount } from './tokens';

const yesNo = (value: boolean) => text(value ? 'caps.yes' : 'caps.no');
const row = (label: MsgKey, value: boolean) => say('caps.row', text(label), yesNo(value));

const VIRTUALIZATION_NAMES = ['none', 'vmx', 'svm'];
const TSC_SOURCE_NAMES = ['unknown', 'cpuid-15', 'cpuid-16', 'pm-timer', 'hpet', 'firmware-stall'];
const VENDOR_NAMES = ['unknown', 'intel', 'amd'];

/** 1 = VMX, 2 = SVM, 0 = neither can run guests here. */
const virtualization = () => {
  if (!canVirtualize()) return 0;
  return caps.svm && caps.npt && !caps.svmDisabled ? 2 : 1;
};

const showText = () => {
  say('caps.processor', brandName, caps.family, caps.model, caps.stepping);
  say('caps.vendor', vendorName);
  say('caps.addressBits', caps.physAddrBits, caps.linearAddrBits);
  if (hypervisorName.len > 0) say('caps.hypervisor', hypervisorName);
  say('caps.features');
  row('caps.f.x2apic', caps.x2apic);
  row('caps.f.invariantTsc', caps.invariantTsc);
  row('caps.f.pages1g', caps.pages1g);
  row('caps.f.smep', caps.smep);
  row('caps.f.smap', caps.smap);
  row('caps.f.umip', caps.umip);
  row('caps.f.xsave', caps.xsave);
  if (!caps.vmx) say('caps.vmx.absent');
  else {
    say('caps.vmx.present', caps.vmcsRevision, caps.vmcsSize);
    if (caps.vmxLocked) say('caps.vmx.locked', yesNo(caps.vmxOutsideSmx));
    else say('caps.vmx.unlocked');
    row('caps.f.trueControls', caps.vmxTrueControls);
    row('caps.f.ept', caps.ept);
    if (caps.ept) {
      row('caps.f.eptWalk4', caps.eptWalk4);
      row('caps.f.eptWriteBack', caps.eptWriteBack);
      row('caps.f.ept2m', caps.ept2m);
      row('caps.f.ept1g', caps.ept1g);
      row('caps.f.eptAd', caps.eptAccessedDirty);
      row('caps.f.eptExecOnly', caps.eptExecuteOnly);
      row('caps.f.invept', caps.invept);
    }
    row('caps.f.vpid', caps.vpid);
    if (caps.vpid) row('caps.f.invvpid', caps.invvpid);
    row('caps.f.unrestricted', caps.unrestrictedGuest);
    if (caps.preemptionTimer) say('caps.vmx.timerRate', text('caps.f.preemptionTimer'), yesNo(true), caps.preemptionTimerShift);
    else row('caps.f.preemptionTimer', false);
    row('caps.f.apicv', caps.apicVirtualization);
    row('caps.f.postedInterrupts', caps.postedInterrupts);
    row('caps.f.vmcsShadowing', caps.vmcsShadowing);
  }
  if (!caps.svm) say('caps.svm.absent');
  else {
    say('caps.svm.present', caps.svmRevision, caps.asids);
    say(caps.svmDisabled ? 'caps.svm.disabled' : 'caps.svm.enabled', yesNo(caps.svmLocked));
    row('caps.f.npt', caps.npt);
    row('caps.f.nrips', caps.nrips);
    row('caps.f.decodeAssists', caps.decodeAssists);
    row('caps.f.flushByAsid', caps.flushByAsid);
    row('caps.f.vmcbClean', caps.vmcbClean);
    row('caps.f.avic', caps.avic);
  }
  say('caps.guestApic', yesNo(caps.apicVirtualization || caps.postedInterrupts || caps.avic));
  say('caps.iommu', caps.vtdUnits, caps.amdViUnits);
  if (caps.acpi) say('caps.acpi.present', caps.cpus);
  else say('caps.acpi.absent');
  if (tscHz() > 0) say('caps.tsc', tscHz() / 1e6, text(tscSourceKey(tscSource())), yesNo(caps.invariantTsc));
  else say('time.unknown');
  if (watchdogSeconds() > 0) say('caps.watchdog.armed', watchdogSeconds());
  else say('caps.watchdog.off');
  const v = virtualization();
  say(v === 2 ? 'caps.ready.svm' : v === 1 ? 'caps.ready.vmx' : 'caps.ready.none');
};

const showJson = () => {
  jsonBegin();
  jsonString('vendor', VENDOR_NAMES[caps.vendor]);
  jsonString('vendorId', vendorName);
  jsonString('brand', brandName);
  jsonNumber('family', caps.family);
  jsonNumber('model', caps.model);
  jsonNumber('stepping', caps.stepping);
  jsonNumber('physAddrBits', caps.physAddrBits);
  jsonNumber('linearAddrBits', caps.linearAddrBits);
  jsonString('hypervisor', hypervisorName);
  jsonObject('features');
  jsonBool('x2apic', caps.x2apic);
  jsonBool('invariantTsc', caps.invariantTsc);
  jsonBool('pages1g', caps.pages1g);
  jsonBool('smep', caps.smep);
  jsonBool('smap', caps.smap);
  jsonBool('umip', caps.umip);
  jsonBool('xsave', caps.xsave);
  jsonEnd();
  jsonObject('vmx');
  jsonBool('supported', caps.vmx);
  jsonBool('featureControlLocked', caps.vmxLocked);
  jsonBool('outsideSmx', caps.vmxOutsideSmx);
  jsonNumber('vmcsRevision', caps.vmcsRevision);
  jsonNumber('vmcsSize', caps.vmcsSize);
  jsonBool('trueControls', caps.vmxTrueControls);
  jsonBool('ept', caps.ept);
  jsonBool('eptWalk4', caps.eptWalk4);
  jsonBool('eptWriteBack', caps.eptWriteBack);
  jsonBool('ept2m', caps.ept2m);
  jsonBool('ept1g', caps.ept1g);
  jsonBool('eptAccessedDirty', caps.eptAccessedDirty);
  jsonBool('eptExecuteOnly', caps.eptExecuteOnly);
  jsonBool('invept', caps.invept);
  jsonBool('vpid', caps.vpid);
  jsonBool('invvpid', caps.invvpid);
  jsonBool('unrestrictedGuest', caps.unrestrictedGuest);
  jsonBool('preemptionTimer', caps.preemptionTimer);
  jsonNumber('preemptionTimerShift', caps.preemptionTimerShift);
  jsonBool('postedInterrupts', caps.postedInterrupts);
  jsonBool('apicVirtualization', caps.apicVirtualization);
  jsonBool('interruptAccelerationUsed', false);
  jsonBool('vmcsShadowing', caps.vmcsShadowing);
  jsonEnd();
  jsonObject('svm');
  jsonBool('supported', caps.svm);
  jsonBool('disabledByFirmware', caps.svmDisabled);
  jsonBool('locked', caps.svmLocked);
  jsonNumber('revision', caps.svmRevision);
  jsonNumber('asids', caps.asids);
  jsonBool('nestedPaging', caps.npt);
  jsonBool('nrips', caps.nrips);
  jsonBool('decodeAssists', caps.decodeAssists);
  jsonBool('flushByAsid', caps.flushByAsid);
  jsonBool('vmcbClean', caps.vmcbClean);
  jsonBool('avic', caps.avic);
  jsonEnd();
  jsonObject('iommu');
  jsonNumber('vtd', caps.vtdUnits);
  jsonNumber('amdVi', caps.amdViUnits);
  jsonEnd();
  jsonBool('acpi', caps.acpi);
  jsonNumber('cpus', caps.cpus);
  jsonObject('tsc');
  jsonNumber('hz', Math.round(tscHz()));
  jsonString('source', TSC_SOURCE_NAMES[tscSource()]);
  jsonBool('invariant', caps.invariantTsc);
  jsonEnd();
  jsonObject('watchdog');
  jsonNumber('seconds', watchdogSeconds());
  jsonEnd();
  jsonString('virtualization', VIRTUALIZATION_NAMES[virtualization()]);
  jsonEnd();
};

export const cmdCaps = () => {
  const n = tokenCount();
  if (n >= 2 && !spanIs(token(1), '--json')) return unexpectedArgument(Command.Caps, 1);
  if (n > 2) return unexpectedArgument(Command.Caps, 2);
  detectCapabilities();
  if (n === 2) showJson();
  else showText();
  return Status.Ok;
};
