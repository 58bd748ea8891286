// strio: string I/O and guest paging, the exits a hypervisor without decode assists must
// work out from the guest's own memory: REP OUTSB to COM1 (forwards, backwards with DF=1,
// and with an FS override), REP INSB from a port nobody answers (all 0xFF), then the same
// with 32-bit paging on (Intel SDM vol. 3A 4.3): code and data reached through a 4 MiB
// alias (PSE) at 0x40000000 and a 4 KiB-page alias at 0x80000000, where CPUID and OUTSB
// exit at linear addresses that are not guest-physical. Exits with OUTSB of 0x2a to 0xF4.
const rt = @import("rt.zig");
pub const panic = rt.panic;
comptime {
    _ = rt; // analyze the entry, header and exports
}

const COM1: u16 = 0x3F8;

fn repOutsb(port: u16, s: []const u8) void {
    asm volatile ("rep outsb"
        :
        : [src] "{esi}" (s.ptr),
          [n] "{ecx}" (s.len),
          [port] "{dx}" (port),
        : "esi", "ecx", "memory"
    );
}

fn repOutsbFs(port: u16, s: []const u8) void {
    asm volatile (
        \\mov %%ds, %%ax
        \\mov %%ax, %%fs
        \\rep outsb %%fs:(%%esi), %%dx
        :
        : [src] "{esi}" (s.ptr),
          [n] "{ecx}" (s.len),
          [port] "{dx}" (port),
        : "esi", "ecx", "eax", "memory"
    );
}

fn repOutsbBackwards(port: u16, s: []const u8) void {
    asm volatile (
        \\std
        \\rep outsb
        \\cld
        :
        : [src] "{esi}" (s.ptr + s.len - 1),
          [n] "{ecx}" (s.len),
          [port] "{dx}" (port),
        : "esi", "ecx", "memory", "cc"
    );
}

fn repInsb(port: u16, buf: []u8) void {
    asm volatile ("rep insb"
        :
        : [dst] "{edi}" (buf.ptr),
          [n] "{ecx}" (buf.len),
          [port] "{dx}" (port),
        : "edi", "ecx", "memory"
    );
}

var in_buf: [8]u8 = .{ 0, 0, 0, 0, 0, 0, 0, 0 };

fn insbCheck(label: []const u8) void {
    for (&in_buf) |*b| b.* = 0;
    repInsb(0x2f0, &in_buf);
    var ok = true;
    for (in_buf) |b| ok = ok and b == 0xff;
    rt.print("{s}: rep insb from port 0x2f0 read {s}\n", .{ label, if (ok) "8 x 0xff" else "something else" });
}

// 32-bit paging: one page directory, one page table (4 KiB aligned)
var page_directory: [1024]u32 align(4096) = [_]u32{0} ** 1024;
var page_table: [1024]u32 align(4096) = [_]u32{0} ** 1024;

const ALIAS_4M: u32 = 0x40000000;
const ALIAS_4K: u32 = 0x80000000;

const reversed = "\nsdrawkcab :1=FD ,bstuo per"; // "rep outsb, DF=1: backwards\n" backwards
const status = [_]u8{0x2a};

/// Runs at an alias address: CPUID and OUTSB exit with RIP/RSI that are not guest-physical.
fn aliased(offset: u32) callconv(.C) void {
    const v = rt.cpuid(0x40000000, 0);
    const msg = "paged: rep outsb through the alias\n";
    repOutsb(COM1, @as([*]const u8, @ptrFromInt(@intFromPtr(msg.ptr) + offset))[0..msg.len]);
    rt.print("paged: cpuid 0x40000000 at 0x{x:0>8} ebx 0x{x:0>8}\n", .{ @intFromPtr(&aliased) + offset, v[1] });
}

fn callAt(offset: u32) void {
    const f: *const fn (u32) callconv(.C) void = @ptrFromInt(@intFromPtr(&aliased) + offset);
    f(offset);
}

pub fn main(_: u32, _: u32) noreturn {
    repOutsb(COM1, "strio: rep outsb to COM1\n");
    repOutsbFs(COM1, "strio: rep outsb with an FS override\n");
    repOutsbBackwards(COM1, reversed);
    insbCheck("strio");

    // identity 4 MiB page for the first 4 MiB, the same 4 MiB again at 0x40000000 (PSE),
    // and at 0x80000000 through a page table of 4 KiB pages
    page_directory[0] = 0x0 | 0x83; // P, RW, PS
    page_directory[ALIAS_4M >> 22] = 0x0 | 0x83;
    for (&page_table, 0..) |*e, i| e.* = @as(u32, @intCast(i)) * 4096 | 0x3; // P, RW
    page_directory[ALIAS_4K >> 22] = @intFromPtr(&page_table) | 0x3;
    asm volatile (
        \\mov %%cr4, %%eax
        \\or $0x10, %%eax
        \\mov %%eax, %%cr4
        \\mov %[pd], %%cr3
        \\mov %%cr0, %%eax
        \\or $0x80000000, %%eax
        \\mov %%eax, %%cr0
        :
        : [pd] "r" (@intFromPtr(&page_directory)),
        : "eax", "memory"
    );
    rt.puts("strio: paging on\n");
    callAt(ALIAS_4M);
    callAt(ALIAS_4K);
    insbCheck("paged");
    // the exit status through OUTSB from the 4 KiB alias
    asm volatile ("outsb"
        :
        : [src] "{esi}" (@intFromPtr(&status) + ALIAS_4K),
          [port] "{dx}" (@as(u16, 0xf4)),
        : "esi", "memory"
    );
    rt.puts("strio: still running after the exit\n");
    rt.exit(0x45);
}
