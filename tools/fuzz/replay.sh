#!/usr/bin/env bash
# Replays files through the fuzz target once each (no mutation): the committed seed corpus by
# default, or the given files/directories (e.g. tools/fuzz/regressions). Exit 0 = no crash.
#   tools/fuzz/replay.sh [PATH...]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OUT=$ROOT/.build-fuzz
[ -x "$OUT/fuzz-loader" ] || "$ROOT/tools/fuzz/build.sh" "$OUT"
export SWIFT_BACKTRACE=enable=no
files=()
for p in "${@:-$ROOT/tools/fuzz/corpus}"; do
    if [ -d "$p" ]; then while IFS= read -r f; do files+=("$f"); done < <(find "$p" -type f -name '*.strata' | sort)
    else files+=("$p"); fi
done
"$OUT/fuzz-loader" -runs=1 "${files[@]}"
