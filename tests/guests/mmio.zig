// mmio: every instruction form Zerovisor emulates on device MMIO (kernel/vm/mmio-access.ts),
// checked against the processor itself. The device register is the local APIC timer's
// initial count TMICT (0xFEE00380, SDM vol. 3A 11.5.4): a full read/write dword (reads give
// what was written) while the LVT timer stays masked, so nothing fires. Each form runs once
// on a RAM dword and once on TMICT holding the same value; the registers, the arithmetic
// flags (PUSHF right after it) and the memory afterwards must be the same:
//   "mmio: <form> differs: ram <state> mmio <state>" for each that is not,
//   "mmio: N forms, M differ" at the end, exit status 42 when M is 0 (43 otherwise).
// Narrower accesses to the APIC (8-bit, 16-bit: SDM 11.4.1 "all registers must be accessed
// using 128-bit aligned 32-bit loads or stores") read all ones and write nothing on
// Zerovisor's APIC (kernel/vm/devices/lapic.ts, board.ts): those forms ("ones") are checked
// against what that means, not against the same RAM run: the reference run has all ones in
// RAM (the value the device reads), and TMICT must still hold its value afterwards (the write
// was ignored). 64-bit forms run in long mode (compatibility mode for the rest): a qword at
// TMICT is two dword accesses, TMICT and 0xFEE00384, which is inside TMICT's 16-byte slot but
// not a register (Zerovisor's APIC reads it as 0 and sets ESR bit 7, writes go nowhere):
// their reference has 0 in the RAM qword's upper dword and TMICT must end up as the RAM run's
// lower dword.
// Command line "undecodable": CMPXCHG at TMICT (0F B1 08, not an emulated form), then 5 NOPs:
// the VM must stop showing those bytes.
const std = @import("std");
const rt = @import("rt.zig");
pub const panic = rt.panic;
comptime {
    _ = rt; // analyze the entry, header and exports
}

const APIC: u32 = 0xFEE00000;
const TMICT: u32 = APIC + 0x380;
const SVR: u32 = APIC + 0x0F0;
const LVT_TIMER: u32 = APIC + 0x320;

/// What the reserved dword after TMICT reads (lapic.ts: reserved registers read 0).
const UPPER_READ: u32 = 0;

// The harness's own APIC accesses: explicit MOVs (the compiler may fold a volatile load into
// an instruction Zerovisor need not emulate, such as PUSH m32).
fn apicRead(addr: u32) u32 {
    return asm volatile ("movl (%[a]), %[r]"
        : [r] "=r" (-> u32),
        : [a] "r" (addr),
        : "memory"
    );
}

fn apicWrite(addr: u32, value: u32) void {
    asm volatile ("movl %[v], (%[a])"
        :
        : [a] "r" (addr),
          [v] "r" (value),
        : "memory"
    );
}

// ---- flags (SDM vol. 1 3.4.3) ----
const CF: u32 = 0x1;
const PF: u32 = 0x4;
const AF: u32 = 0x10;
const ZF: u32 = 0x40;
const SF: u32 = 0x80;
const DF: u32 = 0x400;
const OF: u32 = 0x800;
const ARITH: u32 = CF | PF | AF | ZF | SF | OF;
const LOGIC: u32 = ARITH & ~AF; // AND, OR, XOR, TEST: AF undefined (SDM vol. 2 "Flags Affected")
const BITS: u32 = CF | ZF; // BT*: OF, SF, AF, PF undefined; ZF unaffected

// ---- what one run starts from and ends with ----
const State = extern struct { eax: u32, ecx: u32, edx: u32, ebx: u32, esi: u32, edi: u32, flags: u32, fs: u32 };
export var mmio_state: State = .{ .eax = 0, .ecx = 0, .edx = 0, .ebx = 0, .esi = 0, .edi = 0, .flags = 2, .fs = 0x10 };
/// The RAM operand (and its upper dword for 64-bit forms).
export var mmio_cell: [2]u32 align(16) = .{ 0, 0 };
/// RAM at the other end of MOVS.
export var mmio_other: [4]u32 align(16) = .{ 0, 0, 0, 0 };

/// Loads the registers and RFLAGS from mmio_state, runs `body`, stores them back (flags first).
fn exec(comptime body: []const u8) void {
    asm volatile (
        \\pushl %%ebp
        \\movw mmio_state+28, %%ax
        \\movw %%ax, %%fs
        \\pushl mmio_state+24
        \\popfl
        \\movl mmio_state+0, %%eax
        \\movl mmio_state+4, %%ecx
        \\movl mmio_state+8, %%edx
        \\movl mmio_state+12, %%ebx
        \\movl mmio_state+16, %%esi
        \\movl mmio_state+20, %%edi
        \\
    ++ body ++
        \\
        \\pushfl
        \\popl mmio_state+24
        \\cld
        \\movl %%eax, mmio_state+0
        \\movl %%ecx, mmio_state+4
        \\movl %%edx, mmio_state+8
        \\movl %%ebx, mmio_state+12
        \\movl %%esi, mmio_state+16
        \\movl %%edi, mmio_state+20
        \\movw $0x10, %%ax
        \\movw %%ax, %%fs
        \\popl %%ebp
        ::: "eax", "ecx", "edx", "ebx", "esi", "edi", "memory", "cc");
}

// ---- the forms ----
const Kind = enum {
    same, // dword: the RAM run is the reference
    ones, // 8/16-bit: the device reads all ones, ignores writes
    wide, // 64-bit: TMICT, then 0xFEE00384 (reads 0, writes ignored)
};

const EAX = 1;
const ECX = 2;
const EDX = 4;
const ESI = 8;
const EDI = 16;

