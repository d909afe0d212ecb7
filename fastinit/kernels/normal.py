"""Normal fill N(mean, std): Box-Muller on vectorizable polynomial log and sincos.

Each pair of values (z0, z1) = r * (cos a, sin a), r = sqrt(-2 log u):
- 32-bit floats, from one stream output x: u = (2 * (x >> 24) + 1) / 2**41 (40 bits, so
  |z| <= 7.54) and the angle from the low 24 bits, a = 2*pi*(k + 1/2)/2**24; math in float32.
- float64, from two outputs x, y: u = (2 * (x >> 12) + 1) / 2**53 (|z| <= 8.57) and the angle
  from the top 53 bits of y; math in float64.
Values are ``fma(std, z, mean)``; complex outputs pass a per-lane-parity mean (real, imag).
"""
import math

import numpy as np
from numba import njit, prange
from numba.extending import overload

from .bits import fma
from .blocks import finish, plan, put, target
from .blocks import task_blocks
from .mathfn import log32, log64, sincos_turn32, sincos_turn64
from .rng import BLOCK, LANES, PAIRS, seed_lanes, xoroshiro128p

_U = np.uint64
_f = np.float32
_2M41 = _f(2.0**-41)
_2M53 = 2.0**-53


def normal_pair(s0, s1, dst):
    """One lane's next standard normal pair and its new state: (z0, z1, s0, s1)."""


@overload(normal_pair)
def _normal_pair(s0, s1, dst):
    if dst.dtype.bitwidth == 64:
        def impl(s0, s1, dst):
            x, s0, s1 = xoroshiro128p(s0, s1)
            y, s0, s1 = xoroshiro128p(s0, s1)
            u = float(np.int64((x >> _U(11)) | _U(1))) * _2M53
            r = math.sqrt(-2.0 * log64(u))
            c, s = sincos_turn64(y >> _U(11))
            return r * c, r * s, s0, s1
    else:
        def impl(s0, s1, dst):
            x, s0, s1 = xoroshiro128p(s0, s1)
            u = _f(np.int64((x >> _U(23)) | _U(1))) * _2M41
            r = math.sqrt(_f(-2.0) * log32(u))
            c, s = sincos_turn32(x & _U(0xFFFFFF))
            return r * c, r * s, s0, s1
    return impl


def as_value(z, mean, std, dst):
    """``fma(std, z, mean)`` in the precision of ``dst``'s values."""


@overload(as_value)
def _as_value(z, mean, std, dst):
    if dst.dtype.bitwidth == 64:
        return lambda z, mean, std, dst: fma(std, z, mean)
    return lambda z, mean, std, dst: fma(_f(std), z, _f(mean))


@njit(inline="always")
def normal_block(dst, off, s0, s1, means, std):
    for k in range(PAIRS):
        row = _U(off) + _U(2 * LANES * k)
        for lane in range(s0.size):
            z0, z1, a, b = normal_pair(s0[lane], s1[lane], dst)
            s0[lane] = a
            s1[lane] = b
            m = means[lane]
            put(dst, row + _U(lane), as_value(z0, m, std, dst))
            put(dst, row + _U(LANES + lane), as_value(z1, m, std, dst))


@njit(parallel=True, cache=True, nogil=True)
def fill_normal(out, seed, start, means, std):
    """Fill the flat ``out`` with elements [start, start + out.size) of a normal tensor.

    ``means[lane]`` is the mean of lane ``lane`` (all equal, or real/imag alternating).
    """
    b0, nb, nt = plan(start, out.size)
    for t in prange(nt):
        s0 = np.empty(LANES, np.uint64)
        s1 = np.empty(LANES, np.uint64)
        tmp = np.empty(BLOCK, out.dtype)
        lo, hi = task_blocks(t, nt, nb)
        for b in range(b0 + lo, b0 + hi):
            dst, off = target(out, tmp, start, b)
            seed_lanes(seed, b, s0, s1)
            normal_block(dst, off, s0, s1, means, std)
            finish(out, tmp, start, b)
