#!/usr/bin/env bash
# `rt3 device` loads every shipped profile, the README's example profile, and rejects a bad one.
set -euo pipefail
RT3="$1"; SRC="$2"
T="$(mktemp -d)"; trap 'rm -rf "$T"' EXIT
for p in "$SRC"/profiles/*.json; do
  "$RT3" device "$p" --json > "$T/out.json"
  python3 - "$T/out.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["clusters"] and d["battery_energy_j"] > 0, d
for c in d["clusters"]:
    mhz = [o["mhz"] for o in c["opps"]]
    assert mhz == sorted(mhz) and len(set(mhz)) == len(mhz), c
    assert not c["opps"][-1]["inefficient"], c  # the fastest OPP is never dominated
PY
done
# The example in README.md must stay a valid profile.
python3 - "$SRC/README.md" "$T/readme.json" <<'PY'
import re, sys
text = open(sys.argv[1]).read()
block = re.search(r"## Write a device profile.*?```json\n(.*?)```", text, re.S).group(1)
open(sys.argv[2], "w").write(block)
PY
"$RT3" device "$T/readme.json" > "$T/readme.txt"
grep -q "runs inference" "$T/readme.txt"
# A profile with decreasing frequencies is a one-line error naming the field.
python3 - "$SRC/profiles/rk3399.json" "$T/bad.json" <<'PY'
import json, sys
p = json.load(open(sys.argv[1]))
p["clusters"][0]["opps"].reverse()
json.dump(p, open(sys.argv[2], "w"))
PY
if "$RT3" device "$T/bad.json" 2> "$T/err"; then echo "FAIL: accepted decreasing OPPs"; exit 1; fi
grep -q "increasing" "$T/err" && [ "$(wc -l < "$T/err")" -eq 1 ] || { cat "$T/err"; exit 1; }
echo "device test passed"
