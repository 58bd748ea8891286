// MCFG (PCI Firmware 3.3 section 4.1.2, Table 4-3): 8 reserved bytes at 36, then from
// 44 Configuration Space Base Address Allocation Structures of 16 bytes: Base Address 0
// (64-bit), PCI Segment Group 8, Start Bus 10, End Bus 11. Decoded into the facts' ECAM
// windows (kernel/platform/facts.ts) directly.
import { MAX_ECAM_SEGMENTS, facts } from '../facts';
import { Field, Problem, acpiError } from './errors';
import { u8, u16, u32 } from './reader';
import { SIG_MCFG, tableAddr, tableLength } from './tables';
import { words } from './store';

const MCFG_ENTRIES_OFFSET = 44;
const MCFG_ENTRY_LENGTH = 16;

/** [0] decoded, [1] allocation structures in the table. */
export const mcfgHeader = words(2);

export const clearMcfg = () => {
  mcfgHeader[0] = 0;
  mcfgHeader[1] = 0;
};

/** Decodes table i (open, checksum good) as the MCFG. */
export const decodeMcfg = (i: number) => {
  const addr = tableAddr(i);
  const length = tableLength(i);
  if (length < MCFG_ENTRIES_OFFSET) {
    acpiError(Problem.Length, SIG_MCFG, addr + 4, Field.Length);
    return;
  }
  const bytes = length - MCFG_ENTRIES_OFFSET;
  if (bytes % MCFG_ENTRY_LENGTH !== 0) acpiError(Problem.Length, SIG_MCFG, addr + 4, Field.Length);
  const n = Math.floor(bytes / MCFG_ENTRY_LENGTH);
  mcfgHeader[0] = 1;
  mcfgHeader[1] = n;
  for (let k = 0; k < n; k++) {
    const off = MCFG_ENTRIES_OFFSET + k * MCFG_ENTRY_LENGTH;
    const start = u8(off + 10);
    const end = u8(off + 11);
    if (end < start) {
      acpiError(Problem.Value, SIG_MCFG, addr + off + 11, Field.EndBusNumber);
      continue;
    }
    const lo = u32(off);
    const hi = u32(off + 4);
    if (lo === 0 && hi === 0) {
      acpiError(Problem.Value, SIG_MCFG, addr + off, Field.BaseAddress);
      continue;
    }
    const e = facts.ecamCount;
    if (e >= MAX_ECAM_SEGMENTS) {
      acpiError(Problem.Capacity, SIG_MCFG, addr + off, Field.McfgEntry);
      break;
    }
    facts.ecamBaseLo[e] = lo;
    facts.ecamBaseHi[e] = hi;
    facts.ecamSegment[e] = u16(off + 8);
    facts.ecamStartBus[e] = start;
    facts.ecamEndBus[e] = end;
    facts.ecamCount = e + 1;
  }
};
