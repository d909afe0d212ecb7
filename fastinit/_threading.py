"""Pick Numba's TBB threading layer before any parallel kernel runs.

Of Numba's layers only TBB both accepts concurrent calls from several Python threads
(``workqueue`` aborts on them) and survives a ``fork()`` after a parallel call (GNU OpenMP kills
the child: multiprocessing with fork, torch DataLoader workers). The ``tbb`` wheel puts
``libtbb.so.12`` in ``<prefix>/lib``, which the loader does not search from a virtual
environment, so it is preloaded here. A layer the user chose (``NUMBA_THREADING_LAYER`` or
``numba.config.THREADING_LAYER``) is left alone, and where TBB cannot load Numba's default
stays, with the limits above.
"""
import ctypes
import glob
import os
import sys

import numba


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
