// FADT, signature FACP (ACPI 6.5 section 5.2.9, Table 5.9): FIRMWARE_CTRL 36, DSDT 40,
// Preferred_PM_Profile 45, SCI_INT 46, PM_TMR_BLK 76, IAPC_BOOT_ARCH 109, Flags 112
// (TMR_VAL_EXT bit 8, HW_REDUCED_ACPI bit 20), FADT Minor Version 131, X_FIRMWARE_CTRL
// 132, X_DSDT 140, X_PM_TMR_BLK 208 (a Generic Address Structure, section 5.2.3.2:
// Address Space ID 0, Register Bit Width 1, Address 4; space 1 is system I/O).
// The DSDT and FACS it points to are listed by acpi.ts (the DSDT is not decoded).
import { Field, Problem, acpiError } from './errors';
import { u8, u16, u32 } from './reader';
import { SIG_FACP, tableAddr, tableLength } from './tables';
import { words } from './store';

/** The ACPI 1.0 FADT is 116 bytes (up to and including Flags). */
const FADT_MIN_LENGTH = 116;

export const enum PmTimerSource {
  None = 0,
  Legacy = 1, // PM_TMR_BLK
  Extended = 2, // X_PM_TMR_BLK
}

export const FADT_TMR_VAL_EXT = 0x100;
export const FADT_HW_REDUCED_ACPI = 0x100000;

/**
 * [0] decoded (1/0), [1] revision, [2] Flags, [3] PM timer port, [4] PmTimerSource,
 * [5] SCI_INT, [6] Preferred_PM_Profile, [7] IAPC_BOOT_ARCH, [8] FADT Minor Version,
 * [9] DSDT lo, [10] DSDT hi, [11] Field naming it, [12] its offset,
 * [13] FACS lo, [14] FACS hi, [15] Field naming it, [16] its offset.
 */
export const fadtRecord = words(17);

export const clearFadt = () => {
  for (let i = 0; i < fadtRecord.length; i++) fadtRecord[i] = 0;
};

/** Decodes table i (open, checksum good) as the FADT. */
export const decodeFadt = (i: number) => {
  const addr = tableAddr(i);
  const length = tableLength(i);
  if (length < FADT_MIN_LENGTH) {
    acpiError(Problem.Length, SIG_FACP, addr + 4, Field.Length);
    return;
  }
  const f = fadtRecord;
  f[0] = 1;
  f[1] = u8(8);
  f[2] = u32(112);
  f[5] = u16(46);
  f[6] = u8(45);
  f[7] = u16(109);
  f[8] = length >= 132 ? u8(131) : 0;
  // FACS: X_FIRMWARE_CTRL when present and not zero, else FIRMWARE_CTRL.
  f[15] = Field.FirmwareCtrl;
  f[16] = 36;
  f[13] = u32(36);
  f[14] = 0;
  if (length >= 140 && (u32(132) !== 0 || u32(136) !== 0)) {
    f[13] = u32(132);
    f[14] = u32(136);
    f[15] = Field.XFirmwareCtrl;
    f[16] = 132;
  }
  // DSDT: X_DSDT when present and not zero, else DSDT.
  f[9] = u32(40);
  f[10] = 0;
  f[11] = Field.Dsdt;
  f[12] = 40;
  if (length >= 148 && (u32(140) !== 0 || u32(144) !== 0)) {
    f[9] = u32(140);
    f[10] = u32(144);
    f[11] = Field.XDsdt;
    f[12] = 140;
  }
  // PM timer: X_PM_TMR_BLK when it is a system I/O address, else PM_TMR_BLK.
  if (length >= 220) {
    const space = u8(208);
    const lo = u32(212);
    const hi = u32(216);
    if (space === 1 && (lo !== 0 || hi !== 0)) {
      if (hi === 0 && lo <= 0xffff) {
        f[3] = lo;
        f[4] = PmTimerSource.Extended;
      } else {
        acpiError(Problem.Value, SIG_FACP, addr + 212, Field.XPmTmrBlk);
      }
    }
  }
  if (f[4] === PmTimerSource.None) {
    const port = u32(76);
    if (port > 0xffff) acpiError(Problem.Value, SIG_FACP, addr + 76, Field.PmTmrBlk);
    else if (port !== 0) {
      f[3] = port;
      f[4] = PmTimerSource.Legacy;
    }
  }
};
