"""Normal fill N(mean, std): Box-Muller on vectorizable polynomial log and sincos.

Each pair of values (z0, z1) = r * (cos a, sin a), r = sqrt(-2 log u):
- 32-bit floats, from one stream output x (words hi = x >> 32, lo = x mod 2**32), math in
  float32: u = (2k + 1)/2**41 for the 40-bit k = x >> 24, rounded to float32 once (computed
  exactly as fma(float32(((hi mod 2**8) << 8) | (lo >> 24)) + 1/2, 2**-40,
  float32(hi >> 8) * 2**-24)), then capped at 1 - 2**-24 so that r > 0; |z| <= 7.54. The
  angle is a = 2*pi*(k' + 1/2)/2**24 for k' = x mod 2**24 (``mathfn.sincos_turn32``).
- float64, from two outputs x, y: u = (2 * (x >> 12) + 1)/2**53 (exact, in (0, 1); |z| <= 8.57)
  and the angle a = 2*pi*((y >> 11) + 1/2)/2**53; math in float64.
Values are ``fma(std, z, mean)`` in the value precision (float32 for float16 outputs, then
rounded to float16); complex outputs pass a per-lane-parity mean (real, imag). z is never
exactly 0 (r > 0 and the angle is never a multiple of pi/2).

The lanes' states are kept as 32-bit halves for 32-bit outputs (``rng.xoroshiro128p_32``) so the
whole loop runs 16 lanes to a 512-bit register (8 to a 256-bit one); each loop step does two
rows (two independent Box-Muller chains), which is what the latency-bound math needs. Each block
is one call of ``normal_unit``, which ``fill_normal``'s ``prange`` loop makes and sparse's too.
"""
import numpy as np
from numba import njit, prange
from numba.extending import overload

from .bits import add, and32, fma, i31_to_f32, mul, or32, shl32, shr32, sqrt, sub, u64_as_f64
from .blocks import block_lanes, finish, locate, plan, put_range, target, task_blocks
from .mathfn import log32, log64, sincos_turn32, sincos_turn64
from .simd import own_function, stack_block_f32, stack_halves, stack_lanes_f32, stack_lanes_f64, wide_vectors
from .rng import BLOCK, LANES, PAIRS, four_outputs, skip_lanes, split_lanes, two_outputs32

_U = np.uint64
_u = np.uint32
_f = np.float32
_2M24 = _f(2.0**-24)
_2M40 = _f(2.0**-40)
_UMAX = _f(1 - 2.0**-24)
_u8, _u24, _uFF = _u(8), _u(24), _u(0xFF)
_ONE_BITS = _U(0x3FF0000000000000)
_1M53 = 1.0 - 2.0**-53


@njit(error_model="numpy", forceinline=True)
def radius_u32(hi, lo):
    """u = (2 (x >> 24) + 1)/2**41 rounded to float32, from x's words; at most 1 - 2**-24."""
    top = mul(i31_to_f32(shr32(hi, _u8)), _2M24)  # bits 40-63: exact
    rest = i31_to_f32(or32(shl32(and32(hi, _uFF), _u8), shr32(lo, _u24)))  # bits 24-39
    return min(fma(add(rest, _f(0.5)), _2M40, top), _UMAX)


@njit(error_model="numpy", forceinline=True)
def normal_pair32(hi, lo):
    """Standard normal pair (float32) from the two 32-bit words of one stream output."""
    r = sqrt(mul(_f(-2.0), log32(radius_u32(hi, lo))))
    c, s = sincos_turn32(lo)
    return mul(r, c), mul(r, s)


@njit(error_model="numpy", forceinline=True)
def uniform_open64(x):
    """(2 (x >> 12) + 1)/2**53, exactly: a float64 in (0, 1)."""
    return sub(u64_as_f64((x >> _U(12)) | _ONE_BITS), _1M53)  # (1 + k/2**52) - (1 - 2**-53)


@njit(error_model="numpy", forceinline=True)
def normal_pair64(x, y):
    """Standard normal pair (float64) from two stream outputs."""
    r = sqrt(mul(-2.0, log64(uniform_open64(x))))
    c, s = sincos_turn64(y >> _U(11))
    return mul(r, c), mul(r, s)


@njit(error_model="numpy", forceinline=True)
def normal_values32(hi, lo, sd, m):
    """The two float32 values ``fma(sd, z, m)`` of one stream output's Box-Muller pair."""
    z0, z1 = normal_pair32(hi, lo)
    return fma(sd, z0, m), fma(sd, z1, m)


@njit(error_model="numpy", forceinline=True)
def normal_values64(x, y, std, m):
    """The two float64 values of the Box-Muller pair of stream outputs x, y."""
    z0, z1 = normal_pair64(x, y)
    return fma(std, z0, m), fma(std, z1, m)


def normal_block(dst, off, s0, s1, h, means, std, p0, p1):
    """Generate one block of N(means[lane], std) into dst[off:off + BLOCK], positions [p0, p1)
    of each lane at least (``blocks.target``; whole groups of 4); ``h`` (``simd.stack_halves()``) is
    scratch for the 32-bit halves of the states. Inlined into its caller's IR: 16-bit outputs
    take a block of float32 scratch in the caller's stack frame (``simd.stack_block_f32``)."""


@njit(inline="always")
def _groups(p0, p1):
    """The loops' k range for positions [p0, p1): k even, positions 2k .. 2k + 3 per step."""
    return p0 // 4 * 2, min((p1 + 3) // 4 * 2, PAIRS)


