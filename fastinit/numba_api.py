"""fastinit's fills callable from Numba code: the kernels behind :func:`fastinit.uniform`,
:func:`fastinit.normal` and :func:`fastinit.truncated_normal`, for a user's own ``@njit``
functions and their ``prange`` loops, with the Python API's values for the same seed.

>>> from numba import njit, prange
>>> from fastinit.kernels import fill_normal
>>> @njit(parallel=True)
... def init_layers(ws, seed):
...     for i in prange(ws.shape[0]):          # layer i is rows i of one (n, rows, cols) tensor
...         fill_normal(ws[i], seed, i * ws[i].size, 0.0, 0.02)
>>> ws = np.empty((12, 1024, 1024), np.float32)
>>> init_layers(ws, 0)
>>> assert (ws == fastinit.normal(12, 1024, 1024, std=0.02, seed=0)).all()

Every function fills ``out`` in place with the elements ``[start, start + out.size)`` of the flat
(C-order) tensor that the Python API makes for the same seed and parameters:

- ``out``: a C-contiguous array of any shape: float32 or float64, or the bits of a float16 array
  (``w.view(np.uint16)``) or a bfloat16 one (``w.view(np.int16)``), as fastinit's kernels take
  them. A non-contiguous array (``w[:, 0]``) is refused when the call is compiled. Complex
  outputs are not covered here (use the Python API).
- ``seed``: an integer, taken modulo 2**64 as ``seed=`` takes ints in [-2**63, 2**64); for other
  seeds (a :class:`fastinit.Key`, a larger int) pass ``fastinit.Key(seed).value``.
- ``start``: the flat index of ``out``'s first element in the whole tensor, >= 0 (``0`` for a
  whole tensor; ``i * rows_per_shard * cols`` for shard ``i`` of the rows).

The fills are parallel (``prange`` over blocks of 4096 values) and may be called inside a
``prange`` loop of the caller's: that is nested parallelism, which Numba's TBB and OpenMP
threading layers run (fastinit chooses TBB when the ``tbb`` package is installed; the
``workqueue`` layer aborts the process on it). The values never depend on the thread count.

Errors. Parameters are checked as the Python API checks them (finite, ``low < high``, values
that fit the dtype, ...), and a bad call raises ``ValueError``. Numba does not propagate an
exception raised inside a ``prange`` loop, so a bad call there would pass silently: a bad call
therefore first fills ``out`` with NaN, which shows. The truncated normal's parameters are
worked out in Python by :func:`truncated_normal_plan` (it chooses among three exact samplers
with float64 special functions), outside the compiled code, and its checks raise there.
"""
from __future__ import annotations

import math
from typing import Any, NamedTuple

import numpy as np
from numba import njit, types
from numba.core.errors import TypingError
from numba.extending import overload

from . import _checks as ck
from . import fills as _fills
from .kernels.bits import f32_to_bf16_bits, f32_to_f16_bits
from .kernels.normal import fill_normal as _fill_normal
from .kernels.rng import LANES
from .kernels.truncnorm import fill_truncnorm as _fill_truncnorm
from .kernels.uniform import fill_uniform as _fill_uniform

__all__ = ["fill_uniform", "fill_normal", "fill_truncated_normal", "truncated_normal_plan",
           "TruncatedNormalPlan"]

# the output formats: (numba dtype of out, numpy dtype of the values, code)
_F64, _F32, _F16, _BF16 = 0, 1, 2, 3
_FORMATS = {types.float64: _F64, types.float32: _F32, types.uint16: _F16, types.int16: _BF16}
_DTYPES = {_F64: np.dtype(np.float64), _F32: np.dtype(np.float32), _F16: np.dtype(np.float16),
           _BF16: ck.BFLOAT16}
