#!/usr/bin/env python3
"""Generates the torch.save fixtures for TorchFormatTests (run from this folder).

Written with torch 2.13.0+cpu and numpy 2.4. Each `<name>.pt`/`.pth` has a sibling
`<name>.expected.json`: {tensor name: {"shape": [...], "dtype": "...", "values": [...]}} with values
in C order computed by torch/numpy independently of the Swift reader (floats are the exact float32
values, written with repr so they round-trip). The malformed fixtures have no expectation file.
"""
import io
import json
import os
import pickle
import struct
import zipfile

import numpy as np
import torch

HERE = os.path.dirname(os.path.abspath(__file__))


def path(name):
    return os.path.join(HERE, name)


def expectation(named):
    out = {}
    for name, t in named.items():
        t = t.detach()
        dtype = str(t.dtype).replace("torch.", "")
        if t.dtype.is_floating_point:
            # float16/bfloat16 widen to float32 exactly; float64 is rounded once to float32 as the reader does.
            values = [float(v) for v in t.to(torch.float32).contiguous().reshape(-1).numpy()]
        else:
            values = [int(v) for v in t.to(torch.int64).contiguous().reshape(-1).numpy()]
        out[name] = {"shape": list(t.shape), "dtype": dtype, "values": values}
    return out


def save(name, obj, named, **kwargs):
    torch.save(obj, path(name), **kwargs)
    with open(path(name.rsplit(".", 1)[0] + ".expected.json"), "w") as f:
        json.dump(expectation(named), f, indent=0, sort_keys=True)


class TinyVLSAE(torch.nn.Module):
    """The official VL-SAE parameter layout (encoder h×d, two Linear(h, d) decoders), d=8, h=16."""

    def __init__(self, d=8, h=16):
        super().__init__()
        self.encoder = torch.nn.Parameter(torch.empty(h, d).uniform_(-1 / d**0.5, 1 / d**0.5))
        self.vision_decoder = torch.nn.Linear(h, d)
        self.text_decoder = torch.nn.Linear(h, d)


