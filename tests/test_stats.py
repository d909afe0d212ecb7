"""Statistical tests of the fills: distributions, moments, tails, support, independence.

Every test uses fixed seeds, so its outcome is fixed; the thresholds are chosen so that a correct
implementation passes them with overwhelming probability over seeds (a different kernel gives
different numbers for the same seed):

- goodness of fit (Kolmogorov-Smirnov, chi-square): p-value above ``P_FLOOR`` = 1e-6;
- moments, tail counts and correlations: within ``SIGMAS`` = 6 standard errors of the exact value,
  the standard errors computed from the exact moments of the target distribution (moments taken
  about the exact mean, so the estimators are unbiased and their variances exact).

The 10^7-element tests are marked ``slow`` (they still run in CI).
"""
from __future__ import annotations

import itertools
import math

import numpy as np
import pytest
from scipy import integrate, special, stats

import fastinit
from fastinit.fills import Z_MAX

P_FLOOR = 1e-6
SIGMAS = 6.0
BLOCK = 4096  # elements per block (fastinit.kernels.rng.BLOCK): the stream layout under test
LANES = 16  # interleaved streams per block; element i comes from lane i % LANES

FLOATS = [np.float16, np.float32, np.float64]
BIG = 10**7  # the slow tests' sample size
N = 10**6  # the others'


# --- shared assertions -----------------------------------------------------------------------------

def _flat64(x) -> np.ndarray:
    return np.asarray(x).reshape(-1).astype(np.float64)


def assert_ks(x, cdf, what: str) -> None:
    """One-sample Kolmogorov-Smirnov test of ``x`` against the continuous ``cdf`` (a callable on
    float64 arrays, e.g. ``scipy.stats.norm(0, 1).cdf``): p-value above ``P_FLOOR``.

    Same statistic and p-value as ``scipy.stats.kstest`` (checked in ``test_ks_helper_matches_scipy``),
    but sorts in the sample's own dtype, which is several times faster on 10^7 float32 values."""
    x = np.asarray(x).reshape(-1)
    assert x.size > 0
    s = np.sort(x).astype(np.float64)
    assert np.isfinite(s).all(), f"{what}: non-finite values"
    n = s.size
    f = np.asarray(cdf(s), np.float64)
    assert np.all((f >= 0) & (f <= 1)), f"{what}: reference cdf out of [0, 1]"
    upper = np.arange(1, n + 1, dtype=np.float64) / n
    d_plus = float(np.max(upper - f))
    d_minus = float(np.max(f - (upper - 1.0 / n)))
    d = max(d_plus, d_minus)
    p = float(stats.kstwo.sf(d, n))
    assert p > P_FLOOR, (f"{what}: KS statistic D={d:.4g} (D+={d_plus:.4g}, D-={d_minus:.4g}) on n={n}: "
                         f"p={p:.3g} <= {P_FLOOR}")


def assert_sigmas(what: str, got: float, want: float, se: float) -> None:
    """``got`` within ``SIGMAS`` standard errors ``se`` of the exact value ``want``."""
    assert se > 0
    off = (got - want) / se
    assert abs(off) <= SIGMAS, f"{what}: {got!r}, exact {want!r}: off by {off:+.2f} sigma (sigma = {se:.3g})"


def assert_mean_var(x, mean: float, var: float, mu4: float, what: str) -> None:
    """Sample mean and variance (about the exact mean) of ``x`` against the exact ``mean`` and
    ``var``; ``mu4`` is the exact fourth central moment (it sets the variance's standard error)."""
    x = _flat64(x)
    n = x.size
    assert np.isfinite(x).all(), f"{what}: non-finite values"
    assert_sigmas(f"{what}: mean", float(x.mean()), mean, math.sqrt(var / n))
    d = x - mean
    assert_sigmas(f"{what}: variance", float(np.mean(d * d)), var, math.sqrt((mu4 - var * var) / n))


def assert_normal_moments(x, mean: float, std: float, what: str) -> None:
    """Mean, variance, skewness and kurtosis of ``x`` against N(mean, std^2), all about the exact
    mean and scaled by the exact std: z = (x - mean)/std has E z^3 = 0 (var 15/n) and
    E z^4 = 3 (var (105 - 9)/n)."""
    x = _flat64(x)
    n = x.size
    assert_mean_var(x, mean, std * std, 3.0 * std**4, what)
    z = (x - mean) / std
    z3 = z * z * z
    assert_sigmas(f"{what}: skewness", float(np.mean(z3)), 0.0, math.sqrt(15.0 / n))
    assert_sigmas(f"{what}: kurtosis", float(np.mean(z3 * z)), 3.0, math.sqrt(96.0 / n))


def assert_count(what: str, count: int, n: int, p: float) -> None:
    """``count`` successes in ``n`` trials against Binomial(n, p): within 6 sigma of n p."""
    assert_sigmas(what, float(count), n * p, math.sqrt(n * p * (1.0 - p)))


def assert_uncorrelated(a, b, what: str) -> None:
    """|Pearson correlation of a and b| < SIGMAS / sqrt(n), its standard error under independence."""
    a = _flat64(a)
    b = _flat64(b)
    n = a.size
    a = a - a.mean()
    b = b - b.mean()
    r = float(np.dot(a, b) / math.sqrt(np.dot(a, a) * np.dot(b, b)))
    assert abs(r) < SIGMAS / math.sqrt(n), f"{what}: correlation {r:+.3g} on n={n} (bound {SIGMAS / math.sqrt(n):.3g})"


