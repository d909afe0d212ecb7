"""Polynomial log and sincos in float32 and float64, written to vectorize and to round the same
everywhere: only integer bit operations, correctly rounded arithmetic and explicit fma.

libm calls neither vectorize under Numba nor agree bit for bit across platforms; these do both.
Coefficients are Cephes' (S. L. Moshier) for logf, sinf, cosf, sin and cos; the float64 log is
the atanh series. The sincos functions take the angle as an integer fraction of a turn, so range
reduction is exact: the top three bits pick the octant, the rest give ``t`` in [0, pi/4).
"""
import math

import numpy as np
from numba import njit

from .bits import f32_as_u32, f64_as_u64, fma, u32_as_f32, u64_as_f64

_f = np.float32
_U = np.uint64

# float32 log (Cephes logf), valid for positive normal x
_LF = tuple(_f(c) for c in (7.0376836292e-2, -1.1514610310e-1, 1.1676998740e-1, -1.2420140846e-1,
                            1.4249322787e-1, -1.6668057665e-1, 2.0000714765e-1, -2.4999993993e-1,
                            3.3333331174e-1))
_SQRTHF = _f(0.707106781186547524)
_LN2_HI_F, _LN2_LO_F = _f(0.693359375), _f(-2.12194440e-4)


@njit(inline="always")
def log32(x):
    """Natural log of a positive normal float32, within 1 ulp (|error| < 1.2e-7 absolute on (0, 1])."""
    b = f32_as_u32(x)
    e = _f(np.int32((b >> np.uint32(23)) & np.uint32(0xFF)) - np.int32(126))
    m = u32_as_f32(np.uint32((b & np.uint32(0x807FFFFF)) | np.uint32(0x3F000000)))  # in [0.5, 1)
    small = m < _SQRTHF
    e = e - _f(1) if small else e
    m = (m + m - _f(1)) if small else (m - _f(1))
    z = m * m
    p = fma(_LF[0], m, _LF[1])
    p = fma(p, m, _LF[2])
    p = fma(p, m, _LF[3])
    p = fma(p, m, _LF[4])
    p = fma(p, m, _LF[5])
    p = fma(p, m, _LF[6])
    p = fma(p, m, _LF[7])
    p = fma(p, m, _LF[8])
    y = p * m * z
    y = fma(e, _LN2_LO_F, y)
    y = fma(_f(-0.5), z, y)
    return fma(e, _LN2_HI_F, m + y)


_SF = tuple(_f(c) for c in (-1.9515295891e-4, 8.3321608736e-3, -1.6666654611e-1))
_CF = tuple(_f(c) for c in (2.443315711809948e-5, -1.388731625493765e-3, 4.166664568298827e-2))


@njit(inline="always")
def _octant(c, s, o):
    """(cos, sin) of o*pi/4 + t for even octants ``o``, of (o+1)*pi/4 - t for odd ones."""
    swap = ((o ^ (o >> 1)) & 1) != 0
    c2 = s if swap else c
    s2 = c if swap else s
    c2 = -c2 if ((o + 2) >> 2) & 1 else c2
    s2 = -s2 if (o >> 2) & 1 else s2
    return c2, s2


@njit(inline="always")
def sincos_turn32(k):
    """(cos, sin) of the angle 2*pi*(k + 1/2)/2**24 for a 24-bit integer k (uint64), float32."""
    o = np.int64(k >> _U(21))
    r = k & _U(0x1FFFFF)
    r = (_U(0x1FFFFF) - r) if o & 1 else r  # odd octants run backwards from the next axis
    t = (_f(np.int64(r)) + _f(0.5)) * _f(math.pi / 4 / 2.0**21)
    z = t * t
    s = fma(fma(fma(_SF[0], z, _SF[1]), z, _SF[2]) * z, t, t)
    c = fma(z * z, fma(fma(_CF[0], z, _CF[1]), z, _CF[2]), fma(_f(-0.5), z, _f(1)))
    return _octant(c, s, o)


# float64 log: log(m) = 2 atanh(s), s = (m - 1)/(m + 1), |s| <= 0.1716 on [sqrt(1/2), sqrt(2));
# the series' coefficients are exact (1/(2k+1)) and 12 terms leave a truncation error < 1e-18.
_ATANH = tuple(1.0 / (2 * k + 1) for k in range(12, 0, -1))
_SQRTH = 0.70710678118654752440


@njit(inline="always")
def log64(x):
    """Natural log of a positive normal float64, within 2 ulp."""
    b = f64_as_u64(x)
    e = float(np.int64((b >> _U(52)) & _U(0x7FF)) - np.int64(1022))
    m = u64_as_f64((b & _U(0x800FFFFFFFFFFFFF)) | _U(0x3FE0000000000000))  # in [0.5, 1)
    small = m < _SQRTH
    e = e - 1.0 if small else e
    f = (m + m - 1.0) if small else (m - 1.0)
    s = f / (2.0 + f)
    w = s * s
    p = _ATANH[0]
    for c in _ATANH[1:]:
        p = fma(p, w, c)
    p = p * w
    s2 = s + s
    return fma(e, 0.693359375, fma(e, -2.121944400546905827679e-4, fma(s2, p, s2)))


_SD = (1.58962301576546568060e-10, -2.50507477628578072866e-8, 2.75573136213857245213e-6,
       -1.98412698295895385996e-4, 8.33333333332211858878e-3, -1.66666666666666307295e-1)
_CD = (-1.13585365213876817300e-11, 2.08757008419747316778e-9, -2.75573141792967388112e-7,
       2.48015872888517045348e-5, -1.38888888888730564116e-3, 4.16666666666665929218e-2)


@njit(inline="always")
def sincos_turn64(k):
    """(cos, sin) of the angle 2*pi*(k + 1/2)/2**53 for a 53-bit integer k (uint64), float64."""
    o = np.int64(k >> _U(50))
    r = k & _U(0x3FFFFFFFFFFFF)
    r = (_U(0x3FFFFFFFFFFFF) - r) if o & 1 else r
    t = (float(np.int64(r)) + 0.5) * (math.pi / 4 / 2.0**50)
    z = t * t
    ps = fma(fma(fma(fma(fma(_SD[0], z, _SD[1]), z, _SD[2]), z, _SD[3]), z, _SD[4]), z, _SD[5])
    pc = fma(fma(fma(fma(fma(_CD[0], z, _CD[1]), z, _CD[2]), z, _CD[3]), z, _CD[4]), z, _CD[5])
    s = fma(ps * z, t, t)
    c = fma(z * z, pc, fma(-0.5, z, 1.0))
    return _octant(c, s, o)
