#!/usr/bin/env bash
# `rt3 profile`: the latency table of a bundle with pattern variants (test tool make_variant_bundle)
# predicts every variant's whole-model latency, measured in the same run, within 15 %; the table
# reads back (rt3 simulate accepts it); bad input fails cleanly and writes nothing.
set -euo pipefail
RT3="$1"; SRC="$2"
MAKE_BUNDLE="$(dirname "$RT3")/tests/make_variant_bundle"
[ -x "$MAKE_BUNDLE" ] || { echo "missing $MAKE_BUNDLE (build the make_variant_bundle target)"; exit 1; }
T="$(mktemp -d)"; trap 'rm -rf "$T"' EXIT
"$MAKE_BUNDLE" "$T/v.rt3" --uniform
"$RT3" profile "$T/v.rt3" --threads 1 --reps 21 --out "$T/lat.json" --accuracy base=0.9,p50=0.88 > "$T/out.txt" 2> /dev/null
grep -q "measured ms" "$T/out.txt"
python3 - "$T/lat.json" <<'PY'
import json, sys
t = json.load(open(sys.argv[1]))
assert t["kind"] == "rt3.latency_table" and t["threads"] == 1 and t["tokens"] > 0, t.keys()
names = [v["name"] for v in t["variants"]]
assert names[0] == "base" and len(names) >= 3, names
assert t["variants"][0]["accuracy"] == 0.9 and t["variants"][1]["accuracy"] == 0.88, t["variants"][:2]
for l in t["layers"]:
    pns = sorted(int(p) for p in l["pattern_s"])
    assert pns and all(l["pattern_s"][str(p)] > 0 for p in pns), l
for v in t["variants"]:
    err = abs(v["predicted_s"] - v["measured_s"]) / v["measured_s"]
    print(f'{v["name"]}: measured {v["measured_s"]*1e3:.3f} ms predicted {v["predicted_s"]*1e3:.3f} ms ({err*100:+.1f} %)')
    assert err < 0.15, (v["name"], err)
PY
"$RT3" simulate --profile "$SRC/profiles/rk3399.json" --latency "$T/lat.json" --workload "period=1s,deadline=500ms" --json > /dev/null
# Bad input: an unknown variant in --accuracy, a pruning number outside the tile, a non-bundle.
for args in "--accuracy nosuch=0.5" "--pruning-numbers 0" "--pruning-numbers 4,x"; do
  if "$RT3" profile "$T/v.rt3" --reps 1 --out "$T/bad.json" $args 2> "$T/err.txt" > /dev/null; then
    echo "FAIL: accepted $args"; exit 1; fi
  [ "$(wc -l < "$T/err.txt")" -ge 1 ] && grep -q "error" "$T/err.txt" || { cat "$T/err.txt"; exit 1; }
  [ ! -e "$T/bad.json" ] || { echo "FAIL: wrote output for $args"; exit 1; }
done
echo "not a bundle" > "$T/x.rt3"
if "$RT3" profile "$T/x.rt3" 2> "$T/err.txt" > /dev/null; then echo "FAIL: accepted a non-bundle"; exit 1; fi
echo "profile test passed"
