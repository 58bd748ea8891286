// Machine strings: lines that the test runners, scripts and benchmarks parse. Their bytes
// are an interface, so they are constants, the same in every language (never in
// kernel/i18n). Templates as in the dictionaries: {0} is the argument.

/** The last line `exit` prints: toolchain/bochs-run ends the run on it, uefi-run reads codes >= 128 from it. */
export const EXIT_LINE = 'ZEROVISOR-EXIT {0}';

/** The boot log's line at the first prompt, "[boot] first prompt after N TSC ticks" (bench/foundation.mjs reads N). */
export const READY_LINE = 'first prompt after {0} TSC ticks';
/** The ready line's key in the log's JSON lines (`log --json`). */
export const READY_KEY = 'boot.ready';
