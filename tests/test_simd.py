"""``simd.flagged``: the indices of the nonzero flags, in order, as ``np.flatnonzero`` gives them
(sparse's cycle walks gather their elements with it on AVX-512)."""
import numpy as np
import pytest
from numba import njit

from fastinit.kernels.simd import ROW, flagged


@njit
def _flagged(idx, flags, n):
    return flagged(idx, flags, n)


@pytest.mark.parametrize("n", [1, 15, 16, 17, 4095, 4096])
@pytest.mark.parametrize("rate", [0.0, 0.011, 0.5, 1.0])
def test_flagged_gives_the_nonzero_flags_in_order(n, rate):
    rng = np.random.default_rng(n + int(rate * 1000))
    flags = np.zeros(-(-n // ROW) * ROW, np.uint8)  # whole groups, zero past n
    flags[:n] = rng.random(n) < rate
    idx = np.full(n + ROW, 0xDEADBEEF, np.uint32)
    m = _flagged(idx, flags, n)
    want = np.flatnonzero(flags[:n])
    assert m == want.size
    assert np.array_equal(idx[:m], want)


SPARSE = """
import hashlib, numpy as np, fastinit
from fastinit.kernels.simd import avx512
w = fastinit.sparse((10000, 40), sparsity=0.9, std=0.5, seed=3)
print(avx512(), hashlib.sha256(w.tobytes()).hexdigest())
"""


def test_sparse_walks_are_gathered_alike_with_and_without_avx512(python, tmp_path):
    """10,000 rows: 1.1% of the elements cycle-walk. Their indices are gathered by ``flagged``
    with AVX-512 and by testing words of flags elsewhere (an AVX2 subprocess): same bytes."""
    features = "+64bit,+sse,+sse2,+sse3,+ssse3,+sse4.1,+sse4.2,+avx,+avx2,+fma,+f16c,+bmi,+bmi2,+popcnt,+cx16"
    env = {"NUMBA_CPU_NAME": "haswell", "NUMBA_CPU_FEATURES": features, "NUMBA_CACHE_DIR": str(tmp_path)}
    wide, digest = python(SPARSE, env=env).split()
    _, want = python(SPARSE).split()
    assert wide == "False"
    assert digest == want
