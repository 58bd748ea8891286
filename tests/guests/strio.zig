// strio: string I/O and guest paging, the exits a hypervisor without decode assists must
// work out from the guest's own memory: REP OUTSB to COM1 (forwards, backwards with DF=1,
// and with an FS override), REP INSB from a port nobody answers (all 0xFF), then the same
// with 32-bit paging on (Intel SDM vol. 3A 4.3): code and data reached through a 4 MiB
// alias (PSE) at 0x40000000 and a 4 KiB-page alias at 0x80000000, where CPUID and OUTSB
// exit at linear addresses that are not guest-physical. Then the same through PAE paging
// (SDM 4.4: a 4-entry PDPT, 2 MiB pages at 0x40200000, 4 KiB pages at 0x80200000), and
// through 4-level paging in 64-bit mode (SDM 4.5, 9.8.5: EFER.LME, a 64-bit code segment):
// CPUID and REP OUTSB from code and data at 0x8040300000, above 4 GiB, where a walk that
// dropped the upper address bits would find nothing (0x40300000 is not mapped then).
// Exits from there with OUTSB of 0x2a to 0xF4.
const std = @import("std");
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
const PAE_ALIAS_2M: u32 = 0x40200000;
const PAE_ALIAS_4K: u32 = 0x80200000;

const reversed = "\nsdrawkcab :1=FD ,bstuo per"; // "rep outsb, DF=1: backwards\n" backwards

/// Runs at an alias address: CPUID and OUTSB exit with RIP/RSI that are not guest-physical.
fn aliased(offset: u32, label: [*:0]const u8) callconv(.C) void {
    const v = rt.cpuid(0x40000000, 0);
    const msg = ": rep outsb through the alias\n";
    const name = std.mem.span(label);
    repOutsb(COM1, @as([*]const u8, @ptrFromInt(@intFromPtr(name.ptr) + offset))[0..name.len]);
    repOutsb(COM1, @as([*]const u8, @ptrFromInt(@intFromPtr(msg.ptr) + offset))[0..msg.len]);
    rt.print("{s}: cpuid 0x40000000 at 0x{x:0>8} ebx 0x{x:0>8}\n", .{ name, @intFromPtr(&aliased) + offset, v[1] });
}

fn callAt(offset: u32, label: [*:0]const u8) void {
    const f: *const fn (u32, [*:0]const u8) callconv(.C) void = @ptrFromInt(@intFromPtr(&aliased) + offset);
    f(offset, label);
}

fn pagingOff() void {
    asm volatile (
        \\mov %%cr0, %%eax
        \\and $0x7fffffff, %%eax
        \\mov %%eax, %%cr0
        ::: "eax", "memory");
}

fn pagingOn(root: u32) void {
    asm volatile (
        \\mov %[root], %%cr3
        \\mov %%cr0, %%eax
        \\or $0x80000000, %%eax
        \\mov %%eax, %%cr0
        :
        : [root] "r" (root),
        : "eax", "memory"
    );
}

// PAE (SDM 4.4) and 4-level (SDM 4.5) tables: 64-bit entries; P, RW = 0x3; PS (2 MiB) = 0x80
var pdpt: [4]u64 align(32) = .{ 0, 0, 0, 0 };
var pd_identity: [512]u64 align(4096) = [_]u64{0} ** 512; // 0-4 MiB in 2 MiB pages
var pd_alias: [512]u64 align(4096) = [_]u64{0} ** 512; // entries 1-2: 0-4 MiB in 2 MiB pages
var pd_small: [512]u64 align(4096) = [_]u64{0} ** 512; // entry 1: the 4 KiB page table
var pt_small: [512]u64 align(4096) = [_]u64{0} ** 512; // 0-2 MiB in 4 KiB pages
var pml4: [512]u64 align(4096) = [_]u64{0} ** 512;
var pdpt_low: [512]u64 align(4096) = [_]u64{0} ** 512;
var pdpt_high: [512]u64 align(4096) = [_]u64{0} ** 512;

// flat 32-bit code and data as in rt.zig, and a 64-bit code segment (L = 1, SDM 3.4.5)
var gdt64: [4]u64 align(8) = .{ 0, 0x00CF9B000000FFFF, 0x00CF93000000FFFF, 0x00AF9B000000FFFF };
var gdt64_ptr: packed struct { limit: u16, base: u32 } align(4) = .{ .limit = 31, .base = 0 };

