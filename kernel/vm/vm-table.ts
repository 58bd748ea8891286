// The VMs: records in preallocated arrays, indexed by slot (VM id = slot + 1), and the
// state machine of the design (Created -> Running <-> Paused, Running <-> Suspended,
// Running/Paused/Suspended -> Stopped; destroy from Created or Stopped). Every transition
// is audited by the caller (kernel/vm/lifecycle.ts).
import { EXIT_REASON_COUNT } from '../vcpu/exit-reason';
import { Span } from '../lib/format';

import { MAX_VMS } from '../lib/limits';

export { MAX_VMS };
export const NAME_MAX = 32;
export const CMDLINE_MAX = 256;
export const PATH_MAX = 128;

export const enum VmState {
  Free = 0,
  Created = 1,
  Running = 2,
  Paused = 3,
  Suspended = 4,
  Stopped = 5,
}

/** State names (the same in every language: they are the design's). */
export const VM_STATE_NAMES = ['free', 'created', 'running', 'paused', 'suspended', 'stopped'];

export const enum StopReason {
  None = 0,
  DebugExit = 1, // the guest wrote its status to port 0xF4
  HaltedWithInterruptsOff = 2,
  TripleFault = 3,
  NestedPageFault = 4, // touched guest-physical memory it does not own
  InvalidState = 5,
  Operator = 6, // vm stop
  UnexpectedExit = 7,
  UnsupportedInstruction = 8,
  Migrated = 9, // it runs on another host now (detail: 0)
  Reset = 10, // the guest reset the machine (detail: the port, 0xCF9 or 0x64)
  PoweredOff = 11, // the guest entered ACPI S5, soft-off (detail: the PM1a_CNT port, 0x604)
}

/** What a guest's reset (0xCF9, the 8042's 0xFE) does to its VM (vm create --on-reset). */
export const enum OnReset {
  Stop = 0,
  Restart = 1,
}

export const vmState = new Uint8Array(MAX_VMS);
export const vmMemMiB = new Float64Array(MAX_VMS);
export const vmRamBase = new Float64Array(MAX_VMS); // host-physical address of guest RAM
export const vmNptRoot = new Float64Array(MAX_VMS);
export const vmEntry = new Float64Array(MAX_VMS);
export const vmStopReason = new Uint8Array(MAX_VMS);
export const vmStopDetail = new Float64Array(MAX_VMS); // NPF address, exit code, ...
/** UnsupportedInstruction stops at an MMIO access: the instruction's first bytes (up to STOP_BYTES; 0 when not known). */
export const STOP_BYTES = 8;
export const vmStopBytes = new Uint8Array(MAX_VMS * STOP_BYTES);
export const vmStopByteCount = new Uint8Array(MAX_VMS);
export const vmExitStatus = new Float64Array(MAX_VMS); // -1 until the guest writes port 0xF4 (then 0..2^32-1)
export const vmExits = new Float64Array(MAX_VMS * EXIT_REASON_COUNT);
export const vmUnknownPorts = new Float64Array(MAX_VMS);
export const vmDeniedMsrs = new Float64Array(MAX_VMS);
export const vmStartTicks = new Float64Array(MAX_VMS);
export const vmRunTicks = new Float64Array(MAX_VMS); // TSC ticks spent in the guest
export const vmIdleUntil = new Float64Array(MAX_VMS); // a halted VM's next device timer (host ticks since boot; 1e300: none)
export const vmFlatEntry = new Float64Array(MAX_VMS); // a flat image's entry (-1: Multiboot), for a restart
export const vmOnReset = new Uint8Array(MAX_VMS); // what a guest's reset does: OnReset
export const vmRestarts = new Float64Array(MAX_VMS); // resets that restarted it
export const vmHalted = new Uint8Array(MAX_VMS); // its vCPU executed HLT with interrupts on and waits for an interrupt
export const vmCreateTicks = new Float64Array(MAX_VMS); // TSC ticks `vm create` took

