"""Truncated normal fill: N(mean, std) restricted to [lo, hi], by exact rejection.

The Python side (``fastinit.fills``) standardizes the bounds to [a, b] and picks one of three
proposals by expected acceptance (Robert 1995):
- ``NORMAL``: z from the normal kernel's Box-Muller pairs, kept when a <= z <= b (intervals
  around 0 at least sqrt(2*pi) wide);
- ``UNIFORM``: v uniform on [lo, hi] in output space, kept when
  log u <= (m - z)(m + z)/2 with z = (v - mean)/std and m the point of [a, b] nearest 0 (narrow
  intervals);
- ``EXPONENTIAL``: z = a + E/lam (E exponential, lam = (a + sqrt(a^2 + 4))/2), kept when
  z <= b and -2 log u >= (z - lam)^2 (tails; an interval below 0 is mirrored, sign = -1).

Every lane turns its stream into a sequence of candidates, two per round, and its accepted
candidates fill its positions in order. Rounds run vectorized across lanes into a candidate
buffer; a scalar pass then compacts each lane's accepted candidates. A lane's values depend only
on its own candidate sequence, never on how many rounds were run in a batch.
"""
import math

import numpy as np
from numba import njit, prange
from numba.extending import overload

from .bits import fma
from .blocks import finish, plan, put, target, task_blocks
from .mathfn import log32, log64
from .normal import as_value, normal_pair
from .rng import BLOCK, LANES, PAIRS, seed_lanes, xoroshiro128p

NORMAL, UNIFORM, EXPONENTIAL = 0, 1, 2
POSITIONS = 2 * PAIRS  # values each lane writes per block

_U = np.uint64
_f = np.float32
_2M24 = _f(2.0**-24)
_2M40 = 2.0**-40
_2M41 = _f(2.0**-41)
_2M52 = 2.0**-52
_2M53 = 2.0**-53


def two_uniforms(s0, s1, dst):
    """(u, w, s0, s1): u in [0, 1) with 40 (float64: 52) bits, as float64, and w in (0, 1] in
    the precision of ``dst``'s values, for one candidate."""


@overload(two_uniforms)
def _two_uniforms(s0, s1, dst):
    if dst.dtype.bitwidth == 64:
        def impl(s0, s1, dst):
            x, s0, s1 = xoroshiro128p(s0, s1)
            y, s0, s1 = xoroshiro128p(s0, s1)
            u = float(np.int64(x >> _U(12))) * _2M52
            w = float(np.int64((y >> _U(11)) | _U(1))) * _2M53
            return u, w, s0, s1
    else:
        def impl(s0, s1, dst):
            x, s0, s1 = xoroshiro128p(s0, s1)
            u = float(np.int64(x >> _U(24))) * _2M40
            w = _f(np.int64(((x & _U(0x7FFFFF)) << _U(1)) | _U(1))) * _2M24
            return u, w, s0, s1
    return impl


def work_array(shape, dst):
    """An empty array of ``shape`` in the precision the kernels compute ``dst``'s values in."""


@overload(work_array)
def _work_array(shape, dst):
    if dst.dtype.bitwidth == 64:
        return lambda shape, dst: np.empty(shape, np.float64)
    return lambda shape, dst: np.empty(shape, np.float32)


def log_(w, dst):
    """log in the precision of ``dst``'s values."""


@overload(log_)
def _log(w, dst):
    if dst.dtype.bitwidth == 64:
        return lambda w, dst: log64(w)
    return lambda w, dst: log32(w)


def narrow(v, dst):
    """``v`` rounded to the precision of ``dst``'s values (float32 for float16 outputs)."""


@overload(narrow)
def _narrow(v, dst):
    if dst.dtype.bitwidth == 64:
        return lambda v, dst: v
    return lambda v, dst: _f(v)


@njit(inline="always")
def uniform_candidate(s0, s1, lo, width, mean, std, m, dst):
    u, w, s0, s1 = two_uniforms(s0, s1, dst)
    v = fma(width, u, lo)
    z = (v - mean) / std
    ok = log_(w, dst) <= narrow(0.5 * ((m - z) * (m + z)), dst)
    return narrow(v, dst), ok, s0, s1


@njit(inline="always")
def exponential_candidate(s0, s1, a, b, lam, mean, std, dst):
    u, w, s0, s1 = two_uniforms(s0, s1, dst)
    e = -log_(narrow(1.0 - u, dst), dst)  # 1 - u in (0, 1]
    la = narrow(a, dst)
    z = la + e / narrow(lam, dst)
    d = z - narrow(lam, dst)
    ok = (z <= narrow(b, dst)) & (narrow(-2.0, dst) * log_(w, dst) >= d * d)
    return as_value(z, mean, std, dst), ok, s0, s1


