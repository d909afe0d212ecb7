"""The parallel block driver every CPU kernel shares, and the writer of each output dtype.

A kernel fills ``out`` (a flat view) with elements of the whole tensor, given by ``start``:

- an integer: the elements ``[start, start + out.size)`` (a whole tensor, or a block of rows);
- a *span* (:func:`span`, an int64 array): any N-d block of the tensor, as runs of ``L``
  consecutive elements (the block's extent along its first partial axis times the whole
  trailing axes), run ``r`` starting at the flat index ``base + sum(i_k * stride_k)`` for the
  block's multi-index ``i`` over its leading axes, in C order; ``out`` holds the runs' elements
  ``[at, at + out.size)`` of the block, one after another (a chunk of a non-contiguous output).

Work is cut into *units*: with an integer ``start``, the blocks of ``BLOCK`` elements the range
touches; with a span, ``(run, j)``, the ``j``-th block of a run (``M`` per run, some empty).
Blocks that lie wholly inside are generated in place; those cut by a run's ends are generated
into a per-task scratch block and the overlap copied; a cut block generates only the positions
its run needs (``target``: the stream outputs before them are stepped over, their values never
computed), so a run costs its elements plus at most one block of random-number steps. Units are
dealt to ``prange`` tasks in contiguous runs; a block's values depend only on its index, so
neither the task count nor the thread count can change the output.
"""
import numpy as np
from numba import njit, types
from numba.extending import overload

from .bits import f32_to_bf16_bits, f32_to_f16_bits
from .rng import BLOCK, LANES, seed_lanes
from .simd import STREAM_BYTES, address, stack_lanes_u64

MAX_TASKS = 256  # enough tasks to balance any core count, few enough that scratch allocation is free

# span layout: [base, L, M, at, nlead, extent_0 .. extent_(nlead-1), stride_0 .. stride_(nlead-1)]
_BASE, _LEN, _PER_RUN, _AT, _NLEAD, _DIMS = range(6)


def span(base: int, run: int, extents, strides, at: int = 0) -> np.ndarray:
    """The span of runs of ``run`` elements starting at flat index ``base + sum(i_k *
    strides[k])``, ``i`` over ``extents`` in C order, of which the kernel's ``out`` holds the
    elements from ``at`` on (plain Python: built once per call)."""
    per_run = (run + BLOCK - 2) // BLOCK + 1 if run > 0 else 0  # blocks a run of ``run`` touches, at most
    return np.array([base, run, per_run, at, len(extents), *extents, *strides], np.int64)


def plan(start, n):
    """(first unit, unit count, task count) for the ``n`` elements of ``out`` given by ``start``."""


@overload(plan, inline="always")
def _plan(start, n):
    if isinstance(start, types.Integer):
        def impl(start, n):
            if n == 0:
                return 0, 0, 0
            b0 = start // BLOCK
            nb = (start + n - 1) // BLOCK - b0 + 1
            return b0, nb, min(nb, MAX_TASKS)
    else:
        def impl(start, n):
            u0, nu = span_units(start, n)
            return u0, nu, min(nu, MAX_TASKS)
    return impl


