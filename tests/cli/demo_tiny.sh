#!/usr/bin/env bash
# `rt3 demo --budget tiny` runs every landed stage and writes a summary whose numbers agree with
# each other; --resume then skips the finished stages.
set -euo pipefail
RT3="$1"
T="$(mktemp -d)"; trap 'rm -rf "$T"' EXIT
# As `make demo` runs it: always with --resume, here into an empty directory.
"$RT3" demo --budget tiny --out "$T/demo" --threads 1 --resume > "$T/out.txt" 2> "$T/err.txt"
python3 - "$T/demo/summary.json" <<'PY'
import json, math, sys
s = json.load(open(sys.argv[1]))
assert s["budget"] == "tiny", s
assert s["resumed"] is False and s["skipped_stages"] == [], (s["resumed"], s["skipped_stages"])
names = ["lm", "spam", "lm_bp", "spam_bp", "lm_pat", "spam_pat", "latency", "search_rl", "search_random", "rt3_bundle", "battery", "adapt"]
assert sorted(s["stage_seconds"]) == sorted(names) and all(v > 0 for v in s["stage_seconds"].values()), s["stage_seconds"]
assert sum(s["stage_seconds"].values()) <= s["seconds"], (s["stage_seconds"], s["seconds"])
assert set(s["stages"]) == {"lm", "spam", "lm_bp", "spam_bp", "lm_pat", "spam_pat"}, s["stages"].keys()
lm = s["stages"]["lm"]["test"]["metrics"]
assert abs(lm["perplexity"] - math.exp(lm["loss"])) < 1e-6 * lm["perplexity"], lm
assert 0 <= lm["accuracy"] <= 1, lm
spam = s["stages"]["spam"]["test"]["metrics"]
assert 0 <= spam["accuracy"] <= 1 and 0 <= spam["macro_f1"] <= 1, spam
for name in ("lm", "spam"):
    tr = s["stages"][name]["train"]
    assert tr["steps_done"] > 0 and tr["parameters"] > 0 and tr["tokens_per_s"] > 0, (name, tr)
    assert math.isfinite(tr["final_train_loss"]), (name, tr)
# The torch-free runtime, on the same test examples, agrees with LibTorch's evaluation (an argmax
# may flip on a near-tie, so allow one example).
rt = s["stages"]["spam"]["runtime"]
n = rt["test_examples"]
assert n == s["stages"]["spam"]["test"]["examples"], (n, s["stages"]["spam"]["test"])
assert abs(rt["test_accuracy"] - spam["accuracy"]) <= 1.0 / n + 1e-12, (rt, spam)
assert rt["bundle_bytes"] > 4 * s["stages"]["spam"]["train"]["parameters"], rt
assert s["stages"]["lm"]["runtime"]["generate_ms_per_token_median"] > 0
# Block-pruned stages: the requested sparsity (never above it), runtime agrees with LibTorch on
# the pruned model too, and the packed bundle is smaller than the dense one.
for name, src in (("lm_bp", "lm"), ("spam_bp", "spam")):
    st = s["stages"][name]
    assert st["pruned_from"] == src, st
    sp = st["train"]["sparsity"]["weight_sparsity"]
    assert 0.4 < sp <= 0.5 + 1e-12, (name, sp)
    assert st["train"]["steps_done"] == st["train"]["bp"]["lasso_steps"] + st["train"]["bp"]["finetune_steps"]
    assert st["runtime"]["bundle_bytes"] < s["stages"][src]["runtime"]["bundle_bytes"], (name, st["runtime"])
rt = s["stages"]["spam_bp"]["runtime"]
acc = s["stages"]["spam_bp"]["test"]["metrics"]["accuracy"]
assert abs(rt["test_accuracy"] - acc) <= 1.0 / rt["test_examples"] + 1e-12, (rt, acc)
# Pattern stages: each set's test accuracy from LibTorch agrees with the runtime running that
# variant of the bundle (one argmax may flip), and the sets have the sparsity they claim.
for name in ("lm_pat", "spam_pat"):
    st = s["stages"][name]
    sets = {x["name"]: x for x in st["train"]["sets"]}
    assert set(sets) == {"p50", "p75"} and set(st["test_sets"]) == set(sets), st.keys()
    assert set(st["runtime"]["variants"]) == {"base", "p50", "p75"}, st["runtime"]
    for n, x in sets.items():
        assert abs(x["sparsity"] - {"p50": 0.5, "p75": 0.75}[n]) < 1e-9, x
for n in ("p50", "p75"):
    rv = s["stages"]["spam_pat"]["runtime"]["variants"][n]
    lt = s["stages"]["spam_pat"]["test_sets"][n]["metrics"]["accuracy"]
    assert abs(rv["test_accuracy"] - lt) <= 1.0 / rv["test_examples"] + 1e-12, (n, rv, lt)
    assert s["stages"]["lm_pat"]["runtime"]["variants"][n]["generate_ms_per_token_median"] > 0
