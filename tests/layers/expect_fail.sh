#!/usr/bin/env bash
# SPDX-License-Identifier: MIT
# expect_fail.sh PATTERN... -- COMMAND...: passes only when COMMAND fails and
# its output matches every PATTERN (grep -E), so that a command failing for
# another reason (a typo, a missing file) does not count as the refusal the
# test is about. The output is shown either way.
set -u
pats=()
while [ $# -gt 0 ] && [ "$1" != -- ]; do pats+=("$1"); shift; done
shift
out=$("$@" 2>&1); rc=$?
echo "$out"
if [ $rc -eq 0 ]; then
  echo "FAIL: expected a failure, the command succeeded: $*"; exit 1
fi
for p in "${pats[@]}"; do
  if ! grep -qE -- "$p" <<<"$out"; then
    echo "FAIL: the command failed (status $rc) but its output lacks /$p/"; exit 1
  fi
done
echo "ok: refused as expected (status $rc, ${#pats[@]} patterns matched)"
