"""Benchmarks of fastinit's fills against numpy, torch and the machine's store bandwidth.

The measuring logic behind ``bench/compare.py`` (and a later ``fastinit bench``); nothing here
prints except :func:`main`. Optional peers (torch) are imported inside the functions that use
them, so importing this module needs only numpy and Numba.

    rows = measure(fills=["uniform", "normal"], size=10**7, dtypes=["float32"], threads=2)
    print(format_table(rows))

Each dtype's rows begin with three **ceilings**, measured on the same array in the same run:
numpy's ``out.fill`` (one thread), a parallel ``prange`` store loop and a parallel
streaming-store (non-temporal) loop, both on Numba's ``threads`` threads like fastinit. A fill's
"% ceiling" is its time against the fastest of the three: 100 = as fast as the fastest way
found to write the array. The machine's bandwidth drifts during a run (on shared VMs by up to 2x
within a minute), so each fill's calls alternate with calls of that fastest ceiling and its "%
ceiling" is against the ceiling's time in the same stretch of the run. Every time is the median of ``repeats`` calls (``time.perf_counter``)
after a warm-up call that compiles, each filling the same preallocated, already-touched array in
place (``out=``; torch through ``torch.from_numpy(out)``, no copy). Ratios taken in one run hold
better than absolute rates, which swing between processes.

API:

- :data:`CASES` (name -> :class:`Case`): the fills and their numpy and torch peers.
- :func:`measure` -> list of :class:`Row`: ceilings and fills for each dtype, with rates.
- :func:`format_table` (rows) -> str: the table ``bench/compare.py`` prints.
- :func:`memory`, :func:`first_call`, :func:`machine`: peak memory without ``out=``, the time of a
  first call in a fresh process, and the versions and threads of this run.
"""
from __future__ import annotations

import argparse
import dataclasses
import gc
import json
import math
import os
import platform
import statistics
import subprocess
import sys
import time
import tracemalloc
import warnings
from dataclasses import dataclass, field
from functools import partial
from typing import Callable, Iterable, Sequence

import numba
import numpy as np

import fastinit
from ._threading import usable_cpus

DTYPES = ("float16", "bfloat16", "float32", "float64")
NUMPY_DTYPES = ("float32", "float64")  # what Generator.random and standard_normal accept
MULTI_DTYPE_FILLS = ("uniform", "normal", "constant 0.5")  # the fills --all-dtypes runs in every dtype
# Elements torch runs on at most, where it is too slow for 10^8 (its rate is then per element):
TORCH_SPARSE_CAP = 10**7  # sparse_ loops over the columns in Python
TORCH_TAIL_CAP = 10**6  # trunc_normal_ deep in a tail (about 0.1 M/s): its rejection loop redraws
#                         the whole tensor until the last element is accepted
CEILINGS = ("numpy fill, 1 thread", "prange store loop", "streaming store loop")


def torch_module():
    """torch, or None where it is not installed (imported on first use only)."""
    try:
        import torch
    except ImportError:
        return None
    return torch


# --- the fills and their peers ----------------------------------------------------------------

@dataclass(frozen=True)
class Case:
    """A fill: ``fastinit(out=out)`` fills in place, ``fastinit(shape, dtype=dtype)`` allocates;
    the peers fill in place, ``numpy(out)`` and ``torch(tensor)`` (None where the library has no
    such fill). Every value must lie in [lo, hi] (:func:`check`)."""
    name: str
    fastinit: Callable
    numpy: Callable | None = None
    torch: Callable | None = None
    lo: float = -math.inf
    hi: float = math.inf
    two_d: bool = False  # filled through a square-ish (rows, cols) view
    torch_cap: int | None = None  # torch runs on at most this many elements


def _rng():
    return np.random.Generator(np.random.PCG64(0))


def _np_random(out, rng=_rng()):
    rng.random(dtype=out.dtype, out=out)


