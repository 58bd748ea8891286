// English messages. This dictionary defines the message keys (see dictionary.ts).
// Templates: {0}..{3} are the arguments; {0,8} right-aligns in 8 columns, {0,-8}
// left-aligns; {0:x8} is 8 hex digits, {0:f1} one decimal (kernel/lib/format.ts).
// Lines that programs parse are not here: kernel/lib/markers.ts.

export const en = {
  // Boot
  'boot.banner': '{0} {1} - bare-metal x86-64 hypervisor',
  'boot.hint': 'Type "help" for a list of commands.',
  'boot.noSerial': 'no serial port at COM1; using the firmware console only',
  'boot.serialDetached': 'firmware terminal detached from {0} serial port(s)',

  // Console
  'console.prompt': 'zerovisor> ',
  'console.lineTooLong': 'The line is longer than {0} characters and was ignored.',
  'console.unknownCommand': 'Unknown command "{0}". Type "help" to list the commands.',
  'console.unknownCommandSuggest': 'Unknown command "{0}". Did you mean "{1}"?',
  'console.unexpectedArg': '{0}: unexpected argument "{1}". Usage: {2}',
  'console.missingArg': '{0}: more arguments are needed. Usage: {1}',
  'console.internalError': 'Internal error in command {0}: {1}',
  'console.unexpectedException': 'unexpected exception',
  'log.prefix': '[{0}] ',

  // help
  'help.header': 'Commands:',
  'help.row': '  {0,-8} {1}',
  'help.footer': 'Type "help <command>" for details on one command.',
  'help.usage': 'Usage: {0}',
  'help.unknownTopic': 'No help for "{0}": there is no such command.',
  'help.unknownTopicSuggest': 'No help for "{0}": there is no such command. Did you mean "{1}"?',

  // Command descriptions: usage line, one-line description, details for `help <command>`
  'cmd.help.usage': 'help [command]',
  'cmd.help.desc': 'List the commands, or show how to use one',
  'cmd.help.details': 'Without an argument, lists every command with a one-line description. With a command name, shows its usage and what it does.',
  'cmd.version.usage': 'version',
  'cmd.version.desc': 'Show the Zerovisor version and build information',
  'cmd.version.details': 'Shows the name, the version and the toolchain this build was made with.',
  'cmd.lang.usage': 'lang [en|ja|zh]',
  'cmd.lang.desc': 'Show or change the console language (en, ja, zh)',
  'cmd.lang.details': 'Without an argument, shows the current language. With en, ja or zh, switches the prompt and all messages to English, Japanese or Chinese.',
  'cmd.mem.usage': 'mem [alloc <pages> [4k|2m|1g] | free <address>]',
  'cmd.mem.desc': 'Summarize the UEFI memory map and the page allocator',
  'cmd.mem.details': 'Reads the memory map from the UEFI firmware and shows, for each memory type, the number of 4 KiB pages and MiB, the total without reserved ranges and memory-mapped I/O, and the largest free region, then the page allocator\'s state. "mem alloc <pages> [4k|2m|1g]" allocates zeroed pages at that alignment from the firmware; "mem free <address>" frees a block "mem alloc" returned.',
  'cmd.clear.usage': 'clear',
  'cmd.clear.desc': 'Clear the screen',
  'cmd.clear.details': 'Clears the firmware console and the serial terminal.',
  'cmd.exit.usage': 'exit [code]',
  'cmd.exit.desc': 'Leave Zerovisor with an exit code (0-255)',
  'cmd.exit.details': 'Prints ZEROVISOR-EXIT <code> on the serial console. Under QEMU the run ends with that code (isa-debug-exit); on a real machine Zerovisor returns to the firmware. The code defaults to 0.',

  // version
  'version.line': '{0} version {1}',
  'version.build': 'Built with {0}',

  // lang
  'lang.name': 'English',
  'lang.current': 'Language: {0} ({1}). Available: en (English), ja (日本語), zh (中文).',
  'lang.changed': 'Language set to English.',
  'lang.unknown': 'Unknown language "{0}". Available: en, ja, zh.',

  // mem (memory type descriptions: UEFI 2.10, Table 7.10 "Memory Type Usage before ExitBootServices()")
  'mem.header': 'UEFI memory map: {0} descriptors',
  'mem.col.type': 'Type',
  'mem.col.pages': 'Pages',
  'mem.col.mib': 'MiB',
  'mem.col.desc': 'Description',
  'mem.row': '  {0,-26} {1,10} {2,10:f1}  {3}',
  'mem.totalLabel': 'Total (no reserved, MMIO)',
  'mem.total': '  {0,-26} {1,10} {2,10:f1}',
  'mem.largestFree': 'Largest free region: {0:f1} MiB ({1} pages) at 0x{2:x8}{3:x8}',
  'mem.noFree': 'No free (conventional) memory is reported.',
  'mem.empty': 'The firmware returned no memory map.',
  'mem.tooLarge': 'The memory map has {0} descriptors; at most {1} can be read.',
  'mem.inconsistent': 'the firmware returned an inconsistent memory map',
  'mem.type.0': 'reserved, not usable',
  'mem.type.1': 'code of loaded UEFI applications',
  'mem.type.2': 'data of loaded UEFI applications',
  'mem.type.3': 'boot services driver code',
  'mem.type.4': 'boot services driver data',
  'mem.type.5': 'runtime services driver code',
  'mem.type.6': 'runtime services driver data',
  'mem.type.7': 'free memory',
  'mem.type.8': 'memory with errors',
  'mem.type.9': 'ACPI tables (reclaimable)',
  'mem.type.10': 'ACPI firmware storage (NVS)',
  'mem.type.11': 'memory-mapped I/O',
  'mem.type.12': 'memory-mapped I/O port space',
  'mem.type.13': 'processor firmware (PAL code)',
  'mem.type.14': 'persistent memory',
  'mem.type.15': 'memory not yet accepted (confidential VM)',
  'mem.type.other': 'OEM or operating-system defined types',
  'mem.type.otherName': '(other types)',

  // exit
  'exit.badCode': 'exit: "{0}" is not an exit code; use a number from 0 to 255.',
  'exit.bye': 'Leaving Zerovisor with exit code {0}.',

  // startup.zv
  'script.running': 'Running {0} ({1} bytes)',
  'script.errorAt': '{0} line {1}: ',
  'script.finished': '{0} finished: {1} commands run, {2} failed.',
  'script.tooLarge': '{0} is larger than {1} bytes and was not run.',
  'script.readError': '{0} could not be read (error {1}).',

  // Fatal
  'fatal.unexpected': 'unexpected exception in the console: {0}',

};
