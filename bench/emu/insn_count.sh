#!/usr/bin/env bash
# Instructions per inference of every variant of one bundle on NEON and SVE (qemu-aarch64 with the
# counting plugin bench/emu/insn_count_plugin.c), next to the x86 host's latency table of the same
# bundle (rt3 profile), which is what cycle_scale and the compute/memory split assume
# (docs/emulation.md has the method and the numbers). Not run in CI: a few minutes.
#   bench/emu/insn_count.sh HOST_BUILD_DIR AARCH64_BUILD_DIR OUT_DIR [medium|large] [N]
# HOST_BUILD_DIR: the full x86 tree (rt3, tests/make_variant_bundle); AARCH64_BUILD_DIR: the cross
# tree that ctest aarch64_qemu builds (HOST_BUILD_DIR/aarch64; tests/infer_loop). Needs jq, python3. medium = the
# 192/768 classifier of rt3 bench adapt (default), large = 384/1536; both 2 layers, 128 tokens,
# variants base / p50 / p75 / p88 (8 / 12 / 14 of 16 columns pruned per 16x16 tile).
# Per inference = (count of 1 + N inferences - count of 1 inference) / N, N default 2: load,
# packing and first-call allocations cancel out.
set -euo pipefail
host=$1 arm=$2 out=$3 size=${4:-medium} n=${5:-2}
here=$(cd "$(dirname "$0")" && pwd)
for f in "$host/rt3" "$host/tests/make_variant_bundle" "$arm/tests/infer_loop"; do
  [ -x "$f" ] || { echo "insn_count: $f missing (build both trees first)"; exit 1; }
done
case "$size" in medium|large) ;; *) echo "insn_count: size must be medium or large, not '$size'"; exit 2 ;; esac
mkdir -p "$out"
cc -O2 -shared -fPIC -Wall -Wextra -o "$out/insn_count.so" "$here/insn_count_plugin.c"

bundle="$out/$size.rt3"
"$host/tests/make_variant_bundle" "$bundle" "--adaptive-$size"
echo "insn_count: x86 latency table (rt3 profile, 1 thread, 128 tokens, 31 reps: times are only as good as the machine is quiet)"
"$host/rt3" profile "$bundle" --threads 1 --seq-len 128 --reps 31 --out "$out/latency.json" >/dev/null

# Symbol substrings (mangled names) of each group: the dense tile (Tile<R>) and DenseLinear, the
# pattern kernel (PatTile, PatGemv2) and PatternLinear, then the rest of the Highway code
# (ops.cpp: LayerNorm, softmax, GELU, attention), whose namespace names the target.
groups="group=dense:4TileILi/DenseLinear,group=pattern:PatTile/PatGemv/PatternLinear"
groups+=",group=ops:N_NEON/N_SVE/N_AVX/N_SSE"
variants=$(jq -r '.variants[].name' "$out/latency.json")
# x86 too, as a check of the method on the host's ISA: qemu-x86_64 -cpu max (7.2) has AVX2 and FMA
# but not AVX-512, so Highway runs its AVX2 kernels there, not the AVX-512 ones the table timed.
for run in x86-avx2:x86_64:max neon:aarch64:max,sve=off sve128:aarch64:max,sve-max-vq=1 \
           sve512:aarch64:max,sve-max-vq=4; do
  IFS=: read -r name arch cpu <<<"$run"
  tree=$arm; [ "$arch" = x86_64 ] && tree=$host
  for v in $variants; do
    for reps in 1 $((1 + n)); do
      "qemu-$arch" -cpu "$cpu" -plugin "$out/insn_count.so,out=$out/count.$name.$v.$reps.txt,$groups" \
        "$tree/tests/infer_loop" "$bundle" "$v" "$reps" 128 >/dev/null
    done
  done
  echo "insn_count: $name counted"
done
python3 "$here/insn_table.py" "$out" "$n" x86-avx2 neon sve128 sve512 | tee "$out/table.md"
