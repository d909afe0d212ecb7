"""The fills benchmarked, with their numpy and torch peers, shared by compare.py, gpu.py and the
pytest-benchmark files: :mod:`fastinit._bench`'s, under the names these files use.

``fastinit`` is the fastinit function with the case's parameters bound: ``fastinit(out=out)``
fills in place, ``fastinit(shape, dtype=dtype)`` allocates. The peers fill in place:
``numpy(out)`` and ``torch(tensor)``, where ``tensor = torch.from_numpy(out)`` shares ``out``'s
memory. A peer is ``None`` where the library has no such fill (numpy: no truncated normal, no
sparse, no float16).
"""
from fastinit._bench import (  # noqa: F401
    CASES, DTYPES, NUMPY_DTYPES, TORCH_SPARSE_CAP, TORCH_TAIL_CAP, Case, _torch_trunc, check, numpy_peer, shape_for,
    square_shape, torch_module, torch_peer, torch_view, touched)

torch = torch_module()  # None where torch is not installed
