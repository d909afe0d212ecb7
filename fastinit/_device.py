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
import numbers
import re
from typing import Any, NamedTuple

import numpy as np

#: what ``out`` may be and what the calls return: a numpy array, or a GPU array (CuPy, torch CUDA,
#: numba device array) on the GPU
Array = Any
#: ``None``, ``"cpu"``, ``"cuda"``, ``"cuda:N"`` (or a ``torch.device``)
Device = Any
#: a block of a tensor: one ``slice(a, b)`` (step 1) per leading axis; the rest are whole
Block = Any

_CUDA = re.compile(r"cuda(?::(\d+))?\Z")


def _shown(value) -> str:
    from ._checks import shown  # _checks imports this module: imported when an error is raised
    return shown(value)


class Cuda(NamedTuple):
    """A GPU: ``index`` None for the current device, else its ordinal."""
    index: int | None = None

    def __str__(self) -> str:
        return "cuda" if self.index is None else f"cuda:{self.index}"


class GpuArray(NamedTuple):
    """What a GPU ``out`` says about itself (its ``__cuda_array_interface__``): ``strides`` in
    bytes, ``None`` for C order."""
    shape: tuple
    dtype: np.dtype
    c_contiguous: bool
    readonly: bool
    strides: tuple | None = None


class Viewed:
    """A GPU array seen with another dtype of the same size: a torch bfloat16 CUDA tensor is
    given as its int16 view (torch exports no bfloat16 ``__cuda_array_interface__``, and the
    interface's typestr cannot name bfloat16) seen as ``ml_dtypes.bfloat16``. ``device`` is
    the array's, so that :func:`ordinal` finds its GPU."""

    __slots__ = ("array", "dtype", "device")

    def __init__(self, array: Any, dtype: np.dtype) -> None:
        self.array = array
        self.dtype = np.dtype(dtype)
        self.device = getattr(array, "device", None)

    @property
    def __cuda_array_interface__(self) -> dict:
        return interface(self.array)


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
            raise ValueError(f"device: expected 'cpu', 'cuda' or 'cuda:N', got {_shown(device)}")
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
    ``__cuda_array_interface__``, once :func:`checked_interface` has found it consistent."""
    if _simulated(out):
        return GpuArray(tuple(out.shape), np.dtype(out.dtype), bool(out.is_c_contiguous()), False,
                        tuple(out.strides))
    cai = checked_interface(out)
    dtype = out.dtype if isinstance(out, Viewed) else np.dtype(cai["typestr"])
    strides = cai["strides"]
    return GpuArray(cai["shape"], dtype, _c_contiguous(cai["shape"], strides, dtype.itemsize),
                    cai["data"][1], strides)


def _is_int(v: Any) -> bool:
    return isinstance(v, (numbers.Integral, np.integer)) and not isinstance(v, (bool, np.bool_))


def checked_interface(out: Any) -> dict:
    """``out``'s ``__cuda_array_interface__``, checked for consistency and normalized (Python
    ints, tuples, a ``bool`` read-only flag, ``strides`` present) before anything is written.

    ``TypeError`` when it is not a dict, lacks ``shape``, ``typestr``, ``data`` or ``version``, or
    one of them (or ``strides``, ``stream``) has the wrong type, or it has a mask; ``ValueError``
    for a negative dimension, a typestr numpy does not know or in big-endian byte order, a null
    (or negative) data pointer for a non-empty array, strides not one per dimension, a negative
    stream, or a size the 64-bit address space cannot hold. Every message names ``out``.

    What the interface cannot show is whether the memory behind the pointer is as large as the
    shape says: :func:`fastinit.cuda.arrays.adopt` asks the driver where it can.
    """
    def bad(error, what):
        return error(f"out: not a usable __cuda_array_interface__ ({type(out).__name__}: {what})")

    try:
        cai = interface(out)
    except Exception as e:  # whatever the property raises, the error names out
        raise bad(TypeError, f"{type(e).__name__}: {e}") from None
    if not isinstance(cai, dict):
        raise bad(TypeError, f"expected a dict, got {type(cai).__name__}")
    for key in ("shape", "typestr", "data", "version"):
        if key not in cai:
            raise bad(TypeError, f"no {key!r} key")
    shape, typestr, data = cai["shape"], cai["typestr"], cai["data"]
    strides, stream, version = cai.get("strides"), cai.get("stream"), cai["version"]

    if not isinstance(shape, (tuple, list)):
        raise bad(TypeError, f"shape must be a tuple of ints, got {shape!r}")
    if not all(_is_int(d) for d in shape):
        raise bad(TypeError, f"shape dimensions must be integers, got {shape!r}")
    shape = tuple(int(d) for d in shape)
    if any(d < 0 for d in shape):
        raise bad(ValueError, f"shape dimensions must be >= 0, got {shape!r}")

    if not isinstance(typestr, str):
        raise bad(TypeError, f"typestr must be a str, got {typestr!r}")
    try:
        dtype = np.dtype(typestr)
    except (TypeError, ValueError):
        raise bad(ValueError, f"typestr {typestr!r} is not a numpy typestr") from None
    if not dtype.isnative:
        raise bad(ValueError, f"typestr {typestr!r} is not in the machine's byte order")

    if strides is not None:
        if not isinstance(strides, (tuple, list)) or not all(_is_int(s) for s in strides):
            raise bad(TypeError, f"strides must be None or a tuple of ints, got {strides!r}")
        strides = tuple(int(s) for s in strides)
        if len(strides) != len(shape):
            raise bad(ValueError, f"strides {strides!r} do not give one stride per dimension of "
                                  f"shape {shape!r}")

    if not isinstance(data, (tuple, list)) or len(data) != 2:
        raise bad(TypeError, f"data must be a (pointer, read-only) pair, got {data!r}")
    ptr, readonly = data
    if not _is_int(ptr) or not isinstance(readonly, (bool, np.bool_)):
        raise bad(TypeError, f"data must be an (int, bool) pair, got {data!r}")
    ptr = int(ptr)
    size = math.prod(shape)
    if ptr < 0 or ptr >= 1 << 64:
        raise bad(ValueError, f"data pointer {ptr} is not a 64-bit address")
    if size and not ptr:
        raise bad(ValueError, f"data pointer is null for a non-empty array of shape {shape!r}")
    if size:
        lo = hi = 0  # byte offsets of the first and last elements from ptr
        for d, s in zip(shape, strides or _c_strides(shape, dtype.itemsize)):
            lo, hi = (lo, hi + (d - 1) * s) if s >= 0 else (lo + (d - 1) * s, hi)
        if ptr + lo < 0 or ptr + hi + dtype.itemsize > 1 << 64:
            raise bad(ValueError, f"shape {shape!r} spans more memory than the 64-bit address space "
                                  f"holds from data pointer {ptr:#x}")

    if not _is_int(version):
        raise bad(TypeError, f"version must be an int, got {version!r}")
    if cai.get("mask") is not None:
        raise TypeError("out: masked GPU arrays are not supported")
    if stream is not None and not _is_int(stream):
        raise bad(TypeError, f"stream must be None or an int, got {stream!r}")
    if stream is not None and int(stream) < 0:  # 0 (which the spec disallows) is what numba gives
        raise bad(ValueError, f"stream must be None or a stream handle >= 0, got {stream!r}")
    return {**cai, "shape": shape, "typestr": typestr, "data": (ptr, bool(readonly)), "strides": strides,
            "version": int(version), "stream": None if stream is None else int(stream)}


def _c_strides(shape: tuple, itemsize: int) -> tuple:
    strides, step = [], itemsize
    for d in reversed(shape):
        strides.append(step)
        step *= d
    return tuple(reversed(strides))


def _c_contiguous(shape: tuple, strides: Any, itemsize: int) -> bool:
    """Whether ``strides`` are C order's for ``shape`` (a dimension of size 1 may have any
    stride, as in numpy; an empty array is contiguous)."""
    if strides is None or math.prod(shape) == 0:
        return True
    expected = itemsize
    for d, s in zip(reversed(shape), reversed(tuple(strides))):
        if d != 1 and s != expected:
            return False
        expected *= d
    return True


#: the most elements whose byte ranges :func:`overlapping` compares one by one
EXACT_OVERLAP = 1 << 22


def overlapping(shape: tuple, strides: tuple, itemsize: int) -> bool:
    """Whether elements of an array of ``shape`` and byte ``strides`` share memory (``expand()``
    and broadcasting give stride 0). First a sufficient test: its dimensions taken from the
    smallest stride up, each stride clears everything the smaller ones span (true of transposes,
    permutations and sliced views); where that fails (interleaved ``as_strided`` layouts), the
    elements' byte ranges are compared, for arrays of up to :data:`EXACT_OVERLAP` elements;
    larger ones are taken to overlap."""
    span = itemsize
    for n, s in sorted(((n, abs(s)) for n, s in zip(shape, strides) if n > 1), key=lambda p: p[1]):
        if s < span:
            break
        span += s * (n - 1)
    else:
        return False
    if any(s == 0 for n, s in zip(shape, strides) if n > 1) or math.prod(shape) > EXACT_OVERLAP:
        return True
    offsets = np.zeros(1, np.int64)
    for n, s in zip(shape, strides):
        offsets = (offsets[:, None] + np.arange(n, dtype=np.int64) * s).reshape(-1)
    offsets.sort()
    return bool((np.diff(offsets) < itemsize).any())


def check_out(info: GpuArray, shape: tuple, dtype: np.dtype) -> None:
    """The GPU twin of ``_checks.check_out``: the same errors, in the same order. A
    non-contiguous ``out`` is filled chunk by chunk (:func:`fastinit.cuda.arrays.strided_blocks`):
    its strides must be non-negative multiples of its itemsize, and its elements distinct."""
    if info.dtype != dtype:
        raise TypeError(f"out: dtype {info.dtype.name} does not match dtype {dtype.name}")
    if info.shape != shape:
        raise ValueError(f"out: shape {info.shape} does not match the requested shape {shape}")
    if info.readonly:
        raise ValueError("out: the array is read-only")
    if not info.c_contiguous:
        size = dtype.itemsize
        if any(s < 0 or s % size for n, s in zip(info.shape, info.strides) if n > 1):
            raise ValueError(f"out: strides {_shown(info.strides)} (bytes) are not all non-negative "
                             f"multiples of the itemsize {size}; expected a C-contiguous array or "
                             f"a view with such strides (a transpose, a slice)")
        if overlapping(info.shape, info.strides, size):
            raise ValueError(f"out: elements of this GPU array (strides {_shown(info.strides)} bytes) "
                             f"share memory, as after expand() or broadcasting; expected an array "
                             f"whose elements are distinct")
