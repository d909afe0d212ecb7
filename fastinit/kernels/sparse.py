"""Sparse fill (torch.nn.init.sparse_ semantics): in a (rows, cols) tensor every column has
exactly ``nz`` zeros at random rows; the other elements are N(0, std).

The values are those of the normal fill for the same seed (mean 0); with std > 0, a value that
rounds to 0 in the output dtype becomes the smallest subnormal of its sign, so the zeros are
exactly the chosen ones. Which rows of column c are zero (all arithmetic below is on 32-bit
words, modulo 2**32; rows and cols must be below 2**32; s = mix64(seed ^ SPARSE_TAG), k0 its low
word, k1 its high word; column key K(c) = x ^ (x >> 13) with x = (c ^ k0) * 0x9E3779B1, then
x = (x ^ (x >> 15)) * 0x85EBCA6B):

rows <= SMALL_ROWS: the nz rows with the smallest (row key, row), row key = f(K(c) ^ ((r + k1)
* 0x9E3779B9)) with f(x): x = (x ^ (x >> 16)) * 0xC2B2AE35, x = (x ^ (x >> 13)) * 0x27D4EB2F,
x ^ (x >> 16): a uniformly random nz-subset (as torch's randperm gives), O(rows) per element.

Larger rows: element (r, c) is zero when ``perm_c(r) < nz``, where ``perm_c`` is a keyed bijection
of [0, rows):
- a Feistel network on Z_dl x Z_(2**h) (``sparse_domain``: h = bit_length(rows - 1) // 2,
  dl = ceil(rows / 2**h); so dl * 2**h >= rows, dl * 2**h - rows < 2**h and dl <= 2**16) with
  y = left * 2**h + right, 6 rounds when h <= 5 (rows <= 2048; 4 rounds leave visible
  structure there) and 4 rounds otherwise;
- cycle-walked onto [0, rows): while y >= rows, y = Feistel(y). This ends because the network
  is a bijection of the finite [0, dl * 2**h) and the walk starts inside [0, rows) (at worst it
  returns to its start); being a bijection of [0, rows), it puts exactly ``nz`` zeros in each
  column. Elements outside the tensor (the cut last block's scratch part) are never walked.
The rounds:
- round i (i = 1, 2, ...) uses the constant ki = k1 + i * 0x9E3779B9 and
  G(v, M, M') = (((((v + ki) ^ K) * M) ^ ((((v + ki) ^ K) * M) >> 15)) * M') >> 16;
  odd rounds: left = (left + ((G(right, 0xC2B2AE35, 0x27D4EB2F) * dl) >> 16)) mod dl;
  even rounds: right = (right + G(left, 0x27D4EB2F, 0xC2B2AE35)) mod 2**h.
Being O(1) per element, any block of rows is generated alone. The mask loop is 32-bit and runs
two elements in lockstep (two dependency chains); the rare cycle walks are gathered and stepped
together after it.
"""
import numpy as np
from numba import njit, prange, types
from numba.extending import overload

from .bits import (add32, and32, f32_as_u32, f32_to_u31, f64_as_u64, i31_to_f32, mul32, or32, shl32,
                   shr32, sub32, to_u32, u32_as_f32, u32_to_u64, u64_as_f64, xor32)
from .blocks import finish, locate, plan, target, task_blocks
from .normal import normal_block, value_means
from .simd import wide_vectors
from .rng import BLOCK, LANES, halves, mix64, seed_lanes

SPARSE_TAG = 0x5350415253453031  # "SPARSE01": separates mask keys from value streams

_u = np.uint32
_U = np.uint64
_u13, _u15, _u16 = _u(13), _u(15), _u(16)
_GOLD = _u(0x9E3779B9)
_M1, _M2, _M3, _M4 = _u(0x9E3779B1), _u(0x85EBCA6B), _u(0xC2B2AE35), _u(0x27D4EB2F)
_ABS16, _ABS32, _ABS64 = _u(0x7FFF), _u(0x7FFFFFFF), _U(0x7FFFFFFFFFFFFFFF)
_ONES = _u(0xFFFFFFFF)
SMALL_ROWS = 64  #: up to this many rows, zero rows are chosen by ranking row keys (exactly uniform)


@njit(forceinline=True, error_model="numpy")
def column_key(c, k0):
    """The 32-bit key K(c) of column ``c`` (uint32)."""
    x = mul32(xor32(c, k0), _M1)
    x = mul32(xor32(x, shr32(x, _u15)), _M2)
    return xor32(x, shr32(x, _u13))


