"""Host side of the GPU kernels: the same signatures as the CPU kernels, ``fill_x(out, seed,
start, *params)`` on a flat device array (complex: its real view; float16: its uint16 bits),
with the per-dtype parameter rounding the CPU kernels do, and the launch configuration."""
import ml_dtypes
import numpy as np
from numba import cuda

from ..kernels.blocks import span, span_units
from ..kernels.rng import LANES, mix64
from ..kernels.sparse import SPARSE_TAG
from . import constant as _constant
from . import normal as _normal
from . import polar as _polar
from . import sparse as _sparse
from . import truncnorm as _truncnorm
from . import uniform as _uniform

THREADS_PER_BLOCK = 128  #: threads per CUDA block (8 fastinit blocks of 16 streams)
CONSTANT_GRID = 1024  #: the most CUDA blocks of a grid-stride loop (constant, scatter, polar)

_f = np.float32


def _grid(start, n: int) -> tuple[tuple, int, int]:
    """(the span as a tuple, its first unit, CUDA blocks): one thread per stream of every unit.
    ``start`` is the CPU kernels' (a flat index, or a span of ``kernels.blocks``); the GPU
    kernels take every output as a span, passed by value (no copy to the device per launch)."""
    sp = start if isinstance(start, np.ndarray) else span(start, n, (), ())
    u0, nu = span_units(sp, n)
    return tuple(int(v) for v in sp), u0, (nu * LANES + THREADS_PER_BLOCK - 1) // THREADS_PER_BLOCK


def _stride_grid(n: int) -> int:
    """CUDA blocks of a grid-stride loop over n elements."""
    return max(1, min(CONSTANT_GRID, (n + THREADS_PER_BLOCK - 1) // THREADS_PER_BLOCK))


def fill_uniform(out, seed, start, low, scale, vmin, vmax) -> None:
    """``fastinit.kernels.uniform.fill_uniform`` on the GPU."""
    if out.size == 0:
        return
    sp, u0, blocks = _grid(start, out.size)
    if out.dtype == np.float64:
        params = (float(low), float(scale) * 2.0**-53, float(vmin), float(vmax))
    else:
        params = (_f(low), _f(scale) * _f(2.0**-24), _f(vmin), _f(vmax))
    _uniform.uniform[blocks, THREADS_PER_BLOCK](out, np.uint64(seed), sp, np.int64(u0),
                                                *params)


def fill_normal(out, seed, start, means, std) -> None:
    """``fastinit.kernels.normal.fill_normal`` on the GPU (``means``: the per-lane means, which
    alternate for complex outputs)."""
    if out.size == 0:
        return
    sp, u0, blocks = _grid(start, out.size)
    t = np.float64 if out.dtype == np.float64 else _f
    _normal.normal[blocks, THREADS_PER_BLOCK](out, np.uint64(seed), sp, np.int64(u0),
                                      t(means[0]), t(means[1]), t(std))


def fill_truncnorm(out, seed, start, kind, p, vmin, vmax, rounds=None) -> None:
    """``fastinit.kernels.truncnorm.fill_truncnorm`` on the GPU (``rounds``, a CPU batch size,
    is not needed: each thread runs its stream until its positions are filled)."""
    if out.size == 0:
        return
    sp, u0, blocks = _grid(start, out.size)
    mean, std, za, zb, lam, lo, width, m, ilam = (float(v) for v in p)
    istd = 1.0 / std
    fb = min(max(mean, float(vmin)), float(vmax))  # the CPU kernel's fallback_value
    if out.dtype == np.float64:
        params = (mean, std, istd, za, zb, lam, ilam, lo, m, width * 2.0**-53, float(vmin), float(vmax), fb)
    else:
        fb = _f(fb)
        if out.dtype.itemsize == 2:  # float16 (uint16 bits) or bfloat16 (int16 bits), as put rounds
            fb = fb.astype(np.float16 if out.dtype == np.uint16 else ml_dtypes.bfloat16).view(out.dtype)
        params = tuple(_f(v) for v in (mean, std, istd, za, zb, lam, ilam, lo, m)) + (
            _f(width) * _f(2.0**-24), _f(vmin), _f(vmax), fb)
    _truncnorm.truncnorm[blocks, THREADS_PER_BLOCK](out, np.uint64(seed), sp, np.int64(u0),
                                                    np.int64(kind), *params)


def fill_sparse(out, seed, start, rows, cols, nz, std, h, dl, kind=None) -> None:
    """``fastinit.kernels.sparse.fill_sparse`` on the GPU, in one pass: the normal values (mean
    0) masked before they are stored; the mask key is the CPU kernel's,
    ``mix64(seed ^ SPARSE_TAG)``. ``kind`` (the CPU kernel's choice of mask loop) is not used:
    the GPU's per-element function picks its own."""
    if out.size == 0:
        return
    sp, u0, blocks = _grid(start, out.size)
    t = np.float64 if out.dtype == np.float64 else _f
    skey = int(mix64(np.uint64(seed) ^ np.uint64(SPARSE_TAG)))
    u = np.uint32
    _sparse.sparse[blocks, THREADS_PER_BLOCK](
        out, np.uint64(seed), sp, np.int64(u0), t(0), t(std), u(rows), np.int64(cols),
        u(nz), u(h), u(dl), u(skey & 0xFFFFFFFF), u(skey >> 32), u(1 if std > 0 else 0))


def fill_constant(out, value, odd=None) -> None:
    """Every element of the flat ``out`` set to ``value`` (already in ``out``'s format), or
    ``value`` at even and ``odd`` at odd indices (a complex value's parts)."""
    if out.size:
        t = out.dtype.type
        _constant.constant[_stride_grid(out.size), THREADS_PER_BLOCK](
            out, t(value), t(value if odd is None else odd))


def scatter(out, index, values) -> None:
    """``out[index] = values`` on the flat ``out`` (host arrays of the flat indices and of the
    values in ``out``'s format; they are small: a diagonal, a kernel centre)."""
    if index.size:
        _constant.scatter[_stride_grid(index.size), THREADS_PER_BLOCK](
            out, cuda.to_device(np.ascontiguousarray(index, np.int64)),
            cuda.to_device(np.ascontiguousarray(values, out.dtype)))


def polar_(x, kind, c, scale) -> None:
    """``fastinit.kernels.polar.polar_`` on the GPU: the uniform pairs of the flat real view
    ``x`` turned into polar values in place."""
    if x.size:
        _polar.polar[_stride_grid(x.size // 2), THREADS_PER_BLOCK](
            x, np.int64(kind), float(c), x.dtype.type(scale))
