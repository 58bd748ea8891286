// Message keys and the dictionary type. English (en.ts) defines the keys; every other
// language must translate each of them (tsc checks it; tests/unit/dictionaries.test.mjs too).
import type { en } from './en';

export type MsgKey = keyof typeof en;
export type Dictionary = Record<MsgKey, string>;
