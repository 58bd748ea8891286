// The kernel's clock: TSC ticks since efi_main and the TSC frequency once the platform
// layer has found it (kernel/platform/time.ts calibrates and calls setTscHz). Every layer
// reads time from here.
import { dataAddress } from '../host/memory';

const now = new Uint32Array(2);
const boot = new Uint32Array(2);
let nowAddr = -1;
let bootLo = 0;
let bootHi = 0;
let hz = 0;

/** TSC ticks since efi_main (a double, exact below 2^53). */
export const ticksSinceBoot = () => {
  if (nowAddr < 0) {
    nowAddr = dataAddress(now);
    hv_boot_tsc(dataAddress(boot));
    bootLo = boot[0];
    bootHi = boot[1];
  }
  hv_tsc(nowAddr);
  return (now[1] - bootHi) * 4294967296 + (now[0] - bootLo);
};

/** The TSC at efi_main, as a double (exact below 2^53: some 40 days at 2.6 GHz). */
export const bootTsc = () => {
  ticksSinceBoot();
  return bootHi * 4294967296 + bootLo;
};

/** The TSC frequency in Hz, 0 until known. */
export const tscHz = () => hz;
export const setTscHz = (value: number) => {
  hz = value;
};
