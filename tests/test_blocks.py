"""``block=``: any N-d block of a tensor made on its own, equal to the same slice of the whole
tensor; the kernels' spans (``fastinit.kernels.blocks``) at chunk and stream-block edges, in every
dtype; errors naming ``block``. (Every initializer's blocks: test_initializers.)"""
import numba
import numpy as np
import pytest

import fastinit
from fastinit.kernels.blocks import span, span_units, target
from fastinit.kernels.rng import BLOCK
from fastinit.kernels.uniform import fill_uniform

FILLS = {
    "uniform": lambda *s, **k: fastinit.uniform(*s, low=-1.0, high=2.0, **k),
    "normal": lambda *s, **k: fastinit.normal(*s, mean=0.5, std=2.0, **k),
    "truncated_normal": lambda *s, **k: fastinit.truncated_normal(*s, lo=-1.0, hi=3.0, **k),
    "truncated_tail": lambda *s, **k: fastinit.truncated_normal(*s, lo=6.0, hi=np.inf, **k),
    "sparse": lambda *s, **k: fastinit.sparse(*s, sparsity=0.7, std=0.5, **k),
}
DTYPES = ["float32", "float16", "bfloat16", "float64"]


def same(a, b):
    a, b = np.asarray(a), np.ascontiguousarray(b)
    return a.shape == b.shape and a.dtype == b.dtype and a.tobytes() == b.tobytes()


# column edges at a stream block (4096 elements = 2 rows of 2048), one before, one after, and
# runs that start and end inside one block
EDGES = [(0, 1), (2047, 2049), (0, 2048), (1, 2047), (100, 2000), (2040, 2048), (0, 2047), (1, 2048)]


@pytest.mark.parametrize("name", FILLS)
@pytest.mark.parametrize("dtype", DTYPES)
def test_2d_blocks_at_stream_block_edges(name, dtype):
    f = FILLS[name]
    full = f(7, 2048, dtype=dtype, seed=5)
    for a, b in EDGES:
        for rows in [(0, 7), (1, 2), (3, 6)]:
            block = (slice(*rows), slice(a, b))
            assert same(f(7, 2048, dtype=dtype, seed=5, block=block), full[block]), block


@pytest.mark.parametrize("dtype", DTYPES + ["complex64", "complex128"])
def test_3d_and_4d_blocks(dtype):
    for f in (fastinit.uniform, fastinit.normal):
        full = f(5, 6, 7, 300, dtype=dtype, seed=9)
        for block in [(slice(1, 4), slice(2, 5)), (slice(0, 5), slice(0, 6), slice(3, 4)),
                      (slice(4, 5), slice(1, 6), slice(0, 7), slice(299, 300)),
                      (slice(None), slice(None), slice(None), slice(13, 200)),
                      (slice(2, 3), slice(5, 6), slice(6, 7))]:
            assert same(f(5, 6, 7, 300, dtype=dtype, seed=9, block=block), full[block]), block


def test_blocks_into_out_and_a_chunked_torch_tensor():
    torch = pytest.importorskip("torch")
    full = fastinit.normal(40, 3000, seed=1)
    block = (slice(5, 33), slice(1000, 2500))
    out = np.full(full[block].shape, 7.0, np.float32)
    assert fastinit.normal(40, 3000, seed=1, block=block, out=out) is out
    assert same(out, full[block])
    # a non-contiguous tensor is filled chunk by chunk: chunks start inside runs (kernels' ``at``)
    t = torch.empty(1500, 28).t()
    fastinit.normal(40, 3000, seed=1, block=block, out=t)
    assert same(t.numpy(), full[block])


def test_blocks_are_the_same_bytes_on_one_thread_and_on_all():
    """The span path's units are dealt to tasks as the flat path's blocks are: the thread count
    cannot change a block's bytes (as test_reproducibility checks for whole tensors)."""
    n = numba.config.NUMBA_NUM_THREADS
    block = (slice(7, 590), slice(1000, 2900))  # 583 runs of 1900: units over every thread

    def run():
        return [f(600, 3000, dtype=dt, seed=4, block=block).tobytes() for f in FILLS.values()
                for dt in ("float32", "bfloat16")]
    try:
        numba.set_num_threads(1)
        one = run()
        numba.set_num_threads(n)
        assert run() == one
    finally:
        numba.set_num_threads(n)


