"""fastinit against the reference frameworks: torch.nn.init, Keras 3 (numpy backend),
jax.nn.initializers, and ports of WeightInitializers.jl's and Keraflow's formulas.

- fans and gains: equal to each framework's own function;
- variance-scaling family: the standard deviation / bound of every initializer and layout equals
  the reference formula evaluated with the reference framework's own fan function;
- distributions: two-sample Kolmogorov-Smirnov tests against torch's, Keras' and JAX's own
  outputs (with a negative control showing the tests have power);
- deterministic initializers (stft, eye, dirac, identity): exact values;
- orthogonal: orthogonality of the layout's flattened matrix, determinism, dtype.

Every test uses fixed seeds, so its outcome is fixed; thresholds are such that a correct
implementation passes with overwhelming probability over seeds: KS p-values above ``P_FLOOR``
= 1e-6, moments within ``SIGMAS`` = 6 standard errors (estimated from the sample's own fourth
moment).

torch, keras and jax are imported with ``pytest.importorskip`` in the tests that need them, so
the file runs (partly skipped) where one is missing. Keras runs on the numpy backend: the
environment variable is set here, before anything imports keras; if keras was already imported
with another backend, its outputs are still converted with ``keras.ops.convert_to_numpy``.
"""
from __future__ import annotations

import os

os.environ["KERAS_BACKEND"] = "numpy"  # before any import of keras

import math  # noqa: E402

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from scipy import stats  # noqa: E402

import fastinit  # noqa: E402
from fastinit.registry import PRESETS  # noqa: E402

P_FLOOR = 1e-6
SIGMAS = 6.0
TRUNCATED_STD = 0.87962566103423978  # keras random_initializers.py VarianceScaling.__call__
LAYOUTS = ("torch", "keras", "jax", "lux", "keraflow")


# --- framework imports -----------------------------------------------------------------------------

@pytest.fixture(scope="module")
def torch():
    return pytest.importorskip("torch")


@pytest.fixture(scope="module")
def keras():
    return pytest.importorskip("keras")


@pytest.fixture(scope="module")
def jax():
    jax = pytest.importorskip("jax")
    import jax.nn.initializers  # noqa: F401
    return jax


def _knp(keras, x) -> np.ndarray:
    """A Keras backend tensor as a numpy array (a no-op on the numpy backend)."""
    return np.asarray(keras.ops.convert_to_numpy(x))


# --- shared assertions -----------------------------------------------------------------------------

def _flat64(x) -> np.ndarray:
    return np.asarray(x).reshape(-1).astype(np.float64)


def _ks_p(a, b) -> float:
    """The p-value of ``scipy.stats.ks_2samp(a, b, method="asymp")``, about twice as fast on
    10^6 float32 values: sorted in their own dtype, the empirical CDFs compared at every point."""
    a = np.sort(np.asarray(a).reshape(-1))
    b = np.sort(np.asarray(b).reshape(-1))
    assert np.isfinite(a).all() and np.isfinite(b).all()
    n, m = a.size, b.size
    d = max(float(np.max(np.abs(np.searchsorted(a, x, "right") / n - np.searchsorted(b, x, "right") / m)))
            for x in (a, b))
    return float(stats.kstwo.sf(d, round(n * m / (n + m))))


def assert_ks(ours, theirs, what: str) -> None:
    """Two-sample Kolmogorov-Smirnov: ``ours`` and ``theirs`` come from one distribution."""
    p = _ks_p(ours, theirs)
    assert p > P_FLOOR, (f"{what}: two-sample KS p={p:.3g} (n={np.size(ours)}, m={np.size(theirs)}); "
                         f"ours mean {np.mean(ours):.6g} std {np.std(ours):.6g}, "
                         f"theirs mean {np.mean(theirs):.6g} std {np.std(theirs):.6g}")


def assert_std(x, sigma: float, what: str) -> None:
    """Mean 0 and standard deviation ``sigma`` within ``SIGMAS`` standard errors. The standard
    error of the sample standard deviation is sqrt((mu4 - s^4) / (4 n s^2)) (delta method), with
    the sample's own moments."""
    x = _flat64(x)
    n = x.size
    m = float(x.mean())
    d = x - m
    d2 = d * d
    m2 = float(d2.mean())
    m4 = float((d2 * d2).mean())
    s = math.sqrt(m2)
    se = math.sqrt(max(m4 - m2 * m2, 0.0) / (4.0 * n * m2))
    assert abs(m) <= SIGMAS * sigma / math.sqrt(n), f"{what}: mean {m:.4g}, expected 0 (std {sigma:.6g}, n={n})"
    assert abs(s - sigma) <= SIGMAS * se, (f"{what}: std {s:.7g}, expected {sigma:.7g} "
                                           f"(ratio {s / sigma:.6f}, {SIGMAS:g} SE = {SIGMAS * se:.3g})")


def assert_uniform_support(x, bound: float, what: str) -> None:
    """Values in [-bound, bound), reaching both ends (n >= 1e6: P(miss) ~ e^-50)."""
    x = np.asarray(x)
    lo, hi = float(x.min()), float(x.max())
    assert hi < bound, f"{what}: max {hi!r} >= bound {bound!r}"
    assert lo >= -bound, f"{what}: min {lo!r} < -bound {-bound!r}"
    assert hi > bound * (1 - 1e-4), f"{what}: max {hi!r} not near the bound {bound!r}"
    assert lo < -bound * (1 - 1e-4), f"{what}: min {lo!r} not near -bound {-bound!r}"


def assert_truncated_support(x, sigma: float, what: str) -> None:
    """Keras/JAX truncation: |v| <= 2 s, s = sigma / TRUNCATED_STD, and |v| reaching 2 s (with
    n >= 1e6 about 230 values are expected within 0.1% of the edge)."""
    s = sigma / TRUNCATED_STD
    top = float(np.max(np.abs(x)))
    assert top <= 2 * s * (1 + 1e-9), f"{what}: max |v| {top!r} > 2 s = {2 * s!r} (truncated)"
    assert top > 2 * s * (1 - 1e-3), f"{what}: max |v| {top!r} not near 2 s = {2 * s!r}"


def assert_untruncated_tail(x, sigma: float, what: str) -> None:
    """An untruncated normal has values beyond 3 sigma (expected 0.27%; a Keras/JAX truncated one
    has none beyond 2.27 sigma)."""
    x = np.asarray(x)
    frac = float(np.mean(np.abs(x) > 3 * sigma))
    assert 0.002 < frac < 0.0035, f"{what}: fraction beyond 3 sigma {frac:.5f}, expected 0.0027 (untruncated)"


# --- reference fan functions -----------------------------------------------------------------------

def lux_nfan(shape):
    """WeightInitializers.jl: nfan() = 1,1; nfan(n) = 1,n; nfan(n_out, n_in) = n_in, n_out;
    nfan(dims...) = prod(dims[1:end-2]) .* (dims[end-1], dims[end])."""
    if len(shape) == 0:
        return 1, 1
    if len(shape) == 1:
        return 1, shape[0]
    if len(shape) == 2:
        return shape[1], shape[0]
    rf = math.prod(shape[:-2])
    return rf * shape[-2], rf * shape[-1]


def keraflow_fans(shape):
    """keraflow.initializations.get_fans: 2-D (shape[0], shape[1]); 4-D/5-D rf = prod(shape[2:]),
    (shape[0]*rf, shape[1]*rf); otherwise sqrt(prod(shape)) for both."""
    if len(shape) == 2:
        return shape[0], shape[1]
    if len(shape) in (4, 5):
        rf = math.prod(shape[2:])
        return shape[0] * rf, shape[1] * rf
    r = math.sqrt(math.prod(shape))
    return r, r


def ref_fans(layout, shape):
    """(fan_in, fan_out) from the reference framework's own function."""
    if layout == "torch":
        torch = pytest.importorskip("torch")
        return torch.nn.init._calculate_fan_in_and_fan_out(torch.empty(shape, device="meta"))
    if layout == "keras":
        pytest.importorskip("keras")
        from keras.src.initializers.random_initializers import compute_fans
        return compute_fans(shape)
    if layout == "jax":
        pytest.importorskip("jax")
        from jax._src.nn.initializers import _compute_fans
        return _compute_fans(shape)
    if layout == "lux":
        return lux_nfan(shape)
    return keraflow_fans(shape)


