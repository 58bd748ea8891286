// The Intel MultiProcessor table (MP spec 1.4 chapter 4) of a VM: the floating pointer at
// MP_AT and the configuration table after it (platform-tables.ts has the picture).
import { checksum, put8, put16, put32, putText } from './bytes';
import { IO_APIC_ADDRESS, IO_APIC_VERSION, ISA_IRQS, LOCAL_APIC_ADDRESS, LOCAL_APIC_VERSION, MP_AT, PCMP_AT, PRODUCT_ID, gpa } from './layout';

// Entry types (4.3, Table 4-3) and interrupt types (Table 4-8).
const MP_PROCESSOR = 0;
const MP_BUS = 1;
const MP_IOAPIC = 2;
const MP_IO_INTERRUPT = 3;
const MP_LOCAL_INTERRUPT = 4;
const MP_INT = 0;
const MP_NMI = 1;
const MP_EXTINT = 3;
// A family 6 processor (CPUID.1.EAX) with an FPU and an APIC (CPUID.1.EDX bits 0 and 9).
const CPU_SIGNATURE = 0x600;
const CPU_FEATURES = 0x201;

/** Bytes of the PCMP table for `vcpus` processors. */
const pcmpBytes = (vcpus: number) => 44 + 20 * vcpus + 8 + 8 + 8 * (ISA_IRQS - 1) + 2 * 8;

const putInterrupt = (out: Uint8Array, at: number, type: number, kind: number, sourceIrq: number, destination: number, pin: number) => {
  put8(out, at, type);
  put8(out, at + 1, kind);
  put16(out, at + 2, 0); // polarity and trigger conform to the bus
  put8(out, at + 4, 0); // source bus: the ISA bus
  put8(out, at + 5, sourceIrq);
  put8(out, at + 6, destination);
  put8(out, at + 7, pin);
};

/**
 * The floating pointer (4.1) and the configuration table (4.2, 4.3): a processor entry per
 * vCPU (the first the bootstrap processor), the ISA bus, the I/O APIC (ID = vCPU count,
 * enabled), ISA IRQs 0-15 to I/O APIC pins 0-15 except IRQ 2 (see below), ExtINT -> LINT0 and
 * NMI -> LINT1 of every local APIC (destination 0xFF).
 * IRQ 2 is left out: it is the 8259 pair's cascade, never an ISA device's line, and nothing on
 * this board drives I/O APIC pin 2 (SeaBIOS leaves source IRQ 2 out too, where QEMU routes
 * IRQ 0 to pin 2; here IRQ 0 stays on pin 0).
 */
export const putMp = (out: Uint8Array, vcpus: number) => {
  const length = pcmpBytes(vcpus);
  putText(out, MP_AT, '_MP_');
  put32(out, MP_AT + 4, gpa(PCMP_AT));
  put8(out, MP_AT + 8, 1); // length in 16-byte paragraphs
  put8(out, MP_AT + 9, 4); // spec revision 1.4
  // feature bytes 1-5 zero: a configuration table is present; no IMCR (virtual wire mode)
  checksum(out, MP_AT, 16, MP_AT + 10);
  const p = PCMP_AT;
  putText(out, p, 'PCMP');
  put16(out, p + 4, length);
  put8(out, p + 6, 4);
  putText(out, p + 8, 'ZEROVS  ');
  putText(out, p + 16, PRODUCT_ID);
  put16(out, p + 34, vcpus + 2 + (ISA_IRQS - 1) + 2); // entry count
  put32(out, p + 36, LOCAL_APIC_ADDRESS);
  let at = p + 44;
  for (let i = 0; i < vcpus; i++) {
    put8(out, at, MP_PROCESSOR);
    put8(out, at + 1, i); // local APIC ID
    put8(out, at + 2, LOCAL_APIC_VERSION);
    put8(out, at + 3, i === 0 ? 3 : 1); // EN, BP on the first
    put32(out, at + 4, CPU_SIGNATURE);
    put32(out, at + 8, CPU_FEATURES);
    at += 20;
  }
  put8(out, at, MP_BUS);
  put8(out, at + 1, 0);
  putText(out, at + 2, 'ISA   ');
  at += 8;
  put8(out, at, MP_IOAPIC);
  put8(out, at + 1, vcpus);
  put8(out, at + 2, IO_APIC_VERSION);
  put8(out, at + 3, 1); // EN
  put32(out, at + 4, IO_APIC_ADDRESS);
  at += 8;
  for (let irq = 0; irq < ISA_IRQS; irq++) {
    if (irq === 2) continue;
    putInterrupt(out, at, MP_IO_INTERRUPT, MP_INT, irq, vcpus, irq);
    at += 8;
  }
  putInterrupt(out, at, MP_LOCAL_INTERRUPT, MP_EXTINT, 0, 0xff, 0);
  putInterrupt(out, at + 8, MP_LOCAL_INTERRUPT, MP_NMI, 0, 0xff, 1);
  checksum(out, p, length, p + 7);
  return PCMP_AT + length - MP_AT;
};