def assert_autocorrelation(x, lags, what: str) -> None:
    """|corr(x[i], x[i + lag])| < SIGMAS / sqrt(n - lag) for each lag (x standardized once by its
    sample mean and standard deviation, which changes the estimate by O(lag / n) only)."""
    x = _flat64(x)
    d = x - x.mean()
    d /= math.sqrt(float(np.dot(d, d)) / d.size)
    for lag in lags:
        m = d.size - lag
        r = float(np.dot(d[:-lag], d[lag:])) / m
        assert abs(r) < SIGMAS / math.sqrt(m), f"{what}: lag {lag} autocorrelation {r:+.3g} on n={m} (bound {SIGMAS / math.sqrt(m):.3g})"


def assert_chisquare(counts, expected, what: str) -> None:
    counts = np.asarray(counts, np.float64)
    expected = np.asarray(expected, np.float64)
    assert expected.min() >= 5, f"{what}: too few expected per cell for chi-square"
    p = float(stats.chisquare(counts, expected).pvalue)
    assert p > P_FLOOR, f"{what}: chi-square p={p:.3g} <= {P_FLOOR} (counts {counts.min():g}..{counts.max():g}, expected {expected.mean():.4g})"


def truncnorm_cdf(a: float, b: float, mean: float, std: float):
    """The cdf of N(mean, std^2) truncated to [mean + a std, mean + b std], accurate deep in either
    tail (differences of upper-tail probabilities above 0, lower-tail ones below). The same
    function as ``scipy.stats.truncnorm(a, b, loc=mean, scale=std).cdf`` (checked against it in
    ``test_truncnorm_reference_cdf``), 50 times faster on 10^6 points."""
    mirror = a > 0  # deep upper tail: use Q(z) = Phi(-z)

    def cdf(x):
        z = (np.asarray(x, np.float64) - mean) / std
        if mirror:
            qa, qb = special.ndtr(-a), special.ndtr(-b)
            f = (qa - special.ndtr(-z)) / (qa - qb)
        else:
            pa, pb = special.ndtr(a), special.ndtr(b)
            f = (special.ndtr(z) - pa) / (pb - pa)
        return np.clip(f, 0.0, 1.0)

    return cdf


def truncnorm_moments(a: float, b: float, mean: float = 0.0, std: float = 1.0) -> tuple[float, float, float]:
    """Exact (mean, variance, fourth central moment) of N(mean, std^2) truncated to
    [mean + a std, mean + b std], by quadrature in a coordinate u = (z - c)/h local to the interval
    (c its midpoint and h its half width, or c its finite end and h = 1), where nothing cancels.
    Agrees with ``scipy.stats.truncnorm(a, b).stats()`` to 1e-9 (``test_truncnorm_reference``)
    except on very narrow intervals, where scipy's variance is 0.4% off (8.2995e-10 for
    [0.5, 0.5 + 1e-4], the exact value being 8.33333333e-10)."""
    if math.isfinite(a) and math.isfinite(b):
        c, h = (a + b) / 2, (b - a) / 2
    else:
        c, h = (a if math.isfinite(a) else b), 1.0
    lo, hi = (a - c) / h, (b - c) / h
    log_w = lambda u: -c * h * u - (h * u) ** 2 / 2  # noqa: E731  log density, up to a constant
    shift = 0.0 if lo <= -c / h <= hi else max(log_w(lo), log_w(hi))  # its maximum on [lo, hi]
    nodes, weights = np.polynomial.legendre.leggauss(120)  # exact to ~1e-16 for these smooth w

    def integral(g):
        if math.isfinite(hi - lo):  # [lo, hi] = [-1, 1]: Gauss-Legendre
            return float(np.sum(weights * np.array([g(u) * math.exp(log_w(u) - shift) for u in nodes])))
        return integrate.quad(lambda u: g(u) * math.exp(log_w(u) - shift), lo, hi, epsabs=1e-14, epsrel=1e-12,
                              limit=200)[0]

    z0 = integral(lambda u: 1.0)
    m_u = integral(lambda u: u) / z0
    mu2 = integral(lambda u: (u - m_u) ** 2) / z0
    mu4 = integral(lambda u: (u - m_u) ** 4) / z0
    return mean + std * (c + h * m_u), (std * h) ** 2 * mu2, (std * h) ** 4 * mu4


def test_ks_helper_matches_scipy():
    x = fastinit.normal(20000, seed=3, dtype=np.float32)
    ref = stats.kstest(x.astype(np.float64), stats.norm.cdf)
    assert_ks(x, stats.norm.cdf, "normal")
    s = np.sort(x).astype(np.float64)
    n = s.size
    f = stats.norm.cdf(s)
    d = max(np.max(np.arange(1, n + 1) / n - f), np.max(f - np.arange(n) / n))
    assert d == pytest.approx(ref.statistic, rel=1e-12)
    assert stats.kstwo.sf(d, n) == pytest.approx(ref.pvalue, rel=1e-6)
    with pytest.raises(AssertionError, match="KS"):  # and the helper does reject a wrong fit
        assert_ks(x, stats.norm(0.1, 1).cdf, "shifted")


