#!/usr/bin/env python3
"""Independent reference for the planted-concepts positive control (representation=planted).

The arrays beside this script are one zero-shot set of a small synthetic suite, exactly as
`vlsae synth` writes it (PlantedConceptsTests regenerates the suite and checks every SHA-256):

    vlsae synth --out suite --seed 17 --dim 32 --concepts 64 --templates 3 --train-pairs 2 \
        --eval-sets planted8:8:300
    cp suite/planted8/* Tests/VLSAEEvalTests/Fixtures/planted/

This script reads them with numpy only and computes, in float64, what the planted row must give:
  - the CLIP_benchmark baseline (templates normalised, averaged, normalised; cosine logits);
  - the concept similarity cos(code(image), code(class)): the image code is its planted mix
    (image_concepts.npy / image_concept_weights.npy, -1 = padding), the class code weight 1 on each
    of its defining concepts (class_concepts.npy);
  - the true-class rank (classes strictly above the true class) of cosine + alpha * concept for every
    alpha of GRID and of the concept similarity alone;
  - the smallest margin between the true class and any other class, so that the float32 program
    must agree on every rank (the test asserts ranks exactly and similarities to 1e-6).
Writes expected.json beside it.
"""
import json
import os

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
GRID = [0.0, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 1.0]


def load(name):
    return np.load(os.path.join(HERE, name))


def unit(x):
    n = np.linalg.norm(x, axis=-1, keepdims=True)
    return np.where(n > 0, x / np.where(n > 0, n, 1), 0)


def ranks(scores, labels):
    true = scores[np.arange(len(labels)), labels][:, None]
    return (scores > true).sum(axis=1)


def margin(scores, labels):
    true = scores[np.arange(len(labels)), labels][:, None]
    d = np.abs(scores - true)
    d[np.arange(len(labels)), labels] = np.inf
    return float(d.min())


def main():
    images = load("image_embeddings.npy").astype(np.float64)
    labels = load("labels.npy").astype(np.int64)
    texts = load("text_embeddings.npy").astype(np.float64)  # C x T x d
    ids = load("image_concepts.npy")
    weights = load("image_concept_weights.npy").astype(np.float64)
    class_ids = load("class_concepts.npy")

    n, c = len(labels), texts.shape[0]
    k = int(max(ids.max(), class_ids.max())) + 1
    image_codes = np.zeros((n, k))
    for i in range(n):
        for cid, w in zip(ids[i], weights[i]):
            if cid >= 0:
                image_codes[i, cid] += w
    class_codes = np.zeros((c, k))
    for j in range(c):
        class_codes[j, class_ids[j]] = 1.0

    classifier = unit(unit(texts).mean(axis=1))
    cosine = unit(images) @ classifier.T
    concept = unit(image_codes) @ unit(class_codes).T

    per_alpha = [ranks(cosine + a * concept, labels) for a in GRID]
    out = {
        "grid": GRID,
        "baseline_ranks": ranks(cosine, labels).tolist(),
        "concept_only_ranks": ranks(concept, labels).tolist(),
        "ranks": [r.tolist() for r in per_alpha],
        "acc1_counts": [int((r == 0).sum()) for r in per_alpha],
        "concept_similarity_first_rows": concept[:5].tolist(),
        "min_margin": min(
            [margin(cosine, labels), margin(concept, labels)] + [margin(cosine + a * concept, labels) for a in GRID]
        ),
    }
    # Every image holds its class's defining concepts: the planted code is the ground truth.
    for i in range(n):
        assert set(class_ids[labels[i]]) <= set(ids[i][ids[i] >= 0]), i
    with open(os.path.join(HERE, "expected.json"), "w") as f:
        json.dump(out, f, indent=1, sort_keys=True)
        f.write("\n")
    print("baseline", (out["baseline_ranks"].count(0)), "concept-only", out["concept_only_ranks"].count(0),
          "per alpha", out["acc1_counts"], "min margin", out["min_margin"])


if __name__ == "__main__":
    main()
