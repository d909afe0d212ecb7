"""bench/gpu.py's fills as pytest-benchmark cases: fastinit beside torch.cuda and CuPy, and the
write and copy ceilings, one group per dtype; every timed call ends with a synchronize.

Skipped where there is no GPU; ``NUMBA_ENABLE_CUDASIM=1`` runs them on Numba's CUDA simulator
(tiny sizes only). Size: ``FASTINIT_BENCH_GPU_SIZE`` elements (default 10^8)."""
import functools
import os
from functools import partial

import pytest

import gpu
from cases import DTYPES, check, shape_for

if (_no_gpu := gpu.unavailable()) is not None:
    pytest.skip(_no_gpu, allow_module_level=True)

SIZE = int(os.environ.get("FASTINIT_BENCH_GPU_SIZE", 10**8))
LIBS = gpu.libraries()  # numba, and torch and CuPy where they see the GPU


@functools.cache
def _buffers(dtype):
    """(the array every case of ``dtype`` fills, a copy source): numba device arrays of SIZE."""
    cuda = gpu.numba_cuda()
    return cuda.device_array(SIZE, dtype), cuda.device_array(SIZE, dtype)


@functools.cache
def _cupy_rng():
    return gpu.cupy.random.default_rng(0)


def _params():
    for case in gpu.GPU_CASES.values():
        for dtype in DTYPES:
            libs = ["fastinit"] + ["torch"] * bool("torch" in LIBS and case.torch) + \
                   ["cupy"] * bool("cupy" in LIBS and case.cupy)
            for lib in libs:
                yield pytest.param(case, dtype, lib, id=f"{case.name}-{dtype}-{lib}".replace(" ", ""))


def _validate(case, lib, target):
    """fastinit must give valid values; a peer is skipped where it gives inf or nan."""
    if problem := check(case, gpu.to_host(target)):
        if lib == "fastinit":
            pytest.fail(f"fastinit: {problem}")
        if problem == "inf/nan":
            pytest.skip(f"{lib}: {problem}")


@pytest.mark.parametrize("case, dtype, lib", list(_params()))
def test_gpu_fill(bench_fill, case, dtype, lib):
    buf = _buffers(dtype)[0]
    n = min(SIZE, case.torch_cap or SIZE) if lib == "torch" else SIZE
    target = gpu.view(buf, "numba" if lib == "fastinit" else lib, shape_for(case, n))
    fill = {"fastinit": lambda t: case.fastinit(out=t), "torch": case.torch,
            "cupy": lambda a: case.cupy(a, _cupy_rng())}[lib]
    gpu.poison(buf)
    try:
        fill(target)  # compiles, so that bench_fill's warm-up times the fill alone
        bench_fill(gpu.synced(fill), target, f"gpu {dtype}", validate=partial(_validate, case, lib))
    except (RuntimeError, TypeError, ValueError, NotImplementedError) as e:
        if lib == "fastinit":
            raise
        pytest.skip(f"{lib} fails here: {type(e).__name__}: {e}")


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("label, lib, fn", [pytest.param(label, lib, fn, id=label.split(" (")[0].replace(" ", ""))
                                            for _, label, lib, fn in gpu.CEILINGS if lib in LIBS])
def test_gpu_ceiling(bench_fill, dtype, label, lib, fn):
    """A pure write of the array, or a copy into it (GB/s in extra_info counts the bytes written,
    half of those a copy moves)."""
    buf, src = _buffers(dtype)
    dst, s = gpu.view(buf, lib), gpu.view(src, lib)
    bench_fill(gpu.synced(lambda d: fn(d, s)), dst, f"gpu {dtype}")
