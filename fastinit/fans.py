"""Fans and gains: the one place where fan_in and fan_out are computed, for every framework's
weight layout, and torch's gain table.

A *layout* names the convention a framework uses to lay out a weight tensor:

========== ================================ ===============================================
layout     2-D                              n-D (convolution kernels)
========== ================================ ===============================================
"torch"    (out, in)                        (out, in, *kernel)
"keras"    (in, out)                        (*kernel, in, out)
"jax"      (in, out)                        (*kernel, in, out)
"lux"      (out, in)                        (*kernel, in, out)   (WeightInitializers.jl)
"keraflow" (in, out)                        4-D/5-D: (in, out, *kernel)
========== ================================ ===============================================

``"torch"`` is the default everywhere in fastinit.
"""
from __future__ import annotations

import math
import numbers
from typing import Sequence, Union

from ._checks import shown as _shown
__all__ = ["LAYOUTS", "compute_fans", "calculate_gain"]

#: the weight layouts :func:`compute_fans` knows
LAYOUTS = ("torch", "keras", "jax", "lux", "keraflow")

Axes = Union[int, Sequence[int], None]
Fan = Union[int, float]


def _axes(name: str, axes, ndim: int) -> tuple[int, ...]:
    """``axes`` (an int or a sequence of ints) as distinct non-negative axes of an ``ndim``-D shape."""
    items = (axes,) if isinstance(axes, (numbers.Integral,)) and not isinstance(axes, bool) else axes
    try:
        items = tuple(items)
    except TypeError:
        raise TypeError(f"{name}: expected an int or a sequence of ints, got {_shown(axes)}") from None
    out = []
    for ax in items:
        if isinstance(ax, bool) or not isinstance(ax, numbers.Integral):
            raise TypeError(f"{name}: expected an int or a sequence of ints, got {_shown(axes)}")
        if not -ndim <= ax < ndim:
            raise ValueError(f"{name}: axis {ax} is out of range for a {ndim}-dimensional shape")
        out.append(int(ax) % ndim)
    if len(set(out)) != len(out):
        raise ValueError(f"{name}: repeated axis in {_shown(axes)}")
    return tuple(out)


def _prod(shape: Sequence[int], axes: Sequence[int]) -> int:
    return math.prod(shape[a] for a in axes)


def _exact(x: float) -> Fan:
    return int(x) if float(x).is_integer() else float(x)


