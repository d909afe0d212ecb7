r"""``fastinit.torch``: a drop-in for ``torch.nn.init`` on fastinit's kernels.

Every public name of ``torch.nn.init``, with torch's signatures, argument names, defaults,
errors, warnings and return values::

    import fastinit.torch as init          # instead of: from torch.nn import init
    init.kaiming_uniform_(layer.weight, a=5 ** 0.5)
    init.trunc_normal_(w, std=0.02, a=-0.04, b=0.04, generator=g)

More, beyond ``__all__`` (which lists torch.nn.init's names only):

- :class:`patch`: a context manager (or decorator) inside which ``torch.nn.init``'s functions,
  wherever they were imported, and the ``Tensor.normal_``/``uniform_`` methods run on these
  functions, so existing constructors (torch's layers, Hugging Face transformers, timm) do;
  process-wide while any thread is inside.
- :func:`init_module`: a whole module re-initialized as its ``reset_parameters`` would (or as
  Hugging Face's ``_init_weights``, ``scheme="hf"``), each parameter seeded by its qualified name
  through :class:`fastinit.Key`; works on ``meta``-built modules after ``to_empty``.
- :func:`init_shard_`: a shard made by hand (FSDP flat parameters, Megatron-style tensor
  parallelism) filled with its block of the whole tensor an initializer makes.

**DTensors** (``torch.distributed.tensor``, FSDP2's ``fully_shard``) whose placements are all
``Shard(dim)`` or ``Replicate()``, on any mesh, uneven shards included: every function here (and
so :func:`init_module` and :func:`patch`) fills each rank's local shard alone with its block of
the tensor one process would make, bit for bit, without communication: the shards of one seed put
together are the unsharded tensor. Seeds drawn from torch's generators are drawn on every rank
(one per call, the rank's shard empty or not), so the ranks agree when their generators are
seeded alike (``torch.manual_seed(n)`` on every rank; ``seed=`` needs nothing). Meta DTensors are
left as they are, as meta tensors; ``module.to_empty(device=...)`` materializes them.

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
  advances once per call. Zero-element and meta tensors draw nothing, and neither does a call
  that raises (the draw is made after every check). ``seed=`` (keyword-only:
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
  complex128, or for the constant patterns also the integer and bool ones; sparse layouts;
  subclasses that override
  ``__torch_function__``; tensors whose elements share memory, as after ``expand()``; fake
  tensors while ``torch.compile`` or a dispatch mode such as ``FakeTensorMode`` traces;
  DTensors with a ``Partial`` or ``_StridedShard`` placement).
  ``seed=`` is refused there. 0-d tensors and bools are taken as numbers, as torch takes them.
- A non-contiguous tensor (CPU or CUDA) is filled chunk by chunk, with no temporary of its
  size; ``orthogonal_`` on one uses a full-size scratch matrix, as its QR needs.
"""
from __future__ import annotations

import math
import contextlib
import operator
import sys
import threading
import types
import warnings
from typing import Any, Callable, Literal

import torch
from torch import Tensor

from . import fills as _fills
from . import initializers as _inits
from ._seeding import Deferred, check_seed

__all__ = [
    "calculate_gain", "uniform_", "normal_", "trunc_normal_", "constant_", "ones_", "zeros_",
    "eye_", "dirac_", "xavier_uniform_", "xavier_normal_", "kaiming_uniform_", "kaiming_normal_",
    "orthogonal_", "sparse_",
    # deprecated aliases, as in torch.nn.init
    "uniform", "normal", "constant", "eye", "dirac", "xavier_uniform", "xavier_normal",
    "kaiming_uniform", "kaiming_normal", "orthogonal", "sparse",
]

_FanMode = Literal["fan_in", "fan_out"]

# torch's own functions and Tensor methods, taken before anything can patch them: fastinit.torch
# calls these (never the names in torch.nn.init or on torch.Tensor, which patch() replaces), so
# that a call inside patch() cannot recurse into itself
_PATCHED_NAMES = (
    "uniform_", "normal_", "trunc_normal_", "constant_", "ones_", "zeros_", "eye_", "dirac_",
    "xavier_uniform_", "xavier_normal_", "kaiming_uniform_", "kaiming_normal_", "orthogonal_",
    "sparse_", "uniform", "normal", "constant", "eye", "dirac", "xavier_uniform", "xavier_normal",
    "kaiming_uniform", "kaiming_normal", "orthogonal", "sparse",
)
_TORCH_INIT = types.SimpleNamespace(
    **{name: getattr(torch.nn.init, name) for name in _PATCHED_NAMES + ("calculate_gain",)})
_T_uniform_ = torch.Tensor.uniform_
_T_normal_ = torch.Tensor.normal_

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
    local, _ = _as_shard(tensor)  # a DTensor: its local shard is what is written
    ours = (local is not None
            and local.device.type in ("cpu", "cuda", "meta") and local.dtype in dtypes
            and local.layout is torch.strided and not local.is_conj() and not local.is_neg()
            and not torch.overrides.has_torch_function_unary(local)
            # elements sharing memory (expand()): torch's own function fills or refuses them
            and not any(s == 0 and n > 1 for n, s in zip(local.shape, local.stride()))
            # fake and functional tensors under tracing (torch.compile, FakeTensorMode): no memory
            and not torch.compiler.is_compiling() and not _dispatch_mode_active())
    if not ours and seed is not None:
        raise TypeError(f"seed: fastinit does not fill this tensor ({type(tensor).__name__}, "
                        f"{tensor.dtype}, {tensor.device}); it goes to torch.nn.init, which takes "
                        f"generator= instead")
    return ours


def _dispatch_mode_active() -> bool:
    """Whether a ``TorchDispatchMode`` (FakeTensorMode, functionalization) is active."""
    depth = getattr(torch._C, "_len_torch_dispatch_stack", None)
    return bool(depth and depth())


