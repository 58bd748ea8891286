// Creating, starting, pausing, resuming, suspending, stopping and destroying VMs: the
// design's state machine (vm-table.ts), each transition audited and logged. A VM gets
// its RAM as one 2 MiB-aligned block from the page allocator, nested page tables that
// map exactly that RAM, its image copied in, and one vCPU (kernel/vcpu/vcpu.ts).
import { dataAddress } from '../host/memory';
import { Span } from '../lib/format';
import { audit, AuditEvent } from '../diag/audit';
import { Category, Level, logQuiet } from '../diag/log';
import { allocatePages, freePages, hostAddressHi, hostAddressLo, PAGES_2M } from '../memory/page-allocator';
import { NptAccess, nptCreate, nptDestroy, nptMap } from '../memory/nested-paging';
import { createVcpu, destroyVcpu, enableVirtualization, VcpuError } from '../vcpu/vcpu';
import { ticksSinceBoot } from '../lib/clock';
import { EXIT_REASON_COUNT } from '../vcpu/exit-reason';
import { ImageError, imageEntry, segmentAddress, segmentCount, segmentFileOffset, segmentFileSize } from './image/elf32';
import { bootEax, multibootCheck, multibootInfo } from './image/multiboot';
import { flatCheck } from './image/flat';
import { guestWrite } from './guest-memory';
import { writePlatformTables } from './tables/platform-tables';
import { resetExitState, stopByteCount, stopBytes } from './exits';
import { guestOutputFinal, vmStopped } from './vm-events';
import { releaseVcpuIds, takeVcpuId, vcpuOf } from './vcpu-table';
import { retireExitCounts } from './vm-metrics';
import { resetBoard } from './devices/board';
import { resetInterrupts } from './interrupts';
import { setGuestTsc } from './guest-clock';
import {
  freeSlot, setVmCmdline, setVmName, setVmPath, StopReason, transitionAllowed, vmCmdlineCodes, vmCmdlineLength,
  vmCmdlineStart, vmEntry, vmExits, vmExitStatus, vmHalted, vmIdleUntil, vmMemMiB, vmName, vmNptRoot, vmRamBase, vmRunTicks,
  vmStartTicks, VmState, vmState, vmStopDetail, vmCreateTicks, vmStopReason, vmUnknownPorts, vmDeniedMsrs, VM_STATE_NAMES,
  STOP_BYTES, vmStopByteCount, vmStopBytes, vmFlatEntry, vmPath, vmRestarts,
} from './vm-table';

export const MAX_VM_MIB = 4096;
const IMAGE_CAPACITY = 524288; // 512 KiB of image file
const INFO_ADDRESS = 0x9000; // guest-physical home of the Multiboot information
const INFO_CAPACITY = 2048;
const FLAT_LOAD_ADDRESS = 0x100000;

const image = new Uint8Array(IMAGE_CAPACITY);
const pathUcs2 = new Uint16Array(130);
const info = new Uint8Array(INFO_CAPACITY);

export const enum CreateError {
  NoSlot = -100,
  FileNotFound = -101,
  FileTooLarge = -102,
  FileError = -103,
  NoMemory = -104,
  NotVirtualizable = -105,
  NestedPaging = -106,
  NoBackEnd = -107, // neither SVM nor VMX
}

/** Why the last createVm failed: a CreateError or an ImageError. */
export let createError = 0;
/** With CreateError.NotVirtualizable: the back end's error from enabling (SvmError, VmxError). */
export let enableError = 0;

const fail = (code: number) => {
  createError = code;
  return -1;
};

const readImage = (slotPath: Span) => {
  const n = slotPath.len < 128 ? slotPath.len : 128;
  for (let i = 0; i < n; i++) pathUcs2[i] = slotPath.buf[slotPath.start + i] & 0xffff;
  pathUcs2[n] = 0;
  return hv_efi_file_read(dataAddress(pathUcs2), dataAddress(image), IMAGE_CAPACITY);
};

