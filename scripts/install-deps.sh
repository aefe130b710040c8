#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Installs the Debian packages that building, testing and the demo need.
# Idempotent and silent when everything is present; uses apt-get otherwise
# (as root, or through sudo when it is available).
set -euo pipefail

pkgs=(
  # build
  cmake make gcc g++ pkg-config libc6-dev
  libhwloc-dev libnuma-dev libcmocka-dev libjemalloc-dev
  # the jemalloc pool's own jemalloc, built from Debian's source (scripts/build-jemalloc.sh)
  dpkg-dev
  # tools used by tests and the guest harness (tests/vm)
  numactl hwloc-nox groff-base
  qemu-system-x86 qemu-utils busybox-static kmod cpio xz-utils zstd
  ndctl daxctl e2fsprogs util-linux
  # sanitizer runtimes come with gcc (libasan8, libtsan2, libubsan1)
  libasan8 libtsan2 libubsan1
  ca-certificates debian-archive-keyring
)
extra=("$@")

missing=()
for p in "${pkgs[@]}" "${extra[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q '^install ok installed$'; then
    missing+=("$p")
  fi
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "install-deps: installing ${missing[*]}"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  command -v sudo >/dev/null || { echo "install-deps: need root or sudo to install: ${missing[*]}" >&2; exit 1; }
  SUDO=sudo
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
