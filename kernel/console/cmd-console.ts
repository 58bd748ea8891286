// `console <vm>`: attach the console to a VM's serial port: what the guest sends is shown
// as it comes, what is typed goes to the guest's COM1 (16550A receive buffer); Esc
// detaches (the guests keep running). Also ends when the VM stops.
import { missingArgument, unexpectedArgument } from './args';
import { Command } from './command-table';
import { Key, inputIdle, pollInput } from './input';
import { flush, say, sayError } from './output';
import { Status } from './status';
import { token, tokenCount } from './tokens';
import { putUtf8 } from '../i18n/utf8';
import { findVm, VmState, vmName, vmState } from '../vm/vm-table';
import { waitTurn } from './wait';
import { drainGuestOutput, setAttached } from './guest-output';
import { com1Push } from '../vm/devices/uart16550';
import { markDeviceActivity } from '../vm/devices/bus';

const utf8 = new Uint8Array(4);

const sendKey = (slot: number, ev: number) => {
  if (ev === Key.Enter) com1Push(slot, 13);
  else if (ev === Key.Backspace) com1Push(slot, 0x7f);
  else if (ev >= 0) {
    const n = putUtf8(utf8, 0, ev);
    for (let i = 0; i < n; i++) com1Push(slot, utf8[i]);
  }
  markDeviceActivity(slot); // a received-data interrupt may be due; a halted guest wakes
};

export const cmdConsole = () => {
  const n = tokenCount();
  if (n < 2) return missingArgument(Command.Console);
  if (n > 2) return unexpectedArgument(Command.Console, 2);
  const slot = findVm(token(1));
  if (slot < 0) {
    sayError('vm.notFound', token(1));
    return Status.Failed;
  }
  say('console.attached', slot + 1, vmName(slot));
  drainGuestOutput(slot); // what came before, as lines
  setAttached(slot);
  for (;;) {
    const ev = pollInput();
    if (ev === Key.Escape) break;
    if (ev !== Key.None) {
      sendKey(slot, ev);
      continue;
    }
    if (vmState[slot] === VmState.Stopped || vmState[slot] === VmState.Free) break;
    waitTurn();
    drainGuestOutput(slot);
    flush();
    inputIdle();
  }
  setAttached(-1);
  say('console.detached', slot + 1, vmName(slot));
  return Status.Ok;
};
