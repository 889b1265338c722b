#!/usr/bin/env bash
# `rt3 search` on a tiny block-pruned LM and its measured latency table: every method runs and
# writes a bundle whose level table covers every level of the device, a killed search resumes
# with its history intact, and bad input fails with a one-line error.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.bash"
RT3="$1"
SRC="$2"
PROFILE="$SRC/profiles/rk3399.json"
T="$(mktemp -d)"; trap 'rm -rf "$T"' EXIT

tiny_lm_config "$T/tiny.json"
echo '{"bp": {"lasso_steps": 10, "finetune_steps": 10, "reweight_every": 5}, "train": {"checkpoint_every": 10}}' > "$T/bp.json"
"$RT3" train --task sotu --config "$T/tiny.json" --out "$T/dense" --threads 1 > /dev/null 2> "$T/train.log" || { cat "$T/train.log"; exit 1; }
"$RT3" prune bp --checkpoint "$T/dense" --out "$T/bp" --config "$T/bp.json" --threads 1 > /dev/null 2> "$T/bp.log" || { cat "$T/bp.log"; exit 1; }
"$RT3" export --checkpoint "$T/bp" --weights dense --out "$T/bp.rt3" > /dev/null
"$RT3" profile "$T/bp.rt3" --out "$T/lat.json" --reps 3 --seq-len 32 --pruning-numbers 4,8,12,14 --threads 1 > /dev/null 2>&1
"$RT3" device "$PROFILE" --json > "$T/device.json"

# Deadline: the dense model's predicted latency at the top level, plus 2 %. The top level is then
# reachable (dense meets it), lower levels need pruning or are unreachable.
read -r DEADLINE USABLE < <(python3 - "$T/lat.json" "$PROFILE" "$T/device.json" <<'PY'
import json, sys
t = json.load(open(sys.argv[1]))
prof = json.load(open(sys.argv[2]))
dev = json.load(open(sys.argv[3]))
inf = prof["inference_cluster"]
cl = next(c for c in dev["clusters"] if c["name"] == inf)
usable = [int(round(o["mhz"] * 1000)) for o in cl["opps"] if not o["inefficient"]]
compute = t["remainder_s"] + sum(l["dense_s"] for l in t["layers"])
bw = t["weight_traffic_gbs"]
memory = sum(l["dense_bytes"] for l in t["layers"]) / (bw * 1e9) if bw > 0 else 0.0
top = max(usable)
dense_top = compute * t["host"]["khz"] / top + memory
print("%.6f" % (dense_top * 1e3 * 1.02), ",".join(map(str, usable)))
PY
)
echo "deadline ${DEADLINE} ms; usable levels ${USABLE} kHz"

# Options every search below shares (each adds --deadline-ms and --finetune-steps: CLI11 refuses
# an option given twice).
COMMON=(--checkpoint "$T/bp" --profile "$PROFILE" --latency "$T/lat.json" --eval-examples 16 --final-steps 2 --threads 1)

# --dry-run: the space only, nothing written.
"$RT3" search "${COMMON[@]}" --finetune-steps 1 --deadline-ms "$DEADLINE" --out "$T/dry" --dry-run > "$T/dry.json"
python3 - "$T/dry.json" "$USABLE" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
usable = sorted(int(x) for x in sys.argv[2].split(","))
levels = [l["khz"] for l in s["levels"]]
assert max(usable) in levels, (levels, usable)
assert sorted(levels + s["unreachable_khz"]) == usable, (levels, s["unreachable_khz"], usable)
assert s["decisions"] == len(levels) * 5, s["decisions"]
print("dry run: levels", levels, "unreachable", s["unreachable_khz"], "pruning numbers", s["pruning_numbers"])
PY
[ ! -e "$T/dry" ] || { echo "FAIL: --dry-run wrote $T/dry"; exit 1; }

