// dirty: the memory writer. Command line (Multiboot 0.6.96 section 3.3, flags bit 2) tokens
// "pages=N rate=R rounds=K words=W" (decimal or 0x hex; defaults 256, 64, 0 = forever, 1024).
// Keeps rewriting N 4-KiB pages from 2 MiB, R pages per round, cycling through them in order.
// Page write number k (k = 0, 1, ... over the whole run) goes to page k mod N and fills its
// first W words with k*1024 + i (mod 2^32); the rest of the page stays as it was (zeros: pages
// that compress, and a writer 1024/W times as fast). Before overwriting a page (k >= N) it
// checks the page still holds write k-N's pattern. After each round it prints "round <n>
// checksum 0x<h>", n from 1, h = FNV-1a 32-bit over the bytes of every word written so far,
// in write order, as read back from memory (tests/guests/dirty-reference.mjs computes the
// same). Exits 0x22 after K rounds; 0x23 on a bad argument, RAM too small or a page that lost
// its contents.
const rt = @import("rt.zig");
pub const panic = rt.panic;
comptime {
    _ = rt; // analyze the entry, header and exports
}

const BASE: u32 = 0x200000;
const PAGE_WORDS: u32 = 1024;
const FNV_OFFSET: u32 = 0x811c9dc5;
const FNV_PRIME: u32 = 0x01000193;

fn parseNumber(s: []const u8) ?u32 {
    var radix: u32 = 10;
    var digits = s;
    if (s.len > 2 and s[0] == '0' and (s[1] == 'x' or s[1] == 'X')) {
        radix = 16;
        digits = s[2..];
    }
    if (digits.len == 0) return null;
    var v: u32 = 0;
    for (digits) |c| {
        const d: u32 = switch (c) {
            '0'...'9' => c - '0',
            'a'...'f' => c - 'a' + 10,
            'A'...'F' => c - 'A' + 10,
            else => return null,
        };
        if (d >= radix) return null;
        v = @mulWithOverflow(v, radix)[0] +% d;
        if (v > 0x1000_0000) return null;
    }
    return v;
}

fn startsWith(s: []const u8, prefix: []const u8) bool {
    return s.len >= prefix.len and eql(s[0..prefix.len], prefix);
}

fn eql(a: []const u8, b: []const u8) bool {
    for (a, b) |x, y| if (x != y) return false;
    return true;
}

fn fail(comptime fmt: []const u8, args: anytype) noreturn {
    rt.print(fmt, args);
    rt.exit(0x23);
}

pub fn main(magic: u32, info_addr: u32) noreturn {
    var pages: u32 = 256;
    var rate: u32 = 64;
    var rounds: u32 = 0;
    var words: u32 = PAGE_WORDS;
    var ram_end: u64 = 0;
    if (rt.multibootInfo(magic, info_addr)) |info| {
        if (info.flags & 1 != 0) ram_end = 0x100000 + @as(u64, info.mem_upper) * 1024;
        if (info.flags & (1 << 2) != 0) {
            const line = rt.cstr(info.cmdline);
            var i: usize = 0;
            while (i < line.len) {
                while (i < line.len and line[i] == ' ') i += 1;
                const start = i;
                while (i < line.len and line[i] != ' ') i += 1;
                const tok = line[start..i];
                const keys = [_][]const u8{ "pages=", "rate=", "rounds=", "words=" };
                const dests = [_]*u32{ &pages, &rate, &rounds, &words };
                for (keys, dests) |key, dest| {
                    if (startsWith(tok, key)) {
                        dest.* = parseNumber(tok[key.len..]) orelse fail("dirty: bad number in {s}\n", .{tok});
                    }
                }
            }
        }
    }
    if (pages == 0 or rate == 0) fail("dirty: pages and rate must be at least 1\n", .{});
    if (words == 0 or words > PAGE_WORDS) fail("dirty: words must be 1 to {d}\n", .{PAGE_WORDS});
    const end: u64 = BASE + @as(u64, pages) * 4096;
    if (end > 0xFFFF_F000 or (ram_end != 0 and end > ram_end))
        fail("dirty: {d} pages from 0x{x} do not fit in RAM ending at 0x{x}\n", .{ pages, BASE, ram_end });
    rt.print("dirty: pages={d} rate={d} rounds={d} words={d} base=0x{x}\n", .{ pages, rate, rounds, words, BASE });

    const mem: [*]volatile u32 = @ptrFromInt(BASE);
    var hash: u32 = FNV_OFFSET;
    var k: u32 = 0; // page writes so far
    var round: u32 = 0;
    while (rounds == 0 or round < rounds) {
        var n: u32 = 0;
        while (n < rate) : (n += 1) {
            const page = k % pages;
            const page_words = mem + page * PAGE_WORDS;
            if (k >= pages) {
                const old = (k - pages) *% PAGE_WORDS;
                for (0..words) |i| {
                    const want = old +% @as(u32, @intCast(i));
                    const got = page_words[i];
                    if (got != want)
                        fail("dirty: page {d} word {d} holds 0x{x}, expected 0x{x}\n", .{ page, i, got, want });
                }
            }
            const first = k *% PAGE_WORDS;
            for (0..words) |i| page_words[i] = first +% @as(u32, @intCast(i));
            for (0..words) |i| {
                var w = page_words[i];
                for (0..4) |_| {
                    hash = (hash ^ (w & 0xff)) *% FNV_PRIME;
                    w >>= 8;
                }
            }
            k += 1;
        }
        round += 1;
        rt.print("round {d} checksum 0x{x}\n", .{ round, hash });
    }
    rt.exit(0x22);
}
