"""bfloat16 (issue 11): each value is the float32 result rounded to nearest (ties to even),
written straight into the output, with the supports kept after rounding: uniform never returns
``high``, truncated values stay in [lo, hi], sparse non-zeros never round to zero."""
import math

import ml_dtypes
import numpy as np
import pytest

import fastinit

BF16 = np.dtype(ml_dtypes.bfloat16)


def rounded(a: np.ndarray) -> np.ndarray:
    """float32 values rounded to bfloat16 by ml_dtypes (nearest, ties to even), as bits."""
    assert a.dtype == np.float32
    return a.astype(BF16).view(np.int16)


def f64(a):
    return np.asarray(a).astype(np.float64)


@pytest.mark.parametrize("dtype", ["bfloat16", BF16, ml_dtypes.bfloat16])
def test_dtype_spellings(dtype):
    w = fastinit.normal(5, 7, dtype=dtype, seed=0)
    assert w.dtype == BF16 and w.shape == (5, 7)


@pytest.mark.parametrize("std", [0.02, 1.0, 1e-30, 3e35])
def test_normal_is_float32_rounded(std):
    b = fastinit.normal(301, 77, mean=0.25 * std, std=std, dtype="bfloat16", seed=11)
    a = fastinit.normal(301, 77, mean=0.25 * std, std=std, dtype="float32", seed=11)
    assert np.array_equal(b.view(np.int16), rounded(a))


@pytest.mark.parametrize("low, high", [(-0.1, 0.1), (0.0, 1.0), (1.0, 1.01), (-3e38, -2e38)])
def test_uniform_is_float32_rounded_and_never_high(low, high):
    b = fastinit.uniform(301, 77, low=low, high=high, dtype="bfloat16", seed=12)
    a = fastinit.uniform(301, 77, low=low, high=high, dtype="float32", seed=12)
    v = f64(b)
    assert (v >= low).all() and (v < high).all()
    r = rounded(a)
    differ = b.view(np.int16) != r
    # where they differ, rounding alone would have left [low, high): the value is then the edge
    assert ((f64(r.view(BF16))[differ] >= high) | (f64(r.view(BF16))[differ] < low)).all()
    assert set(v[differ]) <= {v.min(), v.max()}
    if (low, high) == (0.0, 1.0):
        assert differ.any()  # float32 values above 0.998 round to 1.0 in bfloat16


@pytest.mark.parametrize("mean, std, lo, hi", [(0, 0.02, -0.04, 0.04), (0, 1, -2, 2), (0, 1, 6, math.inf),
                                                (1.0, 1e-2, 1.001, 1.05), (0, 1, -math.inf, -3)])
def test_truncated_normal_stays_inside(mean, std, lo, hi):
    w = f64(fastinit.truncated_normal(64, 1000, mean=mean, std=std, lo=lo, hi=hi, dtype="bfloat16", seed=13))
    assert np.isfinite(w).all() and (w >= lo).all() and (w <= hi).all()
    assert len(np.unique(w)) > 1


def test_sparse_is_float32_rounded_with_exact_zeros():
    b = fastinit.sparse(1000, 257, sparsity=0.9, std=0.01, dtype="bfloat16", seed=14)
    a = fastinit.sparse(1000, 257, sparsity=0.9, std=0.01, dtype="float32", seed=14)
    assert np.array_equal(b.view(np.int16), rounded(a))
    assert ((f64(b) == 0).sum(axis=0) == 900).all()


def test_sparse_nonzeros_never_round_to_zero():
    # std far below bfloat16's smallest subnormal (9.2e-41): every non-zero would round to 0
    w = f64(fastinit.sparse(500, 64, sparsity=0.5, std=1e-44, dtype="bfloat16", seed=15))
    assert ((w == 0).sum(axis=0) == 250).all()
    tiny = float(ml_dtypes.finfo(BF16).smallest_subnormal)
    assert set(np.abs(w[w != 0])) == {tiny}


