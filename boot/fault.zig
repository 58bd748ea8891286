//! The fault screen: the reason, the last log lines, then halt. Written straight to
//! COM1 and ConOut, because after a trap nothing in the kernel can be trusted.
const std = @import("std");
const uefi = std.os.uefi;
const cpu = @import("cpu.zig");

/// Exit code a fault ends a test run with (isa-debug-exit and the ZEROVISOR-EXIT line).
pub const fault_exit_code: u8 = 70;

const tail_lines = 8;
const tail_line_bytes = 200;
var tail: [tail_lines][tail_line_bytes]u8 = undefined;
var tail_len: [tail_lines]usize = [_]usize{0} ** tail_lines;
var tail_next: usize = 0;
var tail_count: usize = 0;

/// Keeps a copy of one finished log line for the fault screen.
pub fn rememberLogLine(line: []const u8) void {
    const n = @min(line.len, tail_line_bytes);
    @memcpy(tail[tail_next][0..n], line[0..n]);
    tail_len[tail_next] = n;
    tail_next = (tail_next + 1) % tail_lines;
    if (tail_count < tail_lines) tail_count += 1;
}

// 16550 UART COM1 (THR at +0, LSR at +5; LSR bit 5 = THR empty).
const com1: u16 = 0x3F8;

fn serialByte(b: u8) void {
    var spins: u32 = 0;
    while ((cpu.inb(com1 + 5) & 0x20) == 0 and spins < 100000) : (spins += 1) {}
    cpu.outb(com1, b);
}

fn conOut(text: []const u8) void {
    const out = uefi.system_table.con_out orelse return;
    var buf: [129:0]u16 = undefined;
    var i: usize = 0;
    while (i < text.len) {
        var n: usize = 0;
        while (n < 128 and i < text.len) : ({
            n += 1;
            i += 1;
        }) {
            const c = text[i];
            buf[n] = if (c < 0x80) c else '?';
        }
        buf[n] = 0;
        _ = out.outputString(buf[0..n :0]);
    }
}

pub fn write(text: []const u8) void {
    for (text) |b| {
        if (b == '\n') serialByte('\r');
        serialByte(b);
    }
    var start: usize = 0;
    for (text, 0..) |b, i| {
        if (b == '\n') {
            conOut(text[start..i]);
            conOut("\r\n");
            start = i + 1;
        }
    }
    conOut(text[start..]);
}

fn writeNumber(n: u32) void {
    var digits: [10]u8 = undefined;
    var i: usize = digits.len;
    var v = n;
    while (true) {
        i -= 1;
        digits[i] = @intCast('0' + v % 10);
        v /= 10;
        if (v == 0) break;
    }
    write(digits[i..]);
}

/// Shows the fault screen and halts. Under QEMU the isa-debug-exit write ends the run.
pub fn show(kind: []const u8, reason: []const u8) noreturn {
    write("\n\n*** ZEROVISOR FAULT ***\n");
    write(kind);
    write(": ");
    write(reason);
    write("\nlast log lines:\n");
    var k: usize = 0;
    while (k < tail_count) : (k += 1) {
        const idx = (tail_next + tail_lines - tail_count + k) % tail_lines;
        write("  ");
        write(tail[idx][0..tail_len[idx]]);
        write("\n");
    }
    write("halted.\nZEROVISOR-EXIT ");
    writeNumber(fault_exit_code);
    write("\n");
    cpu.outb(0xF4, fault_exit_code);
    cpu.haltForever();
}
