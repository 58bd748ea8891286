# Test guests (included by the Makefile): 32-bit multiboot v1 ELF kernels built by the
# project's Zig from tests/guests/ into build/guests/, plus hello.bin, the hello guest as a
# flat binary (load at 0x100000, enter at its first byte). tests/unit/guests.test.mjs checks them.
GUEST_SRC := tests/guests
GUEST_OUT := build/guests
GUEST_NAMES := hello probe dirty oob triple cpuid-bench strio pit irq timer-bench mmio
GUEST_ELFS := $(GUEST_NAMES:%=$(GUEST_OUT)/%.elf)
GUEST_COMMON := $(GUEST_SRC)/rt.zig $(GUEST_SRC)/linker.ld $(GUEST_SRC)/guests.mk
# i686: no MMX/SSE (a hypervisor need not expose them); the linker script fixes the layout.
GUEST_ZIG_FLAGS := -target x86-freestanding-none -mcpu=i686 -O ReleaseSmall -fno-stack-check \
	-fno-PIC -fstrip -T $(GUEST_SRC)/linker.ld \
	--cache-dir $(GUEST_OUT)/zig-cache --global-cache-dir build/zig-global-cache

.PHONY: guests
guests: $(GUEST_ELFS) $(GUEST_OUT)/hello.bin

$(GUEST_OUT)/%.elf: $(GUEST_SRC)/%.zig $(GUEST_COMMON) | $(DEPS)
	@mkdir -p $(GUEST_OUT)
	$(ZIG) build-exe $(GUEST_ZIG_FLAGS) --name $* $< -femit-bin=$@
	@rm -f $@.o

$(GUEST_OUT)/hello.bin: $(GUEST_OUT)/hello.elf
	$(ZIG) objcopy -O binary $< $@
