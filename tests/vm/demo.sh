#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# `make demo`: boots the emulated tiers3 machine (node 0 DRAM with the CPUs,
# node 1 CXL-like, node 2 HBM-like; tests/vm/topologies/tiers3.topo) once in
# QEMU and runs the demo steps below in it, each under a heading.
#
#   tests/vm/demo.sh [BUILD_DIR]        default: build
#
# Every executable in BUILD_DIR/examples/ and BUILD_DIR/tools/*/ goes into the
# guest (on PATH; their shared libraries follow, see docs/vm.md), so a step
# can run any example or tool that is built. Exit status: 0 when every step
# exits 0; 1 when a step fails, a program is not built, or no guest can be
# booted (no kernel obtainable, no qemu).
#
# Environment: HETMEM_DEMO_TOPOLOGY (another .topo file), HETMEM_DEMO_TIMEOUT
# (guest timeout in seconds, default 300), and run-guest's HETMEM_VM_*.
set -uo pipefail

# ---- the steps ----------------------------------------------------------------
# One entry per step: "HEADING|COMMAND". COMMAND is a shell command line run in
# the guest (busybox sh, in /tmp, with the built examples and tools on PATH).
# To show more, add a line here.
steps=(
  "hetmem-info: the machine as hetmem sees it (class, tier, bandwidth, latency of each node)|hetmem-info"
  "umf_numa_bind 2: a UMF pool on an OS provider bound to the HBM-like node 2, and where its pages landed|umf_numa_bind 2"
  "umf_numa_bind 1: the same on the CXL-like node 1|umf_numa_bind 1"
  "hmctl -m 1: the program's hmalloc pool bound to the CXL-like node 1; its malloc memory stays on DRAM|hmctl -m 1 hmsdk_example 64"
  "hmctl -i 0-2: the hmalloc pool interleaved over all three nodes; malloc memory stays on DRAM|hmctl -i 0-2 hmsdk_example 64"
  "memkind_kinds: hbw_malloc and memkind kinds, the node of every page|memkind_kinds"
)

# ---- set-up --------------------------------------------------------------------
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
build=${1:-build}
topology=${HETMEM_DEMO_TOPOLOGY:-$here/topologies/tiers3.topo}
timeout=${HETMEM_DEMO_TIMEOUT:-300}
start=$(date +%s.%N)

say() { printf 'demo: %s\n' "$*"; }
fail() {   # fail LINE... (the first line is the reason)
  printf 'demo: FAILED: %s\n' "$1" >&2
  shift
  (( $# )) && printf 'demo:   %s\n' "$@" >&2
  exit 1
}
elapsed() { awk -v s="$start" -v e="$(date +%s.%N)" 'BEGIN { printf "%.1f", e - s }'; }

[[ -d $build ]] || fail "no build directory '$build' (run 'make demo', or pass the build directory)"
build=$(cd "$build" && pwd)
[[ -f $topology ]] || fail "no topology file $topology"

# The programs: the examples and tools that are built.
bins=()
while IFS= read -r f; do
  bins+=(--bin "$f")
done < <(find "$build/examples" "$build/tools" -maxdepth 2 -type f -perm -u+x \
              -not -path '*/CMakeFiles/*' 2>/dev/null | sort)
(( ${#bins[@]} )) || fail "nothing built in $build/examples or $build/tools (run 'make build' first)"
names=$(for ((i = 1; i < ${#bins[@]}; i += 2)); do basename "${bins[i]}"; done | paste -sd ' ')

# The kernel and the base initramfs (cached; downloaded once).
prep=$("$here/run-guest" --prepare 2>&1)
rc=$?
if (( rc != 0 )); then
  printf '%s\n' "$prep" >&2
  if (( rc == 77 )); then
    reason=$(printf '%s\n' "$prep" | sed -n 's/^SKIP: \(hetmem-vm: \)\{0,1\}//p' | head -n 1)
    fail "the emulated machine cannot be booted: ${reason:-no guest kernel, or no qemu}." \
         "The guest kernel is downloaded once from Debian's bookworm-backports archive (the host's" \
         "apt mirror, or HETMEM_VM_MIRROR) into ${HETMEM_VM_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/hetmem-vm}" \
         "and used from there afterwards; qemu comes from the qemu-system-x86 package. See docs/vm.md."
  fi
  fail "preparing the guest failed (run-guest --prepare exited $rc)"
fi
kernel=$(printf '%s\n' "$prep" | sed -n 's/^hetmem-vm: kernel \([^ ]*\).*/\1/p' | head -n 1)

# The guest's script: each step under its heading. It exits 0 and reports the
# failed steps on its last line, so that run-guest does not add the kernel log
# (which it shows when a guest command fails) below the steps' own output.
work=$(mktemp -d "${TMPDIR:-/tmp}/hetmem-demo.XXXXXX")
trap 'rm -rf "$work"' EXIT
sq() { printf "'%s'" "${1//\'/\'\\\'\'}"; }   # single-quote for sh
cat >"$work/steps.sh" <<'EOF'
failed=0
step() {   # step N OF HEADING COMMAND
  printf '\n==> [%s/%s] %s\n$ %s\n' "$1" "$2" "$3" "$4"
  sh -c "$4"; rc=$?
  if [ "$rc" -ne 0 ]; then
    failed=$((failed + 1))
    hint=""; [ "$rc" -eq 127 ] && hint=" (not found: is it built?)"
    printf '!!! step %s failed: %s exited %s%s\n' "$1" "$4" "$rc" "$hint"
  fi
}
EOF
for ((i = 0; i < ${#steps[@]}; i++)); do
  s=${steps[i]}
  echo "step $((i + 1)) ${#steps[@]} $(sq "${s%%|*}") $(sq "${s#*|}")"
done >>"$work/steps.sh"
cat >>"$work/steps.sh" <<'EOF'
echo "demo-steps: failed=$failed"
EOF

say "booting the emulated '$(basename "$topology" .topo)' machine under QEMU (kernel ${kernel:-?}); programs: $names"
"$here/run-guest" --topology "$topology" --timeout "$timeout" "${bins[@]}" \
    --file "$work/steps.sh:/hetmem/demo-steps.sh" -- sh /hetmem/demo-steps.sh 2>&1 |
  sed -u -e 's/\r$//' -e '/^HETMEM-VM-EXIT=[0-9]*$/d' -e 's/HETMEM-VM-EXIT=[0-9]*//' |
  tee "$work/output.log" | sed -u '/^demo-steps: failed=/d'
rc=${PIPESTATUS[0]}
done_line=$(grep -a '^demo-steps: failed=' "$work/output.log" | tail -n 1)

echo
case $rc in
  0) [[ -n $done_line ]] || fail "the guest did not run all the steps (see above), $(elapsed) s"
     nfailed=${done_line#demo-steps: failed=}
     (( nfailed == 0 )) || fail "$nfailed of ${#steps[@]} steps failed (the '!!!' lines above), $(elapsed) s"
     say "all ${#steps[@]} steps passed in $(elapsed) s" ;;
  77) fail "the guest could not be booted (see the SKIP line above)" ;;
  124) fail "the guest did not finish within ${timeout} s" ;;
  125) fail "the guest's own set-up failed (see above)" ;;
  *) fail "the guest ended with status $rc (see above), $(elapsed) s" ;;
esac
