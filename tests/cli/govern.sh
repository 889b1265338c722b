#!/usr/bin/env bash
# `rt3 govern` drives the engine's own adaptation modes (docs/adapt.md) on a tiny classifier bundle
# with a level table and latency models (make_variant_bundle --adaptive: levels 400/800/1200/1800 MHz
# -> p88/p75/p50/base). Table mode follows a replayed trace and must run what the bundle's table
# says, and exactly what `rt3 simulate --bundle` says the engine runs at each level (one policy
# code path); cpufreq mode reads a fake sysfs tree; deadline mode with an impossible deadline moves
# to the fastest variant. Bad modes / missing inputs are one clear error.
set -euo pipefail
RT3="$1"; SRC="$2"
MAKE_BUNDLE="$(dirname "$RT3")/tests/make_variant_bundle"
[ -x "$MAKE_BUNDLE" ] || { echo "missing $MAKE_BUNDLE (build the make_variant_bundle target)"; exit 1; }
T="$(mktemp -d)"; trap 'rm -rf "$T"' EXIT
"$MAKE_BUNDLE" "$T/v.rt3" --adaptive
"$MAKE_BUNDLE" "$T/plain.rt3"
cat > "$T/latency.json" <<'JSON'
{
  "kind": "rt3.latency_table", "version": 1, "bundle": "v.rt3", "model_type": "distilbert_classifier",
  "threads": 1, "tokens": 128, "tile": {"rows": 32, "cols": 32},
  "host": {"khz": 2600000, "khz_source": "fixture", "memory_bandwidth_gbs": 10},
  "remainder_s": 0.002, "weight_traffic_gbs": 10,
  "layers": [
    {"name": "ffn.lin1", "rows": 64, "cols": 32, "dense_s": 0.002, "dense_bytes": 8192,
     "pattern_s": {"2": 0.0012, "4": 0.0008, "8": 0.0005}, "pattern_bytes": {"2": 4096, "4": 2048, "8": 1024}}
  ],
  "variants": [
    {"name": "base", "sparsity": 0, "pruning_numbers": {}, "measured_s": 0.004, "predicted_s": 0.004, "accuracy": 0.90},
    {"name": "p50", "sparsity": 0.5, "pruning_numbers": {"ffn.lin1": 2}, "measured_s": 0.0032, "predicted_s": 0.0032, "accuracy": 0.88},
    {"name": "p75", "sparsity": 0.75, "pruning_numbers": {"ffn.lin1": 4}, "measured_s": 0.0028, "predicted_s": 0.0028, "accuracy": 0.86},
    {"name": "p88", "sparsity": 0.875, "pruning_numbers": {"ffn.lin1": 8}, "measured_s": 0.0025, "predicted_s": 0.0025, "accuracy": 0.80}
  ]
}
JSON
printf 'time_s,freq_khz,battery_percent\n0,1800000,100\n0.25,800000,60\n0.5,400000,40\n0.75,1000000,30\n' > "$T/trace.csv"
for i in $(seq 1 12); do echo "request $i"; done > "$T/in.txt"

"$RT3" govern "$T/v.rt3" --mode table --deadline-ms 10 --trace "$T/trace.csv" --input "$T/in.txt" --rate 12 --json \
  > "$T/out.jsonl" 2> "$T/err" || { cat "$T/err"; exit 1; }
# The engine's choice per level, as rt3 simulate computes it from the same bundle (its variants mix
# tile shapes, which rt3 profile does not measure: a fixture latency table stands in).
"$RT3" inspect "$T/v.rt3" --json | python3 -c 'import json,sys; json.dump(json.load(sys.stdin)["device_profile"], open(sys.argv[1], "w"))' "$T/profile.json"
"$RT3" simulate --profile "$T/profile.json" --bundle "$T/v.rt3" --latency "$T/latency.json" --workload "period=100ms,deadline=10ms,duration=1h" --json \
  > "$T/sim.json" 2> "$T/err" || { cat "$T/err"; exit 1; }