def ref_gain(nonlinearity, param=None):
    """torch.nn.init.calculate_gain (torch/nn/init.py, lines ~224-244)."""
    if nonlinearity in ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d",
                        "conv_transpose2d", "conv_transpose3d", "sigmoid"):
        return 1.0
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        slope = 0.01 if param is None else param
        return math.sqrt(2.0 / (1 + slope ** 2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise AssertionError(nonlinearity)


# =================================================================================================
# 1. fans
# =================================================================================================

FAN_SHAPES = [(), (7,), (1,), (5, 3), (3, 5), (1, 5), (5, 1), (1, 1), (4, 3, 5), (1, 3, 1),
              (6, 4, 3, 3), (3, 3, 1, 1), (1, 1, 3, 3), (8, 4, 2, 3, 3), (2, 1, 3, 1, 2)]


@pytest.mark.parametrize("shape", FAN_SHAPES, ids=str)
def test_fans_torch(torch, shape):
    ref = torch.nn.init._calculate_fan_in_and_fan_out
    if len(shape) < 2:
        with pytest.raises(ValueError):
            ref(torch.empty(shape))
        with pytest.raises(ValueError, match="shape"):
            fastinit.compute_fans(shape, "torch")
        with pytest.raises(ValueError, match="shape"):
            fastinit.compute_fans(shape)  # torch is the default layout
        return
    expected = ref(torch.empty(shape))
    assert fastinit.compute_fans(shape, "torch") == expected
    assert fastinit.compute_fans(shape) == expected


@pytest.mark.parametrize("shape", FAN_SHAPES, ids=str)
def test_fans_keras(keras, shape):
    from keras.src.initializers.random_initializers import compute_fans
    assert fastinit.compute_fans(shape, "keras") == compute_fans(shape)


KERAS_AXES = [((6, 4, 3, 3), [1, 2, 3], [0]), ((5, 3), [0], [1]), ((5, 3), [1], [0]),
              ((3, 3, 8, 16), [-2], [-1]), ((3, 3, 8, 16), [0, 1, 2], [3]), ((4, 5), [], [1]),
              ((8, 4, 2, 3, 3), [1, 3], [0, 4]), ((7,), [0], [0])]


@pytest.mark.parametrize("shape,input_axes,output_axes", KERAS_AXES, ids=str)
def test_fans_keras_axes(keras, shape, input_axes, output_axes):
    from keras.src.initializers.random_initializers import compute_fans
    expected = compute_fans(shape, input_axes=input_axes, output_axes=output_axes)
    for layout in LAYOUTS:  # explicit axes override the layout
        got = fastinit.compute_fans(shape, layout, input_axes=input_axes, output_axes=output_axes)
        assert got == expected, (layout, got, expected)


@pytest.mark.parametrize("shape", FAN_SHAPES, ids=str)
def test_fans_jax_default_axes(jax, shape):
    from jax._src.nn.initializers import _compute_fans
    if len(shape) < 2:
        with pytest.raises(ValueError):
            _compute_fans(shape)
        with pytest.raises(ValueError, match="shape"):
            fastinit.compute_fans(shape, "jax")
        return
    expected = _compute_fans(shape)
    got = fastinit.compute_fans(shape, "jax")
    assert tuple(map(float, got)) == pytest.approx(tuple(map(float, expected)), rel=1e-14)


JAX_AXES = [
    ((6, 4, 3, 3), dict(in_axis=(1, 2), out_axis=-1, batch_axis=0)),
    ((6, 4, 3, 3), dict(in_axis=1, out_axis=0)),  # torch's convention through JAX's axes
    ((6, 4, 3, 3), dict(in_axis=[1, 2], out_axis=[3])),
    ((6, 4, 3, 3), dict(batch_axis=0)),
    ((8, 4, 2, 3, 3), dict(in_axis=-2, out_axis=-1, batch_axis=(0,))),
    ((8, 4, 2, 3, 3), dict(in_axis=(0, 1), out_axis=2, batch_axis=(3, 4))),
    ((4, 3, 5), dict(in_axis=0, out_axis=2)),
    ((5, 3), dict(in_axis=1, out_axis=0)),
    ((5, 3), dict(in_axis=-2, out_axis=-1, batch_axis=())),
    ((7,), dict(in_axis=0, out_axis=())),
]


@pytest.mark.parametrize("shape,axes", JAX_AXES, ids=str)
def test_fans_jax_explicit_axes(jax, shape, axes):
    from jax._src.nn.initializers import _compute_fans
    expected = tuple(map(float, _compute_fans(shape, **{"in_axis": -2, "out_axis": -1,
                                                        "batch_axis": (), **axes})))
    for layout in LAYOUTS:  # explicit axes override the layout
        got = tuple(map(float, fastinit.compute_fans(shape, layout, **axes)))
        assert got == pytest.approx(expected, rel=1e-14), (layout, got, expected)


@pytest.mark.parametrize("shape", FAN_SHAPES, ids=str)
def test_fans_lux(shape):
    assert fastinit.compute_fans(shape, "lux") == lux_nfan(shape)


@pytest.mark.parametrize("shape", FAN_SHAPES + [(4, 3, 5, 7, 2, 3), (16,), (2, 8)], ids=str)
def test_fans_keraflow(shape):
    got = fastinit.compute_fans(shape, "keraflow")
    expected = keraflow_fans(shape)
    assert tuple(map(float, got)) == pytest.approx(tuple(map(float, expected)), rel=1e-15)


def test_fans_errors():
    with pytest.raises(ValueError, match="layout"):
        fastinit.compute_fans((4, 5), "pytorch")
    with pytest.raises(ValueError, match="layout"):
        fastinit.compute_fans((4, 5), "Keras")
    for layout in ("torch", "jax"):
        for shape in [(), (3,)]:
            with pytest.raises(ValueError, match="shape"):
                fastinit.compute_fans(shape, layout)
    with pytest.raises(ValueError, match="in_axis") as e:
        fastinit.compute_fans((4, 5), in_axis=0, input_axes=[0], output_axes=[1])
    assert "input_axes" in str(e.value)
    with pytest.raises(ValueError, match="in_axis"):
        fastinit.compute_fans((3, 4, 5), "jax", in_axis=5)
    with pytest.raises(ValueError, match="input_axes"):
        fastinit.compute_fans((3, 4, 5), "keras", input_axes=[3], output_axes=[0])


# =================================================================================================
# 2. calculate_gain
# =================================================================================================

GAIN_CASES = [(n, None) for n in ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d",
                                  "conv_transpose2d", "conv_transpose3d", "sigmoid", "tanh",
                                  "relu", "leaky_relu", "selu")]
GAIN_CASES += [("leaky_relu", p) for p in (0.2, 3, 0, 0.0, -1, 1, 0.01, 1e-8, 2.5)]
GAIN_CASES += [("relu", "ignored"), ("tanh", [1]), ("selu", 0.3)]  # param ignored, as torch


@pytest.mark.parametrize("nonlinearity,param", GAIN_CASES, ids=str)
def test_calculate_gain_equals_torch(torch, nonlinearity, param):
    expected = torch.nn.init.calculate_gain(nonlinearity, param)
    got = fastinit.calculate_gain(nonlinearity, param)
    assert got == expected and type(got) is type(expected), (got, expected)
    assert ref_gain(nonlinearity, param if nonlinearity == "leaky_relu" else None) == pytest.approx(expected)


@pytest.mark.parametrize("nonlinearity,param", [
    ("Relu", None), ("foo", None), ("", None), ("leaky-relu", None), ("softmax", None),
    ("leaky_relu", True), ("leaky_relu", False), ("leaky_relu", "0.2"), ("leaky_relu", [0.2]),
    ("leaky_relu", 1j), ("leaky_relu", (0.2,)),
], ids=str)
def test_calculate_gain_raises_as_torch(torch, nonlinearity, param):
    with pytest.raises(ValueError):
        torch.nn.init.calculate_gain(nonlinearity, param)
    with pytest.raises(ValueError, match="nonlinearity" if param is None else "param"):
        fastinit.calculate_gain(nonlinearity, param)


@pytest.mark.parametrize("param", [float("inf"), float("nan"), np.float32(0.2), np.int64(2)], ids=repr)
def test_calculate_gain_param_edge_cases_as_torch(torch, param):
    """fastinit.calculate_gain promises to be "exactly as torch.nn.init.calculate_gain". torch
    (torch/nn/init.py, the leaky_relu branch: ``not isinstance(param, bool) and
    isinstance(param, int) or isinstance(param, float)``) accepts any Python float, inf and nan
    included (gain 0.0 and nan), and rejects numpy scalars that are not Python floats
    (np.float32, np.int64) with ValueError."""
    try:
        expected = torch.nn.init.calculate_gain("leaky_relu", param)
    except ValueError:
        with pytest.raises(ValueError):
            fastinit.calculate_gain("leaky_relu", param)
        return
    got = fastinit.calculate_gain("leaky_relu", param)
    assert got == expected or (math.isnan(got) and math.isnan(expected)), (got, expected)


# =================================================================================================
# 3. standard deviation / bound against the reference formula, every layout
# =================================================================================================

# >= 1e6 elements; the layout-appropriate equivalents of one dense and one conv layer, and a 3-D
# tensor (keraflow's square-root fans, non-integer)
STD_SHAPES = {
    "dense": {lay: (2048, 512) for lay in LAYOUTS},
    "conv": {"torch": (256, 192, 5, 5), "keras": (5, 5, 192, 256), "jax": (5, 5, 192, 256),
             "lux": (5, 5, 192, 256), "keraflow": (192, 256, 5, 5)},
    "3d": {lay: (64, 128, 125) for lay in LAYOUTS},
}

# (fastinit function, its kwargs, (scale, mode, distribution)) -- the reference formula:
# sigma^2 = scale / n_mode; "normal" means the layout's framework's normal (truncated for keras
# and jax), "truncated"/"untruncated" an explicit choice. torch: xavier std = gain*sqrt(2/(fi+fo)),
# kaiming std = gain/sqrt(fan_mode), bound = sqrt(3)*std (torch/nn/init.py xavier_*_,
# kaiming_*_); Keras/JAX: variance_scaling (Keras: n = max(1, n)); WeightInitializers.jl:
# glorot_uniform (rand - 1/2) * gain*sqrt(24/(fi+fo)), glorot_normal gain*sqrt(2/(fi+fo)),
# kaiming_uniform bound gain*sqrt(3/fan_in), kaiming_normal gain/sqrt(fan_in); Keraflow: the
# Keras 1 formulas (glorot_uniform sqrt(6/(fi+fo)), he_normal sqrt(2/fan_in), ...).
S5 = math.sqrt(5.0)
FAMILY_CASES = [
    ("glorot_uniform", {}, (1.0, "fan_avg", "uniform")),
    ("glorot_uniform", {"gain": 2.0}, (4.0, "fan_avg", "uniform")),
    ("glorot_normal", {}, (1.0, "fan_avg", "normal")),
    ("glorot_normal", {"gain": 0.5}, (0.25, "fan_avg", "normal")),
    ("glorot_normal", {"truncated": True}, (1.0, "fan_avg", "truncated")),
    ("glorot_normal", {"truncated": False}, (1.0, "fan_avg", "untruncated")),
    ("kaiming_uniform", {}, (ref_gain("leaky_relu", 0.0) ** 2, "fan_in", "uniform")),
    ("kaiming_uniform", {"a": S5}, (ref_gain("leaky_relu", S5) ** 2, "fan_in", "uniform")),
    ("kaiming_uniform", {"mode": "fan_out", "nonlinearity": "relu"}, (2.0, "fan_out", "uniform")),
    ("kaiming_uniform", {"mode": "fan_out", "nonlinearity": "tanh"}, ((5 / 3) ** 2, "fan_out", "uniform")),
    ("kaiming_uniform", {"nonlinearity": "selu", "a": 3.0}, (0.75 ** 2, "fan_in", "uniform")),
    ("kaiming_uniform", {"gain": 0.7}, (0.49, "fan_in", "uniform")),
    ("kaiming_uniform", {"gain": 1.2, "a": 3.0, "nonlinearity": "tanh"}, (1.44, "fan_in", "uniform")),
    ("kaiming_normal", {}, (2.0, "fan_in", "normal")),
    ("kaiming_normal", {"mode": "fan_out", "nonlinearity": "relu"}, (2.0, "fan_out", "normal")),
    ("kaiming_normal", {"a": 0.2}, (ref_gain("leaky_relu", 0.2) ** 2, "fan_in", "normal")),
    ("kaiming_normal", {"gain": 1.5, "mode": "fan_out"}, (2.25, "fan_out", "normal")),
    ("kaiming_normal", {"truncated": True, "nonlinearity": "linear"}, (1.0, "fan_in", "truncated")),
    ("lecun_uniform", {}, (1.0, "fan_in", "uniform")),
    ("lecun_normal", {}, (1.0, "fan_in", "normal")),
    ("lecun_normal", {"truncated": False}, (1.0, "fan_in", "untruncated")),
    ("lecun_normal", {"truncated": True}, (1.0, "fan_in", "truncated")),
    ("he_uniform", {}, (2.0, "fan_in", "uniform")),
    ("xavier_normal", {}, (1.0, "fan_avg", "normal")),
]
VS_DISTRIBUTION = {"truncated_normal": "truncated", "untruncated_normal": "untruncated",
                   "uniform": "uniform", "normal": "vs_normal"}
FAMILY_CASES += [("variance_scaling", {"scale": 1.7, "mode": m, "distribution": d},
                  (1.7, m, VS_DISTRIBUTION[d]))
                 for m in ("fan_in", "fan_out", "fan_avg", "fan_geo_avg")
                 for d in ("truncated_normal", "untruncated_normal", "normal", "uniform")]


def _reference_sigma(layout, shape, scale, mode):
    fan_in, fan_out = ref_fans(layout, shape)
    n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2,
         "fan_geo_avg": math.sqrt(fan_in * fan_out)}[mode]
    if layout == "keras":  # keras VarianceScaling.__call__: scale /= max(1.0, n)
        n = max(1.0, n)
    return math.sqrt(scale / n)


