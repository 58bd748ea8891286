// A guest's serial output on the console: what its emulated COM1 transmitted, shown line
// by line as "[name] text" (control characters made visible by the output writer).
import { Span } from '../lib/format';
import { say, sayInline } from './output';
import { com1Take } from '../vm/devices/uart16550';
import { MAX_VMS, vmName } from '../vm/vm-table';
import { putUtf8 } from '../i18n/utf8';

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


// `vm wait <vm> --output <text>`: the VM whose lines are searched for the text (as UTF-8)
// from now on, and whether a line held it
const wantedBytes = new Uint8Array(LINE_MAX + 4);
let wantedLength = 0;
let wantedSlot = -1;
let wantedSeen = false;

/** From now on, looks for `text` in each line VM `slot` prints; false when it is empty or longer than a line. */
export const watchOutput = (slot: number, text: Span) => {
  let n = 0;
  for (let i = 0; i < text.len; i++) {
    n = putUtf8(wantedBytes, n, text.buf[text.start + i]);
    if (n > LINE_MAX) return false;
  }
  if (n === 0) return false;
  wantedLength = n;
  wantedSlot = slot;
  wantedSeen = false;
  return true;
};

/** Whether a line of the watched VM held the text since watchOutput. */
export const outputSeen = () => wantedSeen;

export const unwatchOutput = () => {
  wantedSlot = -1;
};

/** Whether line codes [at, at + len) hold the wanted bytes somewhere. */
const holdsWanted = (at: number, len: number) => {
  for (let i = 0; i + wantedLength <= len; i++) {
    let k = 0;
    while (k < wantedLength && lineCodes[at + i + k] === wantedBytes[k]) k++;
    if (k === wantedLength) return true;
  }
  return false;
};

const flushLine = (slot: number) => {
  lineSpan.start = slot * LINE_MAX;
  lineSpan.len = lineLen[slot];
  if (slot === wantedSlot && !wantedSeen && holdsWanted(lineSpan.start, lineSpan.len)) wantedSeen = true;
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
