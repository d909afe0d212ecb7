"""A GPU ``out``'s ``__cuda_array_interface__`` is checked for consistency before anything is
written: every malformed interface (wrong types, negative or non-integer dimensions, strides
that do not fit the shape, an unknown or big-endian typestr, a null pointer for a non-empty
array, a size past the address space, a negative stream) raises ``TypeError`` or ``ValueError``
naming ``out``, before the GPU is looked for (so, here, before the "no GPU" error), before the
global seed moves and with the memory behind the pointer unwritten. Whether the memory is as
large as the shape says needs the driver: see ``check_memory`` in tests/cuda."""
import numpy as np
import pytest

import fastinit
from fastinit import _device
from specs import ForeignArray


class Fake:
    """An object whose ``__cuda_array_interface__`` is whatever the test gives (over ``host``'s
    memory, which nothing may write)."""

    def __init__(self, host, cai):
        self.host = host
        self.__cuda_array_interface__ = cai


class Raising:
    """An object whose ``__cuda_array_interface__`` property raises."""

    @property
    def __cuda_array_interface__(self):
        raise ValueError("the producer is broken")


def _good(host):
    return dict(ForeignArray(host).__cuda_array_interface__)


def _with(**changes):
    """A maker of a Fake over ``host`` whose interface is ``host``'s with ``changes`` (a value of
    ``...`` removes the key; a callable is given ``host``)."""
    def make(host):
        cai = _good(host)
        for k, v in changes.items():
            if v is ...:
                del cai[k]
            else:
                cai[k] = v(host) if callable(v) else v
        return Fake(host, cai)
    return make


BAD = [
    # the interface itself
    (lambda h: Fake(h, [("shape", (6, 4))]), TypeError, "expected a dict, got list"),
    (lambda h: Fake(h, None), TypeError, "expected a dict, got NoneType"),
    (lambda h: Raising(), TypeError, "ValueError: the producer is broken"),
    (_with(shape=...), TypeError, "no 'shape' key"),
    (_with(typestr=...), TypeError, "no 'typestr' key"),
    (_with(data=...), TypeError, "no 'data' key"),
    (_with(version=...), TypeError, "no 'version' key"),
    # shape
    (_with(shape=(-6, -4)), ValueError, r"shape dimensions must be >= 0, got \(-6, -4\)"),
    (_with(shape=(6, -1)), ValueError, r"shape dimensions must be >= 0"),
    (_with(shape=(6.0, 4)), TypeError, r"shape dimensions must be integers, got \(6.0, 4\)"),
    (_with(shape=(True, 4)), TypeError, r"shape dimensions must be integers, got \(True, 4\)"),
    (_with(shape=(np.bool_(True), 4)), TypeError, "shape dimensions must be integers"),
    (_with(shape=("6", 4)), TypeError, "shape dimensions must be integers"),
    (_with(shape=24), TypeError, "shape must be a tuple of ints, got 24"),
    (_with(shape=None), TypeError, "shape must be a tuple of ints, got None"),
    (_with(shape=(1 << 40, 1 << 40)), ValueError, "spans more memory than the 64-bit address space"),
    # strides
    (_with(strides=(16,)), ValueError, r"strides \(16,\) do not give one stride per dimension"),
    (_with(strides=(16, 4, 4)), ValueError, "do not give one stride per dimension"),
    (_with(strides=(16.0, 4)), TypeError, "strides must be None or a tuple of ints"),
    (_with(strides=(True, 4)), TypeError, "strides must be None or a tuple of ints"),
    (_with(strides=16), TypeError, "strides must be None or a tuple of ints, got 16"),
    # non-contiguous arrays are filled chunk by chunk, but not these
    (_with(strides=(16, 8)), ValueError, r"out: elements of this GPU array \(strides \(16, 8\) bytes\) share memory"),
    (_with(strides=(4, 0)), ValueError, "share memory, as after expand"),
    (_with(strides=(4, 20)), ValueError, "share memory"),
    (_with(strides=(16, -4)), ValueError, r"strides \(16, -4\) \(bytes\) are not all non-negative multiples of the itemsize 4"),
    (_with(strides=(16, 6)), ValueError, "not all non-negative multiples of the itemsize 4"),
    # typestr
    (_with(typestr="<x4"), ValueError, "typestr '<x4' is not a numpy typestr"),
    (_with(typestr="nonsense"), ValueError, "typestr 'nonsense' is not a numpy typestr"),
    (_with(typestr=4), TypeError, "typestr must be a str, got 4"),
    (_with(typestr=np.dtype("<f4")), TypeError, "typestr must be a str"),
    (_with(typestr=">f4"), ValueError, "typestr '>f4' is not in the machine's byte order"),
    (_with(typestr="<f8"), TypeError, "out: dtype float64 does not match dtype float32"),
    # data
    (_with(data=(0, False)), ValueError, r"data pointer is null for a non-empty array of shape \(6, 4\)"),
    (_with(data=(-4096, False)), ValueError, "data pointer -4096 is not a 64-bit address"),
    (_with(data=(1 << 64, False)), ValueError, "is not a 64-bit address"),
    (_with(data=lambda h: h.ctypes.data), TypeError, "data must be a \\(pointer, read-only\\) pair"),
    (_with(data=lambda h: (h.ctypes.data,)), TypeError, "data must be a \\(pointer, read-only\\) pair"),
    (_with(data=lambda h: (h.ctypes.data, False, 0)), TypeError, "pair"),
    (_with(data=lambda h: (float(h.ctypes.data), False)), TypeError, "data must be an \\(int, bool\\) pair"),
    (_with(data=lambda h: (hex(h.ctypes.data), False)), TypeError, "data must be an \\(int, bool\\) pair"),
    (_with(data=lambda h: (h.ctypes.data, "no")), TypeError, "data must be an \\(int, bool\\) pair"),
    (_with(data=lambda h: (h.ctypes.data, None)), TypeError, "data must be an \\(int, bool\\) pair"),
    (_with(data=lambda h: (h.ctypes.data, True)), ValueError, "out: the array is read-only"),
    (_with(data=lambda h: ((1 << 64) - 64, False)), ValueError, "spans more memory than the 64-bit"),
    # version, mask, stream
    (_with(version="3"), TypeError, "version must be an int, got '3'"),
    (_with(version=None), TypeError, "version must be an int, got None"),
    (_with(mask=object()), TypeError, "out: masked GPU arrays are not supported"),
    (_with(stream=-1), ValueError, "stream must be None or a stream handle >= 0, got -1"),
    (_with(stream="default"), TypeError, "stream must be None or an int, got 'default'"),
    (_with(stream=1.0), TypeError, "stream must be None or an int"),
]


