"""fastinit.dask (issue 15): dask arrays made chunk by chunk with ``block=``, bit-equal to the
in-memory tensors for any chunking, on the synchronous and threaded schedulers and on a real
two-process LocalCluster; Zarr stores written with bounded memory; small graphs; errors before
any graph; ``import fastinit`` does not import dask."""
import doctest
import logging
import os
import pickle
import subprocess
import sys
import textwrap

import numpy as np
import pytest

import fastinit

da = pytest.importorskip("dask.array")
fd = pytest.importorskip("fastinit.dask")
zarr = pytest.importorskip("zarr")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))


def _bits(a):
    a = np.asarray(a)
    return np.ascontiguousarray(a).reshape(-1).view(np.uint8)


def assert_same(got, ref):
    got, ref = np.asarray(got), np.asarray(ref)
    assert got.dtype == ref.dtype, (got.dtype, ref.dtype)
    assert got.shape == ref.shape, (got.shape, ref.shape)
    assert np.array_equal(_bits(got), _bits(ref)), "values differ"


def _uneven(n, parts, rng):
    """``n`` split into at most ``parts`` positive sizes at random points."""
    if n <= 1:
        return (n,)
    cuts = sorted(set(rng.choice(np.arange(1, n), size=min(parts - 1, n - 1), replace=False).tolist()))
    edges = [0, *cuts, n]
    return tuple(b - a for a, b in zip(edges, edges[1:]))


def chunkings(shape, seed=0):
    """One chunk, a small int (uneven last chunks), random uneven chunks, and dask's "auto"."""
    rng = np.random.default_rng(seed)
    return [-1, 4, tuple(_uneven(n, 3, rng) for n in shape), "auto"]


# name, shape, params, dtype: every kind of initializer, 2-D to 4-D, the dtypes
CASES = [
    ("normal", (37, 23), {"std": 0.5, "mean": 1.0}, "float32"),
    ("normal", (37, 23), {"std": 0.02}, "float16"),
    ("normal", (37, 23), {"std": 0.02}, "bfloat16"),
    ("normal", (6, 5, 7), {}, "float64"),
    ("normal", (6, 5, 7), {"std": 2.0}, "complex64"),
    ("truncated_normal", (37, 23), {"std": 1.0, "lo": -0.5, "hi": 1.5}, "float32"),
    ("truncated_normal", (4, 3, 5, 6), {"std": 0.02, "lo": -0.04, "hi": 0.04}, "bfloat16"),
    ("uniform", (37, 23), {"low": -1.0, "high": 2.0}, "complex64"),
    ("uniform", (4, 3, 5, 6), {"low": -0.1, "high": 0.1}, "float16"),
    ("kaiming_normal", (6, 5, 7), {"mode": "fan_out", "nonlinearity": "relu"}, "float32"),
    ("kaiming_normal", (4, 3, 5, 6), {"layout": "keras", "truncated": True}, "float64"),
    ("kaiming_uniform", (4, 3, 5, 6), {"a": 5 ** 0.5}, "float32"),
    ("glorot_uniform", (37, 23), {"gain": 2.0}, "bfloat16"),
    ("variance_scaling", (4, 3, 5, 6), {"scale": 2.0, "mode": "fan_avg", "layout": "jax"}, "float16"),
    ("lecun_normal", (10, 4, 3), {}, "float32"),
    ("sparse", (40, 9), {"sparsity": 0.3, "std": 0.1}, "float32"),
    ("sparse", (40, 9), {"sparsity": 0.5}, "float16"),
    ("eye", (9, 13), {"gain": 3.0}, "float64"),
    ("identity", (7, 9), {"shift": 1}, "float32"),
    ("dirac", (6, 3, 3, 3), {"groups": 2}, "float32"),
    ("delta_orthogonal", (3, 3, 4, 6), {}, "float32"),
    ("stft", (16, 1, 9), {}, "float32"),
    ("zeros", (6, 5, 7), {}, "bfloat16"),
    ("constant", (4, 3, 5, 6), {"value": 0.25}, "complex64"),
    ("constant", (6, 5, 7), {"value": 3}, "int8"),
    ("ones", (37, 23), {}, "float16"),
]


