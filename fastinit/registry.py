"""String identifiers: every framework's initializer names with that framework's defaults,
:func:`get`, :func:`serialize`, :func:`deserialize`, and the README's name table.

An identifier is

- a Keras 3 identifier (``"he_normal"``, ``"HeNormal"``, ``"random_uniform"``, ``"one"``, ...):
  the initializer as Keras defines it (``fastinit.get("he_normal")`` is Keras' ``HeNormal``:
  truncated, Keras fans);
- ``"<framework>.<name>"`` with framework ``torch``, ``keras``, ``jax``, ``lux`` or
  ``keraflow``: that framework's initializer of that name, with its defaults and fan convention
  (``"torch.kaiming_normal_"``, ``"jax.he_normal"``, ``"lux.randn32"``,
  ``"keraflow.orthogonal"``);
- ``"fastinit.<name>"``, or a fastinit name that is not a Keras identifier (``"kaiming_normal"``,
  ``"dirac"``, ``"randn32"``): fastinit's function with fastinit's defaults.

Each framework's names map to *factories* taking that framework's own parameter names (Keras'
``stddev``, ``minval``; JAX's ``scale``; Keraflow's ``scale``), so a Keras config dict
deserializes too. Keraflow's meanings need the ``keraflow.`` prefix: its bare names are Keras
identifiers too, and ``get`` gives Keras' meaning (``"orthogonal"``: gain 1, last axis kept;
``"keraflow.orthogonal"``: gain 1.1, first axis kept).

Seeds: an Initializer without a seed draws a new one on every call (as torch and numpy do),
whereas a Keras initializer with ``seed=None`` picks one seed when it is made and repeats its
values; bind ``seed=`` (an int or a :class:`fastinit.Key`) for Keras' repeatable behaviour. A
serialized Keras ``SeedGenerator`` seed becomes its int seed (a SeedGenerator advances on every
call; an Initializer bound to an int does not).
"""
from __future__ import annotations

import difflib
import math
from typing import Any, Callable

import numpy as np

from . import _checks as ck
from . import initializers as ini
from .initializer import ALIASES, FUNCTIONS, Initializer

__all__ = ["FRAMEWORKS", "PRESETS", "ALIASES", "get", "serialize", "deserialize", "name_table"]

FRAMEWORKS = ("torch", "keras", "jax", "lux", "keraflow")

def _bind(name: str, **params: Any) -> Initializer:
    """An Initializer of ``name`` with the parameters that are not None."""
    return Initializer(name, **{k: v for k, v in params.items() if v is not None})


# A factory whose framework names a parameter differently from fastinit (Keras' ``stddev``,
# ``minval``; torch's ``a``, ``b``; JAX's and Keraflow's ``scale``), or computes with it, checks
# it first under the framework's name, so that an error names the parameter the user passed.

def _given(name: str, value: Any, what: str = "a real number") -> Any:
    """``value`` unchanged; ``TypeError`` naming ``name`` for ``None``, where the framework has no
    ``None`` (``_bind`` would drop it and leave fastinit's default)."""
    if value is None:
        raise TypeError(f"{name}: expected {what}, got None")
    return value


def _real(name: str, value: Any, *, finite: bool = True) -> Any:
    """``value`` unchanged, after checking that it is a real number (finite when ``finite``)."""
    if value is not None:
        ck.real(name, value, finite=finite)
    return value


def _std(name: str, value: Any, *, positive: bool = False) -> Any:
    """``value`` unchanged, after checking that it is a standard deviation."""
    if value is not None:
        ck.std_value(value, positive=positive, name=name)
    return value


def _ordered(lo_name: str, lo: Any, hi_name: str, hi: Any, *, finite: bool = True) -> None:
    """Both real (finite when ``finite``), ``lo < hi``."""
    a, b = ck.real(lo_name, lo, finite=finite), ck.real(hi_name, hi, finite=finite)
    if not a < b:
        raise ValueError(f"{lo_name}, {hi_name}: need {lo_name} < {hi_name}, got "
                         f"{lo_name}={ck.shown(lo)}, {hi_name}={ck.shown(hi)}")


def _constant_value(name: str, value: Any) -> Any:
    """A constant's value (real or complex), checked under the framework's ``name``."""
    if isinstance(value, (complex, np.complexfloating)):
        ck.real(name, value.real), ck.real(name, value.imag)
    else:
        _real(name, value)
    return value