# --- uniform -----------------------------------------------------------------------------------------

UNIFORM_FIT = [
    pytest.param(np.float32, 0.0, 1.0, BIG, marks=pytest.mark.slow, id="float32-[0,1)"),
    pytest.param(np.float32, -3.0, 5.0, BIG, marks=pytest.mark.slow, id="float32-[-3,5)"),
    pytest.param(np.float64, 0.0, 1.0, N, id="float64-[0,1)"),
    pytest.param(np.float64, -0.1, 0.3, N, id="float64-[-0.1,0.3)"),
]


@pytest.mark.parametrize("dtype, low, high, n", UNIFORM_FIT)
def test_uniform_ks(dtype, low, high, n):
    x = fastinit.uniform(n, low=low, high=high, dtype=dtype, seed=11)
    assert_ks(x, stats.uniform(low, high - low).cdf, f"uniform[{low}, {high}) {np.dtype(dtype).name}")


@pytest.mark.parametrize("dtype, low, high, n", UNIFORM_FIT)
def test_uniform_chisquare_1024_bins(dtype, low, high, n):
    x = _flat64(fastinit.uniform(n, low=low, high=high, dtype=dtype, seed=12))
    k = np.floor((x - low) / (high - low) * 1024).astype(np.int64)
    assert k.min() >= 0 and k.max() <= 1023
    counts = np.bincount(k, minlength=1024)
    assert_chisquare(counts, np.full(1024, n / 1024), f"uniform[{low}, {high}) {np.dtype(dtype).name}, 1024 bins")


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("low, high", [(0.0, 1.0), (-3.0, 5.0), (-1e-3, 1e-3)])
def test_uniform_moments(dtype, low, high):
    w = high - low
    x = fastinit.uniform(N, low=low, high=high, dtype=dtype, seed=13)
    assert_mean_var(x, (low + high) / 2, w * w / 12, w**4 / 80, f"uniform[{low}, {high}) {np.dtype(dtype).name}")


def _dtype_values_between(low: float, high: float, dtype) -> tuple[float, float]:
    """The smallest and largest values of ``dtype`` in [low, high), by brute force."""
    t = np.dtype(dtype).type
    vmin = t(low)
    while float(vmin) < low:
        vmin = np.nextafter(vmin, t(np.inf))
    vmax = t(high)
    while float(vmax) >= high:
        vmax = np.nextafter(vmax, t(-np.inf))
    return float(vmin), float(vmax)


@pytest.mark.parametrize("dtype", FLOATS + [np.complex64, np.complex128])
@pytest.mark.parametrize("low, high", [(0.0, 1.0), (-1e-3, 1e-3), (1.0, 1.001), (-3.0, 5.0), (0.1, 0.2),
                                       (-1.0, -0.999), (0.7, 0.70001), (1e4, 1e4 + 64)])
def test_uniform_support(dtype, low, high):
    """min >= low and max < high (never == high) in every dtype, also where rounding the
    float64 value to the dtype could reach ``high`` or fall below ``low``; and the extremes are
    reached (the range is not cut short)."""
    n = N
    part = np.finfo(np.dtype(dtype)).dtype
    vmin, vmax = _dtype_values_between(low, high, part)
    if not vmin <= vmax:  # no value of the dtype in [low, high): refused
        with pytest.raises(ValueError):
            fastinit.uniform(n, low=low, high=high, dtype=dtype, seed=14)
        return
    x = fastinit.uniform(n, low=low, high=high, dtype=dtype, seed=14)
    parts = [x.real, x.imag] if np.iscomplexobj(x) else [x]
    for name, p in zip(["real", "imag"], parts):
        v = _flat64(p)
        assert np.isfinite(v).all()
        lo_, hi_ = float(v.min()), float(v.max())
        what = f"uniform[{low!r}, {high!r}) {np.dtype(dtype).name} {name}"
        assert lo_ >= low, f"{what}: min {lo_!r} < low"
        assert hi_ < high, f"{what}: max {hi_!r} >= high"
        assert not np.any(v == high)
        # the smallest/largest value is within 30/n of the ends (a miss has probability e^-30),
        # or, on a coarse grid, is the dtype's extreme value itself
        slack = 30.0 * (high - low) / n
        assert lo_ <= max(low + slack, vmin), f"{what}: min {lo_!r} far above low"
        assert hi_ >= min(high - slack, vmax), f"{what}: max {hi_!r} far below high"
        # not too many values pile up on the clamped end values (at most 2 grid steps of mass)
        for end in (vmin, vmax):
            step = abs(float(np.spacing(part.type(end))))
            p_end = 2.0 * step / (high - low)
            if p_end * n < 1e4:
                cnt = int(np.count_nonzero(v == end))
                assert cnt <= n * p_end + SIGMAS * math.sqrt(n * p_end) + 10, f"{what}: {cnt} values at {end!r}"


