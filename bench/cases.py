"""The fills benchmarked, with their numpy and torch peers, shared by compare.py and the
pytest-benchmark files.

``fastinit`` is the fastinit function with the case's parameters bound: ``fastinit(out=out)``
fills in place, ``fastinit(shape, dtype=dtype)`` allocates. The peers fill in place:
``numpy(out)`` and ``torch(tensor)``, where ``tensor = torch.from_numpy(out)`` shares ``out``'s
memory. A peer is ``None`` where the library has no such fill (numpy: no truncated normal, no
sparse, no float16).
"""
from __future__ import annotations

import math
import warnings
from dataclasses import dataclass
from functools import partial
from typing import Callable

import numpy as np

import fastinit

try:
    import torch
except ImportError:  # the fastinit and numpy columns still run
    torch = None

DTYPES = ("float16", "bfloat16", "float32", "float64")
NUMPY_DTYPES = ("float32", "float64")  # what Generator.random and standard_normal accept
# Elements torch runs on at most, where it is too slow for 10^8 (its rate is then per element):
TORCH_SPARSE_CAP = 10**7  # sparse_ loops over the columns in Python
TORCH_TAIL_CAP = 10**6  # trunc_normal_ deep in a tail (about 0.1 M/s): its rejection loop redraws
#                         the whole tensor until the last element is accepted


@dataclass(frozen=True)
class Case:
    name: str
    fastinit: Callable
    numpy: Callable | None = None
    torch: Callable | None = None
    lo: float = -math.inf  # every value must lie in [lo, hi] (checked by check())
    hi: float = math.inf
    two_d: bool = False  # filled through a square-ish (rows, cols) view
    torch_cap: int | None = None  # torch runs on at most this many elements


def _rng():
    return np.random.Generator(np.random.PCG64(0))


def _np_random(out, rng=_rng()):
    rng.random(dtype=out.dtype, out=out)


def _np_normal(out, rng=_rng()):
    rng.standard_normal(dtype=out.dtype, out=out)


def _torch_trunc(t, lo, hi):
    with warnings.catch_warnings():  # "mean is more than 2 std from [a, b]": the point here
        warnings.simplefilter("ignore", UserWarning)
        torch.nn.init.trunc_normal_(t, 0.0, 1.0, lo, hi)


def _trunc(lo, hi, torch_cap=None):
    name = f"truncated_normal [{lo:g}, {hi:g}]".replace("inf]", "inf)")
    return Case(
        name,
        fastinit=partial(fastinit.truncated_normal, lo=lo, hi=hi, seed=0),
        torch=partial(_torch_trunc, lo=lo, hi=hi),
        lo=lo, hi=hi, torch_cap=torch_cap,
    )


def _fans(t) -> tuple[int, int]:
    return torch.nn.init._calculate_fan_in_and_fan_out(t)


def _torch_keras_glorot_normal(t):
    """Keras' GlorotNormal on torch: std sqrt(2 / (fan_in + fan_out)) / 0.8796..., cut at 2 std."""
    fan_in, fan_out = _fans(t)
    s = math.sqrt(2.0 / (fan_in + fan_out)) / fastinit.TRUNCATED_STD
    torch.nn.init.trunc_normal_(t, 0.0, s, -2 * s, 2 * s)


CASES = {
    c.name: c
    for c in (
        Case("uniform", partial(fastinit.uniform, seed=0), _np_random, lambda t: t.uniform_(),
             lo=0.0, hi=1.0),
        Case("normal", partial(fastinit.normal, seed=0), _np_normal, lambda t: t.normal_()),
        _trunc(-2.0, 2.0),
        _trunc(6.0, math.inf),
        _trunc(-12.0, -10.0, torch_cap=TORCH_TAIL_CAP),
        Case("sparse 0.9", partial(fastinit.sparse, sparsity=0.9, std=0.01, seed=0),
             torch=lambda t: torch.nn.init.sparse_(t, 0.9, 0.01), two_d=True, torch_cap=TORCH_SPARSE_CAP),
        Case("kaiming_uniform a=sqrt5", partial(fastinit.kaiming_uniform, a=math.sqrt(5), seed=0),
             torch=lambda t: torch.nn.init.kaiming_uniform_(t, a=math.sqrt(5)), lo=-1.0, hi=1.0,
             two_d=True),
        Case("kaiming_normal", partial(fastinit.kaiming_normal, seed=0),
             torch=lambda t: torch.nn.init.kaiming_normal_(t), two_d=True),
        Case("glorot_normal keras", partial(fastinit.glorot_normal, layout="keras", seed=0),
             torch=_torch_keras_glorot_normal, lo=-1.0, hi=1.0, two_d=True),
        Case("constant 0", fastinit.zeros, lambda out: out.fill(0.0),
             lambda t: torch.nn.init.zeros_(t), lo=0.0, hi=0.0),
    )
}


def square_shape(n: int) -> tuple[int, int]:
    """(rows, cols) with rows * cols == n and rows the largest divisor of n not above sqrt(n)."""
    rows = math.isqrt(n)
    while n % rows:
        rows -= 1
    return rows, n // rows


def shape_for(case: Case, n: int) -> tuple[int, ...]:
    return square_shape(n) if case.two_d else (n,)


def touched(n: int, dtype) -> np.ndarray:
    """A flat array of n elements whose pages are all mapped (np.zeros would defer that)."""
    out = np.empty(n, dtype)
    out.fill(1.0)
    return out


def numpy_peer(case: Case, dtype) -> Callable | None:
    return case.numpy if np.dtype(dtype).name in NUMPY_DTYPES else None


def torch_peer(case: Case) -> Callable | None:
    return case.torch if torch is not None else None


def torch_view(case: Case, out: np.ndarray):
    """``out`` (its first ``torch_cap`` elements) as a torch tensor of the case's shape, no copy."""
    n = min(out.size, case.torch_cap or out.size)
    part = out.reshape(-1)[:n]
    if part.dtype.name == "bfloat16":  # torch.from_numpy knows no bfloat16: its bits, viewed back
        return torch.from_numpy(part.view(np.int16)).view(torch.bfloat16).reshape(shape_for(case, n))
    return torch.from_numpy(part.reshape(shape_for(case, n)))


def check(case: Case, values: np.ndarray) -> str | None:
    """Why ``values`` are not a usable result of ``case`` (None when they are)."""
    if torch is not None and isinstance(values, torch.Tensor) and values.dtype == torch.bfloat16:
        values = values.float()  # numpy has no view of a bfloat16 tensor
    v = np.asarray(values).astype(np.float32, copy=False)  # a numpy array or a CPU tensor (bfloat16: a copy)
    if not np.isfinite(v).all():
        return "inf/nan"
    vmin, vmax = float(v.min()), float(v.max())
    if vmin < case.lo or vmax > case.hi:
        return f"outside [{case.lo:g}, {case.hi:g}]"
    if vmin == vmax and case.lo != case.hi:
        return f"all {vmin:g}"
    return None
