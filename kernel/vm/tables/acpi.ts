// The ACPI tables (ACPI 6.5 chapter 5) of a VM: RSDP, FACS, XSDT and RSDT, FADT, MADT, DSDT,
// at the offsets layout.ts gives (platform-tables.ts has the picture).
import { align16, checksum, put8, put16, put32, put64, putText } from './bytes';
import {
  CREATOR_ID, FACS_AT, FADT_AT, FADT_BYTES, IO_APIC_ADDRESS, LOCAL_APIC_ADDRESS, MADT_AT, OEM_ID, OEM_TABLE_ID, PM1A_CNT_PORT,
  PM1A_EVT_PORT, PM_TMR_PORT, RESET_PORT, RESET_VALUE, RSDP_AT, RSDT_AT, RSDT_BYTES, SCI_IRQ, XSDT_AT, XSDT_BYTES, gpa,
} from './layout';

/** A Generic Address Structure (ACPI 6.5 5.2.3.2) for a system I/O register. */
const putIoGas = (out: Uint8Array, at: number, bitWidth: number, accessSize: number, port: number) => {
  put8(out, at, 1); // Address Space ID: system I/O
  put8(out, at + 1, bitWidth);
  put8(out, at + 2, 0); // bit offset
  put8(out, at + 3, accessSize); // 1 byte, 2 word, 3 dword
  put64(out, at + 4, port);
};

/** The common header (ACPI 6.5 5.2.6); the checksum is set by finishTable. */
const putHeader = (out: Uint8Array, at: number, signature: string, length: number, revision: number) => {
  putText(out, at, signature);
  put32(out, at + 4, length);
  put8(out, at + 8, revision);
  putText(out, at + 10, OEM_ID);
  putText(out, at + 16, OEM_TABLE_ID);
  put32(out, at + 24, 1); // OEM revision
  putText(out, at + 28, CREATOR_ID);
  put32(out, at + 32, 1); // creator revision
};
const finishTable = (out: Uint8Array, at: number, length: number) => checksum(out, at, length, at + 9);

/** RSDP (5.2.5.3): revision 2, the ACPI 1.0 checksum over 20 bytes and the extended one over 36. */
const putRsdp = (out: Uint8Array) => {
  putText(out, RSDP_AT, 'RSD PTR ');
  putText(out, RSDP_AT + 9, OEM_ID);
  put8(out, RSDP_AT + 15, 2);
  put32(out, RSDP_AT + 16, gpa(RSDT_AT));
  put32(out, RSDP_AT + 20, 36);
  put64(out, RSDP_AT + 24, gpa(XSDT_AT));
  checksum(out, RSDP_AT, 20, RSDP_AT + 8);
  checksum(out, RSDP_AT, 36, RSDP_AT + 32);
};

/** FACS (5.2.10): no checksum; no global lock owner, no waking vector; version 2. */
const putFacs = (out: Uint8Array) => {
  putText(out, FACS_AT, 'FACS');
  put32(out, FACS_AT + 4, 64);
  put8(out, FACS_AT + 32, 2);
};

/** XSDT (5.2.8) and RSDT (5.2.7) list the FADT and the MADT. */
const putRoots = (out: Uint8Array) => {
  putHeader(out, XSDT_AT, 'XSDT', XSDT_BYTES, 1);
  put64(out, XSDT_AT + 36, gpa(FADT_AT));
  put64(out, XSDT_AT + 44, gpa(MADT_AT));
  finishTable(out, XSDT_AT, XSDT_BYTES);
  putHeader(out, RSDT_AT, 'RSDT', RSDT_BYTES, 1);
  put32(out, RSDT_AT + 36, gpa(FADT_AT));
  put32(out, RSDT_AT + 40, gpa(MADT_AT));
  finishTable(out, RSDT_AT, RSDT_BYTES);
};

// FADT Flags (Table 5.10): WBINVD 0, PROC_C1 2, SLP_BUTTON 5 (no fixed sleep button),
// FIX_RTC 6 (no RTC wake status), RESET_REG_SUP 10; PWR_BUTTON 4 clear: the fixed power button
// (PWRBTN_STS/EN) exists; TMR_VAL_EXT 8 clear: a 24-bit timer; HW_REDUCED_ACPI 20 clear.
const FADT_FLAGS = 0x1 | 0x4 | 0x20 | 0x40 | 0x400;
// IAPC_BOOT_ARCH (Table 5.11): LEGACY_DEVICES 0, 8042 1.
const IAPC_BOOT_ARCH = 0x3;

