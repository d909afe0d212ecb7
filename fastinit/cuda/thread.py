"""Where a stream kernel's GPU thread stands: its stream, and where its values go. Thread t of a
launch runs stream lane ``t % LANES`` of the block of unit ``u0 + t // LANES`` of the output's
span (``fastinit.kernels.blocks``: the CPU kernels' work units); position p of that stream is
element ``b * BLOCK + p * LANES + lane`` of the tensor (``fastinit.kernels.rng``), stored when
inside the unit's part of the output. Device functions, so that they take the kernels' arrays
on the GPU and in the simulator alike."""
from numba import cuda

from ..kernels.blocks import locate_in_span
from ..kernels.rng import BLOCK, LANES
from .streams import CHUNK


span_locate = cuda.jit(device=True)(locate_in_span)


@cuda.jit(device=True)
def thread_stream(span, u0, n):
    """(block, lane, base, shift, lo, hi) of this thread, of the span's unit ``u0 + t // LANES``
    (``kernels.blocks.span_locate``; ``block`` -1: nothing to do): ``base`` is the output index
    of its position 0, ``[lo, hi)`` the output indices the unit may write, and tensor element
    ``g`` goes to output index ``g + shift``."""
    t = cuda.grid(1)
    lane = t % LANES
    b, shift, lo, hi = span_locate(span, n, u0 + t // LANES)
    return b, lane, b * BLOCK + lane + shift, shift, lo + shift, hi + shift


@cuda.jit(device=True)
def store_chunk(out, vals, base, c, lo, hi):
    """Chunk ``c`` of the thread's values (positions c * CHUNK ...) into ``out[lo:hi]``, those inside it."""
    for j in range(CHUNK):
        i = base + (c * CHUNK + j) * LANES
        if lo <= i < hi:
            out[i] = vals[j]
