// After-app: a tiny UEFI application that runs a main app and then checks, from the
// firmware's side, what that app left behind when it returned. The runners' --after option
// (toolchain/uefi-run, toolchain/bochs-run) puts it at \EFI\BOOT\BOOTX64.EFI and the main
// app at \EFI\zerovisor\main.efi on the same volume.
//
//   1. prints the firmware's network interfaces as it found them, one line per SNP
//      handle: "BEFORE: SNP <i> state <State> MAC <mac>" after "BEFORE: SNP handles <N>";
//   2. reads \EFI\zerovisor\main.efi, LoadImage from that buffer, gives the child its
//      LoadedImage.DeviceHandle (this volume, so it finds \startup.zv as when it boots
//      alone), StartImage;
//   3. prints one line per fact on COM1, each starting "AFTER: ":
//        "StartImage 0x<status, 16 hex digits>"
//        "CR4.VMXE <0|1>"            (CR4 bit 13, Intel SDM vol. 3 section 2.5)
//        "EFER.SVME <0|1>"           (MSR 0xC0000080 bit 12, AMD APM vol. 2 section 15.4;
//                                     only where CPUID 0x80000001 ECX bit 2 says SVM,
//                                     else "EFER.SVME n/a")
//        "SNP handles <N>", then "SNP <i> state <Stopped|Started|Initialized> MAC <mac>"
//        (UEFI 2.10 section 24.1: EFI_SIMPLE_NETWORK_MODE.State, CurrentAddress)
//   4. with the first SNP handle: Start/Initialize it if needed, at TPL_CALLBACK (so the
//      firmware's MNP poll timer, a TPL_CALLBACK event, cannot take the frames; not higher:
//      SNP itself raises to TPL_CALLBACK) broadcasts an ARP request (RFC 826) for QEMU
//      user networking's gateway 10.0.2.2 from 10.0.2.15, polls Receive for up to 2 s and
//      prints "ARP transmit 0x<status>" and "ARP reply from 10.0.2.2 at <MAC>" or
//      "ARP no reply";
//   5. prints "ZEROVISOR-AFTER <N>", N being the main app's exit code as StartImage
//      returned it (0 for EFI_SUCCESS, else the status's low byte), and returns.
//
// Build: zig build-exe -target x86_64-uefi -O ReleaseSmall after.zig -femit-bin=after.efi

const std = @import("std");
const uefi = std.os.uefi;
const FileProtocol = uefi.protocols.FileProtocol;
const LoadedImageProtocol = uefi.protocols.LoadedImageProtocol;
const SimpleFileSystemProtocol = uefi.protocols.SimpleFileSystemProtocol;
const Snp = uefi.protocols.SimpleNetworkProtocol;
const ReceiveFilter = uefi.protocols.SimpleNetworkReceiveFilter;

const COM1: u16 = 0x3f8;
const MAIN_PATH = "\\EFI\\zerovisor\\main.efi";
const TPL_CALLBACK: usize = 8;

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

fn putHex(v: u64, digits: u6) void {
    const hex = "0123456789abcdef";
    var i: u6 = digits;
    while (i > 0) {
        i -= 1;
        putByte(hex[@as(usize, @intCast((v >> (@as(u6, i) * 4)) & 0xf))]);
    }
}

fn fact(name: []const u8) void {
    put("AFTER: ");
    put(name);
}

fn readCr4() u64 {
    return asm volatile ("mov %%cr4, %[ret]"
        : [ret] "=r" (-> u64),
    );
}

fn cpuid(leaf: u32) [4]u32 {
    var a: u32 = undefined;
    var b: u32 = undefined;
    var c: u32 = undefined;
    var d: u32 = undefined;
    asm volatile ("cpuid"
        : [a] "={eax}" (a),
          [b] "={ebx}" (b),
          [c] "={ecx}" (c),
          [d] "={edx}" (d),
        : [leaf] "{eax}" (leaf),
          [sub] "{ecx}" (@as(u32, 0)),
    );
    return .{ a, b, c, d };
}

fn rdmsr(msr: u32) u64 {
    var lo: u32 = undefined;
    var hi: u32 = undefined;
    asm volatile ("rdmsr"
        : [lo] "={eax}" (lo),
          [hi] "={edx}" (hi),
        : [msr] "{ecx}" (msr),
    );
    return @as(u64, hi) << 32 | lo;
}

fn statusBits(s: uefi.Status) u64 {
    return @intFromEnum(s);
}

