// The devices every VM has, registered on its bus when this module loads: COM1 (a 16550A at ports
// 0x3F8-0x3FF, uart16550.ts), QEMU's debug-exit port (0xF4, debug-exit.ts) and the 8254 PIT
// with port B (0x40-0x43, 0x61, pit8254.ts), the reset ports (0xCF9 and the 8042 at 0x60/
// 0x64, reset.ts), the 8259A PIC pair with the ELCR (0x20-0x21, 0xA0-0xA1, 0x4D0-0x4D1,
// pic8259.ts), the MC146818 RTC and CMOS (0x70-0x71, rtc-cmos.ts), the ACPI power management
// registers (0x600-0x60B, acpi-pm.ts), the I/O APIC at 0xFEC00000 (ioapic.ts) and the local
// APIC page at 0xFEE00000 (lapic.ts, the VM's vCPU 0's). Their ids are also their DeviceState
// ids in live migration.
import { StopReason, vmMemMiB } from '../vm-table';
import { ticksSinceBoot } from '../../lib/clock';
import { guestTsc, setGuestTsc } from '../guest-clock';
import { le32, putLe32 } from '../../lib/bytes';
import { countAccess, DeviceAction, deviceById, deviceId, deviceStateBytes, mapMmio, mapPorts, portDeviceAt, portOffset, registerDevice, requestStop, resetDeviceAccesses } from './bus';
import { COM1_BASE, COM1_STATE_BYTES, com1Load, com1Read, com1Reset, com1Save, com1Write } from './uart16550';
import { DEBUG_EXIT_PORT, debugExitReset, debugExitWrite } from './debug-exit';
import { KBC_COMMAND_PORT, KBC_DATA_PORT, RESET_CONTROL_PORT, kbcCommand, kbcRead, resetControlRead, resetControlWrite, resetDevicesReset } from './reset';
import { PIT_BASE, PIT_PORTS, PIT_STATE_BYTES, PORT_B, pitLoad, pitRead, pitReset, pitSave, pitWrite } from './pit8254';
import { ACPI_PM_BASE, ACPI_PM_PORTS, ACPI_PM_STATE_BYTES, acpiPmLoad, acpiPmRead, acpiPmReset, acpiPmSave, acpiPmWrite } from './acpi-pm';
import { PIC_ELCR_BASE, PIC_MASTER_BASE, PIC_PORTS, PIC_SLAVE_BASE, PIC_STATE_BYTES, picLoad, picRead, picReset, picSave, picWrite } from './pic8259';
import { RTC_INDEX_PORT, RTC_PORTS, RTC_STATE_BYTES, rtcHostSeconds, rtcLoad, rtcRead, rtcReset, rtcSave, rtcWrite } from './rtc-cmos';
import { IOAPIC_BASE, IOAPIC_STATE_BYTES, ioapicEoi, ioapicLoad, ioapicRead, ioapicReset, ioapicSave, ioapicWrite } from './ioapic';
import { LAPIC_BASE, LAPIC_STATE_BYTES, lapicLoad, lapicRead, lapicReset, lapicSave, lapicWrite } from './lapic';
import { vcpuOf } from '../vcpu-table';

/** Device ids (migration DeviceState ids; COM1's 1 is the wire format's DEVICE_UART_COM1). */
export const enum DeviceId {
  Com1 = 1,
  DebugExit = 2,
  Pit = 3,
  ResetControl = 4,
  Kbc = 5,
  AcpiPm = 10,
  Pic = 6,
  Rtc = 7,
  Ioapic = 8,
  Lapic = 9,
  GuestClock = 11, // no registers: the guest's TSC, which live migration carries (guest-clock.ts)
}

const COM1_PORTS = 8;

/** A wider access covers consecutive registers, lowest first; ports past the UART float high. */
const com1ReadSized = (vm: number, offset: number, size: number) => {
  let value = 0;
  let scale = 1;
  for (let i = 0; i < size; i++) {
    const r = offset + i;
    value += (r < COM1_PORTS ? com1Read(vm, r) : 0xff) * scale;
    scale *= 256;
  }
  return value;
};

const com1WriteSized = (vm: number, offset: number, size: number, value: number) => {
  for (let i = 0; i < size; i++) if (offset + i < COM1_PORTS) com1Write(vm, offset + i, (value >>> (i * 8)) & 0xff);
  return DeviceAction.Continue;
};

