// Telling the operator that a VM stopped, and why (the stop reason with its detail).
import type { MsgKey } from '../i18n/dictionary';
import { say, sayInline } from './output';
import { StopReason, vmName, vmStopDetail, vmStopReason } from '../vm/vm-table';

const STOP_KEYS: MsgKey[] = ['vm.none', 'vm.stop.1', 'vm.stop.2', 'vm.stop.3', 'vm.stop.4', 'vm.stop.5', 'vm.stop.6', 'vm.stop.7', 'vm.stop.8', 'vm.stop.9'];

/** Ends the current line with why VM `slot` stopped. */
export const sayStopDetail = (slot: number) => {
  const reason = vmStopReason[slot];
  const detail = vmStopDetail[slot];
  const hi = Math.floor(detail / 4294967296);
  const lo = detail - hi * 4294967296;
  const key = STOP_KEYS[reason < STOP_KEYS.length ? reason : 0];
  if (reason === StopReason.NestedPageFault) say(key, hi, lo);
  else say(key, lo);
};

/** "VM 1 "hello" stopped: <why>". */
export const sayVmStopped = (slot: number) => {
  sayInline('vm.stopped', slot + 1, vmName(slot));
  sayStopDetail(slot);
};