const release = (slot: number) => {
  releaseVcpuIds(slot);
  if (vmNptRoot[slot] > 0) nptDestroy(vmNptRoot[slot]);
  if (vmRamBase[slot] > 0) freePages(vmRamBase[slot]);
  vmNptRoot[slot] = 0;
  vmRamBase[slot] = 0;
};

/**
 * Creates a VM: RAM of `memMiB`, the image at `path` on the boot volume (Multiboot ELF, or a
 * flat binary loaded at 1 MiB and entered at `flatEntry` when that is >= 0), `cmdline` for
 * Multiboot. Returns its slot, or -1 with createError set.
 */
export const createVm = (name: Span, memMiB: number, path: Span, cmdline: Span | null, flatEntry: number) => {
  const began = ticksSinceBoot();
  const slot = freeSlot();
  if (slot < 0) return fail(CreateError.NoSlot);
  const size = readImage(path);
  if (size < 0) return fail(fileError(size));
  const ramBytes = memMiB * 1048576;
  const check = flatEntry >= 0 ? flatCheck(size, FLAT_LOAD_ADDRESS, flatEntry, ramBytes) : multibootCheck(image, size, ramBytes);
  if (check !== ImageError.Ok) return fail(check);
  const prepared = prepareMemory(slot, memMiB);
  if (prepared !== 0) return fail(prepared);
  setVmName(slot, name);
  setVmPath(slot, path);
  setVmCmdline(slot, cmdline);
  vmFlatEntry[slot] = flatEntry;
  const loaded = loadGuest(slot, ramBytes, flatEntry);
  if (loaded < 0) {
    release(slot);
    return fail(loaded);
  }
  const vcpu = takeVcpuId(slot, 0);
  if (vcpu < 0) {
    release(slot);
    return fail(CreateError.NoSlot);
  }
  if (createVcpu(vcpu, vmNptRoot[slot], imageEntry(), bootEaxValue, bootEbxValue) !== 0) {
    release(slot);
    return fail(CreateError.NoMemory);
  }
  initVmState(slot, began);
  return slot;
};

/** A CreateError for what hv_efi_file_read returned (< 0). */
const fileError = (size: number) => (size === -1 ? CreateError.FileNotFound : size === -2 ? CreateError.FileTooLarge : CreateError.FileError);

let bootEaxValue = 0;
let bootEbxValue = 0;

/**
 * Puts the checked image (in `image`) into VM `slot`'s RAM with what a guest finds at power-on:
 * its segments, the MP and ACPI tables in 640 KiB-1 MiB (inside any VM's RAM, >= 1 MiB), and
 * for Multiboot the information structure with its command line; sets vmEntry and the boot
 * registers (bootEaxValue, bootEbxValue). 0, or a (negative) error.
 */
const loadGuest = (slot: number, ramBytes: number, flatEntry: number) => {
  const base = dataAddress(image);
  for (let i = 0; i < segmentCount(); i++) guestWrite(slot, segmentAddress(i), base + segmentFileOffset(i), segmentFileSize(i));
  writePlatformTables(slot, 1, ramBytes);
  bootEaxValue = 0;
  bootEbxValue = 0;
  if (flatEntry < 0) {
    const used = multibootInfo(info, INFO_CAPACITY, INFO_ADDRESS, ramBytes, vmCmdlineCodes(), vmCmdlineStart(slot), vmCmdlineLength(slot));
    if (used < 0) return used;
    guestWrite(slot, INFO_ADDRESS, dataAddress(info), used);
    bootEaxValue = bootEax();
    bootEbxValue = INFO_ADDRESS;
  }
  vmEntry[slot] = imageEntry();
  return 0;
};

/**
 * VM `slot` reset itself (0xCF9, the 8042) and was created with `--on-reset restart`: it starts
 * again as a machine does after a reset: RAM cleared, the image read again from the boot volume
 * and loaded, its vCPU and devices at power-on, its TSC from 0; it stays Running. 0, or a
 * CreateError / ImageError (the image is gone or changed: the VM is then stopped by the caller).
 */
