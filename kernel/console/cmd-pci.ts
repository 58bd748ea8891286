// `pci [-v] [bus:device.function]`: the PCI functions (drivers/pci) with their class, and
// for -v or one function also BARs and capabilities. Every run rescans the hierarchy.
import { text } from '../i18n/messages';
import { PciAccess, pciAccessMethod, pciEcamBaseHi, pciEcamBaseLo, pciFirstBus, pciLastBus, pciRejectedEcam } from '../../drivers/pci/config';
import {
  pciBus, pciClass, pciDev, pciDeviceId, pciFindAddress, pciFn, pciFunctionCount, pciHeaderLayout, pciHeaderType,
  pciPrimaryBus, pciRead32, pciSecondaryBus, pciSubordinateBus, pciVendor,
} from '../../drivers/pci/functions';
import {
  BarError, BarKind, BAR_SLOTS, ROM_SLOT, pciBarBaseHi, pciBarBaseLo, pciBarError, pciBarKind, pciBarPrefetchable,
  pciBarSize, pciRomEnabled,
} from '../../drivers/pci/bars';
import {
  CapError, CapId, MsixField, VirtioCapType, VirtioField, msixFields, pciCapCount, pciCapError, pciCapErrorPointer,
  pciCapErrorWhere, pciCapId, pciCapOffset, pciIsVirtio, pciMsixRead, pciVirtioCapRead, virtioFields,
} from '../../drivers/pci/caps';
import {
  ScanProblem, pciBusesScanned, pciProblemBus, pciProblemCount, pciProblemDev, pciProblemFn, pciProblemKind,
  pciProblemsDropped, pciProblemValue, pciScan,
} from '../../drivers/pci/enumerate';
import { Command } from './command-table';
import { unexpectedArgument } from './args';
import type { Span } from '../lib/format';
import { say, sayError, sayInline } from './output';
import { spanIs, token, tokenCount } from './tokens';
import { Status } from './status';

const TWO_32 = 4294967296;

// Names as message keys, chosen in switches (no tables to allocate).

/** Capability names by ID (PCI Code and ID Assignment 1.11 section 2). */
const capName = (id: number) => {
  switch (id) {
    case 0x01: return 'pci.capName.01';
    case 0x02: return 'pci.capName.02';
    case 0x03: return 'pci.capName.03';
    case 0x04: return 'pci.capName.04';
    case 0x05: return 'pci.capName.05';
    case 0x06: return 'pci.capName.06';
    case 0x07: return 'pci.capName.07';
    case 0x08: return 'pci.capName.08';
    case 0x09: return 'pci.capName.09';
    case 0x0a: return 'pci.capName.0a';
    case 0x0b: return 'pci.capName.0b';
    case 0x0c: return 'pci.capName.0c';
    case 0x0d: return 'pci.capName.0d';
    case 0x0e: return 'pci.capName.0e';
    case 0x0f: return 'pci.capName.0f';
    case 0x10: return 'pci.capName.10';
    case 0x11: return 'pci.capName.11';
    case 0x12: return 'pci.capName.12';
    case 0x13: return 'pci.capName.13';
    case 0x14: return 'pci.capName.14';
    case 0x15: return 'pci.capName.15';
  }
  return 'pci.capName.other';
};

/** PCI Express device/port types (PCI Express Base 5.0 section 7.5.3.2). */
const pcieTypeName = (type: number) => {
  switch (type) {
    case 0x0: return 'pci.pcie.type0';
    case 0x1: return 'pci.pcie.type1';
    case 0x4: return 'pci.pcie.type4';
    case 0x5: return 'pci.pcie.type5';
    case 0x6: return 'pci.pcie.type6';
    case 0x7: return 'pci.pcie.type7';
    case 0x8: return 'pci.pcie.type8';
    case 0x9: return 'pci.pcie.type9';
    case 0xa: return 'pci.pcie.typea';
  }
  return 'pci.pcie.typeOther';
};

