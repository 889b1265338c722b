#!/usr/bin/env bash
# `rt3 bench switch`: a tiny classifier bundle with 3 pattern variants (written by the test tool
# make_variant_bundle, built next to this test in <build>/tests) is switched for 1 s under load;
# the JSON must show switches, finite latencies, consistent counts and zero mismatches. A bundle
# without pattern variants is one clear error with a non-zero exit.
set -euo pipefail
RT3="$1"; SRC="$2"
MAKE_BUNDLE="$(dirname "$RT3")/tests/make_variant_bundle"
[ -x "$MAKE_BUNDLE" ] || { echo "missing $MAKE_BUNDLE (build the make_variant_bundle target)"; exit 1; }
T="$(mktemp -d)"; trap 'rm -rf "$T"' EXIT
"$MAKE_BUNDLE" "$T/v.rt3"
"$MAKE_BUNDLE" "$T/plain.rt3" --plain

"$RT3" bench switch "$T/v.rt3" --seconds 1 --probe-ms 1 --json > "$T/out.json" 2> "$T/err" || { cat "$T/err"; exit 1; }
python3 - "$T/out.json" <<'PY'
import json, math, sys
d = json.load(open(sys.argv[1]))
assert d["model_type"] == "distilbert_classifier" and d["workload"] == "classify", d
names = [v["name"] for v in d["variants"]]
assert names == ["base", "p50", "p75", "p88"], names
assert [v["kind"] for v in d["variants"]] == ["base", "pattern", "pattern", "pattern"], d["variants"]
for v in d["variants"][1:]:
    assert 0.2 < v["sparsity"] < 1 and v["packed_bytes"] > 0 and v["pattern_layers"] > 0, v
assert d["switches"] > 100, d["switches"]
for k in ("switch_latency_us", "time_to_effect_us", "time_to_result_us", "inference_us"):
    s = d[k]
    for q in ("p50", "p99", "max"):
        assert isinstance(s[q], (int, float)) and math.isfinite(s[q]) and s[q] >= 0, (k, s)
    assert s["p50"] <= s["p99"] <= s["max"] * 1.0001 + 1e-9, (k, s)
assert d["switch_latency_us"]["count"] == d["switches"], d
assert d["probes"] >= 1 and d["time_to_effect_us"]["count"] <= d["probes"], d
assert d["time_to_effect_us"]["p50"] <= d["time_to_result_us"]["p50"], d
n = d["inferences"]
assert n > 0 and sum(d["inferences_per_variant"].values()) == n, d
assert sum(v["inferences"] for v in d["variants"]) == n, d
assert sum(1 for c in d["inferences_per_variant"].values() if c > 0) >= 2, d["inferences_per_variant"]
c = d["check"]
assert c["checked"] == n and c["mismatches"] == 0 and c["late_effects"] == 0, c
assert d["ok"] is True, d
PY

# Human report.
"$RT3" bench switch "$T/v.rt3" --seconds 0.2 > "$T/out.txt"
grep -q "switch_latency" "$T/out.txt" && grep -q "0 mismatches" "$T/out.txt" || { cat "$T/out.txt"; exit 1; }

# No pattern variants: clear error, non-zero exit.
if "$RT3" bench switch "$T/plain.rt3" --seconds 0.2 > "$T/out" 2> "$T/err"; then
  echo "expected a failure for a bundle without variants"; exit 1
fi
grep -q "has no pattern variants; build them with rt3 prune pattern" "$T/err" || { cat "$T/err"; exit 1; }
echo OK