@pytest.mark.parametrize("make, error, word", BAD)
def test_bad_interface_raises_naming_out(make, error, word):
    """Each bad interface: the error (``error``, matching ``word``) names ``out``; it comes before
    the "no GPU" error, leaves the memory and the global seed as they were, and is the same
    whether the call gives a shape or takes it from ``out``."""
    host = np.full((6, 4), 7.0, np.float32)
    fastinit.seed(5)
    expected = fastinit.normal(3)
    for call in (lambda o: fastinit.normal(6, 4, dtype="float32", out=o),
                 lambda o: fastinit.uniform(out=o, dtype="float32", device="cuda")):
        fastinit.seed(5)
        with pytest.raises(error, match=word) as e:
            call(make(host))
        assert str(e.value).startswith("out: "), e.value
        assert fastinit.normal(3).tobytes() == expected.tobytes(), "a failed call moved the global seed"
    assert np.all(host == 7.0)


@pytest.mark.parametrize("cai_changes, described", [
    ({}, ((6, 4), True, False)),
    (dict(shape=(np.int64(6), np.int32(4))), ((6, 4), True, False)),    # numpy ints: Python ints
    (dict(shape=[6, 4], strides=[16, 4]), ((6, 4), True, False)),       # lists work too
    (dict(strides=(16, 4)), ((6, 4), True, False)),                     # the C strides, given
    (dict(shape=(6, 1, 4), strides=(16, 999, 4)), ((6, 1, 4), True, False)),  # size 1: any stride
    (dict(shape=(0, 4), data=(0, False)), ((0, 4), True, False)),       # empty: null pointer is fine
    (dict(shape=(0, 4), strides=(4, 16)), ((0, 4), True, False)),       # empty: any strides
    (dict(typestr="=f4"), ((6, 4), True, False)),
    (dict(data=lambda h: (h.ctypes.data, np.bool_(True))), ((6, 4), True, True)),
    (dict(stream=1, version=2, extra="ignored"), ((6, 4), True, False)),
    (dict(stream=0), ((6, 4), True, False)),  # what a numba array on cuda.default_stream() says
    (dict(stream=..., strides=..., mask=None), ((6, 4), True, False)),
    (dict(shape=(4, 6), strides=(4, 16)), ((4, 6), False, False)),     # a transpose: filled in chunks
    (dict(shape=(3, 4), strides=(32, 4)), ((3, 4), False, False)),     # every other row
])
def test_good_interfaces_are_described(cai_changes, described):
    host = np.zeros((6, 4), np.float32)
    info = _device.describe(_with(**cai_changes)(host))
    shape, contiguous, readonly = described
    assert info[:4] == (shape, np.dtype(np.float32), contiguous, readonly)
    assert all(type(d) is int for d in info.shape) and type(info.readonly) is bool


def test_checked_interface_is_normalized():
    host = np.zeros((6, 4), np.float32)
    cai = _device.checked_interface(_with(shape=(np.int64(6), 4), strides=[np.int64(16), 4], stream=...,
                                          data=lambda h: [np.uint64(h.ctypes.data), np.bool_(False)])(host))
    assert cai["shape"] == (6, 4) and cai["strides"] == (16, 4) and cai["stream"] is None
    assert cai["data"] == (host.ctypes.data, False) and type(cai["data"][0]) is int
    assert cai["version"] == 3 and cai["typestr"] == "<f4"

