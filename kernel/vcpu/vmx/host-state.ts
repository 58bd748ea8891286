// The host state a VM exit returns to (SDM vol. 3C 25.5, 28.5): control registers,
// selectors and descriptor-table bases as the firmware set them, plus a task register.
// OVMF runs with TR = 0, and a VMCS's host TR selector must not be 0 (SDM 27.2.3), so
// Zerovisor installs its own GDT: a copy of the firmware's (every selector in use stays
// valid) with a 64-bit TSS descriptor appended (SDM 8.2.3, 7.2.3), and loads TR with it.
import { dataAddress } from '../../host/memory';
import { allocatePages, hostAddressHi, hostAddressLo } from '../../memory/page-allocator';

/** hv_host_state's 14 u64: CR0, CR3, CR4, GDTR base, limit, IDTR base, limit, CS, SS, DS, ES, FS, GS, TR. */
export const hostState = new Uint32Array(28);
let hostStateAddr = -1;

export const enum HostField {
  Cr0 = 0,
  Cr3 = 1,
  Cr4 = 2,
  GdtBase = 3,
  GdtLimit = 4,
  IdtBase = 5,
  IdtLimit = 6,
  Cs = 7, // then SS, DS, ES, FS, GS, TR
  Tr = 13,
}

/** Reads the host state into hostState. */
export const readHostState = () => {
  if (hostStateAddr < 0) hostStateAddr = dataAddress(hostState);
  hv_host_state(hostStateAddr);
};
export const hostLo = (field: number) => hostState[field * 2];
export const hostHi = (field: number) => hostState[field * 2 + 1];
/** A host-state value below 2^53 (bases, selectors). */
export const hostValue = (field: number) => hostState[field * 2 + 1] * 4294967296 + hostState[field * 2];

const TSS_OFFSET = 0x800; // the TSS sits in the GDT's page, after the table
const TSS_BYTES = 104;
const gdtCopy = new Uint8Array(4096);
let gdtPage = -1;
let trBase = 0;

export const enum HostGdtError {
  NoMemory = -30,
  TableTooLarge = -31,
}

/**
 * Makes sure TR holds a TSS: when the firmware left TR = 0, loads a copy of its GDT with a
 * TSS descriptor appended and LTRs it. 0 or a HostGdtError. hostTrBase() is then the TSS.
 */
export const ensureHostTss = () => {
  readHostState();
  if (hostLo(HostField.Tr) !== 0) {
    if (gdtPage < 0) trBase = trBaseFromGdt(hostLo(HostField.Tr));
    return 0;
  }
  const limit = hostLo(HostField.GdtLimit) & 0xffff;
  const slot = Math.ceil((limit + 1) / 8) * 8; // the TSS descriptor's offset = its selector
  if (slot + 16 > TSS_OFFSET) return HostGdtError.TableTooLarge;
  if (gdtPage < 0) {
    gdtPage = allocatePages(1, 1, 0);
    if (gdtPage < 0) return HostGdtError.NoMemory;
  }
  const src = hostValue(HostField.GdtBase);
  for (let i = 0; i < 4096; i++) gdtCopy[i] = 0;
  hv_phys_read(hostAddressLo(src), hostAddressHi(src), dataAddress(gdtCopy), limit + 1);
  trBase = gdtPage + TSS_OFFSET;
  // 64-bit available TSS descriptor (SDM 8.2.3 figure 8-4): limit 0x67, type 9, P.
  const baseLo = hostAddressLo(trBase);
  const baseHi = hostAddressHi(trBase);
  putWord(slot, ((baseLo & 0xffff) << 16) | (TSS_BYTES - 1));
  putWord(slot + 4, (baseLo & 0xff000000) | 0x8900 | ((baseLo >>> 16) & 0xff));
  putWord(slot + 8, baseHi);
  putWord(slot + 12, 0);
  // The TSS: all zero but the I/O map base beyond its limit (no I/O permission bitmap, SDM 19.5.2).
  putWord(TSS_OFFSET + 0x64, TSS_BYTES << 16);
  hv_phys_write(hostAddressLo(gdtPage), hostAddressHi(gdtPage), dataAddress(gdtCopy), 4096);
  hv_load_gdt_tr(hostAddressLo(gdtPage), hostAddressHi(gdtPage), slot + 15, slot);
  readHostState();
  return 0;
};

const putWord = (at: number, value: number) => {
  gdtCopy[at] = value & 0xff;
  gdtCopy[at + 1] = (value >>> 8) & 0xff;
  gdtCopy[at + 2] = (value >>> 16) & 0xff;
  gdtCopy[at + 3] = (value >>> 24) & 0xff;
};

/** The base of the TSS descriptor `selector` names in the current GDT (a firmware that set TR itself). */
const trBaseFromGdt = (selector: number) => {
  const at = hostValue(HostField.GdtBase) + (selector & 0xfff8);
  hv_phys_read(hostAddressLo(at), hostAddressHi(at), dataAddress(gdtCopy), 16);
  const lo = (gdtCopy[2] | (gdtCopy[3] << 8) | (gdtCopy[4] << 16) | (gdtCopy[7] << 24)) >>> 0;
  const hi = (gdtCopy[8] | (gdtCopy[9] << 8) | (gdtCopy[10] << 16) | (gdtCopy[11] << 24)) >>> 0;
  return hi * 4294967296 + lo;
};

/** The host TSS's base (HOST_TR_BASE). */
export const hostTrBase = () => trBase;
