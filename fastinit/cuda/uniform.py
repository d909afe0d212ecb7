"""GPU uniform fill, the twin of ``fastinit.kernels.uniform``: the same streams and, through the
shared ``uniform_value32``/``uniform_value64`` (``streams.uniform_chunk``), the same values."""
from numba import cuda

from ..kernels.rng import BLOCK, LANES, PAIRS
from .streams import CHUNK, seed_stream, uniform_chunk


@cuda.jit
def uniform(out, seed, start, b0, lo, sc, vlo, vhi):
    """One thread per stream of the blocks from ``b0``; position p of block b, lane l, is element
    b * BLOCK + p * LANES + l of the tensor, ``out[that - start]`` when inside ``out``."""
    t = cuda.grid(1)
    b = b0 + t // LANES
    lane = t % LANES
    if b * BLOCK >= start + out.size:
        return
    st = cuda.local.array(2, "uint64")
    vals = cuda.local.array(CHUNK, out.dtype)
    seed_stream(seed, b, lane, st)
    base = b * BLOCK + lane - start
    for c in range(2 * PAIRS // CHUNK):
        uniform_chunk(st, vals, lo, sc, vlo, vhi)
        for j in range(CHUNK):
            i = base + (c * CHUNK + j) * LANES
            if 0 <= i < out.size:
                out[i] = vals[j]
