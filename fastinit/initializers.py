"""The initializers of PyTorch, Keras 3, JAX, WeightInitializers.jl and Keraflow, on fastinit's
fills: variance scaling (glorot, kaiming, lecun), orthogonal, identity, eye, dirac, stft and
WeightInitializers.jl's typed convenience family (``zeros32``, ``randn64``, ``randC32``, ...).

Every initializer has the foundation's shape ``f(*shape, <parameters>, dtype=None, seed=None,
out=None, rows=None, device=None)`` (see :mod:`fastinit.fills`; ``device="cuda"`` or a GPU
``out`` runs it on the GPU, with the same values), and the variance-scaling ones a ``layout``
that names the framework whose fan convention they follow (:func:`fastinit.fans.compute_fans`;
``"torch"`` by default). Called with parameters but no shape, an initializer returns an
:class:`fastinit.Initializer`.

Where the frameworks disagree, a parameter selects each one's behaviour:

- **Truncation.** A ``*_normal`` variance initializer is untruncated in torch and
  WeightInitializers.jl, truncated in Keras and JAX: ``truncated=None`` follows the layout's
  framework (truncated for ``"keras"`` and ``"jax"``). Truncated means Keras' and JAX's rule:
  values within two standard deviations, the standard deviation divided by
  :data:`TRUNCATED_STD` so the *truncated* distribution has the intended variance. torch's
  absolute bounds are :func:`fastinit.truncated_normal`.
- **"normal".** ``variance_scaling(distribution="normal")`` is truncated for ``layout="keras"``
  (Keras maps it to "truncated_normal") and untruncated otherwise (JAX).
- **Complex dtypes**: normal has independent parts (torch and JAX, :math:`E|v|^2` equal to the
  variance); uniform is JAX's disk under ``layout="jax"`` (:math:`E|v|^2` the variance) and
  torch's independent parts otherwise (:math:`E|v|^2` twice the variance, as torch); truncated
  normal is JAX's, the modulus cut at 2 and divided by :data:`COMPLEX_TRUNCATED_STD` (which
  leaves :math:`E|v|^2` at 1.0187 times the variance, exactly as in JAX).
- **Identity on n-D kernels** is WeightInitializers.jl's :func:`identity` (centre
  ``ceil(k/2)`` 1-based, last two axes (in, out)); torch's :func:`dirac` (centre ``k // 2``,
  first two axes (out, in)); Keras' and torch's 2-D-only :func:`eye`.
"""
from __future__ import annotations

import math
import numbers
import operator
import warnings
from typing import Any, Sequence

import numpy as np

from . import _checks as ck
from . import fills
from ._device import Array, Block, Device
from ._seeding import SeedLike, check_seed, seed64
from .fans import LAYOUTS, NONLINEARITIES as _NONLINEARITIES, Axes, calculate_gain, compute_fans
from .initializer import initializer
from .kernels.polar import DISK, TRUNCATED, polar_
from .kernels.uniform import fill_uniform

__all__ = [
    "variance_scaling", "glorot_uniform", "glorot_normal", "xavier_uniform", "xavier_normal",
    "kaiming_uniform", "kaiming_normal", "he_uniform", "he_normal", "lecun_uniform",
    "lecun_normal", "orthogonal", "delta_orthogonal", "identity", "eye", "dirac", "stft",
    "TRUNCATED_STD", "COMPLEX_TRUNCATED_STD", "MODES", "DISTRIBUTIONS", "HostFallbackWarning",
]

#: the standard deviation of N(0, 1) truncated to [-2, 2] (Keras, JAX)
TRUNCATED_STD = 0.87962566103423978
#: JAX's constant for the complex normal whose modulus is truncated at 2
COMPLEX_TRUNCATED_STD = 0.95311164380491208
MODES = ("fan_in", "fan_out", "fan_avg", "fan_geo_avg")
DISTRIBUTIONS = ("truncated_normal", "untruncated_normal", "normal", "uniform")
_TRUNCATING = ("keras", "jax")


# --- variance scaling ----------------------------------------------------------------------------

def _choice(name: str, value: Any, allowed: Sequence[str]) -> str:
    if not isinstance(value, str) or value not in allowed:
        raise ValueError(f"{name}: expected one of {', '.join(map(repr, allowed))}, got {ck.shown(value)}")
    return value


def _positive(name: str, value: Any) -> float:
    v = ck.real(name, value)
    if not v > 0:
        raise ValueError(f"{name}: must be > 0, got {ck.shown(value)}")
    return v


def _truncated(truncated: Any, layout: str) -> bool:
    if truncated is None:
        return layout in _TRUNCATING
    if not isinstance(truncated, (bool, np.bool_)):
        raise TypeError(f"truncated: expected True, False or None, got {ck.shown(truncated)}")
    return bool(truncated)


def _gain(gain: Any, nonlinearity: Any, a: Any) -> float:
    if gain is not None:
        return _positive("gain", gain)
    a_ = ck.real("a", a)  # finite, and a Python float as calculate_gain wants
    try:
        return float(calculate_gain(_choice("nonlinearity", nonlinearity, _NONLINEARITIES), a_))
    except OverflowError:  # a**2 beyond float64 (torch raises OverflowError too)
        raise ValueError(f"a: {ck.shown(a)} is too large: a**2 in the leaky_relu gain "
                         f"sqrt(2 / (1 + a**2)) overflows") from None


def _gain_scale(gain: float, *, power: bool = False) -> float:
    """``gain ** 2`` (``power``) or ``gain * gain``, the variance scale a gain gives; ``ValueError``
    naming ``gain`` when it overflows float64 (one that underflows to 0 gives zeros, see
    :func:`_draw`)."""
    try:
        s = gain ** 2 if power else gain * gain
    except OverflowError:
        s = math.inf
    if not math.isfinite(s):
        raise ValueError(f"gain: {ck.shown(gain)} is too large: gain**2, the variance scale, "
                         f"overflows float64")
    return s


def _check_axes(in_axis=None, out_axis=None, batch_axis=None, input_axes=None, output_axes=None,
                **_):
    """The checks of the explicit axes that need no shape: ints or sequences of ints, JAX's and
    Keras' kinds not mixed, Keras' both or neither (their ranges need the shape)."""
    given = dict(in_axis=in_axis, out_axis=out_axis, batch_axis=batch_axis, input_axes=input_axes,
                 output_axes=output_axes)
    for name, axes in given.items():
        if axes is None:
            continue
        if isinstance(axes, (numbers.Integral, np.integer)) and not isinstance(axes, (bool, np.bool_)):
            continue
        try:
            items = tuple(axes) if not isinstance(axes, (str, bytes, dict)) else None
        except Exception:
            items = None
        if items is None or any(isinstance(ax, (bool, np.bool_)) or not isinstance(ax, numbers.Integral)
                                for ax in items):
            raise TypeError(f"{name}: expected an int or a sequence of ints, got {ck.shown(axes)}")
    jax_axes = (in_axis, out_axis, batch_axis) != (None, None, None)
    keras_axes = (input_axes, output_axes) != (None, None)
    if jax_axes and keras_axes:
        raise ValueError("in_axis/out_axis/batch_axis (JAX) and input_axes/output_axes (Keras) "
                         "exclude each other")
    if keras_axes and (input_axes is None or output_axes is None):
        raise ValueError(f"input_axes, output_axes: give both or neither, got "
                         f"input_axes={ck.shown(input_axes)}, output_axes={ck.shown(output_axes)}")


def _check_variance(scale=1.0, mode="fan_in", distribution="truncated_normal", layout="torch",
                    **params):
    _positive("scale", scale)
    _choice("mode", mode, MODES)
    _choice("distribution", distribution, DISTRIBUTIONS)
    _choice("layout", layout, LAYOUTS)
    _check_axes(**params)


