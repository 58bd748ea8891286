// triple: loads an IDT with limit 0 and executes INT3: the #BP cannot be delivered (#GP),
// nor the #GP, nor the #DF, so the CPU shuts down (Intel SDM vol. 3A 6.15, interrupt 8).
// Exits 0x44 if it survives. With the command line "halt" it executes CLI; HLT instead: a
// halt that no interrupt can end, which a hypervisor must stop rather than wait on forever.
const std = @import("std");
const rt = @import("rt.zig");
pub const panic = rt.panic;
comptime {
    _ = rt; // analyze the entry, header and exports
}

var empty_idtr: [3]u16 align(4) = .{ 0, 0, 0 };

pub fn main(magic: u32, info_addr: u32) noreturn {
    if (rt.multibootInfo(magic, info_addr)) |info| {
        if (info.flags & (1 << 2) != 0 and std.mem.eql(u8, rt.cstr(info.cmdline), "halt")) {
            rt.puts("about to halt with interrupts off\n");
            asm volatile ("cli; hlt");
            rt.puts("woke up from a halt with interrupts off\n");
            rt.exit(0x45);
        }
    }
    rt.puts("about to triple-fault\n");
    asm volatile (
        \\lidtl (%[p])
        \\int3
        :
        : [p] "r" (&empty_idtr),
        : "memory"
    );
    rt.puts("survived the triple fault\n");
    rt.exit(0x44);
}