def _np_normal(out, rng=_rng()):
    rng.standard_normal(dtype=out.dtype, out=out)


def _torch_trunc(t, lo, hi):
    with warnings.catch_warnings():  # "mean is more than 2 std from [a, b]": the point here
        warnings.simplefilter("ignore", UserWarning)
        torch_module().nn.init.trunc_normal_(t, 0.0, 1.0, lo, hi)


def _torch_init(name, *args, **kwargs):
    """A peer calling ``torch.nn.init.<name>(t, *args, **kwargs)``."""
    def peer(t):
        getattr(torch_module().nn.init, name)(t, *args, **kwargs)
    return peer


def _torch_keras_glorot_normal(t):
    """Keras' GlorotNormal on torch: std sqrt(2 / (fan_in + fan_out)) / 0.8796..., cut at 2 std."""
    fan_in, fan_out = torch_module().nn.init._calculate_fan_in_and_fan_out(t)
    s = math.sqrt(2.0 / (fan_in + fan_out)) / fastinit.TRUNCATED_STD
    torch_module().nn.init.trunc_normal_(t, 0.0, s, -2 * s, 2 * s)


def _cases() -> dict[str, Case]:
    def trunc(lo, hi, torch_cap=None):
        name = f"truncated_normal [{lo:g}, {hi:g}]".replace("inf]", "inf)")
        return Case(name, fastinit=partial(fastinit.truncated_normal, lo=lo, hi=hi, seed=0),
                    torch=partial(_torch_trunc, lo=lo, hi=hi), lo=lo, hi=hi, torch_cap=torch_cap)

    cases = (
        Case("uniform", partial(fastinit.uniform, seed=0), _np_random, lambda t: t.uniform_(), lo=0.0, hi=1.0),
        Case("normal", partial(fastinit.normal, seed=0), _np_normal, lambda t: t.normal_()),
        trunc(-2.0, 2.0),
        trunc(6.0, math.inf),
        trunc(-12.0, -10.0, torch_cap=TORCH_TAIL_CAP),
        # torch's trunc_normal_(w, std=0.02): bounds 100 std away, no candidate is ever rejected
        Case("truncated_normal std 0.02 [-2, 2]", partial(fastinit.truncated_normal, std=0.02, seed=0),
             torch=lambda t: torch_module().nn.init.trunc_normal_(t, std=0.02), lo=-2.0, hi=2.0),
        Case("sparse 0.9", partial(fastinit.sparse, sparsity=0.9, std=0.01, seed=0),
             torch=_torch_init("sparse_", 0.9, 0.01), two_d=True, torch_cap=TORCH_SPARSE_CAP),
        Case("kaiming_uniform a=sqrt5", partial(fastinit.kaiming_uniform, a=math.sqrt(5), seed=0),
             torch=_torch_init("kaiming_uniform_", a=math.sqrt(5)), lo=-1.0, hi=1.0, two_d=True),
        Case("kaiming_normal", partial(fastinit.kaiming_normal, seed=0), torch=_torch_init("kaiming_normal_"),
             two_d=True),
        Case("glorot_normal keras", partial(fastinit.glorot_normal, layout="keras", seed=0),
             torch=_torch_keras_glorot_normal, lo=-1.0, hi=1.0, two_d=True),
        # 0.5, not 0: on some machines streaming stores of zeros run several times faster than
        # the memory's bandwidth (measured here: 92 GB/s against 27 GB/s for 1.5), which would
        # compare zeros with a ceiling of ones; zeros and ones run the same kernel
        Case("constant 0.5", partial(fastinit.constant, value=0.5), lambda out: out.fill(0.5),
             _torch_init("constant_", 0.5), lo=0.5, hi=0.5),
    )
    return {c.name: c for c in cases}


#: name -> Case: every fill the benchmarks run
CASES: dict[str, Case] = _cases()


