// Keyboard input from both sources, as key events:
//   - COM1 bytes: UTF-8 text, C0 control keys, and the VT100/xterm sequences terminals
//     send for editing keys (ECMA-48 CSI "ESC [ params final", and SS3 "ESC O final");
//   - UEFI ConIn (EFI_SIMPLE_TEXT_INPUT_PROTOCOL.ReadKeyStroke, UEFI 2.10 section 12.3):
//     EFI_INPUT_KEY as scanCode * 65536 + unicodeChar; scan codes from Appendix B,
//     table "EFI Scan Codes for EFI_SIMPLE_TEXT_INPUT_PROTOCOL".
// An event is a code point (>= 0) or a Key (< 0).
import { uartRead } from '../../drivers/uart';
import { Utf8Decoder, REPLACEMENT_CHAR } from '../i18n/utf8';

export const enum Key {
  None = -1,
  Enter = -2,
  Backspace = -3,
  Delete = -4,
  Left = -5,
  Right = -6,
  Up = -7,
  Down = -8,
  Home = -9,
  End = -10,
  Escape = -11,
  Cancel = -12, // Ctrl-C: drop the line
  KillLine = -13, // Ctrl-U
  KillToEnd = -14, // Ctrl-K
}

// A partial escape sequence or UTF-8 character is given up after this many empty
// polls (about 1 ms each): a terminal sends a whole sequence at once.
const PARTIAL_TIMEOUT_POLLS = 30;
// Longest CSI sequence taken (parameter and intermediate bytes).
const CSI_MAX = 16;

const QUEUE_SIZE = 16; // power of two
const queue = new Int32Array(QUEUE_SIZE);
let qHead = 0;
let qCount = 0;

const push = (ev: number) => {
  if (qCount >= QUEUE_SIZE) return;
  queue[(qHead + qCount) & (QUEUE_SIZE - 1)] = ev;
  qCount++;
};

const pop = () => {
  const ev = queue[qHead];
  qHead = (qHead + 1) & (QUEUE_SIZE - 1);
  qCount--;
  return ev;
};

const utf8 = new Utf8Decoder();

const GROUND = 0;
const ESCAPE = 1; // after ESC
const CSI = 2; // after ESC [
const SS3 = 3; // after ESC O
let state = GROUND;
let csiParam = 0;
let csiParamDone = false;
let csiOdd = false; // private or intermediate bytes: not an editing key
let csiLength = 0;
let idlePolls = 0;
let lastWasCR = false;

/** Keys for C0 control characters (same on COM1 and ConIn); None = ignored. */
const controlKey = (c: number) => {
  switch (c) {
    case 0x0d:
    case 0x0a:
      return Key.Enter;
    case 0x08:
    case 0x7f:
      return Key.Backspace;
    case 0x01:
      return Key.Home; // Ctrl-A
    case 0x05:
      return Key.End; // Ctrl-E
    case 0x02:
      return Key.Left; // Ctrl-B
    case 0x06:
      return Key.Right; // Ctrl-F
    case 0x10:
      return Key.Up; // Ctrl-P
    case 0x0e:
      return Key.Down; // Ctrl-N
    case 0x04:
      return Key.Delete; // Ctrl-D
    case 0x03:
      return Key.Cancel; // Ctrl-C
    case 0x15:
      return Key.KillLine; // Ctrl-U
    case 0x0b:
      return Key.KillToEnd; // Ctrl-K
    case 0x1b:
      return Key.Escape;
  }
  return Key.None;
};

/** A decoded character: text unless it is a C1 control (U+0080..U+009F), which is dropped. */
const pushChar = (cp: number) => {
  if (cp >= 0x80 && cp < 0xa0) return;
  push(cp);
};

/** The cursor key a CSI or SS3 final byte names (ECMA-48 CUU/CUD/CUF/CUB; xterm Home/End), or Key.None. */
const cursorKeyOf = (final: number) => {
  switch (final) {
    case 0x41: return Key.Up;
    case 0x42: return Key.Down;
    case 0x43: return Key.Right;
    case 0x44: return Key.Left;
    case 0x48: return Key.Home;
    case 0x46: return Key.End;
  }
  return Key.None;
};

/** CSI final byte: cursor keys, and the "n ~" keys (xterm, VT220). */
const csiFinal = (final: number) => {
  if (csiOdd) return;
  const key = cursorKeyOf(final);
  if (key !== Key.None) {
    push(key);
  } else if (final === 0x7e) { // '~'
    if (csiParam === 1 || csiParam === 7) push(Key.Home);
    else if (csiParam === 4 || csiParam === 8) push(Key.End);
    else if (csiParam === 3) push(Key.Delete);
  }
};

/** SS3 final byte (application cursor mode): ESC O A..D, H, F. */
const ss3Final = (final: number) => {
  const key = cursorKeyOf(final);
  if (key !== Key.None) push(key);
};

