#!/bin/sh
# SPDX-License-Identifier: MIT
# check_exports.sh LIB DEF: libhmalloc.so exports exactly the symbols of its
# export list (the generated .def) and has the soname libhmalloc.so.0.
set -u
lib=$1 def=$2
want=$(sed -n 's/^    //p' "$def" | sort -u)
have=$(nm -D --defined-only "$lib" | awk '$2 ~ /^[TDBRVW]$/ {print $3}' | sed 's/@.*//' | sort -u)
if [ "$want" != "$have" ]; then
  echo "FAIL: $lib exports:"; echo "$have"; echo "want:"; echo "$want"; exit 1
fi
soname=$(readelf -d "$lib" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
[ "$soname" = libhmalloc.so.0 ] || { echo "FAIL: soname '$soname'"; exit 1; }
echo "libhmalloc exports: ok ($(echo "$want" | wc -l) symbols, soname $soname)"
