"""Reference values for VLSAEModelTests, from a PyTorch implementation of the official model and
training step (ssfgunner/VL-SAE, cvlms/sae_trainer/sae_model.py and train.py; the formulas are
restated in Sources/VLSAEModel/SAEConfig.swift and SparseCodes.swift), not from the Swift code.

Run from this folder:  python3 make_model_fixtures.py   (torch 2.13.0+cpu, numpy 2.4)
Writes model_fixtures.bin (little-endian float32 blobs, concatenated) + model_fixtures.json
(name -> {offset, shape} in floats, plus scalars), and vlsae_small.pth (torch.save of a
state dict with the official key names).
"""
import json, math, os
import numpy as np
import torch
import torch.nn.functional as F

torch.manual_seed(20251125)
OUT = os.path.dirname(os.path.abspath(__file__))
D, H, K, B = 16, 64, 8, 12
blobs, manifest = [], {"tensors": {}, "scalars": {}}
offset = 0


def put(name, t):
    global offset
    a = np.ascontiguousarray(t.detach().cpu().numpy().astype("<f4"))
    manifest["tensors"][name] = {"offset": offset, "shape": list(a.shape)}
    blobs.append(a.tobytes())
    offset += a.size


def topk_mask(a, k):
    # threshold = kthvalue(|a|, h-k) (the (h-k)-th smallest); keep strictly above; ties dropped.
    h = a.shape[1]
    thr = torch.kthvalue(a.abs(), h - k, dim=1).values
    return (a.abs() > thr[:, None]).to(a.dtype)


def normalize(x):
    return x / x.norm(dim=1, keepdim=True).clamp_min(1e-12)


def vl_act(W, x):
    c = normalize(x) @ normalize(W).T
    s = (2 - 2 * c).clamp_min(0)
    pos = s > 0
    dist = torch.where(pos, torch.sqrt(torch.where(pos, s, torch.ones_like(s))), torch.zeros_like(s))
    return 2 - dist


def vl_encode(W, x, k):
    a = vl_act(W, x)
    return a * topk_mask(a.detach(), k)


def lin_encode(W, b, x, k):
    a = torch.relu(x @ W.T + b)
    return a * topk_mask(a.detach(), k)


def decode(Wd, bd, z):
    return z @ Wd.T + bd


def uni(shape, bound):
    return (torch.rand(*shape) * 2 - 1) * bound


def leaf(t):
    return t.clone().requires_grad_(True)


def vl_params():
    return {"encoder": uni((H, D), 1 / math.sqrt(D)),
            "vision_decoder.weight": uni((D, H), 1 / math.sqrt(H)), "vision_decoder.bias": uni((D,), 1 / math.sqrt(H)),
            "text_decoder.weight": uni((D, H), 1 / math.sqrt(H)), "text_decoder.bias": uni((D,), 1 / math.sqrt(H))}


def sd_params():
    return {"v_encoder.weight": uni((H, D), 1 / math.sqrt(D)), "v_encoder.bias": uni((H,), 1 / math.sqrt(D)),
            "t_encoder.weight": uni((H, D), 1 / math.sqrt(D)), "t_encoder.bias": uni((H,), 1 / math.sqrt(D)),
            "vision_decoder.0.weight": uni((D, H), 1 / math.sqrt(H)), "vision_decoder.0.bias": uni((D,), 1 / math.sqrt(H)),
            "text_decoder.0.weight": uni((D, H), 1 / math.sqrt(H)), "text_decoder.0.bias": uni((D,), 1 / math.sqrt(H))}


def reconstruct(p, xi, xt, zi, zt, vision, text):
    # The two decoders (vision, text: state-dict prefixes) and the loss every architecture trains on.
    ri = decode(p[vision + "weight"], p[vision + "bias"], zi)
    rt = decode(p[text + "weight"], p[text + "bias"], zt)
    return zi, zt, ri, rt, F.mse_loss(ri, xi) + F.mse_loss(rt, xt)


def vl_forward(p, xi, xt, k):
    zi, zt = vl_encode(p["encoder"], xi, k), vl_encode(p["encoder"], xt, k)
    return reconstruct(p, xi, xt, zi, zt, "vision_decoder.", "text_decoder.")


def sae_d_forward(p, xi, xt, k):
    zi = lin_encode(p["v_encoder.weight"], p["v_encoder.bias"], xi, k)
    zt = lin_encode(p["t_encoder.weight"], p["t_encoder.bias"], xt, k)
    return reconstruct(p, xi, xt, zi, zt, "vision_decoder.0.", "text_decoder.0.")


