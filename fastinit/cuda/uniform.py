"""GPU uniform fill, the twin of ``fastinit.kernels.uniform``: the same streams and, through the
shared ``uniform_value32``/``uniform_value64`` (``streams.uniform_chunk``), the same values."""
from numba import cuda

from ..kernels.rng import PAIRS
from .streams import CHUNK, seed_stream, uniform_chunk
from .thread import store_chunk, thread_stream


@cuda.jit
def uniform(out, seed, span, u0, lo, sc, vlo, vhi):
    """One thread per stream of the blocks from ``b0`` (``thread.thread_stream``)."""
    b, lane, base, shift, i0, i1 = thread_stream(span, u0, out.size)
    if b < 0:
        return
    st = cuda.local.array(2, "uint64")
    vals = cuda.local.array(CHUNK, out.dtype)
    seed_stream(seed, b, lane, st)
    for c in range(2 * PAIRS // CHUNK):
        uniform_chunk(st, vals, lo, sc, vlo, vhi)
        store_chunk(out, vals, base, c, i0, i1)
