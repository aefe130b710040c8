#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# Builds the jemalloc that the jemalloc pool loads (docs/jemalloc-pool.md):
# Debian's jemalloc source package, configured with
# --disable-initial-exec-tls, so that it loads late (dlopen at the first
# jemalloc pool) in any process, without GLIBC_TUNABLES. Debian's
# libjemalloc.so.2 uses initial-exec TLS and fits no late load.
# Prints the path of the built library (a cache outside any build tree,
# built once per machine); exits 1 with a reason when the source cannot be
# had (then the pool falls back to Debian's libjemalloc.so.2).
#   HETMEM_JEMALLOC_CACHE  cache (default ${XDG_CACHE_HOME:-~/.cache}/hetmem-jemalloc)
#   HETMEM_VM_MIRROR       Debian archive URI (default: the host apt's Debian mirror)
set -euo pipefail
suite=${JEMALLOC_SUITE:-bookworm}
cache=${HETMEM_JEMALLOC_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/hetmem-jemalloc}
dir=$cache/$suite-gd-tls
log() { printf 'build-jemalloc: %s\n' "$*" >&2; }
mkdir -p "$cache"
exec 9>"$cache/build.lock"
flock 9
lib=$dir/lib/libjemalloc.so.2
if [[ -f $dir/complete && -f $lib ]]; then
  echo "$lib"
  exit 0
fi
for tool in apt-get dpkg-source make cc; do
  command -v "$tool" >/dev/null || { log "host tool $tool missing"; exit 1; }
done
mirror=${HETMEM_VM_MIRROR:-}
if [[ -z $mirror ]]; then
  # shellcheck disable=SC2016  # apt's own $(FIELD) syntax
  mirror=$(apt-get indextargets --format '$(REPO_URI) $(RELEASE)' 2>/dev/null |
    awk '$1 !~ /security/ { print $1; exit }') || true
fi
[[ -n $mirror ]] || { log "no Debian mirror in the host's apt configuration"; exit 1; }
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
rm -rf "$dir" && mkdir -p "$dir/apt/lists/partial" "$dir/apt/cache/archives/partial" "$dir/src"
echo "deb-src [signed-by=$keyring] $mirror $suite main" >"$dir/apt/sources.list"
o=(-o "Dir::Etc::SourceList=$dir/apt/sources.list" -o "Dir::Etc::SourceParts=/dev/null"
   -o "Dir::State::Lists=$dir/apt/lists" -o "Dir::Cache=$dir/apt/cache"
   -o "APT::Sandbox::User=$(id -un)" -o "Acquire::Retries=1" -o "Acquire::http::Timeout=30"
   -o "Debug::NoLocking=true")
apt-get "${o[@]}" -q update >"$dir/update.log" 2>&1 ||
  { sed 's/^/  /' "$dir/update.log" >&2; log "the Debian archive is unreachable"; exit 1; }
(cd "$dir/src" && apt-get "${o[@]}" -q source --download-only jemalloc >"$dir/download.log" 2>&1) ||
  { sed 's/^/  /' "$dir/download.log" >&2; log "downloading jemalloc's source failed"; exit 1; }
dsc=$(ls "$dir"/src/jemalloc_*.dsc | head -1)
(cd "$dir/src" && dpkg-source --no-check -x "$dsc" tree >"$dir/extract.log" 2>&1) ||
  { sed 's/^/  /' "$dir/extract.log" >&2; log "unpacking $dsc failed"; exit 1; }
ver=$(sed -n 's/^Version: //p' "$dsc")
log "building jemalloc $ver (global-dynamic TLS) in $dir"
cd "$dir/src/tree"
[[ -x configure ]] || autoconf >"$dir/autoconf.log" 2>&1
# No prefix: the pool loads it RTLD_LOCAL, so it interposes nothing.
./configure --disable-initial-exec-tls --disable-cxx --disable-stats --disable-prof \
  --with-version="${ver%%-*}-0-g0000000000000000000000000000000000000000" \
  >"$dir/configure.log" 2>&1 ||
  { tail -20 "$dir/configure.log" >&2; log "configure failed"; exit 1; }
make -j"$(nproc)" build_lib_shared >"$dir/make.log" 2>&1 ||
  { tail -20 "$dir/make.log" >&2; log "make failed"; exit 1; }
mkdir -p "$dir/lib"
cp lib/libjemalloc.so.2 "$lib"
echo "$ver" >"$dir/version"
touch "$dir/complete"
echo "$lib"
