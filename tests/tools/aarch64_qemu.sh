#!/usr/bin/env bash
# ctest aarch64_qemu: cross-builds the runtime-only tree and its torch-free tests for 64-bit Arm
# (cmake/toolchains/aarch64-linux-gnu.cmake; packages from scripts/setup.sh) and runs them under
# qemu-aarch64 on every vector configuration an Arm CPU can have:
#   neon     -cpu max,sve=off       NEON only (Cortex-A7x-class phones)
#   sve128   -cpu max,sve-max-vq=1  SVE/SVE2 at 128 bits (Neoverse N2, Cortex-X2-class)
#   sve256   -cpu max,sve-max-vq=2  256-bit SVE (Neoverse V1)
#   sve512   -cpu max,sve-max-vq=4  512-bit SVE (A64FX)
# The NEON run is the whole suite; the SVE runs are every SIMD kernel (dense, BP, pattern, ops),
# the engine/bundle golden tests, the C API and the thread pool, where the vector width could
# matter: there the kernels run Highway's SVE/SVE2 code (KernelsDispatch.* prints and checks which
# target each kernel picked). Then the installed library is consumed by tests/consumer under qemu,
# and bundles exported on x86 are run on x86 and on every aarch64 CPU above with their outputs
# compared (tests/tools/portable_bundles.sh; needs the x86 tree's test tools).
#   aarch64_qemu.sh SOURCE_DIR BUILD_DIR HOST_TESTS_DIR   (the x86 tree's tests/, with make_variant_bundle)
# RT3_SKIP_AARCH64=1 skips it (exit 77, reported by ctest as skipped): for developers only, CI runs it.
set -euo pipefail
src=$1 bin=${2:-$1/build-aarch64} host_tests=${3:-}
if [ "${RT3_SKIP_AARCH64:-0}" = 1 ]; then echo "aarch64_qemu: skipped (RT3_SKIP_AARCH64=1)"; exit 77; fi
for tool in aarch64-linux-gnu-g++ qemu-aarch64; do
  command -v "$tool" >/dev/null || { echo "aarch64_qemu: $tool missing: run scripts/setup.sh"; exit 1; }
done
export CCACHE_DIR=${CCACHE_DIR:-$src/.cache/ccache}
export CCACHE_SLOPPINESS=${CCACHE_SLOPPINESS:-pch_defines,time_macros,include_file_mtime,include_file_ctime}
t0=$SECONDS
toolchain="$src/cmake/toolchains/aarch64-linux-gnu.cmake"
cmake -S "$src" -B "$bin" --toolchain "$toolchain" -DCMAKE_BUILD_TYPE=Release -DRT3_RUNTIME_ONLY=ON \
  -DRT3_BUILD_TESTS=ON >/dev/null
nice -n 10 cmake --build "$bin" -j"${JOBS:-2}" >/dev/null
echo "aarch64_qemu: cross build $((SECONDS - t0)) s"

# No -L /usr/aarch64-linux-gnu: see the toolchain file (mixed glibc builds hang in pthread_create).
qemu="qemu-aarch64"
# The two largest dense-shape sweeps (ModelShapes, LargeM) repeat the same tile code at bigger
# sizes and cost about as much as the rest of an SVE run (246 s at 512 bits on the loaded dev
# machine): they run on NEON and on one SVE width, 512 bits (NR = 32, the blocking of AVX-512),
# not on all three.
sve_filter='Kernels*:Bp*:Pattern*:ThreadPool*:Engine*:Bundle*:CApi*'
sve_filter_small="$sve_filter-KernelsDenseLinear.ModelShapes:KernelsDenseLinear.LargeM"
run() {  # run NAME CPU [GTEST_FILTER]
  local name=$1 cpu=$2 filter=${3:-*} t=$SECONDS
  echo "== $name (qemu -cpu $cpu, --gtest_filter=$filter)"
  if ! $qemu -cpu "$cpu" "$bin/tests/rt3_tests" --gtest_brief=1 --gtest_filter="$filter" \
      >"$bin/rt3_tests.$name.log" 2>&1; then
    cat "$bin/rt3_tests.$name.log"; echo "aarch64_qemu: FAILED on $name"; exit 1
  fi
  grep -E '^(target|dispatch) |PASSED|SKIPPED' "$bin/rt3_tests.$name.log" | sort -u
  echo "aarch64_qemu: $name $((SECONDS - t)) s"
}
run neon max,sve=off
run sve128 max,sve-max-vq=1 "$sve_filter_small"
run sve256 max,sve-max-vq=2 "$sve_filter_small"
run sve512 max,sve-max-vq=4 "$sve_filter"

echo "== variant_stress (neon, 2 threads switching variants)"
$qemu -cpu max,sve=off "$bin/tests/variant_stress" 20

for mode in cmake pkgconfig; do
  RT3_CONSUMER_TOOLCHAIN="$toolchain" RT3_CONSUMER_CC=aarch64-linux-gnu-gcc \
  RT3_CONSUMER_EMULATOR="$qemu" \
  RT3_CONSUMER_PKG_CONFIG_LIBDIR=/usr/lib/aarch64-linux-gnu/pkgconfig:/usr/share/pkgconfig \
    bash "$src/tests/consumer/run.sh" "$mode" "$src" "$bin" "$bin/consumer-$mode" "$bin/tests/make_variant_bundle"
done

echo "== portable bundles (exported on x86, outputs compared on neon, sve128, sve256, sve512)"
if [ -z "$host_tests" ]; then echo "aarch64_qemu: HOST_TESTS_DIR missing (the x86 tree's tests/)"; exit 1; fi
bash "$src/tests/tools/portable_bundles.sh" "$host_tests" "$bin/tests" "$bin/portable"
echo "aarch64_qemu: all passed in $((SECONDS - t0)) s"
