// irq: interrupts as an operating system takes them on Zerovisor's virtual platform. The
// command line names the parts to run, in this order (all of them when it is empty):
//   pic     the 8259A pair initialized as Linux does (ICW1-4, vector base 0x20/0x28), PIT
//           channel 0 at 1 kHz on IRQ 0, 100 interrupts taken in HLT, EOI, ISR clear;
//   ioapic  the PIC masked, PIT channel 0 through I/O APIC pin 0 (vector 0x50), 50 interrupts;
//   lapic   the local APIC: version, timer periodic (1 ms, 50 interrupts), one-shot (5 ms,
//           divide 16: the current count at 0 after it), TSC-deadline (IA32_TSC_DEADLINE,
//           2 ms: fires at or after the deadline), a self-IPI and an NMI through the ICR;
//   x2apic  x2APIC mode through IA32_APIC_BASE: the registers as MSRs, the MMIO page gone,
//           SELF_IPI, a TSC-deadline timer through MSRs;
//   uart    the 16550's received-data interrupt on IRQ 4 (loopback: the guest's own bytes
//           come back as input) and its THRE interrupt;
//   halt    says so, then waits in HLT with interrupts on and nothing armed, for ever;
//   type    (alone) COM1's received-data interrupt on IRQ 4 through the PIC, HLT between them:
//           "type: ready", then each line typed at `console <vm>` comes back as "type: got
//           <line> via <n> interrupts" (no polling: only the handler reads the UART);
//   tick    (alone) its LAPIC timer periodic at 1 kHz, HLT between interrupts, for ever: every
//           250 interrupts "tick <count> at <guest TSC in ms> ms" (a live migration must
//           neither lose nor double interrupts, nor move the guest's TSC backwards).
// The APIC timer counts at the TSC's rate (Zerovisor's platform: CPUID 0x15 says so on Intel),
// so counts are TSC ticks, which the guest measures against PIT channel 2 first ("tsc N kHz").
// Prints one line per result, then exits 0x2a.
const std = @import("std");
const rt = @import("rt.zig");
pub const panic = rt.panic;

// Stubs for vectors 32-255, 16 bytes apart: push the vector, then the common path, which calls
// zv_irq(vector) and returns with IRET (SDM vol. 3A 6.12.1).
comptime {
    asm (
        \\.section .text.irq_stubs, "ax"
        \\.balign 16
        \\.globl irq_stubs
        \\irq_stubs:
        \\.set vec, 32
        \\.rept 224
        \\  .balign 16
        \\  pushl $vec
        \\  jmp irq_common
        \\  .set vec, vec + 1
        \\.endr
        \\irq_common:
        \\  pushal
        \\  movl 32(%esp), %eax
        \\  pushl %eax
        \\  call zv_irq
        \\  addl $4, %esp
        \\  popal
        \\  addl $4, %esp
        \\  iretl
    );
}

extern const zv_isr_table: [32]u32;
extern const irq_stubs: u8;

var idt: [256]u64 align(8) = undefined;
var idtr: [3]u16 align(4) = undefined;

fn installIdt() void {
    const stubs: u32 = @intFromPtr(&irq_stubs);
    for (&idt, 0..) |*gate, i| {
        const off: u64 = if (i < 32) zv_isr_table[i] else stubs + (@as(u32, @intCast(i)) - 32) * 16;
        gate.* = (off & 0xFFFF) | (0x08 << 16) | (0x8E << 40) | ((off >> 16) << 48);
    }
    const base: u32 = @intFromPtr(&idt);
    idtr = .{ @sizeOf(@TypeOf(idt)) - 1, @truncate(base), @truncate(base >> 16) };
    asm volatile ("lidtl (%[p])"
        :
        : [p] "r" (&idtr),
        : "memory"
    );
}

// ---- what the handlers saw ----
var counts: [256]u32 = [_]u32{0} ** 256;
var nmis: u32 = 0;
var deadlineSeen: u64 = 0; // the TSC when the TSC-deadline interrupt came
var received: [16]u8 = undefined;
var receivedCount: u32 = 0;
var x2apic = false;

fn count(v: u32) u32 {
    return @as(*volatile u32, &counts[v]).*;
}

// ---- ports, MSRs, TSC, MMIO (explicit MOV forms: the accesses Zerovisor's emulator sees) ----
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
    );
    return (@as(u64, hi) << 32) | lo;
}

