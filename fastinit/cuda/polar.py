"""GPU polar transform, the twin of ``fastinit.kernels.polar``: the same per-element
``polar_value`` on each (u1, u2) pair of the uniform fill, in place."""
from numba import cuda

from ..kernels.polar import polar_value


@cuda.jit
def polar(x, kind, c, s):
    """Grid-stride loop over the pairs of the flat real view ``x`` (re, im, re, im, ...)."""
    start, stride = cuda.grid(1), cuda.gridsize(1)
    for i in range(start, x.size // 2, stride):
        re, im = polar_value(x[2 * i], x[2 * i + 1], kind, c, s)
        x[2 * i] = re
        x[2 * i + 1] = im
