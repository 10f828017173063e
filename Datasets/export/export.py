#!/usr/bin/env python3
"""Embeds a zero-shot classification dataset with an open_clip model and writes a vlsae manifest.

    .venv-export/bin/python Datasets/export/export.py --model ViT-B-32 --pretrained laion2b_s34b_b79k \
        --dataset cifar10 --split test --out embeddings/ [--batch-size 256] [--device cuda]

--dataset is a CLIP_benchmark dataset name (downloaded into --dataset-root by CLIP_benchmark, with its class
names and templates) or imagefolder:DIR (one sub-folder per class; the sorted folder names are the classes;
CLIP_benchmark's default templates, those of imagenet1k, unless --templates names a file with one per line).

OUT/<name>.json is a manifest in the format of the README's "Pointing the same commands at real
embeddings": image embeddings (N x d, float32, the raw encode_image output) as an ordered list of .npy
shards of --chunk images each, labels (int64) in shards beside them, text embeddings C x T x d (raw
encode_text output per class and template), class names, templates, and a `provenance` object.

Writes are chunked and resumable: each shard is written to a temporary name and renamed, and
OUT/<name>.state.json records the settings; a rerun with the same settings continues after the last
complete shard, a rerun with other settings refuses to mix them. Unreadable images in an image folder
are skipped, counted (provenance n_skipped) and listed on stderr; in a CLIP_benchmark dataset they are
an error (its loader raises).
"""

import argparse
import hashlib
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torchvision_without_ops  # noqa: E402,F401  (before torchvision/open_clip; see its docstring)

import numpy as np  # noqa: E402
import torch  # noqa: E402

EXPORTER = "Datasets/export/export.py"
IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png", ".bmp", ".gif", ".webp", ".tif", ".tiff", ".ppm")


def fail(message):
    print(f"export.py: error: {message}", file=sys.stderr)
    sys.exit(1)


def list_sha256(items):
    """vlsae's Catalog.listSHA256: SHA-256 of each string's UTF-8 bytes followed by a newline."""
    h = hashlib.sha256()
    for item in items:
        h.update(item.encode("utf-8") + b"\n")
    return h.hexdigest()


def read_lines(path):
    """One entry per line, stripped, as CLIP_benchmark reads classnames.txt / templates files."""
    try:
        with open(path, encoding="utf-8") as f:
            lines = [line.strip() for line in f.read().splitlines()]
    except OSError as e:
        fail(f"{path}: {e.strerror}")
    if not lines or any(not line for line in lines):
        fail(f"{path}: needs one non-empty entry per line")
    return lines


def default_templates():
    """CLIP_benchmark's templates for a dataset it does not know: those of imagenet1k (builder.py)."""
    import clip_benchmark.datasets.builder as builder

    path = os.path.join(os.path.dirname(builder.__file__), "en_zeroshot_classification_templates.json")
    with open(path) as f:
        return json.load(f)["imagenet1k"]


class ImageFolder(torch.utils.data.Dataset):
    """One sub-folder per class (sorted names); images in each sorted by file name."""

    def __init__(self, root, transform):
        if not os.path.isdir(root):
            fail(f"imagefolder:{root}: no such folder")
        self.classes = sorted(d for d in os.listdir(root) if os.path.isdir(os.path.join(root, d)))
        if len(self.classes) < 2:
            fail(f"imagefolder:{root}: needs at least 2 class sub-folders, found {len(self.classes)}")
        self.samples = []
        for label, name in enumerate(self.classes):
            folder = os.path.join(root, name)
            for file in sorted(os.listdir(folder)):
                if file.lower().endswith(IMAGE_EXTENSIONS):
                    self.samples.append((os.path.join(folder, file), label))
        if not self.samples:
            fail(f"imagefolder:{root}: no images ({', '.join(IMAGE_EXTENSIONS)})")
        self.transform = transform

    def __len__(self):
        return len(self.samples)

    def __getitem__(self, i):
        from PIL import Image

        path, label = self.samples[i]
        try:
            with Image.open(path) as image:
                return self.transform(image.convert("RGB")), label
        except Exception as e:  # unreadable or corrupt: skipped and counted, never silently
            print(f"export.py: skipping unreadable image {path}: {e}", file=sys.stderr)
            return None, label