def _kind(layout, distribution):
    if distribution in ("uniform", "truncated", "untruncated"):
        return distribution
    if distribution == "normal":  # the framework's normal: Keras and JAX truncate
        return "truncated" if layout in ("keras", "jax") else "untruncated"
    # variance_scaling(distribution="normal"): Keras maps it to truncated_normal, JAX (and
    # everything else) means untruncated
    return "truncated" if layout == "keras" else "untruncated"


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("shape_kind", list(STD_SHAPES))
@pytest.mark.parametrize("name,kwargs,reference", FAMILY_CASES,
                         ids=[f"{n}-{'-'.join(f'{k}={v}' for k, v in kw.items())}"
                              for n, kw, _ in FAMILY_CASES])
def test_std_and_bound_match_reference(name, kwargs, reference, shape_kind, layout):
    shape = STD_SHAPES[shape_kind][layout]
    scale, mode, distribution = reference
    sigma = _reference_sigma(layout, shape, scale, mode)
    kind = _kind(layout, distribution)
    seed = 1000 + 17 * FAMILY_CASES.index((name, kwargs, reference)) + LAYOUTS.index(layout)
    w = getattr(fastinit, name)(*shape, layout=layout, seed=seed, **kwargs)
    what = f"{name}({shape}, layout={layout!r}, {kwargs}) [{kind}, sigma={sigma:.6g}]"
    assert w.shape == shape and w.dtype == np.float32
    assert_std(w, sigma, what)
    if kind == "uniform":
        assert_uniform_support(w, math.sqrt(3.0) * sigma, what)
    elif kind == "truncated":
        assert_truncated_support(w, sigma, what)
    else:
        assert_untruncated_tail(w, sigma, what)


@pytest.mark.parametrize("layout", LAYOUTS)
def test_truncation_defaults(layout):
    """truncated=None truncates exactly for keras and jax; variance_scaling(distribution="normal")
    truncates for keras only. Checked through the Initializer's values on a small tensor."""
    shape = STD_SHAPES["dense"][layout]
    sigma = _reference_sigma(layout, shape, 1.0, "fan_in")
    limit = 2 * sigma / TRUNCATED_STD
    for f, kw, truncates in [
        (fastinit.lecun_normal, {}, layout in ("keras", "jax")),
        (fastinit.kaiming_normal, {"gain": 1.0}, layout in ("keras", "jax")),
        (fastinit.variance_scaling, {"distribution": "normal"}, layout == "keras"),
        (fastinit.variance_scaling, {"distribution": "truncated_normal"}, True),
        (fastinit.variance_scaling, {"distribution": "untruncated_normal"}, False),
    ]:
        w = f(*shape, layout=layout, seed=5, **kw)
        over = int(np.sum(np.abs(w) > limit * (1 + 1e-9)))
        if truncates:
            assert over == 0, (f.__name__, kw, layout, over)
        else:
            assert over > 1000, (f.__name__, kw, layout, over)  # expected ~ 0.0166 * 1e6


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("name,kwargs,reference", [
    ("glorot_uniform", {}, (1.0, "fan_avg", "uniform")),
    ("kaiming_normal", {}, (2.0, "fan_in", "normal")),
    ("variance_scaling", {"scale": 0.5, "mode": "fan_out", "distribution": "uniform"},
     (0.5, "fan_out", "uniform")),
], ids=str)
def test_std_1d(name, kwargs, reference, layout):
    """1-D tensors (biases): Keras (n, n), WeightInitializers.jl (1, n), Keraflow sqrt(n) twice;
    torch and JAX have no fans for them."""
    shape = (1 << 20,)
    f = getattr(fastinit, name)
    if layout in ("torch", "jax"):
        with pytest.raises(ValueError, match="shape"):
            f(*shape, layout=layout, seed=1, **kwargs)
        return
    scale, mode, distribution = reference
    sigma = _reference_sigma(layout, shape, scale, mode)
    w = f(*shape, layout=layout, seed=2, **kwargs)
    kind = _kind(layout, distribution)
    what = f"{name}({shape}, layout={layout!r}) [{kind}, sigma={sigma:.6g}]"
    assert_std(w, sigma, what)
    if kind == "uniform":
        assert_uniform_support(w, math.sqrt(3.0) * sigma, what)
    elif kind == "truncated":
        assert_truncated_support(w, sigma, what)


