#!/usr/bin/env python3
"""Writes the interop fixtures of InteropTests: one small zero-shot set in its plain form and in each form
other tools write (Fortran-order .npy, CLIP_benchmark's --save_clf d x C tensor, class-name and template
text files, clip-retrieval style float16 .npy shards), plus the CLIP_benchmark scores of the plain form
computed here with numpy (expected.json). Run from this folder: python3 make_interop_fixtures.py
(numpy, torch)."""

import json
import os

import numpy as np
import torch

rng = np.random.default_rng(15)
N, C, T, D = 60, 5, 3, 8
classnames = ["apple", "bicycle", "cloud", "dolphin", "eagle"]
templates = ["a photo of a {c}.", "a drawing of a {c}.", "itap of a {c}."]
centers = rng.normal(size=(C, D))
labels = rng.integers(0, C, size=N).astype(np.int64)
images = (centers[labels] + 1.2 * rng.normal(size=(N, D))).astype(np.float32)
text = (centers[:, None, :] + 0.5 * rng.normal(size=(C, T, D))).astype(np.float32)


def normalize(x):
    return x / np.linalg.norm(x, axis=-1, keepdims=True)


# CLIP_benchmark's classifier: per-template normalise, average, normalise (zero_shot_classifier).
classifier = normalize(normalize(text.astype(np.float64)).mean(axis=1)).astype(np.float32)


def scores(images, classifier):
    logits = normalize(images.astype(np.float64)) @ classifier.astype(np.float64).T
    order = np.argsort(-logits, axis=1, kind="stable")
    acc1 = float(np.mean(order[:, 0] == labels))
    acc5 = float(np.mean([labels[i] in order[i, :5] for i in range(N)]))
    recalls = [np.mean(order[labels == c, 0] == c) for c in range(C) if np.any(labels == c)]
    return {"acc1": acc1, "acc5": acc5, "mean_per_class_recall": float(np.mean(recalls))}


def manifest(name, **fields):
    base = {"name": "interop", "model": "ViT-B-32", "pretrained": "none",
            "image_embeddings": "images.npy", "labels": "labels.npy",
            "classnames": classnames, "templates": templates}
    base.update(fields)
    base = {k: v for k, v in base.items() if v is not None}
    with open(name, "w") as f:
        json.dump(base, f, indent=2, sort_keys=True)
        f.write("\n")


np.save("images.npy", images)
np.save("labels.npy", labels)
np.save("text.npy", text)
np.save("classifier.npy", classifier)
manifest("plain.json", text_embeddings="text.npy")
manifest("plain_classifier.json", classifier="classifier.npy")

# Fortran order: what np.save writes for a transposed array.
np.save("images_fortran.npy", np.asfortranarray(images))
np.save("text_fortran.npy", np.asfortranarray(text))
assert np.load("images_fortran.npy").flags.f_contiguous
manifest("fortran.json", image_embeddings="images_fortran.npy", text_embeddings="text_fortran.npy")

# CLIP_benchmark --save_clf: torch.save of the d x C tensor (zero_shot_classifier stacks along dim=1).
torch.save(torch.from_numpy(np.ascontiguousarray(classifier.T)), "save_clf.pt")
manifest("save_clf.json", classifier="save_clf.pt")
manifest("save_clf_declared.json", classifier="save_clf.pt", classifier_layout="dim-first")

# A square classifier (d == C) must say its layout.
square_images = rng.normal(size=(12, C)).astype(np.float32)
square_labels = (np.arange(12) % C).astype(np.int64)
square_clf = normalize(rng.normal(size=(C, C))).astype(np.float32)
np.save("square_images.npy", square_images)
np.save("square_labels.npy", square_labels)
torch.save(torch.from_numpy(np.ascontiguousarray(square_clf.T)), "square_clf.pt")
np.save("square_clf_rows.npy", square_clf)
manifest("square_undeclared.json", image_embeddings="square_images.npy", labels="square_labels.npy",
         classifier="square_clf.pt")
manifest("square_dim_first.json", image_embeddings="square_images.npy", labels="square_labels.npy",
         classifier="square_clf.pt", classifier_layout="dim-first")
manifest("square_class_first.json", image_embeddings="square_images.npy", labels="square_labels.npy",
         classifier="square_clf_rows.npy", classifier_layout="class-first")

# CLIP_benchmark's webdataset text files, one entry per line.
with open("classnames.txt", "w") as f:
    f.write("\n".join(classnames) + "\n")
with open("zeroshot_classification_templates.txt", "w") as f:
    f.write("\n".join(templates) + "\n")
manifest("text_files.json", text_embeddings="text.npy", classnames="classnames.txt",
         templates="zeroshot_classification_templates.txt")

# clip-retrieval: img_emb/img_emb_{i}.npy, float16; 12 shards so that numeric order (…, 9, 10, 11) differs
# from the string order (…, 1, 10, 11, 2, …).
images16 = images.astype(np.float16)
np.save("images16.npy", images16)
manifest("plain16.json", image_embeddings="images16.npy", text_embeddings="text.npy")
os.makedirs("img_emb", exist_ok=True)
bounds = np.linspace(0, N, 13).astype(int)
for i in range(12):
    np.save(f"img_emb/img_emb_{i}.npy", images16[bounds[i]:bounds[i + 1]])
manifest("shards_glob.json", image_embeddings="img_emb/img_emb_*.npy", text_embeddings="text.npy")
manifest("shards_list.json", image_embeddings=[f"img_emb/img_emb_{i}.npy" for i in range(12)],
         text_embeddings="text.npy")

expected = {"plain": scores(images, classifier), "plain16": scores(images16.astype(np.float32), classifier),
            "n_images": N}
with open("expected.json", "w") as f:
    json.dump(expected, f, indent=2, sort_keys=True)
    f.write("\n")
