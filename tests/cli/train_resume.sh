#!/usr/bin/env bash
# A run killed with SIGKILL mid-way and resumed ends at exactly the loss of an uninterrupted run;
# then `rt3 eval` reads the result and a corrupt checkpoint gives a clear error.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.bash"
RT3="$1"
T="$(mktemp -d)"; trap 'rm -rf "$T"' EXIT
tiny_lm_config "$T/tiny.json" steps=400 warmup_steps=20 eval_every=50 checkpoint_every=25
# One thread: the same arithmetic in the same order in both runs.
"$RT3" train --task sotu --config "$T/tiny.json" --out "$T/full" --threads 1 --json > "$T/full.json"

# Second run: start, wait for its first or second checkpoint, SIGKILL it, resume.
# Reuse the first run's tokenizer so the slow part (SentencePiece training) is not repeated.
mkdir -p "$T/killed"; cp "$T/full/tokenizer.model" "$T/killed/"
"$RT3" train --task sotu --config "$T/tiny.json" --out "$T/killed" --threads 1 > "$T/killed.log" 2>&1 &
pid=$!
ckpt_step() { python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["step"])' "$T/killed/checkpoint/state.json" 2>/dev/null || echo 0; }
for _ in $(seq 1 1200); do
  [ "$(ckpt_step)" -ge 25 ] && break
  sleep 0.05
done
kill -9 "$pid" 2>/dev/null || true
wait "$pid" 2>/dev/null || true
step=$(ckpt_step)
echo "killed after checkpoint at step $step"
if [ "$step" -lt 25 ] || [ "$step" -ge 400 ]; then echo "FAIL: could not kill the run mid-way (checkpoint step $step)"; exit 1; fi
"$RT3" train --resume --out "$T/killed" --threads 1 --json > "$T/resumed.json"

full=$(python3 -c 'import json,sys; print(repr(json.load(open(sys.argv[1]))["final_train_loss"]))' "$T/full.json")
resumed=$(python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["start_step"]>0, d; print(repr(d["final_train_loss"]))' "$T/resumed.json")
echo "uninterrupted final loss $full, resumed $resumed"
[ "$full" = "$resumed" ] || { echo "FAIL: resumed run diverged"; exit 1; }
vfull=$(python3 -c 'import json,sys; print(repr(json.load(open(sys.argv[1]))["valid"]["metrics"]["loss"]))' "$T/full.json")
vres=$(python3 -c 'import json,sys; print(repr(json.load(open(sys.argv[1]))["valid"]["metrics"]["loss"]))' "$T/resumed.json")
[ "$vfull" = "$vres" ] || { echo "FAIL: valid loss $vfull vs $vres"; exit 1; }

# eval reads the run and reports the same validation loss the trainer saw.
"$RT3" eval "$T/full" --split valid --max-examples 8 --threads 1 --json > "$T/eval.json"
veval=$(python3 -c 'import json,sys; print(repr(json.load(open(sys.argv[1]))["result"]["metrics"]["loss"]))' "$T/eval.json")
python3 -c 'import sys; a,b=float(sys.argv[1]),float(sys.argv[2]); sys.exit(0 if abs(a-b)<=1e-5*max(1,abs(a)) else 1)' "$vfull" "$veval" \
  || { echo "FAIL: eval loss $veval differs from training's $vfull"; exit 1; }

# A corrupt weights file is a clear error, not a crash.
echo "garbage" > "$T/full/model.safetensors"
if "$RT3" eval "$T/full" 2> "$T/err"; then echo "FAIL: eval accepted corrupt weights"; exit 1; fi
grep -q "corrupt or incompatible weights file" "$T/err" || { echo "FAIL: unclear error:"; cat "$T/err"; exit 1; }
# So is a corrupt checkpoint on --resume.
echo "garbage" > "$T/killed/checkpoint/optimizer.pt"
if "$RT3" train --resume --out "$T/killed" --threads 1 2> "$T/err2"; then echo "FAIL: resumed from a corrupt checkpoint"; exit 1; fi
grep -q "corrupt checkpoint" "$T/err2" || { echo "FAIL: unclear error:"; cat "$T/err2"; exit 1; }
[ "$(wc -l < "$T/err2")" -le 3 ] || { echo "FAIL: error is not short:"; cat "$T/err2"; exit 1; }
echo "resume test passed"
