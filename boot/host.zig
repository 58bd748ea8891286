//! The host side of the host ABI (toolchain/host-abi.mjs). Every function here takes
//! and returns f64 (porffor's valtype); addresses are offsets into the Wasm linear
//! memory and are bounds-checked before use. No decisions live here.
const std = @import("std");
const uefi = std.os.uefi;
const cpu = @import("cpu.zig");
const fault = @import("fault.zig");
const efi = @import("efi.zig");
const svm = @import("svm.zig");
const vmx = @import("vmx.zig");

extern fn zv_memory_base() [*]u8;
extern fn zv_memory_size() u32;

/// Clamps a number from the kernel to a u32 (NaN and negatives give 0).
fn toU32(x: f64) u32 {
    if (!(x >= 0)) return 0;
    if (x >= 4294967295.0) return 0xFFFF_FFFF;
    return @intFromFloat(x);
}

/// The linear-memory bytes [addr, addr+len), or the fault screen if out of bounds.
fn linear(comptime who: []const u8, addr: f64, len: usize) []u8 {
    const a = toU32(addr);
    const size = zv_memory_size();
    if (!(addr >= 0) or a > size or len > size - a) fault.show("host call out of bounds", who);
    return zv_memory_base()[a .. a + len];
}

fn storeU64(comptime who: []const u8, addr: f64, value: u64) void {
    const out = linear(who, addr, 8);
    std.mem.writeIntLittle(u32, out[0..4], @as(u32, @truncate(value)));
    std.mem.writeIntLittle(u32, out[4..8], @as(u32, @truncate(value >> 32)));
}

// porffor's own imports.
pub fn print(value: f64) void {
    _ = value;
}
pub fn printChar(charCode: f64) void {
    _ = charCode;
}
pub fn time() f64 {
    return @floatFromInt(cpu.rdtsc() / 1000);
}
pub fn timeOrigin() f64 {
    return 0;
}

pub fn hv_io_in8(port: f64) f64 {
    return @floatFromInt(cpu.inb(@truncate(toU32(port))));
}

pub fn hv_io_out8(port: f64, value: f64) void {
    cpu.outb(@truncate(toU32(port)), @truncate(toU32(value)));
}

pub fn hv_io_in32(port: f64) f64 {
    return @floatFromInt(cpu.inl(@truncate(toU32(port))));
}

pub fn hv_io_out32(port: f64, value: f64) void {
    cpu.outl(@truncate(toU32(port)), toU32(value));
}

pub fn hv_cpuid(leaf: f64, subleaf: f64, outAddr: f64) void {
    const r = cpu.cpuid(toU32(leaf), toU32(subleaf));
    const out = linear("hv_cpuid", outAddr, 16);
    std.mem.writeIntLittle(u32, out[0..4], r.eax);
    std.mem.writeIntLittle(u32, out[4..8], r.ebx);
    std.mem.writeIntLittle(u32, out[8..12], r.ecx);
    std.mem.writeIntLittle(u32, out[12..16], r.edx);
}

pub fn hv_rdmsr(msr: f64, outAddr: f64) void {
    storeU64("hv_rdmsr", outAddr, cpu.rdmsr(toU32(msr)));
}

pub fn hv_wrmsr(msr: f64, lo: f64, hi: f64) void {
    cpu.wrmsr(toU32(msr), (@as(u64, toU32(hi)) << 32) | toU32(lo));
}

// ---- A vCPU's area (kernel/vcpu/vcpu-area.ts) and the transfer lists that fill it ----

const AREA_BYTES = 1024;
/// Rec.Control: flags the kernel sets for the world switch (bit 0: the CPUID floor).
const AREA_CONTROL: u32 = 328;
/// A transfer-list entry's mark: area -> hardware before entry (else hardware -> area after
/// exit). Marked entries come first in the list.
const TO_HARDWARE: u32 = 0x8000_0000;
const MAX_TRANSFERS = 64;

/// The vCPU area at areaAddr: in linear memory, 16-aligned (its FXSAVE area at +512 must be).
fn vcpuArea(comptime who: []const u8, areaAddr: f64) [*]u8 {
    const area = linear(who, areaAddr, AREA_BYTES);
    if (@intFromPtr(area.ptr) & 15 != 0) fault.show("misaligned world-switch area", who);
    return area.ptr;
}

