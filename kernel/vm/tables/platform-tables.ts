// The tables a guest OS reads to find its processors, interrupt controllers and power
// management, written into a new VM's RAM in the legacy hole (640 KiB-1 MiB, which the
// Multiboot memory map reserves: image/multiboot.ts; images load at 1 MiB or above, the
// Multiboot information at 0x9000, so nothing else of Zerovisor's setup touches it):
//   - an Intel MultiProcessor table (MP spec 1.4 chapter 4) for kernels that boot without
//     ACPI: the floating pointer "_MP_" at 0xF0000 (the BIOS area Linux scans, 4.1), the
//     "PCMP" configuration table after it;
//   - ACPI tables (ACPI 6.5 chapter 5) from 0xE0000, where an OS looks for the RSDP on
//     16-byte boundaries (5.2.5.1): RSDP, XSDT and RSDT, FADT, FACS, MADT, DSDT.
// Layout (guest-physical; each table 16-byte aligned, the FACS 64-byte aligned, 5.2.10):
//   0xE0000 RSDP (36)   0xE0040 FACS (64)   0xE0080 XSDT (36 + 8 * 2)   RSDT (36 + 4 * 2)
//   FADT (276)   MADT (44 + 8 * vCPUs + 12 + 10 + 6)   DSDT (36 + 14)
//   0xF0000 MP floating pointer (16)   0xF0010 PCMP (44 + 20 * vCPUs + 8 + 8 + 15 * 8 + 2 * 8)
// Interrupt wiring described (the board's): ISA IRQ n -> 8259 input n and I/O APIC pin n,
// no source overrides except the SCI (IRQ 9, level, active high); the 8259's INT reaches
// LINT0 (ExtINT), NMI reaches LINT1. Power management is devices/acpi-pm.ts at 0x600.
import { MAX_VCPUS } from '../../lib/limits';
import { dataAddress } from '../../host/memory';
import { guestWrite, inGuestRam } from '../guest-memory';
import { putAcpiTables } from './acpi';
import { putMp } from './mp';
import { MP_AT, MP_FLOATING_ADDRESS, TABLES_WINDOW_BASE, TABLES_WINDOW_BYTES } from './layout';


/** Room for each part (the ACPI tables, the MP table) with the most vCPUs: under 1 KiB each. */
const PART_BYTES = 0x1000;

export const enum TablesError {
  Ok = 0,
  BadVcpuCount = -1,
  SmallBuffer = -2,
  NoRoom = -3, // the VM's RAM does not reach 1 MiB
}

/** Bytes of the ACPI part at 0xE0000 and of the MP part at 0xF0000 after the last build. */
export let acpiTablesBytes = 0;
export let mpTablesBytes = 0;

/**
 * Builds every table for a VM with `vcpus` processors (APIC IDs 0..vcpus-1) and `ramBytes` of
 * RAM into `out`, which stands for guest-physical [TABLES_WINDOW_BASE, + out.length) and must
 * hold the whole window. Returns TablesError.Ok (acpiTablesBytes / mpTablesBytes then say what
 * was written from 0xE0000 and 0xF0000) or a negative TablesError.
 */
export const buildPlatformTables = (out: Uint8Array, vcpus: number, ramBytes: number) => {
  acpiTablesBytes = 0;
  mpTablesBytes = 0;
  if (!(vcpus >= 1 && vcpus <= MAX_VCPUS) || vcpus !== Math.floor(vcpus)) return TablesError.BadVcpuCount;
  if (out.length < TABLES_WINDOW_BYTES) return TablesError.SmallBuffer;
  if (!(ramBytes >= TABLES_WINDOW_BASE + TABLES_WINDOW_BYTES)) return TablesError.NoRoom;
  for (let i = 0; i < PART_BYTES; i++) {
    out[i] = 0;
    out[MP_AT + i] = 0;
  }
  acpiTablesBytes = putAcpiTables(out, vcpus);
  mpTablesBytes = putMp(out, vcpus);
  return TablesError.Ok;
};

const tablesWindow = new Uint8Array(TABLES_WINDOW_BYTES);

/** Writes the tables for `vcpus` processors into VM `slot`'s RAM (a new VM's): a TablesError. */
export const writePlatformTables = (slot: number, vcpus: number, ramBytes: number) => {
  const built = buildPlatformTables(tablesWindow, vcpus, ramBytes);
  if (built !== TablesError.Ok) return built;
  if (!inGuestRam(slot, TABLES_WINDOW_BASE, TABLES_WINDOW_BYTES)) return TablesError.NoRoom;
  const base = dataAddress(tablesWindow);
  guestWrite(slot, TABLES_WINDOW_BASE, base, acpiTablesBytes);
  guestWrite(slot, MP_FLOATING_ADDRESS, base + MP_AT, mpTablesBytes);
  return TablesError.Ok;
};
