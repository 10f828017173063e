#!/usr/bin/env python3
"""Writes Sources/VLSAEData/Catalog/<name>.json: CLIP_benchmark's English class names and templates,
and the hash table of that folder's README.md.

The catalog is a record of what CLIP_benchmark 1.6.2 feeds its zero-shot classifier, so the
class names are taken where CLIP_benchmark takes them (see README.md):

- en_classnames.json / en_zeroshot_classification_templates.json, read byte-exact from the
  clip-benchmark 1.6.2 wheel (PyPI);
- for datasets where CLIP_benchmark keeps torchvision's `dataset.classes`, the dataset's own
  metadata file, transformed exactly as torchvision and CLIP_benchmark's builder.py do.
  Metadata that only ships inside the image archives (CIFAR, STL-10, FGVC-Aircraft) is
  transcribed below; the rest is read from the tensorflow-datasets 4.9.10 wheel, which
  ships copies of those metadata files.

The JSON files are SwiftPM resources of VLSAEData (`resources: [.copy("Catalog")]`): the
build copies them beside `vlsae`, which reads an entry when a manifest names it.

A list's SHA-256 is that of the UTF-8 bytes of each string followed by "\n" (hashlib here,
VLSAECore.SHA256 in Catalog.listSHA256; CatalogTests compares the README table with Swift).

Usage (both wheels fetched with `pip download --no-deps`):
    python3 scripts/make_catalog.py clip_benchmark-1.6.2-*.whl tensorflow_datasets-4.9.10-*.whl
    python3 scripts/make_catalog.py --table [--check]   # only refresh (or check) the README table
"""
import ast
import glob
import hashlib
import json
import os
import re
import sys
import zipfile

CB = "LAION-AI/CLIP_benchmark@374d11f51c5a17a1b925a14c206471e13c205a2b"
CB_CLASSNAMES = f"{CB}:clip_benchmark/datasets/en_classnames.json"
CB_TEMPLATES = f"{CB}:clip_benchmark/datasets/en_zeroshot_classification_templates.json"

# CIFAR-10 `batches.meta` label_names (torchvision CIFAR10.classes).
CIFAR10 = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]

# CIFAR-100 `meta` fine_label_names (torchvision CIFAR100.classes); underscores are kept
# because CLIP_benchmark does not replace them for CIFAR-100.
CIFAR100 = [
    "apple", "aquarium_fish", "baby", "bear", "beaver", "bed", "bee", "beetle", "bicycle", "bottle",
    "bowl", "boy", "bridge", "bus", "butterfly", "camel", "can", "castle", "caterpillar", "cattle",
    "chair", "chimpanzee", "clock", "cloud", "cockroach", "couch", "crab", "crocodile", "cup",
    "dinosaur", "dolphin", "elephant", "flatfish", "forest", "fox", "girl", "hamster", "house",
    "kangaroo", "keyboard", "lamp", "lawn_mower", "leopard", "lion", "lizard", "lobster", "man",
    "maple_tree", "motorcycle", "mountain", "mouse", "mushroom", "oak_tree", "orange", "orchid",
    "otter", "palm_tree", "pear", "pickup_truck", "pine_tree", "plain", "plate", "poppy",
    "porcupine", "possum", "rabbit", "raccoon", "ray", "road", "rocket", "rose", "sea", "seal",
    "shark", "shrew", "skunk", "skyscraper", "snail", "snake", "spider", "squirrel", "streetcar",
    "sunflower", "sweet_pepper", "table", "tank", "telephone", "television", "tiger", "tractor",
    "train", "trout", "tulip", "turtle", "wardrobe", "whale", "willow_tree", "wolf", "woman", "worm",
]

# STL-10 `class_names.txt` (torchvision STL10.classes).
STL10 = ["airplane", "bird", "car", "cat", "deer", "dog", "horse", "monkey", "ship", "truck"]

