#!/usr/bin/env bash
# Hostile input, class "numbers": NaN / Inf / out-of-range values in flags, config files and
# bundles are refused where they are read, and an inference whose arithmetic overflows is an
# error, never NaN probabilities reported with exit 0.
set -uo pipefail
RT3="$1"; SRC="$2"
MAKE_BUNDLE="$(dirname "$RT3")/tests/make_variant_bundle"
EDIT="python3 $SRC/tests/cli/edit_bundle.py"
T="$(mktemp -d)"; trap 'rm -rf "$T"' EXIT
fail=0
"$MAKE_BUNDLE" "$T/b.rt3" || exit 1

# expect "<substring of the error>" cmd...: clean non-zero exit within 30 s, one line on stderr.
expect() {
  local want="$1"; shift
  timeout 30 "$@" >"$T/out" 2>"$T/err" </dev/null; local rc=$?
  if [ "$rc" -eq 0 ] || [ "$rc" -ge 124 ]; then echo "FAIL: '$*' exited $rc"; head -c 400 "$T/err"; fail=1; return; fi
  if ! grep -qF -- "$want" "$T/err" || [ "$(wc -l < "$T/err")" -ne 1 ]; then
    echo "FAIL: '$*': want one line mentioning '$want', got:"; head -c 600 "$T/err"; fail=1; return
  fi
  echo "ok: $* -> $(cat "$T/err")"
}

# Flags: NaN and Inf are not numbers, whatever range check the flag has.
expect "not a finite number" "$RT3" run "$T/b.rt3" --text hi --sample --temperature nan
expect "not a finite number" "$RT3" run "$T/b.rt3" --text hi --sample --temperature inf
expect "not a finite number" "$RT3" bench switch "$T/b.rt3" --seconds nan
expect "not a finite number" "$RT3" profile "$T/b.rt3" --host-khz nan
if "$RT3" prune --help >/dev/null 2>&1; then
  mkdir -p "$T/dense"; echo '{}' > "$T/p.json"; echo '{}' > "$T/lat.json"
  expect "not a finite number" "$RT3" prune bp --checkpoint "$T/dense" --out "$T/p" --sparsity nan
  expect "not a finite number" "$RT3" search --checkpoint "$T/dense" --profile "$T/p.json" --latency "$T/lat.json" \
    --deadline-ms 10 --out "$T/s" --controller-lr nan
  expect "not a finite number" "$RT3" search --checkpoint "$T/dense" --profile "$T/p.json" --latency "$T/lat.json" \
    --deadline-ms inf --out "$T/s"
  # Config files: 1e999 overflows (refused by the JSON reader); layer_norm_eps <= 0 divides by zero.
  echo '{"train": {"lr": 1e999}}' > "$T/inf.json"
  expect "number overflow" "$RT3" train --task sotu --config "$T/inf.json" --out "$T/r1"
  echo '{"model": {"layer_norm_eps": -1}}' > "$T/eps.json"
  expect "layer_norm_eps" "$RT3" train --task sotu --config "$T/eps.json" --out "$T/r2"
  # A trained run whose weights hold a NaN: eval refuses it instead of printing "loss": null.
  echo '{"train": {"steps": 2, "batch_size": 2, "seq_len": 16, "eval_every": 2, "eval_max_examples": 2,
         "checkpoint_every": 2, "spm_vocab_size": 200, "data_limit": 2},
         "model": {"d_model": 16, "n_heads": 2, "n_layers": 1, "d_ff": 32}}' > "$T/tiny.json"
  if timeout 120 "$RT3" train --task sotu --config "$T/tiny.json" --out "$T/run" --threads 1 >/dev/null 2>&1; then
    $EDIT "$T/run/model.safetensors" "$T/nan.safetensors" --poke ffn.lin1.weight nan
    mv "$T/nan.safetensors" "$T/run/model.safetensors"
    expect "NaN or Inf" "$RT3" eval "$T/run" --max-examples 2 --threads 1 --json
  else
    echo "FAIL: tiny training run failed"; fail=1
  fi
fi

# Bundles: weights finite but so large (3.4e38) that a layer's sums overflow: the inference fails
# instead of answering NaN probabilities.
$EDIT "$T/b.rt3" "$T/huge.rt3" --scale pre_classifier.weight 1e39
expect "NaN or Inf" "$RT3" run "$T/huge.rt3" --text "hello world" --json
expect "NaN or Inf" "$RT3" run "$T/huge.rt3" --text "hello world"
exit $fail