const nameCodes = new Uint32Array(MAX_VMS * NAME_MAX);
const nameLen = new Uint8Array(MAX_VMS);
const cmdlineCodes = new Uint32Array(MAX_VMS * CMDLINE_MAX);
const cmdlineLen = new Uint16Array(MAX_VMS);
const pathCodes = new Uint32Array(MAX_VMS * PATH_MAX);
const pathLen = new Uint16Array(MAX_VMS);

const nameSpans: Span[] = [];
const pathSpans: Span[] = [];
for (let i = 0; i < MAX_VMS; i++) {
  const n = new Span(nameCodes);
  n.start = i * NAME_MAX;
  nameSpans.push(n);
  const p = new Span(pathCodes);
  p.start = i * PATH_MAX;
  pathSpans.push(p);
}

/** A free slot, or -1. */
export const freeSlot = () => {
  for (let i = 0; i < MAX_VMS; i++) if (vmState[i] === VmState.Free) return i;
  return -1;
};

const copySpan = (dst: Uint32Array, at: number, max: number, src: Span) => {
  const n = src.len < max ? src.len : max;
  const buf = src.buf;
  for (let i = 0; i < n; i++) dst[at + i] = buf[src.start + i];
  return n;
};

export const setVmName = (slot: number, name: Span) => {
  nameLen[slot] = copySpan(nameCodes, slot * NAME_MAX, NAME_MAX, name);
  nameSpans[slot].len = nameLen[slot];
};
export const setVmPath = (slot: number, path: Span) => {
  pathLen[slot] = copySpan(pathCodes, slot * PATH_MAX, PATH_MAX, path);
  pathSpans[slot].len = pathLen[slot];
};
export const setVmCmdline = (slot: number, cmdline: Span | null) => {
  cmdlineLen[slot] = cmdline === null ? 0 : copySpan(cmdlineCodes, slot * CMDLINE_MAX, CMDLINE_MAX, cmdline);
};

/** The VM's name / image path as spans (for messages). */
export const vmName = (slot: number) => nameSpans[slot];
export const vmPath = (slot: number) => pathSpans[slot];
/** The command line's code points: cmdlineCodes from vmCmdlineStart(slot), vmCmdlineLength(slot) of them. */
export const vmCmdlineCodes = () => cmdlineCodes;
export const vmCmdlineStart = (slot: number) => slot * CMDLINE_MAX;
export const vmCmdlineLength = (slot: number) => cmdlineLen[slot];

/** The slot of the VM a word names (its id, 1-based, or its name), or -1. */
export const findVm = (word: Span) => {
  let id = 0;
  let numeric = word.len > 0;
  for (let i = 0; i < word.len; i++) {
    const d = word.buf[word.start + i] - 48;
    if (d < 0 || d > 9) numeric = false;
    else id = id * 10 + d;
  }
  if (numeric && id >= 1 && id <= MAX_VMS && vmState[id - 1] !== VmState.Free) return id - 1;
  for (let s = 0; s < MAX_VMS; s++) {
    if (vmState[s] === VmState.Free || nameLen[s] !== word.len) continue;
    let same = true;
    for (let i = 0; i < word.len; i++) if (nameCodes[s * NAME_MAX + i] !== word.buf[word.start + i]) same = false;
    if (same) return s;
  }
  return -1;
};

/** Whether the state machine allows `from` -> `to`. */
export const transitionAllowed = (from: number, to: number) => {
  switch (to) {
    case VmState.Running:
      return from === VmState.Created || from === VmState.Paused || from === VmState.Suspended;
    case VmState.Paused:
    case VmState.Suspended:
      return from === VmState.Running;
    case VmState.Stopped:
      return from === VmState.Running || from === VmState.Paused || from === VmState.Suspended;
    case VmState.Free:
      return from === VmState.Created || from === VmState.Stopped;
  }
  return false;
};
