"""Argument checks shared by every fill: shapes, dtypes, ``out``, ``rows`` and scalar parameters.

Every check runs before any kernel starts, so a bad call raises ``ValueError`` or ``TypeError``
naming the parameter and its value and leaves ``out`` untouched. Kernels never raise.
"""
from __future__ import annotations

import contextlib
import importlib
import math
import numbers
import operator
import re
import reprlib
from typing import Any, Iterable

import numpy as np

from ._device import GpuArray, describe, on_gpu
from ._torch_out import host_view, is_tensor

# bfloat16 is ml_dtypes' (which also makes ``numpy.dtype("bfloat16")`` known). Importing ml_dtypes
# takes 0.6-0.85 s here (numpy's ufunc loop registration, quadratic in the loops it adds), more than
# the rest of ``import fastinit``, so it is imported only where bfloat16 is asked for by name or
# listed; a bfloat16 array or dtype object can only exist once it is imported, and is recognized by
# its name (``is_bfloat16``).
_BF16_NAME = "bfloat16"


def bfloat16() -> np.dtype:
    """ml_dtypes' bfloat16 (imports ml_dtypes)."""
    import ml_dtypes
    return np.dtype(ml_dtypes.bfloat16)


def is_bfloat16(dt: Any) -> bool:
    """Whether ``dt`` is the bfloat16 dtype, without importing ml_dtypes."""
    return isinstance(dt, np.dtype) and dt.name == _BF16_NAME and dt.kind == "V" and dt.itemsize == 2


def bits16(dt: np.dtype) -> np.dtype | None:
    """The integer view through which the kernels write a 16-bit float dtype's bits (their
    ``put`` tells the two formats apart by it): uint16 for float16, int16 for bfloat16; None for
    any other dtype."""
    if dt == np.float16:
        return np.dtype(np.uint16)
    return np.dtype(np.int16) if is_bfloat16(dt) else None


class Dtypes:
    """An ordered set of dtypes that may hold bfloat16 without importing ml_dtypes: membership
    tests bfloat16 by name (``is_bfloat16``), listing it (iteration) imports ml_dtypes."""

    def __init__(self, *members: Any):  # np.dtype instances, and _BF16_NAME (a str) for bfloat16
        self._members = members
        self._bf16 = _BF16_NAME in (m for m in members if isinstance(m, str))
        self._plain = frozenset(m for m in members if not isinstance(m, str))

    def __contains__(self, dt: Any) -> bool:
        if is_bfloat16(dt):
            return self._bf16
        try:
            return dt in self._plain
        except TypeError:  # unhashable
            return False

    def __iter__(self):
        return iter(tuple(bfloat16() if isinstance(m, str) else m for m in self._members))

    def __add__(self, other: "Dtypes") -> "Dtypes":
        return Dtypes(*self._members, *other._members)

    def __repr__(self) -> str:
        return f"Dtypes({', '.join(m if isinstance(m, str) else m.name for m in self._members)})"


REAL_DTYPES = Dtypes(np.dtype(np.float16), _BF16_NAME, np.dtype(np.float32), np.dtype(np.float64))
COMPLEX_DTYPES = Dtypes(np.dtype(np.complex64), np.dtype(np.complex128))
ALL_DTYPES = REAL_DTYPES + COMPLEX_DTYPES
#: the integer and bool dtypes, which the constant patterns (constant, zeros, ones, eye, dirac,
#: identity) fill too, as torch's constant_, zeros_, ones_, eye_ and dirac_ do
INT_DTYPES = Dtypes(*(np.dtype(t) for t in (np.int8, np.int16, np.int32, np.int64, np.uint8, np.uint16,
                                            np.uint32, np.uint64, np.bool_)))
CONSTANT_DTYPES = ALL_DTYPES + INT_DTYPES
#: the most values (complex: real and imaginary parts) a tensor may hold: the kernels index the
#: flat real view with 64-bit integers, with a block of headroom (numpy cannot allocate more anyway)
MAX_VALUES = 2**62

_REPR = reprlib.Repr()
_REPR.maxlevel = 3
_REPR.maxtuple = _REPR.maxlist = _REPR.maxarray = _REPR.maxdeque = 10
_REPR.maxdict = _REPR.maxset = _REPR.maxfrozenset = 6
_REPR.maxstring = _REPR.maxother = 80
_REPR.maxlong = 60


