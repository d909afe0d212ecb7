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
Being O(1) per element, any block of rows is generated alone.

How the CPU kernel computes this (the values do not depend on it): a block's element j lies at
column offset x = c0 + j from the start of the block's first row r0, so its row and column key
come from two tables indexed by x (``column_tables``: K(x mod cols) and x // cols), made once
per call and shared by its blocks (or per block, for very wide tensors and small outputs). The
mask loop is then 32-bit throughout, vectorized over 16 lanes, two runs of elements in lockstep
(two dependency chains) and no remainder loops (``_mask_steps``); 64-bit outputs get their
keep words applied by a second loop. The rare cycle walks are gathered after it and stepped
together, vectorized (``_walks``).
"""
import numpy as np
from numba import njit, prange, types
from numba.extending import overload

from .bits import (add32, and32, f32_as_u32, f32_to_u31, f64_as_u64, i31_to_f32, mul32, or32, shl32,
                   shr32, sub32, to_u32, u32_as_f32, u32_to_u64, u64_as_f64, xor32)
from .blocks import finish, locate, plan, target, task_blocks, variant_of
from .normal import normal_unit, value_means
from .simd import avx512, flagged, own_function, wide_vectors
from .rng import BLOCK, LANES, mix64

SPARSE_TAG = 0x5350415253453031  # "SPARSE01": separates mask keys from value streams

_u = np.uint32
_U = np.uint64
_u13, _u15, _u16 = _u(13), _u(15), _u(16)
_GOLD = _u(0x9E3779B9)
_M1, _M2, _M3, _M4 = _u(0x9E3779B1), _u(0x85EBCA6B), _u(0xC2B2AE35), _u(0x27D4EB2F)
_ABS16, _ABS32, _ABS64 = _u(0x7FFF), _u(0x7FFFFFFF), _U(0x7FFFFFFFFFFFFFFF)
SMALL_ROWS = 64  #: up to this many rows, zero rows are chosen by ranking row keys (exactly uniform)
STEP = 32  #: elements per step of the mask loop (two chains of 16 lanes)
TABLE_COLS = 1 << 16  #: up to this many columns, a call's blocks share one set of column tables


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


SIX_ROUNDS_H = 5  #: up to this h (rows <= 2048) the network takes 6 rounds: 4 leave visible structure


@njit(forceinline=True, error_model="numpy")
def rounds_for(h):
    """Feistel rounds: 6 when h <= SIX_ROUNDS_H, else 4."""
    return 6 if h <= _u(SIX_ROUNDS_H) else 4


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


def bits64(dst):
    """Whether ``dst``'s elements are 64-bit (a compile-time constant)."""


@overload(bits64)
def _bits64(dst):
    wide = dst.dtype.bitwidth == 64
    return lambda dst: wide


def zero_of(dst):
    """A zero of ``dst``'s element type."""


@overload(zero_of)
def _zero_of(dst):
    z = np.dtype(str(dst.dtype)).type(0)
    return lambda dst: z


@njit(forceinline=True, error_model="numpy")
def recip_up(cols):
    """1 / cols rounded up to a float32, for ``row_col``: with it, trunc(float32(x) * recip_up)
    is x // cols exactly, with no correction step, for the x < cols + BLOCK, cols < BLOCK that
    ``row_col`` asks (the product is at least x // cols, since the rounding is monotonic and
    whole quotients are exact in float32; its relative error, below 2**-22, cannot reach
    q + 1, more than 1 / (cols * (q + 1)) > 1 / (3 * BLOCK) > 2**-14 away relative; checked
    exhaustively for every such cols and x)."""
    ic = np.float32(1.0 / np.float64(cols))
    if np.float64(ic) * np.float64(cols) < 1.0:  # exact: 24 bits times 32 bits
        ic = u32_as_f32(add32(f32_as_u32(ic), _u(1)))  # the next float32 up
    return ic


@njit(forceinline=True, error_model="numpy")
def row_col(x, cols, icols, wide):
    """(x // cols, x % cols) for x < cols + BLOCK (uint32 results); ``icols`` is
    ``recip_up(cols)``, ``wide`` whether cols >= BLOCK (then x // cols is 0 or 1)."""
    if wide:
        return (_u(1), sub32(x, cols)) if x >= cols else (_u(0), x)
    q = f32_to_u31(i31_to_f32(x) * icols)  # x < 2 * BLOCK: exact (recip_up)
    return q, sub32(x, mul32(q, cols))


@njit(error_model="numpy", nogil=True)
def column_tables(kt, qt, c0, n, cols, k0):
    """For x = c0 + j, j < n (c0 + n <= cols + BLOCK): kt[j] = K(x % cols) (``column_key``) and
    qt[j] = x // cols, so that element j of a block starting at (r0, c0) is in row r0 + qt[j], of
    column key kt[j]. With c0 = 0 and n = cols + BLOCK, the tables of every block of a call at
    once, block (r0, c0) reading them from index c0 on (``fill_sparse``)."""
    wide_vectors()  # compiled on its own: zmm where the CPU has AVX-512 (simd), as each loop below
    own_function()
    icols = recip_up(cols)
    if np.int64(cols) >= BLOCK:
        for j in range(n):
            q, c = row_col(add32(c0, to_u32(j)), cols, icols, True)
            kt[j] = column_key(c, k0)
            qt[j] = q
    else:
        for j in range(n):
            q, c = row_col(add32(c0, to_u32(j)), cols, icols, False)
            kt[j] = column_key(c, k0)
            qt[j] = q


@njit(forceinline=True, error_model="numpy")
def _settle(dst, off, j, y, rows, nz, nudge, bad, ys, keeps):
    """Keep or zero the block's element j after one pass (y); flag it for a walk when y >= rows
    (then kept for now: y >= rows >= nz) and record y. 64-bit values only get their keep word in
    ``keeps``, applied by a loop of their own (``mask_rows``): in this loop they would make the
    vectorizer take 8 elements a step, half the width of the 32-bit math. Idempotent: settling
    twice (a step that overlaps the one before) changes nothing."""
    keep = sub32(_u(0), to_u32(y >= nz))  # zero where y < nz
    if bits64(dst):
        keeps[j] = keep
    else:
        i = _U(off) + j
        dst[i] = keep_bits(dst[i], keep, nudge)
    bad[j] = y >= rows
    ys[j] = y


@njit(forceinline=True, error_model="numpy")
def _mask_steps(dst, off, n, r0, kt, qt, o, rows, nz, h, mask, dl, k1, nudge, bad, ys, keeps, rounds):
    """One pass of the bijection over the block's n >= STEP elements, ``_settle`` each: two runs
    of consecutive elements in lockstep, an element of each per step (two independent dependency
    chains; one alone leaves the vector units waiting on its latency). The loop runs over the
    first H = STEP // 2 * (n // STEP) elements and the H after them, then, if elements are left,
    once more over the last STEP (overlapping elements already settled: ``_settle`` is
    idempotent). Its trip counts are multiples of STEP // 2 = 16, so it vectorizes with no
    remainder or epilogue loops (the scalar copy left is the fallback of LLVM's run-time alias
    checks between the arrays, which pass: they are distinct); the outer loop's run-time count
    keeps LLVM from unrolling it into two copies of the vector loop."""
    half = STEP // 2 * (n // STEP)
    for part in range(2 if n % STEP else 1):  # a run-time count: the loop stays one loop
        a = 0 if part == 0 else n - STEP
        b = half if part == 0 else n - STEP // 2
        count = STEP // 2 * ((n // STEP) if part == 0 else 1)
        for lane in range(count):
            ja = _U(a) + _U(lane)
            jb = _U(b) + _U(lane)
            ta = _U(o) + ja
            tb = _U(o) + jb
            ya, yb = feistel2(add32(r0, qt[ta]), kt[ta], add32(r0, qt[tb]), kt[tb], h, mask, dl, k1,
                              rounds)
            _settle(dst, off, ja, ya, rows, nz, nudge, bad, ys, keeps)
            _settle(dst, off, jb, yb, rows, nz, nudge, bad, ys, keeps)


@njit(forceinline=True, error_model="numpy")
def _feistel46(y, key, h, mask, dl, k1, six):
    """``feistel`` with 4 rounds, or 6 where ``six``: unrolled either way (a loop of it
    vectorizes), one function for both round counts (``_walks`` is compiled once)."""
    left = shr32(y, h)
    right = and32(y, mask)
    left, right = _half_rounds(left, right, key, mask, dl, k1, 0)
    left, right = _half_rounds(left, right, key, mask, dl, k1, 1)
    left6, right6 = _half_rounds(left, right, key, mask, dl, k1, 2)
    return or32(shl32(left6 if six else left, h), right6 if six else right)


def flag_indices(idx, bad, n):
    """The indices of the block's elements that ``_mask_steps`` flagged (``bad[j]``, j < n), in
    order, into ``idx``; returns their count. With AVX-512, a group of 16 flags a step, their
    indices compressed (``simd.flagged``): no branch, where testing 8 flags at a time took a
    mispredicted branch per rare flag and cost a quarter of the mask (rows = 10,000: 1.1% of
    the elements walk). Elsewhere, 8 flags at a time (a word with one set is taken apart
    without branches). Flags past n (stale) are cleared first."""


@overload(flag_indices)
def _flag_indices(idx, bad, n):
    if avx512():
        def impl(idx, bad, n):
            for j in range(n, (n + 15) // 16 * 16):
                bad[j] = False
            return flagged(idx, bad, n)
        return impl

    def impl(idx, bad, n):
        nw = (n + 7) // 8
        for j in range(n, 8 * nw):
            bad[j] = False
        words = bad.view(np.uint64)
        m = 0
        for v in range(nw):
            word = words[_U(v)]
            if word != _U(0):
                for k in range(8):
                    idx[_U(m)] = to_u32(8 * v + k)
                    m += np.int64((word >> _U(8 * k)) & _U(1))
        return m
    return impl


@njit(error_model="numpy", nogil=True)
def _walks(dst, off, n, kt, o, rows, nz, h, dl, k1, bad, ys, idx, wy, wk):
    """The cycle walks of the block's elements that ``_mask_steps`` flagged: rare (probability
    below 2**h / (dl * 2**h) per element). Gather them (``flag_indices``), step them together
    (vectorized, 16 at a time, padded with rows that never step: a pass steps those still
    outside [0, rows)) until none is, then zero those that landed below nz."""
    wide_vectors()
    own_function()
    mask = sub32(shl32(_u(1), h), _u(1))
    six = rounds_for(h) == 6
    m = flag_indices(idx, bad, n)
    for i in range(m):
        j = idx[i]
        wy[i] = ys[j]
        wk[i] = kt[_U(o) + _U(j)]
    for i in range(m, (m + 15) // 16 * 16):
        wy[i] = _u(0)
    more = m
    while more > 0:
        more = 0
        for s in range((m + 15) // 16):
            for lane in range(16):
                i = _U(16 * s + lane)
                y = wy[i]
                z = _feistel46(y, wk[i], h, mask, dl, k1, six)
                y = z if y >= rows else y
                wy[i] = y
                more += np.int64(y >= rows)
    for i in range(m):
        if wy[i] < nz:
            dst[_U(off) + _U(idx[i])] = zero_of(dst)


def _mask_rows_for(rounds):
    """The mask loop for a fixed number of Feistel rounds (a compile-time constant, so that the
    rounds unroll inside the vectorized loop)."""
    @njit(error_model="numpy", nogil=True)
    def mask_rows(dst, off, n, r0, kt, qt, o, rows, nz, h, dl, k1, nudge, bad, ys, idx, wy, wk, tail):
        """Zero the chosen ones of the block's n elements (dst[off:]; row r0 + qt[o + j], column
        key kt[o + j]): one pass of the bijection, then the cycle walks (module docstring)."""
        wide_vectors()
        own_function()
        mask = sub32(shl32(_u(1), h), _u(1))
        d, doff, dn = dst, off, n
        if n < STEP:  # a short cut block: a whole step on a copy (kt, qt, bad, ys hold STEP)
            for j in range(n):
                tail[j] = dst[_U(off) + _U(j)]
            d, doff, dn = tail, 0, STEP
        _mask_steps(d, doff, dn, r0, kt, qt, o, rows, nz, h, mask, dl, k1, nudge, bad, ys, wy, rounds)
        if bits64(d):  # the keep words (``_settle``; wy is free until the walks)
            for j in range(dn):
                i = _U(doff) + _U(j)
                d[i] = keep_bits(d[i], wy[j], nudge)
        if n < STEP:
            for j in range(n):
                dst[_U(off) + _U(j)] = tail[j]
        if shl32(dl, h) != rows:  # else the network maps [0, rows) onto itself: no walks
            _walks(dst, off, n, kt, o, rows, nz, h, dl, k1, bad, ys, idx, wy, wk)
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
def _mask_small(dst, off, n, r0, kt, qt, o, rows, nz, k1, nudge, rank, kr):
    """rows <= SMALL_ROWS: element (r, c) is zero when fewer than nz rows r2 of column c have
    (row_key(r2), r2) < (row_key(r), r). Vectorized across the block's elements, rows passes.
    The rows' keys in a column are distinct (row_key is a bijection of r for a given column key:
    r + k1, the odd multiplier, the xor with the key and the mixing steps each are), so the row
    never breaks a tie and the test is row_key(r2) < row_key(r)."""
    wide_vectors()
    own_function()
    for j in range(n):
        t = _U(o) + _U(j)
        kr[j] = row_key(add32(r0, qt[t]), kt[t], k1)
        rank[j] = _u(0)
    for r2 in range(rows):
        u2 = to_u32(r2)
        for j in range(n):
            k2 = row_key(u2, kt[_U(o) + _U(j)], k1)
            rank[j] = add32(rank[j], to_u32(k2 < kr[j]))
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


MASK_SMALL, MASK_ROUNDS4, MASK_ROUNDS6 = 0, 1, 2  #: ``mask_kind``: which mask loop a tensor needs


def mask_kind(rows, h):
    """The mask loop of a tensor of ``rows`` rows (``sparse_domain``'s ``h``): ranking row keys
    (rows <= SMALL_ROWS), or a Feistel network of 6 or 4 rounds (``rounds_for``). Plain Python,
    compiled for kernels too (``_mask_kind``)."""
    if rows <= SMALL_ROWS:
        return MASK_SMALL
    return MASK_ROUNDS6 if h <= SIX_ROUNDS_H else MASK_ROUNDS4


_mask_kind = njit(inline="always")(mask_kind)


def mask_by(kind, dst, off, n, r0, kt, qt, o, rows, nz, h, dl, k1, nudge, scratch):
    """The mask loop ``kind`` (``mask_kind``) over a block: only that loop is compiled when
    ``kind`` is a ``blocks.variant``, else, for an int64, the three behind a run-time test."""


@overload(mask_by)
def _mask_by(kind, dst, off, n, r0, kt, qt, o, rows, nz, h, dl, k1, nudge, scratch):
    k = variant_of(kind)
    if k == MASK_SMALL:
        def impl(kind, dst, off, n, r0, kt, qt, o, rows, nz, h, dl, k1, nudge, scratch):
            _mask_small(dst, off, n, r0, kt, qt, o, rows, nz, k1, nudge, scratch[1], scratch[2])
    elif k is not None:
        loop = _mask_rows6 if k == MASK_ROUNDS6 else _mask_rows4

        def impl(kind, dst, off, n, r0, kt, qt, o, rows, nz, h, dl, k1, nudge, scratch):
            bad, ys, idx, kb, qb, wy, wk, tail = scratch
            loop(dst, off, n, r0, kt, qt, o, rows, nz, h, dl, k1, nudge, bad, ys, idx, wy, wk, tail)
    else:
        def impl(kind, dst, off, n, r0, kt, qt, o, rows, nz, h, dl, k1, nudge, scratch):
            # an int64: the variant for this tensor's rows (blocks.variant's types)
            m = _mask_kind(rows, h)
            if m == MASK_SMALL:
                mask_by(np.int8(MASK_SMALL), dst, off, n, r0, kt, qt, o, rows, nz, h, dl, k1, nudge, scratch)
            elif m == MASK_ROUNDS4:
                mask_by(np.int16(MASK_ROUNDS4), dst, off, n, r0, kt, qt, o, rows, nz, h, dl, k1, nudge, scratch)
            else:
                mask_by(np.int32(MASK_ROUNDS6), dst, off, n, r0, kt, qt, o, rows, nz, h, dl, k1, nudge, scratch)
    return impl


@njit(forceinline=True, error_model="numpy")
def mask_block(dst, off, first, n, rows, cols, nz, h, dl, k0, k1, nudge, scratch, tables, kind):
    """Zero the chosen elements of the block that starts at flat index ``first`` (held at
    dst[off:]); ``n`` of its elements lie inside the tensor (rows, cols, nz, h, dl, k0, k1 and
    nudge (0 or 1) uint32); ``scratch`` from ``mask_scratch()``; ``tables`` the call's shared
    ``column_tables`` (empty: none, this block makes its own); ``kind`` the mask loop
    (``mask_kind``)."""
    bad, ys, idx, kb, qb, wy, wk, tail = scratch
    kt, qt = tables
    r0 = to_u32(first // np.int64(cols))
    c0 = to_u32(first % np.int64(cols))
    o = c0
    if kt.size == 0:
        column_tables(kb, qb, c0, n, cols, k0)
        kt, qt, o = kb, qb, _u(0)
    mask_by(kind, dst, off, n, r0, kt, qt, o, rows, nz, h, dl, k1, nudge, scratch)


@njit(inline="always")
def mask_scratch(dst):
    """Per-task scratch of ``mask_block``: walk flags, six word arrays (pass results, indices,
    a block's own column tables, keep words and walk states, walk keys) and a step of ``dst``'s
    elements (short cut blocks)."""
    return (np.zeros(BLOCK, np.uint8), np.empty(BLOCK, np.uint32), np.empty(BLOCK + 16, np.uint32),
            np.empty(BLOCK, np.uint32), np.empty(BLOCK, np.uint32), np.empty(BLOCK, np.uint32),
            np.empty(BLOCK, np.uint32), np.empty(STEP, dst.dtype))


@njit(inline="always")
def shared_tables(cols, k0, n):
    """The ``column_tables`` of every block of a call filling ``n`` elements, made once: when
    they are small (cols <= TABLE_COLS) and cost less than the elements (cols + BLOCK <= n);
    else empty arrays (each block makes its own)."""
    m = np.int64(cols) + BLOCK if np.int64(cols) <= TABLE_COLS and np.int64(cols) + BLOCK <= n else 0
    kt = np.empty(m, np.uint32)
    qt = np.empty(m, np.uint32)
    if m > 0:
        column_tables(kt, qt, _u(0), m, cols, k0)
    return kt, qt


@njit(parallel=True, cache=True, nogil=True, error_model="numpy")
def fill_sparse(out, seed, start, rows, cols, nz, std, h, dl, kind):
    """Fill the flat ``out`` with the elements ``start`` gives (``blocks``) of a sparse (rows, cols)
    tensor: the normal fill N(0, std) for ``seed``, then ``nz`` zeros per column (module
    docstring). ``h`` and ``dl`` size the Feistel domain (``sparse_domain``); 1 <= rows, cols < 2**32
    (checked by ``fastinit.sparse``: kernels never raise); ``kind`` is ``mask_kind(rows, h)``, as
    ``blocks.variant(kind)`` to compile only that mask loop (``mask_by``), or an int64 for all three."""
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
    tables = shared_tables(ucols, k0, out.size)
    means = value_means(np.zeros(LANES), out)
    for t in prange(nt):
        wide_vectors()  # zmm where the CPU has AVX-512 (simd)
        tmp = np.empty(BLOCK, out.dtype)
        scratch = mask_scratch(out)
        lo, hi = task_blocks(t, nt, nu)
        for u in range(u0 + lo, u0 + hi):
            w = locate(start, out.size, u)
            b = w[0]
            if b < 0:  # a span's unit past its run's end
                continue
            dst, off, p0, p1 = target(out, tmp, w, False)
            normal_unit(dst, off, seed, b, means, std, p0, p1)
            first = b * BLOCK
            a = max(first, w[2]) - first  # the elements of the block the output needs
            z = min(first + BLOCK, w[3]) - first
            mask_block(dst, off + a, first + a, z - a, urows, ucols, unz, uh, udl, k0, k1, nudge,
                       scratch, tables, kind)
            finish(out, tmp, w)


def sparse_domain(rows):
    """(h, dl): the Feistel domain Z_dl x Z_(2**h) that covers [0, rows) with dl * 2**h < 2 rows
    and dl * 2**h - rows < 2**h, so cycle-walking is rare; dl <= 2**16. ``rows`` below 2**32."""
    if rows >= 2**32:
        raise ValueError(f"sparse: rows must be below 2**32, got {rows}")
    k = max(int(rows - 1).bit_length(), 1)
    h = k // 2
    return h, -(-rows // (1 << h))
