#!/usr/bin/env bash
# Hostile environment, class "interrupted starts": a run killed before its first checkpoint, or a
# start that fails on a config error, leaves a directory that both `--resume` and a fresh start
# into the same --out accept; stray temp files of an interrupted write are cleaned up.
set -uo pipefail
RT3="$1"
"$RT3" train --help >/dev/null 2>&1 || { echo "skip: built without the training verbs"; exit 0; }
T="$(mktemp -d)"; trap 'rm -rf "$T"' EXIT
fail=0
# No checkpoint before the last step: a kill after rt3_train.json appears lands before it.
cat > "$T/tiny.json" <<'JSON'
{"train": {"steps": 300, "batch_size": 4, "seq_len": 16, "warmup_steps": 2, "eval_every": 300,
           "eval_max_examples": 4, "checkpoint_every": 300, "spm_vocab_size": 200, "data_limit": 3},
 "model": {"d_model": 16, "n_heads": 2, "n_layers": 1, "d_ff": 32}}
JSON
"$RT3" train --task sotu --config "$T/tiny.json" --steps 2 --out "$T/tok" --threads 1 >/dev/null 2>&1 \
  || { echo "FAIL: tiny training run failed"; exit 1; }
mkdir -p "$T/killed"; cp "$T/tok/tokenizer.model" "$T/killed/"  # skip SentencePiece training
"$RT3" train --task sotu --config "$T/tiny.json" --out "$T/killed" --threads 1 >/dev/null 2>&1 &
pid=$!
for _ in $(seq 1 600); do [ -e "$T/killed/rt3_train.json" ] && break; sleep 0.02; done
kill -9 "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
if [ ! -e "$T/killed/rt3_train.json" ] || [ -e "$T/killed/checkpoint/state.json" ]; then
  echo "FAIL: could not kill the run between its start and its first checkpoint"; exit 1
fi
# What an interrupted checkpoint or file write would have left.
mkdir -p "$T/killed/checkpoint.tmp"; echo junk > "$T/killed/checkpoint.tmp/model.safetensors.tmp.1.abc"
echo junk > "$T/killed/metrics.json.tmp.12345"
cp -r "$T/killed" "$T/killed2"

ok_run() {
  timeout 120 "$@" >"$T/out" 2>"$T/err"; local rc=$?
  if [ "$rc" -ne 0 ]; then echo "FAIL: '$*' exited $rc:"; tail -3 "$T/err"; fail=1; return 1; fi
  echo "ok: $*"
}
ok_run "$RT3" train --resume --out "$T/killed" --threads 1 --json && \
  python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["steps_done"]==300 and d["start_step"]==0, d' "$T/out" \
  || { echo "FAIL: --resume did not run the whole restarted run"; fail=1; }
ok_run "$RT3" train --task sotu --config "$T/tiny.json" --out "$T/killed2" --threads 1
for d in killed killed2; do
  if [ -e "$T/$d/checkpoint.tmp" ] || ls "$T/$d" | grep -q '\.tmp\.'; then echo "FAIL: stray temp files in $d: $(ls "$T/$d")"; fail=1; fi
done
# A finished run is still protected from a fresh start.
timeout 60 "$RT3" train --task sotu --config "$T/tiny.json" --out "$T/killed" --threads 1 >/dev/null 2>"$T/err" \
  && { echo "FAIL: a fresh start overwrote a finished run"; fail=1; }
grep -q "already holds a run" "$T/err" || { echo "FAIL: unclear refusal:"; cat "$T/err"; fail=1; }

# prune bp with a config error: refused before anything is written, and a fixed fresh start into
# the same --out works.
echo '{"bp": {"lasso_steps": 2, "finetune_steps": 2, "reweight_every": 1, "layer_sparsity": {"nope": 0.5}},
       "train": {"checkpoint_every": 2}}' > "$T/badbp.json"
echo '{"bp": {"lasso_steps": 2, "finetune_steps": 2, "reweight_every": 1}, "train": {"checkpoint_every": 2}}' > "$T/bp.json"
timeout 60 "$RT3" prune bp --checkpoint "$T/killed2" --out "$T/bp" --config "$T/badbp.json" --threads 1 >/dev/null 2>"$T/err" \
  && { echo "FAIL: prune bp accepted an unknown layer"; fail=1; }
grep -q "not a prunable layer" "$T/err" && [ "$(wc -l < "$T/err")" -eq 1 ] || { echo "FAIL: unclear error:"; cat "$T/err"; fail=1; }
[ ! -e "$T/bp/rt3_train.json" ] || { echo "FAIL: the refused prune wrote run files"; fail=1; }
ok_run "$RT3" prune bp --checkpoint "$T/killed2" --out "$T/bp" --config "$T/bp.json" --threads 1

# prune bp and prune pattern killed between their start (rt3_train.json written) and their first
# checkpoint: `--resume` restarts the run from its recorded source, and a fresh start into a copy
# of the directory is accepted too.
# kill_before_checkpoint DIR cmd...: starts cmd, kills it once DIR/rt3_train.json exists.
kill_before_checkpoint() {
  local dir="$1"; shift
  "$@" >/dev/null 2>&1 &
  local pid=$!
  for _ in $(seq 1 1500); do [ -e "$dir/rt3_train.json" ] && break; sleep 0.02; done
  kill -9 "$pid" 2>/dev/null; wait "$pid" 2>/dev/null
  if [ ! -e "$dir/rt3_train.json" ] || [ -e "$dir/checkpoint/state.json" ]; then
    echo "FAIL: could not kill '$*' between its start and its first checkpoint"; fail=1; return 1
  fi
  cp -r "$dir" "$dir.copy"
}
# steps_done_is N: the last command's --json reports a whole run of N steps from step 0.
steps_done_is() {
  python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["steps_done"]==int(sys.argv[2]) and d["start_step"]==0, d' "$T/out" "$1" \
    || { echo "FAIL: the resumed run did not run all $1 steps from step 0"; fail=1; }
}
echo '{"bp": {"lasso_steps": 150, "finetune_steps": 150, "reweight_every": 1}, "train": {"checkpoint_every": 300}}' > "$T/longbp.json"
if kill_before_checkpoint "$T/bpk" "$RT3" prune bp --checkpoint "$T/killed2" --out "$T/bpk" --config "$T/longbp.json" --threads 1; then
  ok_run "$RT3" prune bp --resume --out "$T/bpk" --threads 1 --json && steps_done_is 300
  ok_run "$RT3" prune bp --checkpoint "$T/killed2" --out "$T/bpk.copy" --config "$T/longbp.json" --threads 1
fi
echo '{"pattern": {"steps": 300, "reassign_every": 300, "tile_rows": 16, "tile_cols": 8, "sample_tiles": 8},
       "train": {"checkpoint_every": 300, "eval_every": 300}}' > "$T/longpat.json"
if kill_before_checkpoint "$T/patk" "$RT3" prune pattern --checkpoint "$T/bp" --out "$T/patk" --config "$T/longpat.json" --sets 0.5 --threads 1; then
  ok_run "$RT3" prune pattern --resume --out "$T/patk" --threads 1 --json && steps_done_is 300
  ok_run "$RT3" prune pattern --checkpoint "$T/bp" --out "$T/patk.copy" --config "$T/longpat.json" --sets 0.5 --threads 1
fi
exit $fail
