"""``fastinit.torch.save_initialized``: a model built on the ``meta`` device, initialized as
:func:`fastinit.torch.init_module` would, written straight to safetensors one module at a time."""
from __future__ import annotations

import copy
import os
import warnings
from typing import Any, Literal, Mapping

import torch

from . import files

__all__ = ["save_initialized"]

_CODES = {torch.float64: "F64", torch.float32: "F32", torch.float16: "F16", torch.bfloat16: "BF16",
          torch.complex64: "C64", torch.int64: "I64", torch.int32: "I32", torch.int16: "I16",
          torch.int8: "I8", torch.uint8: "U8", torch.bool: "BOOL"}
for _name, _code in (("uint16", "U16"), ("uint32", "U32"), ("uint64", "U64")):
    if hasattr(torch, _name):
        _CODES[getattr(torch, _name)] = _code


def _reaches(mod: torch.nn.Module) -> bool:
    """Whether ``mod``'s initialization may write its children's tensors (``MultiheadAttention``'s
    ``out_proj``, ``Transformer``'s every matrix, or a ``reset_parameters`` of its own): then its
    whole subtree is materialized together."""
    if not mod._modules:
        return False
    nn = torch.nn
    return isinstance(mod, (nn.MultiheadAttention, nn.Transformer)) or callable(
        getattr(type(mod), "reset_parameters", None))


def _units(module: torch.nn.Module):
    """(qualified name, module, whole subtree?) in ``init_module``'s order (children first), each
    module once; a module whose initialization reaches into its children with its subtree."""
    from .torch import _post_order
    for prefix, mod in _post_order(module, "", {id(module)}, _reaches):
        whole = _reaches(mod)
        if whole or mod._parameters or mod._buffers:
            yield prefix, mod, whole


def _materialize(t: torch.Tensor, dtype: torch.dtype | None) -> torch.Tensor:
    """A CPU tensor for ``t``: zeros for a meta tensor, a copy otherwise; in ``dtype`` if floating."""
    dt = dtype if (dtype is not None and t.is_floating_point()) else t.dtype
    if t.is_meta:
        new = torch.zeros(t.shape, dtype=dt)
    else:
        new = t.detach().to(device="cpu", dtype=dt, copy=True)
    if isinstance(t, torch.nn.Parameter):
        return torch.nn.Parameter(new, requires_grad=t.requires_grad and new.is_floating_point())
    return new


def _copy_unit(mod: torch.nn.Module, whole: bool, dtype) -> tuple[torch.nn.Module, list]:
    """A materialized copy of ``mod`` (its subtree when ``whole``, else its own tensors only, its
    children left out), and the pairs (original tensor, copy)."""
    pairs: list = []
    memo: dict = {}  # id of a tensor -> its materialized copy (shared tensors: one copy)
    for sub in (mod.modules() if whole else (mod,)):
        for t in (*sub._parameters.values(), *sub._buffers.values()):
            if t is not None and id(t) not in memo:
                memo[id(t)] = _materialize(t, dtype)
                pairs.append((t, memo[id(t)]))
    if whole:
        clone = copy.deepcopy(mod, memo)  # the tensors taken from memo: none copied twice
    else:
        clone = type(mod).__new__(type(mod))
        clone.__dict__.update(mod.__dict__)
        object.__setattr__(clone, "_modules", {})
        for table in ("_parameters", "_buffers"):
            object.__setattr__(clone, table, {k: None if t is None else memo[id(t)]
                                              for k, t in getattr(mod, table).items()})
    return clone, pairs


def _host(prefix: str, unit: torch.nn.Module) -> torch.nn.Module:
    """``unit`` placed at ``prefix`` in empty modules, so that ``init_module`` names (and seeds)
    its tensors by their qualified names in the whole model."""
    if not prefix:
        return unit
    root = torch.nn.Module()
    at = root
    parts = prefix.split(".")
    for part in parts[:-1]:
        nxt = torch.nn.Module()
        at.add_module(part, nxt)
        at = nxt
    at._modules[parts[-1]] = unit
    return root


