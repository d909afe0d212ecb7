"""torch tensors as ``out``: filled in place through a numpy view of their memory.

A torch CPU tensor (an ``nn.Parameter`` too, with ``requires_grad`` or not) is written through
``tensor.detach().numpy()``, which shares its memory (bfloat16 through its int16 bits, viewed as
``ml_dtypes.bfloat16``): the checks see that view's shape and dtype, the kernels write into it,
and the call then bumps the tensor's version counter, as torch's own in-place ops do
(``torch.autograd.graph.increment_version``; ``detach()`` shares the counter), and returns the
user's tensor. A CUDA tensor keeps the GPU path (``__cuda_array_interface__``; a bfloat16 one
through its int16 view's, :class:`fastinit._device.Viewed`, as torch exports none for
bfloat16); its version counter is bumped the same way, and a non-contiguous one is filled chunk
by chunk on the GPU (:func:`fastinit.cuda.arrays.strided_blocks`).

A non-contiguous CPU tensor (``w.t()``, ``w[:, ::2]``) gets the values a contiguous tensor of its
shape would get: the kernels fill a contiguous chunk of at most :data:`CHUNK_BYTES` (consecutive
elements in C order, which they can make alone), which is then copied into the tensor, chunk by
chunk, so no temporary of the tensor's size is made. Where a value depends on the whole tensor
(``orthogonal``'s QR, ``stft``), the computation runs on a scratch matrix of the full size, as
it already does for ``rows=``, and is copied in. Elements that share memory (``expand()``) are
refused.

Nothing here imports torch: a tensor is recognized by its class (``torch.Tensor`` in its MRO),
and torch, then already loaded, is imported only on that path.
"""
from __future__ import annotations

import math
from typing import Any, Iterator

import numpy as np

from ._device import Viewed, overlapping

#: the most bytes of one contiguous chunk through which a non-contiguous tensor is filled
CHUNK_BYTES = 16 << 20


def is_tensor(obj: Any) -> bool:
    """Whether ``obj`` is a ``torch.Tensor`` (a Parameter or another subclass), without importing
    torch."""
    try:
        mro = type(obj).__mro__
    except Exception:
        return False
    return any(c.__name__ == "Tensor" and c.__module__ == "torch" for c in mro)


def _shown(value: Any) -> str:
    from ._checks import shown
    return shown(value)


def host_view(t: Any) -> np.ndarray:
    """The memory of the CPU tensor ``t`` as a numpy array of its shape, strides and dtype (no
    copy). ``TypeError`` or ``ValueError`` naming ``out`` for a tensor without one."""
    import torch
    if t.is_meta:
        raise ValueError("out: a meta tensor has no memory to fill (materialize it first, e.g. "
                         "module.to_empty(device='cpu'))")
    if t.device.type != "cpu":
        raise ValueError(f"out: a torch tensor on {t.device}: fastinit fills CPU tensors in place, "
                         f"and CUDA tensors through __cuda_array_interface__")
    if t.layout is not torch.strided:
        raise TypeError(f"out: a {t.layout} torch tensor; expected a dense (torch.strided) one")
    if t.is_inference() and not torch.is_inference_mode_enabled():
        # torch's own in-place ops refuse this; writing through the numpy view would not
        raise RuntimeError("out: Inplace update to inference tensor outside InferenceMode is not "
                           "allowed (the tensor was made under torch.inference_mode())")
    if t.is_conj() or t.is_neg():
        raise TypeError("out: a torch tensor with its conjugate or negative bit set (a lazy "
                        "view); fill the tensor it views")
    d = t.detach()
    try:
        if d.dtype is torch.bfloat16:
            import ml_dtypes
            return d.view(torch.int16).numpy().view(ml_dtypes.bfloat16)
        return d.numpy()
    except Exception as e:  # dtypes numpy lacks (complex32, float8, quantized), tensor subclasses
        raise TypeError(f"out: no numpy view of this torch tensor's memory (dtype {t.dtype}; "
                        f"{type(e).__name__}: {e})") from None


def adopt(out: Any) -> tuple["TorchOut | None", Any]:
    """(the adapter of a torch tensor ``out``, or None; what the checks and kernels see: a CPU
    tensor's numpy view, a CUDA tensor itself, anything else unchanged)."""
    if not is_tensor(out):
        return None, out
    if out.device.type == "cuda":
        import torch
        if out.dtype is torch.bfloat16:  # torch exports no bfloat16 interface: its int16 bits
            import ml_dtypes
            return TorchOut(out, None), Viewed(out.detach().view(torch.int16), ml_dtypes.bfloat16)
        return TorchOut(out, None), out
    view = host_view(out)
    return TorchOut(out, view), view


