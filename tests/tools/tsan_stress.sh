#!/usr/bin/env bash
# ctest variant_switch_tsan: configures a torch-free build tree with -fsanitize=thread, builds
# only tests/tools/variant_stress (and the runtime it links) and runs it; any data race reported
# by ThreadSanitizer fails the test (halt_on_error=1).
#   tsan_stress.sh SOURCE_DIR BUILD_DIR CXX CC [ITERATIONS]
set -euo pipefail
src=$1 bin=$2 cxx=$3 cc=$4 iters=${5:-60}
export CCACHE_DIR=${CCACHE_DIR:-$src/.cache/ccache}
export CCACHE_SLOPPINESS=${CCACHE_SLOPPINESS:-pch_defines,time_macros,include_file_mtime,include_file_ctime}
# Compile time is the budget: -O1 -g1 (what TSAN recommends, with line numbers in reports) and
# Highway's static target only (every SIMD kernel once instead of once per CPU target; races do
# not depend on the SIMD width).
cmake -S "$src" -B "$bin" -DRT3_SANITIZE=thread -DRT3_BUILD_TRAIN=OFF -DRT3_TSAN_TEST=OFF \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo -DCMAKE_CXX_FLAGS_RELWITHDEBINFO="-O1 -g1 -DNDEBUG" \
  -DCMAKE_CXX_FLAGS="-DHWY_COMPILE_ONLY_STATIC=1" \
  -DCMAKE_CXX_COMPILER="$cxx" -DCMAKE_C_COMPILER="$cc" >/dev/null
nice -n 10 cmake --build "$bin" --target variant_stress -j2 >/dev/null
export TSAN_OPTIONS="halt_on_error=1 exitcode=66 ${TSAN_OPTIONS:-}"
"$bin/tests/variant_stress" "$iters"
echo "variant_switch_tsan: no data race reported"