def square_shape(n: int) -> tuple[int, int]:
    """(rows, cols) with rows * cols == n and rows the largest divisor of n not above sqrt(n)."""
    rows = math.isqrt(n)
    while n % rows:
        rows -= 1
    return rows, n // rows


def shape_for(case: Case, n: int) -> tuple[int, ...]:
    return square_shape(n) if case.two_d else (n,)


def as_dtype(dtype) -> np.dtype:
    """A numpy dtype, "bfloat16" included (ml_dtypes')."""
    if str(dtype) == "bfloat16":
        import ml_dtypes
        return np.dtype(ml_dtypes.bfloat16)
    return np.dtype(dtype)


def touched(n: int, dtype) -> np.ndarray:
    """A flat array of n elements whose pages are all mapped (np.zeros would defer that)."""
    out = np.empty(n, as_dtype(dtype))
    out.fill(1.0)
    return out


def numpy_peer(case: Case, dtype) -> Callable | None:
    return case.numpy if as_dtype(dtype).name in NUMPY_DTYPES or case.name.startswith("constant") else None


def torch_peer(case: Case) -> Callable | None:
    return case.torch if torch_module() is not None else None


def torch_view(case: Case, out: np.ndarray):
    """``out`` (its first ``torch_cap`` elements) as a torch tensor of the case's shape, no copy."""
    torch = torch_module()
    n = min(out.size, case.torch_cap or out.size)
    part = out.reshape(-1)[:n]
    if part.dtype.name == "bfloat16":  # torch.from_numpy knows no bfloat16: its bits, viewed back
        return torch.from_numpy(part.view(np.int16)).view(torch.bfloat16).reshape(shape_for(case, n))
    return torch.from_numpy(part.reshape(shape_for(case, n)))


def check(case: Case, values) -> str | None:
    """Why ``values`` (a numpy array or a CPU tensor) are not a usable result of ``case`` (None
    when they are)."""
    if not isinstance(values, np.ndarray) and str(getattr(values, "dtype", "")) == "torch.bfloat16":
        values = values.float()  # numpy has no view of a bfloat16 tensor
    v = np.asarray(values).astype(np.float32, copy=False)
    if not np.isfinite(v).all():
        return "inf/nan"
    vmin, vmax = float(v.min()), float(v.max())
    if vmin < case.lo or vmax > case.hi:
        return f"outside [{case.lo:g}, {case.hi:g}]"
    if vmin == vmax and case.lo != case.hi:
        return f"all {vmin:g}"
    return None


# --- the ceilings -----------------------------------------------------------------------------

@numba.njit(parallel=True, cache=True, nogil=True)
def _store_loop(out, v):
    """The plain parallel store loop: ``out[i] = v`` for every i, on Numba's threads."""
    for i in numba.prange(out.size):
        out[i] = v


def _bits(out: np.ndarray) -> tuple[np.ndarray, np.generic]:
    """``out`` as unsigned integers of its width, and the bits of 1.0 in its dtype."""
    u = np.dtype(f"u{out.dtype.itemsize}")
    return out.view(u), np.ones(1, out.dtype).view(u)[0]


def ceilings(out: np.ndarray) -> dict[str, Callable[[], None]]:
    """name -> a call that writes every element of the flat ``out`` (with 1.0): :data:`CEILINGS`."""
    from ._threading import launch
    from .kernels.constant import fill_constant
    bits, one = _bits(out)
    return {
        CEILINGS[0]: lambda: out.fill(1.0),
        CEILINGS[1]: lambda: launch(_store_loop, bits, one),
        CEILINGS[2]: lambda: fill_constant(bits, one, stream=True),
    }


# --- measuring --------------------------------------------------------------------------------

