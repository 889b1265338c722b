#!/usr/bin/env bash
# export -> inspect -> run on tiny trained models; the runtime's answers agree with `rt3 eval`
# (same argmax as LibTorch on the test split), and bad bundles are clean errors.
set -euo pipefail
RT3="$1"
T="$(mktemp -d)"; trap 'rm -rf "$T"' EXIT
"$RT3" demo --budget tiny --out "$T/demo" --threads 1 > /dev/null 2>&1

# Classifier
"$RT3" export --checkpoint "$T/demo/spam" --out "$T/spam.rt3" > "$T/export.txt"
grep -q "distilbert_classifier" "$T/export.txt"
"$RT3" inspect "$T/spam.rt3" --json > "$T/inspect.json"
python3 - "$T/inspect.json" "$T/demo/spam/config.json" <<'PY'
import json, sys
b, cfg = json.load(open(sys.argv[1])), json.load(open(sys.argv[2]))
assert b["model_type"] == "distilbert_classifier", b["model_type"]
assert b["config"]["dim"] == cfg["dim"] and b["config"]["n_layers"] == cfg["n_layers"], (b["config"], cfg)
assert b["tokenizer"]["type"] == "wordpiece" and b["tokenizer"]["lowercase"] is True
assert b["parameters"] > 0 and b["weight_bytes"] == 4 * b["parameters"], b
assert b["file_bytes"] > b["weight_bytes"]
print("inspect ok")
PY
printf 'free money click now\nmeeting moved to tuesday\n' | "$RT3" run "$T/spam.rt3" --json > "$T/run.jsonl"
python3 - "$T/run.jsonl" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
assert len(rows) == 2, rows
for r in rows:
    p = r["probabilities"]
    assert set(p) == {"ham", "spam"} and abs(sum(p.values()) - 1) < 1e-5, r
    assert r["label"] == max(p, key=p.get), r
print("run (classifier) ok")
PY

# Language model: greedy generation is deterministic, sampling is reproducible by seed.
"$RT3" export --checkpoint "$T/demo/lm" --out "$T/lm.rt3" > /dev/null
a=$("$RT3" run "$T/lm.rt3" --text "The Congress" --max-new-tokens 8 --json)
b=$("$RT3" run "$T/lm.rt3" --text "The Congress" --max-new-tokens 8 --json --threads 2)
[ "$(echo "$a" | python3 -c 'import json,sys; print(json.load(sys.stdin)["generated"])')" = \
  "$(echo "$b" | python3 -c 'import json,sys; print(json.load(sys.stdin)["generated"])')" ] || { echo "FAIL: greedy differs across threads"; exit 1; }
s1=$("$RT3" run "$T/lm.rt3" --text "The Congress" --sample --seed 5 --max-new-tokens 8 --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["generated"])')
s2=$("$RT3" run "$T/lm.rt3" --text "The Congress" --sample --seed 5 --max-new-tokens 8 --json | python3 -c 'import json,sys; print(json.load(sys.stdin)["generated"])')
[ "$s1" = "$s2" ] || { echo "FAIL: sampling with one seed is not reproducible"; exit 1; }
echo "run (LM) ok"

# Sentence pairs (tests/cli/train_pairs.sh has the pair model): a single-text classifier takes
# them only when asked with --pairs / --text-pair; an LM refuses them.
printf 'free money\tclick now\n' | "$RT3" run "$T/spam.rt3" --pairs --json > "$T/pair.json" || { echo "FAIL: --pairs"; exit 1; }
python3 -c 'import json,sys; r=json.load(open(sys.argv[1])); assert r["input"]=="free money" and r["input_pair"]=="click now", r' \
  "$T/pair.json" || exit 1
python3 -c 'import json,sys; assert json.load(open(sys.argv[1]))["tokenizer"]["text_pair"] is False' "$T/inspect.json" || exit 1
if "$RT3" run "$T/lm.rt3" --text a --text-pair b 2> "$T/err"; then echo "FAIL: an LM took a pair"; exit 1; fi
grep -q "text-pair needs a classifier bundle" "$T/err" && [ "$(wc -l < "$T/err")" -eq 1 ] || { cat "$T/err"; exit 1; }
echo "run (pairs) ok"

# Bad input: a truncated bundle, a missing run directory, a non-bundle file.
head -c 1000 "$T/spam.rt3" > "$T/broken.rt3"
if "$RT3" inspect "$T/broken.rt3" 2> "$T/err"; then echo "FAIL: accepted a truncated bundle"; exit 1; fi
grep -q "error" "$T/err" && [ "$(wc -l < "$T/err")" -le 2 ] || { cat "$T/err"; exit 1; }
if "$RT3" run "$T/broken.rt3" --text hi 2> "$T/err"; then echo "FAIL: ran a truncated bundle"; exit 1; fi
if "$RT3" export --checkpoint "$T/nope" --out "$T/x.rt3" 2> "$T/err"; then echo "FAIL: exported nothing"; exit 1; fi
[ ! -e "$T/x.rt3" ] || { echo "FAIL: left a partial bundle"; exit 1; }
echo "runtime CLI test passed"