def _as_number(value: Any) -> Any:
    """A 0-d tensor or a bool, which torch's functions take as numbers, as a Python number."""
    if isinstance(value, Tensor) and value.dim() == 0:
        return value.item()
    if isinstance(value, bool):
        return int(value)
    return value


def _seed(tensor: Tensor, generator: torch.Generator | None, seed: Any) -> Any:
    """The fastinit seed of a call: ``seed`` when given, else one 64-bit draw from
    ``generator`` or torch's default generator of ``tensor``'s device, made when the core asks
    for it, after its checks (``_seeding.Deferred``): a call that raises draws nothing. A call
    whose fill ignores the seed (a constant) takes the draw all the same (:func:`_drawn`)."""
    if seed is not None:
        if generator is not None:
            raise TypeError("generator, seed: give one or neither, got both")
        check_seed(seed)
        return seed
    device = generator.device if isinstance(generator, torch.Generator) else tensor.device
    return Deferred(lambda: int(torch.randint(-2**63, 2**63 - 1, (), generator=generator,
                                              dtype=torch.int64, device=device)))


def _drawn(tensor: Tensor, seed: Any) -> Tensor:
    """``tensor``, after the seed's draw: one draw per call that fills, whatever it fills."""
    if isinstance(seed, Deferred):
        seed.value()
    return tensor


def _fill(tensor: Tensor, fn: Callable[..., Any], **params: Any) -> Tensor:
    """``fn(out=tensor, **params)``, in place; 0-d tensors and bools among the parameters as
    numbers. A DTensor's local shard is filled with its block of the full tensor
    (:func:`_as_shard`), and the seed is drawn on every rank, its shard empty or not."""
    params = {k: v if k == "seed" else _as_number(v) for k, v in params.items()}
    local, block = _as_shard(tensor)
    if local is tensor:
        fn(out=tensor, **params)
        return tensor
    if local.numel():
        fn(*tensor.shape, out=local, block=block, **params)
    _drawn(tensor, params.get("seed"))
    if not tensor.is_inference():
        torch.autograd.graph.increment_version(tensor)  # the DTensor's own counter, as its ops do
    return tensor


# --- DTensors: each rank fills its own shard --------------------------------------------------------

def _dtensor_type() -> type | None:
    """``torch.distributed.tensor.DTensor`` where that module is loaded (else no tensor is one);
    never imports it."""
    mod = sys.modules.get("torch.distributed.tensor")
    return getattr(mod, "DTensor", None) if mod is not None else None


def _as_shard(tensor: Tensor) -> tuple[Tensor | None, tuple | None]:
    """(the tensor fastinit writes, the block of the full tensor it holds).

    A plain tensor: ``(tensor, None)``. A DTensor whose placements are all ``Shard(dim)`` or
    ``Replicate()`` (any mesh, uneven shards too): its local tensor (``to_local()``, sharing its
    memory) and that rank's block, ``slice(offset, offset + size)`` per dimension from torch's
    ``compute_local_shape_and_global_offset``; on a rank outside the mesh, its empty local
    tensor and ``()``. Another DTensor (``Partial``, ``_StridedShard``): ``(None, None)``, for
    torch's own function."""
    dtensor = _dtensor_type()
    if dtensor is None or not isinstance(tensor, dtensor):
        return tensor, None
    from torch.distributed.tensor import Replicate, Shard
    if not all(type(p) in (Shard, Replicate) for p in tensor.placements):
        return None, None
    with torch.no_grad():
        local = tensor.to_local()
    mesh = tensor.device_mesh
    if not mesh._is_current_rank_part_of_mesh():
        return local, ()
    from torch.distributed.tensor._utils import compute_local_shape_and_global_offset
    shape, offset = compute_local_shape_and_global_offset(tensor.shape, mesh, tensor.placements)
    if tuple(local.shape) != tuple(shape) or len(offset) != tensor.dim():
        return None, None
    return local, tuple(slice(o, o + n) for o, n in zip(offset, shape))


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
    return _TORCH_INIT.calculate_gain(nonlinearity, param)


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
        return _TORCH_INIT.uniform_(tensor, a, b, generator)
    _T_uniform_(_probe(tensor), a, b)  # torch's errors: a > b, bounds out of the dtype's range
    if tensor.is_meta or tensor.numel() == 0:
        return tensor
    s = _seed(tensor, generator, seed)
    if a == b:
        return _drawn(_fill(tensor, _fills.constant, value=a), s)
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
        return _TORCH_INIT.normal_(tensor, mean, std, generator)
    _T_normal_(_probe(tensor), mean, std)  # torch's errors: std < 0 or NaN, a complex mean
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
        return _TORCH_INIT.trunc_normal_(tensor, mean, std, a, b, generator)
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
        _T_normal_(_probe(tensor), mean, std)
    else:
        _T_uniform_(_probe(tensor), a, b)
    if tensor.numel() == 0:
        return tensor
    s = _seed(tensor, generator, seed)
    if a == b:
        return _drawn(_fill(tensor, _fills.constant, value=a), s)
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
        return _TORCH_INIT.constant_(tensor, val)
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
        return _TORCH_INIT.ones_(tensor)
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
        return _TORCH_INIT.zeros_(tensor)
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
        return _TORCH_INIT.eye_(tensor)
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
        return _TORCH_INIT.dirac_(tensor, groups)
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
        return _TORCH_INIT.xavier_uniform_(tensor, gain, generator)
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    bound = math.sqrt(3.0) * std
    _T_uniform_(_probe(tensor), -bound, bound)  # torch's errors (gain < 0 or NaN)
    if tensor.is_meta or tensor.numel() == 0:
        return tensor
    s = _seed(tensor, generator, seed)
    if bound == 0:
        return _drawn(_fill(tensor, _fills.zeros), s)
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
        return _TORCH_INIT.xavier_normal_(tensor, gain, generator)
    fan_in, fan_out = _calculate_fan_in_and_fan_out(tensor)
    std = gain * math.sqrt(2.0 / float(fan_in + fan_out))
    _T_normal_(_probe(tensor), 0.0, std)  # torch's errors (gain < 0 or NaN)
    if tensor.is_meta or tensor.numel() == 0:
        return tensor
    s = _seed(tensor, generator, seed)
    if std == 0:
        return _drawn(_fill(tensor, _fills.zeros), s)
    return _fill(tensor, _inits.glorot_normal, gain=gain, seed=s)


