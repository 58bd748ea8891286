//! UEFI services the host ABI needs (UEFI 2.10: boot services chapter 7, console
//! chapter 12, file protocols chapter 13).
const std = @import("std");
const uefi = std.os.uefi;

pub var boot_tsc: u64 = 0;

// EFI_SERIAL_IO_PROTOCOL GUID (UEFI 2.10 section 12.8).
const serial_io_guid align(8) = uefi.Guid{
    .time_low = 0xBB25CF6F,
    .time_mid = 0xF1D4,
    .time_high_and_version = 0x11D2,
    .clock_seq_high_and_reserved = 0x9A,
    .clock_seq_low = 0x0C,
    .node = [_]u8{ 0x00, 0x90, 0x27, 0x3F, 0xC1, 0xFD },
};

var detached: [8]uefi.Handle = undefined;
var detached_count: usize = 0;

/// Disconnects the firmware's drivers (the terminal) from every SerialIo handle.
pub fn detachSerialTerminals() usize {
    const bs = uefi.system_table.boot_services.?;
    var count: usize = 0;
    var handles: [*]uefi.Handle = undefined;
    if (bs.locateHandleBuffer(.ByProtocol, &serial_io_guid, null, &count, &handles) != .Success) return 0;
    var done: usize = 0;
    for (handles[0..count]) |h| {
        if (detached_count == detached.len) break;
        if (bs.disconnectController(h, null, null) == .Success) {
            detached[detached_count] = h;
            detached_count += 1;
            done += 1;
        }
    }
    _ = bs.freePool(@ptrCast(@alignCast(handles)));
    return done;
}

fn reattachSerialTerminals() void {
    const bs = uefi.system_table.boot_services.?;
    for (detached[0..detached_count]) |h| _ = bs.connectController(h, null, null, true);
    detached_count = 0;
}

// EFI_PCI_IO_PROTOCOL (UEFI 2.10 section 14.4): GUID, and the member order up to
// GetLocation: PollMem, PollIo, Mem.Read, Mem.Write, Io.Read, Io.Write, Pci.Read,
// Pci.Write, CopyMem, Map, Unmap, AllocateBuffer, FreeBuffer, Flush, GetLocation.
const pci_io_guid align(8) = uefi.Guid{
    .time_low = 0x4CF5B200,
    .time_mid = 0x68B8,
    .time_high_and_version = 0x4CA5,
    .clock_seq_high_and_reserved = 0x9E,
    .clock_seq_low = 0xEC,
    .node = [_]u8{ 0xB2, 0x3E, 0x3F, 0x50, 0x02, 0x9A },
};

const PciIo = extern struct {
    before_get_location: [14]usize,
    getLocation: *const fn (self: *const PciIo, segment: *usize, bus: *usize, device: *usize, function: *usize) callconv(uefi.cc) uefi.Status,
};

var pci_released: [8]uefi.Handle = undefined;
var pci_released_count: usize = 0;

/// DisconnectController(handle, NULL, NULL) on the PCI I/O handle at this location, its
/// child controllers first (UEFI 2.10 sections 7.3.13, 7.3.11): 0 on success, -1 when no
/// handle has the location, -2 when no driver manages it (nothing to do), else the EFI
/// status code. Handles that had drivers are reconnected on the way back to the firmware.
pub fn disconnectPci(segment: u32, bus: u32, device: u32, function: u32) i64 {
    const bs = uefi.system_table.boot_services.?;
    var count: usize = 0;
    var handles: [*]uefi.Handle = undefined;
    if (bs.locateHandleBuffer(.ByProtocol, &pci_io_guid, null, &count, &handles) != .Success) return -1;
    defer _ = bs.freePool(@ptrCast(@alignCast(handles)));
    for (handles[0..count]) |h| {
        var iface: ?*anyopaque = null;
        if (bs.handleProtocol(h, &pci_io_guid, &iface) != .Success) continue;
        const io: *const PciIo = @ptrCast(@alignCast(iface orelse continue));
        var s: usize = 0;
        var b: usize = 0;
        var d: usize = 0;
        var f: usize = 0;
        if (io.getLocation(io, &s, &b, &d, &f) != .Success) continue;
        if (s != segment or b != bus or d != device or f != function) continue;
        if (!hasDriver(h)) return -2;
        var known = false;
        for (pci_released[0..pci_released_count]) |r| known = known or r == h;
        if (!known and pci_released_count < pci_released.len) {
            pci_released[pci_released_count] = h;
            pci_released_count += 1;
        }
        return statusCode(disconnectTree(h, 0));
    }
    return -1;
}

