// cpuid-bench: the exit-cost benchmark's guest (bench/vm-exit.mjs). Runs N CPUID
// instructions (each one a VM exit) and, for comparison, the same loop without CPUID,
// reading the TSC around both; under QEMU -icount the TSC advances with executed
// instructions, host ones included. N from the command line "n=<N>" (default 20000).
// Prints "cpuid-bench n=<N> cpuid_ticks=<T> loop_ticks=<L>" and exits 0x55.
const rt = @import("rt.zig");
pub const panic = rt.panic;
comptime {
    _ = rt;
}

inline fn rdtsc() u64 {
    var lo: u32 = undefined;
    var hi: u32 = undefined;
    asm volatile ("rdtsc"
        : [lo] "={eax}" (lo),
          [hi] "={edx}" (hi),
    );
    return (@as(u64, hi) << 32) | lo;
}

inline fn cpuidZero() void {
    asm volatile ("cpuid"
        :
        : [leaf] "{eax}" (@as(u32, 0)),
          [sub] "{ecx}" (@as(u32, 0)),
        : "ebx", "edx", "memory"
    );
}

fn parseN(cmdline: []const u8) u32 {
    var i: usize = 0;
    while (i + 2 <= cmdline.len) : (i += 1) {
        if (cmdline[i] == 'n' and cmdline[i + 1] == '=' and (i == 0 or cmdline[i - 1] == ' ')) {
            var n: u32 = 0;
            var j = i + 2;
            while (j < cmdline.len and cmdline[j] >= '0' and cmdline[j] <= '9') : (j += 1) n = n *% 10 +% (cmdline[j] - '0');
            if (n > 0) return n;
        }
    }
    return 20000;
}

pub fn main(magic: u32, info_addr: u32) noreturn {
    var n: u32 = 20000;
    if (rt.multibootInfo(magic, info_addr)) |info| {
        if (info.flags & (1 << 2) != 0) n = parseN(rt.cstr(info.cmdline));
    }
    var i: u32 = 0;
    const t0 = rdtsc();
    while (i < n) : (i += 1) cpuidZero();
    const t1 = rdtsc();
    i = 0;
    while (i < n) : (i += 1) asm volatile ("" ::: "memory");
    const t2 = rdtsc();
    rt.print("cpuid-bench n={d} cpuid_ticks={d} loop_ticks={d}\n", .{ n, t1 - t0, t2 - t1 });
    rt.exit(0x55);
}
