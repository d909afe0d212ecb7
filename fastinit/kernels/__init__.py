"""fastinit's CPU kernels. The public part is the fills callable from Numba code
(:mod:`fastinit.numba_api`, re-exported here): ``fill_uniform``, ``fill_normal`` and
``fill_truncated_normal`` with ``truncated_normal_plan``; the kernel modules themselves are
internal. They are loaded on first access (``fastinit.fills`` imports the kernel modules, and
``fastinit.numba_api`` imports ``fastinit.fills``); Numba compiles each fill on first use.
"""
__all__ = ["fill_uniform", "fill_normal", "fill_truncated_normal", "truncated_normal_plan",
           "TruncatedNormalPlan", "FILL_ERRORS"]


def __getattr__(name):
    if name in __all__:
        from .. import numba_api
        return getattr(numba_api, name)
    raise AttributeError(f"module 'fastinit.kernels' has no attribute {name!r}")


def __dir__():
    return sorted(list(globals()) + __all__)
