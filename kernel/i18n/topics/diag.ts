// Messages of the diag topic (see README.md).
import type { Translation } from './translation';

export const diagEn = {
  'cmd.log.usage': 'log',
  'cmd.log.desc': '(todo log)',
  'cmd.log.details': '(todo log details)',
  'cmd.audit.usage': 'audit',
  'cmd.audit.desc': '(todo audit)',
  'cmd.audit.details': '(todo audit details)',
  'cmd.metrics.usage': 'metrics',
  'cmd.metrics.desc': '(todo metrics)',
  'cmd.metrics.details': '(todo metrics details)',
  'cmd.trace.usage': 'trace',
  'cmd.trace.desc': '(todo trace)',
  'cmd.trace.details': '(todo trace details)',
};

export const diagJa: Translation<typeof diagEn> = {
  'cmd.log.usage': 'log',
  'cmd.log.desc': '（未実装 log）',
  'cmd.log.details': '（未実装 log 詳細）',
  'cmd.audit.usage': 'audit',
  'cmd.audit.desc': '（未実装 audit）',
  'cmd.audit.details': '（未実装 audit 詳細）',
  'cmd.metrics.usage': 'metrics',
  'cmd.metrics.desc': '（未実装 metrics）',
  'cmd.metrics.details': '（未実装 metrics 詳細）',
  'cmd.trace.usage': 'trace',
  'cmd.trace.desc': '（未実装 trace）',
  'cmd.trace.details': '（未実装 trace 詳細）',
};

export const diagZh: Translation<typeof diagEn> = {
  'cmd.log.usage': 'log',
  'cmd.log.desc': '（未实现 log）',
  'cmd.log.details': '（未实现 log 详情）',
  'cmd.audit.usage': 'audit',
  'cmd.audit.desc': '（未实现 audit）',
  'cmd.audit.details': '（未实现 audit 详情）',
  'cmd.metrics.usage': 'metrics',
  'cmd.metrics.desc': '（未实现 metrics）',
  'cmd.metrics.details': '（未实现 metrics 详情）',
  'cmd.trace.usage': 'trace',
  'cmd.trace.desc': '（未实现 trace）',
  'cmd.trace.details': '（未实现 trace 详情）',
};

/** Keys whose text is the same in every language (command syntax, machine-read lines). */
export const diagVerbatim = ['cmd.log.usage', 'cmd.audit.usage', 'cmd.metrics.usage', 'cmd.trace.usage'];
