// The current language and message lookup, English where a dictionary lacks a key.
import { en } from './en';
import { ja } from './ja';
import { zh } from './zh';
import type { Dictionary, MsgKey } from './dictionary';

/** Language codes as the `lang` command takes them; the index is the language id. */
export const LANGUAGE_CODES = ['en', 'ja', 'zh'];

const DICTIONARIES: Partial<Dictionary>[] = [en, ja, zh];

let current = 0;

/** The current language id (an index into LANGUAGE_CODES). */
export const language = () => current;

export const setLanguage = (id: number) => {
  if (id >= 0 && id < LANGUAGE_CODES.length) current = id;
};

/** The message template for `key` in the current language, or the English one. */
export const text = (key: MsgKey) => {
  const translated = DICTIONARIES[current][key];
  if (translated !== undefined) return translated;
  return en[key];
};
