"""Seeds: what ``seed=`` accepts and the module-level generator behind ``seed=None``.

A seed becomes one 64-bit integer, the only thing the kernels see:
- an ``int`` in [-2**63, 2**64) is taken modulo 2**64 (so ``-1`` and ``2**64 - 1`` are the
  same seed); a larger one is folded: its 64-bit limbs, least significant first, are combined as
  ``h = mix64(h ^ limb)`` starting from ``h = 0`` (for a negative one, the limbs of its absolute
  value, then ``h = mix64(h ^ 1)``);
- a ``numpy.random.Generator`` gives one draw of ``integers(0, 2**64, dtype=uint64)`` (it
  advances, so two calls with the same generator differ, as in numpy);
- ``None`` draws that way from fastinit's own generator, which :func:`seed` resets, so
  successive unseeded calls differ and ``fastinit.seed(n)`` makes a script repeatable, as
  ``torch.manual_seed`` and ``numpy.random.seed`` do.
"""
from __future__ import annotations

import numbers
import threading
from typing import Union

import numpy as np

SeedLike = Union[int, np.integer, np.random.Generator, None]

_M64 = (1 << 64) - 1
_lock = threading.Lock()
_global = np.random.default_rng()


def seed(n: int | None = None) -> None:
    """Reset the generator that draws the seeds of unseeded calls (``seed=None``).

    ``fastinit.seed(n)`` followed by the same sequence of unseeded calls gives the same arrays;
    ``fastinit.seed()`` (or ``None``) reseeds from the operating system's entropy.
    """
    global _global
    if n is not None:
        n = _as_int(n)
    with _lock:
        _global = np.random.default_rng(None if n is None else n % (1 << 128))


def _mix64(z: int) -> int:
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _M64
    return z ^ (z >> 31)


def _as_int(s) -> int:
    if isinstance(s, (bool, np.bool_)) or not isinstance(s, (numbers.Integral, np.integer)):
        raise TypeError(f"seed: expected an int, a numpy.random.Generator or None, got {s!r}")
    return int(s)


def seed64(s: SeedLike) -> np.uint64:
    """The 64-bit seed the kernels use for ``seed=s`` (see the module docstring)."""
    if s is None:
        with _lock:
            return np.uint64(_global.integers(0, 1 << 64, dtype=np.uint64))
    if isinstance(s, np.random.Generator):
        return np.uint64(s.integers(0, 1 << 64, dtype=np.uint64))
    n = _as_int(s)
    if -(1 << 63) <= n < (1 << 64):
        return np.uint64(n & _M64)
    h, m = 0, abs(n)
    while m:
        h = _mix64(h ^ (m & _M64))
        m >>= 64
    return np.uint64(_mix64(h ^ 1) if n < 0 else h)
