"""The public API on the GPU: ``device="cuda"`` and GPU ``out`` arrays give the host's values.

Every initializer called with ``device="cuda"`` returns a numba device array equal, byte for
byte, to the host call's result (orthogonal: to rounding when the QR runs on the GPU); ``out``
takes numba device arrays and any object with ``__cuda_array_interface__`` (here a stand-in for
CuPy/torch whose pointer is host memory, as the simulator's device memory is); bad outputs and
devices raise before anything is written. Shapes are small: the simulator runs each GPU thread
in Python."""
import re
import types
import warnings

import ml_dtypes
import numpy as np
import pytest
from numba import cuda

import fastinit
from fastinit.cuda.arrays import SIMULATOR
from fastinit.initializers import HostFallbackWarning
from specs import SPECS, ForeignArray

NAMES = list(fastinit.FUNCTIONS)
SMALL = (9, 14)  # stands in for the specs' (40, 30)


def _call(name, device=None, **extra):
    shape, required, params, _ = SPECS[name]
    shape = SMALL if shape == (40, 30) else shape
    kw = {**required, **params, **extra}
    if SPECS[name][3]:
        kw.setdefault("seed", 11)
    return fastinit.FUNCTIONS[name](shape, device=device, **kw)


def _host(a):
    return a.copy_to_host() if cuda.devicearray.is_cuda_ndarray(a) else np.asarray(a)


