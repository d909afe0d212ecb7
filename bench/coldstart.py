"""First call in a fresh Numba cache: how long a user waits the first time a kernel runs.

Each case runs in its own process with an empty temporary ``NUMBA_CACHE_DIR``, so every kernel it
calls is compiled; the table gives the call's wall and CPU seconds (the fastest of ``--runs``
processes, compilation being single-threaded CPU work that the machine's other load slows).
Two reference rows show what Numba itself costs before any fastinit code: compiling a trivial
``@njit`` function (Numba's one-time start in a process) and then a trivial ``@njit(parallel=True)``
``prange`` loop (the parallel machinery each fastinit kernel goes through).

    .venv/bin/python bench/coldstart.py                                  # 4 kernels, float32, 3 runs each
    .venv/bin/python bench/coldstart.py --kernels normal sparse --dtypes float32 bfloat16 --runs 2
    .venv/bin/python bench/coldstart.py --src /tmp/old-checkout          # another checkout's fastinit

With ``--src`` the cases import fastinit from that directory (an older commit's checkout, say), so
before/after figures come from one script; runs of the two alternate when both are given
(``--src . /tmp/old``), since this machine's speed drifts between minutes.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile

CALLS = {
    "uniform": "fi.uniform(1000, dtype=dt, seed=1)",
    "normal": "fi.normal(1000, dtype=dt, seed=1)",
    "truncated_normal": "fi.truncated_normal(1000, dtype=dt, seed=1)",
    "sparse": "fi.sparse(100, 10, sparsity=0.9, dtype=dt, seed=1)",
    "constant": "fi.constant(1000, value=0.5, dtype=dt)",
}

CASE = """
import time
t0, c0 = time.perf_counter(), time.process_time()
import numpy as np, fastinit as fi
{pre}
dt = {dtype!r}
t1, c1 = time.perf_counter(), time.process_time()
{call}
t2, c2 = time.perf_counter(), time.process_time()
print(t1 - t0, t2 - t1, c2 - c1)
"""

NJIT = """
from numba import njit
@njit
def f(x):
    return x + 1
f(1)
"""

PRANGE = NJIT + """
from numba import prange
@njit(parallel=True)
def g(out):
    for i in prange(out.size):
        out[i] = i
g(np.empty(1000))
"""


def run_case(call: str, dtype: str, src: str | None, pre: str = "") -> dict:
    """One fresh process with an empty cache: import seconds, then the call's wall and CPU seconds."""
    code = CASE.format(pre=pre, dtype=dtype, call=call)
    env = dict(os.environ)
    if src:
        env["PYTHONPATH"] = os.path.abspath(src) + os.pathsep + env.get("PYTHONPATH", "")
    with tempfile.TemporaryDirectory() as cache:
        env["NUMBA_CACHE_DIR"] = cache
        # run in the empty folder: ``python -c`` puts the working directory first on sys.path,
        # where a checkout's own fastinit would shadow the one ``src`` names
        res = subprocess.run([sys.executable, "-c", code], env=env, cwd=cache, capture_output=True, text=True)
    if res.returncode:
        raise RuntimeError(f"coldstart case failed ({res.returncode}):\n{code}\n{res.stderr[-2000:]}")
    imp, wall, cpu = map(float, res.stdout.split()[-3:])
    return {"import_s": imp, "wall_s": wall, "cpu_s": cpu}


def cases(kernels, dtypes):
    """(name, dtype, call, pre) of the two reference rows and then each kernel and dtype."""
    yield "numba: a trivial @njit", "-", NJIT, ""
    yield "numba: then a trivial prange", "-", "g(np.empty(1000))", PRANGE.replace("g(np.empty(1000))", "")
    for k in kernels:
        for d in dtypes:
            yield k, d, CALLS[k], ""


def measure(kernels, dtypes, runs: int, srcs) -> list[dict]:
    """The rows: for each case and checkout, the fastest of ``runs`` fresh processes."""
    rows = []
    for name, dtype, call, pre in cases(kernels, dtypes):
        results = {src: [] for src in srcs}
        for _ in range(runs):
            for src in srcs:  # alternating, so that a drift of the machine hits both alike
                results[src].append(run_case(call, dtype, src, pre))
        for src in srcs:
            best = min(results[src], key=lambda r: r["cpu_s"])
            walls = [r["wall_s"] for r in results[src]]
            rows.append({"case": name, "dtype": dtype, "src": src or ".", **best, "all_wall_s": walls})
            print(f"{name:30s} {dtype:9s} {src or '.':16s} wall {best['wall_s']:6.2f} s  cpu {best['cpu_s']:6.2f} s"
                  f"  import {best['import_s']:5.2f} s  (walls: {' '.join(f'{w:.2f}' for w in walls)})", flush=True)
    return rows


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--kernels", nargs="+", default=["normal", "uniform", "truncated_normal", "sparse"],
                   choices=sorted(CALLS))
    p.add_argument("--dtypes", nargs="+", default=["float32"],
                   choices=["float16", "bfloat16", "float32", "float64"])
    p.add_argument("--runs", type=int, default=3, help="fresh processes per case (the fastest counts)")
    p.add_argument("--src", nargs="+", default=[None], help="checkouts to import fastinit from")
    p.add_argument("--json", help="also write the rows here")
    a = p.parse_args(argv)
    rows = measure(a.kernels, a.dtypes, a.runs, a.src)
    if a.json:
        with open(a.json, "w") as f:
            json.dump(rows, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
