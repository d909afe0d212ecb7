"""fastinit.kernels.constant.fill_constant: every byte as numpy's assignment writes it, for every
dtype the constant fills use, any alignment and length, each path (numpy, one thread, parallel,
streaming), and nothing written outside the array."""
import numpy as np
import pytest

from fastinit.kernels import constant
from fastinit.kernels.constant import fill_constant

ml_dtypes = pytest.importorskip("ml_dtypes")

DTYPES = [np.float16, ml_dtypes.bfloat16, np.float32, np.float64, np.uint16, np.int16, np.int8, np.uint8,
          np.int32, np.uint32, np.int64, np.uint64, np.bool_]
LENGTHS = [1, 2, 3, 63, 64, 65, 1000, 4099, 70_001]


def values(dt):
    if dt is np.bool_:
        return True, False
    return dt(3), dt(5)


def expected(dt, n, even, odd):
    e = np.empty(n, dt)
    e[0::2] = even
    e[1::2] = even if odd is None else odd
    return e.view(np.uint8)


@pytest.mark.parametrize("dt", DTYPES, ids=lambda d: np.dtype(d).name)
@pytest.mark.parametrize("stream", [None, False, True])
def test_bytes_as_numpy_writes_them(dt, stream):
    even, odd = values(dt)
    for n in LENGTHS:
        for shift in (0, 1, 3):  # the array starts at several offsets from a cache line
            base = np.zeros(n + shift + 70, dt)
            a = base[shift:shift + n]
            for o in (odd, None):
                fill_constant(a, even, o, stream=stream)
                assert (a.view(np.uint8) == expected(dt, n, even, o)).all(), (n, shift, o)
            rest = np.concatenate([base[:shift], base[shift + n:]]).view(np.uint8)
            assert not rest.any(), "written outside the array"


@pytest.mark.parametrize("nbytes", [constant.NUMPY_BYTES - 4, constant.NUMPY_BYTES, constant.PARALLEL_BYTES,
                                    constant.PARALLEL_BYTES + 12])
def test_each_path(nbytes):
    """The sizes around the thresholds, with the two values of a complex number (real view)."""
    z = np.full(nbytes // 8, np.nan, np.complex64)
    fill_constant(z.view(np.float32), np.float32(1.5), np.float32(-2.0))
    assert (z == np.complex64(1.5 - 2j)).all()


def test_float16_bits_and_empty():
    a = np.empty(5000, np.float16)
    fill_constant(a.view(np.uint16), np.float16(0.1).view(np.uint16))
    assert (a == np.float16(0.1)).all()
    fill_constant(np.empty(0, np.float32), 1.0)


def test_rejects_non_contiguous():
    with pytest.raises(ValueError):
        fill_constant(np.zeros((4, 4), np.float32), 1.0)
    with pytest.raises(ValueError):
        fill_constant(np.zeros(10, np.float32)[::2], 1.0)


@pytest.mark.parametrize("stream", [False, True])
def test_same_bytes_on_one_and_two_threads(stream):
    """The parallel path (tasks fixed by the size, not by the thread count) writes the same bytes
    on one thread as on all of them, complex pairs included."""
    import numba
    n = numba.get_num_threads()
    a = np.empty(constant.PARALLEL_BYTES // 8 + 5, np.complex64).view(np.float32)
    b = np.empty_like(a)
    try:
        numba.set_num_threads(1)
        fill_constant(a, np.float32(1.5), np.float32(-2.0), stream=stream)
    finally:
        numba.set_num_threads(n)
    fill_constant(b, np.float32(1.5), np.float32(-2.0), stream=stream)
    assert a.tobytes() == b.tobytes()
    assert np.array_equal(a[0::2], np.full(a.size // 2, 1.5, np.float32)) and (a[1::2] == -2.0).all()