const Case = struct {
    name: []const u8,
    /// AT&T, "%%" for "%"; the operand at (%%ebx) (EBX = the cell), "@CELL" = its address
    body: []const u8,
    value: u32 = 0x12345678, // in the cell before
    eax: u32 = 0x11223344,
    ecx: u32 = 0x0000001F,
    edx: u32 = 0x0000C3A5,
    esi: u32 = 0,
    edi: u32 = 0,
    cell_rel: u8 = 0, // registers that hold cell + their value
    other_rel: u8 = 0, // registers that hold &mmio_other + their value
    other: u32 = 0xA0B0C0D0, // mmio_other[i] = other + i
    flags: u32 = CF, // RFLAGS before, besides bit 1
    mask: u32 = ARITH, // the flags compared
    kind: Kind = .same,
    fs: u32 = 0x10, // 0x18: base 0x100
};

/// `s` with each "@CELL" replaced by `with`.
fn subst(comptime s: []const u8, comptime with: []const u8) []const u8 {
    comptime {
        @setEvalBranchQuota(100000);
        var out: []const u8 = "";
        var i = 0;
        while (i < s.len) {
            if (i + 5 <= s.len and std.mem.eql(u8, s[i .. i + 5], "@CELL")) {
                out = out ++ with;
                i += 5;
            } else {
                out = out ++ s[i .. i + 1];
                i += 1;
            }
        }
        return out;
    }
}

const ALU_OPS = [_][]const u8{ "add", "or", "adc", "sbb", "and", "sub", "xor", "cmp" };

fn isLogic(comptime op: []const u8) bool {
    return std.mem.eql(u8, op, "or") or std.mem.eql(u8, op, "and") or std.mem.eql(u8, op, "xor");
}

fn aluCases(comptime op: []const u8) []const Case {
    const m = if (isLogic(op)) LOGIC else ARITH;
    const lockable = !std.mem.eql(u8, op, "cmp");
    var cs: []const Case = &[_]Case{
        .{ .name = op ++ " 01 r/m32,r32", .body = op ++ "l %%ecx, (%%ebx)", .value = 0x7FFFFFF0, .ecx = 0x1F, .mask = m },
        .{ .name = op ++ " 01 r/m32,r32 (borrow)", .body = op ++ "l %%ecx, (%%ebx)", .value = 0x10, .ecx = 0x80000020, .flags = 0, .mask = m },
        .{ .name = op ++ " 03 r32,r/m32", .body = op ++ "l (%%ebx), %%ecx", .value = 0x7FFFFFF0, .ecx = 0x1F, .mask = m },
        .{ .name = op ++ " 03 r32,r/m32 (borrow)", .body = op ++ "l (%%ebx), %%edx", .value = 0x80000020, .edx = 0x10, .flags = 0, .mask = m },
        .{ .name = op ++ " 81 r/m32,imm32", .body = op ++ "l $0x89ABCDEF, (%%ebx)", .value = 0x76543211, .mask = m },
        .{ .name = op ++ " 83 r/m32,imm8", .body = op ++ "l $-3, (%%ebx)", .value = 0x00000002, .mask = m },
        .{ .name = op ++ " 83 r/m32,imm8 positive", .body = op ++ "l $0x7f, 8(%%ebx,%%esi,2)", .esi = @bitCast(@as(i32, -4)), .value = 0xFFFFFF81, .mask = m },
        .{ .name = op ++ " 00 r/m8,r8", .body = op ++ "b %%dh, (%%ebx)", .kind = .ones, .mask = m },
        .{ .name = op ++ " 02 r8,r/m8", .body = op ++ "b (%%ebx), %%cl", .kind = .ones, .mask = m },
        .{ .name = op ++ " 80 r/m8,imm8", .body = op ++ "b $0x81, (%%ebx)", .kind = .ones, .mask = m },
        .{ .name = op ++ " 66 01 r/m16,r16", .body = op ++ "w %%dx, (%%ebx)", .kind = .ones, .mask = m },
        .{ .name = op ++ " 66 03 r16,r/m16", .body = op ++ "w (%%ebx), %%dx", .kind = .ones, .mask = m },
        .{ .name = op ++ " 66 81 r/m16,imm16", .body = op ++ "w $0x1234, (%%ebx)", .kind = .ones, .mask = m },
        .{ .name = op ++ " 66 83 r/m16,imm8", .body = op ++ "w $-2, (%%ebx)", .kind = .ones, .mask = m },
    };
    if (lockable) cs = cs ++ &[_]Case{
        .{ .name = "lock " ++ op ++ " 01", .body = "lock " ++ op ++ "l %%ecx, (%%ebx)", .value = 0xFFFFFFF0, .ecx = 0x10, .mask = m },
        .{ .name = "lock " ++ op ++ " 81", .body = "lock " ++ op ++ "l $0x80000000, (%%ebx)", .value = 0x80000000, .mask = m },
        .{ .name = "lock " ++ op ++ " 83 %ds:", .body = "lock " ++ op ++ "l $1, %%ds:(%%ebx)", .value = 0x7FFFFFFF, .mask = m },
    };
    return cs;
}

