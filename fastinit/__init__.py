"""fastinit: neural-network weight initializers for very large arrays.

Hand-written parallel Numba kernels on one xoroshiro128+ RNG core; the values depend only on the
seed, the shape, the dtype and the parameters (README, "Reproducibility"). Every initializer of
PyTorch, Keras 3, JAX, WeightInitializers.jl and Keraflow, with that framework's semantics
(README, "Initializers"). ``device="cuda"`` (or a GPU ``out``) runs any of them on the GPU with
the same values (README, "GPU"); numba.cuda is imported only then.
"""
from . import _threading  # noqa: F401  (chooses Numba's threading layer before any kernel runs)
from ._seeding import Key, seed
from .fans import LAYOUTS, calculate_gain, compute_fans
from .files import save
from .fills import constant, normal, ones, sparse, truncated_normal, uniform, zeros
from .initializer import FUNCTIONS, Initializer
from .initializers import *  # noqa: F401,F403  (the initializers, listed in their __all__)
from .initializers import __all__ as _initializers
from .registry import deserialize, get, serialize

__version__ = "0.2.0"
__all__ = ["seed", "Key", "Initializer", "get", "serialize", "deserialize", "compute_fans",
           "calculate_gain", "LAYOUTS", "FUNCTIONS", "uniform", "normal", "truncated_normal",
           "sparse", "constant", "zeros", "ones", *_initializers]