def shown(value: Any) -> str:
    """``value``'s repr for an error message: short (long containers, strings and numbers cut,
    nesting shown to 3 levels) and safe (never recursing deeply, never raising)."""
    try:
        if isinstance(value, int) and not isinstance(value, bool) and abs(value).bit_length() > 200:
            digits = int(abs(value).bit_length() * 0.30103) + 1  # about, without str() of it
            return f"{'-' if value < 0 else ''}<an int of about {digits} digits>"
        return _REPR.repr(value)
    except Exception:  # a __repr__ that raises, recursion, ...
        try:
            return f"<{type(value).__name__} object>"
        except Exception:
            return "<object>"


def _plain_array(out: np.ndarray) -> np.ndarray:
    """A numpy array subclass (numpy.matrix, numpy.memmap, ...) as a plain ndarray on the same
    memory: the kernels and the checks see its data, not the subclass's methods."""
    return out if type(out) is np.ndarray else np.ndarray.view(out, np.ndarray)


def described(out: Any) -> np.ndarray | GpuArray | None:
    """``out`` as something with a numpy ``shape`` and ``dtype``: a numpy array as it is, a GPU
    array by its ``__cuda_array_interface__``, a torch CPU tensor by its numpy view
    (``_torch_out``); ``None`` for anything else."""
    if isinstance(out, GpuArray):
        return out
    if isinstance(out, np.ndarray):
        return _plain_array(out)
    if out is not None and on_gpu(out):
        return describe(out)
    return host_view(out) if is_tensor(out) else None


def shape_arg(shape: Any) -> tuple[int, ...]:
    """A shape given as one argument (the faces' ``shape``: a tuple or list of ints, or an int
    for one dimension), checked as :func:`shape_from` checks one."""
    if isinstance(shape, (numbers.Integral, np.integer)) and not isinstance(shape, (bool, np.bool_)):
        shape = (shape,)
    if not isinstance(shape, (tuple, list)):
        raise TypeError(f"shape: expected an int or a tuple of ints, got {shown(shape)}")
    return shape_from((tuple(shape),), None)


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
            raise TypeError(f"shape: dimensions must be integers, got {shown(d)} in {shown(shape)}")
        d = operator.index(d)
        if d < 0:
            raise ValueError(f"shape: dimensions must be >= 0, got {shown(d)} in {shown(tuple(shape))}")
        dims.append(d)
    check_size(tuple(dims))
    return tuple(dims)


def check_size(shape: tuple[int, ...], dtype: np.dtype | None = None) -> None:
    """``ValueError`` naming ``shape`` when a tensor of ``shape`` (and ``dtype``: complex values
    count twice, the kernels fill the real view) would hold ``MAX_VALUES`` values or more. The
    zero dimensions of an empty tensor are left out of the count, as numpy does when it checks
    a shape (it refuses ``(0, 2**40, 2**40)``)."""
    per = 2 if dtype is not None and np.dtype(dtype).kind == "c" else 1
    if math.prod(d for d in shape if d) * per >= MAX_VALUES:
        raise ValueError(f"shape: {shown(shape)} is too large: the product of the dimensions (the "
                         f"nonzero ones, as numpy counts) must be below 2**62"
                         f"{' for real dtypes, 2**61 for complex ones' if per == 2 else ''}")


def check_allocation(shape: tuple[int, ...], dtype: np.dtype) -> None:
    """``ValueError`` naming ``shape`` when numpy could not even describe an array of ``shape``
    and ``dtype`` (2**63 bytes or more, zero dimensions left out); an array it can describe
    but the machine cannot hold is numpy's ``MemoryError``."""
    if math.prod(d for d in shape if d) * np.dtype(dtype).itemsize >= 2**63:
        raise ValueError(f"shape: an array of shape {shown(shape)} and dtype {np.dtype(dtype).name} "
                         f"would take 2**63 bytes or more; ask for fewer rows (rows=)")