const CASES: []const Case = blk: {
    var cs: []const Case = &[_]Case{
        // MOV (8A, 8B, 88, 89, C6, C7, A0-A3), addressing forms, segment overrides
        .{ .name = "mov 8b r32,(reg)", .body = "movl (%%ebx), %%ecx" },
        .{ .name = "mov 8b r32,disp8(base,index,2)", .body = "movl -8(%%ebx,%%esi,2), %%edx", .esi = 4 },
        .{ .name = "mov 8b r32,disp32(reg)", .body = "movl 0x100(%%ecx), %%eax", .ecx = @bitCast(@as(i32, -0x100)), .cell_rel = ECX },
        .{ .name = "mov 8b r32,disp32 (no base)", .body = "movl @CELL, %%edx", .value = 0xFFFF0001 },
        .{ .name = "mov 8b r32,(esp-free sib)", .body = "movl (%%ebx,%%edi,1), %%ecx", .edi = 0 },
        .{ .name = "mov 89 r/m32,r32", .body = "movl %%ecx, (%%ebx)", .ecx = 0xCAFEBABE },
        .{ .name = "mov 89 r/m32,r32 disp32", .body = "movl %%esi, 0x12345(%%edx)", .esi = 0x31415926, .edx = @bitCast(@as(i32, -0x12345)), .cell_rel = EDX },
        .{ .name = "mov c7 r/m32,imm32", .body = "movl $0x5A5AA5A5, (%%ebx)" },
        .{ .name = "mov c7 r/m32,imm32 disp8", .body = "movl $0x80000000, 4(%%ebx,%%ecx,4)", .ecx = @bitCast(@as(i32, -1)) },
        .{ .name = "mov a1 eax,moffs32", .body = ".byte 0xa1\n.long @CELL", .value = 0x87654321 },
        .{ .name = "mov a3 moffs32,eax", .body = ".byte 0xa3\n.long @CELL", .eax = 0x0BADF00D },
        .{ .name = "mov 3e 8b ds override", .body = ".byte 0x3e\nmovl (%%ebx), %%ecx", .value = 0xDEADBEEF },
        .{ .name = "mov 26 89 es override", .body = "movl %%ecx, %%es:(%%ebx)", .ecx = 0x01020304 },
        .{ .name = "mov 64 8b fs base 0x100", .body = "movl %%fs:-0x100(%%ebx), %%ecx", .fs = 0x18, .value = 0x0F0F0F0F },
        .{ .name = "mov 64 c7 fs base 0x100", .body = "movl $0x600DF00D, %%fs:-0x100(%%ebx)", .fs = 0x18 },
        .{ .name = "mov 8a r8,r/m8 (ah)", .body = "movb (%%ebx), %%ah", .kind = .ones },
        .{ .name = "mov 8a r8,r/m8 (dl)", .body = "movb (%%ebx), %%dl", .kind = .ones },
        .{ .name = "mov 88 r/m8,r8 (ch)", .body = "movb %%ch, (%%ebx)", .ecx = 0x5A5A, .kind = .ones },
        .{ .name = "mov c6 r/m8,imm8", .body = "movb $0x42, (%%ebx)", .kind = .ones },
        .{ .name = "mov a0 al,moffs8", .body = ".byte 0xa0\n.long @CELL", .kind = .ones },
        .{ .name = "mov a2 moffs8,al", .body = ".byte 0xa2\n.long @CELL", .kind = .ones },
        .{ .name = "mov 66 8b r16,r/m16", .body = "movw (%%ebx), %%cx", .ecx = 0x11112222, .kind = .ones },
        .{ .name = "mov 66 89 r/m16,r16", .body = "movw %%cx, (%%ebx)", .kind = .ones },
        .{ .name = "mov 66 c7 r/m16,imm16", .body = "movw $0x1234, (%%ebx)", .kind = .ones },
        .{ .name = "mov 66 a1 ax,moffs16", .body = ".byte 0x66, 0xa1\n.long @CELL", .kind = .ones },
        .{ .name = "mov 66 a3 moffs16,ax", .body = ".byte 0x66, 0xa3\n.long @CELL", .kind = .ones },
        // MOVZX, MOVSX of a byte and a word (all ones from the APIC)
        .{ .name = "movzx 0f b6 r32,r/m8", .body = "movzbl (%%ebx), %%ecx", .kind = .ones },
        .{ .name = "movzx 0f b7 r32,r/m16", .body = "movzwl (%%ebx), %%ecx", .kind = .ones },
        .{ .name = "movsx 0f be r32,r/m8", .body = "movsbl (%%ebx), %%ecx", .kind = .ones },
        .{ .name = "movsx 0f bf r32,r/m16", .body = "movswl (%%ebx), %%edx", .kind = .ones },
        .{ .name = "movzx 66 0f b6 r16,r/m8", .body = "movzbw (%%ebx), %%cx", .ecx = 0xAAAA5555, .kind = .ones },
        .{ .name = "movsx 66 0f be r16,r/m8", .body = "movsbw (%%ebx), %%dx", .kind = .ones },
        // TEST 84, 85, F6 /0, F7 /0
        .{ .name = "test 85 r/m32,r32", .body = "testl %%ecx, (%%ebx)", .value = 0x80000010, .ecx = 0x80000000, .mask = LOGIC },
        .{ .name = "test 85 r/m32,r32 (zero)", .body = "testl %%ecx, (%%ebx)", .value = 0x0F0F0F0F, .ecx = 0xF0F0F0F0, .mask = LOGIC },
        .{ .name = "test f7 r/m32,imm32", .body = "testl $0x00FF0000, (%%ebx)", .value = 0x00030000, .mask = LOGIC },
        .{ .name = "test 84 r/m8,r8", .body = "testb %%cl, (%%ebx)", .kind = .ones, .mask = LOGIC },
        .{ .name = "test f6 r/m8,imm8", .body = "testb $0x80, (%%ebx)", .kind = .ones, .mask = LOGIC },
        .{ .name = "test 66 f7 r/m16,imm16", .body = "testw $0x8001, (%%ebx)", .kind = .ones, .mask = LOGIC },
        // NOT, NEG, INC, DEC (F6/F7 /2 /3, FE/FF /0 /1)
        .{ .name = "not f7 r/m32", .body = "notl (%%ebx)", .value = 0x0000FFFF },
        .{ .name = "neg f7 r/m32", .body = "negl (%%ebx)", .value = 0x00000001 },
        .{ .name = "neg f7 r/m32 (0)", .body = "negl (%%ebx)", .value = 0 },
        .{ .name = "neg f7 r/m32 (0x80000000)", .body = "negl (%%ebx)", .value = 0x80000000 },
        .{ .name = "inc ff r/m32", .body = "incl (%%ebx)", .value = 0x7FFFFFFF },
        .{ .name = "inc ff r/m32 (carry kept)", .body = "incl (%%ebx)", .value = 0xFFFFFFFF, .flags = 0 },
        .{ .name = "dec ff r/m32", .body = "decl (%%ebx)", .value = 0x80000000 },
        .{ .name = "dec ff r/m32 (to 0)", .body = "decl (%%ebx)", .value = 1 },
        .{ .name = "lock not", .body = "lock notl (%%ebx)", .value = 0x12345678 },
        .{ .name = "lock neg", .body = "lock negl (%%ebx)", .value = 0x12345678 },
        .{ .name = "lock inc", .body = "lock incl (%%ebx)", .value = 0x0000000F },
        .{ .name = "lock dec", .body = "lock decl (%%ebx)", .value = 0x00000010 },
        .{ .name = "not f6 r/m8", .body = "notb (%%ebx)", .kind = .ones },
        .{ .name = "neg f6 r/m8", .body = "negb (%%ebx)", .kind = .ones },
        .{ .name = "inc fe r/m8", .body = "incb (%%ebx)", .kind = .ones },
        .{ .name = "dec fe r/m8", .body = "decb (%%ebx)", .kind = .ones },
        .{ .name = "inc 66 ff r/m16", .body = "incw (%%ebx)", .kind = .ones },
        .{ .name = "neg 66 f7 r/m16", .body = "negw (%%ebx)", .kind = .ones },
        // XCHG (86, 87): the assembler encodes both operand orders as 87 /r
        .{ .name = "xchg 87 r/m32,r32", .body = "xchgl %%ecx, (%%ebx)", .ecx = 0x13579BDF, .value = 0x2468ACE0 },
        .{ .name = "xchg 87 r32,r/m32", .body = "xchgl (%%ebx), %%edx", .edx = 0x76543210, .value = 0xFEDCBA98 },
        .{ .name = "lock xchg 87", .body = "lock xchgl %%esi, (%%ebx)", .esi = 0x55AA55AA },
        .{ .name = "xchg 86 r/m8,r8 (bh)", .body = "xchgb %%dh, (%%ebx)", .kind = .ones },
        .{ .name = "xchg 66 87 r/m16,r16", .body = "xchgw %%cx, (%%ebx)", .kind = .ones },
        // BT, BTS, BTR, BTC imm8 (0F BA /4-/7): the offset is taken modulo the operand size
        .{ .name = "bt 0f ba /4", .body = "btl $3, (%%ebx)", .value = 0x8, .flags = ZF, .mask = BITS },
        .{ .name = "bt 0f ba /4 (clear bit)", .body = "btl $30, (%%ebx)", .value = 0x8, .flags = ZF | CF, .mask = BITS },
        .{ .name = "bts 0f ba /5 (imm 35)", .body = "btsl $35, (%%ebx)", .value = 0x1, .mask = BITS },
        .{ .name = "btr 0f ba /6", .body = "btrl $31, (%%ebx)", .value = 0x80000001, .mask = BITS },
        .{ .name = "btc 0f ba /7", .body = "btcl $0, (%%ebx)", .value = 0xFFFFFFFE, .flags = 0, .mask = BITS },
        .{ .name = "lock bts", .body = "lock btsl $16, (%%ebx)", .value = 0, .mask = BITS },
        .{ .name = "lock btr", .body = "lock btrl $16, (%%ebx)", .value = 0x10000, .mask = BITS },
        .{ .name = "lock btc", .body = "lock btcl $255, (%%ebx)", .value = 0x7FFFFFFF, .mask = BITS },
        .{ .name = "bt 66 0f ba /4 r/m16", .body = "btw $3, (%%ebx)", .flags = 0, .kind = .ones, .mask = BITS },
        .{ .name = "bts 66 0f ba /5 r/m16", .body = "btsw $15, (%%ebx)", .flags = 0, .kind = .ones, .mask = BITS },
        // STOS (AA, AB): EDI at the register, EDI and ECX afterwards
        .{ .name = "stos ab", .body = "stosl", .eax = 0x0A0B0C0D, .edi = 0, .cell_rel = EDI },
        .{ .name = "rep stos ab (ecx 1)", .body = "rep stosl", .eax = 0x1A2B3C4D, .ecx = 1, .edi = 0, .cell_rel = EDI },
        .{ .name = "rep stos ab (ecx 1, df 1)", .body = "rep stosl", .eax = 0x2A3B4C5D, .ecx = 1, .edi = 0, .cell_rel = EDI, .flags = DF },
        .{ .name = "rep stos ab (ecx 0)", .body = "rep stosl", .eax = 0x3A4B5C6D, .ecx = 0, .edi = 0, .cell_rel = EDI },
        .{ .name = "stos 66 ab", .body = "stosw", .edi = 0, .cell_rel = EDI, .kind = .ones },
        .{ .name = "rep stos aa (ecx 1)", .body = "rep stosb", .ecx = 1, .edi = 0, .cell_rel = EDI, .kind = .ones },
        // MOVS (A4, A5): from the register to RAM and from RAM to it, DF 1, an FS override
        .{ .name = "movs a5 device->ram", .body = "movsl", .value = 0x11223344, .esi = 0, .cell_rel = ESI, .edi = 4, .other_rel = EDI },
        .{ .name = "movs a5 ram->device", .body = "movsl", .esi = 4, .other_rel = ESI, .edi = 0, .cell_rel = EDI },
        .{ .name = "rep movs a5 device->ram (ecx 1)", .body = "rep movsl", .value = 0x55667788, .ecx = 1, .esi = 0, .cell_rel = ESI, .edi = 8, .other_rel = EDI },
        .{ .name = "rep movs a5 ram->device (ecx 1)", .body = "rep movsl", .ecx = 1, .esi = 8, .other_rel = ESI, .edi = 0, .cell_rel = EDI },
        .{ .name = "movs a5 device->ram (df 1)", .body = "movsl", .value = 0x99AABBCC, .esi = 0, .cell_rel = ESI, .edi = 4, .other_rel = EDI, .flags = DF },
        .{ .name = "rep movs a5 ram->device (ecx 1, df 1)", .body = "rep movsl", .ecx = 1, .esi = 8, .other_rel = ESI, .edi = 0, .cell_rel = EDI, .flags = DF },
        .{ .name = "movs 64 a5 fs base 0x100 device->ram", .body = "movsl %%fs:(%%esi), %%es:(%%edi)", .value = 0xC0FFEE00, .esi = @bitCast(@as(i32, -0x100)), .cell_rel = ESI, .edi = 4, .other_rel = EDI, .fs = 0x18 },
        .{ .name = "movs 64 a5 fs base 0x100 ram->device", .body = "movsl %%fs:(%%esi), %%es:(%%edi)", .esi = @bitCast(@as(i32, 12 - 0x100)), .other_rel = ESI, .edi = 0, .cell_rel = EDI, .fs = 0x18 },
        .{ .name = "movs 66 a5 device->ram", .body = "movsw", .esi = 0, .cell_rel = ESI, .edi = 4, .other_rel = EDI, .kind = .ones },
        .{ .name = "movs 66 a5 ram->device", .body = "movsw", .esi = 4, .other_rel = ESI, .edi = 0, .cell_rel = EDI, .kind = .ones },
        .{ .name = "movs a4 device->ram", .body = "movsb", .esi = 0, .cell_rel = ESI, .edi = 5, .other_rel = EDI, .kind = .ones },
    };
    for (ALU_OPS) |op| cs = cs ++ aluCases(op);
    break :blk cs;
};