@pytest.mark.parametrize("dtype, bits", [(np.float32, 24), (np.float64, 53)])
def test_uniform_resolution(dtype, bits):
    """On [0, 1) the values are k / 2^bits (module docstring of fastinit.kernels.uniform) with
    every low bit of k fair (binomial, 6 sigma), and repeated values no more common than for
    uniform k: the number of distinct values of n draws from 2^bits has mean
    M (1 - (1 - 1/M)^n), and the number of repeats is close to Poisson (6 sigma)."""
    x = fastinit.uniform(N, dtype=dtype, seed=15)
    k = _flat64(x) * 2.0**bits
    assert np.all(k == np.floor(k)), "values off the k / 2^bits grid"
    k = k.astype(np.uint64)
    for bit in range(6):
        ones = int(np.count_nonzero((k >> np.uint64(bit)) & np.uint64(1)))
        assert_count(f"uniform {np.dtype(dtype).name}: bit {bit} of k", ones, N, 0.5)
    m = 2.0**bits
    repeats = N - np.unique(k).size
    expected = N - m * -math.expm1(N * math.log1p(-1.0 / m))
    assert repeats <= expected + SIGMAS * math.sqrt(expected) + 2, f"{repeats} repeated values, expected {expected:.1f}"
    assert repeats >= expected - SIGMAS * math.sqrt(expected) - 2, f"{repeats} repeated values, expected {expected:.1f}"


# --- normal ------------------------------------------------------------------------------------------

@pytest.mark.slow
def test_normal_ks_float32():
    x = fastinit.normal(BIG, dtype=np.float32, seed=21)
    assert_ks(x, stats.norm(0, 1).cdf, "normal(0, 1) float32")


def test_normal_ks_float64():
    x = fastinit.normal(N, mean=-1.5, std=0.25, dtype=np.float64, seed=22)
    assert_ks(x, stats.norm(-1.5, 0.25).cdf, "normal(-1.5, 0.25) float64")


def test_normal_ks_float32_mean_std():
    x = fastinit.normal(N, mean=3.0, std=0.5, dtype=np.float32, seed=23)
    assert_ks(x, stats.norm(3.0, 0.5).cdf, "normal(3, 0.5) float32")


@pytest.mark.parametrize("dtype, n, mean, std", [
    pytest.param(np.float32, BIG, 0.0, 1.0, marks=pytest.mark.slow, id="float32-big"),
    pytest.param(np.float32, N, 0.7, 0.02, id="float32"),
    pytest.param(np.float64, N, -2.0, 3.0, id="float64"),
    pytest.param(np.float16, N, 0.0, 1.0, id="float16"),
    pytest.param(np.float16, N, 1.0, 0.1, id="float16-mean"),
])
def test_normal_moments(dtype, n, mean, std):
    x = fastinit.normal(n, mean=mean, std=std, dtype=dtype, seed=24)
    assert x.dtype == dtype
    assert np.isfinite(x).all()
    assert_normal_moments(x, mean, std, f"normal({mean}, {std}) {np.dtype(dtype).name}")


@pytest.mark.slow
@pytest.mark.parametrize("dtype, chunks", [(np.float32, 10), (np.float64, 4)])
def test_normal_tails(dtype, chunks):
    """Fractions beyond 4 and 5 standard deviations, each side, against the exact tail
    probabilities (binomial, 6 sigma) on chunks x 10^7 draws; no value beyond the documented
    cut-off (Z_MAX); all finite."""
    thresholds = [3.0, 4.0, 5.0]
    above = dict.fromkeys(thresholds, 0)
    below = dict.fromkeys(thresholds, 0)
    zmax = 0.0
    for c in range(chunks):
        x = fastinit.normal(BIG, dtype=dtype, seed=1000 + c)
        assert np.isfinite(x).all()
        zmax = max(zmax, float(np.max(np.abs(x))))
        for t in thresholds:
            above[t] += int(np.count_nonzero(x > t))
            below[t] += int(np.count_nonzero(x < -t))
    n = chunks * BIG
    name = np.dtype(dtype).name
    for t in thresholds:
        q = float(stats.norm.sf(t))
        assert_count(f"normal {name}: count > {t}", above[t], n, q)
        assert_count(f"normal {name}: count < -{t}", below[t], n, q)
        assert_count(f"normal {name}: count |z| > {t}", above[t] + below[t], n, 2 * q)
    assert zmax <= Z_MAX


def test_normal_tails_float64_fine():
    """|z| > 4 on 10^6 float64 draws with a non-trivial mean/std (binomial, 6 sigma)."""
    x = _flat64(fastinit.normal(N, mean=5.0, std=0.1, dtype=np.float64, seed=25))
    z = (x - 5.0) / 0.1
    for t in (2.5, 3.5, 4.0):
        assert_count(f"normal float64: |z| > {t}", int(np.count_nonzero(np.abs(z) > t)), N, 2 * float(stats.norm.sf(t)))


# --- truncated normal --------------------------------------------------------------------------------

# standardized intervals [a, b]; the fills get lo = mean + a std, hi = mean + b std
TRUNC = {
    "central[-2,2]": (-2.0, 2.0),
    "asym[-0.5,3]": (-0.5, 3.0),
    "upper[0,inf)": (0.0, math.inf),
    "lower(-inf,1]": (-math.inf, 1.0),
    "tail[3,5]": (3.0, 5.0),
    "fartail[6,inf)": (6.0, math.inf),
    "negtail[-12,-10]": (-12.0, -10.0),
    "narrow[0.5,0.5+1e-4]": (0.5, 0.5 + 1e-4),
}
MEAN, STD = 1.0, 2.0


def _bounds(a, b, mean=MEAN, std=STD):
    return mean + a * std, mean + b * std


