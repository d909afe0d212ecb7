"""Uniform fill on [low, high).

Values ``v = fma(k, s, low)``, clamped into ``[vmin, vmax]``, the smallest and largest values of
the output dtype inside ``[low, high)`` (so rounding never yields ``high``), with
- 32-bit floats (float16, float32): math in float32, ``s = float32(high - low) * 2**-24`` and
  ``low`` rounded to float32, k a 24-bit integer: bits 40-63 of the lane's stream output for
  the even position of a pair, bits 8-31 for the odd one. Float16 outputs are the clamped
  float32 value rounded to float16 (vmin and vmax are then float16 values).
- float64: math in float64, ``s = (high - low) * 2**-53``, k = the top 53 bits of each output.
One rounding (the fma) in the value precision, then the clamp.

Outputs of 32- and 64-bit elements far larger than the caches (``blocks.streams``) are written
by streaming stores: each whole block is generated into the task's scratch block and copied out
8 cache lines at a time as it is made (``simd.stream_lines``), which skips the read for
ownership of every line. Measured on 2 threads, 10^8 elements (AMD Zen 5): float32 +6-11%,
float64 +15-23%, at the price of about 0.5-0.8 s more compiling on a first call; the 16-bit
outputs and the normal kernel ran 8-35% slower streamed (computing a value costs them more than
writing it), so they keep plain stores (for 16-bit outputs ``stream_lines`` and ``stream_rest``
compile to nothing). Copying a whole block out after making it ran 40% slower than plain
stores: the streaming stores then wait, with nothing to overlap. The values do not depend on it.
"""
import numpy as np
from numba import njit, prange
from numba.extending import overload

from .bits import fma, i31_to_f32, shr32, u53_to_f64
from .blocks import block_lanes, finish, locate, plan, put, streams, target, task_blocks, whole
from .simd import (aligned_head, own_function, stack_halves, store_fence, stream_lines, stream_rest,
                   wide_vectors)
from .rng import BLOCK, LANES, skip_lanes, split_lanes, xoroshiro128p, xoroshiro128p_32

_U = np.uint64
_f = np.float32
_2M24 = _f(2.0**-24)
_2M53 = 2.0**-53
#: loop steps made between two streaming write-outs: 8 cache lines (4 positions of 16 float64
#: lanes, or 4 steps of k of 32 float32 values)
STEPS = 4
_u8 = np.uint32(8)


@njit(forceinline=True, error_model="numpy")
def uniform_value32(word, sc, lo, vlo, vhi):
    """The 32-bit value of a stream output word (``sc = float32(scale) * 2**-24``, ``lo``, ``vlo``,
    ``vhi`` float32): ``fma(word >> 8, sc, lo)`` clamped into [vlo, vhi]; shared with the GPU."""
    return min(max(fma(i31_to_f32(shr32(word, _u8)), sc, lo), vlo), vhi)


@njit(forceinline=True, error_model="numpy")
def uniform_value64(x, sc, low, vmin, vmax):
    """The float64 value of a stream output (``sc = scale * 2**-53``); shared with the GPU."""
    return min(max(fma(u53_to_f64(x >> _U(11)), sc, low), vmin), vmax)


def uniform_block(dst, off, s0, s1, h, low, scale, vmin, vmax, p0, p1, out, at, stream):
    """Generate one block of uniform values into dst[off:off + BLOCK], positions [p0, p1) of
    each lane at least (``blocks.target``); ``h`` (``simd.stack_halves()``) is scratch for the 32-bit
    halves of the states. With ``stream`` (a whole block; ``dst`` the scratch block, ``off`` 0),
    the block is also copied to ``out[at:at + BLOCK]`` by streaming stores as it is made."""