/// The transfer list: count pairs of u32 (hardware field, area offset | TO_HARDWARE).
fn transferList(comptime who: []const u8, addr: f64, count: f64) []const u8 {
    const n = toU32(count);
    if (n > MAX_TRANSFERS) fault.show("transfer list too long", who);
    return linear(who, addr, n * 8);
}

fn entryField(list: []const u8, i: usize) u32 {
    return std.mem.readIntLittle(u32, list[i * 8 ..][0..4]);
}
fn entryAt(list: []const u8, i: usize) u32 {
    return std.mem.readIntLittle(u32, list[i * 8 + 4 ..][0..4]);
}
/// The u64 slot at an area offset, kept inside the area and 8-aligned.
fn areaSlot(area: [*]u8, at: u32) *u64 {
    return @ptrCast(@alignCast(area + (at & (AREA_BYTES - 8))));
}

/// The exit-cost benchmark's floor (kernel/vcpu/vcpu-area.ts Rec.Control bit 0): the world switch resumes CPUID exits itself.
fn cpuidFloor(area: [*]u8) bool {
    return areaSlot(area, AREA_CONTROL).* & 1 != 0;
}

/// How many entries at the start of the list go to the hardware (TO_HARDWARE entries come first).
fn toHardwareCount(list: []const u8) usize {
    var i: usize = 0;
    while (i < list.len / 8 and entryAt(list, i) & TO_HARDWARE != 0) : (i += 1) {}
    return i;
}

/// SVM, before VMRUN: entries [0, split) from the area into the VMCB (identity-mapped linear memory).
fn svmToVmcb(vmcb: usize, area: [*]u8, list: []const u8, split: usize) void {
    var i: usize = 0;
    while (i < split) : (i += 1) {
        const field: *volatile u64 = @ptrFromInt(vmcb + (entryField(list, i) & 0xff8));
        field.* = areaSlot(area, entryAt(list, i)).*;
    }
}

/// SVM, after #VMEXIT: entries [split, end) from the VMCB into the area.
fn svmFromVmcb(vmcb: usize, area: [*]u8, list: []const u8, split: usize) void {
    var i: usize = split;
    while (i < list.len / 8) : (i += 1) {
        const field: *volatile u64 = @ptrFromInt(vmcb + (entryField(list, i) & 0xff8));
        areaSlot(area, entryAt(list, i)).* = field.*;
    }
}

pub fn hv_svm_run(vmcbAddr: f64, hostSaveLo: f64, hostSaveHi: f64, areaAddr: f64, transfersAddr: f64, transferCount: f64) void {
    const area = vcpuArea("hv_svm_run", areaAddr);
    const list = transferList("hv_svm_run", transfersAddr, transferCount);
    const vmcb = @intFromPtr(linear("hv_svm_run", vmcbAddr, 4096).ptr); // linear memory is identity-mapped
    if (vmcb & 0xfff != 0) fault.show("misaligned world-switch area", "hv_svm_run");
    const split = toHardwareCount(list);
    svmToVmcb(vmcb, area, list, split);
    while (true) {
        svm.zv_svm_run(vmcb, physical(hostSaveLo, hostSaveHi), area);
        if (!cpuidFloor(area)) break;
        // Benchmark floor: resume a CPUID exit here (APM B: EXITCODE 0x70, guest RIP 0x578).
        const exit_code: *volatile u64 = @ptrFromInt(vmcb + 0x70);
        if (exit_code.* != 0x72) break;
        const rip: *volatile u64 = @ptrFromInt(vmcb + 0x578);
        rip.* += 2;
    }
    svmFromVmcb(vmcb, area, list, split);
}

// ---- Intel VMX (boot/vmx.zig): the instructions, one call each; the VMCS is the kernel's ----

pub fn hv_vmx_on(physLo: f64, physHi: f64) f64 {
    return @floatFromInt(vmx.vmxon(physical(physLo, physHi)));
}

pub fn hv_vmx_off() f64 {
    return @floatFromInt(vmx.vmxoff());
}

pub fn hv_vmclear(physLo: f64, physHi: f64) f64 {
    return @floatFromInt(vmx.vmclear(physical(physLo, physHi)));
}

pub fn hv_vmptrld(physLo: f64, physHi: f64) f64 {
    return @floatFromInt(vmx.vmptrld(physical(physLo, physHi)));
}

