"""fastinit: neural-network weight initializers for very large arrays.

Hand-written parallel Numba kernels on one xoroshiro128+ RNG core; the values depend only on the
seed, the shape, the dtype and the parameters (README, "Reproducibility").
"""
from . import _threading  # noqa: F401  (chooses Numba's threading layer before any kernel runs)
from ._seeding import seed
from .fills import constant, normal, ones, sparse, truncated_normal, uniform, zeros

__version__ = "0.1.0"
__all__ = ["seed", "uniform", "normal", "truncated_normal", "sparse", "constant", "zeros", "ones"]
