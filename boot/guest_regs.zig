//! The guest register file around a world switch, written once for both vendors: the
//! sequences below are pasted into boot/svm.zig's and boot/vmx.zig's assembly.
//!
//! A vCPU's area (kernel/vcpu/vcpu-area.ts) starts with its 16 general-purpose registers as
//! u64 in x86 register-number order (RAX 0, RCX 8, RDX 16, RBX 24, RSP 32, RBP 40, RSI 48,
//! RDI 56, R8-R15 64-120) and holds its FXSAVE area at +512 (16-aligned, SDM vol. 1 10.5.1).
//! RAX and RSP are not moved here: VMRUN takes them from the VMCB (APM vol. 2 15.5.1) and
//! VM entry takes RSP from GUEST_RSP (SDM 27.3.2.1); the transfer lists (boot/host.zig) copy
//! them between the area and the VMCB / VMCS, and boot/vmx.zig moves RAX itself.

/// The host's x87/SSE state while a guest runs (one physical CPU runs guests today).
export var zv_host_fx_area: [512]u8 align(16) = undefined;

/// %rax = the area: FXSAVE the host's state, FXRSTOR the guest's.
pub const fx_to_guest =
    \\  leaq zv_host_fx_area(%rip), %rcx
    \\  fxsave (%rcx)
    \\  fxrstor 512(%rax)
    \\
;

/// %rax = the area: FXSAVE the guest's state, FXRSTOR the host's.
pub const fx_to_host =
    \\  fxsave 512(%rax)
    \\  leaq zv_host_fx_area(%rip), %rcx
    \\  fxrstor (%rcx)
    \\
;

/// %rax = the area: loads RCX, RDX, RBX, RBP, RSI, RDI, R8-R15 (%rax stays the area).
pub const load_gprs =
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
    \\
;

/// %rax = the area: stores RCX, RDX, RBX, RBP, RSI, RDI, R8-R15.
pub const store_gprs =
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
    \\
;