pub fn hv_vmread(field: f64) f64 {
    return @floatFromInt(@as(u32, @truncate(vmx.vmread(toU32(field)))));
}

pub fn hv_vmread_hi(field: f64) f64 {
    return @floatFromInt(@as(u32, @truncate(vmx.vmread(toU32(field)) >> 32)));
}

pub fn hv_vmwrite(field: f64, lo: f64, hi: f64) f64 {
    return @floatFromInt(vmx.vmwrite(toU32(field), physical(lo, hi)));
}

pub fn hv_invept(kind: f64, eptpLo: f64, eptpHi: f64) f64 {
    return @floatFromInt(vmx.invept(toU32(kind), physical(eptpLo, eptpHi)));
}

pub fn hv_invvpid(kind: f64, vpid: f64) f64 {
    return @floatFromInt(vmx.invvpid(toU32(kind), toU32(vpid)));
}

/// VMX, before entry: VMWRITEs of entries [0, split) from the area into the current VMCS.
fn vmxToVmcs(area: [*]u8, list: []const u8, split: usize) void {
    var i: usize = 0;
    while (i < split) : (i += 1) _ = vmx.vmwrite(entryField(list, i), areaSlot(area, entryAt(list, i)).*);
}

/// VMX, after the VM exit: VMREADs of entries [split, end) into the area.
fn vmxFromVmcs(area: [*]u8, list: []const u8, split: usize) void {
    var i: usize = split;
    while (i < list.len / 8) : (i += 1) areaSlot(area, entryAt(list, i)).* = vmx.vmread(entryField(list, i));
}

pub fn hv_vmx_run(areaAddr: f64, transfersAddr: f64, transferCount: f64, launched: f64) f64 {
    const area = vcpuArea("hv_vmx_run", areaAddr);
    const list = transferList("hv_vmx_run", transfersAddr, transferCount);
    const split = toHardwareCount(list);
    vmxToVmcs(area, list, split);
    var resume_it: u64 = if (launched != 0) 1 else 0;
    while (true) {
        const r = vmx.zv_vmx_run(area, resume_it);
        if (r != 0) return @floatFromInt(r);
        if (!cpuidFloor(area)) break;
        // Benchmark floor: resume a CPUID exit (basic reason 10, SDM appendix C) here.
        if (vmx.vmread(0x4402) & 0xffff != 10) break;
        _ = vmx.vmwrite(0x681e, vmx.vmread(0x681e) + vmx.vmread(0x440c)); // GUEST_RIP += instruction length
        resume_it = 1;
    }
    vmxFromVmcs(area, list, split);
    return 0;
}

pub fn hv_host_state(outAddr: f64) void {
    const out = linear("hv_host_state", outAddr, 14 * 8);
    const gdt = vmx.sgdt();
    const idt = vmx.sidt();
    const sel = vmx.selectors();
    const values = [14]u64{ vmx.readCr0(), vmx.readCr3(), vmx.readCr4(), gdt.base, gdt.limit, idt.base, idt.limit, sel[0], sel[1], sel[2], sel[3], sel[4], sel[5], sel[6] };
    for (values, 0..) |v, i| {
        std.mem.writeIntLittle(u32, out[i * 8 ..][0..4], @as(u32, @truncate(v)));
        std.mem.writeIntLittle(u32, out[i * 8 + 4 ..][0..4], @as(u32, @truncate(v >> 32)));
    }
}

pub fn hv_write_cr(which: f64, lo: f64, hi: f64) void {
    const v = physical(lo, hi);
    switch (toU32(which)) {
        0 => vmx.writeCr0(v),
        4 => vmx.writeCr4(v),
        else => fault.show("control register not writable from the kernel", "hv_write_cr"),
    }
}

pub fn hv_load_gdt_tr(baseLo: f64, baseHi: f64, limit: f64, trSelector: f64) void {
    const table = vmx.DescriptorTable{ .limit = @truncate(toU32(limit)), .base = physical(baseLo, baseHi) };
    vmx.lgdt(&table);
    const tr: u16 = @truncate(toU32(trSelector));
    if (tr != 0) vmx.ltr(tr);
}

/// A physical address from its halves (identity-mapped while boot services run).
fn physical(lo: f64, hi: f64) u64 {
    return (@as(u64, toU32(hi)) << 32) | toU32(lo);
}