# FGVC-Aircraft 2013b `data/variants.txt` (torchvision FGVCAircraft, annotation_level="variant").
FGVC_AIRCRAFT = [
    "707-320", "727-200", "737-200", "737-300", "737-400", "737-500", "737-600", "737-700",
    "737-800", "737-900", "747-100", "747-200", "747-300", "747-400", "757-200", "757-300",
    "767-200", "767-300", "767-400", "777-200", "777-300", "A300B4", "A310", "A318", "A319",
    "A320", "A321", "A330-200", "A330-300", "A340-200", "A340-300", "A340-500", "A340-600",
    "A380", "ATR-42", "ATR-72", "An-12", "BAE 146-200", "BAE 146-300", "BAE-125",
    "Beechcraft 1900", "Boeing 717", "C-130", "C-47", "CRJ-200", "CRJ-700", "CRJ-900",
    "Cessna 172", "Cessna 208", "Cessna 525", "Cessna 560", "Challenger 600", "DC-10", "DC-3",
    "DC-6", "DC-8", "DC-9-30", "DH-82", "DHC-1", "DHC-6", "DHC-8-100", "DHC-8-300", "DR-400",
    "Dornier 328", "E-170", "E-190", "E-195", "EMB-120", "ERJ 135", "ERJ 145",
    "Embraer Legacy 600", "Eurofighter Typhoon", "F-16A/B", "F/A-18", "Falcon 2000",
    "Falcon 900", "Fokker 100", "Fokker 50", "Fokker 70", "Global Express", "Gulfstream IV",
    "Gulfstream V", "Hawk T1", "Il-76", "L-1011", "MD-11", "MD-80", "MD-87", "MD-90",
    "Metroliner", "Model B200", "PA-28", "SR-20", "Saab 2000", "Saab 340", "Spitfire", "Tornado",
    "Tu-134", "Tu-154", "Yak-42",
]

TFDS = "tensorflow-datasets 4.9.10 wheel:tensorflow_datasets/image_classification"

CATALOG = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "Sources", "VLSAEData", "Catalog")
README = os.path.join(CATALOG, "README.md")
TABLE_BEGIN = "<!-- BEGIN SHA256 TABLE (scripts/make_catalog.py) -->"
TABLE_END = "<!-- END SHA256 TABLE -->"


def main(cb_wheel, tfds_wheel, out_dir):
    with zipfile.ZipFile(cb_wheel) as z:
        classnames = json.loads(z.read("clip_benchmark/datasets/en_classnames.json"))
        templates = json.loads(z.read("clip_benchmark/datasets/en_zeroshot_classification_templates.json"))
    with zipfile.ZipFile(tfds_wheel) as z:
        def lines(name):
            return z.read(f"tensorflow_datasets/image_classification/{name}").decode().splitlines()
        cars_src = z.read("tensorflow_datasets/image_classification/cars196.py").decode()
        dtd = lines("dtd_key_attributes.txt")
        food = lines("food-101_classes.txt")
        sun = lines("sun397_labels.txt")
    # tfds transcribes cars_meta.mat's class_names, in label order, as the list _NAMES.
    cars = ast.literal_eval(re.search(r"^_NAMES = (\[.*?\n\])", cars_src, re.S | re.M).group(1))

    from_json = f"{CB_CLASSNAMES}"
    torchvision = {
        # torchvision CIFAR10/100, STL10, FGVCAircraft: the metadata file, unchanged.
        "cifar10": (CIFAR10, "torchvision CIFAR10.classes = CIFAR-10 batches.meta label_names"),
        "cifar100": (CIFAR100, "torchvision CIFAR100.classes = CIFAR-100 meta fine_label_names"),
        "stl10": (STL10, "torchvision STL10.classes = STL-10 class_names.txt"),
        "fgvc_aircraft": (FGVC_AIRCRAFT, "torchvision FGVCAircraft.classes = fgvc-aircraft-2013b data/variants.txt"),
        # StanfordCars: cars_meta.mat class_names, unchanged.
        "cars": (cars, f"torchvision StanfordCars.classes = cars_meta.mat class_names ({TFDS}/cars196.py _NAMES)"),
        # DTD: sorted(set(folder names)).
        "dtd": (sorted(set(dtd)), f"torchvision DTD.classes = sorted category names ({TFDS}/dtd_key_attributes.txt)"),
        # Food101: sorted(meta keys) by code point (so cheese_plate < cheesecake), then
        # builder.py replaces "_" by " ".
        "food101": ([c.replace("_", " ") for c in sorted(food)],
                    f"torchvision Food101.classes = sorted meta/classes.txt ({TFDS}/food-101_classes.txt), '_'->' ' as builder.py"),
        # SUN397: ClassName.txt lines with the "/a/" prefix cut (c[3:].strip()), then
        # builder.py replaces "_" and "/" by " ".
        "sun397": ([c[3:].strip().replace("_", " ").replace("/", " ") for c in sun],
                   f"torchvision SUN397.classes = ClassName.txt c[3:] ({TFDS}/sun397_labels.txt), '_' and '/'->' ' as builder.py"),
    }
    # builder.py sets ds.classes = default_classnames[name] for these; pets keeps
    # torchvision's OxfordIIITPet.classes, which en_classnames.json's "pets" equals
    # (title-cased breed names in label order).
    json_names = ["imagenet1k", "caltech101", "flowers", "mnist", "eurosat", "gtsrb", "pets"]

    entries = {}
    for name, (names, origin) in torchvision.items():
        entries[name] = (names, f"classnames: {origin}; templates: {CB_TEMPLATES}")
    for name in json_names:
        entries[name] = (classnames[name], f"classnames: {from_json}; templates: {CB_TEMPLATES}")

    os.makedirs(out_dir, exist_ok=True)
    for name in sorted(entries):
        names, source = entries[name]
        doc = {"name": name, "classnames": names, "templates": templates[name], "source": source}
        with open(os.path.join(out_dir, f"{name}.json"), "w", encoding="utf-8", newline="\n") as f:
            f.write(json.dumps(doc, indent=2, ensure_ascii=False) + "\n")
        print(f"{name}: {len(names)} classes, {len(templates[name])} templates")


