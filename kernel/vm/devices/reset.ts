// The two ways a PC kernel resets its machine (Linux's reboot=pci and reboot=kbd):
//   - the Reset Control register at port 0xCF9 (Intel PCH datasheets, "RST_CNT"): bit 1
//     SYS_RST chooses a full reset, bit 2 RST_CPU resets on its 0 -> 1 transition; it reads
//     back bits 1-3 as written;
//   - the 8042 keyboard controller's command 0xFE at port 0x64 ("pulse output port bit 0",
//     the CPU's reset line). The controller answers its status (0x64) as after its self
//     test, input and output buffers empty (0x1C: system flag, last write a command,
//     keyboard not inhibited); other commands are ignored and port 0x60 reads 0, so a
//     driver that probes further finds no keyboard behind it.
// A reset stops the VM (StopReason.Reset, the port as its detail).
import { MAX_VMS } from '../../lib/limits';

export const RESET_CONTROL_PORT = 0xcf9;
export const KBC_DATA_PORT = 0x60;
export const KBC_COMMAND_PORT = 0x64;

const RST_CPU = 0x04;
const KBC_PULSE_RESET = 0xfe;
const KBC_STATUS = 0x1c;

const resetControl = new Uint8Array(MAX_VMS);

const valid = (vm: number) => vm >= 0 && vm < MAX_VMS;

/** VM `vm` writes `value` to port 0xCF9: whether that resets the machine. */
export const resetControlWrite = (vm: number, value: number) => {
  if (!valid(vm)) return false;
  const rising = (resetControl[vm] & RST_CPU) === 0 && (value & RST_CPU) !== 0;
  resetControl[vm] = value & 0x0e;
  return rising;
};

export const resetControlRead = (vm: number) => (valid(vm) ? resetControl[vm] : 0xff);

/** VM `vm` writes `value` to the 8042's command port: whether that resets the machine. */
export const kbcCommand = (vm: number, value: number) => valid(vm) && (value & 0xff) === KBC_PULSE_RESET;

/** The 8042's status (port 0x64) or data (0x60) byte. */
export const kbcRead = (port: number) => (port === KBC_COMMAND_PORT ? KBC_STATUS : 0);

export const resetDevicesReset = (vm: number) => {
  if (valid(vm)) resetControl[vm] = 0;
};
