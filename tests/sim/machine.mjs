// A simulated machine for the kernel's Wasm: every function of the host ABI
// (toolchain/host-abi.mjs) plus porffor's own imports, over a model of
//   - a 16550 UART at COM1 (0x3F8): registers, LSR with THRE/TEMT always set and DR
//     while input is queued, RBR reads from the input, THR writes captured;
//   - QEMU's isa-debug-exit at port 0xF4;
//   - UEFI ConIn (a key queue shared in order with the UART input), ConOut (UCS-2 read
//     from Wasm memory), GetMemoryMap (a fixture), a file table for hv_efi_file_read;
//   - a TSC, the log lines and fatal reasons the shim would get, the exit code;
//   - a CPU profile (CPUID leaves, MSRs; an absent MSR is a #GP and fails the run);
//   - physical memory: inside the memory map's descriptors only (any other access is a
//     page fault and fails the run), and owned: the kernel writes only pages it allocated
//     from the firmware and reads only those and the firmware memory on the read
//     allow-list (ACPI and runtime-services descriptors, the tables and other firmware
//     data a test places); anything else fails the run. Firmware page allocation at an
//     address (the memory map shows the pages as EfiLoaderData; every allocated page holds
//     a 0xA5 pattern until written, as firmware does not clear them), ACPI tables placed at
//     their addresses, the RSDP in the configuration table;
//   - port and MMIO devices: the ACPI PM timer, an HPET, and any the test adds (PCI,
//     virtio-net); 8- and 16-bit MMIO only to devices that model those widths;
//   - UEFI DisconnectController of PCI functions (recorded; the result is the test's);
//   - the firmware's Simple Network Protocol interfaces (tests/sim/snp.mjs), one per handle.
// Input is one timeline of UART bytes, ConIn keys and idle polls. When it is used up,
// polls count as empty; past a limit the machine fails (a test's input must end with
// `exit`), so a kernel that never exits cannot hang a test.
import { hostAbi, porfforBuiltinImports } from '../../toolchain/host-abi.mjs';
import { ovmfQ35_512M } from './fixtures/memory-maps.mjs';
import { Terminal } from './terminal.mjs';
import { machineCpu } from './fixtures/machines.mjs';

import { crc32Update, fnv1aUpdate, wordHash } from './checksums.mjs';
import { Field, isReadOnlyField, VmxError, vmEntryFailure } from './vmx-checks.mjs';

export const COM1 = 0x3f8;
export const DEBUG_EXIT_PORT = 0xf4;

/** UEFI scan codes (UEFI 2.10 Appendix B) and keys as hv_efi_con_in returns them. */
export const efi = {
  up: { key: 0x01 << 16 },
  down: { key: 0x02 << 16 },
  right: { key: 0x03 << 16 },
  left: { key: 0x04 << 16 },
  home: { key: 0x05 << 16 },
  end: { key: 0x06 << 16 },
  del: { key: 0x08 << 16 },
  esc: { key: 0x17 << 16 },
  backspace: { key: 0x08 },
  enter: { key: 0x0d },
  /** Unicode characters typed on the firmware keyboard (UCS-2). */
  text: (s) => [...s].map(ch => ({ key: ch.charCodeAt(0) })),
};

/** What a VT100/xterm terminal sends on COM1 for editing keys. */
export const vt = {
  up: '\x1b[A',
  down: '\x1b[B',
  right: '\x1b[C',
  left: '\x1b[D',
  home: '\x1b[H',
  end: '\x1b[F',
  del: '\x1b[3~',
  backspace: '\x7f',
  enter: '\r',
};

export class SimFailure extends Error {}

/** What an allocated page holds until the kernel writes it (firmware does not clear pages). */
export const ALLOCATION_PATTERN = 0xa5;
const ZERO_PAGE = new Uint8Array(4096); // shared by zeroed pages; never written (#physPage copies it first)

/** Memory types (UEFI 2.10 table 7.10) the kernel may read without allocating them: runtime services code and data, ACPI reclaim and NVS. */
const FIRMWARE_READABLE_TYPES = new Set([5, 6, 9, 10]);
const MEMORY_TYPE_NAMES = ['EfiReservedMemoryType', 'EfiLoaderCode', 'EfiLoaderData', 'EfiBootServicesCode', 'EfiBootServicesData',
  'EfiRuntimeServicesCode', 'EfiRuntimeServicesData', 'free (EfiConventionalMemory)', 'EfiUnusableMemory', 'EfiACPIReclaimMemory',
  'EfiACPIMemoryNVS', 'EfiMemoryMappedIO', 'EfiMemoryMappedIOPortSpace', 'EfiPalCode', 'EfiPersistentMemory'];