#: the largest finite value of each format
_BIG = tuple(float(np.finfo(_DTYPES[c]).max) for c in range(4))
#: the largest finite value the kernels compute in (float32 for 32- and 16-bit outputs)
_WORK_BIG = (float(np.finfo(np.float64).max),) + (float(np.finfo(np.float32).max),) * 3
_NAN_BITS = (0, 0, 0x7E00, 0x7FC0)  # a quiet NaN's bits in float16 and bfloat16
_CONSTANT = -1  # a plan's kind where every element takes one value (see truncated_normal_plan)
#: the largest |z| the normal kernels produce (fills.Z_MAX)
_Z_MAX = _fills.Z_MAX


def _format(name: str, out) -> int:
    """The format code of ``out``'s Numba type; ``TypingError`` for what the kernels do not fill."""
    if not isinstance(out, types.Array) or out.dtype not in _FORMATS:
        raise TypingError(f"fastinit.kernels.{name}: out must be an array of float32 or float64, or "
                          f"the bits of float16 (uint16) or bfloat16 (int16) values, got {out}")
    if out.layout != "C":
        raise TypingError(f"fastinit.kernels.{name}: out must be C-contiguous (got an array of "
                          f"layout {out.layout!r}); fill a contiguous array and copy it in")
    return _FORMATS[out.dtype]


@njit(inline="always")
def _flat(out):
    return out.reshape(out.size)


@njit(inline="always")
def _poison(flat, code):
    """Fill with NaN: what a bad call leaves where its exception cannot be seen (prange)."""
    if code >= _F16:
        flat[:] = _NAN_BITS[code]
    else:
        flat[:] = np.nan


@njit(inline="always")
def _seed64(seed):
    return np.uint64(seed)


# --- 16-bit values as bits: one step up or down, their value -------------------------------------

@njit(inline="always")
def _key(b):
    """Bits of a 16-bit float as an integer that orders like the values (both zeros are 0)."""
    b = np.int64(b) & 0xFFFF
    return -(b & 0x7FFF) if b & 0x8000 else b


@njit(inline="always")
def _unkey(k):
    return k if k >= 0 else 0x8000 | -k


@njit(inline="always")
def _value16(k, code):
    """The value of the 16-bit float of key ``k`` (finite)."""
    b = _unkey(k)
    sign = -1.0 if b & 0x8000 else 1.0
    if code == _F16:
        e, m = (b >> 10) & 0x1F, b & 0x3FF
        mag = m * 2.0**-24 if e == 0 else (1024 + m) * 2.0**(e - 25)
    else:
        e, m = (b >> 7) & 0xFF, b & 0x7F
        mag = m * 2.0**-133 if e == 0 else (128 + m) * 2.0**(e - 134)
    return sign * mag


@njit(inline="always")
def _bits16(x, code):
    """The key of ``x`` rounded to the 16-bit format (to a neighbour at worst)."""
    if code == _F16:
        return _key(f32_to_f16_bits(np.float32(x)))
    return _key(f32_to_bf16_bits(np.float32(x)))


@njit(cache=True)
def _uniform_range(low, high, code):
    """(vmin, vmax): the smallest and largest values of the format in [low, high), as
    ``fastinit.fills._values_between(low, high, dtype, closed=False)``; vmin > vmax if none."""
    if code == _F64:
        return low, np.nextafter(high, -np.inf)
    if code == _F32:
        v = np.float32(low)
        if np.float64(v) < low:
            v = np.nextafter(v, np.float32(np.inf))
        w = np.float32(high)
        while np.float64(w) >= high:
            w = np.nextafter(w, np.float32(-np.inf))
        return np.float64(v), np.float64(w)
    kmax = _key(0x7BFF if code == _F16 else 0x7F7F)  # the largest finite value's key
    k = _bits16(low, code)
    while _value16(k, code) < low:
        k += 1
    while k > -kmax and _value16(k - 1, code) >= low:
        k -= 1
    vmin = _value16(k, code)
    if low == 0.0 and vmin == 0.0:
        vmin = low  # numpy keeps -0.0 for low = -0.0 (the keys merge the zeros)
    k = _bits16(high, code)
    while _value16(k, code) >= high:
        k -= 1
    while k < kmax and _value16(k + 1, code) < high:
        k += 1
    return vmin, _value16(k, code)