# --- torch.nn.init ---------------------------------------------------------------------------------

def _t_uniform(a=0.0, b=1.0):
    _ordered("a", a, "b", b)
    return _bind("uniform", low=a, high=b)


def _t_normal(mean=0.0, std=1.0):
    return _bind("normal", mean=mean, std=std)


def _t_trunc_normal(mean=0.0, std=1.0, a=-2.0, b=2.0):
    _ordered("a", a, "b", b, finite=False)
    return _bind("truncated_normal", mean=mean, std=std, lo=a, hi=b)


def _t_constant(val=None):
    return _bind("constant", value=_constant_value("val", val))


def _t_kaiming(name):
    def factory(a=0.0, mode="fan_in", nonlinearity="leaky_relu"):
        return _bind(name, a=a, mode=mode, nonlinearity=nonlinearity)
    return factory


def _t_sparse(sparsity=None, std=0.01):
    return _bind("sparse", sparsity=sparsity, std=std)


TORCH: dict[str, Callable[..., Initializer]] = {
    "uniform_": _t_uniform,
    "normal_": _t_normal,
    "trunc_normal_": _t_trunc_normal,
    "constant_": _t_constant,
    "ones_": lambda: _bind("ones"),
    "zeros_": lambda: _bind("zeros"),
    "eye_": lambda: _bind("eye"),
    "dirac_": lambda groups=1: _bind("dirac", groups=groups),
    "xavier_uniform_": lambda gain=1.0: _bind("glorot_uniform", gain=gain),
    "xavier_normal_": lambda gain=1.0: _bind("glorot_normal", gain=gain),
    "kaiming_uniform_": _t_kaiming("kaiming_uniform"),
    "kaiming_normal_": _t_kaiming("kaiming_normal"),
    "orthogonal_": lambda gain=1.0: _bind("orthogonal", gain=gain),
    "sparse_": _t_sparse,
}


# --- Keras 3 ---------------------------------------------------------------------------------------

def _k_seed(seed):
    """A Keras seed: an int, None, or a serialized ``keras.random.SeedGenerator`` (its seed; a
    SeedGenerator advances on every call in Keras, an Initializer does not)."""
    if isinstance(seed, dict) and seed.get("class_name") == "SeedGenerator":
        config = seed.get("config") or {}
        if not isinstance(config, dict):
            raise TypeError(f"seed: a serialized SeedGenerator's config must be a dict, got "
                            f"{ck.shown(config)}")
        return config.get("seed")
    return seed


def _k_axes(input_axes, output_axes):
    """Keras uses the axes only when both are given (its ``compute_fans``)."""
    if input_axes is None or output_axes is None:
        return None, None
    return input_axes, output_axes


def _k_variance(name, **fixed):
    def factory(seed=None, input_axes=None, output_axes=None):
        input_axes, output_axes = _k_axes(input_axes, output_axes)
        return _bind(name, layout="keras", seed=_k_seed(seed), input_axes=input_axes,
                     output_axes=output_axes, **fixed)
    return factory


def _k_variance_scaling(scale=1.0, mode="fan_in", distribution="truncated_normal", seed=None,
                        input_axes=None, output_axes=None):
    _given("scale", scale), _given("mode", mode, "a string"), _given("distribution", distribution, "a string")
    if isinstance(distribution, str):  # Keras lower-cases it
        distribution = distribution.lower()
    input_axes, output_axes = _k_axes(input_axes, output_axes)
    return _bind("variance_scaling", scale=scale, mode=mode, distribution=distribution,
                 layout="keras", seed=_k_seed(seed), input_axes=input_axes, output_axes=output_axes)


def _k_random_normal(mean=0.0, stddev=0.05, seed=None):
    return _bind("normal", mean=_given("mean", mean), std=_std("stddev", _given("stddev", stddev)),
                 seed=_k_seed(seed))


def _k_random_uniform(minval=-0.05, maxval=0.05, seed=None):
    _ordered("minval", minval, "maxval", maxval)
    return _bind("uniform", low=minval, high=maxval, seed=_k_seed(seed))