export class Machine {
  /**
   * @param {object} o
   * @param {Array<string|Uint8Array|{key:number}|{idle:number}>} [o.input] the timeline
   * @param {Record<string, string|Uint8Array>} [o.files] boot volume files by path ('\\startup.zv')
   * @param {Record<string, number>} [o.fileErrors] paths whose read returns this error code
   * @param {Array} [o.memoryMap] descriptors [type, start, pages, attribute] (BigInt/number)
   * @param {(cap: number) => number|undefined} [o.memoryMapResult] overrides the result
   * @param {boolean} [o.uart] whether COM1 exists (default true)
   * @param {bigint} [o.bootTsc] TSC at efi_main
   * @param {number} [o.emptyPollLimit]
   * @param {{cpuid: Record<string, number[]>, msrs: Record<string, bigint>}} [o.cpu] CPUID
   *   results by "leaf" or "leaf:subleaf" (hex, e.g. "0x7:0"), MSR values by hex number
   * @param {{ rsdp?: {addr: number|bigint, revision: 1|2}, regions?: Array<{addr: number|bigint, bytes: Uint8Array}> }} [o.acpi]
   *   RSDP in the configuration table and memory contents (the tables) to place
   * @param {(segment: number, bus: number, device: number, fn: number) => number} [o.pciDisconnect] what
   *   hv_efi_pci_disconnect returns (default 0: the firmware let go of the function)
   * @param {Array<{mmio?: {base: number, size: number, read32: Function, write32: Function,
   *   read8?: Function, read16?: Function, write8?: Function, write16?: Function},
   *   io?: {base: number, size: number, in32: Function, out32: Function}}>} [o.devices]
   * @param {Array<[number|bigint, number|bigint]>} [o.firmwareReads] [address, length] of more firmware
   *   memory the kernel may read (the allow-list also has ACPI tables placed by o.acpi and the
   *   ACPI and runtime-services descriptors of the map)
   * @param {import('./snp.mjs').SnpModel[]} [o.snp] the SNP handles, in the firmware's order
   * @param {number} [o.pmTimerPort] port of the ACPI PM timer (24-bit, 3.579545 MHz), or 0 for none
   * @param {number} [o.hpetBase] base of an HPET (100 MHz counter), or 0 for none
   * @param {{afterBytes: number, seconds: number}} [o.uartStall] a terminal that stops reading:
   *   once COM1 has sent afterBytes, LSR shows THRE and TEMT clear for that many seconds (TSC)
   * @param {[number, number, number, number, number, number] | null} [o.efiTime] what
   *   hv_efi_time reports (year, month, day, hour, minute, second; default 2026-11-25
   *   12:34:56, fixed), or null for a firmware whose GetTime fails
   * @param {number} [o.hostCallTicks] TSC ticks each host call costs (default 40); a test makes the
   *   kernel's own work slow next to a guest's with more
   * @param {(run: {machine: Machine, vmcb: bigint, hostSave: bigint, gprs: BigUint64Array, fx: Uint8Array}) => void} [o.svmGuest]
   *   what one VMRUN does: a test's model of the guest, which edits the VMCB (machine.physRead/
   *   physWrite) and the GPRs and sets an exit code; without it hv_svm_run fails the run. As the
   *   shim does, the transfer list's entries are copied from the vCPU area into the VMCB before
   *   (RAX, RSP, RIP) and from the VMCB into the area after (the exit record; gprs[0] and
   *   gprs[4] then come from the VMCB's RAX and RSP)
   * @param {(run: {machine: Machine, vmcs: Map<number, bigint>, launched: boolean, gprs: BigUint64Array, fx: Uint8Array}) => number|void} [o.vmxGuest]
   *   what one VMLAUNCH/VMRESUME does: a test's model of the guest, which edits the current
   *   VMCS's fields (by encoding) and the GPRs and sets the exit fields; returns 0 (a VM exit)
   *   or the VMX status of a failed entry; without it hv_vmx_run fails the run. The transfer
   *   list's VMWRITEs happen before (GUEST_RSP, GUEST_RIP, interruptibility from the vCPU
   *   area) and its VMREADs into the area after a VM exit (gprs[4] then comes from GUEST_RSP)
   */
  constructor(o = {}) {
    this.queue = [];
    for (const item of o.input ?? []) this.#enqueue(item);
    this.qi = 0;
    this.files = new Map(Object.entries(o.files ?? {}).map(([k, v]) => [normPath(k), typeof v === 'string' ? Buffer.from(v, 'utf8') : Buffer.from(v)]));
    this.fileErrors = new Map(Object.entries(o.fileErrors ?? {}).map(([k, v]) => [normPath(k), v]));
    this.memoryMap = o.memoryMap ?? ovmfQ35_512M;
    this.memoryMapResult = o.memoryMapResult;
    this.uartPresent = o.uart ?? true;
    this.bootTsc = o.bootTsc ?? 0x1fffff000n; // lo close to 2^32: the first reads carry into hi
    this.emptyPollLimit = o.emptyPollLimit ?? 100000;
    this.cpu = o.cpu ?? machineCpu('qemu-q35-intel-iommu-smp4');
    this.physPages = new Map(); // page number (BigInt) -> Uint8Array(4096): written or zeroed pages only (#untouchedByte for the rest)
    this.allocations = []; // [firstPage, pages] from hv_efi_alloc_pages, as numbers
    this.allocCalls = [];
    this.zeroCalls = []; // [address, length] of hv_phys_zero
    this.freeCalls = [];
    this.rsdp = o.acpi?.rsdp ?? null;
    // Firmware memory the kernel may read without owning it: the placed tables (and other
    // firmware data, e.g. its GDT), and the ranges a test names.
    this.firmwareReadable = [];
    for (const r of o.acpi?.regions ?? []) {
      this.#physStore(BigInt(r.addr), r.bytes);
      this.firmwareReadable.push([BigInt(r.addr), BigInt(r.addr) + BigInt(r.bytes.length)]);
    }
    for (const [addr, len] of o.firmwareReads ?? []) this.firmwareReadable.push([BigInt(addr), BigInt(addr) + BigInt(len)]);
    this.devices = [...(o.devices ?? [])];
    const pm = o.pmTimerPort ?? 0x608;
    if (pm) this.devices.push({ io: { base: pm, size: 4, in32: () => Math.floor(this.seconds * 3579545) & 0xffffff, out32: () => {} } });
    const hpet = o.hpetBase ?? 0xfed00000;
    if (hpet) this.devices.push({ mmio: hpetModel(hpet, this) });
    this.watchdogCalls = [];
    this.efiTime = o.efiTime === undefined ? [2026, 11, 25, 12, 34, 56] : o.efiTime;
    this.msrWrites = [];
    this.svmGuest = o.svmGuest ?? null;
    this.pciDisconnect = o.pciDisconnect ?? null;
    this.pciDisconnects = []; // [segment, bus, device, function] of each hv_efi_pci_disconnect
    this.snp = [...(o.snp ?? [])];
    this.snpLocated = 0;
    this.svmRuns = 0;
    this.vmxGuest = o.vmxGuest ?? null;
    // VMX (SDM vol. 3C): control registers and descriptor tables as OVMF leaves them (TR = 0),
    // VMCSs by physical address (field -> BigInt), the current one, and what the kernel did.
    this.vmx = {
      cr0: 0x80010033n, cr3: 0x7c01000n, cr4: 0x668n, gdt: { base: 0x7bee698n, limit: 0x47 }, idt: { base: 0x7b6c018n, limit: 0xfff },
      selectors: [0x38, 0x30, 0x30, 0x30, 0x30, 0x30, 0], on: null, vmxonRegion: null, cr4AtVmxon: 0n, current: null, vmcs: new Map(), loadedGdt: null, runs: 0,
      invepts: [], invvpids: [], // [type, EPTP] / [type, VPID] of each INVEPT / INVVPID
      launchedVmcs: new Set(), // VMCSs whose launch state is "launched" (SDM 25.1)
      entryFailures: [], // what the VM-entry checks refused (tests/sim/vmx-checks.mjs)
      instructionErrors: [], // VM-instruction error of each VMfailValid (SDM 31.4)
    };
    this.ioReads = 0;

    this.memory = null;
    this.failure = null;
    this.emptyPolls = 0;
    this.hostCalls = 0;
    this.callsByName = new Map(); // host function name -> calls
    this.stallMicros = 0;
    this.hostCallTicks = BigInt(o.hostCallTicks ?? 40);
    this.uartStall = o.uartStall ?? null;
    this.uartStallEnd = -1; // seconds at which the stalled terminal reads again
    this.uart = { ier: 0, lcr: 0, mcr: 0, scr: 0, dll: 0, dlm: 0, fcr: 0 };
    this.serialOut = [];
    this.serialTerm = new Terminal('vt100');
    this.serialDecoder = new TextDecoder('utf-8');
    this.conOutRaw = '';
    this.conTerm = new Terminal('uefi');
    this.conClears = 0;
    this.debugExit = [];
    this.otherPortWrites = [];
    this.exitCalls = [];
    this.logLines = [];
    this.fatals = [];
    this.fileReads = [];
    this.detachCalls = 0;
    this.serialBytesAtDetach = -1;
    this.tscReads = [];
    this.debugOutput = '';
  }

