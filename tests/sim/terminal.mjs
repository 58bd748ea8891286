// Screen models for checking what a user would see:
//   vt100: the serial terminal (printable text with East Asian wide characters taking
//          two columns, CR, LF, BS, and CSI n C / n D / K / 2 J / H);
//   uefi:  the firmware console (CR, LF, BS moves left, one column per character).
// Lines do not wrap (the tests look at content, not at the terminal width).

const WIDE = /[\u1100-\u115f\u2e80-\u303e\u3041-\u33ff\u3400-\u4dbf\u4e00-\u9fff\ua000-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6]/u;
const COMBINING = /[\u0300-\u036f]/u;

export class Terminal {
  /** @param {'vt100' | 'uefi'} mode */
  constructor(mode) {
    this.mode = mode;
    this.rows = [[]];
    this.row = 0;
    this.col = 0;
    this.pending = ''; // an unfinished escape sequence
    this.unknownSequences = [];
  }

  clear() {
    this.rows = [[]];
    this.row = 0;
    this.col = 0;
  }

  #cells() {
    while (this.rows.length <= this.row) this.rows.push([]);
    return this.rows[this.row];
  }

  #put(ch) {
    const width = this.mode === 'vt100' ? (COMBINING.test(ch) ? 0 : WIDE.test(ch) ? 2 : 1) : 1;
    if (width === 0) return;
    const cells = this.#cells();
    while (cells.length < this.col + width) cells.push(' ');
    // overwriting half of a wide character blanks its other half
    if (cells[this.col] === '') cells[this.col - 1] = ' ';
    if (width === 1 && cells[this.col + 1] === '') cells[this.col + 1] = ' ';
    cells[this.col] = ch;
    if (width === 2) {
      if (cells[this.col + 2] === '') cells[this.col + 2] = ' ';
      cells[this.col + 1] = '';
    }
    this.col += width;
  }

  #csi(params, final) {
    const n = params === '' ? 1 : Number(params.split(';')[0]) || 1;
    switch (final) {
      case 'C': this.col += n; break;
      case 'D': this.col = Math.max(0, this.col - n); break;
      case 'K': {
        const cells = this.#cells();
        if (params === '' || params === '0') cells.length = Math.min(cells.length, this.col);
        else this.unknownSequences.push(`CSI ${params} K`);
        break;
      }
      case 'J':
        if (params === '2') this.clear();
        else this.unknownSequences.push(`CSI ${params} J`);
        break;
      case 'H': {
        const [r, c] = params.split(';').map(x => Number(x) || 1);
        this.row = (r || 1) - 1;
        this.col = (c || 1) - 1;
        break;
      }
      default:
        this.unknownSequences.push(`CSI ${params} ${final}`);
    }
  }

  /** Feeds decoded text (a string of code points). */
  write(text) {
    let s = this.pending + text;
    this.pending = '';
    for (let i = 0; i < s.length; i++) {
      const ch = String.fromCodePoint(s.codePointAt(i));
      if (ch.length === 2) i++;
      if (this.mode === 'vt100' && ch === '\x1b') {
        const rest = s.slice(i);
        const m = /^\x1b\[([0-9;]*)([@-~])/.exec(rest);
        if (m) {
          this.#csi(m[1], m[2]);
          i += m[0].length - 1;
          continue;
        }
        if (/^\x1b(\[[0-9;]*)?$/.test(rest)) {
          this.pending = rest; // finished by a later write
          return;
        }
        this.unknownSequences.push(JSON.stringify(rest.slice(0, 8)));
        continue;
      }
      switch (ch) {
        case '\r': this.col = 0; break;
        case '\n': this.row++; this.#cells(); break;
        case '\b': this.col = Math.max(0, this.col - 1); break;
        case '\x07': break; // bell
        default:
          if (ch < ' ' || ch === '\x7f') this.unknownSequences.push(`control ${ch.charCodeAt(0)}`);
          else this.#put(ch);
      }
    }
  }

  /** The screen as text lines (trailing spaces removed). */
  lines() {
    return this.rows.map(cells => cells.join('').replace(/ +$/, ''));
  }

  /** The line the cursor is on. */
  cursorLine() {
    return (this.rows[this.row] ?? []).join('').replace(/ +$/, '');
  }
}