/// One load or store for an aligned 2-, 4- or 8-byte copy: a device may update such a word
/// while it is read (a virtqueue's used index, virtio 1.x 2.7.8), so it must not tear.
fn singleAccess(addr: usize, n: u32) bool {
    return (n == 2 or n == 4 or n == 8) and addr % n == 0;
}

pub fn hv_phys_read(physLo: f64, physHi: f64, outAddr: f64, length: f64) void {
    const n = toU32(length);
    const out = linear("hv_phys_read", outAddr, n);
    const addr = physical(physLo, physHi);
    if (singleAccess(addr, n)) {
        switch (n) {
            2 => std.mem.writeIntLittle(u16, out[0..2], @as(*volatile u16, @ptrFromInt(addr)).*),
            4 => std.mem.writeIntLittle(u32, out[0..4], @as(*volatile u32, @ptrFromInt(addr)).*),
            else => std.mem.writeIntLittle(u64, out[0..8], @as(*volatile u64, @ptrFromInt(addr)).*),
        }
        return;
    }
    const src: [*]allowzero const u8 = @ptrFromInt(addr);
    @memcpy(out, @as([*]const u8, @ptrCast(src))[0..n]); // RAM (tables, VMCBs, guest memory), not MMIO
}

pub fn hv_phys_write(physLo: f64, physHi: f64, srcAddr: f64, length: f64) void {
    const n = toU32(length);
    const in = linear("hv_phys_write", srcAddr, n);
    const addr = physical(physLo, physHi);
    if (singleAccess(addr, n)) {
        switch (n) {
            2 => @as(*volatile u16, @ptrFromInt(addr)).* = std.mem.readIntLittle(u16, in[0..2]),
            4 => @as(*volatile u32, @ptrFromInt(addr)).* = std.mem.readIntLittle(u32, in[0..4]),
            else => @as(*volatile u64, @ptrFromInt(addr)).* = std.mem.readIntLittle(u64, in[0..8]),
        }
        return;
    }
    const dst: [*]allowzero u8 = @ptrFromInt(addr);
    @memcpy(@as([*]u8, @ptrCast(dst))[0..n], in);
}

pub fn hv_phys_zero(physLo: f64, physHi: f64, length: f64) void {
    const n = toU32(length);
    const dst: [*]allowzero u8 = @ptrFromInt(physical(physLo, physHi));
    @memset(@as([*]u8, @ptrCast(dst))[0..n], 0);
}

fn mmio32(comptime who: []const u8, lo: f64, hi: f64) *allowzero volatile u32 {
    const addr = physical(lo, hi);
    if (addr & 3 != 0) fault.show("unaligned MMIO access", who);
    return @ptrFromInt(addr);
}

pub fn hv_mmio_read32(physLo: f64, physHi: f64) f64 {
    return @floatFromInt(mmio32("hv_mmio_read32", physLo, physHi).*);
}

pub fn hv_mmio_write32(physLo: f64, physHi: f64, value: f64) void {
    mmio32("hv_mmio_write32", physLo, physHi).* = toU32(value);
}

fn mmio16(comptime who: []const u8, lo: f64, hi: f64) *allowzero volatile u16 {
    const addr = physical(lo, hi);
    if (addr & 1 != 0) fault.show("unaligned MMIO access", who);
    return @ptrFromInt(addr);
}

fn mmio8(lo: f64, hi: f64) *allowzero volatile u8 {
    return @ptrFromInt(physical(lo, hi));
}

pub fn hv_mmio_read8(physLo: f64, physHi: f64) f64 {
    return @floatFromInt(mmio8(physLo, physHi).*);
}

pub fn hv_mmio_read16(physLo: f64, physHi: f64) f64 {
    return @floatFromInt(mmio16("hv_mmio_read16", physLo, physHi).*);
}

pub fn hv_mmio_write8(physLo: f64, physHi: f64, value: f64) void {
    mmio8(physLo, physHi).* = @truncate(toU32(value));
}

pub fn hv_mmio_write16(physLo: f64, physHi: f64, value: f64) void {
    mmio16("hv_mmio_write16", physLo, physHi).* = @truncate(toU32(value));
}

pub fn hv_tsc(outAddr: f64) void {
    storeU64("hv_tsc", outAddr, cpu.rdtsc());
}

pub fn hv_boot_tsc(outAddr: f64) void {
    storeU64("hv_boot_tsc", outAddr, efi.boot_tsc);
}

