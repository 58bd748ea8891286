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

/// Returns to the firmware with this exit code (BootServices.Exit, UEFI 2.10 7.4).
pub fn exitToFirmware(code: u8) noreturn {
    reattachSerialTerminals();
    const bs = uefi.system_table.boot_services.?;
    const status: uefi.Status = if (code == 0) .Success else @enumFromInt(@as(usize, 1) << 63 | code);
    _ = bs.exit(uefi.handle, status, 0, null);
    while (true) asm volatile ("hlt");
}
