"""Partial application: an initializer called with parameters but no shape returns an
:class:`Initializer`, a picklable, comparable object that fills tensors later.

>>> init = fastinit.kaiming_normal(gain=1.0)      # no shape: an Initializer
>>> init
fastinit.kaiming_normal(gain=1.0)
>>> w = init(256, 128, seed=0)                     # same as fastinit.kaiming_normal(256, 128, gain=1.0, seed=0)

As WeightInitializers.jl's partial functions and Keras' initializer objects do. Every public
initializer is wrapped by :func:`initializer`, which also registers it by name, so that
``Initializer``\\ s pickle and serialize by name and :func:`fastinit.get` finds them.
"""
from __future__ import annotations

import functools
import inspect
import types
from typing import Any, Callable

import numpy as np

__all__ = ["Initializer", "initializer", "FUNCTIONS", "ALIASES"]

#: every public initializer function, by name
FUNCTIONS: dict[str, Callable[..., Any]] = {}
#: fastinit's other names for some of them
ALIASES = {"xavier_uniform": "glorot_uniform", "xavier_normal": "glorot_normal",
           "he_uniform": "kaiming_uniform", "he_normal": "kaiming_normal"}
#: shape-independent parameter checks run when an Initializer is made, by function name
_CHECKS: dict[str, Callable[..., None]] = {}
#: the dtypes each function takes, where not every dtype fastinit knows (checked when an
#: Initializer binds ``dtype``)
DTYPES: dict[str, Any] = {}

_PER_CALL = ("out", "rows", "block")  # parameters that only make sense on a call with a shape
_PLACEMENT = ("device",)  # where, not what: in a config only when bound


def initializer(fn: Callable | None = None, *, check: Callable[..., None] | None = None,
                dtypes: Any = None):
    """Register ``fn`` under its name and make a call with no shape and no ``out`` return an
    :class:`Initializer` holding the given parameters. ``check(**params)``, if given, validates
    the parameters that do not depend on the shape when the Initializer is made (``dtype`` among
    them when bound, already checked to be one of ``dtypes``: by default every dtype fastinit
    fills)."""
    def wrap(f):
        @functools.wraps(f)
        def wrapper(*shape, **params):
            if not shape and params.get("out") is None:
                params.pop("out", None)
                return Initializer(f.__name__, **params)
            return f(*shape, **params)
        FUNCTIONS[f.__name__] = wrapper
        if check is not None:
            _CHECKS[f.__name__] = check
        if dtypes is not None:
            DTYPES[f.__name__] = dtypes  # a tuple or _checks.Dtypes (listing it may import ml_dtypes)
        return wrapper
    return wrap if fn is None else wrap(fn)


def _check_common(name: str, params: dict[str, Any]) -> None:
    """The checks every initializer shares that do not need a shape: ``seed``, ``device`` and
    ``dtype`` (one that ``name`` takes)."""
    from . import _checks as ck
    from ._seeding import check_seed
    if "seed" in params:
        check_seed(params["seed"])
    if params.get("device") is not None:
        from ._device import resolve
        resolve(params["device"], None)
    if params.get("dtype") is not None:
        ck.dtype_from(params["dtype"], None, DTYPES.get(name, ck.ALL_DTYPES))


def _parameters(name: str) -> dict[str, inspect.Parameter]:
    sig = inspect.signature(FUNCTIONS[name])
    return {k: p for k, p in sig.parameters.items() if p.kind is not inspect.Parameter.VAR_POSITIONAL}


def _plain(value: Any) -> Any:
    """A config value in plain Python: dtypes by name, Keys by their 64-bit value, arrays as lists."""
    from ._seeding import Key
    if isinstance(value, Key):
        return int(value)
    if isinstance(value, np.ndarray):
        return value.tolist()
    if isinstance(value, np.generic):
        return value.item()
    if isinstance(value, (type, np.dtype)):
        return np.dtype(value).name
    if isinstance(value, tuple):
        return [_plain(v) for v in value]
    if type(value).__module__.startswith("torch") and hasattr(value, "type"):  # a torch.device
        return str(value)
    return value


