#!/usr/bin/env python3
"""Writes the reference values PortableMathTests checks PortableMath against.

Run from anywhere: python3 make_math_fixtures.py  (mpmath). Output goes beside this script:
exp.bin, log.bin, log1p.bin, sincos.bin, pow.bin, hypot.bin. For a larger one-off check,
`--scale 25 --seed 987654321 --out DIR` writes 25 times as many random arguments (~300 000 in all,
~8 MB) to DIR, and `PORTABLE_MATH_FIXTURES=DIR swift test --filter PortableMathTests` measures
against those instead (without the pinned list of misrounded cases, which is for these fixtures).

Every expected value is mpmath's at 200 bits and again at 400 bits (more for sin/cos of huge
arguments, which need the argument's exponent in extra bits), rounded once to the nearest double
(ties to even, subnormals on their own grid, overflow to inf) by the integer arithmetic below; the
script refuses to write a value on which the two precisions disagree. Special values (NaN, ±inf,
signed zeros, pow's C99/IEEE 754 table) are written by hand from the standard, not computed.

File format, little-endian: 8 bytes magic "VLSAEMF1", u32 arity (arguments per case), u32 outputs
per case, then for each case the arguments as float64 bit patterns, and per output the correctly
rounded float64 and a float32 `frac` = (exact − rounded) / ulp(exact), where ulp(exact) is the
spacing of doubles in the binade of the exact value (2⁻¹⁰⁷⁴ for subnormals); frac is 0 for
special values and exact results. The Swift test measures the error of a result c as
|c − exact| / ulp(exact) = |(c − rounded)/ulp − frac|.

Arguments: edge cases, then a few thousand seeded random arguments per function, log-uniform over
the domain and dense where the functions are hard: near 1 for log, near 0 and −1 for log1p, near
multiples of π/2 (up to 2⁶⁰·π/2) and huge arguments for sin/cos, the Box–Muller arguments
2π·u and the cosine schedule's π·t/T as the Swift code forms them, integer powers of Adam's betas
up to 10⁶, Zipf and spectrum weights rank^−s, x near 1 with large |y| and results near overflow
and in the subnormal range for pow.
"""
import argparse
import math
import os
import random
import struct

from mpmath import mp, mpf

HERE = os.path.dirname(os.path.abspath(__file__))
OUT = HERE
SCALE = 1
INF = math.inf
NAN = math.nan
DMAX = 1.7976931348623157e308
DMIN = 2.2250738585072014e-308
TINY = 5e-324


def n(count):
    """How many random arguments of one kind: `count` times --scale."""
    return count * SCALE


def bits(x):
    return struct.unpack("<Q", struct.pack("<d", x))[0]


def from_bits(b):
    return struct.unpack("<d", struct.pack("<Q", b))[0]


def round_double(v):
    """(nearest double to the mpf v, (v − it)/ulp(v) as float)."""
    if v == 0:
        return 0.0, 0.0
    s = -1 if v < 0 else 1
    a = abs(v)
    _, ex = mp.frexp(a)  # a = m·2^ex, 0.5 ≤ m < 1: binade exponent ex − 1
    q = max(ex - 1 - 52, -1074)
    n = mp.ldexp(a, -q)
    N = int(mp.floor(n))
    rem = n - N
    if rem > 0.5 or (rem == 0.5 and N % 2 == 1):
        N += 1
    frac = float(s * (n - N))
    if N * mpf(2) ** q >= mpf(2) ** 1024:
        return s * INF, 0.0
    return s * math.ldexp(float(N), q), frac


def reference(f, args, prec_extra=0):
    out = []
    for prec in (200, 400):
        mp.prec = prec + prec_extra
        out.append(round_double(f(*[mpf(a) for a in args])))
    (d1, f1), (d2, f2) = out
    assert bits(d1) == bits(d2), (f, args, d1, d2)
    mp.prec = 400
    return d2, f2


