"""The GPU kernels' float math compiles to operations no compiler may contract.

numba-cuda compiles with NVVM's default ``-fma=1``: a plain float ``*`` or ``+`` becomes PTX
``mul.f32``/``add.f32`` (no rounding mode), which NVVM and ptxas may fuse into an fma, so the GPU
would round once where the CPU rounds twice. The kernels' shared math therefore uses ``fma`` and
``bits.mul``/``add``/``sub`` (libdevice's ``__nv_*_rn`` on the GPU) only. For every kernel and
output dtype, with the argument types its launch in ``fastinit.cuda.launch`` passes, this checks
the PTX: no ``mul``/``add``/``sub`` without ``.rn`` is left for ptxas, and NVVM fused nothing (as
many ``fma.rn`` as when NVVM is told ``-fma=0``). It needs NVVM (``cuda.compile_ptx``), so it runs
on a GPU machine and is skipped in the simulator.
"""
import re
from types import SimpleNamespace

import numba
import numpy as np
import pytest
from numba import cuda, types

from fastinit.cuda.arrays import SIMULATOR

PLAIN = re.compile(r"\b(mul|add|sub)\.f(32|64)\b")  # no rounding mode: contractible
FMA = re.compile(r"\bfma\.rn\.f(32|64)\b")
OUTS = ["float32", "float64", "uint16", "int16"]  # flat outputs; uint16: float16 bits, int16: bfloat16


def _no_nvvm():
    """Why NVVM cannot be used here, or None."""
    if SIMULATOR:
        return "needs NVVM: cuda.compile_ptx is not available in the CUDA simulator"
    try:
        from numba.cuda.cudadrv.nvvm import NVVM
        NVVM()
    except Exception as e:  # no CUDA toolkit
        return f"needs NVVM: {e}"
    return None


_SKIP = _no_nvvm()
pytestmark = pytest.mark.skipif(_SKIP is not None, reason=_SKIP or "")


class _Capture:
    """Stands in for a kernel: records the argument types of each launch instead of running it."""

    def __init__(self, kernel):
        self.kernel = kernel
        self.sigs = []

    def __getitem__(self, config):
        return lambda *args: self.sigs.append(types.void(*(numba.typeof(a) for a in args)))


def _launches(monkeypatch, fill, out):
    """(kernel, signature) of each kernel launch that ``fill`` makes for the flat ``out``."""
    from fastinit.cuda import constant, launch, normal, polar, sparse, truncnorm, uniform
    caps = []
    with monkeypatch.context() as m:
        for mod, name in [(uniform, "uniform"), (normal, "normal"), (truncnorm, "truncnorm"),
                          (sparse, "sparse"), (constant, "constant"), (constant, "scatter"),
                          (polar, "polar")]:
            cap = _Capture(getattr(mod, name))
            m.setattr(mod, name, cap)
            caps.append(cap)
        m.setattr(launch.cuda, "to_device", lambda a: a)  # small host arrays (no GPU to copy them to)
        if fill == "uniform":
            launch.fill_uniform(out, 1, 0, -1.0, 2.0, -1.0, 0.99)
        elif fill == "normal":
            launch.fill_normal(out, 1, 0, np.zeros(2), 1.0)
        elif fill == "truncnorm":
            p = (0.0, 1.0, -2.0, 2.0, 1.0, -2.0, 4.0, 0.0, 1.0)  # mean, std, a, b, lam, lo, width, m, ilam
            launch.fill_truncnorm(out, 1, 0, 0, p, -2.0, 2.0)
        elif fill == "sparse":  # 100 x 3: h, dl = sparse_domain(100)
            launch.fill_sparse(out, 1, 0, 100, out.size // 100, 10, 1.0, 3, 13)
        elif fill == "polar":  # 1: TRUNCATED (log and sincos)
            launch.polar_(out, 1, 0.98, 0.5)
        elif fill == "scatter":
            launch.scatter(out, np.arange(3), np.ones(3, out.dtype))
        else:
            launch.fill_constant(out, out.dtype.type(1))
    return [(cap.kernel, sig) for cap in caps for sig in dict.fromkeys(cap.sigs)]


@pytest.fixture
def cc(monkeypatch):
    """The compute capability to compile for: the device's, else (8, 0) (NVVM without a GPU:
    numba-cuda asks the current device when it compiles the @njit functions a kernel calls)."""
    try:
        return cuda.get_current_device().compute_capability
    except Exception:
        import numba.cuda.dispatcher as dispatcher
        monkeypatch.setattr(dispatcher, "get_current_device",
                            lambda: SimpleNamespace(compute_capability=(8, 0)))
        return (8, 0)


def _ptx(kernel, sig, cc, monkeypatch, fma=True):
    """The kernel's PTX; with ``fma=False``, compiled with NVVM's -fma=0 (no contraction)."""
    if fma:
        return cuda.compile_ptx(kernel.py_func, sig, cc=cc)[0]
    from numba.cuda.cudadrv import nvvm
    compile_ir, calls = nvvm.compile_ir, []

    def no_fma(llvmir, **options):
        calls.append(1)
        return compile_ir(llvmir, **dict(options, fma=False))

    with monkeypatch.context() as m:
        m.setattr(nvvm, "compile_ir", no_fma)
        ptx = cuda.compile_ptx(kernel.py_func, sig, cc=cc)[0]
    assert calls, "the -fma=0 compile did not go through nvvm.compile_ir"
    return ptx


@pytest.mark.parametrize("fill, out", [(f, o) for f in ("uniform", "normal", "truncnorm", "sparse",
                                                        "constant", "scatter", "polar")
                                       for o in OUTS if not (f == "polar" and o in ("uint16", "int16"))])
def test_no_contractible_float_ops(fill, out, cc, monkeypatch):
    launches = _launches(monkeypatch, fill, np.zeros(300, out))
    assert launches
    for kernel, sig in launches:
        ptx = _ptx(kernel, sig, cc, monkeypatch)
        plain = [line.strip() for line in ptx.splitlines() if PLAIN.search(line)]
        assert not plain, f"{kernel.py_func.__name__}{sig}: {len(plain)} contractible: {plain[:5]}"
        exact = _ptx(kernel, sig, cc, monkeypatch, fma=False)
        assert len(FMA.findall(ptx)) == len(FMA.findall(exact)), \
            f"{kernel.py_func.__name__}{sig}: NVVM fused a multiply and an add"


@pytest.mark.parametrize("word", ["uint8", "uint16", "uint32", "uint64"])
def test_strided_copy_compiles(word, cc):
    """The copy between a non-contiguous GPU output and its chunks (``cuda.arrays.strided_blocks``)
    compiles for every word size, with the argument types its launch passes."""
    from fastinit.cuda.constant import strided_copy
    words = types.Array(numba.from_dtype(np.dtype(word)), 1, "C")
    index = types.Array(types.int64, 1, "C")
    sig = types.void(words, words, types.int64, index, index, types.int64, types.boolean)
    ptx = cuda.compile_ptx(strided_copy.py_func, sig, cc=cc)[0]
    assert re.search(r"\bst\.global\.(u|b)" + str(8 * np.dtype(word).itemsize), ptx)