/// The 64-bit part: it jumps to its alias at 0x8040200000 (PML4 entry 1, PDPT entry 1, PD entry 1), checks CPUID's
/// Zerovisor leaf there, prints through REP OUTSB with 64-bit RSI/RCX, and exits with 0x2a.
fn longMode() noreturn {
    gdt64_ptr.base = @intFromPtr(&gdt64);
    asm volatile (
        \\lgdtl (%[gdtp])
        \\mov $0xC0000080, %%ecx
        \\rdmsr
        \\or $0x100, %%eax
        \\wrmsr
        \\mov %[root], %%cr3
        \\mov %%cr0, %%eax
        \\or $0x80000000, %%eax
        \\mov %%eax, %%cr0
        \\ljmpl $0x18, $strio_long64
        \\.code64
        \\strio_long64:
        \\  movabsq $0x8040200000, %%rbx
        \\  leaq strio_long_high(%%rip), %%rax
        \\  addq %%rbx, %%rax
        \\  jmpq *%%rax
        \\strio_long_high:
        \\  leaq strio_long_at(%%rip), %%rsi
        \\  movl $strio_long_at_end - strio_long_at, %%ecx
        \\  movw $0x3f8, %%dx
        \\  rep outsb
        \\  movl $0x40000000, %%eax
        \\  xorl %%ecx, %%ecx
        \\  cpuid
        \\  leaq strio_long_ok(%%rip), %%rsi
        \\  movl $strio_long_ok_end - strio_long_ok, %%ecx
        \\  cmpl $0x6f72655a, %%ebx
        \\  je 1f
        \\  leaq strio_long_bad(%%rip), %%rsi
        \\  movl $strio_long_bad_end - strio_long_bad, %%ecx
        \\1:
        \\  movw $0x3f8, %%dx
        \\  rep outsb
        \\  leaq strio_long_status(%%rip), %%rsi
        \\  movw $0xf4, %%dx
        \\  outsb
        \\2:
        \\  cli
        \\  hlt
        \\  jmp 2b
        \\strio_long_at:
        \\  .ascii "long: rep outsb at the 4-level alias\n"
        \\strio_long_at_end:
        \\strio_long_ok:
        \\  .ascii "long: cpuid 0x40000000 ebx 0x6f72655a\n"
        \\strio_long_ok_end:
        \\strio_long_bad:
        \\  .ascii "long: cpuid 0x40000000 wrong\n"
        \\strio_long_bad_end:
        \\strio_long_status:
        \\  .byte 0x2a
        \\.code32
        :
        : [gdtp] "r" (&gdt64_ptr),
          [root] "r" (@intFromPtr(&pml4)),
        : "eax", "ebx", "ecx", "edx", "esi", "memory"
    );
    unreachable;
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
        ::: "eax", "memory");
    pagingOn(@intFromPtr(&page_directory));
    rt.puts("strio: paging on\n");
    callAt(ALIAS_4M, "paged");
    callAt(ALIAS_4K, "paged");
    insbCheck("paged");

    // PAE: PDPT entry 0 identity (0-4 MiB); 0x40200000 the first 4 MiB again in 2 MiB pages
    // (PDPT entry 1, PD entries 1-2), 0x80200000 its first 2 MiB in 4 KiB pages (PDPT entry
    // 2, PD entry 1). A walk that lost the PDPT index would land 2 MiB higher, on zeros.
    pd_identity[0] = 0x000000 | 0x83;
    pd_identity[1] = 0x200000 | 0x83;
    pd_alias[1] = 0x000000 | 0x83;
    pd_alias[2] = 0x200000 | 0x83;
    for (&pt_small, 0..) |*e, i| e.* = @as(u64, i) * 4096 | 0x3;
    pd_small[1] = @intFromPtr(&pt_small) | 0x3;
    pdpt[0] = @intFromPtr(&pd_identity) | 0x1; // PDPTEs: P only (SDM 4.4.1, RW is reserved)
    pdpt[1] = @intFromPtr(&pd_alias) | 0x1;
    pdpt[2] = @intFromPtr(&pd_small) | 0x1;
    pagingOff();
    asm volatile (
        \\mov %%cr4, %%eax
        \\or $0x20, %%eax
        \\mov %%eax, %%cr4
        ::: "eax", "memory");
    pagingOn(@intFromPtr(&pdpt));
    rt.puts("strio: PAE paging on\n");
    callAt(PAE_ALIAS_2M, "pae");
    callAt(PAE_ALIAS_4K, "pae");

    // 4-level: PML4 entry 0 identity (0-4 MiB only), entry 1 PDPT entry 1 (0x8040000000):
    // PD entry 1 (0x8040200000), 4 KiB pages of 0-2 MiB
    pdpt_low[0] = @intFromPtr(&pd_identity) | 0x3;
    pdpt_high[1] = @intFromPtr(&pd_small) | 0x3;
    pml4[0] = @intFromPtr(&pdpt_low) | 0x3;
    pml4[1] = @intFromPtr(&pdpt_high) | 0x3;
    pagingOff();
    rt.puts("strio: entering 64-bit mode\n");
    longMode();
}
