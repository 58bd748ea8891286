//! The Intel VMX instructions (SDM vol. 3C chapters 24-31 and vol. 2 "VMX instruction
//! reference"): the part of running a guest on Intel that TypeScript cannot say. The VMCS
//! contents, EPT tables, controls and exit handling are the kernel's.
//!
//! Every instruction reports its outcome the SDM 31.2 way: 0 VMsucceed, 1 VMfailInvalid
//! (CF), 2 VMfailValid (ZF; the reason is in the VM-instruction error field).
const regs = @import("guest_regs.zig");

/// The VMX status of the flags an instruction just set.
inline fn status(cf: u8, zf: u8) u8 {
    return if (cf != 0) 1 else if (zf != 0) 2 else 0;
}

/// VMXON, VMCLEAR, VMPTRLD: one 64-bit physical address as a memory operand.
inline fn withAddress(comptime mnemonic: []const u8, address: u64) u8 {
    var p = address;
    var cf: u8 = undefined;
    var zf: u8 = undefined;
    asm volatile (mnemonic ++ " (%[p]); setc %[cf]; setz %[zf]"
        : [cf] "=r" (cf),
          [zf] "=r" (zf),
        : [p] "r" (&p),
        : "cc", "memory"
    );
    return status(cf, zf);
}

pub fn vmxon(region: u64) u8 {
    return withAddress("vmxon", region);
}

pub fn vmclear(vmcs: u64) u8 {
    return withAddress("vmclear", vmcs);
}

pub fn vmptrld(vmcs: u64) u8 {
    return withAddress("vmptrld", vmcs);
}

pub fn vmxoff() u8 {
    var cf: u8 = undefined;
    var zf: u8 = undefined;
    asm volatile ("vmxoff; setc %[cf]; setz %[zf]"
        : [cf] "=r" (cf),
          [zf] "=r" (zf),
        :
        : "cc", "memory"
    );
    return status(cf, zf);
}

/// VMREAD of the current VMCS's field `field` (0 when it fails).
pub fn vmread(field: u64) u64 {
    var value: u64 = 0;
    asm volatile ("vmread %[field], %[value]"
        : [value] "=r" (value),
        : [field] "r" (field),
        : "cc"
    );
    return value;
}

pub fn vmwrite(field: u64, value: u64) u8 {
    var cf: u8 = undefined;
    var zf: u8 = undefined;
    asm volatile ("vmwrite %[value], %[field]; setc %[cf]; setz %[zf]"
        : [cf] "=r" (cf),
          [zf] "=r" (zf),
        : [field] "r" (field),
          [value] "r" (value),
        : "cc"
    );
    return status(cf, zf);
}

/// INVEPT / INVVPID (SDM vol. 2: a register type and a 128-bit descriptor in memory).
inline fn invalidate(comptime mnemonic: []const u8, kind: u64, first: u64) u8 {
    var desc = [2]u64{ first, 0 };
    var cf: u8 = undefined;
    var zf: u8 = undefined;
    asm volatile (mnemonic ++ " (%[d]), %[t]; setc %[cf]; setz %[zf]"
        : [cf] "=r" (cf),
          [zf] "=r" (zf),
        : [d] "r" (&desc),
          [t] "r" (kind),
        : "cc", "memory"
    );
    return status(cf, zf);
}

pub fn invept(kind: u64, eptp: u64) u8 {
    return invalidate("invept", kind, eptp);
}

pub fn invvpid(kind: u64, vpid: u64) u8 {
    return invalidate("invvpid", kind, vpid & 0xffff);
}

/// Control registers and descriptor tables the kernel puts into the VMCS host-state area.
pub fn readCr0() u64 {
    return asm volatile ("movq %%cr0, %[v]"
        : [v] "=r" (-> u64),
    );
}
pub fn readCr3() u64 {
    return asm volatile ("movq %%cr3, %[v]"
        : [v] "=r" (-> u64),
    );
}
pub fn readCr4() u64 {
    return asm volatile ("movq %%cr4, %[v]"
        : [v] "=r" (-> u64),
    );
}
pub fn writeCr0(v: u64) void {
    asm volatile ("movq %[v], %%cr0"
        :
        : [v] "r" (v),
        : "memory"
    );
}
pub fn writeCr4(v: u64) void {
    asm volatile ("movq %[v], %%cr4"
        :
        : [v] "r" (v),
        : "memory"
    );
}

pub const DescriptorTable = packed struct { limit: u16, base: u64 };

