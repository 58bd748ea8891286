// The 16550A UART every guest gets as COM1 (I/O ports 0x3F8-0x3FF), one per VM slot, after
// the National Semiconductor/TI PC16550D datasheet's registers. Enough for a polling or
// interrupt-driven serial console (Linux's 8250 driver probes it as a 16550A: IER keeps its
// low 4 bits, IIR shows 0xC0 with the FIFOs on, the MCR loopback test sees CTS|DCD).
//
// Transmission is instant: a byte written to THR goes to the VM's output ring (4 KiB; when
// it is full the byte is dropped and counted) and LSR always shows THRE|TEMT. Received bytes
// wait in the VM's input ring (256 bytes, whatever the FIFO setting; full: dropped, counted,
// and LSR.OE set once). Baud rate, word length and trigger levels are kept but change
// nothing. Loopback (MCR bit 4): transmitted bytes go to the VM's own input ring and MSR
// reflects MCR (DTR->DSR, RTS->CTS, OUT1->RI, OUT2->DCD); outside loopback MSR shows
// DCD|DSR|CTS (a connected line, like QEMU's). Input from the console is accepted in either
// mode. Registers are byte-wide: the caller splits wider accesses by port.

import { MAX_VMS } from '../../lib/limits';

/** COM1's first port; the register offset is port - COM1_BASE (0-7). */
export const COM1_BASE = 0x3f8;
/** Bytes each VM's output ring holds (a power of two). */
export const UART_OUT_RING = 4096;
/** Bytes each VM's input ring holds (a power of two). */
export const UART_IN_RING = 256;

// Register offsets (datasheet table II).
const RBR_THR_DLL = 0;
const IER_DLM = 1;
const IIR_FCR = 2;
const LCR = 3;
const MCR = 4;
const LSR = 5;
const MSR = 6;
const SCR = 7;
// Bits.
const LCR_DLAB = 0x80;
const IER_RDA = 0x01; // received data available
const IER_THRE = 0x02; // transmitter holding register empty
const IER_RLS = 0x04; // receiver line status
const IER_MS = 0x08; // modem status
const IIR_NONE = 0x01;
const IIR_RLS = 0x06;
const IIR_RDA = 0x04;
const IIR_THRE = 0x02;
const IIR_MS = 0x00;
const IIR_FIFO = 0xc0; // both bits set when the FIFOs are enabled (16550A)
const FCR_ENABLE = 0x01;
const FCR_CLEAR_RX = 0x02;
const FCR_KEPT = 0xc9; // enable, DMA mode, receiver trigger
const LSR_DR = 0x01;
const LSR_OE = 0x02;
const LSR_THRE = 0x20;
const LSR_TEMT = 0x40;
const MCR_OUT2 = 0x08;
const MCR_LOOP = 0x10;
const MSR_LINE_UP = 0xb0; // DCD, DSR, CTS

const ier = new Uint8Array(MAX_VMS);
const lcr = new Uint8Array(MAX_VMS);
const mcr = new Uint8Array(MAX_VMS);
const fcr = new Uint8Array(MAX_VMS);
const scr = new Uint8Array(MAX_VMS);
const dll = new Uint8Array(MAX_VMS);
const dlm = new Uint8Array(MAX_VMS);
const rbr = new Uint8Array(MAX_VMS); // last byte received (read again when the ring is empty)
const threPending = new Uint8Array(MAX_VMS); // THRE interrupt (cleared by reading it in IIR or writing THR)
const overrun = new Uint8Array(MAX_VMS); // LSR.OE until LSR is read
const msrDelta = new Uint8Array(MAX_VMS); // MSR bits 0-3 until MSR is read

const outRing = new Uint8Array(MAX_VMS * UART_OUT_RING);
const outHead = new Uint16Array(MAX_VMS);
const outCount = new Uint16Array(MAX_VMS);
const inRing = new Uint8Array(MAX_VMS * UART_IN_RING);
const inHead = new Uint16Array(MAX_VMS);
const inCount = new Uint16Array(MAX_VMS);
/** Counters per VM: bytes transmitted, output bytes dropped (ring full), input bytes dropped. */
const transmitted = new Float64Array(MAX_VMS);
const outDropped = new Float64Array(MAX_VMS);
const inDropped = new Float64Array(MAX_VMS);

const valid = (vm: number) => vm >= 0 && vm < MAX_VMS;

/** Puts VM `vm`'s UART in its reset state (datasheet table III) with empty rings and counters at 0. */
export const com1Reset = (vm: number) => {
  if (!valid(vm)) return;
  ier[vm] = 0;
  lcr[vm] = 0;
  mcr[vm] = 0;
  fcr[vm] = 0;
  scr[vm] = 0;
  dll[vm] = 1; // divisor 1: 115200 baud (the datasheet leaves it undefined)
  dlm[vm] = 0;
  rbr[vm] = 0;
  threPending[vm] = 0;
  overrun[vm] = 0;
  msrDelta[vm] = 0;
  outHead[vm] = 0;
  outCount[vm] = 0;
  inHead[vm] = 0;
  inCount[vm] = 0;
  transmitted[vm] = 0;
  outDropped[vm] = 0;
  inDropped[vm] = 0;
};