/// Whether a driver manages `h` (has one of its protocols open BY_DRIVER).
pub fn hasDriver(h: uefi.Handle) bool {
    const bs = uefi.system_table.boot_services.?;
    var protocols: [*]*align(8) const uefi.Guid = undefined;
    var count: usize = 0;
    if (bs.protocolsPerHandle(h, &protocols, &count) != .Success) return false;
    defer _ = bs.freePool(@ptrCast(@alignCast(protocols)));
    for (protocols[0..count]) |guid| {
        var entries: [*]uefi.tables.ProtocolInformationEntry = undefined;
        var entry_count: usize = 0;
        if (bs.openProtocolInformation(h, guid, &entries, &entry_count) != .Success) continue;
        defer _ = bs.freePool(@ptrCast(@alignCast(entries)));
        for (entries[0..entry_count]) |e| if (e.attributes.by_driver) return true;
    }
    return false;
}

/// DisconnectController(h, NULL, NULL) after the same on each child controller the drivers
/// of `h` created (the handles that opened one of its protocols BY_CHILD_CONTROLLER),
/// leaves first: a driver may refuse to stop while a child of it is still in use (OVMF's
/// VirtioNetDxe while the network stack above its SNP child runs).
pub fn disconnectTree(h: uefi.Handle, depth: u32) uefi.Status {
    const bs = uefi.system_table.boot_services.?;
    var children: [16]uefi.Handle = undefined;
    var n: usize = 0;
    if (depth < 4) {
        var protocols: [*]*align(8) const uefi.Guid = undefined;
        var count: usize = 0;
        if (bs.protocolsPerHandle(h, &protocols, &count) == .Success) {
            for (protocols[0..count]) |guid| {
                var entries: [*]uefi.tables.ProtocolInformationEntry = undefined;
                var entry_count: usize = 0;
                if (bs.openProtocolInformation(h, guid, &entries, &entry_count) != .Success) continue;
                for (entries[0..entry_count]) |e| {
                    if (!e.attributes.by_child_controller) continue;
                    const child = e.controller_handle orelse continue;
                    if (child == h) continue;
                    var seen = false;
                    for (children[0..n]) |c| seen = seen or c == child;
                    if (!seen and n < children.len) {
                        children[n] = child;
                        n += 1;
                    }
                }
                _ = bs.freePool(@ptrCast(@alignCast(entries)));
            }
            _ = bs.freePool(@ptrCast(@alignCast(protocols)));
        }
    }
    for (children[0..n]) |c| _ = disconnectTree(c, depth + 1);
    return bs.disconnectController(h, null, null);
}

fn reconnectPci() void {
    const bs = uefi.system_table.boot_services.?;
    for (pci_released[0..pci_released_count]) |h| _ = bs.connectController(h, null, null, true);
    pci_released_count = 0;
}

pub const MemoryMap = struct { bytes: []const u8, size: usize, descriptor_size: usize };
var map_buffer: [32768]u8 align(8) = undefined;

pub fn memoryMap() ?MemoryMap {
    const bs = uefi.system_table.boot_services.?;
    var size: usize = map_buffer.len;
    var key: usize = 0;
    var descriptor_size: usize = 0;
    var version: u32 = 0;
    if (bs.getMemoryMap(&size, @ptrCast(&map_buffer), &key, &descriptor_size, &version) != .Success) return null;
    if (descriptor_size == 0) return null;
    return .{ .bytes = map_buffer[0..size], .size = size, .descriptor_size = descriptor_size };
}

