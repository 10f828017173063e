"""Reference values for ConceptsJobTests (`vlsae concepts`), computed with numpy in float64 from
the formulas of the official VL-SAE encoder (ssfgunner/VL-SAE, cvlms/sae_trainer/sae_model.py: the
distance activation 2 - ||x/|x| - w/|w| || and the kthvalue top-k rule), not from the Swift code.

Run from this folder:  python3 make_concepts_fixtures.py   (numpy 2.4, torch 2.13.0+cpu)

Writes
- small.pth: torch.save of an official-layout VL-SAE state dict, d 16, h 64 (random weights);
- small_images.npy, small_texts.npy: 60 x 16 float32 paired embeddings; image rows 7 and 31 are
  identical and so are text rows 12 and 40, so their activations tie exactly (ties go to the
  lower index);
- small_expected.json: per concept, the top 5 images and texts (index, activation) at k 8, the
  activation frequencies, the per-concept similarities and agreement, and the global figures, in
  the layout of concepts.json;
- coco500.pth: an official-layout VL-SAE state dict, d 512, h 512 (hidden ratio 1, random
  weights), for the real CLIP pairs in ../shared/data/coco500-clip/features_clip.npy;
- coco500_expected_indices.npy (int32, 2 x 512 x 16, -1 padding) and
  coco500_expected_activations.npy (float32, same shape): per concept the top 16 images ([0]) and
  texts ([1]) at k 16. Needs the shared file (path below).
"""
import json, os
import numpy as np
import torch

OUT = os.path.dirname(os.path.abspath(__file__))
COCO = os.path.join(OUT, "../../../../../shared/data/coco500-clip/features_clip.npy")
DENSE = 0.1  # a concept is dense when it is active in more than 10 % of the rows of a modality


def state_dict(rng, d, h):
    # Official key names and shapes (sae_model.py, VL_SAE): encoder h x d, decoders d x h + bias d.
    u = lambda shape, b: torch.tensor(rng.uniform(-b, b, size=shape).astype(np.float32))
    return {"encoder": u((h, d), 1 / np.sqrt(d)),
            "vision_decoder.weight": u((d, h), 1 / np.sqrt(h)), "vision_decoder.bias": u((d,), 1 / np.sqrt(h)),
            "text_decoder.weight": u((d, h), 1 / np.sqrt(h)), "text_decoder.bias": u((d,), 1 / np.sqrt(h))}


def encode(W, x, k):
    """Dense h-wide codes: activation 2 - sqrt(max(0, 2 - 2 cos)), kept where |a| > the (h-k)-th smallest |a|."""
    W = W.astype(np.float64)
    x = x.astype(np.float64)
    xn = x / np.maximum(np.linalg.norm(x, axis=1, keepdims=True), 1e-12)
    wn = W / np.maximum(np.linalg.norm(W, axis=1, keepdims=True), 1e-12)
    c = xn @ wn.T
    a = 2 - np.sqrt(np.maximum(0, 2 - 2 * c))
    h = a.shape[1]
    thr = np.sort(np.abs(a), axis=1)[:, h - k - 1]
    return np.where(np.abs(a) > thr[:, None], a, 0.0)


def top(z, j, n):
    """Rows where concept j is active, by activation descending, ties to the lower row."""
    rows = np.nonzero(z[:, j])[0]
    order = sorted(rows, key=lambda r: (-z[r, j], r))[:n]
    return [int(r) for r in order]


def mean_pairwise_cos(x):
    if len(x) < 2:
        return None
    xn = x / np.linalg.norm(x, axis=1, keepdims=True)
    s = xn @ xn.T
    n = len(x)
    return float((s.sum() - np.trace(s)) / (n * (n - 1)))


def cos(a, b):
    return float(a @ b / (np.linalg.norm(a) * np.linalg.norm(b)))


def small():
    rng = np.random.default_rng(20261201)
    d, h, k, n, ntop = 16, 64, 8, 60, 5
    sd = state_dict(rng, d, h)
    torch.save(sd, os.path.join(OUT, "small.pth"))
    images = rng.normal(size=(n, d)).astype(np.float32)
    images[31] = images[7]
    texts = (images + 0.8 * rng.normal(size=(n, d)) + 0.5).astype(np.float32)
    texts[40] = texts[12]
    np.save(os.path.join(OUT, "small_images.npy"), images)
    np.save(os.path.join(OUT, "small_texts.npy"), texts)
    W = sd["encoder"].numpy()
    zi, zt = encode(W, images, k), encode(W, texts, k)
    concepts = []
    fi, ft = (zi != 0).mean(axis=0), (zt != 0).mean(axis=0)
    sims = {"image": [], "text": [], "cross": []}
    for j in range(h):
        ti, tt = top(zi, j, ntop), top(zt, j, ntop)
        si = mean_pairwise_cos(images[ti].astype(np.float64))
        st = mean_pairwise_cos(texts[tt].astype(np.float64))
        sc = cos(images[ti].astype(np.float64).mean(0), texts[tt].astype(np.float64).mean(0)) if ti and tt else None
        for key, v in (("image", si), ("text", st), ("cross", sc)):
            if v is not None:
                sims[key].append(v)
        concepts.append({
            "index": j,
            "top_images": [{"index": r, "activation": float(zi[r, j])} for r in ti],
            "top_texts": [{"index": r, "activation": float(zt[r, j])} for r in tt],
            "image_frequency": float(fi[j]), "text_frequency": float(ft[j]),
            "agreement": len(set(ti) & set(tt)),
            "similarity": {"image": si, "text": st, "cross": sc},
        })
    dead = float(np.mean((fi == 0) & (ft == 0)))
    dense = float(np.mean((fi > DENSE) | (ft > DENSE)))
    mean = lambda v: {"mean": float(np.mean(v)), "concepts": len(v)}
    figures = {"dead_fraction": dead, "dense_fraction": dense, "image_similarity": mean(sims["image"]),
               "text_similarity": mean(sims["text"]), "cross_similarity": mean(sims["cross"])}
    with open(os.path.join(OUT, "small_expected.json"), "w") as f:
        json.dump({"k": k, "top": ntop, "concepts": concepts, "figures": figures}, f, indent=1, sort_keys=True)
        f.write("\n")


def coco():
    if not os.path.exists(COCO):
        print("skipping coco500 fixtures: no", COCO)
        return
    rng = np.random.default_rng(500)
    d, h, k, ntop = 512, 512, 16, 16
    sd = state_dict(rng, d, h)
    torch.save(sd, os.path.join(OUT, "coco500.pth"))
    feats = np.load(COCO)
    W = sd["encoder"].numpy()
    idx = np.full((2, h, ntop), -1, dtype=np.int32)
    act = np.zeros((2, h, ntop), dtype=np.float32)
    for m in range(2):
        z = encode(W, feats[m], k)
        for j in range(h):
            t = top(z, j, ntop)
            idx[m, j, :len(t)] = t
            act[m, j, :len(t)] = z[t, j]
    np.save(os.path.join(OUT, "coco500_expected_indices.npy"), idx)
    np.save(os.path.join(OUT, "coco500_expected_activations.npy"), act)


small()
coco()
