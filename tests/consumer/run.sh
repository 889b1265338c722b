#!/usr/bin/env bash
# ctest install_consumer_cmake / install_consumer_pkgconfig: installs the build tree into a fresh
# prefix (cmake --install), then builds tests/consumer/main.c against that prefix the way an app
# would (find_package(rt3), or pkg-config rt3) and runs it on bundles from make_variant_bundle.
#   run.sh cmake|pkgconfig SOURCE_DIR BUILD_DIR WORK_DIR MAKE_VARIANT_BUNDLE
# Cross builds: RT3_CONSUMER_TOOLCHAIN (a CMake toolchain file), RT3_CONSUMER_CC (the C cross
# compiler), RT3_CONSUMER_EMULATOR (e.g. "qemu-aarch64 -L /usr/aarch64-linux-gnu") and
# RT3_CONSUMER_PKG_CONFIG_LIBDIR (the target's .pc folders, for Highway's) are honoured.
set -euo pipefail
mode=$1 src=$2 bin=$3 work=$4 make_bundle=$5
emu=${RT3_CONSUMER_EMULATOR:-}
rm -rf "$work" && mkdir -p "$work"
prefix="$work/prefix"
cmake --install "$bin" --prefix "$prefix" >/dev/null
# Only the public API is installed.
test -f "$prefix/include/rt3/rt3.h" && test -f "$prefix/include/rt3/engine.h"
if [ -e "$prefix/include/runtime" ] || [ -e "$prefix/include/dvfs" ]; then echo "internal headers installed"; exit 1; fi
libdir=$(dirname "$(find "$prefix" -name rt3.pc)")/..
ls "$libdir"/librt3.a "$libdir"/librt3.so >/dev/null

$emu "$make_bundle" "$work/variants.rt3"
$emu "$make_bundle" "$work/plain.rt3" --plain

case "$mode" in
  cmake)
    tc=()
    [ -n "${RT3_CONSUMER_TOOLCHAIN:-}" ] && tc=(--toolchain "$RT3_CONSUMER_TOOLCHAIN")
    cmake -S "$src/tests/consumer" -B "$work/build" "${tc[@]}" -DCMAKE_PREFIX_PATH="$prefix" \
      -DCMAKE_BUILD_TYPE=Release >/dev/null
    cmake --build "$work/build" >/dev/null
    for exe in rt3_consumer rt3_consumer_static; do
      echo "== $exe (find_package(rt3))"
      $emu "$work/build/$exe" "$work/variants.rt3" "$work/plain.rt3"
    done
    # The static one must not need librt3.so at run time.
    if command -v readelf >/dev/null && readelf -d "$work/build/rt3_consumer_static" | grep -q 'librt3\.so'; then
      echo "rt3_consumer_static depends on librt3.so"; exit 1
    fi
    ;;
  pkgconfig)
    export PKG_CONFIG_PATH="$libdir/pkgconfig"
    [ -n "${RT3_CONSUMER_PKG_CONFIG_LIBDIR:-}" ] && export PKG_CONFIG_LIBDIR="$RT3_CONSUMER_PKG_CONFIG_LIBDIR"
    cc=${RT3_CONSUMER_CC:-cc}
    mkdir -p "$work/pc"
    # shellcheck disable=SC2046  # pkg-config prints several words on purpose
    $cc -std=c11 -Wall -Wextra -Werror -o "$work/pc/rt3_consumer" "$src/tests/consumer/main.c" \
      $(pkg-config --cflags --libs rt3) -lm
    echo "== rt3_consumer (pkg-config rt3)"
    if [ -n "$emu" ]; then
      $emu -E LD_LIBRARY_PATH="$libdir" "$work/pc/rt3_consumer" "$work/variants.rt3" "$work/plain.rt3"
    else
      LD_LIBRARY_PATH="$libdir" "$work/pc/rt3_consumer" "$work/variants.rt3" "$work/plain.rt3"
    fi
    ;;
  *) echo "unknown mode $mode"; exit 2 ;;
esac