/// Reads a file from the volume this image was loaded from: its size, -1 not found,
/// -2 larger than out, -3 other error.
pub fn readBootFile(path: [*:0]const u16, out: []u8) f64 {
    const bs = uefi.system_table.boot_services.?;
    var image_ptr: ?*anyopaque = null;
    if (bs.handleProtocol(uefi.handle, &uefi.protocols.LoadedImageProtocol.guid, &image_ptr) != .Success) return -3;
    const image: *uefi.protocols.LoadedImageProtocol = @ptrCast(@alignCast(image_ptr.?));
    const device = image.device_handle orelse return -3;
    var fs_ptr: ?*anyopaque = null;
    if (bs.handleProtocol(device, &uefi.protocols.SimpleFileSystemProtocol.guid, &fs_ptr) != .Success) return -3;
    const fs: *uefi.protocols.SimpleFileSystemProtocol = @ptrCast(@alignCast(fs_ptr.?));
    var root: *const uefi.protocols.FileProtocol = undefined;
    if (fs.openVolume(&root) != .Success) return -3;
    defer _ = root.close();
    var file: *const uefi.protocols.FileProtocol = undefined;
    switch (root.open(&file, path, uefi.protocols.FileProtocol.efi_file_mode_read, 0)) {
        .Success => {},
        .NotFound => return -1,
        else => return -3,
    }
    defer _ = file.close();
    var total: usize = 0;
    while (true) {
        var extra: [1]u8 = undefined;
        const room = out.len - total;
        var n: usize = if (room > 0) room else 1;
        const dst: [*]u8 = if (room > 0) out[total..].ptr else &extra;
        if (file.read(&n, dst) != .Success) return -3;
        if (n == 0) break;
        if (room == 0) return -2;
        total += n;
    }
    return @floatFromInt(total);
}

/// The RSDP from the configuration table (UEFI 2.10 section 4.6): 2 with the ACPI 2.0+
/// GUID, 1 with the ACPI 1.0 GUID, 0 when there is neither.
pub fn acpiRsdp(out: *u64) u32 {
    const st = uefi.system_table;
    const tables = st.configuration_table[0..st.number_of_table_entries];
    const CT = uefi.tables.ConfigurationTable;
    for (tables) |t| if (t.vendor_guid.eql(CT.acpi_20_table_guid)) {
        out.* = @intFromPtr(t.vendor_table);
        return 2;
    };
    for (tables) |t| if (t.vendor_guid.eql(CT.acpi_10_table_guid)) {
        out.* = @intFromPtr(t.vendor_table);
        return 1;
    };
    return 0;
}

/// The low bits of an EFI status (0 for success).
pub fn statusCode(s: uefi.Status) u32 {
    return @truncate(@intFromEnum(s));
}

/// AllocatePages(AllocateAddress, EfiLoaderData) at `phys` (UEFI 2.10 section 7.2).
pub fn allocatePagesAt(phys: u64, pages: usize) u32 {
    if (phys == 0 or phys & 0xFFF != 0 or pages == 0) return statusCode(.InvalidParameter);
    var base: [*]align(4096) u8 = @ptrFromInt(phys);
    return statusCode(uefi.system_table.boot_services.?.allocatePages(.AllocateAddress, .LoaderData, pages, &base));
}

pub fn freePagesAt(phys: u64, pages: usize) u32 {
    if (phys == 0 or phys & 0xFFF != 0 or pages == 0) return statusCode(.InvalidParameter);
    return statusCode(uefi.system_table.boot_services.?.freePages(@ptrFromInt(phys), pages));
}

/// SetWatchdogTimer (UEFI 2.10 section 7.5); 0 seconds disarms it.
pub fn setWatchdog(seconds: usize) u32 {
    return statusCode(uefi.system_table.boot_services.?.setWatchdogTimer(seconds, 0x10000, 0, null));
}

/// GetTime (UEFI 2.10 section 8.3): the firmware's wall clock; false when it fails.
pub fn getTime(t: *uefi.Time) bool {
    return uefi.system_table.runtime_services.getTime(t, null) == .Success;
}

/// Returns to the firmware with this exit code (BootServices.Exit, UEFI 2.10 7.4).
pub fn exitToFirmware(code: u8) noreturn {
    reattachSerialTerminals();
    @import("snp.zig").reconnect(); // before the PCI functions: their reconnection makes new SNP handles
    reconnectPci();
    const bs = uefi.system_table.boot_services.?;
    const status: uefi.Status = if (code == 0) .Success else @enumFromInt(@as(usize, 1) << 63 | code);
    _ = bs.exit(uefi.handle, status, 0, null);
    while (true) asm volatile ("hlt");
}
