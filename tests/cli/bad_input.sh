#!/usr/bin/env bash
# Bad input gets a one-line error naming the problem and a non-zero exit (never a crash).
set -uo pipefail
RT3="$1"
T="$(mktemp -d)"; trap 'rm -rf "$T"' EXIT
fail=0

# expect_error "<substring of the error>" cmd...
expect_error() {
  local want="$1"; shift
  "$@" >"$T/out" 2>"$T/err"; local rc=$?
  if [ "$rc" -eq 0 ] || [ "$rc" -ge 128 ]; then
    echo "FAIL: '$*' exited $rc (want a clean non-zero exit)"; cat "$T/err"; fail=1; return
  fi
  if ! grep -qF -- "$want" "$T/err"; then
    echo "FAIL: '$*': stderr does not mention '$want':"; cat "$T/err"; fail=1; return
  fi
  echo "ok: $* -> $(head -c 200 "$T/err" | tr '\n' ' ')"
}

expect_error "task" "$RT3" train --task nope --out "$T/a"
echo '{"train": {"steps": 10,' > "$T/broken.json"
expect_error "not valid JSON" "$RT3" train --task sotu --config "$T/broken.json" --out "$T/b"
echo '{"train": {"stepz": 10}}' > "$T/typo.json"
expect_error "unknown key 'stepz'" "$RT3" train --task sotu --config "$T/typo.json" --out "$T/c"
echo '{"train": {"lr": -1}}' > "$T/neg.json"
expect_error "'train.lr' must be > 0" "$RT3" train --task spam --config "$T/neg.json" --out "$T/d"
echo '{"model": {"d_model": 30, "n_heads": 4}}' > "$T/heads.json"
expect_error "divisible by n_heads" "$RT3" train --task sotu --config "$T/heads.json" --out "$T/e"
expect_error "not an rt3 run directory" "$RT3" eval "$T/nonexistent"
mkdir -p "$T/empty"
expect_error "not an rt3 run directory" "$RT3" train --resume --out "$T/empty"
expect_error "--task is required" "$RT3" train --out "$T/f"
RT3_DATA_DIR="$T/nodata" expect_error "setup.sh" "$RT3" train --task sotu --out "$T/g"

# None of the failed runs may leave a half-made run directory behind.
for d in a b c d e f; do
  if [ -e "$T/$d/rt3_train.json" ]; then echo "FAIL: failed run left $T/$d/rt3_train.json"; fail=1; fi
done
exit $fail
