// The one guest register file and exit record, per vCPU, shared by both back ends.
//
// Each vCPU has one area of AREA_BYTES in linear memory (placed and aligned once, at
// enable), which the shim's world switch (boot/guest_regs.zig, used by boot/svm.zig and
// boot/vmx.zig) works on directly:
//
//   [0, 128)     the 16 general-purpose registers as u64 (lo, hi u32) in x86 register-number
//                order (lib/x86.ts Gpr), RAX and RSP included: the shim copies RAX/RSP
//                to the VMCB / GUEST_RSP before each entry and back after each exit, so
//                this file is always the guest's register state between an exit and the
//                next entry, whatever vendor and whichever VMCB/VMCS is current.
//   [128, 512)   the exit record (Rec below): u64 slots the back end fills at each exit,
//                in the shim where the hardware state is not linear memory (VMX: one
//                host call VMREADs a list of fields into it, VMX_EXIT_FIELDS in vmx.ts;
//                SVM: the same list form copies VMCB fields). Slots marked "written back"
//                go to the hardware at the next entry (RIP, and VMX interruptibility), so
//                a handler changes the guest through this record only.
//   [512, 1024)  the guest's FXSAVE area (SDM vol. 1 10.5.1 table 10-2; 16-aligned), which
//                the shim FXRSTORs before entry and FXSAVEs after exit.
//
// The record belongs to the vCPU (not to the processor that took the exit), so an exit can
// be handled later or elsewhere: everything the shared dispatch (kernel/vm/exits.ts) reads
// is in it, in vendor-neutral form.
import { dataAddress } from '../host/memory';
import { MAX_VCPUS } from '../lib/limits';

export { MAX_VCPUS };
export const AREA_BYTES = 1024;

/** Byte offsets in a vCPU's area. Exit-record slots are u64 (lo at +0, hi at +4). */
export const enum Rec {
  Gprs = 0, // 16 x u64 (Gpr order)
  Reason = 128, // ExitReason (exit-reason.ts)
  Code = 136, // the back end's own code, for reports: SVM EXITCODE (APM vol. 2 appendix C; -1 VMEXIT_INVALID), VMX basic exit reason (SDM vol. 3D appendix C; -1 entry failed)
  Qualification = 144, // raw: VMX exit qualification (SDM 28.2.1), SVM EXITINFO1 (APM 15.7)
  Info2 = 152, // raw: SVM EXITINFO2 (APM 15.7); VMX unused
  Length = 160, // the exiting instruction's length where the hardware reports it (VMX: SDM 28.2.5; SVM: IOIO's EXITINFO2 or NRIPS, APM 15.10.2, 15.7.1), else 0
  Access = 168, // I/O and MSR exits, neutral: bit 0 write (OUT, OUTS, WRMSR), bit 1 string, bit 2 REP, bits 4-7 size in bytes (I/O), bits 16-31 port
  Gpa = 176, // guest-physical address of a nested page fault (SVM NPF EXITINFO2, APM 15.25.6; VMX EPT violation, SDM 28.2.1)
  Linear = 184, // guest-linear address where the hardware gives one (VMX, SDM 28.2.1 "guest-linear address"), else 0
  Rip = 192, // written back
  Rflags = 200,
  Cr0 = 208, // as the guest sees it (VMX: its own bits from the read shadow where the host owns them, SDM 25.6.6)
  Cr3 = 216,
  Cr4 = 224, // as the guest sees it
  Efer = 232,
  CodeSize = 240, // 16, 32 or 64: CS.L, then CS.D/B (SDM 3.4.5; VMX access rights table 25-2; SVM packed attributes, APM 15.5.1)
  Interruptibility = 248, // blocking, written back: VMX guest interruptibility state (SDM 25.4.2 table 25-3: bit 0 STI, 1 MOV SS, 3 NMI); SVM interrupt shadow in bit 0 (APM 15.21.5)
  SegmentBases = 256, // ES, CS, SS, DS, FS, GS bases, 6 x u64
  Raw0 = 304, // back-end scratch: VMX GUEST_CR0, SVM NEXT_RIP
  Raw1 = 312, // VMX GUEST_CR4
  Raw2 = 320, // VMX CS access rights; SVM CS selector, attributes, limit
  Control = 328, // read by the shim at entry: bit 0, the exit-cost benchmark's floor (the shim resumes CPUID exits itself; set only by vm create --cpuid-floor)
  EventInfo = 336, // an event whose delivery the exit interrupted: VMX IDT-vectoring information (SDM 25.9.3), SVM EXITINTINFO (APM 15.7.2); bit 31 valid, 10:8 type, 7:0 vector
  EventError = 344, // its error code, when EventInfo bit 11 says it has one
  Fx = 512,
}

/** Rec.Access bits. */
export const enum Access {
  Write = 1,
  String = 2,
  Rep = 4,
}

/** Marks a transfer-list entry that goes to the hardware before entry (else from it after exit). */
export const TO_HARDWARE = 0x80000000;