@pytest.mark.parametrize("name", list(TRUNC))
def test_truncnorm_reference(name):
    """The fast cdf used below is scipy.stats.truncnorm's cdf; the moments are scipy's mean and
    variance (but for the variance on the very narrow interval, where scipy's is inaccurate)."""
    a, b = TRUNC[name]
    d = stats.truncnorm(a, b, loc=MEAN, scale=STD)
    pts = d.ppf(np.linspace(0.0005, 0.9995, 401))
    np.testing.assert_allclose(truncnorm_cdf(a, b, MEAN, STD)(pts), d.cdf(pts), rtol=0, atol=1e-9)
    m, v, _ = truncnorm_moments(a, b, MEAN, STD)
    sm, sv = (float(t) for t in d.stats(moments="mv"))
    assert m == pytest.approx(sm, rel=1e-10, abs=1e-10)
    if name.startswith("narrow"):
        assert v == pytest.approx(STD**2 * 1e-8 / 12, rel=1e-6)  # nearly uniform: width^2/12
    else:
        assert v == pytest.approx(sv, rel=1e-9)


def _truncnorm_ks_params():
    out = []
    for name, (a, b) in TRUNC.items():
        for dtype in (np.float32, np.float64):
            if name.startswith("narrow") and dtype == np.float32:
                continue  # quantized to ~800 float32 values: see test_truncnorm_moments
            out.append(pytest.param(name, dtype, MEAN, STD, id=f"{name}-{np.dtype(dtype).name}"))
    out.append(pytest.param("central[-2,2]", np.float64, 0.0, 1.0, id="central[-2,2]-float64-standard"))
    out.append(pytest.param("fartail[6,inf)", np.float64, 0.0, 1.0, id="fartail[6,inf)-float64-standard"))
    out.append(pytest.param("narrow[0.5,0.5+1e-4]", np.float64, 0.0, 1.0, id="narrow-float64-standard"))
    return out


@pytest.mark.parametrize("name, dtype, mean, std", _truncnorm_ks_params())
def test_truncnorm_ks(name, dtype, mean, std):
    a, b = TRUNC[name]
    lo, hi = _bounds(a, b, mean, std)
    x = fastinit.truncated_normal(N, mean=mean, std=std, lo=lo, hi=hi, dtype=dtype, seed=31)
    assert_ks(x, truncnorm_cdf(a, b, mean, std), f"truncated_normal {name} mean={mean} std={std} {np.dtype(dtype).name}")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("name", list(TRUNC))
def test_truncnorm_moments(name, dtype):
    a, b = TRUNC[name]
    lo, hi = _bounds(a, b)
    x = fastinit.truncated_normal(N, mean=MEAN, std=STD, lo=lo, hi=hi, dtype=dtype, seed=32)
    assert_mean_var(x, *truncnorm_moments(a, b, MEAN, STD), f"truncated_normal {name} {np.dtype(dtype).name}")


@pytest.mark.parametrize("dtype", FLOATS)
@pytest.mark.parametrize("name", list(TRUNC))
@pytest.mark.parametrize("mean, std", [(MEAN, STD), (0.0, 1.0), (-0.3, 0.02)])
def test_truncnorm_support(name, dtype, mean, std):
    """Every value lies in [lo, hi] after rounding to the dtype (compared in float64), is finite,
    and (where the dtype resolves the interval) the values reach close to a finite bound."""
    a, b = TRUNC[name]
    lo, hi = _bounds(a, b, mean, std)
    n = 200_000
    t = np.dtype(dtype).type
    first = t(lo) if math.isfinite(lo) else t(-np.inf)
    if float(first) < lo:
        first = np.nextafter(first, t(np.inf))
    if not float(first) <= hi:  # no value of the dtype in [lo, hi]
        with pytest.raises(ValueError):
            fastinit.truncated_normal(n, mean=mean, std=std, lo=lo, hi=hi, dtype=dtype, seed=33)
        return
    x = fastinit.truncated_normal(n, mean=mean, std=std, lo=lo, hi=hi, dtype=dtype, seed=33)
    assert x.dtype == dtype
    v = _flat64(x)
    what = f"truncated_normal {name} mean={mean} std={std} {np.dtype(dtype).name}"
    assert np.isfinite(v).all(), what
    assert float(v.min()) >= lo, f"{what}: min {float(v.min())!r} < lo {lo!r}"
    assert float(v.max()) <= hi, f"{what}: max {float(v.max())!r} > hi {hi!r}"
    # the extremes are where they should be: the q-quantile of n draws, q = 30/n, bounds the
    # smallest value (and 1 - q the largest) except with probability e^-30; one dtype step of slack
    d = stats.truncnorm(a, b, loc=mean, scale=std)
    q = 30.0 / n
    step = lambda t: float(np.spacing(np.dtype(dtype).type(t)))  # noqa: E731
    low_q, high_q = float(d.ppf(q)), float(d.isf(q))
    assert float(v.min()) <= low_q + abs(step(low_q)), f"{what}: min {float(v.min())!r} above the {q:g}-quantile {low_q!r}"
    assert float(v.max()) >= high_q - abs(step(high_q)), f"{what}: max {float(v.max())!r} below the {1 - q:g}-quantile {high_q!r}"


# --- complex normal ----------------------------------------------------------------------------------

