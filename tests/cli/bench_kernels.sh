#!/usr/bin/env bash
# `rt3 bench kernels`: a tiny grid as JSON (rows, fields, speed-ups = ratios of the reported
# times, BP and pattern rows), and bad options are one clear error with a non-zero exit.
set -euo pipefail
RT3="$1"; SRC="$2"
T="$(mktemp -d)"; trap 'rm -rf "$T"' EXIT
"$RT3" bench kernels --shapes 40x24 --m 1,5 --threads-list 1 --sparsity 0.5,0.75 --reps 3 --min-chunk-ms 0.2 \
  --json > "$T/out.json" 2> "$T/err" || { cat "$T/err"; exit 1; }
python3 - "$T/out.json" <<'PY'
import json, math, sys
d = json.load(open(sys.argv[1]))
m = d["machine"]
assert m["cpu"] and m["dense_kernel"] and "highway_target" in m, m
rows = d["rows"]
assert len(rows) == 4, rows  # 1 shape x 2 m x 1 thread count x 2 sparsities
have_baselines = m["baselines"] == "available"
def close(a, b):
    return math.isclose(a, b, rel_tol=1e-9)
for r in rows:
    assert "error" not in r, r
    assert (r["out"], r["in"], r["threads"]) == (40, 24, 1), r
    assert r["m"] in (1, 5) and r["sparsity"] in (0.5, 0.75), r
    for k in ("dense_us", "bp_us", "bp_gflops_nnz", "bp_gflops_effective", "target", "bp_bytes", "nonzeros"):
        assert r[k] > 0, (k, r)
    assert isinstance(r["met"], bool), r
    # groups: ceil(40/16)=3 blocks x 24 columns; kept = round((1-s) * 72); 16+16+8 rows per block
    assert r["groups"] == 72 and r["kept_groups"] == round((1 - r["sparsity"]) * 72), r
    assert close(r["speedup_bp_vs_dense"], r["dense_us"] / r["bp_us"]), r
    best = min(r["dense_us"], r["onednn_us"]) if r["onednn_us"] is not None else r["dense_us"]
    assert close(r["best_dense_us"], best) and close(r["speedup_bp_vs_best_dense"], best / r["bp_us"]), r
    assert r["met"] == (r["speedup_bp_vs_best_dense"] >= r["target"]), r
    if r["m"] == 1:
        assert close(r["target"], 0.8 * r["dense_bytes"] / r["bp_bytes"]), r
    else:
        assert close(r["target"], 0.7 / (1 - r["sparsity"])), r
    assert close(r["bp_gflops_effective"], 2 * r["m"] * 40 * 24 / r["bp_us"] * 1e-3), r
    assert close(r["bp_gflops_nnz"], 2 * r["m"] * r["nonzeros"] / r["bp_us"] * 1e-3), r
    if have_baselines:
        for k in ("onednn_us", "xnnpack_us", "xnnpack_chw_us"):
            assert r[k] > 0, (k, r)
        assert close(r["speedup_bp_vs_onednn"], r["onednn_us"] / r["bp_us"]), r
        assert close(r["speedup_xnnpack_vs_dense"], r["dense_us"] / r["xnnpack_us"]), r
        assert close(r["speedup_xnnpack_vs_onednn"], r["onednn_us"] / r["xnnpack_us"]), r
        assert close(r["speedup_bp_vs_xnnpack"], r["xnnpack_us"] / r["bp_us"]), r
    else:
        assert r["onednn_us"] is None and r["speedup_bp_vs_onednn"] is None, r
    # Pattern (default tile 16x16, 4 patterns): p = round(s * 16) columns of each 16-column tile
    # removed; 24 columns = one full tile + a ragged one of 8 (the pattern's first 8 entries).
    assert r["pattern_tile"] == "16x16" and r["pattern_pruned_cols"] == round(r["sparsity"] * 16), r
    assert r["pattern_count"] == 4 and r["pattern_kernel"], r
    for k in ("pattern_us", "pattern_gflops_nnz", "pattern_gflops_effective", "pattern_target", "pattern_bytes",
              "pattern_kept", "speedup_pattern_vs_best_dense"):
        assert r[k] > 0, (k, r)
    assert isinstance(r["pattern_met"], bool), r
    assert 0 < r["pattern_kept"] < 40 * 24 and close(r["pattern_sparsity"], 1 - r["pattern_kept"] / (40 * 24)), r
    # full tile keeps exactly 16 - p columns per row; the ragged one 0..8
    assert 40 * (16 - r["pattern_pruned_cols"]) <= r["pattern_kept"] <= 40 * (24 - r["pattern_pruned_cols"]), r
    # storage: 4 patterns x 16 bytes + 3 x 2 tile ids
    assert close(r["pattern_bytes"], 4 * r["pattern_kept"] + 4 * 16 + 3 * 2), r
    assert close(r["speedup_pattern_vs_best_dense"], r["best_dense_us"] / r["pattern_us"]), r
    if r["m"] == 1:
        assert close(r["pattern_target"], 0.8 * r["dense_bytes"] / r["pattern_bytes"]), r
    else:
        assert close(r["pattern_target"], 0.7 / (1 - r["pattern_sparsity"])), r
    assert r["pattern_met"] == (r["speedup_pattern_vs_best_dense"] >= r["pattern_target"]), r
    assert close(r["pattern_gflops_effective"], 2 * r["m"] * 40 * 24 / r["pattern_us"] * 1e-3), r
    assert close(r["pattern_gflops_nnz"], 2 * r["m"] * r["pattern_kept"] / r["pattern_us"] * 1e-3), r
