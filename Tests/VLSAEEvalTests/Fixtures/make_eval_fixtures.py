#!/usr/bin/env python3
"""Writes the zero-shot evaluation fixtures and their expected metrics.

Run from anywhere: python3 make_eval_fixtures.py  (numpy, scikit-learn). Output goes beside this
script, into eval7/ (C=7 classes, T=3 templates, N=60 images, d=16; class 6 has no images) and
eval3/ (C=3, T=2, N=30: acc5 is undefined). Expected values are computed here with numpy in
float64 and sklearn, independently of the Swift code:

  classifier = normalise(mean_t normalise(text[c, t]))      (CLIP_benchmark)
  logits     = 100 * normalise(image) @ classifier.T
  acc_k      = mean(label among the k largest logits), None when C < k
  mean_per_class_recall = sklearn.metrics.balanced_accuracy_score(labels, argmax)
  per_class_recall[c]   = recall of class c, None when c has no images
  list sha256 = sha256(b"".join(s.encode() + b"\n" for s in list))

The script refuses data whose logits have near-ties (gap < 1e-3), so float32 rounding in the
Swift code cannot change a rank.
"""
import hashlib
import json
import os

import numpy as np
from sklearn.metrics import balanced_accuracy_score

HERE = os.path.dirname(os.path.abspath(__file__))


def normalise(x):
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


def list_sha(items):
    return hashlib.sha256(b"".join(s.encode("utf-8") + b"\n" for s in items)).hexdigest()


def file_sha(path):
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def make(folder, seed, C, T, N, d, absent=None, noise=1.1):
    rng = np.random.default_rng(seed)
    out = os.path.join(HERE, folder)
    os.makedirs(out, exist_ok=True)
    centres = rng.standard_normal((C, d))
    text = centres[:, None, :] + 0.6 * rng.standard_normal((C, T, d))
    text *= rng.uniform(0.5, 3.0, size=(C, T, 1))  # unnormalised, different norms per template
    present = [c for c in range(C) if c != absent]
    # Unequal class sizes, every present class at least twice, so balanced accuracy != acc1.
    weights = rng.uniform(0.2, 1.0, size=len(present))
    labels = np.concatenate([np.repeat(present, 2),
                             rng.choice(present, size=N - 2 * len(present), p=weights / weights.sum())])
    labels = labels.astype(np.int64)
    rng.shuffle(labels)
    images = centres[labels] + noise * rng.standard_normal((N, d))
    images *= rng.uniform(0.2, 5.0, size=(N, 1))
    text = text.astype(np.float32)
    images = images.astype(np.float32)

    t64 = text.astype(np.float64)
    classifier = normalise(normalise(t64).mean(axis=1))
    logits = 100.0 * normalise(images.astype(np.float64)) @ classifier.T
    srt = np.sort(logits, axis=1)
    gaps = np.diff(srt, axis=1)
    assert gaps.min() > 1e-3, f"near-tie in logits ({gaps.min()}); change the seed"

    pred = logits.argmax(axis=1)
    order = np.argsort(-logits, axis=1)
    def acc(k):
        if C < k:
            return None
        return float(np.mean([labels[i] in order[i, :k] for i in range(N)]))
    per_class = []
    for c in range(C):
        m = labels == c
        per_class.append(None if m.sum() == 0 else float(np.mean(pred[m] == c)))
    bal = float(balanced_accuracy_score(labels, pred))
    assert abs(bal - np.mean([r for r in per_class if r is not None])) < 1e-12

    classnames = [f"class {c}" for c in range(C)]
    if C == 7:
        classnames[3] = "café"  # non-ASCII: the list hash is over UTF-8 bytes
    templates = [f"a photo of a {{c}} #{t}." for t in range(T)]

    np.save(os.path.join(out, "images.npy"), images)
    np.save(os.path.join(out, "labels.npy"), labels)
    np.save(os.path.join(out, "text.npy"), text)
    np.save(os.path.join(out, "classifier.npy"), classifier.astype(np.float32))
    base = {"name": folder, "model": "fixture-model", "pretrained": f"seed{seed}",
            "image_embeddings": "images.npy", "labels": "labels.npy",
            "classnames": classnames, "templates": templates}
    with open(os.path.join(out, "manifest.json"), "w") as f:
        json.dump({**base, "text_embeddings": "text.npy"}, f, indent=2, ensure_ascii=False)
    with open(os.path.join(out, "manifest_classifier.json"), "w") as f:
        json.dump({**base, "name": folder + "-classifier", "classifier": "classifier.npy"}, f, indent=2,
                  ensure_ascii=False)
    expected = {
        "acc1": acc(1), "acc5": acc(5), "mean_per_class_recall": bal, "per_class_recall": per_class,
        "n_images": N, "n_classes": C, "n_templates": T,
        "top1": [int(p) for p in pred],
        "classnames_sha256": list_sha(classnames), "templates_sha256": list_sha(templates),
        "sha256": {name: file_sha(os.path.join(out, name)) for name in
                   ["images.npy", "labels.npy", "text.npy", "classifier.npy", "manifest.json",
                    "manifest_classifier.json"]},
    }
    with open(os.path.join(out, "expected.json"), "w") as f:
        json.dump(expected, f, indent=2)
    print(folder, {k: expected[k] for k in ["acc1", "acc5", "mean_per_class_recall"]})


make("eval7", seed=11, C=7, T=3, N=60, d=16, absent=6, noise=2.2)
make("eval3", seed=3, C=3, T=2, N=30, d=16, noise=3.0)

# Labels 0..499 for the real-data check (coco500-clip: 500 captions as 500 classes).
np.save(os.path.join(HERE, "coco500_labels.npy"), np.arange(500, dtype=np.int64))