/** Class names by base class and subclass, else by base class (PCI Code and ID Assignment 1.11 section 1). */
const className = (classCode: number) => {
  switch (classCode >>> 8) {
    case 0x0100: return 'pci.class.0100';
    case 0x0101: return 'pci.class.0101';
    case 0x0106: return 'pci.class.0106';
    case 0x0108: return 'pci.class.0108';
    case 0x0200: return 'pci.class.0200';
    case 0x0300: return 'pci.class.0300';
    case 0x0403: return 'pci.class.0403';
    case 0x0600: return 'pci.class.0600';
    case 0x0601: return 'pci.class.0601';
    case 0x0604: return 'pci.class.0604';
    case 0x0700: return 'pci.class.0700';
    case 0x0806: return 'pci.class.0806';
    case 0x0c03: return 'pci.class.0c03';
    case 0x0c05: return 'pci.class.0c05';
  }
  switch (classCode >>> 16) {
    case 0x00: return 'pci.class.00';
    case 0x01: return 'pci.class.01';
    case 0x02: return 'pci.class.02';
    case 0x03: return 'pci.class.03';
    case 0x04: return 'pci.class.04';
    case 0x05: return 'pci.class.05';
    case 0x06: return 'pci.class.06';
    case 0x07: return 'pci.class.07';
    case 0x08: return 'pci.class.08';
    case 0x09: return 'pci.class.09';
    case 0x0c: return 'pci.class.0c';
    case 0x0d: return 'pci.class.0d';
  }
  return 'pci.class.other';
};

/** The size with the largest unit that divides it: ends the line. */
const saySize = (size: number) => {
  if (size >= 1073741824 && size % 1073741824 === 0) say('pci.size.gib', size / 1073741824);
  else if (size >= 1048576 && size % 1048576 === 0) say('pci.size.mib', size / 1048576);
  else if (size >= 1024 && size % 1024 === 0) say('pci.size.kib', size / 1024);
  else say('pci.size.bytes', size);
};

const showBars = (f: number) => {
  for (let slot = 0; slot < BAR_SLOTS; slot++) {
    const kind = pciBarKind(f, slot);
    const error = pciBarError(f, slot);
    const lo = pciBarBaseLo(f, slot);
    const prefetchable = pciBarPrefetchable(f, slot);
    if (kind === BarKind.Mem32 && prefetchable) sayInline('pci.bar.mem32pf', slot, lo);
    else if (kind === BarKind.Mem32) sayInline('pci.bar.mem32', slot, lo);
    else if (kind === BarKind.Mem64 && prefetchable) sayInline('pci.bar.mem64pf', slot, pciBarBaseHi(f, slot), lo);
    else if (kind === BarKind.Mem64) sayInline('pci.bar.mem64', slot, pciBarBaseHi(f, slot), lo);
    else if (kind === BarKind.Io && lo > 0xffff) sayInline('pci.bar.ioWide', slot, lo);
    else if (kind === BarKind.Io) sayInline('pci.bar.io', slot, lo);
    else if (kind === BarKind.Rom && pciRomEnabled(f)) sayInline('pci.bar.romOn', lo);
    else if (kind === BarKind.Rom) sayInline('pci.bar.rom', lo);
    if (kind === BarKind.Mem32 || kind === BarKind.Mem64 || kind === BarKind.Io || kind === BarKind.Rom) saySize(pciBarSize(f, slot));
    if (slot === ROM_SLOT) {
      if (error === BarError.AllOnes) sayError('pci.rom.allOnes');
      else if (error === BarError.NonContiguous) sayError('pci.rom.nonContiguous');
    } else if (error === BarError.AllOnes) sayError('pci.bar.allOnes', slot);
    else if (error === BarError.ReservedType) sayError('pci.bar.reservedType', slot);
    else if (error === BarError.Mem64Last) sayError('pci.bar.mem64Last', slot);
    else if (error === BarError.NonContiguous) sayError('pci.bar.nonContiguous', slot);
  }
};

