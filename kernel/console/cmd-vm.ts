// `vm ...` and `sleep <ms>`: the VMs from the console (kernel/vm).
import type { MsgKey } from '../i18n/dictionary';
import { text } from '../i18n/messages';
import { Span } from '../lib/format';
import { decimalArgument, hexArgument, missingArgument, unexpectedArgument } from './args';
import { Command, COMMAND_USAGE } from './command-table';
import { say, sayError, sayInline } from './output';
import { sayStopDetail } from './vm-announce';
import { Status } from './status';
import { spanIs, token, tokenCount } from './tokens';
import { ticksSinceBoot, tscHz } from '../lib/clock';
import { hostAddressHi, hostAddressLo } from '../memory/page-allocator';
import { EXIT_REASON_COUNT, EXIT_REASON_NAMES } from '../vcpu/exit-reason';
import { changeState, createError, createVm, CreateError, destroyVm, enableError, MAX_VM_MIB, stopVm } from '../vm/lifecycle';
import { SvmError } from '../vcpu/svm/svm';
import { VmxError } from '../vcpu/vmx/vmx';
import { waitTurn } from './wait';
import { outputSeen, unwatchOutput, watchOutput } from './guest-output';
import { setCpuidFloor } from '../vcpu/vcpu';
import { vcpuOf } from '../vm/vcpu-table';
import {
  findVm, MAX_VMS, StopReason, vmEntry, vmExits, vmExitStatus, vmMemMiB, vmName, vmPath, vmRamBase, vmRunTicks,
  VmState, vmState, VM_STATE_NAMES, NAME_MAX, vmDeniedMsrs, vmUnknownPorts, vmCreateTicks, vmHalted, OnReset, vmOnReset, vmRestarts,
} from '../vm/vm-table';
import { injectedByVector, injectedNmis } from '../vm/interrupts';

const IMAGE_KEYS: MsgKey[] = [
  'vm.image.other', 'vm.image.-1', 'vm.image.-2', 'vm.image.-3', 'vm.image.-4', 'vm.image.-5', 'vm.image.-6', 'vm.image.-7', 'vm.image.-8',
  'vm.image.-9', 'vm.image.-10', 'vm.image.-11', 'vm.image.-12', 'vm.image.-13', 'vm.image.-14', 'vm.image.-15', 'vm.image.-16',
];
const SUBCOMMANDS = ['create', 'start', 'pause', 'resume', 'suspend', 'stop', 'destroy', 'list', 'info', 'wait'];
const TARGET_STATES = [0, VmState.Running, VmState.Paused, VmState.Running, VmState.Suspended, VmState.Stopped];
const MAX_SLEEP_MS = 600000;

/** The VM named by word `index`, or -1 after an error message. */
const vmArgument = (index: number) => {
  if (tokenCount() <= index) {
    missingArgument(Command.Vm);
    return -1;
  }
  const slot = findVm(token(index));
  if (slot < 0) sayError('vm.notFound', token(index));
  return slot;
};

const nameUsable = (name: Span) => {
  if (name.len === 0 || name.len > NAME_MAX || findVm(name) >= 0) return false;
  for (let i = 0; i < name.len; i++) {
    const c = name.buf[name.start + i];
    if (c < 48 || c > 57) return true;
  }
  return false;
};

const vmCreate = () => {
  const n = tokenCount();
  if (n < 3) return missingArgument(Command.Vm);
  const name = token(2);
  if (!nameUsable(name)) {
    sayError('vm.badName', name);
    return Status.Failed;
  }
  let mem = -1;
  let image = -1;
  let cmdline = -1;
  let entry = -1;
  let floor = false;
  let onReset = OnReset.Stop;
  for (let i = 3; i < n; i++) {
    const w = token(i);
    if (spanIs(w, '--cpuid-floor')) {
      floor = true;
      continue;
    }
    if (i + 1 >= n) {
      sayError('vm.badOption', w);
      return Status.Failed;
    }
    if (spanIs(w, '--mem')) {
      mem = decimalArgument(i + 1, MAX_VM_MIB);
      if (mem < 2 || mem % 2 !== 0) {
        sayError('vm.badMem', token(i + 1), MAX_VM_MIB);
        return Status.Failed;
      }
    } else if (spanIs(w, '--image')) image = i + 1;
    else if (spanIs(w, '--cmdline')) cmdline = i + 1;
    else if (spanIs(w, '--vcpus')) {
      if (decimalArgument(i + 1, 1) !== 1) {
        sayError('vm.badVcpus', token(i + 1));
        return Status.Failed;
      }
    } else if (spanIs(w, '--on-reset')) {
      if (spanIs(token(i + 1), 'restart')) onReset = OnReset.Restart;
      else if (spanIs(token(i + 1), 'stop')) onReset = OnReset.Stop;
      else {
        sayError('vm.badOnReset', token(i + 1));
        return Status.Failed;
      }
    } else if (spanIs(w, '--entry')) {
      entry = hexArgument(i + 1);
      if (entry < 0) {
        sayError('vm.badEntry', token(i + 1));
        return Status.Failed;
      }
    } else {
      sayError('vm.badOption', w);
      return Status.Failed;
    }
    i++;
  }
  if (mem < 0 || image < 0) {
    sayError('vm.missing');
    return Status.Failed;
  }
  const slot = createVm(name, mem, token(image), cmdline >= 0 ? token(cmdline) : null, entry);
  if (slot >= 0) {
    if (floor) setCpuidFloor(vcpuOf(slot, 0), true);
    vmOnReset[slot] = onReset;
    say('vm.created', slot + 1, vmName(slot), mem, vmEntry[slot]);
    const hz = tscHz() > 0 ? tscHz() : 1e9;
    say('vm.createdIn', (vmCreateTicks[slot] * 1000) / hz, vmCreateTicks[slot]);
    return Status.Ok;
  }
  const e = createError;
  if (e === CreateError.NoSlot) sayError('vm.noSlot', MAX_VMS);
  else if (e === CreateError.FileNotFound) sayError('vm.fileNotFound', token(image));
  else if (e === CreateError.FileTooLarge) sayError('vm.fileTooLarge', token(image), 524288);
  else if (e === CreateError.FileError) sayError('vm.fileError', token(image));
  else if (e === CreateError.NoMemory) sayError('vm.noMemory', mem);
  else if (e === CreateError.NotVirtualizable) sayEnableError(enableError);
  else if (e === CreateError.NoBackEnd) sayError('vm.noBackEnd');
  else if (e === CreateError.NestedPaging) sayError('vm.nestedPaging');
  else sayError('vm.badImage', token(image), text(IMAGE_KEYS[e < 0 && e >= -16 ? -e : 0]));
  return Status.Failed;
};