@pytest.mark.parametrize("shape", [(0, 5), (3, 0, 2, 2), (0,)], ids=str)
def test_keras_empty_shapes(keras, shape):
    """Keras' max(1, fan) lets empty tensors through; so does fastinit's keras layout."""
    for name in ("he_normal", "glorot_uniform", "lecun_uniform"):
        k = _knp(keras, keras.initializers.get(name)(shape))
        ours = fastinit.get(name)(shape, seed=0)
        assert ours.shape == k.shape == shape and ours.dtype == k.dtype


# WeightInitializers.jl (src/initializers.jl) and Keraflow (keraflow/initializations.py, Keras 1
# formulas): preset name, its parameters, and (kind, value) with value the std (normal) or the
# bound (uniform) as a function of the framework's fans (fi, fo)
R2, R3 = math.sqrt(2.0), math.sqrt(3.0)
PRESET_CASES = [
    # glorot_uniform: (rand - 1/2) * gain * sqrt(24 / (fi + fo))
    ("lux", "glorot_uniform", {}, "uniform", lambda fi, fo: math.sqrt(24 / (fi + fo)) / 2),
    ("lux", "glorot_uniform", {"gain": 1.5}, "uniform", lambda fi, fo: 1.5 * math.sqrt(24 / (fi + fo)) / 2),
    # glorot_normal: randn * gain * sqrt(2 / (fi + fo))
    ("lux", "glorot_normal", {"gain": 0.5}, "untruncated", lambda fi, fo: 0.5 * math.sqrt(2 / (fi + fo))),
    # kaiming_uniform(gain = sqrt(2)): bound = sqrt(3) * gain / sqrt(fi)
    ("lux", "kaiming_uniform", {}, "uniform", lambda fi, fo: R3 * R2 / math.sqrt(fi)),
    ("lux", "kaiming_uniform", {"gain": 0.8}, "uniform", lambda fi, fo: R3 * 0.8 / math.sqrt(fi)),
    # kaiming_normal(gain = sqrt(2)): std = gain / sqrt(fi)
    ("lux", "kaiming_normal", {}, "untruncated", lambda fi, fo: R2 / math.sqrt(fi)),
    ("keraflow", "uniform", {}, "uniform", lambda fi, fo: 0.05),
    ("keraflow", "uniform", {"scale": 0.2}, "uniform", lambda fi, fo: 0.2),
    ("keraflow", "normal", {"scale": 0.3}, "untruncated", lambda fi, fo: 0.3),
    ("keraflow", "lecun_uniform", {}, "uniform", lambda fi, fo: math.sqrt(3 / fi)),
    ("keraflow", "glorot_normal", {}, "untruncated", lambda fi, fo: math.sqrt(2 / (fi + fo))),
    ("keraflow", "glorot_uniform", {}, "uniform", lambda fi, fo: math.sqrt(6 / (fi + fo))),
    ("keraflow", "he_normal", {}, "untruncated", lambda fi, fo: math.sqrt(2 / fi)),
    ("keraflow", "he_uniform", {}, "uniform", lambda fi, fo: math.sqrt(6 / fi)),
]


@pytest.mark.parametrize("shape_kind", ["dense", "conv"])
@pytest.mark.parametrize("framework,name,kwargs,kind,value", PRESET_CASES,
                         ids=[f"{c[0]}.{c[1]}-{c[2]}" for c in PRESET_CASES])
def test_lux_and_keraflow_presets(framework, name, kwargs, kind, value, shape_kind):
    shape = STD_SHAPES[shape_kind][framework]
    fi, fo = ref_fans(framework, shape)
    v = value(fi, fo)
    init = PRESETS[framework][name](**kwargs)
    if not kwargs:
        assert fastinit.get(f"{framework}.{name}") == init
    w = init(shape, seed=PRESET_CASES.index((framework, name, kwargs, kind, value)))
    what = f"{framework}.{name}({kwargs}){shape}"
    assert w.shape == shape and w.dtype == np.float32
    if kind == "uniform":
        assert_std(w, v / R3, what)
        assert_uniform_support(w, v, what)
    else:
        assert_std(w, v, what)
        assert_untruncated_tail(w, v, what)


@pytest.mark.parametrize("framework,name,kwargs,gain", [
    ("lux", "orthogonal", {}, 1.0), ("lux", "orthogonal", {"gain": 2.0}, 2.0),
    ("keraflow", "orthogonal", {}, 1.1), ("keraflow", "orthogonal", {"scale": 0.5}, 0.5),
])
@pytest.mark.parametrize("shape", [(48, 16), (16, 48), (8, 4, 3, 3), (3, 3, 4, 8)], ids=str)
def test_lux_and_keraflow_orthogonal_presets(framework, name, kwargs, gain, shape):
    w = PRESETS[framework][name](**kwargs)(shape, seed=3, dtype="float64")
    # WeightInitializers.jl: (prod(dims[1:end-1]), dims[end]) (column-major, the same columns
    # as numpy's C-order reshape(-1, dims[end])); Keraflow: (shape[0], prod(shape[1:]))
    a = w.reshape(-1, shape[-1]) if framework == "lux" else w.reshape(shape[0], -1)
    gram = a.T @ a if a.shape[0] >= a.shape[1] else a @ a.T
    np.testing.assert_allclose(gram, gain ** 2 * np.eye(gram.shape[0]), atol=1e-12)


def test_lux_truncated_normal_and_keraflow_identity():
    init = PRESETS["lux"]["truncated_normal"](mean=0.5, std=2.0, lo=-1.0, hi=4.0)
    w = init((1024, 1024), seed=4)
    a, b = (-1.0 - 0.5) / 2.0, (4.0 - 0.5) / 2.0
    p = stats.kstest(_flat64(w), stats.truncnorm(a, b, loc=0.5, scale=2.0).cdf).pvalue
    assert p > P_FLOOR, p
    assert w.min() >= -1.0 and w.max() <= 4.0
    np.testing.assert_array_equal(PRESETS["keraflow"]["identity"](scale=2.5)((6, 6)), 2.5 * np.eye(6, dtype=np.float32))


def test_weightinitializers_typed_family():
    """zeros32/ones64/rand32/randn64/randC32/randnC64 and the C16 (float16 pairs) variants:
    Julia's zeros, ones, rand (U[0, 1), complex: independent parts), randn (complex: parts of
    variance 1/2)."""
    shape = (512, 512)
    n = math.prod(shape)
    for name, dtype in [("zeros16", np.float16), ("zeros32", np.float32), ("zeros64", np.float64),
                        ("zerosC32", np.complex64), ("zerosC64", np.complex128)]:
        w = getattr(fastinit, name)(*shape)
        assert w.dtype == dtype and w.shape == shape and not w.any(), name
    for name, dtype in [("ones16", np.float16), ("ones32", np.float32), ("ones64", np.float64),
                        ("onesC32", np.complex64), ("onesC64", np.complex128)]:
        w = getattr(fastinit, name)(*shape)
        assert w.dtype == dtype and w.shape == shape and np.all(w == 1), name
    c16 = fastinit.onesC16(*shape)
    assert c16.dtype == np.float16 and c16.shape == shape + (2,)
    assert np.all(c16[..., 0] == 1) and np.all(c16[..., 1] == 0)
    assert fastinit.zerosC16(*shape).shape == shape + (2,)
    for name, dtype in [("rand16", np.float16), ("rand32", np.float32), ("rand64", np.float64)]:
        w = getattr(fastinit, name)(*shape, seed=1)
        assert w.dtype == dtype and w.min() >= 0 and w.max() < 1, name
        assert stats.kstest(_flat64(w), "uniform").pvalue > P_FLOOR or dtype == np.float16, name
        assert abs(float(w.astype(np.float64).mean()) - 0.5) < SIGMAS * math.sqrt(1 / 12 / n)
    for name, dtype in [("randC32", np.complex64), ("randC64", np.complex128)]:
        w = getattr(fastinit, name)(*shape, seed=2)
        assert w.dtype == dtype
        for part in (w.real, w.imag):
            assert part.min() >= 0 and part.max() < 1
            assert stats.kstest(_flat64(part), "uniform").pvalue > P_FLOOR, name
        assert abs(np.corrcoef(_flat64(w.real), _flat64(w.imag))[0, 1]) < SIGMAS / math.sqrt(n)
    rc16 = fastinit.randC16(*shape, seed=2)
    assert rc16.dtype == np.float16 and rc16.shape == shape + (2,)
    assert rc16.min() >= 0 and rc16.max() < 1
    for name, dtype in [("randn32", np.float32), ("randn64", np.float64)]:
        w = getattr(fastinit, name)(*shape, seed=3)
        assert w.dtype == dtype
        assert_std(w, 1.0, name)
    for name, dtype in [("randnC32", np.complex64), ("randnC64", np.complex128)]:
        w = getattr(fastinit, name)(*shape, seed=4)
        assert w.dtype == dtype
        assert_std(w.real, math.sqrt(0.5), name + " real")
        assert_std(w.imag, math.sqrt(0.5), name + " imag")
    rn16 = fastinit.randnC16(*shape, seed=4)
    assert rn16.dtype == np.float16 and rn16.shape == shape + (2,)
    assert_std(rn16[..., 0], math.sqrt(0.5), "randnC16 real")
    assert_std(rn16[..., 1], math.sqrt(0.5), "randnC16 imag")


