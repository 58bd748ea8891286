// Booting the real kernel for the ACPI console tests, with a hook on the firmware's
// RSDP lookup (hv_efi_acpi_rsdp): each discovery (boot, `acpi rescan`) calls it once, so
// a test can change the tables between scans. Otherwise as tests/sim/harness.mjs boot().
import { boot } from './harness.mjs';
import { Machine } from './machine.mjs';
import { PhysView, decodeAcpi } from './acpi-reference.mjs';

/**
 * @param {object} options Machine options (machineOptions(name), input, ...)
 * @param {(machine: Machine, call: number) => void} [onScan] runs before scan `call` (1, 2, ...)
 */
export const bootAcpi = (options, onScan) => {
  let calls = 0;
  const hostHooks = (f, machine) => {
    const lookup = f.hv_efi_acpi_rsdp;
    f.hv_efi_acpi_rsdp = (outAddr) => {
      calls++;
      onScan?.(machine, calls);
      return lookup(outAddr);
    };
  };
  const machine = boot({ ...options, hostHooks });
  machine.scans = calls;
  return machine;
};

/** What the reference decoder gets from a machine's memory (as the firmware hands it over). */
export const referenceOf = (options) => {
  const machine = new Machine(options);
  const rsdp = options.acpi ? { addr: Number(options.acpi.rsdp.addr), guid: options.acpi.rsdp.revision } : { addr: 0, guid: 0 };
  return decodeAcpi(rsdp, new PhysView(options.memoryMap, (addr, len) => machine.physRead(addr, len)));
};

/** Serial output after the first prompt, split at the prompts (en, zh, ja): [{ command, lines }]. */
export const commandOutputs = (machine) => {
  const text = machine.serialText;
  const out = [];
  for (const part of text.split(/(?:zerovisor 控制台|ゼロバイザー|zerovisor)> /).slice(1)) {
    const lines = part.split('\r\n');
    out.push({ command: lines[0], lines: lines.slice(1).filter((l) => l !== '') });
  }
  return out;
};

export const hex16 = (lo, hi = 0) => `0x${hi.toString(16).padStart(8, '0')}${lo.toString(16).padStart(8, '0')}`;
export const sigText = (sig) => Buffer.from(Uint32Array.of(sig).buffer).toString('latin1');
export const oemText = (lo, hi) => Buffer.concat([Buffer.from(Uint32Array.of(lo).buffer), Buffer.from(Uint16Array.of(hi).buffer)]).toString('latin1').replace(/\0/g, ' ');
/** A DeviceID as bus:device.function. */
export const bdf = (id) => `${(id >> 8).toString(16).padStart(2, '0')}:${((id >> 3) & 31).toString(16).padStart(2, '0')}.${id & 7}`;
