// startup.zv: a text file at the root of the boot volume whose lines run at start as
// if typed (each echoed after the prompt). Blank lines and lines starting with '#'
// are skipped; errors are reported with the line number; `exit` ends everything.
import { dataAddress } from '../host/memory';
import { Utf8Decoder, REPLACEMENT_CHAR } from '../i18n/utf8';
import { Category, Level, log } from '../diag/log';
import { editorEchoLine, editorSetLine, LINE_MAX } from './editor';
import { sayError, setErrorContext } from './output';
import { executeLine, showPrompt } from './session';
import { exitRequested } from './state';
import { Status } from './status';

const SCRIPT_PATH = '\\startup.zv';
const SCRIPT_NAME = 'startup.zv';
const SCRIPT_CAPACITY = 64 * 1024;
const FILE_NOT_FOUND = -1;
const FILE_TOO_LARGE = -2;

const file = new Uint8Array(SCRIPT_CAPACITY);
const path = new Uint16Array(32);
const decoded = new Uint32Array(LINE_MAX + 1);
const decoder = new Utf8Decoder();

/** Decodes file[from..to) into `decoded`; returns the code points (LINE_MAX + 1 means too long). */
const decodeLine = (from: number, to: number) => {
  decoder.reset();
  let n = 0;
  for (let i = from; i < to && n <= LINE_MAX; i++) {
    const cp = decoder.feed(file[i]);
    if (cp >= 0) decoded[n++] = cp;
    if (decoder.again && n <= LINE_MAX) {
      const again = decoder.feed(file[i]);
      if (again >= 0) decoded[n++] = again;
    }
  }
  if (decoder.pending() && n <= LINE_MAX) decoded[n++] = REPLACEMENT_CHAR;
  return n;
};

/** Whether the decoded line is blank or a comment. */
const skipped = (n: number) => {
  for (let i = 0; i < n; i++) {
    const c = decoded[i];
    if (c === 0x20 || c === 0x09 || c === 0x3000) continue;
    return c === 0x23; // '#'
  }
  return true;
};

/** Runs startup.zv if the boot volume has one. */
export const runStartupScript = () => {
  for (let i = 0; i < SCRIPT_PATH.length; i++) path[i] = SCRIPT_PATH.charCodeAt(i);
  path[SCRIPT_PATH.length] = 0;
  const size = hv_efi_file_read(dataAddress(path), dataAddress(file), SCRIPT_CAPACITY);
  if (size === FILE_NOT_FOUND) return;
  if (size === FILE_TOO_LARGE) {
    sayError('script.tooLarge', SCRIPT_NAME, SCRIPT_CAPACITY);
    return;
  }
  if (!(size >= 0 && size <= SCRIPT_CAPACITY)) {
    sayError('script.readError', SCRIPT_NAME, size);
    return;
  }
  log(Level.Info, Category.Script, 'script.running', SCRIPT_NAME, size);
  let pos = 0;
  if (size >= 3 && file[0] === 0xef && file[1] === 0xbb && file[2] === 0xbf) pos = 3; // UTF-8 BOM
  let lineNumber = 0;
  let commands = 0;
  let failures = 0;
  while (pos < size && !exitRequested()) {
    lineNumber++;
    let end = pos;
    while (end < size && file[end] !== 0x0a) end++;
    let stop = end;
    if (stop > pos && file[stop - 1] === 0x0d) stop--;
    const n = decodeLine(pos, stop);
    pos = end + 1;
    if (skipped(n)) continue;
    commands++;
    showPrompt();
    editorSetLine(decoded, n);
    editorEchoLine();
    setErrorContext(SCRIPT_NAME, lineNumber);
    if (executeLine() !== Status.Ok) failures++;
    setErrorContext('', 0);
  }
  if (!exitRequested()) log(Level.Info, Category.Script, 'script.finished', SCRIPT_NAME, commands, failures);
};
