"""The ``device`` argument and GPU ``out`` arrays, without a GPU: parsing, the checks of ``out``
(which all run before the GPU is touched), the error where there is no GPU, and that ``import
fastinit`` never loads numba.cuda. The GPU fills themselves are tested in tests/cuda."""
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import fastinit
from fastinit import _device
from specs import ForeignArray


class TorchLikeDevice:
    """What torch.device looks like to fastinit: a ``type`` and a ``str``."""
    type = "cuda"

    def __str__(self):
        return "cuda:1"


@pytest.mark.parametrize("device, expected", [
    (None, None), ("cpu", None), ("CPU", None), ("cuda", _device.Cuda()), ("cuda:0", _device.Cuda(0)),
    (" cuda:3 ", _device.Cuda(3)), (TorchLikeDevice(), _device.Cuda(1))])
def test_resolve(device, expected):
    assert _device.resolve(device, None) == expected


def test_out_decides_the_device():
    assert _device.resolve(None, np.zeros(3)) is None
    assert _device.resolve(None, ForeignArray(np.zeros(3))) == _device.Cuda()


@pytest.mark.parametrize("device", ["gpu", "cuda:", "cuda:-1", "tpu", 0, 1.5])
def test_unknown_device(device):
    with pytest.raises(ValueError, match="device: expected 'cpu', 'cuda' or 'cuda:N'"):
        fastinit.normal(4, device=device)


@pytest.mark.parametrize("shape, strides, contiguous", [
    ((4, 6), None, True), ((4, 6), (24, 4), True), ((4, 6), (4, 16), False), ((4, 1, 6), (24, 999, 4), True),
    ((0, 6), (4, 16), True), ((6,), (8,), False)])
def test_contiguity_from_strides(shape, strides, contiguous):
    out = ForeignArray(np.zeros(shape, np.float32), strides=strides)
    assert _device.describe(out).c_contiguous is contiguous


@pytest.mark.parametrize("make, error, word", [
    (lambda h: ForeignArray(h, typestr="<f8"), TypeError, "out: dtype float64 does not match dtype float32"),
    (lambda h: ForeignArray(h, readonly=True), ValueError, "out: the array is read-only"),
    (lambda h: ForeignArray(h, strides=(4, 0)), ValueError, "out: elements of this GPU array .* share memory"),
    (lambda h: ForeignArray(h.reshape(3, 8)), ValueError, r"out: shape \(3, 8\) does not match"),
    (lambda h: type("Broken", (), {"__cuda_array_interface__": {"shape": (6, 4)}})(), TypeError,
     "out: not a usable __cuda_array_interface__"),
])
def test_bad_gpu_out_raises_before_the_gpu(make, error, word):
    host = np.full((6, 4), 7.0, np.float32)
    with pytest.raises(error, match=word):
        fastinit.normal(6, 4, dtype="float32", out=make(host), seed=1)
    assert np.all(host == 7.0)


def test_gpu_out_gives_shape_and_dtype():
    out = ForeignArray(np.zeros((3, 5), np.float16))
    with pytest.raises(TypeError, match="out: dtype float16 does not match dtype float64"):
        fastinit.normal(out=out, dtype="float64")
    with pytest.raises(ValueError, match="out: a GPU array does not live on device='cpu'"):
        fastinit.kaiming_normal(out=out, device="cpu")
    with pytest.raises(ValueError, match=r"out: a host \(numpy\) array does not live on device='cuda'"):
        fastinit.zeros(out=np.zeros(3), device="cuda")


class OnGpu1(ForeignArray):
    """A torch/CuPy-like GPU array that says which GPU it is on."""
    device = type("Device", (), {"type": "cuda", "index": 1})()


def test_out_on_another_gpu():
    out = OnGpu1(np.zeros(4, np.float32))
    assert _device.resolve(None, out) == _device.Cuda(1)
    assert _device.resolve("cuda", out) == _device.Cuda(1)
    assert _device.resolve("cuda:1", out) == _device.Cuda(1)
    with pytest.raises(ValueError, match="out: lives on cuda:1, not on device='cuda:0'"):
        fastinit.normal(out=out, device="cuda:0")


class RequiresGrad:
    """What a torch Parameter on the GPU does: refuses to export itself, exports its detach()."""

    def __init__(self, host):
        self.host = host

    @property
    def __cuda_array_interface__(self):
        raise RuntimeError("Can't get __cuda_array_interface__ on Variable that requires grad.")

    def detach(self):
        return ForeignArray(self.host)


def test_out_that_requires_grad():
    out = RequiresGrad(np.zeros((2, 3), np.float16))
    assert _device.on_gpu(out)
    assert _device.describe(out) == _device.GpuArray((2, 3), np.dtype(np.float16), True, False)
    with pytest.raises(TypeError, match="out: dtype float16 does not match dtype float32"):
        fastinit.kaiming_uniform(out=out, dtype="float32")


def test_device_checked_when_bound():
    with pytest.raises(ValueError, match="device: expected 'cpu', 'cuda' or 'cuda:N', got 'gpu'"):
        fastinit.normal(std=2.0, device="gpu")


def test_bad_gpu_outs_from_threads():
    """Eight threads with bad GPU outputs at once: each error names ``out``, nothing is written."""
    from concurrent.futures import ThreadPoolExecutor
    hosts = [np.full((6, 4), 7.0, np.float32) for _ in range(8)]

    def call(i):
        out = ForeignArray(hosts[i], readonly=i % 2 == 0, typestr="<f4" if i % 2 == 0 else "<f8")
        try:
            fastinit.truncated_normal(6, 4, dtype="float32", out=out, seed=i)
        except (TypeError, ValueError) as e:
            return str(e)
    with ThreadPoolExecutor(8) as pool:
        errors = list(pool.map(call, range(8)))
    assert all(e is not None and e.startswith("out: ") for e in errors), errors
    assert all(np.all(h == 7.0) for h in hosts)


def test_device_in_config_only_when_bound():
    assert "device" not in fastinit.normal(std=2.0).get_config()
    init = fastinit.normal(std=2.0, device="cpu")
    assert init.get_config()["device"] == "cpu"
    assert fastinit.Initializer.from_config(init.get_config()) == init
    assert init(3, 4, seed=1).tobytes() == fastinit.normal(3, 4, std=2.0, seed=1).tobytes()


def test_no_gpu_is_a_clear_error_and_import_needs_none():
    code = textwrap.dedent("""
        import sys
        import fastinit
        assert "numba.cuda" not in sys.modules, "import fastinit loaded numba.cuda"
        fastinit.seed(5)
        w = fastinit.normal(3)
        assert "numba.cuda" not in sys.modules, "a host fill loaded numba.cuda"
        calls = [lambda: fastinit.normal(3, device="cuda"), lambda: fastinit.orthogonal(4, 4, device="cuda"),
                 lambda: fastinit.delta_orthogonal(3, 4, 4, device="cuda"),
                 lambda: fastinit.variance_scaling(3, 3, dtype="complex64", layout="jax", device="cuda")]
        for call in calls:
            fastinit.seed(5)
            try:
                call()
            except RuntimeError as e:
                print(e)
            else:
                raise SystemExit("no error")
            assert fastinit.normal(3).tobytes() == w.tobytes(), "a failed call advanced the global seed"
    """)
    env = {"NUMBA_DISABLE_CUDA": "1", "PATH": "/usr/bin:/bin"}
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env, timeout=300)
    assert r.returncode == 0, r.stderr
    assert "device='cuda': no CUDA GPU is available" in r.stdout
    assert "NUMBA_ENABLE_CUDASIM=1" in r.stdout
