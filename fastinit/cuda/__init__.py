"""GPU kernels on numba.cuda, the twins of ``fastinit.kernels``: one thread per stream, the same
(seed, element) -> (stream, position) mapping and the same per-value functions, so the GPU gives
the CPU's numbers. Importing this package imports numba.cuda; ``import fastinit`` never does.
"""
from . import arrays
from .launch import (THREADS_PER_BLOCK, fill_constant, fill_normal, fill_sparse, fill_truncnorm,
                     fill_uniform, polar_, scatter)

__all__ = ["arrays", "fill_uniform", "fill_normal", "fill_truncnorm", "fill_sparse", "fill_constant",
           "polar_", "scatter", "THREADS_PER_BLOCK"]