fn mmioRead(addr: u32) u32 {
    return asm volatile ("movl (%[a]), %[r]"
        : [r] "=r" (-> u32),
        : [a] "r" (addr),
        : "memory"
    );
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
const IOAPIC: u32 = 0xFEC00000;

fn apicRead(reg: u32) u32 {
    return mmioRead(APIC + reg);
}
fn apicWrite(reg: u32, value: u32) void {
    mmioWrite(APIC + reg, value);
}
fn apicEoi() void {
    if (x2apic) wrmsr(0x80B, 0) else apicWrite(0xB0, 0);
}
fn ioapicWrite(reg: u32, value: u32) void {
    mmioWrite(IOAPIC, reg);
    mmioWrite(IOAPIC + 0x10, value);
}

inline fn sti() void {
    asm volatile ("sti" ::: "memory");
}
inline fn cli() void {
    asm volatile ("cli" ::: "memory");
}
/// Waits in HLT (interrupts on) until counts[v] reaches n or about 2 s of TSC pass.
fn waitFor(v: u32, n: u32) void {
    const t0 = rdtsc();
    while (count(v) < n and rdtsc() - t0 < 2000 * khz) {
        asm volatile ("sti; hlt; cli" ::: "memory");
    }
}

// ---- handlers ----
const COM1: u16 = 0x3F8;

export fn zv_irq(vector: u32) callconv(.C) void {
    counts[vector] += 1;
    switch (vector) {
        0x20 => outb(0x20, 0x20), // PIC IRQ 0: non-specific EOI
        0x24 => {
            // PIC IRQ 4: the UART says why in IIR (bit 0 clear: pending; 0x04 data, 0x02 THRE)
            while (true) {
                const iir = inb(COM1 + 2);
                if (iir & 1 != 0) break;
                if (iir & 0x0E == 0x04) {
                    while (inb(COM1 + 5) & 1 != 0) {
                        const c = inb(COM1);
                        received[receivedCount % received.len] = c; // a ring: `type` reads it as it goes
                        receivedCount += 1;
                    }
                } else if (iir & 0x0E == 0x02) {
                    counts[0xF2] += 1; // THRE seen (reading IIR cleared it)
                    outb(COM1 + 1, 0x01); // keep only the data interrupt
                } else break;
            }
            outb(0x20, 0x20);
        },
        0x27, 0x2F => {}, // spurious: no EOI (8259A datasheet)
        0x40 => {
            if (deadlineSeen == 0) deadlineSeen = rdtsc();
            apicEoi();
        },
        0x41, 0x50 => apicEoi(),
        else => apicEoi(),
    }
}

pub fn onException(frame: *rt.Frame) bool {
    if (frame.vector == 2) {
        nmis += 1;
        return true;
    }
    return false;
}

// ---- the parts ----
var khz: u64 = 1_000_000; // TSC kHz, measured first

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
    rt.print("irq: tsc {d} kHz\n", .{khz});
}

fn us(ticks: u64) u64 {
    return ticks * 1000 / khz;
}

fn picInit(imrMaster: u8, imrSlave: u8) void {
    outb(0x20, 0x11); // ICW1: edge, cascade, ICW4 needed
    outb(0xA0, 0x11);
    outb(0x21, 0x20); // ICW2: vectors 0x20-0x27
    outb(0xA1, 0x28); // and 0x28-0x2F
    outb(0x21, 0x04); // ICW3: a slave on IR2
    outb(0xA1, 0x02); // its cascade identity
    outb(0x21, 0x01); // ICW4: 8086 mode, normal EOI
    outb(0xA1, 0x01);
    outb(0x21, imrMaster);
    outb(0xA1, imrSlave);
}

fn pitPeriodic(hz: u32) void {
    const n: u16 = @truncate(1193182 / hz);
    outb(0x43, 0x34); // channel 0, LSB then MSB, mode 2
    outb(0x40, @truncate(n));
    outb(0x40, @truncate(n >> 8));
}

fn partPic() void {
    picInit(0xFE, 0xFF); // only IRQ 0
    rt.print("pic: imr 0x{x:0>2}\n", .{inb(0x21)});
    pitPeriodic(1000);
    waitFor(0x20, 1); // the first tick starts the measurement
    const start = count(0x20);
    const t0 = rdtsc();
    waitFor(0x20, start + 100);
    const t1 = rdtsc();
    rt.print("pic: 100 irq0 in {d} us\n", .{us(t1 - t0)});
    outb(0x21, 0xFF);
    outb(0x20, 0x0B); // OCW3: read ISR
    rt.print("pic: isr 0x{x:0>2}\n", .{inb(0x20)});
}

