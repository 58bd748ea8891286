// The MSRs of a vCPU that the exit dispatch emulates itself (no back end holds them):
// IA32_MTRR_DEF_TYPE (SDM vol. 3A 12.11.2.1: type bits 7:0, FE bit 10, E bit 11). They are
// part of the vCPU's state: reset with the vCPU and carried by live migration (a
// VcpuState frame of its own part, VCPU_MSRS_PART).
import { MAX_VCPUS } from '../lib/limits';
import { le32, putLe32 } from '../lib/bytes';

const mtrrDefType = new Float64Array(MAX_VCPUS);

/** The VcpuState part these travel in (part 0 is the back end's state). */
export const VCPU_MSRS_PART = 1;
/** Bytes saveVcpuMsrs writes: a format version, then MTRR_DEF_TYPE's low half. */
export const VCPU_MSRS_BYTES = 8;
const FORMAT = 1;
// MTRR_DEF_TYPE bits a guest can set: type 7:0, FE 10, E 11; the rest is reserved (#GP on real hardware)
const MTRR_DEF_TYPE_BITS = 0xcff;

export const mtrrDefTypeOf = (vcpu: number) => mtrrDefType[vcpu];
/** Sets MTRR_DEF_TYPE from a guest WRMSR (low half; reserved bits are dropped). */
export const setMtrrDefType = (vcpu: number, lo: number) => {
  mtrrDefType[vcpu] = (lo & MTRR_DEF_TYPE_BITS) >>> 0;
};

/** vCPU `vcpu` at power-on. */
export const resetVcpuMsrs = (vcpu: number) => {
  mtrrDefType[vcpu] = 0;
};

/** Writes vCPU `vcpu`'s emulated MSRs to out[off, + VCPU_MSRS_BYTES). */
export const saveVcpuMsrs = (vcpu: number, out: Uint8Array, off: number) => {
  putLe32(out, off, FORMAT);
  putLe32(out, off + 4, mtrrDefType[vcpu]);
};

/** Sets vCPU `vcpu` from saved state; false (nothing changed) when it is not this format or sets reserved bits. */
export const loadVcpuMsrs = (vcpu: number, src: Uint8Array, off: number, len: number) => {
  if (len !== VCPU_MSRS_BYTES || off < 0 || off + len > src.length || le32(src, off) !== FORMAT) return false;
  const value = le32(src, off + 4);
  if ((value & ~MTRR_DEF_TYPE_BITS) !== 0) return false;
  mtrrDefType[vcpu] = value;
  return true;
};
