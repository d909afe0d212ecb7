"""Every fill in every dtype, fastinit beside its numpy and torch peers (grouped by fill and
dtype), each filling a preallocated, touched array in place."""
from functools import partial

import pytest

from cases import CASES, DTYPES, check, numpy_peer, shape_for, torch_peer, torch_view, touched


def _params():
    for case in CASES.values():
        for dtype in DTYPES:
            libs = ["fastinit"] + ["numpy"] * bool(numpy_peer(case, dtype)) + ["torch"] * bool(torch_peer(case))
            for lib in libs:
                yield pytest.param(case, dtype, lib, id=f"{case.name}-{dtype}-{lib}".replace(" ", ""))


def _target_and_fill(case, dtype, lib, size):
    out = touched(size, dtype)
    if lib == "fastinit":
        return out.reshape(shape_for(case, size)), lambda target: case.fastinit(out=target)
    if lib == "numpy":
        return out, numpy_peer(case, dtype)
    return torch_view(case, out), case.torch


def _validate(case, lib, target):
    """fastinit and numpy must give valid values; torch is skipped where it gives inf or nan."""
    if problem := check(case, target):
        if lib != "torch":
            pytest.fail(f"{lib}: {problem}")
        if problem == "inf/nan":
            pytest.skip(f"torch: {problem}")


@pytest.mark.parametrize("case, dtype, lib", list(_params()))
def test_fill(bench_fill, size, case, dtype, lib):
    target, fill = _target_and_fill(case, dtype, lib, size)
    try:
        bench_fill(fill, target, f"{case.name} {dtype}", validate=partial(_validate, case, lib))
    except RuntimeError as e:
        if lib != "torch":
            raise
        pytest.skip(f"torch fails here: {e}")
