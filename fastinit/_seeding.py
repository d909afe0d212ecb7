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
  ``torch.manual_seed`` and ``numpy.random.seed`` do;
- a :class:`Key` gives its 64-bit value: keys name the parameters of a model, so that each
  parameter's values depend only on the root seed and its name.
"""
from __future__ import annotations

import hashlib
import numbers
from typing import Union

import numpy as np

from ._forksafe import ForkSafeLock

SeedLike = Union[int, np.integer, np.random.Generator, "Key", None]


def _shown(value) -> str:
    from ._checks import shown  # _checks imports _device; imported here, when an error is raised
    return shown(value)

_M64 = (1 << 64) - 1
_lock = ForkSafeLock()
_global = np.random.default_rng()


def seed(n: int | None = None) -> None:
    """Reset the generator that draws the seeds of unseeded calls (``seed=None``).

    ``fastinit.seed(n)`` followed by the same sequence of unseeded calls gives the same arrays;
    ``fastinit.seed()`` (or ``None``) reseeds from the operating system's entropy.
    """
    global _global
    if isinstance(n, Key):
        n = n.value
    elif n is not None:
        n = _as_int(n)
    with _lock.lock:
        _global = np.random.default_rng(None if n is None else n % (1 << 128))


def _mix64(z: int) -> int:
    z = ((z ^ (z >> 30)) * 0xBF58476D1CE4E5B9) & _M64
    z = ((z ^ (z >> 27)) * 0x94D049BB133111EB) & _M64
    return z ^ (z >> 31)


def _as_int(s) -> int:
    if isinstance(s, (bool, np.bool_)) or not isinstance(s, (numbers.Integral, np.integer)):
        raise TypeError(f"seed: expected an int, a fastinit.Key, a numpy.random.Generator or None, "
                        f"got {_shown(s)}")
    return int(s)


class Deferred:
    """A seed drawn when a call first needs it, after all of the call's checks: ``draw()``
    (which returns anything ``seed=`` accepts) is called once, and its result kept. For faces
    that draw their seeds from another library's generator (``fastinit.torch`` from torch's),
    so that a call that raises leaves that generator where it was."""

    __slots__ = ("_draw", "_value")

    def __init__(self, draw) -> None:
        self._draw = draw
        self._value = None

    def value(self) -> SeedLike:
        if self._draw is not None:
            self._value, self._draw = self._draw(), None
        return self._value


def check_seed(s: SeedLike) -> None:
    """``TypeError`` unless ``s`` is something ``seed=`` accepts (nothing is drawn)."""
    if s is None or isinstance(s, (Key, np.random.Generator, Deferred)):
        return
    _as_int(s)


def seed64(s: SeedLike) -> np.uint64:
    """The 64-bit seed the kernels use for ``seed=s`` (see the module docstring)."""
    if isinstance(s, Deferred):
        s = s.value()
    if isinstance(s, Key):
        return np.uint64(s.value)
    if s is None:
        with _lock.lock:
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


class Key:
    """A seed with a name space: ``key.child(name)`` derives the seed of a named part, so a
    model's parameters are seeded by their names and adding a layer leaves every other layer's
    values unchanged. Accepted wherever ``seed=`` is.

    >>> root = fastinit.Key(1234)
    >>> w = fastinit.kaiming_normal(512, 256, seed=root.child("encoder").child("layer0.weight"))

    The derivation is fixed (it does not depend on the Python version, the platform or the
    hash seed) and part of the reproducibility promise: with ``v`` the parent's 64-bit value
    (``Key(seed).value == seed64(seed)``, see :func:`fastinit.seed`),

    .. code-block:: text

        child(name).value = int.from_bytes(blake2b(data, digest_size=8, person=b"fastinit.key").digest(), "little")
        data = v.to_bytes(8, "little") + b"s" + name.encode("utf-8")          (a str name)
        data = v.to_bytes(8, "little") + b"i" + str(name).encode("ascii")     (an int name)

    so ``child("3")`` and ``child(3)`` differ. Keys compare, hash and pickle by value.
    """

    __slots__ = ("value",)

    def __init__(self, seed: SeedLike = None) -> None:
        object.__setattr__(self, "value", int(seed64(seed)))

    def __setattr__(self, key, value):
        raise AttributeError("Key objects are immutable")

    def __delattr__(self, key):
        raise AttributeError("Key objects are immutable")

    def child(self, name: Union[str, int]) -> "Key":
        """The key of the part called ``name`` (a str or an int)."""
        if isinstance(name, str):
            data = b"s" + name.encode("utf-8")
        elif isinstance(name, (numbers.Integral, np.integer)) and not isinstance(name, (bool, np.bool_)):
            data = b"i" + str(int(name)).encode("ascii")
        else:
            raise TypeError(f"name: expected a str or an int, got {_shown(name)}")
        digest = hashlib.blake2b(self.value.to_bytes(8, "little") + data, digest_size=8,
                                 person=b"fastinit.key").digest()
        return Key(int.from_bytes(digest, "little"))

    def __int__(self) -> int:
        return self.value

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Key) and other.value == self.value

    def __hash__(self) -> int:
        return hash(("fastinit.Key", self.value))

    def __repr__(self) -> str:
        return f"fastinit.Key({self.value:#018x})"

    def __reduce__(self):
        return (Key, (self.value,))