export const restartVm = (slot: number) => {
  const size = readImage(vmPath(slot));
  if (size < 0) return fileError(size);
  const ramBytes = vmMemMiB[slot] * 1048576;
  const flatEntry = vmFlatEntry[slot];
  const check = flatEntry >= 0 ? flatCheck(size, FLAT_LOAD_ADDRESS, flatEntry, ramBytes) : multibootCheck(image, size, ramBytes);
  if (check !== ImageError.Ok) return check;
  guestOutputFinal(slot); // what its UART sent before the reset is shown, a partial line too
  hv_phys_zero(hostAddressLo(vmRamBase[slot]), hostAddressHi(vmRamBase[slot]), ramBytes);
  const loaded = loadGuest(slot, ramBytes, flatEntry);
  if (loaded < 0) return loaded;
  const vcpu = vcpuOf(slot, 0);
  if (createVcpu(vcpu, vmNptRoot[slot], imageEntry(), bootEaxValue, bootEbxValue) !== 0) return CreateError.NoMemory;
  resetBoard(slot);
  resetExitState(vcpu);
  resetInterrupts(slot, vcpu);
  setGuestTsc(slot, vcpu, 0, ticksSinceBoot());
  vmHalted[slot] = 0;
  vmIdleUntil[slot] = 0;
  vmRestarts[slot]++;
  audit(AuditEvent.VmStart, slot + 1, vmRestarts[slot], 'vm.audit.restart', vmName(slot), vmRestarts[slot]);
  logQuiet(Level.Info, Category.Vm, 'vm.audit.restart', vmName(slot), vmRestarts[slot]);
  return 0;
};

/** Turns virtualization on and gives VM `slot` its RAM and nested page tables: 0 or a CreateError (nothing kept). */
const prepareMemory = (slot: number, memMiB: number) => {
  const enabled = enableVirtualization();
  if (enabled === VcpuError.NoBackEnd) return CreateError.NoBackEnd;
  if (enabled !== 0) {
    enableError = enabled;
    return CreateError.NotVirtualizable;
  }
  const ram = allocatePages(memMiB * 256, PAGES_2M, 0);
  if (ram < 0) return CreateError.NoMemory;
  vmRamBase[slot] = ram;
  vmMemMiB[slot] = memMiB;
  const root = nptCreate();
  if (root < 0) {
    release(slot);
    return CreateError.NestedPaging;
  }
  vmNptRoot[slot] = root;
  if (nptMap(root, 0, ram, memMiB * 1048576, NptAccess.All) !== 0) {
    release(slot);
    return CreateError.NestedPaging;
  }
  return 0;
};

const noPath = new Span(new Uint32Array(1));

/**
 * Creates a VM for a migration arriving from another host: RAM of `memMiB` (zeroed; the
 * pages come from the peer) and a vCPU whose state the peer sends. Its slot, or -1 with
 * createError set.
 */
export const createIncomingVm = (name: Span, memMiB: number) => {
  const began = ticksSinceBoot();
  const slot = freeSlot();
  if (slot < 0) return fail(CreateError.NoSlot);
  if (!(memMiB >= 1 && memMiB <= MAX_VM_MIB)) return fail(CreateError.NoMemory);
  const prepared = prepareMemory(slot, memMiB);
  if (prepared !== 0) return fail(prepared);
  setVmName(slot, name);
  setVmPath(slot, noPath);
  setVmCmdline(slot, null);
  vmEntry[slot] = 0;
  const vcpu = takeVcpuId(slot, 0);
  if (vcpu < 0) {
    release(slot);
    return fail(CreateError.NoSlot);
  }
  if (createVcpu(vcpu, vmNptRoot[slot], 0, 0, 0) !== 0) {
    release(slot);
    return fail(CreateError.NoMemory);
  }
  initVmState(slot, began);
  return slot;
};

