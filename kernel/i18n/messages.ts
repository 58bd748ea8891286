// The current language and message lookup, English where a dictionary lacks a key.
import { en } from './en';
import { ja } from './ja';
import { zh } from './zh';
import { acpiEn, acpiJa, acpiZh } from './topics/acpi';
import { pciEn, pciJa, pciZh } from './topics/pci';
import { diagEn, diagJa, diagZh } from './topics/diag';
import { platformEn, platformJa, platformZh } from './topics/platform';
import { vmEn, vmJa, vmZh } from './topics/vm';
import { migrationEn, migrationJa, migrationZh } from './topics/migration';
import { netEn, netJa, netZh } from './topics/net';
import type { MsgKey } from './dictionary';

/** Language codes as the `lang` command takes them; the index is the language id. */
export const LANGUAGE_CODES = ['en', 'ja', 'zh'];

type Part = Partial<Record<MsgKey, string>>;

/** Per language: the core dictionary, then each topic's (topics/README.md). */
const DICTIONARIES: Part[][] = [
  [en, acpiEn, pciEn, diagEn, platformEn, vmEn, migrationEn, netEn],
  [ja, acpiJa, pciJa, diagJa, platformJa, vmJa, migrationJa, netJa],
  [zh, acpiZh, pciZh, diagZh, platformZh, vmZh, migrationZh, netZh],
];

const lookup = (parts: Part[], key: MsgKey) => {
  for (let i = 0; i < parts.length; i++) {
    const found = parts[i][key];
    if (found !== undefined) return found;
  }
  return undefined;
};

let current = 0;

/** The current language id (an index into LANGUAGE_CODES). */
export const language = () => current;

export const setLanguage = (id: number) => {
  if (id >= 0 && id < LANGUAGE_CODES.length) current = id;
};

/** The message template for `key` in the current language, or the English one. */
export const text = (key: MsgKey) => {
  const translated = lookup(DICTIONARIES[current], key);
  if (translated !== undefined) return translated;
  const english = lookup(DICTIONARIES[0], key);
  return english !== undefined ? english : '';
};