class Writer:
    def __init__(self, name, arity, outputs):
        self.name, self.arity, self.outputs = name, arity, outputs
        self.records = []
        self.seen = set()

    def add(self, args, results):
        key = tuple(bits(a) for a in args)
        if key in self.seen:
            return
        self.seen.add(key)
        assert len(args) == self.arity and len(results) == self.outputs
        self.records.append((args, results))

    def write(self):
        data = bytearray(b"VLSAEMF1" + struct.pack("<II", self.arity, self.outputs))
        for args, results in self.records:
            for a in args:
                data += struct.pack("<d", a)
            for d, frac in results:
                data += struct.pack("<df", d, frac)
        with open(os.path.join(OUT, self.name + ".bin"), "wb") as fh:
            fh.write(data)
        print(f"{self.name}.bin: {len(self.records)} cases, {len(data)} bytes")


def loguniform(rng, lo_exp, hi_exp):
    """|x| with a uniformly random binade in [lo_exp, hi_exp) and a random 52-bit mantissa."""
    e = rng.randrange(lo_exp, hi_exp)
    m = 1 + rng.getrandbits(52) / 2**52
    return math.ldexp(m, e)


def random_positive_double(rng):
    """Uniform over the bit patterns of positive finite doubles, subnormals included."""
    while True:
        b = rng.getrandbits(63)
        x = from_bits(b)
        if math.isfinite(x) and x > 0:
            return x


# ---------------------------------------------------------------- exp

def make_exp(rng):
    w = Writer("exp", 1, 1)
    specials = [(0.0, 1.0), (-0.0, 1.0), (INF, INF), (-INF, 0.0), (NAN, NAN), (710.0, INF), (1000.0, INF),
                (DMAX, INF), (-746.0, 0.0), (-1000.0, 0.0), (-DMAX, 0.0)]
    for x, y in specials:
        w.add([x], [(y, 0.0)])
    w.add([math.nextafter(709.782712893384, INF)], [(INF, 0.0)])
    edges = [TINY, -TINY, DMIN, 2.0**-60, -2.0**-60, 2.0**-54, -2.0**-54, 2.0**-53, -2.0**-55, 1.0, -1.0,
             0.5, -0.5, math.log(2), -math.log(2), 709.782712893384, 709.78, 709.0, -708.3964185322641,
             -708.39641853226408, -708.4, -709.0, -720.0, -740.0, -744.4400719213812,
             -745.1332191019411, -745.1332191019412, -745.13321910194122, -745.1, 1e-10, -1e-10,
             2.0**-30, 88.72283905206835, 0.34657359027997264, -0.34657359027997264]
    for x in edges:
        w.add([x], [reference(mp.exp, [x])])
    rand = []
    rand += [rng.uniform(-745.2, 709.8) for _ in range(n(650))]
    rand += [rng.choice((-1, 1)) * loguniform(rng, -54, 9) for _ in range(n(500))]
    rand += [rng.uniform(-745.14, -708.3) for _ in range(n(300))]
    rand += [rng.uniform(700, 709.782712893384) for _ in range(n(150))]
    # Reduction boundaries: (k + ½)·ln2/128 and k·ln2/128, nudged by a few ulps.
    c = math.log(2) / 128
    for _ in range(n(350)):
        k = rng.randrange(-137000, 131000)
        x = (k + rng.choice((0.0, 0.5))) * c
        for _ in range(rng.randrange(0, 4)):
            x = math.nextafter(x, rng.choice((INF, -INF)))
        rand.append(x)
    for x in rand:
        if -745.2 < x < 709.79:
            w.add([x], [reference(mp.exp, [x])])
    return w


# ---------------------------------------------------------------- log

def make_log(rng):
    w = Writer("log", 1, 1)
    specials = [(0.0, -INF), (-0.0, -INF), (-1.0, NAN), (-TINY, NAN), (-INF, NAN), (INF, INF), (NAN, NAN),
                (1.0, 0.0)]
    for x, y in specials:
        w.add([x], [(y, 0.0)])
    edges = [TINY, 2 * TINY, DMIN, math.nextafter(DMIN, 0), DMAX, 2.0, 0.5, math.nextafter(1, 2),
             math.nextafter(1, 0), 1 + 2**-30, 1 - 2**-30, math.e, 10.0, 0.1, 1.41015625,
             math.nextafter(1.41015625, 0), 0.705078125, math.sqrt(2), math.sqrt(0.5), 1e300, 1e-300,
             1.0 + 1 / 256, 1.0 - 1 / 256, 127.5 / 128, 128.5 / 128, 90.25 / 128, 180.5 / 128]
    for x in edges:
        w.add([x], [reference(mp.log, [x])])
    rand = []
    rand += [random_positive_double(rng) for _ in range(n(700))]
    rand += [1 + rng.choice((-1, 1)) * rng.random() * 2.0**-rng.randrange(1, 53) for _ in range(n(650))]
    rand += [rng.uniform(0.7, 1.42) for _ in range(n(350))]
    rand += [from_bits(rng.getrandbits(52) | 1) for _ in range(n(150))]  # subnormals
    rand += [rng.random() for _ in range(n(150))]  # the Box–Muller arguments u ∈ (0, 1)
    for x in rand:
        if x > 0:
            w.add([x], [reference(mp.log, [x])])
    return w