// ---- running and comparing ----
const Outcome = struct { eax: u32, ecx: u32, edx: u32, ebx: u32, esi: u32, edi: u32, flags: u32, mem: u32, other: [4]u32 };

var cell_addr: u32 = 0; // the cell of the run under way
var other_addr: u32 = 0;

fn start(c: *const Case, cell: u32) void {
    for (&mmio_other, 0..) |*o, i| o.* = c.other +% @as(u32, @intCast(i));
    const other = @intFromPtr(&mmio_other);
    cell_addr = cell;
    other_addr = other;
    const v = [5]u32{ c.eax, c.ecx, c.edx, c.esi, c.edi };
    var r: [5]u32 = undefined;
    for (v, 0..) |x, i| {
        const bit = @as(u8, 1) << @intCast(i);
        r[i] = if (c.cell_rel & bit != 0) x +% cell else if (c.other_rel & bit != 0) x +% other else x;
    }
    mmio_state = .{ .eax = r[0], .ecx = r[1], .edx = r[2], .ebx = cell, .esi = r[3], .edi = r[4], .flags = 2 | c.flags, .fs = c.fs };
}

fn finish(c: *const Case, mem: u32) Outcome {
    const s = mmio_state;
    const out = [5]u32{ s.eax, s.ecx, s.edx, s.esi, s.edi };
    var r: [5]u32 = undefined;
    for (out, 0..) |x, i| {
        const bit = @as(u8, 1) << @intCast(i);
        r[i] = if (c.cell_rel & bit != 0) x -% cell_addr else if (c.other_rel & bit != 0) x -% other_addr else x;
    }
    return .{ .eax = r[0], .ecx = r[1], .edx = r[2], .ebx = s.ebx -% cell_addr, .esi = r[3], .edi = r[4], .flags = s.flags & (c.mask | DF), .mem = mem, .other = mmio_other };
}