/// The boot volume's device handle and root directory, or null.
fn bootVolume(device: *uefi.Handle) ?*const FileProtocol {
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
    device.* = dev;
    return root;
}

/// Reads the whole file at `path` into pool memory, or null.
fn readWhole(root: *const FileProtocol, comptime path: []const u8) ?[]u8 {
    const bs = uefi.system_table.boot_services.?;
    const wide = comptime blk: {
        var w: [path.len:0]u16 = undefined;
        for (path, 0..) |c, i| w[i] = c;
        break :blk w;
    };
    var file: *const FileProtocol = undefined;
    if (root.open(&file, &wide, FileProtocol.efi_file_mode_read, 0) != .Success) return null;
    defer _ = file.close();
    var size: u64 = 0;
    if (file.setPosition(FileProtocol.efi_file_position_end_of_file) != .Success) return null;
    if (file.getPosition(&size) != .Success) return null;
    if (file.setPosition(0) != .Success) return null;
    var buf: [*]align(8) u8 = undefined;
    if (bs.allocatePool(.LoaderData, @intCast(size), &buf) != .Success) return null;
    var total: usize = 0;
    while (total < size) {
        var n: usize = @as(usize, @intCast(size)) - total;
        if (file.read(&n, buf + total) != .Success or n == 0) return null;
        total += n;
    }
    return buf[0..total];
}

/// Loads and starts the main app; StartImage's status (or the failing call's).
fn runMain() uefi.Status {
    const bs = uefi.system_table.boot_services.?;
    var device: uefi.Handle = undefined;
    const root = bootVolume(&device) orelse {
        fact("cannot open the boot volume\n");
        return .LoadError;
    };
    const image = readWhole(root, MAIN_PATH) orelse {
        fact("cannot read " ++ MAIN_PATH ++ "\n");
        return .NotFound;
    };
    var child: ?uefi.Handle = null;
    const loaded = bs.loadImage(false, uefi.handle, null, image.ptr, image.len, &child);
    if (loaded != .Success) {
        fact("LoadImage 0x");
        putHex(statusBits(loaded), 16);
        put("\n");
        return loaded;
    }
    // Loaded from a buffer, the child has no device; give it this volume (UEFI 2.10 section 9.1).
    var li_ptr: ?*anyopaque = null;
    if (bs.handleProtocol(child.?, &LoadedImageProtocol.guid, &li_ptr) == .Success) {
        const li: *LoadedImageProtocol = @ptrCast(@alignCast(li_ptr.?));
        li.device_handle = device;
    }
    return bs.startImage(child.?, null, null);
}

fn stateName(s: u32) []const u8 {
    return switch (s) {
        0 => "Stopped",
        1 => "Started",
        2 => "Initialized",
        else => "unknown",
    };
}

fn snpHandles() []uefi.Handle {
    const bs = uefi.system_table.boot_services.?;
    var n: usize = 0;
    var list: [*]uefi.Handle = undefined;
    if (bs.locateHandleBuffer(.ByProtocol, &Snp.guid, null, &n, &list) != .Success) return &[_]uefi.Handle{};
    return list[0..n];
}

fn snpOf(h: uefi.Handle) ?*const Snp {
    var iface: ?*anyopaque = null;
    if (uefi.system_table.boot_services.?.handleProtocol(h, &Snp.guid, &iface) != .Success) return null;
    return @ptrCast(@alignCast(iface orelse return null));
}

var tx_frame: [64]u8 align(8) = undefined;
var rx_frame: [1536]u8 align(8) = undefined;

const OUR_IP = [4]u8{ 10, 0, 2, 15 };
const GATEWAY_IP = [4]u8{ 10, 0, 2, 2 };

/// An ARP request (RFC 826) for GATEWAY_IP from OUR_IP at `mac`, broadcast: 42 bytes.
fn arpRequest(mac: []const u8) []const u8 {
    const f = &tx_frame;
    @memset(f[0..6], 0xff);
    @memcpy(f[6..12], mac[0..6]);
    f[12] = 0x08;
    f[13] = 0x06; // EtherType ARP
    f[14] = 0;
    f[15] = 1; // hardware: Ethernet
    f[16] = 0x08;
    f[17] = 0x00; // protocol: IPv4
    f[18] = 6;
    f[19] = 4;
    f[20] = 0;
    f[21] = 1; // request
    @memcpy(f[22..28], mac[0..6]);
    @memcpy(f[28..32], &OUR_IP);
    @memset(f[32..38], 0);
    @memcpy(f[38..42], &GATEWAY_IP);
    return f[0..42];
}

