// A guest's serial output on the console: what its emulated COM1 transmitted, shown line
// by line as "[name] text" (control characters made visible by the output writer).
import { Span } from '../lib/format';
import { say, sayInline } from './output';
import { com1Take } from '../vm/devices/uart16550';
import { MAX_VMS, vmName } from '../vm/vm-table';

const LINE_MAX = 200;
const lineCodes = new Uint32Array(MAX_VMS * LINE_MAX);
const lineLen = new Uint16Array(MAX_VMS);
const lineSpan = new Span(lineCodes);
const taken = new Uint8Array(4096);

/** The VM a console is attached to (`console <vm>`): its output is shown as it comes, without "[name]". */
let attachedSlot = -1;
let midLine = false; // the attached guest's last output did not end its line
export const setAttached = (slot: number) => {
  if (attachedSlot >= 0 && midLine) {
    lineSpan.len = 0;
    say('vm.raw', lineSpan); // end the guest's partial line before the console speaks
  }
  midLine = false;
  attachedSlot = slot;
};


const flushLine = (slot: number) => {
  lineSpan.start = slot * LINE_MAX;
  lineSpan.len = lineLen[slot];
  if (slot === attachedSlot) {
    say('vm.raw', lineSpan);
    midLine = false;
  }
  else say('vm.output', vmName(slot), lineSpan);
  lineLen[slot] = 0;
};

/** Shows what VM `slot`'s UART sent since the last call. */
export const drainGuestOutput = (slot: number) => {
  const n = com1Take(slot, taken);
  const base = slot * LINE_MAX;
  for (let i = 0; i < n; i++) {
    const b = taken[i];
    if (b === 10) {
      flushLine(slot);
      continue;
    }
    if (b === 13) continue;
    const at = base + lineLen[slot];
    lineCodes[at] = b;
    lineLen[slot]++;
    if (lineLen[slot] === LINE_MAX) flushLine(slot);
  }
  if (slot === attachedSlot && lineLen[slot] > 0) {
    // attached: show a partial line at once (a prompt), without ending it
    lineSpan.start = base;
    lineSpan.len = lineLen[slot];
    sayInline('vm.raw', lineSpan);
    lineLen[slot] = 0;
    midLine = true;
  }
};

/** Shows a partial last line (when the VM stops). */
export const flushGuestOutput = (slot: number) => {
  drainGuestOutput(slot);
  if (lineLen[slot] > 0) flushLine(slot);
};

/** The vm layer's listener (vm/vm-events.ts): new output, or all of it when the VM stops. */
export const showGuestOutput = (slot: number, final: boolean) => {
  if (final) flushGuestOutput(slot);
  else drainGuestOutput(slot);
};
