"""pytest-benchmark cases of bench/: ``pytest bench/ --benchmark-only``.

The test suite (pyproject's ``testpaths = ["tests"]``) never comes here. This file makes pytest
collect ``bench_*.py``, sets the size (``FASTINIT_BENCH_SIZE``, default 10^7 elements) and gives
torch Numba's thread count.
"""
import math
import os
import sys
import time
from pathlib import Path

import numba
import numpy as np
import pytest

sys.path.insert(0, str(Path(__file__).parent))  # `import cases` under any import mode
from cases import torch  # noqa: E402

SIZE = int(os.environ.get("FASTINIT_BENCH_SIZE", 10**7))
SLOW_S, SLOW_ROUNDS = 1.0, 3  # torch's trunc_normal_ deep in a tail takes 5-20 s a call
if torch is not None:
    torch.set_num_threads(numba.get_num_threads())


def pytest_collect_file(file_path, parent):
    """Collect bench_*.py as test modules (pytest collects a file named on the command line
    by itself)."""
    if file_path.suffix == ".py" and file_path.name.startswith("bench_") and not parent.session.isinitpath(file_path):
        return pytest.Module.from_parent(parent, path=file_path)
    return None


@pytest.fixture
def size():
    return SIZE


def extent(target) -> tuple[int, int]:
    """(elements, bytes) of a numpy array, a torch tensor (CPU or CUDA) or a GPU array."""
    elements = math.prod(target.shape)
    return elements, elements * np.dtype(str(target.dtype).removeprefix("torch.")).itemsize


@pytest.fixture
def bench_fill(benchmark):
    """``bench_fill(fill, target, group, validate=None)`` times ``fill(target)`` after a warm-up
    call (which compiles; ``validate(target)`` then checks its values), groups it with its peers
    and puts elements, bytes, M elements/s and GB/s of the median in extra_info. Fills slower
    than ``SLOW_S`` a call get ``SLOW_ROUNDS`` rounds instead of pytest-benchmark's calibration."""

    def run(fill, target, group, validate=None):
        t0 = time.perf_counter()
        fill(target)
        if validate is not None:
            validate(target)
        benchmark.group = group
        if time.perf_counter() - t0 > SLOW_S:
            benchmark.pedantic(fill, args=(target,), rounds=SLOW_ROUNDS)
        else:
            benchmark(fill, target)
        elements, nbytes = extent(target)
        benchmark.extra_info.update(elements=elements, bytes=nbytes)
        if benchmark.stats is not None:  # None under --benchmark-disable
            median = benchmark.stats.stats.median
            benchmark.extra_info.update(M_elements_per_s=elements / median / 1e6, GB_per_s=nbytes / median / 1e9)

    return run