@pytest.mark.parametrize("name,shape,params,dtype", CASES,
                         ids=[f"{c[0]}-{len(c[1])}d-{c[3]}" for c in CASES])
def test_bit_equal_for_every_chunking(name, shape, params, dtype):
    ref = fastinit.FUNCTIONS[name](shape, seed=11, dtype=dtype, **params)
    f = getattr(fd, name)
    for chunks in chunkings(shape, seed=len(shape)):
        w = f(shape, chunks=chunks, seed=11, dtype=dtype, **params)
        assert isinstance(w, da.Array) and w.shape == ref.shape and w.dtype == ref.dtype
        assert_same(w.compute(scheduler="sync"), ref)


def test_threaded_scheduler_and_seeds():
    shape = (300, 70)
    for seed in (0, 2**64 + 5, -3, fastinit.Key(7).child("layers.0.weight")):
        ref = fastinit.truncated_normal(shape, std=0.02, lo=-0.04, hi=0.04, seed=seed)
        w = fd.truncated_normal(shape, chunks=(37, 13), std=0.02, lo=-0.04, hi=0.04, seed=seed)
        assert_same(w.compute(scheduler="threads"), ref)
    ref = fastinit.kaiming_uniform(shape, a=5 ** 0.5, seed=np.random.default_rng(3))  # one draw
    w = fd.kaiming_uniform(shape, chunks=(64, 70), a=5 ** 0.5, seed=np.random.default_rng(3))
    assert_same(w.compute(scheduler="threads"), ref)


def test_seed_none_is_drawn_once_on_the_client():
    fastinit.seed(1234)
    ref = fastinit.normal(50, 40, seed=None)
    fastinit.seed(1234)
    w = fd.normal((50, 40), chunks=(7, 9), seed=None)  # 48 chunks, one seed
    later = fd.normal((50, 40), chunks=(7, 9), seed=None)  # the next draw: another tensor
    assert_same(w.compute(scheduler="sync"), ref)
    assert w.name != later.name
    assert not np.array_equal(later.compute(scheduler="sync"), ref)
    assert_same(w.compute(scheduler="sync"), ref)  # computing again: the same values


def test_block_and_edge_shapes():
    full = fastinit.normal(37, 23, std=0.1, seed=4)
    w = fd.normal((37, 23), chunks=5, std=0.1, seed=4, block=(slice(3, 30), slice(-10, None)))
    assert w.shape == (27, 10)
    assert_same(fd.normal((37, 23), chunks={0: 10}, std=0.1, seed=4).compute(scheduler="sync"), full)
    assert_same(w.compute(scheduler="sync"), full[3:30, -10:])
    w = fd.kaiming_normal((6, 5, 7), chunks=2, seed=4, block=(slice(1, 4),))  # fans of the full shape
    assert_same(w.compute(scheduler="sync"), fastinit.kaiming_normal(6, 5, 7, seed=4)[1:4])
    assert_same(fd.normal((), seed=3).compute(scheduler="sync"), fastinit.normal((), seed=3))
    empty = fd.uniform((0, 5), chunks=2, seed=1)
    assert empty.shape == (0, 5) and empty.compute(scheduler="sync").shape == (0, 5)
    # complex32 as float16 pairs: a trailing axis of 2, one chunk
    w = fd.randnC16((9, 6), chunks=(4, 5), seed=2)
    assert w.shape == (9, 6, 2) and w.chunks[-1] == (2,)
    assert_same(w.compute(scheduler="sync"), fastinit.randnC16(9, 6, seed=2))


