#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# install_test.sh BUILD_DIR SRC_DIR EXPORTS: `cmake --install` into a fresh
# prefix, compile consumer.c against it through pkg-config (hetmem and umf)
# and consumer.cpp (the C++ allocator headers, pkg-config memkind), run
# them, and compare the dynamic symbols of libhetmem.so.1 with the list;
# no installed library or program carries a test hook. Consumers of
# libhetmem, libmemkind and libhmalloc linked with -L and -rpath only
# (DT_RUNPATH, which the libraries' own dependencies do not inherit) start
# without LD_LIBRARY_PATH: the front ends carry RUNPATH $ORIGIN.
set -euo pipefail
build=$1 src=$2 exports=$3
prefix=$(mktemp -d /tmp/hetmem-install.XXXXXX)
trap 'rm -rf "$prefix"' EXIT
cmake --install "$build" --prefix "$prefix" >/dev/null
pcdir=$(dirname "$(find "$prefix" -name hetmem.pc | head -n1)")
[ -n "$pcdir" ] || { echo "FAIL: no hetmem.pc installed"; exit 1; }
export PKG_CONFIG_PATH=$pcdir
for pc in hetmem umf; do
  cflags=$(pkg-config --cflags "$pc") libs=$(pkg-config --libs "$pc")
  ${CC:-cc} -std=c99 -Wall -Werror $cflags "$src/consumer.c" -o "$prefix/consumer-$pc" $libs
  libdir=$(pkg-config --variable=libdir "$pc")
  LD_LIBRARY_PATH=$libdir "$prefix/consumer-$pc"
  # The program must really have loaded the installed library.
  deps=$(LD_LIBRARY_PATH=$libdir ldd "$prefix/consumer-$pc")
  echo "$deps" | grep -q "$libdir/lib" ||
    { echo "FAIL: consumer-$pc did not resolve to $libdir:"; echo "$deps"; exit 1; }
done
# umf.pc says the UMF version implemented; find_package(umf 0.11) gives umf::umf.
pkg-config --atleast-version=0.11 umf || { echo "FAIL: umf.pc is not at UMF 0.11"; exit 1; }
mkdir -p "$prefix/cm"
cat >"$prefix/cm/CMakeLists.txt" <<CM
cmake_minimum_required(VERSION 3.16)
project(consumer_umf C)
find_package(umf 0.11 REQUIRED)
add_executable(consumer_umf $src/consumer_umf.c)
target_link_libraries(consumer_umf umf::umf)
CM
cmake -S "$prefix/cm" -B "$prefix/cm/build" -DCMAKE_PREFIX_PATH="$prefix" >/dev/null &&
  cmake --build "$prefix/cm/build" >/dev/null || { echo "FAIL: find_package(umf) consumer"; exit 1; }
LD_LIBRARY_PATH=$(pkg-config --variable=libdir umf) "$prefix/cm/build/consumer_umf" ||
  { echo "FAIL: consumer_umf"; exit 1; }
# The jemalloc pool in a default process, through the installed private jemalloc.
if [ -f "$(pkg-config --variable=libdir umf)/libhetmem-jemalloc.so.2" ]; then
  env -u GLIBC_TUNABLES LD_LIBRARY_PATH=$(pkg-config --variable=libdir umf) \
    "$prefix/cm/build/consumer_umf" jemalloc || { echo "FAIL: consumer_umf jemalloc"; exit 1; }
fi
sed -i 's/find_package(umf 0.11/find_package(umf 0.12/' "$prefix/cm/CMakeLists.txt"
if cmake -S "$prefix/cm" -B "$prefix/cm/b2" -DCMAKE_PREFIX_PATH="$prefix" >/dev/null 2>&1; then
  echo "FAIL: find_package(umf 0.12) accepted UMF 0.11.2"; exit 1
fi
# The C++ allocator headers are installed and serve a C++11 consumer built
# with pkg-config memkind alone.
for h in hbw_allocator.h memkind_allocator.h pmem_allocator.h fixed_allocator.h memkind/kind_allocator.h; do
  [ -f "$(pkg-config --variable=includedir memkind)/$h" ] || { echo "FAIL: $h not installed"; exit 1; }
done
libdir=$(pkg-config --variable=libdir memkind)
mkdir "$prefix/pmem"
LD_LIBRARY_PATH=$libdir ${CXX:-c++} -std=c++11 -Wall -Werror $(pkg-config --cflags memkind) \
  "$src/consumer.cpp" -o "$prefix/consumer-cpp" $(pkg-config --libs memkind)
LD_LIBRARY_PATH=$libdir "$prefix/consumer-cpp" "$prefix/pmem" || { echo "FAIL: consumer-cpp"; exit 1; }
grep -q "$libdir/libmemkind.so.0" <<<"$(LD_LIBRARY_PATH=$libdir ldd "$prefix/consumer-cpp")" ||
  { echo "FAIL: consumer-cpp did not resolve to $libdir"; exit 1; }
lib=$(find "$prefix" -name 'libhetmem.so.1' | head -n1)
[ -n "$lib" ] || { echo "FAIL: no libhetmem.so.1"; exit 1; }
[ "$(readlink "$(dirname "$lib")/libumf.so")" = libhetmem.so.1 ] || { echo "FAIL: libumf.so link"; exit 1; }
# libumf.so.0: UMF's SONAME over the one core (docs/umf-abi.md)
umf0=$(dirname "$lib")/libumf.so.0
umf0dyn=$(readelf -d "$umf0")
grep -q 'SONAME.*\[libumf.so.0\]' <<<"$umf0dyn" && grep -q 'NEEDED.*\[libhetmem.so.1\]' <<<"$umf0dyn" ||
  { echo "FAIL: libumf.so.0"; exit 1; }
