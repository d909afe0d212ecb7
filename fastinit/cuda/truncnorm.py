"""GPU truncated normal fill, the twin of ``fastinit.kernels.truncnorm``: each stream's
candidates in the CPU kernel's order (``streams.truncnorm_chunk``, on the shared per-candidate
functions), its accepted ones filling its positions in order, the rest dropped."""
from numba import cuda

from ..kernels.rng import LANES
from ..kernels.truncnorm import MAX_CANDIDATES, POSITIONS
from .streams import CHUNK, seed_stream, truncnorm_chunk
from .thread import thread_stream


@cuda.jit
def truncnorm(out, seed, span, u0, kind, mean, std, istd, za, zb, lam, ilam, lo, m, wsc, vlo, vhi, fb):
    """One thread per stream, as ``uniform.uniform``; the parameters are those of the CPU
    kernel's proposals, rounded to the value precision, and ``fb`` the CPU kernel's fallback
    value in ``out``'s format (float16: its bits), taken past ``MAX_CANDIDATES`` candidates."""
    blk, lane, base, shift, i0, i1 = thread_stream(span, u0, out.size)
    if blk < 0:
        return
    st = cuda.local.array(2, "uint64")
    vals = cuda.local.array(CHUNK, out.dtype)
    oks = cuda.local.array(CHUNK, "uint8")
    seed_stream(seed, blk, lane, st)
    pos = 0
    seen = 0
    while pos < POSITIONS:
        truncnorm_chunk(st, vals, oks, kind, mean, std, istd, za, zb, lam, ilam, lo, m, wsc, vlo, vhi)
        for j in range(CHUNK):
            late = seen + j >= MAX_CANDIDATES
            if (oks[j] or late) and pos < POSITIONS:
                i = base + pos * LANES
                if i0 <= i < i1:
                    out[i] = fb if late else vals[j]
                pos += 1
        seen += CHUNK
