"""Argument checks shared by every fill: shapes, dtypes, ``out``, ``rows`` and scalar parameters.

Every check runs before any kernel starts, so a bad call raises ``ValueError`` or ``TypeError``
naming the parameter and its value and leaves ``out`` untouched. Kernels never raise.
"""
from __future__ import annotations

import math
import numbers
import operator
from typing import Any, Iterable

import numpy as np

from ._device import GpuArray, describe, on_gpu

REAL_DTYPES = (np.dtype(np.float16), np.dtype(np.float32), np.dtype(np.float64))
COMPLEX_DTYPES = (np.dtype(np.complex64), np.dtype(np.complex128))
ALL_DTYPES = REAL_DTYPES + COMPLEX_DTYPES


def described(out: Any) -> np.ndarray | GpuArray | None:
    """``out`` as something with a numpy ``shape`` and ``dtype``: a numpy array as it is, a GPU
    array by its ``__cuda_array_interface__``; ``None`` for anything else."""
    if isinstance(out, (np.ndarray, GpuArray)):
        return out
    return describe(out) if out is not None and on_gpu(out) else None


def shape_from(shape: tuple, out: Any) -> tuple[int, ...]:
    """The tensor shape from ``f(*shape)`` arguments: ints, one tuple/list, or none when ``out``
    is given (then ``out.shape``)."""
    if len(shape) == 1 and isinstance(shape[0], (tuple, list)):
        shape = tuple(shape[0])
    if len(shape) == 0 and out is not None:
        ref = described(out)
        return tuple(ref.shape) if ref is not None else ()
    dims = []
    for d in shape:
        if isinstance(d, (bool, np.bool_)) or not isinstance(d, (numbers.Integral, np.integer)):
            raise TypeError(f"shape: dimensions must be integers, got {d!r} in {shape!r}")
        d = operator.index(d)
        if d < 0:
            raise ValueError(f"shape: dimensions must be >= 0, got {d} in {tuple(shape)!r}")
        dims.append(d)
    return tuple(dims)


def dtype_from(dtype: Any, out: Any, allowed: Iterable[np.dtype]) -> np.dtype:
    """The output dtype: ``dtype`` if given, else ``out``'s, else float32; must be in ``allowed``."""
    allowed = tuple(allowed)
    if dtype is None:
        ref = described(out)
        dt = np.dtype(ref.dtype) if ref is not None else np.dtype(np.float32)
    else:
        try:
            dt = np.dtype(dtype)
        except TypeError as e:
            raise TypeError(f"dtype: not a dtype: {dtype!r}") from e
    if dt not in allowed:
        names = ", ".join(d.name for d in allowed)
        raise TypeError(f"dtype: {dt.name} is not supported here (supported: {names})")
    return dt


def row_range(rows: slice | None, n_lead: int) -> tuple[int, int]:
    """``rows`` as (first, stop) leading-axis rows; ``None`` means all. Step must be 1."""
    if rows is None:
        return 0, n_lead
    if not isinstance(rows, slice):
        raise TypeError(f"rows: expected a slice of leading-axis rows, got {rows!r}")
    for part in (rows.start, rows.stop, rows.step):
        if part is not None and (isinstance(part, bool) or not isinstance(part, (numbers.Integral, np.integer))):
            raise TypeError(f"rows: slice bounds must be integers or None, got {rows!r}")
    if rows.step not in (None, 1):
        raise ValueError(f"rows: only contiguous row blocks (step 1) are supported, got {rows!r}")
    a, b, _ = rows.indices(n_lead)
    return a, max(a, b)


def check_out(out: Any, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
    """``out`` must be a writable, C-contiguous numpy array of ``shape`` and ``dtype``."""
    if not isinstance(out, np.ndarray):
        raise TypeError(f"out: expected a numpy.ndarray, got {type(out).__name__}")
    if out.dtype != dtype:
        raise TypeError(f"out: dtype {out.dtype.name} does not match dtype {dtype.name}")
    if out.shape != shape:
        raise ValueError(f"out: shape {out.shape} does not match the requested shape {shape}")
    if not out.flags.writeable:
        raise ValueError("out: the array is read-only")
    if not out.flags.c_contiguous:
        raise ValueError("out: the array must be C-contiguous")
    return out


def real(name: str, value: Any, *, finite: bool = True) -> float:
    """``value`` as a Python float; ``TypeError`` if it is not a real number, ``ValueError`` if it
    is NaN (or infinite, when ``finite``)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (numbers.Real, np.floating, np.integer)):
        raise TypeError(f"{name}: expected a real number, got {value!r}")
    v = float(value)
    if math.isnan(v) or (finite and math.isinf(v)):
        raise ValueError(f"{name}: must be a finite number, got {value!r}")
    return v


def std_value(value: Any, *, positive: bool = False) -> float:
    """A standard deviation: finite and >= 0 (> 0 when ``positive``)."""
    v = real("std", value)
    if v < 0 or (positive and v == 0):
        raise ValueError(f"std: must be {'> 0' if positive else '>= 0'}, got {value!r}")
    return v


def fits(name: str, bound: float, dtype: np.dtype) -> None:
    """Values up to ``|bound|`` must be finite in ``dtype`` (float16 overflows at 65504)."""
    big = float(np.finfo(dtype).max)
    if not abs(bound) <= big:
        raise ValueError(f"{name}: values would reach {bound:g}, beyond the largest finite "
                         f"{np.finfo(dtype).dtype.name} ({big:g})")
