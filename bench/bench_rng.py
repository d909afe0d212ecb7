"""The raw random streams, through each library's thinnest path from random bits to memory.

fastinit's uniform fill is its RNG's speed: one xoroshiro128+ output per float64 value, one per
two 32-bit values, plus a multiply. Its peers: numpy's PCG64 (``Generator.random``) and torch's
mt19937 (``uniform_``; ``random_`` on int64 is torch's raw 64-bit stream).
"""
import numpy as np
import pytest

import fastinit
from cases import torch, touched

needs_torch = pytest.mark.skipif(torch is None, reason="torch is not installed")
DTYPES = ["float32", "float64"]


@pytest.mark.parametrize("dtype", DTYPES)
def test_fastinit_xoroshiro128p(bench_fill, size, dtype):
    bench_fill(lambda out: fastinit.uniform(out=out, seed=0), touched(size, dtype), f"rng stream {dtype}")


@pytest.mark.parametrize("dtype", DTYPES)
def test_numpy_pcg64(bench_fill, size, dtype):
    rng = np.random.Generator(np.random.PCG64(0))
    bench_fill(lambda out: rng.random(dtype=out.dtype, out=out), touched(size, dtype), f"rng stream {dtype}")


@needs_torch
@pytest.mark.parametrize("dtype", DTYPES)
def test_torch_mt19937_uniform(bench_fill, size, dtype):
    bench_fill(lambda t: t.uniform_(), torch.from_numpy(touched(size, dtype)), f"rng stream {dtype}")


@needs_torch
def test_torch_mt19937_raw_int64(bench_fill, size):
    bench_fill(lambda t: t.random_(), torch.from_numpy(touched(size, np.int64)), "rng stream float64")