pub fn hv_efi_stall(microseconds: f64) void {
    _ = uefi.system_table.boot_services.?.stall(toU32(microseconds));
}

pub fn hv_efi_con_out(utf16Addr: f64) void {
    const out = uefi.system_table.con_out orelse return;
    // Copy (aligned, NUL-terminated, bounded) before handing it to the firmware.
    var buf: [512:0]u16 = undefined;
    var addr = utf16Addr;
    while (true) {
        var n: usize = 0;
        var done = false;
        while (n < 512) : (n += 1) {
            const bytes = linear("hv_efi_con_out", addr, 2);
            const c = std.mem.readIntLittle(u16, bytes[0..2]);
            addr += 2;
            if (c == 0) {
                done = true;
                break;
            }
            buf[n] = c;
        }
        buf[n] = 0;
        _ = out.outputString(buf[0..n :0]);
        if (done) return;
    }
}

pub fn hv_efi_con_clear() void {
    const out = uefi.system_table.con_out orelse return;
    _ = out.clearScreen();
}

pub fn hv_efi_con_in() f64 {
    const in = uefi.system_table.con_in orelse return -1;
    var key: uefi.protocols.InputKey = undefined;
    if (in.readKeyStroke(&key) != .Success) return -1;
    return @floatFromInt(@as(u32, key.scan_code) * 65536 + key.unicode_char);
}

pub fn hv_efi_serial_detach() f64 {
    return @floatFromInt(efi.detachSerialTerminals());
}

pub fn hv_efi_memory_map(outAddr: f64, capacityBytes: f64) f64 {
    const map = efi.memoryMap() orelse return 0;
    const count = map.size / map.descriptor_size;
    const needed = count * 24;
    if (needed > toU32(capacityBytes)) return -@as(f64, @floatFromInt(needed));
    const out = linear("hv_efi_memory_map", outAddr, needed);
    var i: usize = 0;
    while (i < count) : (i += 1) {
        const d: *align(1) const uefi.tables.MemoryDescriptor = @ptrCast(map.bytes.ptr + i * map.descriptor_size);
        const rec = out[i * 24 ..][0..24];
        const attr: u64 = @bitCast(d.attribute);
        std.mem.writeIntLittle(u32, rec[0..4], @intFromEnum(d.type));
        std.mem.writeIntLittle(u32, rec[4..8], @as(u32, @truncate(d.number_of_pages)));
        std.mem.writeIntLittle(u32, rec[8..12], @as(u32, @truncate(d.number_of_pages >> 32)));
        std.mem.writeIntLittle(u32, rec[12..16], @as(u32, @truncate(d.physical_start)));
        std.mem.writeIntLittle(u32, rec[16..20], @as(u32, @truncate(d.physical_start >> 32)));
        std.mem.writeIntLittle(u32, rec[20..24], @as(u32, @truncate(attr >> 32)));
    }
    return @floatFromInt(count);
}

pub fn hv_efi_file_read(pathUtf16Addr: f64, outAddr: f64, capacityBytes: f64) f64 {
    var path: [260:0]u16 = undefined;
    var n: usize = 0;
    while (true) : (n += 1) {
        if (n == 260) return -3;
        const bytes = linear("hv_efi_file_read", pathUtf16Addr + @as(f64, @floatFromInt(n * 2)), 2);
        const c = std.mem.readIntLittle(u16, bytes[0..2]);
        if (c == 0) break;
        path[n] = c;
    }
    path[n] = 0;
    const cap = toU32(capacityBytes);
    const out = linear("hv_efi_file_read", outAddr, cap);
    return efi.readBootFile(path[0..n :0], out);
}

pub fn hv_efi_alloc_pages(physLo: f64, physHi: f64, pages: f64) f64 {
    return @floatFromInt(efi.allocatePagesAt(physical(physLo, physHi), toU32(pages)));
}

pub fn hv_efi_free_pages(physLo: f64, physHi: f64, pages: f64) f64 {
    return @floatFromInt(efi.freePagesAt(physical(physLo, physHi), toU32(pages)));
}

pub fn hv_efi_acpi_rsdp(outAddr: f64) f64 {
    var rsdp: u64 = 0;
    const found = efi.acpiRsdp(&rsdp);
    storeU64("hv_efi_acpi_rsdp", outAddr, rsdp);
    return @floatFromInt(found);
}