# =================================================================================================
# 4. two-sample KS against torch's own output
# =================================================================================================

TORCH_SHAPE = (2048, 512)
TORCH_CASES = [
    # (torch function, torch kwargs, fastinit function, fastinit kwargs, shape)
    ("xavier_uniform_", {}, "glorot_uniform", {}, TORCH_SHAPE),
    ("xavier_uniform_", {"gain": 1.7}, "glorot_uniform", {"gain": 1.7}, TORCH_SHAPE),
    ("xavier_uniform_", {}, "glorot_uniform", {}, (256, 192, 5, 5)),
    ("xavier_normal_", {}, "glorot_normal", {}, TORCH_SHAPE),
    ("xavier_normal_", {"gain": 0.8}, "glorot_normal", {"gain": 0.8}, (256, 192, 5, 5)),
    ("kaiming_uniform_", {"a": S5}, "kaiming_uniform", {"a": S5}, TORCH_SHAPE),  # nn.Linear
    ("kaiming_uniform_", {"a": S5}, "kaiming_uniform", {"a": S5}, (256, 192, 5, 5)),  # nn.Conv2d
    ("kaiming_uniform_", {}, "kaiming_uniform", {}, TORCH_SHAPE),
    ("kaiming_uniform_", {"mode": "fan_out", "nonlinearity": "relu"}, "kaiming_uniform",
     {"mode": "fan_out", "nonlinearity": "relu"}, TORCH_SHAPE),
    ("kaiming_normal_", {"mode": "fan_out", "nonlinearity": "relu"}, "kaiming_normal",
     {"mode": "fan_out", "nonlinearity": "relu"}, TORCH_SHAPE),
    ("kaiming_normal_", {"mode": "fan_out", "nonlinearity": "relu"}, "kaiming_normal",
     {"mode": "fan_out", "nonlinearity": "relu"}, (256, 192, 5, 5)),
    ("kaiming_normal_", {}, "kaiming_normal", {}, TORCH_SHAPE),
    ("kaiming_normal_", {"a": 0.2, "nonlinearity": "leaky_relu"}, "kaiming_normal",
     {"a": 0.2, "nonlinearity": "leaky_relu"}, TORCH_SHAPE),
    ("orthogonal_", {}, "orthogonal", {}, (512, 256)),
    ("orthogonal_", {"gain": 1.3}, "orthogonal", {"gain": 1.3}, (256, 512)),
    ("orthogonal_", {}, "orthogonal", {}, (64, 16, 3, 3)),
    ("trunc_normal_", {}, "truncated_normal", {}, TORCH_SHAPE),
    ("trunc_normal_", {"mean": 0.5, "std": 2.0, "a": -1.0, "b": 3.0}, "truncated_normal",
     {"mean": 0.5, "std": 2.0, "lo": -1.0, "hi": 3.0}, TORCH_SHAPE),
    ("trunc_normal_", {"mean": 0.0, "std": 1.0, "a": 2.0, "b": 6.0}, "truncated_normal",
     {"mean": 0.0, "std": 1.0, "lo": 2.0, "hi": 6.0}, (512, 512)),  # torch's uniform-proposal branch (slow)
    ("normal_", {}, "normal", {}, TORCH_SHAPE),
    ("normal_", {"mean": 0.3, "std": 2.5}, "normal", {"mean": 0.3, "std": 2.5}, TORCH_SHAPE),
    ("uniform_", {}, "uniform", {}, TORCH_SHAPE),
    ("uniform_", {"a": -0.3, "b": 0.7}, "uniform", {"low": -0.3, "high": 0.7}, TORCH_SHAPE),
]


@pytest.mark.parametrize("tname,tkw,fname,fkw,shape", TORCH_CASES,
                         ids=[f"{c[0]}-{c[1]}-{c[4]}" for c in TORCH_CASES])
def test_ks_against_torch(torch, tname, tkw, fname, fkw, shape):
    torch.manual_seed(20240501)
    t = getattr(torch.nn.init, tname)(torch.empty(shape), **tkw).numpy()
    seed = 77 + TORCH_CASES.index((tname, tkw, fname, fkw, shape))
    ours = getattr(fastinit, fname)(*shape, seed=seed, **fkw)
    assert ours.shape == t.shape and ours.dtype == t.dtype == np.float32
    assert_ks(ours, t, f"{fname}{shape} {fkw} vs torch.nn.init.{tname}({tkw})")
    # the torch preset, with torch's own parameter names, is the same initializer
    preset = PRESETS["torch"][tname](**tkw)
    np.testing.assert_array_equal(preset(*shape, seed=seed), ours)


def test_ks_against_torch_sparse(torch):
    shape, sparsity, std = (2048, 512), 0.3, 0.02
    torch.manual_seed(7)
    t = torch.nn.init.sparse_(torch.empty(shape), sparsity=sparsity, std=std).numpy()
    ours = fastinit.sparse(*shape, sparsity=sparsity, std=std, seed=8)
    zeros = math.ceil(sparsity * shape[0])  # torch/nn/init.py sparse_: num_zeros per column
    assert np.all(np.sum(t == 0, axis=0) == zeros)
    assert np.all(np.sum(ours == 0, axis=0) == zeros), np.unique(np.sum(ours == 0, axis=0))
    assert_ks(ours[ours != 0], t[t != 0], "sparse non-zero values vs torch.nn.init.sparse_")
    # which rows are zero: uniform over rows (each row zero in about sparsity * cols columns)
    per_row = np.sum(ours == 0, axis=1)
    q = zeros / shape[0]
    mean, sd = shape[1] * q, math.sqrt(shape[1] * q * (1 - q))
    assert abs(per_row.mean() - mean) < 1e-9
    assert per_row.std() < 1.5 * sd and per_row.std() > 0.6 * sd
    preset = PRESETS["torch"]["sparse_"](sparsity=sparsity, std=std)
    np.testing.assert_array_equal(preset(*shape, seed=8), ours)


@pytest.mark.parametrize("tname,fname,kw,gain", [
    ("xavier_uniform_", "glorot_uniform", {}, 1.0),
    ("xavier_normal_", "glorot_normal", {}, 1.0),
    ("kaiming_normal_", "kaiming_normal", {"nonlinearity": "relu", "mode": "fan_out"}, math.sqrt(2.0)),
])
def test_ks_against_torch_has_power(torch, tname, fname, kw, gain):
    """Negative control: a gain 5% off is rejected at this size (so the KS tests have power)."""
    torch.manual_seed(11)
    t = getattr(torch.nn.init, tname)(torch.empty(TORCH_SHAPE), **kw).numpy()
    f = getattr(fastinit, fname)
    wrong = f(*TORCH_SHAPE, seed=12, **kw, gain=gain * 1.05)
    p = _ks_p(wrong, t)
    assert p < P_FLOOR, f"KS cannot tell a 5% gain error apart (p={p:.3g})"
    right = f(*TORCH_SHAPE, seed=12, **kw, gain=gain)
    assert _ks_p(right, t) > P_FLOOR


# =================================================================================================
# 5. against Keras (numpy backend)
# =================================================================================================

KERAS_SHAPES = [(2048, 512), (5, 5, 192, 256)]
KERAS_NAMES = ["glorot_uniform", "glorot_normal", "he_normal", "he_uniform", "lecun_normal",
               "lecun_uniform", "random_normal", "random_uniform", "truncated_normal",
               "variance_scaling"]


