"""GPU constant fill and scatter: set every element of the flat ``out``, or the elements at given
indices, in ``out``'s format (float16 outputs are uint16 views and take the values' bits; complex
outputs are real views, (re, im) pairs); and the copies between a non-contiguous array and the
contiguous chunks it is filled through."""
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


@cuda.jit
def strided_copy(span, chunk, start, shape, estrides, parts, store):
    """Between a contiguous ``chunk`` holding the flat C-order elements ``start ...`` of a
    non-contiguous array and that array's memory ``span`` (a flat view from its first element;
    element ``(i0, i1, ...)`` at ``sum(i_k * estrides[k])``), ``parts`` words per element:
    ``store`` copies the chunk into the array, else the array into the chunk."""
    first, stride = cuda.grid(1), cuda.gridsize(1)
    ndim = shape.size
    for i in range(first, chunk.size // parts, stride):
        f = start + i
        off = 0
        for k in range(ndim - 1, -1, -1):
            q = f // shape[k]
            off += (f - q * shape[k]) * estrides[k]
            f = q
        for j in range(parts):
            if store:
                span[off * parts + j] = chunk[i * parts + j]
            else:
                chunk[i * parts + j] = span[off * parts + j]
