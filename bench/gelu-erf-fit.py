#!/usr/bin/python3
"""
Where the patch's GELU(erf) coefficients come from (ggml-cpu/vec.h, ggml_v_one_plus_erf; issue 19),
and how exact the formula is in float32 against float64. Needs numpy (Debian: /usr/bin/python3).

    /usr/bin/python3 bench/gelu-erf-fit.py

Prints the three least-squares fits (Chebyshev nodes, float64) with their fit errors, then the
formula evaluated in float32 (numpy; no FMA, so a little less exact than the AVX2 code) against
float64's GELU and against 0.5 x (1 + erf(x / sqrt 2)) rounded through float32 the way libm's erff
is used (erf rounded to float32, then the float32 sum and products).
"""
from math import erf, erfc, exp
import numpy as np

P = np.polynomial.polynomial


def cheb(a, b, n):
    return (a + b) / 2 + (b - a) / 2 * np.cos(np.pi * (np.arange(n) + 0.5) / n)


# |t| <= 1: erf(t) / t as a polynomial in t^2
t = cheb(0, 1, 4000)
p_small = P.polyfit(t * t, [erf(v) / v for v in t], 6)
# |t| > 1: S(u) = |t| exp(t^2) erfc(|t|), u = 1 / |t| in [0.1, 1], a polynomial in v = (u - 0.55) / 0.45
u = cheb(0.1, 1.0, 4000)
S = np.array([(1 / x) * exp((1 / x) ** 2) * erfc(1 / x) for x in u])
p_tail = P.polyfit((u - 0.55) / 0.45, S, 11)
# e^r on [-ln 2 / 2, ln 2 / 2]
r = cheb(-np.log(2) / 2, np.log(2) / 2, 4000)
p_exp = P.polyfit(r, np.exp(r), 6)

for name, c, x, f in (('erf(t)/t in t^2', p_small, (t * t), [erf(v) / v for v in t]),
                      ('S(v)', p_tail, (u - 0.55) / 0.45, S),
                      ('e^r', p_exp, r, np.exp(r))):
    f = np.asarray(f)
    print(f'{name}: max relative fit error {np.max(np.abs(P.polyval(x, c) - f) / np.abs(f)):.2g}')
    # as the patch writes them: float32, 9 significant digits
    print('  coefficients, highest degree first:', ', '.join(('%.8e' % np.float32(v)).replace('e-0', 'e-').replace('e+0', 'e+') for v in c[::-1]))

f32 = np.float32


def horner(c, x):
    acc = np.full_like(x, f32(c[-1]))
    for k in range(len(c) - 2, -1, -1):
        acc = (acc * x + f32(c[k])).astype(np.float32)
    return acc


def gelu32(x):
    x = x.astype(np.float32)
    t = (x * f32(0.70710678118654752440)).astype(np.float32)
    a = np.abs(t)
    t2 = (t * t).astype(np.float32)
    small = (f32(1) + t * horner(p_small, t2)).astype(np.float32)
    ac = np.clip(a, f32(1), f32(10))
    uu = (f32(1) / ac).astype(np.float32)
    v = (uu * f32(1 / 0.45) + f32(-0.55 / 0.45)).astype(np.float32)
    s = horner(p_tail, v)
    y = np.maximum(-t2, f32(-87))
    n = np.round(y * f32(1.44269504)).astype(np.float32)
    rr = (y - n * f32(0.693115234) - n * f32(3.19461849e-05)).astype(np.float32)
    e = (horner(p_exp, rr) * np.exp2(n).astype(np.float32)).astype(np.float32)
    e = np.where(t2 < 87, e, f32(0))
    erfc_a = (e * s * uu).astype(np.float32)
    large = np.where(t > 0, f32(2) - erfc_a, erfc_a).astype(np.float32)
    return (f32(0.5) * x * np.where(a > 1, large, small)).astype(np.float32)


xs = np.linspace(-16, 16, 2_000_001).astype(np.float32)
ref = np.array([0.5 * float(v) * erfc(-float(v) / np.sqrt(2)) for v in xs])
libm = np.array([f32(0.5) * v * (f32(1) + f32(erf(float(v * f32(0.70710678118654752440))))) for v in xs], dtype=np.float32)
ours = gelu32(xs)
print(f'|x| < 16, max abs error against float64: formula in float32 {np.max(np.abs(ours - ref)):.2g}, '
      f'0.5 x (1 + erff) {np.max(np.abs(libm - ref)):.2g}')
neg = (xs < -6) & (np.abs(ref) > 1e-30)
print(f'-13 < x < -6 (GELU above 1e-30), max relative error: formula {np.max(np.abs(ours[neg] - ref[neg]) / np.abs(ref[neg])):.2g}, '
      f'0.5 x (1 + erff) {np.max(np.abs(libm[neg] - ref[neg]) / np.abs(ref[neg])):.2g}')
