// Messages of the platform topic (see README.md).
import type { Translation } from './translation';

export const platformEn = {
  'cmd.caps.usage': 'caps',
  'cmd.caps.desc': '(todo caps)',
  'cmd.caps.details': '(todo caps details)',
  'cmd.time.usage': 'time',
  'cmd.time.desc': '(todo time)',
  'cmd.time.details': '(todo time details)',
  'cmd.wdog.usage': 'wdog',
  'cmd.wdog.desc': '(todo wdog)',
  'cmd.wdog.details': '(todo wdog details)',
};

export const platformJa: Translation<typeof platformEn> = {
  'cmd.caps.usage': 'caps',
  'cmd.caps.desc': '（未実装 caps）',
  'cmd.caps.details': '（未実装 caps 詳細）',
  'cmd.time.usage': 'time',
  'cmd.time.desc': '（未実装 time）',
  'cmd.time.details': '（未実装 time 詳細）',
  'cmd.wdog.usage': 'wdog',
  'cmd.wdog.desc': '（未実装 wdog）',
  'cmd.wdog.details': '（未実装 wdog 詳細）',
};

export const platformZh: Translation<typeof platformEn> = {
  'cmd.caps.usage': 'caps',
  'cmd.caps.desc': '（未实现 caps）',
  'cmd.caps.details': '（未实现 caps 详情）',
  'cmd.time.usage': 'time',
  'cmd.time.desc': '（未实现 time）',
  'cmd.time.details': '（未实现 time 详情）',
  'cmd.wdog.usage': 'wdog',
  'cmd.wdog.desc': '（未实现 wdog）',
  'cmd.wdog.details': '（未实现 wdog 详情）',
};

/** Keys whose text is the same in every language (command syntax, machine-read lines). */
export const platformVerbatim = ['cmd.caps.usage', 'cmd.time.usage', 'cmd.wdog.usage'];
