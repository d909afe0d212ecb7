"""Ctrl-C (KeyboardInterrupt) at any point of a call leaves no lock held and no BLAS thread limit
set (issue 10, item 2), and ``fastinit._forksafe.defer_sigint``, which holds a SIGINT back over
the sections that must not be torn, delivers it afterwards. Each case runs in a fresh interpreter:
a leaked lock makes the checks after the interrupts hang, which the child reports (and a timeout
bounds) instead of pytest."""
import json
import os
import signal
import subprocess
import sys
import textwrap

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

PRELUDE = """
    import json, os, random, signal, sys, threading, time
    import threadpoolctl
    import fastinit

    # two BLAS threads even on one core, so that a limit of one left set shows
    threadpoolctl.threadpool_limits(limits=2, user_api="blas")

    def blas_threads():
        return sorted(d["num_threads"] for d in threadpoolctl.threadpool_info() if d["user_api"] == "blas")

    def finishes(fn, timeout=10):
        # fn() in a thread: a lock leaked by an interrupt makes it block forever
        t = threading.Thread(target=fn, daemon=True)
        t.start()
        t.join(timeout)
        return not t.is_alive()

    # SIGINT is sent by the process to itself at random times, 10-200 us apart: a timer signal
    # forwards it, so that it lands at arbitrary bytecodes (the kernel re-arms the timer, and its
    # handler moves the next expiry at random). The SIGINT handler raises KeyboardInterrupt, as
    # the default one does, but only while a call is in flight, so that the loop below is not
    # torn itself.
    armed = False
    rng = random.Random(0)
    def on_sigint(signum, frame):
        if armed:
            raise KeyboardInterrupt
    def on_alarm(signum, frame):
        signal.setitimer(signal.ITIMER_REAL, rng.uniform(10e-6, 200e-6), 100e-6)
        os.kill(os.getpid(), signal.SIGINT)

    def interrupt_loop(calls, seconds):
        global armed
        signal.signal(signal.SIGINT, on_sigint)
        signal.signal(signal.SIGALRM, on_alarm)
        signal.setitimer(signal.ITIMER_REAL, 1e-3, 100e-6)
        n = hits = 0
        end = time.monotonic() + seconds
        while time.monotonic() < end:
            for call in calls:
                try:
                    armed = True
                    call()
                    armed = False
                except KeyboardInterrupt:
                    armed = False
                    hits += 1
                n += 1
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, signal.SIG_IGN)
        assert signal.getsignal(signal.SIGINT) is on_sigint  # no deferral left its handler in place
        return n, hits
"""


def test_interrupted_calls_leave_no_lock_held(python):
    """Unseeded calls, keys, ``seed`` and ``orthogonal`` interrupted thousands of times: afterwards
    ``seed``, unseeded fills and ``orthogonal`` still complete (the global seed's lock and the
    BLAS lock were released) and OpenBLAS has its thread count back (the limit was restored)."""
    out = python(PRELUDE + """
    fastinit.orthogonal(8, 8, seed=0)  # load SciPy's LAPACK and the kernels first
    fastinit.normal(16, seed=0)
    before = blas_threads()
    n, hits = interrupt_loop([fastinit.Key, lambda: fastinit.normal(16), lambda: fastinit.seed(7),
                              lambda: fastinit.orthogonal(8, 8)], seconds=2)
    ok = finishes(lambda: (fastinit.seed(1), fastinit.Key(), fastinit.normal(16),
                           fastinit.orthogonal(8, 8)))
    print(json.dumps({"n": n, "hits": hits, "finishes": ok, "before": before, "after": blas_threads()}))
    sys.stdout.flush()
    os._exit(0)  # a thread may still be blocked on a leaked lock
    """, timeout=120)
    r = json.loads(out)
    assert r["hits"] > 100, r  # the interrupts did land inside calls
    assert r["finishes"], f"a lock was left held by an interrupt: {r}"
    assert r["after"] == r["before"], f"OpenBLAS' thread limit was left set: {r}"


def test_interrupted_orthogonal_restores_blas_threads(python):
    """``orthogonal`` alone, interrupted at random points: the one-thread BLAS limit it sets around
    LAPACK is always restored and its lock released, and interrupts still stop the calls."""
    out = python(PRELUDE + """
    fastinit.orthogonal(8, 8, seed=0)
    before = blas_threads()
    n, hits = interrupt_loop([lambda: fastinit.orthogonal(8, 8), lambda: fastinit.orthogonal(3, 5)],
                             seconds=1.5)
    ok = finishes(lambda: fastinit.orthogonal(16, 8))
    print(json.dumps({"n": n, "hits": hits, "finishes": ok, "before": before, "after": blas_threads()}))
    sys.stdout.flush()
    os._exit(0)
    """, timeout=120)
    r = json.loads(out)
    assert r["hits"] > 100, r
    assert r["finishes"], f"the BLAS lock was left held by an interrupt: {r}"
    assert r["after"] == r["before"], f"OpenBLAS' thread limit was left set: {r}"


def test_defer_sigint(python):
    """``defer_sigint`` holds a SIGINT back to the end of the block and then hands it to the
    previous handler (put back first); blocks nest; ``SIG_IGN`` drops it; other threads are left
    alone."""
    out = python("""
    import os, signal, threading
    from fastinit._forksafe import defer_sigint

    def kill():
        os.kill(os.getpid(), signal.SIGINT)

    steps = []
    try:
        with defer_sigint():
            kill()
            steps.append("after kill")
        steps.append("after block")
    except KeyboardInterrupt:
        steps.append("interrupt")
    assert steps == ["after kill", "interrupt"], steps
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler

    steps = []
    try:
        with defer_sigint():
            with defer_sigint():
                kill()
            steps.append("after inner")
        steps.append("after outer")
    except KeyboardInterrupt:
        steps.append("interrupt")
    assert steps == ["after inner", "interrupt"], steps
    assert signal.getsignal(signal.SIGINT) is signal.default_int_handler

    with defer_sigint():  # nothing caught: nothing delivered
        pass

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    with defer_sigint():
        kill()
    assert signal.getsignal(signal.SIGINT) == signal.SIG_IGN
    signal.signal(signal.SIGINT, signal.default_int_handler)

    seen = []
    def other():
        with defer_sigint():
            seen.append(signal.getsignal(signal.SIGINT))
    t = threading.Thread(target=other)
    t.start()
    t.join()
    assert seen == [signal.default_int_handler], seen
    print("ok")
    """, timeout=60)
    assert out.strip() == "ok"


def test_defer_sigint_default_action():
    """With ``SIG_DFL`` the held-back SIGINT is re-raised after the block: the process ends by
    SIGINT, as it would have, but only once the block is over."""
    code = textwrap.dedent("""
    import os, signal
    from fastinit._forksafe import defer_sigint
    signal.signal(signal.SIGINT, signal.SIG_DFL)
    with defer_sigint():
        os.kill(os.getpid(), signal.SIGINT)
        print("block finished", flush=True)
    print("not reached", flush=True)
    """)
    proc = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True,
                          timeout=60)
    assert proc.returncode == -signal.SIGINT, (proc.returncode, proc.stderr)
    assert proc.stdout == "block finished\n"
