// A guest's serial output on the console: what its emulated COM1 transmitted, shown line
// by line as "[name] text" (control characters made visible by the output writer).
import { Span } from '../console/format';
import { say } from '../console/output';
import { uartTake } from './devices/uart16550';
import { MAX_VMS, vmName } from './vm-table';

const LINE_MAX = 200;
const lineCodes = new Uint32Array(MAX_VMS * LINE_MAX);
const lineLen = new Uint16Array(MAX_VMS);
const lineSpan = new Span(lineCodes);
const taken = new Uint8Array(4096);


const flushLine = (slot: number) => {
  lineSpan.start = slot * LINE_MAX;
  lineSpan.len = lineLen[slot];
  say('vm.output', vmName(slot), lineSpan);
  lineLen[slot] = 0;
};

/** Shows what VM `slot`'s UART sent since the last call. */
export const drainGuestOutput = (slot: number) => {
  const n = uartTake(slot, taken);
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
};

/** Shows a partial last line (when the VM stops). */
export const flushGuestOutput = (slot: number) => {
  drainGuestOutput(slot);
  if (lineLen[slot] > 0) flushLine(slot);
};
