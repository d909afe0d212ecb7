"""fastinit against numpy and torch CPU, and against the machine's write bandwidth, in one run.

Every rate is the median of --repeats timed calls (time.perf_counter) after one warm-up call
that compiles, each filling the same preallocated, already-touched array in place (``out=``;
torch through ``torch.from_numpy(out)``, no copy). All figures come from one process so that
their ratios are comparable; absolute rates swing more between processes than ratios do.

    python bench/compare.py                     # 10^8 float32 elements, every fill
    python bench/compare.py --size 1000000 --repeats 3 --fills uniform normal --no-torch
    python bench/compare.py --all-dtypes --json results.json
"""
from __future__ import annotations

import argparse
import gc
import json
import os
import platform
import statistics
import subprocess
import sys
import time
import tracemalloc

import numba
import numpy as np

import fastinit
from cases import CASES, DTYPES, check, numpy_peer, shape_for, torch, torch_peer, torch_view, touched

FIRST_CALL = ("import time; t0=time.perf_counter(); import numba; t1=time.perf_counter(); "
              "import fastinit; fastinit.normal(10**6, seed=0); t2=time.perf_counter(); print(t1-t0, t2-t0)")
MULTI_DTYPE_FILLS = ("uniform", "normal")  # the fills --all-dtypes runs in every dtype


def median_seconds(fn, repeats: int) -> float:
    fn()  # warm-up: compiles (or loads the cache) and settles thread pools
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def measure(case, out: np.ndarray, repeats: int, with_torch: bool) -> dict:
    """One table row: the seconds per fill of fastinit and its peers on ``out``."""
    dtype = out.dtype.name
    row = {"fill": case.name, "dtype": dtype, "elements": out.size, "notes": []}
    target = out.reshape(shape_for(case, out.size))
    row["fastinit_s"] = median_seconds(lambda: case.fastinit(out=target), repeats)
    if problem := check(case, out):
        row["notes"].append(f"fastinit: {problem}")
    if peer := numpy_peer(case, dtype):
        row["numpy_s"] = median_seconds(lambda: peer(out), repeats)
    if with_torch and (peer := torch_peer(case)):
        tensor = torch_view(case, out)
        row["torch_elements"] = tensor.numel()
        if tensor.numel() < out.size:
            row["notes"].append(f"torch at {tensor.numel():.0e} elements")
        try:
            seconds = median_seconds(lambda: peer(tensor), repeats)
            problem = check(case, tensor)
        except (RuntimeError, ValueError, NotImplementedError) as e:
            seconds, problem = None, f"error ({str(e).splitlines()[0][:50]})"
        if problem:
            row["notes"].append(f"torch: {problem}")
        if problem != "inf/nan":  # a fill that yields inf is no result: no rate
            row["torch_s"] = seconds
    return row


def extra_memory(case, shape: tuple, dtype: str) -> dict:
    """Memory of a fresh call without ``out=``: tracemalloc's peak beyond the output (numpy
    reports its allocations to tracemalloc, Numba's own allocator does not) and the growth of the
    peak resident set, output included (it sees every allocation; Linux only)."""
    gc.collect()
    reset_peak_rss()
    rss0 = rss_bytes("VmRSS")
    tracemalloc.start()
    try:
        arr = case.fastinit(shape, dtype=dtype)
        traced = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    hwm = rss_bytes("VmHWM")
    return {"fill": case.name, "dtype": dtype, "output_bytes": arr.nbytes, "traced_extra_bytes": traced - arr.nbytes,
            "peak_rss_growth_bytes": None if rss0 is None or hwm is None else hwm - rss0}


def rss_bytes(field: str) -> int | None:
    try:
        with open("/proc/self/status") as f:
            line = next(line for line in f if line.startswith(field + ":"))
        return int(line.split()[1]) * 1024
    except (OSError, StopIteration):
        return None


def reset_peak_rss() -> None:
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")  # resets VmHWM to the current resident set
    except OSError:
        pass


def first_call() -> list[dict]:
    """Import and first-call times in fresh processes: the first run may compile and fill the
    cache, the second shows what a user sees with a warm cache."""
    runs = []
    for _ in range(2):
        res = subprocess.run([sys.executable, "-c", FIRST_CALL], capture_output=True, text=True, check=True)
        numba_s, total_s = map(float, res.stdout.split())
        runs.append({"import_numba_s": numba_s, "total_s": total_s, "fastinit_s": total_s - numba_s})
    return runs


def machine() -> dict:
    fastinit.uniform(1000, seed=0)  # a parallel call, so that Numba has chosen its threading layer
    model = ""
    try:
        with open("/proc/cpuinfo") as f:
            model = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), "")
    except OSError:
        pass
    return {
        "cpu": model or platform.processor(),
        "cores": os.cpu_count(),
        "usable_cores": len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else None,
        "numba_threads": numba.get_num_threads(),
        "torch_threads": torch.get_num_threads() if torch is not None else None,
        "threading_layer": numba.threading_layer(),
        "python": platform.python_version(),
        "numba": numba.__version__,
        "numpy": np.__version__,
        "torch": torch.__version__ if torch is not None else None,
        "fastinit": fastinit.__version__,
    }


def rates(row: dict, ceiling_s: float) -> dict:
    """The table's numbers for one row, from its seconds."""
    n, itemsize = row["elements"], np.dtype(row["dtype"]).itemsize
    fi = n / row["fastinit_s"]
    np_rate = n / row["numpy_s"] if row.get("numpy_s") else None
    th_rate = row["torch_elements"] / row["torch_s"] if row.get("torch_s") else None
    return {
        "fastinit_M": fi / 1e6,
        "GBps": fi * itemsize / 1e9,
        "pct_ceiling": 100 * ceiling_s / row["fastinit_s"],
        "numpy_M": np_rate and np_rate / 1e6,
        "x_numpy": np_rate and fi / np_rate,
        "torch_M": th_rate and th_rate / 1e6,
        "x_torch": th_rate and fi / th_rate,
    }


