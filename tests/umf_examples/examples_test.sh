#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# examples_test.sh BUILD_DIR SRC_DIR: UMF's example scenarios
# (tests/umf_examples/*.c) built against an install of hetmem as a UMF user
# builds them - `cmake --install` into a fresh prefix, then once with
# `pkg-config umf` and once with find_package(umf 0.11) and umf::umf - and
# the host ones run from both builds, on the installed library. The memspace
# scenarios run in their host mode (one node, no HMAT); tests/vm/umf_examples
# runs them in the tiers3 guest. A program that exits 77 skipped (it says
# why); under HETMEM_REQUIRE_ALL=1 it exits 1 instead.
set -euo pipefail
build=$1 src=$2
# shellcheck source=tests/test_skip.sh disable=SC1091
. "$src/../test_skip.sh"
prefix=$(mktemp -d /tmp/hetmem-umf-examples.XXXXXX)
trap 'rm -rf "$prefix"' EXIT
cmake --install "$build" --prefix "$prefix" >/dev/null
pcdir=$(dirname "$(find "$prefix" -name umf.pc | head -n1)")
[ -f "$pcdir/umf.pc" ] || { echo "FAIL: no umf.pc installed"; exit 1; }
export PKG_CONFIG_PATH=$pcdir
libdir=$(pkg-config --variable=libdir umf)
progs="basic custom_file_provider dram_and_fsdax ipc_ipcapi memspace_numa memspace_hmat"
# The test's own helpers (ex_check.h, ex_pages.h, guest_pages.h, test_skip.h).
helpers="-I$src -I$src/../vm -I$src/.."
mkdir -p "$prefix/pc" "$prefix/cm" "$prefix/data"
for p in $progs; do
  # shellcheck disable=SC2046,SC2086
  ${CC:-cc} -Wall -Wextra -Werror $(pkg-config --cflags umf) $helpers "$src/$p.c" \
    -o "$prefix/pc/$p" $(pkg-config --libs umf) ||
    { echo "FAIL: $p does not build with pkg-config umf"; exit 1; }
done
{
  echo "cmake_minimum_required(VERSION 3.16)"
  echo "project(umf_examples C)"
  echo "find_package(umf 0.11 REQUIRED)"
  for p in $progs; do
    echo "add_executable($p $src/$p.c)"
    echo "target_include_directories($p PRIVATE $src $src/../vm $src/..)"
    echo "target_link_libraries($p umf::umf)"
  done
} >"$prefix/cm/CMakeLists.txt"
if ! cmake -S "$prefix/cm" -B "$prefix/cm/build" -DCMAKE_PREFIX_PATH="$prefix" >/dev/null ||
  ! cmake --build "$prefix/cm/build" >/dev/null; then
  echo "FAIL: the scenarios do not build with find_package(umf 0.11)"; exit 1
fi
args_of() {
  case $1 in
    custom_file_provider | dram_and_fsdax) echo "$prefix/data" ;;
    memspace_numa | memspace_hmat) echo host ;;
  esac
}
fails=0 runs=0
for dir in pc cm/build; do
  for p in $progs; do
    exe=$prefix/$dir/$p
    # The program must resolve UMF to the installed library.
    deps=$(LD_LIBRARY_PATH=$libdir ldd "$exe")
    grep -q "=> $libdir/lib" <<<"$deps" ||
      { echo "FAIL: $dir/$p does not load the installed library:"; echo "$deps"; exit 1; }
    echo "== $dir/$p $(args_of "$p")"
    rc=0
    # shellcheck disable=SC2046
    LD_LIBRARY_PATH=$libdir "$exe" $(args_of "$p") || rc=$?
    runs=$((runs + 1))
    case $rc in
      0) ;;
      77) echo "(skipped: $p, the reason is above)" ;;
      *) echo "FAIL: $dir/$p exited with $rc"; fails=$((fails + 1)) ;;
    esac
  done
done
leftover=$(find "$prefix/data" -type f | wc -l)
[ "$leftover" = 0 ] || { echo "FAIL: $leftover files left in the data directory"; fails=$((fails + 1)); }
[ "$fails" = 0 ] || { echo "FAIL: $fails of $runs scenario runs failed"; exit 1; }
echo "umf_examples: $runs scenario runs ok"
