#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Fails when kernel, hwloc or libnuma calls appear outside src/os and
# src/topology (DESIGN.md: layers only call down), or when an internal
# header does not compile on its own (STYLE.md 3).
set -euo pipefail
cd "$(dirname "$0")/.."
bad=$(grep -rnE '\b(mmap|munmap|mprotect|madvise|mbind|set_mempolicy|get_mempolicy|move_pages|memfd_create|fallocate|hwloc_[a-z_]+|numa_[a-z_]+)[[:space:]]*\(' \
        src tools --include='*.c' --include='*.h' | grep -vE '^src/(os|topology)/' |
        grep -vE '^[^:]+:[0-9]+:[[:space:]]*(//|/?\*)' || true)   # comments may name the calls
if [ -n "$bad" ]; then
  echo "check_layers: kernel/hwloc/libnuma calls outside src/os and src/topology:" >&2
  echo "$bad" >&2
  exit 1
fi
cc=${CC:-cc}
fail=0
for h in $(find src -name '*.h' | sort); do
  if ! echo "#include \"${h#src/}\"" | $cc -std=gnu11 -D_GNU_SOURCE -fsyntax-only -Isrc -Iinclude -x c - 2>/tmp/check_layers.$$; then
    echo "check_layers: $h does not compile alone:" >&2; cat /tmp/check_layers.$$ >&2; fail=1
  fi
done
for h in $(find include -name '*.h' | sort); do
  if ! echo "#include \"${h#include/}\"" | $cc -std=c99 -pedantic -fsyntax-only -Iinclude -x c - 2>/tmp/check_layers.$$; then
    echo "check_layers: public header $h does not compile alone as C99:" >&2; cat /tmp/check_layers.$$ >&2; fail=1
  fi
done
rm -f /tmp/check_layers.$$
[ $fail -eq 0 ] && echo "check_layers: ok"
exit $fail