def fmt(x, spec: str) -> str:
    return "-" if x is None else format(x, spec)


def fmt_rate(x) -> str:
    """Whole numbers, but two significant digits below 10 (torch's tail sampler: 0.1 M/s)."""
    return fmt(x, ".0f" if x is None or x >= 10 else ".2g")


def print_table(rows: list[dict]) -> None:
    head = ["fill", "dtype", "fastinit M/s", "GB/s", "% ceiling", "numpy M/s", "x numpy", "torch M/s",
            "x torch", "notes"]
    lines = [head]
    for r in rows:
        q = r["rates"]
        lines.append([r["fill"], r["dtype"], fmt_rate(q["fastinit_M"]), fmt(q["GBps"], ".2f"),
                      fmt(q["pct_ceiling"], ".1f"), fmt_rate(q["numpy_M"]), fmt(q["x_numpy"], ".1f"),
                      fmt_rate(q["torch_M"]), fmt(q["x_torch"], ".1f"), "; ".join(r["notes"])])
    print_aligned(lines, left=(0, 1, 9))


def print_aligned(lines: list[list[str]], left: tuple[int, ...]) -> None:
    """A table: the first line its head, the columns numbered in ``left`` aligned left, the rest
    right."""
    widths = [max(len(line[i]) for line in lines) for i in range(len(lines[0]))]
    for k, line in enumerate(lines):
        cells = [c.ljust(w) if i in left else c.rjust(w) for i, (c, w) in enumerate(zip(line, widths))]
        print(" | ".join(cells).rstrip())
        if k == 0:
            print("-+-".join("-" * w for w in widths))


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--size", type=int, default=10**8, help="elements per fill (default 10^8)")
    p.add_argument("--dtype", default="float32", choices=DTYPES)
    p.add_argument("--all-dtypes", action="store_true", help="also run uniform and normal in every dtype")
    p.add_argument("--repeats", type=int, default=5, help="timed calls per median (default 5)")
    p.add_argument("--threads", type=int, default=numba.get_num_threads(),
                   help="Numba's and torch's thread count (default: Numba's, %(default)s)")
    p.add_argument("--fills", nargs="+", metavar="PREFIX",
                   help="run only the fills whose names start with one of these: " + ", ".join(CASES))
    p.add_argument("--no-torch", action="store_true", help="leave torch out")
    p.add_argument("--json", metavar="PATH", help="also write the results here")
    args = p.parse_args()

    numba.set_num_threads(args.threads)
    with_torch = torch is not None and not args.no_torch
    if torch is not None:
        torch.set_num_threads(args.threads)
    cases = [c for name, c in CASES.items() if not args.fills or name.startswith(tuple(args.fills))]
    if not cases:
        p.error(f"--fills: none of {args.fills} starts a fill name ({', '.join(CASES)})")
    plan = [(args.dtype, cases)]
    if args.all_dtypes:
        plan += [(dt, [c for c in cases if c.name in MULTI_DTYPE_FILLS]) for dt in DTYPES if dt != args.dtype]

    facts = machine()
    rows = []
    for dtype, dtype_cases in plan:
        out = touched(args.size, dtype)
        ceiling_s = median_seconds(lambda: out.fill(1.0), args.repeats)
        dtype_rows = [{"fill": "write ceiling: out.fill(1.0)", "dtype": dtype, "elements": out.size,
                       "fastinit_s": ceiling_s, "notes": []}]
        for case in dtype_cases:
            print(f"measuring {case.name} {dtype} ...", file=sys.stderr, flush=True)
            dtype_rows.append(measure(case, out, args.repeats, with_torch))
        for row in dtype_rows:
            row["rates"] = rates(row, ceiling_s)
        rows += dtype_rows
        del out
    memory = [extra_memory(c, shape_for(c, args.size), args.dtype) for c in cases]
    startup = first_call()

    print(f"\nfastinit {facts['fastinit']}  numba {facts['numba']}  numpy {facts['numpy']}  torch {facts['torch']}"
          f"  python {facts['python']}")
    print(f"{facts['cpu']}: {facts['cores']} cores ({facts['usable_cores']} usable); threads: numba "
          f"{facts['numba_threads']} ({facts['threading_layer']} layer), torch {facts['torch_threads']}")
    print(f"{args.size:.0e} elements, median of {args.repeats} after a warm-up, into a touched out= array\n")
    print_table(rows)
    print(f"\npeak memory of a call without out= ({args.dtype}): tracemalloc peak; growth of the peak RSS"
          " (output included; small outputs may reuse freed memory)")
    for m in memory:
        rss = m["peak_rss_growth_bytes"]
        print(f"  {m['fill']:<28} output + {m['traced_extra_bytes'] / 1e6:.1f} MB; peak RSS +{fmt(rss and rss / 1e6, '.1f')}"
              f" MB for a {m['output_bytes'] / 1e6:.0f} MB output")
    print("\nfirst call, fastinit.normal(10**6) in a fresh process (s): import numba | total | total - numba")
    for label, run in zip(("first run (may compile)", "second run (warm cache)"), startup):
        print(f"  {label:<28} {run['import_numba_s']:.3f} | {run['total_s']:.3f} | {run['fastinit_s']:.3f}")
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"machine": facts, "args": vars(args), "rows": rows, "memory": memory, "first_call": startup},
                      f, indent=1)


if __name__ == "__main__":
    main()
