#!/usr/bin/env bash
# Builds the libFuzzer target for the .strata loader with AddressSanitizer (and LeakSanitizer).
#
#   tools/fuzz/build.sh [OUT_DIR]      default OUT_DIR: .build-fuzz
#
# SwiftPM cannot add an executable here without a Package.swift change, so each module is
# compiled with swiftc, instrumented for coverage (-sanitize=fuzzer) and ASan, into one object,
# in dependency order; the entry file (FuzzLoader.swift) is linked with them and libFuzzer.
# Also builds `seed-writer`, which writes Swift-writer seeds for the corpus.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OUT=${1:-$ROOT/.build-fuzz}
SOURCES=${STRATA_SOURCES:-$ROOT/Sources}   # override to fuzz a patched copy
SWIFTC=${SWIFTC:-swiftc}
mkdir -p "$OUT"
FLAGS=(-O -parse-as-library -sanitize=fuzzer,address -package-name Strata -I "$OUT" -g)
OBJS=()
for module in StrataCore StrataFormat StrataKernels StrataEngine; do
    sources=$(find "$SOURCES/$module" -name '*.swift' | sort)
    # shellcheck disable=SC2086
    "$SWIFTC" "${FLAGS[@]}" -wmo -module-name "$module" -emit-module -emit-module-path "$OUT/$module.swiftmodule" \
        -c -o "$OUT/$module.o" $sources
    OBJS+=("$OUT/$module.o")
done
"$SWIFTC" "${FLAGS[@]}" -module-name FuzzLoader "$ROOT/tools/fuzz/FuzzLoader.swift" "${OBJS[@]}" \
    -o "$OUT/fuzz-loader" 2> >(grep -v "Cannot export local symbol" >&2)
# The seed writer needs no instrumentation beyond what the objects carry; libFuzzer's main is
# not linked (fuzzer-no-link would need separate objects), so it takes -sanitize=address only.
"$SWIFTC" -O -parse-as-library -sanitize=address -package-name Strata -I "$OUT" -module-name SeedWriter \
    "$ROOT/tools/fuzz/SeedWriter.swift" "${OBJS[@]}" -o "$OUT/seed-writer" 2> >(grep -v "Cannot export local symbol" >&2)
echo "built $OUT/fuzz-loader"