def _kaiming(name: str, tensor: Tensor, a: float, mode: str, nonlinearity: str, generator, seed,
             uniform: bool) -> Tensor:
    if not _fastinit_fills(tensor, _FLOATING, seed):
        return getattr(_TORCH_INIT, name)(tensor, a, mode, nonlinearity, generator)
    if _zero_element(tensor):
        return tensor
    fan = _calculate_correct_fan(tensor, mode)
    gain = calculate_gain(nonlinearity, a)
    std = gain / math.sqrt(fan)
    if uniform:
        bound = math.sqrt(3.0) * std
        _T_uniform_(_probe(tensor), -bound, bound)
    else:
        _T_normal_(_probe(tensor), 0, std)
    if tensor.is_meta:
        return tensor
    s = _seed(tensor, generator, seed)
    if std == 0:  # a = inf: gain 0
        return _drawn(_fill(tensor, _fills.zeros), s)
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
        return _TORCH_INIT.orthogonal_(tensor, gain, generator)
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
        return _TORCH_INIT.sparse_(tensor, sparsity, std, generator)
    if tensor.is_meta:
        return tensor
    rows, _ = tensor.shape
    num_zeros = math.ceil(sparsity * rows)  # torch's: ValueError for NaN, OverflowError for inf
    _T_normal_(_probe(tensor), 0, std)  # torch's errors (std < 0 or NaN)
    if tensor.numel() == 0:
        return tensor
    s = _seed(tensor, generator, seed)
    if num_zeros >= rows and sparsity >= 0:
        return _drawn(_fill(tensor, _fills.zeros), s)
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


# --- patch(): torch.nn.init and Tensor.normal_/uniform_ on fastinit, process-wide ----------------

#: modules known to hold torch.nn.init's functions under their own names (imported by name at
#: import time); every other loaded module holding one of them is found by a scan on entry
_KNOWN_HOLDERS = (
    "torch.nn.init", "torch.nn.modules.activation", "torch.nn.modules.transformer",
    "torch.nn.modules.linear", "torch.nn.modules.conv", "torch.nn.modules.batchnorm",
    "torch.nn.modules.normalization", "torch.nn.modules.rnn", "torch.nn.modules.sparse",
)


def _number(x: Any) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool) and math.isfinite(x)


def _method_fills(t: Any, generator: Any) -> bool:
    """Whether a patched ``Tensor.normal_``/``uniform_`` call on ``t`` goes to fastinit: a plain
    tensor or Parameter that fastinit fills, with something to fill, and an in-place op that
    autograd need not record; everything else keeps torch's method."""
    return (type(t) in (torch.Tensor, torch.nn.Parameter)
            and (generator is None or isinstance(generator, torch.Generator))
            and t.dtype in _FLOATING and t.device.type in ("cpu", "cuda") and not t.is_meta
            and _fastinit_fills(t, _FLOATING, None) and t.numel() > 0
            and not (t.requires_grad and torch.is_grad_enabled())
            and not (t.is_inference() and not torch.is_inference_mode_enabled()))


def _tensor_normal_(self: Tensor, *args: Any, **kwargs: Any) -> Tensor:
    """``Tensor.normal_(mean=0, std=1, *, generator=None)`` on fastinit inside :func:`patch`
    (:func:`normal_`'s values and seeding), torch's own method for what fastinit does not fill."""
    if len(args) <= 2 and set(kwargs) <= {"mean", "std", "generator"}:
        params = dict(zip(("mean", "std"), args))
        if not set(params) & set(kwargs):
            params.update(kwargs)
            mean, std = params.get("mean", 0.0), params.get("std", 1.0)
            generator = params.get("generator")
            if _number(mean) and _number(std) and std >= 0 and _method_fills(self, generator):
                return normal_(self, mean, std, generator)
    return _T_normal_(self, *args, **kwargs)


def _tensor_uniform_(self: Tensor, *args: Any, **kwargs: Any) -> Tensor:
    """``Tensor.uniform_(from=0, to=1, *, generator=None)`` on fastinit inside :func:`patch`
    (:func:`uniform_`'s values and seeding), torch's own method for what fastinit does not
    fill."""
    if len(args) <= 2 and set(kwargs) <= {"from", "to", "generator"}:
        params = dict(zip(("from", "to"), args))
        if not set(params) & set(kwargs):
            params.update(kwargs)
            low, high = params.get("from", 0.0), params.get("to", 1.0)
            generator = params.get("generator")
            if _number(low) and _number(high) and low <= high and _method_fills(self, generator):
                return uniform_(self, low, high, generator)
    return _T_uniform_(self, *args, **kwargs)


_tensor_normal_.__name__ = _tensor_normal_.__qualname__ = "normal_"
_tensor_uniform_.__name__ = _tensor_uniform_.__qualname__ = "uniform_"


class _PatchState:
    lock = threading.RLock()
    depth = 0
    undo: list = []  # (setter, getter, original, replacement) in the order applied


