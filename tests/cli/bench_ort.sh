#!/usr/bin/env bash
# `rt3 bench ort`, short: the exported ONNX graph must give ONNX Runtime the engine's fp32 logits
# (the bench refuses to time otherwise), for a classifier and an LM; its int8 graph must load and
# stay close, and every variant of the bundle must be timed next to ORT. A sequence longer than the model's is one clear error.
set -euo pipefail
RT3="$1"
MAKE_BUNDLE="$(dirname "$RT3")/tests/make_variant_bundle"
[ -x "$MAKE_BUNDLE" ] || { echo "missing $MAKE_BUNDLE (build the make_variant_bundle target)"; exit 1; }
T="$(mktemp -d)"; trap 'rm -rf "$T"' EXIT
"$MAKE_BUNDLE" "$T/c.rt3" --adaptive-medium > /dev/null

"$RT3" bench ort "$T/c.rt3" --threads 1,2 --seq-lens 16,40 --calls 2 --rounds 2 --json > "$T/out.json" 2> "$T/err" || { cat "$T/err"; exit 1; }
python3 - "$T/out.json" <<'PY'
import json, math, sys
d = json.load(open(sys.argv[1]))
rows = d["rows"]
assert [(r["threads"], r["seq_len"]) for r in rows] == [(1, 16), (1, 40), (2, 16), (2, 40)], rows
for r in rows:
    assert r["fp32_max_abs_diff"] < 1e-4, r["fp32_max_abs_diff"]
    # int8 weights and activations move the logits, but not by much on this small model.
    assert 0 < r["int8_max_abs_diff_vs_our_fp32"] < 0.5, r["int8_max_abs_diff_vs_our_fp32"]
    c = r["contenders"]
    assert set(c) == {"ort fp32", "ort fp32 plain", "ort int8", "ort int8 plain", "rt3 base", "rt3 p50", "rt3 p75", "rt3 p88"}, c.keys()
    for name, v in c.items():
        assert v["median_ms"] > 0 and math.isfinite(v["vs_ort_fp32"]), (name, v)
    best = min(c["ort fp32"]["median_ms"], c["ort fp32 plain"]["median_ms"])
    assert r["ort_fp32_best_ms"] == best and abs(c["rt3 base"]["vs_ort_fp32"] - best / c["rt3 base"]["median_ms"]) < 1e-9, r
PY

"$RT3" bench ort "$T/c.rt3" --threads 1 --seq-lens 16 --calls 1 --rounds 1 --no-int8 > "$T/table.txt" 2> /dev/null
grep -q "rt3 p88" "$T/table.txt" && ! grep -q "ort int8" "$T/table.txt" || { cat "$T/table.txt"; exit 1; }

# The LM graph: every row's logits agree.
"$MAKE_BUNDLE" "$T/lm.rt3" --lm-fixture > /dev/null
"$RT3" bench ort "$T/lm.rt3" --threads 1 --seq-lens 5,12 --calls 1 --rounds 1 --json > "$T/lm.json" 2> "$T/err" || { cat "$T/err"; exit 1; }
python3 - "$T/lm.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["model_type"] == "transformer_lm" and len(d["rows"]) == 2, d.get("model_type")
for r in d["rows"]:
    assert r["fp32_max_abs_diff"] < 1e-4 and 0 < r["int8_max_abs_diff_vs_our_fp32"] < 2, r
    assert "rt3 base" in r["contenders"] and "ort int8" in r["contenders"], r["contenders"].keys()
PY

if "$RT3" bench ort "$T/c.rt3" --seq-lens 129 --calls 1 --rounds 1 > /dev/null 2> "$T/err"; then
  echo "FAIL: accepted a sequence longer than the model's positions"; exit 1
fi
grep -q "outside \[1, 128\]" "$T/err" && [ "$(wc -l < "$T/err")" -eq 1 ] || { cat "$T/err"; exit 1; }
echo "bench ort test passed"
