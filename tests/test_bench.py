"""fastinit._bench, the measuring behind bench/compare.py and `fastinit bench`: the ceilings, the
alternating timing of each fill against the fastest ceiling, and the value checks."""
import pytest

import fastinit._bench as b


def test_paired_seconds_alternates_the_two_calls():
    calls = []
    fill, ceiling = (lambda: calls.append("f")), (lambda: calls.append("c"))
    seconds, ceiling_s = b.paired_seconds(fill, ceiling, 3)
    assert calls == ["f", "c"] * 4  # a warm-up of each, then alternating
    assert seconds >= 0 and ceiling_s >= 0


def test_fill_rows_are_checked_on_their_own_values():
    """The ceiling's calls write 1.0 into the same array; each fill's values are checked after a
    call of its own, so a correct fill carries no note."""
    rows = b.measure(fills=["uniform", "normal", "truncated_normal [-2, 2]", "constant"], size=20000,
                     repeats=2, with_torch=False)
    ceilings = [r for r in rows if r.kind == "ceiling"]
    fills = [r for r in rows if r.kind == "fill"]
    assert [r.fill for r in ceilings] == list(b.CEILINGS)
    assert len(fills) == 4
    for r in fills:
        assert r.notes == [], (r.fill, r.notes)
        assert r.ceiling_s and r.ceiling_s > 0
        assert r.rates()["pct_ceiling"] > 0


def _bench_script(name):
    """The module of the script ``bench/<name>.py``."""
    import importlib.util
    import pathlib
    path = pathlib.Path(__file__).resolve().parents[1] / "bench" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    mod = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(mod)
    return mod


def _coldstart():
    return _bench_script("coldstart")


def test_coldstart_runs_each_case_on_an_empty_cache():
    """bench/coldstart.py's cases start on an empty Numba cache, every run: a run that compiled a
    cached kernel (which writes it to the cache) leaves nothing for the next one."""
    cs = _coldstart()
    pre = ("import glob, os\n"
           "assert not glob.glob(os.path.join(os.environ['NUMBA_CACHE_DIR'], '**', 'blocks.span_units*'), recursive=True)\n"
           "from fastinit.kernels.blocks import span_units")
    for _ in range(2):
        r = cs.run_case("span_units(np.zeros(8, np.int64), 0)", "float32", None, pre=pre)
        assert r["wall_s"] > 0 and r["cpu_s"] > 0 and r["import_s"] > 0


def test_coldstart_reports_a_failing_case():
    with pytest.raises(RuntimeError, match="ZeroDivisionError"):
        _coldstart().run_case("1 / 0", "float32", None)


def test_coldstart_rows_name_case_dtype_and_checkout():
    cs = _coldstart()
    rows = cs.measure([], [], 1, [None])  # only the two reference rows of Numba itself
    assert [r["case"] for r in rows] == ["numba: a trivial @njit", "numba: then a trivial prange"]
    assert all(r["src"] == "." and r["wall_s"] > 0 for r in rows)


def test_coldstart_imports_fastinit_from_the_checkout_it_is_given(tmp_path):
    """``--src DIR`` runs DIR's fastinit, even when started from another checkout (``python -c``
    puts the working directory first on sys.path)."""
    fake = tmp_path / "fastinit"
    fake.mkdir()
    (fake / "__init__.py").write_text("FAKE = True\n")
    r = _coldstart().run_case("assert fi.FAKE", "float32", str(tmp_path))  # the real one has no FAKE
    assert r["wall_s"] >= 0


def _overlap():
    return _bench_script("overlap")


def test_overlap_streams_exactly_what_the_fill_writes():
    """bench/overlap.py's ``store`` part writes every element of every whole block, at every
    alignment the fill meets (its stores without its values), and its ``gen`` part writes
    nothing outside the scratch block."""
    import numpy as np
    from fastinit.kernels.rng import BLOCK
    ov = _overlap()
    raw = np.zeros(3 * BLOCK + 32, np.float32)
    for shift in (0, 1, 5, 16):
        out = raw[shift:shift + 3 * BLOCK]
        out[:] = 0
        ov._stream_blocks(out, 256)
        assert (out == 1).all(), shift
    tmp = np.zeros(BLOCK + 16, np.float32)
    ov._generate(tmp[:BLOCK], np.uint64(1), 2, 0.0, 1.0, 0.0, 0.5)
    assert (tmp[BLOCK:] == 0).all() and (tmp[:BLOCK] > 0).any()


def test_overlap_prints_one_row_per_thread_count(capsys):
    _overlap().main(["--size", str(1 << 16), "--repeats", "1"])
    rows = [l for l in capsys.readouterr().out.splitlines() if l.strip()[:1].isdigit()]
    assert len(rows) == 2 and rows[0].split("|")[0].strip() == "1"
