#!/usr/bin/env python3
"""Comparison table of `make bench`: our benchmarks (ordo-one/benchmark histogramSamples exports) against the dense
PyTorch reference (reference/torch_reference.py JSON lines), printed as markdown and written as JSON.

Throughput is items per second of each measured iteration (items per iteration: the benchmark's tags).
Ratios over repeats: the median ratio is median(ours) / median(reference); the range is the widest any
pairing of one of our repeats with one of the reference's could give, min(ours)/max(ref) to
max(ours)/min(ref), so noise on this shared machine widens it rather than hiding in it.
"Dense product GFLOP/s" is the FLOPs of the one dense product each workload cannot avoid (the encoder
product, 2·d·h per encoded row, for train_step and encode; the 1000-class product for zeroshot) divided
by the whole iteration's time, and its share of the plain sgemm's GFLOP/s: how close the whole training
step or encode runs to its dense-product floor. "gemm" is the same product as "sgemm" by our deterministic GEMM
(no PyTorch counterpart); its GFLOP/s is shown beside the sgemm's (OpenBLAS).
"""
import argparse
import glob
import json
import os
import statistics
import sys


def summary(values):
    v = sorted(values)
    return {"min": v[0], "median": statistics.median(v), "max": v[-1], "values": v}


UNIT_SCALE = {"ns": 1e-9, "μs": 1e-6, "us": 1e-6, "ms": 1e-3, "s": 1.0, "#": 1.0, "K": 1e3, "M": 1e6, "G": 1e9}


def read_samples(path):
    """Values of one histogramSamples export (header 'Metric name (unit)', then one value a line) in base units."""
    with open(path) as f:
        lines = [line.strip() for line in f if line.strip()]
    unit = lines[0].rsplit("(", 1)[-1].rstrip(")")
    if unit not in UNIT_SCALE:
        sys.exit(f"compare: unknown unit '{unit}' in {path}")
    return [float(v) * UNIT_SCALE[unit] for v in lines[1:]]


def load_ours(folder):
    """name -> {seconds, peak_rss_mib} from the ordo-one/benchmark histogramSamples exports below `folder`
    (files Current_run.<target>.<benchmark>.<metric>.histogram.samples.tsv, one sample per measured iteration)."""
    out = {}
    for path in sorted(glob.glob(os.path.join(folder, "**", "*.wallClock.histogram.samples.tsv"), recursive=True)):
        base = os.path.basename(path)
        name = base.split(".")[2]
        rss_path = path.replace(".wallClock.", ".maxrss_bytes.")
        rss = read_samples(rss_path) if os.path.exists(rss_path) else []
        # Several rounds of the same benchmark pool their samples; peak memory is the largest seen.
        entry = out.setdefault(name, {"seconds": [], "peak_rss_mib": None})
        entry["seconds"] += read_samples(path)
        if rss:
            entry["peak_rss_mib"] = max(entry["peak_rss_mib"] or 0, max(rss) / 2**20)
    return out


# Items and encoder-product FLOPs per iteration; must match Benchmarks/VLSAEBenchmarks and the reference.
D, H = 512, 4096
TAGS = {
    "train_step": {"items": 512, "unit": "pairs/s", "flops": 512 * 2 * 2 * D * H},
    "encode": {"items": 10_000, "unit": "embeddings/s", "flops": 10_000 * 2 * D * H},
    "zeroshot": {"items": 100_000, "unit": "images/s", "flops": 100_000 * 2 * D * 1000},
    "load_f16": {"items": 1_000_000, "unit": "rows/s", "flops": 0},
    "sgemm": {"items": 20, "unit": "products/s", "flops": 20 * 2 * 512 * D * H},
    "gemm": {"items": 20, "unit": "products/s", "flops": 20 * 2 * 512 * D * H},
}


def load_torch(path):
    out = {}
    if not os.path.exists(path):
        return out
    with open(path) as f:
        for line in f:
            line = line.strip()
            if line.startswith("{"):
                r = json.loads(line)
                entry = out.setdefault(r["name"], {"seconds": [], "peak_rss_mib": 0, "torch": r.get("torch")})
                entry["seconds"] += r["seconds"]
                entry["peak_rss_mib"] = max(entry["peak_rss_mib"], r["peak_rss_mib"])
    return out


def fmt_rate(x):
    if x >= 100_000:
        return f"{x / 1000:,.0f}k"
    if x >= 100:
        return f"{x:,.0f}"
    return f"{x:.3g}"