def sae_v_forward(p, xi, xt, k):
    zi = lin_encode(p["encoder.weight"], p["encoder.bias"], xi, k)
    zt = lin_encode(p["encoder.weight"], p["encoder.bias"], xt, k)
    return reconstruct(p, xi, xt, zi, zt, "decoder.0.", "decoder.0.")


def embeddings(n):
    # Un-normalised, off-centre rows (norms far from 1) so the encoder's normalisation matters.
    return torch.randn(n, D) * 0.7 + torch.linspace(-0.5, 0.5, D)


def min_gap(a, k):
    # Distance between the smallest kept |a| and the threshold: fixtures avoid accidental near-ties.
    s = a.abs().sort(dim=1).values
    h = a.shape[1]
    return (s[:, h - k] - s[:, h - k - 1]).min().item()


def case(prefix, params, forward, xi, xt, k=K):
    p = {n: leaf(t) for n, t in params.items()}
    zi, zt, ri, rt, loss = forward(p, xi, xt, k)
    loss.backward()
    for n, t in params.items():
        put(f"{prefix}.param.{n}", t)
        put(f"{prefix}.grad.{n}", p[n].grad)
    for n, t in [("images", xi), ("texts", xt), ("z_image", zi), ("z_text", zt), ("recon_image", ri), ("recon_text", rt)]:
        put(f"{prefix}.{n}", t)
    manifest["scalars"][f"{prefix}.loss"] = loss.item()
    return zi, zt


# --- VL-SAE forward / gradients --------------------------------------------------------------
xi, xt = embeddings(B), embeddings(B)
vl = vl_params()
with torch.no_grad():
    a_full = 2 - torch.cdist(normalize(xi), normalize(vl["encoder"]), p=2)
    assert min_gap(a_full, K) > 1e-4, "accidental near-tie; change the seed"
    assert min_gap(vl_act(vl["encoder"], xt), K) > 1e-4, "accidental near-tie; change the seed"
zi, zt = case("vl", vl, vl_forward, xi, xt)

# Cross-check against the upstream formulation (torch.cdist, then the kthvalue/strict-> rule).
with torch.no_grad():
    up = a_full * topk_mask(a_full, K)
    assert torch.equal(up != 0, zi != 0)
    assert torch.allclose(up, zi, rtol=1e-5, atol=1e-6)

# --- exact tie at the threshold: copy the smallest kept unit of row 0 onto a dropped unit ------
tie = {n: t.clone() for n, t in vl.items()}
with torch.no_grad():
    a0 = vl_act(tie["encoder"], xi[:1])[0]
    order = torch.argsort(a0)
    smallest_kept, dropped = order[H - K].item(), order[0].item()
    tie["encoder"][dropped] = tie["encoder"][smallest_kept]
    z_tie = vl_encode(tie["encoder"], xi, K)
    assert (z_tie[0] != 0).sum().item() == K - 1, "tie did not drop both copies"
    assert z_tie[0, smallest_kept] == 0 and z_tie[0, dropped] == 0
put("tie.encoder", tie["encoder"])
put("tie.z_image", z_tie)
manifest["scalars"]["tie.units"] = [smallest_kept, dropped]

# --- sparsify on values with many exact ties ---------------------------------------------------
vals = torch.randint(0, 9, (20, H)).float() * 0.25
vals[3] = 0.5  # a constant row: everything ties, nothing is kept
vals[4, :] = 0; vals[4, :5] = torch.tensor([1.0, 0.5, 0.25, 0.25, 0.75])  # fewer non-zeros than k
put("ties.values", vals)
for k in (1, 8, 32, 63):
    put(f"ties.mask.k{k}", topk_mask(vals, k))

# --- SAE_D and SAE_V ---------------------------------------------------------------------------
sd = sd_params()
with torch.no_grad():
    assert min_gap(torch.relu(xi @ sd["v_encoder.weight"].T + sd["v_encoder.bias"]), K) > 1e-4
    assert min_gap(torch.relu(xt @ sd["t_encoder.weight"].T + sd["t_encoder.bias"]), K) > 1e-4
case("sd", sd, sae_d_forward, xi, xt)

# SAE_V with a strongly negative encoder bias: many ReLU zeros, some rows keep fewer than k units
# (the threshold is 0 and zeros are not "strictly above").
sv = {"encoder.weight": uni((H, D), 1 / math.sqrt(D)), "encoder.bias": uni((H,), 1 / math.sqrt(D)) - 0.6,
      "decoder.0.weight": uni((D, H), 1 / math.sqrt(H)), "decoder.0.bias": uni((D,), 1 / math.sqrt(H))}
