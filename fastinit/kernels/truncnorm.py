"""Truncated normal fill: N(mean, std) restricted to [lo, hi], by exact rejection.

The Python side (``fastinit.fills``) standardizes the bounds to [a, b] and picks one of three
proposals by expected acceptance (Robert 1995); ``p`` = (mean, std, a, b, lam, lo, width, m, ilam):
- ``NORMAL``: z from the normal kernel's Box-Muller pairs (``normal.normal_pair32/64``), value
  ``fma(std, z, mean)``; for intervals around 0 at least sqrt(2*pi) wide.
- ``UNIFORM``: a value v uniform on [lo, lo + width) in output space, kept when
  log w <= (m - z)(m + z)/2 with z = (v - mean) * (1/std) and m the point of [a, b] nearest 0;
  for narrow intervals.
- ``EXPONENTIAL``: z = a + E * ilam with E = -log u exponential and ilam = 1/lam, kept when
  z <= b and -2 log w >= (z - lam)**2, value ``fma(std, z, mean)``; for tails (an interval
  below 0 is mirrored: ``std`` is then negative). Far out in a tail, where the working
  precision's spacing at ``a`` is coarse against the tail's scale 1/lam, the Python side passes
  the same proposal in offset form: ``mean`` the interval's edge, a = 0, b its width and
  ``lam`` the offset lam - a (all standardized), so that z is the distance from the edge,
  computed with full relative precision.
Every candidate is also kept only when its value lies in [vmin, vmax] (the output-dtype values
inside [lo, hi]), so every value is in the support after rounding to the output dtype.

Math is in float32 for 32-bit outputs (float16 values are the float32 values rounded to float16)
and in float64 for float64; the parameters are rounded to that precision and 1/std, 1/lam are
computed in float64 and rounded. Candidates come in rounds of two per lane, from these stream
outputs (words hi, lo of an output x as in ``normal``):
- 32-bit: ``NORMAL``, one output per round (its Box-Muller pair); ``UNIFORM``, one output per
  candidate: v = fma(float32(hi >> 8), width * 2**-24, lo), w = (2 (lo >> 8) + 1)/2**25;
  ``EXPONENTIAL``, one output per candidate: u = ``normal.radius_u32`` (from bits 24-63),
  w = (2 (x mod 2**24) + 1)/2**25.
- float64: ``NORMAL``, two outputs per round (x, y: one Box-Muller pair); ``UNIFORM`` and
  ``EXPONENTIAL``, two outputs (x, y) per candidate: v = fma(x >> 11, width * 2**-53, lo) and
  u = (2 (x >> 12) + 1)/2**53, w = (2 (y >> 12) + 1)/2**53.
Each lane's accepted candidates fill its positions in order; the candidates a lane makes after
its last position is filled are dropped. Rounds run vectorized across lanes in batches of
``rounds`` rounded up to a multiple of 8 (whole tiles of 16 rows; a performance setting only):
a lane's values depend only on its own candidate sequence, never on the batch size. After each
batch, ``compact`` moves the accepted candidates to their lanes' positions: one vector scatter
per row of candidates (``simd.scatter_rows``), or, for float32 and 16-bit outputs where Numba
compiles for AVX-512, by lanes (``simd.lane_rows``: rejected candidates are NaN, 16-bit outputs'
candidates float32, rounded when the block is written out). Large float32 outputs compacted by
lanes are written by streaming stores, each block while the next is made (``streamed``).
"""

import numpy as np
from numba import njit, prange, types
from numba.extending import overload
from numba.np.numpy_support import as_dtype

from .bits import add, and32, fma, i31_to_f32, mul, or32, shl32, shr32, sub, to_u32, u53_to_f64
from .blocks import (block_lanes, finish, locate, plan, put, put_range, streams, target, task_blocks, variant_of,
                     whole)
from .mathfn import log32, log64
from .normal import normal_pair32, normal_pair64, radius_u32, uniform_open64
from .simd import (LANE_STRIDE, aligned_head, avx512, lane_rows, lanes_out, own_function, scatter_rows,
                   stack_block_f32, stack_halves, stack_lane_buffer, stack_lanes_i32, stack_no_buffer, store_fence,
                   stream_lines, stream_out, wide_vectors)
from .rng import BLOCK, LANES, PAIRS, four_outputs, join_lanes, split_lanes, two_outputs32

