"""Polynomial log and sincos in float32 and float64, written to vectorize and to round the same
everywhere: only integer bit operations, correctly rounded arithmetic and explicit fma.

libm calls neither vectorize under Numba nor agree bit for bit across platforms; these do both.
Every float multiply, add and subtract is ``bits.mul``/``add``/``sub`` (as the GPU kernels share
these functions: there, a plain ``*`` and ``+`` may be contracted into an fma).
Coefficients are Cephes' (S. L. Moshier) for logf, sinf, cosf, sin and cos; the float64 log is
the atanh series. The longer polynomials are evaluated by Estrin's scheme (shorter dependency
chains, which is what limits these kernels), in exactly the order of operations in the code.
The sincos functions take the angle as an integer fraction of a turn, so range reduction is
exact: the top three bits pick the octant, the rest give ``t`` in [0, pi/4).
The float32 functions do their integer work in 32-bit words (``bits.*32``), so that they
vectorize at the width of the float32 math.
"""
import math

import numpy as np
from numba import njit

from .bits import (add, add32, and32, f32_as_u32, f64_as_u64, fma, i31_to_f32, i31_to_f64, mul,
                   or32, shl32, shr32, sub, sub32, u32_as_f32, u64_as_f64, xor32)

_f = np.float32
_u = np.uint32
_U = np.uint64

# float32 log (Cephes logf), valid for positive normal x
_LF = tuple(_f(c) for c in (7.0376836292e-2, -1.1514610310e-1, 1.1676998740e-1, -1.2420140846e-1,
                            1.4249322787e-1, -1.6668057665e-1, 2.0000714765e-1, -2.4999993993e-1,
                            3.3333331174e-1))
_SQRTHF = _f(0.707106781186547524)
_LN2_HI_F, _LN2_LO_F = _f(0.693359375), _f(-2.12194440e-4)
_MANT = _u(0x007FFFFF)
_HALF_EXP = _u(0x3F000000)
_23 = _u(23)


@njit(error_model="numpy", forceinline=True)
def log32(x):
    """Natural log of a positive normal float32, within 1 ulp (|error| < 1.2e-7 absolute on (0, 1]).

    Cephes' logf: x = 2**e * (1 + f), f in [sqrt(1/2) - 1, sqrt(2) - 1), log x = e ln 2 + f
    - f**2/2 + f**3 P(f); P (degree 8) is evaluated by Estrin's scheme, which rounds differently
    from Horner's but shortens the dependency chain."""
    b = f32_as_u32(x)
    e = sub(i31_to_f32(shr32(b, _23)), _f(126))
    m = u32_as_f32(or32(and32(b, _MANT), _HALF_EXP))  # in [0.5, 1)
    small = m < _SQRTHF
    e = sub(e, _f(1)) if small else e
    m = sub(add(m, m), _f(1)) if small else sub(m, _f(1))
    z = mul(m, m)
    z2 = mul(z, z)
    p01 = fma(_LF[0], m, _LF[1])
    p23 = fma(_LF[2], m, _LF[3])
    p45 = fma(_LF[4], m, _LF[5])
    p67 = fma(_LF[6], m, _LF[7])
    p = fma(fma(fma(p01, z, p23), z2, fma(p45, z, p67)), m, _LF[8])
    y = mul(mul(p, m), z)
    y = fma(e, _LN2_LO_F, y)
    y = fma(_f(-0.5), z, y)
    return fma(e, _LN2_HI_F, add(m, y))


_SF = tuple(_f(c) for c in (-1.9515295891e-4, 8.3321608736e-3, -1.6666654611e-1))
_CF = tuple(_f(c) for c in (2.443315711809948e-5, -1.388731625493765e-3, 4.166664568298827e-2))
_T32 = _f(math.pi / 4 / 2.0**21)
_T32H = _f(math.pi / 4 / 2.0**22)  # _T32 / 2, exactly
_R21 = _u(0x1FFFFF)
_ONE = _u(1)
_ZERO = _u(0)
_SIGN = _u(0x80000000)
_Q = _u(1 << 22)
_8 = _u(8)
_29 = _u(29)


@njit(error_model="numpy", forceinline=True)
def sincos_turn32(k):
    """(cos, sin) of the angle 2*pi*(k + 1/2)/2**24 for a uint32 ``k``; bits 24-31 of k are
    ignored. Within 2 ulp."""
    o = shr32(shl32(k, _8), _29)  # octant: bits 21-23
    odd = sub32(_ZERO, and32(o, _ONE))  # all ones in odd octants: run backwards from next axis
    r = xor32(and32(k, _R21), and32(odd, _R21))
    t = fma(i31_to_f32(r), _T32, _T32H)  # = (r + 1/2) * pi/4 / 2**21, one rounding
    z = mul(t, t)
    s = fma(mul(fma(fma(_SF[0], z, _SF[1]), z, _SF[2]), z), t, t)
    c = fma(mul(z, z), fma(fma(_CF[0], z, _CF[1]), z, _CF[2]), fma(_f(-0.5), z, _f(1)))
    swap = and32(xor32(o, shr32(o, _ONE)), _ONE) != _ZERO  # octants 1, 2, 5, 6
    c2 = s if swap else c
    s2 = c if swap else s
    sc = and32(shl32(add32(k, _Q), _8), _SIGN)  # cos < 0 in octants 2-5
    ss = and32(shl32(k, _8), _SIGN)  # sin < 0 in octants 4-7
    return u32_as_f32(xor32(f32_as_u32(c2), sc)), u32_as_f32(xor32(f32_as_u32(s2), ss))


