"""GPU sparse fill, the twin of ``fastinit.kernels.sparse``: the normal kernel's streams and values
(``streams.normal_chunk``, mean 0), each element kept or zeroed by the shared per-element
``sparse_value`` (the same keyed bijection or row-key ranking, so the same zeros) before it is
stored: one pass over the output."""
import numpy as np
from numba import cuda

from ..kernels.rng import LANES, PAIRS
from ..kernels.sparse import sparse_value
from .streams import CHUNK, normal_chunk, seed_stream
from .thread import thread_stream

_u = np.uint32


@cuda.jit
def sparse(out, seed, span, u0, mean, std, rows, cols, nz, h, dl, k0, k1, nudge):
    """One thread per stream, as ``normal.normal``; element g = i - shift of the (rows, cols)
    tensor is row g // cols, column g % cols (uint32 mask parameters, as the CPU kernel's)."""
    b, lane, base, shift, i0, i1 = thread_stream(span, u0, out.size)
    if b < 0:
        return
    st = cuda.local.array(2, "uint64")
    vals = cuda.local.array(CHUNK, out.dtype)
    seed_stream(seed, b, lane, st)
    for c in range(2 * PAIRS // CHUNK):
        normal_chunk(st, vals, mean, std)
        for j in range(CHUNK):
            i = base + (c * CHUNK + j) * LANES
            if i0 <= i < i1:
                g = i - shift
                out[i] = sparse_value(vals[j], _u(g // cols), _u(g % cols), rows, nz, h, dl, k0, k1,
                                      nudge)
