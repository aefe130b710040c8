#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# check_no_test_hooks.sh FILE...: the released libraries and programs carry
# no test hook: no symbol named *_for_testing, *_testing or like the fault
# injections (fail_next, fail_allocs), neither exported (nm -D) nor in the
# symbol table (nm: hidden and static functions too). Hooks exist only in the
# test flavour (HETMEM_TEST_HOOKS, cmake/HetmemLayers.cmake).
set -u
pattern='_testing|fail_next_|fail_allocs_after'
fail=0
for f in "$@"; do
  [ -f "$f" ] || { echo "FAIL: $f does not exist"; fail=1; continue; }
  hooks=$( { nm -D --defined-only "$f" 2>/dev/null; nm --defined-only "$f" 2>/dev/null; } |
           awk '{ print $NF }' | grep -E "$pattern" | sort -u)
  nsyms=$( { nm -D --defined-only "$f" 2>/dev/null; nm --defined-only "$f" 2>/dev/null; } | wc -l)
  if [ "$nsyms" -eq 0 ]; then
    echo "FAIL: $f: no symbols read (stripped, or not an object)"; fail=1
  elif [ -n "$hooks" ]; then
    echo "FAIL: $f carries test hooks:"; echo "$hooks" | sed 's/^/  /'; fail=1
  else
    echo "ok: $f ($nsyms symbols, no test hook)"
  fi
done
exit $fail