def test_kernel_span_chunks_equal_the_whole():
    """A span's output may begin and end inside runs (chunks of a block): every cut agrees."""
    full = np.empty((37, 5000), np.float32)
    args = (0.0, 1.0, 0.0, float(np.nextafter(np.float32(1), np.float32(0))))
    fill_uniform(full.reshape(-1), np.uint64(3), 0, *args)
    for r0, r1, c0, c1 in [(3, 20, 100, 4200), (0, 37, 0, 1), (1, 36, 4095, 4097), (0, 37, 0, 4096)]:
        want = full[r0:r1, c0:c1].reshape(-1)
        for at, n in [(0, want.size), (want.size // 3, want.size // 2), (1, 1), (want.size - 1, 1)]:
            sp = span(r0 * 5000 + c0, c1 - c0, (r1 - r0,), (5000,), at)
            got = np.full(n, np.nan, np.float32)
            fill_uniform(got, np.uint64(3), sp, *args)
            assert same(got, want[at:at + n]), (r0, r1, c0, c1, at, n)


def test_work_is_proportional_to_the_block():
    """A run costs at most two stream blocks beyond its elements: the units a span is cut into
    (each generates one block of BLOCK elements) for a narrow column block, rows, one element."""
    # a (10**5, 64) column block of a (10**5, 8192) tensor: 10**5 runs of 64, at most 2 blocks each
    sp = span(100, 64, (10**5,), (8192,))
    assert span_units(sp, 64 * 10**5) == (0, 2 * 10**5)
    # runs of 10**4 elements: ceil(9999 / 4096) + 1 = 4 blocks each, >= 10**4 / 4096 = 2.44
    sp = span(5, 10**4, (10,), (10**6,))
    assert span_units(sp, 10**5) == (0, 40)
    # a chunk of the block's output: only the runs it touches
    assert span_units(span(5, 10**4, (10,), (10**6,), at=25_000), 10**4) == (8, 8)
    assert span_units(span(0, 1, (1,), (1,)), 1) == (0, 1)  # one element: one block
    # and a cut block generates only the positions of each lane its run needs
    out, tmp = np.zeros(1), np.zeros(1)
    assert target(out, tmp, (3, -12_000, 3 * BLOCK + 100, 3 * BLOCK + 164), False)[1:] == (0, 6, 11)
    assert target(out, tmp, (3, 5, 0, 10 * BLOCK), False)[1:] == (3 * BLOCK + 5, 0, BLOCK // 16)
    # streamed, a whole block is generated into the scratch block (and written out from there)
    assert target(out, tmp, (3, 5, 0, 10 * BLOCK), True)[1:] == (0, 0, BLOCK // 16)


@pytest.mark.parametrize("block, error, match", [
    ((slice(0, 4, 2),), ValueError, r"^block: only contiguous blocks \(step 1\)"),
    ((slice(0, 2), 3), TypeError, r"^block: expected a slice for axis 1, got 3"),
    ((slice(0, 2),) * 3, ValueError, r"^block: 3 slices for a tensor of 2 dimensions"),
    ((slice(0.5, 2),), TypeError, r"^block: slice bounds must be integers"),
    ("0:3", TypeError, r"^block: expected a tuple of slices"),
    ([slice(0, 1), slice(True, 2)], TypeError, r"^block: slice bounds must be integers"),
])
def test_bad_blocks_name_block(block, error, match):
    out = np.full((4, 5), 9.0, np.float32)
    for f in (fastinit.normal, fastinit.zeros, fastinit.orthogonal, fastinit.eye):
        with pytest.raises(error, match=match):
            f(4, 5, block=block, seed=0)
    with pytest.raises(error, match=match):
        fastinit.uniform(4, 5, block=block, out=out[:2], seed=0)
    assert np.all(out == 9.0)  # nothing written


def test_rows_and_block_exclude_each_other_and_out_must_match():
    with pytest.raises(ValueError, match=r"^rows, block: give one of them"):
        fastinit.normal(4, 5, rows=slice(0, 1), block=(slice(0, 1),), seed=0)
    with pytest.raises(ValueError, match=r"^out: shape \(2, 5\) does not match the requested shape \(2, 3\)"):
        fastinit.normal(4, 5, block=(slice(0, 2), slice(0, 3)), out=np.empty((2, 5), np.float32), seed=0)
    with pytest.raises(ValueError, match=r"^block: 1 slices for a tensor of 0 dimensions"):
        fastinit.normal((), block=(slice(0, 1),), seed=0)


def test_a_single_slice_and_negative_bounds():
    full = fastinit.kaiming_normal(30, 20, 5, seed=2)
    assert same(fastinit.kaiming_normal(30, 20, 5, seed=2, block=slice(3, 9)), full[3:9])
    block = (slice(-5, None), slice(-3, -1), slice(1, 100))
    assert same(fastinit.kaiming_normal(30, 20, 5, seed=2, block=block), full[block])


def test_lux_complex16_blocks_keep_whole_pairs():
    full = fastinit.onesC16(5, 4)
    for block in [(slice(1, 3), slice(0, 4)), (slice(1, 3), slice(1, 2), slice(1, 2)),
                  (slice(0, 5), slice(2, 4), slice(0, 1))]:
        assert same(fastinit.onesC16(5, 4, block=block), full[block]), block
    assert same(fastinit.randnC16(5, 4, seed=1, block=(slice(2, 4), slice(1, 3))),
                fastinit.randnC16(5, 4, seed=1)[2:4, 1:3])


def test_blocks_of_a_large_row_cross_many_stream_blocks():
    # a run of several whole stream blocks plus two cut ones, in a 3-d tensor
    full = fastinit.truncated_normal(3, 2, 5 * BLOCK + 7, seed=3)
    block = (slice(0, 3), slice(1, 2), slice(BLOCK - 3, 4 * BLOCK + 5))
    assert same(fastinit.truncated_normal(3, 2, 5 * BLOCK + 7, seed=3, block=block), full[block])
