//! The CPU instructions TypeScript cannot say: port I/O, CPUID, RDMSR/WRMSR, RDTSC, halting, and the
//! setjmp/longjmp pair the Wasm runtime unwinds traps and exceptions with.

pub inline fn outb(port: u16, value: u8) void {
    asm volatile ("outb %[value], %[port]"
        :
        : [value] "{al}" (value),
          [port] "{dx}" (port),
    );
}

pub inline fn inb(port: u16) u8 {
    return asm volatile ("inb %[port], %[value]"
        : [value] "={al}" (-> u8),
        : [port] "{dx}" (port),
    );
}

pub inline fn outl(port: u16, value: u32) void {
    asm volatile ("outl %[value], %[port]"
        :
        : [value] "{eax}" (value),
          [port] "{dx}" (port),
    );
}

pub inline fn inl(port: u16) u32 {
    return asm volatile ("inl %[port], %[value]"
        : [value] "={eax}" (-> u32),
        : [port] "{dx}" (port),
    );
}

pub const CpuidResult = struct { eax: u32, ebx: u32, ecx: u32, edx: u32 };

pub inline fn cpuid(leaf: u32, subleaf: u32) CpuidResult {
    var a: u32 = undefined;
    var b: u32 = undefined;
    var c: u32 = undefined;
    var d: u32 = undefined;
    asm volatile ("cpuid"
        : [a] "={eax}" (a),
          [b] "={ebx}" (b),
          [c] "={ecx}" (c),
          [d] "={edx}" (d),
        : [leaf] "{eax}" (leaf),
          [subleaf] "{ecx}" (subleaf),
    );
    return .{ .eax = a, .ebx = b, .ecx = c, .edx = d };
}

pub inline fn rdmsr(msr: u32) u64 {
    var lo: u32 = undefined;
    var hi: u32 = undefined;
    asm volatile ("rdmsr"
        : [lo] "={eax}" (lo),
          [hi] "={edx}" (hi),
        : [msr] "{ecx}" (msr),
    );
    return (@as(u64, hi) << 32) | lo;
}

pub inline fn wrmsr(msr: u32, value: u64) void {
    asm volatile ("wrmsr"
        :
        : [msr] "{ecx}" (msr),
          [lo] "{eax}" (@as(u32, @truncate(value))),
          [hi] "{edx}" (@as(u32, @truncate(value >> 32))),
    );
}

pub inline fn rdtsc() u64 {
    var lo: u32 = undefined;
    var hi: u32 = undefined;
    asm volatile ("rdtsc"
        : [lo] "={eax}" (lo),
          [hi] "={edx}" (hi),
    );
    return (@as(u64, hi) << 32) | lo;
}

pub fn haltForever() noreturn {
    while (true) asm volatile ("cli; hlt");
}

// zv_setjmp(buf: rcx) / zv_longjmp(buf: rcx, value: edx), Microsoft x64 ABI: saves the
// callee-saved GPRs (rbx rbp rdi rsi r12-r15), rsp, rip, xmm6-xmm15 and MXCSR.
comptime {
    asm (
        \\.text
        \\.globl zv_setjmp
        \\zv_setjmp:
        \\  movq %rbx, 0(%rcx)
        \\  movq %rbp, 8(%rcx)
        \\  movq %rdi, 16(%rcx)
        \\  movq %rsi, 24(%rcx)
        \\  movq %r12, 32(%rcx)
        \\  movq %r13, 40(%rcx)
        \\  movq %r14, 48(%rcx)
        \\  movq %r15, 56(%rcx)
        \\  leaq 8(%rsp), %rdx
        \\  movq %rdx, 64(%rcx)
        \\  movq (%rsp), %rdx
        \\  movq %rdx, 72(%rcx)
        \\  movdqu %xmm6, 80(%rcx)
        \\  movdqu %xmm7, 96(%rcx)
        \\  movdqu %xmm8, 112(%rcx)
        \\  movdqu %xmm9, 128(%rcx)
        \\  movdqu %xmm10, 144(%rcx)
        \\  movdqu %xmm11, 160(%rcx)
        \\  movdqu %xmm12, 176(%rcx)
        \\  movdqu %xmm13, 192(%rcx)
        \\  movdqu %xmm14, 208(%rcx)
        \\  movdqu %xmm15, 224(%rcx)
        \\  stmxcsr 240(%rcx)
        \\  xorl %eax, %eax
        \\  ret
        \\
        \\.globl zv_longjmp
        \\zv_longjmp:
        \\  movq 0(%rcx), %rbx
        \\  movq 8(%rcx), %rbp
        \\  movq 16(%rcx), %rdi
        \\  movq 24(%rcx), %rsi
        \\  movq 32(%rcx), %r12
        \\  movq 40(%rcx), %r13
        \\  movq 48(%rcx), %r14
        \\  movq 56(%rcx), %r15
        \\  movdqu 80(%rcx), %xmm6
        \\  movdqu 96(%rcx), %xmm7
        \\  movdqu 112(%rcx), %xmm8
        \\  movdqu 128(%rcx), %xmm9
        \\  movdqu 144(%rcx), %xmm10
        \\  movdqu 160(%rcx), %xmm11
        \\  movdqu 176(%rcx), %xmm12
        \\  movdqu 192(%rcx), %xmm13
        \\  movdqu 208(%rcx), %xmm14
        \\  movdqu 224(%rcx), %xmm15
        \\  ldmxcsr 240(%rcx)
        \\  movl %edx, %eax
        \\  testl %eax, %eax
        \\  jnz 1f
        \\  movl $1, %eax
        \\1:
        \\  movq 64(%rcx), %rsp
        \\  jmpq *72(%rcx)
    );
}