def _keras_seeded(keras, identifier, seed):
    """keras.initializers.get(identifier), re-made with an integer seed."""
    obj = keras.initializers.get(identifier)
    return obj.__class__.from_config({**obj.get_config(), "seed": seed})


@pytest.mark.parametrize("shape", KERAS_SHAPES, ids=str)
@pytest.mark.parametrize("name", KERAS_NAMES)
def test_ks_against_keras_names(keras, name, shape):
    k = _knp(keras, _keras_seeded(keras, name, 1234)(shape))
    ours = fastinit.get(name)(shape, seed=4321 + KERAS_NAMES.index(name))
    assert ours.shape == k.shape == shape and ours.dtype == k.dtype == np.float32
    assert_ks(ours, k, f"fastinit.get({name!r}){shape} vs keras")


@pytest.mark.parametrize("shape", [(512, 256), (256, 512), (3, 3, 32, 64)], ids=str)
def test_ks_against_keras_orthogonal(keras, shape):
    k = _knp(keras, _keras_seeded(keras, "orthogonal", 99)(shape))
    ours = fastinit.get("orthogonal")(shape, seed=98)
    assert ours.shape == k.shape and ours.dtype == k.dtype
    assert_ks(ours, k, f"fastinit.get('orthogonal'){shape} vs keras")
    flat = ours.reshape(-1, shape[-1]).astype(np.float64)
    gram = flat.T @ flat if flat.shape[0] >= flat.shape[1] else flat @ flat.T
    np.testing.assert_allclose(gram, np.eye(gram.shape[0]), atol=1e-5)


KERAS_VS_CONFIGS = [
    dict(scale=2.0, mode="fan_out", distribution="uniform"),
    dict(scale=0.5, mode="fan_avg", distribution="untruncated_normal"),
    dict(scale=1.3, mode="fan_in", distribution="truncated_normal"),
    dict(scale=1.0, mode="fan_avg", distribution="normal"),  # Keras: truncated
    dict(scale=3.0, mode="fan_in", distribution="uniform", input_axes=[2], output_axes=[3]),
    dict(scale=1.0, mode="fan_out", distribution="truncated_normal", input_axes=[0, 1, 2],
         output_axes=[3]),
]


@pytest.mark.parametrize("config,shape", [(c, s) for c in KERAS_VS_CONFIGS for s in KERAS_SHAPES
                                           if "input_axes" not in c or len(s) == 4], ids=str)
def test_ks_against_keras_variance_scaling(keras, config, shape):
    kobj = keras.initializers.VarianceScaling(**config, seed=555)
    k = _knp(keras, kobj(shape))
    init = fastinit.deserialize(keras.initializers.serialize(kobj))
    assert isinstance(init, fastinit.Initializer)
    ours = init(shape)  # the Keras seed travels in the config
    assert ours.shape == k.shape and ours.dtype == k.dtype
    assert_ks(ours, k, f"deserialize(VarianceScaling({config})){shape} vs keras")


def _keras_base(keras):
    from keras.src.initializers import ALL_OBJECTS_DICT
    return ALL_OBJECTS_DICT, keras.initializers.Initializer


def test_every_keras_identifier_is_accepted(keras):
    all_objects, base = _keras_base(keras)
    names = [k for k, cls in all_objects.items() if cls is not base]
    assert "Initializer" in all_objects and len(names) >= 30
    for name in names:
        init = fastinit.get(name)
        assert isinstance(init, fastinit.Initializer), name
        # same kind of object as Keras': the same class names the same fastinit initializer
        # as its snake_case and CamelCase spellings
        cls_name = all_objects[name].__name__
        assert init == fastinit.get(cls_name), (name, cls_name)


def _keras_instances(keras):
    K = keras.initializers
    return [
        K.Constant(value=2.5),
        K.Zeros(),
        K.Ones(),
        K.Identity(gain=0.5),
        K.STFT(side="imag", window="hamming", scaling="spectrum", periodic=True),
        K.STFT(side="real", window=[0.1 * i for i in range(32)], scaling=None, periodic=False),
        K.RandomNormal(mean=0.1, stddev=0.2, seed=1),
        K.RandomUniform(minval=-0.2, maxval=0.3, seed=2),
        K.TruncatedNormal(mean=0.1, stddev=0.3, seed=3),
        K.VarianceScaling(scale=2.0, mode="fan_out", distribution="uniform", seed=4),
        K.VarianceScaling(scale=0.3, mode="fan_avg", distribution="untruncated_normal", seed=4,
                          input_axes=[0], output_axes=[0, 1]),
        K.GlorotNormal(seed=5),
        K.GlorotUniform(seed=6, input_axes=[1], output_axes=[0]),
        K.HeNormal(seed=7),
        K.HeUniform(seed=8),
        K.LecunNormal(seed=9),
        K.LecunUniform(seed=10, input_axes=[0], output_axes=[1]),
        K.Orthogonal(gain=2.0, seed=11),
    ]


def test_keras_instances_cover_every_class(keras):
    all_objects, base = _keras_base(keras)
    covered = {type(o) for o in _keras_instances(keras)}
    assert covered == set(all_objects.values()) - {base}


@pytest.mark.parametrize("index", range(18))
def test_keras_serialize_deserialize(keras, index):
    kobj = _keras_instances(keras)[index]
    config = keras.initializers.serialize(kobj)
    init = fastinit.deserialize(config)
    assert isinstance(init, fastinit.Initializer)
    # and through the config dict alone (get accepts dicts, as keras.initializers.get)
    assert fastinit.get(config) == init
    name = type(kobj).__name__
    if name == "STFT":
        shape = (32, 1, 17)
    elif name == "Orthogonal":
        shape = (384, 256)
    else:
        shape = (768, 384)
    # the reference is Keras' own round trip (keras.initializers.deserialize of the same config):
    # Keras' Identity.get_config drops the gain (constant_initializers.py: Identity defines no
    # get_config, the base class returns {}), so Keras itself gives gain 1 back
    k = _knp(keras, keras.initializers.deserialize(config)(shape))
    ours = init(shape)
    assert ours.shape == k.shape and ours.dtype == k.dtype == np.float32, (name, ours.shape, k.shape)
    what = f"deserialize(serialize({name}({config['config']})))"
    if name in ("Constant", "Zeros", "Ones", "Identity"):
        np.testing.assert_array_equal(ours, k, err_msg=what)
    elif name == "STFT":
        np.testing.assert_allclose(ours, k, rtol=0, atol=1e-6, err_msg=what)
    else:
        assert_ks(ours, k, what)
        if name == "Orthogonal":
            np.testing.assert_allclose(ours.T.astype(np.float64) @ ours, 4.0 * np.eye(256), atol=4e-5)


@pytest.mark.parametrize("cls,kwargs", [
    ("VarianceScaling", dict(scale=2.0, mode="fan_in", distribution="uniform", input_axes=[0])),
    ("VarianceScaling", dict(scale=2.0, mode="fan_in", distribution="uniform", output_axes=[1])),
    ("HeUniform", dict(input_axes=[1])),
], ids=str)
def test_keras_config_with_one_axes_list(keras, cls, kwargs):
    """Keras' compute_fans uses input_axes/output_axes only when both are given
    (keras/src/initializers/random_initializers.py compute_fans: ``if input_axes is not None and
    output_axes is not None``), otherwise its default fans: a Keras config with only one of them
    is valid and means the default fans."""
    kobj = getattr(keras.initializers, cls)(seed=3, **kwargs)
    shape = (1024, 512)
    k = _knp(keras, kobj(shape))
    ours = fastinit.deserialize(keras.initializers.serialize(kobj))(shape)
    assert_ks(ours, k, f"{cls}({kwargs})")


def test_keras_config_with_seed_generator(keras):
    """A Keras initializer seeded with a ``keras.random.SeedGenerator`` (what Keras' docstrings
    recommend for different values on every call) serializes its seed as a nested config dict
    ({"class_name": "SeedGenerator", "config": {"seed": 3, ...}}); Keras deserializes it
    (random_initializers.py RandomInitializer.__init__: ``elif isinstance(seed, dict): seed =
    serialization_lib.deserialize_keras_object(seed)``)."""
    kobj = keras.initializers.HeNormal(seed=keras.random.SeedGenerator(3))
    config = keras.initializers.serialize(kobj)
    shape = (1024, 512)
    k = _knp(keras, keras.initializers.deserialize(config)(shape))
    init = fastinit.deserialize(config)
    assert_ks(init(shape), k, "HeNormal(seed=SeedGenerator(3))")


# =================================================================================================
# 6. against JAX
# =================================================================================================

JAX_SHAPES = [(2048, 512), (5, 5, 192, 256)]


def _jax_out(jax, init, shape, dtype, seed=0):
    return np.asarray(init(jax.random.key(seed), shape, dtype))


