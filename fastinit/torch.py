r"""``fastinit.torch``: a drop-in for ``torch.nn.init`` on fastinit's kernels.

Every public name of ``torch.nn.init``, with torch's signatures, argument names, defaults,
errors, warnings and return values::

    import fastinit.torch as init          # instead of: from torch.nn import init
    init.kaiming_uniform_(layer.weight, a=5 ** 0.5)
    init.trunc_normal_(w, std=0.02, a=-0.04, b=0.04, generator=g)

Each function fills the tensor in place (CPU tensors through a numpy view of their memory,
CUDA tensors through ``__cuda_array_interface__``), bumps its version counter as torch's in-place
ops do, and returns it; it runs under ``torch.no_grad()`` semantics (``nn.Parameter``\ s with
``requires_grad=True`` are filled as they are). Non-contiguous tensors (``w.t()``) get the values
a contiguous tensor of their shape would get.

What differs from torch:

- **The values** are fastinit's streams (README, "Reproducibility"), not torch's RNG: for a
  given seed they equal the core's, e.g. ``kaiming_uniform_(w, a=a, seed=s)`` gives
  ``fastinit.kaiming_uniform(*w.shape, a=a, seed=s)``; the distributions are torch's.
- **Seeds.** Each call of a random initializer that fills something draws exactly one 64-bit
  integer, ``torch.randint(-2**63, 2**63 - 1, (), generator=generator, dtype=torch.int64)``, from
  ``generator`` or, without one, from torch's default generator of the tensor's device, and
  uses it as the fastinit seed. So ``torch.manual_seed(n)`` makes a program that uses
  ``fastinit.torch`` reproducible as it does with ``torch.nn.init``, and a ``generator``
  advances once per call. Zero-element and meta tensors draw nothing. ``seed=`` (keyword-only:
  an int, a :class:`fastinit.Key` or a ``numpy.random.Generator``) is fastinit's extension and
  draws nothing from torch.
- **Stricter on values torch would fill with NaN or inf**: a NaN or infinite ``mean``, an
  infinite ``std``, values beyond the dtype's range raise ``ValueError`` naming the parameter;
  ``sparse_`` takes ``sparsity`` in ``[0, 1]`` (``1`` gives zeros, as in torch; a negative one
  raises), ``trunc_normal_`` needs ``std > 0``. Where torch raises, the same exception type and
  message are raised, from torch's own checks.
- **Broader**: ``orthogonal_`` fills float16 and bfloat16 CPU tensors and complex ones (torch's
  ``geqrf`` and ``sign`` refuse them); a CUDA tensor may take a CPU ``generator``.
- **Handed to torch.nn.init's own function**: tensors fastinit does not fill (devices other than
  CPU, CUDA and meta; dtypes other than float16, bfloat16, float32, float64, complex64 and
  complex128, or for the constant patterns also the integer and bool ones; bfloat16 CUDA
  tensors, until the core fills them; sparse layouts; subclasses that override
  ``__torch_function__``). ``seed=`` is refused there.
- A non-contiguous CUDA tensor is filled through a contiguous temporary of its size (a CPU one
  is filled chunk by chunk, with no temporary of its size; ``orthogonal_`` on one uses a
  full-size scratch matrix, as its QR needs).
"""
from __future__ import annotations

import math
import operator
import warnings
from typing import Any, Callable, Literal

import torch
from torch import Tensor

from . import fills as _fills
from . import initializers as _inits
from ._seeding import check_seed

__all__ = [
    "calculate_gain", "uniform_", "normal_", "trunc_normal_", "constant_", "ones_", "zeros_",
    "eye_", "dirac_", "xavier_uniform_", "xavier_normal_", "kaiming_uniform_", "kaiming_normal_",
    "orthogonal_", "sparse_",
    # deprecated aliases, as in torch.nn.init
    "uniform", "normal", "constant", "eye", "dirac", "xavier_uniform", "xavier_normal",
    "kaiming_uniform", "kaiming_normal", "orthogonal", "sparse",
]

_FanMode = Literal["fan_in", "fan_out"]