@njit(cache=True)
def span_units(sp, n):
    """(first unit, unit count) of the span ``sp`` for an output of ``n`` elements (the GPU's
    launch size too)."""
    if n == 0:
        return 0, 0
    run, at = sp[_LEN], sp[_AT]
    r0 = at // run
    return r0 * sp[_PER_RUN], ((at + n - 1) // run - r0 + 1) * sp[_PER_RUN]


@njit(inline="always")
def task_blocks(t, ntasks, nunits):
    """The run [lo, hi) of unit numbers (relative to the first) that task ``t`` generates."""
    return t * nunits // ntasks, (t + 1) * nunits // ntasks


def locate(start, n, u):
    """Unit ``u`` as (block, shift, lo, hi): the global block to generate (-1: none), and the
    flat tensor elements [lo, hi) it may write, element ``i`` going to ``out[i + shift]``."""


@overload(locate, inline="always")
def _locate(start, n, u):
    if isinstance(start, types.Integer):
        def impl(start, n, u):
            return u, -start, start, start + n
    else:
        return lambda start, n, u: span_locate(start, n, u)
    return impl


def locate_in_span(sp, n, u):
    """:func:`locate` for a span; plain Python, compiled for the CPU here (``span_locate``) and
    for the GPU by ``fastinit.cuda.thread`` (a device function, which the CUDA simulator can
    also run on its arrays)."""
    run, per_run, at, nlead = sp[_LEN], sp[_PER_RUN], sp[_AT], sp[_NLEAD]
    r = u // per_run
    s = sp[_BASE]
    rem = r
    for k in range(nlead - 1, -1, -1):
        d = sp[_DIMS + k]
        s += (rem % d) * sp[_DIMS + nlead + k]
        rem //= d
    lo = s + max(0, at - r * run)  # the run, cut to the output's [at, at + n)
    hi = s + min(run, at + n - r * run)
    b = lo // BLOCK + u % per_run
    if b * BLOCK >= hi or lo >= hi:  # past the run's end, or past the output's (a GPU's spare threads)
        b = -1
    return b, r * run - s - at, lo, hi


span_locate = njit(inline="always")(locate_in_span)


@njit(inline="always")
def block_lanes(seed, block):
    """(s0, s1): the states of ``block``'s ``LANES`` streams (``rng.seed_lanes``), in the stack
    frame of the function this is inlined into (a kernel's unit): inlined into its Numba IR, so
    the arrays are the caller's (``simd.stack_lanes_u64``)."""
    s0 = stack_lanes_u64()
    s1 = stack_lanes_u64()
    seed_lanes(seed, block, s0, s1)
    return s0, s1


@njit(inline="always")
def whole(w):
    """Whether the block of ``w = locate(...)`` lies wholly inside the output (generated in place)."""
    b, shift, lo, hi = w
    first = b * BLOCK
    return first >= lo and first + BLOCK <= hi


@njit(inline="always")
def target(out, tmp, w, stream):
    """What to generate for ``w = locate(...)``: (array, offset, p0, p1), the block into
    (out, its offset) when it lies wholly inside, else into (tmp, 0), and the positions
    [p0, p1) of each lane it must hold ((0, POSITIONS) for a whole block). A cut block's
    kernels skip the stream outputs before p0 (their values are never computed) and stop after
    p1, so a short run costs little more than its elements. With ``stream`` (``streams``),
    whole blocks go to ``tmp`` too: the kernel writes them out by streaming stores as it
    generates them (``simd.stream_lines``)."""
    b, shift, lo, hi = w
    first = b * BLOCK
    if whole(w):
        return (tmp, 0, 0, BLOCK // LANES) if stream else (out, first + shift, 0, BLOCK // LANES)
    return tmp, 0, (max(first, lo) - first) // LANES, (min(first + BLOCK, hi) - first - 1) // LANES + 1


@njit(inline="always")
def finish(out, tmp, w):
    """Copy the part of a cut block from the scratch block into ``out`` (no-op for whole blocks)."""
    b, shift, lo, hi = w
    if whole(w):
        return
    first = b * BLOCK
    a = max(first, lo)
    z = min(first + BLOCK, hi)
    out[a + shift:z + shift] = tmp[a - first:z - first]


@njit(inline="always")
def streams(out):
    """Whether ``out`` is far larger than the caches (``simd.STREAM_BYTES`` and more) and aligned to
    its itemsize (whole elements before its first line: ``simd.stream_rest``): where a kernel that
    writes faster than memory takes its whole blocks by streaming stores. A task that streamed
    ends with ``simd.store_fence``."""
    return out.size * out.itemsize >= STREAM_BYTES and address(out) % np.uint64(out.itemsize) == np.uint64(0)


#: The integer types that carry a kernel's variant (a proposal, a mask loop) as its *type*
#: (``variant``): Numba compiles a function for each argument type, and picks the compiled one
#: at C speed, so a Python caller gets only that variant compiled, where a literal value
#: (``numba.literally``) re-types the kernel on every call (50 ms).
VARIANT_TYPES = (np.int8, np.int16, np.int32)


def variant(k: int):
    """Variant ``k`` (0, 1 or 2) of a kernel, as the argument that selects it at compile time."""
    return VARIANT_TYPES[k](k)


def variant_of(arg):
    """The variant a kernel argument's Numba type selects (``variant``), or None for a plain
    int64: the kernel then picks the variant at run time, all of them compiled. The type alone
    decides: pass a variant only as ``variant(k)`` (an ``np.int32(0)`` would select variant 2)."""
    if isinstance(arg, types.Integer) and arg.bitwidth < 64:
        return {8: 0, 16: 1, 32: 2}[arg.bitwidth]
    return None


@njit(inline="always")
def put_range(dst, off, src, a, b):
    """``put(dst, off + i, src[i])`` for i in [a, b): a block of float32 values rounded into a
    16-bit block (normal's and the truncated normal's 16-bit outputs)."""
    for i in range(a, b):
        # unsigned indexes: a signed src[i] (i from a run-time start) kept numpy's negative-index
        # wraparound, which LLVM vectorized as gathers (0.75 ns/element)
        put(dst, np.uint64(off) + np.uint64(i), src[np.uint64(i)])


def put(dst, i, v):
    """``dst[i] = v`` in ``dst``'s format: float16 outputs arrive as uint16 views (IEEE bits),
    bfloat16 ones as int16 views (the float32 value rounded to nearest, ties to even)."""


@overload(put, jit_options={"forceinline": True})
def _put(dst, i, v):
    if dst.dtype == types.uint16:
        def impl(dst, i, v):
            dst[i] = f32_to_f16_bits(v)
    elif dst.dtype == types.int16:
        def impl(dst, i, v):
            dst[i] = f32_to_bf16_bits(v)
    else:
        def impl(dst, i, v):
            dst[i] = v
    return impl

