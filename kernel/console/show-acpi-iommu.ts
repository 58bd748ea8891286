// `acpi dmar` and `acpi ivrs`: the decoded IOMMU tables (dmar.ts, ivrs.ts) on the console.
// PCI requester IDs (DeviceID) are shown as bus:device.function (bus 15:8, device 7:3,
// function 2:0).
import type { MsgKey } from '../i18n/dictionary';
import { text } from '../i18n/messages';
import { say, sayInline } from './output';
import {
  DMAR_ANDD,
  DMAR_ATSR,
  DMAR_DRHD,
  DMAR_RHSA,
  DMAR_RMRR,
  DMAR_STRIDE,
  SCOPE_STRIDE,
  dmarHeader,
  dmarPath,
  dmarScopes,
  dmarStructures,
  structureScopeCount,
  structureScopes,
} from '../platform/acpi/dmar';
import { DEV_ACPI_HID, ENTRY_STRIDE, BLOCK_STRIDE, IVHD_10, blockEntries, blockEntryCount, isIvhd, ivrsBlocks, ivrsEntries, ivrsHeader } from '../platform/acpi/ivrs';
import { tableHi, tableLo } from '../platform/acpi/tables';
import { yesNo } from './show-acpi-madt';

/** Device Scope types 1..5 (VT-d 3.4 section 8.3.1). */
const scopeKey = (type: number): MsgKey => {
  switch (type) {
    case 1:
      return 'acpi.scope.endpoint';
    case 2:
      return 'acpi.scope.bridge';
    case 3:
      return 'acpi.scope.ioapic';
    case 4:
      return 'acpi.scope.hpet';
  }
  return 'acpi.scope.namespace';
};

const showScopes = (k: number) => {
  const first = structureScopes(k);
  const count = structureScopeCount(k);
  for (let s = first; s < first + count; s++) {
    const r = s * SCOPE_STRIDE;
    const type = dmarScopes[r];
    if (type >= 1 && type <= 5) sayInline('acpi.dmar.scope', text(scopeKey(type)), dmarScopes[r + 2], dmarScopes[r + 3]);
    else sayInline('acpi.dmar.scopeOther', type, dmarScopes[r + 2], dmarScopes[r + 3]);
    const path = dmarScopes[r + 4];
    const hops = dmarScopes[r + 5];
    if (hops === 0) say('acpi.dmar.noPath');
    for (let h = 0; h < hops; h++) {
      const dev = dmarPath[path + 2 * h];
      const fn = dmarPath[path + 2 * h + 1];
      if (h + 1 < hops) sayInline('acpi.dmar.hop', dev, fn);
      else say('acpi.dmar.hop', dev, fn);
    }
  }
};

/** Shows table i as the DMAR; false when it was not decoded. */
export const showDmar = (i: number) => {
  if (dmarHeader[0] === 0) return false;
  const flags = dmarHeader[2];
  say('acpi.dmar.header', tableHi(i), tableLo(i), dmarHeader[1] + 1, flags);
  say('acpi.dmar.flags', yesNo(flags & 1), yesNo(flags & 2), yesNo(flags & 4));
  const n = dmarHeader[3];
  for (let k = 0; k < n; k++) {
    const r = k * DMAR_STRIDE;
    const type = dmarStructures[r];
    const flagsK = dmarStructures[r + 1];
    const segment = dmarStructures[r + 2];
    const aLo = dmarStructures[r + 3];
    const aHi = dmarStructures[r + 4];
    const bLo = dmarStructures[r + 5];
    if (type === DMAR_DRHD) {
      say('acpi.dmar.drhd', segment, aHi, aLo, flagsK);
      say('acpi.dmar.drhdMore', yesNo(flagsK & 1), bLo);
    } else if (type === DMAR_RMRR) {
      sayInline('acpi.dmar.rmrr', segment, aHi, aLo);
      say('acpi.dmar.limit', dmarStructures[r + 6], bLo);
    } else if (type === DMAR_ATSR) say('acpi.dmar.atsr', segment, flagsK, yesNo(flagsK & 1));
    else if (type === DMAR_RHSA) say('acpi.dmar.rhsa', aHi, aLo, bLo);
    else if (type === DMAR_ANDD) say('acpi.dmar.andd', aLo);
    else say('acpi.dmar.other', type, aLo);
    showScopes(k);
  }
  say('acpi.dmar.count', n, dmarHeader[4]);
  return true;
};

