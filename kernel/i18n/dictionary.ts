// Message keys and the dictionary type. English defines the keys: the core messages in
// en.ts and each topic's in topics/<topic>.ts (<topic>En). Every other language must
// translate each of them (tsc checks it; tests/unit/i18n.test.mjs too).
import type { en } from './en';
import type { acpiEn } from './topics/acpi';
import type { pciEn } from './topics/pci';
import type { diagEn } from './topics/diag';
import type { platformEn } from './topics/platform';
import type { vmEn } from './topics/vm';
import type { migrationEn } from './topics/migration';
import type { netEn } from './topics/net';

export type MsgKey = keyof typeof en | keyof typeof acpiEn | keyof typeof pciEn | keyof typeof diagEn | keyof typeof platformEn | keyof typeof vmEn | keyof typeof migrationEn | keyof typeof netEn;
/** The core messages of one language (en.ts's keys). */
export type Dictionary = Record<keyof typeof en, string>;