# --- the public fills ------------------------------------------------------------------------------

def fill_uniform(out, seed, start, low, high):
    """Fill ``out`` with elements ``[start, start + out.size)`` of ``fastinit.uniform(shape,
    low=low, high=high, dtype=..., seed=seed)``: values in ``[low, high)`` (module docstring for
    ``out``, ``seed`` and ``start``). Callable from ``@njit`` code and from Python."""
    _fill_uniform_py(out, seed, start, low, high)


@overload(fill_uniform, jit_options={"error_model": "numpy"})
def _fill_uniform_overload(out, seed, start, low, high):
    code = _format("fill_uniform", out)
    big, work_big = _BIG[code], _WORK_BIG[code]

    def impl(out, seed, start, low, high):
        flat = _flat(out)
        lo, hi = np.float64(low), np.float64(high)
        ok = start >= 0 and math.isfinite(lo) and math.isfinite(hi) and lo < hi
        ok = ok and abs(lo) <= big and abs(hi) <= big and hi - lo <= work_big
        if ok:
            vmin, vmax = _uniform_range(lo, hi, code)
            ok = vmin <= vmax
        if not ok:
            _poison(flat, code)
            raise ValueError("fastinit.kernels.fill_uniform: need start >= 0 and finite low < high "
                             "that the dtype holds, with a value of the dtype in [low, high)")
        if flat.size:
            _fill_uniform(flat, _seed64(seed), np.int64(start), lo, hi - lo, vmin, vmax)
    return impl


def fill_normal(out, seed, start, mean, std):
    """Fill ``out`` with elements ``[start, start + out.size)`` of ``fastinit.normal(shape,
    mean=mean, std=std, dtype=..., seed=seed)`` (module docstring for ``out``, ``seed`` and
    ``start``). Callable from ``@njit`` code and from Python."""
    _fill_normal_py(out, seed, start, mean, std)


@overload(fill_normal, jit_options={"error_model": "numpy"})
def _fill_normal_overload(out, seed, start, mean, std):
    code = _format("fill_normal", out)
    big = _BIG[code]

    def impl(out, seed, start, mean, std):
        flat = _flat(out)
        m, s = np.float64(mean), np.float64(std)
        if not (start >= 0 and math.isfinite(m) and math.isfinite(s) and s >= 0.0
                and abs(m) + _Z_MAX * s <= big):
            _poison(flat, code)
            raise ValueError("fastinit.kernels.fill_normal: need start >= 0, a finite mean and a "
                             "finite std >= 0 whose values the dtype holds")
        if flat.size:
            _fill_normal(flat, _seed64(seed), np.int64(start), np.full(LANES, m), s)
    return impl


class TruncatedNormalPlan(NamedTuple):
    """What :func:`fill_truncated_normal` needs, from :func:`truncated_normal_plan`: the sampler
    (``kind``, ``params``, ``rounds``), the dtype's values ``vmin``, ``vmax`` inside [lo, hi],
    and for a distribution the dtype cannot resolve the one value every element takes
    (``value``, its 16-bit pattern ``bits``); ``code`` names the output format."""
    kind: int
    params: np.ndarray
    vmin: float
    vmax: float
    rounds: int
    value: float
    bits: int
    code: int


