"""The GPU tests: on a GPU, or in Numba's CUDA simulator (``NUMBA_ENABLE_CUDASIM=1``, set before
numba.cuda is imported; ``.ci/run`` runs this folder so in a pytest process of its own). Without
either, the folder is not collected (the main test run has no GPU)."""
import os
import sys

try:
    from numba import cuda
    _usable = os.environ.get("NUMBA_ENABLE_CUDASIM") == "1" or cuda.is_available()
except Exception:  # no CUDA toolkit or driver
    _usable = False

collect_ignore_glob = [] if _usable else ["test_*.py"]

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))  # tests/: specs