def compute_fans(shape: Sequence[int], layout: str = "torch", *, in_axis: Axes = None,
                 out_axis: Axes = None, batch_axis: Axes = None, input_axes: Axes = None,
                 output_axes: Axes = None) -> tuple[Fan, Fan]:
    r"""``(fan_in, fan_out)`` of a weight tensor of ``shape`` under ``layout``.

    With :math:`r` the receptive field (the product of the kernel dimensions):

    - ``"torch"`` (the default; ``torch.nn.init._calculate_fan_in_and_fan_out``): at least 2-D,
      :math:`fan_{in} = shape[1] \cdot r`, :math:`fan_{out} = shape[0] \cdot r`,
      :math:`r = \prod shape[2:]`.
    - ``"keras"`` (``keras.src.initializers.random_initializers.compute_fans``): 0-D gives
      (1, 1), 1-D gives (n, n); otherwise :math:`fan_{in} = shape[-2] \cdot r`,
      :math:`fan_{out} = shape[-1] \cdot r`, :math:`r = \prod shape[:-2]`.
    - ``"jax"`` (``jax.nn.initializers`` with ``in_axis=-2, out_axis=-1``): as ``"keras"``,
      but fewer than 2 dimensions raise.
    - ``"lux"`` (WeightInitializers.jl ``nfan``): 0-D gives (1, 1), 1-D (n,) is an n x 1
      matrix: (1, n); 2-D ``(out, in)``: (shape[1], shape[0]); n-D as ``"keras"``.
    - ``"keraflow"`` (``keraflow.initializations.get_fans``): 2-D (in, out); 4-D and 5-D
      :math:`fan_{in} = shape[0] \cdot r`, :math:`fan_{out} = shape[1] \cdot r`,
      :math:`r = \prod shape[2:]`; any other rank :math:`\sqrt{\prod shape}` for both.

    Explicit axes override the layout:

    - ``in_axis``, ``out_axis``, ``batch_axis`` (JAX's ``_compute_fans``): every axis in none of
      them is a receptive-field axis, :math:`r = \prod shape / (in \cdot out \cdot batch)`,
      :math:`fan_{in} = in \cdot r`, :math:`fan_{out} = out \cdot r`, ``in`` and ``out`` the
      products of the dimensions of their axes. Unset ones default to -2, -1 and none.
    - ``input_axes``, ``output_axes`` (Keras 3's ``compute_fans``, both required):
      :math:`fan_{in} = \prod shape[input\_axes]`, :math:`fan_{out} = \prod shape[output\_axes]`,
      with no receptive field.

    Fans are ints, except keraflow's square roots.

    Raises
    ------
    ValueError
        Unknown ``layout``, too few dimensions for the layout (torch and JAX need 2), axes out of
        range or repeated, or both kinds of axes given.
    """
    shape = tuple(int(d) for d in shape)
    ndim = len(shape)
    jax_axes = (in_axis, out_axis, batch_axis) != (None, None, None)
    keras_axes = (input_axes, output_axes) != (None, None)
    if layout not in LAYOUTS:
        raise ValueError(f"layout: expected one of {', '.join(map(repr, LAYOUTS))}, got {_shown(layout)}")
    if jax_axes and keras_axes:
        raise ValueError("in_axis/out_axis/batch_axis (JAX) and input_axes/output_axes (Keras) "
                         "exclude each other")
    if keras_axes:
        if input_axes is None or output_axes is None:
            raise ValueError(f"input_axes, output_axes: give both or neither, got "
                             f"input_axes={_shown(input_axes)}, output_axes={_shown(output_axes)}")
        return (_prod(shape, _axes("input_axes", input_axes, ndim)),
                _prod(shape, _axes("output_axes", output_axes, ndim)))
    if jax_axes:
        # a 0-dimensional shape takes only empty axes: fans (1, 1), as JAX's _compute_fans
        ins = _axes("in_axis", -2 if in_axis is None else in_axis, ndim)
        outs = _axes("out_axis", -1 if out_axis is None else out_axis, ndim)
        batch = _axes("batch_axis", () if batch_axis is None else batch_axis, ndim)
        used = ins + outs + batch
        if len(set(used)) != len(used):
            raise ValueError(f"in_axis, out_axis, batch_axis: an axis is used twice "
                             f"({_shown(in_axis)}, {_shown(out_axis)}, {_shown(batch_axis)})")
        n_in, n_out = _prod(shape, ins), _prod(shape, outs)
        rest = [a for a in range(ndim) if a not in used]
        r = _prod(shape, rest)
        return n_in * r, n_out * r

    if layout == "keraflow":
        if ndim == 2:
            return shape[0], shape[1]
        if ndim in (4, 5):
            r = math.prod(shape[2:])
            return shape[0] * r, shape[1] * r
        root = _exact(math.sqrt(math.prod(shape)))
        return root, root
    if ndim < 2:
        if layout in ("torch", "jax"):
            raise ValueError(f"shape: fan in and fan out need at least 2 dimensions under "
                             f"layout={_shown(layout)}, got {_shown(shape)}")
        if ndim == 0:
            return 1, 1
        return (1, shape[0]) if layout == "lux" else (shape[0], shape[0])
    if layout == "torch":
        r = math.prod(shape[2:])
        return shape[1] * r, shape[0] * r
    if layout == "lux" and ndim == 2:
        return shape[1], shape[0]
    r = math.prod(shape[:-2])
    return shape[-2] * r, shape[-1] * r


_LINEAR = ("linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
           "conv_transpose3d")
NONLINEARITIES = _LINEAR + ("sigmoid", "tanh", "relu", "leaky_relu", "selu")


def calculate_gain(nonlinearity: str, param: float | None = None) -> float:
    r"""The recommended gain for a nonlinearity, exactly as ``torch.nn.init.calculate_gain``.

    ================= ==================================================
    nonlinearity      gain
    ================= ==================================================
    linear, conv*     :math:`1`
    sigmoid           :math:`1`
    tanh              :math:`5/3`
    relu              :math:`\sqrt{2}`
    leaky_relu        :math:`\sqrt{2 / (1 + negative\_slope^2)}`
    selu              :math:`3/4`
    ================= ==================================================

    ``conv*`` is conv1d, conv2d, conv3d, conv_transpose1d, conv_transpose2d and conv_transpose3d.

    Parameters
    ----------
    nonlinearity : str
        One of the names above.
    param : float, optional
        leaky_relu's negative slope; ``None`` means torch's 0.01. Ignored otherwise. As in
        torch, it must be a Python int or float (a float subclass such as ``numpy.float64``
        included; ``inf`` gives 0 and ``nan`` gives nan).

    Raises
    ------
    ValueError
        An unknown nonlinearity, or a ``param`` of another type (a bool, a numpy float32 or
        integer included), as torch.
    """
    if nonlinearity in _LINEAR or nonlinearity == "sigmoid":
        return 1
    if nonlinearity == "tanh":
        return 5.0 / 3
    if nonlinearity == "relu":
        return math.sqrt(2.0)
    if nonlinearity == "leaky_relu":
        # torch's test, kept exactly: Python ints (not bools) and floats (inf and nan included)
        if param is None:
            slope = 0.01
        elif (not isinstance(param, bool) and isinstance(param, int)) or isinstance(param, float):
            slope = param
        else:
            raise ValueError(f"param: negative_slope {_shown(param)} not a valid number")
        return math.sqrt(2.0 / (1 + slope**2))
    if nonlinearity == "selu":
        return 3.0 / 4
    raise ValueError(f"nonlinearity: unsupported nonlinearity {_shown(nonlinearity)} "
                     f"(supported: {', '.join(NONLINEARITIES)})")
