// hello: the first guest. Prints a greeting, the multiboot command line, mem_upper and the
// memory map (Multiboot 0.6.96 section 3.3), then exits 0x2a. Without multiboot info
// (EAX != 0x2BADB002 or EBX = 0, the flat-binary path) it prints only the greeting and
// exits 0x2b. With the command line "echo" it then echoes what arrives on COM1 (polling
// the LSR's data-ready bit, 16550A datasheet), and after each Enter prints "echo: got
// <line>"; the line "bye" exits 0x2c.
const std = @import("std");
const rt = @import("rt.zig");
pub const panic = rt.panic;
comptime {
    _ = rt; // analyze the entry, header and exports
}

pub fn main(magic: u32, info_addr: u32) noreturn {
    rt.puts("hello from a Zerovisor guest\n");
    const info = rt.multibootInfo(magic, info_addr) orelse rt.exit(0x2b);
    var echo = false;
    if (info.flags & (1 << 2) != 0) {
        rt.print("cmdline: {s}\n", .{rt.cstr(info.cmdline)});
        echo = std.mem.eql(u8, rt.cstr(info.cmdline), "echo");
    } else rt.puts("no cmdline\n");
    if (info.flags & (1 << 0) != 0) {
        rt.print("mem_upper: {d}\n", .{info.mem_upper});
    } else rt.puts("no mem_upper\n");
    if (info.flags & (1 << 6) != 0) {
        var addr = info.mmap_addr;
        const end = info.mmap_addr +% info.mmap_length;
        var n: u32 = 0;
        while (addr < end and n < 128) : (n += 1) {
            const e: *const rt.MmapEntry = @ptrFromInt(addr);
            rt.print("mmap 0x{x} 0x{x} {d}\n", .{ e.base, e.length, e.type });
            addr +%= e.size + 4;
        }
    } else rt.puts("no mmap\n");
    if (echo) echoLines();
    rt.exit(0x2a);
}

fn echoLines() noreturn {
    rt.puts("echo: type a line\n");
    var line: [64]u8 = undefined;
    var n: usize = 0;
    while (true) {
        if (rt.inb(0x3FD) & 1 == 0) continue; // LSR bit 0: data ready
        const c = rt.inb(0x3F8);
        if (c == '\r' or c == '\n') {
            rt.print("\necho: got {s}\n", .{line[0..n]});
            if (std.mem.eql(u8, line[0..n], "bye")) rt.exit(0x2c);
            n = 0;
        } else if (n < line.len) {
            line[n] = c;
            n += 1;
            rt.putc(c);
        }
    }
}