class Initializer:
    """An initializer function with some of its parameters bound.

    Calling it with a shape (or ``out=``) fills a tensor: parameters given to the call override
    the bound ones. Calling it with parameters but no shape returns a new Initializer with those
    parameters bound as well.

    Parameters
    ----------
    name : str
        The name of a fastinit initializer (``fastinit.FUNCTIONS``), e.g. ``"kaiming_normal"``,
        or an alias (``"he_normal"``).
    **params
        Keyword parameters of that function (not ``out``).
    """

    __slots__ = ("name", "params")

    def __init__(self, name: str, **params: Any) -> None:
        from ._checks import shown
        if not isinstance(name, str):
            raise TypeError(f"name: expected the name of a fastinit initializer (a str), got {shown(name)}")
        name = ALIASES.get(name, name)
        if name not in FUNCTIONS:
            import difflib
            close = difflib.get_close_matches(name, FUNCTIONS, n=3) if len(name) <= 100 else []
            hint = f"; did you mean {', '.join(map(repr, close))}?" if close else ""
            raise ValueError(f"name: no fastinit initializer named {shown(name)}{hint}")
        known = _parameters(name)
        for k in params:
            if k not in known or k in _PER_CALL:
                raise TypeError(f"{name}: unexpected parameter {shown(k)} "
                                f"(parameters: {', '.join(p for p in known if p not in _PER_CALL)})")
        _check_common(name, params)
        if name in _CHECKS:
            _CHECKS[name](**params)
        object.__setattr__(self, "name", name)
        object.__setattr__(self, "params", types.MappingProxyType(dict(params)))

    def __setattr__(self, key, value):
        raise AttributeError("Initializer objects are immutable")

    def __delattr__(self, key):
        raise AttributeError("Initializer objects are immutable")

    @property
    def func(self) -> Callable[..., Any]:
        """The initializer function."""
        return FUNCTIONS[self.name]

    def __call__(self, *shape: Any, **params: Any) -> Any:
        """Fill a tensor: ``init(256, 128)``, ``init((256, 128))``, Keras' ``init(shape=(256,
        128), dtype="float32")`` or ``init(out=w)``; parameters override the bound ones."""
        if "shape" in params and not shape:
            dims = params.pop("shape")
            shape = (tuple(dims) if isinstance(dims, (tuple, list)) else (dims,),)
        if len(shape) == 2 and isinstance(shape[0], (tuple, list)) and "dtype" not in params:
            shape, params["dtype"] = shape[:1], shape[1]  # Keras' init(shape, dtype)
        return FUNCTIONS[self.name](*shape, **{**self.params, **params})

    def get_config(self) -> dict[str, Any]:
        """Every parameter's value (bound, or the function's default), as plain Python values,
        with the function's name under ``"name"``: ``Initializer.from_config(c)`` rebuilds an
        equal Initializer."""
        config: dict[str, Any] = {"name": self.name}
        for k, p in _parameters(self.name).items():
            if k in _PER_CALL or (k in _PLACEMENT and k not in self.params):
                continue
            if k in self.params:
                config[k] = _plain(self.params[k])
            elif p.default is not inspect.Parameter.empty:
                config[k] = _plain(p.default)
        return config

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> "Initializer":
        """The Initializer that :meth:`get_config` describes."""
        from ._checks import shown
        if not isinstance(config, dict) or "name" not in config:
            raise ValueError(f"config: expected a dict with a 'name' key, got {shown(config)}")
        params = {k: v for k, v in config.items() if k != "name"}
        bad = [k for k in params if not isinstance(k, str)]
        if bad:
            raise TypeError(f"config: parameter names must be str, got {shown(bad[0])}")
        return cls(config["name"], **params)

    def _key(self):
        cfg = self.get_config()
        seed = self.params.get("seed")
        if isinstance(seed, np.random.Generator):  # a generator is equal only to itself
            cfg["seed"] = id(seed)
        return cfg

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Initializer):
            return NotImplemented
        return self._key() == other._key()

    def __hash__(self) -> int:
        return hash(("fastinit.Initializer", self.name))  # equal configs may differ in form (1 vs 1.0)

    def __repr__(self) -> str:
        def show(v):  # numpy values as plain ones, so that eval(repr(init)) works
            return _plain(v) if isinstance(v, (type, np.dtype, np.generic, np.ndarray)) else v
        args = ", ".join(f"{k}={show(v)!r}" for k, v in self.params.items())
        return f"fastinit.{self.name}({args})"

    def __reduce__(self):
        return (_rebuild, (self.name, dict(self.params)))


def _rebuild(name: str, params: dict[str, Any]) -> Initializer:
    import fastinit  # noqa: F401  (registers every initializer)
    return Initializer(name, **params)


def as_initializer(value: Any, param: str = "initializer") -> "Initializer":
    """``value`` as an :class:`Initializer`: one as it is, a core function (``fastinit.normal``)
    unbound, an identifier or config through :func:`fastinit.get`; errors name ``param``. For the
    faces that take an initializer as an argument (``fastinit.torch.init_shard_``,
    ``fastinit.dask.from_initializer``)."""
    from ._checks import shown
    if isinstance(value, Initializer):
        return value
    name = getattr(value, "__name__", None)
    if callable(value) and isinstance(name, str) and FUNCTIONS.get(name) is value:
        return Initializer(name)
    if isinstance(value, (str, dict)):
        from .registry import get
        try:
            resolved = get(value)
        except (TypeError, ValueError) as e:
            raise type(e)(f"{param}: {e}") from None
        if isinstance(resolved, Initializer):
            return resolved
    raise TypeError(f"{param}: expected a fastinit.Initializer (e.g. fastinit.kaiming_uniform(a=5 ** 0.5)), "
                    f"a fastinit function or an identifier for fastinit.get, got {shown(value)}")