zvi, zvt = case("sv", sv, sae_v_forward, xi, xt)
nz = (zvi != 0).sum(dim=1)
assert (nz < K).any() and (nz == K).any(), nz
with torch.no_grad():
    pre = torch.relu(xi @ sv["encoder.weight"].T + sv["encoder.bias"])
    full = pre.sort(dim=1).values
    assert ((full[:, H - K] - full[:, H - K - 1]).abs()[nz == K] > 1e-4).all()

# --- Adam + warm-up/cosine schedule, 20 steps (10 epochs × 2 batches of 4) -----------------------
def trajectory(prefix, params, forward, base_lr, wd, epochs=10, warmup=2, bs=4, n=8):
    xi, xt = embeddings(n), embeddings(n)
    put(f"{prefix}.images", xi); put(f"{prefix}.texts", xt)
    for name, t in params.items():
        put(f"{prefix}.init.{name}", t)
    p = {name: leaf(t) for name, t in params.items()}
    opt = torch.optim.Adam(list(p.values()), lr=base_lr, weight_decay=wd)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=epochs - warmup)
    lrs, losses = [], []
    for epoch in range(epochs):  # the upstream train.py loop, data in fixed order
        if epoch < warmup:
            for g in opt.param_groups:
                g["lr"] = base_lr * (epoch + 1) / warmup
        else:
            sched.step()
        lrs.append(opt.param_groups[0]["lr"])
        for i in range(0, n, bs):
            opt.zero_grad()
            *_, loss = forward(p, xi[i:i + bs], xt[i:i + bs], K)
            loss.backward()
            opt.step()
            losses.append(loss.item())
    for name in params:
        put(f"{prefix}.final.{name}", p[name])
    manifest["scalars"][f"{prefix}.lrs"] = lrs
    manifest["scalars"][f"{prefix}.losses"] = losses
    manifest["scalars"][f"{prefix}.config"] = {"lr": base_lr, "weight_decay": wd, "epochs": epochs,
                                              "warmup": warmup, "batch": bs, "rows": n}


import warnings
warnings.filterwarnings("ignore")  # torch warns that the scheduler steps before the optimizer
trajectory("adam_vl", vl_params(), vl_forward, 5e-3, 0.0)
trajectory("adam_sd", {n: uni(t.shape, 1 / math.sqrt(t.shape[-1])) for n, t in sd.items()}, sae_d_forward, 5e-3, 0.01)

# Learning rates of the upstream schedule for other shapes (warm-up 0, odd lengths).
for epochs, warmup in [(5, 0), (7, 3), (3, 3)]:
    opt = torch.optim.Adam([torch.zeros(1, requires_grad=True)], lr=1e-3)
    sched = torch.optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max(epochs - warmup, 1))
    lrs = []
    for epoch in range(epochs):
        if epoch < warmup:
            for g in opt.param_groups:
                g["lr"] = 1e-3 * (epoch + 1) / warmup
        else:
            sched.step()
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
    manifest["scalars"][f"schedule.{epochs}.{warmup}"] = lrs

# --- a wider shape for the vectorised kernels: d 40 (a 32-wide panel plus a tail), h 80, k 20, 16 rows,
# so that units collect from 0 to about 10 slots per modality. Drawn last: the cases above keep their values.
D, H, K, B = 40, 80, 20, 16
xi, xt = embeddings(B), embeddings(B)
vlw = vl_params()
with torch.no_grad():
    assert min_gap(vl_act(vlw["encoder"], xi), K) > 1e-5, "accidental near-tie; change the seed"
    assert min_gap(vl_act(vlw["encoder"], xt), K) > 1e-5, "accidental near-tie; change the seed"
case("vlw", vlw, vl_forward, xi, xt, k=K)
sdw = sd_params()
with torch.no_grad():
    assert min_gap(torch.relu(xi @ sdw["v_encoder.weight"].T + sdw["v_encoder.bias"]), K) > 1e-5
    assert min_gap(torch.relu(xt @ sdw["t_encoder.weight"].T + sdw["t_encoder.bias"]), K) > 1e-5
case("sdw", sdw, sae_d_forward, xi, xt, k=K)
manifest["scalars"]["wide_dims"] = {"d": D, "h": H, "k": K, "batch": B}
D, H, K, B = 16, 64, 8, 12

manifest["scalars"]["dims"] = {"d": D, "h": H, "k": K, "batch": B}
with open(os.path.join(OUT, "model_fixtures.bin"), "wb") as f:
    f.write(b"".join(blobs))
with open(os.path.join(OUT, "model_fixtures.json"), "w") as f:
    json.dump(manifest, f, indent=1, sort_keys=True)
torch.save({n: t.clone() for n, t in vl.items()}, os.path.join(OUT, "vlsae_small.pth"))
print("floats:", offset)