fn partIoapic() void {
    picInit(0xFF, 0xFF); // the PIC stays masked: IRQ 0 arrives through the I/O APIC
    apicWrite(0xF0, 0x1FF); // SVR: APIC on, spurious vector 0xFF
    ioapicWrite(0x11, 0); // pin 0: destination APIC 0
    ioapicWrite(0x10, 0x50); // fixed, physical, edge, active high, unmasked, vector 0x50
    mmioWrite(IOAPIC, 0x01);
    rt.print("ioapic: version 0x{x}\n", .{mmioRead(IOAPIC + 0x10)});
    pitPeriodic(1000);
    waitFor(0x50, 1);
    const start = count(0x50);
    const t0 = rdtsc();
    waitFor(0x50, start + 50);
    const t1 = rdtsc();
    ioapicWrite(0x10, 0x10050); // masked
    rt.print("ioapic: 50 irq0 in {d} us\n", .{us(t1 - t0)});
}

fn partLapic() void {
    apicWrite(0xF0, 0x1FF);
    rt.print("lapic: version 0x{x}\n", .{apicRead(0x30)});
    // periodic, divide 1: one count per TSC tick
    apicWrite(0x3E0, 0x0B);
    apicWrite(0x320, 0x20040);
    const start = count(0x40);
    const t0 = rdtsc();
    apicWrite(0x380, @truncate(khz)); // 1 ms
    waitFor(0x40, start + 50);
    const t1 = rdtsc();
    apicWrite(0x380, 0);
    rt.print("lapic: periodic 50 in {d} us\n", .{us(t1 - t0)});
    // one-shot, divide 16
    apicWrite(0x3E0, 0x03);
    apicWrite(0x320, 0x40);
    const before = count(0x40);
    const t2 = rdtsc();
    apicWrite(0x380, @truncate(khz * 5 / 16));
    waitFor(0x40, before + 1);
    const t3 = rdtsc();
    rt.print("lapic: one-shot after {d} us, count {d}\n", .{ us(t3 - t2), apicRead(0x390) });
    // TSC-deadline
    apicWrite(0x320, 0x40040);
    deadlineSeen = 0;
    const deadline = rdtsc() + 2 * khz;
    const beforeDeadline = count(0x40);
    wrmsr(0x6E0, deadline);
    waitFor(0x40, beforeDeadline + 1);
    const seen = @as(*volatile u64, &deadlineSeen).*;
    if (seen == 0) {
        rt.puts("lapic: deadline never fired\n");
    } else if (seen < deadline) {
        rt.puts("lapic: deadline fired early\n");
    } else {
        rt.print("lapic: deadline fired {d} us late, armed {d}\n", .{ us(seen - deadline), rdmsr(0x6E0) });
    }
    // a self-IPI (shorthand self, fixed, vector 0x41) and an NMI (shorthand self, NMI)
    sti();
    apicWrite(0x300, 0x40041);
    cli();
    apicWrite(0x300, 0x40400);
    rt.print("lapic: self ipi {d}, nmi {d}, esr 0x{x}\n", .{ count(0x41), @as(*volatile u32, &nmis).*, esr() });
}

fn esr() u32 {
    apicWrite(0x280, 0);
    return apicRead(0x280);
}

fn partX2apic() void {
    const id = rt.cpuid(1, 0);
    if (id[2] & (1 << 21) == 0) {
        rt.puts("x2apic: not offered\n");
        return;
    }
    wrmsr(0x1B, rdmsr(0x1B) | 0x400); // EXTD: x2APIC mode (SDM 11.12.1)
    x2apic = true;
    wrmsr(0x80F, 0x1FF); // SVR
    rt.print("x2apic: base 0x{x}, version 0x{x}, mmio 0x{x}\n", .{ rdmsr(0x1B), rdmsr(0x803), mmioRead(APIC + 0x30) });
    sti();
    wrmsr(0x83F, 0x41); // SELF_IPI
    cli();
    wrmsr(0x832, 0x40040); // LVT timer: TSC-deadline, vector 0x40
    deadlineSeen = 0;
    const deadline = rdtsc() + khz;
    const before = count(0x40);
    wrmsr(0x6E0, deadline);
    waitFor(0x40, before + 1);
    rt.print("x2apic: self ipi {d}, deadline {s}\n", .{ count(0x41), if (@as(*volatile u64, &deadlineSeen).* >= deadline) "fired" else "missed" });
}

