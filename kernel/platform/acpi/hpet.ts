// HPET description table (IA-PC HPET 1.0a section 3.2.4, Table 3): Event Timer Block ID
// 36, Base Address 40 (Generic Address Structure: Address Space ID 40, Register Bit
// Width 41, Address 44..51), HPET Number 52, Main Counter Minimum Clock Tick 53,
// Page Protection and OEM Attribute 55. Event Timer Block ID: PCI vendor ID bits 31:16,
// LEG_RT_CAP bit 15, COUNT_SIZE_CAP bit 13, NUM_TIM_CMP (comparators - 1) bits 12:8.
import { Field, Problem, acpiError } from './errors';
import { u8, u16, u32 } from './reader';
import { SIG_HPET, tableAddr, tableLength } from './tables';
import { words } from './store';

const HPET_LENGTH = 56;

/**
 * [0] decoded, [1] Event Timer Block ID, [2] Address Space ID, [3] Register Bit Width,
 * [4] base lo, [5] base hi, [6] HPET Number, [7] Minimum Clock Tick, [8] Page Protection.
 */
export const hpetRecord = words(9);

export const clearHpet = () => {
  for (let i = 0; i < hpetRecord.length; i++) hpetRecord[i] = 0;
};

/** Decodes table i (open, checksum good) as the HPET table; its base must be in memory space. */
export const decodeHpet = (i: number) => {
  const addr = tableAddr(i);
  if (tableLength(i) < HPET_LENGTH) {
    acpiError(Problem.Length, SIG_HPET, addr + 4, Field.Length);
    return;
  }
  const space = u8(40);
  const lo = u32(44);
  const hi = u32(48);
  if (space !== 0 || (lo === 0 && hi === 0)) {
    acpiError(Problem.Value, SIG_HPET, addr + 40, Field.BaseAddress);
    return;
  }
  hpetRecord[0] = 1;
  hpetRecord[1] = u32(36);
  hpetRecord[2] = space;
  hpetRecord[3] = u8(41);
  hpetRecord[4] = lo;
  hpetRecord[5] = hi;
  hpetRecord[6] = u8(52);
  hpetRecord[7] = u16(53);
  hpetRecord[8] = u8(55);
};
