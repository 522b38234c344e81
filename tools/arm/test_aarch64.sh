#!/usr/bin/env bash
# make test-aarch64: the aarch64 library (make lib-aarch64) tested under qemu-user on this x86-64
# machine, against the x86-64 library (make lib). Usage (the Makefile passes these):
#
#   tools/arm/test_aarch64.sh OUT_X86 OUT_AARCH64 SYSROOT PYTHON MALFORMED...
#
# 0. the f32 GEMM tiles' inner loops are 4·rows NEON fmla, the sdot tiles' 16·rows sdot, with no
#    stack access (disassembly);
#    the sdot int8 kernel (Sources/CStrataSIMD/qdot_i8_sdot.c, the object the library links)
#    equals plain loops bit for bit on a CPU with the dot product (qemu -cpu max), and is not
#    chosen on one without it (-cpu cortex-a72, as on a Raspberry Pi 4) or with
#    STRATA_PRETEND_NO_DOTPROD=1 (tools/arm/qdot_sdot_test.c);
# 1. the C test programs of bindings/c/tests, cross-compiled and linked to the aarch64 library:
#    allocation count (no allocation during runs, 1 and 2 threads), leak cycles with error paths
#    and every malformed fixture (guest heap via mallinfo2: under qemu RSS is the emulator's), a
#    short soak (runs checked bit for bit, deliberate errors, no leftover thread);
# 2. the C samples (classify.c, latency.c) linked shared and static; classify's printed outputs
#    (%.9g, which round-trips a float) must equal the x86-64 build's, character for character;
# 3. the cross-architecture test (tools/arm/cross_arch.py): a model spread over every op family
#    and precision, normal and subnormal-laced inputs, batches 1/7/64, threads 1/2/4: bitwise equal,
#    on a CPU with the dot product (qemu -cpu max: dynamic int8 by sdot); the int8-dynamic models
#    again on a Cortex-A72 (no dot product: the portable twin);
# 4. the aarch64 wheel: its tag (auditwheel), its library (ELF machine, soname, glibc), pip's platform
#    check, and its library found by its own bindings, dlopened and run under qemu (check_wheel.py).
# Prints the seconds each part took.
set -euo pipefail
out_x86=$1 out_arm=$2 sysroot=$3 py=$4
shift 4
malformed=("$@")
work=$out_arm/test
mkdir -p "$work"
qemu=(qemu-aarch64 -cpu max -L "$sysroot")  # max: ARMv8.2 dot product and more
qemu_a72=(qemu-aarch64 -cpu cortex-a72 -L "$sysroot")  # ARMv8.0 (Raspberry Pi 4): no dot product
cross_cc=(aarch64-linux-gnu-gcc -std=c11 -O2 -Wall -Wextra -Werror -Iinclude -Ibindings/c/tests)
shared=(-L"$out_arm/lib" -lstrata -lpthread -Wl,-rpath,"$(realpath "$out_arm/lib")")
static=("$out_arm/lib/libstrata.a" -lm -lpthread)
step() { echo "test-aarch64: $1 ($(( $(date +%s) - t0 )) s)"; t0=$(date +%s); }
start=$(date +%s) t0=$start

"$py" tools/soak/make_models.py "$work/models" >/dev/null
for prog in count_allocations leak_cycles soak dump_outputs; do
  "${cross_cc[@]}" -DSTRATA_TEST_GUEST_HEAP "bindings/c/tests/$prog.c" "${shared[@]}" -o "$work/$prog"
done
"${cross_cc[@]}" -ISources/CStrataSIMD/include tools/arm/qdot_sdot_test.c "$out_arm/embedded/c/CStrataSIMD/qdot_i8_sdot.o" \
  -o "$work/qdot_sdot_test"
"${cross_cc[@]}" bindings/c/classify.c "${shared[@]}" -o "$work/classify"
"${cross_cc[@]}" bindings/c/classify.c "${static[@]}" -o "$work/classify-static"
"${cross_cc[@]}" bindings/c/latency.c "${static[@]}" -o "$work/latency-static"
cc -std=c11 -O2 -Iinclude bindings/c/classify.c -L"$out_x86/lib" -lstrata -Wl,-rpath,"$(realpath "$out_x86/lib")" \
  -o "$work/classify-x86_64"