_REAL = (torch.float16, torch.bfloat16, torch.float32, torch.float64)
_FLOATING = _REAL + (torch.complex64, torch.complex128)
_ALL = _FLOATING + (torch.int8, torch.int16, torch.int32, torch.int64, torch.uint8, torch.uint16,
                    torch.uint32, torch.uint64, torch.bool)


def _fastinit_fills(tensor: Any, dtypes: tuple, seed: Any) -> bool:
    """Whether fastinit fills ``tensor`` (else torch.nn.init's own function does: module
    docstring); ``TypeError`` for what is not a tensor, or ``seed=`` with a tensor fastinit
    does not fill."""
    if not isinstance(tensor, Tensor):
        raise TypeError(f"tensor: expected a torch.Tensor, got {type(tensor).__name__}")
    ours = (tensor.device.type in ("cpu", "cuda", "meta") and tensor.dtype in dtypes
            and tensor.layout is torch.strided and not tensor.is_conj() and not tensor.is_neg()
            and not torch.overrides.has_torch_function_unary(tensor)
            # the core fills bfloat16 on the host only for now (fills._Target): drop this then
            and not (tensor.device.type == "cuda" and tensor.dtype is torch.bfloat16))
    if not ours and seed is not None:
        raise TypeError(f"seed: fastinit does not fill this tensor ({type(tensor).__name__}, "
                        f"{tensor.dtype}, {tensor.device}); it goes to torch.nn.init, which takes "
                        f"generator= instead")
    return ours


def _seed(tensor: Tensor, generator: torch.Generator | None, seed: Any) -> Any:
    """The fastinit seed of a call: ``seed`` when given, else one 64-bit draw from
    ``generator`` or torch's default generator of ``tensor``'s device."""
    if seed is not None:
        if generator is not None:
            raise TypeError("generator, seed: give one or neither, got both")
        check_seed(seed)
        return seed
    device = generator.device if isinstance(generator, torch.Generator) else tensor.device
    return int(torch.randint(-2**63, 2**63 - 1, (), generator=generator, dtype=torch.int64,
                             device=device))


def _fill(tensor: Tensor, fn: Callable[..., Any], **params: Any) -> Tensor:
    """``fn(out=tensor, **params)``: in place (a non-contiguous CUDA tensor through a
    contiguous temporary)."""
    if tensor.device.type == "cuda" and not tensor.is_contiguous():
        tmp = torch.empty(tensor.shape, dtype=tensor.dtype, device=tensor.device)
        fn(out=tmp, **params)
        with torch.no_grad():
            tensor.copy_(tmp)
        return tensor
    fn(out=tensor, **params)
    return tensor


def _probe(tensor: Tensor) -> Tensor:
    """An empty tensor of ``tensor``'s dtype on the CPU: torch's in-place ops on it raise
    torch's own errors for bad arguments, and draw nothing."""
    return torch.empty(0, dtype=tensor.dtype)


def calculate_gain(nonlinearity: str, param: int | float | None = None) -> float:
    r"""Return the recommended gain value for the given nonlinearity function: torch's own
    ``torch.nn.init.calculate_gain`` (the same values as :func:`fastinit.calculate_gain`, with
    torch's error messages).

    ================= ====================================================
    nonlinearity      gain
    ================= ====================================================
    Linear / Identity :math:`1`
    Conv{1,2,3}D      :math:`1`
    Sigmoid           :math:`1`
    Tanh              :math:`\frac{5}{3}`
    ReLU              :math:`\sqrt{2}`
    Leaky Relu        :math:`\sqrt{\frac{2}{1 + \text{negative\_slope}^2}}`
    SELU              :math:`\frac{3}{4}`
    ================= ====================================================

    Args:
        nonlinearity: the non-linear function (`nn.functional` name)
        param: optional parameter for the non-linear function

    Examples:
        >>> gain = fastinit.torch.calculate_gain("leaky_relu", 0.2)  # leaky_relu with negative_slope=0.2
    """
    return torch.nn.init.calculate_gain(nonlinearity, param)


def _calculate_fan_in_and_fan_out(tensor: Tensor) -> tuple[int, int]:
    """(fan_in, fan_out) of ``tensor``, as ``torch.nn.init._calculate_fan_in_and_fan_out``."""
    if tensor.dim() < 2:
        raise ValueError("Fan in and fan out can not be computed for tensor with fewer than 2 dimensions")
    receptive = math.prod(tensor.shape[2:])
    return tensor.size(1) * receptive, tensor.size(0) * receptive


