# shellcheck shell=sh
# SPDX-License-Identifier: MIT
# The one way a shell test skips (tests/test_skip.h is the C twin); source it
# (POSIX sh and bash).
#   test_skip REASON...   prints "SKIP: REASON" and exits 77 (ctest's
#                         SKIP_RETURN_CODE), or, in strict mode
#                         (HETMEM_REQUIRE_ALL=1, exported by .ci/run), prints
#                         "REQUIRED but skipped: REASON" and exits 1.
#   test_require_all      true in strict mode.
# A guest command that exits 77 is a skip as well: run-guest hands it to
# test_skip on the host.
test_require_all() { [ -n "${HETMEM_REQUIRE_ALL:-}" ] && [ "${HETMEM_REQUIRE_ALL}" != 0 ]; }
test_skip() {
  if test_require_all; then
    printf 'REQUIRED but skipped: %s (HETMEM_REQUIRE_ALL=1)\n' "$*" >&2
    exit 1
  fi
  printf 'SKIP: %s\n' "$*" >&2
  exit 77
}
