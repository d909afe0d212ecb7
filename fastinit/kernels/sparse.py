"""Sparse fill (torch.nn.init.sparse_ semantics): in a (rows, cols) tensor every column has
exactly ``nz`` zeros at random rows; the other elements are N(0, std).

The values are those of the normal fill for the same seed; a value that would round to 0 in the
output dtype becomes the smallest subnormal of its sign (``std > 0``), so the zeros are exactly
the chosen ones. Which rows of column ``c`` are zero is decided per element in O(rows) or O(1),
from the column's 64-bit key ``ck = mix64(skey ^ (c * GAMMA))``, ``skey = mix64(seed ^ TAG)``:

- ``rows <= SMALL_ROWS``: row ``r`` gets the key ``k_r = mix64(ck ^ (r * GAMMA))``; the zeros are
  the ``nz`` rows with the smallest ``(k_r, r)``: a uniformly random nz-subset, exactly as a
  shuffle would give (torch's ``randperm``), at O(rows) per element;
- larger ``rows``: element (r, c) is zero when ``perm_c(r) < nz``, ``perm_c`` a keyed bijection of
  [0, rows): a 6-round Feistel network on Z_DL x Z_DR (DR = 2**h, DL = ceil(rows / DR), rounds
  adding modulo each side; round j's function is murmur3's fmix32 of the half XOR a 32-bit slice
  of ``ck`` and ``j * 0x9E3779B9``) with cycle-walking onto [0, rows); O(1) per element.

Either way each column has exactly ``nz`` zeros and any block of rows is generated alone.
"""
import math

import numpy as np
from numba import njit, prange, types
from numba.extending import overload

from .blocks import finish, plan, target, task_blocks
from .normal import normal_block, value_means
from .rng import BLOCK, LANES, halves, mix64, seed_lanes

_U = np.uint64
_GAMMA = _U(0x9E3779B97F4A7C15)
_M32 = _U(0xFFFFFFFF)
_C1 = _U(0x85EBCA6B)
_C2 = _U(0xC2B2AE35)
SPARSE_TAG = 0x5350415253453031  # "SPARSE01": separates mask keys from value streams
SMALL_ROWS = 64  #: up to this many rows, zero rows are chosen by ranking row keys (exactly uniform)
FEISTEL_PASSES = 3  #: pairs of Feistel rounds
_PHI32 = _U(0x9E3779B9)


@njit(inline="always")
def column_key(skey, c):
    return mix64(skey ^ (_U(c) * _GAMMA))


@njit(inline="always")
def _round(v, key, j):
    """Round ``j``'s 32-bit function: murmur3's fmix32 of v ^ (32-bit key slice) ^ (j * PHI32)."""
    h = (v ^ (key >> _U(32 * (j & 1))) ^ (_U(j) * _PHI32)) & _M32
    h = ((h ^ (h >> _U(16))) * _C1) & _M32
    h = ((h ^ (h >> _U(13))) * _C2) & _M32
    return h ^ (h >> _U(16))


@njit(inline="always")
def feistel(y, key, h, dl):
    """One pass of the keyed bijection of [0, dl * 2**h)."""
    mask = (_U(1) << h) - _U(1)
    left = y >> h
    right = y & mask
    for j in range(FEISTEL_PASSES):
        t = (_round(right, key, 2 * j) * dl) >> _U(32)  # in [0, dl)
        left = left + t
        left = left - dl if left >= dl else left
        right = (right + _round(left, key, 2 * j + 1)) & mask
    return (left << h) | right


@njit(inline="always")
def permute(r, key, rows, h, dl):
    """perm_c(r): the Feistel pass, cycle-walked until it lands in [0, rows)."""
    y = feistel(r, key, h, dl)
    while y >= rows:
        y = feistel(y, key, h, dl)
    return y


@njit(inline="always")
def ranked_zero(r, ck, rows, nz):
    """Whether row ``r`` is among the ``nz`` rows with the smallest (row key, row)."""
    kr = mix64(ck ^ (r * _GAMMA))
    rank = _U(0)
    for r2 in range(rows):
        k2 = mix64(ck ^ (_U(r2) * _GAMMA))
        rank += _U((k2 < kr) | ((k2 == kr) & (_U(r2) < r)))
    return rank < nz


