// Zerovisor's life, from efi_main to the return to the firmware. The shim runs porffor's
// module code (`m`), then `main`:
//   boot      the console takes the screens (everything below speaks through it), then
//             discovery: memory map, ACPI, CPU capabilities, TSC frequency; startup.zv;
//   run loop  the console is polled for a key; when none waits, a turn runs the guests a
//             slice each, moves migrations and their network link on, pets the watchdog
//             (services/run-loop.ts), and the console says what came of it; when nothing
//             ran it idles until the earliest deadline (a halted vCPU's wake-up), at most
//             one input-poll period (UEFI ConIn is polled);
//   shutdown  after `exit`: the NIC and the firmware's SNP go back to the firmware, QEMU's
//             debug-exit port gets the code, VMX or SVM is left, BootServices.Exit.
import { describeError } from './diag/kernel-error';
import { fatal } from './diag/log';
import { discoverPlatform } from './platform/discover';
import { netShutdown } from '../drivers/virtio-net/virtio-net';
import { snpShutdown } from '../drivers/snp/snp';
import { disableVirtualization } from './vcpu/vcpu';
import { idleUntil, nextDeadline, runTurn } from './services/run-loop';
import { consoleNews, consolePoll, consoleStart, consoleStartupScript, consoleStop } from './console/console';
import { exitRequested, requestedExitCode } from './console/state';
import { INPUT_POLL_US } from './console/wait';

const DEBUG_EXIT_PORT = 0xf4; // QEMU isa-debug-exit (iobase 0xf4, iosize 1)

const boot = () => {
  consoleStart();
  discoverPlatform();
  consoleStartupScript();
};

const runLoop = () => {
  while (!exitRequested()) {
    if (consolePoll()) continue; // keys first: a typed or pasted line is not slowed by guests
    const busy = runTurn();
    consoleNews();
    if (!busy) idleUntil(nextDeadline(), INPUT_POLL_US);
  }
};

const shutdown = (code: number) => {
  consoleStop();
  netShutdown(); // the NIC stops using Zerovisor's pages before the firmware gets it back
  snpShutdown(); // and the firmware's SNP goes back to Stopped, as its network stack expects
  hv_io_out8(DEBUG_EXIT_PORT, code); // under QEMU the run ends here
  disableVirtualization(); // VMXOFF or EFER.SVME off: the firmware gets the processor back as it gave it
  hv_exit(code); // a real machine returns to the firmware
};

export const main = () => {
  try {
    boot();
    runLoop();
    shutdown(requestedExitCode());
  } catch (e) {
    fatal('fatal.unexpected', describeError(e));
  }
};
