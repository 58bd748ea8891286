/* Freestanding setjmp for the UEFI (Microsoft x64) build: boot/cpu.zig implements
 * zv_setjmp/zv_longjmp, saving the MS x64 callee-saved registers (rbx, rbp, rdi, rsi,
 * r12-r15, rsp, rip, xmm6-xmm15). */
#ifndef ZV_SETJMP_H
#define ZV_SETJMP_H
typedef unsigned long long jmp_buf[32];
__attribute__((returns_twice)) int zv_setjmp(jmp_buf buf);
__attribute__((noreturn)) void zv_longjmp(jmp_buf buf, int value);
#define setjmp(buf) zv_setjmp(buf)
#define longjmp(buf, value) zv_longjmp(buf, value)
#endif
