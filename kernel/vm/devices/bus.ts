// The buses of a VM and the device registry, as data: port ranges and guest-physical MMIO
// ranges mapped to devices, each device's id (which model serves it, and its DeviceState
// id in live migration), name, saved-state size and access counts. The board (board.ts)
// registers the devices and routes an access to the model's handlers (read, write,
// reset, save/restore). An MMIO range is not in the VM's nested page tables (they map only
// its RAM), so every access to it is a nested page fault that the dispatch decodes.
import { MAX_DEVICES, MAX_VMS } from '../../lib/limits';

/** What a write asks of the dispatch. */
export const enum DeviceAction {
  Continue = 0,
  Stop = 1, // the device stopped the VM: stopRequest() says why
}

let devices = 0;
const deviceIds = new Int32Array(MAX_DEVICES);
const deviceNames: string[] = [];
const stateBytes = new Int32Array(MAX_DEVICES);
const accesses = new Float64Array(MAX_VMS * MAX_DEVICES);

/**
 * Adds a device; returns its index on the bus, or -1 when the registry is full. `id` says
 * which model's handlers serve it (board.ts) and is its migration id (DeviceState frames);
 * `bytes` is the size of its saved state (0: none).
 */
export const registerDevice = (id: number, name: string, bytes: number) => {
  if (devices >= MAX_DEVICES) return -1;
  const d = devices;
  deviceIds[d] = id;
  deviceNames.push(name); // index d: devices are only ever added
  stateBytes[d] = bytes;
  devices++;
  return d;
};

// ---- ranges: [first, last] inclusive, each to a device index ----
const MAX_RANGES = 32;
let portRanges = 0;
const portFirst = new Int32Array(MAX_RANGES);
const portLast = new Int32Array(MAX_RANGES);
const portDevice = new Int32Array(MAX_RANGES);
/** Maps ports [first, first + count) to device `d`; false when full or overlapping. */
export const mapPorts = (d: number, first: number, count: number) => {
  const last = first + count - 1;
  if (d < 0 || d >= devices || count < 1 || last > 0xffff || portRanges >= MAX_RANGES) return false;
  for (let r = 0; r < portRanges; r++) if (first <= portLast[r] && last >= portFirst[r]) return false;
  portFirst[portRanges] = first;
  portLast[portRanges] = last;
  portDevice[portRanges] = d;
  portRanges++;
  return true;
};

let mmioRanges = 0;
const mmioFirst = new Float64Array(MAX_RANGES); // guest-physical, as doubles (exact below 2^53)
const mmioLast = new Float64Array(MAX_RANGES);
const mmioDevice = new Int32Array(MAX_RANGES);

/** Maps guest-physical [base, base + size) to device `d`; false when full or overlapping. */
export const mapMmio = (d: number, base: number, size: number) => {
  const last = base + size - 1;
  if (d < 0 || d >= devices || size < 1 || mmioRanges >= MAX_RANGES) return false;
  for (let r = 0; r < mmioRanges; r++) if (base <= mmioLast[r] && last >= mmioFirst[r]) return false;
  mmioFirst[mmioRanges] = base;
  mmioLast[mmioRanges] = last;
  mmioDevice[mmioRanges] = d;
  mmioRanges++;
  return true;
};

let foundOffset = 0; // set by the lookups: the access's offset into its range

/** The device index whose MMIO range holds guest-physical `gpa`, or -1; mmioOffset() is then the offset into it. */
export const mmioDeviceAt = (gpa: number) => {
  for (let r = 0; r < mmioRanges; r++) {
    if (gpa >= mmioFirst[r] && gpa <= mmioLast[r]) {
      foundOffset = gpa - mmioFirst[r];
      return mmioDevice[r];
    }
  }
  return -1;
};
export const mmioOffset = () => foundOffset;

/** The device index that has `port`, or -1; portOffset() is then the offset into its range. */
export const portDeviceAt = (port: number) => {
  for (let r = 0; r < portRanges; r++) {
    if (port >= portFirst[r] && port <= portLast[r]) {
      foundOffset = port - portFirst[r];
      return portDevice[r];
    }
  }
  return -1;
};
export const portOffset = () => foundOffset;

// ---- a device that stops its VM says why here ----
let stopReasonCode = 0;
let stopDetailValue = 0;
/** Called by a device's write handler before it returns DeviceAction.Stop. */
export const requestStop = (reason: number, detail: number) => {
  stopReasonCode = reason;
  stopDetailValue = detail;
};
export const stopRequestReason = () => stopReasonCode;
export const stopRequestDetail = () => stopDetailValue;

const activity = new Uint8Array(MAX_VMS); // a device of the VM was touched since the platform last looked (kernel/vm/interrupts.ts)

/** Counts an access of VM `vm` to device `d` (metrics); the platform looks at the interrupt lines again before the next entry. */
export const countAccess = (vm: number, d: number) => {
  accesses[vm * MAX_DEVICES + d]++;
  activity[vm] = 1;
};

/** Notes that something outside the guest changed a device of VM `vm` (console input reached its UART). */
export const markDeviceActivity = (vm: number) => {
  activity[vm] = 1;
};
export const deviceActivity = (vm: number) => activity[vm];
export const clearDeviceActivity = (vm: number) => {
  activity[vm] = 0;
};

export const deviceCount = () => devices;
export const deviceId = (d: number) => deviceIds[d];
export const deviceName = (d: number) => deviceNames[d];
export const deviceStateBytes = (d: number) => stateBytes[d];
/** Device index of migration id `id`, or -1. */
export const deviceById = (id: number) => {
  for (let d = 0; d < devices; d++) if (deviceIds[d] === id) return d;
  return -1;
};
/** Accesses VM `vm` made to device `d`, for metrics. */
export const deviceAccesses = (vm: number, d: number) => accesses[vm * MAX_DEVICES + d];
/** Forgets VM `vm`'s access counts (a new VM in the slot). */
export const resetDeviceAccesses = (vm: number) => {
  for (let d = 0; d < MAX_DEVICES; d++) accesses[vm * MAX_DEVICES + d] = 0;
};
