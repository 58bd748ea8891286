// timer-bench: a guest with a 1 kHz local APIC timer in TSC-deadline mode, for
// bench/interrupts.mjs. Command line: `idle` or `busy`, then optional `ms=N` (the recorded
// window, default 2000), `warmup=N` (ms before it, default 300), `tail=N` (ms after it,
// default 500) and `quiet=N` (ms between "armed" and the first deadline, default 0: the host
// reads its counters then, while the guest halts and no deadline can pile up). In x2APIC mode when CPUID.1:ECX[21]
// offers it (LVT timer MSR 0x832, EOI MSR 0x80B), else xAPIC (MMIO at 0xFEE00000); the
// deadline is IA32_TSC_DEADLINE (MSR 0x6E0) in both (SDM vol. 3A 11.5.4.1: the timer counts
// the TSC, the deadline is a TSC value).
//
// The guest measures its TSC rate against PIT channel 2 (as irq.zig does), masks the 8259A
// pair and LINT0, arms the first deadline and prints "timer-bench: armed". Each timer
// interrupt's handler reads the TSC first thing and records it minus the deadline (the
// latency), then arms deadline + 1 ms (no drift: a late interrupt does not move the next
// deadline) and EOIs. Between interrupts `idle` halts (STI; HLT) and `busy` spins on memory
// (no instruction that exits). Latencies are recorded only in the window, so the host can
// take its counters before the timer starts (`quiet`) and in the tail; the guest prints
// "timer-bench: done, active <ticks> ticks" (TSC from the first deadline) when the window
// closes, then, after the tail, one result line:
//   timer-bench: <mode> apic <x2apic|xapic> tsc <kHz> kHz n <count> in <us> us
//     latency ticks p50 <t> p99 <t> max <t> us p50 <u.uuu> p99 <u.uuu> max <u.uuu> early <n> other <n>
// and exits 0x2a (0x2b: an interrupt came before its deadline, went missing, or no
// TSC-deadline timer).
const std = @import("std");
const rt = @import("rt.zig");
pub const panic = rt.panic;
comptime {
    _ = rt; // its entry, exported
}

const TIMER_VECTOR = 0x40;
const SPURIOUS_VECTOR = 0xFF;
const MAX_SAMPLES = 20000;

// Vector 0x40: the TSC into timer_tsc before anything else (after PUSHAD, which RDTSC's
// EAX/EDX need), then zv_timer. Every other vector 32-255 counts in other_interrupts and
// returns (the PIC and LINT0 are masked: none is expected). SDM vol. 3A 6.12.1.
comptime {
    asm (
        \\.section .text.timer_stub, "ax"
        \\.globl timer_stub
        \\timer_stub:
        \\  pushal
        \\  rdtsc
        \\  movl %eax, timer_tsc
        \\  movl %edx, timer_tsc+4
        \\  cld
        \\  call zv_timer
        \\  popal
        \\  iretl
        \\.globl other_stub
        \\other_stub:
        \\  lock incl other_interrupts
        \\  iretl
    );
}

extern const zv_isr_table: [32]u32;
extern const timer_stub: u8;
extern const other_stub: u8;
export var timer_tsc: u64 = 0;
export var other_interrupts: u32 = 0;

var idt: [256]u64 align(8) = undefined;
var idtr: [3]u16 align(4) = undefined;

fn gate(off: u32) u64 {
    const o: u64 = off;
    return (o & 0xFFFF) | (0x08 << 16) | (0x8E << 40) | ((o >> 16) << 48);
}

fn installIdt() void {
    for (&idt, 0..) |*g, i| {
        g.* = if (i < 32) gate(zv_isr_table[i]) else if (i == TIMER_VECTOR) gate(@intFromPtr(&timer_stub)) else gate(@intFromPtr(&other_stub));
    }
    const base: u32 = @intFromPtr(&idt);
    idtr = .{ @sizeOf(@TypeOf(idt)) - 1, @truncate(base), @truncate(base >> 16) };
    asm volatile ("lidtl (%[p])"
        :
        : [p] "r" (&idtr),
        : "memory"
    );
}

// ---- TSC, MSRs, MMIO ----
const outb = rt.outb;
const inb = rt.inb;

fn rdtsc() u64 {
    var lo: u32 = undefined;
    var hi: u32 = undefined;
    asm volatile ("rdtsc"
        : [lo] "={eax}" (lo),
          [hi] "={edx}" (hi),
    );
    return (@as(u64, hi) << 32) | lo;
}

fn wrmsr(msr: u32, value: u64) void {
    asm volatile ("wrmsr"
        :
        : [c] "{ecx}" (msr),
          [a] "{eax}" (@as(u32, @truncate(value))),
          [d] "{edx}" (@as(u32, @truncate(value >> 32))),
        : "memory"
    );
}