def dtype_from(dtype: Any, out: Any, allowed: Iterable[np.dtype]) -> np.dtype:
    """The output dtype: ``dtype`` if given, else ``out``'s, else float32; must be in ``allowed``
    (a tuple or ``Dtypes``: listed, which may import ml_dtypes, only for an error message)."""
    if dtype is None:
        ref = described(out)
        dt = np.dtype(ref.dtype) if ref is not None else np.dtype(np.float32)
    else:
        dt = as_dtype(dtype)
    if dt not in allowed:
        names = ", ".join(d.name for d in allowed)
        who = "dtype: " if dtype is not None else "out: its dtype "  # the dtype came from out
        if dt.kind in "fc" and dt.newbyteorder("=") in allowed:
            raise TypeError(f"{who}{dt.str!r} is not in the machine's byte order (supported: {names})")
        raise TypeError(f"{who}{dt.name} is not supported here (supported: {names})")
    return dt


def as_dtype(dtype: Any) -> np.dtype:
    """``numpy.dtype(dtype)``; ``TypeError`` naming ``dtype`` when it is not one."""
    try:
        return np.dtype(dtype)
    except Exception:  # TypeError, and ValueError, RecursionError... for odd specifications
        pass
    if isinstance(dtype, str):  # "bfloat16" (or another name ml_dtypes adds): known once it is imported
        importlib.import_module("ml_dtypes")
        try:
            return np.dtype(dtype)
        except Exception:
            pass
    raise TypeError(f"dtype: not a dtype: {shown(dtype)}") from None


def row_range(rows: slice | None, n_lead: int) -> tuple[int, int]:
    """``rows`` as (first, stop) leading-axis rows; ``None`` means all. Step must be 1."""
    if rows is None:
        return 0, n_lead
    if not isinstance(rows, slice):
        raise TypeError(f"rows: expected a slice of leading-axis rows, got {shown(rows)}")
    for part in (rows.start, rows.stop, rows.step):
        if part is not None and (isinstance(part, (bool, np.bool_)) or not isinstance(part, (numbers.Integral, np.integer))):
            raise TypeError(f"rows: slice bounds must be integers or None, got {shown(rows)}")
    if rows.step is not None and operator.index(rows.step) != 1:
        raise ValueError(f"rows: only contiguous row blocks (step 1) are supported, got {shown(rows)}")
    a, b, _ = rows.indices(n_lead)
    return a, max(a, b)


def block_box(rows: Any, block: Any, full: tuple[int, ...]) -> tuple[tuple[int, int], ...]:
    """The part of a tensor of shape ``full`` a call asks for, as (start, stop) per axis: all of
    it, leading-axis ``rows`` (a slice), or ``block`` (a tuple of slices, step 1, one per leading
    axis; axes left out are whole). Bounds follow Python's slicing (negative from the end,
    clipped); ``rows`` and ``block`` exclude each other."""
    whole = tuple((0, n) for n in full)
    if block is None:
        if not full:
            if rows is not None:
                raise ValueError(f"rows: a 0-dimensional tensor has no rows, got {shown(rows)}")
            return ()
        return (row_range(rows, full[0]),) + whole[1:]
    if rows is not None:
        raise ValueError(f"rows, block: give one of them, got rows={shown(rows)} and block={shown(block)}")
    if isinstance(block, slice):
        block = (block,)
    if not isinstance(block, (tuple, list)):
        raise TypeError(f"block: expected a tuple of slices (one per axis), got {shown(block)}")
    if len(block) > len(full):
        raise ValueError(f"block: {len(block)} slices for a tensor of {len(full)} dimensions "
                         f"{shown(full)}, got {shown(block)}")
    box = []
    for axis, (part, n) in enumerate(zip(block, full)):
        if not isinstance(part, slice):
            raise TypeError(f"block: expected a slice for axis {axis}, got {shown(part)} in {shown(block)}")
        for bound in (part.start, part.stop, part.step):
            if bound is not None and (isinstance(bound, (bool, np.bool_))
                                      or not isinstance(bound, (numbers.Integral, np.integer))):
                raise TypeError(f"block: slice bounds must be integers or None, got {shown(part)} "
                                f"for axis {axis}")
        if part.step is not None and operator.index(part.step) != 1:
            raise ValueError(f"block: only contiguous blocks (step 1) are supported, got {shown(part)} "
                             f"for axis {axis}")
        a, b, _ = part.indices(n)
        box.append((a, max(a, b)))
    return tuple(box) + whole[len(box):]


