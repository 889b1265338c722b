#!/usr/bin/env bash
# Hostile input, class "counts and sizes": a small file or flag that claims a huge count is
# refused before anything is allocated or started. The bundle cases run under a virtual memory
# limit, so a regression fails (bad_alloc, or killed) instead of swapping the machine.
set -uo pipefail
RT3="$1"; SRC="$2"
MAKE_BUNDLE="$(dirname "$RT3")/tests/make_variant_bundle"
EDIT="python3 $SRC/tests/cli/edit_bundle.py"
T="$(mktemp -d)"; trap 'rm -rf "$T"' EXIT
fail=0
"$MAKE_BUNDLE" "$T/b.rt3" || exit 1

# expect "<substring of the error>" cmd...: clean non-zero exit within 20 s, one line naming the problem.
expect() {
  local want="$1"; shift
  ( ulimit -v 4000000; timeout 20 "$@" ) >"$T/out" 2>"$T/err" </dev/null; local rc=$?
  if [ "$rc" -eq 0 ] || [ "$rc" -ge 124 ]; then echo "FAIL: '$*' exited $rc"; head -c 400 "$T/err"; fail=1; return; fi
  if ! grep -qF -- "$want" "$T/err" || [ "$(wc -l < "$T/err")" -ne 1 ]; then
    echo "FAIL: '$*': want one line mentioning '$want', got:"; head -c 400 "$T/err"; fail=1; return
  fi
  echo "ok: $(basename "$2") ... -> $(cat "$T/err")"
}

for n in 1000000 10000000 1000; do
  $EDIT "$T/b.rt3" "$T/layers$n.rt3" --patch "{\"model\": {\"config\": {\"n_layers\": $n}}}"
done
expect "'n_layers' must be in [1, 1024], got 1000000" "$RT3" inspect "$T/layers1000000.rt3"
expect "got 10000000" "$RT3" run "$T/layers10000000.rt3" --text hi
expect "n_layers 1000 needs" "$RT3" inspect "$T/layers1000.rt3"
$EDIT "$T/b.rt3" "$T/labels.rt3" --patch '{"model": {"config": {"id2label": null, "num_labels": 100000000}}}'
expect "num_labels" "$RT3" inspect "$T/labels.rt3"
$EDIT "$T/b.rt3" "$T/vocab.rt3" --patch '{"model": {"config": {"vocab_size": 1000000000000}}}'
expect "vocab_size" "$RT3" inspect "$T/vocab.rt3"

# Thread counts and batch sizes from flags are bounded before a thread starts.
expect "--threads" "$RT3" doctor --threads 100000
expect "--batch" "$RT3" bench model "$T/b.rt3" --batch 100000000
expect "--batch" "$RT3" bench switch "$T/b.rt3" --batch 100000000
expect "--threads" "$RT3" run "$T/b.rt3" --threads 100000 --text hi
# A stdin line of rt3 run is bounded (1 MiB, docs/limits.md) before it is held in memory: a 64 MiB
# input without a newline is refused under a memory limit, and the line before it still runs.
{ echo hello; head -c 67108864 /dev/zero | tr '\0' a; } > "$T/longline.txt"
( ulimit -v 4000000; timeout 20 "$RT3" run "$T/b.rt3" < "$T/longline.txt" ) >"$T/out" 2>"$T/err"; rc=$?
if [ "$rc" -eq 0 ] || [ "$rc" -ge 124 ] || ! grep -q "an input line is longer than 1048576 bytes" "$T/err" \
   || [ "$(wc -l < "$T/err")" -ne 1 ] || [ "$(wc -l < "$T/out")" -ne 1 ]; then
  echo "FAIL: rt3 run with a 64 MiB stdin line exited $rc, stdout $(wc -l < "$T/out") lines:"; head -c 400 "$T/err"; fail=1
else
  echo "ok: run < 64 MiB line -> $(cat "$T/err")"
fi

if "$RT3" prune --help >/dev/null 2>&1; then
  mkdir -p "$T/dense"
  expect "--block-rows" "$RT3" prune bp --checkpoint "$T/dense" --out "$T/p" --block-rows 100000000
fi
exit $fail