/** A write stops the VM; the value, cut to the access size, is its exit status. */
const debugExitWriteSized = (vm: number, size: number, value: number) => {
  const status = (size === 1 ? value & 0xff : size === 2 ? value & 0xffff : value) >>> 0;
  debugExitWrite(vm, status);
  requestStop(StopReason.DebugExit, status);
  return DeviceAction.Stop;
};

mapPorts(registerDevice(DeviceId.Com1, 'com1', COM1_STATE_BYTES), COM1_BASE, COM1_PORTS);
mapPorts(registerDevice(DeviceId.DebugExit, 'debug-exit', 0), DEBUG_EXIT_PORT, 1);
const pit = registerDevice(DeviceId.Pit, 'pit', PIT_STATE_BYTES);
mapPorts(pit, PIT_BASE, PIT_PORTS);
mapPorts(pit, PORT_B, 1);
mapPorts(registerDevice(DeviceId.ResetControl, 'reset-control', 0), RESET_CONTROL_PORT, 1);
const kbc = registerDevice(DeviceId.Kbc, 'i8042', 0);
mapPorts(kbc, KBC_DATA_PORT, 1);
mapPorts(kbc, KBC_COMMAND_PORT, 1);
mapPorts(registerDevice(DeviceId.AcpiPm, 'acpi-pm', ACPI_PM_STATE_BYTES), ACPI_PM_BASE, ACPI_PM_PORTS);
const pic = registerDevice(DeviceId.Pic, 'pic', PIC_STATE_BYTES);
mapPorts(pic, PIC_MASTER_BASE, PIC_PORTS);
mapPorts(pic, PIC_SLAVE_BASE, PIC_PORTS);
mapPorts(pic, PIC_ELCR_BASE, PIC_PORTS);
mapPorts(registerDevice(DeviceId.Rtc, 'rtc', RTC_STATE_BYTES), RTC_INDEX_PORT, RTC_PORTS);
registerDevice(DeviceId.GuestClock, 'clock', 8);
const APIC_PAGE = 0x1000;
mapMmio(registerDevice(DeviceId.Ioapic, 'ioapic', IOAPIC_STATE_BYTES), IOAPIC_BASE, APIC_PAGE);
mapMmio(registerDevice(DeviceId.Lapic, 'lapic', LAPIC_STATE_BYTES), LAPIC_BASE, APIC_PAGE);

/** The APICs' registers are aligned dwords (82093AA 3.0, SDM 11.4.1): other accesses read all ones and write nothing. */
const apicDword = (offset: number, size: number) => size === 4 && (offset & 3) === 0;

/** The time the APIC timers count: VM `vm`'s TSC. */
const apicNow = (vm: number) => guestTsc(vm);

/** A write to VM `vm`'s local APIC page; an EOI of a level-triggered vector goes on to the I/O APIC. */
const lapicWriteMmio = (vm: number, offset: number, value: number) => {
  const now = apicNow(vm);
  const eoi = lapicWrite(vcpuOf(vm, 0), offset, value, now);
  if (eoi >= 0) ioapicEoi(vm, eoi, now);
  return DeviceAction.Continue;
};

/** A reset through `port`: the VM stops, or starts again when created with --on-reset restart (services/scheduler.ts). */
const resetRequested = (port: number) => {
  requestStop(StopReason.Reset, port);
  return DeviceAction.Stop;
};

/** The guest entered S5 through PM1a_CNT: the VM stops, PM1a_CNT's port its detail (whichever port the access began at). */
const poweredOff = () => {
  requestStop(StopReason.PoweredOff, ACPI_PM_BASE + 4);
  return DeviceAction.Stop;
};

/** The PIT's byte registers: a wider access covers the next ports, which read all ones past them. */
const pitReadSized = (vm: number, port: number, size: number) => {
  let value = 0;
  let scale = 1;
  for (let i = 0; i < size; i++) {
    const b = pitRead(vm, port + i);
    value += (b < 0 ? 0xff : b) * scale;
    scale *= 256;
  }
  return value;
};

const pitWriteSized = (vm: number, port: number, size: number, value: number) => {
  for (let i = 0; i < size; i++) pitWrite(vm, port + i, (value >>> (i * 8)) & 0xff);
  return DeviceAction.Continue;
};

