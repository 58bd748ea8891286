//! The AMD SVM world switch (APM vol. 2 section 15.5): the only part of running a guest
//! that TypeScript cannot say. Everything else (VMCB contents, intercepts, nested page
//! tables, exit handling) is the kernel's.
//!
//! zv_svm_run(vmcb: rcx, host_save: rdx, area: r8), Microsoft x64 ABI:
//!   CLGI; VMSAVE host_save; FXSAVE host / FXRSTOR the guest's (boot/guest_regs.zig);
//!   load the guest GPRs from the vCPU area; VMLOAD vmcb; VMRUN vmcb; VMSAVE vmcb; store
//!   the guest GPRs; FXSAVE the guest's / FXRSTOR host; VMLOAD host_save; STGI.
//! area: the vCPU's register file (kernel/vcpu/vcpu-area.ts); RAX and RSP go through the
//! VMCB (boot/host.zig copies them). VMRUN keeps the host's rax, rsp and control state in
//! the VM_HSAVE_PA area and restores them at #VMEXIT; VMLOAD/VMSAVE move FS, GS, TR, LDTR,
//! KernelGsBase, STAR/LSTAR/CSTAR/SFMASK and SYSENTER_* both ways (APM vol. 2 section 15.5.2).
const regs = @import("guest_regs.zig");

pub extern fn zv_svm_run(vmcb: u64, host_save: u64, area: [*]u8) callconv(.Win64) void;

comptime {
    asm (
        \\.text
        \\.globl zv_svm_run
        \\zv_svm_run:
        \\  pushq %rbx
        \\  pushq %rbp
        \\  pushq %rdi
        \\  pushq %rsi
        \\  pushq %r12
        \\  pushq %r13
        \\  pushq %r14
        \\  pushq %r15
        \\  pushq %r8
        \\  pushq %rdx
        \\  pushq %rcx
        \\  clgi
        \\  movq 8(%rsp), %rax
        \\  vmsave %rax
        \\  movq 16(%rsp), %rax
        \\
    ++ regs.fx_to_guest ++ regs.load_gprs ++
        \\  movq (%rsp), %rax
        \\  vmload %rax
        \\  vmrun %rax
        \\  vmsave %rax
        \\  movq 16(%rsp), %rax
        \\
    ++ regs.store_gprs ++ regs.fx_to_host ++
        \\  movq 8(%rsp), %rax
        \\  vmload %rax
        \\  stgi
        \\  addq $24, %rsp
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
