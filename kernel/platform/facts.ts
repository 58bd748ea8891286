// What platform discovery found that other rooms use: filled once at boot by the ACPI
// parser (kernel/platform/acpi) and read by PCI, timekeeping, capabilities and the
// console. 64-bit addresses are kept as lo/hi u32 halves.

export const MAX_ECAM_SEGMENTS = 8;
export const MAX_IOMMU_UNITS = 16;

export const enum IommuKind {
  VtdDrhd = 1, // VT-d DMA remapping hardware unit (DMAR DRHD, VT-d 3.4 section 8.3)
  AmdViIvhd = 2, // AMD-Vi IOMMU (IVRS IVHD, AMD IOMMU 3.08 section 5.2.2)
}

export class PlatformFacts {
  /** Whether the firmware published ACPI tables (an RSDP was found and checked). */
  acpiPresent = false;
  /** RSDP revision (0 = ACPI 1.0, 2 = ACPI 2.0+). */
  acpiRevision = 0;
  /** Number of tables found (parsed or not) and of tables with errors. */
  acpiTables = 0;
  acpiErrors = 0;

  /** FADT PM_TMR_BLK / X_PM_TMR_BLK in I/O space (ACPI 6.5 section 5.2.9), 0 when absent. */
  pmTimerPort = 0;
  /** FADT flag TMR_VAL_EXT: the PM timer counts 32 bits, else 24. */
  pmTimer32 = false;

  /** HPET event timer block base (HPET table, IA-PC HPET 1.0a section 3.2.4). */
  hpetPresent = false;
  hpetLo = 0;
  hpetHi = 0;

  /** MADT: enabled (or online-capable) processors and I/O APICs. */
  cpuCount = 0;
  ioApicCount = 0;
  localApicLo = 0;

  /** MCFG ECAM windows (PCI Firmware 3.3 section 4.1.2). */
  ecamCount = 0;
  ecamBaseLo = new Uint32Array(MAX_ECAM_SEGMENTS);
  ecamBaseHi = new Uint32Array(MAX_ECAM_SEGMENTS);
  ecamSegment = new Uint16Array(MAX_ECAM_SEGMENTS);
  ecamStartBus = new Uint8Array(MAX_ECAM_SEGMENTS);
  ecamEndBus = new Uint8Array(MAX_ECAM_SEGMENTS);

  /** IOMMU units from DMAR (VT-d) and IVRS (AMD-Vi). */
  iommuCount = 0;
  iommuKind = new Uint8Array(MAX_IOMMU_UNITS);
  iommuBaseLo = new Uint32Array(MAX_IOMMU_UNITS);
  iommuBaseHi = new Uint32Array(MAX_IOMMU_UNITS);
  iommuSegment = new Uint16Array(MAX_IOMMU_UNITS);
  /** Device scope entries (DRHD) or device entries (IVHD) of each unit. */
  iommuDevices = new Uint16Array(MAX_IOMMU_UNITS);
}

export const facts = new PlatformFacts();
