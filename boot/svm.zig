//! The AMD SVM world switch (APM vol. 2 section 15.5): the only part of running a guest
//! that TypeScript cannot say. Everything else (VMCB contents, intercepts, nested page
//! tables, exit handling) is the kernel's.
//!
//! zv_svm_run(vmcb: rcx, host_save: rdx, gprs: r8, guest_fx: r9), Microsoft x64 ABI:
//!   CLGI; VMSAVE host_save; FXSAVE host / FXRSTOR guest_fx; load the guest GPRs;
//!   VMLOAD vmcb; VMRUN vmcb; VMSAVE vmcb; store the guest GPRs; FXSAVE guest_fx /
//!   FXRSTOR host; VMLOAD host_save; STGI.
//! gprs: 16 u64 in x86 register-number order (rax and rsp unused: they live in the VMCB).
//! VMRUN keeps the host's rax, rsp and control state in the VM_HSAVE_PA area and restores
//! them at #VMEXIT; VMLOAD/VMSAVE move FS, GS, TR, LDTR, KernelGsBase, STAR/LSTAR/CSTAR/
//! SFMASK and SYSENTER_* both ways (APM vol. 2 section 15.5.2).

export var zv_svm_host_fx_area: [512]u8 align(16) = undefined;

pub extern fn zv_svm_run(vmcb: u64, host_save: u64, gprs: [*]u64, guest_fx: [*]u8) callconv(.Win64) void;

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
        \\  pushq %r9
        \\  pushq %r8
        \\  pushq %rdx
        \\  pushq %rcx
        \\  clgi
        \\  movq 8(%rsp), %rax
        \\  vmsave %rax
        \\  leaq zv_svm_host_fx_area(%rip), %rax
        \\  fxsave (%rax)
        \\  movq 24(%rsp), %rax
        \\  fxrstor (%rax)
        \\  movq 16(%rsp), %rax
        \\  movq 8(%rax), %rcx
        \\  movq 16(%rax), %rdx
        \\  movq 24(%rax), %rbx
        \\  movq 40(%rax), %rbp
        \\  movq 48(%rax), %rsi
        \\  movq 56(%rax), %rdi
        \\  movq 64(%rax), %r8
        \\  movq 72(%rax), %r9
        \\  movq 80(%rax), %r10
        \\  movq 88(%rax), %r11
        \\  movq 96(%rax), %r12
        \\  movq 104(%rax), %r13
        \\  movq 112(%rax), %r14
        \\  movq 120(%rax), %r15
        \\  movq (%rsp), %rax
        \\  vmload %rax
        \\  vmrun %rax
        \\  vmsave %rax
        \\  movq 16(%rsp), %rax
        \\  movq %rcx, 8(%rax)
        \\  movq %rdx, 16(%rax)
        \\  movq %rbx, 24(%rax)
        \\  movq %rbp, 40(%rax)
        \\  movq %rsi, 48(%rax)
        \\  movq %rdi, 56(%rax)
        \\  movq %r8, 64(%rax)
        \\  movq %r9, 72(%rax)
        \\  movq %r10, 80(%rax)
        \\  movq %r11, 88(%rax)
        \\  movq %r12, 96(%rax)
        \\  movq %r13, 104(%rax)
        \\  movq %r14, 112(%rax)
        \\  movq %r15, 120(%rax)
        \\  movq 24(%rsp), %rax
        \\  fxsave (%rax)
        \\  leaq zv_svm_host_fx_area(%rip), %rax
        \\  fxrstor (%rax)
        \\  movq 8(%rsp), %rax
        \\  vmload %rax
        \\  stgi
        \\  addq $32, %rsp
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
