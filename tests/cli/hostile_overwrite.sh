#!/usr/bin/env bash
# Hostile input, class "output over input": an output path that is one of the command's inputs,
# or lies inside an input directory, is refused before anything runs, and the input is unchanged.
set -uo pipefail
RT3="$1"
MAKE_BUNDLE="$(dirname "$RT3")/tests/make_variant_bundle"
T="$(mktemp -d)"; trap 'rm -rf "$T"' EXIT
fail=0
"$MAKE_BUNDLE" "$T/b.rt3" || exit 1
mkdir -p "$T/run"; cp "$T/b.rt3" "$T/run/model.safetensors"; echo '{}' > "$T/run/config.json"
before=$(cat "$T/b.rt3" "$T/run/model.safetensors" | md5sum)

refused() {
  timeout 60 "$@" >"$T/out" 2>"$T/err" </dev/null; local rc=$?
  if [ "$rc" -eq 0 ] || [ "$rc" -ge 124 ]; then echo "FAIL: '$*' exited $rc"; fail=1; return; fi
  if ! grep -q "input" "$T/err" || [ "$(wc -l < "$T/err")" -ne 1 ]; then
    echo "FAIL: '$*': want one line saying the output is an input, got:"; cat "$T/err"; fail=1; return
  fi
  echo "ok: $* -> $(cat "$T/err")"
}

refused "$RT3" profile "$T/b.rt3" --reps 1 --out "$T/b.rt3"
refused "$RT3" profile "$T/b.rt3" --reps 1 --out "$T/../$(basename "$T")/b.rt3"  # another spelling
ln -s "$T/b.rt3" "$T/link.rt3"
refused "$RT3" profile "$T/link.rt3" --reps 1 --out "$T/b.rt3"                   # through a symlink
refused "$RT3" export --checkpoint "$T/run" --out "$T/run/model.safetensors"
refused "$RT3" export --checkpoint "$T/run" --out "$T/run/new.rt3"
if "$RT3" prune --help >/dev/null 2>&1; then
  refused "$RT3" prune bp --checkpoint "$T/run" --out "$T/run"
  refused "$RT3" prune pattern --checkpoint "$T/run" --out "$T/run/sub"
  refused "$RT3" import "$T/run" --out "$T/run"
fi
after=$(cat "$T/b.rt3" "$T/run/model.safetensors" | md5sum)
[ "$before" = "$after" ] || { echo "FAIL: an input was modified"; fail=1; }
exit $fail
