"""Where a stream kernel's GPU thread stands: its stream, and where its values go. Thread t of a
launch from fastinit block ``b0`` runs stream lane ``t % LANES`` of block ``b0 + t // LANES``;
position p of that stream is element ``b * BLOCK + p * LANES + lane`` of the tensor (the CPU
kernels' mapping, ``fastinit.kernels.rng``), stored at that index minus ``start`` when inside
the output. Device functions, so that they take the kernels' arrays on the GPU and in the
simulator alike."""
from numba import cuda

from ..kernels.rng import BLOCK, LANES
from .streams import CHUNK


@cuda.jit(device=True)
def thread_stream(b0, start):
    """(block, lane, base) of this thread: ``base`` is the output index of its position 0."""
    t = cuda.grid(1)
    b = b0 + t // LANES
    lane = t % LANES
    return b, lane, b * BLOCK + lane - start


@cuda.jit(device=True)
def store_chunk(out, vals, base, c):
    """Chunk ``c`` of the thread's values (positions c * CHUNK ...) into ``out``, those inside it."""
    for j in range(CHUNK):
        i = base + (c * CHUNK + j) * LANES
        if 0 <= i < out.size:
            out[i] = vals[j]