def test_initializers_and_names():
    init = fastinit.kaiming_normal(gain=1.0, mode="fan_out")
    w = fd.from_initializer(init, (40, 30), chunks=(8, 30), seed=5)
    assert_same(w.compute(scheduler="sync"), init(40, 30, seed=5))
    bound = fastinit.normal(std=3.0, seed=9)  # the bound seed is used
    assert_same(fd.from_initializer(bound, (20, 3), chunks=7).compute(scheduler="sync"),
                fastinit.normal(20, 3, std=3.0, seed=9))
    torch_like = fd.from_initializer("torch.normal_", (20, 30), chunks=10, seed=1, dtype="float64")
    assert_same(torch_like.compute(scheduler="sync"), fastinit.get("torch.normal_")(20, 30, seed=1, dtype="float64"))
    assert_same(fd.from_initializer(fastinit.uniform, 9, chunks=4, seed=1).compute(scheduler="sync"),
                fastinit.uniform(9, seed=1))
    # deterministic keys: the same call, the same graph keys; another seed or chunking, others
    a = fd.normal((64, 32), chunks=(16, 32), std=0.02, seed=1)
    assert a.name == fd.normal((64, 32), chunks=(16, 32), std=0.02, seed=1).name
    assert a.name.startswith("fastinit-normal-")
    assert a.name != fd.normal((64, 32), chunks=(16, 32), std=0.02, seed=2).name
    assert a.name != fd.normal((64, 32), chunks=(8, 32), std=0.02, seed=1).name
    assert fd.xavier_uniform is fd.glorot_uniform and fd.he_normal is fd.kaiming_normal
    assert pickle.loads(pickle.dumps(fd.normal)) is fd.normal
    assert set(fastinit.FUNCTIONS) <= set(fd.__all__)


def test_every_initializer_example():
    """Each function's docstring example (every initializer, chunks=16, bit-equal to the core's;
    orthogonal to rounding) runs and holds."""
    finder, failed, ran = doctest.DocTestFinder(), 0, 0
    for name in ["from_initializer", *fastinit.FUNCTIONS]:
        for test in finder.find(getattr(fd, name), name, globs={"np": np}):
            result = doctest.DocTestRunner().run(test, out=lambda s: None)
            failed, ran = failed + result.failed, ran + result.attempted
    assert failed == 0 and ran >= 3 * len(fastinit.FUNCTIONS)


def test_graph_holds_no_data():
    w = fd.normal((2048, 1024), chunks=(128, 256), std=0.02, seed=0)  # 8 MB, 64 chunks
    graph = dict(w.__dask_graph__())
    assert len(graph) == w.npartitions == 64  # one task per chunk, nothing else
    size = len(pickle.dumps(graph))
    assert size < 16_000 and size < w.nbytes / 500, size
    for task in graph.values():  # a function and small arguments: no array from the client
        assert callable(task[0]) and not any(isinstance(x, np.ndarray) for x in task[1:])


# --- orthogonal: TSQR ----------------------------------------------------------------------------

@pytest.mark.parametrize("shape,chunks,params,dtype,tol", [
    ((200, 30), (50, 30), {}, "float32", 1e-5),  # tall
    ((30, 200), (30, 64), {"gain": 2.0}, "float64", 1e-12),  # wide: the columns are split
    ((8, 8, 40), (3, 8, 40), {"layout": "keras"}, "complex64", 1e-5),  # 64 x 40 after flattening
    ((8, 100, 6), (8, 30, 6), {"column_axis": 1}, "float16", 2e-3),  # 48 x 100: wide
    ((120, 6), "auto", {}, "float32", 1e-5),
])
def test_orthogonal_tsqr_equals_core_to_rounding(shape, chunks, params, dtype, tol):
    ref = fastinit.orthogonal(shape, seed=3, dtype=dtype, **params)
    w = fd.orthogonal(shape, chunks=chunks, seed=3, dtype=dtype, **params)
    assert w.dtype == ref.dtype and w.shape == ref.shape
    got = w.compute(scheduler="sync")
    assert np.allclose(got.astype(np.complex128), ref.astype(np.complex128), rtol=0, atol=tol)


def test_orthogonal_tsqr_is_orthogonal_and_one_chunk_is_exact():
    w = fd.orthogonal((300, 40), chunks=(64, 40), seed=1, gain=0.5).compute(scheduler="sync")
    assert np.allclose(w.T @ w, 0.25 * np.eye(40), atol=1e-5)
    assert_same(fd.orthogonal((60, 20), chunks=-1, seed=1).compute(scheduler="sync"),
                fastinit.orthogonal(60, 20, seed=1))
    assert_same(fd.orthogonal((60, 20), seed=1, dtype="bfloat16").compute(scheduler="sync"),
                fastinit.orthogonal(60, 20, seed=1, dtype="bfloat16"))  # "auto": one chunk here


