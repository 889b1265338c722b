# Helpers shared by the CLI tests: `source "$(dirname "${BASH_SOURCE[0]}")/lib.bash"`. Not a test
# itself (the tests are the *.sh files here).

# tiny_lm_config FILE [KEY=VALUE ...]: writes the rt3 train --config of the tiny sotu LM these tests
# train in seconds (d_model 32, 2 heads, 2 layers, d_ff 64; batches of 8 windows of 32 tokens; a
# 300-piece tokenizer on 8 documents; 30 steps), with the given train or model keys replaced,
# e.g. `tiny_lm_config "$T/tiny.json" steps=40 d_ff=80`. An unknown key fails the test.
tiny_lm_config() {
  python3 - "$@" <<'PY'
import json, sys
train = {"steps": 30, "batch_size": 8, "seq_len": 32, "warmup_steps": 5, "eval_every": 30,
         "eval_max_examples": 8, "checkpoint_every": 30, "spm_vocab_size": 300, "data_limit": 8}
model = {"d_model": 32, "n_heads": 2, "n_layers": 2, "d_ff": 64}
for kv in sys.argv[2:]:
    key, value = kv.split("=", 1)
    section = model if key in model else train if key in train else None
    if section is None:
        sys.exit("tiny_lm_config: unknown key " + key)
    section[key] = json.loads(value)
with open(sys.argv[1], "w") as f:
    json.dump({"train": train, "model": model}, f)
PY
}