for (let i = 0; i < MAX_VMS; i++) com1Reset(i);

/** Adds a received byte to the input ring; false (counted, LSR.OE) when it is full. */
const receive = (vm: number, byte: number) => {
  const n = inCount[vm];
  if (n >= UART_IN_RING) {
    inDropped[vm] = inDropped[vm] + 1;
    overrun[vm] = 1;
    return false;
  }
  inRing[vm * UART_IN_RING + ((inHead[vm] + n) & (UART_IN_RING - 1))] = byte;
  inCount[vm] = n + 1;
  return true;
};

/** MSR bits 4-7 as the modem lines are now. */
const msrLines = (vm: number) => {
  const m = mcr[vm];
  if ((m & MCR_LOOP) === 0) return MSR_LINE_UP;
  return ((m & 0x02) << 3) | ((m & 0x01) << 5) | ((m & 0x04) << 4) | ((m & 0x08) << 4);
};

/** IIR bits 0-3: the highest-priority pending interrupt (datasheet table IV). */
const pending = (vm: number) => {
  const e = ier[vm];
  if ((e & IER_RLS) !== 0 && overrun[vm] !== 0) return IIR_RLS;
  if ((e & IER_RDA) !== 0 && inCount[vm] > 0) return IIR_RDA;
  if ((e & IER_THRE) !== 0 && threPending[vm] !== 0) return IIR_THRE;
  if ((e & IER_MS) !== 0 && msrDelta[vm] !== 0) return IIR_MS;
  return IIR_NONE;
};

/** A guest read of register `offset` (0-7) of VM `vm`'s UART: the byte it sees. */
export const com1Read = (vm: number, offset: number) => {
  if (!valid(vm)) return 0xff;
  const dlab = (lcr[vm] & LCR_DLAB) !== 0;
  switch (offset) {
    case RBR_THR_DLL: {
      if (dlab) return dll[vm];
      const n = inCount[vm];
      if (n > 0) {
        const h = inHead[vm];
        rbr[vm] = inRing[vm * UART_IN_RING + h];
        inHead[vm] = (h + 1) & (UART_IN_RING - 1);
        inCount[vm] = n - 1;
      }
      return rbr[vm];
    }
    case IER_DLM:
      return dlab ? dlm[vm] : ier[vm];
    case IIR_FCR: {
      const id = pending(vm);
      if (id === IIR_THRE) threPending[vm] = 0; // reading IIR with THRE as the source clears it
      return ((fcr[vm] & FCR_ENABLE) !== 0 ? IIR_FIFO : 0) | id;
    }
    case LCR:
      return lcr[vm];
    case MCR:
      return mcr[vm];
    case LSR: {
      const v = (inCount[vm] > 0 ? LSR_DR : 0) | (overrun[vm] !== 0 ? LSR_OE : 0) | LSR_THRE | LSR_TEMT;
      overrun[vm] = 0;
      return v;
    }
    case MSR: {
      const v = msrLines(vm) | msrDelta[vm];
      msrDelta[vm] = 0;
      return v;
    }
    case SCR:
      return scr[vm];
  }
  return 0xff;
};

/** A guest write of `value` (low 8 bits) to register `offset` (0-7) of VM `vm`'s UART. */
export const com1Write = (vm: number, offset: number, value: number) => {
  if (!valid(vm)) return;
  const v = value & 0xff;
  const dlab = (lcr[vm] & LCR_DLAB) !== 0;
  switch (offset) {
    case RBR_THR_DLL: {
      if (dlab) {
        dll[vm] = v;
        return;
      }
      threPending[vm] = 1; // the byte leaves at once: THR is empty again
      if ((mcr[vm] & MCR_LOOP) !== 0) {
        receive(vm, v);
        return;
      }
      transmitted[vm] = transmitted[vm] + 1;
      const n = outCount[vm];
      if (n >= UART_OUT_RING) {
        outDropped[vm] = outDropped[vm] + 1;
        return;
      }
      outRing[vm * UART_OUT_RING + ((outHead[vm] + n) & (UART_OUT_RING - 1))] = v;
      outCount[vm] = n + 1;
      return;
    }
    case IER_DLM: {
      if (dlab) {
        dlm[vm] = v;
        return;
      }
      const changed = (ier[vm] ^ v) & IER_THRE;
      ier[vm] = v & 0x0f;
      // enabling the THRE interrupt while THR is empty (always) raises it; disabling drops it
      if (changed !== 0) threPending[vm] = (v & IER_THRE) !== 0 ? 1 : 0;
      return;
    }
    case IIR_FCR: {
      // FCR: turning the FIFOs on or off clears them; the clear bits act only with FCR0 set
      if (((fcr[vm] ^ v) & FCR_ENABLE) !== 0 || (v & (FCR_ENABLE | FCR_CLEAR_RX)) === (FCR_ENABLE | FCR_CLEAR_RX)) {
        inHead[vm] = 0;
        inCount[vm] = 0;
      }
      fcr[vm] = (v & FCR_ENABLE) !== 0 ? v & FCR_KEPT : 0;
      return;
    }
    case LCR:
      lcr[vm] = v;
      return;
    case MCR: {
      const before = msrLines(vm);
      mcr[vm] = v & 0x1f;
      const after = msrLines(vm);
      const diff = before ^ after;
      // delta bits: DCTS, DDSR, TERI (RI went 1 -> 0), DDCD
      let d = msrDelta[vm];
      if ((diff & 0x10) !== 0) d |= 0x01;
      if ((diff & 0x20) !== 0) d |= 0x02;
      if ((before & 0x40) !== 0 && (after & 0x40) === 0) d |= 0x04;
      if ((diff & 0x80) !== 0) d |= 0x08;
      msrDelta[vm] = d;
      return;
    }
    case SCR:
      scr[vm] = v;
      return;
  }
  // LSR and MSR writes (factory test on the real part) change nothing here.
};