# float64 log: log(m) = 2 atanh(s), s = (m - 1)/(m + 1), |s| <= 0.1716 on [sqrt(1/2), sqrt(2));
# the series' coefficients are exact (1/(2k+1)); its terms up to s**21 leave a truncation error
# below 1e-18 relative. The polynomial in w = s*s is evaluated by Estrin's scheme.
_A = tuple(1.0 / (2 * k + 1) for k in range(1, 11))  # 1/3, 1/5, ..., 1/21
_SQRTH = 0.70710678118654752440


@njit(error_model="numpy", forceinline=True)
def log64(x):
    """Natural log of a positive normal float64, within 2 ulp."""
    b = f64_as_u64(x)
    e = sub(i31_to_f64(np.uint32(b >> _U(52))), 1022.0)
    m = u64_as_f64((b & _U(0x000FFFFFFFFFFFFF)) | _U(0x3FE0000000000000))  # in [0.5, 1)
    small = m < _SQRTH
    e = sub(e, 1.0) if small else e
    f = sub(add(m, m), 1.0) if small else sub(m, 1.0)
    s = f / add(2.0, f)  # float64 division: correctly rounded on the GPU too (div.rn.f64)
    w = mul(s, s)
    w2 = mul(w, w)
    w4 = mul(w2, w2)
    q01 = fma(_A[1], w, _A[0])
    q23 = fma(_A[3], w, _A[2])
    q45 = fma(_A[5], w, _A[4])
    q67 = fma(_A[7], w, _A[6])
    q89 = fma(_A[9], w, _A[8])
    r07 = fma(fma(q67, w2, q45), w4, fma(q23, w2, q01))
    p = mul(fma(mul(q89, w4), w4, r07), w)  # sum of A[k-1] w**k, k = 1..10
    s2 = add(s, s)
    return fma(e, 0.693359375, fma(e, -2.121944400546905827679e-4, fma(s2, p, s2)))


_SD = (1.58962301576546568060e-10, -2.50507477628578072866e-8, 2.75573136213857245213e-6,
       -1.98412698295895385996e-4, 8.33333333332211858878e-3, -1.66666666666666307295e-1)
_CD = (-1.13585365213876817300e-11, 2.08757008419747316778e-9, -2.75573141792967388112e-7,
       2.48015872888517045348e-5, -1.38888888888730564116e-3, 4.16666666666665929218e-2)
_T64 = math.pi / 4 / 2.0**50
_T64H = math.pi / 4 / 2.0**51
_TWO52 = _U(0x4330000000000000)  # the float64 2**52: its low mantissa bits hold an integer


@njit(error_model="numpy", forceinline=True)
def sincos_turn64(k):
    """(cos, sin) of the angle 2*pi*(k + 1/2)/2**53 for a uint64 ``k`` below 2**53."""
    o = k >> _U(50)
    odd = _U(0) - (o & _U(1))
    r = (k & _U(0x3FFFFFFFFFFFF)) ^ (odd & _U(0x3FFFFFFFFFFFF))
    t = fma(sub(u64_as_f64(r | _TWO52), 4503599627370496.0), _T64, _T64H)  # (r + 1/2) * pi/4 / 2**50
    z = mul(t, t)
    ps = fma(fma(fma(fma(fma(_SD[0], z, _SD[1]), z, _SD[2]), z, _SD[3]), z, _SD[4]), z, _SD[5])
    pc = fma(fma(fma(fma(fma(_CD[0], z, _CD[1]), z, _CD[2]), z, _CD[3]), z, _CD[4]), z, _CD[5])
    s = fma(mul(ps, z), t, t)
    c = fma(mul(z, z), pc, fma(-0.5, z, 1.0))
    swap = ((o ^ (o >> _U(1))) & _U(1)) != _U(0)
    c2 = s if swap else c
    s2 = c if swap else s
    sc = ((k + _U(1 << 51)) << _U(11)) & _U(0x8000000000000000)
    ss = (k << _U(11)) & _U(0x8000000000000000)
    return u64_as_f64(f64_as_u64(c2) ^ sc), u64_as_f64(f64_as_u64(s2) ^ ss)