python3 - "$T/out.jsonl" "$T/sim.json" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
summary = rows.pop()["summary"]
assert summary["requests"] == len(rows) == 12, summary
assert summary["frequency_source"] == "trace" and summary["mode"] == "table", summary
table = {1800000: "base", 1200000: "p50", 800000: "p75", 400000: "p88"}
for r in rows:
    for k in ("t_s", "cpu_khz", "level_khz", "variant", "mode", "predicted_ms", "latency_ms", "deadline_missed", "energy_mj"):
        assert k in r, (k, r)
    assert r["mode"] == "table", r
    assert r["level_khz"] == max(k for k in table if k <= r["cpu_khz"]), r   # 1000 MHz snaps to 800
    assert r["variant"] == table[r["level_khz"]], r
    assert r["energy_mj"] is not None and r["energy_mj"] > 0, r
assert {r["level_khz"] for r in rows} >= {1800000, 800000}, rows
switches = sum(1 for a, b in zip(rows, rows[1:]) if a["variant"] != b["variant"])
assert summary["switches"] == switches >= 1, (summary, switches)
assert sum(v["inferences"] for v in summary["variants"].values()) == 12, summary
assert summary["misses"] == sum(1 for r in rows if r["deadline_missed"]), summary
# Same policy code: simulate's per-level choice equals what govern ran at that level.
sim = json.load(open(sys.argv[2]))
assert sim["engine_policy"]["mode"] == "table", sim["engine_policy"]
chosen = {row["khz"]: row["chosen"] for row in sim["engine_table"]}
assert set(chosen) == set(table), chosen
for r in rows:
    assert chosen[r["level_khz"]] == r["variant"], (r, chosen)
PY

# cpufreq mode: the engine reads the frequency itself, here from a fake tree at 800 MHz.
for c in $(seq 0 $(( $(nproc) - 1 ))); do
  mkdir -p "$T/cpu/cpu$c/cpufreq"; echo 800000 > "$T/cpu/cpu$c/cpufreq/scaling_cur_freq"
done
"$RT3" govern "$T/v.rt3" --mode cpufreq --cpufreq-root "$T/cpu" --input "$T/in.txt" --rate 200 --json > "$T/cf.jsonl"
python3 - "$T/cf.jsonl" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])][:-1]
assert rows and all(r["mode"] == "cpufreq" and r["cpu_khz"] == 800000 and r["variant"] == "p75" for r in rows), rows
PY

# Deadline mode: no deadline this host can meet -> after the first slow inference, the fastest variant.
"$RT3" govern "$T/v.rt3" --mode deadline --deadline-ms 0.0001 --input "$T/in.txt" --rate 200 --json > "$T/dl.jsonl"
python3 - "$T/dl.jsonl" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
summary = rows.pop()["summary"]
assert rows[0]["variant"] == "base", rows[0]       # the most accurate first
assert all(r["variant"] == "p88" for r in rows[1:]), rows
assert all(r["slowdown"] is not None and r["slowdown"] > 0 for r in rows[1:]), rows
assert summary["misses"] == 12, summary
PY

# Stdin input and the human log.
printf 'a\nb\n' | "$RT3" govern "$T/v.rt3" --trace "$T/trace.csv" --rate 50 > "$T/human.txt"
grep -q "2 requests in table mode" "$T/human.txt"

# Clear one-line errors: a bundle without a level table, a cpufreq tree that is not there, a NaN rate.
expect_error() {  # pattern, then the command
  local pat="$1"; shift
  if "$@" < "$T/in.txt" > /dev/null 2> "$T/err"; then echo "FAIL: accepted: $*"; exit 1; fi
  grep -q "$pat" "$T/err" && [ "$(wc -l < "$T/err")" -eq 1 ] || { echo "unexpected error for: $*"; cat "$T/err"; exit 1; }
}
expect_error "no level table" "$RT3" govern "$T/plain.rt3" --mode table --trace "$T/trace.csv"
expect_error "cannot list .*nowhere" "$RT3" govern "$T/v.rt3" --mode cpufreq --cpufreq-root "$T/nowhere"
expect_error "rate" "$RT3" govern "$T/v.rt3" --trace "$T/trace.csv" --rate nan
if "$RT3" govern "$T/v.rt3" --mode fast < "$T/in.txt" > /dev/null 2> "$T/err"; then echo "FAIL: accepted --mode fast"; exit 1; fi
grep -q "mode: fast not in" "$T/err" || { cat "$T/err"; exit 1; }
# Without --trace, table mode reads cpufreq itself; where the kernel has none (this VM) that is one clear error.
if [ ! -d /sys/devices/system/cpu/cpu0/cpufreq ]; then
  expect_error "no cpufreq.*use a trace (--trace)" "$RT3" govern "$T/v.rt3" --mode table
fi
echo "govern test passed"
