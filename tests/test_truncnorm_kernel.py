"""The truncated normal kernel's rejection bookkeeping (``kernels.truncnorm.compact`` on
``simd.scatter_rows``, and on ``simd.lane_rows`` for float32 with AVX-512): every lane's
accepted candidates land in its positions in order, against a plain Python model, on AVX-512 (a
vector scatter; transposes and compresses) and on AVX2 (compiled in a subprocess: LLVM's
per-lane stores); the ``MAX_CANDIDATES`` fallback inside a batch; values independent of the
batch size, and the same on AVX-512 and AVX2. What values a fill gives is pinned by
``test_reproducibility``."""
import platform
import re

import numba
import numpy as np
import pytest
from llvmlite import binding
from numba import njit

from fastinit.fills import truncated_normal_params
from fastinit.kernels import simd
from fastinit.kernels.rng import LANES
from fastinit.kernels.truncnorm import (MAX_CANDIDATES, POSITIONS, _normal32, compact, fill_truncnorm,
                                        lane_buffer, lanes_to_block)

X86 = platform.machine().lower() in ("x86_64", "amd64")
FEATURES = binding.get_host_cpu_features()
AVX2 = X86 and FEATURES.get("avx2", False)
AVX512 = AVX2 and FEATURES.get("avx512f", False)
DTYPES = [np.float32, np.float64, np.uint16, np.int16]  # 16-bit outputs are stored as their bits


@njit
def _scatter(dst, off, cand, ok, count, rows, limit):
    return simd.scatter_rows(dst, np.uint64(off), cand, ok, count, rows, limit)


