"""Hypothesis fuzzing of shapes, dtypes, parameters and row blocks: every call either returns
finite values inside the support that equal the full tensor's rows, or raises ValueError /
TypeError before writing anything."""
import math

import numpy as np
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import fastinit

shapes = st.lists(st.integers(0, 70), min_size=1, max_size=3).map(tuple)
dtypes = st.sampled_from(["float16", "bfloat16", "float32", "float64"])
seeds = st.integers(-(2**70), 2**70)
finite = st.floats(-1e3, 1e3, allow_nan=False)
bounds = st.floats(-20, 20, allow_nan=False) | st.sampled_from([-math.inf, math.inf])
FUZZ = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def rows_of(shape, data):
    a = data.draw(st.integers(0, shape[0]))
    return slice(a, data.draw(st.integers(a, shape[0])))


def check(f, shape, data, lo, hi, strict=False):
    try:
        full = f(shape, None)
    except (ValueError, TypeError):
        return
    assert full.shape == shape
    assert np.all(np.isfinite(full))
    v = full.astype(np.float64)  # compare exactly, not in the output's precision
    assert np.all((v >= lo) & ((v < hi) if strict else (v <= hi)))
    rows = rows_of(shape, data)
    assert np.array_equal(f(shape, rows), full[rows])


@FUZZ
@given(shapes, dtypes, seeds, finite, st.floats(0.0, 1e3, allow_nan=False), st.data())
def test_uniform(shape, dtype, seed, low, width, data):
    high = low + width
    check(lambda s, r: fastinit.uniform(s, low=low, high=high, dtype=dtype, seed=seed, rows=r), shape, data, low, high,
          strict=True)


@FUZZ
@given(shapes, dtypes, seeds, finite, st.floats(0.0, 100.0, allow_nan=False), st.data())
def test_normal(shape, dtype, seed, mean, std, data):
    info = np.finfo(dtype)
    tol = 9 * std + (abs(mean) + 9 * std) * info.eps + info.smallest_subnormal  # |z| < 9, plus rounding
    check(lambda s, r: fastinit.normal(s, mean=mean, std=std, dtype=dtype, seed=seed, rows=r), shape, data,
          mean - tol, mean + tol)


@FUZZ
@given(shapes, dtypes, seeds, st.floats(-5, 5), st.floats(0.01, 10), bounds, bounds, st.data())
def test_truncated_normal(shape, dtype, seed, mean, std, lo, hi, data):
    check(lambda s, r: fastinit.truncated_normal(s, mean=mean, std=std, lo=lo, hi=hi, dtype=dtype, seed=seed,
                                                 rows=r), shape, data, lo, hi)


@FUZZ
@given(st.integers(0, 300), st.integers(0, 40), dtypes, seeds, st.floats(0, 0.999), st.data())
def test_sparse(n_rows, n_cols, dtype, seed, sparsity, data):
    w = fastinit.sparse(n_rows, n_cols, sparsity=sparsity, std=1.0, dtype=dtype, seed=seed)
    assert np.all(np.isfinite(w))
    assert np.all((w == 0).sum(axis=0) >= math.ceil(sparsity * n_rows))
    assert np.all((w == 0).sum(axis=0) <= math.ceil(sparsity * n_rows) + 2)  # a normal draw can round to 0 in float16
    rows = rows_of((n_rows, n_cols), data)
    assert np.array_equal(fastinit.sparse(n_rows, n_cols, sparsity=sparsity, std=1.0, dtype=dtype, seed=seed,
                                          rows=rows), w[rows])


@FUZZ
@given(st.lists(st.integers(-3, 5) | st.floats(-2, 5), min_size=1, max_size=3), st.data())
def test_bad_shapes_raise_or_work(dims, data):
    try:
        a = fastinit.normal(*dims, seed=1)
    except ValueError as e:
        assert "shape" in str(e) and any(isinstance(d, int) and d < 0 for d in dims)
        return
    except TypeError as e:
        assert "shape" in str(e) and any(isinstance(d, float) for d in dims)
        return
    assert a.shape == tuple(dims)