def truncated_normal_plan(mean: float = 0.0, std: float = 1.0, lo: float = -2.0, hi: float = 2.0,
                          dtype: Any = "float32") -> TruncatedNormalPlan:
    """The plan of ``fastinit.truncated_normal(mean=mean, std=std, lo=lo, hi=hi, dtype=dtype)``
    for :func:`fill_truncated_normal`, worked out in Python with the same checks (``ValueError``
    or ``TypeError`` naming the parameter). Make it once, outside the compiled code, and pass it
    in as an argument: it holds an array, which Numba does not take from a global."""
    dt = ck.dtype_from(dtype, None, ck.REAL_DTYPES)
    code = {v: k for k, v in _DTYPES.items()}[dt]
    kind, p, vmin, vmax, rounds, value = _truncnorm_params(mean, std, lo, hi, dt)
    bits = 0
    if kind == _CONSTANT and dt in ck.BITS16:
        bits = int(np.array(value, dt).view(ck.BITS16[dt]))
    return TruncatedNormalPlan(int(kind), np.asarray(p, np.float64), float(vmin), float(vmax),
                               int(rounds), float(value), bits, code)


def _truncnorm_params(mean, std, lo, hi, dt: np.dtype):
    """(kind, params, vmin, vmax, rounds, value) as ``fastinit.truncated_normal`` works them out
    (kind ``_CONSTANT``: every element ``value``). The same steps as its body, which has no
    separate function for them (fills.py; kept in step by tests/test_numba_api.py)."""
    f = _fills
    mean, std, lo, hi = f._check_truncated_normal(mean, std, lo, hi)
    low_end, high_end = f._mass_range(mean, std, lo, hi)
    ck.fits("lo" if low_end == lo else "mean, std", low_end, dt)
    ck.fits("hi" if high_end == hi else "mean, std", high_end, dt)
    vmin, vmax = f._values_between(lo, hi, dt, closed=True)
    value = f._one_value(mean, std, lo, hi, dt, vmin, vmax)
    if value is not None:
        return _CONSTANT, np.zeros(9), vmin, vmax, 0, value
    kind, p, acceptance = f.truncnorm_plan(mean, std, lo, hi, dt, vmin, vmax)
    acceptance *= f._inside_fraction(mean, std, lo, hi, vmin, vmax)
    return kind, p, vmin, vmax, f._rounds(acceptance), 0.0


def fill_truncated_normal(out, seed, start, plan):
    """Fill ``out`` with elements ``[start, start + out.size)`` of ``fastinit.truncated_normal(
    shape, mean, std, lo, hi, dtype=..., seed=seed)``, ``plan`` being
    ``truncated_normal_plan(mean, std, lo, hi, dtype)`` for ``out``'s dtype (module docstring for
    ``out``, ``seed`` and ``start``). Callable from ``@njit`` code and from Python."""
    _fill_truncated_normal_py(out, seed, start, plan)


@overload(fill_truncated_normal, jit_options={"error_model": "numpy"})
def _fill_truncated_normal_overload(out, seed, start, plan):
    code = _format("fill_truncated_normal", out)

    def impl(out, seed, start, plan):
        flat = _flat(out)
        if start < 0 or plan.code != code:
            _poison(flat, code)
            raise ValueError("fastinit.kernels.fill_truncated_normal: need start >= 0 and a plan "
                             "made for out's dtype (truncated_normal_plan(..., dtype=))")
        if plan.kind == _CONSTANT:
            if code >= _F16:
                flat[:] = plan.bits
            else:
                flat[:] = plan.value
        elif flat.size:
            _fill_truncnorm(flat, _seed64(seed), np.int64(start), plan.kind, plan.params,
                            plan.vmin, plan.vmax, plan.rounds)
    return impl


# the Python entry points: the same code, compiled (what a call from Python runs)

@njit(cache=True)
def _fill_uniform_py(out, seed, start, low, high):
    fill_uniform(out, seed, start, low, high)


@njit(cache=True)
def _fill_normal_py(out, seed, start, mean, std):
    fill_normal(out, seed, start, mean, std)


@njit(cache=True)
def _fill_truncated_normal_py(out, seed, start, plan):
    fill_truncated_normal(out, seed, start, plan)