def _k_truncated_normal(mean=0.0, stddev=0.05, seed=None):
    """Keras' TruncatedNormal: bounds two standard deviations around the mean, no correction."""
    ck.real("mean", mean)
    ck.std_value(stddev, positive=True, name="stddev")
    with np.errstate(over="ignore"):
        lo, hi = mean - 2 * stddev, mean + 2 * stddev
    if not (math.isfinite(lo) and math.isfinite(hi) and lo < hi):
        raise ValueError(f"mean, stddev: the bounds mean -+ 2 stddev must be finite and apart, got "
                         f"mean={ck.shown(mean)}, stddev={ck.shown(stddev)}")
    return _bind("truncated_normal", mean=mean, std=stddev, lo=lo, hi=hi, seed=_k_seed(seed))


def _k_stft(side="real", window="hann", scaling="density", periodic=False):
    return Initializer("stft", side=side, window=window, scaling=scaling, periodic=periodic)


_KERAS_CLASSES: dict[str, Callable[..., Initializer]] = {
    "Constant": lambda value=0.0: _bind("constant",
                                        value=_constant_value("value", _given("value", value, "a number"))),
    "Zeros": lambda: _bind("zeros"),
    "Ones": lambda: _bind("ones"),
    "Identity": lambda gain=1.0: _bind("eye", gain=_given("gain", gain)),
    "STFT": _k_stft,
    "RandomNormal": _k_random_normal,
    "RandomUniform": _k_random_uniform,
    "TruncatedNormal": _k_truncated_normal,
    "VarianceScaling": _k_variance_scaling,
    "GlorotNormal": _k_variance("glorot_normal"),
    "GlorotUniform": _k_variance("glorot_uniform"),
    "HeNormal": _k_variance("kaiming_normal"),
    "HeUniform": _k_variance("kaiming_uniform"),
    "LecunNormal": _k_variance("lecun_normal"),
    "LecunUniform": _k_variance("lecun_uniform"),
    "Orthogonal": lambda gain=1.0, seed=None: _bind("orthogonal", gain=_given("gain", gain), layout="keras",
                                                    seed=_k_seed(seed)),
}


def _snake(name: str) -> str:
    """Keras' ``to_snake_case``."""
    import re
    name = re.sub(r"(.)([A-Z][a-z]+)", r"\1_\2", name)
    return re.sub(r"([a-z])([A-Z])", r"\1_\2", name).lower()


KERAS: dict[str, Callable[..., Initializer]] = dict(_KERAS_CLASSES)
KERAS.update({_snake(k): v for k, v in _KERAS_CLASSES.items()})
KERAS.update({  # Keras' own aliases (keras.src.initializers.ALL_OBJECTS_DICT)
    "IdentityInitializer": _KERAS_CLASSES["Identity"],
    "normal": _KERAS_CLASSES["RandomNormal"],
    "one": _KERAS_CLASSES["Ones"],
    "STFTInitializer": _KERAS_CLASSES["STFT"],
    "OrthogonalInitializer": _KERAS_CLASSES["Orthogonal"],
    "uniform": _KERAS_CLASSES["RandomUniform"],
    "zero": _KERAS_CLASSES["Zeros"],
})


# --- jax.nn.initializers ---------------------------------------------------------------------------

def _j_variance(name, **fixed):
    def factory(in_axis=None, out_axis=None, batch_axis=None, dtype=None):
        return _bind(name, layout="jax", in_axis=in_axis, out_axis=out_axis,
                     batch_axis=batch_axis, dtype=dtype, **fixed)
    return factory


def _j_variance_scaling(scale=None, mode=None, distribution=None, in_axis=None, out_axis=None,
                        batch_axis=None, dtype=None):
    for name, value, allowed in (("mode", mode, ini.MODES), ("distribution", distribution, _J_DISTRIBUTIONS)):
        if value is not None and (not isinstance(value, str) or value not in allowed):  # JAX's words
            raise ValueError(f"invalid {name} for variance scaling initializer: {value}")
    return _bind("variance_scaling", scale=scale, mode=mode, distribution=distribution,
                 layout="jax", in_axis=in_axis, out_axis=out_axis, batch_axis=batch_axis,
                 dtype=dtype)


_J_DISTRIBUTIONS = ("truncated_normal", "normal", "uniform")  #: JAX's (no "untruncated_normal")


