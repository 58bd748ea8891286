// Runtime shared by the test guests: multiboot v1 header and 32-bit entry, own GDT,
// stack in .bss, 16550 UART output, isa-debug-exit, exception stubs, CPUID/RDMSR helpers.
//
// Entry contract (Multiboot 0.6.96, section 3.2): 32-bit protected mode, paging off,
// CS/DS flat, EAX = 0x2BADB002, EBX = physical address of the multiboot info. The flat
// binary (hello.bin) enters at its first byte with EBX = 0; the image starts with a short
// jmp over the header, so both ways enter the same code.
//
// Image layout (linker.ld): loaded at 0x100000; _start = 0x100000 (jmp), the multiboot
// header at 0x100004; .bss (stack included) after the file data, zeroed by the guest.
const std = @import("std");
const root = @import("root");

pub const MULTIBOOT_BOOTLOADER_MAGIC: u32 = 0x2BADB002;

// Multiboot header flags (0.6.96 section 3.1.2): bit 0 page-align modules, bit 1 memory info.
comptime {
    asm (
        \\.section .text.boot, "ax"
        \\.code32
        \\.globl _start
        \\.type _start, @function
        \\_start:
        \\  jmp zv_start32
        \\  .balign 4
        \\.globl zv_multiboot_header
        \\zv_multiboot_header:
        \\  .long 0x1BADB002
        \\  .long 0x00000003
        \\  .long -(0x1BADB002 + 0x00000003)
        \\zv_start32:
        \\  cli
        \\  cld
        \\  movl %eax, %esi
        \\  lgdtl zv_gdt_ptr
        \\  ljmpl $0x08, $zv_reload_cs
        \\zv_reload_cs:
        \\  movw $0x10, %ax
        \\  movw %ax, %ds
        \\  movw %ax, %es
        \\  movw %ax, %fs
        \\  movw %ax, %gs
        \\  movw %ax, %ss
        \\  movl $__bss_start, %edi
        \\  movl $__bss_end, %ecx
        \\  subl %edi, %ecx
        \\  xorl %eax, %eax
        \\  rep stosb
        \\  movl $zv_stack_top, %esp
        \\  xorl %ebp, %ebp
        \\  pushl %ebx
        \\  pushl %esi
        \\  call zv_main
        \\zv_halt:
        \\  cli
        \\  hlt
        \\  jmp zv_halt
        \\
        // rt.cpuid(leaf, subleaf, out: *[4]u32): EAX, EBX, ECX, EDX.
        \\.section .text.zv_cpuid, "ax"
        \\.globl zv_cpuid
        \\.type zv_cpuid, @function
        \\zv_cpuid:
        \\  pushl %ebx
        \\  pushl %edi
        \\  movl 12(%esp), %eax
        \\  movl 16(%esp), %ecx
        \\  movl 20(%esp), %edi
        \\  cpuid
        \\  movl %eax, 0(%edi)
        \\  movl %ebx, 4(%edi)
        \\  movl %ecx, 8(%edi)
        \\  movl %edx, 12(%edi)
        \\  popl %edi
        \\  popl %ebx
        \\  ret
        \\
        // rt.rdmsr(msr, out: *[2]u32): EAX (low), EDX (high). The RDMSR is 0F 32 (2 bytes);
        // a #GP handler that skips it leaves the zeros in EDX:EAX.
        \\.section .text.zv_rdmsr, "ax"
        \\.globl zv_rdmsr
        \\.type zv_rdmsr, @function
        \\zv_rdmsr:
        \\  movl 4(%esp), %ecx
        \\  xorl %eax, %eax
        \\  xorl %edx, %edx
        \\  rdmsr
        \\  movl 8(%esp), %ecx
        \\  movl %eax, 0(%ecx)
        \\  movl %edx, 4(%ecx)
        \\  ret
        \\
        // Exception stubs, vectors 0-31: push a zero where the CPU pushes no error code
        // (Intel SDM vol. 3A table 6-1: 8, 10-14, 17, 21, 29, 30 have one), then the vector.
        \\.section .text.zv_isr, "ax"
        \\.irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
        \\zv_isr_\n:
        \\  .if (\n == 8) || (\n == 10) || (\n == 11) || (\n == 12) || (\n == 13) || (\n == 14) || (\n == 17) || (\n == 21) || (\n == 29) || (\n == 30)
        \\  .else
        \\  pushl $0
        \\  .endif
        \\  pushl $\n
        \\  jmp zv_isr_common
        \\.endr
        \\zv_isr_common:
        \\  pushal
        \\  pushl %esp
        \\  call zv_exception
        \\  addl $4, %esp
        \\  popal
        \\  addl $8, %esp
        \\  iretl
        \\
        \\.section .rodata.zv_isr_table, "a"
        \\.balign 4
        \\.globl zv_isr_table
        \\zv_isr_table:
        \\.irp n, 0,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17,18,19,20,21,22,23,24,25,26,27,28,29,30,31
        \\  .long zv_isr_\n
        \\.endr
        \\
        // GDT: null, 0x08 flat 32-bit code, 0x10 flat data (accessed bits preset so the CPU
        // need not write them).
        \\.section .data.zv_gdt, "aw"
        \\.balign 8
        \\zv_gdt:
        \\  .quad 0
        \\  .quad 0x00CF9B000000FFFF
        \\  .quad 0x00CF93000000FFFF
        \\zv_gdt_ptr:
        \\  .word 23
        \\  .long zv_gdt
        \\
        \\.section .bss.zv_stack, "aw", @nobits
        \\.balign 16
        \\zv_stack:
        \\  .skip 16384
        \\zv_stack_top:
    );
}