  #enqueue(item) {
    if (typeof item === 'string') for (const b of Buffer.from(item, 'utf8')) this.queue.push({ byte: b });
    else if (item instanceof Uint8Array) for (const b of item) this.queue.push({ byte: b });
    else if (Array.isArray(item)) for (const x of item) this.#enqueue(x);
    else if (typeof item?.key === 'number') this.queue.push({ key: item.key });
    else if (typeof item?.idle === 'number') this.queue.push({ idle: item.idle });
    else throw new Error(`sim: unknown input item ${JSON.stringify(item)}`);
  }

  /** Fails the run; every later input poll fails again (in case the kernel catches it). */
  #fail(message) {
    this.failure ??= new SimFailure(message);
    throw this.failure;
  }

  #head() {
    while (this.qi < this.queue.length && this.queue[this.qi].idle === 0) this.qi++;
    return this.queue[this.qi];
  }

  /** Whether the uartStall terminal is not reading now (it starts once afterBytes went out). */
  #uartStalled() {
    if (!this.uartStall) return false;
    if (this.uartStallEnd < 0) {
      if (this.serialOut.length < this.uartStall.afterBytes) return false;
      this.uartStallEnd = this.seconds + this.uartStall.seconds;
    }
    return this.seconds < this.uartStallEnd;
  }

  #emptyPoll() {
    if (this.failure) throw this.failure;
    if (this.qi < this.queue.length) return;
    if (++this.emptyPolls > this.emptyPollLimit) {
      this.#fail(`sim: input used up and ${this.emptyPollLimit} empty polls since (the kernel did not exit; end the test input with "exit N")`);
    }
  }

  // ---- memory ----

  /** Binds the instance's exported memory. */
  attach(instance) {
    this.memory = instance.exports.$;
    if (!(this.memory instanceof WebAssembly.Memory)) throw new Error('sim: the module exports no memory "$"');
  }

  #bytes(addr, len, who) {
    const size = this.memory.buffer.byteLength;
    if (!Number.isInteger(addr) || !Number.isInteger(len) || addr < 0 || len < 0 || addr + len > size) {
      this.#fail(`sim: ${who}: out-of-bounds memory [${addr}, +${len}) of ${size}`);
    }
    return new Uint8Array(this.memory.buffer, addr, len);
  }

  #store64(addr, value, who) {
    const b = this.#bytes(addr, 8, who);
    const dv = new DataView(b.buffer, b.byteOffset, 8);
    dv.setUint32(0, Number(value & 0xffffffffn), true);
    dv.setUint32(4, Number((value >> 32n) & 0xffffffffn), true);
  }

  #readUcs2z(addr, who, max) {
    let s = '';
    for (let i = 0; ; i++) {
      if (i >= max) this.#fail(`sim: ${who}: string without NUL within ${max} characters`);
      const b = this.#bytes(addr + 2 * i, 2, who);
      const c = b[0] | (b[1] << 8);
      if (c === 0) return s;
      s += String.fromCharCode(c);
    }
  }

  #utf8(addr, len, who) {
    const bytes = this.#bytes(addr, len, who);
    try {
      return new TextDecoder('utf-8', { fatal: true }).decode(bytes);
    } catch {
      this.#fail(`sim: ${who}: invalid UTF-8 ${Buffer.from(bytes).toString('hex')}`);
    }
  }

  // ---- devices ----

  #tsc() {
    // 3 GHz: stalls advance time; every host call costs a little
    return this.bootTsc + 2500000n + BigInt(this.stallMicros) * 3000n + BigInt(this.hostCalls) * this.hostCallTicks;
  }

  /** Seconds since efi_main, as the TSC (3 GHz) counts them. */
  get seconds() {
    return Number(this.#tsc() - this.bootTsc) / 3e9;
  }

  #device(kind, addr) {
    for (const d of this.devices) {
      const r = d[kind];
      if (r && addr >= r.base && addr < r.base + r.size) return r;
    }
    return null;
  }

  #in32(port) {
    const d = this.#device('io', port);
    return d ? d.in32(port) >>> 0 : 0xffffffff;
  }

  #out32(port, value) {
    if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) this.#fail(`sim: out32(0x${port.toString(16)}, ${value}): not a u32`);
    const d = this.#device('io', port);
    if (d) d.out32(port, value);
    else this.otherPortWrites.push([port, value]);
  }

  // ---- CPU ----

  #cpuid(leaf, subleaf, outAddr) {
    const key = (n) => `0x${n.toString(16)}`;
    const r = this.cpu.cpuid[`${key(leaf)}:${key(subleaf)}`] ?? this.cpu.cpuid[key(leaf)] ?? [0, 0, 0, 0];
    const b = this.#bytes(outAddr, 16, 'hv_cpuid');
    const dv = new DataView(b.buffer, b.byteOffset, 16);
    r.forEach((v, i) => dv.setUint32(i * 4, v >>> 0, true));
  }

  #rdmsr(msr, outAddr) {
    const v = this.cpu.msrs[`0x${msr.toString(16)}`];
    if (v === undefined) this.#fail(`sim: #GP: RDMSR of MSR 0x${msr.toString(16)}, which this CPU does not have`);
    this.#store64(outAddr, BigInt(v), 'hv_rdmsr');
  }

  #wrmsr(msr, lo, hi) {
    const key = `0x${msr.toString(16)}`;
    const hsave = key === '0xc0010117' && this.cpu.msrs['0xc0010114'] !== undefined; // VM_HSAVE_PA exists with SVM
    if (this.cpu.msrs[key] === undefined && !hsave) this.#fail(`sim: #GP: WRMSR of MSR ${key}, which this CPU does not have`);
    const value = (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
    this.msrWrites.push([msr, value]);
    this.cpu.msrs[key] = value;
  }

  // ---- a vCPU's area (kernel/vcpu/vcpu-area.ts) and the transfer lists the world switches fill it by ----

  /** The vCPU area at areaAddr (1024 bytes, 16-aligned) as the shim checks it. */
  #vcpuArea(areaAddr, who) {
    if (areaAddr % 16 !== 0) this.#fail(`sim: ${who}: misaligned vCPU area (GPRs, FXSAVE at +512)`);
    const a = this.#bytes(areaAddr, 1024, who);
    // Rec.Control (kernel/vcpu/vcpu-area.ts) bit 0: the exit-cost benchmark's CPUID floor
    if ((a[328] & 1) !== 0) this.#fail(`sim: ${who}: the CPUID floor is for the benchmark on real hardware only`);
    return a;
  }

  /** The transfer list: [{ field, at, toHardware }] from count pairs of u32. */
  #transfers(addr, count, who) {
    if (count > 64) this.#fail(`sim: ${who}: transfer list too long`);
    const b = this.#bytes(addr, count * 8, who);
    const dv = new DataView(b.buffer, b.byteOffset, b.byteLength);
    const list = [];
    for (let i = 0; i < count; i++) {
      const at = dv.getUint32(i * 8 + 4, true);
      list.push({ field: dv.getUint32(i * 8, true), at: at & 0x3f8, toHardware: (at & 0x80000000) !== 0 });
      if (list.at(-1).toHardware && list.length > 1 && !list.at(-2).toHardware) this.#fail(`sim: ${who}: a to-hardware transfer after the exit ones (the shim takes them from the start of the list)`);
    }
    return list;
  }

  #svmRun(vmcbAddr, hostLo, hostHi, areaAddr, transfersAddr, transferCount) {
    if (!this.svmGuest) this.#fail('sim: hv_svm_run without a guest model (Machine option svmGuest)');
    const efer = BigInt(this.cpu.msrs['0xc0000080'] ?? 0);
    if ((efer & 0x1000n) === 0n) this.#fail('sim: VMRUN with EFER.SVME clear is #UD');
    if (!(BigInt(this.cpu.msrs['0xc0010117'] ?? 0) > 0n)) this.#fail('sim: VMRUN without VM_HSAVE_PA');
    this.#checkOwnedWrite(BigInt(this.cpu.msrs['0xc0010117']), 4096, 'VMRUN (the host-save area at VM_HSAVE_PA)');
    const a = this.#vcpuArea(areaAddr, 'hv_svm_run');
    const list = this.#transfers(transfersAddr, transferCount, 'hv_svm_run');
    // linear memory starts page-aligned on the real machine, so a page-aligned offset is a page-aligned address
    if (vmcbAddr % 4096 !== 0) this.#fail(`sim: VMRUN of a VMCB at linear 0x${vmcbAddr.toString(16)} that is not page-aligned`);
    this.#bytes(vmcbAddr, 4096, 'hv_svm_run');
    this.svmRuns++;
    const area = new BigUint64Array(a.buffer, a.byteOffset, 128);
    const vmcb = new Uint8Array(this.memory.buffer, vmcbAddr, 4096);
    const fields = new BigUint64Array(this.memory.buffer, vmcbAddr, 512);
    for (const t of list) if (t.toHardware) fields[(t.field & 0xff8) / 8] = area[t.at / 8];
    this.svmGuest({ machine: this, vmcbKey: vmcbAddr, vmcb, hostSave: (BigInt(hostHi) << 32n) | BigInt(hostLo), gprs: area.subarray(0, 16), fx: new Uint8Array(this.memory.buffer, areaAddr + 512, 512) });
    for (const t of list) if (!t.toHardware) area[t.at / 8] = fields[(t.field & 0xff8) / 8];
  }

  // ---- VMX (the instructions check what the SDM's would; a test's vmxGuest model plays the guest) ----

  #vmxStatus(ok) {
    return ok ? 0 : this.vmx.current ? 2 : 1;
  }

  /** VMfailValid (with a current VMCS) or VMfailInvalid: the VM-instruction error goes into the current VMCS (SDM 31.2, 31.4). */
  #vmxFailValid(error) {
    const c = this.vmx.current;
    if (c === null) return 1;
    this.vmx.instructionErrors.push(error);
    this.vmx.vmcs.get(c).set(Field.INSTRUCTION_ERROR, BigInt(error));
    return 2;
  }

  /** SDM 24.8, A.7, A.8: in VMX operation CR0 and CR4 hold the bits IA32_VMX_CR0/CR4_FIXED0 set and only those FIXED1 allows; null or what is wrong. */
  #crFixedBitsProblem() {
    const { cr0, cr4 } = this.vmx;
    const msr = (n) => BigInt(this.cpu.msrs[`0x${n.toString(16)}`] ?? 0);
    if ((cr0 & msr(0x486)) !== msr(0x486) || (cr0 & ~msr(0x487) & 0xffffffffn) !== 0n) return `CR0 0x${cr0.toString(16)} outside IA32_VMX_CR0_FIXED0/1`;
    if ((cr4 & msr(0x488)) !== msr(0x488) || (cr4 & ~msr(0x489) & 0xffffffffn) !== 0n) return `CR4 0x${cr4.toString(16)} outside IA32_VMX_CR4_FIXED0/1`;
    return null;
  }

  #vmxOn(lo, hi) {
    const v = this.vmx;
    const fc = BigInt(this.cpu.msrs['0x3a'] ?? 0);
    if ((v.cr4 & 0x2000n) === 0n) this.#fail('sim: VMXON with CR4.VMXE clear is #UD');
    const fixed = this.#crFixedBitsProblem();
    if (fixed) this.#fail(`sim: VMXON with ${fixed} is #GP (SDM 31.3 VMXON)`);
    if ((fc & 5n) !== 5n) this.#fail('sim: VMXON with IA32_FEATURE_CONTROL not locked with VMX outside SMX is #GP');
    const at = (BigInt(hi) << 32n) | BigInt(lo);
    if ((at & 0xfffn) !== 0n) return 1;
    const rev = new DataView(this.ownedRead(at, 4, 'VMXON').buffer).getUint32(0, true);
    if (BigInt(rev) !== (BigInt(this.cpu.msrs['0x480'] ?? 0) & 0x7fffffffn)) return 1; // SDM 31.3 VMXON: VMfailInvalid
    v.on = at;
    v.vmxonRegion = at;
    v.cr4AtVmxon = v.cr4;
    return 0;
  }

  #vmcsAt(lo, hi, who) {
    if (this.vmx.on === null) this.#fail(`sim: ${who} outside VMX operation is #UD`);
    const at = (BigInt(hi) << 32n) | BigInt(lo);
    if ((at & 0xfffn) !== 0n || at === this.vmx.on) return null;
    return at;
  }

  #vmread(field, high) {
    const c = this.vmx.current;
    if (c === null) return 0;
    const value = this.vmx.vmcs.get(c)?.get(field) ?? 0n;
    return Number(high ? value >> 32n : value & 0xffffffffn);
  }

  #vmwrite(field, lo, hi) {
    const c = this.vmx.current;
    if (c === null) return 1;
    if (isReadOnlyField(field)) return this.#vmxFailValid(VmxError.VmwriteReadOnly); // SDM 31.3 VMWRITE
    this.vmx.vmcs.get(c).set(field, (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0));
    return 0;
  }

  #vmxRun(areaAddr, transfersAddr, transferCount, launched) {
    if (!this.vmxGuest) this.#fail('sim: hv_vmx_run without a guest model (Machine option vmxGuest)');
    const a = this.#vcpuArea(areaAddr, 'hv_vmx_run');
    const list = this.#transfers(transfersAddr, transferCount, 'hv_vmx_run');
    if (this.vmx.current === null) return 1;
    const vmcs = this.vmx.vmcs.get(this.vmx.current);
    const area = new BigUint64Array(a.buffer, a.byteOffset, 128);
    for (const t of list) if (t.toHardware) vmcs.set(t.field, area[t.at / 8]);
    // SDM 26.1: VMLAUNCH needs a clear VMCS, VMRESUME a launched one
    const isLaunched = this.vmx.launchedVmcs.has(this.vmx.current);
    if (launched === 0 && isLaunched) return this.#vmxFailValid(VmxError.VmlaunchNonClear);
    if (launched !== 0 && !isLaunched) return this.#vmxFailValid(VmxError.VmresumeNonLaunched);
    this.#checkVmcsMemory(vmcs);
    // SDM 26.2-26.3: the checks on the controls, the host state and the guest state
    const failure = vmEntryFailure(vmcs, this.cpu);
    if (failure) {
      this.vmx.entryFailures.push(failure);
      if (failure.fail === 'VMfailValid') return this.#vmxFailValid(failure.error);
      // a VM-entry failure: a VM exit with bit 31 of the exit reason set (SDM 26.8)
      vmcs.set(Field.EXIT_REASON, 0x80000000n | BigInt(failure.reason));
      vmcs.set(Field.EXIT_QUALIFICATION, BigInt(failure.qualification));
      for (const t of list) if (!t.toHardware) area[t.at / 8] = vmcs.get(t.field) ?? 0n;
      return 0;
    }
    this.vmx.launchedVmcs.add(this.vmx.current);
    this.vmx.runs++;
    const status = this.vmxGuest({ machine: this, vmcs, launched: launched !== 0,
      gprs: area.subarray(0, 16), fx: this.#bytes(areaAddr + 512, 512, 'hv_vmx_run') }) ?? 0;
    if (status !== 0) return status;
    for (const t of list) if (!t.toHardware) area[t.at / 8] = vmcs.get(t.field) ?? 0n;
    return 0;
  }

  /** The memory a VMCS makes the processor use (the MSR areas, the EPT root) must be the kernel's. */
  #checkVmcsMemory(vmcs) {
    const f = (field) => BigInt(vmcs.get(field) ?? 0n);
    const areas = [[Field.EXIT_MSR_STORE_ADDRESS, Field.EXIT_MSR_STORE_COUNT, 'VM-exit MSR-store area'],
      [Field.EXIT_MSR_LOAD_ADDRESS, Field.EXIT_MSR_LOAD_COUNT, 'VM-exit MSR-load area'], [Field.ENTRY_MSR_LOAD_ADDRESS, Field.ENTRY_MSR_LOAD_COUNT, 'VM-entry MSR-load area']];
    for (const [addr, count, who] of areas) {
      if (f(count) !== 0n) this.#checkOwnedWrite(f(addr), Number(f(count)) * 16, who);
    }
    if ((f(Field.PROC_CONTROLS2) & 2n) !== 0n) this.#checkOwnedWrite(f(Field.EPT_POINTER) & ~0xfffn, 4096, 'EPT PML4 table');
  }

  #hostState(outAddr) {
    const v = this.vmx;
    const values = [v.cr0, v.cr3, v.cr4, v.gdt.base, v.gdt.limit, v.idt.base, v.idt.limit, ...v.selectors];
    values.forEach((x, i) => this.#store64(outAddr + i * 8, BigInt(x), 'hv_host_state'));
  }

  // ---- physical memory ----

  /** The descriptor type covering [addr, addr+len), or -1 when the range is not inside one. */
  #mapTypeAt(addr, len) {
    for (const [type, start, pages] of this.memoryMap) {
      const s = BigInt(start), e = s + BigInt(pages) * 4096n;
      if (addr >= s && addr + BigInt(len) <= e) return type;
    }
    return -1;
  }

  #physCheck(lo, hi, len, who) {
    if (!Number.isInteger(lo) || !Number.isInteger(hi) || lo < 0 || hi < 0 || lo > 0xffffffff || hi > 0xfffff) {
      this.#fail(`sim: ${who}: bad physical address halves (${lo}, ${hi})`);
    }
    const addr = (BigInt(hi) << 32n) | BigInt(lo);
    this.#checkInMap(addr, len, who);
    return addr;
  }

  /** A page fault unless [addr, +len) is memory in the firmware's map (not MMIO). */
  #checkInMap(addr, len, who) {
    const type = this.#mapTypeAt(addr, len);
    if (type < 0 || type === 11 || type === 12) {
      this.#fail(`sim: ${who}: page fault: [0x${addr.toString(16)}, +${len}) is not memory in the firmware's map`);
    }
  }

  // ---- ownership: which physical memory the kernel may touch ----

  /** [start, end) of the pages the kernel allocated from the firmware (BigInt). */
  #ownedRanges() {
    return this.allocations.map(([f, n]) => [BigInt(f) * 4096n, BigInt(f + n) * 4096n]);
  }

  /** [start, end) of firmware memory the kernel may read: the allow-list (placed tables and data, o.firmwareReads, the map's ACPI and runtime-services descriptors). */
  #firmwareReadRanges() {
    const out = [...this.firmwareReadable];
    for (const [type, start, pages] of this.memoryMap) {
      if (FIRMWARE_READABLE_TYPES.has(type)) out.push([BigInt(start), BigInt(start) + BigInt(pages) * 4096n]);
    }
    return out;
  }

  /** The first address of [addr, end) that no range covers, or -1n. */
  #firstUncovered(addr, end, ranges) {
    let at = addr;
    while (at < end) {
      const r = ranges.find(([s, e]) => at >= s && at < e);
      if (!r) return at;
      at = r[1];
    }
    return -1n;
  }

  /** What the firmware's map says of address `at`, for a failure message. */
  #describe(at) {
    for (const [type, start, pages] of this.memoryMap) {
      const s = BigInt(start);
      if (at >= s && at < s + BigInt(pages) * 4096n) return `${MEMORY_TYPE_NAMES[type] ?? `type ${type}`} memory`;
    }
    return 'outside the map';
  }

  /** Whether [addr, +len) lies inside pages the kernel allocated. */
  owns(addr, len) {
    const a = BigInt(addr);
    return this.#firstUncovered(a, a + BigInt(Math.max(len, 1)), this.#ownedRanges()) < 0n;
  }

  /** A write by the kernel (or a device or guest it set up) must land in pages the kernel allocated. */
  #checkOwnedWrite(addr, len, who) {
    if (len === 0) return;
    const at = this.#firstUncovered(addr, addr + BigInt(len), this.#ownedRanges());
    if (at >= 0n) this.#fail(`sim: ${who}: write to [0x${addr.toString(16)}, +${len}): 0x${at.toString(16)} is ${this.#describe(at)} the kernel never allocated`);
  }

  /** A read by the kernel (or a device or guest it set up): its own pages, or firmware memory on the read allow-list. */
  #checkOwnedRead(addr, len, who) {
    if (len === 0) return;
    const at = this.#firstUncovered(addr, addr + BigInt(len), [...this.#ownedRanges(), ...this.#firmwareReadRanges()]);
    if (at >= 0n) this.#fail(`sim: ${who}: read of [0x${addr.toString(16)}, +${len}): 0x${at.toString(16)} is ${this.#describe(at)} the kernel never allocated, and not on the firmware read allow-list`);
  }

  /** Reads [addr, +len) for the kernel, a device or a guest (its DMA, its RAM): checked like the kernel's reads. */
  ownedRead(addr, len, who) {
    const a = BigInt(addr);
    this.#checkInMap(a, len, who);
    this.#checkOwnedRead(a, len, who);
    return this.physRead(a, len);
  }

  /** Writes bytes at addr for a device or a guest (DMA, guest RAM): checked like the kernel's writes. */
  ownedWrite(addr, bytes, who) {
    const a = BigInt(addr);
    this.#checkInMap(a, bytes.length, who);
    this.#checkOwnedWrite(a, bytes.length, who);
    this.#physStore(a, bytes);
  }

  // ---- physical memory contents: written pages, untouched allocated pages (0xA5), zeroed pages ----

  /** What a page never written holds: the allocation pattern inside the kernel's pages (the firmware does not clear them), else 0. */
  #untouchedByte(page) {
    const p = Number(page);
    return this.allocations.some(([f, n]) => p >= f && p < f + n) ? ALLOCATION_PATTERN : 0;
  }

  #physPage(page, create) {
    let p = this.physPages.get(page);
    if (create && (!p || p === ZERO_PAGE)) {
      p = new Uint8Array(4096);
      if (!this.physPages.has(page)) p.fill(this.#untouchedByte(page));
      this.physPages.set(page, p);
    }
    return p;
  }

  #physStore(addr, bytes) {
    for (let i = 0; i < bytes.length;) {
      const a = addr + BigInt(i);
      const off = Number(a & 0xfffn);
      const n = Math.min(4096 - off, bytes.length - i);
      this.#physPage(a >> 12n, true).set(bytes.subarray(i, i + n), off);
      i += n;
    }
  }

  /** Zeroes [addr, +len): whole pages become the shared zero page, so a large VM's RAM costs no memory. */
  #physZero(addr, len) {
    const end = addr + BigInt(len);
    for (let p = addr >> 12n; p < (end + 4095n) >> 12n; p++) {
      const from = p === addr >> 12n ? Number(addr & 0xfffn) : 0;
      const to = Number(end - p * 4096n) >= 4096 ? 4096 : Number(end - p * 4096n);
      if (from === 0 && to === 4096) this.physPages.set(p, ZERO_PAGE);
      else this.#physPage(p, true).fill(0, from, to);
    }
  }

  /** Bytes of simulated physical memory (for tests; unchecked). */
  physRead(addr, len) {
    const out = new Uint8Array(len);
    const base = BigInt(addr);
    for (let i = 0; i < len;) {
      const a = base + BigInt(i);
      const off = Number(a & 0xfffn);
      const n = Math.min(4096 - off, len - i);
      const p = this.#physPage(a >> 12n, false);
      if (p) out.set(p.subarray(off, off + n), i);
      else out.fill(this.#untouchedByte(a >> 12n), i, i + n);
      i += n;
    }
    return out;
  }

  /** Writes simulated physical memory (for tests; unchecked). */
  physWrite(addr, bytes) {
    this.#physStore(BigInt(addr), bytes);
  }

  #mmio(lo, hi, who) {
    const addr = hi * 4294967296 + lo;
    if (!Number.isInteger(addr) || addr % 4 !== 0) this.#fail(`sim: ${who}: unaligned MMIO address ${addr}`);
    return addr;
  }

  #mmioRead32(lo, hi) {
    const addr = this.#mmio(lo, hi, 'hv_mmio_read32');
    const d = this.#device('mmio', addr);
    return d ? d.read32(addr - d.base) >>> 0 : 0xffffffff;
  }

  #mmioWrite32(lo, hi, value) {
    const addr = this.#mmio(lo, hi, 'hv_mmio_write32');
    if (!Number.isInteger(value) || value < 0 || value > 0xffffffff) this.#fail(`sim: hv_mmio_write32: ${value} is not a u32`);
    const d = this.#device('mmio', addr);
    if (d) d.write32(addr - d.base, value);
  }

  /** An 8- or 16-bit MMIO access: naturally aligned, to a device that models that width (else the run fails). */
  #mmioNarrow(lo, hi, bits, who) {
    const addr = hi * 4294967296 + lo;
    if (!Number.isInteger(addr) || addr % (bits / 8) !== 0) this.#fail(`sim: ${who}: unaligned MMIO address ${addr}`);
    const d = this.#device('mmio', addr);
    if (d && !d[`read${bits}`]) this.#fail(`sim: ${who}: the device at 0x${d.base.toString(16)} has no ${bits}-bit access`);
    return [addr, d];
  }

  #mmioRead(lo, hi, bits) {
    const [addr, d] = this.#mmioNarrow(lo, hi, bits, `hv_mmio_read${bits}`);
    return d ? d[`read${bits}`](addr - d.base) & (bits === 8 ? 0xff : 0xffff) : (bits === 8 ? 0xff : 0xffff);
  }

  #mmioWrite(lo, hi, bits, value) {
    const [addr, d] = this.#mmioNarrow(lo, hi, bits, `hv_mmio_write${bits}`);
    if (!Number.isInteger(value) || value < 0 || value >= 2 ** bits) this.#fail(`sim: hv_mmio_write${bits}: ${value} is not a u${bits}`);
    if (d) d[`write${bits}`](addr - d.base, value);
  }

  // ---- firmware page allocation (AllocatePages(AllocateAddress), FreePages) ----

  #allocPages(lo, hi, pages) {
    this.allocCalls.push([hi * 4294967296 + lo, pages]);
    const first = (hi * 4294967296 + lo) / 4096;
    if (!Number.isInteger(first) || first === 0 || !Number.isInteger(pages) || pages <= 0) return 2; // EFI_INVALID_PARAMETER
    const addr = BigInt(first) * 4096n;
    if (this.#mapTypeAt(addr, pages * 4096) !== 7) return 14; // EFI_NOT_FOUND: not free memory
    for (const [f, n] of this.allocations) if (first < f + n && f < first + pages) return 14;
    this.allocations.push([first, pages]);
    this.allocations.sort((a, b) => a[0] - b[0]);
    // Firmware does not clear pages: every page of the allocation reads as the pattern until
    // written (#untouchedByte), whatever its size, so a test sees whether the kernel zeroes them.
    for (let p = 0; p < pages; p++) this.physPages.delete(BigInt(first + p));
    return 0;
  }

  #freePages(lo, hi, pages) {
    this.freeCalls.push([hi * 4294967296 + lo, pages]);
    const first = (hi * 4294967296 + lo) / 4096;
    const i = this.allocations.findIndex(([f, n]) => first >= f && first + pages <= f + n);
    if (i < 0 || !Number.isInteger(first) || pages <= 0) return 14; // EFI_NOT_FOUND
    const [f, n] = this.allocations[i];
    const rest = [];
    if (first > f) rest.push([f, first - f]);
    if (first + pages < f + n) rest.push([first + pages, f + n - first - pages]);
    this.allocations.splice(i, 1, ...rest);
    return 0;
  }

  /** The memory map as the firmware reports it now: allocated pages are EfiLoaderData. */
  get currentMemoryMap() {
    if (this.allocations.length === 0) return this.memoryMap;
    const out = [];
    for (const d of this.memoryMap) {
      const [type, start, pages, attribute = 0n] = d;
      if (type !== 7) {
        out.push(d);
        continue;
      }
      let cursor = Number(BigInt(start) / 4096n);
      const end = cursor + Number(pages);
      for (const [f, n] of this.allocations) {
        if (f + n <= cursor || f >= end) continue;
        if (f > cursor) out.push([7, BigInt(cursor) * 4096n, BigInt(f - cursor), attribute]);
        const s = Math.max(f, cursor), e = Math.min(f + n, end);
        out.push([2, BigInt(s) * 4096n, BigInt(e - s), attribute]);
        cursor = e;
      }
      if (cursor < end) out.push([7, BigInt(cursor) * 4096n, BigInt(end - cursor), attribute]);
    }
    return out;
  }

  #in8(port) {
    if (port >= COM1 && port <= COM1 + 7) {
      if (!this.uartPresent) return 0xff;
      const u = this.uart;
      const dlab = (u.lcr & 0x80) !== 0;
      switch (port - COM1) {
        case 0: {
          if (dlab) return u.dll;
          const h = this.#head();
          if (h && h.byte !== undefined) {
            this.qi++;
            return h.byte;
          }
          return 0;
        }
        case 1: return dlab ? u.dlm : u.ier;
        case 2: return (u.fcr & 1) ? 0xc1 : 0x01; // IIR: no interrupt pending, FIFOs enabled
        case 3: return u.lcr;
        case 4: return u.mcr;
        case 5: { // LSR: THRE and TEMT always (output is instantaneous) but in a uartStall, DR while a byte waits
          if (this.#uartStalled()) return 0x00;
          const h = this.#head();
          if (h && h.byte !== undefined) return 0x61;
          this.#emptyPoll();
          return 0x60;
        }
        case 6: return 0xb0; // MSR: DCD, DSR, CTS
        case 7: return u.scr;
      }
    }
    return 0xff;
  }

  #out8(port, value) {
    if (!Number.isInteger(value) || value < 0 || value > 255) this.#fail(`sim: out8(0x${port.toString(16)}, ${value}): not a byte`);
    if (port === DEBUG_EXIT_PORT) {
      this.debugExit.push(value);
      return;
    }
    if (port >= COM1 && port <= COM1 + 7) {
      if (!this.uartPresent) return;
      const u = this.uart;
      const dlab = (u.lcr & 0x80) !== 0;
      switch (port - COM1) {
        case 0:
          if (dlab) u.dll = value;
          else this.#serialByte(value);
          return;
        case 1:
          if (dlab) u.dlm = value;
          else u.ier = value;
          return;
        case 2: u.fcr = value; return;
        case 3: u.lcr = value; return;
        case 4: u.mcr = value; return;
        case 7: u.scr = value; return;
      }
    }
    this.otherPortWrites.push([port, value]);
  }

  #serialByte(b) {
    this.serialOut.push(b);
    this.serialTerm.write(this.serialDecoder.decode(Uint8Array.of(b), { stream: true }));
  }

  #conIn() {
    const h = this.#head();
    if (h && h.key !== undefined) {
      this.qi++;
      return h.key;
    }
    if (h && h.idle !== undefined) {
      h.idle--;
      return -1;
    }
    this.#emptyPoll();
    return -1;
  }

  #memoryMap(outAddr, cap) {
    const override = this.memoryMapResult?.(cap);
    if (override !== undefined) return override;
    const map = this.currentMemoryMap;
    const needed = map.length * 24;
    if (needed > cap) return -needed;
    const b = this.#bytes(outAddr, needed, 'hv_efi_memory_map');
    const dv = new DataView(b.buffer, b.byteOffset, needed);
    map.forEach(([type, start, pages, attribute = 0n], i) => {
      const s = BigInt(start), p = BigInt(pages), a = BigInt(attribute);
      dv.setUint32(i * 24, type >>> 0, true);
      dv.setUint32(i * 24 + 4, Number(p & 0xffffffffn), true);
      dv.setUint32(i * 24 + 8, Number(p >> 32n), true);
      dv.setUint32(i * 24 + 12, Number(s & 0xffffffffn), true);
      dv.setUint32(i * 24 + 16, Number(s >> 32n), true);
      dv.setUint32(i * 24 + 20, Number(a >> 32n), true);
    });
    return map.length;
  }

  #fileRead(pathAddr, outAddr, cap) {
    const path = normPath(this.#readUcs2z(pathAddr, 'hv_efi_file_read', 260));
    this.fileReads.push(path);
    if (this.fileErrors.has(path)) return this.fileErrors.get(path);
    const data = this.files.get(path);
    if (!data) return -1;
    if (data.length > cap) return -2;
    this.#bytes(outAddr, data.length, 'hv_efi_file_read').set(data);
    return data.length;
  }

  /** SNP handle `i` of the last hv_efi_snp_locate, or null. */
  #snpAt(i) {
    if (!Number.isInteger(i) || i < 0 || i >= this.snpLocated) return null;
    return this.snp[i];
  }

  // ---- the import object ----

  /** The functions of the host ABI and porffor's imports, by name. */
  hostFunctions() {
    const m = this;
    const f = {
      hv_io_in8: (port) => m.#in8(port),
      hv_io_out8: (port, value) => m.#out8(port, value),
      hv_io_in32: (port) => m.#in32(port),
      hv_io_out32: (port, value) => m.#out32(port, value),
      hv_cpuid: (leaf, subleaf, outAddr) => m.#cpuid(leaf, subleaf, outAddr),
      hv_rdmsr: (msr, outAddr) => m.#rdmsr(msr, outAddr),
      hv_wrmsr: (msr, lo, hi) => m.#wrmsr(msr, lo, hi),
      hv_svm_run: (vmcbAddr, hostLo, hostHi, areaAddr, transfersAddr, transferCount) => m.#svmRun(vmcbAddr, hostLo, hostHi, areaAddr, transfersAddr, transferCount),
      hv_vmx_on: (lo, hi) => m.#vmxOn(lo, hi),
      hv_vmx_off: () => {
        m.vmx.on = null;
        m.vmx.current = null;
        return 0;
      },
      hv_vmclear: (lo, hi) => {
        const at = m.#vmcsAt(lo, hi, 'VMCLEAR');
        if (at === null) return m.#vmxStatus(false);
        m.#checkOwnedWrite(at, 4096, 'VMCLEAR'); // the processor writes the VMCS data back to its region
        if (m.vmx.current === at) m.vmx.current = null;
        if (!m.vmx.vmcs.has(at)) m.vmx.vmcs.set(at, new Map()); // VMCLEAR keeps the data, clears the launch state
        m.vmx.launchedVmcs.delete(at);
        return 0;
      },
      hv_vmptrld: (lo, hi) => {
        const at = m.#vmcsAt(lo, hi, 'VMPTRLD');
        if (at === null) return m.#vmxStatus(false);
        const rev = new DataView(m.ownedRead(at, 4, 'VMPTRLD').buffer).getUint32(0, true);
        if (BigInt(rev) !== (BigInt(m.cpu.msrs['0x480'] ?? 0) & 0x7fffffffn)) return m.#vmxStatus(false);
        if (!m.vmx.vmcs.has(at)) m.vmx.vmcs.set(at, new Map());
        m.vmx.current = at;
        return 0;
      },
      hv_vmread: (field) => m.#vmread(field, false),
      hv_vmread_hi: (field) => m.#vmread(field, true),
      hv_vmwrite: (field, lo, hi) => m.#vmwrite(field, lo, hi),
      hv_invept: (kind, lo, hi) => {
        m.vmx.invepts.push([kind, (BigInt(hi) << 32n) | BigInt(lo)]);
        return 0;
      },
      hv_invvpid: (kind, vpid) => {
        if (m.vmx.on === null) m.#fail('sim: INVVPID outside VMX operation is #UD');
        m.vmx.invvpids.push([kind, vpid]);
        // SDM 31.3 INVVPID: VMfailValid for a type the processor does not offer (IA32_VMX_EPT_VPID_CAP bits 40-43) or VPID 0 in a single-context one
        const cap = BigInt(m.cpu.msrs['0x48c'] ?? 0);
        if (kind < 0 || kind > 3 || (cap & (1n << BigInt(40 + kind))) === 0n || (kind === 1 && vpid === 0)) return m.#vmxFailValid(28);
        return 0;
      },
      hv_vmx_run: (areaAddr, transfersAddr, transferCount, launched) => m.#vmxRun(areaAddr, transfersAddr, transferCount, launched),
      hv_host_state: (outAddr) => m.#hostState(outAddr),
      hv_write_cr: (which, lo, hi) => {
        const value = (BigInt(hi >>> 0) << 32n) | BigInt(lo >>> 0);
        if (which === 0) m.vmx.cr0 = value;
        else if (which === 4) m.vmx.cr4 = value;
        else m.#fail(`sim: hv_write_cr of CR${which}`);
      },
      hv_load_gdt_tr: (lo, hi, limit, tr) => {
        const base = (BigInt(hi) << 32n) | BigInt(lo);
        m.vmx.gdt = { base, limit };
        m.vmx.loadedGdt = { base, limit, tr, bytes: m.physRead(base, limit + 1) };
        if (tr !== 0) m.vmx.selectors[6] = tr;
      },
      hv_phys_read: (lo, hi, outAddr, len) => {
        const addr = m.#physCheck(lo, hi, len, 'hv_phys_read');
        m.#checkOwnedRead(addr, len, 'hv_phys_read');
        m.#bytes(outAddr, len, 'hv_phys_read').set(m.physRead(addr, len));
      },
      hv_phys_write: (lo, hi, srcAddr, len) => {
        const addr = m.#physCheck(lo, hi, len, 'hv_phys_write');
        m.#checkOwnedWrite(addr, len, 'hv_phys_write');
        m.#physStore(addr, m.#bytes(srcAddr, len, 'hv_phys_write').slice());
      },
      hv_phys_zero: (lo, hi, len) => {
        const addr = m.#physCheck(lo, hi, len, 'hv_phys_zero');
        m.#checkOwnedWrite(addr, len, 'hv_phys_zero');
        m.zeroCalls.push([Number(addr), len]);
        m.#physZero(addr, len);
      },
      hv_mmio_read32: (lo, hi) => m.#mmioRead32(lo, hi),
      hv_mmio_write32: (lo, hi, value) => m.#mmioWrite32(lo, hi, value),
      hv_mmio_read8: (lo, hi) => m.#mmioRead(lo, hi, 8),
      hv_mmio_read16: (lo, hi) => m.#mmioRead(lo, hi, 16),
      hv_mmio_write8: (lo, hi, value) => m.#mmioWrite(lo, hi, 8, value),
      hv_mmio_write16: (lo, hi, value) => m.#mmioWrite(lo, hi, 16, value),
      hv_efi_pci_disconnect: (segment, bus, device, fn) => {
        m.pciDisconnects.push([segment, bus, device, fn]);
        return m.pciDisconnect ? m.pciDisconnect(segment, bus, device, fn) : 0;
      },
      hv_efi_alloc_pages: (lo, hi, pages) => m.#allocPages(lo, hi, pages),
      hv_efi_free_pages: (lo, hi, pages) => m.#freePages(lo, hi, pages),
      hv_efi_acpi_rsdp: (outAddr) => {
        m.#store64(outAddr, BigInt(m.rsdp?.addr ?? 0), 'hv_efi_acpi_rsdp');
        return m.rsdp ? m.rsdp.revision : 0;
      },
      hv_efi_time: (outAddr) => {
        if (m.efiTime === null) return -1;
        const dv = new DataView(m.#bytes(outAddr, 24, 'hv_efi_time').buffer, outAddr, 24);
        m.efiTime.forEach((v, i) => dv.setUint32(i * 4, v, true));
        return 0;
      },
      hv_efi_set_watchdog: (seconds) => {
        m.watchdogCalls.push(seconds);
        return 0;
      },
      hv_tsc: (outAddr) => {
        const t = m.#tsc();
        m.tscReads.push(t);
        m.#store64(outAddr, t, 'hv_tsc');
      },
      hv_boot_tsc: (outAddr) => m.#store64(outAddr, m.bootTsc, 'hv_boot_tsc'),
      hv_efi_stall: (us) => {
        if (m.failure) throw m.failure;
        m.stallMicros += us;
      },
      hv_efi_con_out: (addr) => {
        const s = m.#readUcs2z(addr, 'hv_efi_con_out', 1 << 20);
        m.conOutRaw += s;
        m.conTerm.write(s);
      },
      hv_efi_con_clear: () => {
        m.conClears++;
        m.conTerm.clear();
      },
      hv_efi_con_in: () => m.#conIn(),
      hv_efi_serial_detach: () => {
        m.detachCalls++;
        if (m.serialBytesAtDetach < 0) m.serialBytesAtDetach = m.serialOut.length;
        return 1;
      },
      hv_efi_memory_map: (outAddr, cap) => m.#memoryMap(outAddr, cap),
      hv_efi_file_read: (pathAddr, outAddr, cap) => m.#fileRead(pathAddr, outAddr, cap),
      hv_log_line: (addr, len) => m.logLines.push(m.#utf8(addr, len, 'hv_log_line')),
      hv_fatal: (addr, len) => m.fatals.push(m.#utf8(addr, len, 'hv_fatal')),
      hv_exit: (code) => m.exitCalls.push(code),
      hv_crc32_update: (crc, addr, len) => crc32Update(crc, m.#bytes(addr, len, 'hv_crc32_update')),
      hv_fnv1a_update: (h, addr, len) => fnv1aUpdate(h, m.#bytes(addr, len, 'hv_fnv1a_update')),
      hv_phys_word_hash: (lo, hi, len, stateAddr) => {
        const state = new DataView(m.#bytes(stateAddr, 8, 'hv_phys_word_hash').slice().buffer);
        const addr = m.#physCheck(lo, hi, len, 'hv_phys_word_hash');
        m.#checkOwnedRead(addr, len, 'hv_phys_word_hash');
        const [h, l] = wordHash(state.getUint32(0, true), state.getUint32(4, true), m.physRead(addr, len));
        const out = m.#bytes(stateAddr, 8, 'hv_phys_word_hash');
        new DataView(out.buffer, out.byteOffset, 8).setUint32(0, h, true);
        new DataView(out.buffer, out.byteOffset, 8).setUint32(4, l, true);
      },
      hv_efi_snp_locate: () => {
        m.snpLocated = Math.min(m.snp.length, 8);
        return m.snpLocated;
      },
      hv_efi_snp_release: (i) => (m.#snpAt(i) ? m.#snpAt(i).release() : -1),
      hv_efi_snp_mode: (i, outAddr) => {
        const out = m.#bytes(outAddr, 40, 'hv_efi_snp_mode');
        const s = m.#snpAt(i);
        if (!s) return -1;
        out.set(s.modeRecord());
        return 0;
      },
      hv_efi_snp_control: (i, op, enable, disable) => (m.#snpAt(i) ? m.#snpAt(i).control(op, enable, disable) : -1),
      hv_efi_snp_status: (i, outAddr) => {
        const out = m.#bytes(outAddr, 12, 'hv_efi_snp_status');
        const s = m.#snpAt(i);
        if (!s) return -1;
        const [status, irq, tx] = s.getStatus((a, n) => m.ownedRead(a, n, 'hv_efi_snp_status'));
        const dv = new DataView(out.buffer, out.byteOffset, 12);
        dv.setUint32(0, irq, true);
        dv.setUint32(4, Number(tx & 0xffffffffn), true);
        dv.setUint32(8, Number(tx >> 32n), true);
        return status;
      },
      hv_efi_snp_transmit: (i, lo, hi, len) => {
        const s = m.#snpAt(i);
        if (!s) return -1;
        const addr = m.#physCheck(lo, hi, len, 'hv_efi_snp_transmit');
        m.#checkOwnedRead(addr, len, 'hv_efi_snp_transmit');
        return s.transmit(addr, len, (a, n) => m.ownedRead(a, n, 'hv_efi_snp_transmit'));
      },
      hv_efi_snp_receive: (i, outAddr, cap) => {
        const out = m.#bytes(outAddr, cap, 'hv_efi_snp_receive');
        const s = m.#snpAt(i);
        if (!s) return -1000;
        const r = s.receive(cap);
        if (typeof r === 'number') return r === 6 ? 0 : -r;
        out.set(r);
        return r.length;
      },
      print: (x) => { m.debugOutput += String(x); },
      printChar: (c) => { m.debugOutput += String.fromCharCode(c); },
      time: () => m.stallMicros / 1000,
      timeOrigin: () => 0,
    };
    const arity = new Map([...hostAbi, ...porfforBuiltinImports].map(x => [x.name, x.params.length]));
    const counted = {};
    for (const [name, fn] of Object.entries(f)) {
      counted[name] = (...args) => {
        m.hostCalls++;
        m.callsByName.set(name, (m.callsByName.get(name) ?? 0) + 1);
        if (args.length !== arity.get(name)) m.#fail(`sim: ${name} called with ${args.length} arguments, the ABI has ${arity.get(name)}`);
        for (const a of args) if (typeof a !== 'number' || Number.isNaN(a)) m.#fail(`sim: ${name}(${args.join(', ')}): argument is not a number`);
        return fn(...args);
      };
    }
    return counted;
  }

  /** The import object for WebAssembly.instantiate. */
  imports() {
    return { '': this.hostFunctions() };
  }

  // ---- results ----

  /** Everything written to COM1, decoded as UTF-8. */
  get serialText() {
    return Buffer.from(this.serialOut).toString('utf8');
  }

  get serialBytes() {
    return Buffer.from(this.serialOut);
  }

  /** The code passed to hv_exit (undefined if none). */
  get exitCode() {
    return this.exitCalls.at(-1);
  }

  /** Input items never consumed. */
  get unreadInput() {
    return this.queue.length - this.qi;
  }

  get memoryBytes() {
    return this.memory.buffer.byteLength;
  }
}

/** An HPET (IA-PC HPET 1.0a section 2.3): capabilities, configuration, a 100 MHz main counter. */
const hpetModel = (base, machine) => {
  let enabled = false;
  let offset = 0; // counter value when last disabled
  let since = 0; // machine seconds when enabled
  const counter = () => (enabled ? offset + Math.floor((machine.seconds - since) * 1e8) : offset);
  return {
    base, size: 0x400,
    read32: (off) => {
      switch (off) {
        case 0x00: return 0x8086a201; // vendor 8086, 64-bit counter, 3 timers, rev 1
        case 0x04: return 10000000; // period in femtoseconds (100 MHz)
        case 0x10: return enabled ? 1 : 0;
        case 0xf0: return counter() % 4294967296;
        case 0xf4: return Math.floor(counter() / 4294967296);
        default: return 0;
      }
    },
    write32: (off, v) => {
      if (off === 0x10) {
        const now = (v & 1) !== 0;
        if (now && !enabled) since = machine.seconds;
        if (!now && enabled) offset = counter();
        enabled = now;
      }
      if (off === 0xf0 && !enabled) offset = v;
    },
  };
};

const normPath = (p) => p.replace(/\//g, '\\').toLowerCase();

/** Names the simulated machine implements (the ABI and porffor's imports). */
export const implementedImports = () => Object.keys(new Machine().hostFunctions()).sort();
export const expectedImports = () => [...hostAbi, ...porfforBuiltinImports].map(f => f.name).sort();