@pytest.mark.parametrize("make", [
    lambda **k: fastinit.uniform(9, 4219, **k),
    lambda **k: fastinit.normal(9, 4219, **k),
    lambda **k: fastinit.truncated_normal(9, 4219, **k),
    lambda **k: fastinit.sparse(9, 4219, sparsity=0.3, **k),
])
def test_rows_and_out(make):
    full = make(dtype="bfloat16", seed=16)
    part = make(dtype="bfloat16", seed=16, rows=slice(2, 7))
    assert np.array_equal(part.view(np.int16), full[2:7].view(np.int16))
    out = np.zeros(full.shape, BF16)
    assert make(seed=16, out=out) is out  # dtype from out
    assert np.array_equal(out.view(np.int16), full.view(np.int16))


@pytest.mark.parametrize("call", [
    lambda **k: fastinit.kaiming_normal(64, 32, 3, 3, **k),
    lambda **k: fastinit.glorot_uniform(128, 64, layout="keras", **k),
    lambda **k: fastinit.variance_scaling(64, 96, scale=2.0, distribution="untruncated_normal", layout="jax", **k),
    lambda **k: fastinit.orthogonal(96, 64, **k),
    lambda **k: fastinit.eye(7, 9, **k),
    lambda **k: fastinit.dirac(4, 2, 3, 3, groups=2, **k),
    lambda **k: fastinit.identity(3, 3, 8, 8, **k),
    lambda **k: fastinit.stft(64, 1, 33, **k),
    lambda **k: fastinit.constant(3, 5, value=0.1, **k),
])
def test_initializers_are_float32_rounded(call):
    b = call(dtype="bfloat16", seed=17)
    a = call(dtype="float32", seed=17)
    assert b.dtype == BF16
    assert np.array_equal(b.view(np.int16), rounded(a))


def test_values_beyond_bfloat16_are_refused_before_writing():
    out = np.zeros(8, BF16)
    with pytest.raises(ValueError, match="^std"):
        fastinit.normal(std=1e38, seed=0, out=out)  # 8.6 std reaches past 3.39e38
    with pytest.raises(ValueError, match="^value"):
        fastinit.constant(value=3.4e38, out=out)
    assert not f64(out).any()


def test_gpu_bfloat16_out_is_checked_before_the_gpu_is_needed():
    """A bfloat16 GPU ``out`` (a torch CUDA tensor's int16 bits seen as bfloat16) goes through
    the GPU checks; tests/cuda fills it."""
    from fastinit._device import Viewed
    from specs import ForeignArray
    host = np.zeros((4, 6), np.int16)
    out = Viewed(ForeignArray(host), BF16)
    with pytest.raises(TypeError, match="out: dtype bfloat16 does not match dtype float32"):
        fastinit.normal(4, 6, dtype="float32", out=out, seed=0)
    with pytest.raises(ValueError, match="out: shape"):
        fastinit.normal(4, 5, out=out, seed=0)
    assert not host.any()


def test_ml_dtypes_is_imported_only_for_bfloat16(python, tmp_path):
    """Importing ml_dtypes takes longer than the rest of ``import fastinit`` (numpy registers its
    ufunc loops), so fastinit imports it only when bfloat16 is asked for: not at import, not for
    the other dtypes' fills, checks and errors; and "bfloat16" by name still works first."""
    out = python("""
        import sys
        import numpy as np
        import fastinit, fastinit.files, fastinit.numba_api as _
        print('ml_dtypes' in sys.modules)
    """)
    assert out.split() == ["True"]  # numba_api lists the formats it takes, bfloat16 among them
    out = python("""
        import sys
        import numpy as np
        import fastinit
        print('ml_dtypes' in sys.modules)
        fastinit.uniform(3, 4, seed=0); fastinit.truncated_normal(5, dtype="float16", seed=0)
        fastinit.zeros(3, dtype=np.int8); fastinit.kaiming_uniform(4, 4, seed=0)
        fastinit.save(%r, {"w": ("fastinit.normal", (3, 4), "float32")}, seed=0)
        print('ml_dtypes' in sys.modules)
        w = fastinit.normal(3, dtype="bfloat16", seed=0)
        print(w.dtype.name, 'ml_dtypes' in sys.modules)
    """ % str(tmp_path / "w.safetensors"))
    assert out.split() == ["False", "False", "bfloat16", "True"], out
    out = python("""
        import fastinit
        try:
            fastinit.normal(3, dtype="int8")
        except TypeError as e:
            print(e)
    """)  # the supported dtypes listed: bfloat16 among them
    assert "float16, bfloat16, float32, float64" in out