fn rdmsr(msr: u32) u64 {
    var lo: u32 = undefined;
    var hi: u32 = undefined;
    asm volatile ("rdmsr"
        : [lo] "={eax}" (lo),
          [hi] "={edx}" (hi),
        : [c] "{ecx}" (msr),
        : "memory"
    );
    return (@as(u64, hi) << 32) | lo;
}

fn mmioWrite(addr: u32, value: u32) void {
    asm volatile ("movl %[v], (%[a])"
        :
        : [v] "r" (value),
          [a] "r" (addr),
        : "memory"
    );
}

const APIC: u32 = 0xFEE00000;
var x2apic = false;

/// An xAPIC register (offset in the page, SDM 11.4.1 table 11-1) or its x2APIC MSR
/// (0x800 + offset / 16, SDM 11.12.1.2 table 11-6).
fn apicWrite(reg: u32, value: u32) void {
    if (x2apic) wrmsr(0x800 + reg / 16, value) else mmioWrite(APIC + reg, value);
}

// ---- the timer ----
var khz: u64 = 1_000_000; // TSC kHz, measured first
var deadline: u64 = 0; // the armed IA32_TSC_DEADLINE
var fired: u32 = 0; // interrupts taken
var recordFrom: u32 = 0; // interrupt numbers [recordFrom, recordTo) are recorded
var recordTo: u32 = 0;
var samples: [MAX_SAMPLES]u32 = undefined; // latency in TSC ticks (saturated)
var early: u32 = 0; // interrupts before their deadline (must stay 0)

export fn zv_timer() callconv(.C) void {
    const now = timer_tsc;
    const n = fired;
    if (n >= recordFrom and n < recordTo) {
        if (now < deadline) {
            early += 1;
            samples[n - recordFrom] = 0;
        } else {
            const late = now - deadline;
            samples[n - recordFrom] = if (late > 0xFFFF_FFFF) 0xFFFF_FFFF else @truncate(late);
        }
    }
    deadline += khz; // 1 ms after the previous deadline, whenever this one came
    wrmsr(0x6E0, deadline);
    apicWrite(0xB0, 0); // EOI
    @as(*volatile u32, &fired).* = n + 1;
}

fn firedCount() u32 {
    return @as(*volatile u32, &fired).*;
}

/// Until `n` interrupts have been taken (or 4x their time and `extraMs` passed): HLT between
/// them (idle) or a spin on memory (busy).
fn waitUntil(n: u32, busy: bool, extraMs: u32) void {
    const have = firedCount();
    const limit = rdtsc() + (@as(u64, n -| have) * 4 + 100 + extraMs) * khz;
    if (busy) {
        asm volatile ("sti" ::: "memory");
        while (firedCount() < n and rdtsc() < limit) {} // no PAUSE: it may be intercepted
        asm volatile ("cli" ::: "memory");
    } else {
        while (firedCount() < n and rdtsc() < limit) asm volatile ("sti; hlt; cli" ::: "memory");
    }
}

fn calibrate() void {
    const latch: u16 = 1193182 / 20; // 50 ms of channel 2, mode 0, gate high
    outb(0x61, (inb(0x61) & ~@as(u8, 0x02)) | 0x01);
    outb(0x43, 0xb0);
    outb(0x42, @truncate(latch));
    outb(0x42, @truncate(latch >> 8));
    const t1 = rdtsc();
    var polls: u32 = 0;
    while (inb(0x61) & 0x20 == 0 and polls < 100_000_000) : (polls += 1) {}
    khz = (rdtsc() - t1) / 50;
    if (khz == 0) khz = 1;
}

/// `ticks` TSC ticks as microseconds with three decimals.
fn printUs(ticks: u64) void {
    const ns = ticks * 1_000_000 / khz;
    rt.print("{d}.{d:0>3}", .{ ns / 1000, ns % 1000 });
}

/// Ascending, in place (heapsort: no recursion, no buffer).
fn heapSort(a: []u32) void {
    if (a.len < 2) return;
    var start = a.len / 2;
    while (start > 0) {
        start -= 1;
        siftDown(a, start, a.len);
    }
    var end = a.len;
    while (end > 1) {
        end -= 1;
        std.mem.swap(u32, &a[0], &a[end]);
        siftDown(a, 0, end);
    }
}

fn siftDown(a: []u32, first: usize, end: usize) void {
    var root = first;
    while (2 * root + 1 < end) {
        var child = 2 * root + 1;
        if (child + 1 < end and a[child] < a[child + 1]) child += 1;
        if (a[root] >= a[child]) return;
        std.mem.swap(u32, &a[root], &a[child]);
        root = child;
    }
}