def _calculate_correct_fan(tensor: Tensor, mode: _FanMode) -> int:
    mode = mode.lower()
    valid_modes = ["fan_in", "fan_out"]
    if mode not in valid_modes:
        raise ValueError(f"Mode {mode} not supported, please use one of {valid_modes}")
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    return fan_in if mode == "fan_in" else fan_out


def _zero_element(tensor: Tensor) -> bool:
    """torch's warning and early return for kaiming_* on zero-element tensors."""
    if 0 in tensor.shape:
        warnings.warn("Initializing zero-element tensors is a no-op", stacklevel=4)  # the caller's line
        return True
    return False


def uniform_(tensor: Tensor, a: float = 0.0, b: float = 1.0, generator: torch.Generator | None = None,
             *, seed: Any = None) -> Tensor:
    r"""Fill the input Tensor with values drawn from the uniform distribution.

    :math:`\mathcal{U}(a, b)`: values in :math:`[a, b)`, never ``b`` (:func:`fastinit.uniform`);
    ``a == b`` gives ``a`` everywhere, as torch. Complex tensors draw real and imaginary parts
    independently.

    Args:
        tensor: an n-dimensional `torch.Tensor`
        a: the lower bound of the uniform distribution
        b: the upper bound of the uniform distribution
        generator: the torch Generator to draw the seed from (default: None, torch's default
            generator of the tensor's device); advanced by one draw
        seed: fastinit's seed instead of a draw from torch (keyword-only)

    Unlike torch, the values are fastinit's stream for the seed (``fastinit.uniform(...,
    low=a, high=b, seed=s)``), not torch's RNG.

    Examples:
        >>> w = torch.empty(3, 5)
        >>> fastinit.torch.uniform_(w)
    """
    if not _fastinit_fills(tensor, _FLOATING, seed):
        return torch.nn.init.uniform_(tensor, a, b, generator)
    _probe(tensor).uniform_(a, b)  # torch's errors: a > b, bounds out of the dtype's range
    if tensor.is_meta or tensor.numel() == 0:
        return tensor
    s = _seed(tensor, generator, seed)
    if a == b:
        return _fill(tensor, _fills.constant, value=a)
    return _fill(tensor, _fills.uniform, low=a, high=b, seed=s)


def normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0, generator: torch.Generator | None = None,
            *, seed: Any = None) -> Tensor:
    r"""Fill the input Tensor with values drawn from the normal distribution.

    :math:`\mathcal{N}(\text{mean}, \text{std}^2)` (:func:`fastinit.normal`; ``std=0`` gives
    ``mean``). Complex tensors have independent parts of variance :math:`\text{std}^2/2` each,
    as torch.

    Args:
        tensor: an n-dimensional `torch.Tensor`
        mean: the mean of the normal distribution (finite)
        std: the standard deviation of the normal distribution (finite, >= 0)
        generator: the torch Generator to draw the seed from (default: None); advanced by one draw
        seed: fastinit's seed instead of a draw from torch (keyword-only)

    Unlike torch, the values are fastinit's stream for the seed, and a NaN or infinite ``mean``
    or ``std`` raises ``ValueError`` (torch fills NaN or inf).

    Examples:
        >>> w = torch.empty(3, 5)
        >>> fastinit.torch.normal_(w)
    """
    if not _fastinit_fills(tensor, _FLOATING, seed):
        return torch.nn.init.normal_(tensor, mean, std, generator)
    _probe(tensor).normal_(mean, std)  # torch's errors: std < 0 or NaN, a complex mean
    if tensor.is_meta or tensor.numel() == 0:
        return tensor
    return _fill(tensor, _fills.normal, mean=mean, std=std, seed=_seed(tensor, generator, seed))


