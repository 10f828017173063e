#!/usr/bin/env python3
"""Reference values for Tests/VLSAEEvalTests/StatisticsTests.swift.

Run from this folder:  python3 make_stats_fixtures.py
Needs numpy, scipy, scikit-learn and mpmath (recorded in each file). Writes:

  mcnemar.json     exact two-sided McNemar p-values: scipy.stats.binomtest(min(b,c), b+c, 0.5),
                   statsmodels' mcnemar(exact=True) formula min(1, 2*binom.cdf(min(b,c), b+c, .5))
                   (statsmodels itself is not installed; its two lines are reproduced here), and
                   a 50-digit mpmath value of the doubled tail as an arbiter.
  quantile.json    np.quantile(x, q) (default method="linear") for fixed arrays and the q's
                   a percentile interval uses, q = (1-level)/2 and 1-(1-level)/2.
  metrics.json     acc1 / acc5 / balanced accuracy from scikit-learn on fixed resample multisets
                   of small score matrices, for PairedSample.metrics(resampledAt:).
"""
import json
import sys

import mpmath
import numpy as np
import scipy
import sklearn
from scipy.stats import binom, binomtest
from sklearn.metrics import accuracy_score, balanced_accuracy_score, top_k_accuracy_score

VERSIONS = {
    "python": sys.version.split()[0],
    "numpy": np.__version__,
    "scipy": scipy.__version__,
    "sklearn": sklearn.__version__,
    "mpmath": mpmath.__version__,
}


def dump(name, obj):
    with open(name, "w") as f:
        json.dump(obj, f, indent=1)
        f.write("\n")


# ---------------------------------------------------------------- McNemar
def mp_lower_tail(k, n):
    """P(X <= k), X ~ Binomial(n, 1/2), at mpmath precision: the k-th term from loggamma, the
    rest by the exact term ratio, summed until the terms drop below 1e-45 of the sum."""
    log_term = (mpmath.loggamma(n + 1) - mpmath.loggamma(k + 1) - mpmath.loggamma(n - k + 1)
                - n * mpmath.log(2))
    term = mpmath.exp(log_term)
    total = term
    for i in range(k, 0, -1):
        term = term * i / (n - i + 1)
        total += term
        if term < total * mpmath.mpf("1e-45"):
            break
    return total


def mcnemar_cases():
    pairs = [
        (0, 0), (0, 5), (5, 0), (3, 17), (17, 3), (40, 60), (500, 560), (100000, 100900),
        (1, 0), (0, 1), (1, 1), (1, 2), (2, 1), (10, 10), (10, 11), (11, 10), (0, 30), (7, 8),
        (6, 9), (12, 30), (123, 456), (3000, 3300), (0, 1000), (2, 1500), (0, 2000),
        (49, 51), (499000, 501000), (499900, 500100), (1, 1000000),
    ]
    mpmath.mp.dps = 50
    out = []
    for b, c in pairs:
        n, k = b + c, min(b, c)
        scipy_p = float(binomtest(k, n, 0.5).pvalue) if n > 0 else 1.0
        statsmodels_p = float(min(1.0, 2 * binom.cdf(k, n, 0.5))) if n > 0 else 1.0
        if n == 0 or 2 * k >= n:
            exact = mpmath.mpf(1)
        else:
            exact = min(mpmath.mpf(1), 2 * mp_lower_tail(k, n))
        out.append({
            "b": b, "c": c,
            "scipy_binomtest": scipy_p,
            "statsmodels_exact": statsmodels_p,
            "mpmath": float(exact),
            "mpmath_str": mpmath.nstr(exact, 25),
        })
        print(f"mcnemar b={b} c={c}: scipy={scipy_p!r} sm={statsmodels_p!r} mp={float(exact)!r}")
    dump("mcnemar.json", {"versions": VERSIONS, "cases": out})


