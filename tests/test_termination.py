"""Every truncated-normal call ends, with values inside the support after rounding (issue 10):
the calls that once spun forever, each run in a subprocess under a timeout, and the kernels'
bound on candidates (``MAX_CANDIDATES``) exercised directly."""
import math

import numpy as np
import pytest

import fastinit
from fastinit.fills import _rounds, truncnorm_plan
from fastinit.kernels.truncnorm import fill_truncnorm

INF = math.inf

#: (call, the one value every element must take, or None for "any values inside [lo, hi]")
ONCE_ENDLESS = [
    ("truncated_normal(16, lo=1e5 + 0.001, hi=inf)", np.float32(100000.0078125)),
    ("truncated_normal(16, lo=32000.0006, hi=inf)", np.nextafter(np.float32(32000), np.float32(INF))),
    ("truncated_normal(16, lo=1e38, hi=inf)", np.nextafter(np.float32(1e38), np.float32(INF))),
    ("truncated_normal(16, lo=1e5 + 0.001, hi=1e5 + 0.01)", np.float32(100000.0078125)),
    ("truncated_normal(16, std=1e-9, lo=-2e-9, hi=2e-9, dtype='float16')", 0.0),
    ("glorot_normal(5000, 1, gain=1e-8, layout='keras', dtype='float16')", 0.0),
    ("variance_scaling(1, 4097, scale=1e-30, layout='lux', dtype='float16')", 0.0),
    ("truncated_normal(16, std=3e38, lo=-3e38, hi=3e38)", None),
    ("truncated_normal(16, std=1e308, lo=-1e308, hi=1e308, dtype='float64')", None),
    ("truncated_normal(16, mean=1e20)", 2.0),
    ("truncated_normal(16, std=1e-320, lo=0.5, hi=1.0, dtype='float64')", 0.5),
    ("truncated_normal(5000, lo=4096, hi=inf)", None),
    ("truncated_normal(5000, mean=1e5, std=1e-3, lo=1e5 + 0.001, hi=inf)", np.float32(100000.0078125)),
]


def test_once_endless_calls_end(python):
    """All in one fresh process, so that a regression fails on the timeout instead of hanging
    the suite (a kernel in a loop ignores Ctrl-C and signals)."""
    out = python(f"""
        import math, numpy as np, fastinit
        inf = math.inf
        for call in {[c for c, _ in ONCE_ENDLESS]!r}:
            w = eval("fastinit." + call)
            print(call, "|", w.dtype.name, "|", ",".join(repr(float(v)) for v in np.unique(w)))
    """, timeout=300)
    lines = out.strip().splitlines()
    assert len(lines) == len(ONCE_ENDLESS)
    for (call, one), line in zip(ONCE_ENDLESS, lines):
        got_call, _, values = (s.strip() for s in line.split("|"))
        assert got_call == call
        values = [float(v) for v in values.split(",")]
        assert all(math.isfinite(v) for v in values), line
        if one is not None:
            assert values == [float(one)], line


def test_documented_examples():
    assert not fastinit.truncated_normal(64, std=1e-9, lo=-2e-9, hi=2e-9, dtype="float16", seed=0).any()
    w = fastinit.truncated_normal(64, lo=1e5 + 0.001, hi=INF, seed=0)
    assert (w == np.float32(100000.0078125)).all()  # the samples all round to 100000.0, below lo
    w = fastinit.truncated_normal(5000, lo=4096, hi=INF, seed=0)  # a far tail the float32 grid resolves
    assert (w >= 4096).all() and len(np.unique(w)) > 1


def test_one_value_fills_respect_rows_and_advance_the_seed_as_sampled_ones():
    w = fastinit.truncated_normal(6, 5, std=1e-9, lo=-2e-9, hi=2e-9, dtype="float16", seed=1, rows=slice(2, 4))
    assert w.shape == (2, 5) and not w.any()
    fastinit.seed(7)
    fastinit.truncated_normal(4, lo=1e5 + 0.001, hi=INF)
    a = fastinit.normal(8)
    fastinit.seed(7)
    fastinit.truncated_normal(4)
    assert np.array_equal(fastinit.normal(8), a)