# check_search OUT METHOD EPISODES: search.json, reward_curve.json and the bundle agree.
check_search() {
  local out="$1" method="$2" episodes="$3"
  "$RT3" inspect "$out/model.rt3" --json > "$out.inspect.json"
  "$RT3" inspect "$T/bp.rt3" --json > "$T/bp.inspect.json"
  python3 - "$out" "$method" "$episodes" "$USABLE" "$out.inspect.json" <<'PY'
import json, sys
out, method, episodes = sys.argv[1], sys.argv[2], int(sys.argv[3])
usable = sorted(int(x) for x in sys.argv[4].split(","))
s = json.load(open(out + "/search.json"))
assert s["method"] == method, s["method"]
assert s["episodes"] == episodes
assert s["best_reward"] > -1, s["best_reward"]
assert len(s["reward_curve"]) == episodes
# Every usable level of the profile has a set, reachable or not, exactly once.
khz = sorted(l["khz"] for l in s["levels"])
assert khz == usable, (khz, usable)
for l in s["levels"]:
    if not l.get("unreachable"):
        assert l["latency_ms"] <= s["deadline_ms"] * (1 + 1e-9), l
curve = json.load(open(out + "/reward_curve.json"))
assert curve["method"] == method and len(curve["curve"]) == episodes, curve
assert [c["episode"] for c in curve["curve"]] == list(range(1, episodes + 1))
best = [c["best"] for c in curve["curve"]]
assert best == sorted(best) and abs(best[-1] - s["best_reward"]) < 1e-12, best
svg = open(out + "/reward_curve.svg").read()
assert svg.lstrip().startswith("<") and "<svg" in svg and svg.rstrip().endswith("</svg>"), svg[:200]
# The PNG of the same curve (gnuplot, installed by scripts/setup.sh), and no leftovers next to it.
png = open(out + "/reward_curve.png", "rb").read()
assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 1000, png[:16]
import os
assert not [f for f in os.listdir(out) if ".gp." in f or ".tmp." in f], os.listdir(out)
# The bundle: every level maps to "base" or one of its variants, and the sets of search.json.
b = json.load(open(sys.argv[5]))
variants = {v["name"] for v in b["variants"]}
l2v = {int(k): v for k, v in b["level_to_variant"].items()}
assert sorted(l2v) == usable, (sorted(l2v), usable)
for k, v in l2v.items():
    assert v == "base" or v in variants, (k, v, variants)
for l in s["levels"]:
    assert l2v[l["khz"]] == l["set"], (l, l2v)
pattern_sets = {x["name"] for x in s["sets"] if x["pruning_number"] > 0}
assert variants == pattern_sets, (variants, pattern_sets)
# What the engine's deadline mode needs: every decided set's latency model and accuracy, the deadline.
a = b["adaptation"]
assert abs(a["deadline_ms"] - s["deadline_ms"]) < 1e-9 and a["cycle_scale"] == s["cycle_scale"], a
assert set(a["variants"]) == {x["name"] for x in s["sets"]}, (a["variants"].keys(), s["sets"])
for x in s["sets"]:
    m = a["variants"][x["name"]]
    assert m["compute_ms"] > 0 and m["memory_ms"] >= 0 and m["f_ref_khz"] > 0, m
    assert abs(m["accuracy"] - x["valid_accuracy"]) < 1e-12, (m, x)
# The search's prediction at each level is the bundle's model at that level (one source of truth).
for l in s["levels"]:
    if l.get("unreachable"): continue
    m = a["variants"][l["set"]]
    pred = m["compute_ms"] * m["f_ref_khz"] / l["khz"] + m["memory_ms"]
    assert abs(pred - l["latency_ms"]) < 1e-6 * l["latency_ms"], (pred, l)
print(method, "ok: best reward %.4f," % s["best_reward"], "levels", l2v)
PY
}

"$RT3" search "${COMMON[@]}" --finetune-steps 1 --deadline-ms "$DEADLINE" --method rl --episodes 4 --out "$T/rl" --json > "$T/rl.json" 2> "$T/rl.log" || { cat "$T/rl.log"; exit 1; }
python3 -c 'import json,sys; s = json.load(open(sys.argv[1])); assert s["bundle"].endswith("model.rt3"), s' "$T/rl.json"
[ -f "$T/rl/final/model.safetensors" ] && [ -f "$T/rl/search_state.json" ] || { echo "FAIL: rl output incomplete"; ls -R "$T/rl"; exit 1; }
check_search "$T/rl" rl 4
"$RT3" search "${COMMON[@]}" --finetune-steps 1 --deadline-ms "$DEADLINE" --method random --episodes 3 --out "$T/random" > /dev/null 2> "$T/random.log" || { cat "$T/random.log"; exit 1; }
check_search "$T/random" random 3
"$RT3" search "${COMMON[@]}" --finetune-steps 1 --deadline-ms "$DEADLINE" --method greedy --episodes 3 --out "$T/greedy" > /dev/null 2> "$T/greedy.log" || { cat "$T/greedy.log"; exit 1; }
check_search "$T/greedy" greedy 3

