"""GPU sparse mask, the twin of ``fastinit.kernels.sparse``'s: after the normal fill, each
element is kept or zeroed by the shared per-element ``sparse_value`` (the same keyed bijection
or row-key ranking, so the same zeros)."""
import numpy as np
from numba import cuda

from ..kernels.sparse import sparse_value

_u = np.uint32


@cuda.jit
def sparse_mask(out, start, rows, cols, nz, h, dl, k0, k1, nudge):
    """Grid-stride loop over the flat ``out``, elements [start, start + out.size) of the
    (rows, cols) tensor."""
    first, stride = cuda.grid(1), cuda.gridsize(1)
    for i in range(first, out.size, stride):
        g = start + i
        out[i] = sparse_value(out[i], _u(g // cols), _u(g % cols), rows, nz, h, dl, k0, k1, nudge)
