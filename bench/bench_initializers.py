"""Initializers that are more than a fill: orthogonal (LAPACK QR) beside torch's orthogonal_
and numpy's QR, and JAX's complex variance scaling (a uniform fill mapped to polar form)
beside the complex normal fill and torch's complex normal_."""
import math

import numpy as np
import pytest

import fastinit
from cases import torch, touched

SHAPES = [(2048, 2048), (4096, 1024), (1024, 4096)]


def _numpy_orthogonal(out, rng=np.random.default_rng(0)):
    """What a numpy user writes: QR of a Gaussian matrix (numpy computes float32 in float64)."""
    m, n = out.shape
    a = rng.standard_normal((max(m, n), min(m, n)), dtype=np.float32)
    q, r = np.linalg.qr(a)
    q *= np.sign(np.diag(r))
    out[...] = q if m >= n else q.T


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("lib", ["fastinit", "numpy", "torch"])
def test_orthogonal(bench_fill, shape, lib):
    out = touched(math.prod(shape), "float32").reshape(shape)
    if lib == "fastinit":
        fill = lambda w: fastinit.orthogonal(seed=0, out=w)  # noqa: E731
    elif lib == "numpy":
        fill = _numpy_orthogonal
    else:
        if torch is None:
            pytest.skip("torch is not installed")
        out = torch.from_numpy(out)
        fill = torch.nn.init.orthogonal_
    bench_fill(fill, out, f"orthogonal {shape[0]}x{shape[1]} float32")


@pytest.mark.parametrize("dtype", ["complex64", "complex128"])
@pytest.mark.parametrize("what", ["uniform disk", "truncated modulus", "normal fill", "torch normal_"])
def test_complex_variance_scaling(bench_fill, size, dtype, what):
    shape = (size // 2048, 2048)
    out = touched(math.prod(shape), dtype).reshape(shape)
    if what == "torch normal_":
        if torch is None:
            pytest.skip("torch is not installed")
        out, fill = torch.from_numpy(out), lambda t: t.normal_()
    elif what == "normal fill":
        fill = lambda w: fastinit.normal(seed=0, out=w)  # noqa: E731
    else:
        dist = "uniform" if what == "uniform disk" else "truncated_normal"
        fill = lambda w: fastinit.variance_scaling(  # noqa: E731
            seed=0, out=w, layout="jax", distribution=dist)
    bench_fill(fill, out, f"complex variance scaling {dtype}")