@dataclass
class Row:
    """One line of the table: a ceiling (``kind="ceiling"``) or a fill, in one dtype; seconds per
    call of fastinit (or of the ceiling) and of its peers (None: no peer, or it failed), and the
    rates derived from them against the dtype's fastest ceiling (:meth:`rates`)."""
    kind: str
    fill: str
    dtype: str
    elements: int
    itemsize: int
    seconds: float
    numpy_s: float | None = None
    torch_s: float | None = None
    torch_elements: int | None = None
    ceiling_s: float | None = None  # the fastest ceiling of this dtype in this run
    notes: list[str] = field(default_factory=list)

    def rates(self) -> dict:
        """M elements/s and GB/s (bytes written), % of the ceiling, and the peers' rates and
        fastinit's ratio to them (None where there is no figure)."""
        n = self.elements
        rate = n / self.seconds
        np_rate = n / self.numpy_s if self.numpy_s else None
        th_rate = self.torch_elements / self.torch_s if self.torch_s else None
        return {
            "M_per_s": rate / 1e6,
            "GB_per_s": rate * self.itemsize / 1e9,
            "pct_ceiling": 100 * self.ceiling_s / self.seconds if self.ceiling_s else None,
            "numpy_M_per_s": np_rate and np_rate / 1e6,
            "x_numpy": np_rate and rate / np_rate,
            "torch_M_per_s": th_rate and th_rate / 1e6,
            "x_torch": th_rate and rate / th_rate,
        }

    def as_dict(self) -> dict:
        return dataclasses.asdict(self) | {"rates": self.rates()}


def median_seconds(fn: Callable[[], object], repeats: int) -> float:
    """The median time of ``repeats`` calls of ``fn`` after one untimed warm-up call."""
    fn()  # compiles (or loads the cache) and settles thread pools
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return statistics.median(times)


def paired_seconds(fn: Callable[[], object], ref: Callable[[], object], repeats: int) -> tuple[float, float]:
    """The median times of ``fn`` and of ``ref`` over ``repeats`` calls of each, alternating (after
    one untimed warm-up call of each), so that both see the machine in the same state."""
    fn()
    ref()
    times: tuple[list, list] = ([], [])
    for _ in range(repeats):
        for f, ts in zip((fn, ref), times):
            t0 = time.perf_counter()
            f()
            ts.append(time.perf_counter() - t0)
    return statistics.median(times[0]), statistics.median(times[1])


def measure_case(case: Case, out: np.ndarray, repeats: int, with_torch: bool = True,
                 ceiling: Callable[[], None] | None = None) -> Row:
    """The row of ``case`` on the flat, touched ``out``: fastinit and its peers. With ``ceiling``
    (the dtype's fastest ceiling), fastinit's calls alternate with the ceiling's and the row's
    ``ceiling_s`` is the ceiling's median time in that same stretch of the run."""
    dtype = out.dtype.name
    target = out.reshape(shape_for(case, out.size))
    fill = lambda: case.fastinit(out=target)  # noqa: E731
    if ceiling is None:
        row = Row("fill", case.name, dtype, out.size, out.dtype.itemsize, median_seconds(fill, repeats))
    else:
        seconds, ceiling_s = paired_seconds(fill, ceiling, repeats)
        row = Row("fill", case.name, dtype, out.size, out.dtype.itemsize, seconds, ceiling_s=ceiling_s)
    if ceiling is not None:
        fill()  # the ceiling's calls overwrote the values that check() looks at
    if problem := check(case, out):
        row.notes.append(f"fastinit: {problem}")
    if peer := numpy_peer(case, dtype):
        row.numpy_s = median_seconds(lambda: peer(out), repeats)
    if with_torch and (peer := torch_peer(case)):
        tensor = torch_view(case, out)
        row.torch_elements = tensor.numel()
        if tensor.numel() < out.size:
            row.notes.append(f"torch at {tensor.numel():.0e} elements")
        try:
            seconds = median_seconds(lambda: peer(tensor), repeats)
            problem = check(case, tensor)
        except (RuntimeError, ValueError, NotImplementedError) as e:
            seconds, problem = None, f"error ({str(e).splitlines()[0][:50]})"
        if problem:
            row.notes.append(f"torch: {problem}")
        if problem != "inf/nan":  # a fill that yields inf is no result: no rate
            row.torch_s = seconds
    return row