@overload(uniform_block, inline="always")
def _uniform_block(dst, off, s0, s1, h, low, scale, vmin, vmax, p0, p1, out, at, stream):
    if dst.dtype.bitwidth == 64:
        def impl(dst, off, s0, s1, h, low, scale, vmin, vmax, p0, p1, out, at, stream):
            head = aligned_head(out, at, BLOCK)
            sent = head
            sc = scale * _2M53
            skip_lanes(s0, s1, p0)  # one output per position
            for c in range(p0, p1, STEPS):  # 8 lines a step, then written out when streaming
                for p in range(c, min(c + STEPS, p1)):
                    row = _U(off) + _U(LANES * p)
                    for lane in range(s0.size):
                        x, a, b = xoroshiro128p(s0[lane], s1[lane])
                        s0[lane] = a
                        s1[lane] = b
                        dst[row + _U(lane)] = uniform_value64(x, sc, low, vmin, vmax)
                sent = stream_lines(out, at, dst, sent, _U(LANES * min(c + STEPS, p1)) if stream else sent)
            stream_rest(out, at, dst, head if stream else _U(0), sent, _U(BLOCK) if stream else sent)
    else:
        def impl(dst, off, s0, s1, h, low, scale, vmin, vmax, p0, p1, out, at, stream):
            s0h, s0l, s1h, s1l = h
            head = aligned_head(out, at, BLOCK)
            sent = head
            skip_lanes(s0, s1, p0 // 2)  # one output per pair of positions (2k, 2k + 1)
            split_lanes(s0, s1, s0h, s0l, s1h, s1l)
            sc = _f(scale) * _2M24
            lo = _f(low)
            vlo = _f(vmin)
            vhi = _f(vmax)
            k0, k1 = p0 // 2, (p1 + 1) // 2
            for c in range(k0, k1, STEPS):  # 8 lines (float32) a step, then written out when streaming
                for k in range(c, min(c + STEPS, k1)):
                    row = _U(off) + _U(2 * LANES * k)
                    for lane in range(s0h.size):
                        rh, rl, ah, al, bh, bl = xoroshiro128p_32(s0h[lane], s0l[lane], s1h[lane], s1l[lane])
                        s0h[lane] = ah
                        s0l[lane] = al
                        s1h[lane] = bh
                        s1l[lane] = bl
                        put(dst, row + _U(lane), uniform_value32(rh, sc, lo, vlo, vhi))
                        put(dst, row + _U(LANES + lane), uniform_value32(rl, sc, lo, vlo, vhi))
                sent = stream_lines(out, at, dst, sent, _U(2 * LANES * min(c + STEPS, k1)) if stream else sent)
            stream_rest(out, at, dst, head if stream else _U(0), sent, _U(BLOCK) if stream else sent)
    return impl


@njit(error_model="numpy")
def uniform_unit(dst, off, seed, b, low, scale, vmin, vmax, p0, p1, out, at, stream):
    """Seed block ``b``'s lanes and ``uniform_block`` it into ``dst[off:]`` (and, with ``stream``,
    out to ``out[at:]``): the kernel's work for one block, compiled on its own
    (``simd.own_function``), with 512-bit vectors, its lane states on the stack (see
    ``normal.normal_unit``)."""
    wide_vectors()
    own_function()
    s0, s1 = block_lanes(seed, b)
    h = stack_halves()
    uniform_block(dst, off, s0, s1, h, low, scale, vmin, vmax, p0, p1, out, at, stream)


@njit(parallel=True, cache=True, nogil=True, error_model="numpy")
def fill_uniform(out, seed, start, low, scale, vmin, vmax):
    """Fill the flat ``out`` with the elements ``start`` gives (a flat index or a span,
    ``blocks``) of a uniform tensor: ``low + scale * u`` clamped into [vmin, vmax] (module
    docstring)."""
    u0, nu, nt = plan(start, out.size)
    stream = streams(out) and out.itemsize >= 4  # 32- and 64-bit outputs only (module docstring)
    for t in prange(nt):
        tmp = np.empty(BLOCK, out.dtype)
        lo, hi = task_blocks(t, nt, nu)
        for u in range(u0 + lo, u0 + hi):
            w = locate(start, out.size, u)
            b = w[0]
            if b < 0:  # a span's unit past its run's end
                continue
            dst, off, p0, p1 = target(out, tmp, w, stream)
            s = stream and whole(w)
            uniform_unit(dst, off, seed, b, low, scale, vmin, vmax, p0, p1, out, b * BLOCK + w[1], s)
            finish(out, tmp, w)
        if stream:
            store_fence()
