"""GPU normal fill, the twin of ``fastinit.kernels.normal``: the same streams and, through the
shared ``normal_values32``/``normal_values64`` (``streams.normal_chunk``), the same values."""
from numba import cuda

from ..kernels.rng import BLOCK, LANES, PAIRS
from .streams import CHUNK, normal_chunk, seed_stream


@cuda.jit
def normal(out, seed, start, b0, mean_even, mean_odd, std):
    """As ``uniform.uniform``; lanes of even index take ``mean_even``, odd ones ``mean_odd``
    (complex outputs: the real and imaginary means)."""
    t = cuda.grid(1)
    b = b0 + t // LANES
    lane = t % LANES
    if b * BLOCK >= start + out.size:
        return
    m = mean_even if lane % 2 == 0 else mean_odd
    st = cuda.local.array(2, "uint64")
    vals = cuda.local.array(CHUNK, out.dtype)
    seed_stream(seed, b, lane, st)
    base = b * BLOCK + lane - start
    for c in range(2 * PAIRS // CHUNK):
        normal_chunk(st, vals, m, std)
        for j in range(CHUNK):
            i = base + (c * CHUNK + j) * LANES
            if 0 <= i < out.size:
                out[i] = vals[j]