def _j_truncated_normal(stddev=1e-2, dtype=None, lower=-2.0, upper=2.0):
    ck.std_value(stddev, positive=True, name="stddev")
    _ordered("lower", lower, "upper", upper, finite=False)
    with np.errstate(over="ignore", under="ignore"):
        lo, hi = lower * stddev, upper * stddev
    if not lo < hi:  # the products underflowed
        raise ValueError(f"lower, upper, stddev: the bounds lower * stddev and upper * stddev are "
                         f"not apart, got lower={ck.shown(lower)}, upper={ck.shown(upper)}, "
                         f"stddev={ck.shown(stddev)}")
    return _bind("truncated_normal", std=stddev, lo=lo, hi=hi, dtype=dtype)


def _j_orthogonal(scale=1.0, column_axis=-1, dtype=None):
    _real("scale", _given("scale", scale)), _given("column_axis", column_axis, "an int")
    return _bind("orthogonal", gain=scale, layout="jax",
                 column_axis=None if _is_minus_one(column_axis) else column_axis, dtype=dtype)


def _is_minus_one(axis: Any) -> bool:
    """``axis == -1`` for an int (not for arrays or other objects whose ``==`` is not a bool)."""
    return isinstance(axis, (int, np.integer)) and not isinstance(axis, (bool, np.bool_)) and axis == -1


def _j_delta_orthogonal(scale=1.0, column_axis=-1, dtype=None):
    _real("scale", _given("scale", scale)), _given("column_axis", column_axis, "an int")
    return _bind("delta_orthogonal", gain=scale, column_axis=column_axis, dtype=dtype)


def _j_uniform(scale=1e-2, dtype=None):
    if ck.real("scale", _given("scale", scale)) <= 0:
        raise ValueError(f"scale: must be > 0 (values in [0, scale)), got {ck.shown(scale)}")
    return _bind("uniform", low=0.0, high=scale, dtype=dtype)


JAX: dict[str, Callable[..., Initializer]] = {
    "zeros": lambda: _bind("zeros"),
    "ones": lambda: _bind("ones"),
    "constant": lambda value=None, dtype=None: _bind("constant", value=_constant_value("value", value),
                                                     dtype=dtype),
    "uniform": _j_uniform,
    "normal": lambda stddev=1e-2, dtype=None: _bind("normal", std=_std("stddev", _given("stddev", stddev)),
                                                    dtype=dtype),
    "truncated_normal": _j_truncated_normal,
    "variance_scaling": _j_variance_scaling,
    "glorot_uniform": _j_variance("glorot_uniform"),
    "glorot_normal": _j_variance("glorot_normal"),
    "xavier_uniform": _j_variance("glorot_uniform"),
    "xavier_normal": _j_variance("glorot_normal"),
    "lecun_uniform": _j_variance("lecun_uniform"),
    "lecun_normal": _j_variance("lecun_normal"),
    "he_uniform": _j_variance("kaiming_uniform"),
    "he_normal": _j_variance("kaiming_normal"),
    "kaiming_uniform": _j_variance("kaiming_uniform"),
    "kaiming_normal": _j_variance("kaiming_normal"),
    "orthogonal": _j_orthogonal,
    "delta_orthogonal": _j_delta_orthogonal,
}


# --- WeightInitializers.jl -------------------------------------------------------------------------

def _l_gain(name):
    def factory(gain=None):
        return _bind(name, layout="lux", gain=gain)
    return factory


LUX: dict[str, Callable[..., Initializer]] = {
    "glorot_uniform": lambda gain=1.0: _bind("glorot_uniform", layout="lux", gain=gain),
    "glorot_normal": lambda gain=1.0: _bind("glorot_normal", layout="lux", gain=gain),
    "kaiming_uniform": _l_gain("kaiming_uniform"),
    "kaiming_normal": _l_gain("kaiming_normal"),
    "truncated_normal": lambda mean=0.0, std=1.0, lo=-2.0, hi=2.0: _bind(
        "truncated_normal", mean=mean, std=std, lo=lo, hi=hi),
    "orthogonal": lambda gain=1.0: _bind("orthogonal", layout="lux", gain=gain),
    "sparse_init": lambda sparsity=None, std=0.01: _bind("sparse", sparsity=sparsity, std=std),
    "identity_init": lambda gain=1.0, shift=0: _bind("identity", gain=gain, shift=shift),
}
LUX.update({name: (lambda name=name: _bind(name)) for name in ini.LUX_FAMILY})


