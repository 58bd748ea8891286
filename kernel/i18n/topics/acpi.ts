// Messages of the acpi topic (see README.md).
import type { Translation } from './translation';

export const acpiEn = {
  'cmd.acpi.usage': 'acpi',
  'cmd.acpi.desc': '(todo acpi)',
  'cmd.acpi.details': '(todo acpi details)',
  'cmd.cpus.usage': 'cpus',
  'cmd.cpus.desc': '(todo cpus)',
  'cmd.cpus.details': '(todo cpus details)',
};

export const acpiJa: Translation<typeof acpiEn> = {
  'cmd.acpi.usage': 'acpi',
  'cmd.acpi.desc': '（未実装 acpi）',
  'cmd.acpi.details': '（未実装 acpi 詳細）',
  'cmd.cpus.usage': 'cpus',
  'cmd.cpus.desc': '（未実装 cpus）',
  'cmd.cpus.details': '（未実装 cpus 詳細）',
};

export const acpiZh: Translation<typeof acpiEn> = {
  'cmd.acpi.usage': 'acpi',
  'cmd.acpi.desc': '（未实现 acpi）',
  'cmd.acpi.details': '（未实现 acpi 详情）',
  'cmd.cpus.usage': 'cpus',
  'cmd.cpus.desc': '（未实现 cpus）',
  'cmd.cpus.details': '（未实现 cpus 详情）',
};

/** Keys whose text is the same in every language (command syntax, machine-read lines). */
export const acpiVerbatim = ['cmd.acpi.usage', 'cmd.cpus.usage'];