@njit(forceinline=True, error_model="numpy")
def _half_rounds(left, right, key, mask, dl, k1, j):
    """Feistel rounds 2j + 1 (left) and 2j + 2 (right)."""
    x = mul32(xor32(add32(right, add32(k1, mul32(to_u32(2 * j + 1), _GOLD))), key), _M3)
    x = mul32(xor32(x, shr32(x, _u15)), _M4)
    left = add32(left, shr32(mul32(shr32(x, _u16), dl), _u16))  # + [0, dl)
    left = sub32(left, dl) if left >= dl else left
    x = mul32(xor32(add32(left, add32(k1, mul32(to_u32(2 * j + 2), _GOLD))), key), _M4)
    x = mul32(xor32(x, shr32(x, _u15)), _M3)
    right = and32(add32(right, shr32(x, _u16)), mask)
    return left, right


@njit(forceinline=True, error_model="numpy")
def feistel(y, key, h, mask, dl, k1, rounds):
    """One pass of the keyed bijection of [0, dl * 2**h) (uint32 arguments; rounds 4 or 6)."""
    left = shr32(y, h)
    right = and32(y, mask)
    for j in range(rounds // 2):
        left, right = _half_rounds(left, right, key, mask, dl, k1, j)
    return or32(shl32(left, h), right)


@njit(forceinline=True, error_model="numpy")
def feistel2(y, key, y2, key2, h, mask, dl, k1, rounds):
    """``feistel`` of two inputs in lockstep (two independent dependency chains, interleaved)."""
    left = shr32(y, h)
    right = and32(y, mask)
    left2 = shr32(y2, h)
    right2 = and32(y2, mask)
    for j in range(rounds // 2):
        left, right = _half_rounds(left, right, key, mask, dl, k1, j)
        left2, right2 = _half_rounds(left2, right2, key2, mask, dl, k1, j)
    return or32(shl32(left, h), right), or32(shl32(left2, h), right2)


@njit(forceinline=True, error_model="numpy")
def rounds_for(h):
    """Feistel rounds: 6 when h <= 5 (rows <= 2048), where 4 leave visible structure, else 4."""
    return 6 if h <= _u(5) else 4


def keep_bits(v, keep, nudge):
    """``v``'s bits ANDed with ``keep`` (0: +0.0, all ones: v), after, when ``nudge`` is 1, a
    value v of +-0 became the smallest subnormal of its sign. Written as a plain store of this
    (a select between 0 and the old value became a masked store: microcoded, slow on AMD, and
    none exists for 16-bit elements)."""


@overload(keep_bits)
def _keep_bits(v, keep, nudge):
    if v == types.float32:
        def impl(v, keep, nudge):
            b = f32_as_u32(v)
            b = or32(b, and32(nudge, to_u32(and32(b, _ABS32) == _u(0))))
            return u32_as_f32(and32(b, keep))
    elif v == types.float64:
        def impl(v, keep, nudge):
            b = f64_as_u64(v)
            b = b | (u32_to_u64(nudge) & _U((b & _ABS64) == _U(0)))
            return u64_as_f64(b & ((u32_to_u64(keep) << _U(32)) | u32_to_u64(keep)))
    else:  # 16-bit: float16 as uint16, bfloat16 as int16 (sign bit 15 in both)
        cast = np.uint16 if v == types.uint16 else np.int16

        def impl(v, keep, nudge):
            b = to_u32(v)
            b = or32(b, and32(nudge, to_u32(and32(b, _ABS16) == _u(0))))
            return cast(and32(b, keep))
    return impl


def zero_of(dst):
    """A zero of ``dst``'s element type."""


@overload(zero_of)
def _zero_of(dst):
    z = np.dtype(str(dst.dtype)).type(0)
    return lambda dst: z


@njit(forceinline=True, error_model="numpy")
def row_col(j, r0, c0, cols, icols, wide):
    """(row, column) of the block's element ``j`` (uint32 results)."""
    x = add32(c0, to_u32(j))  # column offset from the start of row r0, below cols + BLOCK
    if wide:
        q = _u(1) if x >= cols else _u(0)
    else:  # x < 2 * BLOCK: exact in float32, and the quotient estimate is off by at most 1
        q = f32_to_u31(i31_to_f32(x) * icols)
        q = sub32(q, _u(1)) if mul32(q, cols) > x else q
        q = add32(q, _u(1)) if mul32(add32(q, _u(1)), cols) <= x else q
    return add32(r0, q), sub32(x, mul32(q, cols))


def _mask_rows_for(rounds):
    """The mask loop for a fixed number of Feistel rounds (a compile-time constant, so that the
    rounds unroll inside the vectorized loop)."""
    @njit(error_model="numpy", nogil=True)
    def mask_rows(dst, off, first, n, rows, cols, nz, h, dl, k0, k1, nudge, bad, ys, ks, idx):
        r0 = to_u32(first // np.int64(cols))
        c0 = to_u32(first % np.int64(cols))
        mask = sub32(shl32(_u(1), h), _u(1))
        wide = np.int64(cols) >= BLOCK  # then a block spans at most two rows
        icols = np.float32(1.0 / np.float64(cols))
        half = n // 2
        for j in range(half):  # elements j and j + half together
            ra, ca = row_col(j, r0, c0, cols, icols, wide)
            rb, cb = row_col(j + half, r0, c0, cols, icols, wide)
            ka = column_key(ca, k0)
            kb = column_key(cb, k0)
            ya, yb = feistel2(ra, ka, rb, kb, h, mask, dl, k1, rounds)
            ia = _U(off) + _U(j)
            ib = _U(off) + _U(j + half)
            dst[ia] = keep_bits(dst[ia], sub32(_u(0), to_u32(ya >= nz)), nudge)  # zero where y < nz
            dst[ib] = keep_bits(dst[ib], sub32(_u(0), to_u32(yb >= nz)), nudge)
            bad[j] = ya >= rows
            bad[j + half] = yb >= rows
            ys[j] = ya
            ys[j + half] = yb
            ks[j] = ka
            ks[j + half] = kb
        if n % 2:  # the odd last element: through the walk below, from its row
            r, c = row_col(n - 1, r0, c0, cols, icols, wide)
            bad[n - 1] = True
            ks[n - 1] = column_key(c, k0)
            ys[n - 1] = feistel(r, ks[n - 1], h, mask, dl, k1, rounds)
        # the cycle walks: rare (probability below 2**h / (dl * 2**h) per element), so gather
        # those elements (reading the flags 8 at a time) and step them together
        words = bad.view(np.uint64)
        m = 0
        for w in range((n + 7) // 8):
            if words[w] != _U(0):
                for j in range(8 * w, min(8 * w + 8, n)):
                    if bad[j]:
                        idx[m] = j
                        m += 1
        while m > 0:
            for i in range(m):
                j = idx[i]
                ys[j] = feistel(ys[j], ks[j], h, mask, dl, k1, rounds) if ys[j] >= rows else ys[j]
            left = 0
            for i in range(m):
                j = idx[i]
                if ys[j] >= rows:
                    idx[left] = j
                    left += 1
                elif ys[j] < nz:
                    dst[_U(off) + _U(j)] = zero_of(dst)
                else:
                    dst[_U(off) + _U(j)] = keep_bits(dst[_U(off) + _U(j)], _ONES, nudge)
            m = left
    return mask_rows


_mask_rows4 = _mask_rows_for(4)
_mask_rows6 = _mask_rows_for(6)


@njit(forceinline=True, error_model="numpy")
def row_key(r, key, k1):
    """The 32-bit key of row ``r`` in the column of key ``key`` (small row counts)."""
    x = xor32(key, mul32(add32(r, k1), _GOLD))
    x = mul32(xor32(x, shr32(x, _u16)), _M3)
    x = mul32(xor32(x, shr32(x, _u13)), _M4)
    return xor32(x, shr32(x, _u16))


@njit(error_model="numpy", nogil=True)
def _mask_small(dst, off, first, n, rows, cols, nz, k0, k1, nudge, rank, kr, rb, kc):
    """rows <= SMALL_ROWS: element (r, c) is zero when fewer than nz rows r2 of column c have
    (row_key(r2), r2) < (row_key(r), r). Vectorized across the block's elements, rows passes."""
    r0 = to_u32(first // np.int64(cols))
    c0 = to_u32(first % np.int64(cols))
    wide = np.int64(cols) >= BLOCK
    icols = np.float32(1.0 / np.float64(cols))
    for j in range(n):
        r, c = row_col(j, r0, c0, cols, icols, wide)
        key = column_key(c, k0)
        rb[j] = r
        kc[j] = key
        kr[j] = row_key(r, key, k1)
        rank[j] = _u(0)
    for r2 in range(rows):
        u2 = to_u32(r2)
        for j in range(n):
            k2 = row_key(u2, kc[j], k1)
            below = (k2 < kr[j]) | ((k2 == kr[j]) & (u2 < rb[j]))
            rank[j] = add32(rank[j], to_u32(below))
    for j in range(n):
        i = _U(off) + _U(j)
        dst[i] = keep_bits(dst[i], sub32(_u(0), to_u32(rank[j] >= nz)), nudge)


@njit(error_model="numpy")
def sparse_value(v, r, c, rows, nz, h, dl, k0, k1, nudge):
    """Element (r, c)'s final value from its normal value ``v`` (float16: its uint16 bits), alone:
    what ``mask_block`` computes for a whole block (module docstring; uint32 arguments). The GPU
    kernel's per-element function."""
    key = column_key(c, k0)
    if rows <= _u(SMALL_ROWS):
        kr = row_key(r, key, k1)
        rank = _u(0)
        for r2 in range(rows):
            u2 = to_u32(r2)
            k2 = row_key(u2, key, k1)
            rank = add32(rank, to_u32((k2 < kr) | ((k2 == kr) & (u2 < r))))
        zero = rank < nz
    else:
        mask = sub32(shl32(_u(1), h), _u(1))
        rounds = rounds_for(h)
        y = feistel(r, key, h, mask, dl, k1, rounds)
        while y >= rows:
            y = feistel(y, key, h, mask, dl, k1, rounds)
        zero = y < nz
    return keep_bits(v, sub32(_u(0), to_u32(not zero)), nudge)


@njit(forceinline=True, error_model="numpy")
def mask_block(dst, off, first, n, rows, cols, nz, h, dl, k0, k1, nudge, scratch):
    """Zero the chosen elements of the block that starts at flat index ``first`` (held at
    dst[off:]); ``n`` of its elements lie inside the tensor (rows, cols, nz, h, dl, k0, k1 and
    nudge (0 or 1) uint32); ``scratch`` from ``mask_scratch()``."""
    bad, ys, ks, idx, rb = scratch
    if rows <= _u(SMALL_ROWS):
        _mask_small(dst, off, first, n, rows, cols, nz, k0, k1, nudge, ys, ks, rb, idx)
    elif rounds_for(h) == 6:
        _mask_rows6(dst, off, first, n, rows, cols, nz, h, dl, k0, k1, nudge, bad, ys, ks, idx)
    else:
        _mask_rows4(dst, off, first, n, rows, cols, nz, h, dl, k0, k1, nudge, bad, ys, ks, idx)


@njit(inline="always")
def mask_scratch():
    """Per-task scratch of ``mask_block``: flags, two word arrays, indices, one more word array."""
    return (np.zeros(BLOCK, np.uint8), np.empty(BLOCK, np.uint32), np.empty(BLOCK, np.uint32),
            np.empty(BLOCK, np.uint32), np.empty(BLOCK, np.uint32))


@njit(parallel=True, cache=True, nogil=True, error_model="numpy")
def fill_sparse(out, seed, start, rows, cols, nz, std, h, dl):
    """Fill the flat ``out`` with the elements ``start`` gives (``blocks``) of a sparse (rows, cols)
    tensor: the normal fill N(0, std) for ``seed``, then ``nz`` zeros per column (module
    docstring). ``h`` and ``dl`` size the Feistel domain (``sparse_domain``); 1 <= rows, cols < 2**32
    (checked by ``fastinit.sparse``: kernels never raise)."""
    u0, nu, nt = plan(start, out.size)
    skey = mix64(seed ^ _U(SPARSE_TAG))
    k0 = to_u32(skey)
    k1 = to_u32(skey >> _U(32))
    urows = to_u32(rows)
    ucols = to_u32(cols)
    unz = to_u32(nz)
    uh = to_u32(h)
    udl = to_u32(dl)
    nudge = _u(1) if std > 0 else _u(0)
    for t in prange(nt):
        wide_vectors()  # zmm where the CPU has AVX-512 (simd)
        s0 = np.empty(LANES, np.uint64)
        s1 = np.empty(LANES, np.uint64)
        hv = halves()
        means = value_means(np.zeros(LANES), out)
        tmp = np.empty(BLOCK, out.dtype)
        scratch = mask_scratch()
        values = np.empty(BLOCK, np.float32)  # normal_block's float32 block (16-bit outputs)
        lo, hi = task_blocks(t, nt, nu)
        for u in range(u0 + lo, u0 + hi):
            w = locate(start, out.size, u)
            b = w[0]
            if b < 0:  # a span's unit past its run's end
                continue
            dst, off, p0, p1 = target(out, tmp, w)
            seed_lanes(seed, b, s0, s1)
            normal_block(dst, off, s0, s1, hv, means, std, values, p0, p1)
            first = b * BLOCK
            a = max(first, w[2]) - first  # the elements of the block the output needs
            z = min(first + BLOCK, w[3]) - first
            mask_block(dst, off + a, first + a, z - a, urows, ucols, unz, uh, udl, k0, k1, nudge, scratch)
            finish(out, tmp, w)


def sparse_domain(rows):
    """(h, dl): the Feistel domain Z_dl x Z_(2**h) that covers [0, rows) with dl * 2**h < 2 rows
    and dl * 2**h - rows < 2**h, so cycle-walking is rare; dl <= 2**16. ``rows`` below 2**32."""
    if rows >= 2**32:
        raise ValueError(f"sparse: rows must be below 2**32, got {rows}")
    k = max(int(rows - 1).bit_length(), 1)
    h = k // 2
    return h, -(-rows // (1 << h))