def collate(batch):
    kept = [(x, y) for x, y in batch if x is not None]
    skipped = len(batch) - len(kept)
    if not kept:
        return None, None, skipped
    return torch.stack([x for x, _ in kept]), torch.tensor([int(y) for _, y in kept]), skipped


def build(args, transform):
    if args.dataset.startswith("imagefolder:"):
        folder = args.dataset[len("imagefolder:"):]
        return ImageFolder(folder, transform), None
    from clip_benchmark.datasets.builder import build_dataset

    try:
        ds = build_dataset(
            args.dataset, root=args.dataset_root, transform=transform, split=args.split,
            download=True, task="zeroshot_classification")
    except Exception as e:
        fail(f"cannot build CLIP_benchmark dataset {args.dataset!r} (split {args.split}): {e}")
    return ds, getattr(ds, "templates", None)


def save_npy(path, array):
    """Atomic: written under a temporary name, then renamed."""
    tmp = path + ".partial"
    with open(tmp, "wb") as f:
        np.save(f, array)
        f.flush()
        os.fsync(f.fileno())
    os.replace(tmp, path)


def write_json(path, value):
    tmp = path + ".partial"
    with open(tmp, "w") as f:
        json.dump(value, f, indent=2, sort_keys=True)
        f.write("\n")
    os.replace(tmp, path)


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--model", required=True, help="open_clip architecture, e.g. ViT-B-32")
    p.add_argument("--pretrained", required=True,
                   help="open_clip pretrained tag (e.g. openai, laion2b_s34b_b79k) or none (random weights, seed 0)")
    p.add_argument("--dataset", required=True, help="CLIP_benchmark dataset name, or imagefolder:DIR")
    p.add_argument("--split", default="test", help="dataset split (CLIP_benchmark datasets; default test)")
    p.add_argument("--out", required=True, help="output folder")
    p.add_argument("--name", help="manifest and dataset name (default: the dataset name or folder name)")
    p.add_argument("--batch-size", type=int, default=64)
    p.add_argument("--chunk", type=int, default=10000, help="images per shard, the unit of resumption")
    p.add_argument("--device", default="cpu", choices=["cpu", "cuda"])
    p.add_argument("--templates", help="text file of templates, one per line, each with {c}")
    p.add_argument("--dataset-root", default="root", help="where CLIP_benchmark datasets are downloaded")
    p.add_argument("--workers", type=int, default=0, help="DataLoader worker processes")
    args = p.parse_args()

    if args.batch_size < 1 or args.chunk < 1:
        fail("--batch-size and --chunk must be at least 1")
    if args.device == "cuda" and not torch.cuda.is_available():
        fail("--device cuda: no CUDA device (or a CPU build of torch)")
    import open_clip
    from importlib.metadata import version
    from tqdm import tqdm

    pretrained = None if args.pretrained.lower() == "none" else args.pretrained
    torch.manual_seed(0)  # fixes the random weights of --pretrained none
    try:
        model, _, transform = open_clip.create_model_and_transforms(
            args.model, pretrained=pretrained, device=args.device)
    except Exception as e:
        fail(f"cannot create open_clip model {args.model} with pretrained {args.pretrained}: {e}")
    model.eval()
    tokenizer = open_clip.get_tokenizer(args.model)

    dataset, dataset_templates = build(args, transform)
    classnames = list(dataset.classes)
    if args.templates:
        templates = read_lines(args.templates)
    else:
        templates = list(dataset_templates) if dataset_templates else default_templates()
    if isinstance(templates, dict) or any(t.count("{c}") != 1 for t in templates):
        fail("every template needs exactly one {c} (class-specific prompt dictionaries are not supported)")

    if args.name:
        name = args.name
    elif args.dataset.startswith("imagefolder:"):
        name = os.path.basename(os.path.normpath(args.dataset[len("imagefolder:"):]))
    else:
        name = args.dataset.replace("/", "_")
    os.makedirs(args.out, exist_ok=True)
    shard_folder = os.path.join(args.out, f"{name}_shards")
    os.makedirs(shard_folder, exist_ok=True)

    settings = {
        "model": args.model, "pretrained": args.pretrained, "dataset": args.dataset,
        "split": None if args.dataset.startswith("imagefolder:") else args.split,
        "chunk": args.chunk, "n_items": len(dataset),
        "classnames_sha256": list_sha256(classnames), "templates_sha256": list_sha256(templates),
    }
    state_path = os.path.join(args.out, f"{name}.state.json")
    state = {"settings": settings, "shards": []}
    if os.path.exists(state_path):
        with open(state_path) as f:
            previous = json.load(f)
        if previous.get("settings") != settings:
            fail(f"{state_path} records other settings; remove {args.out} or choose another --out")
        state = previous

    n = len(dataset)
    chunks = [(start, min(start + args.chunk, n)) for start in range(0, n, args.chunk)]
    with torch.no_grad():
        for c, (start, end) in enumerate(chunks):
            if c < len(state["shards"]):
                continue  # written by an earlier run with the same settings
            loader = torch.utils.data.DataLoader(
                torch.utils.data.Subset(dataset, range(start, end)), batch_size=args.batch_size,
                shuffle=False, num_workers=args.workers, collate_fn=collate)
            features, labels, skipped = [], [], 0
            for images, targets, lost in tqdm(loader, desc=f"{name} images {start}-{end} of {n}", file=sys.stderr):
                skipped += lost
                if images is None:
                    continue
                features.append(model.encode_image(images.to(args.device)).float().cpu().numpy())
                labels.append(targets.numpy().astype(np.int64))
            if not features:
                fail(f"no readable image in items {start}-{end}")
            save_npy(os.path.join(shard_folder, f"img_emb_{c}.npy"), np.concatenate(features).astype(np.float32))
            save_npy(os.path.join(shard_folder, f"labels_{c}.npy"), np.concatenate(labels))
            state["shards"].append({"index": c, "images": int(sum(len(l) for l in labels)), "skipped": skipped})
            write_json(state_path, state)

        text = []
        for classname in tqdm(classnames, desc=f"{name} class texts", file=sys.stderr):
            tokens = tokenizer([t.replace("{c}", classname) for t in templates]).to(args.device)
            text.append(model.encode_text(tokens).float().cpu().numpy())
    save_npy(os.path.join(args.out, f"{name}_text.npy"), np.stack(text).astype(np.float32))

    relative = os.path.basename(shard_folder)
    n_images = sum(s["images"] for s in state["shards"])
    manifest = {
        "name": name,
        "model": args.model,
        "pretrained": args.pretrained,
        "image_embeddings": [f"{relative}/img_emb_{c}.npy" for c in range(len(chunks))],
        "labels": [f"{relative}/labels_{c}.npy" for c in range(len(chunks))],
        "classnames": classnames,
        "templates": templates,
        "text_embeddings": f"{name}_text.npy",
        "provenance": {
            "exporter": EXPORTER,
            "dataset": args.dataset,
            "split": settings["split"],
            "model": args.model,
            "pretrained": args.pretrained,
            "open_clip_version": open_clip.__version__,
            "torch_version": torch.__version__,
            "clip_benchmark_version": version("clip_benchmark"),
            "device": args.device,
            "n_images": n_images,
            "n_skipped": sum(s["skipped"] for s in state["shards"]),
            "classnames_sha256": settings["classnames_sha256"],
            "templates_sha256": settings["templates_sha256"],
        },
    }
    if manifest["provenance"]["split"] is None:
        del manifest["provenance"]["split"]
    write_json(os.path.join(args.out, f"{name}.json"), manifest)
    print(f"wrote {os.path.join(args.out, name + '.json')}: {n_images} images, {len(classnames)} classes, "
          f"{len(templates)} templates, {manifest['provenance']['n_skipped']} skipped", file=sys.stderr)


if __name__ == "__main__":
    main()
