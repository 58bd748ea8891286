// The host ABI: every function the TypeScript kernel may call in the shim.
// This table is the only place a host function is listed. From it follow:
//   - porffor's import registration (toolchain/compile.mjs),
//   - the TypeScript `declare`s (build/gen/host-abi.d.ts),
//   - the Zig exports that wasm2c's imports bind to (build/gen/host_abi.zig),
//   - the interface the simulated machine must implement (tests/sim).
// Every parameter and result crosses as f64 (porffor's valtype). Addresses are
// offsets into the Wasm linear memory; 64-bit values are written there as lo/hi u32.
// Import names are the function names themselves (a porffor patch makes them stable).

/** @typedef {{ name: string, params: string[], result: boolean, doc: string }} HostFunction */

/** @type {HostFunction[]} */
export const hostAbi = [
  // Port I/O (for the UART driver and QEMU's isa-debug-exit).
  { name: 'hv_io_in8', params: ['port'], result: true, doc: 'IN AL, DX: read one byte from an I/O port.' },
  { name: 'hv_io_out8', params: ['port', 'value'], result: false, doc: 'OUT DX, AL: write one byte to an I/O port.' },

  { name: 'hv_io_in32', params: ['port'], result: true, doc: 'IN EAX, DX: read a doubleword from an I/O port (PCI 0xCFC, the ACPI PM timer).' },
  { name: 'hv_io_out32', params: ['port', 'value'], result: false, doc: 'OUT DX, EAX: write a doubleword to an I/O port (PCI 0xCF8/0xCFC).' },

  // CPU identification. The caller reads only MSRs that CPUID says exist (RDMSR of an absent MSR faults).
  { name: 'hv_cpuid', params: ['leaf', 'subleaf', 'outAddr'], result: false, doc: 'CPUID with EAX=leaf, ECX=subleaf; stores eax, ebx, ecx, edx u32 at outAddr.' },
  { name: 'hv_rdmsr', params: ['msr', 'outAddr'], result: false, doc: 'RDMSR; stores lo, hi u32 at outAddr.' },
  { name: 'hv_wrmsr', params: ['msr', 'lo', 'hi'], result: false, doc: 'WRMSR of hi:lo (EFER.SVME, VM_HSAVE_PA).' },

  // AMD SVM world switch (boot/svm.zig).
  { name: 'hv_svm_run', params: ['vmcbAddr', 'hostSaveLo', 'hostSaveHi', 'areaAddr', 'transfersAddr', 'transferCount'], result: false, doc: 'Runs vCPU area areaAddr (kernel/vcpu/vcpu-area.ts: 1024 bytes, 16-aligned; GPRs at +0, FXSAVE at +512) on the VMCB at vmcbAddr (a page-aligned 4 KiB page of linear memory, run where it is): copies the transfer list\'s to-hardware entries (transferCount pairs of u32 at transfersAddr: VMCB offset, area offset with bit 31 set; those first) from the area into the VMCB, then CLGI, VMSAVE host, the guest GPRs and FXSAVE area in, VMLOAD/VMRUN/VMSAVE, GPRs and FXSAVE area out, VMLOAD host, STGI; at #VMEXIT copies the other entries (u64 each) from the VMCB into the area (the exit record). When the area\'s control word (Rec.Control, +328) has bit 0 set (the exit-cost benchmark floor only), CPUID exits are resumed in the shim (RIP + 2, registers untouched) without returning.' },

  // Intel VMX (boot/vmx.zig), SDM vol. 3C. Instructions answer 0 VMsucceed, 1 VMfailInvalid, 2 VMfailValid (SDM 31.2).
  { name: 'hv_vmx_on', params: ['physLo', 'physHi'], result: true, doc: 'VMXON with the VMXON region at this physical address; the VMX status.' },
  { name: 'hv_vmx_off', params: [], result: true, doc: 'VMXOFF; the VMX status.' },
  { name: 'hv_vmclear', params: ['physLo', 'physHi'], result: true, doc: 'VMCLEAR of the VMCS at this physical address; the VMX status.' },
  { name: 'hv_vmptrld', params: ['physLo', 'physHi'], result: true, doc: 'VMPTRLD: makes the VMCS at this physical address current; the VMX status.' },
  { name: 'hv_vmread', params: ['field'], result: true, doc: 'VMREAD of a current-VMCS field: its low 32 bits (0 when VMREAD fails).' },
  { name: 'hv_vmread_hi', params: ['field'], result: true, doc: 'VMREAD of a current-VMCS field: bits 63:32.' },
  { name: 'hv_vmwrite', params: ['field', 'lo', 'hi'], result: true, doc: 'VMWRITE of hi:lo to a current-VMCS field; the VMX status.' },
  { name: 'hv_invept', params: ['kind', 'eptpLo', 'eptpHi'], result: true, doc: 'INVEPT of this type (1 single-context, 2 all-context) for this EPTP; the VMX status.' },
  { name: 'hv_invvpid', params: ['kind', 'vpid'], result: true, doc: 'INVVPID of this type (1 single-context, 2 all-context) for this VPID; the VMX status.' },
  { name: 'hv_vmx_run', params: ['areaAddr', 'transfersAddr', 'transferCount', 'launched'], result: true, doc: 'Enters the current VMCS\'s guest (VMLAUNCH when launched is 0, else VMRESUME) with the register file of vCPU area areaAddr (kernel/vcpu/vcpu-area.ts: 1024 bytes, 16-aligned; GPRs at +0, FXSAVE at +512): first VMWRITEs the transfer list\'s to-hardware entries (transferCount pairs of u32 at transfersAddr: field encoding, area offset with bit 31 set; those first) from the area, and HOST_RSP/HOST_RIP; at the VM exit VMREADs the other entries into the area as u64 (the exit record: one host call for every field). Returns 0 at the VM exit, or the VMX status of a failed entry. When the area\'s control word (Rec.Control, +328) has bit 0 set (the exit-cost benchmark floor only), CPUID exits are resumed in the shim (RIP + instruction length) without returning.' },
  { name: 'hv_host_state', params: ['outAddr'], result: false, doc: 'Stores 14 u64 (lo, hi u32) at outAddr: CR0, CR3, CR4, GDTR base, GDTR limit, IDTR base, IDTR limit, and the selectors CS, SS, DS, ES, FS, GS, TR (the VMCS host-state area, SDM 25.5).' },
  { name: 'hv_write_cr', params: ['which', 'lo', 'hi'], result: false, doc: 'MOV to CR0 (which = 0) or CR4 (which = 4) of hi:lo (CR4.VMXE, the VMX fixed bits, SDM 24.8).' },
  { name: 'hv_load_gdt_tr', params: ['baseLo', 'baseHi', 'limit', 'trSelector'], result: false, doc: 'LGDT of the table at this physical address and limit, then LTR trSelector when it is not 0 (the firmware runs with TR = 0, which VM exits cannot restore, SDM 26.2.3).' },

  // Physical memory (identity-mapped while UEFI boot services run). The caller checks ranges.
  { name: 'hv_phys_read', params: ['physLo', 'physHi', 'outAddr', 'length'], result: false, doc: 'Copies length bytes of physical memory into linear memory at outAddr; an aligned 2-, 4- or 8-byte copy is one load (a word a device updates meanwhile, e.g. a virtqueue index, does not tear).' },
  { name: 'hv_phys_write', params: ['physLo', 'physHi', 'srcAddr', 'length'], result: false, doc: 'Copies length bytes from linear memory at srcAddr to physical memory; an aligned 2-, 4- or 8-byte copy is one store (a device never sees half of it).' },
  { name: 'hv_phys_zero', params: ['physLo', 'physHi', 'length'], result: false, doc: 'Zeroes length bytes of physical memory.' },
  { name: 'hv_mmio_read32', params: ['physLo', 'physHi'], result: true, doc: 'One aligned 32-bit MMIO read (PCIe ECAM, HPET).' },
  { name: 'hv_mmio_write32', params: ['physLo', 'physHi', 'value'], result: false, doc: 'One aligned 32-bit MMIO write.' },
  // Narrow MMIO: device registers that must be accessed with their natural width (virtio 1.2 section 4.1.3.1).
  { name: 'hv_mmio_read8', params: ['physLo', 'physHi'], result: true, doc: 'One 8-bit MMIO read (virtio device_status, ISR, config bytes).' },
  { name: 'hv_mmio_read16', params: ['physLo', 'physHi'], result: true, doc: 'One aligned 16-bit MMIO read (virtio queue_size, num_queues, ...).' },
  { name: 'hv_mmio_write8', params: ['physLo', 'physHi', 'value'], result: false, doc: 'One 8-bit MMIO write.' },
  { name: 'hv_mmio_write16', params: ['physLo', 'physHi', 'value'], result: false, doc: 'One aligned 16-bit MMIO write (virtio queue notifications).' },

  // Time.
  { name: 'hv_tsc', params: ['outAddr'], result: false, doc: 'RDTSC; stores lo, hi u32 at outAddr.' },
  { name: 'hv_boot_tsc', params: ['outAddr'], result: false, doc: 'TSC read at efi_main entry; stores lo, hi u32 at outAddr.' },
  { name: 'hv_efi_stall', params: ['microseconds'], result: false, doc: 'UEFI BootServices.Stall.' },

  // UEFI console.
  { name: 'hv_efi_con_out', params: ['utf16Addr'], result: false, doc: 'ConOut.OutputString of a NUL-terminated UCS-2 string.' },
  { name: 'hv_efi_con_clear', params: [], result: false, doc: 'ConOut.ClearScreen.' },
  { name: 'hv_efi_con_in', params: [], result: true, doc: 'ConIn.ReadKeyStroke without waiting: -1 when no key, else scanCode * 65536 + unicodeChar.' },
  { name: 'hv_efi_serial_detach', params: [], result: true, doc: 'Disconnects the firmware terminal from every SerialIo handle so the UART is ours; returns how many.' },

  // UEFI memory and files.
  { name: 'hv_efi_memory_map', params: ['outAddr', 'capacityBytes'], result: true, doc: 'GetMemoryMap as 24-byte records (type, pagesLo, pagesHi, physLo, physHi, attrHi); returns the record count, or -needed bytes.' },
  { name: 'hv_efi_file_read', params: ['pathUtf16Addr', 'outAddr', 'capacityBytes'], result: true, doc: 'Reads a file from the boot volume; returns its size, -1 not found, -2 larger than capacity, -3 other error.' },

  { name: 'hv_efi_alloc_pages', params: ['physLo', 'physHi', 'pages'], result: true, doc: 'AllocatePages(AllocateAddress, EfiLoaderData) of 4 KiB pages at this address; 0 on success, else the EFI status code (low bits).' },
  { name: 'hv_efi_free_pages', params: ['physLo', 'physHi', 'pages'], result: true, doc: 'FreePages; 0 on success, else the EFI status code (low bits).' },

  // UEFI tables and services.
  { name: 'hv_efi_acpi_rsdp', params: ['outAddr'], result: true, doc: 'Looks up the RSDP in the EFI configuration table; stores lo, hi u32 at outAddr; returns 2 (ACPI 2.0+ GUID), 1 (ACPI 1.0 GUID) or 0 (none).' },
  { name: 'hv_efi_pci_disconnect', params: ['segment', 'bus', 'device', 'func'], result: true, doc: 'DisconnectController(handle, NULL, NULL) on the EFI_PCI_IO_PROTOCOL handle whose GetLocation is this function, so the firmware\'s drivers (e.g. its network stack) let go of it; reconnected when Zerovisor returns to the firmware. 0 on success, -1 when no PCI I/O handle has this location, -2 when no driver manages it, else the EFI status code (low bits).' },
  { name: 'hv_efi_set_watchdog', params: ['seconds'], result: true, doc: 'BootServices.SetWatchdogTimer (0 disarms); 0 on success, else the EFI status code (low bits).' },
  { name: 'hv_efi_time', params: ['outAddr'], result: true, doc: 'RuntimeServices.GetTime (UEFI 2.10 section 8.3): stores year, month, day, hour, minute, second u32 at outAddr (the firmware\'s clock, its time zone ignored); 0, or -1 when GetTime fails.' },

  // Diagnostics and ending.
  { name: 'hv_log_line', params: ['utf8Addr', 'length'], result: false, doc: 'Hands one finished log line to the shim, which keeps the last few for the fault screen.' },
  { name: 'hv_fatal', params: ['utf8Addr', 'length'], result: false, doc: 'Shows the fault screen with this reason and halts (never returns on hardware).' },
  { name: 'hv_exit', params: ['code'], result: false, doc: 'Returns to the firmware with this exit code (BootServices.Exit).' },

  // Checksums: mechanical loops over many bytes (migration frames and pages), where a
  // porffor loop costs ~40 host instructions per byte. The decisions stay in TypeScript.
  { name: 'hv_crc32_update', params: ['crc', 'addr', 'length'], result: true, doc: 'CRC-32 register update (IEEE 802.3, reflected polynomial 0xEDB88320, no pre/post inversion here) over linear memory [addr, addr + length); returns the new register.' },
  { name: 'hv_fnv1a_update', params: ['hash', 'addr', 'length'], result: true, doc: 'FNV-1a 32-bit update (xor each byte, multiply by 0x01000193 mod 2^32) over linear memory [addr, addr + length); returns the new hash.' },
  { name: 'hv_phys_word_hash', params: ['physLo', 'physHi', 'length', 'stateAddr'], result: false, doc: 'The migration memory hash over length bytes (a multiple of 4) of RAM as little-endian u32 words w: hi = (hi ^ w) * 0x01000193, lo = (lo ^ w) * 0x9E3779B1 + 0x7F4A7C15 (mod 2^32), continuing from and storing back hi, lo u32 at stateAddr.' },

  // The firmware's Simple Network Protocol (UEFI 2.10 section 24.1), by index into the SNP
  // handles found by hv_efi_snp_locate (boot/snp.zig): the Snp migration sink (drivers/snp).
  { name: 'hv_efi_snp_locate', params: [], result: true, doc: 'LocateHandleBuffer(ByProtocol, SNP): remembers up to 8 handles in the firmware\'s order; returns how many.' },
  { name: 'hv_efi_snp_release', params: ['index'], result: true, doc: 'DisconnectController on SNP handle index, its child controllers first, so the firmware\'s network stack above SNP (MNP and up) stops polling it; the SNP driver stays. Reconnected when Zerovisor returns to the firmware. 0 on success, -1 no such handle, -2 no driver on it, else the EFI status code (low bits).' },
  { name: 'hv_efi_snp_mode', params: ['index', 'outAddr'], result: true, doc: 'Copies the SNP Mode as 40 bytes: State, HwAddressSize, MediaHeaderSize, MaxPacketSize, ReceiveFilterMask, ReceiveFilterSetting (u32 each), IfType, MacAddressChangeable, MultipleTxSupported, MediaPresentSupported, MediaPresent (u8 each), 3 zero bytes, the first 8 bytes of CurrentAddress. 0, or -1 no such handle.' },
  { name: 'hv_efi_snp_control', params: ['index', 'op', 'enable', 'disable'], result: true, doc: 'op 1 Start, 2 Initialize(0, 0), 3 Shutdown, 4 Stop, 5 ReceiveFilters(enable, disable, multicast list unchanged): the EFI status code (low bits), -1 no such handle.' },
  { name: 'hv_efi_snp_status', params: ['index', 'outAddr'], result: true, doc: 'GetStatus: stores InterruptStatus u32 and the recycled transmit buffer\'s physical address lo, hi u32 (0 when none) at outAddr; the EFI status code, -1 no such handle.' },
  { name: 'hv_efi_snp_transmit', params: ['index', 'physLo', 'physHi', 'length'], result: true, doc: 'Transmit(HeaderSize 0) of the whole Ethernet frame, length bytes at a physical address that must stay unchanged until GetStatus returns it; the EFI status code (6 EFI_NOT_READY: queue full), -1 no such handle.' },
  { name: 'hv_efi_snp_receive', params: ['index', 'outAddr', 'capacity'], result: true, doc: 'Receive (non-blocking) of one Ethernet frame into linear memory [outAddr, + capacity): its length, 0 when none waits (EFI_NOT_READY), else -(EFI status code); -1000 no such handle.' },
];

/** porffor's own imports, kept under stable names too. */
export const porfforBuiltinImports = [
  { name: 'print', params: ['value'], result: false, doc: 'porffor built-in: print a number.' },
  { name: 'printChar', params: ['charCode'], result: false, doc: 'porffor built-in: print one character.' },
  { name: 'time', params: [], result: true, doc: 'porffor built-in: milliseconds (performance.now).' },
  { name: 'timeOrigin', params: [], result: true, doc: 'porffor built-in: time origin in milliseconds.' },
];