# ---------------------------------------------------------------- log1p

def make_log1p(rng):
    w = Writer("log1p", 1, 1)
    specials = [(-1.0, -INF), (-2.0, NAN), (-INF, NAN), (INF, INF), (NAN, NAN), (0.0, 0.0), (-0.0, -0.0),
                (math.nextafter(-1, -INF), NAN)]
    for x, y in specials:
        w.add([x], [(y, 0.0)])
    edges = [TINY, -TINY, DMIN, -DMIN, 2.0**-60, -2.0**-60, 2.0**-61, -2.0**-61, 2.0**-59, -2.0**-59,
             2.0**-53, -2.0**-53, math.nextafter(-1, 0), -1 + 2**-40, -0.5, -0.75, 0.5, 1.0, 2.0**53, 2.0**60,
             1e300, DMAX, 1e-300, -1e-300, 0.41015625, -0.294921875, 1 / 256, -1 / 256]
    for x in edges:
        w.add([x], [reference(mp.log1p, [x])])
    rand = []
    rand += [loguniform(rng, -70, 1024) for _ in range(n(550))]
    rand += [-loguniform(rng, -70, 0) for _ in range(n(400))]
    rand += [-1 + rng.random() * 2.0**-rng.randrange(1, 53) for _ in range(n(350))]
    rand += [rng.choice((-1, 1)) * loguniform(rng, -60, -20) for _ in range(n(300))]
    rand += [rng.uniform(-0.5, 1) for _ in range(n(300))]
    rand += [rng.choice((-1, 1)) * loguniform(rng, -1074, -60) for _ in range(n(50))]
    for x in rand:
        if x > -1:
            w.add([x], [reference(mp.log1p, [x])])
    return w


# ---------------------------------------------------------------- sin, cos

def make_sincos(rng):
    w = Writer("sincos", 1, 2)
    w.add([0.0], [(0.0, 0.0), (1.0, 0.0)])
    w.add([-0.0], [(-0.0, 0.0), (1.0, 0.0)])
    for x in (INF, -INF, NAN):
        w.add([x], [(NAN, 0.0), (NAN, 0.0)])

    def both(x):
        extra = max(0, math.frexp(x)[1]) if x != 0 else 0
        w.add([x], [reference(mp.sin, [x], extra), reference(mp.cos, [x], extra)])

    pi = math.pi
    edges = [TINY, -TINY, DMIN, 2.0**-26, -2.0**-26, math.nextafter(2.0**-26, 0), 2.0**-27,
             math.nextafter(2.0**-27, 0), 1e-8, pi / 4, math.nextafter(pi / 4, 0), math.nextafter(pi / 4, 4),
             pi / 2, pi, 3 * pi / 2, 2 * pi, -pi / 2, -pi, 1.0, -1.0, 0.5, 2.0**20, math.nextafter(2.0**20, 0),
             -2.0**20, 1e6, 1e22, 2.0**52, 2.0**53, 2.0**64, 2.0**200, 2.0**1000, 1e308, DMAX, -DMAX,
             6381956970095103 * 2.0**797, -6381956970095103 * 2.0**797, 5706348936637624 * 2.0**-44,
             0.7978515625, 0.80078125, 51.5 / 64, 50.5 / 64, 1 / 128, 3 / 128]
    for x in edges:
        both(x)
    rand = []
    rand += [2 * pi * (rng.getrandbits(53) * 2.0**-53) for _ in range(n(500))]  # Box–Muller, as Swift forms it
    for _ in range(n(150)):  # cosine schedule: Double.pi * Double(t) / Double(tMax)
        tmax = rng.randrange(1, 2000)
        rand.append(pi * rng.randrange(0, tmax + 1) / tmax)
    rand += [rng.choice((-1, 1)) * loguniform(rng, -30, 20) for _ in range(n(400))]
    rand += [rng.choice((-1, 1)) * loguniform(rng, 20, 1024) for _ in range(n(250))]
    for _ in range(n(450)):  # the doubles nearest multiples of π/2, a few ulps either side
        k = int(2 ** rng.uniform(0, 20)) if rng.random() < 0.8 else int(2 ** rng.uniform(20, 60))
        mp.prec = 200
        x = float(mp.pi / 2 * k)
        if rng.random() < 0.5:
            for _ in range(rng.randrange(0, 4)):
                x = math.nextafter(x, rng.choice((INF, -INF)))
        else:  # up to 2²⁰ ulps away: reduced arguments from ~2⁻⁵⁰·x upwards
            x += rng.choice((-1, 1)) * int(2 ** rng.uniform(2, 20)) * math.ulp(x)
        rand.append(rng.choice((-1, 1)) * x)
    rand += [rng.uniform(-pi, pi) for _ in range(n(200))]
    for x in rand:
        both(x)
    return w