@pytest.mark.parametrize("name", NAMES)
def test_device_equals_host(name):
    cpu = _call(name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", HostFallbackWarning)
        gpu = _call(name, device="cuda")
    assert cuda.devicearray.is_cuda_ndarray(gpu)
    assert gpu.shape == cpu.shape and gpu.dtype == cpu.dtype
    assert _host(gpu).tobytes() == cpu.tobytes()


@pytest.mark.parametrize("name", ["uniform", "normal", "truncated_normal", "sparse", "identity",
                                  "glorot_normal", "orthogonal", "randC16", "onesC16"])
def test_rows_on_device(name):
    full = _call(name)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", HostFallbackWarning)
        part = _call(name, device="cuda", rows=slice(3, 7))
    assert _host(part).tobytes() == full[3:7].tobytes()


@pytest.mark.parametrize("name", ["uniform", "normal", "truncated_normal", "sparse", "identity",
                                  "glorot_normal", "orthogonal", "randC16", "onesC16", "eye", "dirac"])
def test_blocks_on_device(name):
    """N-d blocks: the GPU threads work through the same spans as the CPU tasks."""
    full = _call(name)
    for block in [(slice(3, 7), slice(2, 11)), (slice(None), slice(13, 14)), (slice(1, 2), slice(0, 1))]:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", HostFallbackWarning)
            part = _call(name, device="cuda", block=block)
        assert _host(part).tobytes() == np.ascontiguousarray(full[block]).tobytes(), block


def test_block_into_a_strided_gpu_array(monkeypatch):
    """A block into a transposed GPU array, in chunks that start inside the block's runs."""
    from fastinit.cuda import arrays
    monkeypatch.setattr(arrays, "CHUNK_BYTES", 7 * 4)
    host = np.zeros((9, 6), np.float32)
    block = (slice(2, 8), slice(1, 10))
    fastinit.normal(20, 12, out=ForeignArray(host.T, strides=host.T.strides), block=block, seed=5)
    assert host.T.tobytes() == fastinit.normal(20, 12, seed=5)[block].tobytes()


@pytest.mark.parametrize("dtype", ["float16", "float32", "float64", "complex64", "complex128"])
@pytest.mark.parametrize("name, kw", [("uniform", dict(low=-1.0, high=2.0)), ("normal", dict(std=0.5)),
                                      ("constant", dict(value=1.5)), ("zeros", {})])
def test_fills_every_dtype(name, kw, dtype):
    f = fastinit.FUNCTIONS[name]
    cpu = f(5, 13, dtype=dtype, seed=3, **kw)
    assert _host(f(5, 13, dtype=dtype, seed=3, device="cuda", **kw)).tobytes() == cpu.tobytes()


def test_complex_constant_and_jax_complex():
    cpu = fastinit.constant(4, 5, value=1.5 - 2j, dtype="complex64")
    gpu = fastinit.constant(4, 5, value=1.5 - 2j, dtype="complex64", device="cuda")
    assert _host(gpu).tobytes() == cpu.tobytes()
    for dist in ("uniform", "truncated_normal"):
        kw = dict(distribution=dist, layout="jax", dtype="complex64", seed=2)
        cpu = fastinit.variance_scaling(6, 7, **kw)
        assert _host(fastinit.variance_scaling(6, 7, device="cuda", **kw)).tobytes() == cpu.tobytes()


def test_out_numba_array_is_filled_and_returned():
    out = cuda.device_array((8, 16), np.float32)
    assert fastinit.kaiming_uniform(out=out, seed=4) is out
    assert out.copy_to_host().tobytes() == fastinit.kaiming_uniform(8, 16, seed=4).tobytes()


@pytest.mark.parametrize("dtype", ["float16", "float32", "complex128"])
def test_out_cuda_array_interface(dtype):
    host = np.zeros((6, 11), dtype)
    out = ForeignArray(host)
    assert fastinit.normal(out=out, std=2.0, seed=5) is out  # the user's object comes back
    assert host.tobytes() == fastinit.normal(6, 11, std=2.0, seed=5, dtype=dtype).tobytes()
    assert fastinit.eye(out=out, gain=2.0) is out
    assert host.tobytes() == fastinit.eye(6, 11, gain=2.0, dtype=dtype).tobytes()


@pytest.mark.parametrize("device, out, word", [
    ("tpu", None, "device: expected 'cpu', 'cuda'"),
    ("cuda:7", None, "no cuda:7"),
    ("cpu", "gpu", "GPU array does not live on device='cpu'"),
    ("cuda", "host", "host \\(numpy\\) array does not live on device='cuda'"),
])
def test_bad_device(device, out, word):
    arr = {"gpu": cuda.device_array(4, np.float32), "host": np.zeros(4, np.float32), None: None}[out]
    with pytest.raises(ValueError, match=word):
        fastinit.uniform(4, device=device, out=arr, seed=0)


def test_orthogonal_without_cupy_says_so():
    with pytest.warns(HostFallbackWarning, match="CuPy is not installed"):
        w = fastinit.orthogonal(8, 5, device="cuda", seed=3)
    assert _host(w).tobytes() == fastinit.orthogonal(8, 5, seed=3).tobytes()


class _NumpyCupy(types.SimpleNamespace):
    """CuPy's API over numpy, on the simulator's arrays: checks how orthogonal uses CuPy."""

    def __getattr__(self, name):
        return getattr(np, name)

    @staticmethod
    def asarray(a):
        return a._ary if cuda.devicearray.is_cuda_ndarray(a) else np.asarray(a)


@pytest.mark.parametrize("shape, kw", [((9, 5), {}), ((5, 9), {}), ((4, 3, 6), dict(layout="jax")),
                                       ((6, 4), dict(column_axis=0, layout="jax")),
                                       ((9, 5), dict(rows=slice(2, 6))), ((7, 7), dict(dtype="float16")),
                                       ((5, 8), dict(dtype="complex64", gain=2.0))])
def test_orthogonal_through_cupy(monkeypatch, shape, kw):
    monkeypatch.setattr(fastinit.initializers, "_cupy", lambda: _NumpyCupy(linalg=np.linalg))
    cpu = fastinit.orthogonal(shape, seed=6, **kw)
    with warnings.catch_warnings():
        warnings.simplefilter("error", HostFallbackWarning)
        gpu = _host(fastinit.orthogonal(shape, seed=6, device="cuda", **kw))
    assert gpu.dtype == cpu.dtype and gpu.shape == cpu.shape
    tol = 2e-3 if cpu.dtype == np.float16 else 1e-5
    np.testing.assert_allclose(gpu, cpu, atol=tol)


@pytest.mark.skipif(SIMULATOR, reason="Numba's CUDA simulator runs one kernel at a time")
def test_threads_at_once():
    """Four Python threads filling on the GPU at once get the single-threaded values."""
    from concurrent.futures import ThreadPoolExecutor
    names = ["normal", "truncated_normal", "eye", "uniform"]
    expected = {n: _call(n) for n in names}
    with ThreadPoolExecutor(4) as pool:
        got = dict(zip(names, pool.map(lambda n: _host(_call(n, device="cuda")), names)))
    for n in names:
        assert got[n].tobytes() == expected[n].tobytes(), n


@pytest.mark.parametrize("shape", [(), (0, 5), (3, 0)])
@pytest.mark.parametrize("dtype", ["float32", "complex64"])
def test_zero_dim_and_empty(shape, dtype):
    for f, kw in ((fastinit.normal, {}), (fastinit.uniform, {}), (fastinit.constant, dict(value=2.0))):
        cpu = f(shape, dtype=dtype, seed=1, **kw)
        gpu = f(shape, dtype=dtype, seed=1, device="cuda", **kw)
        assert gpu.shape == cpu.shape and _host(gpu).tobytes() == cpu.tobytes()
    assert _host(fastinit.normal(6, 4, rows=slice(3, 3), seed=1, device="cuda")).shape == (0, 4)


class _Interface:
    """A GPU array of another library whose ``__cuda_array_interface__`` is the given dict."""

    def __init__(self, cai, keep=None):
        self.__cuda_array_interface__ = cai
        self.keep = keep  # what owns the memory


def _allocations(*spans):
    """``extent`` for :func:`check_memory` on a driver that has allocated ``spans``."""
    def extent(at):
        return next(((a, b) for a, b in spans if a <= at < b), None)
    return extent


@pytest.mark.parametrize("ptr, nbytes, spans", [
    (0x10000, 0x1000, [(0x10000, 0x11000)]),                       # the whole allocation
    (0x10400, 0x200, [(0x10000, 0x11000)]),                        # a view into a larger one
    (0x10400, 0xc00, [(0x10000, 0x11000)]),                        # ... up to its end
    (0x10400, 0x2c00, [(0x10000, 0x11000), (0x11000, 0x12000), (0x12000, 0x13000)]),  # mapped pieces
    (0x90000, 0x1000, [(0x10000, 0x11000)]),                       # memory the driver does not know
])
def test_check_memory_accepts(ptr, nbytes, spans):
    from fastinit.cuda.arrays import check_memory
    check_memory(ptr, nbytes, _allocations(*spans))


@pytest.mark.parametrize("ptr, nbytes, spans, short", [
    (0x10000, 0x1001, [(0x10000, 0x11000)], 1),
    (0x10400, 0x2000, [(0x10000, 0x11000)], 0x1400),
    (0x10000, 0x3000, [(0x10000, 0x11000), (0x11000, 0x12000), (0x12800, 0x13000)], 0x1000),  # a hole
])
def test_check_memory_refuses(ptr, nbytes, spans, short):
    from fastinit.cuda.arrays import check_memory
    with pytest.raises(ValueError, match=rf"^out: .* {nbytes} bytes from {ptr:#x}, .* {short} bytes short"):
        check_memory(ptr, nbytes, _allocations(*spans))


def test_check_memory_gives_up_on_many_pieces(monkeypatch):
    from fastinit.cuda import arrays
    monkeypatch.setattr(arrays, "MAX_PIECES", 3)
    pieces = [(0x1000 * k, 0x1000 * (k + 1)) for k in range(1, 5)]
    arrays.check_memory(0x1000, 0x8000, _allocations(*pieces))  # the fifth piece is never asked for
    monkeypatch.setattr(arrays, "MAX_PIECES", 5)
    with pytest.raises(ValueError, match="out: .* bytes short"):
        arrays.check_memory(0x1000, 0x8000, _allocations(*pieces))


def test_adopt_checks_the_interface_again():
    """adopt does not trust an interface that changed since it was described."""
    from fastinit.cuda.arrays import adopt
    host = np.full((3, 4), 7.0, np.float32)
    good = ForeignArray(host).__cuda_array_interface__
    for bad, error in [(dict(good, shape=(3, -4)), ValueError), (dict(good, data=(0, False)), ValueError),
                       (dict(good, strides=(16,)), ValueError), (dict(good, typestr=4), TypeError)]:
        with pytest.raises(error, match="^out: not a usable __cuda_array_interface__"):
            adopt(_Interface(bad, host))
    assert np.all(host == 7.0)


@pytest.mark.skipif(SIMULATOR, reason="the simulator has no driver to ask how large memory is")
def test_out_larger_than_its_memory_on_a_gpu():
    """An interface whose shape runs past its allocation is refused before anything is written;
    a view into a larger allocation (as CuPy and torch tensors often are) is filled."""
    dev = cuda.to_device(np.full(4096, 7.0, np.float32))
    cai = dict(dev.__cuda_array_interface__, shape=(1 << 38,))  # 1 TiB: more than any GPU has
    with pytest.raises(ValueError, match="out: .* bytes short"):
        fastinit.normal(out=_Interface(cai, dev), seed=1)
    assert np.all(dev.copy_to_host() == 7.0)
    view = _Interface(dev[1024:2048].__cuda_array_interface__, dev)
    assert fastinit.normal(out=view, seed=1) is view
    got = dev.copy_to_host()
    assert got[1024:2048].tobytes() == fastinit.normal(1024, seed=1).tobytes()
    assert np.all(got[:1024] == 7.0) and np.all(got[2048:] == 7.0)


class _Memory:
    """numba memory at ``at`` (what ``DeviceNDArray.gpu_data`` is) for a stand-in driver."""

    def __init__(self, at):
        self.at = at

    def view(self, offset):
        return _Memory(self.at + offset)


@pytest.mark.parametrize("spans, error", [
    (lambda p: [(p - 64, p + 128)], None),                  # in its allocation
    (lambda p: [(p, p + 64), (p + 64, p + 128)], None),     # in two mapped pieces
    (lambda p: [(p - 64, p + 100)], "128 bytes from .* 28 bytes short"),
    (lambda p: [], None),                                   # memory the driver does not know
    (None, None),                                           # a driver that cannot be asked
])
def test_adopt_asks_the_driver(monkeypatch, spans, error):
    """adopt's driver glue, on a stand-in for the real driver (the simulator has none): the range
    asked about is the interface's, and an overrun is a ValueError naming ``out``."""
    from fastinit.cuda import arrays
    host = np.zeros((4, 8), np.float32)
    ptr = host.ctypes.data
    arr = types.SimpleNamespace(gpu_data=_Memory(ptr))
    synced = []

    def device_extents(mem):
        if spans is None:
            raise AttributeError("no such driver function")
        return next(((a, b) for a, b in spans(ptr) if a <= mem.at < b), None) or _raise()

    def _raise():
        raise arrays.driver.CudaAPIError(1, "CUDA_ERROR_INVALID_VALUE")
    monkeypatch.setattr(arrays, "SIMULATOR", False)
    monkeypatch.setattr(arrays.cuda, "from_cuda_array_interface", lambda cai, owner, sync: arr, raising=False)
    monkeypatch.setattr(arrays.cuda, "synchronize", lambda: synced.append(1), raising=False)
    monkeypatch.setattr(arrays.driver, "device_extents", device_extents, raising=False)
    monkeypatch.setattr(arrays.driver, "CudaAPIError", type("CudaAPIError", (Exception,), {}), raising=False)
    if error is None:
        assert arrays.adopt(ForeignArray(host)) is arr and synced
    else:
        with pytest.raises(ValueError, match="^out: .*" + error):
            arrays.adopt(ForeignArray(host))
        assert not synced


def test_adopt_names_out_when_numba_cannot_map_it(monkeypatch):
    from fastinit.cuda import arrays
    failure = type("CudaAPIError", (Exception,), {})

    def from_cuda_array_interface(cai, owner, sync):
        raise failure("[1] Call to cuPointerGetAttribute results in CUDA_ERROR_INVALID_VALUE")
    monkeypatch.setattr(arrays, "SIMULATOR", False)
    monkeypatch.setattr(arrays.cuda, "from_cuda_array_interface", from_cuda_array_interface, raising=False)
    monkeypatch.setattr(arrays.driver, "CudaAPIError", failure, raising=False)
    with pytest.raises(ValueError, match=r"^out: the driver refuses its __cuda_array_interface__ \(data "
                                         r"pointer 0x[0-9a-f]+, stream None\): .*CUDA_ERROR_INVALID_VALUE"):
        arrays.adopt(ForeignArray(np.zeros(3, np.float32)))


# --- bfloat16 on the GPU, and non-contiguous GPU outputs -----------------------------------------

BF16 = np.dtype(ml_dtypes.bfloat16)
#: the initializers that take a floating dtype (the Lux ComplexF16 ones make float16 pairs)
REAL_NAMES = [n for n in NAMES if not re.fullmatch(r"(zeros|ones|randn?)(C?(16|32|64))", n) and n != "stft"]


@pytest.mark.parametrize("name", REAL_NAMES)
def test_bfloat16_device_equals_host(name, monkeypatch):
    """``dtype="bfloat16", device="cuda"``: a numba device array of ml_dtypes.bfloat16 with the
    host's bits (orthogonal through the CuPy path, its float32 result rounded on the GPU)."""
    monkeypatch.setattr(fastinit.initializers, "_cupy", lambda: _NumpyCupy(linalg=np.linalg))
    cpu = _call(name, dtype="bfloat16")
    gpu = _call(name, device="cuda", dtype="bfloat16")
    assert cuda.devicearray.is_cuda_ndarray(gpu) and gpu.dtype == BF16
    host = _host(gpu)
    assert host.dtype == BF16
    if name == "orthogonal":  # cuSOLVER's QR (numpy's here) equals LAPACK's to rounding
        np.testing.assert_allclose(host.astype(np.float32), cpu.astype(np.float32), atol=1e-2)
    else:
        assert host.tobytes() == cpu.tobytes()


def _torch_like_bfloat16(host16):
    """A torch bfloat16 CUDA tensor as fastinit.torch hands it over: its int16 bits' interface,
    seen as bfloat16 (``_device.Viewed``)."""
    from fastinit._device import Viewed
    return Viewed(ForeignArray(host16, strides=host16.strides), BF16)


def test_bfloat16_out_through_its_bits():
    host = np.zeros((6, 11), np.int16)
    out = _torch_like_bfloat16(host)
    assert fastinit.truncated_normal(out=out, std=0.5, lo=-1.0, hi=1.0, seed=7) is out
    want = fastinit.truncated_normal(6, 11, std=0.5, lo=-1.0, hi=1.0, seed=7, dtype="bfloat16")
    assert host.tobytes() == want.tobytes()
    fastinit.eye(out=out, gain=3.0)
    assert host.tobytes() == fastinit.eye(6, 11, gain=3.0, dtype="bfloat16").tobytes()


def _strided_views(dtype):
    """(name, non-contiguous view of a zeroed host array, its base) of several layouts."""
    a = np.zeros((9, 14), dtype)
    b = np.zeros((4, 9, 6), dtype)
    c, d = np.zeros((10, 22), dtype), np.zeros((10, 22), dtype)
    return [("transpose", a.T, a), ("permuted", b.transpose(2, 0, 1), b), ("every other column", c[:, ::2], c),
            ("rows and columns", d[1:9:3, 2:20:4], d)]


def _offsets(view, base):
    """The flat indices into ``base`` of ``view``'s elements."""
    first = (view.__array_interface__["data"][0] - base.__array_interface__["data"][0]) // base.itemsize
    idx = np.indices(view.shape).reshape(view.ndim, -1)
    return first + sum(i * (s // base.itemsize) for i, s in zip(idx, view.strides))


def _foreign(view):
    if view.dtype == BF16:
        return _torch_like_bfloat16(view.view(np.int16))
    return ForeignArray(view, strides=view.strides)


STRIDED_CALLS = [("uniform", dict(low=-1.0, high=2.0, seed=2)), ("normal", dict(std=0.5, seed=3)),
                 ("truncated_normal", dict(std=0.5, lo=-0.5, hi=1.0, seed=4)), ("kaiming_uniform", dict(seed=5)),
                 ("constant", dict(value=1.5)), ("eye", dict(gain=2.0)), ("orthogonal", dict(seed=6)),
                 ("glorot_normal", dict(layout="jax", seed=8))]


@pytest.mark.parametrize("name, kw, dtype", [
    (name, kw, dtype) for name, kw in STRIDED_CALLS
    for dtype in (["float32", "bfloat16", "float16", "float64", "complex64", "complex128"]
                  if name in ("normal", "constant", "eye") else ["float32", "bfloat16"])])
def test_non_contiguous_out_gets_the_contiguous_values(name, kw, dtype, monkeypatch):
    """A non-contiguous GPU ``out`` (a transpose, a permutation, slices) gets the values a
    contiguous array of its shape would get; the memory between its elements is left alone.
    Chunks of 37 elements (an odd count) make chunk boundaries fall inside rows."""
    from fastinit.cuda import arrays
    monkeypatch.setattr(arrays, "CHUNK_BYTES", 37 * np.dtype(dtype).itemsize)
    f = fastinit.FUNCTIONS[name]
    for layout, view, base in _strided_views(np.dtype(dtype)):
        if name == "eye" and view.ndim != 2:
            continue
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", HostFallbackWarning)
            out = _foreign(view)
            assert f(out=out, **kw) is out
        want = f(view.shape, dtype=dtype, **kw)
        assert np.ascontiguousarray(view).tobytes() == want.tobytes(), layout
        mask = np.zeros(base.size, bool)
        mask[_offsets(view, base)] = True
        assert not base.reshape(-1)[~mask].view(np.uint8).any(), layout  # the rest still zero


def test_non_contiguous_numba_array_and_rows():
    """A simulator device array viewed through a transpose, and ``rows=`` into a sliced one."""
    d = cuda.to_device(np.zeros((12, 5), np.float32))
    t = d.T
    fastinit.normal(out=t, std=2.0, seed=9)
    assert np.ascontiguousarray(d.copy_to_host().T).tobytes() == fastinit.normal(5, 12, std=2.0, seed=9).tobytes()
    host = np.zeros((8, 10), np.float32)
    part = host[:, 1:8]
    fastinit.uniform(8, 7, out=ForeignArray(part[2:5], strides=part.strides), rows=slice(2, 5), seed=4)
    full = fastinit.uniform(8, 7, seed=4)
    assert np.array_equal(part[2:5], full[2:5]) and not part[:2].any() and not host[:, 8:].any()


def test_alternating_constant_in_chunks(monkeypatch):
    """Lux's ComplexF16 ones (float16 pairs 1, 0 in C order) into a transpose, in chunks of an
    odd length: the pattern follows C order across chunk boundaries."""
    from fastinit.cuda import arrays
    monkeypatch.setattr(arrays, "CHUNK_BYTES", 3 * 2)
    host = np.zeros((2, 7), np.float16)
    view = host.T  # (7, 2): seven (1, 0) pairs in C order
    fastinit.FUNCTIONS["onesC16"](out=ForeignArray(view, strides=view.strides))
    assert np.ascontiguousarray(view).tobytes() == fastinit.FUNCTIONS["onesC16"](7).tobytes()
    assert np.array_equal(host, [[1] * 7, [0] * 7])


@pytest.mark.parametrize("make, word", [
    (lambda h: ForeignArray(h, strides=(16, 0)), "share memory"),
    (lambda h: ForeignArray(h[::-1], strides=(-16, 4)), "non-negative multiples"),
])
def test_non_contiguous_out_refused(make, word):
    host = np.full((6, 4), 7.0, np.float32)
    with pytest.raises(ValueError, match=word):
        fastinit.normal(out=make(host), seed=0)
    assert np.all(host == 7.0)
