// Runner probe: a tiny UEFI application used only by the tests of
// toolchain/uefi-run and toolchain/bochs-run.
//
//   1. writes a greeting (with UTF-8 Japanese and Chinese text) to COM1;
//   2. reads \startup.zv from the volume it was loaded from and echoes it
//      between "--- startup.zv ---" and "--- end ---";
//   3. for every later line of the form "cat <path>", echoes that file
//      between "--- <path> ---" and "--- end ---" (or "MISSING <path>");
//      a later line "read" prints "PROBE: waiting for input", reads one line
//      from COM1 (polling, at TPL_HIGH_LEVEL so the firmware's own serial
//      poller cannot steal the bytes) and prints "PROBE: got <line>";
//   4. if the first line is "hang", halts forever (for --timeout tests);
//      otherwise prints "ZEROVISOR-EXIT <N>" (N = first line, default 0),
//      writes N to the isa-debug-exit port 0xf4 and, where that does not end
//      the run (e.g. under the runners' --after), returns to the firmware as
//      Zerovisor does: EFI_SUCCESS for 0, else an error status with N in its
//      low bits (the after-app reports N).
//
// Build: zig build-exe -target x86_64-uefi -O ReleaseSmall probe.zig -femit-bin=probe.efi

const std = @import("std");
const uefi = std.os.uefi;
const FileProtocol = uefi.protocols.FileProtocol;
const LoadedImageProtocol = uefi.protocols.LoadedImageProtocol;
const SimpleFileSystemProtocol = uefi.protocols.SimpleFileSystemProtocol;

const COM1: u16 = 0x3f8;

fn outb(port: u16, value: u8) void {
    asm volatile ("outb %%al, %%dx"
        :
        : [value] "{al}" (value),
          [port] "{dx}" (port),
    );
}

fn inb(port: u16) u8 {
    return asm volatile ("inb %%dx, %%al"
        : [ret] "={al}" (-> u8),
        : [port] "{dx}" (port),
    );
}

fn putByte(b: u8) void {
    var spins: u32 = 0;
    // Wait for THR empty (LSR bit 5); give up after a while so a missing
    // UART cannot hang the probe.
    while (inb(COM1 + 5) & 0x20 == 0 and spins < 1_000_000) : (spins += 1) {}
    outb(COM1, b);
}

fn put(s: []const u8) void {
    for (s) |b| {
        if (b == '\n') putByte('\r');
        putByte(b);
    }
}

fn putDec(v: u64) void {
    var buf: [20]u8 = undefined;
    var i: usize = buf.len;
    var n = v;
    while (true) {
        i -= 1;
        buf[i] = @as(u8, @intCast(n % 10)) + '0';
        n /= 10;
        if (n == 0) break;
    }
    put(buf[i..]);
}

var file_buf: [16384]u8 = undefined;

/// Opens `path` (ASCII, '/' or '\\' separators) under `root` and reads it into
/// `file_buf`. Returns the content or null when the file cannot be read.
fn readFile(root: *const FileProtocol, path: []const u8) ?[]u8 {
    var wide: [260:0]u16 = undefined;
    if (path.len >= wide.len) return null;
    for (path, 0..) |c, i| wide[i] = if (c == '/') '\\' else c;
    wide[path.len] = 0;
    var file: *const FileProtocol = undefined;
    if (root.open(&file, &wide, FileProtocol.efi_file_mode_read, 0) != .Success) return null;
    defer _ = file.close();
    var total: usize = 0;
    while (total < file_buf.len) {
        var size: usize = file_buf.len - total;
        if (file.read(&size, file_buf[total..].ptr) != .Success) return null;
        if (size == 0) break;
        total += size;
    }
    return file_buf[0..total];
}

/// Reads one non-empty line from COM1. Runs at TPL_HIGH_LEVEL so the
/// firmware's terminal driver does not consume the bytes first.
fn readSerialLine(buf: []u8) []u8 {
    const bs = uefi.system_table.boot_services.?;
    const old = bs.raiseTpl(31);
    defer bs.restoreTpl(old);
    put("PROBE: waiting for input\n");
    var n: usize = 0;
    while (true) {
        if (inb(COM1 + 5) & 1 == 0) {
            asm volatile ("pause");
            continue;
        }
        const c = inb(COM1);
        if (c == '\r' or c == '\n') {
            if (n > 0) break;
            continue;
        }
        if (n < buf.len) {
            buf[n] = c;
            n += 1;
        }
    }
    return buf[0..n];
}

fn openRoot() ?*const FileProtocol {
    const bs = uefi.system_table.boot_services orelse return null;
    var li_ptr: ?*anyopaque = null;
    if (bs.handleProtocol(uefi.handle, &LoadedImageProtocol.guid, &li_ptr) != .Success) return null;
    const li: *LoadedImageProtocol = @ptrCast(@alignCast(li_ptr orelse return null));
    const dev = li.device_handle orelse return null;
    var fs_ptr: ?*anyopaque = null;
    if (bs.handleProtocol(dev, &SimpleFileSystemProtocol.guid, &fs_ptr) != .Success) return null;
    const fs: *const SimpleFileSystemProtocol = @ptrCast(@alignCast(fs_ptr orelse return null));
    var root: *const FileProtocol = undefined;
    if (fs.openVolume(&root) != .Success) return null;
    return root;
}

fn trim(s: []const u8) []const u8 {
    return std.mem.trim(u8, s, " \t\r\n");
}

pub fn main() uefi.Status {
    put("\nPROBE: hello from the runner probe / こんにちは 世界 / 你好，世界\n");

    var code: u8 = 0;
    var hang = false;
    if (openRoot()) |root| {
        if (readFile(root, "\\startup.zv")) |script_ro| {
            // Copy out: later "cat" lines reuse file_buf.
            var script_copy: [4096]u8 = undefined;
            const n = @min(script_ro.len, script_copy.len);
            @memcpy(script_copy[0..n], script_ro[0..n]);
            const script = script_copy[0..n];

            put("--- startup.zv ---\n");
            put(script);
            if (n == 0 or script[n - 1] != '\n') put("\n");
            put("--- end ---\n");

            var lines = std.mem.splitScalar(u8, script, '\n');
            const first = trim(lines.first());
            if (std.mem.eql(u8, first, "hang")) {
                hang = true;
            } else if (first.len > 0) {
                code = std.fmt.parseInt(u8, first, 10) catch 0;
            }
            while (lines.next()) |raw| {
                const line = trim(raw);
                if (std.mem.eql(u8, line, "read")) {
                    var in_buf: [256]u8 = undefined;
                    const got = readSerialLine(&in_buf);
                    put("PROBE: got ");
                    put(got);
                    put("\n");
                    continue;
                }
                if (!std.mem.startsWith(u8, line, "cat ")) continue;
                const path = trim(line[4..]);
                if (readFile(root, path)) |content| {
                    put("--- ");
                    put(path);
                    put(" ---\n");
                    put(content);
                    if (content.len == 0 or content[content.len - 1] != '\n') put("\n");
                    put("--- end ---\n");
                } else {
                    put("MISSING ");
                    put(path);
                    put("\n");
                }
            }
        } else {
            put("PROBE: no startup.zv\n");
        }
    } else {
        put("PROBE: cannot open boot volume\n");
    }

    if (hang) {
        put("PROBE: hanging\n");
        while (true) asm volatile ("hlt");
    }

    put("ZEROVISOR-EXIT ");
    putDec(code);
    put("\n");
    outb(0xf4, code);
    return if (code == 0) .Success else @enumFromInt(@as(usize, 1) << 63 | code);
}
