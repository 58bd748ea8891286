// What happens to a VM that the operator should hear of: its guest wrote to its serial
// port, or it stopped. The vm layer and the services below the console raise these; the
// console registers the listeners when it starts (console/console.ts). Until then they
// are dropped.

const ignoreOutput = (slot: number, final: boolean) => {};
const ignoreStop = (slot: number) => {};

let outputListener = ignoreOutput;
let stopListener = ignoreStop;

/** output(slot, final): the VM's UART has bytes to show (final: show a partial last line too); stopped(slot): it stopped. */
export const registerVmListeners = (output: (slot: number, final: boolean) => void, stopped: (slot: number) => void) => {
  outputListener = output;
  stopListener = stopped;
};

/** VM `slot` ran: what its UART sent since last time may be shown. */
export const guestOutputReady = (slot: number) => {
  outputListener(slot, false);
};
/** VM `slot` stops or leaves: everything its UART sent is shown, a partial line too. */
export const guestOutputFinal = (slot: number) => {
  outputListener(slot, true);
};
/** VM `slot` stopped (its stop reason is in the VM table). */
export const vmStopped = (slot: number) => {
  stopListener(slot);
};