def main():
    torch.manual_seed(20260125)

    # 1. The released-checkpoint layout: torch.save(model.state_dict()).
    model = TinyVLSAE()
    sd = model.state_dict()
    save("vlsae_state_dict.pth", sd, dict(sd))

    # 2. One tensor per dtype, values chosen to be exact in each type (plus a few rounding cases for f64).
    base = torch.tensor([0.0, -1.5, 2.25, 1e-3, -65504.0 / 1024, 3.0e-5, 7.0, -0.0])
    dtypes = {
        "f16": base.to(torch.float16),
        "bf16": base.to(torch.bfloat16),
        "f32": base.clone(),
        "f64": torch.tensor([0.1, -2.0 / 3.0, 1e-300, 12345.678901234], dtype=torch.float64),
        "i64": torch.tensor([[-(2**40), 0, 3], [7, -1, 2**62]], dtype=torch.int64),
        "i32": torch.tensor([-(2**31), 0, 2**31 - 1], dtype=torch.int32),
        "u8": torch.tensor([0, 1, 255, 128], dtype=torch.uint8),
        "flag": torch.tensor([True, False, True]),
    }
    save("dtypes.pt", dtypes, dtypes)

    # 3. Views sharing one storage: transpose, stepped slice, offset view, a single row, and an expanded
    #    (stride-0) tensor. torch.save keeps the views' strides and offsets over one shared blob.
    grid = torch.arange(60, dtype=torch.float32).reshape(6, 10) * 0.5 - 3.0
    views = {
        "grid": grid,
        "transposed": grid.t(),
        "stepped": grid[1::2, ::3],
        "offset_view": grid[2:4, 1:5],
        "row": grid[3],
        "scalar": grid[5, 9],
        "expanded": grid[0, :4].unsqueeze(0).expand(3, 4),
    }
    for k in ("transposed", "stepped", "offset_view", "expanded"):
        assert not views[k].is_contiguous(), k
    assert views["stepped"].untyped_storage().data_ptr() == grid.untyped_storage().data_ptr()
    save("views.pt", views, views)

    # 4. The official feature collector's format.
    emb = torch.randn(5, 8)
    save("collector.pt", {"embeddings": emb, "texts": ["a cat", "two dogs", "a red car", "", "sky"]},
         {"embeddings": emb})

    # 5. A bare tensor.
    plain = torch.randn(3, 4, dtype=torch.float64)
    save("plain.pt", plain, {"": plain})

    # 6. Nesting: dicts, lists, tuples, integer keys, non-tensor leaves and a shared tensor.
    shared = torch.tensor([1.0, 2.0, 3.0])
    t2 = torch.randn(2, 2)
    nested = {
        "a": {"b": shared, "c": [t2, torch.tensor([4], dtype=torch.int64)]},
        "meta": 3,
        "name": "x",
        "tup": (torch.tensor([[5.0]]), "y", None),
        "again": shared,
        7: torch.tensor([0.25]),
    }
    save("nested.pt", nested, {
        "a.b": shared, "a.c.0": t2, "a.c.1": nested["a"]["c"][1], "tup.0": nested["tup"][0],
        "again": shared, "7": nested[7],
    })

    # 7. A whole pickled nn.Module: its classes (__main__.TinyVLSAE, torch.nn Linear) are never executed;
    #    the reader finds the parameters through the module's _parameters/_modules state.
    #    A non-persistent buffer is left out, as state_dict() leaves it out; protocol 4 writes the set of
    #    such names with EMPTY_SET/ADDITEMS instead of a call to set().
    model.register_buffer("steps", torch.tensor([42], dtype=torch.int64))
    model.register_buffer("scratch", torch.zeros(2), persistent=False)
    module_named = dict(model.state_dict())
    assert "scratch" not in module_named
    save("module.pt", model, module_named)
    save("module_p4.pt", model, module_named, pickle_protocol=4)

    # 8. Malformed inputs.
    good = open(path("vlsae_state_dict.pth"), "rb").read()
    with open(path("truncated_zip.pt"), "wb") as f:
        f.write(good[: len(good) // 2])

    def write_archive(name, members):
        with zipfile.ZipFile(path(name), "w", compression=zipfile.ZIP_STORED) as z:
            for member, payload in members.items():
                z.writestr(member, payload)

    z = zipfile.ZipFile(path("vlsae_state_dict.pth"))
    prefix = z.namelist()[0].split("/")[0]  # torch names the folder after the file stem
    pkl = z.read(prefix + "/data.pkl")
    members = {n: z.read(n) for n in z.namelist()}

    truncated = dict(members)
    truncated[prefix + "/data.pkl"] = pkl[: len(pkl) - 40]
    write_archive("truncated_pickle.pt", truncated)

    big = dict(members)
    big[prefix + "/byteorder"] = b"big"
    write_archive("big_endian.pt", big)

    missing = {n: v for n, v in members.items() if n != prefix + "/data/1"}
    write_archive("missing_blob.pt", missing)

    short = dict(members)
    short[prefix + "/data/0"] = members[prefix + "/data/0"][:-4]
    write_archive("short_blob.pt", short)

    # os.system through GLOBAL + REDUCE, in protocol-2 opcodes; pickle.loads would run the command.
    evil = (b"\x80\x02" + b"cos\nsystem\n" + b"X\x0a\x00\x00\x00touch PWND" + b"\x85" + b"R" + b".")
    assert pickletools_ok(evil)
    write_archive("os_system.pt", {"archive/data.pkl": evil, "archive/byteorder": b"little",
                                   "archive/version": b"3\n"})

    # A protocol-0 opcode (STRING 'S') that the reader does not implement.
    write_archive("protocol0.pt", {"archive/data.pkl": pickle.dumps({"a": "b"}, protocol=0),
                                   "archive/byteorder": b"little", "archive/version": b"3\n"})


    # 9. Plain pickles (no archive) of non-tensor values at protocols 2, 4 and 5, for the VM's scalar and
    #    container opcodes (FRAME, MEMOIZE, STACK_GLOBAL, SHORT_BINUNICODE come with 4 and 5). Protocol 2 writes
    #    bytes as a call to _codecs.encode, which the reader keeps as an opaque object.
    import collections
    values = collections.OrderedDict([
        ("ints", [0, 1, -2, 255, 256, 65535, 65536, -(2**31), 2**31, -(2**40), 2**63 - 1, 2**70]),
        ("floats", (1.5, -0.0, 1e300)),
        ("flags", [True, False, None]),
        ("text", "h\u00e9llo \u2713"),
        ("raw", b"\x00\x01xy"),
        ("nested", {"k": [[]], 3: "three"}),
    ])
    for protocol in (2, 4, 5):
        with open(path(f"values_p{protocol}.pkl"), "wb") as f:
            f.write(pickle.dumps(values, protocol=protocol))


def pickletools_ok(data):
    import pickletools
    pickletools.dis(data, out=io.StringIO())
    return True


if __name__ == "__main__":
    main()
