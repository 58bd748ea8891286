// What a guest sees of CPUID: the host's leaves, with the hypervisor-present bit set
// (leaf 1 ECX bit 31), a Zerovisor leaf 0x40000000 (max leaf in EAX, the 12-byte
// signature "ZerovisorZV\0" in EBX, ECX, EDX), and what only the host may use hidden:
// VMX (leaf 1 ECX bit 5), SVM (0x80000001 ECX bit 2) and its leaf 0x8000000A, and the
// XSAVE family (leaf 1 ECX bits 26-28, leaf 7 EBX AVX2/AVX-512; guests get FXSAVE state
// only). The platform's interrupt controller and timer are shown as the guest's local APIC
// implements them (kernel/vm/devices/lapic.ts): APIC (leaf 1 EDX bit 9) with initial APIC ID 0,
// x2APIC (ECX bit 21), TSC-deadline (ECX bit 24), the always-running APIC timer ARAT (leaf 6
// EAX bit 2). An Intel-vendor guest learns its TSC rate from leaves 0x15 (crystal = the TSC's
// rate, ratio 1:1, which is also the APIC timer's clock) and 0x16 (base MHz); Linux reads
// neither on AMD. Bits: Intel SDM vol. 2A CPUID tables 3-10/3-11, AMD APM vol. 3 appendix E.
// Answers are remembered (they do not change: every guest runs on the boot CPU), so a
// repeated CPUID exit costs no host call.
import { cpuid, regs } from '../cpu/cpuid';
import { dataAddress } from '../host/memory';
import { caps, Vendor } from '../cpu/capabilities';
import { tscHz } from '../lib/clock';

/** The guest's view of CPUID leaf/subleaf, in `out` (EAX, EBX, ECX, EDX). */
const computeGuestCpuid = (leaf: number, subleaf: number, out: Uint32Array) => {
  if (leaf >= 0x40000000 && leaf <= 0x400000ff) {
    out[0] = leaf === 0x40000000 ? 0x40000000 : 0;
    out[1] = leaf === 0x40000000 ? 0x6f72655a : 0; // "Zero"
    out[2] = leaf === 0x40000000 ? 0x6f736976 : 0; // "viso"
    out[3] = leaf === 0x40000000 ? 0x00565a72 : 0; // "rZV\0"
    return;
  }
  const intel = caps.vendor === Vendor.Intel;
  if (intel && (leaf === 0x15 || leaf === 0x16)) {
    const hz = tscHz();
    out[0] = leaf === 0x15 ? 1 : Math.floor(hz / 1e6); // 0x15: TSC / crystal = EBX / EAX; 0x16: base MHz
    out[1] = leaf === 0x15 ? 1 : Math.floor(hz / 1e6);
    out[2] = leaf === 0x15 ? hz >>> 0 : 0;
    out[3] = 0;
    return;
  }
  cpuid(leaf, subleaf);
  let a = regs[0];
  let b = regs[1];
  let c = regs[2];
  let d = regs[3];
  if (leaf === 0 && intel && a < 0x16) {
    a = 0x16; // leaves 0x15 and 0x16 are answered here
  } else if (leaf === 1) {
    c = (c | 0x80000000 | (1 << 21) | (1 << 24)) & ~(1 << 5) & ~(7 << 26); // hypervisor, x2APIC, TSC-deadline; no VMX, XSAVE, OSXSAVE, AVX
    d = d | (1 << 9); // APIC
    b = b & 0x00ffffff; // initial APIC ID 0
  } else if (leaf === 6) {
    a = a | (1 << 2); // ARAT
  } else if (leaf === 7 && subleaf === 0) {
    b = b & ~(1 << 5) & ~(1 << 16) & ~(1 << 17) & ~(1 << 28) & ~(1 << 30) & ~(1 << 31); // AVX2, AVX-512 F/DQ/CD/BW/VL
  } else if (leaf === 0xd) {
    a = 0;
    b = 0;
    c = 0;
    d = 0;
  } else if (leaf === 0x80000001) {
    c = c & ~(1 << 2); // SVM
  } else if (leaf === 0x8000000a) {
    a = 0;
    b = 0;
    c = 0;
    d = 0;
  }
  out[0] = a >>> 0;
  out[1] = b >>> 0;
  out[2] = c >>> 0;
  out[3] = d >>> 0;
};

// A direct-mapped cache of answers: 64 entries of 8 u32 [valid, leaf, subleaf, EAX, EBX, ECX, EDX, 0].
const CACHE_ENTRIES = 64;
const cache = new Uint32Array(CACHE_ENTRIES * 8);
const answer = new Uint32Array(4);
let cacheAt = -1;

/** Linear address of the guest's CPUID answer for leaf/subleaf: EAX, EBX, ECX, EDX as u32 at +0, +4, +8, +12. */
export const guestCpuidAnswer = (leaf: number, subleaf: number) => {
  if (cacheAt < 0) cacheAt = dataAddress(cache);
  const at = cacheAt + ((leaf + (leaf >>> 25) * 17 + subleaf * 7) & (CACHE_ENTRIES - 1)) * 32;
  if (Porffor.wasm.i32.load(at, 0, 0) !== 0 && Porffor.wasm.i32.load(at, 0, 4) >>> 0 === leaf >>> 0 &&
    Porffor.wasm.i32.load(at, 0, 8) >>> 0 === subleaf >>> 0) return at + 12;
  computeGuestCpuid(leaf, subleaf, answer);
  Porffor.wasm.i32.store(at, 1, 0, 0);
  Porffor.wasm.i32.store(at, leaf | 0, 0, 4);
  Porffor.wasm.i32.store(at, subleaf | 0, 0, 8);
  Porffor.wasm.i32.store(at, answer[0] | 0, 0, 12);
  Porffor.wasm.i32.store(at, answer[1] | 0, 0, 16);
  Porffor.wasm.i32.store(at, answer[2] | 0, 0, 20);
  Porffor.wasm.i32.store(at, answer[3] | 0, 0, 24);
  return at + 12;
};