/** The PICs' and ELCR's byte registers, split by port like the PIT's: past them reads all ones. */
const picReadSized = (vm: number, port: number, size: number) => {
  let value = 0;
  let scale = 1;
  for (let i = 0; i < size; i++) {
    const b = picRead(vm, port + i);
    value += (b < 0 ? 0xff : b) * scale;
    scale *= 256;
  }
  return value;
};

const picWriteSized = (vm: number, port: number, size: number, value: number) => {
  for (let i = 0; i < size; i++) picWrite(vm, port + i, (value >>> (i * 8)) & 0xff);
  return DeviceAction.Continue;
};

/** The RTC's two byte ports, split by port like the PIT's; its clock reads the TSC now. */
const rtcReadSized = (vm: number, port: number, size: number) => {
  const now = ticksSinceBoot();
  let value = 0;
  let scale = 1;
  for (let i = 0; i < size; i++) {
    const b = rtcRead(vm, port + i, now);
    value += (b < 0 ? 0xff : b) * scale;
    scale *= 256;
  }
  return value;
};

const rtcWriteSized = (vm: number, port: number, size: number, value: number) => {
  const now = ticksSinceBoot();
  for (let i = 0; i < size; i++) rtcWrite(vm, port + i, (value >>> (i * 8)) & 0xff, now);
  return DeviceAction.Continue;
};

// Routing by device id, a switch: porffor calls a function kept in an array with broken
// arguments once the kernel is large (measured: `vm create` failed inside a reset called so).

/** What VM `vm` reads from `port` (size 1, 2, 4); -1 when no device answers (the debug-exit port is write-only: QEMU's too). */
export const boardPortRead = (vm: number, port: number, size: number) => {
  const d = portDeviceAt(port);
  if (d < 0) return -1;
  switch (deviceId(d)) {
    case DeviceId.Com1:
      countAccess(vm, d);
      return com1ReadSized(vm, portOffset(), size);
    case DeviceId.Pit:
      countAccess(vm, d);
      return pitReadSized(vm, port, size);
    case DeviceId.Pic:
      countAccess(vm, d);
      return picReadSized(vm, port, size);
    case DeviceId.Rtc:
      countAccess(vm, d);
      return rtcReadSized(vm, port, size);
    case DeviceId.ResetControl:
      countAccess(vm, d);
      return size === 1 ? resetControlRead(vm) : -1;
    case DeviceId.Kbc:
      countAccess(vm, d);
      return size === 1 ? kbcRead(port) : -1;
    case DeviceId.AcpiPm:
      countAccess(vm, d);
      return acpiPmRead(vm, port, size);
  }
  return -1;
};

/** VM `vm` writes `value` to `port`: a DeviceAction, or -1 when no device has the port. */
export const boardPortWrite = (vm: number, port: number, size: number, value: number) => {
  const d = portDeviceAt(port);
  if (d < 0) return -1;
  countAccess(vm, d);
  switch (deviceId(d)) {
    case DeviceId.Com1:
      return com1WriteSized(vm, portOffset(), size, value);
    case DeviceId.DebugExit:
      return debugExitWriteSized(vm, size, value);
    case DeviceId.Pit:
      return pitWriteSized(vm, port, size, value);
    case DeviceId.Pic:
      return picWriteSized(vm, port, size, value);
    case DeviceId.Rtc:
      return rtcWriteSized(vm, port, size, value);
    case DeviceId.ResetControl:
      return size === 1 && resetControlWrite(vm, value) ? resetRequested(port) : DeviceAction.Continue;
    case DeviceId.Kbc:
      return size === 1 && port === KBC_COMMAND_PORT && kbcCommand(vm, value) ? resetRequested(port) : DeviceAction.Continue;
    case DeviceId.AcpiPm:
      return acpiPmWrite(vm, port, size, value) ? poweredOff() : DeviceAction.Continue;
  }
  return DeviceAction.Continue;
};

/** Whether the board has a device with migration id `id` that has state to migrate (importing this module registers them). */
export const boardHasDeviceState = (id: number) => {
  const d = deviceById(id);
  return d >= 0 && deviceStateBytes(d) > 0;
};

