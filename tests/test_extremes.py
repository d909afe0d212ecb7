"""Extreme parameters (issue 10): magnitudes from 1e-320 to 1e308, intervals a few ulps wide
anywhere on the float16, float32 and float64 lines, gains and scales at the edges.

Every call either returns finite values inside the support, or raises ``ValueError`` /
``TypeError`` whose message starts with the names of parameters the caller passed, and ends:
a watchdog (``faulthandler``, whose thread runs without the GIL, so it fires even while a
kernel spins) ends the whole process if one call takes longer than ``WATCHDOG_S``.
"""
import faulthandler
import math
import re
from contextlib import contextmanager

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import fastinit

WATCHDOG_S = 300  # a first call compiles its kernel (seconds); a spinning call never returns
EXTREME = settings(max_examples=150, deadline=None, derandomize=True,
                   suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])

REALS = ["float16", "bfloat16", "float32", "float64"]
sizes = st.integers(0, 40)
seeds = st.integers(0, 2**64 - 1)


@st.composite
def magnitudes(draw, low=-320, high=307):
    """A float of any sign whose magnitude is anywhere from 1e-320 to 1e308."""
    m = draw(st.floats(1.0, 9.99) | st.just(1.0))
    sign = draw(st.sampled_from([1.0, -1.0]))
    return sign * m * 10.0 ** draw(st.integers(low, high))


positive = magnitudes().map(abs)
anything = magnitudes() | st.floats(allow_nan=False, allow_infinity=False) | st.sampled_from([0.0, -0.0])


@st.composite
def narrow(draw, dtype):
    """(lo, hi) a few ulps of ``dtype`` apart, anywhere on its line; each bound either on the
    dtype's grid or between two of its values."""
    t = np.dtype(dtype).type
    big = float(np.finfo(dtype).max)
    x = t(np.clip(draw(anything), -big, big))
    k = draw(st.integers(1, 6))
    y = x
    for _ in range(k):
        y = np.nextafter(y, t(math.inf))
    lo, hi = float(x), float(y)
    if draw(st.booleans()) and math.isfinite(hi):  # off the grid: a fraction of the way up
        lo += (float(np.nextafter(x, t(math.inf))) - lo) * draw(st.floats(0.0, 0.999))
    if not (math.isfinite(hi) and lo < hi):
        hi = float(np.nextafter(y, t(-math.inf))) if not math.isfinite(hi) else hi
    return lo, hi


@contextmanager
def watchdog():
    faulthandler.dump_traceback_later(WATCHDOG_S, exit=True)
    try:
        yield
    finally:
        faulthandler.cancel_dump_traceback_later()


def outcome(call, passed: set):
    """``call()``'s result, or ``None`` when it raised ValueError/TypeError naming a parameter
    from ``passed`` (the message's leading ``name, name: ...``)."""
    with watchdog():
        try:
            return call()
        except (ValueError, TypeError) as e:
            head = re.match(r"^([\w, ]+):", str(e))
            assert head, f"message does not start with a parameter name: {e}"
            named = {n.strip() for n in head.group(1).split(",")}
            assert named & passed, f"message names {named}, the call passed {passed}: {e}"
            assert len(str(e)) < 2000
            return None


def inside(w, lo, hi, *, strict=False):
    v = np.asarray(w).astype(np.float64)
    assert np.isfinite(v).all()
    assert (v >= lo).all() and ((v < hi) if strict else (v <= hi)).all(), (v.min(), v.max(), lo, hi)


@EXTREME
@given(st.sampled_from(REALS), sizes, seeds, anything, positive, st.data())
def test_truncated_normal_narrow(dtype, n, seed, mean, std, data):
    lo, hi = data.draw(narrow(dtype))
    w = outcome(lambda: fastinit.truncated_normal(n, mean=mean, std=std, lo=lo, hi=hi, dtype=dtype, seed=seed),
                {"mean", "std", "lo", "hi", "dtype"})
    if w is not None:
        inside(w, lo, hi)


@EXTREME
@given(st.sampled_from(REALS), sizes, seeds, anything, positive,
       anything | st.just(-math.inf), anything | st.just(math.inf))
