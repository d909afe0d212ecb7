"""Pick Numba's TBB threading layer before any parallel kernel runs.

Of Numba's layers only TBB both accepts concurrent calls from several Python threads
(``workqueue`` aborts on them) and survives a ``fork()`` after a parallel call (GNU OpenMP kills
the child: multiprocessing with fork, torch DataLoader workers). The ``tbb`` wheel puts
``libtbb.so.12`` in ``<prefix>/lib``, which the loader does not search from a virtual
environment, so it is preloaded here. A layer the user chose (``NUMBA_THREADING_LAYER`` or
``numba.config.THREADING_LAYER``) is left alone, and where TBB cannot load Numba's default
stays, with the limits above.

With ``workqueue`` (chosen by the user, or Numba's fallback when neither TBB nor OpenMP loads)
a second parallel launch while one runs would abort the whole process, so :func:`launch` runs
fastinit's kernels there one at a time.
"""
import ctypes
import glob
import os
import sys

from typing import Any

import numba

from ._forksafe import ForkSafeLock


def _preload_tbb() -> bool:
    for prefix in dict.fromkeys((sys.prefix, sys.base_prefix)):
        for path in sorted(glob.glob(os.path.join(prefix, "lib", "libtbb.so.12*"))):
            try:
                ctypes.CDLL(path, mode=ctypes.RTLD_GLOBAL)
                return True
            except OSError:
                continue
    try:  # a system-wide TBB the loader finds by itself
        ctypes.CDLL("libtbb.so.12", mode=ctypes.RTLD_GLOBAL)
        return True
    except OSError:
        return False


def _choose_layer() -> None:
    if os.environ.get("NUMBA_THREADING_LAYER") or numba.config.THREADING_LAYER != "default":
        return
    if _preload_tbb():
        numba.config.THREADING_LAYER = "tbb"


_choose_layer()


#: Numba's threading layer once a parallel launch (anyone's) has initialized it; it never changes
_layer = None
#: configured layers that cannot end up as workqueue
_THREADSAFE = frozenset(("tbb", "omp", "safe", "threadsafe"))
#: held while a kernel runs on workqueue (or before the layer is known); renewed in a forked child
_running = ForkSafeLock()


def launch(kernel, *args) -> Any:
    """``kernel(*args)`` for a parallel CPU kernel, one at a time where Numba needs it (its
    result returned).

    On TBB or OpenMP this is the plain call, and calls from several threads run at once. On
    ``workqueue``, two parallel launches at once would abort the process, so launches from
    several threads wait for each other (under ``_running``); so do launches before the first
    parallel launch has initialized the layer, unless the configured layer cannot be
    workqueue. Numba parallel functions of the user's own, run at the same time from another
    thread, are outside this guard. The lock is taken with a C-level ``with``, so a Ctrl-C
    cannot leave it held (see ``_forksafe``).
    """
    layer = _layer or _initialized_layer()
    if layer == "workqueue" or (layer is None and numba.config.THREADING_LAYER not in _THREADSAFE):
        with _running.lock:
            return kernel(*args)
    return kernel(*args)


def _initialized_layer():
    global _layer
    try:
        _layer = numba.threading_layer()
    except ValueError:  # no parallel launch yet
        return None
    return _layer


def usable_cpus() -> int:
    """The CPUs this process may run on (its affinity where the platform tells it)."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else (os.cpu_count() or 1)
