#!/usr/bin/env bash
# Bundles are portable (issue 19, item 4): bundles exported on x86 give the same outputs on aarch64.
# Part of ctest aarch64_qemu (tests/tools/aarch64_qemu.sh). The x86 make_variant_bundle writes three
# bundles (the tiny classifier with three pattern variants, a 128-wide classifier that runs full
# 16x16 tiles on 128-token inputs, and the tiny LM with variants); the x86 bundle_outputs prints
# every variant's logits, probabilities, labels and the LM's greedy and sampled tokens; the aarch64
# bundle_outputs prints the same under qemu on NEON and on SVE at 128, 256 and 512 bits, and
# compare_outputs checks ids exactly and floats to 1e-4 x (1 + |x86|) (the engine golden tests'
# bound: x86, NEON and SVE sum in different orders). Before that, the comparison is shown to fail
# on a copy of the x86 printout with one logit and one token changed.
#   portable_bundles.sh HOST_TESTS_DIR AARCH64_TESTS_DIR WORK_DIR
set -euo pipefail
host=$1 arm=$2 work=$3
for f in "$host/make_variant_bundle" "$host/bundle_outputs" "$host/compare_outputs" "$arm/bundle_outputs"; do
  [ -x "$f" ] || { echo "portable_bundles: $f missing (build the x86 and aarch64 trees first)"; exit 1; }
done
rm -rf "$work" && mkdir -p "$work"
t0=$SECONDS

# Exported on x86 and printed there: the reference.
"$host/make_variant_bundle" "$work/variants.rt3"
"$host/make_variant_bundle" "$work/uniform.rt3" --uniform
"$host/make_variant_bundle" "$work/lm.rt3" --lm-fixture
bundles="variants uniform lm"
for b in $bundles; do "$host/bundle_outputs" "$work/$b.rt3" >"$work/$b.x86.txt"; done

# The comparison must be able to fail: one logit moved by 1e-3 (10x the tolerance at |x| < 9),
# then one token id changed. awk reads %.9g fine and prints enough digits for the change to stay.
perturbed() {  # perturbed FILE KIND: first line of KIND with its first value changed
  awk -v kind="$2" '!done && $3 == kind { $4 = (kind == "logits") ? sprintf("%.9g", $4 + 1e-3) : $4 + 1; done = 1 } 1' "$1"
}
perturbed "$work/variants.x86.txt" logits >"$work/perturbed-logit.txt"
perturbed "$work/lm.x86.txt" greedy >"$work/perturbed-token.txt"
if "$host/compare_outputs" "$work/variants.x86.txt" "$work/perturbed-logit.txt" >"$work/self-check.log" ||
   "$host/compare_outputs" "$work/lm.x86.txt" "$work/perturbed-token.txt" >>"$work/self-check.log"; then
  cat "$work/self-check.log"; echo "portable_bundles: compare_outputs accepted a perturbed printout"; exit 1
fi
echo "portable_bundles: compare_outputs rejects a changed logit and a changed token (self-check)"

status=0
for run in neon:max,sve=off sve128:max,sve-max-vq=1 sve256:max,sve-max-vq=2 sve512:max,sve-max-vq=4; do
  name=${run%%:*} cpu=${run#*:}
  for b in $bundles; do
    qemu-aarch64 -cpu "$cpu" "$arm/bundle_outputs" "$work/$b.rt3" >"$work/$b.$name.txt"
    printf 'portable_bundles: %-8s x86 vs aarch64 %-6s ' "$b" "$name"
    "$host/compare_outputs" "$work/$b.x86.txt" "$work/$b.$name.txt" || status=1
  done
done
echo "portable_bundles: $((SECONDS - t0)) s"
[ "$status" = 0 ] || echo "portable_bundles: FAILED (printouts in $work)"
exit "$status"