def _apply_patch() -> list:
    import sys
    replacement = {id(getattr(_TORCH_INIT, n)): (getattr(_TORCH_INIT, n), globals()[n])
                   for n in _PATCHED_NAMES}
    undo: list = []

    def swap(holder: dict, key: str) -> None:
        value = holder.get(key)
        hit = replacement.get(id(value))
        if hit is not None and hit[0] is value:
            holder[key] = hit[1]
            undo.append((holder, key, value, hit[1]))

    seen = set()
    for name in _KNOWN_HOLDERS + tuple(sys.modules):
        mod = sys.modules.get(name)
        if mod is None or id(mod) in seen:
            continue
        seen.add(id(mod))
        try:
            d = vars(mod)
        except TypeError:
            continue
        if not isinstance(d, dict):
            continue
        for key in [k for k, v in list(d.items()) if id(v) in replacement]:
            swap(d, key)
    # transformers 5 keeps torch's originals in a table its own init functions call
    hf = sys.modules.get("transformers.initialization")
    table = getattr(hf, "TORCH_INIT_FUNCTIONS", None) if hf is not None else None
    if isinstance(table, dict):
        for key in list(table):
            swap(table, key)
    # the Tensor methods model code calls directly (module.weight.data.normal_(std=...))
    tdict = torch.Tensor.__dict__
    for name, ours in (("normal_", _tensor_normal_), ("uniform_", _tensor_uniform_)):
        undo.append((torch.Tensor, name, tdict.get(name, _MISSING), ours))
        setattr(torch.Tensor, name, ours)
    return undo


_MISSING = object()


def _undo_patch(undo: list) -> None:
    for holder, key, original, ours in reversed(undo):
        if isinstance(holder, dict):
            if holder.get(key) is ours:  # leave what someone else set since
                holder[key] = original
        elif holder.__dict__.get(key) is ours:
            if original is _MISSING:
                delattr(holder, key)
            else:
                setattr(holder, key, original)


class patch(contextlib.ContextDecorator):
    """Run ``torch.nn.init`` and the ``Tensor.normal_``/``uniform_`` methods on fastinit, as a
    context manager or a decorator::

        with fastinit.torch.patch():
            model = MyTransformer(...)        # torch's layers, HF's _init_weights: fastinit's fills

        @fastinit.torch.patch()
        def build(): ...

    Inside, every public function of ``torch.nn.init`` (``uniform_`` ... ``sparse_`` and the
    deprecated names; not ``calculate_gain``) is this module's function of the same name,
    wherever it is reached: ``torch.nn.init``'s attributes, every loaded module that imported one
    by name (``torch.nn.modules.activation`` and ``.transformer`` do; a scan of ``sys.modules``
    on entry finds the others), and transformers 5's table of torch's originals
    (``transformers.initialization.TORCH_INIT_FUNCTIONS``), where transformers is loaded.
    ``torch.Tensor.normal_(mean=0, std=1, *, generator=None)`` and ``torch.Tensor.uniform_(from=0,
    to=1, *, generator=None)`` call :func:`normal_`/:func:`uniform_` for the tensors fastinit
    fills (a plain tensor or Parameter on CPU or CUDA, floating dtype, finite arguments, not an
    in-place op autograd would record); any other call keeps torch's method. Seeds come from
    torch's generators as for the functions (one 64-bit draw per call from ``generator`` or the
    device's default generator), so ``torch.manual_seed`` still governs; the values are
    fastinit's, not torch's.

    The patch is **process-wide**: while any thread is inside a ``patch()``, every thread's calls
    go to fastinit. Entries are counted under a lock (nested and concurrent use is safe): the
    first entry patches, the last exit restores the originals, on exceptions too. Modules
    imported while patched are not patched. Restoring leaves alone any name that someone else
    reassigned in the meantime.
    """

    def __enter__(self) -> "patch":
        with _PatchState.lock:
            if _PatchState.depth == 0:
                _PatchState.undo = _apply_patch()
            _PatchState.depth += 1
        return self

    def __exit__(self, *exc: Any) -> Literal[False]:
        with _PatchState.lock:
            _PatchState.depth -= 1
            if _PatchState.depth == 0:
                undo, _PatchState.undo = _PatchState.undo, []
                _undo_patch(undo)
        return False


def patched() -> bool:
    """Whether :func:`patch` is in effect (some thread is inside one)."""
    return _PatchState.depth > 0


# --- init_module(): a whole module, each parameter seeded by its qualified name ------------------

def _keyed(fn: Callable[..., Tensor], tensor: Tensor | None, key: Any, *args: Any) -> None:
    """``fn(tensor, *args, seed=key)``; a tensor fastinit does not fill (``_fastinit_fills``)
    goes to torch's function of that name with a ``torch.Generator`` seeded from ``key``."""
    if tensor is None or tensor.is_meta or tensor.numel() == 0:
        return
    if _fastinit_fills(tensor, _REAL if fn is trunc_normal_ else _FLOATING, None):
        fn(tensor, *args, seed=key)
    else:
        g = torch.Generator(device=tensor.device)
        g.manual_seed(key.value)
        getattr(_TORCH_INIT, fn.__name__)(tensor, *args, generator=g)


def _const(tensor: Tensor | None, value: float) -> None:
    if tensor is not None and not tensor.is_meta and tensor.numel():
        constant_(tensor, value)


def _zero_row(weight: Tensor, index: int | None) -> None:
    if index is None or weight.is_meta or not weight.numel():
        return
    local, block = _as_shard(weight)
    with torch.no_grad():
        if local is None or local is weight:
            weight[index].fill_(0)
        elif block:  # a DTensor: the row, where this rank's shard holds it
            row = operator.index(index) % weight.size(0)
            if block[0].start <= row < block[0].stop and local.numel():
                local[row - block[0].start].fill_(0)
                torch.autograd.graph.increment_version(weight)