const bytes = new Uint8Array(MAX_VCPUS * AREA_BYTES + 64);
/** Linear address of vCPU 0's area, 64-aligned (vCPU v's is area0 + v * AREA_BYTES); read-only outside this file. */
export let area0 = -1;

/** Places the areas (once; before any vCPU exists). */
export const placeVcpuAreas = () => {
  if (area0 >= 0) return;
  const a = dataAddress(bytes);
  area0 = Math.ceil(a / 64) * 64;
};

/** True for a vCPU number that has an area (the interface refuses others before they reach the accessors). */
export const isVcpu = (vcpu: number) => vcpu >= 0 && vcpu < MAX_VCPUS && Math.floor(vcpu) === vcpu;

// The accessors below take a valid vCPU number (isVcpu): they are on every exit's path and
// do not check it again (linear memory stays the bound either way).

/** Linear address of vCPU `vcpu`'s area. */
export const vcpuArea = (vcpu: number) => area0 + vcpu * AREA_BYTES;

/**
 * u32 at byte `off` of vCPU `vcpu`'s area (unsigned). The load is signed: made unsigned by a
 * compare and an add, which porffor compiles to far fewer instructions than `>>> 0` (every
 * bitwise operator converts its operands f64 -> i64 -> i32 and back).
 */
export const areaGet = (vcpu: number, off: number) => {
  const v = Porffor.wasm.i32.load(area0 + vcpu * AREA_BYTES + off, 0, 0);
  return v < 0 ? v + 4294967296 : v;
};
export const areaSet = (vcpu: number, off: number, value: number) => {
  Porffor.wasm.i32.store(area0 + vcpu * AREA_BYTES + off, value | 0, 0, 0);
};
/** A u64 slot as a double (exact below 2^53). */
export const areaGet64 = (vcpu: number, off: number) => {
  const at = area0 + vcpu * AREA_BYTES + off;
  const hi = Porffor.wasm.i32.load(at, 0, 4);
  const lo = Porffor.wasm.i32.load(at, 0, 0);
  return (hi < 0 ? hi + 4294967296 : hi) * 4294967296 + (lo < 0 ? lo + 4294967296 : lo);
};

/** Zeroes vCPU `vcpu`'s registers and record; FXSAVE area at its reset values (FCW 0x37f, MXCSR 0x1f80). */
export const resetVcpuArea = (vcpu: number) => {
  const at = vcpuArea(vcpu);
  for (let i = 0; i < AREA_BYTES; i += 4) Porffor.wasm.i32.store(at + i, 0, 0, 0);
  Porffor.wasm.i32.store16(at + Rec.Fx, 0x37f, 0, 0);
  Porffor.wasm.i32.store(at + Rec.Fx + 24, 0x1f80, 0, 0);
};

/** RIP += len, 64-bit, in the record (written back at entry). A completed instruction also ends STI / MOV SS blocking (SDM 25.4.2). */
export const advanceRip = (vcpu: number, len: number) => {
  const at = area0 + vcpu * AREA_BYTES + Rec.Rip;
  const was = Porffor.wasm.i32.load(at, 0, 0);
  const lo = (was < 0 ? was + 4294967296 : was) + len;
  Porffor.wasm.i32.store(at, lo | 0, 0, 0);
  if (lo > 0xffffffff) Porffor.wasm.i32.store(at, (Porffor.wasm.i32.load(at, 0, 4) + 1) | 0, 0, 4);
  const blocking = Porffor.wasm.i32.load(at + (Rec.Interruptibility - Rec.Rip), 0, 0);
  if (blocking !== 0 && (blocking & 3) !== 0) Porffor.wasm.i32.store(at + (Rec.Interruptibility - Rec.Rip), blocking & ~3, 0, 0);
};

/** `to` - RIP for the u64 at area offset `off`, when it is 1..15; else 0 (SVM next-RIP values). */
export const ripDelta = (vcpu: number, off: number) => {
  const toLo = areaGet(vcpu, off);
  const toHi = areaGet(vcpu, off + 4);
  const ripLo = areaGet(vcpu, Rec.Rip);
  const ripHi = areaGet(vcpu, Rec.Rip + 4);
  const delta = (toLo - ripLo) >>> 0;
  const hiOk = toLo >= ripLo ? toHi === ripHi : toHi === ((ripHi + 1) >>> 0);
  return hiOk && delta >= 1 && delta <= 15 ? delta : 0;
};

/** Copies `count` bytes of vCPU `vcpu`'s area from `off` to out[at...]. */
export const areaToBytes = (vcpu: number, off: number, count: number, out: Uint8Array, at: number) => {
  const from = vcpuArea(vcpu) + off;
  for (let i = 0; i < count; i++) out[at + i] = Porffor.wasm.i32.load8_u(from + i, 0, 0);
};
/** Copies src[at, + count) into vCPU `vcpu`'s area at `off`. */
export const bytesToArea = (vcpu: number, off: number, count: number, src: Uint8Array, at: number) => {
  const to = vcpuArea(vcpu) + off;
  for (let i = 0; i < count; i++) Porffor.wasm.i32.store8(to + i, src[at + i], 0, 0);
};