fn same(a: *const Outcome, b: *const Outcome) bool {
    return a.eax == b.eax and a.ecx == b.ecx and a.edx == b.edx and a.ebx == b.ebx and a.esi == b.esi and
        a.edi == b.edi and a.flags == b.flags and a.mem == b.mem and std.mem.eql(u32, &a.other, &b.other);
}

fn show(o: *const Outcome) void {
    rt.print("eax={x:0>8} ecx={x:0>8} edx={x:0>8} ebx={x} esi={x:0>8} edi={x:0>8} flags={x:0>3} mem={x:0>8} other={x:0>8}/{x:0>8}/{x:0>8}/{x:0>8}", .{
        o.eax, o.ecx, o.edx, o.ebx, o.esi, o.edi, o.flags, o.mem, o.other[0], o.other[1], o.other[2], o.other[3],
    });
}

var forms_run: u32 = 0;
var forms_differing: u32 = 0;

fn report(name: []const u8, ram: *const Outcome, dev: *const Outcome) void {
    forms_run += 1;
    if (same(ram, dev)) return;
    forms_differing += 1;
    rt.print("mmio: {s} differs: ram ", .{name});
    show(ram);
    rt.puts(" mmio ");
    show(dev);
    rt.puts("\n");
}

/// The RAM reference run, then the run on TMICT.
fn runCase(comptime c: Case) void {
    // RAM: the value (all ones where the device reads all ones; a qword's upper dword is
    // what 0xFEE00384 reads)
    mmio_cell = .{ if (c.kind == .ones) 0xFFFFFFFF else c.value, UPPER_READ };
    start(&c, @intFromPtr(&mmio_cell));
    exec(comptime subst(c.body, "mmio_cell"));
    var ram = finish(&c, @as(*volatile u32, &mmio_cell[0]).*);
    if (c.kind == .ones) ram.mem = c.value; // the write went nowhere
    // the device
    apicWrite(TMICT, c.value);
    start(&c, TMICT);
    exec(comptime subst(c.body, "0xfee00380"));
    const dev = finish(&c, apicRead(TMICT));
    report(c.name, &ram, &dev);
}