def _check_family(gain=None, nonlinearity="leaky_relu", a=0.0, mode="fan_in", truncated=None,
                  layout="torch", **params):
    g = _gain(gain, nonlinearity, a)
    _gain_scale(g)
    _choice("mode", mode, MODES)
    _truncated(truncated, _choice("layout", layout, LAYOUTS))
    _check_axes(**params)


def _variance(shape: tuple, out: Any, mode: str, layout: str, axes: dict) -> float:
    """1 / the fan that ``mode`` names, for the full tensor (Keras: the fan at least 1); an
    empty tensor has nothing to scale (torch returns it untouched)."""
    full = ck.shape_from(shape, out)
    if math.prod(full) == 0:  # nothing to scale; the axes are still checked
        if len(full) >= 2 or layout not in ("torch", "jax"):
            compute_fans(full, layout, **axes)
        return 1.0
    fan_in, fan_out = compute_fans(full, layout, **axes)
    fan = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2,
           "fan_geo_avg": math.sqrt(fan_in * fan_out)}[mode]
    if layout == "keras" or axes.get("input_axes") is not None:  # Keras' max(1, n)
        fan = max(1.0, fan)
    if not fan > 0:
        raise ValueError(f"shape: {mode} is {fan} for shape {ck.shown(full)} under layout={ck.shown(layout)}; "
                         f"variance scaling needs a positive fan")
    return 1.0 / fan


def _scaled(shape: tuple, scale: float, mode: Any, distribution: Any, layout: Any, axes: dict, *,
            name: str, value: Any, dtype: Any, seed: SeedLike, out: Any, rows: Any,
            block: Any, device: Any) -> Array:
    """:func:`variance_scaling` with a checked ``scale`` (> 0): the variance initializers' common
    path. ``name`` and ``value`` are the user's parameter that set the scale (``scale``, or
    ``gain`` for glorot and kaiming), which the errors about the values' size name."""
    mode = _choice("mode", mode, MODES)
    distribution = _choice("distribution", distribution, DISTRIBUTIONS)
    layout = _choice("layout", layout, LAYOUTS)
    if distribution == "normal":
        distribution = "truncated_normal" if layout == "keras" else "untruncated_normal"
    variance = scale * _variance(shape, out, mode, layout, axes)
    return _draw(shape, variance, distribution, layout, name=name, value=value, dtype=dtype,
                 seed=seed, out=out, rows=rows, block=block, device=device)


def _draw(shape: tuple, variance: float, distribution: str, layout: str, *, name: str, value: Any,
          dtype: Any, seed: SeedLike, out: Any, rows: Any, block: Any, device: Any) -> Array:
    """Values of variance ``variance`` from ``distribution`` ("truncated_normal",
    "untruncated_normal" or "uniform"); for complex dtypes JAX's variants (the uniform disk
    only under ``layout="jax"``; torch's independent uniform parts otherwise). Values that the
    dtype cannot hold raise ``ValueError`` naming ``name`` (the user's parameter, ``value``)
    before anything is written."""
    dt = ck.dtype_from(dtype, out, ck.ALL_DTYPES)
    part = np.finfo(dt).dtype  # the dtype of each real or imaginary part
    std = math.sqrt(variance)
    if not std > 0:  # the variance underflowed float64: zeros, as Keras and JAX give (std 0)
        t = fills._Target(shape, dtype, out, rows, ck.ALL_DTYPES, device=device, block=block)
        seed64(seed)  # drawn as the random fills draw it, so that later unseeded calls do not shift
        return t.constant(0)
    jax_complex = distribution == "truncated_normal" or (distribution == "uniform" and layout == "jax")
    if dt.kind == "c" and jax_complex:
        if distribution == "uniform":  # the disk of radius sqrt(2) std
            kind, c, scale, reach = DISK, 0.0, std, std * math.sqrt(2.0)
        else:  # the modulus cut at 2 scale
            kind, c, scale = TRUNCATED, -math.expm1(-4.0), std / COMPLEX_TRUNCATED_STD
            reach = 2.0 * scale
        ck.fits(name, reach, part, value)  # the polar kernel computes in the part's precision
        t = fills._Target(shape, dtype, out, rows, ck.ALL_DTYPES, device=device, block=block)
        t.fill(seed, fill_uniform, *fills.uniform_params(0.0, 1.0, dt))
        t.run(polar_, kind, c, scale)
        return t.result()
    if distribution == "truncated_normal":
        s = std / TRUNCATED_STD
        ck.fits(name, 2.0 * s, dt, value)
        return fills.truncated_normal(*shape, std=s, lo=-2.0 * s, hi=2.0 * s, dtype=dt, seed=seed,
                                      out=out, rows=rows, block=block, device=device)
    if distribution == "untruncated_normal":
        ck.fits(name, fills.Z_MAX * (std / math.sqrt(2.0) if dt.kind == "c" else std), part, value)
        return fills.normal(*shape, std=std, dtype=dt, seed=seed, out=out, rows=rows, block=block, device=device)
    limit = math.sqrt(3.0 * variance)
    ck.fits(name, limit, part, value)
    try:
        fills.uniform_params(-limit, limit, dt)
    except ValueError:  # high - low = 2 limit beyond the precision the values are computed in
        raise ValueError(f"{name}: {ck.shown(value)} gives values in [-{limit:g}, {limit:g}), too wide "
                         f"an interval for {dt.name} (its width must be a finite float)") from None
    return fills.uniform(*shape, low=-limit, high=limit, dtype=dt, seed=seed, out=out, rows=rows, block=block, device=device)


_AXES_DOC = """
    layout : {"torch", "keras", "jax", "lux", "keraflow"}
        The weight layout that gives fan_in and fan_out (:func:`fastinit.fans.compute_fans`);
        ``"torch"`` (out, in, *kernel) by default.
    in_axis, out_axis, batch_axis : int or sequence of int, optional
        JAX's explicit axes; override ``layout``.
    input_axes, output_axes : sequence of int, optional
        Keras 3's explicit axes (both or neither); override ``layout``."""

_COMMON_DOC = """
    dtype : dtype, optional
        float16, bfloat16, float32 (default), float64, complex64 or complex128.
    seed : int, fastinit.Key, numpy.random.Generator or None
        See :func:`fastinit.seed`.
    out : numpy.ndarray or GPU array, optional
        Filled in place and returned (a GPU array: anything with ``__cuda_array_interface__``).
    rows : slice, optional
        Only these leading-axis rows of the full tensor (the fans are those of the full shape).
    block : tuple of slice, optional
        Only this N-d block of the full tensor, ``full[block]`` (the fans are those of the full
        shape); not with ``rows``.
    device : {None, "cpu", "cuda", "cuda:N"}, optional
        Where to make the tensor (:func:`fastinit.uniform`); ``None``: ``out``'s device, else the
        host."""


def _doc(f):
    f.__doc__ = f.__doc__.replace("    {axes}", _AXES_DOC.strip("\n")).replace("    {common}", _COMMON_DOC.strip("\n"))
    return f