def trunc_normal_(tensor: Tensor, mean: float = 0.0, std: float = 1.0, a: float = -2.0, b: float = 2.0,
                  generator: torch.Generator | None = None, *, seed: Any = None) -> Tensor:
    r"""Fill the input Tensor with values drawn from a truncated normal distribution.

    The values are drawn from the normal distribution :math:`\mathcal{N}(\text{mean},
    \text{std}^2)` restricted to :math:`[a, b]` (absolute bounds), exactly, on any interval:
    fastinit's rejection sampler (:func:`fastinit.truncated_normal`) works as well when the mean
    lies far outside :math:`[a, b]` (torch's warning for that case is still given). ``a == b``
    gives ``a`` everywhere, as torch.

    Args:
        tensor: an n-dimensional `torch.Tensor` (real dtypes)
        mean: the mean of the normal distribution
        std: the standard deviation of the normal distribution (> 0)
        a: the minimum cutoff value
        b: the maximum cutoff value
        generator: the torch Generator to draw the seed from (default: None); advanced by one draw
        seed: fastinit's seed instead of a draw from torch (keyword-only)

    Examples:
        >>> w = torch.empty(3, 5)
        >>> fastinit.torch.trunc_normal_(w)
    """
    if not _fastinit_fills(tensor, _REAL, seed):
        return torch.nn.init.trunc_normal_(tensor, mean, std, a, b, generator)
    if tensor.is_meta:
        return tensor
    if (mean < a - 2 * std) or (mean > b + 2 * std):
        warnings.warn("mean is more than 2 std from [a, b] in nn.init.trunc_normal_. "
                      "The distribution of values may be incorrect.", stacklevel=2)
    # torch's own computation of the mass, for its errors (std == 0: ZeroDivisionError), and
    # the draw it would start with, for its errors on the bounds (a > b) and the dtype
    def norm_cdf(x: float) -> float:
        return (1.0 + math.erf(x / math.sqrt(2.0))) / 2.0

    p = norm_cdf((b - mean) / std) - norm_cdf((a - mean) / std)
    if p > 0.3:
        _probe(tensor).normal_(mean, std)
    else:
        _probe(tensor).uniform_(a, b)
    if tensor.numel() == 0:
        return tensor
    s = _seed(tensor, generator, seed)
    if a == b:
        return _fill(tensor, _fills.constant, value=a)
    return _fill(tensor, _fills.truncated_normal, mean=mean, std=std, lo=a, hi=b, seed=s)


def constant_(tensor: Tensor, val: float) -> Tensor:
    r"""Fill the input Tensor with the value :math:`\text{val}`.

    The value is converted to the tensor's dtype as torch's ``fill_`` converts it (the same
    errors for values out of range; floats truncated toward zero in integer tensors, any nonzero
    value True in bool ones). Integer and bool tensors are filled too. A NaN or infinite value
    in a floating tensor is written by torch's own ``fill_``.

    Args:
        tensor: an n-dimensional `torch.Tensor`
        val: the value to fill the tensor with

    Examples:
        >>> w = torch.empty(3, 5)
        >>> fastinit.torch.constant_(w, 0.3)
    """
    if not _fastinit_fills(tensor, _ALL, None):
        return torch.nn.init.constant_(tensor, val)
    # torch's conversion and errors (fill_ checks the range except on one-element tensors)
    v = torch.empty(1 if tensor.numel() == 1 else 2, dtype=tensor.dtype).fill_(val)[0].item()
    if tensor.is_meta:
        return tensor
    if not all(math.isfinite(x) for x in ((v.real, v.imag) if isinstance(v, complex) else (v,))):
        with torch.no_grad():
            return tensor.fill_(v)
    return _fill(tensor, _fills.constant, value=v)


def ones_(tensor: Tensor) -> Tensor:
    r"""Fill the input Tensor with the scalar value `1` (integer and bool tensors too).

    Args:
        tensor: an n-dimensional `torch.Tensor`

    Examples:
        >>> w = torch.empty(3, 5)
        >>> fastinit.torch.ones_(w)
    """
    if not _fastinit_fills(tensor, _ALL, None):
        return torch.nn.init.ones_(tensor)
    return tensor if tensor.is_meta else _fill(tensor, _fills.ones)