@pytest.mark.parametrize("dtype, mean, std", [
    (np.complex64, 1.0 + 2.0j, 3.0),
    (np.complex64, 0.5, 1.0),
    (np.complex64, -0.25j, 0.1),
    (np.complex128, -1.0 + 0.5j, 2.0),
])
def test_complex_normal(dtype, mean, std):
    """Real and imaginary parts each N(Re/Im mean, std^2/2) (KS and moments), uncorrelated, and
    E|v - mean|^2 = std^2."""
    x = fastinit.normal(N, mean=mean, std=std, dtype=dtype, seed=41)
    assert x.dtype == dtype
    m = complex(mean)
    s = std / math.sqrt(2.0)
    re, im = _flat64(x.real), _flat64(x.imag)
    name = f"complex normal({m}, {std}) {np.dtype(dtype).name}"
    assert_ks(re, stats.norm(m.real, s).cdf, f"{name} real part")
    assert_ks(im, stats.norm(m.imag, s).cdf, f"{name} imaginary part")
    assert_normal_moments(re, m.real, s, f"{name} real part")
    assert_normal_moments(im, m.imag, s, f"{name} imaginary part")
    assert_uncorrelated(re, im, f"{name}: real vs imaginary")
    assert_uncorrelated(re[:-1], im[1:], f"{name}: real vs next imaginary")
    # |v - mean|^2 = std^2/2 (chi-square with 2 dof): mean std^2, variance std^4
    e = (re - m.real) ** 2 + (im - m.imag) ** 2
    assert_sigmas(f"{name}: E|v - mean|^2", float(e.mean()), std * std, std * std / math.sqrt(N))


# --- independence: serial, across lanes and blocks, across seeds -------------------------------------

def _fill(kind, n, dtype, seed):
    if kind == "uniform":
        return fastinit.uniform(n, dtype=dtype, seed=seed)
    return fastinit.normal(n, dtype=dtype, seed=seed)


@pytest.mark.slow
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kind", ["uniform", "normal"])
def test_serial_correlation(kind, dtype):
    """|corr| < 6/sqrt(n) between x[i] and x[i + lag] for adjacent elements (1, 2), lane
    neighbours (15, 17), the same lane's next position (16: for 32-bit floats the other half of
    the same stream output, or the other Box-Muller value), its next output (32), the same
    lane one block on (4096); the same for squared deviations, which sees dependence a
    correlation of the values misses (e.g. a Box-Muller pair shares its radius)."""
    x = _flat64(_fill(kind, BIG, dtype, seed=51))
    d = x - (0.5 if kind == "uniform" else 0.0)
    sq = d * d
    name = f"{kind} {np.dtype(dtype).name}"
    for series, what in ((x, "values"), (sq, "squared deviations")):
        assert_autocorrelation(series, (1, 2, 15, 16, 17, 32, BLOCK, BLOCK + LANES), f"{name} {what}")


@pytest.mark.slow
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kind", ["uniform", "normal"])
def test_lanes_uncorrelated_and_alike(kind, dtype):
    """Every pair of lanes (columns of the (n/16, 16) view) is uncorrelated (adjacent lanes
    included); every lane has the right mean and variance."""
    x = _flat64(_fill(kind, BIG, dtype, seed=52)).reshape(-1, LANES)
    m = x.shape[0]
    r = np.corrcoef(x, rowvar=False)
    off = np.abs(r[~np.eye(LANES, dtype=bool)])
    worst = np.unravel_index(np.argmax(np.abs(r - np.eye(LANES))), r.shape)
    assert off.max() < SIGMAS / math.sqrt(m), (f"{kind} {np.dtype(dtype).name}: lanes {worst} correlation "
                                               f"{r[worst]:+.3g} (bound {SIGMAS / math.sqrt(m):.3g})")
    for lane in range(LANES):
        col = x[:, lane]
        if kind == "uniform":
            assert_mean_var(col, 0.5, 1 / 12, 1 / 80, f"uniform lane {lane}")
        else:
            assert_mean_var(col, 0.0, 1.0, 3.0, f"normal lane {lane}")


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("kind", ["uniform", "normal"])
def test_first_values_after_seeding(kind, dtype):
    """The first values every stream gives (lane positions 0 and 1 of every block), right after
    seeding from (seed, stream number), are distributed as the rest: KS on 2 x 16 x 1024 values."""
    n_blocks = 1024
    x = _fill(kind, n_blocks * BLOCK, dtype, seed=53).reshape(n_blocks, BLOCK)
    first = x[:, : 2 * LANES]
    ref = stats.uniform(0, 1) if kind == "uniform" else stats.norm(0, 1)
    assert_ks(first, ref.cdf, f"{kind} {np.dtype(dtype).name}: first two values of each stream")
    assert_ks(x[:, -2 * LANES:], ref.cdf, f"{kind} {np.dtype(dtype).name}: last two values of each stream")


@pytest.mark.parametrize("kind", ["uniform", "normal"])
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_seeds_uncorrelated(kind, dtype):
    """Different seeds give uncorrelated tensors (including seeds one bit apart, and lane 0 of one
    against lane 1 of the other), equal at no more places than chance allows."""
    pairs = [(0, 1), (1, 2), (0, 2**63), (12345, 12346), (2**64 - 1, 0)]
    for s, t in pairs:
        x = _fill(kind, N, dtype, s)
        y = _fill(kind, N, dtype, t)
        assert not np.array_equal(x, y)
        assert_uncorrelated(x, y, f"{kind} {np.dtype(dtype).name}: seed {s} vs seed {t}")
        assert_uncorrelated(x.reshape(-1, LANES)[:, 0], y.reshape(-1, LANES)[:, 1],
                            f"{kind} {np.dtype(dtype).name}: seed {s} lane 0 vs seed {t} lane 1")
        # same value at the same place is no more common than chance
        same = int(np.count_nonzero(x == y))
        assert same < 50, f"{kind}: seeds {s} and {t} agree at {same} of {N} places"


