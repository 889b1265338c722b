#!/usr/bin/env bash
# `rt3 prune pattern` on a tiny block-pruned LM: K sets on shared weights with the sparsity each
# promises, a run killed mid-way and resumed ends bit-identical to an uninterrupted one,
# `rt3 eval --variant` reads every set, and bad input fails cleanly.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.bash"
RT3="$1"
T="$(mktemp -d)"; trap 'rm -rf "$T"' EXIT
tiny_lm_config "$T/tiny.json"
echo '{"bp": {"lasso_steps": 10, "finetune_steps": 10, "reweight_every": 5}, "train": {"checkpoint_every": 10}}' > "$T/bp.json"
"$RT3" train --task sotu --config "$T/tiny.json" --out "$T/dense" --threads 1 > /dev/null
"$RT3" prune bp --checkpoint "$T/dense" --out "$T/bp" --config "$T/bp.json" --threads 1 > /dev/null 2> "$T/bp.log" || { cat "$T/bp.log"; exit 1; }
cat > "$T/pat.json" <<'JSON'
{"pattern": {"steps": 300, "reassign_every": 10, "tile_rows": 16, "tile_cols": 8, "sample_tiles": 64},
 "train": {"checkpoint_every": 10, "eval_every": 150}}
JSON
"$RT3" prune pattern --checkpoint "$T/bp" --out "$T/full" --config "$T/pat.json" --sets 0.5,0.75,0.875 --threads 1 --json > "$T/full.json" 2> /dev/null
python3 - "$T/full.json" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
names = [s["name"] for s in r["sets"]]
assert names == ["p50", "p75", "p88"], names
for s, p in zip(r["sets"], (4, 6, 7)):
    assert s["pruning_number"] == p, s
    # 32x32 and 64x32 / 32x64 weights tile exactly (16x8): sparsity is exactly p/8
    assert abs(s["sparsity"] - p / 8) < 1e-12, s
    assert s["valid"]["metrics"]["perplexity"] > 1, s
print("sets", names, "ok")
PY

mkdir -p "$T/killed"
step_of() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["step"])' "$T/killed/checkpoint/state.json" 2>/dev/null || echo 0; }
"$RT3" prune pattern --checkpoint "$T/bp" --out "$T/killed" --config "$T/pat.json" --sets 0.5,0.75,0.875 --threads 1 > /dev/null 2>&1 &
pid=$!
for _ in $(seq 1 3000); do [ "$(step_of)" -ge 30 ] && break; sleep 0.02; done
kill -9 "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true
echo "killed after checkpoint $(step_of)"
"$RT3" prune pattern --resume --out "$T/killed" --threads 1 --json > "$T/resumed.json" 2> /dev/null
python3 - "$T" <<'PY'
import json, sys
T = sys.argv[1]
a, b = json.load(open(T + "/full.json")), json.load(open(T + "/resumed.json"))
assert b["start_step"] > 0, b["start_step"]
assert a["sets"] == b["sets"], (a["sets"], b["sets"])
for f in ("model.safetensors", "variants.safetensors"):
    assert open(f"{T}/full/{f}", "rb").read() == open(f"{T}/killed/{f}", "rb").read(), f + " differs after resume"
print("resumed run identical")
PY

# eval --variant gives the metrics the run reported for that set (same examples: max 8 windows).
for v in p50 p88; do
  "$RT3" eval "$T/full" --variant $v --split valid --max-examples 8 --json > "$T/ev_$v.json"
done
python3 - "$T" <<'PY'
import json, sys
T = sys.argv[1]
r = {s["name"]: s for s in json.load(open(T + "/full.json"))["sets"]}
for v in ("p50", "p88"):
    e = json.load(open(f"{T}/ev_{v}.json"))
    assert e["variant"] == v
    got, want = e["result"]["metrics"]["loss"], r[v]["valid"]["metrics"]["loss"]
    assert abs(got - want) < 1e-9 * abs(want), (v, got, want)
print("eval --variant agrees")
PY

# One-shot sets (no fine-tuning): the masks alone on the BP weights, still a run `rt3 eval` reads.
echo '{"pattern": {"steps": 0, "tile_cols": 8, "sample_tiles": 64}}' > "$T/oneshot.json"
"$RT3" prune pattern --checkpoint "$T/bp" --out "$T/oneshot" --config "$T/oneshot.json" --sets 0.5 --threads 1 > /dev/null 2>&1
"$RT3" eval "$T/oneshot" --variant p50 --max-examples 4 --json | python3 -c 'import json,sys; assert json.load(sys.stdin)["variant"] == "p50"'

expect_fail() {
  local want="$1"; shift
  if "$@" > "$T/out.txt" 2> "$T/err.txt"; then echo "FAIL: '$*' succeeded"; exit 1; fi
  grep -q -- "$want" "$T/err.txt" || { echo "FAIL: '$*' error lacks '$want':"; cat "$T/err.txt"; exit 1; }
}
expect_fail "has no pattern set 'p99'" "$RT3" eval "$T/full" --variant p99
expect_fail "not a sparsity" "$RT3" prune pattern --checkpoint "$T/bp" --out "$T/x" --sets 0.5,abc
expect_fail "like an earlier set" "$RT3" prune pattern --checkpoint "$T/bp" --out "$T/y" --sets 0.6,0.62
expect_fail "already holds a run" "$RT3" prune pattern --checkpoint "$T/bp" --out "$T/full"
[ ! -e "$T/y/model.safetensors" ] || { echo "FAIL: output written on bad input"; exit 1; }
echo OK