fn partUart() void {
    picInit(0xEF, 0xFF); // only IRQ 4
    outb(COM1 + 4, 0x1B); // MCR: loopback, OUT2, RTS, DTR
    outb(COM1 + 1, 0x01); // IER: received data
    sti();
    for ("ping") |c| outb(COM1, c);
    const t0 = rdtsc();
    while (@as(*volatile u32, &receivedCount).* < 4 and rdtsc() - t0 < 2000 * khz) asm volatile ("hlt" ::: "memory");
    cli();
    outb(COM1 + 4, 0x0B); // loopback off
    rt.print("uart: loopback {s} via {d} interrupts\n", .{ received[0..@min(receivedCount, received.len)], count(0x24) });
    // THRE: pending as soon as it is enabled with THR empty
    sti();
    outb(COM1 + 1, 0x03);
    const t1 = rdtsc();
    while (count(0xF2) < 1 and rdtsc() - t1 < 2000 * khz) asm volatile ("hlt" ::: "memory");
    cli();
    outb(COM1 + 1, 0x00);
    rt.print("uart: thre {d}\n", .{count(0xF2)});
}

fn partType() noreturn {
    picInit(0xEF, 0xFF); // only IRQ 4
    outb(COM1 + 4, 0x0B); // MCR: OUT2 (the IRQ's gate on a PC), RTS, DTR
    outb(COM1 + 1, 0x01); // IER: received data
    rt.puts("type: ready\n");
    var line: [64]u8 = undefined;
    var n: usize = 0;
    var taken: u32 = 0;
    while (true) {
        asm volatile ("sti; hlt; cli" ::: "memory");
        const got = @as(*volatile u32, &receivedCount).*;
        while (taken < got) : (taken += 1) {
            const c = received[taken % received.len];
            if (c == '\r' or c == '\n') {
                rt.print("type: got {s} via {d} interrupts\n", .{ line[0..n], count(0x24) });
                n = 0;
            } else if (n < line.len) {
                line[n] = c;
                n += 1;
            }
        }
    }
}

fn partTick() noreturn {
    apicWrite(0xF0, 0x1FF);
    apicWrite(0x3E0, 0x0B); // divide 1: TSC ticks
    apicWrite(0x320, 0x20040); // periodic, vector 0x40
    apicWrite(0x380, @truncate(khz)); // 1 ms
    var next: u32 = 250;
    while (true) {
        asm volatile ("sti; hlt; cli" ::: "memory");
        if (count(0x40) >= next) {
            rt.print("tick {d} at {d} ms\n", .{ next, rdtsc() / khz });
            next += 250;
        }
    }
}

fn has(cmdline: []const u8, word: []const u8) bool {
    if (cmdline.len == 0) return true;
    var it = std.mem.tokenizeScalar(u8, cmdline, ' ');
    while (it.next()) |w| if (std.mem.eql(u8, w, word)) return true;
    return false;
}

pub fn main(magic: u32, info: u32) noreturn {
    installIdt();
    const mb = rt.multibootInfo(magic, info);
    const cmdline = if (mb) |m| (if (m.flags & (1 << 2) != 0) rt.cstr(m.cmdline) else "") else "";
    if (std.mem.eql(u8, cmdline, "halt")) {
        rt.puts("halt: sleeping with nothing armed\n");
        while (true) asm volatile ("sti; hlt");
    }
    calibrate();
    if (std.mem.eql(u8, cmdline, "tick")) partTick();
    if (std.mem.eql(u8, cmdline, "type")) partType();
    if (has(cmdline, "pic")) partPic();
    if (has(cmdline, "ioapic")) partIoapic();
    if (has(cmdline, "lapic")) partLapic();
    if (has(cmdline, "x2apic")) partX2apic();
    if (has(cmdline, "uart")) partUart();
    var unexpected: u32 = 0;
    for (counts, 0..) |n, v| {
        if (v != 0x20 and v != 0x24 and v != 0x40 and v != 0x41 and v != 0x50 and v != 0xF2) unexpected += n;
    }
    rt.print("irq: unexpected {d}\n", .{unexpected});
    rt.exit(0x2a);
}