# --- sparse ------------------------------------------------------------------------------------------

SPARSE_ROWS = [1, 2, 3, 7, 64, 1000, 1023, 1025]
SPARSITIES = [0.0, 0.1, 0.5, 0.9, 0.999]


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("rows", SPARSE_ROWS)
def test_sparse_zeros_per_column(rows, dtype):
    """Exactly ceil(sparsity * rows) zeros in every column, for several shapes and sparsities
    (column counts chosen so that blocks straddle rows)."""
    for cols in (1, 37, 4097 // max(rows // 8, 1) + 3):
        for s in SPARSITIES:
            x = fastinit.sparse(rows, cols, sparsity=s, std=0.5, dtype=dtype, seed=61)
            assert x.shape == (rows, cols)
            zeros = np.count_nonzero(x == 0, axis=0)
            nz = math.ceil(s * rows)
            bad = np.flatnonzero(zeros != nz)
            assert bad.size == 0, (f"sparse({rows}, {cols}, sparsity={s}) {np.dtype(dtype).name}: column {bad[0]} has "
                                   f"{zeros[bad[0]]} zeros, expected {nz} ({bad.size} columns wrong)")
            assert np.isfinite(x).all()


def test_sparse_zeros_per_column_float16():
    """float16 with std=1 (std=0.01 can round a normal value to 0 in float16)."""
    for rows, cols in [(7, 300), (1000, 33), (1025, 17)]:
        for s in SPARSITIES:
            x = fastinit.sparse(rows, cols, sparsity=s, std=1.0, dtype=np.float16, seed=62)
            assert np.all(np.count_nonzero(x == 0, axis=0) == math.ceil(s * rows)), (rows, cols, s)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("sparsity", [0.1, 0.5, 0.9])
def test_sparse_nonzero_values_normal(sparsity, dtype):
    """The nonzero values are N(0, std): KS and moments, so the zeros are not chosen by value."""
    std = 0.3
    x = fastinit.sparse(1000, 1000, sparsity=sparsity, std=std, dtype=dtype, seed=63)
    v = x[x != 0]
    assert v.size == 1000 * (1000 - math.ceil(sparsity * 1000))
    name = f"sparse(sparsity={sparsity}) {np.dtype(dtype).name} nonzeros"
    assert_ks(v, stats.norm(0, std).cdf, name)
    assert_normal_moments(v, 0.0, std, name)


# (rows, cols, sparsity) for the zero-position tests: about 10^6 elements each
SPARSE_LAYOUT = [(2, 100_000, 0.5), (3, 100_000, 0.5), (3, 100_000, 0.1), (5, 60_000, 0.4), (7, 50_000, 0.4),
                 (16, 20_000, 0.1), (64, 16_000, 0.1), (64, 16_000, 0.9), (1000, 1000, 0.1), (1023, 1000, 0.5),
                 (1025, 1000, 0.9)]


@pytest.mark.parametrize("rows, cols, sparsity", SPARSE_LAYOUT)
def test_sparse_zero_rows_uniform(rows, cols, sparsity):
    """Every row is zero in the same fraction of columns: chi-square of the zero counts per row.

    A column's zero set is a uniform nz-subset of the rows, so the count of row r over cols columns
    has mean cols p (p = nz/rows) and the counts' covariance is cols p (1-p) rows/(rows-1) (I - J/rows):
    sum (count - mean)^2 / (cols p (1-p) rows/(rows-1)) is chi-square with rows - 1 degrees of freedom."""
    x = fastinit.sparse(rows, cols, sparsity=sparsity, seed=64)
    nz = math.ceil(sparsity * rows)
    z = x == 0
    counts = np.count_nonzero(z, axis=1).astype(np.float64)
    p = nz / rows
    assert counts.sum() == nz * cols
    if rows == 1 or nz in (0, rows):
        return
    stat = float(np.sum((counts - cols * p) ** 2) / (cols * p * (1 - p) * rows / (rows - 1)))
    pval = float(stats.chi2.sf(stat, rows - 1))
    assert pval > P_FLOOR, (f"sparse({rows}, {cols}, sparsity={sparsity}): zero counts per row not uniform: "
                            f"chi2={stat:.1f} on {rows - 1} dof, p={pval:.3g}; counts {counts.min():g}..{counts.max():g}, "
                            f"expected {cols * p:.1f}")


@pytest.mark.parametrize("rows, cols, sparsity", [(2, 100_000, 0.5), (3, 100_000, 0.5), (3, 100_000, 0.1),
                                                  (4, 100_000, 0.5), (5, 60_000, 0.4), (6, 60_000, 0.5),
                                                  (7, 70_000, 0.4), (8, 70_000, 0.25), (9, 50_000, 0.2),
                                                  (16, 50_000, 0.1), (33, 60_000, 0.05)])
def test_sparse_zero_sets_uniform(rows, cols, sparsity):
    """For few rows, each column's set of zero rows is uniform over all C(rows, nz) subsets:
    chi-square over the subsets (a much finer test of the row permutation than the row counts)."""
    x = fastinit.sparse(rows, cols, sparsity=sparsity, seed=65)
    nz = math.ceil(sparsity * rows)
    z = (x == 0).astype(np.int64)
    code = (z * (1 << np.arange(rows, dtype=np.int64))[:, None]).sum(axis=0)  # bitmask per column
    subsets = [sum(1 << r for r in c) for c in itertools.combinations(range(rows), nz)]
    index = {s: i for i, s in enumerate(subsets)}
    counts = np.zeros(len(subsets))
    uniq, cnt = np.unique(code, return_counts=True)
    for u, c in zip(uniq, cnt):
        assert int(u) in index, f"a column with {bin(int(u)).count('1')} zeros"
        counts[index[int(u)]] = c
    assert_chisquare(counts, np.full(len(subsets), cols / len(subsets)),
                     f"sparse({rows}, {cols}, sparsity={sparsity}): zero sets over {len(subsets)} subsets")


@pytest.mark.parametrize("rows, cols, sparsity", [(64, 16_000, 0.1), (1000, 1000, 0.1), (1023, 1000, 0.5),
                                                  (1025, 1000, 0.9)])
def test_sparse_zero_positions_differ_across_columns(rows, cols, sparsity):
    """Zero sets of different columns are (pairwise) independent: all columns differ, and the
    overlap of adjacent (and of 2-apart) columns' zero sets has the hypergeometric mean, 6 sigma;
    also no row's zero indicator is correlated with the next row's."""
    x = fastinit.sparse(rows, cols, sparsity=sparsity, seed=66)
    nz = math.ceil(sparsity * rows)
    z = (x == 0)
    assert np.unique(np.packbits(z, axis=0), axis=1).shape[1] == cols, "two columns have the same zero rows"
    zf = z.astype(np.float64)
    # overlap of two independent uniform nz-subsets of rows: hypergeometric(rows, nz, nz)
    mean = nz * nz / rows
    var = nz * (nz / rows) * ((rows - nz) / rows) * ((rows - nz) / (rows - 1))
    for gap in (1, 2, 37):
        overlap = np.sum(zf[:, :-gap] * zf[:, gap:], axis=0)
        m = overlap.size
        assert_sigmas(f"sparse({rows}, {cols}, {sparsity}): zero-set overlap of columns {gap} apart",
                      float(overlap.mean()), mean, math.sqrt(var / m))
    # S = number of adjacent row pairs (r, r+1) both zero in a column; for a uniform nz-subset of R
    # rows, q_k = P(k given rows all zero): E S = (R-1) q2, E S^2 = (R-1) q2 + 2(R-2) q3 + (R-2)(R-3) q4
    R = rows
    q2, q3, q4 = (math.prod((nz - i) / (R - i) for i in range(k)) for k in (2, 3, 4))
    es = (R - 1) * q2
    vs = (R - 1) * q2 + 2 * (R - 2) * q3 + (R - 2) * (R - 3) * q4 - es * es
    both = float(np.sum(zf[:-1] * zf[1:]))
    assert_sigmas(f"sparse({rows}, {cols}, {sparsity}): adjacent rows both zero", both, cols * es, math.sqrt(cols * vs))


# --- the polar kernel (JAX's complex variance scaling) at 10^7 ------------------------------------

@pytest.mark.slow
@pytest.mark.parametrize("dtype", [np.complex64, np.complex128])
@pytest.mark.parametrize("distribution", ["uniform", "truncated_normal"])
def test_polar_kernel_at_ten_million(dtype, distribution):
    """|v|^2 and the angle have the laws of kernels/polar.py and are independent: the disk's
    |v|^2 / (2 sigma^2) ~ U(0, 1); the truncated modulus' |v|^2 / s^2 ~ Exp(1) cut at 4
    (s = sigma / 0.95311...); the angle uniform; corr(|v|^2, angle) and corr(re, im) ~ 0."""
    variance = 1e-3
    v = fastinit.variance_scaling(1000, BIG // 1000, scale=1.0, distribution=distribution,  # fan_in 1000
                                  layout="jax", dtype=dtype, seed=2024).ravel()
    assert np.isfinite(v).all()
    m2 = (np.abs(v.astype(np.complex128)) ** 2)
    turns = np.mod(np.angle(v) / (2 * np.pi), 1.0)
    if distribution == "uniform":
        x = m2 / (2 * variance)
        assert x.max() <= 1 + 1e-6
        p = stats.kstest(x, "uniform").pvalue
    else:
        x = m2 / (variance / fastinit.COMPLEX_TRUNCATED_STD**2)
        assert x.max() <= 4 * (1 + 1e-6)
        c = -math.expm1(-4.0)
        p = stats.kstest(np.minimum(x, 4.0), lambda t: -np.expm1(-t) / c).pvalue
    assert p > 1e-6, p
    assert stats.kstest(turns, "uniform").pvalue > 1e-6
    n = v.size
    assert abs(np.corrcoef(x, turns)[0, 1]) < 6 / math.sqrt(n)
    assert abs(np.corrcoef(v.real, v.imag)[0, 1]) < 6 / math.sqrt(n)
