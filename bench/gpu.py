"""fastinit on the GPU against torch.cuda and CuPy, and against the device's write and copy
bandwidth, in one run.

Every fill writes the same preallocated device array in place (``out=``; torch and CuPy get
zero-copy views of it through ``__cuda_array_interface__``). A rate is the median of --repeats
timed calls, each ``fill(); synchronize()`` between two ``time.perf_counter()`` reads (what a
caller waits for: Python-side checks, launches and the kernels), after one warm-up call that
compiles. Two ceilings are measured on the same array in the same run:

- write: the fastest pure write of it: ``torch.Tensor.fill_``, CuPy's ``fill`` or a
  ``cuMemsetD8``; a fill's "% write" is its bytes written per second over that rate, and the
  target "within 1.5x of the write bandwidth" is "% write" >= 66.7.
- copy: a device-to-device copy into it (``dst.copy_(src)`` in torch, else ``cuMemcpyDtoD``),
  which reads and writes each byte: "% copy" is a fill's bytes written per second over the
  copy's bytes read + written per second.

Without a GPU it says so in one line and exits 0; ``NUMBA_ENABLE_CUDASIM=1`` runs the code paths
on Numba's CUDA simulator (tiny sizes only: ``--size 512 --repeats 1``).

    python bench/gpu.py                        # 10^9 float32 elements, every fill
    python bench/gpu.py --dtypes float32 float16 float64 --json gpu.json
    python bench/gpu.py --check                # the GPU's values against the CPU's, 10^7 elements
"""
from __future__ import annotations

import argparse
import json
import math
import sys
import time
from dataclasses import dataclass
from functools import partial
from typing import Callable

import numpy as np

import fastinit
from cases import DTYPES, TORCH_SPARSE_CAP, Case, _torch_trunc, check, shape_for, torch
from compare import fmt, fmt_rate, median_seconds, print_aligned

try:
    import cupy
except Exception:  # not installed, or no CUDA libraries for it: its column says "-"
    cupy = None

TARGET_X_WRITE = 1.5  # the target: every fill within 1.5x of the write ceiling's time ...
#                       ... and ahead of torch.cuda
LIBS = ("numba", "torch", "cupy")  # the array types fastinit's out= may be here


@dataclass(frozen=True)
class GpuCase(Case):
    """A fill of bench/cases.py's kind with a CuPy peer and what --check expects of it."""
    cupy: Callable | None = None  # cupy(array, rng) fills in place
    cupy_note: str = ""  # how the CuPy peer differs from the fill
    exact: str = "bitwise"  # --check: "bitwise" to the CPU, "ulp" (within --max-ulp) or "sparse"
    #                         (the zeros' positions bitwise, the other values within --max-ulp)


GPU_CASES = {
    c.name: c
    for c in (
        GpuCase("uniform [-1, 1)", partial(fastinit.uniform, low=-1.0, high=1.0, seed=0),
                torch=lambda t: t.uniform_(-1.0, 1.0), lo=-1.0, hi=1.0,
                cupy=lambda a, rng: rng.random(dtype=a.dtype, out=a), cupy_note="cupy: [0, 1)"),
        GpuCase("normal std=0.02", partial(fastinit.normal, std=0.02, seed=0),
                torch=lambda t: t.normal_(0.0, 0.02), exact="ulp",
                cupy=lambda a, rng: rng.standard_normal(dtype=a.dtype, out=a), cupy_note="cupy: std 1"),
        GpuCase("truncated_normal [-2, 2]", partial(fastinit.truncated_normal, std=1.0, lo=-2.0, hi=2.0, seed=0),
                torch=partial(_torch_trunc, lo=-2.0, hi=2.0), lo=-2.0, hi=2.0, exact="ulp"),
        GpuCase("sparse 0.9", partial(fastinit.sparse, sparsity=0.9, seed=0),
                torch=lambda t: torch.nn.init.sparse_(t, 0.9), two_d=True, torch_cap=TORCH_SPARSE_CAP,
                exact="sparse"),
        GpuCase("kaiming_uniform a=sqrt5", partial(fastinit.kaiming_uniform, a=math.sqrt(5), seed=0),
                torch=lambda t: torch.nn.init.kaiming_uniform_(t, a=math.sqrt(5)), lo=-1.0, hi=1.0,
                two_d=True),
        GpuCase("constant 0.5", partial(fastinit.constant, value=0.5),
                torch=lambda t: torch.nn.init.constant_(t, 0.5), lo=0.5, hi=0.5,
                cupy=lambda a, rng: a.fill(0.5)),
    )
}