/// The ARP reply from GATEWAY_IP to OUR_IP in `f`: the sender's MAC, or null.
fn arpReplySender(f: []const u8) ?[]const u8 {
    if (f.len < 42) return null;
    if (f[12] != 0x08 or f[13] != 0x06 or f[20] != 0 or f[21] != 2) return null;
    if (!std.mem.eql(u8, f[28..32], &GATEWAY_IP) or !std.mem.eql(u8, f[38..42], &OUR_IP)) return null;
    return f[22..28];
}

fn putMac(mac: []const u8) void {
    for (mac[0..6], 0..) |b, i| {
        if (i > 0) put(":");
        putHex(b, 2);
    }
}

/// "<prefix>SNP handles N" and one line per handle: its state and MAC address.
fn reportSnp(prefix: []const u8, handles: []uefi.Handle) void {
    put(prefix);
    put("SNP handles ");
    putDec(handles.len);
    put("\n");
    for (handles, 0..) |h, i| {
        put(prefix);
        put("SNP ");
        putDec(i);
        if (snpOf(h)) |s| {
            put(" state ");
            put(stateName(@intFromEnum(s.mode.state)));
            put(" MAC ");
            putMac(&s.mode.current_address);
        } else {
            put(" none");
        }
        put("\n");
    }
}

fn useNic(snp: *const Snp) void {
    const bs = uefi.system_table.boot_services.?;
    if (snp.mode.state == .Stopped) _ = snp.start();
    if (snp.mode.state == .Started) _ = snp.initialize(0, 0);
    fact("SNP 0 now ");
    put(stateName(@intFromEnum(snp.mode.state)));
    put("\n");
    const old = bs.raiseTpl(TPL_CALLBACK);
    defer bs.restoreTpl(old);
    const none = ReceiveFilter{ .receive_unicast = false, .receive_multicast = false, .receive_broadcast = false, .receive_promiscuous = false, .receive_promiscuous_multicast = false };
    var wanted = none;
    wanted.receive_unicast = true;
    wanted.receive_broadcast = true;
    _ = snp.receiveFilters(wanted, none, false, 0, null);
    const sent = snp.transmit(0, 42, arpRequest(&snp.mode.current_address).ptr, null, null, null);
    fact("ARP transmit 0x");
    putHex(statusBits(sent), 16);
    put("\n");
    var waited_ms: u32 = 0;
    var frames: u32 = 0; // other frames read (a flood cannot keep it here)
    while (waited_ms < 2000 and frames < 10000) {
        var irq: uefi.protocols.SimpleNetworkInterruptStatus = undefined;
        var recycled: ?[*]u8 = null;
        _ = snp.getStatus(&irq, &recycled); // takes the sent buffer back
        var size: usize = rx_frame.len;
        const got = snp.receive(null, &size, &rx_frame, null, null, null);
        if (got == .Success) {
            if (arpReplySender(rx_frame[0..size])) |mac| {
                fact("ARP reply from 10.0.2.2 at ");
                putMac(mac);
                put("\n");
                return;
            }
            frames += 1;
            continue;
        }
        _ = bs.stall(1000);
        waited_ms += 1;
    }
    fact("ARP no reply\n");
}

pub fn main() uefi.Status {
    put("\n");
    reportSnp("BEFORE: ", snpHandles());
    put("AFTER: running " ++ MAIN_PATH ++ "\n");
    const status = runMain();
    fact("StartImage 0x");
    putHex(statusBits(status), 16);
    put("\n");

    fact("CR4.VMXE ");
    putDec((readCr4() >> 13) & 1);
    put("\n");
    const ext = cpuid(0x80000000);
    if (ext[0] >= 0x80000001 and (cpuid(0x80000001)[2] >> 2) & 1 == 1) {
        fact("EFER.SVME ");
        putDec((rdmsr(0xC0000080) >> 12) & 1);
        put("\n");
    } else {
        fact("EFER.SVME n/a\n");
    }

    const handles = snpHandles();
    reportSnp("AFTER: ", handles);
    if (handles.len > 0) {
        if (snpOf(handles[0])) |s| useNic(s);
    }

    const code: u64 = if (status == .Success) 0 else statusBits(status) & 0xff;
    put("ZEROVISOR-AFTER ");
    putDec(code);
    put("\n");
    return .Success;
}