def select(fills: Iterable[str] | None) -> list[Case]:
    """The cases whose names start with one of ``fills`` (all when None); ValueError for none."""
    fills = tuple(fills) if fills else ()
    cases = [c for name, c in CASES.items() if not fills or name.startswith(fills)]
    if not cases:
        raise ValueError(f"fills: none of {list(fills)} starts a fill name ({', '.join(CASES)})")
    return cases


def set_threads(threads: int | None, with_torch: bool = True) -> int:
    """Numba's (and torch's) thread count set to ``threads`` (None: Numba's current); returns it."""
    threads = threads or numba.get_num_threads()
    numba.set_num_threads(threads)
    if with_torch and (torch := torch_module()) is not None:
        torch.set_num_threads(threads)
    return threads


def measure(fills: Iterable[str] | None = None, size: int = 10**8, dtypes: Sequence[str] = ("float32",),
            threads: int | None = None, repeats: int = 5, with_torch: bool = True,
            progress: Callable[[str], None] | None = None, ceilings_only: bool = False) -> list[Row]:
    """The ceilings and then the fills (names starting with one of ``fills``; all when None) on a
    touched array of ``size`` elements, for each dtype in ``dtypes``, on ``threads`` threads
    (Numba's and torch's; None: Numba's current count). ``progress(message)`` is called before
    each measurement; ``ceilings_only`` leaves the fills out."""
    cases = [] if ceilings_only else select(fills)
    set_threads(threads, with_torch)
    with_torch = with_torch and torch_module() is not None
    rows = []
    for dtype in dtypes:
        out = touched(size, dtype)
        dtype_rows = []
        calls = ceilings(out)
        for name, fn in calls.items():
            if progress:
                progress(f"{name} {out.dtype.name}")
            dtype_rows.append(Row("ceiling", name, out.dtype.name, out.size, out.dtype.itemsize,
                                  median_seconds(fn, repeats)))
        best = min(dtype_rows, key=lambda r: r.seconds)
        for r in dtype_rows:
            r.ceiling_s = best.seconds
        for case in cases:
            if progress:
                progress(f"{case.name} {out.dtype.name}")
            dtype_rows.append(measure_case(case, out, repeats, with_torch, ceiling=calls[best.fill]))
        rows += dtype_rows
        del out
    return rows


def memory(case: Case, shape: tuple, dtype: str) -> dict:
    """Memory of a fresh call without ``out=``: tracemalloc's peak beyond the output (numpy
    reports its allocations to tracemalloc, Numba's own allocator does not) and the growth of the
    peak resident set, output included (it sees every allocation; Linux only)."""
    gc.collect()
    _reset_peak_rss()
    rss0 = _rss_bytes("VmRSS")
    tracemalloc.start()
    try:
        arr = case.fastinit(shape, dtype=as_dtype(dtype))
        traced = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    hwm = _rss_bytes("VmHWM")
    return {"fill": case.name, "dtype": str(dtype), "output_bytes": arr.nbytes, "traced_extra_bytes": traced - arr.nbytes,
            "peak_rss_growth_bytes": None if rss0 is None or hwm is None else hwm - rss0}


def _rss_bytes(field_name: str) -> int | None:
    try:
        with open("/proc/self/status") as f:
            line = next(line for line in f if line.startswith(field_name + ":"))
        return int(line.split()[1]) * 1024
    except (OSError, StopIteration):
        return None


def _reset_peak_rss() -> None:
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")  # resets VmHWM to the current resident set
    except OSError:
        pass


FIRST_CALL = ("import time; t0=time.perf_counter(); import numba; t1=time.perf_counter(); "
              "import fastinit; fastinit.normal(10**6, seed=0); t2=time.perf_counter(); print(t1-t0, t2-t0)")


