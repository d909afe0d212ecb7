"""Uniform fill on [low, high).

Values: ``v = fma(high - low, u, low)`` in float64, ``u = k / 2**24`` for 32-bit floats (k from
bits 40-63 of the stream output for the even position of a pair, bits 8-31 for the odd one) and
``u = k / 2**53`` for float64 (k the top 53 bits of each output). 32-bit outputs round that to
float32 (float16: then to float16). The result is clamped into ``[vmin, vmax]``, the smallest
and largest values of the output dtype inside ``[low, high)``, so rounding never yields ``high``.
"""
import numpy as np
from numba import njit, prange
from numba.extending import overload

from .bits import fma
from .blocks import finish, plan, put, target, task_blocks
from .rng import BLOCK, LANES, PAIRS, seed_lanes, xoroshiro128p

_U = np.uint64
_2M24 = 2.0**-24
_2M53 = 2.0**-53


def uniform_pair(s0, s1, low, scale, vmin, vmax, dst):
    """One lane's next value pair and its new state: (v0, v1, s0, s1)."""


@overload(uniform_pair)
def _uniform_pair(s0, s1, low, scale, vmin, vmax, dst):
    if dst.dtype.bitwidth == 64:
        def impl(s0, s1, low, scale, vmin, vmax, dst):
            x, s0, s1 = xoroshiro128p(s0, s1)
            y, s0, s1 = xoroshiro128p(s0, s1)
            v0 = fma(scale, float(np.int64(x >> _U(11))) * _2M53, low)
            v1 = fma(scale, float(np.int64(y >> _U(11))) * _2M53, low)
            return min(max(v0, vmin), vmax), min(max(v1, vmin), vmax), s0, s1
    else:
        def impl(s0, s1, low, scale, vmin, vmax, dst):
            x, s0, s1 = xoroshiro128p(s0, s1)
            v0 = np.float32(fma(scale, float(np.int64(x >> _U(40))) * _2M24, low))
            v1 = np.float32(fma(scale, float(np.int64((x >> _U(8)) & _U(0xFFFFFF))) * _2M24, low))
            lo = np.float32(vmin)
            hi = np.float32(vmax)
            return min(max(v0, lo), hi), min(max(v1, lo), hi), s0, s1
    return impl


@njit(inline="always")
def uniform_block(dst, off, s0, s1, low, scale, vmin, vmax):
    for k in range(PAIRS):
        row = _U(off) + _U(2 * LANES * k)
        for lane in range(s0.size):
            v0, v1, a, b = uniform_pair(s0[lane], s1[lane], low, scale, vmin, vmax, dst)
            s0[lane] = a
            s1[lane] = b
            put(dst, row + _U(lane), v0)
            put(dst, row + _U(LANES + lane), v1)


@njit(parallel=True, cache=True, nogil=True)
def fill_uniform(out, seed, start, low, scale, vmin, vmax):
    """Fill the flat ``out`` with elements [start, start + out.size) of a uniform tensor."""
    b0, nb, nt = plan(start, out.size)
    for t in prange(nt):
        s0 = np.empty(LANES, np.uint64)
        s1 = np.empty(LANES, np.uint64)
        tmp = np.empty(BLOCK, out.dtype)
        lo, hi = task_blocks(t, nt, nb)
        for b in range(b0 + lo, b0 + hi):
            dst, off = target(out, tmp, start, b)
            seed_lanes(seed, b, s0, s1)
            uniform_block(dst, off, s0, s1, low, scale, vmin, vmax)
            finish(out, tmp, start, b)
