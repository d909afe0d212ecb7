"""Streaming stores change no value: a fill far larger than the caches (written by streaming
stores, ``blocks.streams``: the uniform's float32 and float64 outputs, the truncated normal's
float32 ones where they are compacted by lanes) holds the same bytes as the same elements filled
in pieces small enough for plain stores, at every alignment of the output and through a span's
runs."""
import numba
import numpy as np
import pytest

from fastinit.fills import truncated_normal_params
from fastinit.kernels.blocks import span
from fastinit.kernels.simd import STREAM_BYTES
from fastinit.kernels.truncnorm import fill_truncnorm
from fastinit.kernels.uniform import fill_uniform

ARGS = (-1.0, 2.0, -1.0, float(np.nextafter(np.float32(1), np.float32(0))))


def _truncnorm(lo, hi):
    def fill(out, seed, start):
        _, kind, p, vmin, vmax, rounds = truncated_normal_params(0.0, 1.0, lo, hi, out.dtype)
        fill_truncnorm(out, seed, start, kind, p, vmin, vmax, rounds)
    return fill


FILLS = {
    "uniform": lambda out, seed, start: fill_uniform(out, seed, start, *ARGS),
    "truncnorm": _truncnorm(-2.0, 2.0),  # the NORMAL proposal
    "tail": _truncnorm(3.0, np.inf),  # the EXPONENTIAL one
}
CASES = [("uniform", np.float32), ("uniform", np.float64), ("truncnorm", np.float32), ("tail", np.float32)]


def in_pieces(fill, n, dtype, seed, pieces=8):
    """Elements [0, n) of the tensor, filled by ``pieces`` calls each below STREAM_BYTES."""
    want = np.empty(n, dtype)
    step = -(-n // pieces)
    assert step * want.itemsize < STREAM_BYTES
    for a in range(0, n, step):
        fill(want[a:a + step], np.uint64(seed), a)
    return want


@pytest.mark.parametrize("name, dtype", CASES)
def test_streamed_fill_equals_the_fill_in_pieces(name, dtype):
    fill = FILLS[name]
    size = np.dtype(dtype).itemsize
    n = STREAM_BYTES // size + 4099  # past the threshold, with a cut last block
    want = in_pieces(fill, n, dtype, seed=11)
    raw = np.empty(n + 64 // size, dtype)
    for shift in (0, 1, 64 // size - 1):  # the output's first element at every place in a 64-byte line
        got = raw[shift:shift + n]
        got[:] = np.nan
        fill(got, np.uint64(11), 0)
        assert np.array_equal(got.view(np.uint8), want.view(np.uint8)), shift


@pytest.mark.parametrize("name", ["uniform", "truncnorm"])
def test_streamed_span_equals_the_whole(name):
    """Runs that hold whole stream blocks (streamed) and cut ones (plain stores) at both ends."""
    fill = FILLS[name]
    rows, cols = 1400, 3 * 4096 + 7
    c0, c1 = 5, 3 * 4096 + 5
    whole = in_pieces(fill, rows * cols, np.float32, seed=5).reshape(rows, cols)
    got = np.empty(rows * (c1 - c0), np.float32)
    assert got.nbytes >= STREAM_BYTES
    fill(got, np.uint64(5), span(c0, c1 - c0, (rows,), (cols,)))
    assert np.array_equal(got.reshape(rows, -1).view(np.uint8), whole[:, c0:c1].view(np.uint8))


@pytest.mark.parametrize("name", ["uniform", "truncnorm"])
def test_streamed_fill_is_the_same_on_one_thread(name):
    """Same bytes on 1 thread as on all (tasks split the blocks differently): the streamed path
    too, which the small fills of test_reproducibility never take."""
    fill = FILLS[name]
    n = STREAM_BYTES // 4 + 4099
    want = in_pieces(fill, n, np.float32, seed=2)
    got = np.empty(n + 1, np.float32)[1:]  # one element in: a cut first line
    threads = numba.get_num_threads()
    try:
        numba.set_num_threads(1)
        fill(got, np.uint64(2), 0)
    finally:
        numba.set_num_threads(threads)
    assert np.array_equal(got.view(np.uint8), want.view(np.uint8))
