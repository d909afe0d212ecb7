"""Transparent huge pages for large host outputs that fastinit did not allocate: opt-in.

Writing into memory nobody has touched yet is bounded by its page faults: one per 4 KiB page,
each zeroing the page before the kernel's store lands. On Linux, ``madvise(MADV_HUGEPAGE)`` lets
the first touch map 2 MiB pages instead, 512 times fewer faults; torch's CPU allocator does not
ask for them (unless ``THP_MEM_ALLOC_ENABLE=1``). With ``FASTINIT_HUGEPAGES=1`` in the
environment, a large torch tensor given as ``out`` (a model's constructor under
``fastinit.torch.patch()``, ``init_module`` after ``to_empty``) is advised here, after every check
and right before the kernels write it.

It is off by default because it was measured slower where it matters (bench/bench_model.py,
10^9 float32 parameters on the 2-core machine, 2026-12-03): a decoder built under ``patch()`` took
4.9 s with the advice against 1.36 s without (the first-touch ceiling of 4 KiB pages: 1.4 s),
``init_module`` 5.0 s against 1.41 s. With ``defrag`` in ``madvise`` mode the kernel compacts
memory synchronously to find free 2 MiB pages, and once a few GB have been allocated and freed
those stalls cost more than the faults they save; a single 1 GB tensor was filled 1.7 times
faster with the advice, after a first fill 5 times slower.

Only whole 2 MiB pages inside the output are advised (nothing outside it), only for outputs of
at least :data:`MIN_BYTES`, once per call; memory already touched keeps its pages until the
kernel's khugepaged collapses them. The advice changes no value; failures are ignored (the
advice is only advice).
"""
from __future__ import annotations

import ctypes
import functools
import os
import sys

import numpy as np

MADV_HUGEPAGE = 14  #: Linux's value, the same on every architecture
HUGE = 2 << 20  #: the huge page size on x86-64 and arm64 with 4 KiB pages
#: the smallest output advised: below it, a syscall is not worth the faults saved
MIN_BYTES = 8 << 20


#: whether large torch outputs are advised (``FASTINIT_HUGEPAGES=1``; module docstring)
ENABLED = os.environ.get("FASTINIT_HUGEPAGES", "0") == "1"


@functools.cache
def madvise():
    """libc's ``madvise``, or None where huge pages cannot be asked for (not Linux, or the
    kernel has transparent huge pages disabled); looked up on first use, not at import."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        with open("/sys/kernel/mm/transparent_hugepage/enabled") as f:
            if "[never]" in f.read():
                return None
        fn = ctypes.CDLL(None, use_errno=True).madvise
    except (OSError, AttributeError):
        return None
    fn.argtypes = (ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int)
    fn.restype = ctypes.c_int
    return fn



def advise(arr: np.ndarray) -> bool:
    """Ask for huge pages under the whole 2 MiB pages of the contiguous host array ``arr``;
    whether the advice was given (and taken by the kernel)."""
    fn = madvise() if ENABLED and arr.nbytes >= MIN_BYTES else None
    if fn is None:
        return False
    start = arr.__array_interface__["data"][0]
    lo = -(-start // HUGE) * HUGE
    hi = (start + arr.nbytes) // HUGE * HUGE
    return hi > lo and fn(lo, hi - lo, MADV_HUGEPAGE) == 0
