#!/usr/bin/env bash
# `rt3 simulate`: a fixture latency table (4 variants, written here) on the RK3399 profile. The JSON
# must hold every policy with sane numbers, the ratios, the 5 x 5 sensitivity grid and the
# assumptions; --plots must write three well-formed SVGs; a bad workload string is one clear error.
set -euo pipefail
RT3="$1"; SRC="$2"
T="$(mktemp -d)"; trap 'rm -rf "$T"' EXIT
cat > "$T/latency.json" <<'JSON'
{
  "kind": "rt3.latency_table", "version": 1, "bundle": "fixture.rt3", "model_type": "distilbert_classifier",
  "threads": 1, "tokens": 128, "tile": {"rows": 32, "cols": 32},
  "host": {"khz": 2600000, "khz_source": "fixture", "memory_bandwidth_gbs": 10},
  "remainder_s": 0.008,
  "weight_traffic_gbs": 10,
  "layers": [
    {"name": "ffn.lin1", "rows": 3072, "cols": 768, "dense_s": 0.018, "dense_bytes": 9437184,
     "pattern_s": {"2": 0.0095, "4": 0.0052, "8": 0.0031}, "pattern_bytes": {"2": 4718592, "4": 2359296, "8": 1179648}},
    {"name": "ffn.lin2", "rows": 768, "cols": 3072, "dense_s": 0.016, "dense_bytes": 9437184,
     "pattern_s": {"2": 0.0088, "4": 0.0049, "8": 0.0029}, "pattern_bytes": {"2": 4718592, "4": 2359296, "8": 1179648}}
  ],
  "variants": [
    {"name": "base", "sparsity": 0, "pruning_numbers": {}, "measured_s": 0.0425, "predicted_s": 0.042, "accuracy": 0.912},
    {"name": "p50", "sparsity": 0.5, "pruning_numbers": {"ffn.lin1": 2, "ffn.lin2": 2}, "measured_s": 0.027, "predicted_s": 0.0263, "accuracy": 0.905},
    {"name": "p75", "sparsity": 0.75, "pruning_numbers": {"ffn.lin1": 4, "ffn.lin2": 4}, "measured_s": 0.0185, "predicted_s": 0.0181, "accuracy": 0.893},
    {"name": "p88", "sparsity": 0.875, "pruning_numbers": {"ffn.lin1": 8, "ffn.lin2": 8}, "measured_s": 0.0142, "predicted_s": 0.014, "accuracy": 0.871}
  ]
}
JSON

"$RT3" simulate --profile "$SRC/profiles/rk3399.json" --latency "$T/latency.json" \
  --workload "period=200ms,deadline=100ms" --json --plots "$T/plots" > "$T/out.json" 2> "$T/err" || { cat "$T/err"; exit 1; }
python3 - "$T/out.json" <<'PY'
import json, math, sys
d = json.load(open(sys.argv[1]))
ids = [p["id"] for p in d["policies"]]
assert ids == ["max_dense", "min_dense", "schedutil_dense", "rt3", "saver_dense", "saver_rt3"], ids
for p in d["policies"]:
    assert p["battery_emptied"] is True and p["battery_life_h"] > 0, p
    for k in ("energy_per_inference_mj", "average_power_mw", "projected_life_h"):
        assert math.isfinite(p[k]) and p[k] > 0, (k, p)
    assert 0 <= p["miss_rate"] <= 1 and p["misses"] <= p["requests"], p
    assert abs(sum(p["level_residency"].values()) - 1) < 1e-6 and abs(sum(p["set_residency"].values()) - 1) < 1e-6, p
    assert 0.8 < p["accuracy"] <= 0.912 + 1e-9, p