# --- Zarr --------------------------------------------------------------------------------------------

def test_zarr_round_trip(tmp_path):
    w = fd.kaiming_uniform((130, 48), chunks=(32, 16), a=5 ** 0.5, seed=8)
    w.to_zarr(str(tmp_path / "w.zarr"))
    z = zarr.open_array(str(tmp_path / "w.zarr"), mode="r")
    assert z.chunks == (32, 16)
    assert_same(z[:], fastinit.kaiming_uniform(130, 48, a=5 ** 0.5, seed=8))
    assert_same(da.from_zarr(str(tmp_path / "w.zarr")).compute(), z[:])
    for dtype in ("float16", "complex64"):
        da.to_zarr(fd.normal((50, 7), chunks=(16, 7), seed=2, dtype=dtype), str(tmp_path / f"{dtype}.zarr"))
        assert_same(zarr.open_array(str(tmp_path / f"{dtype}.zarr"))[:], fastinit.normal(50, 7, seed=2, dtype=dtype))
    # Zarr has no bfloat16: its bits as uint16
    import ml_dtypes
    b = fd.normal((50, 7), chunks=(16, 7), seed=2, dtype="bfloat16")
    b.view(np.uint16).to_zarr(str(tmp_path / "b.zarr"))
    back = zarr.open_array(str(tmp_path / "b.zarr"))[:].view(ml_dtypes.bfloat16)
    assert_same(back, fastinit.normal(50, 7, seed=2, dtype="bfloat16"))