@overload(normal_block, inline="always")
def _normal_block(dst, off, s0, s1, h, means, std, p0, p1):
    if dst.dtype.bitwidth == 64:
        def impl(dst, off, s0, s1, h, means, std, p0, p1):
            k0, k1 = _groups(p0, p1)
            skip_lanes(s0, s1, 2 * k0)  # four outputs per step of k (two)
            for k in range(k0, k1, 2):
                row = _U(off) + _U(2 * LANES * k)
                for lane in range(s0.size):
                    x, y, x2, y2 = four_outputs(s0, s1, lane)
                    m = means[lane]
                    v0, v1 = normal_values64(x, y, std, m)
                    v2, v3 = normal_values64(x2, y2, std, m)
                    dst[row + _U(lane)] = v0
                    dst[row + _U(LANES + lane)] = v1
                    dst[row + _U(2 * LANES + lane)] = v2
                    dst[row + _U(3 * LANES + lane)] = v3
    elif dst.dtype.bitwidth == 32:
        def impl(dst, off, s0, s1, h, means, std, p0, p1):
            _normal_block32(dst, off, s0, s1, h, means, std, p0, p1)
    else:
        # 16-bit outputs: the block's float32 values first, into stack scratch that stays in L1,
        # then rounded and stored in a second loop. Stored straight from the lane loop, 16-bit
        # elements led the vectorizer to a width of 32 lanes, more than the loop's 16, and so
        # to its scalar remainder (float16 and bfloat16 ran at 60-70% of float32's rate)
        def impl(dst, off, s0, s1, h, means, std, p0, p1):
            scratch = stack_block_f32()
            k0, k1 = _groups(p0, p1)
            _normal_block32(scratch, 0, s0, s1, h, means, std, p0, p1)
            put_range(dst, off, scratch, 2 * LANES * k0, 2 * LANES * k1)
    return impl


@njit(forceinline=True, error_model="numpy")
def _normal_block32(dst, off, s0, s1, h, means, std, p0, p1):
    """``normal_block`` for float32 values, into the float32 array ``dst``."""
    s0h, s0l, s1h, s1l = h
    k0, k1 = _groups(p0, p1)
    skip_lanes(s0, s1, k0)  # two outputs per step of k (two)
    split_lanes(s0, s1, s0h, s0l, s1h, s1l)
    sd = _f(std)
    for k in range(k0, k1, 2):
        row = _U(off) + _U(2 * LANES * k)
        for lane in range(s0h.size):
            ph, pl, qh, ql = two_outputs32(h, lane)
            m = means[lane]
            v0, v1 = normal_values32(ph, pl, sd, m)
            v2, v3 = normal_values32(qh, ql, sd, m)
            dst[row + _U(lane)] = v0
            dst[row + _U(LANES + lane)] = v1
            dst[row + _U(2 * LANES + lane)] = v2
            dst[row + _U(3 * LANES + lane)] = v3


def value_means(means, dst):
    """A copy of ``means`` in the precision of ``dst``'s values (float32 for 32-bit outputs)."""


@overload(value_means)
def _value_means(means, dst):
    if dst.dtype.bitwidth == 64:
        return lambda means, dst: means.copy()
    return lambda means, dst: means.astype(np.float32)


@njit(error_model="numpy")
def normal_unit(dst, off, seed, b, means, std, p0, p1):
    """Seed block ``b``'s lanes and ``normal_block`` it into ``dst[off:]`` (positions [p0, p1) of
    each lane at least), ``means[:LANES]`` in ``dst``'s value precision: the kernel's work for one
    block, compiled once, on its own (not inside the ``prange`` body: typed once, and about 10%
    faster per thread), with 512-bit vectors, its lane states and means on the stack where LLVM
    sees that they overlap nothing."""
    wide_vectors()
    own_function()
    s0, s1 = block_lanes(seed, b)
    h = stack_halves()
    m = stack_means(dst)
    for lane in range(LANES):
        m[lane] = means[lane]
    normal_block(dst, off, s0, s1, h, m, std, p0, p1)


def stack_means(dst):
    """``LANES`` values on the stack in the precision of ``dst``'s values (float32 for 32- and 16-bit
    outputs, float64 for float64)."""


@overload(stack_means, inline="always")
def _stack_means(dst):
    if dst.dtype.bitwidth == 64:
        return lambda dst: stack_lanes_f64()
    return lambda dst: stack_lanes_f32()


@njit(parallel=True, cache=True, nogil=True, error_model="numpy")
def fill_normal(out, seed, start, means, std):
    """Fill the flat ``out`` with the elements ``start`` gives (a flat index or a span,
    ``blocks``) of a normal tensor.

    ``means[lane]`` is the mean of lane ``lane`` (all equal, or real/imag alternating).
    """
    u0, nu, nt = plan(start, out.size)
    m = value_means(means, out)
    for t in prange(nt):
        tmp = np.empty(BLOCK, out.dtype)
        lo, hi = task_blocks(t, nt, nu)
        for u in range(u0 + lo, u0 + hi):
            w = locate(start, out.size, u)
            b = w[0]
            if b < 0:  # a span's unit past its run's end
                continue
            dst, off, p0, p1 = target(out, tmp, w, False)
            normal_unit(dst, off, seed, b, m, std, p0, p1)
            finish(out, tmp, w)