def _own(mod: Any, base: type, method: str = "reset_parameters") -> bool:
    """``mod`` is a ``base`` whose ``method`` is ``base``'s (a subclass overriding it is run as
    it is, under patch())."""
    return isinstance(mod, base) and getattr(type(mod), method, None) is getattr(base, method)


def _uniform_bias(bias: Tensor | None, fan_in: int, key: Any) -> None:
    bound = 1 / math.sqrt(fan_in) if fan_in > 0 else 0
    _keyed(uniform_, bias, key, -bound, bound)


def _norm_rule(mod: Any, key: Callable[[str], Any]) -> None:
    """Weight ones, bias zeros, running statistics reset (BatchNorm's reset_running_stats)."""
    for name, value in (("weight", 1.0), ("bias", 0.0)):
        p = getattr(mod, name, None)
        if isinstance(p, Tensor):
            _const(p, value)
    for name, value in (("running_mean", 0), ("running_var", 1), ("num_batches_tracked", 0)):
        b = getattr(mod, name, None)
        if isinstance(b, Tensor):
            _const(b, value)


def _torch_rule(mod: Any, prefix: str, key: Callable[[str], Any]) -> bool:
    """The module's own reset_parameters (its parameters seeded by name); False when no rule
    applies."""
    nn = torch.nn
    if _own(mod, nn.Linear) or _own(mod, nn.modules.conv._ConvNd):
        _keyed(kaiming_uniform_, mod.weight, key("weight"), math.sqrt(5))
        if mod.bias is not None:
            _uniform_bias(mod.bias, _calculate_fan_in_and_fan_out(mod.weight)[0], key("bias"))
    elif _own(mod, nn.Bilinear):
        n = mod.weight.size(1)
        bound = 1 / math.sqrt(n) if n > 0 else 0
        _keyed(uniform_, mod.weight, key("weight"), -bound, bound)
        _keyed(uniform_, mod.bias, key("bias"), -bound, bound)
    elif _own(mod, nn.Embedding) or _own(mod, nn.EmbeddingBag):
        _keyed(normal_, mod.weight, key("weight"))
        _zero_row(mod.weight, mod.padding_idx)
    elif (_own(mod, nn.modules.batchnorm._NormBase) or _own(mod, nn.LayerNorm)
          or _own(mod, nn.GroupNorm) or _own(mod, nn.RMSNorm)):
        _norm_rule(mod, key)
    elif _own(mod, nn.RNNBase) or _own(mod, nn.RNNCellBase):
        stdv = 1.0 / math.sqrt(mod.hidden_size) if mod.hidden_size > 0 else 0
        for name, p in mod.named_parameters(recurse=False):
            _keyed(uniform_, p, key(name), -stdv, stdv)
    elif _own(mod, nn.MultiheadAttention, "_reset_parameters"):
        names = (("in_proj_weight",) if mod._qkv_same_embed_dim
                 else ("q_proj_weight", "k_proj_weight", "v_proj_weight"))
        for name in names:
            _keyed(xavier_uniform_, getattr(mod, name), key(name))
        if mod.in_proj_bias is not None:
            _const(mod.in_proj_bias, 0.0)
            _const(mod.out_proj.bias, 0.0)
        for name in ("bias_k", "bias_v"):
            _keyed(xavier_normal_, getattr(mod, name), key(name))
    else:
        return False
    return True


def _hf_rule(mod: Any, prefix: str, key: Callable[[str], Any], std: float) -> bool:
    """Hugging Face's ``PreTrainedModel._init_weights`` (transformers 5); False when no rule
    applies."""
    nn = torch.nn
    cls = type(mod).__name__
    if isinstance(mod, (nn.Linear, nn.Conv1d, nn.Conv2d, nn.Conv3d, nn.ConvTranspose1d,
                        nn.ConvTranspose2d)):
        _keyed(normal_, getattr(mod, "weight", None), key("weight"), 0.0, std)
        _const(mod.bias, 0.0)
    elif isinstance(mod, nn.LSTM):
        for name, p in mod.named_parameters(recurse=False):
            if "weight" in name:
                _keyed(xavier_uniform_, p, key(name))
            elif "bias" in name:
                _const(p, 0.0)
    elif isinstance(mod, nn.Embedding):
        _keyed(normal_, mod.weight, key("weight"), 0.0, std)
        _zero_row(mod.weight, mod.padding_idx)
    elif isinstance(mod, nn.MultiheadAttention):
        return _torch_rule(mod, prefix, key) if _own(mod, nn.MultiheadAttention, "_reset_parameters") else False
    elif (isinstance(mod, (nn.GroupNorm, nn.BatchNorm1d, nn.BatchNorm2d, nn.BatchNorm3d))
          or "LayerNorm" in cls or "RMSNorm" in cls):
        _norm_rule(mod, key)
    else:
        return False
    return True


def _rotary(mod: Any) -> bool:
    """Hugging Face's rotary embeddings: ``inv_freq`` and ``original_inv_freq`` recomputed from
    the config, as its ``_init_weights`` does (non-persistent buffers, garbage after
    ``to_empty``)."""
    if ("RotaryEmbedding" not in type(mod).__name__ or not hasattr(mod, "original_inv_freq")
            or not isinstance(getattr(mod, "inv_freq", None), Tensor) or not hasattr(mod, "config")):
        return False
    rope_type = getattr(mod, "rope_type", "default")
    fn = {"axial": getattr(mod, "compute_axial_rope_parameters", None),
          "ntk_alpha": getattr(mod, "compute_ntk_alpha_rope_parameters", None),
          "default": getattr(mod, "compute_default_rope_parameters", None)}.get(rope_type)
    if fn is None:
        from transformers.modeling_rope_utils import ROPE_INIT_FUNCTIONS
        fn = ROPE_INIT_FUNCTIONS[rope_type]
    if mod.inv_freq.is_meta:
        return True
    value, _ = fn(mod.config)
    with torch.no_grad():
        mod.inv_freq.copy_(value)
        mod.original_inv_freq.copy_(value)
    return True