fn option(cmdline: []const u8, name: []const u8, default: u32) u32 {
    var it = std.mem.tokenizeScalar(u8, cmdline, ' ');
    while (it.next()) |w| {
        if (w.len > name.len and std.mem.startsWith(u8, w, name) and w[name.len] == '=') {
            return std.fmt.parseInt(u32, w[name.len + 1 ..], 10) catch default;
        }
    }
    return default;
}

pub fn main(magic: u32, info: u32) noreturn {
    installIdt();
    const mb = rt.multibootInfo(magic, info);
    const cmdline = if (mb) |m| (if (m.flags & (1 << 2) != 0) rt.cstr(m.cmdline) else "") else "";
    const busy = std.mem.startsWith(u8, cmdline, "busy");
    const mode = if (busy) "busy" else "idle";
    const window: u32 = @min(option(cmdline, "ms", 2000), MAX_SAMPLES); // u32: @min would narrow it to u15
    const warmup = option(cmdline, "warmup", 300);
    const tail = option(cmdline, "tail", 500);
    const quiet = option(cmdline, "quiet", 0);

    calibrate();
    const features = rt.cpuid(1, 0);
    if (features[2] & (1 << 24) == 0) {
        rt.puts("timer-bench: no TSC-deadline timer\n");
        rt.exit(0x2b);
    }
    outb(0x21, 0xFF); // the 8259A pair masked (OCW1)
    outb(0xA1, 0xFF);
    if (features[2] & (1 << 21) != 0) {
        wrmsr(0x1B, rdmsr(0x1B) | 0xC00); // enabled, EXTD: x2APIC mode (SDM 11.12.1)
        x2apic = true;
    }
    apicWrite(0xF0, 0x100 | SPURIOUS_VECTOR); // SVR: software-enabled
    apicWrite(0x350, 0x10000); // LVT0 (LINT0) masked
    apicWrite(0x320, 0x40000 | TIMER_VECTOR); // LVT timer: TSC-deadline mode, unmasked
    recordFrom = warmup;
    recordTo = warmup + window;
    const first = rdtsc() + @as(u64, quiet + 1) * khz;
    deadline = first;
    wrmsr(0x6E0, deadline);
    rt.print("timer-bench: armed, {s}, {s}, tsc {d} kHz\n", .{ mode, if (x2apic) "x2apic" else "xapic", khz });

    waitUntil(1, false, quiet); // both modes halt until the first deadline: the host reads its counters then
    waitUntil(recordFrom, busy, 0);
    const t0 = rdtsc();
    waitUntil(recordTo, busy, 0);
    const t1 = rdtsc();
    rt.print("timer-bench: done, active {d} ticks\n", .{t1 - first});
    waitUntil(recordTo + tail, busy, 0);
    wrmsr(0x6E0, 0); // disarmed (SDM 11.5.4.1)
    apicWrite(0x320, 0x10000 | TIMER_VECTOR);

    const n = firedCount() -| recordFrom;
    const recorded: usize = @min(n, window);
    const sorted = samples[0..recorded];
    if (option(cmdline, "dump", 0) != 0) {
        rt.print("timer-bench: t0 {d} t1 {d} deadline {d} fired {d}\n", .{ t0, t1, deadline, firedCount() });
        for (sorted, 0..) |v, i| rt.print("{d}{s}", .{ v, if (i % 16 == 15) "\n" else " " });
        rt.puts("\n");
    }
    heapSort(sorted);
    var unsorted: u32 = 0;
    for (1..recorded) |i| {
        if (sorted[i - 1] > sorted[i]) unsorted += 1;
    }
    if (unsorted != 0) rt.print("timer-bench: sort failed at {d} places\n", .{unsorted});
    var p50: u64 = 0;
    var p99: u64 = 0;
    var max: u64 = 0;
    if (recorded > 0) {
        p50 = sorted[(recorded - 1) * 50 / 100];
        p99 = sorted[(recorded - 1) * 99 / 100];
        max = sorted[recorded - 1];
    }
    rt.print("timer-bench: {s} apic {s} tsc {d} kHz n {d} in {d} us latency ticks p50 {d} p99 {d} max {d} us p50 ", .{
        mode, if (x2apic) "x2apic" else "xapic", khz, recorded, (t1 - t0) * 1000 / khz, p50, p99, max,
    });
    printUs(p50);
    rt.puts(" p99 ");
    printUs(p99);
    rt.puts(" max ");
    printUs(max);
    rt.print(" early {d} other {d}\n", .{ early, @as(*volatile u32, &other_interrupts).* });
    rt.exit(if (early == 0 and recorded == window) 0x2a else 0x2b);
}
