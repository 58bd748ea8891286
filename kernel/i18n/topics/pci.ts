// Messages of the pci topic (see README.md).
import type { Translation } from './translation';

export const pciEn = {
  'cmd.pci.usage': 'pci',
  'cmd.pci.desc': '(todo pci)',
  'cmd.pci.details': '(todo pci details)',
};

export const pciJa: Translation<typeof pciEn> = {
  'cmd.pci.usage': 'pci',
  'cmd.pci.desc': '（未実装 pci）',
  'cmd.pci.details': '（未実装 pci 詳細）',
};

export const pciZh: Translation<typeof pciEn> = {
  'cmd.pci.usage': 'pci',
  'cmd.pci.desc': '（未实现 pci）',
  'cmd.pci.details': '（未实现 pci 详情）',
};

/** Keys whose text is the same in every language (command syntax, machine-read lines). */
export const pciVerbatim = ['cmd.pci.usage'];