def _post_order(module: Any, prefix: str, memo: set, whole: Callable[[Any], bool] | None = None):
    """(qualified name, module), children before their parent, each module once; a module for
    which ``whole(module)`` holds comes without its children (all of them then visited)."""
    if whole is not None and whole(module):
        subs = [id(m) for m in module.modules() if m is not module]
        if any(i in memo for i in subs):
            raise ValueError(f"module: {prefix or 'the model'} ({type(module).__name__}) shares a "
                             f"submodule with a module visited before it; its initialization would "
                             f"write that submodule's tensors under two names")
        memo.update(subs)
    else:
        for name, child in module._modules.items():
            if child is None or id(child) in memo:
                continue
            memo.add(id(child))
            yield from _post_order(child, f"{prefix}.{name}" if prefix else name, memo, whole)
    yield prefix, module


def _own_tensors(mod: Any) -> list:
    return [t for t in (*mod.parameters(recurse=False), *mod.buffers(recurse=False))
            if t is not None]


def _check_module_args(module: Any, scheme: Any, initializer_range: Any) -> None:
    """:func:`init_module`'s argument checks (shared with ``save_initialized``)."""
    if not isinstance(module, torch.nn.Module):
        raise TypeError(f"module: expected a torch.nn.Module, got {type(module).__name__}")
    if scheme not in ("torch", "hf"):
        raise ValueError(f"scheme: expected 'torch' or 'hf', got {scheme!r}")
    if scheme == "hf" and not (_number(initializer_range) and initializer_range >= 0):
        raise ValueError(f"initializer_range: expected a finite number >= 0, got {initializer_range!r}")


def _root_key(seed: Any) -> Any:
    """The Key every tensor's is a child of (``seed`` None: one draw from torch's default
    generator), once every check has passed; shared with ``save_initialized``."""
    from ._seeding import Key
    if seed is None:
        seed = int(torch.randint(-2**63, 2**63 - 1, (), dtype=torch.int64))
    check_seed(seed)
    return seed if isinstance(seed, Key) else Key(seed)


