"""The RNG core: splitmix64, xoroshiro128+, and the fixed map from (seed, element) to a stream.

This file is the reproducibility promise (README, "Reproducibility"); changing anything here
changes every user's numbers and needs a major version bump.

Stream layout. The flat C-order index space of a tensor is cut into blocks of ``BLOCK``
elements. Each block has ``LANES`` interleaved lanes; element ``i`` belongs to block
``i // BLOCK``, lane ``i % LANES``, at position ``(i % BLOCK) // LANES`` of that lane. Each
(block, lane) pair is one stream, numbered ``n = block * LANES + lane``, with its own
xoroshiro128+ state: the splitmix64 generator started at ``seed64 ^ mix64(n)`` gives ``s0``
then ``s1``. Complex tensors use the index space of their real view (real, imag, real, ...).

How a stream's outputs become values is each distribution's business (see its module), but
all share one rule: a 32-bit float (float16, float32, complex64) value pair at lane positions
``2k, 2k+1`` comes from the stream's ``k``-th output; for 64-bit floats, from outputs ``2k`` and
``2k+1``.

``xoroshiro128p_32`` computes the same step on the 32-bit halves of the state (identical
outputs and states); kernels with 32-bit outputs use it so that their whole loop is 32-bit.
"""
import numpy as np
from numba import njit

from .bits import add32, hi32, lo32, or32, shl32, shr32, u32_to_u64, xor32

BLOCK = 4096  #: elements per block: the unit of parallel work and of addressability
LANES = 16  #: interleaved streams per block: the SIMD width the CPU loop and a GPU warp use
PAIRS = BLOCK // (2 * LANES)  #: value pairs each lane writes per block

_U = np.uint64
_GAMMA = _U(0x9E3779B97F4A7C15)
_M1 = _U(0xBF58476D1CE4E5B9)
_M2 = _U(0x94D049BB133111EB)
_A, _B, _C = _U(55), _U(14), _U(36)  # xoroshiro128+ (Vigna 2016), as numba.cuda.random uses
_64 = _U(64)


@njit(inline="always")
def mix64(z):
    """splitmix64's output function (Stafford's variant 13): a bijection of uint64."""
    z = (z ^ (z >> _U(30))) * _M1
    z = (z ^ (z >> _U(27))) * _M2
    return z ^ (z >> _U(31))


@njit(inline="always")
def splitmix64(x):
    """One step of splitmix64 from state ``x``: returns (new state, output)."""
    x = x + _GAMMA
    return x, mix64(x)


@njit(inline="always")
def rotl(x, k):
    return (x << k) | (x >> (_64 - k))


@njit(inline="always")
def xoroshiro128p(s0, s1):
    """One step of xoroshiro128+: returns (output, new s0, new s1)."""
    result = s0 + s1
    s1 = s1 ^ s0
    return result, rotl(s0, _A) ^ s1 ^ (s1 << _B), rotl(s1, _C)


@njit(inline="always")
def stream_state(seed, stream):
    """The xoroshiro128+ state (s0, s1) of stream number ``stream`` for ``seed`` (both uint64)."""
    x = seed ^ mix64(stream)
    x, s0 = splitmix64(x)
    x, s1 = splitmix64(x)
    return s0, s1


@njit(inline="always")
def seed_lanes(seed, block, s0, s1):
    """Write the states of the ``LANES`` streams of ``block`` into ``s0[:LANES]``, ``s1[:LANES]``."""
    base = _U(block) * _U(LANES)
    for lane in range(LANES):
        a, b = stream_state(seed, base + _U(lane))
        s0[lane] = a
        s1[lane] = b


# The same xoroshiro128+ step on 32-bit halves (h = bits 32-63, l = bits 0-31) of s0 and s1.
# Identical outputs and states; a loop of it is all 32-bit, so it vectorizes at the width of
# float32 math (8 lanes a ymm register) with no 64-to-32-bit narrowing between the two. It stays
# inline="always": compiled on its own, LLVM turns the carry test into llvm.uadd.with.overflow,
# which the loop vectorizer cannot handle.
_u = np.uint32
_u1, _u4, _u9, _u14 = _u(1), _u(4), _u(9), _u(14)
_u18, _u23, _u28 = _u(18), _u(23), _u(28)