def zeros_(tensor: Tensor) -> Tensor:
    r"""Fill the input Tensor with the scalar value `0` (integer and bool tensors too).

    Args:
        tensor: an n-dimensional `torch.Tensor`

    Examples:
        >>> w = torch.empty(3, 5)
        >>> fastinit.torch.zeros_(w)
    """
    if not _fastinit_fills(tensor, _ALL, None):
        return torch.nn.init.zeros_(tensor)
    return tensor if tensor.is_meta else _fill(tensor, _fills.zeros)


def eye_(tensor: Tensor) -> Tensor:
    r"""Fill the 2-dimensional input `Tensor` with the identity matrix.

    Preserves the identity of the inputs in `Linear` layers, where as many inputs are preserved
    as possible: :math:`W_{ii} = 1` for :math:`i < \min(m, n)`, zeros elsewhere
    (:func:`fastinit.eye`). Integer and bool tensors are filled too.

    Args:
        tensor: a 2-dimensional `torch.Tensor`

    Examples:
        >>> w = torch.empty(3, 5)
        >>> fastinit.torch.eye_(w)
    """
    if not isinstance(tensor, Tensor):
        raise TypeError(f"tensor: expected a torch.Tensor, got {type(tensor).__name__}")
    if tensor.ndimension() != 2:
        raise ValueError("Only tensors with 2 dimensions are supported")
    if not _fastinit_fills(tensor, _ALL, None):
        return torch.nn.init.eye_(tensor)
    return tensor if tensor.is_meta else _fill(tensor, _inits.eye)


def dirac_(tensor: Tensor, groups: int = 1) -> Tensor:
    r"""Fill the {3, 4, 5}-dimensional input `Tensor` with the Dirac delta function.

    Preserves the identity of the inputs in `Convolutional` layers, where as many input
    channels are preserved as possible. In case of groups>1, each group of channels preserves
    identity: :math:`W[g c + d, d, k_1 // 2, \ldots] = 1` for :math:`d < \min(c, \text{in})`,
    :math:`c = \text{out} / \text{groups}` (:func:`fastinit.dirac`). Integer and bool tensors
    are filled too. As torch, a negative ``groups`` dividing ``out`` gives zeros.

    Args:
        tensor: a {3, 4, 5}-dimensional `torch.Tensor`
        groups (int, optional): number of groups in the conv layer (default: 1)

    Examples:
        >>> w = torch.empty(3, 16, 5, 5)
        >>> fastinit.torch.dirac_(w)
        >>> w = torch.empty(3, 24, 5, 5)
        >>> fastinit.torch.dirac_(w, 3)
    """
    if not isinstance(tensor, Tensor):
        raise TypeError(f"tensor: expected a torch.Tensor, got {type(tensor).__name__}")
    if tensor.ndimension() not in [3, 4, 5]:
        raise ValueError("Only tensors with 3, 4, or 5 dimensions are supported")
    if tensor.size(0) % groups != 0:  # torch's test: ZeroDivisionError for 0, TypeError for a str
        raise ValueError("dim 0 must be divisible by groups")
    if not _fastinit_fills(tensor, _ALL, None):
        return torch.nn.init.dirac_(tensor, groups)
    if tensor.is_meta:
        return tensor
    groups = operator.index(groups)  # torch's range(groups): TypeError for a float
    if groups < 0:  # torch zeroes the tensor and has no group to set
        return _fill(tensor, _fills.zeros)
    return _fill(tensor, _inits.dirac, groups=groups)


def xavier_uniform_(tensor: Tensor, gain: float = 1.0, generator: torch.Generator | None = None,
                    *, seed: Any = None) -> Tensor:
    r"""Fill the input `Tensor` with values using a Xavier uniform distribution.

    The method is described in `Understanding the difficulty of training deep feedforward
    neural networks` - Glorot, X. & Bengio, Y. (2010). The resulting tensor will have values
    sampled from :math:`\mathcal{U}(-a, a)` where

    .. math::
        a = \text{gain} \times \sqrt{\frac{6}{\text{fan\_in} + \text{fan\_out}}}

    Also known as Glorot initialization (:func:`fastinit.glorot_uniform`).

    Args:
        tensor: an n-dimensional `torch.Tensor`
        gain: an optional scaling factor
        generator: the torch Generator to draw the seed from (default: None); advanced by one draw
        seed: fastinit's seed instead of a draw from torch (keyword-only)

    Examples:
        >>> w = torch.empty(3, 5)
        >>> fastinit.torch.xavier_uniform_(w, gain=fastinit.torch.calculate_gain("relu"))
    """
    if not _fastinit_fills(tensor, _FLOATING, seed):
        return torch.nn.init.xavier_uniform_(tensor, gain, generator)
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    bound = math.sqrt(3.0) * std
    _probe(tensor).uniform_(-bound, bound)  # torch's errors (gain < 0 or NaN)
    if tensor.is_meta or tensor.numel() == 0:
        return tensor
    s = _seed(tensor, generator, seed)
    if bound == 0:
        return _fill(tensor, _fills.zeros)
    return _fill(tensor, _inits.glorot_uniform, gain=gain, seed=s)