pub fn sgdt() DescriptorTable {
    var t: DescriptorTable = undefined;
    asm volatile ("sgdt (%[t])"
        :
        : [t] "r" (&t),
        : "memory"
    );
    return t;
}
pub fn sidt() DescriptorTable {
    var t: DescriptorTable = undefined;
    asm volatile ("sidt (%[t])"
        :
        : [t] "r" (&t),
        : "memory"
    );
    return t;
}
pub fn lgdt(t: *const DescriptorTable) void {
    asm volatile ("lgdt (%[t])"
        :
        : [t] "r" (t),
        : "memory"
    );
}
pub fn ltr(selector: u16) void {
    asm volatile ("ltr %[s]"
        :
        : [s] "r" (selector),
        : "memory"
    );
}

/// The segment selectors CS, SS, DS, ES, FS, GS, TR (STR; 0 under OVMF until one is loaded).
pub fn selectors() [7]u16 {
    var s: [7]u16 = undefined;
    s[0] = asm volatile ("movw %%cs, %[v]"
        : [v] "=r" (-> u16),
    );
    s[1] = asm volatile ("movw %%ss, %[v]"
        : [v] "=r" (-> u16),
    );
    s[2] = asm volatile ("movw %%ds, %[v]"
        : [v] "=r" (-> u16),
    );
    s[3] = asm volatile ("movw %%es, %[v]"
        : [v] "=r" (-> u16),
    );
    s[4] = asm volatile ("movw %%fs, %[v]"
        : [v] "=r" (-> u16),
    );
    s[5] = asm volatile ("movw %%gs, %[v]"
        : [v] "=r" (-> u16),
    );
    s[6] = asm volatile ("str %[v]"
        : [v] "=r" (-> u16),
    );
    return s;
}

/// zv_vmx_run(area: rcx, launched: rdx), Microsoft x64 ABI: enters the current VMCS's
/// guest (VMLAUNCH when launched is 0, else VMRESUME) with the register file of the vCPU
/// area (kernel/vcpu/vcpu-area.ts; RSP is GUEST_RSP, which boot/host.zig writes from it),
/// loaded and stored by the sequences of boot/guest_regs.zig, and returns at its VM exit
/// (0) or when entry fails (1 VMfailInvalid, 2 VMfailValid). HOST_RSP and HOST_RIP are
/// written here (the stack and the return point below); VM exit leaves GDTR/IDTR limits at
/// 0xFFFF and RFLAGS.IF clear (SDM 28.5.2, 28.5.3), so both are put back as they were.
pub extern fn zv_vmx_run(area: [*]u8, launched: u64) callconv(.Win64) u64;

comptime {
    asm (
        \\.text
        \\.globl zv_vmx_run
        \\zv_vmx_run:
        \\  pushq %rbx
        \\  pushq %rbp
        \\  pushq %rdi
        \\  pushq %rsi
        \\  pushq %r12
        \\  pushq %r13
        \\  pushq %r14
        \\  pushq %r15
        \\  pushfq
        \\  subq $32, %rsp
        \\  sgdt 0(%rsp)
        \\  sidt 16(%rsp)
        \\  pushq %rdx
        \\  pushq %rcx
        \\  movq %rcx, %rax
        \\
    ++ regs.fx_to_guest ++
        \\  movq $0x6c14, %rcx
        \\  vmwrite %rsp, %rcx
        \\  leaq 2f(%rip), %rbx
        \\  movq $0x6c16, %rcx
        \\  vmwrite %rbx, %rcx
        \\  cmpq $0, 8(%rsp)
        \\
    ++ regs.load_gprs ++
        \\  movq 0(%rax), %rax
        \\  jne 1f
        \\  vmlaunch
        \\  jmp 3f
        \\1:
        \\  vmresume
        \\3:
        \\  movl $1, %ebx
        \\  jc 5f
        \\  movl $2, %ebx
        \\  jmp 5f
        \\2:
        \\  pushq %rax
        \\  movq 8(%rsp), %rax
        \\
    ++ regs.store_gprs ++
        \\  popq %rcx
        \\  movq %rcx, 0(%rax)
        \\
    ++ regs.fx_to_host ++
        \\  xorl %ebx, %ebx
        \\  jmp 6f
        \\5:
        \\  movq 0(%rsp), %rax
        \\
    ++ regs.fx_to_host ++
        \\6:
        \\  addq $16, %rsp
        \\  lgdt 0(%rsp)
        \\  lidt 16(%rsp)
        \\  addq $32, %rsp
        \\  popfq
        \\  movl %ebx, %eax
        \\  popq %r15
        \\  popq %r14
        \\  popq %r13
        \\  popq %r12
        \\  popq %rsi
        \\  popq %rdi
        \\  popq %rbp
        \\  popq %rbx
        \\  retq
    );
}
