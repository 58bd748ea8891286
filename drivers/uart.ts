// 16550A UART driver for COM1 (I/O port 0x3F8), polled, no interrupts.
// Register map and bits: PC16550D datasheet (National Semiconductor), Table II
// "Summary of Registers"; offsets from the base port, DLAB = LCR bit 7.
import { ticksSinceBoot, tscHz } from '../kernel/lib/clock';

const BASE = 0x3f8;
const RBR = 0; // receiver buffer (read, DLAB 0)
const THR = 0; // transmitter holding (write, DLAB 0)
const DLL = 0; // divisor latch low (DLAB 1)
const IER = 1; // interrupt enable (DLAB 0)
const DLM = 1; // divisor latch high (DLAB 1)
const FCR = 2; // FIFO control (write)
const LCR = 3; // line control
const MCR = 4; // modem control
const LSR = 5; // line status
const SCR = 7; // scratch

const LCR_8N1 = 0x03; // word length 8 (bits 0-1 = 11), 1 stop bit (bit 2 = 0), no parity (bit 3 = 0)
const LCR_DLAB = 0x80; // bit 7: divisor latch access
const FCR_ENABLE_CLEAR_14 = 0xc7; // bit 0 FIFO enable, 1-2 clear RX/TX FIFOs, 6-7 RX trigger 14 bytes
const MCR_DTR_RTS_OUT2 = 0x0b; // bits 0 DTR, 1 RTS, 3 OUT2
const LSR_DR = 0x01; // bit 0: data ready (a received byte is in RBR / the RX FIFO)
const LSR_THRE = 0x20; // bit 5: THR (with FIFOs: the TX FIFO) empty
const LSR_TEMT = 0x40; // bit 6: THR and the transmitter shift register empty
const DIVISOR_115200 = 1; // 1.8432 MHz / (16 * 115200)
const TX_FIFO_DEPTH = 16; // bytes that may be written once THRE is set (FIFO mode)
const SPIN_LIMIT = 100000; // LSR polls before a stuck transmitter is given up on (TSC not yet known)
// A terminal that reads slowly holds THRE clear (QEMU's 16550 waits for its chardev, a
// console cable's flow control): output waits this long, then is dropped until THRE comes
// back; the port is never given up for good.
const STALL_MS = 2000;

let present = false;
let stalled = false; // the last wait for THRE ran out: drop without waiting until it is set

const inb = (register: number) => hv_io_in8(BASE + register);

/** Programs COM1 for 115200 8N1 with FIFOs; returns whether a UART answered. */
export const uartInit = () => {
  // Presence: the scratch register keeps what is written (absent ports read 0xFF).
  hv_io_out8(BASE + SCR, 0x5a);
  const a = inb(SCR);
  hv_io_out8(BASE + SCR, 0xa5);
  const b = inb(SCR);
  present = a === 0x5a && b === 0xa5;
  if (!present) return false;
  hv_io_out8(BASE + IER, 0x00); // polled: no interrupts
  hv_io_out8(BASE + LCR, LCR_DLAB);
  hv_io_out8(BASE + DLL, DIVISOR_115200);
  hv_io_out8(BASE + DLM, 0x00);
  hv_io_out8(BASE + LCR, LCR_8N1);
  hv_io_out8(BASE + FCR, FCR_ENABLE_CLEAR_14);
  hv_io_out8(BASE + MCR, MCR_DTR_RTS_OUT2);
  return true;
};

/** Whether uartInit found a UART. */
export const uartPresent = () => present;

/** Whether THR may take TX_FIFO_DEPTH bytes: THRE, waited for at most STALL_MS (not at all while stalled). */
const transmitterReady = () => {
  if ((inb(LSR) & LSR_THRE) !== 0) {
    stalled = false;
    return true;
  }
  if (stalled) return false;
  const hz = tscHz();
  const deadline = ticksSinceBoot() + (hz * STALL_MS) / 1000;
  for (let spins = 1; ; spins++) {
    if ((inb(LSR) & LSR_THRE) !== 0) return true;
    if ((spins & 1023) === 0 && (hz > 0 ? ticksSinceBoot() > deadline : spins > SPIN_LIMIT)) {
      stalled = true;
      return false;
    }
  }
};

/** Sends bytes[0..length) polling LSR.THRE; drops them while the terminal does not read (see STALL_MS). */
export const uartWrite = (bytes: Uint8Array, length: number) => {
  if (!present) return;
  let i = 0;
  while (i < length) {
    if (!transmitterReady()) return;
    const end = i + TX_FIFO_DEPTH < length ? i + TX_FIFO_DEPTH : length;
    while (i < end) {
      hv_io_out8(BASE + THR, bytes[i]);
      i++;
    }
  }
};

/** Waits (bounded) until every written byte has left the transmitter (LSR.TEMT). */
export const uartDrain = () => {
  if (!present) return;
  for (let spins = 0; spins < SPIN_LIMIT; spins++) {
    if ((inb(LSR) & LSR_TEMT) !== 0) return;
  }
};

/** The next received byte, or -1 when none is waiting (LSR.DR clear). */
export const uartRead = () => {
  if (!present) return -1;
  if ((inb(LSR) & LSR_DR) === 0) return -1;
  return inb(RBR) & 0xff;
};