def init_module(module: torch.nn.Module, seed: Any = None, scheme: Literal["torch", "hf"] = "torch",
                *, initializer_range: float = 0.02) -> torch.nn.Module:
    r"""Re-initialize every parameter and buffer of ``module`` as its own initialization would,
    on fastinit, each parameter seeded by its qualified name; returns ``module``.

    Each parameter's values come from ``fastinit.Key(seed).child(qualified_name)`` (the name
    ``module.named_parameters()`` gives it, e.g. ``"layers.3.attn.in_proj_weight"``), so they
    depend only on the seed, the parameter's name, shape and dtype, and the rule: adding,
    removing or reordering other layers leaves every other layer's values unchanged, and a
    module built on the ``meta`` device and materialized with ``module.to_empty(device=...)``
    (CPU or CUDA) gets the values the same module built there would. ``seed=None`` draws one
    64-bit seed from torch's default CPU generator, so ``torch.manual_seed`` governs it.

    ``scheme="torch"``, each module's ``reset_parameters`` (``fan_in = weight.size(1) *
    receptive field``):

    =============================================== ==============================================
    module                                          rule
    =============================================== ==============================================
    Linear, Conv/ConvTranspose 1-3d                 weight ``kaiming_uniform_(a=sqrt(5))``, i.e.
                                                    U(-1/sqrt(fan_in), 1/sqrt(fan_in)); bias the
                                                    same bound (0 when fan_in is 0)
    Bilinear                                        weight and bias U(-1/sqrt(in1), 1/sqrt(in1))
    Embedding, EmbeddingBag                         weight N(0, 1), row ``padding_idx`` zero
    LayerNorm, GroupNorm, RMSNorm                   weight ones, bias zeros
    BatchNorm*, InstanceNorm*, SyncBatchNorm        weight ones, bias zeros, running_mean zeros,
                                                    running_var ones, num_batches_tracked zero
    RNN, LSTM, GRU and their cells                  every parameter U(-1/sqrt(hidden),
                                                    1/sqrt(hidden))
    MultiheadAttention                              in_proj_weight (or q/k/v_proj_weight)
                                                    ``xavier_uniform_``; in_proj_bias and
                                                    out_proj.bias zeros; bias_k, bias_v
                                                    ``xavier_normal_``; out_proj.weight as Linear
    Transformer                                     every parameter with 2 or more dimensions
                                                    ``xavier_uniform_`` (its ``_reset_parameters``)
    Transformer(Encoder|Decoder)(Layer)             their submodules' rules (Linear, LayerNorm,
                                                    MultiheadAttention)
    a class named ``*LayerNorm*``/``*RMSNorm*``      weight ones, bias zeros (Hugging Face's
    without ``reset_parameters``                    norms)
    a class named ``*RotaryEmbedding*`` with        ``inv_freq``, ``original_inv_freq`` recomputed
    ``original_inv_freq`` (Hugging Face)            from its config
    any other module with ``reset_parameters``      that method, run under :func:`patch` with
                                                    torch's default generator(s) seeded from
                                                    ``Key(seed).child(module_name)`` (forked:
                                                    restored afterwards)
    =============================================== ==============================================

    Modules are visited children first, so a parent's rule (MultiheadAttention's ``out_proj``
    bias, Transformer's xavier) overrides its children's, as in torch's constructors. A subclass
    that overrides ``reset_parameters`` is run as "any other module". A parameter or buffer no
    rule reaches is left as it is, with a ``UserWarning`` naming it. The "any other module" route
    seeds and restores torch's process-wide default generator: another thread drawing from it
    meanwhile sees (and perturbs) that module's stream. Unlike torch's
    ``TransformerEncoder``, whose layers are deep copies of one layer, each layer gets its own
    values.

    ``scheme="hf"``, Hugging Face's ``PreTrainedModel._init_weights`` (transformers 5), with
    ``std = initializer_range`` (0.02 by default, the config's ``initializer_range``), where it
    applies, else the torch rules above: Linear, Conv1-3d, ConvTranspose1-2d weight N(0, std),
    bias zeros; Embedding weight N(0, std), row ``padding_idx`` zero; LSTM weights
    ``xavier_uniform_``, biases zeros; MultiheadAttention torch's rule; GroupNorm, BatchNorm1-3d
    and classes named ``*LayerNorm*``/``*RMSNorm*`` weight ones, bias zeros, running stats reset;
    rotary embeddings as above. (A model class that overrides ``_init_weights`` has its own
    rules: build it under :func:`patch` instead.)

    **DTensor parameters** (``distribute_tensor``, ``distribute_module``, FSDP2's
    ``fully_shard``; placements ``Shard(dim)`` and ``Replicate()``, any mesh, uneven shards too):
    each rank fills its own local shard (``param.to_local()``) with its block of the tensor the
    same rule and seed give the unsharded parameter, so a module initialized on one process and
    then sharded equals the module sharded and then initialized, shard by shard, with no
    communication. The same per-name seeds apply; ``seed=None`` draws on every rank, so pass
    ``seed=`` (or seed every rank alike). A module built on the ``meta`` device and sharded is
    materialized first, as above (``model.to_empty(device="cuda")`` after ``fully_shard``). A
    module without a rule, run through its ``reset_parameters`` under :func:`patch`, shards
    exactly too where that method calls ``torch.nn.init``'s functions on whole parameters.

    Args:
        module: the ``torch.nn.Module`` to initialize in place (meta tensors are left as they are)
        seed: an int, a :class:`fastinit.Key` or None (one draw from torch's default generator)
        scheme: ``"torch"`` or ``"hf"``
        initializer_range: the standard deviation of the ``"hf"`` scheme's normal weights

    Examples:
        >>> with torch.device("meta"):
        ...     model = MyTransformer(cfg)
        >>> model = fastinit.torch.init_module(model.to_empty(device="cpu"), seed=0)
    """
    _check_module_args(module, scheme, initializer_range)
    root = _root_key(seed)
    covered: set = set()
    hf_set: set = set()
    lazy = torch.nn.parameter.UninitializedTensorMixin
    with torch.no_grad():
        for prefix, mod in _post_order(module, "", {id(module)}):
            def key(name: str, _p: str = prefix) -> Any:
                return root.child(f"{_p}.{name}" if _p else name)

            mine = _own_tensors(mod)
            if any(isinstance(t, lazy) for t in mine):
                continue
            if scheme == "hf" and (_hf_rule(mod, prefix, key, initializer_range) or _rotary(mod)):
                hf_set.update(id(t) for t in mine)
            elif _torch_rule(mod, prefix, key) or _rotary(mod):
                pass
            elif _own(mod, torch.nn.Transformer, "_reset_parameters"):
                for name, p in mod.named_parameters(prefix=prefix):
                    if p.dim() > 1 and id(p) not in hf_set:
                        _keyed(xavier_uniform_, p, root.child(name))
            elif callable(getattr(type(mod), "reset_parameters", None)):
                _reset_forked(mod, root.child(prefix))
            elif mine and ("LayerNorm" in type(mod).__name__ or "RMSNorm" in type(mod).__name__):
                _norm_rule(mod, key)
            else:
                continue
            covered.update(id(t) for t in mine)
    missed = [name for name, t in (*module.named_parameters(), *module.named_buffers())
              if id(t) not in covered and not isinstance(t, lazy)]
    if missed:
        shown = ", ".join(missed[:8]) + (f" and {len(missed) - 8} more" if len(missed) > 8 else "")
        warnings.warn(f"init_module: no rule initializes {shown}; left as they are (give the "
                      f"module a reset_parameters method)", UserWarning, stacklevel=2)
    return module


def _reset_forked(mod: Any, key: Any) -> None:
    """``mod.reset_parameters()`` under :func:`patch`, with the default generators of the
    devices it lives on seeded from ``key`` and restored afterwards."""
    cuda = sorted({t.device.index if t.device.index is not None else torch.cuda.current_device()
                   for t in _own_tensors(mod) + list(mod.parameters()) if t.device.type == "cuda"})
    with torch.random.fork_rng(devices=cuda), patch():
        torch.default_generator.manual_seed(key.value)
        for i in cuda:
            torch.cuda.default_generators[i].manual_seed(key.value)
        mod.reset_parameters()


# --- init_shard_(): a hand-made shard of a tensor ----------------------------------------------------

def _dims(name: str, value: Any, shape: tuple[int, ...]) -> tuple[int, ...]:
    """``value`` as a tuple of ints >= 0 (from a torch.Size, tuple or list), one per dimension
    of ``shape`` (``local``'s); errors name ``name``."""
    from ._checks import shown
    if isinstance(value, Tensor) or not isinstance(value, (tuple, list)):
        raise TypeError(f"{name}: expected a sequence of ints (a tuple, list or torch.Size), "
                        f"got {shown(value)}")
    dims = []
    for k, d in enumerate(value):
        try:
            if isinstance(d, bool):
                raise TypeError
            d = operator.index(d)
        except TypeError:
            raise TypeError(f"{name}: expected ints, got {shown(value[k])} at index {k} of "
                            f"{shown(value)}") from None
        if d < 0:
            raise ValueError(f"{name}: expected ints >= 0, got {d} at index {k} of {shown(value)}")
        dims.append(d)
    if len(dims) != len(shape):
        raise ValueError(f"{name}: expected {len(shape)} entries, one per dimension of local "
                         f"(shape {shown(shape)}), got {len(dims)}: {shown(value)}")
    return tuple(dims)


