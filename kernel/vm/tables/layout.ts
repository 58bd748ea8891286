// Where the guest platform tables live and what they describe (platform-tables.ts says the
// layout): guest-physical addresses, the offsets of each table in the window the builder
// fills, the ports of the ACPI PM device (devices/acpi-pm.ts) and the names in the headers.

/** Guest-physical start of the window the builder fills (the window ends at 1 MiB). */
export const TABLES_WINDOW_BASE = 0xe0000;
export const TABLES_WINDOW_BYTES = 0x20000;
export const RSDP_ADDRESS = 0xe0000;
export const MP_FLOATING_ADDRESS = 0xf0000;

export const LOCAL_APIC_ADDRESS = 0xfee00000;
export const IO_APIC_ADDRESS = 0xfec00000;
export const IO_APIC_VERSION = 0x11; // 82093AA: version 0x11, 24 pins
export const LOCAL_APIC_VERSION = 0x14; // an integrated xAPIC (SDM 11.4.8)
export const ISA_IRQS = 16;
export const SCI_IRQ = 9;

// ACPI PM device ports (devices/acpi-pm.ts) and the reset register (devices/reset.ts).
export const PM1A_EVT_PORT = 0x600;
export const PM1A_CNT_PORT = 0x604;
export const PM_TMR_PORT = 0x608;
export const RESET_PORT = 0xcf9;
export const RESET_VALUE = 0x06; // RST_CPU | SYS_RST: a full reset on RST_CPU's rise

// Offsets in the window of each table (16-byte aligned, below 64 KiB: the ACPI part).
export const RSDP_AT = 0x00;
export const FACS_AT = 0x40;
export const XSDT_AT = 0x80;
export const XSDT_BYTES = 36 + 8 * 2;
export const RSDT_AT = XSDT_AT + 0x40;
export const RSDT_BYTES = 36 + 4 * 2;
export const FADT_AT = RSDT_AT + 0x30;
export const FADT_BYTES = 276;
export const MADT_AT = FADT_AT + 0x120;
export const MP_AT = MP_FLOATING_ADDRESS - TABLES_WINDOW_BASE;
export const PCMP_AT = MP_AT + 16;

export const OEM_ID = 'ZEROVS';
export const OEM_TABLE_ID = 'ZEROVSOR';
export const CREATOR_ID = 'ZVSR';
export const PRODUCT_ID = 'ZEROVISOR   '; // MP spec 4.2: 12 bytes, space-padded

/** The guest-physical address of window offset `offset`. */
export const gpa = (offset: number) => TABLES_WINDOW_BASE + offset;

