#!/usr/bin/env bash
# Replays files through the fuzz target once each (no mutation): the committed seed corpus by
# default, or the given files/directories (e.g. tools/fuzz/regressions). Exit 0 = no crash.
#   tools/fuzz/replay.sh [PATH...]
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
OUT=$ROOT/.build-fuzz
# Rebuild when the target is missing or any Swift source is newer than it.
if [ ! -x "$OUT/fuzz-loader" ] || [ -n "$(find "$ROOT/Sources" "$ROOT/tools/fuzz" -name '*.swift' -newer "$OUT/fuzz-loader" | head -1)" ]; then
    "$ROOT/tools/fuzz/build.sh" "$OUT"
fi
export SWIFT_BACKTRACE=enable=no
files=()
for p in "${@:-$ROOT/tools/fuzz/corpus}"; do
    if [ -d "$p" ]; then while IFS= read -r f; do files+=("$f"); done < <(find "$p" -type f -name '*.strata' | sort)
    else files+=("$p"); fi
done
"$OUT/fuzz-loader" -runs=1 "${files[@]}"
