"""The GPU kernels give the CPU kernels' values for the same seed, element for element.

Each case runs the CPU kernel and its GPU twin with the same parameters on the same range of
elements [start, start + n) of the tensor, at block edges and across them. In the simulator the
shared per-value functions run on the CPU, so these tests prove the GPU kernels' stream layout
(which thread makes which element, in which order); bitwise equality there is exact for every
kernel. On a device they are bitwise too: the shared math's float operations are fma and
``bits.mul``/``add``/``sub``, which NVVM and ptxas cannot contract (numba-cuda compiles with
NVVM's default -fma=1, under which a plain ``*`` and ``+`` may become one fma); ``test_ptx``
checks the kernels' PTX for that."""
import os

import numpy as np
import pytest
from numba import cuda

from fastinit import cuda as fc
from fastinit.kernels.normal import fill_normal
from fastinit.kernels.rng import BLOCK, LANES
from fastinit.kernels.uniform import fill_uniform

RANGES = [(0, 300), (BLOCK - 150, 300), (3 * BLOCK + 5, 61), (2 * BLOCK, 16)]
DTYPES = ["float16", "bfloat16", "float32", "float64", "complex64", "complex128"]
REALS = ["float16", "bfloat16", "float32", "float64"]


def _flat(dtype, n):
    """A host array of n elements of dtype and the flat view the kernels fill (complex: the real
    view, twice as long; float16 and bfloat16: their bits, as ``_checks.bits16`` views them)."""
    from fastinit._checks import bits16
    host = np.zeros(n, dtype)
    if host.dtype.kind == "c":
        return host.view(host.real.dtype)
    if bits16(host.dtype) is not None:
        return host.view(bits16(host.dtype))
    return host


def _both(cpu_kernel, gpu_kernel, dtype, start, n, *params):
    cpu = _flat(dtype, n)
    cpu_kernel(cpu, np.uint64(12345), cpu.size // n * start, *params)
    dev = cuda.to_device(np.zeros_like(cpu))
    gpu_kernel(dev, 12345, cpu.size // n * start, *params)
    return cpu, dev.copy_to_host()


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("start, n", RANGES)
def test_uniform_equals_cpu(dtype, start, n):
    cpu, gpu = _both(fill_uniform, fc.fill_uniform, dtype, start, n, -1.5, 3.0, -1.5, 1.4999)
    assert cpu.tobytes() == gpu.tobytes()


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("start, n", RANGES)
def test_normal_equals_cpu(dtype, start, n):
    means = np.array([0.25, -2.0] * (LANES // 2))
    cpu, gpu = _both(fill_normal, fc.fill_normal, dtype, start, n, means, 1.75)
    assert cpu.tobytes() == gpu.tobytes()


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
def test_constant(dtype):
    host = _flat(dtype, 1000)
    value = np.float16(-0.375).view(np.uint16) if dtype == "float16" else host.dtype.type(-0.375)
    dev = cuda.to_device(host)
    fc.fill_constant(dev, value)
    assert (dev.copy_to_host() == value).all()


def test_empty_range_launches_nothing():
    dev = cuda.to_device(np.full(0, 7.0, np.float32))
    fc.fill_uniform(dev, 1, 5, 0.0, 1.0, 0.0, 0.99)
    fc.fill_normal(dev, 1, 5, np.zeros(LANES), 1.0)
    assert dev.copy_to_host().size == 0


def test_row_block_equals_the_same_elements_of_the_whole():
    """Addressability on the GPU: elements [a, b) alone equal those of the whole range."""
    whole = cuda.to_device(np.zeros(2 * BLOCK + 100, np.float32))
    fc.fill_uniform(whole, 9, 0, 0.0, 1.0, 0.0, 0.9999999)
    part = cuda.to_device(np.zeros(250, np.float32))
    fc.fill_uniform(part, 9, BLOCK - 100, 0.0, 1.0, 0.0, 0.9999999)
    assert (part.copy_to_host() == whole.copy_to_host()[BLOCK - 100:BLOCK + 150]).all()


# (mean, std, lo, hi): each proposal (normal, uniform, exponential) and dtype edges
TRUNC = {
    "central": (0.0, 1.0, -2.0, 2.0),
    "narrow": (0.3, 2.0, 0.5, 0.6),
    "tail": (0.0, 1.0, 6.0, np.inf),
    "negtail": (1.0, 0.5, -np.inf, -4.0),
    "near-bound": (0.0, 1.0, -1e-3, 1e-3),
}


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64"])
@pytest.mark.parametrize("case", list(TRUNC))
@pytest.mark.parametrize("start, n", [(0, 300), (BLOCK - 150, 300)])
def test_truncnorm_equals_cpu(dtype, case, start, n):
    from fastinit.fills import _rounds, _values_between, truncnorm_plan
    from fastinit.kernels.truncnorm import fill_truncnorm
    mean, std, lo, hi = TRUNC[case]
    vmin, vmax = _values_between(lo, hi, np.dtype(dtype), closed=True)
    kind, p, acc = truncnorm_plan(mean, std, lo, hi)
    cpu, gpu = _both(fill_truncnorm, fc.fill_truncnorm, dtype, start, n, kind, p, vmin, vmax, _rounds(acc))
    assert cpu.tobytes() == gpu.tobytes()


@pytest.mark.skipif(os.environ.get("NUMBA_ENABLE_CUDASIM") != "1",
                    reason="a device kernel reads the bound when it compiles: lowering it needs the simulator")
@pytest.mark.parametrize("dtype", REALS)
def test_truncnorm_bound_on_candidates(dtype, monkeypatch):
    """Where no candidate is accepted, each stream stops after MAX_CANDIDATES candidates and its
    positions take the CPU kernel's fallback (the support's value nearest the mean; the CPU side
    is tests/test_termination.py). The simulator reads the bound at run time, so it is lowered
    here to keep the test short."""
    import fastinit.cuda.truncnorm as gpu_truncnorm
    from fastinit.fills import truncnorm_plan
    monkeypatch.setattr(gpu_truncnorm, "MAX_CANDIDATES", 64)
    kind, p, _ = truncnorm_plan(0.0, 1.0, -2.0, 2.0)
    host = _flat(dtype, 40)
    dev = cuda.to_device(host)
    fc.fill_truncnorm(dev, 1, BLOCK - 20, kind, p, 100.0, 101.0)
    out = dev.copy_to_host()
    assert out.view(dtype).astype(np.float64).tolist() == [100.0] * 40


@pytest.mark.parametrize("dtype", REALS)
@pytest.mark.parametrize("rows, cols, sparsity, start, n", [
    (33, 40, 0.5, 100, 300),          # ranked row keys (rows <= 64)
    (300, 41, 0.9, 4000, 300),        # Feistel, 6 rounds, across a block edge
    (3000, 5, 0.25, 8100, 200),       # Feistel, 4 rounds
    (301, 41, 0.9, 301 * 41 - 150, 150),  # the tensor's cut last block
])
def test_sparse_equals_cpu(dtype, rows, cols, sparsity, start, n):
    import math
    from fastinit.kernels.sparse import fill_sparse, mask_kind, sparse_domain
    nz = math.ceil(sparsity * rows)
    h, dl = sparse_domain(rows)
    cpu, gpu = _both(fill_sparse, fc.fill_sparse, dtype, start, n, rows, cols, nz, 1.0, h, dl, mask_kind(rows, h))
    assert cpu.tobytes() == gpu.tobytes()
    assert (cpu == 0).any()
