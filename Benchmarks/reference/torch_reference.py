#!/usr/bin/env python3
"""Dense PyTorch reference for `make bench`.

Computes VL-SAE the way the official implementation does (everything dense: the full B×h
activation matrix, a k-th value threshold, dense decoder products and dense gradients), written
from the official ssfgunner/VL-SAE cvlms/sae_trainer/sae_model.py and train.py. Each benchmark runs in its own process so
that its peak resident memory (ru_maxrss) is its own.

Prints one JSON object per benchmark: name, unit, items per run, per-repeat throughput and peak RSS.
"""
import argparse
import json
import math
import os
import resource
import subprocess
import sys
import tempfile
import time


def vlsae(d, h, torch):
    nn = torch.nn

    class VLSAE(nn.Module):
        def __init__(self):
            super().__init__()
            self.encoder = nn.Parameter(torch.empty(h, d))
            nn.init.kaiming_uniform_(self.encoder, a=math.sqrt(5))
            self.vision_decoder = nn.Linear(h, d)
            self.text_decoder = nn.Linear(h, d)

        def encode(self, x, k):
            xn = torch.nn.functional.normalize(x, dim=-1)
            wn = torch.nn.functional.normalize(self.encoder, dim=-1)
            a = 2 - torch.sqrt(torch.clamp(2 - 2 * xn @ wn.t(), min=0))
            thr = torch.kthvalue(a.abs(), h - k, dim=1, keepdim=True).values
            return a * (a.abs() > thr)

    return VLSAE()


def run_one(name, args):
    import numpy as np
    import torch

    torch.set_num_threads(args.threads)
    torch.manual_seed(0)
    d, h, k = 512, 4096, 256
    times = []
    if name == "train_step":
        model = vlsae(d, h, torch)
        opt = torch.optim.Adam(model.parameters(), lr=1e-3)
        img = torch.randn(512, d)
        txt = torch.randn(512, d)
        items = 512

        def step():
            opt.zero_grad(set_to_none=True)
            zi, zt = model.encode(img, k), model.encode(txt, k)
            loss = torch.nn.functional.mse_loss(model.vision_decoder(zi), img) + \
                torch.nn.functional.mse_loss(model.text_decoder(zt), txt)
            loss.backward()
            opt.step()
        work = step
    elif name == "encode":
        model = vlsae(d, h, torch)
        x = torch.randn(10_000, d)
        items = x.shape[0]

        def enc():
            with torch.no_grad():
                for s in range(0, x.shape[0], 1024):
                    model.encode(x[s:s + 1024], k)
        work = enc
    elif name == "zeroshot":
        imgs = torch.randn(100_000, d)
        cls = torch.nn.functional.normalize(torch.randn(1000, d), dim=-1)
        labels = torch.randint(0, 1000, (100_000,))
        items = imgs.shape[0]

        def zs():
            with torch.no_grad():
                hits1 = hits5 = 0
                for s in range(0, imgs.shape[0], 8192):
                    logits = 100 * torch.nn.functional.normalize(imgs[s:s + 8192], dim=-1) @ cls.t()
                    top = logits.topk(5, dim=1).indices
                    eq = top == labels[s:s + 8192, None]
                    hits1 += int(eq[:, 0].sum())
                    hits5 += int(eq.any(dim=1).sum())
        work = zs
    elif name == "sgemm":
        # The encoder's dense product alone (x̂ · Ŵᵀ for one half-batch), 20 per iteration as ours.
        a = torch.randn(512, d)
        b = torch.randn(h, d)
        c = torch.empty(512, h)
        items = 20

        def mm():
            for _ in range(20):
                torch.mm(a, b.t(), out=c)
        work = mm
    elif name == "load_f16":
        path = args.npy
        items = 1_000_000

        def load():
            arr = np.load(path)
            torch.from_numpy(arr).float()
        work = load
    else:
        raise SystemExit(f"unknown benchmark {name}")
    work()  # warm-up
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        work()
        times.append(time.perf_counter() - t0)
    rss_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({
        "name": name, "items": items, "seconds": times,
        "throughput": [items / t for t in times], "peak_rss_mib": rss_kib / 1024,
        "threads": args.threads, "torch": torch.__version__,
    }))


def make_npy(path):
    """1,000,000 × 512 standard-normal float16 rows, written slice by slice then renamed into place."""
    import numpy as np
    rng = np.random.default_rng(0)
    out = np.lib.format.open_memmap(path + ".tmp", mode="w+", dtype=np.float16, shape=(1_000_000, 512))
    for s in range(0, 1_000_000, 100_000):
        out[s:s + 100_000] = rng.standard_normal((100_000, 512), dtype=np.float32)
    out.flush()
    del out
    os.replace(path + ".tmp", path)


def main():
    p = argparse.ArgumentParser(description=__doc__)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--repeat", type=int, default=5)
    p.add_argument("--only", default="train_step,encode,zeroshot,load_f16,sgemm")
    p.add_argument("--npy", help="1M×512 float16 .npy for load_f16 (created if missing)")
    p.add_argument("--child", help=argparse.SUPPRESS)
    p.add_argument("--make-npy", help=argparse.SUPPRESS)
    args = p.parse_args()
    if args.make_npy:
        make_npy(args.make_npy)
        return
    if args.child:
        run_one(args.child, args)
        return
    if "load_f16" in args.only and not args.npy:
        args.npy = os.path.join(tempfile.gettempdir(), "vlsae-bench-1m-f16.npy")
    if "load_f16" in args.only and not os.path.exists(args.npy):
        # In a process of its own and in slices: a child inherits its parent's peak RSS as the floor
        # of its own ru_maxrss, so this parent must stay small.
        subprocess.run([sys.executable, __file__, "--make-npy", args.npy], check=True)
    for name in args.only.split(","):
        cmd = [sys.executable, __file__, "--child", name, "--threads", str(args.threads),
               "--repeat", str(args.repeat)] + (["--npy", args.npy] if args.npy else [])
        out = subprocess.run(cmd, check=True, capture_output=True, text=True).stdout
        sys.stdout.write(out)
        sys.stdout.flush()


if __name__ == "__main__":
    main()