def test_truncated_normal_wide(dtype, n, seed, mean, std, lo, hi):
    w = outcome(lambda: fastinit.truncated_normal(n, mean=mean, std=std, lo=lo, hi=hi, dtype=dtype, seed=seed),
                {"mean", "std", "lo", "hi", "dtype"})
    if w is not None:
        inside(w, lo, hi)


@EXTREME
@given(st.sampled_from(REALS + ["complex64", "complex128"]), sizes, seeds, anything, anything, st.data())
def test_uniform(dtype, n, seed, low, high, data):
    if data.draw(st.booleans()):  # a few ulps apart
        low, high = data.draw(narrow(np.finfo(dtype).dtype))
    w = outcome(lambda: fastinit.uniform(n, low=low, high=high, dtype=dtype, seed=seed), {"low", "high", "dtype"})
    if w is not None:
        parts = (w.real, w.imag) if np.iscomplexobj(w) else (w,)
        for part in parts:
            inside(part, low, high, strict=True)


@EXTREME
@given(st.sampled_from(REALS + ["complex64", "complex128"]), sizes, seeds, anything, positive | st.just(0.0))
def test_normal(dtype, n, seed, mean, std):
    w = outcome(lambda: fastinit.normal(n, mean=mean, std=std, dtype=dtype, seed=seed), {"mean", "std", "dtype"})
    if w is not None:
        assert np.isfinite(w.view(np.finfo(w.dtype).dtype)).all()


@EXTREME
@given(st.sampled_from(REALS), st.integers(0, 30), st.integers(0, 12), seeds, st.floats(0, 1, exclude_max=True),
       positive | st.just(0.0))
def test_sparse(dtype, rows, cols, seed, sparsity, std):
    w = outcome(lambda: fastinit.sparse(rows, cols, sparsity=sparsity, std=std, dtype=dtype, seed=seed),
                {"sparsity", "std", "dtype"})
    if w is not None:
        assert np.isfinite(w).all()
        assert ((w == 0).sum(axis=0) >= math.ceil(sparsity * rows)).all()


FAMILY = ["glorot_normal", "glorot_uniform", "kaiming_normal", "kaiming_uniform", "lecun_normal",
          "lecun_uniform", "orthogonal", "identity", "eye", "delta_orthogonal"]


@EXTREME
@given(st.sampled_from(FAMILY), st.sampled_from(["torch", "keras", "jax", "lux"]),
       st.sampled_from(REALS + ["complex64", "complex128"]), st.lists(st.integers(1, 9), min_size=2, max_size=4),
       seeds, positive)
def test_gains(name, layout, dtype, shape, seed, gain):
    f = getattr(fastinit, name)
    kw = {} if name.startswith("lecun") else {"gain": gain}
    if name in ("glorot_normal", "glorot_uniform", "kaiming_normal", "kaiming_uniform", "lecun_normal",
                "lecun_uniform", "orthogonal"):
        kw["layout"] = layout
    if name == "eye":
        shape = shape[:2]
    if name == "delta_orthogonal":
        shape = shape[:2] + [3]
    w = outcome(lambda: f(*shape, dtype=dtype, seed=seed, **kw), set(kw) | {"dtype", "shape", "layout"})
    if w is not None:
        assert np.isfinite(w.view(np.finfo(w.dtype).dtype)).all()


@EXTREME
@given(st.sampled_from(["fan_in", "fan_out", "fan_avg"]),
       st.sampled_from(["truncated_normal", "untruncated_normal", "normal", "uniform"]),
       st.sampled_from(["torch", "keras", "jax", "lux"]), st.sampled_from(REALS + ["complex64", "complex128"]),
       st.lists(st.integers(1, 5000), min_size=2, max_size=3), seeds, positive)
def test_variance_scaling(mode, distribution, layout, dtype, shape, seed, scale):
    if math.prod(shape) > 20_000:
        shape = shape[:1] + [1] * (len(shape) - 1)
    w = outcome(lambda: fastinit.variance_scaling(*shape, scale=scale, mode=mode, distribution=distribution,
                                                  layout=layout, dtype=dtype, seed=seed),
                {"scale", "mode", "distribution", "layout", "dtype", "shape"})
    if w is not None:
        assert np.isfinite(w.view(np.finfo(w.dtype).dtype)).all()
