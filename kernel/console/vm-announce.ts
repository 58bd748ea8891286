// Telling the operator that a VM stopped, and why (the stop reason with its detail).
import type { MsgKey } from '../i18n/dictionary';
import { Span } from '../lib/format';
import { say, sayInline } from './output';
import { STOP_BYTES, StopReason, vmName, vmStopByteCount, vmStopBytes, vmStopDetail, vmStopReason } from '../vm/vm-table';

const STOP_KEYS: MsgKey[] = ['vm.none', 'vm.stop.1', 'vm.stop.2', 'vm.stop.3', 'vm.stop.4', 'vm.stop.5', 'vm.stop.6', 'vm.stop.7', 'vm.stop.8', 'vm.stop.9', 'vm.stop.10', 'vm.stop.11'];

// An InvalidState stop's detail is the back end's exit code: -1 (VMEXIT_INVALID, VMfailInvalid),
// a VMX exit reason with bit 31 set (a VM-entry failure, SDM 27.8), or the VM-instruction error
// of a VMfailValid, 1 to 28 (SDM 31.4 table 31-1).
const isEntryFailure = (code: number) => code >= 0x80000000 && code !== 0xffffffff;
const isVmInstructionError = (code: number) => code >= 1 && code <= 28;

const stopByteCodes = new Uint32Array(STOP_BYTES * 3);
const stopByteText = new Span(stopByteCodes);

/** An UnsupportedInstruction stop's instruction bytes as text, "0f 0b" (code points: no string is built). */
const stopBytesText = (slot: number) => {
  let n = 0;
  for (let i = 0; i < vmStopByteCount[slot]; i++) {
    const b = vmStopBytes[slot * STOP_BYTES + i];
    if (i > 0) stopByteCodes[n++] = 32;
    const high = b >>> 4;
    const low = b & 15;
    stopByteCodes[n++] = high < 10 ? 48 + high : 87 + high;
    stopByteCodes[n++] = low < 10 ? 48 + low : 87 + low;
  }
  stopByteText.start = 0;
  stopByteText.len = n;
  return stopByteText;
};

/** Ends the current line with why VM `slot` stopped. */
export const sayStopDetail = (slot: number) => {
  const reason = vmStopReason[slot];
  const detail = vmStopDetail[slot];
  const hi = Math.floor(detail / 4294967296);
  const lo = detail - hi * 4294967296;
  const key = STOP_KEYS[reason < STOP_KEYS.length ? reason : 0];
  if (reason === StopReason.NestedPageFault) say(key, hi, lo);
  else if (reason === StopReason.InvalidState && isEntryFailure(lo)) say('vm.stop.5.entry', lo & 0xffff);
  else if (reason === StopReason.InvalidState && isVmInstructionError(lo)) say('vm.stop.5.vmfail', lo);
  else if (reason === StopReason.UnsupportedInstruction && vmStopByteCount[slot] > 0) say('vm.stop.8.bytes', lo, stopBytesText(slot));
  else say(key, lo);
};

/** "VM 1 "hello" stopped: <why>". */
export const sayVmStopped = (slot: number) => {
  sayInline('vm.stopped', slot + 1, vmName(slot));
  sayStopDetail(slot);
};