def first_call(runs: int = 2) -> list[dict]:
    """Import and first-call times in fresh processes: the first run may compile and fill the
    cache, later ones show what a user sees with a warm cache."""
    out = []
    for _ in range(runs):
        res = subprocess.run([sys.executable, "-c", FIRST_CALL], capture_output=True, text=True, check=True)
        numba_s, total_s = map(float, res.stdout.split())
        out.append({"import_numba_s": numba_s, "total_s": total_s, "fastinit_s": total_s - numba_s})
    return out


def machine() -> dict:
    """The CPU, core and thread counts, threading layer and versions of this run."""
    fastinit.uniform(1000, seed=0)  # a parallel call, so that Numba has chosen its threading layer
    torch = torch_module()
    model = ""
    try:
        with open("/proc/cpuinfo") as f:
            model = next((line.split(":", 1)[1].strip() for line in f if line.startswith("model name")), "")
    except OSError:
        pass
    return {
        "cpu": model or platform.processor(),
        "llvm_cpu": numba.config.CPU_NAME or _host_cpu_name(),
        "cores": os.cpu_count(),
        "usable_cores": usable_cpus(),
        "numba_threads": numba.get_num_threads(),
        "torch_threads": torch.get_num_threads() if torch is not None else None,
        "threading_layer": numba.threading_layer(),
        "python": platform.python_version(),
        "numba": numba.__version__,
        "numpy": np.__version__,
        "torch": torch.__version__ if torch is not None else None,
        "fastinit": fastinit.__version__,
    }


def _host_cpu_name() -> str:
    from llvmlite import binding
    return binding.get_host_cpu_name()


# --- the table --------------------------------------------------------------------------------

def _fmt(x, spec: str) -> str:
    return "-" if x is None else format(x, spec)


def _fmt_rate(x) -> str:
    """Whole numbers, but two significant digits below 10 (torch's tail sampler: 0.1 M/s)."""
    return _fmt(x, ".0f" if x is None or x >= 10 else ".2g")


HEAD = ["fill", "dtype", "fastinit M/s", "GB/s", "% ceiling", "numpy M/s", "x numpy", "torch M/s", "x torch",
        "notes"]


def header(size: int, repeats: int) -> str:
    """The lines above the table: versions, the CPU and threads of this run, what was measured."""
    facts = machine()
    return (f"fastinit {facts['fastinit']}  numba {facts['numba']}  numpy {facts['numpy']}  torch {facts['torch']}"
            f"  python {facts['python']}\n"
            f"{facts['cpu']} (LLVM: {facts['llvm_cpu']}): {facts['cores']} cores ({facts['usable_cores']} usable); "
            f"threads: numba {facts['numba_threads']} ({facts['threading_layer']} layer), torch {facts['torch_threads']}\n"
            f"{size:.0e} elements, median of {repeats} after a warm-up, into a touched out= array; "
            "% ceiling: against the dtype's fastest ceiling, timed alternately with each fill\n")


def format_table(rows: Sequence[Row]) -> str:
    """The rows as an aligned text table (ceiling rows named "ceiling: ..."; their M/s and GB/s
    are the ceiling's own)."""
    lines = [HEAD]
    for r in rows:
        q = r.rates()
        name = f"ceiling: {r.fill}" if r.kind == "ceiling" else r.fill
        lines.append([name, r.dtype, _fmt_rate(q["M_per_s"]), _fmt(q["GB_per_s"], ".2f"), _fmt(q["pct_ceiling"], ".1f"),
                      _fmt_rate(q["numpy_M_per_s"]), _fmt(q["x_numpy"], ".1f"), _fmt_rate(q["torch_M_per_s"]),
                      _fmt(q["x_torch"], ".1f"), "; ".join(r.notes)])
    return aligned(lines, left=(0, 1, 9))