def test_zarr_write_memory_is_bounded(tmp_path):
    """A 160 MiB tensor written to Zarr in 2 MiB chunks: the process grows by a few chunks."""
    code = textwrap.dedent("""
        import resource, sys
        import dask, fastinit, fastinit.dask as fd, zarr
        dask.config.set(num_workers=2)  # two chunks at a time, however many CPUs
        fastinit.normal(4, 4, seed=0)
        before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        w = fd.normal((5120, 8192), chunks=(64, 8192), seed=1)
        w.to_zarr(sys.argv[1])
        grew = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before
        z = zarr.open_array(sys.argv[1])
        ok = (z[-64:] == fastinit.normal(5120, 8192, seed=1, block=(slice(-64, None),))).all()
        print(grew // 1024, bool(ok))
    """)
    proc = subprocess.run([sys.executable, "-c", code, str(tmp_path / "big.zarr")], cwd=ROOT,
                          capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    grew_mb, ok = proc.stdout.split()
    assert ok == "True"
    assert int(grew_mb) < 80, f"peak RSS grew by {grew_mb} MB writing 160 MiB"


# --- errors, before any graph ----------------------------------------------------------------------

@pytest.mark.parametrize("call,kind,match", [
    (lambda: fd.normal((10, 5), chunks=(5,)), ValueError, "^chunks"),
    (lambda: fd.normal((10, 5), chunks=((3, 3), 5)), ValueError, "^chunks"),
    (lambda: fd.normal((10, 5), chunks=0), ValueError, "^chunks"),
    (lambda: fd.normal((10, 5), chunks=None), ValueError, "^chunks"),
    (lambda: fd.normal((10, 5), chunks="bogus"), ValueError, "^chunks"),
    (lambda: fd.normal((10, 5), block=(slice(0, 5, 2),)), ValueError, "^block"),
    (lambda: fd.normal((10, 5), block=5), TypeError, "^block"),
    (lambda: fd.normal((10, 5), block=(slice(0, 1),) * 3), ValueError, "^block"),
    (lambda: fd.normal((10, 5), out=np.empty((10, 5), np.float32)), TypeError, "^out"),
    (lambda: fd.normal((10, 5), rows=slice(0, 2)), TypeError, "^rows"),
    (lambda: fd.normal((10, 5), device="cuda"), TypeError, "^device"),
    (lambda: fd.from_initializer(fastinit.normal(device="cuda:0"), (10, 5)), TypeError, "^device"),
    (lambda: fd.normal((10, 5), stdd=1.0), TypeError, "stdd"),
    (lambda: fd.normal((10, 5), std=-1.0), ValueError, "^std"),
    (lambda: fd.sparse((10, 5)), TypeError, "sparsity"),
    (lambda: fd.sparse((10, 5, 2), sparsity=0.5), ValueError, "^shape"),
    (lambda: fd.truncated_normal((10, 5), dtype="complex64"), TypeError, "^dtype"),
    (lambda: fd.zeros16((10, 5), dtype="float32"), TypeError, "dtype"),
    (lambda: fd.kaiming_normal((10, 5), mode="fan_sideways"), ValueError, "^mode"),
    (lambda: fd.normal((10, -5)), ValueError, "^shape"),
    (lambda: fd.normal("10"), TypeError, "^shape"),
    (lambda: fd.normal(10, 5), TypeError, "shape"),
    (lambda: fd.normal((10, 5), seed="x"), TypeError, "^seed"),
    (lambda: fd.from_initializer(3, (10, 5)), TypeError, "^init"),
    (lambda: fd.from_initializer("no_such_init", (10, 5)), ValueError, "no_such_init"),
    (lambda: fd.orthogonal((200, 30), chunks=(50, 10)), ValueError, "^chunks"),
    (lambda: fd.orthogonal((30, 200), chunks=(10, 200)), ValueError, "^chunks"),
    (lambda: fd.orthogonal((200, 30), block=(slice(0, 10),)), ValueError, "^block"),
    (lambda: fd.orthogonal((200,)), ValueError, "^shape"),
    (lambda: fd.orthogonal((20, 30), gain=float("nan")), ValueError, "^gain"),
])
def test_errors_name_the_parameter_before_any_graph(monkeypatch, call, kind, match):
    def no_graph(*a, **k):
        raise AssertionError("a graph was built")
    monkeypatch.setattr(fd, "_blocks", no_graph)
    monkeypatch.setattr(fd.da.linalg, "qr", no_graph)
    with pytest.raises(kind, match=match):
        call()


def test_import_fastinit_does_not_import_dask():
    code = ("import sys, fastinit, fastinit.cli; bad = [m for m in ('dask', 'distributed', 'zarr') "
            "if m in sys.modules]; assert not bad, bad; import fastinit.dask; assert 'dask' in sys.modules")
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr


# --- a real cluster: two worker processes ----------------------------------------------------------

@pytest.fixture(scope="module")
def client():
    distributed = pytest.importorskip("distributed")
    cluster = distributed.LocalCluster(n_workers=2, processes=True, threads_per_worker=1,
                                       dashboard_address=None, worker_dashboard_address=None,
                                       silence_logs=logging.ERROR)
    c = distributed.Client(cluster)
    try:
        yield c
    finally:
        c.close()
        cluster.close()


def test_local_cluster_computes_uneven_chunks(client):
    chunks = ((100, 400, 500), (7, 293))
    w = fd.normal((1000, 300), chunks=chunks, std=0.02, seed=5)
    assert_same(client.compute(w).result(), fastinit.normal(1000, 300, std=0.02, seed=5))
    # every chunk is made on a worker process: none of them is this process
    pids = set(client.gather(client.map(lambda i: os.getpid(), range(8), pure=False)))
    assert os.getpid() not in pids and len(client.scheduler_info()["workers"]) == 2
    w = fd.kaiming_normal((4, 3, 5, 6), chunks=(3, 2, 5, 4), seed=fastinit.Key(1).child("conv"),
                          dtype="bfloat16")
    assert_same(client.compute(w).result(),
                fastinit.kaiming_normal(4, 3, 5, 6, seed=fastinit.Key(1).child("conv"), dtype="bfloat16"))


def test_local_cluster_writes_zarr(client, tmp_path):
    w = fd.truncated_normal((257, 64), chunks=(32, 64), std=0.02, lo=-0.04, hi=0.04, seed=6)
    stored = w.to_zarr(str(tmp_path / "t.zarr"), compute=False)
    client.compute(stored).result()
    assert_same(zarr.open_array(str(tmp_path / "t.zarr"))[:],
                fastinit.truncated_normal(257, 64, std=0.02, lo=-0.04, hi=0.04, seed=6))