// ---- 64-bit forms (long mode; the 32-bit code goes on in compatibility mode) ----
// mmio_state64: RAX, RCX, RDX, RBX, RSI, RDI, R8, R9, RFLAGS (8 bytes each)
export var mmio_state64: [9]u64 align(16) = [_]u64{0} ** 9;

/// A far call into a 64-bit code segment (0x20) that loads the registers from mmio_state64,
/// runs `body` and stores them back; LRET (32-bit operand size, SDM "RET") comes back.
fn exec64(comptime body: []const u8) void {
    asm volatile (
        \\pushl %%ebp
        \\lcall $0x20, $1f
        \\jmp 2f
        \\.code64
        \\1:
        \\movl %%esp, %%esp
        \\pushq mmio_state64+64
        \\popfq
        \\movq mmio_state64+0, %%rax
        \\movq mmio_state64+8, %%rcx
        \\movq mmio_state64+16, %%rdx
        \\movq mmio_state64+24, %%rbx
        \\movq mmio_state64+32, %%rsi
        \\movq mmio_state64+40, %%rdi
        \\movq mmio_state64+48, %%r8
        \\movq mmio_state64+56, %%r9
        \\
    ++ body ++
        \\
        \\pushfq
        \\popq mmio_state64+64
        \\cld
        \\movq %%rax, mmio_state64+0
        \\movq %%rcx, mmio_state64+8
        \\movq %%rdx, mmio_state64+16
        \\movq %%rbx, mmio_state64+24
        \\movq %%rsi, mmio_state64+32
        \\movq %%rdi, mmio_state64+40
        \\movq %%r8, mmio_state64+48
        \\movq %%r9, mmio_state64+56
        \\lretl
        \\.code32
        \\2:
        \\popl %%ebp
        ::: "eax", "ecx", "edx", "ebx", "esi", "edi", "memory", "cc");
}

const RCX64 = 2;
const RSI64 = 16;
const RDI64 = 32;
const R8 = 64;

const Case64 = struct {
    name: []const u8,
    /// the operand at (%%rbx) (RBX = the cell), "@CELL" = its address
    body: []const u8,
    value: u32 = 0x89ABCDEF,
    regs: [8]u64 = .{ 0xA1A2A3A4A5A6A7A8, 0x00000000_0000001F, 0xFEDCBA98_76543210, 0, 0x5555AAAA_0000FFFF, 0x12345678_9ABCDEF0, 0, 0x80000000_00000001 },
    cell_rel: u8 = 0, // bit per register (RAX = 1 ... R9 = 128)
    other_rel: u8 = 0,
    other: u32 = 0xB0C0D0E0,
    flags: u32 = CF,
    mask: u32 = ARITH,
    kind: Kind = .wide,
};