/** A new VM's bookkeeping: devices reset, Created, counters zero; audited. */
const initVmState = (slot: number, began: number) => {
  const memMiB = vmMemMiB[slot];
  retireExitCounts(slot); // the id's exit and device counters keep counting up
  resetBoard(slot);
  resetExitState(vcpuOf(slot, 0));
  resetInterrupts(slot, vcpuOf(slot, 0));
  setGuestTsc(slot, vcpuOf(slot, 0), 0, ticksSinceBoot()); // the guest's TSC counts from its power-on
  vmHalted[slot] = 0;
  vmState[slot] = VmState.Created;
  vmStopReason[slot] = StopReason.None;
  vmStopDetail[slot] = 0;
  vmStopByteCount[slot] = 0;
  vmExitStatus[slot] = -1;
  vmUnknownPorts[slot] = 0;
  vmDeniedMsrs[slot] = 0;
  vmRunTicks[slot] = 0;
  vmIdleUntil[slot] = 0;
  vmRestarts[slot] = 0;
  for (let r = 0; r < EXIT_REASON_COUNT; r++) vmExits[slot * EXIT_REASON_COUNT + r] = 0;
  vmCreateTicks[slot] = ticksSinceBoot() - began;
  audit(AuditEvent.VmCreate, slot + 1, 0, 'vm.audit.create', vmName(slot), memMiB);
  logQuiet(Level.Info, Category.Vm, 'vm.audit.create', vmName(slot), memMiB);
};

const AUDIT_EVENTS = [0, 0, AuditEvent.VmStart, AuditEvent.VmPause, AuditEvent.VmSuspend, AuditEvent.VmStop];

/** Moves VM `slot` to `to` if the state machine allows it; returns whether it did. */
export const changeState = (slot: number, to: number) => {
  const from = vmState[slot];
  if (!transitionAllowed(from, to)) return false;
  vmState[slot] = to;
  if (to === VmState.Running && from === VmState.Created) vmStartTicks[slot] = ticksSinceBoot();
  const event = to === VmState.Running && from !== VmState.Created ? AuditEvent.VmResume : AUDIT_EVENTS[to];
  audit(event, slot + 1, from, 'vm.audit.transition', vmName(slot), VM_STATE_NAMES[from], VM_STATE_NAMES[to]);
  logQuiet(Level.Info, Category.Vm, 'vm.audit.transition', vmName(slot), VM_STATE_NAMES[from], VM_STATE_NAMES[to]);
  return true;
};

/** Stops VM `slot` for `reason` (the scheduler's and `vm stop`'s way). */
export const stopVm = (slot: number, reason: number, detail: number) => {
  guestOutputFinal(slot);
  vmStopReason[slot] = reason;
  vmStopDetail[slot] = detail;
  // the instruction's bytes come with an UnsupportedInstruction stop from the exit handler (exits.ts)
  const count = reason === StopReason.UnsupportedInstruction ? stopByteCount : 0;
  vmStopByteCount[slot] = count;
  for (let i = 0; i < count; i++) vmStopBytes[slot * STOP_BYTES + i] = stopBytes[i];
  if (reason === StopReason.DebugExit) vmExitStatus[slot] = detail;
  changeState(slot, VmState.Stopped);
  vmStopped(slot);
  if (reason === StopReason.NestedPageFault) {
    audit(AuditEvent.VmStop, slot + 1, reason, 'vm.audit.npf', vmName(slot), Math.floor(detail / 4294967296), detail % 4294967296);
    logQuiet(Level.Warn, Category.Vm, 'vm.audit.npf', vmName(slot), Math.floor(detail / 4294967296), detail % 4294967296);
  }
};

/** Frees a Created or Stopped VM. */
export const destroyVm = (slot: number) => {
  if (!transitionAllowed(vmState[slot], VmState.Free)) return false;
  destroyVcpu(vcpuOf(slot, 0));
  release(slot);
  audit(AuditEvent.VmDestroy, slot + 1, 0, 'vm.audit.destroy', vmName(slot));
  logQuiet(Level.Info, Category.Vm, 'vm.audit.destroy', vmName(slot));
  vmState[slot] = VmState.Free;
  return true;
};