def aligned(lines: list[list[str]], left: tuple[int, ...]) -> str:
    """A table: the first line its head, the columns numbered in ``left`` aligned left, the rest
    right."""
    widths = [max(len(line[i]) for line in lines) for i in range(len(lines[0]))]
    text = []
    for k, line in enumerate(lines):
        cells = [c.ljust(w) if i in left else c.rjust(w) for i, (c, w) in enumerate(zip(line, widths))]
        text.append(" | ".join(cells).rstrip())
        if k == 0:
            text.append("-+-".join("-" * w for w in widths))
    return "\n".join(text)


def format_memory(rows: Sequence[dict]) -> str:
    lines = []
    for m in rows:
        rss = m["peak_rss_growth_bytes"]
        lines.append(f"  {m['fill']:<28} output + {m['traced_extra_bytes'] / 1e6:.1f} MB; peak RSS "
                     f"+{_fmt(rss and rss / 1e6, '.1f')} MB for a {m['output_bytes'] / 1e6:.0f} MB output")
    return "\n".join(lines)


def format_first_call(runs: Sequence[dict]) -> str:
    labels = ("first run (may compile)", "second run (warm cache)")
    return "\n".join(f"  {label:<28} {run['import_numba_s']:.3f} | {run['total_s']:.3f} | {run['fastinit_s']:.3f}"
                     for label, run in zip(labels, runs))


# --- the command ------------------------------------------------------------------------------

def parser(description: str | None = None) -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(description=description or __doc__.split("\n\n")[0])
    p.add_argument("--size", type=int, default=10**8, help="elements per fill (default 10^8)")
    p.add_argument("--dtype", default="float32", choices=DTYPES)
    p.add_argument("--all-dtypes", action="store_true",
                   help="also run " + ", ".join(MULTI_DTYPE_FILLS) + " and the ceilings in every dtype")
    p.add_argument("--repeats", type=int, default=5, help="timed calls per median (default 5)")
    p.add_argument("--threads", type=int, default=numba.get_num_threads(),
                   help="Numba's and torch's thread count (default: Numba's, %(default)s)")
    p.add_argument("--fills", nargs="+", metavar="PREFIX", help="run only the fills whose names start with one of these")
    p.add_argument("--no-torch", action="store_true", help="leave torch out")
    p.add_argument("--no-extras", action="store_true", help="leave out peak memory and the first-call times")
    p.add_argument("--json", metavar="PATH", help="also write the results here")
    return p


def main(argv: Sequence[str] | None = None, description: str | None = None) -> int:
    """The benchmark command: measure, print the table (and memory and first-call times)."""
    p = parser(description)
    args = p.parse_args(argv)
    with_torch = not args.no_torch and torch_module() is not None
    try:
        cases = select(args.fills)
    except ValueError as e:
        p.error(str(e))
    def progress(message):
        print(f"measuring {message} ...", file=sys.stderr, flush=True)

    rows = measure(args.fills, args.size, (args.dtype,), args.threads, args.repeats, with_torch, progress)
    if args.all_dtypes:
        multi = [c.name for c in cases if c.name in MULTI_DTYPE_FILLS]
        for dt in (d for d in DTYPES if d != args.dtype):
            rows += measure(multi, args.size, (dt,), args.threads, args.repeats, with_torch, progress=progress,
                            ceilings_only=not multi)
    print("\n" + header(args.size, args.repeats))
    print(format_table(rows))
    memory_rows, startup = [], []
    if not args.no_extras:
        memory_rows = [memory(c, shape_for(c, args.size), args.dtype) for c in cases]
        startup = first_call()
        print(f"\npeak memory of a call without out= ({args.dtype}): tracemalloc peak; growth of the peak RSS"
              " (output included; small outputs may reuse freed memory)")
        print(format_memory(memory_rows))
        print("\nfirst call, fastinit.normal(10**6) in a fresh process (s): import numba | total | total - numba")
        print(format_first_call(startup))
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"machine": machine(), "args": vars(args), "rows": [r.as_dict() for r in rows],
                       "memory": memory_rows, "first_call": startup}, f, indent=1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