# rt3 export --latency: any bundle gets the measured latency models of a latency table of it.
"$RT3" export --checkpoint "$T/bp" --weights dense --latency "$T/lat.json" --cycle-scale 1.5 --deadline-ms 20 --out "$T/bp_lat.rt3" > /dev/null
"$RT3" inspect "$T/bp_lat.rt3" --json | python3 -c '
import json, sys
b = json.load(sys.stdin); t = json.load(open(sys.argv[1]))
a = b["adaptation"]
assert a["deadline_ms"] == 20 and a["cycle_scale"] == 1.5, a
assert set(a["variants"]) == {v["name"] for v in t["variants"]}, (a, t["variants"])
base = [v for v in t["variants"] if v["name"] == "base"][0]
m = a["variants"]["base"]
# Measured latency on the host = compute / cycle_scale + memory (the device model stretches compute).
assert abs(m["compute_ms"] / 1.5 + m["memory_ms"] - base["measured_s"] * 1e3) < 1e-6 * base["measured_s"] * 1e3, (m, base)
' "$T/lat.json"
if "$RT3" export --checkpoint "$T/bp" --deadline-ms 20 --out "$T/x.rt3" 2> "$T/err"; then echo "FAIL: --deadline-ms without --latency"; exit 1; fi
grep -q "pass it too" "$T/err" && [ ! -e "$T/x.rt3" ] || { cat "$T/err"; exit 1; }
# Greedy starts at the densest set that meets the deadline at every level: feasible from episode 1.
python3 -c '
import json, sys
h = json.load(open(sys.argv[1]))["history"]
assert h[0]["feasible"] and h[0]["reward"] > -1, h[0]' "$T/greedy/search_state.json"

# A deadline every level meets dense: the greedy start (dense everywhere) is a valid answer, a
# bundle without pattern variants whose every level runs the base model.
GENEROUS=$(python3 -c 'import sys; print(float(sys.argv[1]) * 100)' "$DEADLINE")
"$RT3" search "${COMMON[@]}" --finetune-steps 1 --deadline-ms "$GENEROUS" --method greedy --episodes 1 --out "$T/generous" > /dev/null 2> "$T/generous.log" || { cat "$T/generous.log"; exit 1; }
check_search "$T/generous" greedy 1
python3 -c '
import json, sys
s = json.load(open(sys.argv[1]))
assert s["space"]["unreachable_khz"] == [], s["space"]
assert all(l["set"] == "base" for l in s["levels"]), s["levels"]' "$T/generous/search.json"

# Resume: kill -9 a search once two episodes are on disk, continue it, the history survives.
# (Keys are sorted and only the top level's "episode" precedes "history": the first match is it.)
episode_of() { { grep -o '"episode":[0-9]*' "$T/killed/search_state.json" 2>/dev/null || echo :0; } | head -n 1 | cut -d: -f2; }
# Slower episodes here (more fine-tune steps) so the kill lands in the middle.
"$RT3" search "${COMMON[@]}" --deadline-ms "$DEADLINE" --finetune-steps 10 --method rl --batch 2 --episodes 8 --out "$T/killed" > /dev/null 2>&1 &
pid=$!
for _ in $(seq 1 6000); do [ "$(episode_of)" -ge 2 ] && break; kill -0 "$pid" 2>/dev/null || break; sleep 0.02; done
kill -9 "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true
cp "$T/killed/search_state.json" "$T/before.json"
echo "killed after episode $(episode_of)"
"$RT3" search "${COMMON[@]}" --deadline-ms "$DEADLINE" --finetune-steps 10 --method rl --batch 2 --episodes 8 --out "$T/killed" --resume > /dev/null 2> "$T/resume.log" || { cat "$T/resume.log"; exit 1; }
grep -q "resuming at episode" "$T/resume.log" || { echo "FAIL: no resume message"; cat "$T/resume.log"; exit 1; }
python3 - "$T/before.json" "$T/killed/search_state.json" "$T/killed/search.json" <<'PY'
import json, sys
before, after, s = (json.load(open(p)) for p in sys.argv[1:4])
n = before["episode"]
assert 2 <= n < 8, n
assert len(before["history"]) == n
assert after["episode"] == 8 and len(after["history"]) == 8, after["episode"]
assert after["history"][:n] == before["history"], "history before the kill changed"
assert [h["episode"] for h in after["history"]] == list(range(1, 9))
# Candidates scored before the kill are kept (and their scores unchanged).
for k, v in before["cache"].items():
    assert after["cache"][k] == v, k