# --- the device and the libraries on it ----------------------------------------------------------

def unavailable() -> str | None:
    """Why no GPU can be used here (None when one can: a GPU, or Numba's CUDA simulator)."""
    try:
        from numba import cuda
        if cuda.is_available():
            return None
    except Exception as e:  # no numba.cuda, driver or toolkit
        return f"no CUDA GPU: numba.cuda fails here ({type(e).__name__}: {e})"
    return ("no CUDA GPU: numba.cuda.is_available() is False (NUMBA_ENABLE_CUDASIM=1 runs the code "
            "paths on Numba's CUDA simulator); nothing measured")


def numba_cuda():
    """``numba.cuda``, imported on first use (``import gpu`` works without CUDA)."""
    from numba import cuda
    return cuda


def simulator() -> bool:
    """Whether the kernels run on Numba's CUDA simulator (``NUMBA_ENABLE_CUDASIM=1``)."""
    from numba.core import config
    return bool(config.ENABLE_CUDASIM)


def libraries() -> tuple[str, ...]:
    """The array libraries usable on this GPU: numba always, torch and CuPy where they see it
    (never on the simulator, whose "device" arrays are host memory)."""
    libs = ["numba"]
    if simulator():
        return tuple(libs)
    if torch is not None and torch.cuda.is_available():
        libs.append("torch")
    if cupy is not None:
        try:
            if cupy.cuda.runtime.getDeviceCount() > 0:
                libs.append("cupy")
        except Exception:  # CuPy without a usable runtime
            pass
    return tuple(libs)


def sync() -> None:
    """Wait for all work on the GPU (the whole context: numba, torch and CuPy share the primary
    one)."""
    numba_cuda().synchronize()


def synced(fn: Callable) -> Callable:
    """``fn`` followed by :func:`sync`."""
    def run(*args):
        fn(*args)
        sync()
    return run


def view(arr, lib: str, shape: tuple | None = None):
    """The numba device array ``arr`` (its first prod(shape) elements in ``shape``) as an array
    of ``lib``, on the same memory."""
    if shape is not None:
        arr = arr[:math.prod(shape)].reshape(shape)
    if lib == "torch":
        return torch.as_tensor(arr, device="cuda")
    if lib == "cupy":
        return cupy.asarray(arr)
    return arr


def to_host(arr) -> np.ndarray:
    """A host copy of a numba, torch or CuPy device array."""
    if not hasattr(arr, "copy_to_host"):
        arr = numba_cuda().as_cuda_array(arr)
    return arr.copy_to_host()


def poison(arr) -> None:
    """Every byte of the numba device array ``arr`` 0xFF (NaN in every float dtype), so that an
    element a fill skips shows as NaN."""
    try:
        from numba.cuda.cudadrv.driver import device_memset
        device_memset(arr, 0xFF, arr.nbytes)
    except Exception:  # the simulator
        arr.copy_to_device(np.full(arr.shape, np.nan, arr.dtype))


