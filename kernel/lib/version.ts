// What `version` and the boot banner report. The one place these are written down.
// (Names and version numbers are data shown as message arguments, not messages.)

export const PRODUCT_NAME = 'Zerovisor';
export const PRODUCT_VERSION = '0.1.0';
/** The toolchain this kernel is built with (pinned in package.json and toolchain/install-deps.sh). */
export const BUILD_INFO = 'porffor 0.61.13, wasm2c 1.0.32, zig 0.11.0';