def xavier_normal_(tensor: Tensor, gain: float = 1.0, generator: torch.Generator | None = None,
                   *, seed: Any = None) -> Tensor:
    r"""Fill the input `Tensor` with values using a Xavier normal distribution.

    The method is described in `Understanding the difficulty of training deep feedforward
    neural networks` - Glorot, X. & Bengio, Y. (2010). The resulting tensor will have values
    sampled from :math:`\mathcal{N}(0, \text{std}^2)` where

    .. math::
        \text{std} = \text{gain} \times \sqrt{\frac{2}{\text{fan\_in} + \text{fan\_out}}}

    Also known as Glorot initialization (:func:`fastinit.glorot_normal`, untruncated).

    Args:
        tensor: an n-dimensional `torch.Tensor`
        gain: an optional scaling factor
        generator: the torch Generator to draw the seed from (default: None); advanced by one draw
        seed: fastinit's seed instead of a draw from torch (keyword-only)

    Examples:
        >>> w = torch.empty(3, 5)
        >>> fastinit.torch.xavier_normal_(w)
    """
    if not _fastinit_fills(tensor, _FLOATING, seed):
        return torch.nn.init.xavier_normal_(tensor, gain, generator)
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    _probe(tensor).normal_(0.0, std)  # torch's errors (gain < 0 or NaN)
    if tensor.is_meta or tensor.numel() == 0:
        return tensor
    s = _seed(tensor, generator, seed)
    if std == 0:
        return _fill(tensor, _fills.zeros)
    return _fill(tensor, _inits.glorot_normal, gain=gain, seed=s)


def _kaiming(name: str, tensor: Tensor, a: float, mode: str, nonlinearity: str, generator, seed,
             uniform: bool) -> Tensor:
    if not _fastinit_fills(tensor, _FLOATING, seed):
        return getattr(torch.nn.init, name)(tensor, a, mode, nonlinearity, generator)
    if _zero_element(tensor):
        return tensor
    fan = _calculate_correct_fan(tensor, mode)
    gain = calculate_gain(nonlinearity, a)
    std = gain / math.sqrt(fan)
    if uniform:
        bound = math.sqrt(3.0) * std
        _probe(tensor).uniform_(-bound, bound)
    else:
        _probe(tensor).normal_(0, std)
    if tensor.is_meta:
        return tensor
    s = _seed(tensor, generator, seed)
    if std == 0:  # a = inf: gain 0
        return _fill(tensor, _fills.zeros)
    fn = _inits.kaiming_uniform if uniform else _inits.kaiming_normal
    return _fill(tensor, fn, gain=float(gain), mode=mode.lower(), seed=s)


