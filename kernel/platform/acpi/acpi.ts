// ACPI discovery: RSDP -> XSDT/RSDT -> each table checked (tables.ts) and, for FADT,
// MADT, MCFG, HPET, DMAR and IVRS, decoded; then the DSDT and FACS the FADT names are
// listed. Fills the ACPI part of the platform facts. Every problem is reported with the
// table and field (errors.ts) and the rest carries on. Allocates nothing: safe to call
// again (`acpi rescan`).
import { facts } from '../facts';
import { words } from './store';
import { Category, Level, log } from '../../diag/log';
import { Field, MAX_ERRORS, Problem, acpiError, clearErrors, errorsFound } from './errors';
import { RsdpState, findRoot, rootEntryAddr, rootEntryCount, rootHi, rootLo, rootTable, rsdpRecord } from './rsdp';
import {
  SIG_APIC,
  SIG_DMAR,
  SIG_DSDT,
  SIG_FACP,
  SIG_FACS,
  SIG_HPET,
  SIG_IVRS,
  SIG_MCFG,
  SIG_RSDT,
  SIG_XSDT,
  TableState,
  addTable,
  clearTables,
  tableAddr,
  tableCount,
  tableSig,
  tableState,
} from './tables';
import { clearFadt, decodeFadt, fadtRecord, FADT_TMR_VAL_EXT } from './fadt';
import { clearMadt, decodeMadt, isProcessor, localApicAddress, madtCount, madtEntries, madtHeader, MADT_IO_APIC, MADT_STRIDE } from './madt';
import { clearMcfg, decodeMcfg } from './mcfg';
import { clearHpet, decodeHpet, hpetRecord } from './hpet';
import { clearDmar, decodeDmar } from './dmar';
import { clearIvrs, decodeIvrs } from './ivrs';

const resetFacts = () => {
  facts.acpiPresent = false;
  facts.acpiRevision = 0;
  facts.acpiTables = 0;
  facts.acpiErrors = 0;
  facts.pmTimerPort = 0;
  facts.pmTimer32 = false;
  facts.hpetPresent = false;
  facts.hpetLo = 0;
  facts.hpetHi = 0;
  facts.cpuCount = 0;
  facts.ioApicCount = 0;
  facts.localApicLo = 0;
  facts.ecamCount = 0;
  for (let i = 0; i < facts.ecamBaseLo.length; i++) {
    facts.ecamBaseLo[i] = 0;
    facts.ecamBaseHi[i] = 0;
    facts.ecamSegment[i] = 0;
    facts.ecamStartBus[i] = 0;
    facts.ecamEndBus[i] = 0;
  }
  facts.iommuCount = 0;
  for (let i = 0; i < facts.iommuKind.length; i++) {
    facts.iommuKind[i] = 0;
    facts.iommuBaseLo[i] = 0;
    facts.iommuBaseHi[i] = 0;
    facts.iommuSegment[i] = 0;
    facts.iommuDevices[i] = 0;
  }
};

/** The decoded tables, by kind (View): table index + 1, or 0. */
export const enum View {
  Fadt = 0,
  Madt = 1,
  Mcfg = 2,
  Hpet = 3,
  Dmar = 4,
  Ivrs = 5,
}
export const VIEWS = 6;
const viewTable = words(VIEWS);

/** The View a signature is decoded as, or -1. */
const viewOf = (sig: number) => {
  switch (sig) {
    case SIG_FACP:
      return View.Fadt;
    case SIG_APIC:
      return View.Madt;
    case SIG_MCFG:
      return View.Mcfg;
    case SIG_HPET:
      return View.Hpet;
    case SIG_DMAR:
      return View.Dmar;
    case SIG_IVRS:
      return View.Ivrs;
  }
  return -1;
};

/** Index of the table decoded as `view`, or -1 (absent, unusable, or a duplicate). */
export const decodedTable = (view: View) => viewTable[view] - 1;

