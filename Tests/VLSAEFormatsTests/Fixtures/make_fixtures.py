#!/usr/bin/env python3
"""Writes the VLSAEFormats test fixtures with the reference writers (numpy, safetensors, torch,
Python's zipfile) and records what a correct reader must return in expected.json.

Expected values are computed here, independently of the Swift code:
  * floats as the bit pattern of the float32 value (numpy's astype(float32) / torch .float()),
    so half, bfloat16 and double conversions are checked exactly, NaN and -0 included;
  * integers as decimal strings (JSON numbers would lose int64 precision);
  * SHA-256 digests from hashlib.

Run from anywhere:  python3 Tests/VLSAEFormatsTests/Fixtures/make_fixtures.py
Needs numpy, safetensors and torch (CPU). The Swift tests never run Python.
"""
import hashlib
import json
import os
import struct
import zipfile
import zlib

import numpy as np
import safetensors.numpy
import safetensors.torch
import torch

HERE = os.path.dirname(os.path.abspath(__file__))
rng = np.random.default_rng(20251125)

files = {}      # fixture name -> {"sha256", "arrays": [...]}
rejects = {}    # fixture name -> substring the error message must contain
zips = {}       # fixture name -> member descriptions


def path(name):
    return os.path.join(HERE, name)


def sha(name):
    with open(path(name), "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


DTYPE_NAMES = {
    np.dtype("float16"): "float16", np.dtype("float32"): "float32", np.dtype("float64"): "float64",
    np.dtype("int32"): "int32", np.dtype("int64"): "int64", np.dtype("uint8"): "uint8",
    np.dtype("bool"): "bool",
}


def describe(name, a, dtype_name=None):
    """What the reader must produce for array `a`."""
    a = np.asarray(a)
    d = {"name": name, "shape": list(a.shape), "dtype": dtype_name or DTYPE_NAMES[a.dtype]}
    flat = a.reshape(-1)
    if a.dtype.kind == "f":
        d["f32bits"] = [int(x) for x in flat.astype(np.float32).view(np.uint32)]
    else:
        d["ints"] = [str(int(x)) for x in flat.astype(np.int64)]
    return d


def record(name, arrays):
    files[name] = {"sha256": sha(name), "arrays": arrays}


# ---------------------------------------------------------------- .npy, one per dtype
half_specials = np.array(
    [0.0, -0.0, 1.0, -2.5, 65504.0, -65504.0, np.inf, -np.inf, np.nan,
     6.103515625e-05,                       # smallest normal
     5.960464477539063e-08,                 # smallest subnormal 2^-24
     -5.960464477539063e-08 * 3,            # negative subnormal
     6.097555160522461e-05,                 # largest subnormal
     0.333251953125, 1000.5, -0.0999755859375],
    dtype=np.float16)
assert np.sum((half_specials != 0) & (np.abs(half_specials) < np.float16(6.103515625e-05))) == 3

dtype_arrays = {
    "f16.npy": half_specials.reshape(4, 4),
    "f32.npy": np.array([[1.5, -0.0, np.inf], [np.nan, 1e-45, -3.4028235e38]], dtype=np.float32),
    "f64.npy": np.array([0.1, 1.0 / 3.0, -1e300, 1e-300, 2.0 ** -149, np.pi, -np.inf], dtype=np.float64),
    "i32.npy": np.array([0, -1, 2147483647, -2147483648, 7], dtype=np.int32),
    "i64.npy": np.array([[2 ** 62 + 1, -(2 ** 63)], [2 ** 63 - 1, 42]], dtype=np.int64),
    "u8.npy": np.array([0, 1, 127, 128, 255], dtype=np.uint8),
    "bool.npy": np.array([True, False, False, True], dtype=np.bool_),
    "scalar.npy": np.array(3.25, dtype=np.float32),
    "cube.npy": rng.standard_normal((2, 3, 4)).astype(np.float32),
    "empty.npy": np.zeros((0, 5), dtype=np.float32),
    "features.npy": rng.standard_normal((5, 8)).astype(np.float16),
}
for name, a in dtype_arrays.items():
    np.save(path(name), a)
    record(name, [describe("", a)])

# Explicit format versions (3.0 = UTF-8 header, as numpy writes for non-Latin-1 field names).
v = rng.standard_normal((3, 2)).astype(np.float32)
for major in (1, 2, 3):
    name = f"v{major}.npy"
    with open(path(name), "wb") as f:
        np.lib.format.write_array(f, v, version=(major, 0))
    record(name, [describe("", v)])

# A header typed by hand: extra whitespace, keys in another order, trailing commas, '<u1'.
body = np.array([[1, 2, 3], [4, 5, 6]], dtype=np.uint8)
header = "{ 'shape' : (2, 3,), 'fortran_order':False , 'descr':'<u1', }"
header = header + " " * ((64 - (10 + len(header) + 1) % 64) % 64) + "\n"
with open(path("handheader.npy"), "wb") as f:
    f.write(b"\x93NUMPY\x01\x00" + struct.pack("<H", len(header)) + header.encode("latin1") + body.tobytes())
assert (np.load(path("handheader.npy")) == body).all()
record("handheader.npy", [describe("", body)])

# Files the reader must refuse, each with the words its error must contain.
np.save(path("bigendian.npy"), np.array([1, 2], dtype=">f4"))
rejects["bigendian.npy"] = ">f4"
np.save(path("complex.npy"), np.array([1 + 2j], dtype=np.complex64))
rejects["complex.npy"] = "<c8"
# Fortran order (what np.save(x.T) writes) is read, in column-major order: the reader must give the C-order array.
fortran = np.arange(6, dtype=np.float32).reshape(2, 3)
np.save(path("fortran.npy"), np.asfortranarray(fortran))
files["fortran.npy"] = {"sha256": sha("fortran.npy"), "arrays": [describe("", fortran)]}
np.save(path("object.npy"), np.array([{"a": 1}, None], dtype=object), allow_pickle=True)
rejects["object.npy"] = "'|O'"
np.save(path("structured.npy"), np.zeros(2, dtype=[("x", "<f4"), ("y", "<i4")]))
rejects["structured.npy"] = "structured"
np.save(path("unicode.npy"), np.array(["ab", "c"]))
rejects["unicode.npy"] = "<U2"

# ---------------------------------------------------------------- .npz
a0 = rng.standard_normal((4, 3)).astype(np.float32)
a1 = np.arange(4, dtype=np.int64)
np.savez(path("plain.npz"), a0, a1)
record("plain.npz", [describe("arr_0", a0), describe("arr_1", a1)])

img = rng.standard_normal((6, 4)).astype(np.float16)
txt = rng.standard_normal((3, 4)).astype(np.float64)
lab = np.array([2, 0, 1, 1, 0, 2], dtype=np.int64)
np.savez_compressed(path("compressed.npz"), image_embeddings=img, text_embeddings=txt, labels=lab)
record("compressed.npz", [describe("image_embeddings", img), describe("text_embeddings", txt),
                          describe("labels", lab)])

# ---------------------------------------------------------------- safetensors
st = {
    "image_embeddings": rng.standard_normal((3, 4)).astype(np.float16),
    "text_embeddings": rng.standard_normal((2, 4)).astype(np.float32),
    "w64": np.array([1e-310, -2.0, 1.0 / 3.0], dtype=np.float64),
    "labels": np.array([1, 0, 2], dtype=np.int64),
    "i32": np.array([[-5, 6]], dtype=np.int32),
    "u8": np.array([0, 200, 255], dtype=np.uint8),
    "mask": np.array([True, False, True], dtype=np.bool_),
    "scalar": np.array(7.5, dtype=np.float32),
}
safetensors.numpy.save_file(st, path("mixed.safetensors"), metadata={"model": "ViT-B/32", "source": "fixture"})
# The library writes tensors sorted by (dtype alignment descending, name); file order = data offset order.
with open(path("mixed.safetensors"), "rb") as f:
    n = struct.unpack("<Q", f.read(8))[0]
    hdr = json.loads(f.read(n))
order = sorted((k for k in hdr if k != "__metadata__"), key=lambda k: hdr[k]["data_offsets"][0])
record("mixed.safetensors", [describe(k, st[k]) for k in order])
files["mixed.safetensors"]["metadata"] = {"model": "ViT-B/32", "source": "fixture"}

bf = torch.tensor([[1.0, -2.0, 3.140625], [1e-3, -1e30, float("inf")]], dtype=torch.bfloat16)
safetensors.torch.save_file({"bf": bf}, path("bf16.safetensors"))
files["bf16.safetensors"] = {"sha256": sha("bf16.safetensors"), "arrays": [{
    "name": "bf", "shape": [2, 3], "dtype": "bfloat16",
    "f32bits": [int(x) for x in bf.float().numpy().reshape(-1).view(np.uint32)]}]}

# ---------------------------------------------------------------- zip (container tests)
payload_text = b"".join(b"line %d of the stored member\n" % i for i in range(40))
payload_bin = bytes((i * 7 + 3) & 0xFF for i in range(3000))
with zipfile.ZipFile(path("mixed.zip"), "w") as z:
    z.writestr(zipfile.ZipInfo("stored.txt"), payload_text, compress_type=zipfile.ZIP_STORED)
    z.writestr(zipfile.ZipInfo("dir/deflated.bin"), payload_bin, compress_type=zipfile.ZIP_DEFLATED)
    z.writestr(zipfile.ZipInfo("empty"), b"", compress_type=zipfile.ZIP_DEFLATED)
    z.comment = b"a comment that hides PK\x05\x06 inside it"
members = [("stored.txt", payload_text, 0), ("dir/deflated.bin", payload_bin, 8), ("empty", b"", 8)]
zips["mixed.zip"] = [{"name": n, "method": m, "size": len(p), "crc32": zlib.crc32(p),
                      "sha256": hashlib.sha256(p).hexdigest()} for n, p, m in members]


def zip64_by_hand(name, members):
    """A zip whose every size and offset lives only in zip64 fields: the central directory
    slots are saturated (0xFFFFFFFF), the EOCD counts are 0xFFFF, and a zip64 EOCD record
    and locator carry the real values, as writers do for members over 4 GiB."""
    out = bytearray()
    central = bytearray()
    for fname, data, method in members:
        comp = data if method == 0 else zlib.compress(data, 9)[2:-4]  # raw deflate
        crc = zlib.crc32(data)
        offset = len(out)
        fn = fname.encode()
        extra = struct.pack("<HHQQ", 1, 16, len(data), len(comp))
        out += struct.pack("<IHHHHHIIIHH", 0x04034B50, 45, 0, method, 0, 0, crc,
                           0xFFFFFFFF, 0xFFFFFFFF, len(fn), len(extra)) + fn + extra + comp
        cextra = struct.pack("<HHQQQ", 1, 24, len(data), len(comp), offset)
        central += struct.pack("<IHHHHHHIIIHHHHHII", 0x02014B50, 45, 45, 0, method, 0, 0, crc,
                               0xFFFFFFFF, 0xFFFFFFFF, len(fn), len(cextra), 0, 0, 0, 0,
                               0xFFFFFFFF) + fn + cextra
    cd_offset = len(out)
    out += central
    eocd64 = len(out)
    out += struct.pack("<IQHHIIQQQQ", 0x06064B50, 44, 45, 45, 0, 0, len(members), len(members),
                       len(central), cd_offset)
    out += struct.pack("<IIQI", 0x07064B50, 0, eocd64, 1)
    out += struct.pack("<IHHHHIIH", 0x06054B50, 0, 0, 0xFFFF, 0xFFFF, 0xFFFFFFFF, 0xFFFFFFFF, 0)
    with open(path(name), "wb") as f:
        f.write(out)
    with zipfile.ZipFile(path(name)) as z:  # the reference reader must agree
        for fname, data, _ in members:
            assert z.read(fname) == data, fname


zip64_members = [("a.bin", payload_bin[:100], 0), ("b.txt", payload_text, 8)]
zip64_by_hand("zip64.zip", zip64_members)
zips["zip64.zip"] = [{"name": n, "method": m, "size": len(p), "crc32": zlib.crc32(p),
                      "sha256": hashlib.sha256(p).hexdigest()} for n, p, m in zip64_members]

# A torch.save file (zip64 EOCD as PyTorch writes it): only its container is checked here.
torch.save({"w": torch.arange(6, dtype=torch.float32).reshape(2, 3)}, path("small.pt"))
with zipfile.ZipFile(path("small.pt")) as z:
    zips["small.pt"] = [{"name": i.filename, "method": i.compress_type, "size": i.file_size,
                         "crc32": i.CRC, "sha256": hashlib.sha256(z.read(i.filename)).hexdigest()}
                        for i in z.infolist()]

# ---------------------------------------------------------------- SHA-256 reference digests
pattern = bytes((i * 31 + 7) & 0xFF for i in range(1 << 20))
sha_cases = {
    "empty": hashlib.sha256(b"").hexdigest(),
    "abc": hashlib.sha256(b"abc").hexdigest(),
    "pattern_1MiB": hashlib.sha256(pattern).hexdigest(),  # byte i = (i*31+7) mod 256
    "a_x_1000": hashlib.sha256(b"a" * 1000).hexdigest(),
}

# ---------------------------------------------------------------- the real coco500-clip file (optional)
# Not copied into the repository; only facts about it are recorded, for a test that skips
# when ../shared is absent.
coco = {}
coco_path = os.path.normpath(os.path.join(HERE, "../../../../shared/data/coco500-clip/features_clip.npy"))
if not os.path.exists(coco_path):
    coco_path = "/work/shared/data/coco500-clip/features_clip.npy"
if os.path.exists(coco_path):
    c = np.load(coco_path)
    with open(coco_path, "rb") as f:
        digest = hashlib.sha256(f.read()).hexdigest()
    picks = [[0, 0, 0], [0, 499, 511], [1, 0, 0], [1, 123, 45], [1, 499, 511]]
    coco = {"sha256": digest, "shape": list(c.shape), "dtype": str(c.dtype),
            "picks": picks, "pick_bits": [int(c[i, j, k].view(np.uint32)) for i, j, k in picks],
            "sum_f64": float(c.astype(np.float64).sum()),
            "row1_norms_first3": [float(np.linalg.norm(c[1, r].astype(np.float64))) for r in range(3)]}

with open(path("expected.json"), "w") as f:
    json.dump({"files": files, "rejects": rejects, "zips": zips, "sha256": sha_cases, "coco500": coco}, f, indent=1,
              sort_keys=True)
    f.write("\n")
print("wrote", len(files), "array fixtures,", len(rejects), "reject fixtures,", len(zips), "zips")
