"""Contract 5: the kernels write in place; no temporary the size of the output, and float16 is
never made through a float32 or float64 copy."""
import tracemalloc

import numpy as np
import pytest

import fastinit

FILLS = [
    lambda **k: fastinit.uniform(1000, 1000, **k),
    lambda **k: fastinit.normal(1000, 1000, **k),
    lambda **k: fastinit.truncated_normal(1000, 1000, lo=3, hi=np.inf, **k),
    lambda **k: fastinit.sparse(1000, 1000, sparsity=0.9, **k),
]


@pytest.mark.parametrize("f", FILLS)
@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "float32", "float64"])
def test_traced_peak_is_the_output(f, dtype):
    f(dtype=dtype, seed=0)  # compile outside the measurement
    out = np.empty((1000, 1000), dtype)
    tracemalloc.start()
    try:
        f(dtype=dtype, seed=1)
        _, peak_new = tracemalloc.get_traced_memory()
        tracemalloc.reset_peak()
        f(dtype=dtype, seed=1, out=out)
        _, peak_out = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak_new < out.nbytes + 2**20
    assert peak_out < 2**20


def test_resident_growth_of_a_large_float16_fill(python):
    # 5e7 float16 elements: 100 MB of output; a float32 copy would add 200 MB, a float64 one 400 MB
    out = python("""
        import resource, numpy as np, fastinit
        fastinit.normal(10**6, dtype="float16", seed=0)
        fastinit.truncated_normal(10**6, dtype="float16", seed=0)
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        a = fastinit.normal(5 * 10**7, dtype="float16", seed=1)
        b = fastinit.truncated_normal(5 * 10**7, dtype="float16", seed=1)
        after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print((after - before) * 1024 - a.nbytes - b.nbytes)
    """)
    assert int(out) < 50 * 2**20


INITIALIZERS = [
    lambda **k: fastinit.kaiming_normal(1000, 1000, **k),
    lambda **k: fastinit.glorot_uniform(1000, 1000, layout="keras", **k),
    lambda **k: fastinit.get("he_normal")(1000, 1000, **k),  # Keras: truncated
    lambda dtype, **k: (fastinit.randn16 if dtype == "float16" else fastinit.randn32)(1000, 1000, **k),
]


@pytest.mark.parametrize("f", INITIALIZERS)
@pytest.mark.parametrize("dtype", ["float16", "float32"])
def test_initializers_traced_peak_is_the_output(f, dtype):
    f(dtype=dtype, seed=0)
    tracemalloc.start()
    try:
        f(dtype=dtype, seed=1)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < np.dtype(dtype).itemsize * 10**6 + 2**20


@pytest.mark.parametrize("dtype", ["float32", "float64", "complex64"])
@pytest.mark.parametrize("shape", [(2000, 500), (500, 2000)])
def test_orthogonal_works_in_place(dtype, shape):
    """The QR runs in the output: tau and LAPACK's work array only (well under 1 MB here)."""
    fastinit.orthogonal(20, 10, dtype=dtype, seed=0)
    out = np.empty(shape, dtype)
    tracemalloc.start()
    try:
        fastinit.orthogonal(seed=1, out=out)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 2**20, peak


def test_complex_variance_scaling_in_place():
    out = np.empty((1000, 1000), np.complex64)
    fastinit.variance_scaling(seed=0, out=out, layout="jax", distribution="uniform")
    tracemalloc.start()
    try:
        fastinit.variance_scaling(seed=1, out=out, layout="jax", distribution="uniform")
        fastinit.variance_scaling(seed=1, out=out, layout="jax")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 2**20, peak