def kaiming_uniform_(tensor: Tensor, a: float = 0, mode: _FanMode = "fan_in",
                     nonlinearity: str = "leaky_relu", generator: torch.Generator | None = None,
                     *, seed: Any = None) -> Tensor:
    r"""Fill the input `Tensor` with values using a Kaiming uniform distribution.

    The method is described in `Delving deep into rectifiers: Surpassing human-level
    performance on ImageNet classification` - He, K. et al. (2015). The resulting tensor will
    have values sampled from :math:`\mathcal{U}(-\text{bound}, \text{bound})` where

    .. math::
        \text{bound} = \text{gain} \times \sqrt{\frac{3}{\text{fan\_mode}}}

    Also known as He initialization. The values are ``fastinit.kaiming_uniform(*shape, a=a,
    mode=mode, nonlinearity=nonlinearity, seed=s)``'s.

    Args:
        tensor: an n-dimensional `torch.Tensor`
        a: the negative slope of the rectifier used after this layer (only used with
            ``'leaky_relu'``)
        mode: either ``'fan_in'`` (default) or ``'fan_out'``. Choosing ``'fan_in'`` preserves the
            magnitude of the variance of the weights in the forward pass. Choosing ``'fan_out'``
            preserves the magnitudes in the backwards pass.
        nonlinearity: the non-linear function (`nn.functional` name), recommended to use only
            with ``'relu'`` or ``'leaky_relu'`` (default).
        generator: the torch Generator to draw the seed from (default: None); advanced by one draw
        seed: fastinit's seed instead of a draw from torch (keyword-only)

    A zero-element tensor is returned as it is, with torch's ``UserWarning``
    ("Initializing zero-element tensors is a no-op").

    Examples:
        >>> w = torch.empty(3, 5)
        >>> fastinit.torch.kaiming_uniform_(w, mode="fan_in", nonlinearity="relu")
    """
    return _kaiming("kaiming_uniform_", tensor, a, mode, nonlinearity, generator, seed, True)


def kaiming_normal_(tensor: Tensor, a: float = 0, mode: _FanMode = "fan_in",
                    nonlinearity: str = "leaky_relu", generator: torch.Generator | None = None,
                    *, seed: Any = None) -> Tensor:
    r"""Fill the input `Tensor` with values using a Kaiming normal distribution.

    The method is described in `Delving deep into rectifiers: Surpassing human-level
    performance on ImageNet classification` - He, K. et al. (2015). The resulting tensor will
    have values sampled from :math:`\mathcal{N}(0, \text{std}^2)` where

    .. math::
        \text{std} = \frac{\text{gain}}{\sqrt{\text{fan\_mode}}}

    Also known as He initialization. The values are ``fastinit.kaiming_normal(*shape, a=a,
    mode=mode, nonlinearity=nonlinearity, seed=s)``'s (untruncated).

    Args:
        tensor: an n-dimensional `torch.Tensor`
        a: the negative slope of the rectifier used after this layer (only used with
            ``'leaky_relu'``)
        mode: either ``'fan_in'`` (default) or ``'fan_out'``.
        nonlinearity: the non-linear function (`nn.functional` name), recommended to use only
            with ``'relu'`` or ``'leaky_relu'`` (default).
        generator: the torch Generator to draw the seed from (default: None); advanced by one draw
        seed: fastinit's seed instead of a draw from torch (keyword-only)

    A zero-element tensor is returned as it is, with torch's ``UserWarning``.

    Examples:
        >>> w = torch.empty(3, 5)
        >>> fastinit.torch.kaiming_normal_(w, mode="fan_out", nonlinearity="relu")
    """
    return _kaiming("kaiming_normal_", tensor, a, mode, nonlinearity, generator, seed, False)


def orthogonal_(tensor: Tensor, gain: float = 1, generator: torch.Generator | None = None,
                *, seed: Any = None) -> Tensor:
    r"""Fill the input `Tensor` with a (semi) orthogonal matrix.

    Described in `Exact solutions to the nonlinear dynamics of learning in deep linear neural
    networks` - Saxe, A. et al. (2013). The input tensor must have at least 2 dimensions, and
    for tensors with more than 2 dimensions the trailing dimensions are flattened:
    :math:`W = \text{gain} \cdot Q`, with :math:`Q` from the QR of a Gaussian matrix, signs
    corrected (:func:`fastinit.orthogonal`, LAPACK in place). float16, bfloat16 and complex
    tensors are filled too (torch's CPU QR refuses them).

    Args:
        tensor: an n-dimensional `torch.Tensor`, where :math:`n \geq 2`
        gain: optional scaling factor (finite)
        generator: the torch Generator to draw the seed from (default: None); advanced by one draw
        seed: fastinit's seed instead of a draw from torch (keyword-only)

    Examples:
        >>> w = torch.empty(3, 5)
        >>> fastinit.torch.orthogonal_(w)
    """
    if not isinstance(tensor, Tensor):
        raise TypeError(f"tensor: expected a torch.Tensor, got {type(tensor).__name__}")
    if tensor.ndimension() < 2:
        raise ValueError("Only tensors with 2 or more dimensions are supported")
    if not _fastinit_fills(tensor, _FLOATING, seed):
        return torch.nn.init.orthogonal_(tensor, gain, generator)
    if tensor.numel() == 0 or tensor.is_meta:
        return tensor
    return _fill(tensor, _inits.orthogonal, gain=gain, seed=_seed(tensor, generator, seed))


