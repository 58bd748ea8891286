// The VMCB (AMD APM vol. 2 appendix B, "Layout of VMCB"): a 4 KiB page the processor
// reads at VMRUN and writes at #VMEXIT. Each vCPU's VMCB is a page-aligned page of the
// kernel's own linear memory, handed to VMRUN where it is (the shim turns the linear
// address into the host-physical one at every VMRUN), so nothing is copied around an exit.
// Linear memory may move when it grows; that is harmless: the address is taken afresh for
// each VMRUN and the VMCB clean bits stay 0 (APM 15.15), so the CPU caches nothing of it.
import { dataAddress } from '../../host/memory';
import { MAX_VCPUS } from '../vcpu-area';

export { MAX_VCPUS };
const PAGE = 4096;

// Control area (table B-1).
export const INTERCEPT_CR = 0x000; // CR reads (bits 0-15), writes (16-31)
export const INTERCEPT_EXCEPTIONS = 0x008;
export const INTERCEPT_MISC1 = 0x00c;
export const INTERCEPT_MISC2 = 0x010;
export const IOPM_BASE = 0x040;
export const MSRPM_BASE = 0x048;
export const TSC_OFFSET = 0x050;
export const GUEST_ASID = 0x058;
export const TLB_CONTROL = 0x05c;
export const VINTR = 0x060; // V_TPR, V_IRQ, ..., V_INTR_MASKING (bit 24)
export const INTERRUPT_SHADOW = 0x068;
export const EXIT_CODE = 0x070;
export const EXIT_INFO1 = 0x078;
export const EXIT_INFO2 = 0x080;
export const EXIT_INT_INFO = 0x088;
export const NP_CONTROL = 0x090; // bit 0 NP_ENABLE
export const EVENT_INJECT = 0x0a8;
export const NESTED_CR3 = 0x0b0;
export const CLEAN_BITS = 0x0c0;
export const NEXT_RIP = 0x0c8;

// INTERCEPT_MISC1 bits (vector 3)
export const MISC1_INTR = 1 << 0;
export const MISC1_NMI = 1 << 1;
export const MISC1_VINTR = 1 << 4;
export const MISC1_IRET = 1 << 20;
export const MISC1_CPUID = 1 << 18;
export const MISC1_HLT = 1 << 24;
export const MISC1_IOIO = 1 << 27;
export const MISC1_MSR = 1 << 28;
export const MISC1_SHUTDOWN = 1 << 31;
// INTERCEPT_MISC2 bits (vector 4)
export const MISC2_VMRUN = 1 << 0;
export const MISC2_VMMCALL = 1 << 1;
export const MISC2_VMLOAD = 1 << 2;
export const MISC2_VMSAVE = 1 << 3;
export const MISC2_STGI = 1 << 4;
export const MISC2_CLGI = 1 << 5;
export const MISC2_SKINIT = 1 << 6;

// State save area (table B-2), at 0x400. Segments: selector u16, attrib u16, limit u32, base u64.
export const ES = 0x400;
export const CS = 0x410;
export const SS = 0x420;
export const DS = 0x430;
export const FS = 0x440;
export const GS = 0x450;
export const GDTR = 0x460;
export const LDTR = 0x470;
export const IDTR = 0x480;
export const TR = 0x490;
export const CPL = 0x4cb;
export const EFER = 0x4d0;
export const CR4 = 0x548;
export const CR3 = 0x550;
export const CR0 = 0x558;
export const DR7 = 0x560;
export const DR6 = 0x568;
export const RFLAGS = 0x570;
export const RIP = 0x578;
export const RSP = 0x5d8;
export const RAX = 0x5f8;
export const STAR = 0x600;
export const SYSENTER_CS = 0x628;
export const SYSENTER_ESP = 0x630;
export const SYSENTER_EIP = 0x638;
export const CR2 = 0x640;
export const G_PAT = 0x668;

// Exit codes (appendix C).
export const EXIT_INTR = 0x60;
export const EXIT_NMI = 0x61;
export const EXIT_VINTR = 0x64;
export const EXIT_IRET = 0x74;
export const EXIT_CPUID = 0x72;
export const EXIT_HLT = 0x78;
export const EXIT_IOIO = 0x7b;
export const EXIT_MSR = 0x7c;
export const EXIT_SHUTDOWN = 0x7f;
export const EXIT_VMRUN = 0x80;
export const EXIT_VMMCALL = 0x81;
export const EXIT_NPF = 0x400;
export const EXIT_INVALID = -1;

// MAX_VCPUS pages plus one for page alignment: linear memory starts page-aligned.
const area = new ArrayBuffer(MAX_VCPUS * PAGE + PAGE);
const bytes = new Uint8Array(area);
let first = -1; // linear address of vCPU 0's VMCB
let selected = 0; // linear address of the selected vCPU's VMCB

const placeArea = () => {
  if (first >= 0) return;
  const a = dataAddress(bytes);
  first = Math.ceil(a / PAGE) * PAGE;
};

/** Makes the accessors below work on vCPU `vcpu` (0 <= vcpu < MAX_VCPUS). */
export const selectVmcb = (vcpu: number) => {
  placeArea();
  selected = first + (vcpu) * PAGE;
};

/** Linear-memory address of vCPU `vcpu`'s VMCB (page-aligned). */
export const vmcbAddress = (vcpu: number) => {
  placeArea();
  return first + (vcpu) * PAGE;
};

// Field accessors: raw Wasm loads and stores (the exit path's cost), kept inside the
// selected page by masking the offset (fields are 4-byte aligned, APM table B-1/B-2).
export const get32 = (offset: number) => Porffor.wasm.i32.load(selected + (offset & 0xffc), 0, 0) >>> 0;
export const set32 = (offset: number, value: number) => {
  Porffor.wasm.i32.store(selected + (offset & 0xffc), value | 0, 0, 0);
};
/** A u64 field as a double (exact below 2^53). */
export const get64 = (offset: number) => {
  const at = selected + (offset & 0xff8);
  return (Porffor.wasm.i32.load(at, 0, 4) >>> 0) * 4294967296 + (Porffor.wasm.i32.load(at, 0, 0) >>> 0);
};
export const set64 = (offset: number, value: number) => {
  const at = selected + (offset & 0xff8);
  const hi = Math.floor(value / 4294967296);
  Porffor.wasm.i32.store(at, (value - hi * 4294967296) | 0, 0, 0);
  Porffor.wasm.i32.store(at, hi | 0, 0, 4);
};
const set16 = (offset: number, value: number) => {
  Porffor.wasm.i32.store16(selected + (offset & 0xffe), value | 0, 0, 0);
};

/** A segment register: selector, attributes (APM packed form), limit, base. */
export const setSegment = (offset: number, selector: number, attrib: number, limit: number, base: number) => {
  set16(offset, selector);
  set16(offset + 2, attrib);
  set32(offset + 4, limit);
  set64(offset + 8, base);
};

/** Zeroes the selected VMCB. */
export const clearVmcb = () => {
  for (let i = 0; i < PAGE; i += 4) Porffor.wasm.i32.store(selected + i, 0, 0, 0);
};
