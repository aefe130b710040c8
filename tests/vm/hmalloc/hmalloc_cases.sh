#!/bin/sh
# SPDX-License-Identifier: MIT
# The hmalloc guest cases (tests/vm/hmalloc/CMakeLists.txt): each line runs
# guest_hmalloc (or the example) under hmctl with one option, and checks
# where its hmalloc, hmmap and malloc pages landed. Usage: hmalloc_cases.sh
# tiers3|wide|numactl|example. Exits 1 if any case failed.
set -u
fail=0
run() {
  echo "=== $*"
  "$@" || { echo "=== FAILED: $*"; fail=1; }
}
# The checker itself: pages elsewhere than expected must fail a case.
run_fails() {
  echo "=== (must fail) $*"
  if "$@" >/tmp/must-fail.out 2>&1; then
    cat /tmp/must-fail.out; echo "=== FAILED: passed, but must fail: $*"; fail=1
  else
    grep -m1 "not ok" /tmp/must-fail.out
  fi
}
# Weighted interleave weights are system-wide; put them back after a case.
reset_weights() {
  for f in /sys/kernel/mm/mempolicy/weighted_interleave/node*; do
    [ -w "$f" ] && echo 1 > "$f"
  done
}

# hmctl -P LIST with the probe saying "no MPOL_PREFERRED_MANY": mode
# MPOL_PREFERRED on FIRST, and the warning exactly once.
preferred_fallback() {
  HETMEM_LOG=warning hmctl -P "$1" guest_hmalloc_mpol --probe-unsupported \
      --expect "preferred:$2" 2>/tmp/fallback.err || { cat /tmp/fallback.err; return 1; }
  cat /tmp/fallback.err
  n=$(grep -c "lacks MPOL_PREFERRED_MANY.*prefer node $2 only" /tmp/fallback.err)
  [ "$n" -eq 1 ] || { echo "not ok - the fallback warning appears $n times, want 1"; return 1; }
  echo "ok - one fallback warning"
}

case "${1:-}" in
tiers3)  # node 0 DRAM (CPUs), 1 CXL-like, 2 HBM-like
  run guest_hmalloc --expect default
  run_fails guest_hmalloc --expect membind:2
  run_fails hmctl -i 1,2 guest_hmalloc --expect weighted-interleave:1,2 --weights 1=1,2=3
  reset_weights
  run hmctl guest_hmalloc --expect default
  run hmctl -m 2 guest_hmalloc --expect membind:2
  run hmctl --membind=1,2 guest_hmalloc --expect membind:1,2
  run hmctl -p 1 guest_hmalloc --expect preferred:1
  run hmctl --preferred=2 guest_hmalloc --expect preferred:2
  run hmctl -P 1,2 guest_hmalloc --expect preferred-many:1,2
  # -P is MPOL_PREFERRED_MANY for one node too, the mask exact (hmctl(8)).
  run hmctl -P 1 guest_hmalloc_mpol --expect preferred-many:1
  run hmctl -P 1,2 guest_hmalloc_mpol --expect preferred-many:1,2
  run hmctl -p 2 guest_hmalloc_mpol --expect preferred:2
  run_fails hmctl -P 2 guest_hmalloc_mpol --expect preferred:2
  run_fails hmctl -P 1,2 guest_hmalloc_mpol --expect preferred-many:1
  # The kernel without MPOL_PREFERRED_MANY (the test hook): the first node,
  # MPOL_PREFERRED, and one warning.
  run preferred_fallback 1,2 1
  run preferred_fallback 2 2
  run hmctl -i 0-2 guest_hmalloc --expect interleave:0-2
  run hmctl --interleave=1,2 guest_hmalloc --expect interleave:1,2
  run hmctl -w 1,2 guest_hmalloc --weights 1=1,2=3 --expect weighted-interleave:1,2
  run hmctl --weighted-interleave=all guest_hmalloc --weights 0=2,1=1,2=1 \
      --expect weighted-interleave:0-2
  reset_weights
  # Hand-set variables: the node list syntax and HMSDK's own variables.
  run env HMALLOC_POLICY=membind HMALLOC_NODES='!0' guest_hmalloc --expect membind:1,2
  run env HMALLOC_MPOL_MODE=2 HMALLOC_NODEMASK=4 guest_hmalloc --expect membind:2
  # A node that does not exist, set by hand: the default policy, no crash.
  run env HMALLOC_POLICY=membind HMALLOC_NODES=5 guest_hmalloc --expect default
  ;;
wide)  # 8 nodes: 0 and 1 with a CPU each, 2-7 CPU-less
  run hmctl -m 7 guest_hmalloc --expect membind:7
  run hmctl -m 3-5 guest_hmalloc --expect membind:3-5
  run hmctl -p 5 guest_hmalloc --expect preferred:5
  run hmctl -P 3,6 guest_hmalloc --expect preferred-many:3,6
  run hmctl -P 5 guest_hmalloc_mpol --expect preferred-many:5
  run hmctl -P 3,6 guest_hmalloc_mpol --expect preferred-many:3,6
  run hmctl -i all guest_hmalloc --expect interleave:0-7
  run hmctl -i 2-7 guest_hmalloc --expect interleave:2-7
  run hmctl -i '!0,1' guest_hmalloc --expect interleave:2-7
  run hmctl -w 2-4 guest_hmalloc --weights 2=1,3=2,4=4 --expect weighted-interleave:2-4
  reset_weights
  ;;
numactl)  # each tool sets its own part (tiers3)
  command -v numactl >/dev/null || { echo "SKIP: no numactl in the guest"; exit 77; }
  run numactl -p 1 hmctl -m 2 guest_hmalloc --expect membind:2 --malloc-expect preferred:1
  run numactl -m 1 hmctl -i 0,2 guest_hmalloc --expect interleave:0,2 --malloc-expect membind:1
  run numactl -i 0-2 hmctl -p 1 guest_hmalloc --expect preferred:1 --malloc-expect interleave:0-2
  run numactl -m 2 hmctl -w 0,1 guest_hmalloc --weights 0=1,1=3 --no-huge \
      --expect weighted-interleave:0,1 --malloc-expect membind:2
  reset_weights
  # No hmctl policy: the hmalloc pool follows the process policy, as malloc.
  run numactl -p 2 hmctl guest_hmalloc --expect default --malloc-expect preferred:2
  ;;
example)  # the demo's program, under hmctl
  out=$(hmctl -m 2 hmsdk_example 16) || fail=1
  echo "$out"
  echo "$out" | grep -q '^hmalloc: *16 MiB, 4096 pages: node 2: 4096 (100.0%)$' || fail=1
  echo "$out" | grep -q '^malloc: *16 MiB, 4096 pages: node 0: 4096 (100.0%)$' || fail=1
  out=$(hmctl -i 1,2 hmsdk_example 16) || fail=1
  echo "$out"
  echo "$out" | grep -q '^hmalloc: *16 MiB, 4096 pages: node 1: 2048 (50.0%), node 2: 2048 (50.0%)$' || fail=1
  ;;
*)
  echo "usage: $0 tiers3|wide|numactl|example" >&2
  exit 2
  ;;
esac
[ $fail -eq 0 ] && echo "ALL PASSED" || echo "SOME FAILED"
exit $fail