def save_initialized(module: torch.nn.Module, path: str | os.PathLike, seed: Any = None,
                     dtype: torch.dtype | None = None, *, scheme: Literal["torch", "hf"] = "torch",
                     initializer_range: float = 0.02, max_shard_size: int | str | None = None,
                     overwrite: bool = False, progress: bool = False,
                     metadata: Mapping[str, str] | None = None) -> list[str]:
    """Write the state dict that :func:`init_module` would give ``module`` to a safetensors file,
    without ever holding the model in memory.

    >>> with torch.device("meta"):
    ...     model = MyTransformer(cfg)                   # no memory
    >>> fastinit.torch.save_initialized(model, "model.safetensors", seed=0, dtype=torch.bfloat16)
    >>> model = MyTransformer(cfg)                       # later, anywhere
    >>> model.load_state_dict(safetensors.torch.load_file("model.safetensors"))

    The values are those of ``init_module(model.to_empty(device="cpu").to(dtype), seed,
    scheme)``: every tensor seeded by its qualified name. Modules are materialized on the CPU
    one at a time (their own tensors; a module whose initialization reaches into its children,
    ``MultiheadAttention``, ``nn.Transformer`` or one with its own ``reset_parameters`` and
    submodules, with its subtree), initialized, written at their place in the file and dropped,
    so the memory needed is the largest such module, not the model. ``module`` itself is left
    as it is (meta or not; tensors that are not on ``meta`` are taken as they are where no rule
    initializes them).

    Args:
        module: a ``torch.nn.Module``, typically built on the ``meta`` device.
        path: ``NAME.safetensors``.
        seed: an int, a :class:`fastinit.Key`, or None (one draw from torch's default generator,
            as :func:`init_module`).
        dtype: the floating-point dtype to write (``torch.bfloat16``...); default: each tensor's own.
        scheme, initializer_range: as for :func:`init_module`.
        max_shard_size, overwrite, progress, metadata: as for :func:`fastinit.save`.

    Returns:
        The paths written. Tensors that no rule initializes and that live on ``meta`` are written
        as zeros, with a ``UserWarning`` naming them (``init_module`` leaves them as they are).
        Tied parameters appear under each of their names, as in ``module.state_dict()``.
    """
    from .torch import _check_module_args, _root_key, init_module
    _check_module_args(module, scheme, initializer_range)
    if dtype is not None and (not isinstance(dtype, torch.dtype) or not dtype.is_floating_point):
        raise TypeError(f"dtype: expected a floating-point torch.dtype (torch.bfloat16, ...) or None, got {dtype!r}")
    if files.target_format(path) != ".safetensors":
        raise ValueError(f"path: save_initialized writes safetensors; give a path ending in .safetensors, "
                         f"got {os.fspath(path)!r}")
    lazy = torch.nn.parameter.UninitializedTensorMixin
    state = module.state_dict(keep_vars=True)
    names: dict[int, list[str]] = {}
    entries = []
    for name, t in state.items():
        if not isinstance(t, torch.Tensor):
            raise TypeError(f"module: state_dict entry {name!r} is not a tensor ({type(t).__name__}); "
                            f"safetensors holds tensors only")
        if isinstance(t, lazy):
            raise ValueError(f"module: {name!r} is an uninitialized lazy parameter; run the model once "
                             f"(or build it with explicit sizes) first")
        dt = dtype if (dtype is not None and t.is_floating_point()) else t.dtype
        if dt not in _CODES:
            raise TypeError(f"module: {name!r} has dtype {dt}, which safetensors does not hold "
                            f"(supported: {', '.join(str(d) for d in _CODES)})")
        names.setdefault(id(t), []).append(name)
        entries.append((name, _CODES[dt], tuple(t.shape), t.numel() * dt.itemsize))
    units = list(_units(module))  # ValueError for a unit sharing a module visited before it
    root = _root_key(seed)  # after every check: a bad call draws nothing
    meta = {**files._check_metadata(metadata), "fastinit.seed": str(root.value), "fastinit.scheme": scheme}
    limit = None if max_shard_size is None else files.parse_size(max_shard_size, "max_shard_size")
    layout = files.safetensors_layout(os.fspath(path), entries, max_shard_size=limit, metadata=meta)
    written: set[int] = set()
    zeros: dict[int, list] = {}  # id of a tensor no rule has written (yet) -> its names
    bar = files.Progress(layout.data_bytes, os.path.basename(os.fspath(path)), bool(progress))
    try:
        with files.sigterm_raises(), files.Output(layout, bool(overwrite)) as out:
            for prefix, mod, whole in units:
                clone, pairs = _copy_unit(mod, whole, dtype)
                before = {id(c): c._version for _, c in pairs}
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", UserWarning)  # no rule: reported below, once
                    init_module(_host(prefix, clone), seed=root, scheme=scheme,
                                initializer_range=initializer_range)
                for orig, c in pairs:
                    keys = names.get(id(orig))
                    if not keys:
                        continue  # a non-persistent buffer: not in the state dict
                    changed = c._version != before[id(c)]
                    if orig.is_meta and not changed and id(orig) in written:
                        continue  # tied: a rule already wrote it, and this module's leaves it
                    if not changed and orig.is_meta:
                        zeros.setdefault(id(orig), keys)
                    else:  # written by a rule here (a tied tensor another module left at zero)
                        zeros.pop(id(orig), None)
                    data = c.detach().contiguous().reshape(-1).view(torch.uint8).numpy()
                    for key in keys:
                        file, offset = layout.where[key]
                        out.write(file, offset, data)
                        if id(orig) not in written:
                            bar.update(data.nbytes)  # once per name: the total counts each
                    written.add(id(orig))
                del clone, pairs
    finally:
        bar.close()
    zeros = list(dict.fromkeys(k for keys in zeros.values() for k in keys))
    if zeros:
        shown = ", ".join(zeros[:8]) + (f" and {len(zeros) - 8} more" if len(zeros) > 8 else "")
        warnings.warn(f"save_initialized: no rule initializes {shown}; written as zeros (give the module "
                      f"a reset_parameters method)", UserWarning, stacklevel=2)
    return layout.paths
