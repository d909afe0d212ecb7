"""fastinit.kernels' fills called from Numba code (fastinit.numba_api): a user's @njit function and
prange loop give the Python API's values for the same seed, in every output format; bad
parameters raise from Python before anything is written, and give a status and NaN in compiled
code (prange loops included); plans made by hand are checked; fills loaded from Numba's cache run;
the README's example runs."""
from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path

import ml_dtypes
import numpy as np
import pytest
from numba import njit, prange
from numba.core.errors import TypingError

import fastinit
from fastinit.kernels import (FILL_ERRORS, fill_normal, fill_truncated_normal, fill_uniform,
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


def test_bad_parameters_from_python_raise_before_writing():
    """From Python a bad call raises ValueError/TypeError naming the parameter, out untouched."""
    out = np.zeros(10, np.float32)
    cases = [
        (ValueError, "^std", fill_normal, (out, 0, 0, 0.0, -1.0)),
        (ValueError, "^low, high", fill_uniform, (out, 0, 0, 1.0, 1.0)),
        (ValueError, "^high", fill_uniform, (out, 0, 0, 0.0, np.inf)),
        (ValueError, "^low", fill_uniform, (out, 0, 0, -1e39, 0.0)),
        (ValueError, "^high", fill_uniform, (np.zeros(4, np.uint16), 0, 0, 0.0, 1e5)),  # float16
        (ValueError, "^plan", fill_truncated_normal, (out, 0, 0, truncated_normal_plan(dtype="float64"))),
        (TypeError, "^out", fill_normal, (np.zeros(4, np.int32), 0, 0, 0.0, 1.0)),
        (TypeError, r"^out.*view\(numpy.uint16\)", fill_normal, (np.zeros(4, np.float16), 0, 0, 0.0, 1.0)),
        (TypeError, "^out", fill_normal, ([0.0] * 4, 0, 0, 0.0, 1.0)),
        (ValueError, "^out.*C-contiguous", fill_normal, (np.zeros((4, 4), np.float32)[:, 0], 0, 0, 0.0, 1.0)),
        (TypeError, "^mean", fill_normal, (out, 0, 0, "a", 1.0)),
        (TypeError, "^mean", fill_normal, (out, 0, 0, True, 1.0)),
        (TypeError, "^seed", fill_normal, (out, 1.7, 0, 0.0, 1.0)),
        (TypeError, "^seed", fill_normal, (out, True, 0, 0.0, 1.0)),
        (TypeError, "^start", fill_normal, (out, 0, 2.5, 0.0, 1.0)),
        (TypeError, "^start", fill_uniform, (out, 0, False, 0.0, 1.0)),
        (ValueError, "^start", fill_normal, (out, 0, -1, 0.0, 1.0)),
        (ValueError, "^start", fill_normal, (out, 0, 2**62 - 5, 0.0, 1.0)),
        (TypeError, "^plan", fill_truncated_normal, (out, 0, 0, (0, 1))),
    ]
    for exc, match, fill, args in cases:
        with pytest.raises(exc, match=match):
            fill(*args)
        assert not out.any(), (fill, args)
    ro = np.zeros(4, np.float32)
    ro.flags.writeable = False
    with pytest.raises(ValueError, match="^out.*read-only"):
        fill_normal(ro, 0, 0, 0.0, 1.0)
    with pytest.raises(ValueError, match="^std"):
        truncated_normal_plan(std=0.0)


def test_seeds_as_the_python_api_takes_them():
    """Every int seed= takes, and a Key, give the Python API's values ([2**63, 2**64) and larger
    ints too, which Numba cannot type as int64)."""
    for seed in (2**63, 2**64 - 1, -2**63, 2**70, fastinit.Key(3).child("w")):
        out = np.empty(100, np.float32)
        fill_uniform(out, seed, 0, 0.0, 1.0)
        assert np.array_equal(out, fastinit.uniform(100, seed=seed)), seed


def _hand_made_plans():
    good = truncated_normal_plan(0.0, 1.0, -2.0, 2.0, "float32")
    const = truncated_normal_plan(0.0, 1e-9, -2e-9, 2e-9, "float16")  # one value: its bits
    nan = good.params.copy()
    nan[4] = np.nan
    return [good._replace(rounds=-5), good._replace(rounds=0), good._replace(kind=99),
            good._replace(kind=-7), good._replace(vmin=3.0), good._replace(vmax=np.inf),
            good._replace(params=nan), good._replace(params=np.zeros(9)),
            good._replace(kind=-1, value=np.inf), const._replace(bits=0x7E00),
            const._replace(bits=70000)], good


@njit(parallel=True)
def _plans_in_prange(outs, good, bad):
    status = np.zeros(len(outs), np.int64)
    for i in prange(len(outs)):
        if i % 2:
            status[i] = fill_truncated_normal(outs[i], 0, 0, bad)
        else:
            status[i] = fill_truncated_normal(outs[i], 0, 0, good)
    return status


def test_hand_made_plans_refused():
    """A plan changed by hand is checked field by field: from Python a ValueError naming plan
    (out untouched); from compiled code, inside prange too, status 4 and NaN."""
    bad, good = _hand_made_plans()
    for plan in bad:
        out = np.zeros(50, np.uint16 if plan.code == 2 else np.float32)
        with pytest.raises(ValueError, match="^plan"):
            fill_truncated_normal(out, 0, 0, plan)
        assert not out.any(), plan
    with pytest.raises(ValueError, match="read-only"):
        good.params[0] = 1.0
    outs = np.zeros((6, 50), np.float32)
    status = _plans_in_prange(outs, good, good._replace(rounds=-5))
    assert list(status) == [0, 4] * 3
    want = fastinit.truncated_normal(50, seed=0)
    assert all(np.array_equal(outs[i], want) for i in (0, 2, 4))
    assert np.isnan(outs[1::2]).all()


@njit(parallel=True)
def _normal_rows(ws, stds):
    status = np.zeros(ws.shape[0], np.int64)
    for i in prange(ws.shape[0]):
        status[i] = fill_normal(ws[i], 7, i * ws.shape[1], 0.0, stds[i])
    return status


def test_bad_call_in_prange_gives_status_and_nan():
    """Inside a prange loop a bad call raises nothing (Numba would turn it into SystemError):
    it returns its status (FILL_ERRORS) and leaves all of its out NaN; the good calls fill."""
    ws = np.zeros((8, 300), np.float32)
    stds = np.array([1.0, -1.0, 1.0, np.nan, 1.0, 1e39, 1.0, 1.0])
    status = _normal_rows(ws, stds)
    assert list(status) == [0, 2, 0, 2, 0, 2, 0, 0]
    assert set(FILL_ERRORS) >= {1, 2, 3, 4}
    bad = [1, 3, 5]
    assert np.isnan(ws[bad]).all()
    want = fastinit.normal(8 * 300, seed=7).reshape(8, 300)
    good = [0, 2, 4, 6, 7]
    assert np.array_equal(ws[good], want[good])


def test_refused_when_compiled():
    """Types the fills do not take fail when the caller is compiled: non-contiguous or int out,
    a bool or float seed or start, a bool mean, a plan that is not a TruncatedNormalPlan."""
    @njit
    def call(out, seed, start, mean):
        return fill_normal(out, seed, start, mean, 1.0)

    ok = np.zeros(4, np.float32)
    for args, match in [((np.zeros((4, 4), np.float32)[:, 0], 0, 0, 0.0), "C-contiguous"),
                        ((np.zeros(4, np.int32), 0, 0, 0.0), "float32 or float64"),
                        ((ok, True, 0, 0.0), "seed must be an integer"),
                        ((ok, 0, 2.5, 0.0), "start must be an integer"),
                        ((ok, 0, 0, True), "mean must be a real number")]:
        with pytest.raises(TypingError, match=match):
            call(*args)

    @njit
    def trunc(out, plan):
        return fill_truncated_normal(out, 0, 0, plan)

    with pytest.raises(TypingError, match="TruncatedNormalPlan"):
        trunc(ok, (0, 1))


_CACHED_USER = """
import numpy as np
from numba import njit
from fastinit.kernels import fill_normal, fill_uniform

@njit(cache=True)
def user(out):
    return fill_normal(out, 1, 0, 0.0, 1.0)

a = np.empty(5, np.float32)
assert user(a) == 0
b = np.empty(5, np.float32)
fill_uniform(b, 5, 0, 0.0, 1.0)
print("ok", a.sum() + b.sum())
"""


def test_cached_fills_in_a_new_process(tmp_path):
    """Fills loaded from Numba's disk cache (the second process loads them, a user's cached
    @njit function too) run: their parallel kernels need Numba's thread pool, which a function
    loaded from the cache does not start (numba#8578: it crashed)."""
    (tmp_path / "user.py").write_text(_CACHED_USER)
    env = dict(os.environ, PYTHONPATH=str(Path(fastinit.__file__).parents[1]))
    runs = [subprocess.run([sys.executable, "user.py"], cwd=tmp_path, env=env,
                           capture_output=True, text=True, timeout=300) for _ in range(2)]
    for r in runs:
        assert r.returncode == 0 and r.stdout.startswith("ok"), (r.returncode, r.stderr[-2000:])
    assert runs[0].stdout == runs[1].stdout


def test_readme_example():
    text = (Path(__file__).parents[1] / "README.md").read_text()
    section = text.split("## From Numba code", 1)[1].split("\n## ", 1)[0]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    exec(compile(code, "README.md (From Numba code)", "exec"), {})