pub fn hv_efi_pci_disconnect(segment: f64, bus: f64, device: f64, func: f64) f64 {
    return @floatFromInt(efi.disconnectPci(toU32(segment), toU32(bus), toU32(device), toU32(func)));
}

pub fn hv_efi_set_watchdog(seconds: f64) f64 {
    return @floatFromInt(efi.setWatchdog(toU32(seconds)));
}

pub fn hv_efi_time(outAddr: f64) f64 {
    var t: uefi.Time = undefined;
    if (!efi.getTime(&t)) return -1;
    const out = linear("hv_efi_time", outAddr, 24);
    std.mem.writeIntLittle(u32, out[0..4], t.year);
    std.mem.writeIntLittle(u32, out[4..8], t.month);
    std.mem.writeIntLittle(u32, out[8..12], t.day);
    std.mem.writeIntLittle(u32, out[12..16], t.hour);
    std.mem.writeIntLittle(u32, out[16..20], t.minute);
    std.mem.writeIntLittle(u32, out[20..24], t.second);
    return 0;
}

pub fn hv_log_line(utf8Addr: f64, length: f64) void {
    fault.rememberLogLine(linear("hv_log_line", utf8Addr, toU32(length)));
}

pub fn hv_fatal(utf8Addr: f64, length: f64) void {
    fault.show("kernel fatal error", linear("hv_fatal", utf8Addr, toU32(length)));
}

pub fn hv_exit(code: f64) void {
    efi.exitToFirmware(@truncate(toU32(code)));
}

// ---- checksums (mechanical loops; TypeScript decides what to sum) ----

const crc_table: [256]u32 = blk: {
    @setEvalBranchQuota(10000);
    var t: [256]u32 = undefined;
    for (&t, 0..) |*e, n| {
        var c: u32 = @intCast(n);
        for (0..8) |_| c = if (c & 1 != 0) (c >> 1) ^ 0xEDB88320 else c >> 1;
        e.* = c;
    }
    break :blk t;
};

pub fn hv_crc32_update(crc: f64, addr: f64, length: f64) f64 {
    const bytes = linear("hv_crc32_update", addr, toU32(length));
    var c = toU32(crc);
    for (bytes) |b| c = crc_table[(c ^ b) & 0xff] ^ (c >> 8);
    return @floatFromInt(c);
}

pub fn hv_fnv1a_update(hash: f64, addr: f64, length: f64) f64 {
    const bytes = linear("hv_fnv1a_update", addr, toU32(length));
    var h = toU32(hash);
    for (bytes) |b| h = (h ^ b) *% 0x01000193;
    return @floatFromInt(h);
}

pub fn hv_phys_word_hash(physLo: f64, physHi: f64, length: f64, stateAddr: f64) void {
    const state = linear("hv_phys_word_hash", stateAddr, 8);
    const n = toU32(length) / 4;
    const words: [*]align(1) const u32 = @ptrFromInt(physical(physLo, physHi)); // RAM (a VM's memory)
    var hi = std.mem.readIntLittle(u32, state[0..4]);
    var lo = std.mem.readIntLittle(u32, state[4..8]);
    for (0..n) |i| {
        const w = words[i];
        hi = (hi ^ w) *% 0x01000193;
        lo = ((lo ^ w) *% 0x9E3779B1) +% 0x7F4A7C15;
    }
    std.mem.writeIntLittle(u32, state[0..4], hi);
    std.mem.writeIntLittle(u32, state[4..8], lo);
}

// ---- the firmware's Simple Network Protocol (UEFI 2.10 section 24.1), boot/snp.zig ----

const snp = @import("snp.zig");

pub fn hv_efi_snp_locate() f64 {
    return @floatFromInt(snp.locate());
}

pub fn hv_efi_snp_release(index: f64) f64 {
    return @floatFromInt(snp.release(toU32(index)));
}