@njit(inline="always")
def skip_lanes(s0, s1, steps):
    """Advance every lane's stream by ``steps`` outputs (the positions of a block before the
    first one a cut block needs: their outputs, not their values)."""
    for _ in range(steps):
        for lane in range(s0.size):
            _, a, b = xoroshiro128p(s0[lane], s1[lane])
            s0[lane] = a
            s1[lane] = b


@njit(inline="always")
def xoroshiro128p_32(ah, al, bh, bl):
    """One step of xoroshiro128+ from s0 = (ah, al), s1 = (bh, bl): returns the output's halves
    (rh, rl) and the new states' halves (ah, al, bh, bl)."""
    rl = add32(al, bl)
    rh = add32(add32(ah, bh), _u1 if rl < al else _u(0))
    bh = xor32(bh, ah)
    bl = xor32(bl, al)
    # s0 = rotl(s0, 55) ^ s1 ^ (s1 << 14)
    nh = xor32(xor32(or32(shr32(ah, _u9), shl32(al, _u23)), bh), or32(shl32(bh, _u14), shr32(bl, _u18)))
    nl = xor32(xor32(or32(shr32(al, _u9), shl32(ah, _u23)), bl), shl32(bl, _u14))
    # s1 = rotl(s1, 36)
    mh = or32(shl32(bl, _u4), shr32(bh, _u28))
    ml = or32(shl32(bh, _u4), shr32(bl, _u28))
    return rh, rl, nh, nl, mh, ml


@njit(inline="always")
def four_outputs(s0, s1, lane):
    """The next four outputs of lane ``lane``'s stream, its state ``s0[lane]``, ``s1[lane]``
    advanced in place: the step of the 64-bit loops (two Box-Muller pairs, or two candidates of
    two outputs each). Inlined into the lane loop, which then vectorizes across lanes."""
    w, s, t = xoroshiro128p(s0[lane], s1[lane])
    x, s, t = xoroshiro128p(s, t)
    y, s, t = xoroshiro128p(s, t)
    z, s, t = xoroshiro128p(s, t)
    s0[lane] = s
    s1[lane] = t
    return w, x, y, z


@njit(inline="always")
def two_outputs32(h, lane):
    """The next two outputs of lane ``lane``'s stream, as halves (xh, xl, yh, yl), its state
    halves ``h = (s0h, s0l, s1h, s1l)`` advanced in place: the step of the 32-bit loops that take
    two outputs a lane per step (two dependency chains). Inlined into the lane loop, which then
    vectorizes across lanes."""
    s0h, s0l, s1h, s1l = h
    xh, xl, ah, al, bh, bl = xoroshiro128p_32(s0h[lane], s0l[lane], s1h[lane], s1l[lane])
    yh, yl, ah, al, bh, bl = xoroshiro128p_32(ah, al, bh, bl)
    s0h[lane] = ah
    s0l[lane] = al
    s1h[lane] = bh
    s1l[lane] = bl
    return xh, xl, yh, yl


@njit(inline="always")
def words(x):
    """(high, low) 32-bit words of a stream output: what the 32-bit kernels use per output."""
    return hi32(x), lo32(x)


@njit(inline="always")
def split_lanes(s0, s1, s0h, s0l, s1h, s1l):
    """Copy the states ``s0[:LANES]``, ``s1[:LANES]`` into their 32-bit halves."""
    for lane in range(LANES):
        s0h[lane] = hi32(s0[lane])
        s0l[lane] = lo32(s0[lane])
        s1h[lane] = hi32(s1[lane])
        s1l[lane] = lo32(s1[lane])


@njit(inline="always")
def join_lanes(s0h, s0l, s1h, s1l, s0, s1):
    """The inverse of ``split_lanes``."""
    for lane in range(LANES):
        s0[lane] = (u32_to_u64(s0h[lane]) << _U(32)) | u32_to_u64(s0l[lane])
        s1[lane] = (u32_to_u64(s1h[lane]) << _U(32)) | u32_to_u64(s1l[lane])