assert len(s["reward_curve"]) == 8 and s["best_reward"] >= before["best_reward"], s["best_reward"]
print("resumed after episode", n, "history intact")
PY
check_search "$T/killed" rl 8
# Every evaluation depends only on its request, and the controller's weights, optimizer and RNG are
# restored: the resumed search samples and scores what an uninterrupted one does.
"$RT3" search "${COMMON[@]}" --deadline-ms "$DEADLINE" --finetune-steps 10 --method rl --batch 2 --episodes 8 --out "$T/straight" > /dev/null 2>&1
# same_history A B WHAT: the two searches sampled the same actions and scored them the same.
same_history() {
  python3 - "$1/search_state.json" "$2/search_state.json" "$3" <<'PY'
import json, sys
a, b = (json.load(open(p))["history"] for p in sys.argv[1:3])
assert [h["action"] for h in a] == [h["action"] for h in b], sys.argv[3] + ": other actions sampled"
for x, y in zip(a, b):
    assert abs(x["reward"] - y["reward"]) < 1e-9, (x, y)
print(sys.argv[3] + ": same actions, same rewards")
PY
}
same_history "$T/straight" "$T/killed" "resumed search vs an uninterrupted one"

# Scale-out: the same search with a spawned worker process evaluating one candidate of every round
# (rank 0 the other) samples and scores exactly what the single-process search did.
"$RT3" search "${COMMON[@]}" --deadline-ms "$DEADLINE" --finetune-steps 10 --method rl --batch 2 --episodes 8 --workers 1 \
  --spawn-workers --master-port 0 --worker-timeout 120 --out "$T/spread" > /dev/null 2> "$T/spread.log" ||
  { cat "$T/spread.log"; cat "$T/spread.workers/"*.log; exit 1; }
grep -q "evaluated candidate" "$T/spread.workers/worker_1.log" || { echo "FAIL: the worker evaluated nothing"; cat "$T/spread.workers/worker_1.log"; exit 1; }
grep -q "released after" "$T/spread.workers/worker_1.log" || { echo "FAIL: the worker was not released"; cat "$T/spread.workers/worker_1.log"; exit 1; }
same_history "$T/straight" "$T/spread" "search with a worker process vs the single-process search"
check_search "$T/spread" rl 8
# A worker that never comes, and a worker without a search: clean errors within the timeout.
set +e
"$RT3" search "${COMMON[@]}" --deadline-ms "$DEADLINE" --finetune-steps 1 --episodes 2 --workers 1 --master-port 0 \
  --worker-timeout 2 --out "$T/lonely" > /dev/null 2> "$T/lonely.log"; rc=$?
"$RT3" search-worker --master 127.0.0.1:1 --rank 1 --world-size 2 --checkpoint "$T/bp" --timeout 2 > /dev/null 2> "$T/orphan.log"; rc2=$?
set -e
[ "$rc" -ne 0 ] && [ "$rc" -lt 128 ] && grep -q "^rt3 search: error: --master-port 0 only works with --spawn-workers" "$T/lonely.log" ||
  { echo "FAIL: --master-port 0 without --spawn-workers (rc $rc)"; cat "$T/lonely.log"; exit 1; }
"$RT3" search "${COMMON[@]}" --deadline-ms "$DEADLINE" --finetune-steps 1 --episodes 2 --workers 1 \
  --master-port "$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')" \
  --worker-timeout 2 --out "$T/lonely2" > /dev/null 2> "$T/lonely2.log" && { echo "FAIL: a search without its worker succeeded"; exit 1; }