NORMAL, UNIFORM, EXPONENTIAL = 0, 1, 2
POSITIONS = 2 * PAIRS  # values each lane writes per block
#: Candidates a lane may make for one block before the rest of its positions take the fallback
#: value (the support's value nearest the mean): the bound that makes every fill end, whatever
#: its parameters. ``fastinit.truncated_normal`` only runs the sampler where at least 1 candidate
#: in 2,000 is accepted, so that a lane needs about 512,000 candidates at worst and 2**23 is
#: never reached (a lane would have to see fewer than 256 acceptances where about 4,000 are
#: expected); a fill that reaches it anyway takes about a second per block instead of hanging.
MAX_CANDIDATES = 1 << 23

_U = np.uint64
_u = np.uint32
_f = np.float32
_2M24 = _f(2.0**-24)
_2M25 = _f(2.0**-25)
_2M53 = 2.0**-53
_u1, _u8 = _u(1), _u(8)
_M24 = _u(0xFFFFFF)
_NAN = _f(np.nan)


@njit(error_model="numpy", forceinline=True)
def w_u32(k):
    """(2k + 1)/2**25 for a 24-bit k: a float32 in (0, 1), exactly."""
    return mul(i31_to_f32(or32(shl32(k, _u1), _u1)), _2M25)


# --- one proposal's candidates from their stream outputs: shared by the CPU loops below and the
# GPU kernel (fastinit.cuda); each returns the value(s) and whether each is kept. Their float
# arithmetic is fma and bits.mul/add/sub only: on the GPU, a plain (v - mean) * istd contracted
# into m - z would round once less, could flip the test and shift the rest of the stream ---------

@njit(error_model="numpy", forceinline=True)
def normal_cands32(xh, xl, mean, std, vlo, vhi):
    """Two NORMAL candidates from one output's words: v = fma(std, z, mean)."""
    z0, z1 = normal_pair32(xh, xl)
    v0 = fma(std, z0, mean)
    v1 = fma(std, z1, mean)
    return v0, to_u32((v0 >= vlo) & (v0 <= vhi)), v1, to_u32((v1 >= vlo) & (v1 <= vhi))


@njit(error_model="numpy", forceinline=True)
def uniform_cand32(xh, xl, mean, istd, lo, m, wsc, vlo, vhi):
    """One UNIFORM candidate from one output's words."""
    v = fma(i31_to_f32(shr32(xh, _u8)), wsc, lo)
    z = mul(sub(v, mean), istd)
    k = log32(w_u32(shr32(xl, _u8))) <= mul(_f(0.5), mul(sub(m, z), add(m, z)))
    return v, to_u32(k & (v >= vlo) & (v <= vhi))


@njit(error_model="numpy", forceinline=True)
def exponential_cand32(xh, xl, mean, std, a, b, lam, ilam, vlo, vhi):
    """One EXPONENTIAL candidate from one output's words."""
    z = fma(-log32(radius_u32(xh, xl)), ilam, a)
    d = sub(z, lam)
    k = (z <= b) & (mul(_f(-2.0), log32(w_u32(and32(xl, _M24)))) >= mul(d, d))
    v = fma(std, z, mean)
    return v, to_u32(k & (v >= vlo) & (v <= vhi))


@njit(error_model="numpy", forceinline=True)
def normal_cands64(x, y, mean, std, vmin, vmax):
    """Two NORMAL candidates from two outputs."""
    z0, z1 = normal_pair64(x, y)
    v0 = fma(std, z0, mean)
    v1 = fma(std, z1, mean)
    return v0, to_u32((v0 >= vmin) & (v0 <= vmax)), v1, to_u32((v1 >= vmin) & (v1 <= vmax))


@njit(error_model="numpy", forceinline=True)
def uniform_cand64(x, y, mean, istd, lo, m, wsc, vmin, vmax):
    """One UNIFORM candidate from two outputs."""
    v = fma(u53_to_f64(x >> _U(11)), wsc, lo)
    z = mul(sub(v, mean), istd)
    k = log64(uniform_open64(y)) <= mul(0.5, mul(sub(m, z), add(m, z)))
    return v, to_u32(k & (v >= vmin) & (v <= vmax))


@njit(error_model="numpy", forceinline=True)
def exponential_cand64(x, y, mean, std, a, b, lam, ilam, vmin, vmax):
    """One EXPONENTIAL candidate from two outputs."""
    z = fma(-log64(uniform_open64(x)), ilam, a)
    d = sub(z, lam)
    k = (z <= b) & (mul(-2.0, log64(uniform_open64(y))) >= mul(d, d))
    v = fma(std, z, mean)
    return v, to_u32(k & (v >= vmin) & (v <= vmax))