# ---------------------------------------------------------------- quantiles
def quantile_cases():
    rng = np.random.default_rng(20261125)
    levels = [0.95, 0.9, 0.99, 0.5, 0.8]
    qs = [0.0, 1.0, 0.5, 0.25, 0.75, 1e-9, 1 - 1e-9, 0.1, 0.3333333333333333]
    for level in levels:
        tail = (1 - level) / 2
        qs += [tail, 1 - tail]
    qs += [float(x) for x in rng.random(6)]
    arrays = {
        "single": [0.7],
        "pair": [0.25, 0.75],
        "five": [-2.0, -0.5, 0.0, 1.5, 3.25],
        # Bootstrap-like: accuracies k/200 with many ties.
        "ties400": sorted(float(x) for x in rng.binomial(200, 0.7, size=400) / 200),
        # Paired deltas: differences of two k/500, including exact zeros.
        "deltas1000": sorted(float(x) for x in
                             (rng.binomial(500, 0.73, size=1000) - rng.binomial(500, 0.70, size=1000)) / 500),
        "normal999": sorted(float(x) for x in rng.normal(0.01, 0.02, size=999)),
        "constant": [0.5] * 37,
    }
    out = []
    for name, x in arrays.items():
        xa = np.asarray(x, dtype=np.float64)
        expect = [float(np.quantile(xa, q)) for q in qs]
        out.append({"name": name, "sorted": x, "q": qs, "quantile": expect})
    # q's at which numpy's two-sided lerp (a + d*g below g = 1/2, b - d*(1-g) from 1/2 on)
    # rounds differently from either one-sided formula, so the test pins the exact rule.
    x = np.sort(rng.normal(0.0, 1.0, size=11))
    upper, lower = [], []
    while len(upper) < 8 or len(lower) < 8:
        q = float(rng.random())
        h = (len(x) - 1) * q
        j = int(np.floor(h))
        g = h - j
        a, b = x[j], x[j + 1]
        d = b - a
        ref = float(np.quantile(x, q))
        if g >= 0.5 and len(upper) < 8 and a + d * g != ref:
            upper.append(q)
        if g < 0.5 and len(lower) < 8 and b - d * (1 - g) != ref:
            lower.append(q)
    qs_lerp = upper + lower
    out.append({"name": "lerp_branches", "sorted": [float(v) for v in x], "q": qs_lerp,
                "quantile": [float(np.quantile(x, q)) for q in qs_lerp]})
    dump("quantile.json", {"versions": VERSIONS, "levels": levels, "cases": out})


# ---------------------------------------------------------------- metrics on a multiset
def metrics_cases():
    rng = np.random.default_rng(7)
    out = []
    for name, n, c, n_resamples in [("c7", 60, 7, 3), ("c3", 40, 3, 2), ("c12", 90, 12, 2)]:
        labels = rng.integers(0, c, size=n)
        # Make the last class rare so that some resamples miss it entirely.
        labels[labels == c - 1] = 0
        labels[rng.integers(0, n)] = c - 1

        def scores(signal):
            s = rng.normal(size=(n, c))
            s[np.arange(n), labels] += signal
            return s

        methods = {"base": scores(1.0), "enhanced": scores(1.4)}
        ranks = {m: [int((s[i] > s[i, labels[i]]).sum()) for i in range(n)] for m, s in methods.items()}
        multisets = [list(range(n))] + [sorted(int(i) for i in rng.integers(0, n, size=n))
                                       for _ in range(n_resamples)]
        multisets.append(sorted(int(i) for i in rng.integers(0, n, size=n // 3)))  # smaller multiset
        resamples = []
        for idx in multisets:
            idx_a = np.asarray(idx)
            y = labels[idx_a]
            entry = {"indices": idx, "classes_present": int(len(np.unique(y)))}
            for m, s in methods.items():
                sm = s[idx_a]
                pred = sm.argmax(axis=1)
                metrics = {
                    "acc1": float(accuracy_score(y, pred)),
                    "mean_per_class_recall": float(balanced_accuracy_score(y, pred)),
                }
                if c >= 5:
                    metrics["acc5"] = float(top_k_accuracy_score(y, sm, k=5, labels=np.arange(c)))
                entry[m] = metrics
            resamples.append(entry)
        out.append({
            "name": name, "num_classes": c, "labels": [int(v) for v in labels],
            "base_rank": ranks["base"], "enhanced_rank": ranks["enhanced"], "resamples": resamples,
        })
    dump("metrics.json", {"versions": VERSIONS, "cases": out})


if __name__ == "__main__":
    import warnings
    warnings.filterwarnings("ignore", message="y_pred contains classes not in y_true")
    mcnemar_cases()
    quantile_cases()
    metrics_cases()