# --- Keraflow --------------------------------------------------------------------------------------

def _kf_uniform(scale=0.05):
    if not ck.real("scale", scale) > 0:
        raise ValueError(f"scale: must be > 0 (values in [-scale, scale)), got {ck.shown(scale)}")
    return _bind("uniform", low=-scale, high=scale)


KERAFLOW: dict[str, Callable[..., Initializer]] = {
    "uniform": _kf_uniform,
    "normal": lambda scale=0.05: _bind("normal", std=_std("scale", scale)),
    "lecun_uniform": lambda: _bind("lecun_uniform", layout="keraflow"),
    "glorot_normal": lambda: _bind("glorot_normal", layout="keraflow"),
    "glorot_uniform": lambda: _bind("glorot_uniform", layout="keraflow"),
    "he_normal": lambda: _bind("kaiming_normal", nonlinearity="relu", layout="keraflow"),
    "he_uniform": lambda: _bind("kaiming_uniform", nonlinearity="relu", layout="keraflow"),
    "orthogonal": lambda scale=1.1: _bind("orthogonal", gain=_real("scale", scale), layout="keraflow"),
    "identity": lambda scale=1.0: _bind("eye", gain=_real("scale", scale)),
    "zero": lambda: _bind("zeros"),
    "one": lambda: _bind("ones"),
}

#: every framework's names, each a factory taking the framework's own parameters
PRESETS: dict[str, dict[str, Callable[..., Initializer]]] = {
    "torch": TORCH, "keras": KERAS, "jax": JAX, "lux": LUX, "keraflow": KERAFLOW}


# --- get, serialize, deserialize -------------------------------------------------------------------

def _fastinit(name: str) -> str | None:
    name = ALIASES.get(name, name)
    return name if name in FUNCTIONS else None


def identifiers() -> list[str]:
    """Every string :func:`get` accepts."""
    names = list(KERAS) + [n for n in list(FUNCTIONS) + list(ALIASES) if n not in KERAS]
    names += [f"fastinit.{n}" for n in list(FUNCTIONS) + list(ALIASES)]
    names += [f"{fw}.{n}" for fw, table in PRESETS.items() for n in table]
    return names


def _unknown(identifier: str) -> ValueError:
    close = difflib.get_close_matches(identifier, identifiers(), n=5, cutoff=0.6) if len(identifier) <= 100 else []
    hint = f"; did you mean {', '.join(map(repr, close))}?" if close else ""
    return ValueError(f"identifier: unknown initializer {ck.shown(identifier)}{hint}")


def _factory(identifier: str) -> Callable[..., Initializer]:
    fw, dot, name = identifier.partition(".")
    if dot and fw == "fastinit" and _fastinit(name):
        return lambda **kw: Initializer(_fastinit(name), **kw)
    if dot and fw in PRESETS and name in PRESETS[fw]:
        return PRESETS[fw][name]
    if identifier in KERAS:
        return KERAS[identifier]
    if _fastinit(identifier):
        return lambda **kw: Initializer(_fastinit(identifier), **kw)
    raise _unknown(identifier)


def get(identifier: Any) -> Any:
    """The initializer an identifier names, as Keras' ``keras.initializers.get``.

    - a str: see the module docstring (Keras identifiers mean what Keras means by them;
      ``"<framework>.<name>"`` selects another framework's; ``"fastinit.<name>"`` fastinit's);
    - a dict: :func:`deserialize`;
    - an :class:`Initializer` or any other callable: returned as is;
    - ``None``: ``None``.

    Raises ``ValueError`` for an unknown name, listing the closest known ones.

    >>> fastinit.get("he_normal")
    fastinit.kaiming_normal(layout='keras')
    """
    if identifier is None or isinstance(identifier, Initializer):
        return identifier
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        return _factory(identifier)()
    if callable(identifier):
        return identifier
    raise TypeError(f"identifier: expected a str, a dict or a callable, got {ck.shown(identifier)}")


