//! Zerovisor's UEFI entry: records the boot TSC, runs the TypeScript kernel (compiled
//! to C by wasm2c), and turns a Wasm trap into the fault screen.
const std = @import("std");
const uefi = std.os.uefi;
const cpu = @import("cpu.zig");
const fault = @import("fault.zig");
const efi = @import("efi.zig");

comptime {
    _ = @import("host_abi.zig"); // the generated wasm2c import bindings
}

extern fn zv_run_kernel() c_int;
extern fn wasm_rt_strerror(trap: c_int) [*:0]const u8;

pub fn main() uefi.Status {
    efi.boot_tsc = cpu.rdtsc();
    // The firmware watchdog would reset the machine after 5 minutes at the console.
    _ = uefi.system_table.boot_services.?.setWatchdogTimer(0, 0, 0, null);
    const trap = zv_run_kernel();
    if (trap != 0) fault.show("wasm trap", std.mem.span(wasm_rt_strerror(trap)));
    fault.show("kernel returned", "main() returned without exit");
}

/// Pages for the Wasm linear memory and tables (UEFI AllocatePages, LoaderData).
export fn zv_alloc_pages(bytes: u64) ?*anyopaque {
    const bs = uefi.system_table.boot_services.?;
    var base: [*]align(4096) u8 = undefined;
    const pages: usize = @intCast((bytes + 4095) / 4096);
    if (bs.allocatePages(.AllocateAnyPages, .LoaderData, pages, &base) != .Success) return null;
    return base;
}

export fn zv_free_pages(base: *anyopaque, bytes: u64) void {
    const pages: usize = @intCast((bytes + 4095) / 4096);
    _ = uefi.system_table.boot_services.?.freePages(@ptrCast(@alignCast(base)), pages);
}

export fn zv_abort() noreturn {
    fault.show("runtime abort", "the Wasm runtime aborted");
}