/// Mode (24.1 EFI_SIMPLE_NETWORK_MODE) as a 40-byte record: State, HwAddressSize,
/// MediaHeaderSize, MaxPacketSize, ReceiveFilterMask, ReceiveFilterSetting (u32 each), IfType,
/// MacAddressChangeable, MultipleTxSupported, MediaPresentSupported, MediaPresent (u8 each),
/// 3 zero bytes, the first 8 bytes of CurrentAddress.
pub fn hv_efi_snp_mode(index: f64, outAddr: f64) f64 {
    const out = linear("hv_efi_snp_mode", outAddr, 40);
    const s = snp.get(toU32(index)) orelse return -1;
    const m = s.mode;
    @memset(out, 0);
    std.mem.writeIntLittle(u32, out[0..4], @as(*const u32, @ptrCast(&m.state)).*);
    std.mem.writeIntLittle(u32, out[4..8], m.hw_address_size);
    std.mem.writeIntLittle(u32, out[8..12], m.media_header_size);
    std.mem.writeIntLittle(u32, out[12..16], m.max_packet_size);
    std.mem.writeIntLittle(u32, out[16..20], @as(u32, @bitCast(m.receive_filter_mask)));
    std.mem.writeIntLittle(u32, out[20..24], @as(u32, @bitCast(m.receive_filter_setting)));
    const flags: *const [5]u8 = @ptrCast(&m.if_type);
    @memcpy(out[24..29], flags);
    @memcpy(out[32..40], m.current_address[0..8]);
    return 0;
}

/// op 1 Start, 2 Initialize(0, 0), 3 Shutdown, 4 Stop, 5 ReceiveFilters(enable, disable, no
/// multicast change): the EFI status code (low bits), -1 when there is no such handle.
pub fn hv_efi_snp_control(index: f64, op: f64, enable: f64, disable: f64) f64 {
    const s = snp.get(toU32(index)) orelse return -1;
    const status: uefi.Status = switch (toU32(op)) {
        1 => s.start(),
        2 => s.initialize(0, 0),
        3 => s.shutdown(),
        4 => s.stop(),
        5 => s.receiveFilters(@bitCast(toU32(enable)), @bitCast(toU32(disable)), false, 0, null),
        else => .InvalidParameter,
    };
    return @floatFromInt(efi.statusCode(status));
}

/// GetStatus: stores InterruptStatus u32, then the recycled transmit buffer's address as
/// lo, hi u32 (0 when none) at outAddr; returns the EFI status code, -1 no such handle.
pub fn hv_efi_snp_status(index: f64, outAddr: f64) f64 {
    const out = linear("hv_efi_snp_status", outAddr, 12);
    const s = snp.get(toU32(index)) orelse return -1;
    var irq: uefi.protocols.SimpleNetworkInterruptStatus = @bitCast(@as(u32, 0));
    var tx: ?[*]u8 = null;
    const status = s.getStatus(&irq, &tx);
    const addr: u64 = if (tx) |p| @intFromPtr(p) else 0;
    std.mem.writeIntLittle(u32, out[0..4], @as(u32, @bitCast(irq)));
    std.mem.writeIntLittle(u32, out[4..8], @as(u32, @truncate(addr)));
    std.mem.writeIntLittle(u32, out[8..12], @as(u32, @truncate(addr >> 32)));
    return @floatFromInt(efi.statusCode(status));
}

/// Transmit with HeaderSize 0 (the Ethernet header is in the buffer) of length bytes at a
/// physical address the caller keeps unchanged until GetStatus hands it back.
pub fn hv_efi_snp_transmit(index: f64, physLo: f64, physHi: f64, length: f64) f64 {
    const s = snp.get(toU32(index)) orelse return -1;
    const addr = physical(physLo, physHi);
    if (addr == 0) return @floatFromInt(efi.statusCode(.InvalidParameter));
    return @floatFromInt(efi.statusCode(s.transmit(0, toU32(length), @ptrFromInt(addr), null, null, null)));
}

/// Receive into linear memory: the frame's length, 0 when none waits (EFI_NOT_READY), else
/// -(EFI status code); -1000 when there is no such handle.
pub fn hv_efi_snp_receive(index: f64, outAddr: f64, capacity: f64) f64 {
    const cap = toU32(capacity);
    const out = linear("hv_efi_snp_receive", outAddr, cap);
    const s = snp.get(toU32(index)) orelse return -1000;
    if (cap == 0) return -@as(f64, @floatFromInt(efi.statusCode(.BufferTooSmall)));
    var size: usize = cap;
    const status = s.receive(null, &size, out.ptr, null, null, null);
    if (status == .NotReady) return 0;
    if (status != .Success) return -@as(f64, @floatFromInt(efi.statusCode(status)));
    return @floatFromInt(@min(size, cap));
}