def fmt_range(s, f=fmt_rate):
    return f"{f(s['median'])} ({f(s['min'])}–{f(s['max'])})"


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--ours", required=True, help="folder with the histogramSamples exports")
    p.add_argument("--torch", required=True, help="JSON lines of the reference")
    p.add_argument("--json", required=True, help="where to write the table as JSON")
    p.add_argument("--threads", type=int, default=2)
    args = p.parse_args()
    ours, ref = load_ours(args.ours), load_torch(args.torch)
    if not ours:
        sys.exit(f"compare: no benchmark results under {args.ours}")

    sg = ours.get("sgemm")
    sgemm_gflops = None
    if sg:
        sgemm_gflops = summary([TAGS["sgemm"]["flops"] / t / 1e9 for t in sg["seconds"]])

    gm = ours.get("gemm")
    gemm_gflops = summary([TAGS["gemm"]["flops"] / t / 1e9 for t in gm["seconds"]]) if gm else None

    rows, doc = [], {"threads": args.threads, "torch": next((r["torch"] for r in ref.values() if r.get("torch")), None),
                     "sgemm_gflops": sgemm_gflops, "gemm_gflops": gemm_gflops, "benchmarks": {}}
    for name in ["train_step", "encode", "zeroshot", "load_f16", "sgemm", "gemm"]:
        if name not in ours:
            continue
        tag = TAGS[name]
        o = ours[name]
        o_tp = summary([tag["items"] / t for t in o["seconds"]])
        entry = {"unit": tag["unit"], "ours": {"throughput": o_tp, "seconds": o["seconds"], "peak_rss_mib": o["peak_rss_mib"]}}
        r = ref.get(name)
        if r:
            r_tp = summary([tag["items"] / t for t in r["seconds"]])
            entry["torch"] = {"throughput": r_tp, "seconds": r["seconds"], "peak_rss_mib": r["peak_rss_mib"]}
            entry["ratio"] = {"min": o_tp["min"] / r_tp["max"], "median": o_tp["median"] / r_tp["median"],
                              "max": o_tp["max"] / r_tp["min"]}
        if tag["flops"] and sgemm_gflops and name not in ("sgemm", "gemm"):
            eff = tag["flops"] / 1e9 * o_tp["median"] / tag["items"]
            entry["encoder_gflops"] = eff
            entry["encoder_efficiency"] = eff / sgemm_gflops["median"]
            if r:
                entry["torch_encoder_gflops"] = tag["flops"] / 1e9 * entry["torch"]["throughput"]["median"] / tag["items"]
        doc["benchmarks"][name] = entry

        ratio = entry.get("ratio")
        ratio_s = f"**{ratio['median']:.1f}×** ({ratio['min']:.1f}–{ratio['max']:.1f})" if ratio else "—"
        mem_o = f"{o['peak_rss_mib']:,.0f}" if o["peak_rss_mib"] else "—"
        mem_r = f"{r['peak_rss_mib']:,.0f}" if r else "—"
        eff_s = "—"
        if "encoder_efficiency" in entry:
            eff_s = f"{entry['encoder_gflops']:.0f} GFLOP/s = {100 * entry['encoder_efficiency']:.0f} %"
        elif name == "sgemm":
            eff_s = f"{sgemm_gflops['median']:.0f} GFLOP/s (plain, OpenBLAS)"
        elif name == "gemm":
            eff_s = f"{gemm_gflops['median']:.0f} GFLOP/s ({gemm_gflops['min']:.0f}–{gemm_gflops['max']:.0f}), deterministic"
            if sgemm_gflops:
                entry["share_of_sgemm"] = gemm_gflops["median"] / sgemm_gflops["median"]
                eff_s += f" = {100 * entry['share_of_sgemm']:.0f} % of OpenBLAS"
        rows.append([name, tag["unit"], fmt_range(o_tp), fmt_range(r_tp) if r else "—", ratio_s, mem_o, mem_r, eff_s])

    head = ["benchmark", "unit", "ours: median (min–max)", "PyTorch: median (min–max)", "ratio",
            "peak RSS ours (MiB)", "peak RSS PyTorch (MiB)", "dense product GFLOP/s (share of plain sgemm)"]
    lines = ["| " + " | ".join(head) + " |", "|" + "|".join("---" for _ in head) + "|"]
    lines += ["| " + " | ".join(r) + " |" for r in rows]
    table = "\n".join(lines)
    print(table)
    reps = len(next(iter(ours.values()))["seconds"])
    print(f"\n{reps} measured repeats of each side (pooled over rounds, each after one warm-up), {args.threads} threads"
          + (f", torch {doc['torch']}" if doc["torch"] else "") + ". Ratio: median(ours) / median(PyTorch), "
          "range min(ours)/max(PyTorch) to max(ours)/min(PyTorch). Peak RSS: getrusage ru_maxrss of each "
          "benchmark's own process.")
    doc["markdown"] = table
    os.makedirs(os.path.dirname(os.path.abspath(args.json)), exist_ok=True)
    with open(args.json, "w") as f:
        json.dump(doc, f, indent=2)
    print(f"written {args.json}")


if __name__ == "__main__":
    main()
