#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# probe_include.sh ok|refused SRC_DIR HEADER CC FLAGS...: compiles a source
# that includes HEADER ("heap/heap.h") with a layer's own compile flags.
# ok: it must compile. refused: it must fail because HEADER is not on that
# layer's include path; HEADER must exist in SRC_DIR (else the probe proves
# nothing and fails).
set -u
want=$1 src=$2 header=$3
shift 3
if [ ! -f "$src/$header" ]; then
  echo "FAIL: probe header src/$header does not exist: update tests/layers/CMakeLists.txt"; exit 1
fi
out=$(echo "#include \"$header\"" | "$@" -fsyntax-only -x c - 2>&1); rc=$?
echo "$out"
case $want in
  ok)
    [ $rc -eq 0 ] || { echo "FAIL: a legal include of $header does not compile"; exit 1; } ;;
  refused)
    [ $rc -ne 0 ] || { echo "FAIL: $header compiled in a layer that must not see it"; exit 1; }
    grep -qF "$header: No such file" <<<"$out" ||
      { echo "FAIL: it failed, but not because $header was out of reach"; exit 1; } ;;
esac
echo "ok: #include \"$header\" $want"