/** Why hardware virtualization could not be turned on, from the back end's error. */
const sayEnableError = (e: number) => {
  if (e === VmxError.DisabledByFirmware) sayError('vm.vmxLockedOff');
  else if (e === VmxError.NoEpt) sayError('vm.vmxNoEpt');
  else if (e === VmxError.NoUnrestrictedGuest) sayError('vm.vmxNoUnrestricted');
  else if (e === VmxError.MissingControl) sayError('vm.vmxControls');
  else if (e === VmxError.VmxonFailed) sayError('vm.vmxonFailed');
  else if (e === VmxError.HostTss || e === VmxError.VmcsFailed) sayError('vm.vmxHostState');
  else if (e === SvmError.DisabledByFirmware) sayError('vm.svmDisabled');
  else sayError('vm.notVirtualizable');
};

const vmTransition = (sub: number) => {
  if (tokenCount() > 3) return unexpectedArgument(Command.Vm, 3);
  const slot = vmArgument(2);
  if (slot < 0) return Status.Failed;
  const from = vmState[slot];
  let ok = false;
  if (sub === 5) {
    if (from === VmState.Running || from === VmState.Paused || from === VmState.Suspended) {
      stopVm(slot, StopReason.Operator, 0);
      ok = true;
    }
  } else if (sub === 6) {
    ok = destroyVm(slot);
    if (ok) {
      say('vm.destroyed', slot + 1, vmName(slot));
      return Status.Ok;
    }
  } else if (sub === 3) {
    ok = (from === VmState.Paused || from === VmState.Suspended) && changeState(slot, VmState.Running);
  } else if (sub === 1) {
    ok = from === VmState.Created && changeState(slot, VmState.Running);
  } else ok = changeState(slot, TARGET_STATES[sub]);
  if (!ok) {
    sayError('vm.badTransition', slot + 1, vmName(slot), VM_STATE_NAMES[from], VM_STATE_NAMES[sub === 6 ? 0 : TARGET_STATES[sub]]);
    return Status.Failed;
  }
  say('vm.changed', slot + 1, vmName(slot), VM_STATE_NAMES[vmState[slot]]);
  return Status.Ok;
};

const vmList = () => {
  if (tokenCount() > 2) return unexpectedArgument(Command.Vm, 2);
  let shown = 0;
  for (let s = 0; s < MAX_VMS; s++) {
    if (vmState[s] === VmState.Free) continue;
    if (shown === 0) say('vm.list.header');
    sayInline('vm.list.row', s + 1, vmName(s), VM_STATE_NAMES[vmState[s]], vmMemMiB[s]);
    if (vmExitStatus[s] >= 0) say('vm.list.status', vmExitStatus[s]);
    else say('vm.none');
    shown++;
  }
  if (shown === 0) say('vm.list.empty');
  return Status.Ok;
};