@initializer(check=_check_variance)
@_doc
def variance_scaling(*shape: int, scale: float = 1.0, mode: str = "fan_in",
                     distribution: str = "truncated_normal", layout: str = "torch",
                     in_axis: Axes = None, out_axis: Axes = None, batch_axis: Axes = None,
                     input_axes: Axes = None, output_axes: Axes = None, dtype: Any = None,
                     seed: SeedLike = None, out: Array | None = None,
                     rows: slice | None = None, block: Block = None, device: Device = None) -> Array:
    r"""Values whose variance adapts to the tensor's fans, as Keras 3's and JAX's
    ``variance_scaling`` (Keras' defaults).

    .. math::
        \sigma^2 = \frac{scale}{n}, \qquad n = fan_{in},\ fan_{out},\
        \frac{fan_{in} + fan_{out}}{2} \text{ or } \sqrt{fan_{in} fan_{out}} \text{ (mode)}

    - ``"truncated_normal"``: :math:`\mathcal{N}(0, s^2)` restricted to :math:`[-2s, 2s]`,
      :math:`s = \sigma / 0.87962566103423978`, so the values' standard deviation is
      :math:`\sigma` (Keras, JAX);
    - ``"untruncated_normal"``: :math:`\mathcal{N}(0, \sigma^2)`;
    - ``"uniform"``: :math:`U[-\sqrt{3}\sigma, \sqrt{3}\sigma)`;
    - ``"normal"``: ``"truncated_normal"`` for ``layout="keras"`` (Keras' mapping), else
      ``"untruncated_normal"`` (JAX's meaning).

    For complex dtypes: normal has independent parts of variance :math:`\sigma^2/2` (torch and
    JAX); truncated normal is JAX's, modulus :math:`|v| \le 2 s`,
    :math:`s = \sigma / 0.95311164380491208`, from :math:`|v|^2/s^2 \sim Exp(1)` truncated at 4
    and a uniform angle; uniform is JAX's disk of radius :math:`\sqrt{2}\sigma`
    (:math:`E|v|^2 = \sigma^2`) under ``layout="jax"``, and otherwise torch's independent
    parts on :math:`[-\sqrt{3}\sigma, \sqrt{3}\sigma)` (:math:`E|v|^2 = 2\sigma^2`, as
    ``torch.nn.init.kaiming_uniform_`` on a complex tensor).

    Under ``layout="keras"`` or with Keras' ``input_axes``/``output_axes`` the fan is at least 1
    (Keras' ``max(1, n)``); otherwise a zero fan raises. An empty tensor is returned as it is
    (torch's rule). Glorot, kaiming and lecun are special cases.

    Parameters
    ----------
    *shape : int or tuple of int
        The tensor's shape; left out, ``out.shape`` (and with no ``out``, an Initializer).
    scale : float
        ``> 0``.
    mode : {"fan_in", "fan_out", "fan_avg", "fan_geo_avg"}
    distribution : {"truncated_normal", "untruncated_normal", "normal", "uniform"}
    {axes}
    {common}

    Returns
    -------
    numpy.ndarray, a numba device array (``device="cuda"``) or ``out``

    Examples
    --------
    >>> w = fastinit.variance_scaling(3, 3, 64, 128, scale=2.0, layout="keras", seed=0)  # Keras HeNormal
    """
    checked = _positive("scale", scale)
    return _scaled(shape, checked, mode, distribution, layout, _axes_of(locals()), name="scale",
                   value=scale, dtype=dtype, seed=seed, out=out, rows=rows, block=block, device=device)


def _axes_of(params: dict) -> dict:
    """The explicit-axes parameters of a variance initializer's call."""
    return {k: params[k] for k in ("in_axis", "out_axis", "batch_axis", "input_axes", "output_axes")}


def _normal_kind(truncated: Any, layout: str) -> str:
    return "truncated_normal" if _truncated(truncated, layout) else "untruncated_normal"


@initializer(check=_check_family)
@_doc
def glorot_uniform(*shape: int, gain: float = 1.0, layout: str = "torch", in_axis: Axes = None,
                   out_axis: Axes = None, batch_axis: Axes = None, input_axes: Axes = None,
                   output_axes: Axes = None, dtype: Any = None, seed: SeedLike = None,
                   out: Array | None = None, rows: slice | None = None, block: Block = None, device: Device = None) -> Array:
    r"""Glorot (Xavier) uniform: :math:`U[-b, b)` with

    .. math::
        b = gain \cdot \sqrt{\frac{6}{fan_{in} + fan_{out}}}

    Glorot & Bengio (2010), "Understanding the difficulty of training deep feedforward neural
    networks". ``variance_scaling(scale=gain**2, mode="fan_avg", distribution="uniform")``.
    Also known as ``xavier_uniform``: torch ``xavier_uniform_``, Keras ``GlorotUniform``
    (``layout="keras"``), JAX ``glorot_uniform`` (``"jax"``), WeightInitializers.jl
    ``glorot_uniform`` (``"lux"``), Keraflow ``glorot_uniform`` (``"keraflow"``).

    Parameters
    ----------
    *shape : int or tuple of int
        The tensor's shape; left out, ``out.shape`` (and with no ``out``, an Initializer).
    gain : float
        ``> 0``, default 1.
    {axes}
    {common}
    """
    scale = _gain_scale(_positive("gain", gain), power=True)
    return _scaled(shape, scale, "fan_avg", "uniform", layout, _axes_of(locals()), name="gain",
                   value=gain, dtype=dtype, seed=seed, out=out, rows=rows, block=block, device=device)


@initializer(check=_check_family)
@_doc
def glorot_normal(*shape: int, gain: float = 1.0, truncated: bool | None = None,
                  layout: str = "torch", in_axis: Axes = None, out_axis: Axes = None,
                  batch_axis: Axes = None, input_axes: Axes = None, output_axes: Axes = None,
                  dtype: Any = None, seed: SeedLike = None, out: Array | None = None,
                  rows: slice | None = None, block: Block = None, device: Device = None) -> Array:
    r"""Glorot (Xavier) normal: standard deviation

    .. math::
        \sigma = gain \cdot \sqrt{\frac{2}{fan_{in} + fan_{out}}}

    :math:`\mathcal{N}(0, \sigma^2)` (torch ``xavier_normal_``, WeightInitializers.jl
    ``glorot_normal``, Keraflow) or, truncated, :math:`\mathcal{N}(0, s^2)` on
    :math:`[-2s, 2s]`, :math:`s = \sigma / 0.87962566103423978` (Keras ``GlorotNormal``, JAX
    ``glorot_normal``). ``variance_scaling(scale=gain**2, mode="fan_avg")``. Also known as
    ``xavier_normal``. Glorot & Bengio (2010).

    Parameters
    ----------
    *shape : int or tuple of int
        The tensor's shape; left out, ``out.shape`` (and with no ``out``, an Initializer).
    gain : float
        ``> 0``, default 1.
    truncated : bool or None
        ``None``: truncated for ``layout="keras"`` and ``"jax"``, untruncated otherwise.
    {axes}
    {common}
    """
    scale = _gain_scale(_positive("gain", gain), power=True)
    return _scaled(shape, scale, "fan_avg", _normal_kind(truncated, layout), layout,
                   _axes_of(locals()), name="gain", value=gain, dtype=dtype, seed=seed, out=out,
                   rows=rows, block=block, device=device)


