#!/usr/bin/env bash
# ABI check of the shipped library against a committed baseline (libabigail's abidiff).
#   tools/abi/check.sh BASELINE.abi LIBRARY.so
# Fails (exit 1) on an incompatible change: a removed or renamed strata_* function, a changed
# symbol version node or soname. Compatible additions (a new function) pass with a note: record
# them in the baseline when releasing (make abi-baseline). The shipped library has no DWARF, so
# this compares the ELF interface (symbols, versions, soname, needed libraries); the header's
# types, struct layouts and constants are pinned by bindings/python/tests/test_drift_abi.py and
# test_abi.py. The procedure to change the baseline on purpose: README, "ABI compatibility".
set -uo pipefail
baseline=$1 library=$2
if ! command -v abidiff >/dev/null; then
    echo "abi-check: abidiff not found (Debian package abigail-tools; make setup-system installs it)" >&2
    exit 1
fi
report=$(abidiff "$baseline" "$library" 2>&1)
rc=$?
# abidiff's exit status is a bit mask: 1 error, 2 usage error, 4 ABI change, 8 incompatible change.
if (( rc & 3 )); then
    echo "abi-check: abidiff failed (exit $rc):"; echo "$report"; exit 1
fi
if (( rc & 8 )); then
    echo "abi-check: INCOMPATIBLE ABI change in $library against $baseline:"
    echo "$report"
    echo "abi-check: keep the ABI (add, do not change or remove), or bump STRATA_ABI_VERSION (the soname)"
    echo "           and record a new baseline deliberately: make abi-baseline (README, \"ABI compatibility\")"
    exit 1
fi
if (( rc & 4 )); then
    echo "abi-check: compatible ABI additions in $library (record them at release: make abi-baseline):"
    echo "$report"
fi
echo "abi-check: $library is ABI-compatible with $baseline"