def nudge(dst, i):
    """Turn a value of ``dst[i]`` that rounded to (+-)0 into the smallest subnormal of its sign."""


@overload(nudge)
def _nudge(dst, i):
    if dst.dtype == types.uint16:  # float16 bits
        def impl(dst, i):
            if dst[i] & np.uint16(0x7FFF) == 0:
                dst[i] = dst[i] | np.uint16(1)
    else:
        tiny = dst.dtype(np.finfo(np.dtype(str(dst.dtype))).smallest_subnormal)

        def impl(dst, i):
            if dst[i] == 0:
                dst[i] = math.copysign(tiny, dst[i])
    return impl


@njit(inline="always")
def mask_block(dst, off, first, cols, rows, nz, skey, h, dl, nonzero_std, ybuf):
    """Zero the chosen elements of the block starting at flat index ``first`` (held at
    dst[off:]); with ``nonzero_std``, nudge the others away from 0.

    Only elements of the tensor (rows < ``rows``) are visited: the cycle walk is certain to end
    only when it starts inside [0, rows), and a cut last block's scratch part lies past the
    tensor's end."""
    r = _U(first // cols)
    c = first % cols
    j = 0
    end = min(BLOCK, np.int64(rows) * cols - first)
    small = rows <= _U(SMALL_ROWS)
    while j < end:
        seg = min(end - j, cols - c)
        if small:
            for q in range(seg):
                ybuf[q] = _U(0) if ranked_zero(r, column_key(skey, c + q), rows, nz) else rows - _U(1)
        else:
            for q in range(seg):  # vectorizes: one Feistel pass per column
                ybuf[q] = feistel(r, column_key(skey, c + q), h, dl)
        for q in range(seg):
            y = ybuf[q]
            if y >= rows:  # rare (probability < 1/dl): finish the cycle walk
                y = permute(y, column_key(skey, c + q), rows, h, dl)
            i = off + j + q
            if y < nz:
                dst[i] = 0
            elif nonzero_std:
                nudge(dst, i)
        j += seg
        r += _U(1)
        c = 0


@njit(parallel=True, cache=True, nogil=True)
def fill_sparse(out, seed, start, rows, cols, nz, std, h, dl):
    """Fill the flat ``out`` with elements [start, start + out.size) of a sparse (rows, cols)
    tensor: the normal fill N(0, std) for ``seed``, then ``nz`` zeros per column.
    ``h`` and ``dl`` size the Feistel domain (``sparse_domain``)."""
    b0, nb, nt = plan(start, out.size)
    skey = mix64(seed ^ _U(SPARSE_TAG))
    urows = _U(rows)
    unz = _U(nz)
    uh = _U(h)
    udl = _U(dl)
    for t in prange(nt):
        s0 = np.empty(LANES, np.uint64)
        s1 = np.empty(LANES, np.uint64)
        means = value_means(np.zeros(LANES), out)
        hv = halves()
        tmp = np.empty(BLOCK, out.dtype)
        ybuf = np.empty(BLOCK, np.uint64)
        lo, hi = task_blocks(t, nt, nb)
        for b in range(b0 + lo, b0 + hi):
            dst, off = target(out, tmp, start, b)
            seed_lanes(seed, b, s0, s1)
            normal_block(dst, off, s0, s1, hv, means, std)
            mask_block(dst, off, b * BLOCK, cols, urows, unz, skey, uh, udl, std > 0, ybuf)
            finish(out, tmp, start, b)


def sparse_domain(rows):
    """(h, dl): the Feistel domain Z_dl x Z_(2**h) that covers [0, rows) with dl * 2**h < 2 rows
    and dl * 2**h - rows < 2**h, so cycle-walking is rare."""
    k = max(int(rows - 1).bit_length(), 1)
    h = k // 2
    return h, -(-rows // (1 << h))