const CASES64 = [_]Case64{
    .{ .name = "64: mov 48 8b r64,r/m64", .body = "movq (%%rbx), %%rcx" },
    .{ .name = "64: mov 4d 8b r64,r/m64 (r9, r8)", .body = "movq (%%r8), %%r9", .cell_rel = R8 },
    .{ .name = "64: mov 48 89 r/m64,r64", .body = "movq %%rdx, (%%rbx)" },
    .{ .name = "64: mov 4c 89 r/m64,r64 (r9) disp8", .body = "movq %%r9, -8(%%rbx,%%rcx,8)", .regs = .{ 0, 1, 0, 0, 0, 0, 0, 0x11111111_22222222 } },
    .{ .name = "64: mov 48 c7 r/m64,imm32", .body = "movq $-0x7FFFFFF0, (%%rbx)" },
    .{ .name = "64: mov 48 a1 rax,moffs64", .body = ".byte 0x48, 0xa1\n.long @CELL, 0" },
    .{ .name = "64: mov a3 moffs64,eax", .body = ".byte 0xa3\n.long @CELL, 0", .kind = .same },
    .{ .name = "64: mov 8b r32,r/m32 (zero-extends)", .body = "movl (%%rbx), %%ecx", .kind = .same },
    .{ .name = "64: mov 67 8b r32,r/m32 (32-bit address)", .body = "movl (%%ebx), %%edx", .kind = .same },
    .{ .name = "64: mov 44 89 r/m32,r32 (r9d)", .body = "movl %%r9d, (%%rbx)", .kind = .same },
    .{ .name = "64: mov 40 8a r8,r/m8 (sil)", .body = "movb (%%rbx), %%sil", .kind = .ones },
    .{ .name = "64: mov 8a r8,r/m8 (dh)", .body = "movb (%%rbx), %%dh", .kind = .ones },
    .{ .name = "64: movsxd 48 63", .body = "movslq (%%rbx), %%rcx", .value = 0x80000001, .kind = .same },
    .{ .name = "64: movsxd 48 63 (positive)", .body = "movslq (%%rbx), %%rdx", .value = 0x7FFFFFFF, .kind = .same },
    .{ .name = "64: movsxd 4c 63 (r9)", .body = "movslq (%%rbx), %%r9", .value = 0xFFFFFFFE, .kind = .same },
    .{ .name = "64: movzx 48 0f b6", .body = "movzbq (%%rbx), %%rcx", .kind = .ones },
    .{ .name = "64: movsx 48 0f bf", .body = "movswq (%%rbx), %%rdx", .kind = .ones },
    .{ .name = "64: add 48 01", .body = "addq %%rdx, (%%rbx)" },
    .{ .name = "64: add 48 03", .body = "addq (%%rbx), %%rdx" },
    .{ .name = "64: adc 48 11", .body = "adcq %%rcx, (%%rbx)" },
    .{ .name = "64: sbb 48 1b", .body = "sbbq (%%rbx), %%rcx" },
    .{ .name = "64: sub 48 29", .body = "subq %%r9, (%%rbx)" },
    .{ .name = "64: cmp 48 39", .body = "cmpq %%rdx, (%%rbx)" },
    .{ .name = "64: and 48 81 imm32", .body = "andq $0x7FFF0000, (%%rbx)", .mask = LOGIC },
    .{ .name = "64: or 48 83 imm8", .body = "orq $-16, (%%rbx)", .mask = LOGIC },
    .{ .name = "64: xor 48 31", .body = "xorq %%rsi, (%%rbx)", .mask = LOGIC },
    .{ .name = "64: test 48 85", .body = "testq %%rdx, (%%rbx)", .mask = LOGIC },
    .{ .name = "64: lock add 48 01", .body = "lock addq %%rdi, (%%rbx)" },
    .{ .name = "64: add 01 r/m32,r32", .body = "addl %%edx, (%%rbx)", .kind = .same },
    .{ .name = "64: sub 2b r32,r/m32 (zero-extends)", .body = "subl (%%rbx), %%esi", .kind = .same },
    .{ .name = "64: inc 48 ff", .body = "incq (%%rbx)" },
    .{ .name = "64: dec 48 ff", .body = "decq (%%rbx)" },
    .{ .name = "64: not 48 f7", .body = "notq (%%rbx)" },
    .{ .name = "64: neg 48 f7", .body = "negq (%%rbx)" },
    .{ .name = "64: xchg 48 87", .body = "xchgq %%rdi, (%%rbx)" },
    .{ .name = "64: xchg 87 r32 (zero-extends)", .body = "xchgl %%edi, (%%rbx)", .kind = .same },
    .{ .name = "64: bts 48 0f ba (bit 35)", .body = "btsq $35, (%%rbx)", .flags = 0, .mask = BITS },
    .{ .name = "64: btr 48 0f ba (bit 3)", .body = "btrq $3, (%%rbx)", .mask = BITS },
    .{ .name = "64: stos 48 ab", .body = "stosq", .cell_rel = RDI64, .regs = .{ 0x0123456789ABCDEF, 0, 0, 0, 0, 0, 0, 0 } },
    .{ .name = "64: rep stos 48 ab (rcx 1)", .body = "rep stosq", .cell_rel = RDI64, .regs = .{ 0x1111111122222222, 1, 0, 0, 0, 0, 0, 0 } },
    .{ .name = "64: stos ab", .body = "stosl", .cell_rel = RDI64, .kind = .same, .regs = .{ 0xFFFFFFFF_2468ACE0, 0, 0, 0, 0, 0, 0, 0 } },
    .{ .name = "64: movs 48 a5 device->ram", .body = "movsq", .cell_rel = RSI64, .other_rel = RDI64, .regs = .{ 0, 0, 0, 0, 0, 4, 0, 0 } },
    .{ .name = "64: movs 48 a5 ram->device", .body = "movsq", .other_rel = RSI64, .cell_rel = RDI64, .regs = .{ 0, 0, 0, 0, 8, 0, 0, 0 } },
    .{ .name = "64: rep movs a5 ram->device (rcx 1, df 1)", .body = "rep movsl", .other_rel = RSI64, .cell_rel = RDI64, .flags = DF, .kind = .same, .regs = .{ 0, 1, 0, 0, 4, 0, 0, 0 } },
};

const Outcome64 = struct { regs: [8]u64, flags: u64, mem: u32, other: [4]u32 };

fn start64(c: *const Case64, cell: u32) void {
    for (&mmio_other, 0..) |*o, i| o.* = c.other +% @as(u32, @intCast(i));
    const other = @intFromPtr(&mmio_other);
    cell_addr = cell;
    other_addr = other;
    for (c.regs, 0..) |x, i| {
        const bit = @as(u8, 1) << @intCast(i);
        mmio_state64[i] = if (i == 3) cell else if (c.cell_rel & bit != 0) x +% cell else if (c.other_rel & bit != 0) x +% other else x;
    }
    mmio_state64[8] = 2 | c.flags;
}

fn finish64(c: *const Case64, mem: u32) Outcome64 {
    var o: Outcome64 = .{ .regs = undefined, .flags = mmio_state64[8] & (c.mask | DF), .mem = mem, .other = mmio_other };
    for (&o.regs, 0..) |*r, i| {
        const bit = @as(u8, 1) << @intCast(i);
        const x = mmio_state64[i];
        r.* = if (i == 3 or c.cell_rel & bit != 0) x -% cell_addr else if (c.other_rel & bit != 0) x -% other_addr else x;
    }
    return o;
}

