"""Constant fills on the CPU: every element of a flat contiguous array set to one value, or to
two values alternating (a complex value's real and imaginary parts in the real view), at the
machine's store bandwidth.

The host twin of ``fastinit.cuda.launch.fill_constant``. Any dtype (floats, float16 and bfloat16
or their uint16/int16 bit views, integers, bool) is filled through the array's bytes: the two
values' bytes repeat with a period of two elements, which divides a 64-byte cache line, so one
compiled kernel serves every dtype. Bytes up to the first 64-byte boundary and after the last are
stored one by one; the cache lines between are stored whole as 64-byte vectors, by several
threads for large arrays, and as streaming (non-temporal) stores for arrays far larger than the
last-level cache (``simd``). The thresholds are measured (bench/README.md, "Constant fills").
"""
import numpy as np
from numba import njit, prange

from .simd import _U, CHUNK, STREAM_BYTES, aligned_head, fill_chunks, store_fence, wide_vectors

#: below this many bytes numpy's own assignment (no Numba dispatch) is fastest
NUMPY_BYTES = 1 << 14
#: below this many bytes one thread: starting the others costs more than they save
PARALLEL_BYTES = 1 << 21
#: the fewest cache lines a parallel task stores (64 KiB)
_TASK_CHUNKS = 1024
_MAX_TASKS = 256


@njit(inline="always")
def _pattern(pair, head):
    """The 64 bytes stored at every aligned chunk: byte j is ``pair[(head + j) % pair.size]``."""
    pat = np.empty(CHUNK, np.uint8)
    for j in range(CHUNK):
        pat[j] = pair[(head + _U(j)) % _U(pair.size)]
    return pat


@njit(inline="always")
def _edges(out, pair, head, stop):
    """The bytes before the first aligned chunk and from ``stop`` on, one by one."""
    for i in range(head):
        out[i] = pair[_U(i) % _U(pair.size)]
    for i in range(stop, out.size):
        out[i] = pair[_U(i) % _U(pair.size)]


@njit(cache=True, nogil=True)
def _fill_serial(out, pair):
    n = _U(out.size)
    head = aligned_head(out, 0, n)
    chunks = (n - head) // _U(CHUNK)
    _edges(out, pair, head, head + chunks * _U(CHUNK))
    fill_chunks(out, head, _pattern(pair, head), 0, chunks, False)


@njit(parallel=True, cache=True, nogil=True)
def _fill_parallel(out, pair, stream):
    n = _U(out.size)
    head = aligned_head(out, 0, n)
    chunks = (n - head) // _U(CHUNK)
    _edges(out, pair, head, head + chunks * _U(CHUNK))
    pat = _pattern(pair, head)
    nt = max(_U(1), min(_U(_MAX_TASKS), chunks // _U(_TASK_CHUNKS)))
    for t in prange(nt):
        wide_vectors()
        lo = _U(t) * chunks // nt
        hi = (_U(t) + _U(1)) * chunks // nt
        at = head + lo * _U(CHUNK)
        if stream:
            fill_chunks(out, at, pat, 0, hi - lo, True)
            store_fence()
        else:
            fill_chunks(out, at, pat, 0, hi - lo, False)


def pair_bytes(dtype, even, odd=None) -> np.ndarray:
    """The bytes of the two elements ``even``, ``odd`` (``even`` when None) of ``dtype``."""
    return np.array([even, even if odd is None else odd], dtype).view(np.uint8)


def fill_constant(out: np.ndarray, value, odd=None, *, stream: bool | None = None) -> None:
    """Every element of the flat contiguous host array ``out`` set to ``value`` (a number of
    ``out``'s dtype, or one that converts to it exactly as numpy's assignment would), or
    ``value`` at even and ``odd`` at odd indices (a complex value's parts in the real view).

    Multi-threaded above ``PARALLEL_BYTES`` (through ``fastinit._threading.launch``), with
    streaming stores from ``STREAM_BYTES`` on unless ``stream`` says otherwise.
    """
    from .._threading import launch  # kernels stay free of fastinit's package state
    if out.ndim != 1 or not out.flags.c_contiguous:
        raise ValueError("fill_constant: out must be a flat contiguous array")
    nbytes = out.nbytes
    if not nbytes:
        return
    if nbytes < NUMPY_BYTES and stream is None:
        out[...] = value
        if odd is not None:
            out[1::2] = odd
        return
    pair = pair_bytes(out.dtype, value, odd)
    raw = out.view(np.uint8)
    if nbytes < PARALLEL_BYTES and not stream:
        _fill_serial(raw, pair)
    else:
        launch(_fill_parallel, raw, pair, nbytes >= STREAM_BYTES if stream is None else bool(stream))