cc -std=c11 -O2 -Iinclude -Ibindings/c/tests bindings/c/tests/dump_outputs.c -L"$out_x86/lib" -lstrata \
  -Wl,-rpath,"$(realpath "$out_x86/lib")" -o "$work/dump_outputs-x86_64"
if aarch64-linux-gnu-readelf -d "$work/classify-static" | grep -q 'libstrata'; then
  echo "classify-static needs libstrata.so: the static link did not take libstrata.a"; exit 1; fi
step "cross-compiled the C tests and samples"

# 0. the f32 GEMM tiles (fmla) and the sdot tiles of the aarch64 build have no spill in their k loops
#    (tools/arm/check_tiles.py)
objdump_llvm=$(dirname "$(realpath "$(command -v swiftc)")")/llvm-objdump
"$py" tools/arm/check_tiles.py "$objdump_llvm" "$out_arm/embedded/StrataKernels.o" \
  "$out_arm/embedded/c/CStrataSIMD/qdot_i8_sdot.o"
# the sdot kernel against plain loops; chosen exactly where the CPU has the dot product
"${qemu[@]}" "$work/qdot_sdot_test" dotprod
"${qemu_a72[@]}" "$work/qdot_sdot_test" none
STRATA_PRETEND_NO_DOTPROD=1 "${qemu[@]}" "$work/qdot_sdot_test" none
step "f32 GEMM tiles (disassembly), sdot kernel under qemu -cpu max and cortex-a72"

# 1. C test programs under qemu
# (small models: qemu emulates NEON slowly, and allocations do not depend on the model's size)
for run in "tiny_f32 1 1 7 64" "tiny_f32 2 1 7 64" "residual256_f32 1 1 7"; do
  set -- $run
  "${qemu[@]}" "$work/count_allocations" "$work/models/$1.strata" "${@:2}" | tee "$work/alloc.txt"
  grep -qx 'allocations: 0' "$work/alloc.txt"
done
"${qemu[@]}" "$work/leak_cycles" "$work/models/tiny_f32.strata" 3000 256 "${malformed[@]}"
"${qemu[@]}" "$work/soak" 5 2 "$work"/models/*.strata -- "${malformed[@]}" | tail -n 3
step "allocation count, leak cycles, soak under qemu-aarch64"

# 2. C samples, shared and static, against the x86-64 build's printed outputs
for model in mlp784_f32 residual256_f32; do
  "$work/classify-x86_64" --print-outputs --batch 5 "$work/models/$model.strata" 2>/dev/null > "$work/classify-x86_64.txt"
  for exe in classify classify-static; do
    "${qemu[@]}" "$work/$exe" --print-outputs --batch 5 "$work/models/$model.strata" 2>/dev/null > "$work/$exe.txt"
    cmp "$work/classify-x86_64.txt" "$work/$exe.txt" || { echo "$exe ($model): outputs differ from x86-64"; exit 1; }
  done
done
"${qemu[@]}" "$work/latency-static" "$work/models/tiny_f32.strata" 1 7 > /dev/null
step "C samples (shared and static) print the x86-64 outputs"

# 3. cross-architecture bitwise test
"$py" tools/arm/cross_arch.py "$work/cross" "$work/dump_outputs-x86_64" "${qemu[*]} $work/dump_outputs" \
  --also "${qemu_a72[*]} $work/dump_outputs" int8-dynamic
step "cross-architecture test"

# 4. the aarch64 wheel (make wheel-aarch64): tag, auditwheel, pip's platform check, the library the
#    wheel's bindings find, dlopened and run under qemu as ctypes would (tools/arm/check_wheel.py)
"${cross_cc[@]}" tools/arm/wheel_loader.c -ldl -o "$work/wheel_loader"
wheels=("$out_x86"/dist/strata_runtime-*-py3-none-manylinux_2_34_aarch64.whl)
[ ${#wheels[@]} = 1 ] && [ -f "${wheels[0]}" ] || { echo "expected one aarch64 wheel in $out_x86/dist: ${wheels[*]}"; exit 1; }
rm -rf "$work/wheel"
"$py" tools/arm/check_wheel.py "${wheels[0]}" "$work/wheel" "${qemu[*]}" "$work/wheel_loader" \
  "$work/models/mlp784_f32.strata" "$work/cross/models/mlp_int8-dynamic.strata"
step "aarch64 wheel"
echo "test-aarch64: passed in $(( $(date +%s) - start )) s"