pol = {p["id"]: p for p in d["policies"]}
assert pol["rt3"]["misses"] == 0 and pol["saver_rt3"]["misses"] == 0, pol
assert pol["saver_dense"]["misses"] > 0, pol["saver_dense"]   # 600 MHz is too slow for the dense model
r = d["ratios"]
assert r["rt3_over_max_dense"] >= 1 and r["rt3_over_min_dense"] >= 1, r
assert abs(r["rt3_over_max_dense"] - pol["rt3"]["battery_life_h"] / pol["max_dense"]["battery_life_h"]) < 1e-9, r
cells = d["sensitivity"]["cells"]
assert len(cells) == 25 and {c["period_ms"] for c in cells} == {50, 100, 200, 500, 1000}, cells
assert {c["base_power_mw"] for c in cells} == {0, 100, 300, 500, 1000}, cells
assert all(c["rt3_over_max_dense"] >= 1 - 1e-9 for c in cells), cells
names = {a["name"] for a in d["assumptions"]}
for k in ("cycle_scale", "base_power_mw", "idle_power_mw", "static_power_mw", "battery", "margin", "late_requests", "battery_saver"):
    assert k in names, (k, names)
assert [row["khz"] for row in d["engine_table"]] == d["levels_khz"] == sorted(d["levels_khz"]), d["levels_khz"]
assert d["engine_policy"]["mode"] == "deadline", d["engine_policy"]   # a latency table alone: the closed loop
for row in d["engine_table"]:
    ok = [n for n, ms in row["latency_ms"].items() if ms <= 0.9 * 100]
    if ok: assert row["chosen"] in ok, row   # the loop settles within its margin where any variant can
assert len(d["plots"]) == 3, d["plots"]
# Two bases: the processor alone (no rest-of-device power) and the whole device (the profile's
# 500 mW); the rest of the device adds the same power to every policy, so it shrinks the gain,
# which halves at the stated power (the simulation run there says so).
b = d["bases"]
assert b["processor"]["base_power_mw"] == 0 and b["device"]["base_power_mw"] == 500, b
assert abs(b["device"]["rt3_over_max_dense"] - r["rt3_over_max_dense"]) < 1e-12, (b, r)
assert b["processor"]["rt3_over_max_dense"] > b["device"]["rt3_over_max_dense"] > 1, b
h = b["gain_halves_at"]
r0 = b["processor"]["rt3_over_max_dense"]
assert h["processor_ratio"] == r0 and 0 < h["base_power_mw"], h
assert abs(h["simulated_ratio"] - r0 / 2) < 0.01 * r0, h
PY
for f in battery_charge levels_sets energy_per_inference; do
  python3 -c "import sys, xml.dom.minidom as m; assert m.parse(sys.argv[1]).documentElement.tagName == 'svg'" "$T/plots/$f.svg"
done
ls "$T/plots" | grep -q tmp && { echo "FAIL: temporary plot files left behind"; exit 1; }

# The human output names the policies and the ratios.
"$RT3" simulate --profile "$SRC/profiles/rk3399.json" --latency "$T/latency.json" --workload "period=1s,deadline=100ms,duration=1h" \
  --base-power-mw 0 --min-accuracy 0.9 > "$T/human.txt"
grep -q "RT3 / (a) max_dense" "$T/human.txt" && grep -q "Assumptions:" "$T/human.txt" && grep -q "base_power_mw = 0" "$T/human.txt"
grep -q "Battery life on two bases" "$T/human.txt"

# Bad workload strings: non-zero exit and one line saying what is wrong and what is expected.
for bad in "period=200ms" "period=200,deadline=100xs" "deadline=300ms,period=200ms" "nonsense"; do
  if "$RT3" simulate --profile "$SRC/profiles/rk3399.json" --latency "$T/latency.json" --workload "$bad" > /dev/null 2> "$T/err"; then
    echo "FAIL: accepted workload '$bad'"; exit 1
  fi
  grep -q "workload '$bad'.*expected e.g." "$T/err" && [ "$(wc -l < "$T/err")" -eq 1 ] || { cat "$T/err"; exit 1; }
done
echo "simulate test passed"
