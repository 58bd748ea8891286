// Port 0xF4 with the meaning of QEMU's isa-debug-exit device (hw/misc/debugexit.c, iobase
// 0xF4, iosize 1-4): a guest write asks to stop its VM, and the value written is the VM's
// exit status (QEMU itself would exit with (value << 1) | 1; Zerovisor keeps the value).
// Reads are not decoded: the port reads all ones like any port without a device.

import { MAX_VMS } from '../../lib/limits';

/** The I/O port. */
export const DEBUG_EXIT_PORT = 0xf4;

const requested = new Uint8Array(MAX_VMS);
const status = new Float64Array(MAX_VMS);
const writes = new Float64Array(MAX_VMS);

/** Records VM `vm`'s write of `value` (already cut to the access size by the caller) as its exit request. */
export const debugExitWrite = (vm: number, value: number) => {
  if (!(vm >= 0 && vm < MAX_VMS)) return;
  requested[vm] = 1;
  status[vm] = value >>> 0;
  writes[vm] = writes[vm] + 1;
};

/** Whether VM `vm` wrote the port since its reset. */
export const debugExitRequested = (vm: number) => vm >= 0 && vm < MAX_VMS && requested[vm] !== 0;
/** The status of VM `vm`'s last write (0 when none), an unsigned 32-bit value. */
export const debugExitStatus = (vm: number) => (vm >= 0 && vm < MAX_VMS ? status[vm] : 0);
/** How many writes VM `vm` made. */
export const debugExitWrites = (vm: number) => (vm >= 0 && vm < MAX_VMS ? writes[vm] : 0);
/** Forgets VM `vm`'s request (a new VM in the slot). */
export const debugExitReset = (vm: number) => {
  if (!(vm >= 0 && vm < MAX_VMS)) return;
  requested[vm] = 0;
  status[vm] = 0;
  writes[vm] = 0;
};
