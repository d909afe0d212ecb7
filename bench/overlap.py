"""How far a fill's generation overlaps its streaming stores: what bounds uniform's "% ceiling".

A streamed fill (``fastinit.kernels.uniform``: each whole block made in an L1 scratch block and
copied out by streaming stores, 8 lines at a time, as it is made) takes per value and thread

    gen + store                       if the two never overlap,
    max(gen, store)                   if they overlap perfectly,

where ``gen`` is making the values in L1 (no output written) and ``store`` is streaming an L1
block out with the same task and block layout (no values made). This script measures the three
on the same output array, in alternating calls, on 1 thread and on Numba's threads, and prints
the fraction of the shorter part hidden behind the longer one:

    overlap = (gen + store - fill) / min(gen, store)          (0: none, 1: perfect)

    .venv/bin/python bench/overlap.py                        # 10^8 float32, uniform
    .venv/bin/python bench/overlap.py --size 50000000 --repeats 9

``gen`` is measured on one thread in L1 (the units run back to back into one scratch block), and
is taken as the same per thread on more threads (the cores share no compute).
"""
from __future__ import annotations

import argparse
import statistics
import time

import numba
import numpy as np
from numba import njit, prange

from fastinit.kernels.blocks import task_blocks
from fastinit.kernels.constant import fill_constant
from fastinit.kernels.rng import BLOCK, LANES
from fastinit.kernels.simd import aligned_head, store_fence, stream_lines, stream_rest
from fastinit.fills import uniform_params
from fastinit.kernels.uniform import STEPS, fill_uniform, uniform_unit

_U = np.uint64
_GROUP = 2 * LANES * STEPS  # the float32 elements uniform streams at a time


@njit(nogil=True)
def _generate(tmp, seed, blocks, low, scale, vmin, vmax):
    """Make ``blocks`` uniform blocks into the one scratch block ``tmp`` (L1), writing nothing else."""
    for b in range(blocks):
        uniform_unit(tmp, 0, seed, b, low, scale, vmin, vmax, 0, BLOCK // LANES, tmp, 0, False)


@njit(parallel=True, nogil=True)
def _stream_blocks(out, tasks):
    """Stream one L1 block into every whole block of ``out``, 8 lines a step, with ``fill_uniform``'s
    task layout and tail handling: its stores without its values."""
    nb = out.size // BLOCK
    nt = min(nb, tasks)
    for t in prange(nt):
        tmp = np.ones(BLOCK, out.dtype)
        lo, hi = task_blocks(t, nt, nb)
        for b in range(lo, hi):
            at = _U(b * BLOCK)
            head = aligned_head(out, at, BLOCK)
            sent = head
            for c in range(0, BLOCK, _GROUP):
                sent = stream_lines(out, at, tmp, sent, _U(c + _GROUP))
            stream_rest(out, at, tmp, head, sent, _U(BLOCK))
        store_fence()


def _median_pair(calls: dict, repeats: int) -> dict:
    """Median seconds of each call, the calls alternating ``repeats`` times after a warm-up."""
    for f in calls.values():
        f()
    times = {k: [] for k in calls}
    for _ in range(repeats):
        for k, f in calls.items():
            t = time.perf_counter()
            f()
            times[k].append(time.perf_counter() - t)
    return {k: statistics.median(v) for k, v in times.items()}


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--size", type=int, default=10**8, help="elements (float32), a multiple of 4096 used")
    ap.add_argument("--repeats", type=int, default=7)
    a = ap.parse_args(argv)
    n = a.size // BLOCK * BLOCK
    out = np.zeros(n, np.float32)
    tmp = np.empty(BLOCK, np.float32)
    seed = _U(1)
    gen_blocks = 4096
    threads = numba.get_num_threads()
    params = uniform_params(0.0, 1.0, np.dtype(np.float32))  # low, scale, vmin, vmax

    numba.set_num_threads(1)
    t1 = _median_pair({"gen": lambda: _generate(tmp, seed, gen_blocks, *params),
                       "store": lambda: _stream_blocks(out, 256),
                       "fill": lambda: fill_uniform(out, seed, 0, *params)}, a.repeats)
    numba.set_num_threads(threads)
    tn = _median_pair({"ceiling": lambda: fill_constant(out, 0.5, stream=True),
                       "store": lambda: _stream_blocks(out, 256),
                       "fill": lambda: fill_uniform(out, seed, 0, *params)}, a.repeats)

    gen = t1["gen"] / (gen_blocks * BLOCK) * 1e9  # ns a value on one thread, in L1
    print(f"uniform float32, {n:.3g} elements; ns a value per thread (rates in M values/s)")
    print(f"{'threads':>7} | {'gen (L1)':>8} | {'store':>6} | {'fill':>6} | {'no overlap':>10} | "
          f"{'perfect':>7} | {'overlap':>7} | fill M/s | ceiling M/s | % ceiling")
    for th, t in ((1, t1), (threads, tn)):
        store = t["store"] / n * th * 1e9
        fill = t["fill"] / n * th * 1e9
        hidden = (gen + store - fill) / min(gen, store)
        ceiling = f"{n / t['ceiling'] / 1e6:11.0f}" if "ceiling" in t else f"{'-':>11}"
        pct = f"{t['ceiling'] / t['fill'] * 100:9.1f}" if "ceiling" in t else f"{'-':>9}"
        print(f"{th:7d} | {gen:8.3f} | {store:6.3f} | {fill:6.3f} | {gen + store:10.3f} | "
              f"{max(gen, store):7.3f} | {hidden:7.2f} | {n / t['fill'] / 1e6:8.0f} | {ceiling} | {pct}")


if __name__ == "__main__":
    main()