want=$(sed -n 's/^    //p' "$exports" | sort -u)   # the generated .def: one symbol per indented line
syms=$(nm -D --defined-only "$lib" | awk '$2 ~ /^[TDBRVW]$/ {print $3}' | grep -v '^HETMEM_')
# The UMF API under UMF's nodes (name@@UMF_0.10 and name@UMF_0.11), the
# rest under HETMEM_1.0.
have=$(echo "$syms" | sed -n 's/@@\(HETMEM_1\.0\|UMF_0\.10\)$//p' | sort -u)
umf011=$(echo "$syms" | sed -n 's/@UMF_0\.11$//p' | sort -u)
[ "$umf011" = "$(echo "$syms" | sed -n 's/@@UMF_0\.10$//p' | sort -u)" ] ||
  { echo "FAIL: the UMF_0.11 aliases differ from the UMF_0.10 functions"; exit 1; }
# Everything else must be in the private node that hetmem's own front ends use.
other=$(echo "$syms" | grep -v '@@HETMEM_1\.0$' | grep -v '@@HETMEM_PRIVATE_1\.0$' |
  grep -v '@@UMF_0\.10$' | grep -v '@UMF_0\.11$' || true)
[ -z "$other" ] || { echo "FAIL: symbols outside HETMEM_1.0/HETMEM_PRIVATE_1.0:"; echo "$other"; exit 1; }
for fe in libmemkind.so.0 libhmalloc.so.0; do
  f=$(find "$prefix" -name "$fe" | head -n1)
  [ -n "$f" ] || { echo "FAIL: $fe not installed"; exit 1; }
  # One core per process: the front ends carry no copy of it.
  # (nm's output captured: under pipefail, grep -q closing the pipe early
  # would fail nm and make this `if` false whatever was found)
  if grep -qE ' (tracker_find|topo_init|heap_malloc)$' <<<"$(nm -D --defined-only "$f")"; then
    echo "FAIL: $fe contains its own copy of the core"; exit 1
  fi
  readelf -d "$f" | grep -q 'NEEDED.*libhetmem.so.1' || { echo "FAIL: $fe does not use libhetmem.so.1"; exit 1; }
done
# RUNPATH $ORIGIN on the libraries that need libhetmem.so.1.
libdir=$(dirname "$lib")
for fe in libmemkind.so.0 libhmalloc.so.0 libumf.so.0; do
  rp=$(readelf -d "$libdir/$fe" | sed -n 's/.*(RUNPATH).*\[\(.*\)\]$/\1/p')
  [ "$rp" = '$ORIGIN' ] || { echo "FAIL: $fe has RUNPATH [$rp], want [\$ORIGIN]"; readelf -d "$libdir/$fe" | grep -i path; exit 1; }
done
# A program linked with -rpath only (forced to DT_RUNPATH, as Debian's
# linker does by default) finds each library and, through it, libhetmem.so.1.
for c in hetmem:hetmem memkind:memkind hmalloc:hmalloc; do
  name=${c%%:*} l=${c#*:}
  srcf=$src/consumer.c
  [ "$name" = hetmem ] || srcf=$src/consumer_$name.c
  exe=$prefix/rpath-consumer-$name
  ${CC:-cc} -std=c99 -Wall -Werror -I"$prefix/include" "$srcf" -o "$exe" -L"$libdir" \
    -Wl,--enable-new-dtags -Wl,-rpath,"$libdir" -l"$l"
  readelf -d "$exe" | grep -q "(RUNPATH).*\[$libdir\]" || { echo "FAIL: $exe has no RUNPATH"; exit 1; }
  env -u LD_LIBRARY_PATH -u LD_PRELOAD "$exe" >/dev/null ||
    { echo "FAIL: $exe (linked with -rpath $libdir only) does not run"; env -u LD_LIBRARY_PATH "$exe"; exit 1; }
  deps=$(env -u LD_LIBRARY_PATH ldd "$exe")
  echo "$deps" | grep -q "libhetmem.so.1 => $libdir/libhetmem.so.1" ||
    { echo "FAIL: $exe did not load $libdir/libhetmem.so.1:"; echo "$deps"; exit 1; }
done
if [ "$want" != "$have" ]; then
  echo "FAIL: exported symbols differ from $exports:"; diff <(echo "$want") <(echo "$have") || true; exit 1
fi
test -x "$prefix/bin/hetmem-info" || { echo "FAIL: hetmem-info not installed"; exit 1; }
# What is installed carries no test hook (the preload libraries too, once
# they are installed): tests/layers/check_no_test_hooks.sh.
mapfile -t installed < <(find "$prefix" -type f \( -name 'lib*.so*' -o -path '*/bin/*' \) | sort)
"$src/../layers/check_no_test_hooks.sh" "${installed[@]}" >/dev/null ||
  { "$src/../layers/check_no_test_hooks.sh" "${installed[@]}" | grep -v '^ok'; exit 1; }
echo "install_prefix: ok ($(echo "$want" | wc -l) symbols exported)"