@initializer(check=_check_family)
@_doc
def kaiming_uniform(*shape: int, a: float = 0.0, mode: str = "fan_in",
                    nonlinearity: str = "leaky_relu", gain: float | None = None,
                    layout: str = "torch", in_axis: Axes = None, out_axis: Axes = None,
                    batch_axis: Axes = None, input_axes: Axes = None, output_axes: Axes = None,
                    dtype: Any = None, seed: SeedLike = None, out: Array | None = None,
                    rows: slice | None = None, block: Block = None, device: Device = None) -> Array:
    r"""Kaiming (He) uniform: :math:`U[-b, b)` with

    .. math::
        b = gain \cdot \sqrt{\frac{3}{fan\_mode}}, \qquad
        gain = \text{calculate\_gain}(nonlinearity, a) \text{ unless given}

    He et al. (2015), "Delving deep into rectifiers". Two routes to the gain: torch's ``a``
    and ``nonlinearity`` (defaults: leaky_relu with slope 0, gain :math:`\sqrt{2}`), or
    WeightInitializers.jl's ``gain`` (default :math:`\sqrt{2}`), which overrides them. Also
    known as ``he_uniform`` (the string ``fastinit.get("he_uniform")`` is Keras' ``HeUniform``,
    ``layout="keras"``): torch ``kaiming_uniform_``, Keras ``HeUniform``
    (``layout="keras"``), JAX ``he_uniform`` (``"jax"``), WeightInitializers.jl
    ``kaiming_uniform`` (``"lux"``), Keraflow ``he_uniform`` (``"keraflow"``).

    Parameters
    ----------
    *shape : int or tuple of int
        The tensor's shape; left out, ``out.shape`` (and with no ``out``, an Initializer).
    a : float
        The negative slope of leaky_relu (torch's ``a``).
    mode : {"fan_in", "fan_out", "fan_avg", "fan_geo_avg"}
        Which fan; torch has fan_in (default) and fan_out.
    nonlinearity : str
        A :func:`fastinit.calculate_gain` name; default "leaky_relu".
    gain : float, optional
        ``> 0``; given, it replaces ``calculate_gain(nonlinearity, a)``.
    {axes}
    {common}
    """
    g = _gain(gain, nonlinearity, a)
    name, value = ("a", a) if gain is None else ("gain", gain)
    return _scaled(shape, _gain_scale(g), mode, "uniform", layout, _axes_of(locals()), name=name,
                   value=value, dtype=dtype, seed=seed, out=out, rows=rows, block=block, device=device)


@initializer(check=_check_family)
@_doc
def kaiming_normal(*shape: int, a: float = 0.0, mode: str = "fan_in",
                   nonlinearity: str = "leaky_relu", gain: float | None = None,
                   truncated: bool | None = None, layout: str = "torch", in_axis: Axes = None,
                   out_axis: Axes = None, batch_axis: Axes = None, input_axes: Axes = None,
                   output_axes: Axes = None, dtype: Any = None, seed: SeedLike = None,
                   out: Array | None = None, rows: slice | None = None, block: Block = None, device: Device = None) -> Array:
    r"""Kaiming (He) normal: standard deviation

    .. math::
        \sigma = \frac{gain}{\sqrt{fan\_mode}}, \qquad
        gain = \text{calculate\_gain}(nonlinearity, a) \text{ unless given}

    :math:`\mathcal{N}(0, \sigma^2)` (torch ``kaiming_normal_``, WeightInitializers.jl
    ``kaiming_normal``, Keraflow ``he_normal``) or, truncated, :math:`\mathcal{N}(0, s^2)` on
    :math:`[-2s, 2s]`, :math:`s = \sigma / 0.87962566103423978` (Keras ``HeNormal``, JAX
    ``he_normal``). He et al. (2015). Also known as ``he_normal``; note that the *string*
    ``fastinit.get("he_normal")`` is Keras' ``HeNormal`` (``layout="keras"``, truncated), as
    string identifiers follow Keras.

    Parameters
    ----------
    *shape : int or tuple of int
        The tensor's shape; left out, ``out.shape`` (and with no ``out``, an Initializer).
    a, mode, nonlinearity, gain
        As for :func:`kaiming_uniform`.
    truncated : bool or None
        ``None``: truncated for ``layout="keras"`` and ``"jax"``, untruncated otherwise.
    {axes}
    {common}
    """
    g = _gain(gain, nonlinearity, a)
    name, value = ("a", a) if gain is None else ("gain", gain)
    return _scaled(shape, _gain_scale(g), mode, _normal_kind(truncated, layout), layout,
                   _axes_of(locals()), name=name, value=value, dtype=dtype, seed=seed, out=out,
                   rows=rows, block=block, device=device)


@initializer(check=_check_family)
@_doc
def lecun_uniform(*shape: int, layout: str = "torch", in_axis: Axes = None, out_axis: Axes = None,
                  batch_axis: Axes = None, input_axes: Axes = None, output_axes: Axes = None,
                  dtype: Any = None, seed: SeedLike = None, out: Array | None = None,
                  rows: slice | None = None, block: Block = None, device: Device = None) -> Array:
    r"""LeCun uniform: :math:`U[-b, b)`, :math:`b = \sqrt{3 / fan_{in}}`.

    LeCun et al. (1998), "Efficient BackProp". ``variance_scaling(scale=1, mode="fan_in",
    distribution="uniform")``: Keras ``LecunUniform`` (``layout="keras"``), JAX
    ``lecun_uniform`` (``"jax"``), Keraflow ``lecun_uniform`` (``"keraflow"``).

    Parameters
    ----------
    *shape : int or tuple of int
        The tensor's shape; left out, ``out.shape`` (and with no ``out``, an Initializer).
    {axes}
    {common}
    """
    return variance_scaling(*shape, scale=1.0, mode="fan_in", distribution="uniform",
                            layout=layout, in_axis=in_axis, out_axis=out_axis,
                            batch_axis=batch_axis, input_axes=input_axes, output_axes=output_axes,
                            dtype=dtype, seed=seed, out=out, rows=rows, block=block, device=device)


@initializer(check=_check_family)
@_doc
def lecun_normal(*shape: int, truncated: bool | None = None, layout: str = "torch",
                 in_axis: Axes = None, out_axis: Axes = None, batch_axis: Axes = None,
                 input_axes: Axes = None, output_axes: Axes = None, dtype: Any = None,
                 seed: SeedLike = None, out: Array | None = None,
                 rows: slice | None = None, block: Block = None, device: Device = None) -> Array:
    r"""LeCun normal: standard deviation :math:`\sigma = \sqrt{1 / fan_{in}}`.

    :math:`\mathcal{N}(0, \sigma^2)`, or truncated, :math:`\mathcal{N}(0, s^2)` on
    :math:`[-2s, 2s]`, :math:`s = \sigma / 0.87962566103423978` (Keras ``LecunNormal`` with
    ``layout="keras"``, JAX ``lecun_normal`` with ``"jax"``). Klambauer et al. (2017),
    "Self-Normalizing Neural Networks". Only Keras and JAX define it, and both truncate: with
    the default ``layout="torch"`` it is untruncated, as torch's other ``*_normal``
    initializers; pass ``layout="keras"`` or ``"jax"`` for theirs.

    Parameters
    ----------
    *shape : int or tuple of int
        The tensor's shape; left out, ``out.shape`` (and with no ``out``, an Initializer).
    truncated : bool or None
        ``None``: truncated for ``layout="keras"`` and ``"jax"``, untruncated otherwise.
    {axes}
    {common}
    """
    return variance_scaling(*shape, scale=1.0, mode="fan_in",
                            distribution=_normal_kind(truncated, layout), layout=layout,
                            in_axis=in_axis, out_axis=out_axis, batch_axis=batch_axis,
                            input_axes=input_axes, output_axes=output_axes, dtype=dtype,
                            seed=seed, out=out, rows=rows, block=block, device=device)


xavier_uniform = glorot_uniform
xavier_normal = glorot_normal
he_uniform = kaiming_uniform
he_normal = kaiming_normal


# --- orthogonal ----------------------------------------------------------------------------------

def _check_orthogonal(gain=1.0, layout="torch", column_axis=None, dtype=None, **_):
    g = ck.real("gain", gain)
    if dtype is not None:
        ck.fits("gain", g, np.dtype(dtype))
    _choice("layout", layout, LAYOUTS)
    if column_axis is not None and (isinstance(column_axis, bool) or
                                    not isinstance(column_axis, (numbers.Integral, np.integer))):
        raise TypeError(f"column_axis: expected an int, got {ck.shown(column_axis)}")


