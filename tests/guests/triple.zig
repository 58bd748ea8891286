// triple: loads an IDT with limit 0 and executes INT3: the #BP cannot be delivered (#GP),
// nor the #GP, nor the #DF, so the CPU shuts down (Intel SDM vol. 3A 6.15, interrupt 8).
// Exits 0x44 if it survives. With the command line "halt" it executes CLI; HLT instead: a
// halt that no interrupt can end, which a hypervisor must stop rather than wait on forever.
// With "cf9" it resets the machine as Linux's reboot=pci does (0x02, then 0x06 to port
// 0xCF9); with "kbd" as reboot=kbd does (wait for the 8042's input buffer, 0xFE to 0x64).
const std = @import("std");
const rt = @import("rt.zig");
pub const panic = rt.panic;
comptime {
    _ = rt; // analyze the entry, header and exports
}

var empty_idtr: [3]u16 align(4) = .{ 0, 0, 0 };

pub fn main(magic: u32, info_addr: u32) noreturn {
    if (rt.multibootInfo(magic, info_addr)) |info| {
        const cmdline = if (info.flags & (1 << 2) != 0) rt.cstr(info.cmdline) else "";
        if (std.mem.eql(u8, cmdline, "cf9")) {
            rt.puts("about to reset through port 0xcf9\n");
            rt.outb(0xcf9, 0x02);
            rt.outb(0xcf9, 0x06);
            rt.puts("survived the reset\n");
            rt.exit(0x46);
        }
        if (std.mem.eql(u8, cmdline, "kbd")) {
            rt.puts("about to reset through the keyboard controller\n");
            var spins: u32 = 0;
            while (rt.inb(0x64) & 0x02 != 0 and spins < 100_000) : (spins += 1) {}
            rt.outb(0x64, 0xfe);
            rt.puts("survived the reset\n");
            rt.exit(0x47);
        }
        if (std.mem.eql(u8, cmdline, "halt")) {
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