# ---------------------------------------------------------------- pow

def c99_pow_special(x, y):
    """The C99 F.9.4.4 / IEEE 754 pow special cases, or None when the value is computed."""
    def is_int(v):
        return math.isfinite(v) and v == math.floor(v)

    def is_odd(v):
        return is_int(v) and abs(v) < 2**53 and int(v) % 2 == 1

    if y == 0:
        return 1.0
    if x == 1:
        return 1.0
    if math.isnan(x) or math.isnan(y):
        return NAN
    if math.isinf(y):
        if x == -1:
            return 1.0
        return 0.0 if (abs(x) < 1) == (y > 0) else INF
    if x == 0:
        neg = math.copysign(1, x) < 0
        if y < 0:
            return (-INF if neg else INF) if is_odd(y) else INF
        return (-0.0 if neg else 0.0) if is_odd(y) else 0.0
    if math.isinf(x):
        if x > 0:
            return INF if y > 0 else 0.0
        if y > 0:
            return -INF if is_odd(y) else INF
        return -0.0 if is_odd(y) else 0.0
    if x < 0 and not is_int(y):
        return NAN
    return None


def pow_exact(x, y):
    if x < 0:
        sign = -1 if (abs(y) < 2**53 and int(y) % 2 == 1) else 1
        return sign * mp.power(-x, y)
    return mp.power(x, y)