/** Console input for VM `vm`: true when queued, false when the input ring is full (counted). */
export const com1Push = (vm: number, byte: number) => {
  if (!valid(vm)) return false;
  return receive(vm, byte & 0xff);
};

/** Moves up to out.length transmitted bytes of VM `vm` into out[0..); returns how many. */
export const com1Take = (vm: number, out: Uint8Array) => {
  if (!valid(vm)) return 0;
  let n = outCount[vm];
  if (n > out.length) n = out.length;
  const base = vm * UART_OUT_RING;
  let h = outHead[vm];
  for (let i = 0; i < n; i++) {
    out[i] = outRing[base + h];
    h = (h + 1) & (UART_OUT_RING - 1);
  }
  outHead[vm] = h;
  outCount[vm] = outCount[vm] - n;
  return n;
};

/** Whether VM `vm`'s UART asserts its interrupt line (IRQ 4 on a PC: a pending interrupt, gated by MCR.OUT2). */
export const com1Interrupt = (vm: number) => valid(vm) && (mcr[vm] & MCR_OUT2) !== 0 && pending(vm) !== IIR_NONE;
/** Transmitted bytes waiting for com1Take. */
export const com1OutputPending = (vm: number) => (valid(vm) ? outCount[vm] : 0);
/** Received bytes the guest has not read yet. */
export const com1InputPending = (vm: number) => (valid(vm) ? inCount[vm] : 0);
/** Bytes the guest transmitted since reset (dropped ones included, loopback excluded). */
export const com1Transmitted = (vm: number) => (valid(vm) ? transmitted[vm] : 0);
/** Transmitted bytes dropped because the output ring was full. */
export const com1OutputDropped = (vm: number) => (valid(vm) ? outDropped[vm] : 0);
/** Input bytes dropped because the input ring was full. */
export const com1InputDropped = (vm: number) => (valid(vm) ? inDropped[vm] : 0);

// ---- state for live migration: the registers (the rings stay: output is drained to the
// console before a VM stops, and input typed during a migration is not carried) ----

/** Bytes of COM1 state com1Save writes. */
export const COM1_STATE_BYTES = 11;

/** Writes VM `vm`'s COM1 registers to out[off, + COM1_STATE_BYTES); false when out is too short. */
export const com1Save = (vm: number, out: Uint8Array, off: number) => {
  if (!valid(vm) || off < 0 || off + COM1_STATE_BYTES > out.length) return false;
  out[off] = ier[vm];
  out[off + 1] = lcr[vm];
  out[off + 2] = mcr[vm];
  out[off + 3] = fcr[vm];
  out[off + 4] = scr[vm];
  out[off + 5] = dll[vm];
  out[off + 6] = dlm[vm];
  out[off + 7] = rbr[vm];
  out[off + 8] = threPending[vm];
  out[off + 9] = overrun[vm];
  out[off + 10] = msrDelta[vm];
  return true;
};

/** Sets VM `vm`'s COM1 registers from src[off, + len) as com1Save wrote them; false (nothing changed) when malformed. */
export const com1Load = (vm: number, src: Uint8Array, off: number, len: number) => {
  if (!valid(vm) || len !== COM1_STATE_BYTES || off < 0 || off + len > src.length) return false;
  // only bits a guest could have set: IER 0-3, MCR 0-4, FCR as kept, flags 0/1, MSR deltas 0-3
  if ((src[off] & 0xf0) !== 0 || (src[off + 2] & 0xe0) !== 0 || (src[off + 3] & ~FCR_KEPT) !== 0 || src[off + 8] > 1 || src[off + 9] > 1 || (src[off + 10] & 0xf0) !== 0) return false;
  ier[vm] = src[off];
  lcr[vm] = src[off + 1];
  mcr[vm] = src[off + 2];
  fcr[vm] = src[off + 3];
  scr[vm] = src[off + 4];
  dll[vm] = src[off + 5];
  dlm[vm] = src[off + 6];
  rbr[vm] = src[off + 7];
  threPending[vm] = src[off + 8];
  overrun[vm] = src[off + 9];
  msrDelta[vm] = src[off + 10];
  return true;
};