def device_facts(libs: tuple[str, ...]) -> dict:
    """The GPU and the versions, each fact None where this numba (or the simulator) cannot tell."""
    cuda = numba_cuda()

    def ask(fn):
        try:
            return fn()
        except Exception:
            return None

    dev = ask(lambda: cuda.get_current_device())
    name = ask(lambda: dev.name)
    return {
        "gpu": name.decode() if isinstance(name, bytes) else name or ("Numba's CUDA simulator" if simulator() else "GPU"),
        "compute_capability": ask(lambda: list(dev.compute_capability)),
        "memory_bytes": ask(lambda: int(cuda.current_context().get_memory_info()[1])),
        "driver": ask(lambda: list(cuda.cudadrv.driver.driver.get_version())),
        "simulator": simulator(), "libraries": list(libs), "fastinit": fastinit.__version__,
        "numba": sys.modules["numba"].__version__, "numpy": np.__version__,
        "torch": torch.__version__ if torch is not None else None,
        "cupy": cupy.__version__ if cupy is not None else None,
    }


# --- timing ----------------------------------------------------------------------------------------

def timed(fn: Callable, repeats: int) -> tuple[float, float]:
    """(seconds of the first call, which compiles; median seconds of ``repeats`` later calls),
    each call synchronized."""
    run = synced(fn)
    sync()
    t0 = time.perf_counter()
    run()
    first = time.perf_counter() - t0
    return first, median_seconds(run, repeats)


def attempt(fn: Callable, repeats: int, notes: list, who: str) -> float | None:
    """Median seconds of a peer's ``fn``, or None (with a note) where it fails."""
    try:
        return timed(fn, repeats)[1]
    except Exception as e:  # a peer missing a dtype or an argument: its cell says "-"
        notes.append(f"{who}: {type(e).__name__} ({str(e).splitlines()[0][:50] if str(e) else ''})")
        return None


def _memset(d, s) -> None:
    from numba.cuda.cudadrv.driver import device_memset
    device_memset(d, 0, d.nbytes)


#: (kind, label, library, fn(dst, src)): the pure writes of dst and the device-to-device copies
#: into it, each array the library's view of the same memory
CEILINGS = (
    ("write", "write: torch fill_(0.5)", "torch", lambda d, s: d.fill_(0.5)),
    ("write", "write: cupy fill(0.5)", "cupy", lambda d, s: d.fill(0.5)),
    ("write", "write: cuMemsetD8 (numba)", "numba", _memset),
    ("copy", "copy: torch copy_ (read + write)", "torch", lambda d, s: d.copy_(s)),
    ("copy", "copy: cuMemcpyDtoD (read + write)", "numba", lambda d, s: d.copy_to_device(s)),
)


def ceilings(buf, src, libs: tuple[str, ...], repeats: int) -> list[dict]:
    """The write and copy rows: each a pure write of ``buf`` or a device-to-device copy into it."""
    rows = []
    for kind, label, lib, fn in CEILINGS:
        if lib not in libs or (kind == "copy" and any(r["kind"] == "copy" for r in rows)):
            continue  # one copy is enough: torch's where there is torch
        d, s = view(buf, lib), view(src, lib)
        row = {"fill": label, "kind": kind, "dtype": buf.dtype.name, "elements": buf.size, "notes": []}
        row["fastinit_s"] = attempt(partial(fn, d, s), repeats, row["notes"], lib)
        if row["fastinit_s"] is not None:
            rows.append(row)
    return rows