def init_shard_(local: Tensor, global_shape: Any, offsets: Any, initializer: Any, *,
                seed: Any = None, generator: torch.Generator | None = None) -> Tensor:
    r"""Fill ``local`` with its shard of the tensor ``initializer`` would make of shape
    ``global_shape``: the block ``[offsets[k] : offsets[k] + local.shape[k]]`` along every
    dimension ``k``, bit for bit, in time proportional to the shard.

    For frameworks that shard by hand (FSDP's flat parameters, Megatron-style tensor
    parallelism): each rank fills its own piece, and the pieces put together are the tensor one
    process would have made with the same initializer and seed, whatever the sharding. Fans are
    those of ``global_shape``, so ``kaiming_uniform(a=5 ** 0.5)`` on a row shard of a
    ``Linear(1024, 4096)`` weight has the bound of the whole weight. (``orthogonal``, one QR of
    the whole matrix, computes it all on every rank.) DTensors need none of this:
    :func:`init_module` and this module's functions fill a DTensor's local shard themselves.

    Args:
        local: the shard to fill in place: a CPU or CUDA `torch.Tensor` (non-contiguous ones
            too), of a dtype the initializer fills (float16, bfloat16, float32, float64, ...);
            a meta tensor is returned as it is
        global_shape: the shape of the whole tensor (ints, as many as ``local.dim()``)
        offsets: where ``local`` starts in the whole tensor, one int per dimension (0 for a
            dimension that is not split), with ``offsets[k] + local.shape[k] <=
            global_shape[k]``
        initializer: a :class:`fastinit.Initializer` (``fastinit.kaiming_uniform(a=5 ** 0.5)``,
            ``fastinit.normal(std=0.02)``), a fastinit function (``fastinit.orthogonal``, its
            defaults), or an identifier :func:`fastinit.get` takes (``"torch.xavier_uniform_"``,
            ``"he_normal"``: Keras' meaning, as ``get`` gives it)
        seed: fastinit's seed (an int or a :class:`fastinit.Key`), the same on every rank;
            overrides one bound in ``initializer``
        generator: the torch Generator to draw the seed from instead (one 64-bit draw)

    With neither ``seed`` nor ``generator`` nor a seed bound in ``initializer``, one seed is
    drawn from torch's default generator of ``local``'s device, as this module's functions
    draw theirs: the shards fit together only if every rank's generator is in the same state
    (``torch.manual_seed(n)`` with one ``n`` on all ranks). A seed is drawn on every call whose
    whole tensor has elements, the shard empty or not, so the generators stay in step. Bad
    arguments (numbers of dimensions, shapes or offsets that do not fit, a dtype the
    initializer does not fill) raise ``ValueError`` or ``TypeError`` naming the parameter, before anything is
    written or drawn. Returns ``local``.

    Examples:
        >>> # rank r of 2 holds rows [r * 2048, (r + 1) * 2048) of a Linear(1024, 4096) weight
        >>> w = torch.empty(2048, 1024, dtype=torch.bfloat16)
        >>> fastinit.torch.init_shard_(w, (4096, 1024), (rank * 2048, 0),
        ...                            fastinit.kaiming_uniform(a=5 ** 0.5), seed=fastinit.Key(0).child("w"))
        >>> # a column shard of an embedding table
        >>> e = torch.empty(50304, 384)
        >>> fastinit.torch.init_shard_(e, (50304, 768), (0, 384 * rank), fastinit.normal(std=0.02), seed=1)
    """
    from ._checks import renamed, shown
    from .initializer import as_initializer
    if not isinstance(local, Tensor):
        raise TypeError(f"local: expected a torch.Tensor, got {type(local).__name__}")
    dtensor = _dtensor_type()
    if dtensor is not None and isinstance(local, dtensor):
        raise TypeError("local: a DTensor; pass its local tensor (local.to_local()) with its "
                        "global shape and offsets, or fill the DTensor itself with "
                        "fastinit.torch.init_module or this module's functions, which find its shard")
    shape = tuple(local.shape)
    full = _dims("global_shape", global_shape, shape)
    offs = _dims("offsets", offsets, shape)
    for k in range(len(shape)):
        if offs[k] + shape[k] > full[k]:
            raise ValueError(f"offsets: offsets[{k}] + local.shape[{k}] = {offs[k]} + {shape[k]} "
                             f"exceeds global_shape[{k}] = {full[k]} (offsets {shown(offsets)}, "
                             f"local shape {shown(shape)}, global_shape {shown(global_shape)})")
    init = as_initializer(initializer)
    if generator is not None and not isinstance(generator, torch.Generator):
        raise TypeError(f"generator: expected a torch.Generator, got {type(generator).__name__}")
    if seed is not None or generator is not None:
        s = _seed(local, generator, seed)
    elif init.params.get("seed") is not None:
        s = init.params["seed"]
    else:
        s = _seed(local, None, None)
    if local.is_meta or math.prod(full) == 0:
        return local
    block = tuple(slice(o, o + d) for o, d in zip(offs, shape))
    with renamed({"out": "local"}):  # the core's checks, before anything is written
        init(*full, out=local, block=block, seed=s)
    _drawn(local, s)
    return local


from ._torch_save import save_initialized  # noqa: E402  (writes a meta-built model to safetensors)
