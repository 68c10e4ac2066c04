"""Fits the polynomial of the WebAssembly exp (src/exec/wasm/vmath.ts, EXP_P) and checks it.

e^r = 1 + r + r^2 P(r) on |r| <= ln2/2, P of degree `deg`, fitted for minimal relative error by
Lawson's iteration (iteratively reweighted least squares towards the minimax solution). The
float32 evaluation is then emulated exactly as the kernel does it (Cody-Waite reduction, Horner in
float32, one power-of-two factor) on 5M inputs in [-87, 87], and compared with float64 exp rounded
to float32: max error in ulps and the share of results that are not correctly rounded.

Run: python3 scripts/fit-exp-poly.py
"""
import numpy as np

HALF_LN2 = np.log(2) / 2
CEPHES = [5.0000001201e-1, 1.6666665459e-1, 4.1665795894e-2, 8.3334519073e-3, 1.3981999507e-3, 1.9875691500e-4]


def fit(deg):
    r = np.cos(np.linspace(0, np.pi, 4000)) * HALF_LN2 * 1.0005
    target = (np.exp(r) - 1 - r) / r**2
    weight = r**2 / np.exp(r)  # error of P, relative to e^r
    basis = np.vstack([r**k for k in range(deg + 1)]).T
    w = np.ones_like(r)
    for _ in range(300):
        sw = np.sqrt(w) * weight
        c, *_ = np.linalg.lstsq(basis * sw[:, None], target * sw, rcond=None)
        err = np.abs((basis @ c - target) * weight)
        w = w * err
        w /= w.sum()
    return [float(np.float32(x)) for x in c], err.max()


def ulp_error(coeffs):
    f = np.float32
    cs = [f(x) for x in coeffs]
    x = np.random.default_rng(1).uniform(-87, 87, 4_000_000).astype(f)
    x = np.concatenate([x, np.linspace(-1, 1, 1_000_000, dtype=f)])
    magic = f(12582912 + 127)  # 1.5 * 2^23 + the exponent bias, as the kernel's EXP_BIAS
    t = x * f(1.4426950408889634) + magic
    j = t - magic
    n = t.view(np.int32) - np.int32(0x4B400000 + 127)
    r = (x - j * f(0.693359375)) - j * f(-2.12194440e-4)
    p = cs[-1]
    for c in reversed(cs[:-1]):
        p = p * r + c
    p = p * (r * r) + r + f(1)
    y = p * ((n + 127) << 23).astype(np.int32).view(f)
    ref = np.exp(x.astype(np.float64)).astype(f)
    d = np.abs(y.view(np.int32).astype(np.int64) - ref.view(np.int32).astype(np.int64))
    return int(d.max()), float((d > 0).mean())


print("Cephes P (degree 5): max %d ulp, %.1f%% not correctly rounded" % (ulp_error(CEPHES)[0], 100 * ulp_error(CEPHES)[1]))
for deg in (3, 4):
    coeffs, rel = fit(deg)
    worst, share = ulp_error(coeffs)
    print("fitted P degree %d: relative error %.2e; max %d ulp, %.1f%% not correctly rounded; %s" % (deg, rel, worst, 100 * share, coeffs))