/** What VM `vm` reads at offset `offset` of device `d`'s MMIO range (size 1, 2, 4); -1 when the device does not answer. */
export const boardMmioRead = (vm: number, d: number, offset: number, size: number) => {
  countAccess(vm, d);
  switch (deviceId(d)) {
    case DeviceId.Com1:
      return com1ReadSized(vm, offset, size);
    case DeviceId.Ioapic:
      return apicDword(offset, size) ? ioapicRead(vm, offset, apicNow(vm)) : -1;
    case DeviceId.Lapic:
      return apicDword(offset, size) ? lapicRead(vcpuOf(vm, 0), offset, apicNow(vm)) : -1;
  }
  return -1;
};

/** VM `vm` writes at offset `offset` of device `d`'s MMIO range: a DeviceAction. */
export const boardMmioWrite = (vm: number, d: number, offset: number, size: number, value: number) => {
  countAccess(vm, d);
  switch (deviceId(d)) {
    case DeviceId.Com1:
      return com1WriteSized(vm, offset, size, value);
    case DeviceId.DebugExit:
      return debugExitWriteSized(vm, size, value);
    case DeviceId.Ioapic:
      if (apicDword(offset, size)) ioapicWrite(vm, offset, value, apicNow(vm));
      return DeviceAction.Continue;
    case DeviceId.Lapic:
      return apicDword(offset, size) ? lapicWriteMmio(vm, offset, value) : DeviceAction.Continue;
  }
  return DeviceAction.Continue;
};

/** VM `vm`'s devices at power-on, their access counts from zero. */
export const resetBoard = (vm: number) => {
  com1Reset(vm);
  debugExitReset(vm);
  pitReset(vm);
  picReset(vm);
  rtcReset(vm, vmMemMiB[vm] * 1048576, rtcHostSeconds());
  ioapicReset(vm);
  lapicReset(vcpuOf(vm, 0), 0); // the VM's vCPU 0 is its BSP, APIC ID 0
  resetDevicesReset(vm);
  acpiPmReset(vm);
  resetDeviceAccesses(vm);
};

/** Writes device `d`'s state of VM `vm` to out[off, + deviceStateBytes(d)). */
export const saveDevice = (d: number, vm: number, out: Uint8Array, off: number) => {
  if (deviceId(d) === DeviceId.Com1) com1Save(vm, out, off);
  else if (deviceId(d) === DeviceId.Pit) pitSave(vm, out, off);
  else if (deviceId(d) === DeviceId.AcpiPm) acpiPmSave(vm, out, off);
  else if (deviceId(d) === DeviceId.Pic) picSave(vm, out, off);
  else if (deviceId(d) === DeviceId.Rtc) rtcSave(vm, out, off);
  else if (deviceId(d) === DeviceId.Ioapic) ioapicSave(vm, out, off);
  else if (deviceId(d) === DeviceId.Lapic) lapicSave(vcpuOf(vm, 0), out, off); // per vCPU: one vCPU today
  else if (deviceId(d) === DeviceId.GuestClock) {
    const t = guestTsc(vm);
    const hi = Math.floor(t / 4294967296);
    putLe32(out, off, (t - hi * 4294967296) >>> 0);
    putLe32(out, off + 4, hi >>> 0);
  }
};

/** Sets device `d` of VM `vm` from saved state; false (nothing changed) when malformed. */
export const loadDevice = (d: number, vm: number, src: Uint8Array, off: number, len: number) => {
  if (deviceId(d) === DeviceId.Com1) return com1Load(vm, src, off, len);
  if (deviceId(d) === DeviceId.Pit) return pitLoad(vm, src, off, len);
  if (deviceId(d) === DeviceId.AcpiPm) return acpiPmLoad(vm, src, off, len);
  if (deviceId(d) === DeviceId.Pic) return picLoad(vm, src, off, len);
  if (deviceId(d) === DeviceId.Rtc) return rtcLoad(vm, src, off, len);
  if (deviceId(d) === DeviceId.Ioapic) return ioapicLoad(vm, src, off, len);
  if (deviceId(d) === DeviceId.Lapic) return lapicLoad(vcpuOf(vm, 0), src, off, len);
  if (deviceId(d) === DeviceId.GuestClock) {
    if (len !== 8 || off < 0 || off + 8 > src.length) return false;
    const t = le32(src, off + 4) * 4294967296 + le32(src, off);
    if (t >= 9007199254740992) return false; // beyond what a double holds exactly
    setGuestTsc(vm, vcpuOf(vm, 0), t, ticksSinceBoot()); // it goes on from where it was on the source
    return true;
  }
  return len === 0;
};
