// probe: prints what the CPU shows a guest (CPUID leaves 0, 1, 0x40000000, 0x80000001) and
// reads IA32_EFER, IA32_APIC_BASE, VM_CR and the x2APIC ID (0x802); a #GP on RDMSR (0F 32,
// Intel SDM vol. 2B) prints "msr <hex>: #GP" and skips the instruction. Ends with "probe done"
// and exit 0x11. Output format:
//   cpuid 0x0 max 0x<eax> vendor <12 chars>
//   cpuid 0x1 ecx 0x<ecx> edx 0x<edx> hypervisor <ECX bit 31>
//   cpuid 0x40000000 eax 0x<eax> signature <EBX ECX EDX as 12 chars, '.' for unprintable>
//   cpuid 0x80000001 ecx 0x<ecx> edx 0x<edx> svm <ECX bit 2>   (AMD APM vol. 3 E.4.2)
//   msr 0x<index>: 0x<value>    or    msr 0x<index>: #GP
const rt = @import("rt.zig");
pub const panic = rt.panic;
comptime {
    _ = rt; // analyze the entry, header and exports
}

var gp_count: u32 = 0;

/// #GP at a RDMSR: report it, skip the 2-byte instruction and resume.
pub fn onException(frame: *rt.Frame) bool {
    if (frame.vector != 13) return false;
    const ip: [*]const u8 = @ptrFromInt(frame.eip);
    if (ip[0] != 0x0F or ip[1] != 0x32) return false;
    rt.print("msr 0x{x}: #GP\n", .{frame.ecx});
    gp_count += 1;
    frame.eip += 2;
    return true;
}

fn signature(regs: [3]u32) [12]u8 {
    var s: [12]u8 = undefined;
    for (regs, 0..) |r, i| {
        for (0..4) |b| {
            const c: u8 = @truncate(r >> @intCast(b * 8));
            s[i * 4 + b] = if (c >= 0x20 and c < 0x7f) c else '.';
        }
    }
    return s;
}

fn msr(index: u32) void {
    const before = gp_count;
    const value = rt.rdmsr(index);
    if (gp_count == before) rt.print("msr 0x{x}: 0x{x}\n", .{ index, value });
}

pub fn main(_: u32, _: u32) noreturn {
    const l0 = rt.cpuid(0, 0);
    rt.print("cpuid 0x0 max 0x{x} vendor {s}\n", .{ l0[0], signature(.{ l0[1], l0[3], l0[2] }) });
    const l1 = rt.cpuid(1, 0);
    rt.print("cpuid 0x1 ecx 0x{x} edx 0x{x} hypervisor {d}\n", .{ l1[2], l1[3], l1[2] >> 31 });
    const hv = rt.cpuid(0x40000000, 0);
    rt.print("cpuid 0x40000000 eax 0x{x} signature {s}\n", .{ hv[0], signature(.{ hv[1], hv[2], hv[3] }) });
    const ext = rt.cpuid(0x80000000, 0);
    if (ext[0] >= 0x80000001) {
        const e1 = rt.cpuid(0x80000001, 0);
        rt.print("cpuid 0x80000001 ecx 0x{x} edx 0x{x} svm {d}\n", .{ e1[2], e1[3], (e1[2] >> 2) & 1 });
    } else rt.print("cpuid 0x80000001 absent (max 0x{x})\n", .{ext[0]});
    msr(0xC0000080); // IA32_EFER
    msr(0x1B); // IA32_APIC_BASE
    msr(0xC0010114); // VM_CR (AMD APM vol. 2 15.30.1)
    // x2APIC ID: #GP on hardware while the local APIC is in xAPIC mode (Intel SDM vol. 3A
    // 10.12.1.2); QEMU 7.2 TCG reads it (like any unknown MSR) as 0, a hypervisor should deny it.
    msr(0x802);
    rt.puts("probe done\n");
    rt.exit(0x11);
}