@pytest.mark.parametrize("shape", JAX_SHAPES, ids=str)
@pytest.mark.parametrize("name", ["glorot_normal", "glorot_uniform", "he_uniform", "he_normal",
                                  "lecun_normal", "lecun_uniform"])
def test_ks_against_jax_variance_presets(jax, name, shape):
    j = _jax_out(jax, getattr(jax.nn.initializers, name)(), shape, "float32")
    ours = fastinit.get(f"jax.{name}")(shape, seed=31)
    assert ours.shape == j.shape and ours.dtype == j.dtype == np.float32
    assert_ks(ours, j, f"jax.{name}{shape}")


@pytest.mark.parametrize("name,axes,shape", [
    # the shapes of the other JAX tests (JAX compiles its samplers once per shape)
    ("he_normal", dict(in_axis=1, out_axis=0), (2048, 512)),  # torch's (out, in) through JAX axes
    ("glorot_uniform", dict(in_axis=(0, 1, 2), out_axis=-1), (5, 5, 192, 256)),
    ("lecun_uniform", dict(in_axis=2, out_axis=3, batch_axis=(0,)), (5, 5, 192, 256)),
    ("xavier_normal", dict(in_axis=-1, out_axis=-2, batch_axis=0), (5, 5, 192, 256)),
], ids=str)
def test_ks_against_jax_explicit_axes(jax, name, axes, shape):
    j = _jax_out(jax, getattr(jax.nn.initializers, name)(**axes), shape, "float32", seed=4)
    ours = PRESETS["jax"][name](**axes)(shape, seed=35)
    assert ours.shape == j.shape and ours.dtype == j.dtype
    assert_ks(ours, j, f"jax.{name}({axes}){shape}")


@pytest.mark.parametrize("name,kwargs", [
    ("uniform", {}), ("uniform", {"scale": 3.0}),
    ("normal", {}), ("normal", {"stddev": 0.7}),
    ("truncated_normal", {}), ("truncated_normal", {"stddev": 0.3, "lower": -1.0, "upper": 3.0}),
    ("truncated_normal", {"stddev": 2.0, "lower": 1.0, "upper": 4.0}),
], ids=str)
def test_ks_against_jax_fills(jax, name, kwargs):
    shape = (2048, 512)
    j = _jax_out(jax, getattr(jax.nn.initializers, name)(**kwargs), shape, "float32", seed=1)
    ours = PRESETS["jax"][name](**kwargs)(shape, seed=32)
    if not kwargs:
        assert fastinit.get(f"jax.{name}") == PRESETS["jax"][name]()
    assert ours.shape == j.shape and ours.dtype == j.dtype
    assert_ks(ours, j, f"jax.{name}({kwargs})")


@pytest.mark.parametrize("shape", [(512, 256), (256, 512), (3, 3, 32, 64)], ids=str)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_ks_against_jax_orthogonal(jax, shape, dtype):
    if dtype == "float64" and not jax.config.jax_enable_x64:
        dtype_j = "float32"
    else:
        dtype_j = dtype
    j = _jax_out(jax, jax.nn.initializers.orthogonal(scale=1.5), shape, dtype_j, seed=2)
    ours = PRESETS["jax"]["orthogonal"](scale=1.5, dtype=dtype)(shape, seed=33)
    assert ours.shape == j.shape and ours.dtype == np.dtype(dtype)
    assert_ks(ours, j, f"jax.orthogonal{shape}")


JAX_VS = [(2.0, "fan_in", "uniform"), (1.0, "fan_avg", "truncated_normal"),
          (0.5, "fan_geo_avg", "normal"), (1.5, "fan_out", "truncated_normal")]


@pytest.mark.parametrize("config", JAX_VS, ids=str)
@pytest.mark.parametrize("dtype", ["float32", "complex64"])
def test_ks_against_jax_variance_scaling(jax, config, dtype):
    scale, mode, distribution = config
    shape = (5, 5, 192, 256) if dtype == "float32" else (2048, 512)
    j = _jax_out(jax, jax.nn.initializers.variance_scaling(scale, mode, distribution, dtype=dtype),
                 shape, dtype, seed=3)
    init = PRESETS["jax"]["variance_scaling"](scale=scale, mode=mode, distribution=distribution,
                                              dtype=dtype)
    ours = init(shape, seed=34)
    assert ours.shape == j.shape and ours.dtype == j.dtype == np.dtype(dtype)
    what = f"jax.variance_scaling{config} {dtype}{shape}"
    if dtype == "float32":
        assert_ks(ours, j, what)
        return
    assert_ks(np.abs(ours), np.abs(j), what + " |v|")
    assert_ks(np.angle(ours), np.angle(j), what + " arg v")
    fan_in, fan_out = fastinit.compute_fans(shape, "jax")
    n = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2,
         "fan_geo_avg": math.sqrt(fan_in * fan_out)}[mode]
    variance = scale / n
    # E|v|^2: the variance for the disk and the untruncated normal; for the truncated normal JAX's
    # (jax/_src/nn/initializers.py _complex_truncated_normal and variance_scaling):
    # |v|^2 = (sigma / 0.95311164380491208)^2 r^2, r^2 ~ Exp(1) truncated at 4, so
    # E|v|^2 = variance * (1 - 4 e^-4 / (1 - e^-4)) / 0.95311164380491208^2 = 1.0187 variance
    expected = variance
    if distribution == "truncated_normal":
        expected *= (1 - 4 * math.exp(-4) / -math.expm1(-4)) / 0.95311164380491208 ** 2
    for name, v in (("fastinit", ours), ("jax", j)):
        p2 = np.abs(v.reshape(-1).astype(np.complex128)) ** 2
        se = p2.std() / math.sqrt(p2.size)
        assert abs(p2.mean() - expected) <= SIGMAS * se, (what, name, p2.mean(), expected, variance)
    if distribution == "truncated_normal":  # modulus truncated at 2 s, s = sigma / 0.95311...
        limit = 2 * math.sqrt(variance) / 0.95311164380491208
        assert np.abs(ours).max() <= limit * (1 + 1e-6)
        assert np.abs(ours).max() > limit * (1 - 1e-3)
    if distribution == "uniform":  # the disk of radius sqrt(2) sigma
        limit = math.sqrt(2 * variance)
        assert np.abs(ours).max() <= limit * (1 + 1e-6)


# =================================================================================================
# 7. exact values: stft, eye, dirac, identity
# =================================================================================================

STFT_WINDOWS = ["hann", "hamming", None, "array"]


@pytest.mark.parametrize("shape", [(64, 1, 33), (400, 1, 257)], ids=str)
@pytest.mark.parametrize("periodic", [False, True])
@pytest.mark.parametrize("scaling", ["density", "spectrum", None])
@pytest.mark.parametrize("window", STFT_WINDOWS)
@pytest.mark.parametrize("side", ["real", "imag"])
def test_stft_equals_keras(keras, side, window, scaling, periodic, shape):
    if window == "array":
        window = np.random.default_rng(shape[0]).uniform(0.1, 2.0, shape[0]).tolist()
    k = _knp(keras, keras.initializers.STFT(side, window, scaling, periodic)(shape))
    ours = fastinit.stft(*shape, side=side, window=window, scaling=scaling, periodic=periodic)
    assert ours.shape == k.shape and ours.dtype == k.dtype == np.float32
    np.testing.assert_allclose(ours, k, rtol=0, atol=1e-6)


@pytest.mark.parametrize("window", ["hann", None])
def test_stft_float64_and_channels(keras, window):
    """float64: the STFT formula in float64. Keras' numpy backend computes a float64 STFT in
    float32 (``ops.multiply(-2, time)`` on a float64 tensor gives float32) and with a window even
    returns float32, so it only agrees to float32 accuracy on the angles (~3e-5 here)."""
    import scipy.signal
    shape = (128, 1, 65)
    ours64 = fastinit.stft(*shape, side="imag", window=window, periodic=True, dtype="float64")
    assert ours64.dtype == np.float64
    t = np.arange(shape[0], dtype=np.float64)[:, None, None]
    f = np.arange(shape[2], dtype=np.float64)[None, None, :] / ((shape[2] - 1) * 2)
    exact = np.sin(-2 * t * f * np.pi)
    if window is not None:
        win = scipy.signal.get_window(window, shape[0], fftbins=True)[:, None, None]
        exact = exact * win / np.sqrt(np.sum(win ** 2))
    np.testing.assert_allclose(ours64, exact, rtol=0, atol=1e-12)
    k64 = _knp(keras, keras.initializers.STFT("imag", window, "density", True)(shape, "float64"))
    np.testing.assert_allclose(ours64, k64, rtol=0, atol=1e-4)
    # channels > 1: Keras builds one channel; every fastinit channel equals it
    k = _knp(keras, keras.initializers.STFT("real", window, "spectrum", False)((100, 3, 51)))
    assert k.shape == (100, 1, 51)
    ours = fastinit.stft(100, 3, 51, side="real", window=window, scaling="spectrum")
    assert ours.shape == (100, 3, 51)
    for c in range(3):
        np.testing.assert_allclose(ours[:, c:c + 1], k, rtol=0, atol=1e-6)


