"""GPU normal fill, the twin of ``fastinit.kernels.normal``: the same streams and, through the
shared ``normal_values32``/``normal_values64`` (``streams.normal_chunk``), the same values."""
from numba import cuda

from ..kernels.rng import PAIRS
from .streams import CHUNK, normal_chunk, seed_stream
from .thread import store_chunk, thread_stream


@cuda.jit
def normal(out, seed, span, u0, mean_even, mean_odd, std):
    """As ``uniform.uniform``; lanes of even index take ``mean_even``, odd ones ``mean_odd``
    (complex outputs: the real and imaginary means)."""
    b, lane, base, shift, i0, i1 = thread_stream(span, u0, out.size)
    if b < 0:
        return
    m = mean_even if lane % 2 == 0 else mean_odd
    st = cuda.local.array(2, "uint64")
    vals = cuda.local.array(CHUNK, out.dtype)
    seed_stream(seed, b, lane, st)
    for c in range(2 * PAIRS // CHUNK):
        normal_chunk(st, vals, m, std)
        store_chunk(out, vals, base, c, i0, i1)
