#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# check_layer_symbols.sh MANIFEST: the layer rules, checked on the object
# files (nm -u) rather than on the source text, which a grep can be dodged in.
# MANIFEST (build/layers/manifest.txt, from cmake/HetmemLayers.cmake) has a
# line per layer:   <layer>|<layers it may call>|<object files>
# Fails when
#  - an object outside src/os and src/topology references a kernel, libnuma
#    or hwloc function: what src/os/os.h wraps (memory mapping, NUMA policy,
#    page moves, memfd/shm, file sizing, getcpu, pidfd), and syscall(), which
#    would reach all of them past the list;
#  - an object references a symbol that a layer not below it defines.
set -euo pipefail
manifest=$1
kernel='^(mmap|mmap64|munmap|mremap|mprotect|pkey_mprotect|madvise|posix_madvise|process_madvise'
kernel+='|mlock|mlock2|munlock|mbind|set_mempolicy|get_mempolicy|set_mempolicy_home_node'
kernel+='|move_pages|migrate_pages|memfd_create|shm_open|shm_unlink|fallocate|fallocate64'
kernel+='|posix_fallocate|posix_fallocate64|ftruncate|ftruncate64|(__)?open(at)?(64)?(_2)?'
kernel+='|mkstemp|mkostemp|mkostemp64|unlink|ioctl|getcpu|sched_getcpu|pidfd_open|pidfd_getfd'
kernel+='|syscall|numa_.*|hwloc_.*)$'

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# Who defines what: "symbol layer".
while IFS='|' read -r layer below objs; do
  [ -n "$layer" ] || continue
  # shellcheck disable=SC2086
  nm --defined-only -g $objs | awk -v l="$layer" 'NF == 3 { print $3, l }' >>"$tmp/defs"
done <"$manifest"
sort -u -k1,1 "$tmp/defs" >"$tmp/defs.sorted"

fail=0 nlayers=0
while IFS='|' read -r layer below objs; do
  [ -n "$layer" ] || continue
  nlayers=$((nlayers + 1))
  # "object symbol" for every undefined reference
  # shellcheck disable=SC2086
  nm -u -A $objs | awk '{ f = $1; sub(/:$/, "", f); n = split(f, p, "/"); s = $NF; sub(/@.*/, "", s);
                          print p[n], s }' >"$tmp/refs"
  if [ "$layer" != os ] && [ "$layer" != topology ]; then
    bad=$(awk -v re="$kernel" '$2 ~ re { print "  " $1 ": " $2 }' "$tmp/refs" | sort -u)
    if [ -n "$bad" ]; then
      echo "check_layer_symbols: $layer calls the kernel, libnuma or hwloc (only src/os and src/topology may):"
      echo "$bad"
      fail=1
    fi
  fi
  # A symbol of another layer that is not below this one.
  bad=$(awk -v me="$layer" -v below=" $below " '
          NR == FNR { owner[$1] = $2; next }
          ($2 in owner) && owner[$2] != me && index(below, " " owner[$2] " ") == 0 {
            print "  " $1 ": " $2 " (" owner[$2] ")" }' "$tmp/defs.sorted" "$tmp/refs" | sort -u)
  if [ -n "$bad" ]; then
    echo "check_layer_symbols: $layer uses layers that are not below it (it may use: ${below:-none}):"
    echo "$bad"
    fail=1
  fi
done <"$manifest"
[ "$nlayers" -gt 0 ] || { echo "check_layer_symbols: no layer in $manifest"; exit 1; }
[ $fail -eq 0 ] && echo "check_layer_symbols: ok ($nlayers layers)"
exit $fail
