#!/usr/bin/env bash
# Distillation in the pruning runs (docs/pruning.md "Distillation"): `distill.alpha` in a prune
# --config makes the pruned model learn from the dense teacher; the teacher is found by following
# the chain back to the dense run and recorded, so a resumed run uses it too; it changes what is
# learned; a teacher that is not a finished run is refused before anything starts.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.bash"
RT3="$1"
"$RT3" prune --help >/dev/null 2>&1 || { echo "skip: built without the training verbs"; exit 0; }
T="$(mktemp -d)"; trap 'rm -rf "$T"' EXIT
tiny_lm_config "$T/tiny.json" steps=20 warmup_steps=2 eval_every=20 checkpoint_every=20 n_layers=1
"$RT3" train --task sotu --config "$T/tiny.json" --out "$T/dense" --threads 1 > /dev/null 2>&1
echo '{"bp": {"lasso_steps": 6, "finetune_steps": 6, "reweight_every": 3}, "train": {"checkpoint_every": 6}}' > "$T/bp.json"
echo '{"bp": {"lasso_steps": 6, "finetune_steps": 6, "reweight_every": 3, "distill": {"alpha": 0.5, "temperature": 2}},
       "train": {"checkpoint_every": 6}}' > "$T/bp_kd.json"
"$RT3" prune bp --checkpoint "$T/dense" --out "$T/bp" --config "$T/bp.json" --threads 1 --json > "$T/bp.out" 2> /dev/null
"$RT3" prune bp --checkpoint "$T/dense" --out "$T/bp_kd" --config "$T/bp_kd.json" --threads 1 --json > "$T/bp_kd.out" 2> /dev/null
echo '{"pattern": {"steps": 6, "reassign_every": 3, "tile_rows": 16, "tile_cols": 8, "sample_tiles": 16,
                   "distill": {"alpha": 0.7}}, "train": {"checkpoint_every": 3, "eval_every": 6}}' > "$T/pat_kd.json"
"$RT3" prune pattern --checkpoint "$T/bp_kd" --out "$T/pat_kd" --config "$T/pat_kd.json" --sets 0.5,0.75 --threads 1 --json \
  > "$T/pat_kd.out" 2> /dev/null
python3 - "$T" <<'PY'
import json, os, sys
T = sys.argv[1]
dense = os.path.realpath(T + "/dense")
kd = json.load(open(T + "/bp_kd/rt3_prune.json"))["bp"]["distill"]
assert kd["alpha"] == 0.5 and kd["temperature"] == 2 and os.path.realpath(kd["teacher"]) == dense, kd
assert json.load(open(T + "/bp/rt3_prune.json"))["bp"]["distill"]["alpha"] == 0
# The pattern run's source is the BP run; its teacher is the dense run that chain started from.
pk = json.load(open(T + "/pat_kd/rt3_prune.json"))["pattern"]["distill"]
assert pk["alpha"] == 0.7 and os.path.realpath(pk["teacher"]) == dense, pk
# The same seed and batches: the weights differ once the teacher takes part.
w = [open(f"{T}/{d}/model.safetensors", "rb").read() for d in ("bp", "bp_kd")]
assert len(w[0]) == len(w[1]) and w[0] != w[1], "distillation changed nothing"
p = json.load(open(T + "/pat_kd.out"))
assert p["steps_done"] == 6 and all(s["valid"]["metrics"]["perplexity"] > 1 for s in p["sets"]), p
print("distillation runs ok: teacher", dense)
PY
# A resumed distilled run continues with its recorded teacher: kill after the first checkpoint.
echo '{"bp": {"lasso_steps": 150, "finetune_steps": 150, "reweight_every": 3, "distill": {"alpha": 0.5}},
       "train": {"checkpoint_every": 3}}' > "$T/long_kd.json"
"$RT3" prune bp --checkpoint "$T/dense" --out "$T/killed" --config "$T/long_kd.json" --threads 1 > /dev/null 2>&1 &
pid=$!
for _ in $(seq 1 1500); do [ -e "$T/killed/checkpoint/state.json" ] && break; sleep 0.02; done
kill -9 "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true
"$RT3" prune bp --resume --out "$T/killed" --threads 1 --json > "$T/resumed.out" 2> /dev/null
python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["start_step"] > 0 and d["steps_done"] == 300, d' "$T/resumed.out"
# A teacher that is not a finished run: one line naming it, nothing written.
echo '{"bp": {"distill": {"alpha": 0.5, "teacher": "'"$T"'/nowhere"}}}' > "$T/bad_kd.json"
if "$RT3" prune bp --checkpoint "$T/dense" --out "$T/bad" --config "$T/bad_kd.json" --threads 1 > /dev/null 2> "$T/err"; then
  echo "FAIL: a missing teacher was accepted"; exit 1
fi
grep -q "distill.teacher '.*nowhere' has no model.safetensors" "$T/err" && [ "$(wc -l < "$T/err")" -eq 1 ] || { cat "$T/err"; exit 1; }
[ ! -e "$T/bad/rt3_train.json" ] || { echo "FAIL: the refused run wrote run files"; exit 1; }
echo "distill test passed"