def measure(case: GpuCase, buf, libs: tuple[str, ...], out_lib: str, repeats: int, rng) -> dict:
    """One table row: fastinit and its peers filling ``buf`` (its case's shape) in place."""
    n = buf.size
    row = {"fill": case.name, "kind": "fill", "dtype": buf.dtype.name, "elements": n, "notes": []}
    poison(buf)
    target = view(buf, out_lib, shape_for(case, n))
    row["first_call_s"], row["fastinit_s"] = timed(lambda: case.fastinit(out=target), repeats)
    if problem := check(case, to_host(buf)):
        row["notes"].append(f"fastinit: {problem}")
    if "torch" in libs and case.torch is not None:
        t_n = min(n, case.torch_cap or n)
        tensor = view(buf, "torch", shape_for(case, t_n))
        row["torch_elements"] = t_n
        if t_n < n:
            row["notes"].append(f"torch at {t_n:.0e} elements")
        row["torch_s"] = attempt(lambda: case.torch(tensor), repeats, row["notes"], "torch")
        if row["torch_s"] is not None and (problem := check(case, to_host(tensor))):
            row["notes"].append(f"torch: {problem}")
    if "cupy" in libs and case.cupy is not None:
        arr = view(buf, "cupy", shape_for(case, n))
        row["cupy_s"] = attempt(lambda: case.cupy(arr, rng), repeats, row["notes"], "cupy")
        if row["cupy_s"] is not None and case.cupy_note:
            row["notes"].append(case.cupy_note)
    return row


def rates(row: dict, write_s: float | None, copy_s: float | None) -> dict:
    """The table's numbers for one row, from its seconds (a copy moves 2 bytes per byte written)."""
    n, itemsize = row["elements"], np.dtype(row["dtype"]).itemsize
    moved = 2 if row["kind"] == "copy" else 1
    fi = n / row["fastinit_s"]
    th = row["torch_elements"] / row["torch_s"] if row.get("torch_s") else None
    cp = n / row["cupy_s"] if row.get("cupy_s") else None
    return {
        "fastinit_M": fi / 1e6,
        "GBps": moved * fi * itemsize / 1e9,
        "pct_write": write_s and 100 * write_s / row["fastinit_s"],
        "pct_copy": copy_s and 100 * moved * copy_s / (2 * row["fastinit_s"]),
        "torch_M": th and th / 1e6,
        "x_torch": th and fi / th,
        "cupy_M": cp and cp / 1e6,
        "x_cupy": cp and fi / cp,
    }


def print_table(rows: list[dict]) -> None:
    head = ["fill", "dtype", "fastinit M/s", "GB/s", "% write", "% copy", "1st call s", "torch M/s", "x torch",
            "cupy M/s", "x cupy", "notes"]
    lines = [head]
    for r in rows:
        q = r["rates"]
        lines.append([r["fill"], r["dtype"], fmt_rate(q["fastinit_M"]), fmt(q["GBps"], ".1f"),
                      fmt(q["pct_write"], ".1f"), fmt(q["pct_copy"], ".1f"), fmt(r.get("first_call_s"), ".2f"),
                      fmt_rate(q["torch_M"]), fmt(q["x_torch"], ".2f"), fmt_rate(q["cupy_M"]),
                      fmt(q["x_cupy"], ".2f"), "; ".join(r["notes"])])
    print_aligned(lines, left=(0, 1, len(head) - 1))


def target_misses(rows: list[dict]) -> list[str]:
    """The fills that miss the target: slower than 1.5x the write ceiling, or behind torch.cuda."""
    misses = []
    for r in rows:
        q = r["rates"]
        if r["kind"] != "fill":
            continue
        if q["pct_write"] is not None and q["pct_write"] < 100 / TARGET_X_WRITE:
            misses.append(f"{r['fill']} {r['dtype']}: {100 / q['pct_write']:.2f}x the write time")
        if q["x_torch"] is not None and q["x_torch"] < 1:
            misses.append(f"{r['fill']} {r['dtype']}: {q['x_torch']:.2f}x torch.cuda's rate")
    return misses