def sparse_(tensor: Tensor, sparsity: float, std: float = 0.01, generator: torch.Generator | None = None,
            *, seed: Any = None) -> Tensor:
    r"""Fill the 2D input `Tensor` as a sparse matrix.

    :math:`\lceil \text{sparsity} \cdot \text{rows} \rceil` zeros in every column, at random
    rows, and values drawn from :math:`\mathcal{N}(0, \text{std}^2)` elsewhere, as described in
    `Deep learning via Hessian-free optimization` - Martens, J. (2010)
    (:func:`fastinit.sparse`). ``sparsity=1`` gives zeros, as torch; a negative one raises
    ``ValueError``.

    Args:
        tensor: a 2-dimensional `torch.Tensor` (real dtypes; complex ones go to torch)
        sparsity: The fraction of elements in each column to be set to zero
        std: the standard deviation of the normal distribution used to generate the non-zero
            values
        generator: the torch Generator to draw the seed from (default: None); advanced by one draw
        seed: fastinit's seed instead of a draw from torch (keyword-only)

    Examples:
        >>> w = torch.empty(3, 5)
        >>> fastinit.torch.sparse_(w, sparsity=0.1)
    """
    if not isinstance(tensor, Tensor):
        raise TypeError(f"tensor: expected a torch.Tensor, got {type(tensor).__name__}")
    if tensor.ndimension() != 2:
        raise ValueError("Only tensors with 2 dimensions are supported")
    if not _fastinit_fills(tensor, _REAL, seed):
        return torch.nn.init.sparse_(tensor, sparsity, std, generator)
    if tensor.is_meta:
        return tensor
    rows, _ = tensor.shape
    num_zeros = math.ceil(sparsity * rows)  # torch's: ValueError for NaN, OverflowError for inf
    _probe(tensor).normal_(0, std)  # torch's errors (std < 0 or NaN)
    if tensor.numel() == 0:
        return tensor
    s = _seed(tensor, generator, seed)
    if num_zeros >= rows and sparsity >= 0:
        return _fill(tensor, _fills.zeros)
    return _fill(tensor, _fills.sparse, sparsity=sparsity, std=std, seed=s)


# for backward compatibility, as torch.nn.init
def _make_deprecate(meth: Callable[..., Tensor]) -> Callable[..., Tensor]:
    new_name = meth.__name__
    old_name = new_name[:-1]

    def deprecated_init(*args: Any, **kwargs: Any) -> Tensor:
        warnings.warn(
            f"`nn.init.{old_name}` is now deprecated in favor of `nn.init.{new_name}`.",
            FutureWarning,
            stacklevel=2,
        )
        return meth(*args, **kwargs)

    deprecated_init.__doc__ = rf"""
    {old_name}(...)

    .. warning::
        This method is now deprecated in favor of :func:`fastinit.torch.{new_name}`.

    See :func:`~fastinit.torch.{new_name}` for details."""
    deprecated_init.__name__ = deprecated_init.__qualname__ = old_name
    return deprecated_init


uniform = _make_deprecate(uniform_)
normal = _make_deprecate(normal_)
constant = _make_deprecate(constant_)
eye = _make_deprecate(eye_)
dirac = _make_deprecate(dirac_)
xavier_uniform = _make_deprecate(xavier_uniform_)
xavier_normal = _make_deprecate(xavier_normal_)
kaiming_uniform = _make_deprecate(kaiming_uniform_)
kaiming_normal = _make_deprecate(kaiming_normal_)
orthogonal = _make_deprecate(orthogonal_)
sparse = _make_deprecate(sparse_)
