#!/usr/bin/env python3
"""The independent reference of ExporterTests: embeds an image folder with open_clip called directly (one image
at a time, texts with CLIP_benchmark's `template.format(c=classname)`) and compares the arrays the exporter
wrote. Prints one JSON line with the largest differences; exits 1 when a check fails.

    check_export.py MANIFEST IMAGE_FOLDER TEMPLATES_FILE EXPORT_DIR(Datasets/export)

Tolerance: |exported - direct| <= 1e-4 * max|direct| for every element. Both run the same float32 CPU
model; only the batching differs, which changes the summation order inside the matrix products
(differences of order 1e-6 relative are expected)."""

import json
import os
import sys

manifest_path, folder, templates_path, export_dir = sys.argv[1:5]
sys.path.insert(0, export_dir)
import torchvision_without_ops  # noqa: E402,F401

import numpy as np  # noqa: E402
import open_clip  # noqa: E402
import torch  # noqa: E402
from PIL import Image  # noqa: E402

TOLERANCE = 1e-4

torch.manual_seed(0)
model, _, preprocess = open_clip.create_model_and_transforms("ViT-B-32", pretrained=None)
model.eval()
tokenizer = open_clip.get_tokenizer("ViT-B-32")

classes = sorted(d for d in os.listdir(folder) if os.path.isdir(os.path.join(folder, d)))
templates = [line.strip() for line in open(templates_path).read().splitlines()]
images, labels, unreadable = [], [], 0
with torch.no_grad():
    for label, name in enumerate(classes):
        for file in sorted(os.listdir(os.path.join(folder, name))):
            try:
                image = Image.open(os.path.join(folder, name, file)).convert("RGB")
            except Exception:
                unreadable += 1
                continue
            images.append(model.encode_image(preprocess(image).unsqueeze(0))[0].numpy())
            labels.append(label)
    text = np.stack([
        model.encode_text(tokenizer([t.format(c=c) for t in templates])).numpy() for c in classes])
images = np.stack(images)

manifest = json.load(open(manifest_path))
base = os.path.dirname(manifest_path)
exported_images = np.concatenate([np.load(os.path.join(base, p)) for p in manifest["image_embeddings"]])
exported_labels = np.concatenate([np.load(os.path.join(base, p)) for p in manifest["labels"]])
exported_text = np.load(os.path.join(base, manifest["text_embeddings"]))


def relative_error(a, b):
    return float(np.max(np.abs(a - b)) / np.max(np.abs(b)))


report = {
    "n_images": int(len(images)), "unreadable": unreadable,
    "image_shape_ok": exported_images.shape == images.shape, "text_shape_ok": exported_text.shape == text.shape,
    "labels_ok": exported_labels.tolist() == labels, "classnames_ok": manifest["classnames"] == classes,
    "templates_ok": manifest["templates"] == templates,
    "dtype_ok": exported_images.dtype == np.float32 and exported_text.dtype == np.float32,
}
report["image_error"] = relative_error(exported_images, images) if report["image_shape_ok"] else None
report["text_error"] = relative_error(exported_text, text) if report["text_shape_ok"] else None
print(json.dumps(report, sort_keys=True))
ok = all(v for k, v in report.items() if k.endswith("_ok")) and report["image_error"] <= TOLERANCE \
    and report["text_error"] <= TOLERANCE
sys.exit(0 if ok else 1)