def check_out(out: Any, shape: tuple[int, ...], dtype: np.dtype) -> np.ndarray:
    """``out`` must be a writable, C-contiguous, aligned numpy array of ``shape`` and ``dtype``.
    Returns it as a plain ndarray on the same memory (a subclass such as ``numpy.matrix`` or
    ``numpy.memmap`` is filled through that view; masked arrays are refused)."""
    if not isinstance(out, np.ndarray):
        raise TypeError(f"out: expected a numpy.ndarray, got {type(out).__name__}")
    if isinstance(out, np.ma.MaskedArray):
        raise TypeError("out: masked arrays are not supported (fill out.data)")
    arr = _plain_array(out)
    if arr.dtype != dtype:
        if arr.dtype.name == dtype.name:
            raise TypeError(f"out: dtype {arr.dtype.str!r} is not in the machine's byte order "
                            f"({dtype.str!r})")
        raise TypeError(f"out: dtype {arr.dtype.name} does not match dtype {dtype.name}")
    if arr.shape != shape:
        raise ValueError(f"out: shape {shown(arr.shape)} does not match the requested shape {shown(shape)}")
    if not arr.flags.writeable:
        raise ValueError("out: the array is read-only")
    if not arr.flags.c_contiguous:
        raise ValueError("out: the array must be C-contiguous")
    if not arr.flags.aligned:
        raise ValueError(f"out: the array's data is not aligned (its address is not a multiple "
                         f"of {arr.dtype.alignment} bytes, as {arr.dtype.name} needs)")
    return arr


def real(name: str, value: Any, *, finite: bool = True) -> float:
    """``value`` as a Python float; ``TypeError`` if it is not a real number, ``ValueError`` if it
    is NaN (or infinite, when ``finite``; an int too large for a float is infinite)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (numbers.Real, np.floating, np.integer)):
        raise TypeError(f"{name}: expected a real number, got {shown(value)}")
    try:
        v = float(value)
    except OverflowError:  # an int (or Fraction) beyond float64: infinite as a float
        v = math.inf if value > 0 else -math.inf
    except Exception:  # a numbers.Real whose __float__ fails
        raise TypeError(f"{name}: expected a real number, got {shown(value)}") from None
    if math.isnan(v) or (finite and math.isinf(v)):
        raise ValueError(f"{name}: must be a finite number, got {shown(value)}")
    return v


def std_value(value: Any, *, positive: bool = False, name: str = "std") -> float:
    """A standard deviation: finite and >= 0 (> 0 when ``positive``); errors name ``name``."""
    v = real(name, value)
    if v < 0 or (positive and v == 0):
        raise ValueError(f"{name}: must be {'> 0' if positive else '>= 0'}, got {shown(value)}")
    return v


_NO_VALUE = object()


def fits(name: str, bound: float, dtype: np.dtype, value: Any = _NO_VALUE) -> None:
    """Values up to ``|bound|`` must be finite in ``dtype`` (float16 overflows at 65504); the
    error names ``name`` (and ``value``, the value the user gave it, when that is not the bound)."""
    big = float(np.finfo(dtype).max)
    if not abs(bound) <= big:
        given = "values" if value is _NO_VALUE else f"{shown(value)} gives values that"
        raise ValueError(f"{name}: {given} would reach {bound:g}, beyond the largest finite "
                         f"{np.finfo(dtype).dtype.name} ({big:g})")


_PREFIX = re.compile(r"^([a-z_]+(?:, [a-z_]+)*): ")


@contextlib.contextmanager
def renamed(names: dict[str, str]):
    """Errors raised inside name a framework's parameters: a message's leading parameter names
    (``"std: ..."``) renamed by ``names`` (``{"std": "stddev"}``; a value may name several,
    ``"lower, stddev"``). For the framework faces (fastinit.keras, fastinit.jax)."""
    try:
        yield
    except (ValueError, TypeError) as e:
        m = _PREFIX.match(str(e))
        given = m.group(1).split(", ") if m else ()
        if not any(n in names for n in given):
            raise
        new = [r for n in given for r in names.get(n, n).split(", ")]
        raise type(e)(", ".join(dict.fromkeys(new)) + ": " + str(e)[m.end():]) from None