/** A DeviceID as bus, device, function arguments: bus. */
const bus = (id: number) => id >>> 8;
const dev = (id: number) => (id >>> 3) & 31;
const fn = (id: number) => id & 7;

/** Special device Variety (AMD IOMMU 3.08 Table 97): 1 IOAPIC, 2 HPET. */
const varietyKey = (variety: number): MsgKey => (variety === 1 ? 'acpi.variety.ioapic' : variety === 2 ? 'acpi.variety.hpet' : 'acpi.variety.other');

const showEntry = (e: number) => {
  const r = e * ENTRY_STRIDE;
  const type = ivrsEntries[r];
  const id = ivrsEntries[r + 1];
  const data = ivrsEntries[r + 2];
  const extra = ivrsEntries[r + 3];
  switch (type) {
    case 0x01:
      say('acpi.ivrs.dev.all', data);
      return;
    case 0x02:
      say('acpi.ivrs.dev.select', bus(id), dev(id), fn(id), data);
      return;
    case 0x03:
      say('acpi.ivrs.dev.start', bus(id), dev(id), fn(id), data);
      return;
    case 0x04:
      say('acpi.ivrs.dev.end', bus(id), dev(id), fn(id));
      return;
    case 0x42:
    case 0x43:
      sayInline(type === 0x42 ? 'acpi.ivrs.dev.aliasSelect' : 'acpi.ivrs.dev.aliasStart', bus(id), dev(id), fn(id), data);
      say('acpi.ivrs.dev.aliasOf', bus(extra), dev(extra), fn(extra));
      return;
    case 0x46:
    case 0x47:
      sayInline(type === 0x46 ? 'acpi.ivrs.dev.extSelect' : 'acpi.ivrs.dev.extStart', bus(id), dev(id), fn(id), data);
      say('acpi.ivrs.dev.extData', extra);
      return;
    case 0x48: {
      const variety = (extra >>> 8) & 255;
      const used = extra >>> 16;
      sayInline('acpi.ivrs.dev.special', text(varietyKey(variety)), extra & 255, data);
      say('acpi.ivrs.dev.specialId', bus(used), dev(used), fn(used));
      return;
    }
    case DEV_ACPI_HID:
      say('acpi.ivrs.dev.hid', bus(id), dev(id), fn(id), data);
      return;
  }
  say('acpi.ivrs.dev.reserved', type);
};

/** Shows table i as the IVRS; false when it was not decoded. */
export const showIvrs = (i: number) => {
  if (ivrsHeader[0] === 0) return false;
  const info = ivrsHeader[1];
  say('acpi.ivrs.header', tableHi(i), tableLo(i), info);
  say('acpi.ivrs.info', (info >>> 8) & 0x7f, (info >>> 15) & 0x7f, yesNo(info & 1));
  const n = ivrsHeader[2];
  for (let k = 0; k < n; k++) {
    const r = k * BLOCK_STRIDE;
    const type = ivrsBlocks[r];
    const id = ivrsBlocks[r + 2];
    if (isIvhd(type)) {
      sayInline('acpi.ivrs.ivhd', type, ivrsBlocks[r + 5], ivrsBlocks[r + 4], ivrsBlocks[r + 6]);
      say('acpi.ivrs.device', bus(id), dev(id), fn(id));
      say(type === IVHD_10 ? 'acpi.ivrs.ivhdFeatures' : 'acpi.ivrs.ivhdAttributes', ivrsBlocks[r + 1], ivrsBlocks[r + 3], ivrsBlocks[r + 7], ivrsBlocks[r + 8]);
      if (type !== IVHD_10) say('acpi.ivrs.efr', ivrsBlocks[r + 10], ivrsBlocks[r + 9]);
      const first = blockEntries(k);
      const count = blockEntryCount(k);
      for (let e = first; e < first + count; e++) showEntry(e);
    } else if (type >= 0x20 && type <= 0x22) {
      sayInline('acpi.ivrs.ivmd', type, ivrsBlocks[r + 5], ivrsBlocks[r + 4], ivrsBlocks[r + 1]);
      say('acpi.ivrs.ivmdLength', ivrsBlocks[r + 7], ivrsBlocks[r + 6]);
    } else say('acpi.ivrs.other', type, ivrsBlocks[r + 3]);
  }
  say('acpi.ivrs.count', n, ivrsHeader[3], ivrsHeader[4]);
  return true;
};
