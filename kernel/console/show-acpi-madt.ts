// `acpi madt` and `cpus`: the decoded MADT (madt.ts) on the console.
import type { MsgKey } from '../i18n/dictionary';
import { text } from '../i18n/messages';
import { say } from './output';
import {
  LAPIC_ENABLED,
  LAPIC_ONLINE_CAPABLE,
  MADT_ADDRESS_OVERRIDE,
  MADT_IO_APIC,
  MADT_LOCAL_APIC,
  MADT_LOCAL_APIC_NMI,
  MADT_NMI_SOURCE,
  MADT_OVERRIDE,
  MADT_STRIDE,
  MADT_X2APIC,
  MADT_X2APIC_NMI,
  isProcessor,
  madtCount,
  madtEntries,
  madtHeader,
} from '../platform/acpi/madt';
import { tableHi, tableLo } from '../platform/acpi/tables';

const ALL_PROCESSORS = 0xff;
const ALL_X2APIC_PROCESSORS = 0xffffffff;
const apicKind = (x2apic: boolean) => (x2apic ? 'x2APIC' : 'xAPIC');

/** Local APIC flags as a word: enabled, else online-capable, else disabled. */
const stateKey = (flags: number): MsgKey =>
  (flags & LAPIC_ENABLED) !== 0 ? 'acpi.state.enabled' : (flags & LAPIC_ONLINE_CAPABLE) !== 0 ? 'acpi.state.onlineCapable' : 'acpi.state.disabled';

export const yesNo = (bit: number) => text(bit !== 0 ? 'acpi.yes' : 'acpi.no');

/** Shows table i as the MADT; false when it was not decoded. */
export const showMadt = (i: number) => {
  if (madtHeader[0] === 0) return false;
  say('acpi.madt.header', tableHi(i), tableLo(i), madtHeader[1], madtHeader[2]);
  say('acpi.madt.pcat', yesNo(madtHeader[2] & 1));
  const n = madtCount();
  for (let k = 0; k < n; k++) {
    const r = k * MADT_STRIDE;
    const a = madtEntries[r + 1];
    const b = madtEntries[r + 2];
    const c = madtEntries[r + 3];
    const d = madtEntries[r + 4];
    switch (madtEntries[r]) {
      case MADT_LOCAL_APIC:
        say('acpi.madt.lapic', a, b, text(stateKey(c)));
        break;
      case MADT_X2APIC:
        say('acpi.madt.x2apic', a, b, text(stateKey(c)));
        break;
      case MADT_IO_APIC:
        say('acpi.madt.ioapic', a, b, c);
        break;
      case MADT_OVERRIDE:
        say('acpi.madt.override', a, b, c, d);
        break;
      case MADT_NMI_SOURCE:
        say('acpi.madt.nmiSource', b, a);
        break;
      case MADT_LOCAL_APIC_NMI:
        if (a === ALL_PROCESSORS) say('acpi.madt.lapicNmiAll', c, b);
        else say('acpi.madt.lapicNmi', a, c, b);
        break;
      case MADT_X2APIC_NMI:
        if (a === ALL_X2APIC_PROCESSORS) say('acpi.madt.x2apicNmiAll', c, b);
        else say('acpi.madt.x2apicNmi', a, c, b);
        break;
      case MADT_ADDRESS_OVERRIDE:
        say('acpi.madt.addressOverride', b, a);
        break;
      default:
        say('acpi.madt.other', madtEntries[r], a);
    }
  }
  say('acpi.madt.count', n);
  return true;
};

/** Lists the processors of the MADT; false when there is no decoded MADT. */
export const showCpus = () => {
  if (madtHeader[0] === 0) return false;
  say('cpus.row', text('cpus.col.apicId'), text('cpus.col.kind'), text('cpus.col.state'), text('cpus.col.uid'));
  const n = madtCount();
  let enabled = 0;
  let capable = 0;
  let disabled = 0;
  for (let k = 0; k < n; k++) {
    if (!isProcessor(k)) continue;
    const r = k * MADT_STRIDE;
    const flags = madtEntries[r + 3];
    say('cpus.row', madtEntries[r + 2], apicKind(madtEntries[r] === MADT_X2APIC), text(stateKey(flags)), madtEntries[r + 1]);
    if ((flags & LAPIC_ENABLED) !== 0) enabled++;
    else if ((flags & LAPIC_ONLINE_CAPABLE) !== 0) capable++;
    else disabled++;
  }
  say('cpus.count', enabled + capable, enabled, capable, disabled);
  return true;
};
