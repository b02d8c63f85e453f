#!/bin/sh
# OpenGenie Station installer: curl -fsSL <url>/install.sh | sh
#
# Placeholder until the first release (CONTRACT.md §8): it checks the machine and refuses
# with what to do instead, changing nothing.
set -eu

say() { printf '%s\n' "$*"; }
fail() {
  printf 'opengenie install: %s\n' "$*" >&2
  exit 1
}

for arg in "$@"; do
  case "$arg" in
    -h | --help)
      say "Usage: curl -fsSL <url>/install.sh | sh"
      say "Installs OpenGenie Station on 64-bit Debian or Raspberry Pi OS (x86_64, aarch64)."
      exit 0
      ;;
  esac
done

os="$(uname -s)"
[ "$os" = "Linux" ] || fail "$os is not supported: OpenGenie runs on 64-bit Linux (Debian, Raspberry Pi OS)"

machine="$(uname -m)"
case "$machine" in
  x86_64 | amd64) arch=x64 ;;
  aarch64 | arm64)
    arch=arm64
    # A 64-bit kernel can run a 32-bit userland (older Raspberry Pi OS images), where a
    # 64-bit binary cannot start.
    if command -v getconf >/dev/null 2>&1 && [ "$(getconf LONG_BIT 2>/dev/null || echo 64)" = "32" ]; then
      fail "32-bit ARM/x86 is not supported: OpenGenie needs a 64-bit OS (this kernel is 64-bit, but the userland is 32-bit; install the 64-bit Raspberry Pi OS)"
    fi
    ;;
  armv6l | armv7l | armv8l | arm | i386 | i486 | i586 | i686 | x86)
    fail "32-bit ARM/x86 is not supported: OpenGenie needs a 64-bit OS (found $machine; on a Raspberry Pi 3, 4 or 5 install the 64-bit Raspberry Pi OS)"
    ;;
  *) fail "$machine is not supported: OpenGenie runs on x86_64 and aarch64" ;;
esac

fail "the installer is not released yet, so there is no opengenie-linux-$arch to download.
Build it from source instead:
  git clone <repository> opengenie && cd opengenie
  npm ci && npm run build
  ./dist/opengenie-linux-$arch serve"
