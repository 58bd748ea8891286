// CPUID and RDMSR through the host, into preallocated registers.
import { dataAddress } from '../host/memory';

/** EAX, EBX, ECX, EDX of the last cpuid() call. */
export const regs = new Uint32Array(4);
let regsAddr = -1;
/** lo, hi of the last rdmsr() call. */
export const msr = new Uint32Array(2);
let msrAddr = -1;

let maxBasic = -1;
let maxExtended = 0;

/** CPUID leaf/subleaf into regs; a leaf above the CPU's maximum reads as zeros. */
export const cpuid = (leaf: number, subleaf: number) => {
  if (regsAddr < 0) {
    regsAddr = dataAddress(regs);
    hv_cpuid(0, 0, regsAddr);
    maxBasic = regs[0];
    hv_cpuid(0x80000000, 0, regsAddr);
    maxExtended = regs[0];
  }
  const extended = leaf >= 0x80000000 && leaf < 0x90000000;
  const hypervisor = leaf >= 0x40000000 && leaf < 0x50000000;
  if ((!extended && !hypervisor && leaf > maxBasic) || (extended && leaf > maxExtended)) {
    regs[0] = 0;
    regs[1] = 0;
    regs[2] = 0;
    regs[3] = 0;
    return;
  }
  hv_cpuid(leaf, subleaf, regsAddr);
};

/** Bit `bit` of a register value. */
export const bitOf = (value: number, bit: number) => ((value >>> bit) & 1) === 1;

/** RDMSR into msr; only for MSRs that CPUID says exist (an absent one faults). */
export const rdmsr = (index: number) => {
  if (msrAddr < 0) msrAddr = dataAddress(msr);
  hv_rdmsr(index, msrAddr);
};
