"""GPU constant fill and scatter: set every element of the flat ``out``, or the elements at given
indices, in ``out``'s format (float16 outputs are uint16 views and take the values' bits; complex
outputs are real views, (re, im) pairs)."""
from numba import cuda


@cuda.jit
def constant(out, even, odd):
    """Grid-stride loop over the flat ``out``: ``even`` at even indices, ``odd`` at odd ones (the
    real and imaginary parts of a complex value; the same value for a real one)."""
    start, stride = cuda.grid(1), cuda.gridsize(1)
    for i in range(start, out.size, stride):
        out[i] = even if i % 2 == 0 else odd


@cuda.jit
def scatter(out, index, values):
    """``out[index[j]] = values[j]`` for every j, in a grid-stride loop."""
    start, stride = cuda.grid(1), cuda.gridsize(1)
    for j in range(start, index.size, stride):
        out[index[j]] = values[j]
