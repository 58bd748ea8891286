// Chinese (Simplified) messages (keys: en.ts). Same arguments and format specs as English.
import type { Dictionary } from './dictionary';

export const zh: Dictionary = {
  // Boot
  'boot.banner': '{0} {1} — x86-64 裸机虚拟机监控器',
  'boot.hint': '输入“help”查看命令列表。',
  'boot.noSerial': 'COM1 上没有串口；仅使用固件控制台',
  'boot.serialDetached': '已将固件终端从 {0} 个串口断开',

  // Console
  'console.prompt': 'zerovisor 控制台> ',
  'console.lineTooLong': '该行超过 {0} 个字符，已忽略。',
  'console.unknownCommand': '未知命令“{0}”。输入“help”查看命令列表。',
  'console.unknownCommandSuggest': '未知命令“{0}”。您是想输入“{1}”吗？',
  'console.unexpectedArg': '{0}：多余的参数“{1}”。用法：{2}',
  'console.missingArg': '{0}：缺少参数。用法：{1}',
  'console.internalError': '命令 {0} 发生内部错误：{1}',
  'console.unexpectedException': '意外的异常',
  'log.prefix': '[{0}] ',

  // help
  'help.header': '命令列表：',
  'help.row': '  {0,-8} {1}',
  'help.footer': '输入“help <命令>”查看某个命令的详细说明。',
  'help.usage': '用法：{0}',
  'help.unknownTopic': '没有“{0}”的帮助：不存在该命令。',
  'help.unknownTopicSuggest': '没有“{0}”的帮助：不存在该命令。您是想输入“{1}”吗？',

  // Command descriptions
  'cmd.help.usage': 'help [命令]',
  'cmd.help.desc': '列出所有命令，或显示某个命令的用法',
  'cmd.help.details': '不带参数时，列出所有命令及其简要说明。指定命令名时，显示该命令的用法和说明。',
  'cmd.version.usage': 'version',
  'cmd.version.desc': '显示 Zerovisor 的版本和构建信息',
  'cmd.version.details': '显示名称、版本以及构建所用的工具链。',
  'cmd.lang.usage': 'lang [en|ja|zh]',
  'cmd.lang.desc': '显示或更改控制台语言（en、ja、zh）',
  'cmd.lang.details': '不带参数时显示当前语言。指定 en、ja 或 zh 时，将提示符和所有消息切换为英语、日语或中文。',
  'cmd.mem.usage': 'mem [alloc <pages> [4k|2m|1g] | free <address>]',
  'cmd.mem.desc': '汇总显示 UEFI 内存映射和页分配器状态',
  'cmd.mem.details': '从 UEFI 固件读取内存映射，按内存类型显示 4 KiB 页数和 MiB 数、不含保留区域和内存映射 I/O 的总计，以及最大的空闲区域，然后显示页分配器的状态。“mem alloc <pages> [4k|2m|1g]”从固件按该对齐方式分配已清零的页；“mem free <address>”释放“mem alloc”返回的块。',
  'cmd.clear.usage': 'clear',
  'cmd.clear.desc': '清除屏幕',
  'cmd.clear.details': '清除固件控制台和串口终端的屏幕。',
  'cmd.exit.usage': 'exit [代码]',
  'cmd.exit.desc': '以退出代码（0–255）退出 Zerovisor',
  'cmd.exit.details': '在串口控制台输出 ZEROVISOR-EXIT <代码>。在 QEMU 中以该代码结束运行（isa-debug-exit）；在真实机器上返回固件。省略代码时为 0。',

  // version
  'version.line': '{0} 版本 {1}',
  'version.build': '构建工具：{0}',

  // lang
  'lang.name': '中文',
  'lang.current': '当前语言：{0}（{1}）。可选：en (English)、ja (日本語)、zh (中文)。',
  'lang.changed': '语言已设置为中文。',
  'lang.unknown': '未知语言“{0}”。可选：en、ja、zh。',

  // mem
  'mem.header': 'UEFI 内存映射：{0} 个描述符',
  'mem.col.type': '类型',
  'mem.col.pages': '页数',
  'mem.col.mib': 'MiB',
  'mem.col.desc': '说明',
  'mem.row': '  {0,-26} {1,10} {2,10:f1}  {3}',
  'mem.totalLabel': '总计（不含保留、MMIO）',
  'mem.total': '  {0,-26} {1,10} {2,10:f1}',
  'mem.largestFree': '最大空闲区域：{0:f1} MiB（{1} 页），起始地址 0x{2:x8}{3:x8}',
  'mem.noFree': '未报告空闲（conventional）内存。',
  'mem.empty': '固件未返回内存映射。',
  'mem.tooLarge': '内存映射有 {0} 个描述符；最多只能读取 {1} 个。',
  'mem.inconsistent': '固件返回了不一致的内存映射',
  'mem.type.0': '保留，不可用',
  'mem.type.1': 'UEFI 应用程序代码',
  'mem.type.2': 'UEFI 应用程序数据',
  'mem.type.3': '启动服务驱动程序代码',
  'mem.type.4': '启动服务驱动程序数据',
  'mem.type.5': '运行时服务驱动程序代码',
  'mem.type.6': '运行时服务驱动程序数据',
  'mem.type.7': '空闲内存',
  'mem.type.8': '有错误的内存',
  'mem.type.9': 'ACPI 表（可回收）',
  'mem.type.10': 'ACPI 固件存储（NVS）',
  'mem.type.11': '内存映射 I/O',
  'mem.type.12': '内存映射 I/O 端口空间',
  'mem.type.13': '处理器固件（PAL 代码）',
  'mem.type.14': '持久性内存',
  'mem.type.15': '尚未接受的内存（机密虚拟机）',
  'mem.type.other': 'OEM 或操作系统定义的类型',
  'mem.type.otherName': '（其他类型）',

  // exit
  'exit.badCode': 'exit：“{0}”不是退出代码；请使用 0 到 255 之间的数字。',
  'exit.bye': '以退出代码 {0} 退出 Zerovisor。',

  // startup.zv
  'script.running': '正在运行 {0}（{1} 字节）',
  'script.errorAt': '{0} 第 {1} 行：',
  'script.finished': '{0} 运行结束：执行了 {1} 条命令，{2} 条失败。',
  'script.tooLarge': '{0} 超过 {1} 字节，未运行。',
  'script.readError': '无法读取 {0}（错误 {1}）。',

  // Fatal
  'fatal.unexpected': '控制台发生意外异常：{0}',

};
