#!/usr/bin/env bash
# `rt3 govern`: a tiny classifier bundle with variants base/p50/p75/p88 (test tool
# make_variant_bundle, built in <build>/tests) follows a replayed frequency trace
# 1800 -> 600 -> 1800 MHz on the RK3399 profile. With the fixture latency table the governor must
# run base at 1800 MHz and p75 at 600 MHz (dense would take 178 ms > 90 ms there), switching twice.
# Also: no cpufreq on the machine is one clear error; a table naming unknown variants is rejected.
set -euo pipefail
RT3="$1"; SRC="$2"
MAKE_BUNDLE="$(dirname "$RT3")/tests/make_variant_bundle"
[ -x "$MAKE_BUNDLE" ] || { echo "missing $MAKE_BUNDLE (build the make_variant_bundle target)"; exit 1; }
T="$(mktemp -d)"; trap 'rm -rf "$T"' EXIT
"$MAKE_BUNDLE" "$T/v.rt3"
cat > "$T/latency.json" <<'JSON'
{
  "kind": "rt3.latency_table", "version": 1, "bundle": "v.rt3", "model_type": "distilbert_classifier",
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
    {"name": "base", "sparsity": 0, "pruning_numbers": {}, "measured_s": 0.0425, "predicted_s": 0.042, "accuracy": null},
    {"name": "p50", "sparsity": 0.5, "pruning_numbers": {"ffn.lin1": 2, "ffn.lin2": 2}, "measured_s": 0.027, "predicted_s": 0.0263, "accuracy": null},
    {"name": "p75", "sparsity": 0.75, "pruning_numbers": {"ffn.lin1": 4, "ffn.lin2": 4}, "measured_s": 0.0185, "predicted_s": 0.0181, "accuracy": null},
    {"name": "p88", "sparsity": 0.875, "pruning_numbers": {"ffn.lin1": 8, "ffn.lin2": 8}, "measured_s": 0.0142, "predicted_s": 0.014, "accuracy": null}
  ]
}
JSON
printf 'time_s,freq_khz,battery_percent\n0,1800000,100\n0.35,600000,40\n0.75,1800000,30\n' > "$T/trace.csv"
for i in $(seq 1 10); do echo "request $i"; done > "$T/in.txt"

"$RT3" govern "$T/v.rt3" --deadline-ms 100 --latency "$T/latency.json" --profile "$SRC/profiles/rk3399.json" \
  --trace "$T/trace.csv" --input "$T/in.txt" --rate 10 --json > "$T/out.jsonl" 2> "$T/err" || { cat "$T/err"; exit 1; }
python3 - "$T/out.jsonl" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
summary = rows.pop()["summary"]
assert summary["requests"] == len(rows) == 10, summary
assert summary["source"] == "trace", summary
for r in rows:
    for k in ("t_s", "freq_khz", "set", "predicted_ms", "latency_ms", "deadline_met"):
        assert k in r, (k, r)
    want = "p75" if r["freq_khz"] == 600000 else "base"
    assert r["set"] == want, r
    assert r["predicted_ms"] <= 90, r
assert {r["freq_khz"] for r in rows} == {600000, 1800000}, rows
switches = sum(1 for a, b in zip(rows, rows[1:]) if a["set"] != b["set"])
assert summary["switches"] == switches == 2, (summary, switches)
assert summary["misses"] == sum(1 for r in rows if not r["deadline_met"]), summary
PY

# Stdin input and the human log.
printf 'a\nb\n' | "$RT3" govern "$T/v.rt3" --deadline-ms 100 --latency "$T/latency.json" --trace "$T/trace.csv" --rate 50 > "$T/human.txt"
grep -q "2 requests" "$T/human.txt"

# A latency table whose variants the bundle lacks.
sed 's/"name": "p88"/"name": "p99"/' "$T/latency.json" > "$T/other.json"
if "$RT3" govern "$T/v.rt3" --deadline-ms 100 --latency "$T/other.json" --trace "$T/trace.csv" --input "$T/in.txt" 2> "$T/err"; then
  echo "FAIL: accepted a latency table of another bundle"; exit 1
fi
grep -q "variant 'p99' is not in the bundle" "$T/err" || { cat "$T/err"; exit 1; }

# Without --trace it reads cpufreq; where the kernel has none (this VM) that is one clear error.
if [ ! -d /sys/devices/system/cpu/cpu0/cpufreq ]; then
  if "$RT3" govern "$T/v.rt3" --deadline-ms 100 --latency "$T/latency.json" --input "$T/in.txt" 2> "$T/err"; then
    echo "FAIL: ran without cpufreq or a trace"; exit 1
  fi
  grep -q "no cpufreq.*use a trace (--trace)" "$T/err" && [ "$(wc -l < "$T/err")" -eq 1 ] || { cat "$T/err"; exit 1; }
fi
echo "govern test passed"
