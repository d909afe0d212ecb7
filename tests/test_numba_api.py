"""fastinit.kernels' fills called from Numba code (fastinit.numba_api): a user's @njit function and
prange loop give the Python API's values for the same seed, in every output format; bad
parameters raise, and leave NaN where a prange loop would swallow the error; the README's example
runs."""
from __future__ import annotations

import re
from pathlib import Path

import ml_dtypes
import numpy as np
import pytest
from numba import njit, prange
from numba.core.errors import TypingError

import fastinit
from fastinit.kernels import (fill_normal, fill_truncated_normal, fill_uniform,
                              truncated_normal_plan)

FORMATS = [(np.float32, None), (np.float64, None), (np.float16, np.uint16),
           (ml_dtypes.bfloat16, np.int16)]


def _bits(a: np.ndarray) -> np.ndarray:
    return np.ascontiguousarray(a).view(np.uint8)


@njit(parallel=True, cache=True)
def _layers(ws, seed, plan):
    """The three fills on rows of one (n, rows, cols) tensor, one prange iteration per layer."""
    n = ws.shape[0]
    for i in prange(n):
        at = i * ws[i].size
        fill_normal(ws[i, 0], seed, at, 0.5, 0.02)
        fill_uniform(ws[i, 1], seed + 1, at + ws[i, 0].size, -0.1, 0.1)
        fill_truncated_normal(ws[i, 2:], seed + 2, at + 2 * ws[i, 0].size, plan)


def test_prange_loop_equals_python_api():
    ws = np.empty((5, 3, 1000), np.float32)  # odd block cuts: 3000 values a layer, 4096 a block
    plan = truncated_normal_plan(0.0, 0.02, -0.04, 0.04, "float32")
    _layers(ws, 7, plan)
    full = ws.reshape(-1)
    normal = fastinit.normal(full.size, mean=0.5, std=0.02, seed=7)
    uniform = fastinit.uniform(full.size, low=-0.1, high=0.1, seed=8)
    trunc = fastinit.truncated_normal(full.size, std=0.02, lo=-0.04, hi=0.04, seed=9)
    for i in range(5):
        assert np.array_equal(ws[i, 0], normal[i * 3000:i * 3000 + 1000])
        assert np.array_equal(ws[i, 1], uniform[i * 3000 + 1000:i * 3000 + 2000])
        assert np.array_equal(ws[i, 2], trunc[i * 3000 + 2000:i * 3000 + 3000])


@njit(cache=True)
def _user(out, seed):
    fill_normal(out, seed, 0, 0.0, 1.0)
    return out.sum()


def test_user_njit_and_negative_seed():
    out = np.empty((64, 33), np.float64)
    _user(out, -5)
    assert np.array_equal(out, fastinit.normal(64, 33, dtype="float64", seed=-5))


@pytest.mark.parametrize("dtype,view", FORMATS, ids=lambda x: getattr(x, "__name__", str(x)))
def test_every_format_from_python(dtype, view):
    """The Python entry points (the same compiled code) in each format, with a start inside a
    block: uniform on several intervals (the dtype's values in [low, high) worked out in Numba),
    normal, and truncated normal on a central, a tail and a one-value interval."""
    n, start = 5000, 123

    def run(fill, *args):
        a = np.empty(n, dtype)
        fill(a if view is None else a.view(view), *args)
        return a

    for low, high in [(-0.1, 0.1), (0.0, 1.0), (1 / 3, 2 / 3), (-5.0, -0.001), (-0.0, 1e-3)]:
        got = run(fill_uniform, 11, start, low, high)
        want = fastinit.uniform(n + start, low=low, high=high, dtype=dtype, seed=11)[start:]
        assert np.array_equal(_bits(got), _bits(want)), (low, high)
    got = run(fill_normal, 2**64 - 3, start, -0.25, 2.0)
    want = fastinit.normal(n + start, mean=-0.25, std=2.0, dtype=dtype, seed=2**64 - 3)[start:]
    assert np.array_equal(_bits(got), _bits(want))
    for m, s, lo, hi in [(0.1, 0.02, -0.04, 0.04), (0.0, 1.0, 6.0, np.inf), (0.0, 1e-9, -2e-9, 2e-9)]:
        got = run(fill_truncated_normal, 5, start, truncated_normal_plan(m, s, lo, hi, dtype))
        want = fastinit.truncated_normal(n + start, mean=m, std=s, lo=lo, hi=hi, dtype=dtype, seed=5)[start:]
        assert np.array_equal(_bits(got), _bits(want)), (m, s, lo, hi)


def test_bad_parameters_raise_and_leave_nan():
    out = np.zeros(10, np.float32)
    with pytest.raises(ValueError, match="fill_normal"):
        fill_normal(out, 0, 0, 0.0, -1.0)
    assert np.isnan(out).all()
    for low, high in [(1.0, 1.0), (0.0, np.inf), (-1e39, 0.0)]:
        out[:] = 0
        with pytest.raises(ValueError, match="fill_uniform"):
            fill_uniform(out, 0, 0, low, high)
        assert np.isnan(out).all()
    bits = np.zeros(4, np.uint16)  # float16: 1e5 does not fit
    with pytest.raises(ValueError):
        fill_uniform(bits, 0, 0, 0.0, 1e5)
    assert np.isnan(bits.view(np.float16)).all()
    with pytest.raises(ValueError, match="plan"):
        fill_truncated_normal(out, 0, 0, truncated_normal_plan(dtype="float64"))
    with pytest.raises(ValueError, match="std"):
        truncated_normal_plan(std=0.0)
    with pytest.raises(TypingError, match="C-contiguous"):
        fill_normal(np.zeros((4, 4), np.float32)[:, 0], 0, 0, 0.0, 1.0)
    with pytest.raises(TypingError, match="float32 or float64"):
        fill_normal(np.zeros(4, np.int32), 0, 0, 0.0, 1.0)


def test_readme_example():
    text = (Path(__file__).parents[1] / "README.md").read_text()
    section = text.split("## From Numba code", 1)[1].split("\n## ", 1)[0]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    exec(compile(code, "README.md (From Numba code)", "exec"), {})