@njit(inline="always")
def candidate_rounds(kind, s0, s1, cand, ok, p, dst):
    """Run ``cand.shape[0] // 2`` rounds: two candidates per lane per round, into cand/ok."""
    mean, std, a, b, lam, lo, width, m = p[0], p[1], p[2], p[3], p[4], p[5], p[6], p[7]
    na = narrow(a, dst)
    nb = narrow(b, dst)
    for r in range(cand.shape[0] // 2):
        if kind == NORMAL:
            for lane in range(s0.size):
                z0, z1, x, y = normal_pair(s0[lane], s1[lane], dst)
                s0[lane] = x
                s1[lane] = y
                cand[2 * r, lane] = as_value(z0, mean, std, dst)
                ok[2 * r, lane] = (z0 >= na) & (z0 <= nb)
                cand[2 * r + 1, lane] = as_value(z1, mean, std, dst)
                ok[2 * r + 1, lane] = (z1 >= na) & (z1 <= nb)
        elif kind == UNIFORM:
            for lane in range(s0.size):
                v0, k0, x, y = uniform_candidate(s0[lane], s1[lane], lo, width, mean, std, m, dst)
                v1, k1, x, y = uniform_candidate(x, y, lo, width, mean, std, m, dst)
                s0[lane] = x
                s1[lane] = y
                cand[2 * r, lane] = v0
                ok[2 * r, lane] = k0
                cand[2 * r + 1, lane] = v1
                ok[2 * r + 1, lane] = k1
        else:
            for lane in range(s0.size):
                v0, k0, x, y = exponential_candidate(s0[lane], s1[lane], a, b, lam, mean, std, dst)
                v1, k1, x, y = exponential_candidate(x, y, a, b, lam, mean, std, dst)
                s0[lane] = x
                s1[lane] = y
                cand[2 * r, lane] = v0
                ok[2 * r, lane] = k0
                cand[2 * r + 1, lane] = v1
                ok[2 * r + 1, lane] = k1


@njit(inline="always")
def compact(cand, ok, vals, count):
    """Append each lane's accepted candidates to its column of ``vals``; returns the fewest any
    lane now has. Row ``POSITIONS`` of ``vals`` takes the overflow."""
    least = POSITIONS
    for lane in range(LANES):
        pos = count[lane]
        for q in range(cand.shape[0]):
            vals[min(pos, POSITIONS), lane] = cand[q, lane]
            pos += ok[q, lane]
        count[lane] = pos
        least = min(least, pos)
    return least


@njit(parallel=True, cache=True, nogil=True)
def fill_truncnorm(out, seed, start, kind, p, vmin, vmax, rounds):
    """Fill the flat ``out`` with elements [start, start + out.size) of a truncated normal
    tensor. ``p`` = (mean, std, a, b, lam, lo, width, m) as float64, ``std`` signed (mirroring);
    values are clamped into [vmin, vmax], the output-dtype values inside [lo, hi]."""
    b0, nb, nt = plan(start, out.size)
    for t in prange(nt):
        s0 = np.empty(LANES, np.uint64)
        s1 = np.empty(LANES, np.uint64)
        tmp = np.empty(BLOCK, out.dtype)
        proto = work_array(0, out)
        cand = work_array((2 * rounds, LANES), out)
        ok = np.empty((2 * rounds, LANES), np.int64)
        vals = work_array((POSITIONS + 1, LANES), out)
        count = np.empty(LANES, np.int64)
        lo_, hi_ = task_blocks(t, nt, nb)
        for blk in range(b0 + lo_, b0 + hi_):
            dst, off = target(out, tmp, start, blk)
            seed_lanes(seed, blk, s0, s1)
            count[:] = 0
            least = 0
            while least < POSITIONS:
                candidate_rounds(kind, s0, s1, cand, ok, p, proto)
                least = compact(cand, ok, vals, count)
            lo_v = narrow(vmin, proto)
            hi_v = narrow(vmax, proto)
            for j in range(POSITIONS):
                row = _U(off) + _U(j * LANES)
                for lane in range(LANES):
                    put(dst, row + _U(lane), min(max(vals[j, lane], lo_v), hi_v))
            finish(out, tmp, start, blk)
