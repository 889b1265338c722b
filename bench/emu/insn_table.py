#!/usr/bin/env python3
"""Tables for bench/emu/insn_count.sh: the x86 latency table's per-variant ratios next to the
instructions per inference counted under qemu on each aarch64 CPU (docs/emulation.md).
  insn_table.py OUT_DIR N CPU...      (reads OUT_DIR/latency.json and OUT_DIR/count.CPU.VARIANT.R.txt)
The latency table's device model is latency(f) = compute_s x cycle_scale x f_ref / f + memory_s with
ONE cycle_scale for all variants, i.e. it assumes a variant's compute costs the same share of the
base's compute on the device as on the host. `implied` = (device instruction ratio) / (host compute
ratio): 1 where that holds; above 1 the variant saves less on the device than the table assumes."""
import json
import sys


def read_counts(path):
    groups = {}
    with open(path) as f:
        for line in f:
            name, total, vec, mem, scalar = line.split()
            groups[name] = [int(total), int(vec), int(mem), int(scalar)]
    return groups


def per_inference(out, cpu, variant, n):
    one = read_counts(f"{out}/count.{cpu}.{variant}.1.txt")
    more = read_counts(f"{out}/count.{cpu}.{variant}.{1 + n}.txt")
    return {g: [(b - a) / n for a, b in zip(one[g], more[g])] for g in one}


def host_model(t, v):
    """compute_s and memory_s of variant v as the device models use them: LatencyTable::measured_model
    (dvfs/latency_table.cpp), i.e. the predicted split rescaled so that it adds up to the measured
    latency; and the isolated Linears' time alone."""
    iso, traffic_bytes = 0.0, 0.0
    for layer in t["layers"]:
        p = v["pruning_numbers"].get(layer["name"], 0)
        iso += layer["pattern_s"][str(p)] if p else layer["dense_s"]
        traffic_bytes += layer["pattern_bytes"][str(p)] if p else layer["dense_bytes"]
    compute = t.get("compute_time_scale", 1.0) * (t["remainder_s"] + iso)
    memory = traffic_bytes / (t["weight_traffic_gbs"] * 1e9) if t["weight_traffic_gbs"] > 0 else 0.0
    k = v["measured_s"] / (compute + memory)
    return compute * k, memory * k, iso


def main():
    out, n, cpus = sys.argv[1], int(sys.argv[2]), sys.argv[3:]
    t = json.load(open(f"{out}/latency.json"))
    variants = [v["name"] for v in t["variants"]]
    host = {v["name"]: (v["measured_s"],) + host_model(t, v) for v in t["variants"]}
    b = host["base"]
    print(f"x86 host ({t['host']['khz'] / 1e3:.0f} MHz, 1 thread; remainder {t['remainder_s'] * 1e3:.3f} ms, "
          f"compute_time_scale {t.get('compute_time_scale', 1.0):.3f}, weight traffic {t['weight_traffic_gbs']:.1f} GB/s)\n")
    print("| variant | measured ms | / base | compute ms | memory ms | compute / base | Linears alone / base |")
    print("|---|---|---|---|---|---|---|")
    for v in variants:
        m, c, mem, iso = host[v]
        print(f"| {v} | {m * 1e3:.3f} | {m / b[0]:.3f} | {c * 1e3:.3f} | {mem * 1e3:.3f} | {c / b[1]:.3f} | {iso / b[3]:.3f} |")

    counts = {cpu: {v: per_inference(out, cpu, v, n) for v in variants} for cpu in cpus}
    for cpu in cpus:
        base = counts[cpu]["base"]
        base_total = sum(g[0] for g in base.values())
        base_lin = base["dense"][0] + base["pattern"][0]
        print(f"\n{cpu}: instructions per inference (millions)\n")
        print("| variant | total | / base | dense + pattern kernels | / base | ops | other | vector % | memory % |")
        print("|---|---|---|---|---|---|---|---|---|")
        for v in variants:
            c = counts[cpu][v]
            total = sum(g[0] for g in c.values())
            lin = c["dense"][0] + c["pattern"][0]
            classified = sum(g[1] + g[2] + g[3] for g in c.values()) > 0  # the plugin classifies aarch64 only
            vec = f"{sum(g[1] for g in c.values()) / total * 100:.0f}" if classified else "-"
            mem = f"{sum(g[2] for g in c.values()) / total * 100:.0f}" if classified else "-"
            print(f"| {v} | {total / 1e6:.2f} | {total / base_total:.3f} | {lin / 1e6:.2f} | {lin / base_lin:.3f} | "
                  f"{c['ops'][0] / 1e6:.2f} | {c['other'][0] / 1e6:.2f} | {vec} | {mem} |")

    print("\nprunable Linears only, variant / base: x86 time of the Linears alone (the table's per-layer medians, "
          "the robust part of rt3 profile), instructions in the dense + pattern kernels per CPU\n")
    print("| variant | x86 Linears alone | " + " | ".join(f"{c} kernels" for c in cpus) + " |")
    print("|---|---|" + "---|" * len(cpus))
    for v in variants:
        cells = []
        for cpu in cpus:
            kern = lambda x: x["dense"][0] + x["pattern"][0]
            cells.append(f"{kern(counts[cpu][v]) / kern(counts[cpu]['base']):.3f}")
        print(f"| {v} | {host[v][3] / b[3]:.3f} | " + " | ".join(cells) + " |")

    print("\nwhole model, variant / base: x86 measured, x86 compute part (what cycle_scale scales), instruction ratio per CPU "
          "and implied = instruction ratio / x86 compute ratio\n")
    print("| variant | x86 measured | x86 compute | " + " | ".join(f"{c} insns | implied" for c in cpus) + " |")
    print("|---|---|---|" + "---|---|" * len(cpus))
    for v in variants:
        hc = host[v][1] / b[1]
        cells = []
        for cpu in cpus:
            ratio = sum(g[0] for g in counts[cpu][v].values()) / sum(g[0] for g in counts[cpu]["base"].values())
            cells.append(f"{ratio:.3f} | {ratio / hc:.2f}")
        print(f"| {v} | {host[v][0] / b[0]:.3f} | {hc:.3f} | " + " | ".join(cells) + " |")
    neon = sum(g[0] for g in counts[cpus[0]]["base"].values())
    print("\nbase instructions relative to " + cpus[0] + ": " +
          ", ".join(f"{c} {sum(g[0] for g in counts[c]['base'].values()) / neon:.3f}" for c in cpus))


if __name__ == "__main__":
    main()
