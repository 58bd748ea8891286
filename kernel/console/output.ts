// The console's output writer: every character the console shows goes through here,
// to two places at once:
//   - COM1 (drivers/uart.ts) as UTF-8 with CRLF line ends; the terminal there is driven
//     with VT100/ECMA-48 sequences (CSI n C / CSI n D cursor moves, CSI K, CSI 2 J);
//   - UEFI ConOut (EFI_SIMPLE_TEXT_OUTPUT_PROTOCOL.OutputString, UEFI 2.10 section 12.4)
//     as NUL-terminated UCS-2, where CHAR_BACKSPACE moves the cursor left.
// Text comes only from message keys (say*), the machine strings (sayMarker) or is the
// user's own line being echoed (echo*, for the line editor); nothing else can be written.
import { uartInit, uartWrite, uartDrain } from '../../drivers/uart';
import { dataAddress } from '../host/memory';
import { putUtf8, columns, visible } from '../i18n/utf8';
import type { MsgKey } from '../i18n/dictionary';
import { fmtAppend, fmtAppendTemplate, fmtBuf, fmtLength, fmtReset } from '../lib/format';
import type { Arg } from '../lib/format';
import { registerTextSink } from '../lib/text-sink';

const SERIAL_CAPACITY = 2048;
const serialBuf = new Uint8Array(SERIAL_CAPACITY);
let serialLen = 0;

const CONOUT_CAPACITY = 512;
const conBuf = new Uint16Array(CONOUT_CAPACITY + 1);
let conLen = 0;
let conAddr = 0;

let serialOk = false;
let detached = 0;

const ESC = 0x1b;
const BS = 0x08;

/**
 * Takes the serial port from the firmware (so ConOut is no longer mirrored onto it)
 * and programs the UART. Returns whether a UART is present.
 */
export const outputInit = () => {
  detached = hv_efi_serial_detach();
  serialOk = uartInit();
  conAddr = dataAddress(conBuf);
  registerTextSink(say, sayInline, writeFormattedLine); // the layers below speak through these
  return serialOk;
};

/** How many firmware serial terminals outputInit detached. */
export const detachedTerminals = () => detached;

const flushSerial = () => {
  if (serialLen > 0 && serialOk) uartWrite(serialBuf, serialLen);
  serialLen = 0;
};

const flushConOut = () => {
  if (conLen === 0) return;
  if (conAddr === 0) {
    conLen = 0; // before outputInit
    return;
  }
  conBuf[conLen] = 0;
  hv_efi_con_out(conAddr);
  conLen = 0;
};

/** Sends what is buffered to both outputs. */
export const flush = () => {
  flushSerial();
  flushConOut();
};

const serialByte = (b: number) => {
  if (serialLen >= SERIAL_CAPACITY) flushSerial();
  serialBuf[serialLen] = b;
  serialLen++;
};

const serialChar = (cp: number) => {
  if (serialLen + 4 > SERIAL_CAPACITY) flushSerial();
  serialLen = putUtf8(serialBuf, serialLen, cp);
};

const conUnit = (u: number) => {
  if (conLen >= CONOUT_CAPACITY) flushConOut();
  conBuf[conLen] = u;
  conLen++;
};

/** One code point of text to both outputs; LF becomes CRLF. */
const putChar = (cp: number) => {
  if (cp === 10) {
    serialByte(13);
    serialByte(10);
    conUnit(13);
    conUnit(10);
    return;
  }
  serialChar(cp);
  conUnit(cp > 0xffff ? 0xfffd : cp); // UCS-2 has no room for the other planes
};

/** CSI n <final> on the serial terminal (n >= 1). */
const serialCsi = (n: number, final: number) => {
  serialByte(ESC);
  serialByte(0x5b);
  if (n >= 100) serialByte(48 + Math.floor(n / 100));
  if (n >= 10) serialByte(48 + (Math.floor(n / 10) - Math.floor(n / 100) * 10));
  serialByte(48 + (n - Math.floor(n / 10) * 10));
  serialByte(final);
};

const writeFormatted = (newline: boolean) => {
  const n = fmtLength();
  for (let i = 0; i < n; i++) putChar(fmtBuf[i]);
  if (newline) putChar(10);
  flush();
};

/** Writes the formatted buffer (kernel/lib/format.ts) as one line. Used by the log. */
export const writeFormattedLine = () => writeFormatted(true);

