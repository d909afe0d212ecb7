"""GPU constant fill: every element of the flat ``out`` set to ``value`` (given in ``out``'s
format: float16 outputs are uint16 views, and take the value's bits)."""
from numba import cuda


@cuda.jit
def constant(out, value):
    """Grid-stride loop over the flat ``out``."""
    start, stride = cuda.grid(1), cuda.gridsize(1)
    for i in range(start, out.size, stride):
        out[i] = value
