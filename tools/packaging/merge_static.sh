#!/usr/bin/env bash
# merge_static.sh SWIFTPM_ARCHIVE SWIFT_STATIC_DIR OUT.a
#
# Turns SwiftPM's libstrata-static.a (Strata's own objects only) into a self-contained
# libstrata.a that a C or C++ program links with nothing but the C++ runtime:
#
#     cc app.c -I$PREFIX/include $PREFIX/lib/libstrata.a -lstdc++ -lm -ldl -lpthread
#
# How: one relocatable link (`ld -r`) of swiftrt.o (registers the Swift metadata sections at
# start-up), every Strata object, and the members of the Swift static runtime archives they need
# (the libraries named by the objects' autolink entries). Then every global symbol except the
# C ABI (`strata_*`) and weak/COMDAT definitions is made local, so the embedded Swift runtime
# cannot clash with the application's symbols, and debug info is dropped.
set -euo pipefail
if [ $# -ne 3 ]; then echo "usage: $0 SWIFTPM_ARCHIVE SWIFT_STATIC_DIR OUT.a" >&2; exit 2; fi
archive=$(realpath "$1")
swift_static=$(realpath "$2")
out=$3
swift_bin=$(dirname "$(readlink -f "$(command -v swiftc)")")
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

# Swift runtime libraries the objects ask for (-lswiftCore, -lswift_Concurrency, ...), static copies.
libs=()
for flag in $("$swift_bin/swift-autolink-extract" "$archive" -o - | sort -u); do
  name=${flag#-l}
  if [ -f "$swift_static/lib$name.a" ]; then libs+=("$swift_static/lib$name.a"); fi
done

ld -r -o "$tmp/prelinked.o" "$swift_static/$(uname -m)/swiftrt.o" \
   --whole-archive "$archive" --no-whole-archive \
   --start-group "${libs[@]}" --end-group

# Keep global: the C ABI, plus weak definitions (COMDAT/inline copies the application may share).
nm --defined-only -g "$tmp/prelinked.o" \
  | awk '$3 ~ /^strata_/ || $2 == "W" || $2 == "V" { print $3 }' > "$tmp/keep.txt"
objcopy --strip-debug --keep-global-symbols="$tmp/keep.txt" "$tmp/prelinked.o" "$tmp/strata.o"

rm -f "$out.tmp"
ar rcs "$out.tmp" "$tmp/strata.o"
mv "$out.tmp" "$out"
