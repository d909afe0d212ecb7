"""What a block costs against the same number of elements as whole rows (issue 15).

    .venv/bin/python bench/bench_blocks.py [--rows 100000] [--cols 8192] [--repeats 5]

For a (rows, cols) float32 tensor, each line times ``block=(slice(None), slice(c0, c0 + w))``,
a column block of width ``w`` of every row, against ``rows=`` blocks of the same element count,
in one process (medians of ``--repeats``; ratios are what to quote, the machine is shared). A
run (here a row of the block) costs its elements plus at most one stream block (4096 elements)
of random-number steps, whose values are not computed (truncated normal's rejection sampler
must draw them): blocks are efficient once their runs are a few thousand elements long (a whole
last axis, or wide column blocks), and narrow column blocks pay per row.
"""
from __future__ import annotations

import argparse
import statistics
import time

import numba
import numpy as np

import fastinit

FILLS = {
    "uniform": lambda *s, **k: fastinit.uniform(*s, low=-1.0, high=1.0, **k),
    "normal": lambda *s, **k: fastinit.normal(*s, std=0.02, **k),
    "truncated_normal": lambda *s, **k: fastinit.truncated_normal(*s, std=0.02, lo=-0.04, hi=0.04, **k),
}


def _median(call, out, repeats: int) -> float:
    call(out=out)  # compiled, and the output's pages touched
    times = []
    for _ in range(repeats):
        t = time.perf_counter()
        call(out=out)
        times.append(time.perf_counter() - t)
    return statistics.median(times)


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--rows", type=int, default=100_000)
    p.add_argument("--cols", type=int, default=8192)
    p.add_argument("--widths", type=int, nargs="+", default=[64, 512, 2048, 4096])
    p.add_argument("--repeats", type=int, default=5)
    args = p.parse_args(argv)
    n, m = args.rows, args.cols
    print(f"(rows, cols) = ({n}, {m}) float32; column block (all rows, width w) vs rows= of as many "
          f"elements; {numba.get_num_threads()} threads")
    print("| fill | w | elements | column block ns/element | rows ns/element | ratio |")
    print("|---|---|---|---|---|---|")
    for name, f in FILLS.items():
        for w in args.widths:
            c0 = (m - w) // 3  # not aligned to a stream block
            out = np.empty((n, w), np.float32)
            col = _median(lambda out: f(n, m, seed=1, block=(slice(None), slice(c0, c0 + w)), out=out),
                          out, args.repeats)
            k = n * w // m  # rows of as many elements
            rows_out = np.empty((k, m), np.float32)
            row = _median(lambda out: f(n, m, seed=1, rows=slice(n // 3, n // 3 + k), out=out),
                          rows_out, args.repeats)
            e = n * w
            print(f"| {name} | {w} | {e:,} | {col / e * 1e9:.2f} | {row / (k * m) * 1e9:.2f} | "
                  f"{(col / e) / (row / (k * m)):.1f}x |", flush=True)


if __name__ == "__main__":
    main()
