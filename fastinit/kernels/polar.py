"""Complex values on the plane from pairs of uniform values: JAX's complex variance scaling.

An element's real and imaginary parts (u1, u2) come from the uniform fill on [0, 1) (exact
multiples of 2**-24 for complex64, 2**-53 for complex128) and are overwritten in place by

    v = scale * r * (cos a, sin a),  a = 2*pi*(k + 1/2)/2**b,  k = u2 * 2**b  (b = 24 or 53)

with r = sqrt(2 u1) (DISK: uniform on the disk of radius sqrt(2), E|v|^2 = scale^2) or
r = sqrt(-log(1 - c u1)) (TRUNCATED: r^2 ~ Exp(1) cut at -log(1 - c); c = 1 - exp(-4) gives
|v| <= 2 scale). The math is in the part's precision with ``mathfn``'s log and sincos, so the
values round the same everywhere; each element depends on its own (u1, u2) only, so any block
of rows is computed alone.
"""
import numpy as np
from numba import njit, prange
from numba.extending import overload

from .bits import add, f32_to_u31, fma, mul, sqrt
from .mathfn import log32, log64, sincos_turn32, sincos_turn64
from .simd import wide_vectors

DISK = 0
TRUNCATED = 1

_f = np.float32
_2P24 = _f(2.0**24)
_2P53 = 2.0**53


def radius(u1, kind, c):
    """The modulus for one element (module docstring); ``kind`` is DISK or TRUNCATED."""


@overload(radius)
def _radius(u1, kind, c):
    if u1.bitwidth == 32:
        def impl(u1, kind, c):
            if kind == DISK:
                return sqrt(add(u1, u1))
            return sqrt(max(-log32(fma(-_f(c), u1, _f(1))), _f(0)))
    else:
        def impl(u1, kind, c):
            if kind == DISK:
                return sqrt(add(u1, u1))
            return sqrt(max(-log64(fma(-c, u1, 1.0)), 0.0))
    return impl


def turn(u2):
    """(cos a, sin a) of the angle a = 2 pi (k + 1/2) / 2**b, k = u2 * 2**b."""


@overload(turn)
def _turn(u2):
    if u2.bitwidth == 32:
        def impl(u2):
            return sincos_turn32(f32_to_u31(mul(u2, _2P24)))
    else:
        def impl(u2):
            return sincos_turn64(np.uint64(mul(u2, _2P53)))
    return impl


@njit(error_model="numpy", forceinline=True)
def polar_value(u1, u2, kind, c, s):
    """One element's (re, im) from its uniform pair: the per-element math of ``polar_``, shared
    with the GPU kernel (``fastinit.cuda.polar``)."""
    r = mul(s, radius(u1, kind, c))
    co, si = turn(u2)
    return mul(r, co), mul(r, si)


_CHUNK = 1024  # elements per task


@njit(parallel=True, cache=True, nogil=True, error_model="numpy")
def polar_(x, kind, c, scale):
    """Overwrite the flat real view ``x`` (re, im, re, im, ...) of a complex array of uniform
    pairs with the polar values of the module docstring: ``polar_value`` per element, in loops
    split so that each vectorizes (the same operations, so the same values)."""
    n = x.size // 2
    s = x.dtype.type(scale)
    for t in prange((n + _CHUNK - 1) // _CHUNK):
        wide_vectors()  # zmm where the CPU has AVX-512 (simd)
        a = t * _CHUNK
        m = min(_CHUNK, n - a)
        r = np.empty(_CHUNK, x.dtype)
        if kind == DISK:
            for j in range(m):
                r[j] = mul(s, radius(x[2 * (a + j)], DISK, c))
        else:
            for j in range(m):
                r[j] = mul(s, radius(x[2 * (a + j)], TRUNCATED, c))
        u = np.empty(_CHUNK, x.dtype)
        for j in range(m):
            u[j] = x[2 * (a + j) + 1]
        for j in range(m):
            co, si = turn(u[j])
            u[j] = mul(r[j], si)
            r[j] = mul(r[j], co)
        for j in range(m):
            x[2 * (a + j)] = r[j]
            x[2 * (a + j) + 1] = u[j]