def list_sha256(items):
    h = hashlib.sha256()
    for s in items:
        h.update(s.encode("utf-8") + b"\n")
    return h.hexdigest()


def readme_with_table():
    """README.md with its hash table recomputed from the JSON files (sorted by name)."""
    rows = [
        TABLE_BEGIN,
        "| name | classes | templates | classnames SHA-256 | templates SHA-256 |",
        "|---|---|---|---|---|",
    ]
    for path in sorted(glob.glob(os.path.join(CATALOG, "*.json"))):
        name = os.path.splitext(os.path.basename(path))[0]
        with open(path, encoding="utf-8") as f:
            doc = json.load(f)
        if doc.get("name") != name:
            raise SystemExit(f"{path}: field name {doc.get('name')!r} differs from the file name")
        for t in doc["templates"]:
            rest = t.replace("{c}", "")
            if "{c}" not in t or "{" in rest or "}" in rest:
                raise SystemExit(f"{path}: template {t!r} needs {{c}} and no other braces")
        rows.append(
            f"| {name} | {len(doc['classnames'])} | {len(doc['templates'])} | "
            f"`{list_sha256(doc['classnames'])}` | `{list_sha256(doc['templates'])}` |"
        )
    rows.append(TABLE_END)
    with open(README, encoding="utf-8") as f:
        text = f.read()
    start, end = text.find(TABLE_BEGIN), text.find(TABLE_END)
    if start < 0 or end < start:
        raise SystemExit(f"{README}: table markers not found")
    return text, text[:start] + "\n".join(rows) + text[end + len(TABLE_END):]


def write_table(check):
    old, new = readme_with_table()
    if old == new:
        return
    if check:
        sys.exit(f"stale: {os.path.relpath(README)} (run python3 scripts/make_catalog.py --table)")
    with open(README, "w", encoding="utf-8", newline="\n") as f:
        f.write(new)
    print(f"wrote {os.path.relpath(README)}")


if __name__ == "__main__":
    args = sys.argv[1:]
    if args and args[0] == "--table":
        write_table(check="--check" in args[1:])
        sys.exit(0)
    if len(args) != 2:
        sys.exit(__doc__)
    main(args[0], args[1], CATALOG)
    write_table(check=False)