# The same configuration's dense times are shared by its sparsity rows (measured once per rep).
for a in rows:
    for b in rows:
        if a["m"] == b["m"]:
            assert a["dense_us"] == b["dense_us"], (a, b)
PY
# The human table has a header and one line per row.
"$RT3" bench kernels --shapes 40x24 --m 1 --threads-list 1 --sparsity 0.5 --reps 1 --min-chunk-ms 0.1 \
  > "$T/table.txt" 2> "$T/err"
grep -q "BP/dense" "$T/table.txt" && grep -q "Pat/best" "$T/table.txt" && grep -q "^40x24 " "$T/table.txt" \
  || { cat "$T/table.txt"; exit 1; }
# Another tile / pattern count (ragged rows and columns; C(4, 2) = 6 caps 8 patterns) and --no-pattern.
"$RT3" bench kernels --shapes 37x19 --m 1,3 --threads-list 1 --sparsity 0,0.5 --pattern-tile 3x4 --patterns 8 \
  --reps 1 --min-chunk-ms 0.1 --json > "$T/tile.json" 2> "$T/err" || { cat "$T/err"; exit 1; }
"$RT3" bench kernels --shapes 40x24 --m 1 --threads-list 1 --sparsity 0.5 --no-pattern --reps 1 --min-chunk-ms 0.1 \
  --json > "$T/nopat.json" 2> "$T/err" || { cat "$T/err"; exit 1; }
python3 - "$T/tile.json" "$T/nopat.json" <<'PY'
import json, sys
d = json.load(open(sys.argv[1]))
assert d["config"]["pattern_tile"] == "3x4" and d["config"]["patterns"] == 8, d["config"]
assert len(d["rows"]) == 4, d["rows"]
for r in d["rows"]:
    assert "error" not in r and r["pattern_tile"] == "3x4", r
    p = r["pattern_pruned_cols"]
    assert p == round(r["sparsity"] * 4) and r["pattern_count"] == (1 if p == 0 else 6), r
    assert r["pattern_bytes"] == 4 * r["pattern_kept"] + r["pattern_count"] * 4 + 13 * 5, r  # 13 x 5 tiles
    if p == 0:
        assert r["pattern_sparsity"] == 0 and r["pattern_kept"] == 37 * 19, r
d = json.load(open(sys.argv[2]))
assert d["config"]["pattern"] is False, d["config"]
for r in d["rows"]:
    assert "error" not in r and r["bp_us"] > 0, r
    for k in ("pattern_us", "pattern_sparsity", "speedup_pattern_vs_best_dense", "pattern_target", "pattern_met"):
        assert r[k] is None, (k, r)
PY
# Bad input: a clear error naming the option, non-zero exit, nothing measured.
expect_error() {  # expect_error PATTERN ARGS...
  local pattern="$1"; shift
  if "$RT3" bench kernels "$@" --reps 1 > "$T/out" 2> "$T/err"; then echo "FAIL: accepted $*"; exit 1; fi
  grep -q -- "$pattern" "$T/err" || { echo "FAIL: no '$pattern' in:"; cat "$T/err"; exit 1; }
  [ ! -s "$T/out" ] || { echo "FAIL: output for $*"; cat "$T/out"; exit 1; }
}
expect_error "--sparsity" --shapes 40x24 --sparsity 1.5
expect_error "--sparsity" --shapes 40x24 --sparsity 0.5,abc
expect_error "--shapes" --shapes 12
expect_error "--shapes" --shapes 12x0
expect_error "--m" --shapes 40x24 --m 0
expect_error "--threads-list" --shapes 40x24 --threads-list 1,,2
expect_error "--block-rows" --shapes 40x24 --block-rows 0
expect_error "--pattern-tile" --shapes 40x24 --pattern-tile 0x4
expect_error "--pattern-tile" --shapes 40x24 --pattern-tile 16
expect_error "--patterns" --shapes 40x24 --patterns 0
echo "bench kernels test passed"