const vmInfo = () => {
  if (tokenCount() > 3) return unexpectedArgument(Command.Vm, 3);
  const slot = vmArgument(2);
  if (slot < 0) return Status.Failed;
  say('vm.info.title', slot + 1, vmName(slot), VM_STATE_NAMES[vmState[slot]]);
  say('vm.info.memory', vmMemMiB[slot], hostAddressHi(vmRamBase[slot]), hostAddressLo(vmRamBase[slot]), vmPath(slot));
  const hz = tscHz() > 0 ? tscHz() : 1e9;
  say('vm.info.entry', vmEntry[slot], (vmRunTicks[slot] * 1000) / hz);
  if (vmExitStatus[slot] >= 0) say('vm.info.exitStatus', vmExitStatus[slot]);
  if (vmState[slot] === VmState.Stopped) {
    sayInline('vm.info.stopped');
    sayStopDetail(slot);
  }
  say('vm.info.exitsHeader');
  for (let r = 0; r < EXIT_REASON_COUNT; r++) say('vm.info.exitRow', EXIT_REASON_NAMES[r], vmExits[slot * EXIT_REASON_COUNT + r]);
  say('vm.info.counts', vmUnknownPorts[slot], vmDeniedMsrs[slot]);
  let injected = 0;
  for (let v = 0; v < 256; v++) injected += injectedByVector[slot * 256 + v];
  say('vm.info.interrupts', injected, injectedNmis[slot]);
  for (let v = 0; v < 256; v++) if (injectedByVector[slot * 256 + v] > 0) say('vm.info.vector', v, injectedByVector[slot * 256 + v]);
  if (vmState[slot] === VmState.Running && vmHalted[slot] !== 0) say('vm.info.halted');
  if (vmOnReset[slot] === OnReset.Restart || vmRestarts[slot] > 0) say('vm.info.restarts', vmRestarts[slot]);
  return Status.Ok;
};

/** Runs guests (or idles) for `ms` milliseconds, or until `slot` stops when slot >= 0. */
const runFor = (ms: number, slot: number) => {
  const hz = tscHz() > 0 ? tscHz() : 1e9;
  const until = ticksSinceBoot() + (hz * ms) / 1000;
  while (ticksSinceBoot() < until) {
    if (slot >= 0 && vmState[slot] === VmState.Stopped) return true;
    waitTurn();
  }
  return slot >= 0 && vmState[slot] === VmState.Stopped;
};

/** Until VM `slot` prints a line holding word `index` (or stops, or `seconds` pass). */
const waitOutput = (slot: number, index: number, seconds: number) => {
  const wanted = token(index);
  if (!watchOutput(slot, wanted)) {
    sayError('vm.wait.badOutput', wanted);
    return Status.Failed;
  }
  const hz = tscHz() > 0 ? tscHz() : 1e9;
  const until = ticksSinceBoot() + hz * seconds;
  let stopped = false;
  let late = false;
  while (!outputSeen()) {
    stopped = vmState[slot] === VmState.Stopped;
    late = ticksSinceBoot() >= until;
    if (stopped || late) break;
    waitTurn();
  }
  unwatchOutput();
  if (stopped || late) {
    sayError(stopped ? 'vm.wait.outputStopped' : 'vm.wait.outputTimeout', slot + 1, vmName(slot), token(index), seconds);
    return Status.Failed;
  }
  say('vm.wait.outputSeen', slot + 1, vmName(slot), token(index));
  return Status.Ok;
};

/** `vm wait <vm> [--timeout <s>] [--output <text>]`: until the VM stops, or prints a line holding the text. */
const vmWait = () => {
  const n = tokenCount();
  const slot = vmArgument(2);
  if (slot < 0) return Status.Failed;
  let seconds = 60;
  let output = -1; // the word of --output's text
  for (let i = 3; i < n; i++) {
    if (spanIs(token(i), '--timeout') && i + 1 < n) {
      seconds = decimalArgument(++i, 3600);
      if (seconds < 1) {
        sayError('vm.wait.badTimeout', token(i));
        return Status.Failed;
      }
    } else if (spanIs(token(i), '--output') && i + 1 < n) output = ++i;
    else return unexpectedArgument(Command.Vm, i);
  }
  if (vmState[slot] === VmState.Created) {
    sayError('vm.wait.notStarted', slot + 1, vmName(slot));
    return Status.Failed;
  }
  if (output >= 0) return waitOutput(slot, output, seconds);
  if (runFor(seconds * 1000, slot)) {
    say('vm.wait.done', slot + 1, vmName(slot));
    return Status.Ok;
  }
  sayError('vm.wait.timeout', slot + 1, vmName(slot), VM_STATE_NAMES[vmState[slot]], seconds);
  return Status.Failed;
};

export const cmdVm = () => {
  if (tokenCount() < 2) return missingArgument(Command.Vm);
  let sub = -1;
  for (let i = 0; i < SUBCOMMANDS.length; i++) if (spanIs(token(1), SUBCOMMANDS[i])) sub = i;
  if (sub === 0) return vmCreate();
  if (sub >= 1 && sub <= 6) return vmTransition(sub);
  if (sub === 7) return vmList();
  if (sub === 8) return vmInfo();
  if (sub === 9) return vmWait();
  sayError('vm.unknownSub', token(1), text(COMMAND_USAGE[Command.Vm]));
  return Status.Failed;
};

export const cmdSleep = () => {
  if (tokenCount() > 2) return unexpectedArgument(Command.Sleep, 2);
  const ms = decimalArgument(1, MAX_SLEEP_MS);
  if (ms < 0) {
    if (tokenCount() < 2) return missingArgument(Command.Sleep);
    sayError('sleep.bad', token(1));
    return Status.Failed;
  }
  runFor(ms, -1);
  return Status.Ok;
};