fn report64(name: []const u8, ram: *const Outcome64, dev: *const Outcome64) void {
    forms_run += 1;
    if (std.mem.eql(u64, &ram.regs, &dev.regs) and ram.flags == dev.flags and ram.mem == dev.mem and std.mem.eql(u32, &ram.other, &dev.other)) return;
    forms_differing += 1;
    rt.print("mmio: {s} differs:", .{name});
    for ([2]*const Outcome64{ ram, dev }, 0..) |o, k| {
        rt.puts(if (k == 0) " ram" else " mmio");
        for (o.regs) |r| rt.print(" {x}", .{r});
        rt.print(" flags={x:0>3} mem={x:0>8} other={x:0>8}/{x:0>8}/{x:0>8}/{x:0>8}", .{ o.flags, o.mem, o.other[0], o.other[1], o.other[2], o.other[3] });
    }
    rt.puts("\n");
}

fn runCase64(comptime c: Case64) void {
    mmio_cell = .{ if (c.kind == .ones) 0xFFFFFFFF else c.value, UPPER_READ };
    start64(&c, @intFromPtr(&mmio_cell));
    exec64(comptime subst(c.body, "mmio_cell"));
    var ram = finish64(&c, @as(*volatile u32, &mmio_cell[0]).*);
    if (c.kind == .ones) ram.mem = c.value;
    apicWrite(TMICT, c.value);
    start64(&c, TMICT);
    exec64(comptime subst(c.body, "0xfee00380"));
    const dev = finish64(&c, apicRead(TMICT));
    report64(c.name, &ram, &dev);
}

// 4-level paging (SDM 4.5): the first GiB and the APIC pages 0xFEC00000, 0xFEE00000 identity-
// mapped in 2 MiB pages (P, RW, PS = 0x83; the APICs' uncached: PCD, PWT = 0x18)
var pml4: [512]u64 align(4096) = [_]u64{0} ** 512;
var pdpt: [512]u64 align(4096) = [_]u64{0} ** 512;
var pd_low: [512]u64 align(4096) = [_]u64{0} ** 512;
var pd_apic: [512]u64 align(4096) = [_]u64{0} ** 512;

/// IA-32e mode (SDM 9.8.5): PAE, CR3, EFER.LME, then paging; CS stays the 32-bit 0x08, so
/// this code goes on in compatibility mode. No exception may come from here on (the IDT's
/// gates are 32-bit ones).
fn enterLongMode() void {
    for (&pd_low, 0..) |*e, i| e.* = @as(u64, i) << 21 | 0x83;
    pd_apic[0xFEC00000 >> 21 & 511] = 0xFEC00000 | 0x9B;
    pd_apic[0xFEE00000 >> 21 & 511] = 0xFEE00000 | 0x9B;
    pdpt[0] = @intFromPtr(&pd_low) | 0x3;
    pdpt[3] = @intFromPtr(&pd_apic) | 0x3;
    pml4[0] = @intFromPtr(&pdpt) | 0x3;
    asm volatile (
        \\mov %%cr4, %%eax
        \\or $0x20, %%eax
        \\mov %%eax, %%cr4
        \\mov %[root], %%cr3
        \\mov $0xC0000080, %%ecx
        \\rdmsr
        \\or $0x100, %%eax
        \\wrmsr
        \\mov %%cr0, %%eax
        \\or $0x80000000, %%eax
        \\mov %%eax, %%cr0
        :
        : [root] "r" (@intFromPtr(&pml4)),
        : "eax", "ecx", "edx", "memory"
    );
}

// ---- GDT: rt.zig's flat code and data, data with base 0x100 (0x18), 64-bit code (0x20) ----
var gdt: [5]u64 align(8) = .{ 0, 0x00CF9B000000FFFF, 0x00CF93000000FFFF, 0x00CF93000100FFFF, 0x00AF9B000000FFFF };
var gdt_ptr: packed struct { limit: u16, base: u32 } align(4) = .{ .limit = 39, .base = 0 };

fn loadGdt() void {
    gdt_ptr.base = @intFromPtr(&gdt);
    asm volatile ("lgdtl (%[p])"
        :
        : [p] "r" (&gdt_ptr),
        : "memory"
    );
}

/// SDM 11.4.7.1: SVR bit 8 enables the APIC (spurious vector 0xFF); LVT timer masked (bit 16).
fn apicOn() void {
    apicWrite(SVR, 0x1FF);
    apicWrite(LVT_TIMER, 0x10000);
}

fn undecodable() noreturn {
    rt.puts("mmio: cmpxchg at TMICT next\n");
    asm volatile (
        \\.balign 16
        \\.byte 0x0f, 0xb1, 0x08
        \\nop
        \\nop
        \\nop
        \\nop
        \\nop
        :
        : [a] "{eax}" (TMICT),
          [c] "{ecx}" (@as(u32, 0x1234)),
        : "memory", "cc"
    );
    rt.puts("mmio: cmpxchg at TMICT was emulated\n");
    rt.exit(0x2c);
}

pub fn main(magic: u32, info: u32) noreturn {
    const mb = rt.multibootInfo(magic, info);
    const cmdline = if (mb) |m| (if (m.flags & (1 << 2) != 0) rt.cstr(m.cmdline) else "") else "";
    loadGdt();
    if (std.mem.eql(u8, cmdline, "undecodable")) undecodable();
    apicOn();
    rt.print("mmio: {d} forms declared\n", .{CASES.len + CASES64.len});
    inline for (CASES) |c| runCase(c);
    enterLongMode();
    rt.puts("mmio: long mode\n");
    inline for (CASES64) |c| runCase64(c);
    rt.print("mmio: {d} forms, {d} differ\n", .{ forms_run, forms_differing });
    rt.exit(if (forms_differing == 0) 0x2a else 0x2b);
}