def frequencies(w, values):
    w = np.asarray(w).astype(np.float64).ravel()
    return np.array([(w == v).mean() for v in values])


@pytest.mark.parametrize("kw", [dict(std=0.1, lo=500.0, hi=INF), dict(std=1.1, lo=22000.027, hi=INF),
                                dict(mean=1e5, std=1.0, lo=-INF, hi=1.0), dict(std=1.0, lo=4096.0, hi=INF)])
def test_far_tails_keep_their_shape(kw):
    """Tails thousands of standard deviations out, where float32's spacing at the standardized
    bound is coarse against the tail's scale: sampled from the edge (offset form), the float32
    values are distributed as the float64 ones rounded to float32 (6-sigma bounds per value)."""
    n = 1 << 16
    got = fastinit.truncated_normal(n, seed=1, **kw)
    ref = fastinit.truncated_normal(n, dtype="float64", seed=2, **kw).astype(np.float32)
    values = np.unique(np.concatenate([got, ref]))
    p, q = frequencies(got, values), frequencies(ref, values)
    sigma = np.sqrt(np.maximum(p * (1 - p), 1.0 / n) * 2 / n)
    assert (np.abs(p - q) <= 6 * sigma + 1e-12).all(), (values[:5], p[:5], q[:5])
    assert (got >= kw["lo"]).all() and (got <= kw["hi"]).all()


def test_a_tail_far_past_the_mean_near_zero():
    # N(-1e17, 1) on [0, 1.1]: an exponential of scale 1e-17 from 0, which float32 holds
    w = fastinit.truncated_normal(1 << 16, mean=-1e17, std=1.0, lo=0.0, hi=1.1, seed=3).astype(np.float64)
    assert (w >= 0).all() and abs(w.mean() / 1e-17 - 1) < 6 / 2**8


@pytest.mark.parametrize("kw", [dict(mean=5e38, std=1e38, lo=0.0, hi=1e38), dict(std=1e39, lo=-3e38, hi=3e38),
                                dict(mean=1e39, std=1e39, lo=0.0, hi=1.0), dict(std=1.4e276, lo=3.5e-251, hi=3.07e-45)])
def test_parameters_beyond_the_working_precision_raise(kw):
    out = np.full(16, 7.0, np.float32)
    with pytest.raises(ValueError, match=r"^mean, std: .*beyond float32"):
        fastinit.truncated_normal(seed=0, out=out, **kw)
    assert (out == 7).all()
    assert np.isfinite(fastinit.truncated_normal(16, dtype="float64", seed=0, **kw)).all()


def test_uniform_proposal_skipped_where_its_width_overflows():
    # a = -1, b = 1 favours the uniform proposal, whose width 6e38 is no float32
    kind, _, _ = truncnorm_plan(0.0, 3e38, -3e38, 3e38, np.float32)
    assert kind != 1
    assert truncnorm_plan(0.0, 3e38, -3e38, 3e38, np.float64)[0] == 1
    w = fastinit.truncated_normal(10_000, std=3e38, lo=-3e38, hi=3e38, seed=0)
    assert np.isfinite(w).all() and (np.abs(w) <= np.float32(3e38)).all() and w.astype(np.float64).std() > 1e38


@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "float32", "float64"])
@pytest.mark.parametrize("mean, std, fallback", [(0.0, 1.0, 100.0), (100.5, 1e30, 100.5)])
def test_kernel_bound_on_candidates(dtype, mean, std, fallback):
    """No candidate can be accepted ([vmin, vmax] = [100, 101], beyond the normal proposal's
    reach, or jumped over by its huge std): each lane stops after MAX_CANDIDATES candidates and
    its positions take the support's value nearest the mean."""
    from fastinit._checks import bits16
    kind, p, acc = truncnorm_plan(mean, std, -2.0 * std, 2.0 * std)
    out = np.zeros(4096 + 40, dtype)  # one whole block and a cut one
    flat = out.view(bits16(out.dtype)) if bits16(out.dtype) is not None else out
    fill_truncnorm(flat, np.uint64(1), 4096 - 20, kind, p, 100.0, 101.0, _rounds(acc))
    assert (out.astype(np.float64) == fallback).all()
