// The console's commands (except mem, in cmd-mem.ts). Each reads its words from
// tokens.ts and returns a Status; user mistakes are reported, never thrown.
import { text, LANGUAGE_CODES, language, setLanguage } from '../i18n/messages';
import { PRODUCT_NAME, PRODUCT_VERSION, BUILD_INFO } from '../lib/version';
import { Command, COMMAND_DESCRIPTION, COMMAND_DETAILS, COMMAND_NAMES, COMMAND_USAGE, findCommand } from './command-table';
import { unexpectedArgument, decimalArgument } from './args';
import { cmdMem } from './cmd-mem';
import { cmdAcpi, cmdCpus } from './cmd-acpi';
import { cmdPci } from './cmd-pci';
import { cmdLog, cmdAudit, cmdMetrics, cmdTrace } from './cmd-diag';
import { audit, AuditEvent, AuditSetting } from '../diag/audit';
import { cmdCaps } from './cmd-caps';
import { cmdTime } from './cmd-time';
import { cmdWdog } from './cmd-wdog';
import { cmdSleep, cmdVm } from './cmd-vm';
import { cmdConsole } from './cmd-console';
import { cmdNet } from './cmd-net';
import { cmdMigrate } from './cmd-migrate';
import { clearScreens, drainOutput, say, sayError, sayMarker } from './output';
import { EXIT_LINE } from '../lib/markers';
import { closest } from './suggest';
import { spanIs, token, tokenCount } from './tokens';
import { requestExit } from './state';
import { Status } from './status';
import type { MsgKey } from '../i18n/dictionary';
import type { Span } from '../lib/format';

/** Reports a word that names no command, suggesting the closest one; returns Status.Failed. */
export const sayUnknownCommand = (word: Span, plainKey: MsgKey, suggestKey: MsgKey) => {
  const guess = closest(word, COMMAND_NAMES);
  if (guess >= 0) sayError(suggestKey, word, COMMAND_NAMES[guess]);
  else sayError(plainKey, word);
  return Status.Failed;
};

const cmdHelp = () => {
  const n = tokenCount();
  if (n > 2) return unexpectedArgument(Command.Help, 2);
  if (n === 1) {
    say('help.header');
    for (let i = 0; i < COMMAND_NAMES.length; i++) say('help.row', COMMAND_NAMES[i], text(COMMAND_DESCRIPTION[i]));
    say('help.footer');
    return Status.Ok;
  }
  const topic = token(1);
  const command = findCommand(topic);
  if (command < 0) return sayUnknownCommand(topic, 'help.unknownTopic', 'help.unknownTopicSuggest');
  say('help.usage', text(COMMAND_USAGE[command]));
  say(COMMAND_DESCRIPTION[command]);
  say(COMMAND_DETAILS[command]);
  return Status.Ok;
};

const cmdVersion = () => {
  if (tokenCount() > 1) return unexpectedArgument(Command.Version, 1);
  say('version.line', PRODUCT_NAME, PRODUCT_VERSION);
  say('version.build', BUILD_INFO);
  return Status.Ok;
};

const cmdLang = () => {
  const n = tokenCount();
  if (n > 2) return unexpectedArgument(Command.Lang, 2);
  if (n === 1) {
    say('lang.current', text('lang.name'), LANGUAGE_CODES[language()]);
    return Status.Ok;
  }
  for (let i = 0; i < LANGUAGE_CODES.length; i++) {
    if (spanIs(token(1), LANGUAGE_CODES[i])) {
      const before = language();
      setLanguage(i);
      if (i !== before) audit(AuditEvent.ConfigChange, AuditSetting.Language, i, 'diag.audit.langChanged', LANGUAGE_CODES[before], LANGUAGE_CODES[i]);
      say('lang.changed');
      return Status.Ok;
    }
  }
  sayError('lang.unknown', token(1));
  return Status.Failed;
};

const cmdClear = () => {
  if (tokenCount() > 1) return unexpectedArgument(Command.Clear, 1);
  clearScreens();
  return Status.Ok;
};

const cmdExit = () => {
  const n = tokenCount();
  if (n > 2) return unexpectedArgument(Command.Exit, 2);
  const code = n === 2 ? decimalArgument(1, 255) : 0;
  if (code < 0) {
    sayError('exit.badCode', token(1));
    return Status.Failed;
  }
  say('exit.bye', code);
  sayMarker(EXIT_LINE, code); // test runners end the run on this line
  drainOutput();
  requestExit(code); // kernel/main.ts leaves its run loop and shuts the machine down
  return Status.Ok;
};

/** Runs command `index` with the words of the current line. */
export const runCommand = (index: number) => {
  switch (index) {
    case Command.Help:
      return cmdHelp();
    case Command.Version:
      return cmdVersion();
    case Command.Lang:
      return cmdLang();
    case Command.Mem:
      return cmdMem();
    case Command.Clear:
      return cmdClear();
    case Command.Exit:
      return cmdExit();
    case Command.Caps:
      return cmdCaps();
    case Command.Acpi:
      return cmdAcpi();
    case Command.Cpus:
      return cmdCpus();
    case Command.Pci:
      return cmdPci();
    case Command.Time:
      return cmdTime();
    case Command.Log:
      return cmdLog();
    case Command.Audit:
      return cmdAudit();
    case Command.Metrics:
      return cmdMetrics();
    case Command.Trace:
      return cmdTrace();
    case Command.Wdog:
      return cmdWdog();
    case Command.Vm:
      return cmdVm();
    case Command.Sleep:
      return cmdSleep();
    case Command.Console:
      return cmdConsole();
    case Command.Net:
      return cmdNet();
    case Command.Migrate:
      return cmdMigrate();
  }
  return Status.Failed;
};
