#!/bin/sh
# SPDX-License-Identifier: MIT
# check_man_pages.sh GROFF MANDIR: the hmalloc man pages format without a
# warning (groff -ww) and name the functions (or the program) they document.
set -u
groff=$1 dir=$2 fail=0
check() { # page names...
  page=$dir/$1
  shift
  if [ ! -f "$page" ]; then echo "missing $page"; fail=1; return; fi
  out=$("$groff" -man -ww -z -Tutf8 "$page" 2>&1)
  if [ -n "$out" ]; then echo "$page: groff warns:"; echo "$out"; fail=1; fi
  text=$("$groff" -man -Tutf8 -P-c -P-b -P-u "$page" 2>/dev/null)
  for n in "$@"; do
    case $text in *"$n"*) ;; *) echo "$page does not mention $n"; fail=1 ;; esac
  done
}
check hmalloc.3 hmalloc hfree hcalloc hrealloc HMALLOC_POLICY ENOMEM
check hposix_memalign.3 hposix_memalign haligned_alloc EINVAL ENOMEM
check hmalloc_usable_size.3 hmalloc_usable_size
check hmmap.3 hmmap hmunmap MAP_FAILED
check hmctl.8 --membind --preferred --preferred-many --interleave --weighted-interleave \
  --help --usage HMALLOC_POLICY HMALLOC_NODES numactl 125 126 127
[ $fail -eq 0 ] && echo "man pages: ok"
exit $fail