def serialize(initializer: Any) -> dict[str, Any]:
    """``{"class_name": "fastinit.<name>", "config": <parameters>}`` for an Initializer (or an
    identifier, resolved by :func:`get`), plain Python values only (JSON-ready);
    :func:`deserialize` gives it back. A ``numpy.random.Generator`` seed cannot be serialized
    (``TypeError``): use an int or a :class:`fastinit.Key`."""
    if isinstance(initializer, str):
        initializer = get(initializer)
    if not isinstance(initializer, Initializer):
        raise TypeError(f"initializer: expected a fastinit.Initializer or an identifier, got "
                        f"{ck.shown(initializer)}")
    if isinstance(initializer.params.get("seed"), np.random.Generator):
        raise TypeError("seed: a numpy.random.Generator cannot be serialized; bind an int or a "
                        "fastinit.Key")
    config = initializer.get_config()
    return {"class_name": "fastinit." + config.pop("name"), "config": config}


def deserialize(config: Any) -> Initializer:
    """The Initializer that a config describes: a :func:`serialize` dict, a Keras 3 dict
    (``keras.initializers.serialize``: ``{"class_name": "VarianceScaling", "config": {...}}``,
    its ``module`` and ``registered_name`` ignored), or an identifier string. ``class_name`` is
    an identifier as for :func:`get` (so ``"he_normal"`` is Keras', ``"fastinit.he_normal"``
    fastinit's), and ``config`` the parameters of what it names."""
    if isinstance(config, str):
        return get(config)
    if not isinstance(config, dict) or "class_name" not in config:
        raise ValueError(f"config: expected a dict with 'class_name' and 'config', got {ck.shown(config)}")
    name = config["class_name"]
    if not isinstance(name, str):
        raise ValueError(f"config: class_name must be a str, got {ck.shown(name)}")
    params = config.get("config") or {}
    if not isinstance(params, dict):
        raise TypeError(f"config: the 'config' entry must be a dict of parameters, got {ck.shown(params)}")
    bad = [k for k in params if not isinstance(k, str)]
    if bad:
        raise TypeError(f"config: parameter names must be str, got {ck.shown(bad[0])}")
    params = dict(params)
    factory = _factory(name)
    import inspect
    try:
        inspect.signature(factory).bind(**params)
    except TypeError:
        accepted = ", ".join(inspect.signature(factory).parameters) or "none"
        hint = "" if name.startswith("fastinit.") else (
            f"; for fastinit's own {ck.shown(name)} use class_name 'fastinit.{name.split('.')[-1]}'")
        raise TypeError(f"config: {ck.shown(name)} takes the parameters ({accepted}), got "
                        f"{ck.shown(sorted(params))}{hint}") from None
    return factory(**params)


# --- the README table ------------------------------------------------------------------------------

_HEADERS = {"torch": "torch", "keras": "Keras", "jax": "JAX", "lux": "WeightInitializers.jl",
            "keraflow": "Keraflow"}


def name_table() -> str:
    """The Markdown table "fastinit name | torch | Keras | JAX | WeightInitializers.jl |
    Keraflow" of every public initializer and each framework's names for it, from
    :data:`PRESETS` (README.md carries it; ``tests/test_registry.py`` checks they agree)."""
    cells: dict[str, dict[str, list[str]]] = {}
    for fw, table in PRESETS.items():
        for name, factory in table.items():
            target = factory().name
            cells.setdefault(target, {}).setdefault(fw, []).append(name)
    public = [n for n in FUNCTIONS]
    rows = ["| fastinit name | " + " | ".join(_HEADERS[fw] for fw in FRAMEWORKS) + " |",
            "|---" * (len(FRAMEWORKS) + 1) + "|"]
    aliases = {}
    for alias, target in ALIASES.items():
        aliases.setdefault(target, []).append(alias)
    for name in public:
        label = ", ".join(f"`{n}`" for n in [name] + aliases.get(name, []))
        row = [", ".join(f"`{n}`" for n in cells.get(name, {}).get(fw, [])) or "" for fw in FRAMEWORKS]
        rows.append(f"| {label} | " + " | ".join(row) + " |")
    return "\n".join(rows) + "\n"


def _check_presets() -> None:
    """Every preset builds (run by the tests)."""
    for fw, table in PRESETS.items():
        for name, factory in table.items():
            assert isinstance(factory(), Initializer), (fw, name)