@initializer(check=_check_orthogonal)
def orthogonal(*shape: int, gain: float = 1.0, layout: str = "torch", column_axis: int | None = None,
               dtype: Any = None, seed: SeedLike = None, out: Array | None = None,
               rows: slice | None = None, block: Block = None, device: Device = None) -> Array:
    r"""A (semi-)orthogonal matrix, scaled by ``gain``, reshaped to ``shape``.

    The tensor is flattened to a matrix :math:`m \times n`: ``layout="torch"`` and
    ``"keraflow"`` keep the first axis, :math:`m = shape[0]`, :math:`n = \prod shape[1:]`
    (torch ``orthogonal_``, Keraflow ``orthogonal``); ``"keras"``, ``"jax"`` and ``"lux"`` keep
    the last, :math:`m = \prod shape[:-1]`, :math:`n = shape[-1]` (Keras ``Orthogonal``, JAX
    ``orthogonal``, WeightInitializers.jl ``orthogonal``); JAX's ``column_axis`` keeps that
    axis as the columns instead. With :math:`A` a standard normal :math:`m \times n` matrix
    (:func:`fastinit.normal`, same seed), the long side is the QR's:

    .. math::
        m \ge n:\ A = QR,\ W = gain \cdot Q\,\mathrm{sign}(\mathrm{diag} R); \qquad
        m < n:\ A^T = QR,\ W = gain \cdot (Q\,\mathrm{sign}(\mathrm{diag} R))^T

    so :math:`W^T W = gain^2 I` (:math:`m \ge n`) or :math:`W W^T = gain^2 I`, and :math:`W` is
    Haar-distributed (Saxe et al. 2014; Mezzadri 2007 for the sign correction). Complex dtypes
    give unitary matrices (:math:`\mathrm{sign}(d) = d/|d|`).

    The QR is LAPACK's (``?geqrf``/``?orgqr``, or ``?gelqf``/``?orglq``), run in place on the
    output on one BLAS thread: no copy of the matrix is made, float32 stays float32. float16,
    ``rows=``, ``block=`` and a ``column_axis`` other than the last work on a float32 (or the
    dtype's) scratch matrix of the full size: orthogonality is a property of the whole matrix, so
    a block is exact but costs the whole computation. The Gaussian matrix is bit-identical everywhere; the
    QR does not depend on the thread count, and may differ in the last bits between LAPACK
    builds.

    On the GPU (``device="cuda"`` or a GPU ``out``) the Gaussian matrix is the same, made on the
    GPU, and the QR is cuSOLVER's through CuPy when CuPy is installed: the result equals the
    host's to rounding (about 1e-6 in float32), not bit for bit, as two QR implementations
    round differently. Without CuPy the host computes it and copies it over, with a
    :class:`HostFallbackWarning`.

    Parameters
    ----------
    *shape : int or tuple of int
        At least 2 dimensions; left out, ``out.shape`` (and with no ``out``, an Initializer).
    gain : float
        The scale, default 1 (Keraflow's ``orthogonal`` uses 1.1).
    layout : {"torch", "keras", "jax", "lux", "keraflow"}
        Which axis is kept when flattening (above); ``"torch"`` by default.
    column_axis : int, optional
        JAX's: the axis whose length is the matrix's column count; overrides ``layout``.
    dtype, seed, out, rows, block, device
        As for :func:`variance_scaling`.

    Examples
    --------
    >>> w = fastinit.orthogonal(512, 256, seed=0)
    >>> bool(np.allclose(w.T @ w, np.eye(256), atol=1e-5))
    True
    """
    from ._lapack import MAX_DIM, orthonormalize
    gain = ck.real("gain", gain)
    layout = _choice("layout", layout, LAYOUTS)
    full = ck.shape_from(shape, out)
    if len(full) < 2:
        raise ValueError(f"shape: orthogonal needs at least 2 dimensions, got {ck.shown(full)}")
    t = fills._Target(shape, dtype, out, rows, ck.ALL_DTYPES, device=device, block=block)
    dt = t.dtype
    ck.fits("gain", gain, dt)  # |W| <= |gain|
    if column_axis is not None:
        ax = _axis("column_axis", column_axis, len(full))
        moved = full[:ax] + full[ax + 1:] + (full[ax],)
    else:
        ax = len(full) - 1
        moved = full
    if column_axis is None and layout in ("torch", "keraflow"):
        m, n = full[0], math.prod(full[1:])
    else:
        m, n = math.prod(moved[:-1]), moved[-1]
    if max(m, n) > MAX_DIM:
        raise ValueError(f"shape: LAPACK takes matrices up to {MAX_DIM} rows and columns; "
                         f"{ck.shown(full)} flattens to {m} x {n}")
    s = seed64(seed)
    work_dt = np.dtype(np.float32) if ck.bits16(dt) is not None else dt
    if t.device is not None:
        cupy = _cupy()
        if cupy is not None:
            return _orthogonal_cupy(cupy, t, int(s), moved, ax, m, n, gain, work_dt)
        warnings.warn(f"orthogonal: CuPy is not installed, so the QR of the {m} x {n} matrix runs on "
                      f"the host (LAPACK) and the result is copied to {t.device}; install CuPy to run "
                      f"it on the GPU (cuSOLVER)", HostFallbackWarning, stacklevel=3)
    in_place = (t.device is None and t.shape == full and work_dt == dt and ax == len(full) - 1
                and not t.strided)  # a non-contiguous torch tensor: through the scratch matrix
    a = t.array() if in_place else np.empty(moved, work_dt)
    if a.size:
        fills.normal(out=a, seed=int(s))
        orthonormalize(a.reshape(m, n))
        if gain != 1.0:
            a *= a.dtype.type(gain)
    if in_place:
        return t.result()  # out itself (a numpy subclass was filled through an ndarray view)
    return t.assign(np.moveaxis(a, -1, ax)[t.slices])


class HostFallbackWarning(UserWarning):
    """A GPU call computed on the host and copied its result to the GPU (``orthogonal`` without
    CuPy)."""


def _cupy():
    """CuPy, or None where it is not installed (or not usable: no CUDA runtime)."""
    try:
        import cupy
        usable = cupy.cuda.is_available()
    except Exception:  # ImportError, or CuPy present without a usable CUDA runtime
        return None
    return cupy if usable else None


def _orthogonal_cupy(cp, t: "fills._Target", seed: int, moved: tuple, ax: int, m: int, n: int,
                     gain: float, work_dt: np.dtype) -> Array:
    """:func:`orthogonal` on the GPU: the same Gaussian matrix (our GPU normal fill), then
    cuSOLVER's QR through CuPy, with the host path's sign correction and layout."""
    whole = t.shape == moved and work_dt == t.dtype  # the Gaussian matrix can be made in the output
    g = fills.normal(moved, dtype=work_dt, seed=seed, device=t.device, out=t.array() if whole else None)
    with t.gpu.arrays.context(t.device):
        t.gpu.arrays.finish(g, always=True)  # numba's stream -> CuPy's, which may be another
        a = cp.asarray(g).reshape(m, n)
        tall = m >= n
        if a.size:
            q, r = cp.linalg.qr(a if tall else a.T)
            d = cp.diagonal(r).copy()
            mag = cp.abs(d)
            d = cp.where(mag > 0, d / cp.where(mag > 0, mag, 1), 1).astype(work_dt)  # sign(0) = 1
            q *= d[None, :]
            w = q if tall else q.T
            if gain != 1.0:
                w *= work_dt.type(gain)
            a = w
        w = cp.moveaxis(a.reshape(moved), -1, ax)[t.slices]
        if ck.is_bfloat16(t.dtype):  # CuPy has no bfloat16: its bits, rounded as the kernels do
            out = cp.asarray(t.array().view(np.int16))
            out[...] = _bf16_bits(cp, w)
        else:
            out = cp.asarray(t.array())
            out[...] = w
        t.gpu.arrays.finish(out, always=True)  # CuPy's stream -> the caller's
    return t.result()