# Device half: the search bundle maps every usable level of the profile to a set it has; the
# latency tables' predictions stay near their measurements; the battery ratios are the ratios of
# the policies' lives; the claims table is computed from these numbers; the report shows them.
d = s["device"]
rb = d["rt3_bundle"]
names = {v["name"] for v in rb["variants"]}
assert "base" in names and set(rb["test_accuracy"]) == names, (names, rb["test_accuracy"])
lv = {l["khz"] for l in rb["levels"]}
prof = json.load(open(d["profile_file"]))
inf = [c for c in prof["clusters"] if c["name"] == prof.get("inference_cluster", c["name"])][0]
assert lv <= {o["khz"] for o in inf["opps"]} and len(lv) >= 1, lv
for l in rb["levels"]:
    assert l["set"] in names, l
    if not l.get("unreachable"):
        assert l["latency_ms"] <= d["search"]["deadline_ms"] + 1e-9, l
for m in ("rl", "random"):
    c = d["search"][m]["reward_curve"]
    assert len(c) == d["search"]["episodes"], (m, len(c))
    assert abs(max(e["reward"] for e in c) - d["search"][m]["best_reward"]) < 1e-12, m
    assert all(c[i]["best"] <= c[i + 1]["best"] for i in range(len(c) - 1)), m
sw = rb["switch"]
assert sw["ok"] and sw["check"]["mismatches"] == 0 and sw["switch_latency_us"]["p50"] <= sw["switch_latency_us"]["p99"], sw
b = d["battery"]
life = {p["id"]: p["projected_life_h"] for p in b["policies"]}
for k, base in (("rt3_over_max_dense", "max_dense"), ("rt3_over_min_dense", "min_dense")):
    assert abs(b["ratios"][k] - life["rt3"] / life[base]) < 1e-6 * b["ratios"][k], (k, b["ratios"], life)
ad = d["adapt"]
assert set(ad["policies"]) == {"dense", "table", "deadline"}, ad["policies"].keys()
for name, p in ad["policies"].items():
    assert p["requests"] > 0 and 0 <= p["miss_rate"] <= 1 and p["p50_response_ms"] <= p["p99_response_ms"], (name, p)
    assert "timeline" not in p, name
assert ad["deadline_ms"] > 0 and len(ad["phases"]) == 5, ad
claims = {c["id"]: c for c in s["claims"]}
assert set(claims) == {"switch_time", "battery_life", "lm_accuracy_loss", "distilbert_accuracy_loss"}, claims.keys()
# The battery claim is judged on the processor basis and names it; the device basis is the
# simulation's top-level ratios.
assert claims["battery_life"]["basis"] == "processor"
assert claims["battery_life"]["value"] == b["bases"]["processor"]["rt3_over_max_dense"]
assert b["bases"]["device"]["rt3_over_max_dense"] == b["ratios"]["rt3_over_max_dense"]
assert claims["battery_life"]["met"] == (b["bases"]["processor"]["rt3_over_max_dense"] >= 4 and [p for p in b["policies"] if p["id"] == "rt3"][0]["miss_rate"] == 0)
assert claims["switch_time"]["met"] == (sw["switch_latency_us"]["p99"] / 1e3 <= 45)
worst = max((s["stages"]["spam"]["test"]["metrics"]["accuracy"] - a) * 100 for a in rb["test_accuracy"].values())
assert abs(claims["distilbert_accuracy_loss"]["value"] - worst) < 1e-9, (claims, worst)
html = open(s["report"]).read()
assert html.count("<svg") >= 5, html.count("<svg")
for needle in ("Published RT3 claims", "Battery life", "Run-time switching", "Search of one set", "Assumptions",
               "Following slowdowns"):
    assert needle in html, needle
for c in s["claims"]:
    assert c["claim"] in html.replace("&lt;", "<").replace("&gt;", ">"), c["claim"]
print("summary consistent")
PY
start=$(date +%s)
"$RT3" demo --budget tiny --out "$T/demo" --threads 1 --resume 2> "$T/err2.txt" > /dev/null
grep -q "done earlier, skipped" "$T/err2.txt" || { echo "FAIL: --resume did not skip finished stages"; cat "$T/err2.txt"; exit 1; }
python3 - "$T/demo/summary.json" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
want = ["lm", "spam", "lm_bp", "spam_bp", "lm_pat", "spam_pat", "latency", "search_rl", "search_random", "rt3_bundle", "battery", "adapt"]
assert s["resumed"] is True and s["skipped_stages"] == want and s["stage_seconds"] == {}, (s["resumed"], s["skipped_stages"])
PY
# Without --resume an existing demo is refused rather than overwritten.
if "$RT3" demo --budget tiny --out "$T/demo" 2> "$T/err3.txt"; then echo "FAIL: overwrote a finished demo"; exit 1; fi
grep -q "already holds a demo" "$T/err3.txt"
echo "demo test passed"
