#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# check_layers.sh [BUILD_DIR]: the layer rules (docs/architecture.md, "Layers")
# on a configured and built tree (default build/):
#  - the object files of every layer call only the layers below it, and only
#    src/os and src/topology call the kernel, libnuma or hwloc
#    (scripts/check_layer_symbols.sh: nm -u, not a grep of the text);
#  - every internal header compiles alone with its own layer's include folder
#    (build/layers/<layer>/include: it includes what it uses, and nothing of
#    a higher layer or of another folder's private headers), and every
#    public header compiles alone as C99 (STYLE.md 3);
#  - no #include in src/ reaches around the include folders with "../" or
#    an absolute path.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build}
manifest=$build/layers/manifest.txt
if [ ! -f "$manifest" ]; then
  echo "check_layers: no $manifest: configure and build $build first (make build)" >&2
  exit 1
fi
fail=0
scripts/check_layer_symbols.sh "$manifest" || fail=1

bad=$(grep -rnE '^[[:space:]]*#[[:space:]]*include[[:space:]]*["<](/|[^">]*\.\./)' src tools \
        --include='*.c' --include='*.h' || true)
if [ -n "$bad" ]; then
  echo "check_layers: includes that bypass the layer include folders:" >&2
  echo "$bad" >&2
  fail=1
fi

# Only the sources that mention HETMEM_TEST_HOOKS are compiled twice
# (cmake/HetmemLayers.cmake), so in a header it may guard declarations only:
# nothing that changes a layout or code that other sources compile.
bad=$(find src -name '*.h' -print0 | xargs -0 awk '
  /^[[:space:]]*#[[:space:]]*if(def)?[[:space:]]+(defined[( ]*)?HETMEM_TEST_HOOKS/ { in_hooks = 1; next }
  in_hooks && /^[[:space:]]*#[[:space:]]*(endif|else|elif)/ { in_hooks = 0; next }
  in_hooks && /[{}=]|#[[:space:]]*(define|include|if)|(^|[^a-z_])(static|inline|typedef|struct[^*]*;)/ {
    print FILENAME ":" FNR ": " $0 }' || true)
if [ -n "$bad" ]; then
  echo "check_layers: HETMEM_TEST_HOOKS guards more than declarations in a header:" >&2
  echo "$bad" >&2
  fail=1
fi

cc=${CC:-cc}
err=$(mktemp)
trap 'rm -f "$err"' EXIT
nh=0
for h in $(find src -name '*.h' | sort); do
  rel=${h#src/}
  layer=$(dirname "$rel")           # a subfolder belongs to the layer above it
  while [ "$layer" != . ] && [ ! -d "$build/layers/${layer//\//_}/include" ]; do
    layer=$(dirname "$layer")
  done
  inc=$build/layers/${layer//\//_}/include
  if [ "$layer" = . ]; then
    echo "check_layers: $h is in no layer (no $build/layers/<folder>/include)" >&2; fail=1; continue
  fi
  for hooks in "" -DHETMEM_TEST_HOOKS=1; do
    if ! echo "#include \"$rel\"" |
         $cc -std=gnu11 -D_GNU_SOURCE $hooks -fsyntax-only -I"$inc" -Iinclude -x c - 2>"$err"; then
      echo "check_layers: $h does not compile alone in its layer ${hooks:+($hooks)}:" >&2
      cat "$err" >&2; fail=1
    fi
  done
  nh=$((nh + 1))
done
# C++ headers (memkind's allocators: they declare a namespace) as C++11,
# every other one as C99.
cxx=${CXX:-c++}
for h in $(find include -name '*.h' | sort); do
  if grep -q '^namespace ' "$h"; then
    lang=(-x c++ -std=c++11) what="C++11" tool=$cxx
  else
    lang=(-x c -std=c99) what="C99" tool=$cc
  fi
  if ! echo "#include \"${h#include/}\"" | $tool "${lang[@]}" -pedantic -fsyntax-only -Iinclude - 2>"$err"; then
    echo "check_layers: public header $h does not compile alone as $what:" >&2; cat "$err" >&2; fail=1
  fi
done
[ $fail -eq 0 ] && echo "check_layers: ok ($nh internal headers alone in their layers)"
exit $fail