def _bf16_bits(xp, a):
    """The finite float32 array ``a`` rounded to bfloat16 (nearest, ties to even), as int16 bits
    (``kernels.bits.f32_to_bf16_bits`` for CuPy or numpy arrays)."""
    b = xp.ascontiguousarray(a, dtype=xp.float32).view(xp.uint32)
    return ((b + xp.uint32(0x7FFF) + ((b >> 16) & xp.uint32(1))) >> 16).astype(xp.uint16).view(xp.int16)


def _axis(name: str, axis: Any, ndim: int) -> int:
    if isinstance(axis, bool) or not isinstance(axis, (numbers.Integral, np.integer)):
        raise TypeError(f"{name}: expected an int, got {ck.shown(axis)}")
    if not -ndim <= axis < ndim:
        raise ValueError(f"{name}: axis {axis} is out of range for {ndim} dimensions")
    return int(axis) % ndim


def _check_delta_orthogonal(gain=1.0, column_axis=-1, dtype=None, **_):
    g = ck.real("gain", gain)
    if dtype is not None:
        ck.fits("gain", g, np.dtype(dtype))
    _axis("column_axis", column_axis, 2)


@initializer(check=_check_delta_orthogonal)
def delta_orthogonal(*shape: int, gain: float = 1.0, column_axis: int = -1, dtype: Any = None,
                     seed: SeedLike = None, out: Array | None = None,
                     rows: slice | None = None, block: Block = None, device: Device = None) -> Array:
    r"""JAX's ``delta_orthogonal`` (Xiao et al. 2018, "Dynamical Isometry and a Mean Field
    Theory of CNNs"): a convolution kernel ``(*kernel, in, out)`` that is zero except at the
    kernel's centre, where it is an orthogonal ``in x out`` matrix:

    .. math::
        W[c_1, \ldots, c_k, :, :] = \text{orthogonal}((in, out), gain, column\_axis),
        \qquad c_j = (k_j - 1) // 2

    3-D to 5-D shapes with ``in <= out`` (JAX's rules). The matrix is :func:`orthogonal`'s with
    the same seed and ``layout="jax"``.

    Parameters
    ----------
    *shape : 3 to 5 ints, or one tuple
        Left out, ``out.shape`` (and with no ``out``, an Initializer).
    gain : float
        JAX's ``scale``, default 1.
    column_axis : int
        Of the ``(in, out)`` matrix, default -1.
    dtype, seed, out, rows, block, device
        As for :func:`orthogonal`.
    """
    gain = ck.real("gain", gain)
    t = fills._Target(shape, dtype, out, rows, ck.ALL_DTYPES, device=device, block=block)
    full = t.full
    if not 3 <= len(full) <= 5:
        raise ValueError(f"shape: delta_orthogonal needs 3, 4 or 5 dimensions, got {ck.shown(full)}")
    if full[-1] < full[-2]:
        raise ValueError(f"shape: delta_orthogonal needs in <= out (shape[-2] <= shape[-1]), "
                         f"got {ck.shown(full)}")
    _axis("column_axis", column_axis, 2)
    q = orthogonal(full[-2:], gain=gain, layout="jax", column_axis=column_axis, dtype=t.dtype,
                   seed=seed)  # on the host: one in x out matrix of the kernel's
    i, j = np.indices(q.shape)
    centre = tuple(np.full(q.size, (k - 1) // 2) for k in full[:-2])
    return t.scatter(centre + (i.ravel(), j.ravel()), q.ravel())


# --- deterministic patterns ----------------------------------------------------------------------

def _value(name: str, value: Any, dt: np.dtype) -> Any:
    if dt.kind in "iub":  # integer and bool tensors, as torch's eye_ and dirac_ fill them
        return fills._int_value(name, value, dt)
    v = ck.real(name, value)
    ck.fits(name, v, dt)
    return v


def _shifts(shift: Any) -> tuple:
    """``shift`` as (s0, s1 or None), Python ints of any size: an int, or a pair of ints (a
    tuple or a list)."""
    given = tuple(shift) if isinstance(shift, (tuple, list)) and len(shift) == 2 else (shift,)
    for s in given:
        if isinstance(s, (bool, np.bool_)) or not isinstance(s, (numbers.Integral, np.integer)):
            raise TypeError(f"shift: expected an int or a pair of ints, got {ck.shown(shift)}")
    shifts = tuple(operator.index(s) for s in given)
    return shifts if len(shifts) == 2 else (shifts[0], None)


def _check_identity(gain=1.0, shift=0, dtype=None, **_):
    if dtype is not None:
        _value("gain", gain, np.dtype(dtype))
    else:
        ck.real("gain", gain)
    _shifts(shift)


def _check_dirac(groups=1, **_) -> int:
    if isinstance(groups, (bool, np.bool_)) or not isinstance(groups, (numbers.Integral, np.integer)):
        raise TypeError(f"groups: expected an int, got {ck.shown(groups)}")
    if groups < 1:
        raise ValueError(f"groups: must be >= 1, got {ck.shown(groups)}")
    return operator.index(groups)


def _rows_of(t: "fills._Target") -> np.ndarray:
    """The leading-axis indices of the rows a call asked for (full-tensor coordinates): the
    patterns below index only those, so that their index arrays never outgrow the output."""
    return np.arange(*t.box[0], dtype=np.int64)


@initializer(check=_check_identity, dtypes=ck.CONSTANT_DTYPES)
def identity(*shape: int, gain: float = 1.0, shift: int | tuple[int, int] = 0, dtype: Any = None,
             seed: SeedLike = None, out: Array | None = None,
             rows: slice | None = None, block: Block = None, device: Device = None) -> Array:
    r"""An identity mapping, WeightInitializers.jl's ``identity_init``: ``gain`` on a diagonal,
    zeros elsewhere, circularly shifted.

    - 1-D: zeros (a bias).
    - 2-D ``(rows, cols)``: :math:`W_{ii} = gain` for :math:`i < \min(rows, cols)`, then
      ``numpy.roll(W, shift, axis=0)`` (Julia's ``circshift(W, shift)``).
    - n-D ``(*kernel, in, out)``: :math:`W[c_1, \ldots, c_k, i, i] = gain` at the kernel's
      centre :math:`c_j = \lceil k_j / 2 \rceil - 1` (0-based; for odd sizes the middle), for
      :math:`i < \min(in, out)`, then rolled by ``shift`` along both of the last two axes.

    ``shift`` may also be a pair ``(s_rows, s_cols)``: for 2-D it rolls axis 0 by the first and
    axis 1 by the second, for n-D the last two axes. Unlike WeightInitializers.jl 1.x, whose 2-D
    case fills the whole :math:`\min \times \min` block with ``gain`` (its own doctest shows a
    5 x 5 matrix of ones), this is the identity its documentation describes (and earlier
    releases computed). ``seed`` is accepted and ignored, as the ``rng`` argument there.
    torch's :func:`dirac` centres kernels at ``k // 2`` instead, on (out, in, *kernel).

    Parameters
    ----------
    *shape : int or tuple of int
        At least 1 dimension; left out, ``out.shape`` (and with no ``out``, an Initializer).
    gain : float
        The diagonal's value, default 1.
    shift : int or (int, int)
        Circular shift, default 0.
    dtype : dtype, optional
        float16, bfloat16, float32 (default), float64, complex64 or complex128; also the
        integer dtypes and bool (as for :func:`eye` and :func:`dirac`, and torch's ``eye_`` and
        ``dirac_``), ``gain`` then truncated toward zero.
    seed, out, rows, block
        As for :func:`variance_scaling`; ``seed`` is ignored.
    """
    t = fills._Target(shape, dtype, out, rows, ck.CONSTANT_DTYPES, device=device, block=block)
    gain = _value("gain", gain, t.dtype)
    shifts = _shifts(shift)
    check_seed(seed)
    full = t.full
    if len(full) == 0:
        raise ValueError("shape: identity needs at least 1 dimension, got ()")
    if len(full) == 1 or math.prod(t.shape) == 0:  # a bias, or nothing to write
        return t.scatter((np.empty(0, np.int64),), 0)
    k = min(full[-2], full[-1])
    s0, s1 = shifts
    if len(full) == 2:  # W[(i + s0) % m, (i + s1) % n] = gain, i < k: row r has i = (r - s0) % m
        s0, s1 = s0 % full[0], (0 if s1 is None else s1) % full[1]
        r = _rows_of(t)
        i = (r - s0) % full[0]
        keep = i < k
        index = (r[keep], (i[keep] + s1) % full[1])
    else:  # the output's rows hold at least in * out >= k elements each
        s1 = (s0 if s1 is None else s1) % full[-1]
        s0 %= full[-2]
        diag = np.arange(k, dtype=np.int64)
        centres = tuple(np.full(k, (d + 1) // 2 - 1) for d in full[:-2])
        index = centres + ((diag + s0) % full[-2], (diag + s1) % full[-1])
    return t.scatter(index, gain)


@initializer(check=_check_identity, dtypes=ck.CONSTANT_DTYPES)
def eye(*shape: int, gain: float = 1.0, dtype: Any = None, seed: SeedLike = None,
        out: Array | None = None, rows: slice | None = None, block: Block = None, device: Device = None) -> Array:
    r"""The 2-D identity matrix times ``gain``: :math:`W_{ii} = gain`, :math:`i < \min(m, n)`,
    zeros elsewhere.

    torch ``eye_`` (``gain=1``) and Keras ``Identity(gain)``; both accept only 2-D tensors.
    Keraflow's ``identity(scale)`` is this on square matrices. ``seed`` is ignored.

    Parameters
    ----------
    *shape : two ints, or one 2-tuple
        Left out, ``out.shape`` (and with no ``out``, an Initializer).
    gain : float
        Default 1.
    dtype, seed, out, rows, block, device
        As for :func:`identity`.
    """
    t = fills._Target(shape, dtype, out, rows, ck.CONSTANT_DTYPES, device=device, block=block)
    if len(t.full) != 2:
        raise ValueError(f"shape: eye needs exactly 2 dimensions, got {ck.shown(t.full)}")
    check_seed(seed)
    gain = _value("gain", gain, t.dtype)
    k = min(t.full)
    diag = np.arange(min(t.box[0][0], k), min(t.box[0][1], k), dtype=np.int64)  # rows asked for
    return t.scatter((diag, diag), gain)


@initializer(check=_check_dirac, dtypes=ck.CONSTANT_DTYPES)
def dirac(*shape: int, groups: int = 1, dtype: Any = None, seed: SeedLike = None,
          out: Array | None = None, rows: slice | None = None, block: Block = None, device: Device = None) -> Array:
    r"""The Dirac delta of a convolution (out, in, *kernel), torch's ``dirac_``: an identity
    convolution that preserves the input channels, in each of ``groups`` groups.

    .. math::
        W[g \cdot c + d,\ d,\ k_1 // 2, \ldots] = 1, \qquad
        c = shape[0] / groups,\ d < \min(c, shape[1]),\ g < groups

    and zeros elsewhere. 3-D, 4-D or 5-D tensors (Conv1d/2d/3d weights); ``shape[0]`` must be
    divisible by ``groups``. ``seed`` is ignored.

    Parameters
    ----------
    *shape : 3 to 5 ints, or one tuple
        Left out, ``out.shape`` (and with no ``out``, an Initializer).
    groups : int
        Default 1.
    dtype, seed, out, rows, block, device
        As for :func:`identity`.
    """
    t = fills._Target(shape, dtype, out, rows, ck.CONSTANT_DTYPES, device=device, block=block)
    full = t.full
    if not 3 <= len(full) <= 5:
        raise ValueError(f"shape: dirac supports tensors with 3, 4 or 5 dimensions, got {ck.shown(full)}")
    groups = _check_dirac(groups)
    check_seed(seed)
    if full[0] % groups:
        raise ValueError(f"groups: must be >= 1 and divide shape[0]={full[0]}, got {ck.shown(groups)}")
    if math.prod(t.shape) == 0:  # nothing to write (and nothing allocated per group)
        return t.scatter((np.empty(0, np.int64),), 0)
    per = full[0] // groups
    r = _rows_of(t)  # output channel r = g * per + d is 1 at input channel d < min(per, in)
    d = r % per
    keep = d < min(per, full[1])
    r, d = r[keep], d[keep]
    centre = tuple(np.full(d.size, k // 2) for k in full[2:])
    return t.scatter((r, d) + centre, 1.0)


# --- stft ----------------------------------------------------------------------------------------

def _check_stft(side="real", window="hann", scaling="density", periodic=False, **_):
    _choice("side", side, ("real", "imag"))
    if scaling is not None:
        _choice("scaling", scaling, ("density", "spectrum"))
    if not isinstance(periodic, (bool, np.bool_)):
        raise TypeError(f"periodic: expected a bool, got {ck.shown(periodic)}")
    if isinstance(window, str):
        _window(window, 1, False)
    elif window is not None:
        _window_values(window)


def _window_values(window: Any) -> np.ndarray:
    """A window given as values: a 1-D array of finite numbers (its length needs the shape)."""
    try:
        win = np.asarray(window, dtype=np.float64)
    except Exception:  # strings, objects, ragged or absurdly nested lists
        raise TypeError(f"window: expected a scipy.signal window name, an array of numbers or None, "
                        f"got {ck.shown(window)}") from None
    if win.ndim != 1 or not np.all(np.isfinite(win)):
        raise ValueError(f"window: expected a 1-D array of finite values, got {ck.shown(window)} "
                         f"(shape {win.shape})")
    return win


def _window(window: Any, length: int, periodic: bool) -> Array:
    """``scipy.signal.get_window(window, length, fftbins=periodic)`` for a name, else the array."""
    if isinstance(window, str):
        import scipy.signal
        try:
            return scipy.signal.get_window(window, length, fftbins=periodic)
        except (ValueError, TypeError) as e:
            raise ValueError(f"window: {ck.shown(window)} is not a scipy.signal window ({e})") from None
    win = _window_values(window)
    if win.shape != (length,):
        raise ValueError(f"window: expected {length} finite values (the frame length), got shape "
                         f"{win.shape}")
    return win


@initializer(check=_check_stft, dtypes=ck.REAL_DTYPES)
def stft(*shape: int, side: str = "real", window: Any = "hann", scaling: str | None = "density",
         periodic: bool = False, dtype: Any = None, seed: SeedLike = None,
         out: Array | None = None, rows: slice | None = None, block: Block = None, device: Device = None) -> Array:
    r"""Convolution kernels computing a short-time Fourier transform, Keras' ``STFT``
    initializer: shape ``(frame_length, channels, fft_bins)``, ``fft_bins = F // 2 + 1`` for an
    FFT of length ``F``.

    .. math::
        W[t, c, f] = \frac{w_t}{S} \cdot
        \begin{cases} \cos \theta_{tf} & side = \text{"real"} \\
                      \sin \theta_{tf} & side = \text{"imag"} \end{cases},
        \qquad \theta_{tf} = -2 t \cdot \frac{f}{2 (fft\_bins - 1)} \cdot \pi

    with the window :math:`w` (``scipy.signal.get_window(window, frame_length,
    fftbins=periodic)``, an array of ``frame_length`` values, or ``None`` for none) and
    :math:`S = \sqrt{\sum w_t^2}` (``"density"``), :math:`\sum |w_t|` (``"spectrum"``) or 1
    (``None``, or no window). On the GPU the kernel is computed on the host and copied over (it
    is small: ``frame_length x channels x fft_bins``). Every channel gets the same kernel (Keras builds ``channels=1``).
    For float32 the arithmetic is Keras', in the same order and in float32, so the values equal
    Keras' to about 1e-7; float16 is that float32 result rounded (Keras computes float16 in
    float16, 1e-2 away); float64 is computed in float64 throughout (Keras' numpy backend
    computes a float64 kernel in float32, 1e-5 away). ``seed`` is ignored.

    Parameters
    ----------
    *shape : three ints, or one 3-tuple
        ``(frame_length, channels, fft_bins)``, ``fft_bins >= 2``.
    side : {"real", "imag"}
    window : str, array-like or None
        Default ``"hann"``.
    scaling : {"density", "spectrum"} or None
        Default ``"density"``.
    periodic : bool
        Periodic (``True``) or symmetric (default) window.
    dtype, seed, out, rows, block, device
        As for :func:`identity`; real dtypes only.
    """
    _check_stft(side=side, window=window, scaling=scaling, periodic=periodic)
    check_seed(seed)
    t = fills._Target(shape, dtype, out, rows, ck.REAL_DTYPES, device=device, block=block)
    if len(t.full) != 3:
        raise ValueError(f"shape: stft needs (frame_length, channels, fft_bins), got {ck.shown(t.full)}")
    frames, _, bins = t.full
    if bins < 2:
        raise ValueError(f"shape: stft needs fft_bins >= 2, got {ck.shown(t.full)}")
    asked = slice(*t.box[0])  # the frames asked for
    wt = np.float64 if t.dtype == np.float64 else np.float32
    freq = np.arange(bins, dtype=wt) / wt((bins - 1) * 2)
    time = np.arange(frames, dtype=wt)[asked, None]
    args = ((wt(-2) * time) * freq) * np.arccos(wt(-1))
    kernel = np.cos(args) if side == "real" else np.sin(args)
    if window is not None:
        win = _window(window, frames, bool(periodic)).astype(wt)
        if scaling == "density":
            s = np.sqrt(np.sum(np.square(win)))
        elif scaling == "spectrum":
            s = np.sum(np.abs(win))
        else:
            s = wt(1)
        kernel = (kernel * win[asked, None]) / s
    k0, k1 = t.box[2]  # the fft bins asked for (every channel is the same)
    return t.assign(np.broadcast_to(kernel[:, None, k0:k1], t.shape))  # on the GPU, from the host (small)


# --- WeightInitializers.jl's typed family ---------------------------------------------------------

_LUX_TYPES = {"16": "float16", "32": "float32", "64": "float64", "C16": "complex32",
              "C32": "complex64", "C64": "complex128"}
_LUX_KINDS = {
    "zeros": ("zeros", "zeros", "0"),
    "ones": ("ones", "ones", "1"),
    "rand": ("uniform", "values uniform on [0, 1)", "U[0, 1)"),
    "randn": ("normal", "standard normal values", "N(0, 1)"),
}


def _lux(kind: str, code: str):
    fill_name, what, law = _LUX_KINDS[kind]
    fill = getattr(fills, fill_name)
    dt = _LUX_TYPES[code]
    half_complex = dt == "complex32"

    def f(*shape: int, seed: SeedLike = None, out: Array | None = None,
          rows: slice | None = None, block: Block = None, device: Device = None) -> Array:
        kw = {"seed": seed}  # checked, and ignored by zeros and ones
        if not half_complex:
            return fill(*shape, dtype=dt, out=out, rows=rows, block=block, device=device, **kw)
        if shape:
            dims = ck.shape_from(shape, None)
            if not dims and rows is not None:
                raise ValueError(f"rows: a 0-dimensional tensor has no rows, got {ck.shown(rows)}")
            shape = (dims + (2,),)
            if isinstance(block, (tuple, list)) and len(block) == len(dims) > 0:
                block = tuple(block) + (slice(None),)  # both parts of each value
        elif out is not None:
            got = getattr(ck.described(out), "shape", None)
            if got is None or got[-1:] != (2,):
                raise ValueError(f"out: {name} writes ComplexF16 values as float16 pairs, so out "
                                 f"needs a last axis of 2, got shape {ck.shown(got)}")
        if kind == "randn":
            kw["std"] = math.sqrt(0.5)
        if kind == "ones":  # 1 + 0i: (1, 0) pairs
            t = fills._Target(shape, "float16", out, rows, ck.REAL_DTYPES, device=device, block=block)
            check_seed(seed)
            return t.constant(1.0, odd=0.0)
        return fill(*shape, dtype="float16", out=out, rows=rows, block=block, device=device, **kw)

    name = f"{kind}{code}"
    f.__name__ = f.__qualname__ = name
    if half_complex:
        layout_doc = (f"numpy has no complex32 (Julia's ComplexF16), so the result is float16 of "
                      f"shape ``(*shape, 2)``: (real, imaginary) pairs, the memory layout of "
                      f"ComplexF16 and ``torch.complex32`` (``torch.view_as_complex``). "
                      f"The values are ``{kind}C32``'s rounded to float16"
                      f"{' (and held below 1, as float16 uniform values are)' if kind == 'rand' else ''}.")
    else:
        layout_doc = f"dtype {dt}."
    extra = ""
    if kind in ("rand", "randn") and dt.startswith("complex"):
        extra = (" Complex values have independent real and imaginary parts: each U[0, 1) for "
                 "``rand`` (Julia's ``rand(ComplexF32)``), each N(0, 1/2) for ``randn`` "
                 "(E|v|^2 = 1, Julia's ``randn(ComplexF32)``).")
    f.__doc__ = (f"WeightInitializers.jl's ``{name}``: {what} ({law}), {layout_doc}{extra}\n\n"
                 f"Same as :func:`fastinit.{fill_name}` with that dtype; ``seed``, ``out``, "
                 f"``rows`` and ``device`` as there{' (seed is ignored)' if kind in ('zeros', 'ones') else ''}.")
    return initializer(f)


zeros16, zeros32, zeros64 = _lux("zeros", "16"), _lux("zeros", "32"), _lux("zeros", "64")
zerosC16, zerosC32, zerosC64 = _lux("zeros", "C16"), _lux("zeros", "C32"), _lux("zeros", "C64")
ones16, ones32, ones64 = _lux("ones", "16"), _lux("ones", "32"), _lux("ones", "64")
onesC16, onesC32, onesC64 = _lux("ones", "C16"), _lux("ones", "C32"), _lux("ones", "C64")
rand16, rand32, rand64 = _lux("rand", "16"), _lux("rand", "32"), _lux("rand", "64")
randC16, randC32, randC64 = _lux("rand", "C16"), _lux("rand", "C32"), _lux("rand", "C64")
randn16, randn32, randn64 = _lux("randn", "16"), _lux("randn", "32"), _lux("randn", "64")
randnC16, randnC32, randnC64 = _lux("randn", "C16"), _lux("randn", "C32"), _lux("randn", "C64")

LUX_FAMILY = tuple(f"{k}{c}" for k in _LUX_KINDS for c in _LUX_TYPES)
__all__ += list(LUX_FAMILY)
