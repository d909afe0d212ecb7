"""The parallel block driver every CPU kernel shares, and the writer of each output dtype.

A kernel fills ``out`` (a flat view) with the elements ``[start, start + out.size)`` of the whole
tensor. Blocks that lie wholly inside are generated in place; the at most two blocks cut by the
range's ends are generated into a per-task scratch block and the overlap copied. Blocks are dealt
to ``prange`` tasks in contiguous runs; a block's values depend only on its index, so neither the
task count nor the thread count can change the output.
"""
from numba import njit, types
from numba.extending import overload

from .bits import f32_to_bf16_bits, f32_to_f16_bits
from .rng import BLOCK

MAX_TASKS = 256  # enough tasks to balance any core count, few enough that scratch allocation is free


@njit(inline="always")
def plan(start, n):
    """(first block, block count, task count) for elements [start, start + n)."""
    if n == 0:
        return 0, 0, 0
    b0 = start // BLOCK
    nb = (start + n - 1) // BLOCK - b0 + 1
    return b0, nb, min(nb, MAX_TASKS)


@njit(inline="always")
def task_blocks(t, ntasks, nblocks):
    """The run [lo, hi) of block numbers (relative to the first) that task ``t`` generates."""
    return t * nblocks // ntasks, (t + 1) * nblocks // ntasks


@njit(inline="always")
def target(out, tmp, start, block):
    """Where to generate ``block``: (out, offset) when it lies wholly inside, else (tmp, 0)."""
    first = block * BLOCK
    if first >= start and first + BLOCK <= start + out.size:
        return out, first - start
    return tmp, 0


@njit(inline="always")
def finish(out, tmp, start, block):
    """Copy the part of a cut block from the scratch block into ``out`` (no-op for whole blocks)."""
    first = block * BLOCK
    if first >= start and first + BLOCK <= start + out.size:
        return
    lo = max(first, start)
    hi = min(first + BLOCK, start + out.size)
    out[lo - start:hi - start] = tmp[lo - first:hi - first]


def put(dst, i, v):
    """``dst[i] = v`` in ``dst``'s format: float16 outputs arrive as uint16 views (IEEE bits),
    bfloat16 ones as int16 views (the float32 value rounded to nearest, ties to even)."""


@overload(put)
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

