"""fastinit against numpy and torch CPU, and against the machine's store bandwidth, in one run.

A thin command over :mod:`fastinit._bench`, which holds the measuring (see its docstring for what
each figure is). Each dtype's rows begin with three ceilings measured on the same array in the
same run: numpy's ``fill`` (one thread), a parallel ``prange`` store loop and a parallel
streaming-store loop; "% ceiling" is against the fastest of them.

    python bench/compare.py                     # 10^8 float32 elements, every fill
    python bench/compare.py --size 1000000 --repeats 3 --fills uniform normal --no-torch
    python bench/compare.py --all-dtypes --json results.json
"""
import sys

from fastinit._bench import main

if __name__ == "__main__":
    sys.exit(main(sys.argv[1:], description=__doc__.split("\n\n")[0]))