def chunks(shape: tuple, limit: int) -> Iterator[tuple[tuple, int, tuple]]:
    """(index, start, chunk shape) of consecutive blocks covering an array of ``shape`` in C
    order: ``index`` (ints, then a slice) picks a block of at most ``limit`` elements (or one
    element) whose elements are the flat C-order elements ``start ...`` of the array."""
    n = len(shape)
    ax = next(a for a in range(n) if math.prod(shape[a + 1:]) <= limit)
    inner = shape[ax + 1:]
    block = math.prod(inner)
    run = max(1, limit // block)
    start = 0
    for prefix in np.ndindex(*shape[:ax]):
        for j in range(0, shape[ax], run):
            k = min(run, shape[ax] - j)
            yield prefix + (slice(j, j + k),), start, (k,) + inner
            start += k * block


def _torch_alias(a: np.ndarray) -> Any:
    """A torch tensor on ``a``'s memory (no copy; dtypes torch cannot take from numpy, such as
    ml_dtypes' bfloat16, as unsigned integers of their size)."""
    import torch
    if a.dtype.kind not in "biufc":
        a = a.view(np.dtype(f"u{a.itemsize}"))
    return torch.from_numpy(a)


class TorchOut:
    """A torch tensor given as ``out``: ``view`` is its numpy view (None for a CUDA tensor)."""

    __slots__ = ("tensor", "view", "_bumped")

    def __init__(self, tensor: Any, view: np.ndarray | None) -> None:
        self.tensor = tensor
        self.view = view
        self._bumped = False

    @property
    def strided(self) -> bool:
        """A CPU tensor that is not C-contiguous: filled chunk by chunk (:meth:`blocks`)."""
        return self.view is not None and not self.view.flags.c_contiguous

    def check_out(self, view: np.ndarray, shape: tuple, dtype: np.dtype) -> np.ndarray:
        """``_checks.check_out`` for the view, contiguity aside for a non-contiguous tensor,
        whose elements must not share memory."""
        from . import _checks as ck
        if not self.strided:
            return ck.check_out(view, shape, dtype)
        if view.dtype != dtype:
            raise TypeError(f"out: dtype {view.dtype.name} does not match dtype {dtype.name}")
        if view.shape != shape:
            raise ValueError(f"out: shape {_shown(view.shape)} does not match the requested shape "
                             f"{_shown(shape)}")
        if not view.flags.writeable:
            raise ValueError("out: the array is read-only")
        if overlapping(view.shape, view.strides, view.itemsize):
            raise ValueError(f"out: elements of this non-contiguous tensor (strides "
                             f"{_shown(self.tensor.stride())}) share memory, as after expand(); "
                             f"expected a tensor whose elements are distinct")
        if not view.flags.aligned:
            raise ValueError(f"out: the tensor's data is not aligned for {view.dtype.name}")
        return view

    def blocks(self, load: bool = False) -> Iterator[tuple[np.ndarray, int]]:
        """(contiguous chunk, flat index of its first element) covering the non-contiguous
        tensor: each chunk is copied into the tensor once the caller has filled it (``load``:
        holding the tensor's values first, for an in-place kernel)."""
        view = self.view
        limit = max(1, CHUNK_BYTES // view.itemsize)
        buf = np.empty(min(limit, view.size), view.dtype)
        # the copies are torch's (multithreaded, blocked for transposes), through an alias of the
        # tensor's memory with its own version counter: the tensor's is bumped once, by done()
        alias, chunk = _torch_alias(view), _torch_alias(buf)
        for index, start, shape in chunks(view.shape, limit):
            n = math.prod(shape)
            b, tb = buf[:n].reshape(shape), chunk[:n].view(shape)
            if load:
                tb.copy_(alias[index])
            yield b, start
            alias[index].copy_(tb)

    def done(self) -> Any:
        """The user's tensor, its version counter bumped once (as an in-place op does)."""
        if not self._bumped:
            self._bumped = True
            import torch
            if not self.tensor.is_inference():  # inference tensors have no version counter
                torch.autograd.graph.increment_version(self.tensor)
        return self.tensor