const sayVirtio = (f: number, offset: number) => {
  if (!pciVirtioCapRead(f, offset)) {
    sayError('pci.cap.virtioShort', virtioFields[VirtioField.CapLen], virtioFields[VirtioField.CfgType]);
    return;
  }
  const type = virtioFields[VirtioField.CfgType];
  const bar = virtioFields[VirtioField.Bar];
  const off = virtioFields[VirtioField.OffsetLo];
  const length = virtioFields[VirtioField.LengthLo];
  if (type === VirtioCapType.Notify) say('pci.cap.virtioNotify', bar, off, length, virtioFields[VirtioField.NotifyMultiplier]);
  else if (type === VirtioCapType.SharedMemory) {
    say('pci.cap.virtioShm', virtioFields[VirtioField.Id], bar, virtioFields[VirtioField.OffsetHi], off);
    say('pci.cap.virtioShmLength', virtioFields[VirtioField.LengthHi], length);
  } else if (type === VirtioCapType.Common) say('pci.cap.virtio', text('pci.virtio.common'), bar, off, length);
  else if (type === VirtioCapType.Isr) say('pci.cap.virtio', text('pci.virtio.isr'), bar, off, length);
  else if (type === VirtioCapType.Device) say('pci.cap.virtio', text('pci.virtio.device'), bar, off, length);
  else if (type === VirtioCapType.PciCfg) say('pci.cap.virtio', text('pci.virtio.pciCfg'), bar, off, length);
  else if (type === VirtioCapType.Vendor) say('pci.cap.virtio', text('pci.virtio.vendor'), bar, off, length);
  else say('pci.cap.virtioOther', type, bar, off, length);
};

const stateText = (on: boolean) => (on ? text('pci.state.enabled') : text('pci.state.disabled'));

const showCap = (f: number, i: number) => {
  const offset = pciCapOffset(f, i);
  const id = pciCapId(f, i);
  say('pci.cap', offset, text(capName(id)), id);
  const head = pciRead32(f, offset);
  const control = head >>> 16;
  if (id === CapId.PowerManagement) say('pci.cap.pm', control & 7, pciRead32(f, offset + 4) & 3);
  else if (id === CapId.Msi) say('pci.cap.msi', (control & 0x80) !== 0 ? 64 : 32, Math.pow(2, (control >>> 1) & 7), stateText((control & 1) !== 0));
  else if (id === CapId.PciExpress) {
    const type = (control >>> 4) & 0xf;
    say('pci.cap.pcie', control & 0xf, text(pcieTypeName(type)));
  } else if (id === CapId.MsiX) {
    pciMsixRead(f, offset);
    say('pci.cap.msixTable', msixFields[MsixField.TableSize], msixFields[MsixField.TableBir], msixFields[MsixField.TableOffset]);
    say('pci.cap.msixPba', msixFields[MsixField.PbaBir], msixFields[MsixField.PbaOffset], stateText(msixFields[MsixField.Enabled] !== 0));
  } else if (id === CapId.VendorSpecific) {
    if (pciIsVirtio(f)) sayVirtio(f, offset);
    else say('pci.cap.vendor', (head >>> 16) & 0xff);
  }
};

const showCaps = (f: number) => {
  const n = pciCapCount(f);
  for (let i = 0; i < n; i++) showCap(f, i);
  const error = pciCapError(f);
  if (error === CapError.InHeader) sayError('pci.cap.inHeader', pciCapErrorWhere(f), pciCapErrorPointer(f));
  else if (error === CapError.Cycle) sayError('pci.cap.cycle', pciCapErrorWhere(f), pciCapErrorPointer(f));
  else if (error === CapError.AllOnes) sayError('pci.cap.allOnes', pciCapErrorWhere(f), pciCapErrorPointer(f));
};

const showFunction = (f: number, details: boolean) => {
  sayInline('pci.bdf', pciBus(f), pciDev(f), pciFn(f));
  sayInline('pci.row', pciVendor(f), pciDeviceId(f), pciClass(f), pciHeaderType(f));
  say(className(pciClass(f)));
  if (!details) return;
  if (pciHeaderLayout(f) === 1) say('pci.detail.buses', pciPrimaryBus(f), pciSecondaryBus(f), pciSubordinateBus(f));
  showBars(f);
  showCaps(f);
};

