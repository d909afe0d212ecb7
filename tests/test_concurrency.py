"""Contract 6 under concurrency: calls from several Python threads at once, and calls in a child
process forked after a parallel call (multiprocessing with fork, torch DataLoader workers),
neither crash nor change results. Each case runs in a fresh interpreter, so a crash (GNU OpenMP
kills a forked child; workqueue aborts concurrent calls) fails the test instead of pytest."""
import json

import pytest

import fastinit  # noqa: F401

PRELUDE = """
    import hashlib, json
    import numpy as np
    import fastinit

    def work(i):
        # every kernel, several blocks each, so that the parallel driver runs
        a = [fastinit.normal(64, 4096 + i, seed=i), fastinit.uniform(64, 4096, seed=i, dtype="float16"),
             fastinit.truncated_normal(64, 4096, seed=i, lo=-1, hi=3), fastinit.sparse(256, 1024, sparsity=0.5, seed=i)]
        return hashlib.sha256(b"".join(x.tobytes() for x in a)).hexdigest()

    def work_initializers(i):
        # the initializers on top: fans, the polar kernel, LAPACK under its lock, keyed seeds
        key = fastinit.Key(i)
        a = [fastinit.kaiming_uniform(256, 64, 3, 3, seed=key.child("conv")),
             fastinit.get("he_normal")(3, 3, 64, 256, seed=key.child("keras")),
             fastinit.variance_scaling(512, 512, layout="jax", dtype="complex64", seed=i),
             fastinit.orthogonal(384, 256 + i, seed=key.child("q")),
             fastinit.orthogonal(128, 512, layout="keras", seed=i)]
        return hashlib.sha256(b"".join(x.tobytes() for x in a)).hexdigest()
"""


def test_threading_layer_is_tbb(python):
    out = python("""
        import numba, fastinit
        fastinit.normal(100000, seed=1)
        print(numba.threading_layer())
    """)
    assert out.strip() == "tbb"


def test_four_python_threads_at_once(python):
    out = python(PRELUDE + """
    from concurrent.futures import ThreadPoolExecutor
    serial = [work(i) for i in range(16)]
    with ThreadPoolExecutor(4) as pool:
        for _ in range(3):
            assert list(pool.map(work, range(16))) == serial
    print(json.dumps(serial))
    """)
    assert len(json.loads(out)) == 16


def test_four_python_threads_at_once_initializers(python):
    out = python(PRELUDE + """
    from concurrent.futures import ThreadPoolExecutor
    serial = [work_initializers(i) for i in range(8)]
    with ThreadPoolExecutor(4) as pool:
        for _ in range(2):
            assert list(pool.map(work_initializers, range(8))) == serial
    print(json.dumps(serial))
    """, timeout=300)
    assert len(json.loads(out)) == 8


def test_forked_child_initializers(python):
    out = python(PRELUDE + """
    import multiprocessing as mp
    parent = [work_initializers(i) for i in range(2)]
    with mp.get_context("fork").Pool(2) as pool:
        child = pool.map(work_initializers, range(2))
    assert child == parent, (child, parent)
    print("ok")
    """, timeout=300)
    assert out.strip() == "ok"


def test_forked_child_after_a_parallel_call(python):
    out = python(PRELUDE + """
    import multiprocessing as mp
    parent = [work(i) for i in range(4)]  # the parent has used the thread pool before forking
    with mp.get_context("fork").Pool(2) as pool:
        child = pool.map(work, range(4))
    assert child == parent, (child, parent)
    print("ok")
    """, timeout=300)
    assert out.strip() == "ok"


def test_torch_dataloader_workers(python):
    pytest.importorskip("torch")
    out = python(PRELUDE + """
    import torch
    from torch.utils.data import DataLoader, Dataset

    class Weights(Dataset):
        def __len__(self):
            return 4
        def __getitem__(self, i):
            return work(i)

    parent = [work(i) for i in range(4)]
    loader = DataLoader(Weights(), batch_size=None, num_workers=2, multiprocessing_context="fork")
    assert list(loader) == parent
    print("ok")
    """, timeout=300)
    assert out.strip() == "ok"


def test_fork_while_another_thread_holds_the_locks(python):
    """A child forked while another thread holds fastinit's locks (the global seed's, the BLAS
    one) gets them unlocked: its unseeded and orthogonal calls do not hang."""
    out = python("""
    import os, threading, time
    import fastinit
    from fastinit import _lapack, _seeding
    fastinit.orthogonal(8, 4, seed=0)
    held = threading.Event()
    def hold():
        with _seeding._lock, _lapack._blas_lock:
            held.set()
            time.sleep(3)
    threading.Thread(target=hold, daemon=True).start()
    held.wait()
    pid = os.fork()
    if pid == 0:
        fastinit.normal(10)
        fastinit.orthogonal(16, 8, seed=1)
        os._exit(0)
    _, status = os.waitpid(pid, 0)
    print(os.waitstatus_to_exitcode(status))
    """, timeout=120)
    assert out.strip() == "0"
