// triple: loads an IDT with limit 0 and executes INT3: the #BP cannot be delivered (#GP),
// nor the #GP, nor the #DF, so the CPU shuts down (Intel SDM vol. 3A 6.15, interrupt 8).
// Exits 0x44 if it survives.
const rt = @import("rt.zig");
pub const panic = rt.panic;
comptime {
    _ = rt; // analyze the entry, header and exports
}

var empty_idtr: [3]u16 align(4) = .{ 0, 0, 0 };

pub fn main(_: u32, _: u32) noreturn {
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