/** Decodes table i (its checksum is good) if it is one of the decoded kinds, once per kind. */
const decode = (i: number, refSig: number, refAddr: number) => {
  const sig = tableSig(i);
  const view = viewOf(sig);
  if (view < 0) return;
  if (viewTable[view] !== 0) {
    // A machine may have several HPET blocks, each with its own table: the first is used.
    if (view !== View.Hpet) acpiError(Problem.Duplicate, refSig, refAddr, Field.Entry);
    return;
  }
  viewTable[view] = i + 1;
  if (view === View.Fadt) decodeFadt(i);
  else if (view === View.Madt) decodeMadt(i);
  else if (view === View.Mcfg) decodeMcfg(i);
  else if (view === View.Hpet) decodeHpet(i);
  else if (view === View.Dmar) decodeDmar(i);
  else decodeIvrs(i);
};

/** Lists the table FADT field `field` (at FADT offset `offset`) points to; it must be `want`. */
const addFromFadt = (fadt: number, lo: number, hi: number, field: number, offset: number, want: number) => {
  if (lo === 0 && hi === 0 && want === SIG_FACS) return; // hardware-reduced platforms have no FACS
  const ref = tableAddr(fadt) + offset;
  const i = addTable(lo, hi, SIG_FACP, ref, field, want === SIG_FACS);
  if (i >= 0 && tableSig(i) !== want) acpiError(Problem.Signature, SIG_FACP, ref, field);
};

const walkRoot = (rootSig: number) => {
  const n = rootEntryCount();
  for (let k = 0; k < n; k++) {
    const i = addTable(rootLo[k], rootHi[k], rootSig, rootEntryAddr(k), Field.Entry, false);
    if (i < 0) continue;
    const sig = tableSig(i);
    if (sig === SIG_XSDT || sig === SIG_RSDT) {
      acpiError(Problem.Signature, rootSig, rootEntryAddr(k), Field.Entry); // a root inside the root
      continue;
    }
    if (tableState(i) === TableState.Ok) decode(i, rootSig, rootEntryAddr(k));
  }
  const fadt = decodedTable(View.Fadt);
  if (fadt >= 0 && fadtRecord[0] !== 0) {
    const f = fadtRecord;
    addFromFadt(fadt, f[9], f[10], f[11], f[12], SIG_DSDT);
    addFromFadt(fadt, f[13], f[14], f[15], f[16], SIG_FACS);
    facts.pmTimerPort = f[3];
    facts.pmTimer32 = f[3] !== 0 && (f[2] & FADT_TMR_VAL_EXT) !== 0;
  }
  if (madtHeader[0] !== 0) {
    const count = madtCount();
    let cpus = 0;
    let ioApics = 0;
    for (let k = 0; k < count; k++) {
      const r = k * MADT_STRIDE;
      if (isProcessor(k) && (madtEntries[r + 3] & 3) !== 0) cpus++;
      if (madtEntries[r] === MADT_IO_APIC) ioApics++;
    }
    facts.cpuCount = cpus;
    facts.ioApicCount = ioApics;
    facts.localApicLo = localApicAddress();
  }
  if (hpetRecord[0] !== 0) {
    facts.hpetPresent = true;
    facts.hpetLo = hpetRecord[4];
    facts.hpetHi = hpetRecord[5];
  }
};

/** Finds and checks the ACPI tables, decodes the ones Zerovisor uses, fills the facts. */
export const discoverAcpi = () => {
  clearErrors();
  clearTables();
  clearFadt();
  clearMadt();
  clearMcfg();
  clearHpet();
  clearDmar();
  clearIvrs();
  for (let v = 0; v < VIEWS; v++) viewTable[v] = 0;
  resetFacts();
  const state = findRoot();
  if (state === RsdpState.None) log(Level.Warn, Category.Acpi, 'acpi.noRsdp');
  if (state === RsdpState.Ok) {
    facts.acpiPresent = true;
    facts.acpiRevision = rsdpRecord[3];
    const root = rootTable();
    if (root >= 0) walkRoot(tableSig(root));
  }
  facts.acpiTables = tableCount();
  facts.acpiErrors = errorsFound();
  if (errorsFound() > MAX_ERRORS) log(Level.Warn, Category.Acpi, 'acpi.moreErrors', errorsFound() - MAX_ERRORS);
  log(Level.Debug, Category.Acpi, 'acpi.found', facts.acpiTables, facts.acpiRevision, facts.cpuCount, facts.acpiErrors);
};