grep -q "rt3 search: error: .*joined" "$T/lonely2.log" || { echo "FAIL: no clear error for a missing worker"; cat "$T/lonely2.log"; exit 1; }
[ "$rc2" -ne 0 ] && [ "$rc2" -lt 128 ] && grep -q "^rt3 search-worker: error: " "$T/orphan.log" ||
  { echo "FAIL: worker without a search (rc $rc2)"; cat "$T/orphan.log"; exit 1; }
echo "ok: $(grep 'error' "$T/lonely2.log" | tail -n 1)"
echo "ok: $(grep 'error' "$T/orphan.log" | tail -n 1)"
for m in nohost 127.0.0.1: 127.0.0.1:70000 127.0.0.1:12ab; do
  if "$RT3" search-worker --master "$m" --rank 1 --world-size 2 --checkpoint "$T/bp" --timeout 2 > /dev/null 2> "$T/m.log" ||
     ! grep -q "^rt3 search-worker: error: --master must be HOST:PORT" "$T/m.log"; then
    echo "FAIL: --master $m was not refused cleanly"; cat "$T/m.log"; exit 1
  fi
done
echo "ok: malformed --master values refused"

# Bad input: a clean non-zero exit, one line on stderr naming the problem, no output written.
expect_fail() {
  local want="$1"; shift
  set +e
  "$@" > "$T/out.txt" 2> "$T/err.txt"; local rc=$?
  set -e
  if [ "$rc" -eq 0 ] || [ "$rc" -ge 128 ]; then echo "FAIL: '$*' exited $rc (want a clean non-zero exit)"; cat "$T/err.txt"; exit 1; fi
  grep -qF -- "$want" "$T/err.txt" || { echo "FAIL: '$*' error lacks '$want':"; cat "$T/err.txt"; exit 1; }
  # One error line, the last one (a progress note may precede it), and no trace.
  local errors; errors=$(grep -c 'error' "$T/err.txt" || true)
  [ "$errors" -eq 1 ] && tail -n 1 "$T/err.txt" | grep -q "^rt3 search: error: " ||
    { echo "FAIL: '$*' did not end in one error line:"; cat "$T/err.txt"; exit 1; }
  ! grep -qiE "terminate called|what\(\)|Exception raised from|frame #" "$T/err.txt" || { echo "FAIL: traceback"; cat "$T/err.txt"; exit 1; }
  echo "ok: $(cat "$T/err.txt")"
}
BAD=(--profile "$PROFILE" --latency "$T/lat.json" --episodes 1 --finetune-steps 1 --eval-examples 16 --final-steps 1
     --threads 1)
expect_fail "--method must be rl, random or greedy (got 'bogus')" \
  "$RT3" search "${BAD[@]}" --checkpoint "$T/bp" --deadline-ms "$DEADLINE" --method bogus --out "$T/bad1"
expect_fail "deadline of 0.001 ms cannot be met" \
  "$RT3" search "${BAD[@]}" --checkpoint "$T/bp" --deadline-ms 0.001 --out "$T/bad2"
expect_fail "already holds a search" \
  "$RT3" search "${BAD[@]}" --checkpoint "$T/bp" --deadline-ms "$DEADLINE" --out "$T/rl"
expect_fail "was started with method \"random\"" \
  "$RT3" search "${BAD[@]}" --checkpoint "$T/bp" --deadline-ms "$DEADLINE" --out "$T/random" --method rl --resume
expect_fail "was started with --credit level --batch 2; use the same" \
  "$RT3" search "${BAD[@]}" --checkpoint "$T/bp" --deadline-ms "$DEADLINE" --out "$T/killed" --method rl --resume
mkdir -p "$T/notarun"  # outside the output: an output inside an input is refused first
expect_fail "is not a run directory" \
  "$RT3" search "${BAD[@]}" --checkpoint "$T/notarun" --deadline-ms "$DEADLINE" --out "$T/bad3"
for d in bad1 bad2 bad3; do [ ! -e "$T/$d/search_state.json" ] || { echo "FAIL: $d left a search behind"; exit 1; }; done
# The finished search was not touched by the refused rerun.
check_search "$T/rl" rl 4
echo OK