@pytest.mark.parametrize("shape", [(4, 4), (3, 5), (5, 3), (1, 7), (64, 32)], ids=str)
@pytest.mark.parametrize("gain", [1.0, 0.5, -2.0, 3])
def test_eye_equals_keras_and_torch(keras, torch, shape, gain):
    k = _knp(keras, keras.initializers.Identity(gain=gain)(shape))
    ours = fastinit.eye(*shape, gain=gain)
    assert ours.dtype == k.dtype == np.float32
    np.testing.assert_array_equal(ours, k)
    if gain == 1.0:
        np.testing.assert_array_equal(fastinit.eye(*shape), torch.nn.init.eye_(torch.empty(shape)).numpy())
    np.testing.assert_array_equal(fastinit.get("keras.Identity")(shape), _knp(keras, keras.initializers.Identity()(shape)))


DIRAC_SHAPES = [(4, 4, 3), (6, 4, 5), (4, 6, 2), (8, 3, 4), (4, 6, 3, 3), (8, 4, 3, 4),
                (6, 2, 2, 2), (4, 2, 3, 3, 3), (6, 3, 2, 4, 5), (2, 8, 1, 1, 1)]


@pytest.mark.parametrize("shape", DIRAC_SHAPES, ids=str)
@pytest.mark.parametrize("groups", [1, 2])
def test_dirac_equals_torch(torch, shape, groups):
    t = torch.nn.init.dirac_(torch.empty(shape), groups=groups).numpy()
    ours = fastinit.dirac(*shape, groups=groups)
    assert ours.shape == t.shape and ours.dtype == t.dtype
    np.testing.assert_array_equal(ours, t)
    np.testing.assert_array_equal(PRESETS["torch"]["dirac_"](groups=groups)(shape), t)


def jl_identity(shape, gain=1.0, shift=0):
    """A numpy port of WeightInitializers.jl ``identity_init`` (the identity its documentation
    describes): 1-D zeros; 2-D gain on the diagonal then circshift(W, shift) = np.roll along axis
    0; n-D gain at W[centres..., i, i], centres cld(d, 2) 1-based, then circshift by
    (0, ..., shift, shift)."""
    w = np.zeros(shape, np.float32)
    if len(shape) == 1:
        return w
    k = min(shape[-2], shape[-1])
    if len(shape) == 2:
        w[np.arange(k), np.arange(k)] = gain
        return np.roll(w, shift, axis=0)
    centres = tuple(-(-d // 2) - 1 for d in shape[:-2])
    for i in range(k):
        w[centres + (i, i)] = gain
    return np.roll(w, (shift, shift), axis=(-2, -1))


@pytest.mark.parametrize("shape", [(5,), (4, 4), (3, 5), (5, 3), (3, 3, 4, 4), (4, 4, 3, 5),
                                   (2, 5, 6, 3), (3, 4, 2, 2), (5, 3, 3), (2, 3, 3, 4, 4)], ids=str)
@pytest.mark.parametrize("shift", [0, 1, -2, 7])
@pytest.mark.parametrize("gain", [1.0, 2.5])
def test_identity_equals_weightinitializers(shape, shift, gain):
    expected = jl_identity(shape, gain, shift)
    np.testing.assert_array_equal(fastinit.identity(*shape, gain=gain, shift=shift), expected)
    np.testing.assert_array_equal(
        PRESETS["lux"]["identity_init"](gain=gain, shift=shift)(shape), expected)


@pytest.mark.parametrize("shape,shift", [((4, 6), (1, 2)), ((5, 3), (-1, 4)), ((3, 3, 4, 5), (1, 3))], ids=str)
def test_identity_pair_shift(shape, shift):
    base = fastinit.identity(*shape)
    axes = (0, 1) if len(shape) == 2 else (-2, -1)
    np.testing.assert_array_equal(fastinit.identity(*shape, shift=shift), np.roll(base, shift, axis=axes))


# =================================================================================================
# 8. orthogonal
# =================================================================================================

ORTHO_SHAPES = [(64, 32), (32, 64), (16, 8, 3, 3), (3, 3, 8, 16)]


def _flatten(w, layout):
    if layout in ("torch", "keraflow"):
        return w.reshape(w.shape[0], -1)
    return w.reshape(-1, w.shape[-1])


@pytest.mark.parametrize("dtype", ["float32", "float64", "complex64"])
@pytest.mark.parametrize("shape", ORTHO_SHAPES, ids=str)
@pytest.mark.parametrize("layout", LAYOUTS)
def test_orthogonal(layout, shape, dtype):
    tol = 1e-12 if dtype == "float64" else 1e-5
    for gain in (1.0, 1.5):
        w = fastinit.orthogonal(*shape, gain=gain, layout=layout, dtype=dtype, seed=123)
        assert w.shape == shape and w.dtype == np.dtype(dtype)
        np.testing.assert_array_equal(w, fastinit.orthogonal(*shape, gain=gain, layout=layout,
                                                             dtype=dtype, seed=123))
        assert not np.array_equal(w, fastinit.orthogonal(*shape, gain=gain, layout=layout,
                                                         dtype=dtype, seed=124))
        a = _flatten(w, layout).astype(np.complex128 if dtype == "complex64" else np.float64)
        gram = a.conj().T @ a if a.shape[0] >= a.shape[1] else a @ a.conj().T
        err = np.abs(gram - gain ** 2 * np.eye(gram.shape[0])).max()
        assert err <= tol * gain ** 2, (layout, shape, dtype, gain, err)
        if dtype == "complex64":
            assert np.abs(a.imag).max() > 0.01  # genuinely complex (unitary), not real


@pytest.mark.parametrize("layout,shape", [("torch", (16, 8, 3, 3)), ("keras", (3, 3, 8, 16))])
def test_orthogonal_layout_decides_the_flattening(layout, shape):
    """The other layout's flattening is not orthogonal: the layout is really used."""
    other = "keras" if layout == "torch" else "torch"
    w = fastinit.orthogonal(*shape, layout=layout, seed=5).astype(np.float64)
    a = _flatten(w, other)
    gram = a.T @ a if a.shape[0] >= a.shape[1] else a @ a.T
    assert np.abs(gram - np.eye(gram.shape[0])).max() > 0.1


def test_delta_orthogonal_as_jax(jax):
    """jax.nn.initializers.delta_orthogonal: zeros but an orthogonal (in, out) matrix at the
    kernel's centre ((k - 1) // 2); the same rules (3-D to 5-D, in <= out)."""
    for shape in [(3, 4, 6), (3, 5, 8, 8), (3, 3, 3, 2, 5)]:
        ours = fastinit.get("jax.delta_orthogonal")(shape, seed=1)
        ref = _jax_out(jax, jax.nn.initializers.delta_orthogonal(), shape, jnp_float32(jax))
        centre = tuple((k - 1) // 2 for k in shape[:-2])
        for w in (ours, ref):
            m = np.asarray(w[centre], np.float64)
            np.testing.assert_allclose(m @ m.T, np.eye(shape[-2]), atol=1e-5)
            rest = np.asarray(w).copy()
            rest[centre] = 0
            assert not rest.any()
    for bad in [(4, 6), (3, 3, 3, 3, 3, 4, 6), (3, 6, 4)]:
        with pytest.raises(ValueError, match="shape"):
            fastinit.get("jax.delta_orthogonal")(bad, seed=1)
        with pytest.raises(ValueError):
            jax.nn.initializers.delta_orthogonal()(jax.random.key(0), bad)


def jnp_float32(jax):
    return jax.numpy.float32


def test_orthogonal_column_axis_as_jax(jax):
    """JAX's orthogonal(column_axis=0): the columns run along axis 0."""
    shape = (6, 4, 3)
    ours = fastinit.get("jax.orthogonal")  # default column_axis=-1
    init = fastinit.registry.PRESETS["jax"]["orthogonal"](column_axis=0)
    w = init(shape, seed=3)
    ref = _jax_out(jax, jax.nn.initializers.orthogonal(column_axis=0), shape, jnp_float32(jax))
    for a in (w, ref):
        m = np.moveaxis(np.asarray(a, np.float64), 0, -1).reshape(12, 6)
        np.testing.assert_allclose(m.T @ m, np.eye(6), atol=1e-5)
    assert ours(shape, seed=3).shape == shape
