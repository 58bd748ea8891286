// The line editor: one line of code points with a cursor, a history ring, and the
// echo that keeps both screens showing the line as edited. All storage is allocated
// once here; editing allocates nothing.
import { Key } from './input';
import { echoBell, echoEraseRight, echoFlush, echoLeft, echoNewline, echoRight, echoText } from './output';

/** Longest line taken, in code points; longer input marks the line as overflowed. */
export const LINE_MAX = 256;
const HISTORY_SIZE = 32;

/** The line being edited (code points); lineLength() of them are valid. */
export const line = new Uint32Array(LINE_MAX);
let len = 0;
let cursor = 0;
let overflowed = false;

const history = new Uint32Array(HISTORY_SIZE * LINE_MAX);
const historyLen = new Uint16Array(HISTORY_SIZE);
let historyCount = 0;
let historyNext = 0; // slot the next entry goes to
let browsing = -1; // -1: editing the draft; k: showing the k-th newest entry
const draft = new Uint32Array(LINE_MAX);
let draftLen = 0;

export const lineLength = () => len;
export const lineOverflowed = () => overflowed;

/** What editorKey did with a key. */
export const enum Edit {
  Editing = 0,
  Submitted = 1, // Enter: the line is ready
  Cancelled = 2, // Ctrl-C: the line is dropped
}

/** Starts an empty line (after a prompt). */
export const editorReset = () => {
  len = 0;
  cursor = 0;
  overflowed = false;
  browsing = -1;
  draftLen = 0;
};

/** Puts text into the line without echo (a script line); longer than LINE_MAX marks it overflowed. */
export const editorSetLine = (src: Uint32Array, count: number) => {
  editorReset();
  const n = count > LINE_MAX ? LINE_MAX : count;
  for (let i = 0; i < n; i++) line[i] = src[i];
  len = n;
  cursor = n;
  overflowed = count > LINE_MAX;
};

/** Shows the whole line (after a prompt), e.g. a script line being run. */
export const editorEchoLine = () => {
  echoText(line, 0, len);
  echoNewline();
  echoFlush();
};

/** Replaces the line, and what is shown of it, with src[base..base+count). */
const replaceLine = (src: Uint32Array, base: number, count: number) => {
  echoLeft(line, 0, cursor);
  const old = len;
  for (let i = 0; i < count; i++) line[i] = src[base + i];
  len = count;
  cursor = count;
  overflowed = false;
  echoText(line, 0, len);
  echoEraseRight(old > len ? old - len : 0); // also when the old text was wider
};

const insert = (cp: number) => {
  if (len >= LINE_MAX) {
    if (!overflowed) echoBell();
    overflowed = true;
    return;
  }
  for (let i = len; i > cursor; i--) line[i] = line[i - 1];
  line[cursor] = cp;
  len++;
  cursor++;
  echoText(line, cursor - 1, len);
  echoLeft(line, cursor, len);
};

const backspace = () => {
  if (cursor === 0) return;
  echoLeft(line, cursor - 1, cursor);
  for (let i = cursor - 1; i < len - 1; i++) line[i] = line[i + 1];
  len--;
  cursor--;
  echoText(line, cursor, len);
  echoEraseRight(1);
  echoLeft(line, cursor, len);
};

const deleteAtCursor = () => {
  if (cursor >= len) return;
  for (let i = cursor; i < len - 1; i++) line[i] = line[i + 1];
  len--;
  echoText(line, cursor, len);
  echoEraseRight(1);
  echoLeft(line, cursor, len);
};

const historySlot = (newest: number) => {
  // the `newest`-th newest entry (0 = the last one added)
  let slot = historyNext - 1 - newest;
  if (slot < 0) slot += HISTORY_SIZE;
  return slot;
};

const showHistory = (newest: number) => {
  const slot = historySlot(newest);
  replaceLine(history, slot * LINE_MAX, historyLen[slot]);
};

const historyUp = () => {
  if (browsing + 1 >= historyCount) return;
  if (browsing < 0) {
    for (let i = 0; i < len; i++) draft[i] = line[i];
    draftLen = len;
  }
  browsing++;
  showHistory(browsing);
};

const historyDown = () => {
  if (browsing < 0) return;
  browsing--;
  if (browsing >= 0) showHistory(browsing);
  else replaceLine(draft, 0, draftLen);
};

/** Adds the current line to the history (not empty lines, not a repeat of the last one). */
export const historyAdd = () => {
  if (len === 0 || overflowed) return;
  if (historyCount > 0) {
    const last = historySlot(0);
    if (historyLen[last] === len) {
      const base = last * LINE_MAX;
      let same = true;
      for (let i = 0; i < len; i++) {
        if (history[base + i] !== line[i]) {
          same = false;
          break;
        }
      }
      if (same) return;
    }
  }
  const base = historyNext * LINE_MAX;
  for (let i = 0; i < len; i++) history[base + i] = line[i];
  historyLen[historyNext] = len;
  historyNext = historyNext + 1 === HISTORY_SIZE ? 0 : historyNext + 1;
  if (historyCount < HISTORY_SIZE) historyCount++;
};

/** Applies one key event to the line and echoes the change. */
export const editorKey = (ev: number) => {
  if (ev >= 0) {
    insert(ev);
    echoFlush();
    return Edit.Editing;
  }
  switch (ev) {
    case Key.Enter:
    case Key.Cancel:
      echoRight(line, cursor, len);
      cursor = len;
      echoNewline();
      echoFlush();
      return ev === Key.Enter ? Edit.Submitted : Edit.Cancelled;
    case Key.Backspace:
      backspace();
      break;
    case Key.Delete:
      deleteAtCursor();
      break;
    case Key.Left:
      if (cursor > 0) {
        echoLeft(line, cursor - 1, cursor);
        cursor--;
      }
      break;
    case Key.Right:
      if (cursor < len) {
        echoRight(line, cursor, cursor + 1);
        cursor++;
      }
      break;
    case Key.Home:
      echoLeft(line, 0, cursor);
      cursor = 0;
      break;
    case Key.End:
      echoRight(line, cursor, len);
      cursor = len;
      break;
    case Key.Up:
      historyUp();
      break;
    case Key.Down:
      historyDown();
      break;
    case Key.Escape:
    case Key.KillLine:
      replaceLine(draft, 0, 0);
      browsing = -1;
      break;
    case Key.KillToEnd:
      echoEraseRight(len - cursor);
      len = cursor;
      break;
  }
  echoFlush();
  return Edit.Editing;
};