/** A byte outside any escape sequence. */
const ground = (b: number) => {
  if (utf8.pending() || b >= 0x80) {
    lastWasCR = false;
    const cp = utf8.feed(b);
    if (cp >= 0) pushChar(cp);
    if (!utf8.again) return;
    // b broke off a sequence: it starts anew
    if (b >= 0x80) {
      const again = utf8.feed(b);
      if (again >= 0) pushChar(again);
      return;
    }
  }
  if (b === 0x0a && lastWasCR) {
    lastWasCR = false; // CR LF is one Enter
    return;
  }
  lastWasCR = b === 0x0d;
  if (b === 0x1b) {
    state = ESCAPE;
    idlePolls = 0;
    return;
  }
  if (b < 0x20 || b === 0x7f) {
    const k = controlKey(b);
    if (k !== Key.None) push(k);
    return;
  }
  push(b);
};

/** Feeds one byte received on COM1. */
export const feedSerialByte = (byte: number) => {
  const b = byte & 0xff;
  idlePolls = 0;
  if (state === ESCAPE) {
    if (b === 0x5b) {
      state = CSI;
      csiParam = 0;
      csiParamDone = false;
      csiOdd = false;
      csiLength = 0;
      return;
    }
    if (b === 0x4f) {
      state = SS3;
      return;
    }
    state = GROUND; // ESC + key (Alt/Meta): the key alone
    lastWasCR = false;
    if (b === 0x1b) {
      state = ESCAPE;
      return;
    }
    ground(b);
    return;
  }
  if (state === CSI) {
    if (b >= 0x40 && b <= 0x7e) {
      state = GROUND;
      csiFinal(b);
      return;
    }
    csiLength++;
    if (b >= 0x30 && b <= 0x39) {
      if (!csiParamDone && csiParam < 1000) csiParam = csiParam * 10 + (b - 48);
    } else if (b === 0x3b) {
      csiParamDone = true; // ';': only the first parameter matters here
    } else if (b >= 0x20 && b <= 0x3f) {
      csiOdd = true;
    } else {
      state = GROUND; // not part of a sequence: the sequence is dropped, the byte kept
      ground(b);
      return;
    }
    if (csiLength > CSI_MAX) state = GROUND;
    return;
  }
  if (state === SS3) {
    state = GROUND;
    if (b >= 0x40 && b <= 0x7e) {
      ss3Final(b);
      return;
    }
    ground(b);
    return;
  }
  ground(b);
};

/** The key a UEFI scan code names (UEFI 2.10 Appendix B, "EFI Scan Codes for
 * EFI_SIMPLE_TEXT_INPUT_PROTOCOL"), or Key.None. */
const efiScanKeyOf = (scan: number) => {
  switch (scan) {
    case 0x01: return Key.Up;
    case 0x02: return Key.Down;
    case 0x03: return Key.Right;
    case 0x04: return Key.Left;
    case 0x05: return Key.Home;
    case 0x06: return Key.End;
    case 0x08: return Key.Delete;
    case 0x17: return Key.Escape;
  }
  return Key.None;
};

/** Feeds one ConIn key (scanCode * 65536 + unicodeChar). */
export const feedEfiKey = (key: number) => {
  const scan = (key >>> 16) & 0xffff;
  const ch = key & 0xffff;
  if (scan !== 0) {
    const k = efiScanKeyOf(scan);
    if (k !== Key.None) push(k);
    return;
  }
  if (ch < 0x20 || ch === 0x7f) {
    const k = controlKey(ch);
    if (k !== Key.None) push(k);
    return;
  }
  if (ch >= 0xd800 && ch <= 0xdfff) {
    push(REPLACEMENT_CHAR); // UCS-2 has no surrogate pairs
    return;
  }
  pushChar(ch);
};

/** Called after a poll found nothing: gives up a partial sequence after a while. */
export const inputIdle = () => {
  if (state === GROUND && !utf8.pending()) return;
  idlePolls++;
  if (idlePolls < PARTIAL_TIMEOUT_POLLS) return;
  idlePolls = 0;
  if (state === ESCAPE) push(Key.Escape); // a lone ESC was the Escape key
  state = GROUND;
  if (utf8.pending()) {
    utf8.reset();
    push(REPLACEMENT_CHAR);
  }
};

/** The next key event, or Key.None when neither COM1 nor ConIn has one. */
export const pollInput = () => {
  if (qCount > 0) return pop();
  for (let n = 0; n < 64; n++) {
    const b = uartRead();
    if (b < 0) break;
    feedSerialByte(b);
    if (qCount > 0) return pop();
  }
  const k = hv_efi_con_in();
  if (k >= 0) {
    feedEfiKey(k);
    if (qCount > 0) return pop();
  }
  return Key.None;
};
