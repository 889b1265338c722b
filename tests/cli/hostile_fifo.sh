#!/usr/bin/env bash
# Hostile input, class "non-regular files": a FIFO given where a file is read must be refused at
# once (open() of a FIFO blocks until a writer appears), and `rt3 run --text ''` is one (empty)
# input, not a wait on stdin. Every command runs under `timeout`, so a regression fails instead
# of hanging the suite.
set -uo pipefail
RT3="$1"
MAKE_BUNDLE="$(dirname "$RT3")/tests/make_variant_bundle"
T="$(mktemp -d)"; trap 'rm -rf "$T"' EXIT
fail=0
"$MAKE_BUNDLE" "$T/b.rt3" || exit 1
mkfifo "$T/f.rt3" "$T/f.json"

# expect_refused "<substring of the error>" cmd...: a clean non-zero exit within 10 s.
expect_refused() {
  local want="$1"; shift
  timeout 10 "$@" >"$T/out" 2>"$T/err" </dev/null; local rc=$?
  if [ "$rc" -eq 124 ]; then echo "FAIL: '$*' hung (killed after 10 s)"; fail=1; return; fi
  if [ "$rc" -eq 0 ] || [ "$rc" -ge 128 ]; then echo "FAIL: '$*' exited $rc"; cat "$T/err"; fail=1; return; fi
  if ! grep -qF -- "$want" "$T/err" || [ "$(wc -l < "$T/err")" -ne 1 ]; then
    echo "FAIL: '$*': want one line mentioning '$want', got:"; cat "$T/err"; fail=1; return
  fi
  echo "ok: $* -> $(cat "$T/err")"
}

expect_refused "not a regular file" "$RT3" inspect "$T/f.rt3"
expect_refused "not a regular file" "$RT3" run "$T/f.rt3" --text hi
expect_refused "not a regular file" "$RT3" bench model "$T/f.rt3"
expect_refused "not a regular file" "$RT3" device "$T/f.json"
if "$RT3" train --help >/dev/null 2>&1; then  # built with the training verbs
  expect_refused "not a regular file" "$RT3" train --task sotu --config "$T/f.json" --out "$T/run"
fi

# --text '' with a stdin that never ends (a FIFO this shell holds open for writing): one result
# line, no wait.
mkfifo "$T/stdin"; exec 3<>"$T/stdin"
timeout 10 "$RT3" run "$T/b.rt3" --text '' --json <"$T/stdin" >"$T/out" 2>"$T/err"; rc=$?
exec 3>&-
if [ "$rc" -ne 0 ] || [ "$(wc -l < "$T/out")" -ne 1 ]; then
  echo "FAIL: run --text '' exited $rc with $(wc -l < "$T/out") lines (want 0 and 1 line)"; cat "$T/err"; fail=1
else
  echo "ok: run --text '' answered without reading stdin"
fi
exit $fail