/** FADT (5.2.9, Table 5.9), revision 6 (ACPI 6.5: minor version 5), 276 bytes. */
const putFadt = (out: Uint8Array, dsdtAt: number) => {
  const f = FADT_AT;
  putHeader(out, f, 'FACP', FADT_BYTES, 6);
  put32(out, f + 36, gpa(FACS_AT)); // FIRMWARE_CTRL
  put32(out, f + 40, gpa(dsdtAt)); // DSDT
  put8(out, f + 45, 0); // Preferred_PM_Profile: unspecified
  put16(out, f + 46, SCI_IRQ); // SCI_INT
  put32(out, f + 48, 0); // SMI_CMD 0: ACPI is always enabled (SCI_EN reads 1)
  put32(out, f + 56, PM1A_EVT_PORT);
  put32(out, f + 64, PM1A_CNT_PORT);
  put32(out, f + 76, PM_TMR_PORT);
  put8(out, f + 88, 4); // PM1_EVT_LEN
  put8(out, f + 89, 2); // PM1_CNT_LEN
  put8(out, f + 91, 4); // PM_TMR_LEN
  put16(out, f + 96, 0x0fff); // P_LVL2_LAT > 100: no C2
  put16(out, f + 98, 0x0fff); // P_LVL3_LAT > 1000: no C3
  put16(out, f + 109, IAPC_BOOT_ARCH);
  put32(out, f + 112, FADT_FLAGS);
  putIoGas(out, f + 116, 8, 1, RESET_PORT); // RESET_REG
  put8(out, f + 128, RESET_VALUE);
  put8(out, f + 131, 5); // FADT Minor Version
  put64(out, f + 132, gpa(FACS_AT)); // X_FIRMWARE_CTRL
  put64(out, f + 140, gpa(dsdtAt)); // X_DSDT
  putIoGas(out, f + 148, 32, 2, PM1A_EVT_PORT); // X_PM1a_EVT_BLK: status and enable words
  putIoGas(out, f + 172, 16, 2, PM1A_CNT_PORT); // X_PM1a_CNT_BLK
  putIoGas(out, f + 208, 32, 3, PM_TMR_PORT); // X_PM_TMR_BLK
  putText(out, f + 268, OEM_TABLE_ID); // Hypervisor Vendor Identity
  finishTable(out, f, FADT_BYTES);
};

/** Bytes of the MADT for `vcpus` processors. */
const madtBytes = (vcpus: number) => 44 + 8 * vcpus + 12 + 10 + 6;

/**
 * MADT (5.2.12), revision 5: PCAT_COMPAT (dual 8259s); a Processor Local APIC (5.2.12.2) per
 * vCPU (UID = APIC ID = index, enabled), the I/O APIC (5.2.12.3: ID = vCPU count, GSI base 0),
 * one Interrupt Source Override (5.2.12.5): ISA IRQ 9 -> GSI 9, flags 0x000D (MPS INTI: active
 * high, level) for the SCI; a Local APIC NMI (5.2.12.7): all processors (UID 0xFF), LINT1,
 * flags 0x0005 (active high, edge).
 */
const putMadt = (out: Uint8Array, vcpus: number) => {
  const length = madtBytes(vcpus);
  putHeader(out, MADT_AT, 'APIC', length, 5);
  put32(out, MADT_AT + 36, LOCAL_APIC_ADDRESS);
  put32(out, MADT_AT + 40, 1); // PCAT_COMPAT
  let at = MADT_AT + 44;
  for (let i = 0; i < vcpus; i++) {
    put8(out, at, 0);
    put8(out, at + 1, 8);
    put8(out, at + 2, i); // ACPI Processor UID
    put8(out, at + 3, i); // APIC ID
    put32(out, at + 4, 1); // Enabled
    at += 8;
  }
  put8(out, at, 1);
  put8(out, at + 1, 12);
  put8(out, at + 2, vcpus); // I/O APIC ID
  put32(out, at + 4, IO_APIC_ADDRESS);
  put32(out, at + 8, 0); // Global System Interrupt Base
  at += 12;
  put8(out, at, 2);
  put8(out, at + 1, 10);
  put8(out, at + 2, 0); // Bus: ISA
  put8(out, at + 3, SCI_IRQ);
  put32(out, at + 4, SCI_IRQ);
  put16(out, at + 8, 0x000d);
  at += 10;
  put8(out, at, 4);
  put8(out, at + 1, 6);
  put8(out, at + 2, 0xff);
  put16(out, at + 3, 0x0005);
  put8(out, at + 5, 1); // LINT1
  finishTable(out, MADT_AT, length);
};

/**
 * The DSDT's AML (ACPI 6.5 chapter 20), the ASL
 *     Name (_S5, Package () { 5, 5, 0, 0 })
 * i.e. S5 (soft off) is PM1 control's SLP_TYP 5 (7.4.2; a and b values, two reserved):
 *   08             NameOp (20.2.5.1 DefName)
 *   5F 53 35 5F    NameSeg "_S5_"
 *   12             PackageOp (20.2.5.4 DefPackage)
 *   08             PkgLength: 8 bytes, this byte included (20.2.4)
 *   04             NumElements
 *   0A 05          BytePrefix 5 (20.2.3 ComputationalData)
 *   0A 05          BytePrefix 5
 *   00             ZeroOp
 *   00             ZeroOp
 */
const S5_AML = [0x08, 0x5f, 0x53, 0x35, 0x5f, 0x12, 0x08, 0x04, 0x0a, 0x05, 0x0a, 0x05, 0x00, 0x00];
const DSDT_BYTES = 36 + 14;

/** DSDT (5.2.11.1), revision 2 (64-bit integers). */
const putDsdt = (out: Uint8Array, at: number) => {
  putHeader(out, at, 'DSDT', DSDT_BYTES, 2);
  for (let i = 0; i < S5_AML.length; i++) out[at + 36 + i] = S5_AML[i];
  finishTable(out, at, DSDT_BYTES);
};

/** Writes the ACPI tables for `vcpus` processors; returns the bytes used from RSDP_AT. */
export const putAcpiTables = (out: Uint8Array, vcpus: number) => {
  const dsdtAt = align16(MADT_AT + madtBytes(vcpus));
  putRsdp(out);
  putFacs(out);
  putRoots(out);
  putFadt(out, dsdtAt);
  putMadt(out, vcpus);
  putDsdt(out, dsdtAt);
  return dsdtAt + DSDT_BYTES - RSDP_AT;
};