def bench(args, libs: tuple[str, ...]) -> dict:
    cuda = numba_cuda()
    rng = cupy.random.default_rng(0) if "cupy" in libs else None
    cases = [GPU_CASES[name] for name in args.fills]
    rows = []
    for dtype in args.dtypes:
        buf, src = cuda.device_array(args.size, dtype), cuda.device_array(args.size, dtype)
        src.copy_to_device(buf)  # any values: the copy's source
        top = ceilings(buf, src, libs, args.repeats)
        write_s = min((r["fastinit_s"] for r in top if r["kind"] == "write"), default=None)
        copy_s = min((r["fastinit_s"] for r in top if r["kind"] == "copy"), default=None)
        dtype_rows = top
        for case in cases:
            print(f"measuring {case.name} {dtype} ...", file=sys.stderr, flush=True)
            dtype_rows.append(measure(case, buf, libs, args.out, args.repeats, rng))
        for row in dtype_rows:
            row["rates"] = rates(row, write_s, copy_s)
        rows += dtype_rows
        del buf, src
    return {"rows": rows, "target_misses": target_misses(rows)}


# --- --check: the GPU's values against the CPU's ---------------------------------------------------

def ulps(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """|a - b| in units in the last place: the distance of their bits as ordered integers
    (saturating where the signs differ)."""
    bits = np.dtype(f"i{a.itemsize}")
    lowest = np.iinfo(bits).min

    def ordered(x):
        i = x.view(bits).astype(np.int64)
        return np.where(i < 0, lowest - i, i)  # -0.0 next to +0.0, negatives below

    oa, ob = ordered(a.reshape(-1)), ordered(b.reshape(-1))
    same_sign = (oa >= 0) == (ob >= 0)
    half = np.int64(2**62)
    return np.where(same_sign, np.abs(oa - ob), np.minimum(np.abs(oa), half) + np.minimum(np.abs(ob), half))


def compare_values(case: GpuCase, cpu: np.ndarray, gpu: np.ndarray, max_ulp: int) -> dict:
    """How far the GPU's values are from the CPU's, and whether that is what ``case.exact`` allows."""
    same = cpu.view(f"u{cpu.itemsize}") == gpu.view(f"u{gpu.itemsize}")
    d = ulps(cpu, gpu)
    result = {"elements": cpu.size, "bitwise_equal": int(same.sum()), "max_ulp": int(d.max(initial=0)),
              f"over_{max_ulp}_ulp": int((d > max_ulp).sum())}
    if case.exact == "bitwise":
        ok = bool(same.all())
    elif case.exact == "sparse":
        zeros_match = np.array_equal(cpu == 0, gpu == 0)
        result["zero_positions_equal"] = zeros_match
        ok = zeros_match and result["max_ulp"] <= max_ulp
    else:
        ok = result["max_ulp"] <= max_ulp
    result["verdict"] = ("bitwise" if same.all() else f"within {max_ulp} ulp") if ok else "MISMATCH"
    return result


def gpu_outputs(case: GpuCase, shape: tuple, dtype: str, libs: tuple[str, ...]):
    """(how, host copy of the GPU's values) for ``device="cuda"`` and for ``out=`` of every
    usable library, each ``out`` NaN before the fill."""
    yield 'device="cuda"', to_host(case.fastinit(shape, dtype=dtype, device="cuda"))
    cuda = numba_cuda()
    for lib in libs:
        buf = cuda.device_array(math.prod(shape), dtype)
        poison(buf)
        out = view(buf, lib, shape)
        returned = case.fastinit(out=out)
        if returned is not out:
            raise AssertionError(f"{case.name}: out={lib} array: the call did not return out")
        yield f"out={lib}", to_host(buf).reshape(shape)


def run_check(args, libs: tuple[str, ...]) -> list[dict]:
    results = []
    for dtype in args.dtypes:
        for name in args.fills:
            case = GPU_CASES[name]
            shape = shape_for(case, args.check_size)
            cpu = case.fastinit(shape, dtype=dtype)
            for how, gpu in gpu_outputs(case, shape, dtype, libs):
                r = {"fill": name, "dtype": dtype, "how": how, "expected": case.exact}
                r.update(compare_values(case, cpu, gpu, args.max_ulp))
                results.append(r)
    return results


def print_check(results: list[dict], max_ulp: int) -> None:
    head = ["fill", "dtype", "call", "expected", "elements", "bitwise equal", "max ulp", f"> {max_ulp} ulp", "verdict"]
    lines = [head] + [[r["fill"], r["dtype"], r["how"], r["expected"], f"{r['elements']:.0e}",
                       f"{100 * r['bitwise_equal'] / r['elements']:.4f}%", str(r["max_ulp"]),
                       str(r[f"over_{max_ulp}_ulp"]),
                       r["verdict"] + ("" if r.get("zero_positions_equal", True) else " (zeros moved)")]
                      for r in results]
    print_aligned(lines, left=(0, 1, 2, 3, 8))


# --- main -----------------------------------------------------------------------------------------

def main() -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--size", type=int, default=10**9, help="elements per fill (default 10^9)")
    p.add_argument("--dtypes", nargs="+", default=["float32"], choices=DTYPES, help="default float32")
    p.add_argument("--repeats", type=int, default=10, help="timed calls per median (default 10)")
    p.add_argument("--fills", nargs="+", metavar="PREFIX",
                   help="run only the fills whose names start with one of these: " + ", ".join(GPU_CASES))
    p.add_argument("--out", default="numba", choices=LIBS,
                   help="what fastinit fills through out=: a numba device array (default), or a torch or "
                        "CuPy view of it (then fastinit synchronizes before it returns)")
    p.add_argument("--check", action="store_true",
                   help="instead of timing: compare the GPU's values with the CPU's for seed 0 "
                        "(device='cuda' and out= of every library); exit 1 on a mismatch")
    p.add_argument("--check-size", type=int, default=10**7, help="elements per --check fill (default 10^7)")
    p.add_argument("--max-ulp", type=int, default=0,
                   help="--check: the ulps normal and truncated normal values may differ by (default 0: "
                        "the kernels are built to be bitwise; raise it to see how far off a device is)")
    p.add_argument("--json", metavar="PATH", help="also write the results here")
    args = p.parse_args()
    args.fills = [name for name in GPU_CASES if not args.fills or name.startswith(tuple(args.fills))]
    if not args.fills:
        p.error(f"--fills: no fill name starts with one of these ({', '.join(GPU_CASES)})")

    if reason := unavailable():
        print(reason)
        return 0
    libs = libraries()
    if args.out not in libs:
        p.error(f"--out {args.out}: {args.out} cannot use this GPU here (usable: {', '.join(libs)})")
    facts = device_facts(libs)
    print(f"{facts['gpu']}  fastinit {facts['fastinit']}  numba {facts['numba']}  torch {facts['torch']}  "
          f"cupy {facts['cupy']}; peers on the GPU: {', '.join(lib for lib in libs if lib != 'numba') or 'none'}")
    if facts["simulator"]:
        print("Numba's CUDA simulator: the kernels run in Python, so the rates say nothing about a GPU")
    if args.check:
        results = run_check(args, libs)
        print(f"\nthe GPU's values against the CPU's (seed 0, {args.check_size:.0e} elements)\n")
        print_check(results, args.max_ulp)
        report = {"check": results}
        status = 1 if any(r["verdict"] == "MISMATCH" for r in results) else 0
    else:
        report = bench(args, libs)
        print(f"\n{args.size:.0e} elements, median of {args.repeats} synchronized calls after a warm-up; "
              f"fastinit fills a {args.out} array through out=\n")
        print_table(report["rows"])
        misses = report["target_misses"]
        print(f"\ntarget (every fill within {TARGET_X_WRITE}x the write ceiling's time, ahead of torch.cuda): "
              + ("met" if not misses else "missed by\n  " + "\n  ".join(misses)))
        status = 0
    if args.json:
        with open(args.json, "w") as f:
            json.dump({"device": facts, "args": vars(args), **report}, f, indent=1)
    return status


if __name__ == "__main__":
    sys.exit(main())