@njit
def _lanes(buf, dst, off, cand, count, rows, limit):
    q = simd.lane_rows(buf, cand, count, rows, limit)
    simd.lanes_out(dst, np.uint64(off), buf, np.uint64((limit + LANES - 1) // LANES))
    return q


@njit
def _compact(dst, off, cand, ok, count, first, fallback, need):
    """``compact``, then the lanes' buffer to the block where it was used (``lanes_to_block``,
    which writes whole tiles of 16 positions)."""
    buf = lane_buffer(dst)
    least = compact(dst, off, cand, ok, count, first, fallback, need, buf)
    lanes_to_block(dst, off, buf, need)
    return least


def filled(dst, off, start, count):
    """The positions [start, count) of each lane: what a compaction filled (a lane's earlier
    positions are in the block already; ``lane_rows`` writes them out from its buffer)."""
    return [dst[off + np.arange(start[lane], count[lane]) * LANES + lane] for lane in range(LANES)]


def model(dst, off, cand, ok, count, rows, limit, first=0, fallback=None):
    """The bookkeeping one candidate at a time: returns the rows consumed."""
    q = 0
    while q < rows and (count < limit).any():
        for lane in range(LANES):
            if count[lane] < limit:
                if first + q < MAX_CANDIDATES:
                    dst[off + count[lane] * LANES + lane] = cand[q * LANES + lane]
                    count[lane] += ok[q * LANES + lane]
                else:
                    dst[off + count[lane] * LANES + lane] = fallback
                    count[lane] += 1
        q += 1
    return q


def cases(seed=0, n=40):
    rng = np.random.default_rng(seed)
    for dtype in DTYPES:
        for trial in range(n):
            rows = int(rng.integers(0, 3 * POSITIONS // 2))
            limit = int(rng.integers(1, POSITIONS + 1))
            ok = (rng.random(rows * LANES) < rng.random()).astype(np.uint32)
            start = rng.integers(0, limit + 1, LANES) if trial % 2 else np.zeros(LANES, np.int64)
            cand = rng.integers(1, 30000, rows * LANES).astype(dtype)
            yield dtype, int(rng.integers(0, 40)), cand, ok, start.astype(np.int32), rows, limit


def check_scatter(fn):
    for dtype, off, cand, ok, start, rows, limit in cases():
        dst = np.zeros(off + POSITIONS * LANES + 64, dtype)
        count = start.copy()
        ref, ref_count = dst.copy(), start.astype(np.int64)
        q = fn(dst, off, cand, ok, count, rows, limit)
        assert q == model(ref, off, cand, ok, ref_count, rows, limit)
        assert np.array_equal(count, ref_count)
        assert np.array_equal(dst, ref), (dtype, rows, limit)


def test_scatter_rows_against_the_model():
    assert simd.ROW == LANES
    check_scatter(_scatter)


@pytest.mark.skipif(not AVX512, reason="lane_rows is for AVX-512")
def test_lane_rows_against_the_model():
    """Rejected candidates are NaN; rows come in tiles of 16, and a lane's count stops at the limit."""
    buf = np.zeros(LANES * simd.LANE_STRIDE, np.float32)
    for dtype, off, cand, ok, start, rows, limit in cases():
        if dtype != np.float32:
            continue
        rows -= rows % LANES
        cand, ok = cand[:rows * LANES], ok[:rows * LANES]
        marked = np.where(ok == 1, cand, np.float32(np.nan)).astype(np.float32)
        dst = np.zeros(off + POSITIONS * LANES + 64, np.float32)
        count = start.copy()
        ref, ref_count = dst.copy(), start.astype(np.int64)
        q = _lanes(buf, dst, off, marked, count, rows, limit)
        assert q == -(-model(ref, off, cand, ok, ref_count, rows, limit) // LANES) * LANES
        assert np.array_equal(count, ref_count)
        for got, want in zip(filled(dst, off, start, count), filled(ref, off, start, ref_count)):
            assert np.array_equal(got, want), (rows, limit)


@pytest.mark.skipif(not AVX512, reason="lane_rows is for AVX-512")
def test_float32_blocks_are_compacted_by_lanes():
    """No vector scatter in the float32 kernel with AVX-512: transposes and compresses."""
    _, kind, p, vmin, vmax, rounds = truncated_normal_params(0.0, 1.0, -2.0, 2.0, np.dtype(np.float32))
    fresh = numba.njit(**{k: v for k, v in fill_truncnorm.targetoptions.items() if k != "nopython"})(
        fill_truncnorm.py_func)
    fresh(np.zeros(4096, np.float32), np.uint64(1), 0, kind, p, vmin, vmax, rounds)
    asm = fresh.inspect_asm(fresh.signatures[0])
    assert re.search(r"\bvpcompressd\b", asm) and not re.search(r"\bv(p)?scatterd", asm)


def test_scatter_rows_stops_where_every_lane_is_full():
    cand = np.arange(8 * LANES, dtype=np.float32)
    ok = np.ones(8 * LANES, np.uint32)
    count = np.full(LANES, 3, np.int32)
    dst = np.zeros(5 * LANES, np.float32)
    assert _scatter(dst, 0, cand, ok, count, 8, 5) == 2  # two rows fill positions 3 and 4
    assert (count == 5).all() and np.array_equal(dst[3 * LANES:], cand[:2 * LANES])
    assert _scatter(dst, 0, cand, ok, count, 8, 5) == 0
    assert _scatter(dst, 0, cand, ok, np.zeros(LANES, np.int32), 0, 5) == 0


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("first", [MAX_CANDIDATES - 16, MAX_CANDIDATES, MAX_CANDIDATES + 64])
def test_compact_takes_the_fallback_from_max_candidates_on(dtype, first):
    # batches are whole tiles of 16 rows, and MAX_CANDIDATES - first a multiple of 16 (fill_truncnorm)
    rng = np.random.default_rng(first)
    rows, need = 48, 37
    lanes = AVX512 and dtype != np.float64  # compacted by lanes: float32 candidates, NaN rejected
    cdt = np.float32 if lanes else dtype
    cand = rng.integers(1, 30000, rows * LANES).astype(cdt)
    ok = (rng.random(rows * LANES) < 0.3).astype(np.uint32)
    marked = np.where(ok == 1, cand, np.nan).astype(cdt) if lanes else cand
    fb = 7.0 if dtype == np.float64 else np.float32(7.0)  # put() turns it into 16-bit bits
    start = rng.integers(0, need + 1, LANES)
    dst = np.zeros(POSITIONS * LANES, dtype)
    count = start.astype(np.int32)
    least = _compact(dst, 0, marked, ok, count, first, fb, need)
    bits = np.zeros(POSITIONS * LANES, dtype)  # the fallback as put() stores it: one row past MAX_CANDIDATES
    _compact(bits, 0, np.zeros(LANES, cdt), np.zeros(LANES, np.uint32), np.zeros(LANES, np.int32),
             MAX_CANDIDATES, fb, 1)
    bits = bits[:LANES]
    assert (bits == bits[0]).all() and bits[0] != 0
    ref, ref_count = np.zeros(dst.size, cdt), start.astype(np.int64)
    model(ref, 0, cand, ok, ref_count, rows, need, first, fb if lanes else bits[0])
    ref = as_stored(ref, dtype)
    assert least == ref_count.min()
    assert np.array_equal(count, ref_count)
    for got, want in zip(filled(dst, 0, start, count), filled(ref, 0, start, ref_count)):
        assert np.array_equal(got, want)


def as_stored(values, dtype):
    """float32 values as ``put`` stores them in a block of ``dtype`` (16-bit: their bits)."""
    if dtype == np.uint16:
        return values.astype(np.float16).view(np.uint16)
    if dtype == np.int16:
        import ml_dtypes
        return values.astype(ml_dtypes.bfloat16).view(np.int16)
    return values.astype(dtype)


@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "float32", "float64"])
@pytest.mark.parametrize("bounds", [(-2.0, 2.0), (0.1, 0.3), (6.0, np.inf), (-12.0, -10.0)],
                         ids=["normal", "uniform", "exponential", "exponential-below"])
def test_values_do_not_depend_on_the_batch_size(dtype, bounds):
    """Small batches carry each lane's count across many compactions; a cut block (the last one)
    stops at the positions it needs."""
    from fastinit._checks import as_dtype, bits16
    dtype = as_dtype(dtype)  # "bfloat16": imports ml_dtypes
    _, kind, p, vmin, vmax, rounds = truncated_normal_params(0.0, 1.0, *bounds, dtype)
    outs = []
    for r in (rounds, 1, 3, 40):
        out = np.zeros(2 * 4096 + 1000, dtype)
        flat = out.view(bits16(out.dtype)) if bits16(out.dtype) is not None else out
        fill_truncnorm(flat, np.uint64(5), 123, kind, p, vmin, vmax, r)
        outs.append(out.view(np.uint8).copy())
    assert all(np.array_equal(outs[0], o) for o in outs[1:])


@pytest.mark.skipif(not AVX512, reason="the vector scatter is AVX-512's")
def test_scatter_rows_is_a_vector_scatter_with_prefetches():
    cand, ok, count = np.zeros(LANES, np.float32), np.zeros(LANES, np.uint32), np.zeros(LANES, np.int32)
    _scatter(np.zeros(POSITIONS * LANES, np.float32), 0, cand, ok, count, 1, 1)
    sig = next(s for s in _scatter.signatures if s[0].dtype == numba.float32)
    asm = _scatter.inspect_asm(sig)
    assert re.search(r"\bv(p)?scatterd(d|ps)\b", asm), "no vector scatter"
    assert "prefetchw" in asm


def test_candidate_loops_vectorize_with_the_stack_halves():
    """The lanes' state halves live on the stack (``simd.stack_halves``): the candidate loop
    still vectorizes, with the streaming stores of the block before in it (``write_back``)."""
    if not AVX2:
        pytest.skip("vector registers are counted on x86 with AVX2")
    fresh = numba.njit(error_model="numpy")(_normal32)
    _, _, p, vmin, vmax, _ = truncated_normal_params(0.0, 1.0, -2.0, 2.0, np.dtype(np.float32))
    args = (np.ones(LANES, np.uint64), np.ones(LANES, np.uint64), np.zeros(4 * LANES, np.float32),
            np.zeros(4 * LANES, np.uint32), p, vmin, vmax,
            (np.zeros(0, np.float32), np.uint64(0), np.zeros(0, np.float32), np.uint64(0)), np.uint64(0))
    fresh(*args)
    asm = fresh.inspect_asm(fresh.signatures[0])
    assert len(re.findall(r"%[yz]mm\d+", asm)) >= 20


AVX2_CHECK = """
import re, numpy as np
from numba import njit
import tests.test_truncnorm_kernel as t
t.check_scatter(t._scatter)
asm = t._scatter.inspect_asm(t._scatter.signatures[0])
print(len(re.findall(r"\\bv(p)?scatter", asm)), len(re.findall("%zmm", asm)))
print(*t.fill_digests())
"""


def fill_digests():
    """Digests of float32, float16 and bfloat16 fills by each proposal (a cut block included):
    compacted by lanes with AVX-512, by scatter_rows elsewhere."""
    import hashlib

    from fastinit._checks import as_dtype
    digests = []
    for dtype, view in [(np.float32, np.float32), (np.float16, np.uint16), (as_dtype("bfloat16"), np.int16)]:
        for bounds in [(-2.0, 2.0), (0.1, 0.3), (6.0, np.inf)]:
            _, kind, p, vmin, vmax, rounds = truncated_normal_params(0.0, 1.0, *bounds, np.dtype(dtype))
            out = np.zeros(3 * 4096 + 1000, dtype)
            fill_truncnorm(out.view(view), np.uint64(9), 77, kind, p, vmin, vmax, rounds)
            digests.append(hashlib.sha256(out.tobytes()).hexdigest()[:16])
    return digests


@pytest.mark.skipif(not AVX2, reason="runs AVX2 code: needs an x86 host with AVX2")
def test_scatter_rows_on_avx2(python, tmp_path):
    """Without AVX-512, LLVM expands the masked scatter into per-lane stores: same results."""
    features = "+64bit,+sse,+sse2,+sse3,+ssse3,+sse4.1,+sse4.2,+avx,+avx2,+fma,+f16c,+bmi,+bmi2,+popcnt,+cx16"
    env = {"NUMBA_CPU_NAME": "haswell", "NUMBA_CPU_FEATURES": features, "NUMBA_CACHE_DIR": str(tmp_path)}
    scatters, zmm, *digests = python(AVX2_CHECK, env=env).split()
    assert int(scatters) == 0 and int(zmm) == 0
    assert digests == fill_digests()  # the same values as this machine's (AVX-512: by lanes)


def test_each_proposal_is_compiled_on_its_own():
    """A proposal given as ``blocks.variant(kind)`` compiles only that proposal (``propose``), and
    fills the same values as the kernel that picks it at run time (kind an int64)."""
    from fastinit.kernels.blocks import variant
    for bounds in [(-2.0, 2.0), (0.1, 0.3), (6.0, np.inf)]:
        _, kind, p, vmin, vmax, rounds = truncated_normal_params(0.0, 1.0, *bounds, np.dtype(np.float32))
        one, every = np.zeros(5000, np.float32), np.zeros(5000, np.float32)
        fill_truncnorm(one, np.uint64(1), 7, variant(kind), p, vmin, vmax, rounds)
        fill_truncnorm(every, np.uint64(1), 7, np.int64(kind), p, vmin, vmax, rounds)
        assert one.tobytes() == every.tobytes(), bounds
    kinds = {sig[3] for sig in fill_truncnorm.signatures}
    assert {numba.int8, numba.int16, numba.int32, numba.int64} <= kinds, kinds


def test_remembered_plans_are_per_sign_of_zero_and_copied():
    """``truncated_normal_params`` remembers plans (``_truncated_normal_plan``): a mean of -0.0
    is not taken for 0.0 (fma(std, z, -0.0) and fma(std, z, 0.0) differ where std * z underflows),
    and the ``p`` handed out is a copy, so that changing it changes no later plan."""
    dt = np.dtype(np.float32)
    plus = truncated_normal_params(0.0, 1.0, -2.0, 2.0, dt)[2]
    minus = truncated_normal_params(-0.0, 1.0, -2.0, 2.0, dt)[2]
    assert np.signbit(minus[0]) and not np.signbit(plus[0])
    plus[:] = 7.0
    again = truncated_normal_params(0.0, 1.0, -2.0, 2.0, dt)[2]
    assert again[0] == 0.0 and again[1] == 1.0 and not np.signbit(again[0])
