#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Strict mode (HETMEM_REQUIRE_ALL=1) turns every kind of skip into a failure:
# the shell helper, the VM harness (qemu hidden), a C test's skip status
# (test_ipc_procs on a devdax device that does not exist) and run-ctest's net
# under a test that exits 77 by itself. Without the flag each one skips (77)
# and says why.
# Usage: check_strict_mode.sh TEST_IPC_PROCS_BINARY
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
ipc=$1
fail=0
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# expect NAME WANT_RC WANT_TEXT -- command...
expect() {
  local name=$1 want=$2 text=$3; shift 4
  local out rc
  out=$("$@" 2>&1); rc=$?
  if [[ $rc != "$want" || $out != *"$text"* ]]; then
    echo "FAIL: $name: exit $rc (want $want), output:"; echo "$out" | tail -5; fail=1
  else
    echo "ok - $name: exit $rc, \"$text\""
  fi
}

for strict in 0 1; do
  if [[ $strict == 1 ]]; then rc=1 tag="REQUIRED but skipped"; else rc=77 tag="SKIP"; fi
  export HETMEM_REQUIRE_ALL=$strict
  expect "test_skip.sh (strict=$strict)" $rc "$tag: forced" -- \
    sh -c ". '$here/test_skip.sh'; test_skip forced"
  expect "run-guest without qemu (strict=$strict)" $rc "$tag: hetmem-vm: /nonexistent/qemu" -- \
    env HETMEM_VM_QEMU=/nonexistent/qemu "$here/vm/run-guest" \
    --topology "$here/vm/topologies/flat1.topo" -- true
  expect "C test_skip_status (strict=$strict)" $rc "$tag: cannot use /nonexistent/dax" -- \
    "$ipc" devdax /nonexistent/dax9.9 4096
done

# run-ctest: a test that exits 77 without the helpers
mkdir -p "$tmp/p"
cat >"$tmp/p/CMakeLists.txt" <<'CM'
cmake_minimum_required(VERSION 3.16)
project(strict NONE)
enable_testing()
add_test(NAME passes COMMAND true)
add_test(NAME skips COMMAND sh -c "exit 77")
set_tests_properties(skips PROPERTIES SKIP_RETURN_CODE 77)
CM
if cmake -S "$tmp/p" -B "$tmp/b" >/dev/null 2>&1; then
  expect "run-ctest (strict=0)" 0 "skips (Skipped)" -- \
    sh -c "cd '$tmp/b' && HETMEM_REQUIRE_ALL=0 '$here/run-ctest'"
  expect "run-ctest (strict=1)" 1 "REQUIRED but skipped (HETMEM_REQUIRE_ALL=1)" -- \
    sh -c "cd '$tmp/b' && HETMEM_REQUIRE_ALL=1 '$here/run-ctest'"
else
  echo "FAIL: cannot configure the scratch ctest project"; fail=1
fi
exit $fail
