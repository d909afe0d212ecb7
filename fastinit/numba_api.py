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
- ``seed``: an integer. From compiled code an int64 or uint64, taken modulo 2**64 (as ``seed=``
  takes ints in [-2**63, 2**64)); from Python any int or a :class:`fastinit.Key`, as ``seed=``
  takes them (a larger int is folded as ``seed=`` folds it). In compiled code, for a larger int
  or a Key, pass ``fastinit.Key(seed).value``.
- ``start``: the flat index of ``out``'s first element in the whole tensor, an integer >= 0 with
  ``start + out.size <= 2**62`` (``0`` for a whole tensor; ``i * rows_per_shard * cols`` for
  shard ``i`` of the rows).

The fills are parallel (``prange`` over blocks of 4096 values) and may be called inside a
``prange`` loop of the caller's: that is nested parallelism, which Numba's TBB and OpenMP
threading layers run (fastinit chooses TBB when the ``tbb`` package is installed; the
``workqueue`` layer aborts the process on it). The values never depend on the thread count.
Importing this module starts Numba's thread pool: a cached function that calls these fills
(``@njit(cache=True)``) does not start it when loaded from the cache (numba#8578).

Errors. Types are checked when the caller is compiled (``TypingError``: ``out`` not a C-contiguous
array of a format above, ``seed`` or ``start`` not an integer (a bool or a float is refused),
``low``, ``high``, ``mean``, ``std`` not an int or a float, ``plan`` not a
:class:`TruncatedNormalPlan`). The values are checked at run time, where a compiled fill raises
nothing (Numba turns an exception inside a ``prange`` loop into a ``SystemError``): it returns a
status, 0 when it filled ``out``, else a key of :data:`FILL_ERRORS`, having filled all of
``out`` with NaN, which shows. Called from Python, a fill checks everything first, as the
Python API checks it, and raises ``TypeError`` or ``ValueError`` naming the parameter before
anything is written (``out`` must be a writable, C-contiguous, aligned numpy array); it returns
None. The truncated normal's parameters are worked out in Python by
:func:`truncated_normal_plan` (it chooses among three exact samplers with float64 special
functions), outside the compiled code, and its checks raise there; a plan changed by hand
(``plan._replace(...)``) is checked field by field (its ``params`` array is read-only), and one
whose fields are out of range is refused (``ValueError`` naming ``plan`` from Python, status 4 in
compiled code).
"""
from __future__ import annotations

import math
import numbers
import operator
from typing import Any, NamedTuple

import numpy as np
from numba import njit, types
from numba.core.errors import TypingError
from numba.extending import overload
from numba.np.ufunc.parallel import _launch_threads

from . import _checks as ck
from . import _threading
from . import fills as _fills
from .kernels.bits import f32_to_bf16_bits, f32_to_f16_bits
from .kernels.normal import fill_normal as _fill_normal
from .kernels.rng import LANES
from .kernels.truncnorm import fill_truncnorm as _fill_truncnorm
from .kernels.uniform import fill_uniform as _fill_uniform

__all__ = ["fill_uniform", "fill_normal", "fill_truncated_normal", "truncated_normal_plan",
           "TruncatedNormalPlan", "FILL_ERRORS"]

# the output formats: (numba dtype of out, numpy dtype of the values, code)
_F64, _F32, _F16, _BF16 = 0, 1, 2, 3
_FORMATS = {types.float64: _F64, types.float32: _F32, types.uint16: _F16, types.int16: _BF16}
_DTYPES = {_F64: np.dtype(np.float64), _F32: np.dtype(np.float32), _F16: np.dtype(np.float16),
           _BF16: ck.bfloat16()}
_CODES = {dt: code for code, dt in _DTYPES.items()}  #: the values' dtype -> format code
#: the dtype of a Python caller's ``out`` (16-bit formats as their bits) -> format code
_OUT_CODES = {np.dtype(np.float64): _F64, np.dtype(np.float32): _F32, np.dtype(np.uint16): _F16,
              np.dtype(np.int16): _BF16}
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


# --- checks: at typing time in compiled code, in Python before the compiled code runs ----------------

#: what a nonzero status of a fill means (its value in compiled code; Python raises instead)
FILL_ERRORS = {
    1: "start: must be >= 0 with start + out.size <= 2**62",
    2: "the parameters: need finite values the dtype holds (low < high with a value of the dtype "
       "in [low, high); std >= 0 with mean +- 8.6 std in the dtype's range)",
    3: "plan: made for another dtype than out's (truncated_normal_plan(..., dtype=))",
    4: "plan: not a plan that truncated_normal_plan makes (a field out of range)",
}
_BAD_START, _BAD_PARAMS, _BAD_PLAN_DTYPE, _BAD_PLAN = 1, 2, 3, 4
_MAX_VALUES = ck.MAX_VALUES
_MAX_ROUNDS = 1 << 16  # fills._rounds' largest
#: per format, the mask of a 16-bit float's exponent bits (all ones: inf or NaN)
_EXP16 = (0, 0, 0x7C00, 0x7F80)


def _typing_ints(name: str, **args) -> None:
    for arg, ty in args.items():
        if not isinstance(ty, types.Integer):  # bool is not an Integer type in Numba
            raise TypingError(f"fastinit.kernels.{name}: {arg} must be an integer, got {ty}")


def _typing_reals(name: str, **args) -> None:
    for arg, ty in args.items():
        if not isinstance(ty, (types.Integer, types.Float)):
            raise TypingError(f"fastinit.kernels.{name}: {arg} must be a real number (int or "
                              f"float), got {ty}")


@njit(inline="always")
def _start_ok(start, size):
    return start >= 0 and start <= _MAX_VALUES - size


def _py_out(out: Any) -> int:
    """``out``'s format code, for a call from Python: ``TypeError``/``ValueError`` naming out."""
    if not isinstance(out, np.ndarray):
        raise TypeError(f"out: expected a numpy.ndarray, got {type(out).__name__}")
    dt = out.dtype
    if dt not in _OUT_CODES and not isinstance(out, np.ma.MaskedArray):
        hint = ""
        if ck.bits16(dt) is not None:
            hint = f" (pass its bits: out.view(numpy.{ck.bits16(dt).name}))"
        elif dt.newbyteorder("=") in _OUT_CODES:
            hint = " (not in the machine's byte order)"
        raise TypeError(f"out: dtype {dt.str if hint.startswith(' (not') else dt.name} is not "
                        f"supported: float32, float64, or the bits of float16 (uint16) or "
                        f"bfloat16 (int16) values{hint}")
    ck.check_out(out, out.shape, dt)  # masked, read-only, not C-contiguous, not aligned
    return _OUT_CODES[dt]


def _py_seed(seed: Any) -> np.uint64:
    """``seed`` as ``seed=`` takes an int (or a :class:`fastinit.Key`): its 64-bit value."""
    from ._seeding import Key, seed64
    if not isinstance(seed, Key) and (isinstance(seed, (bool, np.bool_))
                                      or not isinstance(seed, (numbers.Integral, np.integer))):
        raise TypeError(f"seed: expected an int or a fastinit.Key, got {ck.shown(seed)}")
    return seed64(seed)


def _py_start(start: Any, out: np.ndarray) -> np.int64:
    if isinstance(start, (bool, np.bool_)) or not isinstance(start, (numbers.Integral, np.integer)):
        raise TypeError(f"start: expected an int, got {ck.shown(start)}")
    start = operator.index(start)
    if not 0 <= start <= _MAX_VALUES - out.size:
        raise ValueError(f"start: must be >= 0 with start + out.size <= 2**62, got {ck.shown(start)} "
                         f"(out.size {out.size})")
    return np.int64(start)


def _run(kernel, *args) -> None:
    """A Python call's compiled fill (one at a time where Numba's layer needs it, as fastinit's
    own fills); its status is 0 after the checks, and raises otherwise."""
    status = _threading.launch(kernel, *args)
    if status:  # pragma: no cover (the Python checks come first)
        raise ValueError(f"fastinit.kernels: {FILL_ERRORS[int(status)]}")


# --- the public fills ------------------------------------------------------------------------------

def fill_uniform(out, seed, start, low, high):
    """Fill ``out`` with elements ``[start, start + out.size)`` of ``fastinit.uniform(shape,
    low=low, high=high, dtype=..., seed=seed)``: values in ``[low, high)`` (module docstring for
    ``out``, ``seed``, ``start`` and errors). Callable from ``@njit`` code (returns a status) and
    from Python (returns None; raises before writing anything)."""
    code = _py_out(out)
    s, at = _py_seed(seed), _py_start(start, out)
    low, high = _fills._check_uniform(low, high)
    _fills.uniform_params(low, high, _DTYPES[code])
    _run(_fill_uniform_py, out, s, at, low, high)


@overload(fill_uniform, jit_options={"error_model": "numpy"})
def _fill_uniform_overload(out, seed, start, low, high):
    code = _format("fill_uniform", out)
    _typing_ints("fill_uniform", seed=seed, start=start)
    _typing_reals("fill_uniform", low=low, high=high)
    big, work_big = _BIG[code], _WORK_BIG[code]

    def impl(out, seed, start, low, high):
        flat = _flat(out)
        if not _start_ok(start, flat.size):
            _poison(flat, code)
            return _BAD_START
        lo, hi = np.float64(low), np.float64(high)
        ok = math.isfinite(lo) and math.isfinite(hi) and lo < hi
        ok = ok and abs(lo) <= big and abs(hi) <= big and hi - lo <= work_big
        vmin, vmax = lo, hi
        if ok:
            vmin, vmax = _uniform_range(lo, hi, code)
            ok = vmin <= vmax
        if not ok:
            _poison(flat, code)
            return _BAD_PARAMS
        if flat.size:
            _fill_uniform(flat, _seed64(seed), np.int64(start), lo, hi - lo, vmin, vmax)
        return 0
    return impl


def fill_normal(out, seed, start, mean, std):
    """Fill ``out`` with elements ``[start, start + out.size)`` of ``fastinit.normal(shape,
    mean=mean, std=std, dtype=..., seed=seed)`` (module docstring for ``out``, ``seed``,
    ``start`` and errors). Callable from ``@njit`` code (returns a status) and from Python
    (returns None; raises before writing anything)."""
    code = _py_out(out)
    s, at = _py_seed(seed), _py_start(start, out)
    _fills._normal_params(mean, std, _DTYPES[code])
    _run(_fill_normal_py, out, s, at, float(mean), float(std))


@overload(fill_normal, jit_options={"error_model": "numpy"})
def _fill_normal_overload(out, seed, start, mean, std):
    code = _format("fill_normal", out)
    _typing_ints("fill_normal", seed=seed, start=start)
    _typing_reals("fill_normal", mean=mean, std=std)
    big = _BIG[code]

    def impl(out, seed, start, mean, std):
        flat = _flat(out)
        if not _start_ok(start, flat.size):
            _poison(flat, code)
            return _BAD_START
        m, s = np.float64(mean), np.float64(std)
        if not (math.isfinite(m) and math.isfinite(s) and s >= 0.0
                and abs(m) + _Z_MAX * s <= big):
            _poison(flat, code)
            return _BAD_PARAMS
        if flat.size:
            _fill_normal(flat, _seed64(seed), np.int64(start), np.full(LANES, m), s)
        return 0
    return impl


class TruncatedNormalPlan(NamedTuple):
    """What :func:`fill_truncated_normal` needs, from :func:`truncated_normal_plan` (make it
    there: a plan made or changed by hand is checked field by field, and one out of range is
    refused): the sampler (``kind``, ``params``, read-only, ``rounds``), the dtype's values
    ``vmin``, ``vmax`` inside [lo, hi], and for a distribution the dtype cannot resolve the one
    value every element takes (``value``, its 16-bit pattern ``bits``); ``code`` names the
    output format."""
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
    code = _CODES[dt]
    kind, p, vmin, vmax, rounds, value = _truncnorm_params(mean, std, lo, hi, dt)
    bits = 0
    if kind == _CONSTANT and ck.bits16(dt) is not None:
        bits = int(np.array(value, dt).view(ck.bits16(dt)))
    params = np.array(p, np.float64)
    params.flags.writeable = False
    return TruncatedNormalPlan(int(kind), params, float(vmin), float(vmax), int(rounds),
                               float(value), bits, code)


def _truncnorm_params(mean, std, lo, hi, dt: np.dtype):
    """(kind, params, vmin, vmax, rounds, value) as ``fastinit.truncated_normal`` works them out
    (``fills.truncated_normal_params``; kind ``_CONSTANT``: every element ``value``)."""
    value, kind, p, vmin, vmax, rounds = _fills.truncated_normal_params(mean, std, lo, hi, dt)
    if value is not None:
        return _CONSTANT, np.zeros(9), vmin, vmax, 0, value
    return kind, p, vmin, vmax, rounds, 0.0


@njit(inline="always")
def _plan_status(plan, code):
    """0 for a plan whose fields are in range for format ``code``; else the error code. In range
    is what keeps the kernels sound: values finite, inside [vmin, vmax], a bounded loop."""
    if plan.code != code:
        return _BAD_PLAN_DTYPE
    big = _BIG[code]
    vmin, vmax = np.float64(plan.vmin), np.float64(plan.vmax)
    if not (abs(vmin) <= big and abs(vmax) <= big and vmin <= vmax):
        return _BAD_PLAN
    if plan.kind == _CONSTANT:
        if code >= _F16:
            b = plan.bits
            return 0 if 0 <= b <= 0xFFFF and (b & _EXP16[code]) != _EXP16[code] else _BAD_PLAN
        return 0 if abs(np.float64(plan.value)) <= big else _BAD_PLAN
    if plan.kind < 0 or plan.kind > 2 or plan.rounds < 1 or plan.rounds > _MAX_ROUNDS:
        return _BAD_PLAN
    p = plan.params
    if p.size != 9 or not (math.isfinite(p[0]) and math.isfinite(p[1]) and p[1] != 0.0):
        return _BAD_PLAN
    for i in range(9):
        if math.isnan(p[i]):
            return _BAD_PLAN
    return 0


def _py_plan(plan: Any, code: int) -> None:
    """``plan`` checked for a call from Python: ``TypeError``/``ValueError`` naming plan."""
    if not isinstance(plan, TruncatedNormalPlan):
        raise TypeError(f"plan: expected a TruncatedNormalPlan from truncated_normal_plan(), got "
                        f"{ck.shown(plan)}")
    ints = (plan.kind, plan.rounds, plan.bits, plan.code)
    reals = (plan.vmin, plan.vmax, plan.value)
    if (any(isinstance(v, (bool, np.bool_)) or not isinstance(v, (numbers.Integral, np.integer))
            or not -2**63 <= v < 2**63 for v in ints)
            or any(isinstance(v, (bool, np.bool_)) or not isinstance(v, (numbers.Real, np.number))
                   for v in reals)
            or not isinstance(plan.params, np.ndarray) or plan.params.dtype != np.float64
            or plan.params.shape != (9,)):
        raise TypeError(f"plan: not a plan that truncated_normal_plan makes (its fields' types), "
                        f"got {ck.shown(plan)}")
    if plan.code != code:
        made = _DTYPES[plan.code].name if plan.code in _DTYPES else f"code {plan.code!r}"
        raise ValueError(f"plan: made for {made}, but out holds {_DTYPES[code].name} values "
                         f"(truncated_normal_plan(..., dtype=))")
    if _plan_status_py(plan, code):
        raise ValueError(f"plan: not a plan that truncated_normal_plan makes (a field out of "
                         f"range), got {ck.shown(plan)}")


def fill_truncated_normal(out, seed, start, plan):
    """Fill ``out`` with elements ``[start, start + out.size)`` of ``fastinit.truncated_normal(
    shape, mean, std, lo, hi, dtype=..., seed=seed)``, ``plan`` being
    ``truncated_normal_plan(mean, std, lo, hi, dtype)`` for ``out``'s dtype (module docstring for
    ``out``, ``seed``, ``start`` and errors). Callable from ``@njit`` code (returns a status) and
    from Python (returns None; raises before writing anything)."""
    code = _py_out(out)
    s, at = _py_seed(seed), _py_start(start, out)
    _py_plan(plan, code)
    _run(_fill_truncated_normal_py, out, s, at, plan)


def _typing_plan(plan) -> None:
    fields = {"kind": types.Integer, "vmin": (types.Float, types.Integer),
              "vmax": (types.Float, types.Integer), "rounds": types.Integer,
              "value": (types.Float, types.Integer), "bits": types.Integer, "code": types.Integer}
    ok = (isinstance(plan, types.NamedTuple) and plan.instance_class is TruncatedNormalPlan)
    if ok:
        ty = dict(zip(plan.fields, plan.types))
        ok = all(isinstance(ty[f], t) for f, t in fields.items())
        p = ty["params"]
        ok = ok and isinstance(p, types.Array) and p.dtype == types.float64 and p.ndim == 1
    if not ok:
        raise TypingError(f"fastinit.kernels.fill_truncated_normal: plan must be a "
                          f"TruncatedNormalPlan from truncated_normal_plan(), got {plan}")


@overload(fill_truncated_normal, jit_options={"error_model": "numpy"})
def _fill_truncated_normal_overload(out, seed, start, plan):
    code = _format("fill_truncated_normal", out)
    _typing_ints("fill_truncated_normal", seed=seed, start=start)
    _typing_plan(plan)

    def impl(out, seed, start, plan):
        flat = _flat(out)
        if not _start_ok(start, flat.size):
            _poison(flat, code)
            return _BAD_START
        status = _plan_status(plan, code)
        if status:
            _poison(flat, code)
            return status
        if plan.kind == _CONSTANT:
            if code >= _F16:
                flat[:] = plan.bits
            else:
                flat[:] = plan.value
        elif flat.size:
            _fill_truncnorm(flat, _seed64(seed), np.int64(start), np.int64(plan.kind), plan.params,
                            np.float64(plan.vmin), np.float64(plan.vmax), np.int64(plan.rounds))
        return 0
    return impl


# the Python entry points: the same code, compiled (what a call from Python runs, after its
# checks). They are cached; the fills they call are parallel, and a function loaded from the cache
# does not start Numba's thread pool (numba#8578), so this module starts it when imported.

@njit(cache=True)
def _fill_uniform_py(out, seed, start, low, high):
    return fill_uniform(out, seed, start, low, high)


@njit(cache=True)
def _fill_normal_py(out, seed, start, mean, std):
    return fill_normal(out, seed, start, mean, std)


@njit(cache=True)
def _fill_truncated_normal_py(out, seed, start, plan):
    return fill_truncated_normal(out, seed, start, plan)


@njit(cache=True)
def _plan_status_py(plan, code):
    return _plan_status(plan, code)


_launch_threads()
