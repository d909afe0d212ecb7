"""GPU arrays for the public API: allocation, adopting an ``out`` through its
``__cuda_array_interface__``, host copies, synchronization, and the check that a GPU is there at
all. The checks of ``out`` itself (shape, dtype, contiguity, read-only) are made
before this module is reached, in ``fastinit._device``."""
from __future__ import annotations

import contextlib
import ctypes
from typing import Any

import numpy as np
from numba import cuda
from numba.cuda.cudadrv.devicearray import is_cuda_ndarray

from .._device import Cuda, interface

#: kernels run on Numba's CUDA simulator, in host memory (numba.cuda is then the simulator's)
SIMULATOR = is_cuda_ndarray.__module__.startswith("numba.cuda.simulator")


def require(dev: Cuda) -> None:
    """``RuntimeError`` unless ``dev`` is a usable GPU (Numba's CUDA simulator counts as one)."""
    if not cuda.is_available():
        raise RuntimeError(f"device={str(dev)!r}: no CUDA GPU is available (numba.cuda.is_available() "
                           f"is False: no GPU, no driver or no CUDA toolkit; set NUMBA_ENABLE_CUDASIM=1 "
                           f"to run the kernels on Numba's CUDA simulator)")
    if dev.index is not None and not 0 <= dev.index < len(cuda.gpus):
        raise ValueError(f"device: there is no {dev} (this machine has {len(cuda.gpus)} GPU(s))")


def context(dev: Cuda):
    """The context to allocate and launch in: ``dev``'s, or the current one."""
    return contextlib.nullcontext() if dev.index is None else cuda.gpus[dev.index]


def empty(shape: tuple, dtype: np.dtype):
    """A new numba device array."""
    return cuda.device_array(shape, dtype)


def adopt(out: Any):
    """``out`` as a numba device array on the same memory (no copy): numba and simulator arrays
    as they are, anything else through its ``__cuda_array_interface__``, once the work already
    queued on the GPU (by ``out``'s library, on any stream) has finished."""
    if is_cuda_ndarray(out):
        return out
    cai = interface(out)
    if not SIMULATOR:
        arr = cuda.from_cuda_array_interface(cai, owner=out, sync=True)
        # the owner's pending work may be on a stream the interface does not name (torch's is
        # version 2, without one): let all of it finish before the fill writes
        cuda.synchronize()
        return arr
    # the simulator's "device" memory is host memory: view it in place
    dtype, shape = np.dtype(cai["typestr"]), tuple(cai["shape"])
    size = int(np.prod(shape)) * dtype.itemsize
    buf = (ctypes.c_char * size).from_address(cai["data"][0]) if size else bytearray()
    host = np.frombuffer(buf, dtype).reshape(shape)
    from numba.cuda.cudadrv.devicearray import FakeCUDAArray  # the simulator's device array
    return FakeCUDAArray(host)


def finish(out: Any, *, always: bool = False) -> None:
    """Wait for the GPU's queued work when ``out`` belongs to another library (CuPy, torch), whose
    work may run on other streams (or ``always``); numba's own arrays keep numba's stream order."""
    if always or (out is not None and not is_cuda_ndarray(out)):
        cuda.synchronize()


def upload(arr, host: np.ndarray) -> None:
    """Copy the host array ``host`` (broadcast to ``arr``'s shape, cast to its dtype) into ``arr``."""
    staged = np.empty(arr.shape, arr.dtype)  # contiguous, in the output's dtype
    staged[...] = host
    arr.copy_to_device(staged)