const showProblems = () => {
  const n = pciProblemCount();
  for (let i = 0; i < n; i++) {
    const kind = pciProblemKind(i);
    const bus = pciProblemBus(i);
    const dev = pciProblemDev(i);
    const fn = pciProblemFn(i);
    const value = pciProblemValue(i);
    if (kind === ScanProblem.TooManyFunctions) sayError('pci.problem.tooMany', value, bus, dev, fn);
    else if (kind === ScanProblem.UnknownHeader) sayError('pci.problem.unknownHeader', bus, dev, fn, value);
    else if (kind === ScanProblem.Unconfigured) sayError('pci.problem.unconfigured', bus, dev, fn);
    else if (kind === ScanProblem.BusNotAbove) sayError('pci.problem.notAbove', bus, dev, fn, value);
    else if (kind === ScanProblem.Inverted) sayError('pci.problem.inverted', bus, dev, fn, value);
    else if (kind === ScanProblem.Outside) sayError('pci.problem.outside', bus, dev, fn, value);
    else sayError('pci.problem.overlap', bus, dev, fn, value);
  }
  if (pciProblemsDropped() > 0) sayError('pci.problem.dropped', pciProblemsDropped());
};

const hexDigit = (cp: number) => {
  if (cp >= 48 && cp <= 57) return cp - 48;
  if (cp >= 97 && cp <= 102) return cp - 87;
  if (cp >= 65 && cp <= 70) return cp - 55;
  return -1;
};

// The address parsed by parseAddress, and the last field hexField read.
let wantBus = 0;
let wantDev = 0;
let wantFn = 0;
let parsed = 0;

/** Reads 1 to `maxDigits` hex digits of `word` from `at` up to `stop` (or the end); the position after them, or -1. */
const hexField = (word: Span, at: number, stop: number, maxDigits: number) => {
  let value = 0;
  let i = at;
  while (i < word.len && word.buf[word.start + i] !== stop) {
    const d = hexDigit(word.buf[word.start + i]);
    if (d < 0 || i - at >= maxDigits) return -1;
    value = value * 16 + d;
    i++;
  }
  if (i === at) return -1;
  parsed = value;
  return i;
};

/** bus:device.function in hex (bus 0-ff, device 0-1f, function 0-7); whether it parsed. */
const parseAddress = (word: Span) => {
  let i = hexField(word, 0, 58, 2); // ':'
  if (i < 0 || i >= word.len) return false;
  wantBus = parsed;
  i = hexField(word, i + 1, 46, 2); // '.'
  if (i < 0 || i >= word.len || parsed > 31) return false;
  wantDev = parsed;
  i = hexField(word, i + 1, -1, 1);
  if (i < 0 || parsed > 7) return false;
  wantFn = parsed;
  return true;
};

export const cmdPci = () => {
  const n = tokenCount();
  if (n > 3) return unexpectedArgument(Command.Pci, 3);
  let verbose = false;
  let addressWord = -1;
  for (let i = 1; i < n; i++) {
    const word = token(i);
    if (!verbose && (spanIs(word, '-v') || spanIs(word, '--verbose'))) verbose = true;
    else if (addressWord < 0 && word.buf[word.start] !== 45) {
      // not an option ('-'): a function address
      if (!parseAddress(word)) {
        sayError('pci.badAddress', word);
        return Status.Failed;
      }
      addressWord = i;
    } else return unexpectedArgument(Command.Pci, i);
  }
  pciScan();
  if (pciRejectedEcam() >= 0) sayError('pci.access.ecamRejected', Math.floor(pciRejectedEcam() / TWO_32), pciRejectedEcam() % TWO_32);
  if (pciAccessMethod() === PciAccess.Ecam) say('pci.access.ecam', pciEcamBaseHi(), pciEcamBaseLo(), pciFirstBus(), pciLastBus());
  else say('pci.access.ports');
  if (addressWord >= 0) {
    const f = pciFindAddress(wantBus, wantDev, wantFn);
    if (f < 0) {
      sayError('pci.notFound', token(addressWord));
      return Status.Failed;
    }
    showFunction(f, true);
    return Status.Ok;
  }
  const count = pciFunctionCount();
  for (let f = 0; f < count; f++) showFunction(f, verbose);
  showProblems();
  if (count === 0) say('pci.none');
  else say('pci.summary', count, pciBusesScanned());
  return Status.Ok;
};
