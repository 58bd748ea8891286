// `acpi`: the ACPI tables found (and any problems), one decoded table, or a rescan.
// `cpus`: the processors the MADT lists. The parser is kernel/platform/acpi.
import type { MsgKey } from '../i18n/dictionary';
import { text } from '../i18n/messages';
import { readFirmwareMap } from '../platform/firmware-map';
import { facts } from '../platform/facts';
import { VIEWS, View, decodedTable, discoverAcpi } from '../platform/acpi/acpi';
import { ERROR_STRIDE, errorKey, errorRecords, errorsFound, errorsKept, fieldName, signatureArg } from '../platform/acpi/errors';
import { RsdpState, rsdpOemArg, rsdpRecord, rsdpState } from '../platform/acpi/rsdp';
import {
  TableState,
  tableCount,
  tableHi,
  tableLength,
  tableLo,
  tableOemArg,
  tableRevision,
  tableSignatureArg,
  tableState,
} from '../platform/acpi/tables';
import { showCpus, showMadt } from './show-acpi-madt';
import { showDmar, showIvrs } from './show-acpi-iommu';
import { showFadt, showHpet, showMcfg } from './show-acpi-other';
import { Command } from './command-table';
import { unexpectedArgument } from './args';
import { say, sayError, sayInline } from './output';
import { spanIs, token, tokenCount } from './tokens';
import { Status } from './status';

/** The subcommand showing a View. */
const viewWord = (view: number) => {
  switch (view) {
    case View.Fadt:
      return 'fadt';
    case View.Madt:
      return 'madt';
    case View.Mcfg:
      return 'mcfg';
    case View.Hpet:
      return 'hpet';
    case View.Dmar:
      return 'dmar';
  }
  return 'ivrs';
};

/** A View's table name as the specifications call it, and its signature. */
const viewName = (view: number) => (view === View.Fadt ? 'FADT' : view === View.Madt ? 'MADT' : viewSignature(view));
const viewSignature = (view: number) => {
  switch (view) {
    case View.Fadt:
      return 'FACP';
    case View.Madt:
      return 'APIC';
    case View.Mcfg:
      return 'MCFG';
    case View.Hpet:
      return 'HPET';
    case View.Dmar:
      return 'DMAR';
  }
  return 'IVRS';
};

/** The word for a TableState. */
const stateKey = (state: number): MsgKey => {
  switch (state) {
    case TableState.Ok:
      return 'acpi.sum.ok';
    case TableState.BadChecksum:
      return 'acpi.sum.bad';
    case TableState.NoChecksum:
      return 'acpi.sum.none';
  }
  return 'acpi.sum.unread';
};

const showErrors = () => {
  const kept = errorsKept();
  if (kept === 0) return;
  say('acpi.errors');
  for (let i = 0; i < kept; i++) {
    const r = i * ERROR_STRIDE;
    sayInline('acpi.indent');
    say(errorKey(errorRecords[r + 4]), signatureArg(errorRecords[r]), errorRecords[r + 2], errorRecords[r + 1], fieldName(errorRecords[r + 3]));
  }
  if (errorsFound() > kept) say('acpi.moreErrors', errorsFound() - kept);
};

const showTables = () => {
  const state = rsdpState();
  if (state === RsdpState.None) {
    say('acpi.none');
    return Status.Ok;
  }
  if (state === RsdpState.Ok) say('acpi.rsdp', rsdpRecord[2], rsdpRecord[1], rsdpRecord[3], rsdpOemArg());
  else say('acpi.rsdpUnusable', rsdpRecord[2], rsdpRecord[1]);
  const n = tableCount();
  if (n > 0) {
    sayInline('acpi.head', text('acpi.col.table'), text('acpi.col.address'), text('acpi.col.length'));
    say('acpi.rowEnd', text('acpi.col.revision'), text('acpi.col.oem'), text('acpi.col.checksum'));
    for (let i = 0; i < n; i++) {
      sayInline('acpi.row', tableSignatureArg(i), tableHi(i), tableLo(i), tableLength(i));
      const s = tableState(i);
      say('acpi.rowEnd', s === TableState.Unreadable ? 0 : tableRevision(i), tableOemArg(i), text(stateKey(s)));
    }
  }
  say('acpi.summary', n, errorsFound());
  showErrors();
  return Status.Ok;
};

const showView = (view: number) => {
  if (rsdpState() !== RsdpState.Ok) {
    sayError('acpi.none');
    return Status.Failed;
  }
  const i = decodedTable(view);
  let shown = false;
  if (i >= 0) {
    if (view === View.Fadt) shown = showFadt(i);
    else if (view === View.Madt) shown = showMadt(i);
    else if (view === View.Mcfg) shown = showMcfg(i);
    else if (view === View.Hpet) shown = showHpet(i);
    else if (view === View.Dmar) shown = showDmar(i);
    else shown = showIvrs(i);
  }
  if (shown) return Status.Ok;
  sayError('acpi.absent', viewName(view), viewSignature(view));
  return Status.Failed;
};

export const cmdAcpi = () => {
  const n = tokenCount();
  if (n > 2) return unexpectedArgument(Command.Acpi, 2);
  if (n === 1) return showTables();
  const word = token(1);
  if (spanIs(word, 'rescan')) {
    readFirmwareMap();
    discoverAcpi();
    say('acpi.rescanned', facts.acpiTables, facts.acpiErrors);
    return Status.Ok;
  }
  for (let v = 0; v < VIEWS; v++) {
    if (spanIs(word, viewWord(v))) return showView(v);
  }
  sayError('acpi.badSubcommand', word, text('cmd.acpi.usage'));
  return Status.Failed;
};

export const cmdCpus = () => {
  if (tokenCount() > 1) return unexpectedArgument(Command.Cpus, 1);
  if (rsdpState() !== RsdpState.Ok) {
    sayError('cpus.noAcpi');
    return Status.Failed;
  }
  const i = decodedTable(View.Madt);
  if (i < 0 || !showCpus()) {
    sayError('cpus.noMadt');
    return Status.Failed;
  }
  return Status.Ok;
};