def make_pow(rng):
    w = Writer("pow", 2, 1)

    def add(x, y):
        s = c99_pow_special(x, y)
        if s is not None:
            w.add([x, y], [(s, 0.0)])
            return
        # |y·log x| > 800: certain overflow/underflow, no need for mpmath at huge precision.
        t = y * math.log(abs(x))
        if t > 800 or t < -800:
            neg = x < 0 and abs(y) < 2**53 and int(y) % 2 == 1
            v = INF if t > 0 else 0.0
            w.add([x, y], [(-v if neg else v, 0.0)])
            return
        w.add([x, y], [reference(pow_exact, [x, y])])

    specials_x = [0.0, -0.0, 1.0, -1.0, INF, -INF, NAN, 0.5, -0.5, 2.0, -2.0, TINY, -TINY, DMAX, -DMAX]
    specials_y = [0.0, -0.0, 1.0, -1.0, 2.0, -2.0, 3.0, -3.0, 0.5, -0.5, 1.5, INF, -INF, NAN, 2.0**53,
                  2.0**53 + 2, -(2.0**53), 2.0**64, -(2.0**70), 1e308, -1e308, TINY, 1023.0, -1074.0]
    for x in specials_x:
        for y in specials_y:
            add(x, y)
    exact = [(2.0, 10.0), (10.0, 2.0), (4.0, 0.5), (9.0, 0.5), (2.0, -1074.0), (2.0, -1075.0), (2.0, 1023.0),
             (2.0, 1024.0), (0.5, 1074.0), (3.0, 3.0), (-3.0, 3.0), (-2.0, -1.0), (1e10, 2.0), (5.0, -2.0),
             (16.0, 0.25), (1e-200, 2.0), (10.0, 308.0), (10.0, -323.0), (10.0, -324.0)]
    for x, y in exact:
        add(x, y)
    # Adam's bias corrections 1 − β^t, t up to 10⁶.
    for beta in (0.9, 0.999, 0.99, 0.98, 0.95, 0.995, 0.9999):
        for t in [1, 2, 3, 10, 100, 1000, 10**4, 10**5, 10**6] + [rng.randrange(1, 10**6) for _ in range(n(40))]:
            add(beta, float(t))
    # Zipf and spectrum weights rank^−s, ranks up to 10⁵.
    for s in (1.0, 1.07, 0.5, 0.8, 1.2, 1.5, 2.0):
        for r in [1, 2, 3, 1536, 10**5] + [int(2 ** rng.uniform(0, 17)) for _ in range(n(40))]:
            add(float(r), -s)
    for _ in range(n(150)):
        add(float(rng.randrange(1, 100001)), -rng.uniform(0.3, 2.5))
    # Random x over the whole range, y such that y·log x stays in the finite range.
    for _ in range(n(550)):
        x = random_positive_double(rng)
        if x == 1:
            continue
        t = rng.uniform(-745, 709.7)
        add(x, t / math.log(x))
    # x near 1 with large |y|.
    for _ in range(n(350)):
        k = rng.randrange(1, 53)
        x = 1 + rng.choice((-1, 1)) * rng.random() * 2.0**-k
        if x == 1:
            continue
        t = rng.uniform(-745, 709.7)
        add(x, t / math.log(x))
    # Results near overflow, and in and around the subnormal range.
    for _ in range(n(250)):
        x = rng.choice((loguniform(rng, -30, 30), rng.uniform(0.5, 2)))
        if x == 1:
            continue
        t = rng.choice((rng.uniform(700, 709.78), rng.uniform(-745.13, -700)))
        add(x, t / math.log(x))
    # Negative x with integer y; small integer y (squares, cubes, reciprocals…).
    for _ in range(n(150)):
        x = -loguniform(rng, -20, 20)
        add(x, float(rng.randrange(-40, 41)))
    for _ in range(n(150)):
        add(loguniform(rng, -60, 60), float(rng.randrange(-8, 9)))
    for _ in range(n(200)):
        add(rng.uniform(0, 100), rng.uniform(-10, 10))
    return w


# ---------------------------------------------------------------- hypot

def make_hypot(rng):
    w = Writer("hypot", 2, 1)
    for x, y, r in [(INF, NAN, INF), (NAN, -INF, INF), (-INF, 1.0, INF), (NAN, 1.0, NAN), (1.0, NAN, NAN),
                    (0.0, 0.0, 0.0), (-0.0, -0.0, 0.0), (-3.0, 0.0, 3.0), (0.0, -5.0, 5.0), (DMAX, DMAX, INF)]:
        w.add([x, y], [(r, 0.0)])

    def add(x, y):
        w.add([x, y], [reference(lambda a, b: mp.sqrt(a * a + b * b), [x, y])])

    for x, y in [(3.0, 4.0), (DMAX, 1.0), (DMAX / 2, DMAX / 2), (DMIN, DMIN), (TINY, TINY), (1e300, 1e300),
                 (1e-300, 1e-300), (1.0, 2.0**-27), (1.0, 2.0**-26), (1.0, 1.0), (5e-324, 1e-310)]:
        add(x, y)
    for _ in range(n(200)):
        x = rng.choice((-1, 1)) * loguniform(rng, -1000, 1000)
        y = rng.choice((-1, 1)) * abs(x) * loguniform(rng, -30, 1)
        add(x, y)
    for _ in range(n(100)):
        add(rng.uniform(-10, 10), rng.uniform(-10, 10))
    return w


def main():
    global OUT, SCALE
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--scale", type=int, default=1, help="multiply the random argument counts (default 1)")
    ap.add_argument("--seed", type=int, default=20250611)
    ap.add_argument("--out", default=HERE, help="output folder (default: beside this script)")
    a = ap.parse_args()
    OUT, SCALE = a.out, a.scale
    os.makedirs(OUT, exist_ok=True)
    rng = random.Random(a.seed)
    for make in (make_exp, make_log, make_log1p, make_sincos, make_pow, make_hypot):
        make(rng).write()


if __name__ == "__main__":
    main()
