"""Numba's workqueue threading layer (issue 10, item 10): it aborts the process on two parallel
launches at once, so there fastinit runs CPU calls from several threads one at a time, and the
process never aborts. Each case runs in a fresh interpreter with NUMBA_THREADING_LAYER=workqueue,
so an abort fails the test instead of killing pytest."""
import hashlib
import json

import fastinit

WORKQUEUE = {"NUMBA_THREADING_LAYER": "workqueue"}

PRELUDE = """
    import hashlib, json, threading
    from concurrent.futures import ThreadPoolExecutor
    import numba
    import fastinit

    def work(i):
        # every CPU kernel, large enough for the parallel driver to run
        a = [fastinit.normal(64, 4096, seed=i), fastinit.uniform(64, 4096, seed=i, dtype="float16"),
             fastinit.truncated_normal(64, 4096, seed=i, lo=-1, hi=3),
             fastinit.sparse(256, 1024, sparsity=0.5, seed=i), fastinit.orthogonal(96, 64, seed=i)]
        return hashlib.sha256(b"".join(x.tobytes() for x in a)).hexdigest()

    def stress(n_threads, rounds):
        with ThreadPoolExecutor(n_threads) as pool:
            return [r for _ in range(rounds) for r in pool.map(work, range(8))]
"""


def _work_here(i):
    a = [fastinit.normal(64, 4096, seed=i), fastinit.uniform(64, 4096, seed=i, dtype="float16"),
         fastinit.truncated_normal(64, 4096, seed=i, lo=-1, hi=3),
         fastinit.sparse(256, 1024, sparsity=0.5, seed=i), fastinit.orthogonal(96, 64, seed=i)]
    return hashlib.sha256(b"".join(x.tobytes() for x in a)).hexdigest()


def test_workqueue_runs_concurrent_calls_without_aborting(python):
    """Threads started before any parallel launch (the layer is not known yet), then threads on
    the initialized layer: the process does not abort, and every result equals the serial one
    (and the one computed here, on TBB)."""
    out = python(PRELUDE + """
    first = stress(4, 1)  # the very first launches race each other
    assert numba.threading_layer() == "workqueue", numba.threading_layer()
    serial = [work(i) for i in range(8)]
    got = stress(4, 3)
    assert first + got == serial * 4
    print(json.dumps(serial))
    """, env=WORKQUEUE, timeout=300)
    assert json.loads(out) == [_work_here(i) for i in range(8)]  # the layer does not change the output


def test_workqueue_call_waits_for_a_running_kernel(python):
    """Deterministically: while another thread holds the guard (as during its kernel), a call
    waits; once the guard is free, it completes with the usual values."""
    out = python(PRELUDE + """
    from fastinit import _threading
    work(0)  # initializes the layer
    held, release = threading.Event(), threading.Event()
    def run_kernel():
        with _threading._running.lock:
            held.set()
            release.wait()
    t = threading.Thread(target=run_kernel)
    t.start()
    held.wait()
    result = []
    caller = threading.Thread(target=lambda: result.append(fastinit.normal(1000, seed=1)))
    caller.start()
    caller.join(1.0)
    waited = caller.is_alive()
    release.set()
    t.join()
    caller.join(60)
    print(json.dumps({"layer": numba.threading_layer(), "waited": waited, "after": result[0].tolist()[:3]}))
    """, env=WORKQUEUE, timeout=120)
    r = json.loads(out)
    assert r["layer"] == "workqueue"
    assert r["waited"], "the call ran while another kernel held the guard"
    assert r["after"] == fastinit.normal(1000, seed=1).tolist()[:3]


def test_tbb_runs_concurrent_calls_unguarded(python):
    """On the default layer (TBB) concurrent calls do not take the guard."""
    out = python(PRELUDE + """
    from fastinit import _threading
    serial = [work(i) for i in range(8)]
    with _threading._running.lock:  # held: a guarded call would wait forever
        got = stress(4, 2)
    assert got == serial * 2
    print(numba.threading_layer())
    """, timeout=300)
    assert out.strip() == "tbb"
