// `acpi fadt`, `acpi hpet`, `acpi mcfg`: the decoded tables on the console.
import { say, sayInline } from './output';
import { facts } from '../platform/facts';
import { Field, fieldName } from '../platform/acpi/errors';
import { FADT_HW_REDUCED_ACPI, FADT_TMR_VAL_EXT, PmTimerSource, fadtRecord } from '../platform/acpi/fadt';
import { hpetRecord } from '../platform/acpi/hpet';
import { mcfgHeader } from '../platform/acpi/mcfg';
import { tableHi, tableLo } from '../platform/acpi/tables';
import { yesNo } from './show-acpi-madt';

/** Shows table i as the FADT; false when it was not decoded. */
export const showFadt = (i: number) => {
  const f = fadtRecord;
  if (f[0] === 0) return false;
  say('acpi.fadt.header', tableHi(i), tableLo(i), f[1], f[8]);
  say('acpi.fadt.flags', f[2], yesNo(f[2] & FADT_TMR_VAL_EXT), yesNo(f[2] & FADT_HW_REDUCED_ACPI));
  if (f[4] === PmTimerSource.None) say('acpi.fadt.noPmTimer');
  else say('acpi.fadt.pmTimer', f[3], fieldName(f[4] === PmTimerSource.Extended ? Field.XPmTmrBlk : Field.PmTmrBlk), (f[2] & FADT_TMR_VAL_EXT) !== 0 ? 32 : 24);
  say('acpi.fadt.sci', f[5], f[6], f[7]);
  say('acpi.fadt.dsdt', f[10], f[9], fieldName(f[11]));
  if (f[13] === 0 && f[14] === 0) say('acpi.fadt.noFacs');
  else say('acpi.fadt.facs', f[14], f[13], fieldName(f[15]));
  return true;
};

/** Shows table i as the HPET table; false when it was not decoded. */
export const showHpet = (i: number) => {
  const h = hpetRecord;
  if (h[0] === 0) return false;
  const id = h[1];
  say('acpi.hpet.header', tableHi(i), tableLo(i), h[6], id);
  say('acpi.hpet.base', h[5], h[4], h[7], h[8]);
  // Event Timer Block ID: vendor 31:16, LEG_RT_CAP 15, COUNT_SIZE_CAP 13, NUM_TIM_CMP 12:8.
  say('acpi.hpet.id', id >>> 16, ((id >>> 8) & 31) + 1, yesNo(id & 0x2000), yesNo(id & 0x8000));
  return true;
};

/** Shows table i as the MCFG; false when it was not decoded. */
export const showMcfg = (i: number) => {
  if (mcfgHeader[0] === 0) return false;
  say('acpi.mcfg.header', tableHi(i), tableLo(i), mcfgHeader[1], facts.ecamCount);
  for (let k = 0; k < facts.ecamCount; k++) {
    sayInline('acpi.mcfg.row', facts.ecamSegment[k], facts.ecamStartBus[k], facts.ecamEndBus[k]);
    say('acpi.mcfg.base', facts.ecamBaseHi[k], facts.ecamBaseLo[k]);
  }
  return true;
};
