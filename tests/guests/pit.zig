// pit: the 8254 PIT and port 0x61 as a kernel uses them (Intel 82C54 datasheet):
//   1. calibrates its TSC against channel 2 in mode 0 over 50 ms, polling port 0x61 bit 5
//      (OUT2), as Linux's pit_calibrate_tsc does: "pit: tsc <kHz> kHz";
//   2. programs channel 0 as a rate generator (mode 2, count 1000), latches its count and
//      reads it LSB then MSB: within 1..1000; reads its status back (read-back command):
//      "pit: channel 0 status 0x34" (LSB/MSB access, mode 2, binary; OUT masked);
//   3. with port 0x61's gate low, channel 2 holds its count (mode 0: "GATE = 0 disables
//      counting"; QEMU 7.2's own PIT does not model that): "pit: gate low holds channel 2";
// then exits 0x2a.
const rt = @import("rt.zig");
pub const panic = rt.panic;
comptime {
    _ = rt; // analyze the entry, header and exports
}

const CH0: u16 = 0x40;
const CH2: u16 = 0x42;
const CONTROL: u16 = 0x43;
const PORT_B: u16 = 0x61;

fn rdtsc() u64 {
    var lo: u32 = undefined;
    var hi: u32 = undefined;
    asm volatile ("rdtsc"
        : [lo] "={eax}" (lo),
          [hi] "={edx}" (hi),
    );
    return (@as(u64, hi) << 32) | lo;
}

fn readCount(port: u16) u16 {
    const lo = rt.inb(port);
    const hi = rt.inb(port);
    return (@as(u16, hi) << 8) | lo;
}

pub fn main(_: u32, _: u32) noreturn {
    // 1. 50 ms of channel 2, mode 0, gate high, speaker off
    const latch: u16 = 1193182 / 20;
    rt.outb(PORT_B, (rt.inb(PORT_B) & ~@as(u8, 0x02)) | 0x01);
    rt.outb(CONTROL, 0xb0); // channel 2, LSB then MSB, mode 0, binary
    rt.outb(CH2, @truncate(latch));
    rt.outb(CH2, @truncate(latch >> 8));
    const t1 = rdtsc();
    var polls: u32 = 0;
    while (rt.inb(PORT_B) & 0x20 == 0 and polls < 100_000_000) : (polls += 1) {}
    const t2 = rdtsc();
    if (polls >= 100_000_000) rt.puts("pit: OUT2 never rose\n") else rt.print("pit: tsc {d} kHz\n", .{(t2 - t1) / 50});

    // 2. channel 0: mode 2, count 1000; a counter latch, then a read-back of its status
    rt.outb(CONTROL, 0x34); // channel 0, LSB then MSB, mode 2, binary
    rt.outb(CH0, @truncate(1000));
    rt.outb(CH0, @truncate(1000 >> 8));
    rt.outb(CONTROL, 0x00); // latch channel 0
    const count = readCount(CH0);
    rt.print("pit: channel 0 latched count {s}\n", .{if (count >= 1 and count <= 1000) "in 1..1000" else "out of range"});
    rt.outb(CONTROL, 0xe2); // read-back: status only, channel 0
    rt.print("pit: channel 0 status 0x{x:0>2}\n", .{rt.inb(CH0) & 0x7f});

    // 3. gate low: channel 2 (mode 0) holds its count
    rt.outb(CONTROL, 0xb0);
    rt.outb(CH2, 0xff);
    rt.outb(CH2, 0xff);
    rt.outb(PORT_B, rt.inb(PORT_B) & ~@as(u8, 0x01));
    rt.outb(CONTROL, 0x80); // latch channel 2
    const held1 = readCount(CH2);
    const t3 = rdtsc();
    while (rdtsc() - t3 < (t2 - t1) / 10) {} // 5 ms
    rt.outb(CONTROL, 0x80);
    const held2 = readCount(CH2);
    rt.print("pit: gate low {s} channel 2\n", .{if (held1 == held2) "holds" else "does not hold"});
    rt.exit(0x2a);
}
