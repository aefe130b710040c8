#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# rename_private_headers.sh [-n]: gives every src/**/<name>_internal.h the
# name that says who may include it (docs/architecture.md, "Layers"):
#   <name>_priv.h  when only its own folder includes it (tests and tools do
#                  not count: they are not layers of the library);
#   <name>.h       when another folder of src/ includes it: it is that
#                  layer's interface, whatever it was called.
# git mv, then every mention of the old name in src, tools, tests, bench,
# examples, docs, cmake and scripts (includes, include guards, comments, the
# layer exceptions in src/CMakeLists.txt) is rewritten. Idempotent: a tree
# without *_internal.h is left as it is. -n: print the plan, change nothing.
# Run once from the repository root after the branches are merged; then
# configure: it warns about exceptions in src/CMakeLists.txt that no longer
# apply (delete those lines).
set -euo pipefail
cd "$(dirname "$0")/.."
dry=0
[ "${1:-}" = -n ] && dry=1

mapfile -t headers < <(find src -name '*_internal.h' | sort)
if [ ${#headers[@]} -eq 0 ]; then
  echo "rename_private_headers: nothing to rename"; exit 0
fi
inc_re() { printf '%s' "$1" | sed 's/[.]/\\./g'; }

plan=()
for h in "${headers[@]}"; do
  rel=${h#src/}                        # heap/heap_internal.h
  dir=$(dirname "$rel")                # heap
  base=$(basename "$rel" _internal.h)  # heap
  # Included from another folder of src/ (by its path, as every layer does)?
  users=$(grep -rlE "#[[:space:]]*include[[:space:]]*\"$(inc_re "$rel")\"" src --include='*.c' \
            --include='*.h' | grep -v "^src/$dir/[^/]*$" || true)
  if [ -n "$users" ]; then
    new=$base.h
  else
    new=${base}_priv.h
  fi
  if [ -e "src/$dir/$new" ]; then
    echo "rename_private_headers: src/$dir/$new exists already; rename $h by hand" >&2
    echo "  (it is included from: $(echo $users))" >&2
    exit 1
  fi
  plan+=("$h|src/$dir/$new")
  echo "$h -> src/$dir/$new${users:+   (included by $(echo $users))}"
done
[ $dry -eq 1 ] && exit 0

mapfile -t files < <(git ls-files src tools tests bench examples docs cmake scripts README.md |
                       grep -vE '(^|/)rename_private_headers\.sh$' |
                       grep -E '\.(c|h|md|txt|cmake|sh)$|CMakeLists\.txt$|(^|/)[^.]+$' || true)
for p in "${plan[@]}"; do
  old=${p%%|*} new=${p#*|}
  git mv "$old" "$new"
  ob=$(basename "$old") nb=$(basename "$new")
  og=$(echo "${ob%.h}_H" | tr 'a-z' 'A-Z') ng=$(echo "${nb%.h}_H" | tr 'a-z' 'A-Z')
  # The name, not a longer name that ends with it (pool_internal.h is not
  # pool_jemalloc_internal.h; the boundary is any non-identifier character).
  for i in "${!files[@]}"; do
    [ "${files[$i]}" = "$old" ] && files[$i]=$new
  done
  for f in "${files[@]}"; do
    [ -f "$f" ] || continue
    if grep -qE "(^|[^A-Za-z0-9_])$(inc_re "$ob")" "$f" || grep -qE "_${og}\b" "$f"; then
      sed -i -E "s/(^|[^A-Za-z0-9_])$(inc_re "$ob")/\1$nb/g; s/_${og}\b/_${ng}/g" "$f"
    fi
  done
done
echo "rename_private_headers: renamed ${#plan[@]} headers; now configure and build"
