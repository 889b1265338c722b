#!/usr/bin/env bash
# Hostile environment, class "lost output": a write to stdout or to a file that fails (a full
# disk) is a one-line error with a non-zero exit, never exit 0 with the output missing or cut,
# and never a half-written file. /dev/full fails every write; a 64 KiB tmpfs (when this machine
# lets us mount one) fills up mid-file. Also: invalid UTF-8 in an input line does not stop the
# other lines.
set -uo pipefail
RT3="$1"; SRC="$2"
MAKE_BUNDLE="$(dirname "$RT3")/tests/make_variant_bundle"
T="$(mktemp -d)"
small="$T/small"
cleanup() { mountpoint -q "$small" 2>/dev/null && umount "$small"; rm -rf "$T"; }
trap cleanup EXIT
fail=0
"$MAKE_BUNDLE" "$T/b.rt3" || exit 1
"$MAKE_BUNDLE" "$T/u.rt3" --uniform || exit 1  # one tile shape: what rt3 profile measures

# lost "<what>" cmd... (stdout already redirected by the caller via $OUT)
lost() {
  local out="$1"; shift
  timeout 30 "$@" >"$out" 2>"$T/err" </dev/null; local rc=$?
  if [ "$rc" -eq 0 ] || [ "$rc" -ge 124 ]; then echo "FAIL: '$* > $out' exited $rc"; fail=1; return; fi
  if [ "$(wc -l < "$T/err")" -ne 1 ] || ! grep -q "error" "$T/err"; then
    echo "FAIL: '$* > $out': want one error line, got:"; cat "$T/err"; fail=1; return
  fi
  echo "ok: $* > $out -> $(cat "$T/err")"
}

lost /dev/full "$RT3" inspect "$T/b.rt3" --json
lost /dev/full "$RT3" inspect "$T/b.rt3"
lost /dev/full "$RT3" run "$T/b.rt3" --text hi --json
lost /dev/full "$RT3" device "$SRC/profiles/rk3399.json" --json
lost /dev/full "$RT3" --help

if mkdir -p "$small" && mount -t tmpfs -o size=64k tmpfs "$small" 2>/dev/null; then
  head -c 61440 /dev/zero > "$small/filler"  # leaves one 4 KiB page
  lost "$small/inspect.json" "$RT3" inspect "$T/b.rt3" --json --tensors
  # A file the command writes itself is whole or absent: no truncated table, no temp file left.
  timeout 60 "$RT3" profile "$T/u.rt3" --reps 1 --out "$small/lat.json" >/dev/null 2>"$T/err"; rc=$?
  if [ "$rc" -eq 0 ]; then
    python3 -c 'import json,sys; json.load(open(sys.argv[1]))' "$small/lat.json" || { echo "FAIL: profile wrote a cut table"; fail=1; }
  else
    [ ! -e "$small/lat.json" ] || { echo "FAIL: profile failed ($rc) but left $small/lat.json"; fail=1; }
    echo "ok: profile into a full disk -> $(tail -1 "$T/err")"
  fi
  if ls "$small" | grep -q tmp; then echo "FAIL: temp files left: $(ls "$small")"; fail=1; fi
else
  echo "skip: cannot mount a tmpfs here (not root?); /dev/full cases only"
fi

# Invalid UTF-8 on one input line: every line still gets its answer.
printf 'hello\n\xff\xfe bad\nworld\n' | "$RT3" run "$T/b.rt3" --json > "$T/lines.jsonl" 2>"$T/err"; rc=$?
n=$(wc -l < "$T/lines.jsonl")
if [ "$rc" -ne 0 ] || [ "$n" -ne 3 ]; then echo "FAIL: invalid UTF-8 line: exit $rc, $n of 3 lines"; cat "$T/err"; fail=1
else echo "ok: invalid UTF-8 line answered with the others"; fi
exit $fail
