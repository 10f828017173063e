#!/usr/bin/env python3
"""Writes the CLIP_benchmark fixtures of ClipBenchmarkTests with Python's json, exactly as CLIP_benchmark 1.6.2
writes its results (clip_benchmark/cli.py: `json.dump(dump, f)` of dataset, model, pretrained, task, metrics,
language; metrics/zeroshot_classification.py: acc5 = float("nan") below 5 classes), and the files
`vlsae export-cb` must write for result.json. Run from this folder: python3 make_cb_fixtures.py"""

import hashlib
import json
import math
import os


def cb_dump(path, dataset, model, pretrained, metrics, language="en", classnames=None, templates=None, extra=None):
    dump = {"dataset": dataset, "model": model, "pretrained": pretrained, "task": "zeroshot_classification",
            "metrics": metrics, "language": language}
    if classnames:
        dump["classnames"] = classnames
    if templates:
        dump["templates"] = templates
    if extra:
        dump.update(extra)
    with open(path, "w") as f:
        json.dump(dump, f)


def list_sha256(items):
    return hashlib.sha256("".join(s + "\n" for s in items).encode()).hexdigest()


# What CLIP_benchmark writes.
cb_dump("cifar10_laion2b_s34b_b79k_ViT-B-32_en_zeroshot_classification.json", "cifar10", "ViT-B-32",
        "laion2b_s34b_b79k", {"acc1": 0.9355, "acc5": 0.9981, "mean_per_class_recall": 0.9355000000000001})
cb_dump("pcam_openai_ViT-B-32_en_zeroshot_classification.json", "wds/vtab/pcam", "ViT-B-32", "openai",
        {"acc1": 0.62054443359375, "acc5": float("nan"), "mean_per_class_recall": 0.6204954441389612})
three = ["cat", "dog", "bird"]
templates = ["a photo of a {c}.", "a bad photo of the {c}."]
cb_dump("three_dumped.json", "three", "ViT-B-32", "openai",
        {"acc1": 0.5, "acc5": float("nan"), "mean_per_class_recall": 0.4444444444444444},
        classnames=three, templates=templates)
assert "NaN" in open("pcam_openai_ViT-B-32_en_zeroshot_classification.json").read()

# A vlsae result document (schema 2) and the CLIP_benchmark files export-cb must write for it, by json.dump.
rows = []


def row(dataset, metrics, method="cosine", variant="cosine", n_classes=10, alignment=None):
    r = {"dataset": dataset, "model": "ViT-B-32", "pretrained": "laion2b_s34b_b79k", "task": "zeroshot_classification",
         "language": "en", "metrics": metrics, "method": method, "variant": variant,
         "intervals": {"acc1": {"low": 0.1, "high": 0.9, "level": 0.95, "resamples": 1000, "seed": 0}},
         "n_images": 100, "n_classes": n_classes, "n_templates": 2, "template_level": True,
         "classnames_sha256": list_sha256(["c%d" % i for i in range(n_classes)]),
         "templates_sha256": list_sha256(templates)}
    if alignment:
        r["alignment"] = alignment
    rows.append(r)


row("cifar10", {"acc1": 0.93, "acc5": 0.99, "mean_per_class_recall": 0.9300000000000002})
row("pets/été", {"acc1": 0.125, "acc5": None, "mean_per_class_recall": 1e-05}, n_classes=3)
variant = "representation=hidden,text=average-first,k=8,alpha=fixed:0.5"
row("cifar10", {"acc1": 0.94, "acc5": 1.0, "mean_per_class_recall": 0.94}, method="vlsae-hidden", variant=variant,
    alignment={"score": "cosine+concept", "representation": "hidden", "text": "average-first",
               "similarity": "cosine", "k": 8, "trained_k": 8, "alpha": 0.5, "alpha_protocol": "fixed",
               "oracle": False})
doc = {"schema_version": 2, "tool": {"name": "vlsae", "version": "0.1.0", "git_commit": "unknown"},
       "seeds": {"bootstrap": 0}, "inputs": [], "results": rows,
       "provenance": {"command": ["vlsae", "eval"], "numerics": "deterministic", "kernel_path": "portable",
                      "threads": 1}}
with open("result.json", "w") as f:
    json.dump(doc, f, indent=2, sort_keys=True)
    f.write("\n")

os.makedirs("expected_export", exist_ok=True)
names = ["cifar10_laion2b_s34b_b79k_ViT-B-32_en_zeroshot_classification.json",
         "pets_été_laion2b_s34b_b79k_ViT-B-32_en_zeroshot_classification.json".replace("é", "-"),
         "cifar10_laion2b_s34b_b79k_ViT-B-32_en_zeroshot_classification__vlsae-hidden_"
         + "representation-hidden-text-average-first-k-8-alpha-fixed-0.5.json"]
for name, r in zip(names, rows):
    metrics = dict(r["metrics"])
    metrics["acc5"] = float("nan") if metrics["acc5"] is None else metrics["acc5"]
    cb_dump(os.path.join("expected_export", name), r["dataset"], r["model"], r["pretrained"], metrics,
            extra={"method": r["method"], "variant": r["variant"]})
assert math.isnan(json.load(open(os.path.join("expected_export", names[1])))["metrics"]["acc5"])