/** Shows a message and ends the line. */
export const say = (key: MsgKey, a?: Arg, b?: Arg, c?: Arg, d?: Arg) => {
  fmtReset();
  fmtAppend(key, a, b, c, d);
  writeFormatted(true);
};

/** Shows a machine string (kernel/lib/markers.ts: the same in every language) and ends the line. */
export const sayMarker = (template: string, a?: Arg) => {
  fmtReset();
  fmtAppendTemplate(template, a);
  writeFormatted(true);
};

/** Shows a message and leaves the cursor after it (the prompt). */
export const sayInline = (key: MsgKey, a?: Arg, b?: Arg, c?: Arg, d?: Arg) => {
  fmtReset();
  fmtAppend(key, a, b, c, d);
  writeFormatted(false);
};

// Errors get a context prefix while a script runs ("startup.zv line 3: ").
let contextName = '';
let contextLine = 0;

/** Sets (line > 0) or clears (line 0) the script position shown before errors. */
export const setErrorContext = (name: string, line: number) => {
  contextName = name;
  contextLine = line;
};

/** Shows an error message, after the script position when a script is running. */
export const sayError = (key: MsgKey, a?: Arg, b?: Arg, c?: Arg, d?: Arg) => {
  fmtReset();
  if (contextLine > 0) fmtAppend('script.errorAt', contextName, contextLine);
  fmtAppend(key, a, b, c, d);
  writeFormatted(true);
};

/** The start of an error message (after the script position), continued by say(). */
export const sayErrorInline = (key: MsgKey, a?: Arg, b?: Arg, c?: Arg, d?: Arg) => {
  fmtReset();
  if (contextLine > 0) fmtAppend('script.errorAt', contextName, contextLine);
  fmtAppend(key, a, b, c, d);
  writeFormatted(false);
};

// ---- Echo of the line being edited (the user's own text, not messages) ----

/** Writes line[from..to) at the cursor. */
export const echoText = (line: Uint32Array, from: number, to: number) => {
  for (let i = from; i < to; i++) putChar(visible(line[i]));
};

/** Moves the cursor left over line[from..to). */
export const echoLeft = (line: Uint32Array, from: number, to: number) => {
  if (to <= from) return;
  let cols = 0;
  for (let i = from; i < to; i++) cols += columns(visible(line[i]));
  if (cols > 0) serialCsi(cols, 0x44); // CSI n D: cursor backward
  for (let i = from; i < to; i++) conUnit(BS);
};

/** Moves the cursor right over line[from..to). */
export const echoRight = (line: Uint32Array, from: number, to: number) => {
  if (to <= from) return;
  let cols = 0;
  for (let i = from; i < to; i++) cols += columns(visible(line[i]));
  if (cols > 0) serialCsi(cols, 0x43); // CSI n C: cursor forward
  for (let i = from; i < to; i++) conUnit(visible(line[i]) > 0xffff ? 0xfffd : visible(line[i])); // ConOut: rewrite them
};

/**
 * Erases what is right of the cursor (the cursor stays): the serial terminal to the end
 * of the line (CSI K), ConOut `count` characters (it has no erase; spaces, then back).
 */
export const echoEraseRight = (count: number) => {
  serialByte(ESC);
  serialByte(0x5b);
  serialByte(0x4b); // CSI K: erase to end of line
  for (let i = 0; i < count; i++) conUnit(32);
  for (let i = 0; i < count; i++) conUnit(BS);
};

/** Ends the echoed line. */
export const echoNewline = () => putChar(10);

/** The terminal bell (serial only), for a key that cannot be taken. */
export const echoBell = () => serialByte(0x07);

/** Sends the echo written so far. */
export const echoFlush = () => flush();

/** Clears both screens: ConOut.ClearScreen, and CSI 2 J + CSI H on the serial terminal. */
export const clearScreens = () => {
  flush();
  hv_efi_con_clear();
  serialByte(ESC);
  serialByte(0x5b);
  serialByte(0x32);
  serialByte(0x4a);
  serialByte(ESC);
  serialByte(0x5b);
  serialByte(0x48);
  flush();
};

/** Waits until the serial output has left the UART (before the machine is left). */
export const drainOutput = () => {
  flush();
  if (serialOk) uartDrain();
};