// ---- entry ----------------------------------------------------------------------------

export fn zv_main(magic: u32, info: u32) callconv(.C) noreturn {
    uartInit();
    installIdt();
    root.main(magic, info);
}

// ---- port I/O, exit ---------------------------------------------------------------------

pub inline fn outb(port: u16, value: u8) void {
    asm volatile ("outb %%al, %%dx"
        :
        : [value] "{al}" (value),
          [port] "{dx}" (port),
    );
}

pub inline fn inb(port: u16) u8 {
    return asm volatile ("inb %%dx, %%al"
        : [ret] "={al}" (-> u8),
        : [port] "{dx}" (port),
    );
}

/// isa-debug-exit: OUT imm8 form (E6 F4) so the hypervisor decodes both OUT forms.
pub fn exit(code: u8) noreturn {
    asm volatile ("outb %%al, $0xf4"
        :
        : [code] "{al}" (code),
    );
    while (true) asm volatile ("cli; hlt");
}

// ---- 16550 UART at 0x3F8 (16550A datasheet: THR/DLL +0, IER/DLM +1, LCR +3, MCR +4, LSR +5)

const COM1: u16 = 0x3F8;

fn uartInit() void {
    outb(COM1 + 1, 0x00); // IER: no interrupts
    outb(COM1 + 3, 0x80); // LCR: DLAB
    outb(COM1 + 0, 0x01); // DLL: 115200
    outb(COM1 + 1, 0x00); // DLM
    outb(COM1 + 3, 0x03); // LCR: 8N1
    outb(COM1 + 4, 0x03); // MCR: DTR, RTS
}

pub fn putc(c: u8) void {
    var spins: u32 = 0;
    while (inb(COM1 + 5) & 0x20 == 0 and spins < 1_000_000) : (spins += 1) {}
    outb(COM1, c);
}

pub fn puts(s: []const u8) void {
    for (s) |c| putc(c);
}

fn writeFn(_: void, bytes: []const u8) error{}!usize {
    puts(bytes);
    return bytes.len;
}

pub const writer = std.io.Writer(void, error{}, writeFn){ .context = {} };

pub fn print(comptime fmt: []const u8, args: anytype) void {
    writer.print(fmt, args) catch {};
}

/// A NUL-terminated string at a physical address (multiboot command line), at most 4 KiB.
pub fn cstr(addr: u32) []const u8 {
    const p: [*]const u8 = @ptrFromInt(addr);
    var n: usize = 0;
    while (n < 4096 and p[n] != 0) n += 1;
    return p[0..n];
}

pub fn panic(msg: []const u8, _: ?*std.builtin.StackTrace, _: ?usize) noreturn {
    print("panic: {s}\n", .{msg});
    exit(0x7e);
}

// ---- multiboot information (Multiboot 0.6.96 section 3.3) ---------------------------------

pub const MultibootInfo = extern struct {
    flags: u32, // bit 0 mem_*, bit 2 cmdline, bit 6 mmap_*
    mem_lower: u32, // KiB below 1 MiB
    mem_upper: u32, // KiB from 1 MiB
    boot_device: u32,
    cmdline: u32,
    mods_count: u32,
    mods_addr: u32,
    syms: [4]u32,
    mmap_length: u32,
    mmap_addr: u32,
};

/// One memory-map entry; `size` (at offset -4 of base_addr) excludes itself.
pub const MmapEntry = extern struct {
    size: u32 align(1),
    base: u64 align(1),
    length: u64 align(1),
    type: u32 align(1),
};

pub fn multibootInfo(magic: u32, info: u32) ?*const MultibootInfo {
    if (magic != MULTIBOOT_BOOTLOADER_MAGIC or info == 0) return null;
    return @ptrFromInt(info);
}

// ---- CPUID, RDMSR ---------------------------------------------------------------------

extern fn zv_cpuid(leaf: u32, subleaf: u32, out: *[4]u32) callconv(.C) void;
extern fn zv_rdmsr(msr: u32, out: *[2]u32) callconv(.C) void;

pub fn cpuid(leaf: u32, subleaf: u32) [4]u32 {
    var r: [4]u32 = undefined;
    zv_cpuid(leaf, subleaf, &r);
    return r;
}

pub fn rdmsr(msr: u32) u64 {
    var r: [2]u32 = .{ 0, 0 };
    zv_rdmsr(msr, &r);
    return (@as(u64, r[1]) << 32) | r[0];
}

// ---- exceptions -------------------------------------------------------------------------

/// What the common stub pushed (PUSHAD order, then vector, error code, then the CPU's frame).
pub const Frame = extern struct {
    edi: u32,
    esi: u32,
    ebp: u32,
    esp: u32,
    ebx: u32,
    edx: u32,
    ecx: u32,
    eax: u32,
    vector: u32,
    error_code: u32,
    eip: u32,
    cs: u32,
    eflags: u32,
};

extern const zv_isr_table: [32]u32;

var idt: [32]u64 align(8) = undefined;
var idtr: [3]u16 align(4) = undefined;

/// 32 interrupt gates (Intel SDM vol. 3A 6.11: type 0xE, present, DPL 0) on selector 0x08.
fn installIdt() void {
    for (&idt, 0..) |*gate, i| {
        const off: u64 = zv_isr_table[i];
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

/// A guest may declare `pub fn onException(frame: *rt.Frame) bool` (true: handled, resume).
export fn zv_exception(frame: *Frame) callconv(.C) void {
    if (@hasDecl(root, "onException")) {
        if (root.onException(frame)) return;
    }
    print("exception {d} error 0x{x} eip 0x{x}\n", .{ frame.vector, frame.error_code, frame.eip });
    exit(0x7f);
}
