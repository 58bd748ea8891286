// oob: reads a u32 16 MiB past the end of its RAM (mem_upper KiB from 1 MiB, Multiboot
// 0.6.96 section 3.3). A hypervisor must stop it there (nested page fault); if the read
// returns, it prints "read 0x<value>" and exits 0x33. Without memory info: exit 0x34.
const rt = @import("rt.zig");
pub const panic = rt.panic;
comptime {
    _ = rt; // analyze the entry, header and exports
}

pub fn main(magic: u32, info_addr: u32) noreturn {
    const info = rt.multibootInfo(magic, info_addr) orelse {
        rt.puts("oob: no multiboot info\n");
        rt.exit(0x34);
    };
    if (info.flags & 1 == 0) {
        rt.puts("oob: no mem_upper\n");
        rt.exit(0x34);
    }
    const ram_end: u64 = 0x100000 + @as(u64, info.mem_upper) * 1024;
    const target: u32 = @truncate(@min(ram_end + 16 * 1024 * 1024, 0xFFFF_FFFC));
    rt.print("oob: ram ends at 0x{x}, reading 0x{x}\n", .{ ram_end, target });
    rt.puts("reading outside my RAM\n");
    const p: *const volatile u32 = @ptrFromInt(target);
    const value = p.*;
    rt.print("read 0x{x}\n", .{value});
    rt.exit(0x33);
}
