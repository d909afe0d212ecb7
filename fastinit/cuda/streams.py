"""One stream's values, a chunk at a time: the jitted bodies the GPU kernels call per thread.

Each function advances the stream state ``st`` (a 2-element uint64 array: s0, s1) and writes
the next ``vals.size`` values of the stream's positions into ``vals`` (float16 outputs: their
bits in a uint16 array), with the CPU kernels' per-value functions, so the values are the CPU's.
They take and return only arrays and scalars, so they run in a kernel on the GPU and, called from
the CUDA simulator's Python, on the CPU.
"""
import numpy as np
from numba import njit
from numba.extending import overload

from ..kernels.blocks import put
from ..kernels.normal import normal_values32, normal_values64
from ..kernels.rng import LANES, stream_state, words, xoroshiro128p
from ..kernels.truncnorm import (NORMAL, UNIFORM, exponential_cand32, exponential_cand64,
                                 normal_cands32, normal_cands64, uniform_cand32, uniform_cand64)
from ..kernels.uniform import uniform_value32, uniform_value64

_U = np.uint64

CHUNK = 16  #: values per call: small enough for registers, a multiple of every kernel's step


@njit(inline="always")
def seed_stream(seed, block, lane, st):
    """``st`` = the state of stream ``block * LANES + lane``."""
    s0, s1 = stream_state(_U(seed), _U(block) * _U(LANES) + _U(lane))
    st[0] = s0
    st[1] = s1


def _uniform(st, vals, lo, sc, vlo, vhi):
    pass


@overload(_uniform)
def _uniform_impl(st, vals, lo, sc, vlo, vhi):
    if vals.dtype.bitwidth == 64:
        def impl(st, vals, lo, sc, vlo, vhi):
            s0, s1 = st[0], st[1]
            for j in range(vals.size):
                x, s0, s1 = xoroshiro128p(s0, s1)
                vals[j] = uniform_value64(x, sc, lo, vlo, vhi)
            st[0] = s0
            st[1] = s1
    else:
        def impl(st, vals, lo, sc, vlo, vhi):
            s0, s1 = st[0], st[1]
            for j in range(0, vals.size, 2):
                x, s0, s1 = xoroshiro128p(s0, s1)
                hi, lw = words(x)
                put(vals, j, uniform_value32(hi, sc, lo, vlo, vhi))
                put(vals, j + 1, uniform_value32(lw, sc, lo, vlo, vhi))
            st[0] = s0
            st[1] = s1
    return impl


def _normal(st, vals, mean, std):
    pass


@overload(_normal)
def _normal_impl(st, vals, mean, std):
    if vals.dtype.bitwidth == 64:
        def impl(st, vals, mean, std):
            s0, s1 = st[0], st[1]
            for j in range(0, vals.size, 2):
                x, s0, s1 = xoroshiro128p(s0, s1)
                y, s0, s1 = xoroshiro128p(s0, s1)
                v0, v1 = normal_values64(x, y, std, mean)
                vals[j] = v0
                vals[j + 1] = v1
            st[0] = s0
            st[1] = s1
    else:
        def impl(st, vals, mean, std):
            s0, s1 = st[0], st[1]
            for j in range(0, vals.size, 2):
                x, s0, s1 = xoroshiro128p(s0, s1)
                hi, lw = words(x)
                v0, v1 = normal_values32(hi, lw, std, mean)
                put(vals, j, v0)
                put(vals, j + 1, v1)
            st[0] = s0
            st[1] = s1
    return impl


@njit
def uniform_chunk(st, vals, lo, sc, vlo, vhi):
    """Uniform values: 32-bit outputs take two per stream output (high word, then low word),
    float64 outputs one."""
    _uniform(st, vals, lo, sc, vlo, vhi)


@njit
def normal_chunk(st, vals, mean, std):
    """Normal values: a Box-Muller pair per stream output (32-bit) or per two outputs
    (float64)."""
    _normal(st, vals, mean, std)


def _truncnorm(st, vals, oks, kind, mean, std, istd, za, zb, lam, ilam, lo, m, wsc, vlo, vhi):
    pass


@overload(_truncnorm)
def _truncnorm_impl(st, vals, oks, kind, mean, std, istd, za, zb, lam, ilam, lo, m, wsc, vlo, vhi):
    if vals.dtype.bitwidth == 64:
        def impl(st, vals, oks, kind, mean, std, istd, za, zb, lam, ilam, lo, m, wsc, vlo, vhi):
            s0, s1 = st[0], st[1]
            for j in range(0, vals.size, 2):
                x, s0, s1 = xoroshiro128p(s0, s1)
                y, s0, s1 = xoroshiro128p(s0, s1)
                if kind == NORMAL:
                    v0, k0, v1, k1 = normal_cands64(x, y, mean, std, vlo, vhi)
                else:
                    x1, s0, s1 = xoroshiro128p(s0, s1)
                    y1, s0, s1 = xoroshiro128p(s0, s1)
                    if kind == UNIFORM:
                        v0, k0 = uniform_cand64(x, y, mean, istd, lo, m, wsc, vlo, vhi)
                        v1, k1 = uniform_cand64(x1, y1, mean, istd, lo, m, wsc, vlo, vhi)
                    else:
                        v0, k0 = exponential_cand64(x, y, mean, std, za, zb, lam, ilam, vlo, vhi)
                        v1, k1 = exponential_cand64(x1, y1, mean, std, za, zb, lam, ilam, vlo, vhi)
                vals[j] = v0
                vals[j + 1] = v1
                oks[j] = k0
                oks[j + 1] = k1
            st[0] = s0
            st[1] = s1
    else:
        def impl(st, vals, oks, kind, mean, std, istd, za, zb, lam, ilam, lo, m, wsc, vlo, vhi):
            s0, s1 = st[0], st[1]
            for j in range(0, vals.size, 2):
                x, s0, s1 = xoroshiro128p(s0, s1)
                xh, xl = words(x)
                if kind == NORMAL:
                    v0, k0, v1, k1 = normal_cands32(xh, xl, mean, std, vlo, vhi)
                else:
                    y, s0, s1 = xoroshiro128p(s0, s1)
                    yh, yl = words(y)
                    if kind == UNIFORM:
                        v0, k0 = uniform_cand32(xh, xl, mean, istd, lo, m, wsc, vlo, vhi)
                        v1, k1 = uniform_cand32(yh, yl, mean, istd, lo, m, wsc, vlo, vhi)
                    else:
                        v0, k0 = exponential_cand32(xh, xl, mean, std, za, zb, lam, ilam, vlo, vhi)
                        v1, k1 = exponential_cand32(yh, yl, mean, std, za, zb, lam, ilam, vlo, vhi)
                put(vals, j, v0)
                put(vals, j + 1, v1)
                oks[j] = k0
                oks[j + 1] = k1
            st[0] = s0
            st[1] = s1
    return impl


@njit
def truncnorm_chunk(st, vals, oks, kind, mean, std, istd, za, zb, lam, ilam, lo, m, wsc, vlo, vhi):
    """The stream's next ``vals.size`` truncated-normal candidates of proposal ``kind`` (the CPU
    kernel's order: in pairs, as its rounds make them) and whether each is kept."""
    _truncnorm(st, vals, oks, kind, mean, std, istd, za, zb, lam, ilam, lo, m, wsc, vlo, vhi)