@njit(error_model="numpy", forceinline=True)
def marked(v, k):
    """A float32 candidate as stored: ``v`` if kept (``k``), else NaN (how ``simd.lane_rows`` tells
    them apart; ``ok`` tells ``simd.scatter_rows``). A kept value is never NaN."""
    return v if k != _u(0) else _NAN


@njit(inline="always")
def write_back(back, sent, lines):
    """Stream ``lines`` more 64-byte lines of the block being written out, ``back`` = (out, at,
    src, end): ``out[at:at + end] = src[:end]``, whole lines from ``sent`` on (``simd.stream_lines``);
    returns how far that reached. ``end`` is 0 when no block is being written out (then nothing
    is). A candidate loop calls it once a step, a line per row of candidates (float32 lines,
    the only ones ``streamed``), so that the block's streaming stores drain while the next
    block's candidates are made."""
    out, at, src, end = back
    return stream_lines(out, at, src, sent, min(sent + _U(lines * LANES), end))


def _normal32(s0, s1, cand, ok, p, vmin, vmax, back, sent):
    wide_vectors()
    own_function()
    h = stack_halves()  # on the stack: heap arrays cost ~150 ns per batch
    s0h, s0l, s1h, s1l = h
    split_lanes(s0, s1, s0h, s0l, s1h, s1l)
    mean, std = _f(p[0]), _f(p[1])
    vlo = _f(vmin)
    vhi = _f(vmax)
    for r in range(cand.size // (4 * LANES)):  # two outputs a step: two dependency chains
        q = _U(4 * LANES * r)
        for lane in range(s0h.size):
            xh, xl, yh, yl = two_outputs32(h, lane)
            v0, k0, v1, k1 = normal_cands32(xh, xl, mean, std, vlo, vhi)
            v2, k2, v3, k3 = normal_cands32(yh, yl, mean, std, vlo, vhi)
            put(cand, q + _U(lane), marked(v0, k0))
            put(cand, q + _U(LANES + lane), marked(v1, k1))
            put(cand, q + _U(2 * LANES + lane), marked(v2, k2))
            put(cand, q + _U(3 * LANES + lane), marked(v3, k3))
            if not by_lanes(cand):  # (a constant) lane_rows reads the NaNs instead
                ok[q + _U(lane)] = k0
                ok[q + _U(LANES + lane)] = k1
                ok[q + _U(2 * LANES + lane)] = k2
                ok[q + _U(3 * LANES + lane)] = k3
        sent = write_back(back, sent, 4)
    join_lanes(s0h, s0l, s1h, s1l, s0, s1)
    return sent


def _each_output32(params, make):
    """The float32 candidate loop of a proposal that makes one candidate per stream output
    (UNIFORM, EXPONENTIAL), two outputs a step: ``params(p)`` is its parameters in float32 (a
    tuple, made once before the loop), ``make(xh, xl, q, vlo, vhi)`` one candidate and whether
    it is kept."""
    def loop(s0, s1, cand, ok, p, vmin, vmax, back, sent):
        wide_vectors()
        own_function()
        h = stack_halves()  # on the stack: heap arrays cost ~150 ns per batch
        s0h, s0l, s1h, s1l = h
        split_lanes(s0, s1, s0h, s0l, s1h, s1l)
        q = params(p)
        vlo = _f(vmin)
        vhi = _f(vmax)
        for r in range(cand.size // (2 * LANES)):
            row = _U(2 * LANES * r)
            for lane in range(s0h.size):
                xh, xl, yh, yl = two_outputs32(h, lane)
                v0, k0 = make(xh, xl, q, vlo, vhi)
                v1, k1 = make(yh, yl, q, vlo, vhi)
                put(cand, row + _U(lane), marked(v0, k0))
                put(cand, row + _U(LANES + lane), marked(v1, k1))
                if not by_lanes(cand):
                    ok[row + _U(lane)] = k0
                    ok[row + _U(LANES + lane)] = k1
            sent = write_back(back, sent, 2)
        join_lanes(s0h, s0l, s1h, s1l, s0, s1)
        return sent
    return loop


@njit(error_model="numpy", forceinline=True)
def _uniform_params32(p):
    return _f(p[0]), _f(1.0 / p[1]), _f(p[5]), _f(p[7]), _f(p[6]) * _2M24  # mean, istd, lo, m, wsc


@njit(error_model="numpy", forceinline=True)
def _uniform_one32(xh, xl, q, vlo, vhi):
    return uniform_cand32(xh, xl, q[0], q[1], q[2], q[3], q[4], vlo, vhi)


@njit(error_model="numpy", forceinline=True)
def _exponential_params32(p):
    return _f(p[0]), _f(p[1]), _f(p[2]), _f(p[3]), _f(p[4]), _f(p[8])  # mean, std, a, b, lam, ilam


@njit(error_model="numpy", forceinline=True)
def _exponential_one32(xh, xl, q, vlo, vhi):
    return exponential_cand32(xh, xl, q[0], q[1], q[2], q[3], q[4], q[5], vlo, vhi)


_uniform32 = _each_output32(_uniform_params32, _uniform_one32)
_exponential32 = _each_output32(_exponential_params32, _exponential_one32)


def _normal64(s0, s1, cand, ok, p, vmin, vmax, back, sent):
    wide_vectors()
    own_function()
    mean, std = p[0], p[1]
    for r in range(cand.size // (4 * LANES)):  # two pairs a step: two dependency chains
        q = _U(4 * LANES * r)
        for lane in range(s0.size):
            x, y, x2, y2 = four_outputs(s0, s1, lane)
            v0, k0, v1, k1 = normal_cands64(x, y, mean, std, vmin, vmax)
            v2, k2, v3, k3 = normal_cands64(x2, y2, mean, std, vmin, vmax)
            cand[q + _U(lane)] = v0
            cand[q + _U(LANES + lane)] = v1
            cand[q + _U(2 * LANES + lane)] = v2
            cand[q + _U(3 * LANES + lane)] = v3
            ok[q + _U(lane)] = k0
            ok[q + _U(LANES + lane)] = k1
            ok[q + _U(2 * LANES + lane)] = k2
            ok[q + _U(3 * LANES + lane)] = k3
    return sent  # never written out by streaming stores (``streamed``)


def _two_outputs64(params, make):
    """The float64 candidate loop of a proposal that makes one candidate from two stream outputs
    (UNIFORM, EXPONENTIAL), two candidates a step: ``params(p)`` its parameters (a tuple),
    ``make(x, y, q, vmin, vmax)`` one candidate and whether it is kept."""
    def loop(s0, s1, cand, ok, p, vmin, vmax, back, sent):
        wide_vectors()
        own_function()
        q = params(p)
        for r in range(cand.size // (2 * LANES)):
            row = _U(2 * LANES * r)
            for lane in range(s0.size):
                x0, y0, x1, y1 = four_outputs(s0, s1, lane)
                v0, k0 = make(x0, y0, q, vmin, vmax)
                v1, k1 = make(x1, y1, q, vmin, vmax)
                cand[row + _U(lane)] = v0
                cand[row + _U(LANES + lane)] = v1
                ok[row + _U(lane)] = k0
                ok[row + _U(LANES + lane)] = k1
        return sent  # never written out by streaming stores (``streamed``)
    return loop


@njit(error_model="numpy", forceinline=True)
def _uniform_params64(p):
    return p[0], 1.0 / p[1], p[5], p[7], p[6] * _2M53  # mean, istd, lo, m, wsc


@njit(error_model="numpy", forceinline=True)
def _uniform_one64(x, y, q, vmin, vmax):
    return uniform_cand64(x, y, q[0], q[1], q[2], q[3], q[4], vmin, vmax)


@njit(error_model="numpy", forceinline=True)
def _exponential_params64(p):
    return p[0], p[1], p[2], p[3], p[4], p[8]  # mean, std, a, b, lam, ilam


@njit(error_model="numpy", forceinline=True)
def _exponential_one64(x, y, q, vmin, vmax):
    return exponential_cand64(x, y, q[0], q[1], q[2], q[3], q[4], q[5], vmin, vmax)


_uniform64 = _two_outputs64(_uniform_params64, _uniform_one64)
_exponential64 = _two_outputs64(_exponential_params64, _exponential_one64)


def _by_width(f32, f64):
    """A function of (s0, s1, cand, ok, p, vmin, vmax), for jitted code, running ``f64`` for
    float64 candidates and ``f32`` for the others (float32; float16 and bfloat16 outputs' bits,
    or their float32 values where ``by_lanes``). It is compiled as a
    function of its own (not inlined into the kernel): optimized alone, its candidate loop
    vectorizes, which it did not inside the kernel next to the other proposals' loops. Each
    loop says so itself (``own_function``: also a 64-byte aligned frame for its spills) and
    asks for 512-bit vectors (``wide_vectors``: LLVM prefers 256 on some AVX-512 CPUs)."""
    # jitted once each: returned by the overload directly, they were compiled twice per kernel
    # (once where the kernel is typed, once more where its prange body is), each time in full
    j32 = njit(error_model="numpy", nogil=True)(f32)
    j64 = njit(error_model="numpy", nogil=True)(f64)

    def dispatch(s0, s1, cand, ok, p, vmin, vmax, back, sent):
        pass

    @overload(dispatch)
    def _dispatch(s0, s1, cand, ok, p, vmin, vmax, back, sent):
        if cand.dtype.bitwidth == 64:
            return lambda s0, s1, cand, ok, p, vmin, vmax, back, sent: j64(s0, s1, cand, ok, p, vmin, vmax, back, sent)
        return lambda s0, s1, cand, ok, p, vmin, vmax, back, sent: j32(s0, s1, cand, ok, p, vmin, vmax, back, sent)

    return dispatch


_normal = _by_width(_normal32, _normal64)
_uniform = _by_width(_uniform32, _uniform64)
_exponential = _by_width(_exponential32, _exponential64)


def by_lanes(dst):
    """Whether ``dst``'s blocks are compacted by lanes (``simd.lane_rows``: float32 and 16-bit
    outputs, whose candidates are then float32, where Numba compiles for AVX-512) rather than by
    ``simd.scatter_rows`` (a compile-time constant). Asked of a batch's ``cand`` too: it is
    float32 exactly where its output's blocks are compacted by lanes (``candidates``)."""


def _lanes(dst):
    return dst.dtype in (types.float32, types.uint16, types.int16) and avx512()


@overload(by_lanes)
def _by_lanes(dst):
    lanes = _lanes(dst)
    return lambda dst: lanes


def lane_buffer(dst):
    """``lane_rows``' buffer in the caller's stack frame where ``by_lanes(dst)``, else one element."""


@overload(lane_buffer, inline="always")
def _lane_buffer(dst):
    if _lanes(dst):
        return lambda dst: stack_lane_buffer()
    return lambda dst: stack_no_buffer()


def take_rows(dst, off, buf, cand, ok, count, rows, need):
    """The first ``rows`` rows of candidates into the lanes' positions: by ``simd.lane_rows``
    into ``buf`` where ``by_lanes(dst)``, else by ``simd.scatter_rows`` into the block."""


@overload(take_rows)
def _take_rows(dst, off, buf, cand, ok, count, rows, need):
    if _lanes(dst):
        return lambda dst, off, buf, cand, ok, count, rows, need: lane_rows(buf, cand, count, rows, need)
    return lambda dst, off, buf, cand, ok, count, rows, need: scatter_rows(dst, _U(off), cand, ok, count, rows, need)


def put_position(dst, off, buf, lane, i, v):
    """Position ``i`` of lane ``lane`` set to ``v``: in ``buf`` where ``by_lanes(dst)``, else in the block."""


@overload(put_position)
def _put_position(dst, off, buf, lane, i, v):
    if _lanes(dst):
        def impl(dst, off, buf, lane, i, v):
            buf[lane * LANE_STRIDE + i] = v
    else:
        def impl(dst, off, buf, lane, i, v):
            put(dst, _U(off) + _U(i * LANES + lane), v)
    return impl


def lanes_to_block(dst, off, buf, need):
    """Where ``by_lanes(dst)``, the first ``need`` positions of every lane from ``buf`` to the block
    at ``dst[off:]`` (``simd.lanes_out``; whole tiles of 16 positions: a cut block's scratch has
    room); else nothing (``scatter_rows`` wrote the block)."""


@overload(lanes_to_block)
def _lanes_to_block(dst, off, buf, need):
    if not _lanes(dst):
        return lambda dst, off, buf, need: None
    if dst.dtype == types.float32:
        return lambda dst, off, buf, need: lanes_out(dst, _U(off), buf, _U((need + LANES - 1) // LANES))

    def impl(dst, off, buf, need):  # 16-bit: float32 values, then rounded (as normal's 16-bit blocks)
        scratch = stack_block_f32()
        tiles = (need + LANES - 1) // LANES
        lanes_out(scratch, _U(0), buf, _U(tiles))
        put_range(dst, off, scratch, 0, LANES * need)  # the positions below need: all written
    return impl


def streamed(out):
    """Whether ``out``'s whole blocks are made in scratch and written out by streaming stores
    when it is large (``blocks.streams``): float32 outputs compacted by lanes (a compile-time
    constant). ``lanes_out`` writes such a block all at once, at its end: plain stores of it to
    memory not in the cache (each line read first) took a third as long as making it (0.17
    against 0.51 ns an element on one Zen 5 core). Instead the task keeps the block and the
    next block's candidate loops stream it out a line per row (``write_back``): the stores
    drain while candidates are made (+15-19% on [-2, 2]; streamed all at once, +12%). 16-bit
    outputs streamed so gained 5% on [-2, 2] and lost 0-3% on tails, and the scatter path
    (``scatter_rows``) writes as it goes: they keep plain stores."""


@overload(streamed)
def _streamed(out):
    s = out.dtype == types.float32 and _lanes(out)
    return lambda out: s


def candidates(out, rounds):
    """A task's batch arrays (cand, ok) for ``rounds`` rounds of candidates, rounded up to a
    multiple of 8: the NORMAL loops take two rounds a step, ``lane_rows`` 16 rows a tile.
    ``cand`` is float32 where ``by_lanes(out)`` (16-bit outputs' values before rounding), else
    of ``out``'s dtype; ``ok`` is empty there (the NaNs tell), else one uint32 a candidate."""


@overload(candidates, inline="always")
def _candidates(out, rounds):
    lanes = _lanes(out)
    dtype = np.float32 if lanes else as_dtype(out.dtype)

    def impl(out, rounds):
        n = (rounds + 7) // 8 * 16 * LANES
        return np.empty(n, dtype), np.empty(0 if lanes else n, np.uint32)
    return impl


@njit(inline="always")
def compact(dst, off, cand, ok, count, first, fallback, need, buf):
    """Write each lane's accepted candidates to its next free positions below ``need`` in the
    block held at dst[off:] (``by_lanes``: in ``buf``, which ``lanes_to_block`` writes to the
    block once it is full); returns the fewest positions any lane has filled. ``count`` (int32,
    one per lane) holds the positions each lane has filled. Reads the batch in order, candidate
    row by candidate row (all lanes), so it streams through the batch once, and stops at the
    row (``by_lanes``: the tile of 16 rows) where every lane has ``need`` positions
    (``take_rows``). Row ``q`` holds every lane's candidate number ``first + q``; from number
    ``MAX_CANDIDATES`` on, a lane takes ``fallback`` for each candidate instead (see
    ``MAX_CANDIDATES``). A cut block needs only its first ``need`` positions: what a lane would
    write past them is never copied out, so it is not written."""
    rows = cand.size // LANES
    live = min(rows, max(MAX_CANDIDATES - first, 0))  # a multiple of 16 rows (fill_truncnorm)
    take_rows(dst, off, buf, cand, ok, count, live, need)
    extra = rows - live  # rows past MAX_CANDIDATES: one fallback value each for a lane not full
    least = need
    for lane in range(LANES):
        pos = count[lane]
        if extra > 0:
            end = min(need, pos + extra)
            for i in range(pos, end):
                put_position(dst, off, buf, lane, i, fallback)
            pos = max(pos, end)
            count[lane] = pos
        least = min(least, pos)
    return least


def fallback_value(out, p, vmin, vmax):
    """The value of the positions past ``MAX_CANDIDATES``: the support's value nearest the mean
    (``p[0]``), as a float32 for 32-bit outputs (``put`` rounds it to float16) and a float64 for
    float64 ones. It is never needed where ``fastinit.truncated_normal`` has checked the
    parameters."""


@overload(fallback_value)
def _fallback_value(out, p, vmin, vmax):
    if out.dtype.bitwidth == 64:
        return lambda out, p, vmin, vmax: min(max(p[0], vmin), vmax)
    return lambda out, p, vmin, vmax: _f(min(max(p[0], vmin), vmax))


def propose(kind, s0, s1, cand, ok, p, vmin, vmax, back, sent):
    """A batch of candidates by the proposal ``kind``: only that proposal's loop is compiled when
    ``kind`` is a ``blocks.variant`` (a first call compiles the one it needs, about 1.6 s less
    than all three), else, for an int64, the three behind a run-time test."""


@overload(propose)
def _propose(kind, s0, s1, cand, ok, p, vmin, vmax, back, sent):
    k = variant_of(kind)
    if k is not None:
        make = {NORMAL: _normal, UNIFORM: _uniform}.get(k, _exponential)
        return lambda kind, s0, s1, cand, ok, p, vmin, vmax, back, sent: make(s0, s1, cand, ok, p, vmin, vmax,
                                                                               back, sent)

    def impl(kind, s0, s1, cand, ok, p, vmin, vmax, back, sent):
        if kind == NORMAL:
            return _normal(s0, s1, cand, ok, p, vmin, vmax, back, sent)
        elif kind == UNIFORM:
            return _uniform(s0, s1, cand, ok, p, vmin, vmax, back, sent)
        return _exponential(s0, s1, cand, ok, p, vmin, vmax, back, sent)
    return impl


@njit(error_model="numpy")
def truncnorm_unit(dst, off, seed, blk, kind, p, vmin, vmax, cand, ok, fb, need, back, sent):
    """Block ``blk`` into ``dst[off:]``, its first ``need`` positions of each lane at least: batches
    of candidates (``cand``, ``ok``) compacted into the lanes' positions until every lane has
    ``need``; meanwhile the candidate loops stream out the block before it (``write_back``:
    ``back``, ``sent``; returns how far that reached). Compiled on its own
    (``simd.own_function``) with 512-bit vectors, its lane states and counts on the stack, as
    ``normal.normal_unit``."""
    wide_vectors()
    own_function()
    s0, s1 = block_lanes(seed, blk)
    buf = lane_buffer(dst)
    count = stack_lanes_i32()
    for lane in range(LANES):
        count[lane] = 0
    least = 0
    first = 0
    while least < need:  # a cut block stops once its last needed position is filled
        sent = propose(kind, s0, s1, cand, ok, p, vmin, vmax, back, sent)
        least = compact(dst, off, cand, ok, count, first, fb, need, buf)
        first += cand.size // LANES
    lanes_to_block(dst, off, buf, need)
    return sent


@njit(parallel=True, cache=True, nogil=True, error_model="numpy")
def fill_truncnorm(out, seed, start, kind, p, vmin, vmax, rounds):
    """Fill the flat ``out`` with the elements ``start`` gives (``blocks``) of a truncated normal
    tensor. ``p`` = (mean, std, a, b, lam, lo, width, m, ilam) as float64, ``std`` signed (mirroring);
    values lie in [vmin, vmax], the output-dtype values inside [lo, hi]; ``rounds`` is the
    number of candidate rounds per batch (speed only; rounded up to a multiple of 8). ``kind`` as
    ``blocks.variant(kind)`` compiles only that proposal (``propose``); as an int64, all three."""
    u0, nu, nt = plan(start, out.size)
    fb = fallback_value(out, p, vmin, vmax)
    stream = streams(out) and streamed(out)
    for t in prange(nt):
        tmp = np.empty(BLOCK, out.dtype)
        done = np.empty(BLOCK if stream else 0, out.dtype)  # a streamed block being written out
        at, head, sent, end = _U(0), _U(0), _U(0), _U(0)  # out[at:at + end] = done[:end]; none yet
        cand, ok = candidates(out, rounds)
        lo_, hi_ = task_blocks(t, nt, nu)
        for u in range(u0 + lo_, u0 + hi_):
            w = locate(start, out.size, u)
            blk = w[0]
            if blk < 0:  # a span's unit past its run's end
                continue
            dst, off, _, need = target(out, tmp, w, stream)
            sent = truncnorm_unit(dst, off, seed, blk, kind, p, vmin, vmax, cand, ok, fb, need,
                                  (out, at, done, end), sent)
            if end > _U(0):  # what the candidate loops left of the block before
                stream_out(out, at, done, head, sent, end)
                end = _U(0)
            finish(out, tmp, w)
            if stream and whole(w):  # streamed while the next block is made
                tmp, done = done, tmp
                at = _U(blk * BLOCK + w[1])
                head = aligned_head(out, at, BLOCK)
                sent, end = head, _U(BLOCK)
        if end > _U(0):
            stream_out(out, at, done, head, sent, end)
        if stream:
            store_fence()
