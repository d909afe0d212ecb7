"""Where a tensor is made: the ``device`` argument and the GPU arrays ``out`` may be.

``device`` is ``None`` (the host, or ``out``'s device), ``"cpu"``, ``"cuda"`` (the current
GPU) or ``"cuda:N"``; a ``torch.device`` or anything whose ``str`` is one of those works too.
A GPU ``out`` is any object with ``__cuda_array_interface__`` (CuPy arrays, torch CUDA tensors,
numba device arrays) or a device array of Numba's CUDA simulator. Nothing here imports
numba.cuda: the GPU side (:mod:`fastinit.cuda`) loads on the first call that needs it, so
``import fastinit`` never needs a GPU or the CUDA toolkit.
"""
from __future__ import annotations

import math
import re
from typing import Any, NamedTuple

import numpy as np

#: what ``out`` may be and what the calls return: a numpy array, or a GPU array (CuPy, torch CUDA,
#: numba device array) on the GPU
Array = Any
#: ``None``, ``"cpu"``, ``"cuda"``, ``"cuda:N"`` (or a ``torch.device``)
Device = Any

_CUDA = re.compile(r"cuda(?::(\d+))?\Z")


class Cuda(NamedTuple):
    """A GPU: ``index`` None for the current device, else its ordinal."""
    index: int | None = None

    def __str__(self) -> str:
        return "cuda" if self.index is None else f"cuda:{self.index}"


class GpuArray(NamedTuple):
    """What a GPU ``out`` says about itself (its ``__cuda_array_interface__``)."""
    shape: tuple
    dtype: np.dtype
    c_contiguous: bool
    readonly: bool


def _simulated(obj: Any) -> bool:
    """A device array of Numba's CUDA simulator (host memory; no ``__cuda_array_interface__``)."""
    return type(obj).__module__.startswith("numba.cuda.simulator")


def on_gpu(obj: Any) -> bool:
    """Whether ``obj`` is a GPU array that ``out`` may be."""
    if isinstance(obj, np.ndarray):
        return False
    try:
        return hasattr(obj, "__cuda_array_interface__") or _simulated(obj)
    except Exception:  # torch raises RuntimeError for a CUDA tensor that requires grad
        return True


def interface(out: Any) -> dict:
    """``out.__cuda_array_interface__``; for a torch tensor that requires grad (a Parameter), its
    ``detach()``'s, which is the same memory (torch refuses to export the tensor itself)."""
    try:
        return out.__cuda_array_interface__
    except RuntimeError:
        if not hasattr(out, "detach"):
            raise
        return out.detach().__cuda_array_interface__


def ordinal(out: Any) -> int | None:
    """The GPU that ``out`` lives on, where its library says (torch: ``device.index``, CuPy:
    ``device.id``); ``None`` when it does not (numba arrays: the current GPU's)."""
    dev = getattr(out, "device", None)
    for attr in ("index", "id"):
        idx = getattr(dev, attr, None)
        if isinstance(idx, int) and not isinstance(idx, bool):
            return idx
    return None


def resolve(device: Any, out: Any) -> Cuda | None:
    """``device`` as ``None`` (the host) or a :class:`Cuda`; ``None`` follows ``out`` (and its
    GPU, where it says which). ``ValueError`` for an unknown device or one that contradicts
    ``out``."""
    gpu_out = out is not None and on_gpu(out)
    if device is None:
        return Cuda(ordinal(out)) if gpu_out else None
    if isinstance(device, Cuda):
        dev = device
    else:
        name = str(device).strip().lower() if isinstance(device, str) or hasattr(device, "type") else None
        m = _CUDA.match(name) if name is not None else None
        if name == "cpu":
            dev = None
        elif m:
            dev = Cuda(None if m.group(1) is None else int(m.group(1)))
        else:
            raise ValueError(f"device: expected 'cpu', 'cuda' or 'cuda:N', got {device!r}")
    if out is not None and (dev is None) == gpu_out:
        where = "a GPU array" if gpu_out else "a host (numpy) array"
        raise ValueError(f"out: {where} does not live on device={str(device)!r}")
    if gpu_out:
        at = ordinal(out)
        if at is not None and dev.index is not None and at != dev.index:
            raise ValueError(f"out: lives on cuda:{at}, not on device={str(device)!r}")
        if at is not None:
            dev = Cuda(at)
    return dev


def describe(out: Any) -> GpuArray:
    """Shape, dtype, contiguity and writability of a GPU ``out``, from its
    ``__cuda_array_interface__`` (``TypeError`` when that is malformed or masked)."""
    if _simulated(out):
        return GpuArray(tuple(out.shape), np.dtype(out.dtype), bool(out.is_c_contiguous()), False)
    try:
        cai = interface(out)
        shape = tuple(int(d) for d in cai["shape"])
        dtype = np.dtype(cai["typestr"])
        readonly = bool(cai["data"][1])
        strides = cai.get("strides")
    except (AttributeError, KeyError, TypeError, ValueError, IndexError, RuntimeError) as e:
        raise TypeError(f"out: not a usable __cuda_array_interface__ ({type(out).__name__}: {e})") from None
    if cai.get("mask") is not None:
        raise TypeError("out: masked GPU arrays are not supported")
    return GpuArray(shape, dtype, _c_contiguous(shape, strides, dtype.itemsize), readonly)


def _c_contiguous(shape: tuple, strides: Any, itemsize: int) -> bool:
    if strides is None or math.prod(shape) == 0:
        return True
    expected = itemsize
    for d, s in zip(reversed(shape), reversed(tuple(strides))):
        if d != 1 and s != expected:
            return False
        expected *= d
    return True


def check_out(info: GpuArray, shape: tuple, dtype: np.dtype) -> None:
    """The GPU twin of ``_checks.check_out``: the same errors, in the same order."""
    if info.dtype != dtype:
        raise TypeError(f"out: dtype {info.dtype.name} does not match dtype {dtype.name}")
    if info.shape != shape:
        raise ValueError(f"out: shape {info.shape} does not match the requested shape {shape}")
    if info.readonly:
        raise ValueError("out: the array is read-only")
    if not info.c_contiguous:
        raise ValueError("out: the array must be C-contiguous")
