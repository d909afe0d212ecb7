"""GPU arrays for the public API: allocation, adopting an ``out`` through its
``__cuda_array_interface__``, host copies, synchronization, and the check that a GPU is there at
all. The checks of ``out`` itself (its interface's consistency, shape, dtype, contiguity,
read-only) are made before this module is reached, in ``fastinit._device``; on a GPU,
:func:`adopt` also asks the driver whether ``out``'s memory is as large as its shape says."""
from __future__ import annotations

import contextlib
import ctypes
import math
from typing import Any

import numpy as np
from numba import cuda
from numba.cuda.cudadrv import driver
from numba.cuda.cudadrv.devicearray import is_cuda_ndarray

from .._device import Cuda, Viewed, checked_interface

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
    as they are, anything else through its ``__cuda_array_interface__`` (checked again by
    :func:`fastinit._device.checked_interface`; on a GPU, its bytes must also lie in memory the
    driver has allocated, :func:`check_memory`), once the work already queued on the GPU (by
    ``out``'s library, on any stream) has finished."""
    if is_cuda_ndarray(out):
        return out
    arr = _adopt(out)
    return arr.view(out.dtype) if isinstance(out, Viewed) else arr  # a torch bfloat16 tensor's bits


def _adopt(out: Any):
    cai = checked_interface(out)
    dtype, shape, strides = np.dtype(cai["typestr"]), cai["shape"], cai["strides"]
    size = _extent_bytes(shape, strides, dtype.itemsize)
    if not SIMULATOR:
        ptr = cai["data"][0]
        try:
            arr = cuda.from_cuda_array_interface(cai, owner=out, sync=True)
        except driver.CudaAPIError as e:  # the pointer is not in this context, or the stream is not one
            raise ValueError(f"out: the driver refuses its __cuda_array_interface__ (data pointer {ptr:#x}, "
                             f"stream {cai['stream']}): {e}") from None
        if size:  # in the device's address space (the interface's, with unified addressing)
            dptr = getattr(arr.gpu_data, "device_pointer_value", None) or ptr
            check_memory(dptr, size, lambda at: _extent(arr.gpu_data, at - dptr))
        # the owner's pending work may be on a stream the interface does not name (torch's is
        # version 2, without one): let all of it finish before the fill writes
        cuda.synchronize()
        return arr
    # the simulator's "device" memory is host memory: view it in place (nothing to check it by)
    buf = (ctypes.c_char * size).from_address(cai["data"][0]) if size else bytearray()
    host = np.ndarray(shape, dtype, buffer=buf, strides=strides if size else None)
    from numba.cuda.cudadrv.devicearray import FakeCUDAArray  # the simulator's device array
    return FakeCUDAArray(host)


def _extent_bytes(shape: tuple, strides: tuple | None, itemsize: int) -> int:
    """The bytes from an array's first element to the end of its last (non-negative strides, as
    ``_device.check_out`` requires of a GPU ``out``)."""
    if not math.prod(shape):
        return 0
    if strides is None:
        return math.prod(shape) * itemsize
    return sum((n - 1) * s for n, s in zip(shape, strides)) + itemsize


#: the bytes of the contiguous chunk through which a non-contiguous GPU array is filled
CHUNK_BYTES = 64 << 20


def strided_blocks(arr, load: bool = False):
    """(contiguous flat device array, flat C-order index of its first element) covering the
    non-contiguous device array ``arr`` (non-negative strides, distinct elements), chunk by
    chunk (at most :data:`CHUNK_BYTES`): each chunk is copied into ``arr`` on the GPU once the
    caller has filled it (``load``: holding ``arr``'s values first, for an in-place kernel).
    No temporary of ``arr``'s size is made."""
    from .constant import strided_copy
    from .launch import THREADS_PER_BLOCK, _stride_grid
    size = arr.dtype.itemsize
    parts, word = (2, np.dtype(np.uint64)) if size == 16 else (1, np.dtype(f"u{size}"))
    shape = cuda.to_device(np.array(arr.shape, np.int64))
    estrides = cuda.to_device(np.array([s // size for s in arr.strides], np.int64))
    memory = span(arr).view(word)
    limit = max(1, CHUNK_BYTES // size)
    buf = cuda.device_array(min(limit, arr.size) * parts, word)
    for start in range(0, arr.size, limit):
        n = min(limit, arr.size - start)
        chunk = buf[:n * parts]
        grid = (_stride_grid(n), THREADS_PER_BLOCK)
        if load:
            strided_copy[grid](memory, chunk, np.int64(start), shape, estrides, np.int64(parts), False)
        yield chunk.view(arr.dtype), start
        strided_copy[grid](memory, chunk, np.int64(start), shape, estrides, np.int64(parts), True)


def span(arr):
    """A flat device array of ``arr``'s dtype over the memory from ``arr``'s first element to its
    last (the elements between them included)."""
    n = _extent_bytes(arr.shape, tuple(arr.strides), arr.dtype.itemsize) // arr.dtype.itemsize
    if SIMULATOR:
        from numba.cuda.cudadrv.devicearray import FakeCUDAArray
        host = arr._ary  # the simulator array's host memory
        return FakeCUDAArray(np.lib.stride_tricks.as_strided(host, (n,), (arr.dtype.itemsize,)))
    from numba.cuda.cudadrv.devicearray import DeviceNDArray
    return DeviceNDArray((n,), (arr.dtype.itemsize,), arr.dtype, stream=arr.stream, gpu_data=arr.gpu_data)


#: the most allocations whose contiguous mappings :func:`check_memory` follows (virtual memory
#: in 2 MiB or 20 MiB pieces, as torch's expandable segments map it) before it stops checking
MAX_PIECES = 4096


def check_memory(ptr: int, nbytes: int, extent) -> None:
    """``ValueError`` naming ``out`` unless the ``nbytes`` bytes from ``ptr`` lie in GPU memory the
    driver has allocated: the allocation holding ``ptr`` or, for virtual memory mapped piece by
    piece, the pieces mapped right after it. ``extent(address)`` gives the ``(start, end)`` of
    the allocation holding ``address`` (``cuMemGetAddressRange``), or ``None`` where the driver
    knows of none.

    This catches an interface whose shape runs past the end of its memory into memory that is
    not allocated. It cannot see one that runs into a neighbouring allocation (or, in a caching
    allocator's pool, into a neighbouring tensor of the same block); memory the driver does not
    describe (``extent(ptr)`` is ``None``: system memory on HMM/ATS machines, say) and arrays of
    more than :data:`MAX_PIECES` pieces go unchecked."""
    end = ptr + nbytes
    at = ptr
    for _ in range(MAX_PIECES):
        span = extent(at)
        if span is None and at == ptr:
            return
        if span is None:
            raise ValueError(f"out: its __cuda_array_interface__ describes {nbytes} bytes from {ptr:#x}, "
                             f"but the GPU memory allocated there ends at {at:#x}, {end - at} bytes "
                             f"short (is its shape larger than its buffer?)")
        start, stop = span
        if not start <= at < stop or stop >= end:  # all there (or an answer that makes no sense)
            return
        at = stop


def _extent(mem, offset: int) -> tuple[int, int] | None:
    """The ``(start, end)`` of the allocation holding the byte ``offset`` bytes into numba
    memory ``mem``; ``None`` where the driver knows of none (or cannot be asked)."""
    try:
        start, stop = driver.device_extents(mem.view(offset))
        return int(start), int(stop)
    except Exception:  # CudaAPIError (not allocated memory), or a numba without device_extents
        return None


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
