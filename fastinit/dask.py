"""Dask arrays of fastinit's initializers, made chunk by chunk on the workers that compute them.

>>> import fastinit.dask
>>> w = fastinit.dask.kaiming_uniform((4096, 4096), chunks=(1024, 512), a=5 ** 0.5, seed=1)
>>> w.to_zarr("w.zarr")                                      # doctest: +SKIP
>>> bool((w.compute() == fastinit.kaiming_uniform(4096, 4096, a=5 ** 0.5, seed=1)).all())
True

Every initializer of ``fastinit.FUNCTIONS`` (and the aliases ``xavier_*``, ``he_*``) is here
under its name, with the core function's parameters: ``f(shape, *, chunks="auto", <its
parameters>, dtype=None, seed=None, block=None)`` returns a :class:`dask.array.Array`. Each chunk
is one task, ``_chunk(init, shape, seed, slices)``, which calls the core initializer with
``block=slices`` on the worker that runs it: the graph holds only small arguments (the
:class:`fastinit.Initializer`, the full shape, the seed as an int, the chunk's slices), never
data from the client, and its keys are a hash of those arguments (the same call gives the same
keys). ``.compute()`` equals the in-memory ``fastinit.f(shape, seed=seed, ...)`` bit for bit
for any chunking, uneven chunks included, in every dtype the core takes (float16, bfloat16,
float32, float64, complex, and the integer dtypes of the constant fills): the core's ``block=``
gives exactly ``full[block]``. Writing the array to a Zarr store (``w.to_zarr(store)``,
:func:`dask.array.to_zarr`) makes and writes one chunk per task, so a worker holds a few chunks
at a time whatever the array's size. Zarr has no bfloat16: store its bits,
``w.view("uint16").to_zarr(store)``, and read them back with ``.view(ml_dtypes.bfloat16)``.

``seed=None`` is resolved once, when the array is made, by one draw from fastinit's generator
(:func:`fastinit.seed` resets it), so every chunk uses the same seed; a ``fastinit.Key`` or a
``numpy.random.Generator`` (one draw) becomes its 64-bit integer the same way.

:func:`orthogonal` is the exception: its values are one computation over the whole matrix, so
with more than one chunk it is the tall-and-skinny QR of the same Gaussian matrix
(:func:`dask.array.linalg.qr`), sign-corrected as the core is (``W = Q * sign(diag R)``): equal
to ``fastinit.orthogonal`` to rounding (about 1e-6 in float32), not bit for bit. With one chunk
it is the core's result, bit for bit.

:func:`from_initializer` makes the array of any :class:`fastinit.Initializer` (``fastinit.get``'s
identifiers included: ``"torch.normal_"``, ``"he_normal"``). ``import fastinit`` never imports
dask; ``import fastinit.dask`` does (``pip install fastinit[dask]``).
"""
from __future__ import annotations

import inspect
import itertools
import math
import numbers
from typing import Any, Callable

import numpy as np

try:
    import dask.array as da
    from dask.array.core import normalize_chunks
    from dask.base import tokenize
    from dask.highlevelgraph import HighLevelGraph
except ImportError as e:  # pragma: no cover - exercised where dask is missing
    raise ImportError(f"fastinit.dask needs dask[array] ({e}): pip install 'fastinit[dask]'") from e

from . import _checks as ck
from ._seeding import seed64
from .initializer import ALIASES, FUNCTIONS, Initializer, as_initializer

__all__ = ["from_initializer", *FUNCTIONS, *ALIASES]

#: parameters of the core functions that a dask array does not take, and why
_REFUSED = {
    "out": "fastinit.dask makes a new dask array; to fill an existing array use dask.array.store "
           "(or the core function's out=)",
    "rows": "give block=(slice(a, b),) instead",
    "device": "fastinit.dask makes numpy chunks on the host",
}


# --- the task ------------------------------------------------------------------------------------

def _chunk(init: Initializer, shape: tuple, seed: int, block: tuple) -> np.ndarray:
    """One chunk: ``full[block]`` of ``init``'s tensor of ``shape`` for ``seed``, made where the
    task runs."""
    return init(shape, seed=seed, block=block)


# --- checks ----------------------------------------------------------------------------------------

def _chunks(chunks: Any, shape: tuple[int, ...], dtype: np.dtype) -> tuple[tuple[int, ...], ...]:
    """``chunks`` normalized by dask for ``shape``; ``ValueError`` naming ``chunks``."""
    if chunks is None:
        raise ValueError('chunks: expected "auto", an int, a tuple or a dict, got None')
    try:
        out = normalize_chunks(chunks, shape, dtype=dtype)
    except Exception as e:  # dask raises ValueError, TypeError, ZeroDivisionError... for bad chunks
        raise ValueError(f"chunks: {ck.shown(chunks)} does not chunk the shape {ck.shown(shape)}: "
                         f"{type(e).__name__}: {e}") from None
    if len(out) != len(shape):
        raise ValueError(f"chunks: {ck.shown(chunks)} gives {len(out)} dimensions for the shape "
                         f"{ck.shown(shape)}")
    for axis, (c, n) in enumerate(zip(out, shape)):
        if not all(isinstance(x, numbers.Integral) and x >= 0 for x in c) or sum(c) != n:
            raise ValueError(f"chunks: {ck.shown(chunks)} gives chunks {ck.shown(c)} for axis {axis} "
                             f"of length {n}: need known non-negative sizes adding up to {n}")
    return tuple(tuple(int(x) for x in c) for c in out)


def _resolve(init: Any, shape: Any, seed: Any, dtype: Any, block: Any):
    """The checked pieces of an array: the Initializer (``dtype`` bound, ``seed`` not), the full
    shape, the seed as an int, and the block's (start, stop) per axis."""
    init = as_initializer(init, "init")
    params = dict(init.params)
    device = params.pop("device", None)
    if device is not None and not (isinstance(device, str) and device.strip().lower() == "cpu"):
        raise TypeError(f"device: not with fastinit.dask ({_REFUSED['device']}), got {ck.shown(device)}")
    bound_seed = params.pop("seed", None)
    if seed is None:
        seed = bound_seed
    if dtype is not None:
        params["dtype"] = dtype
    init = Initializer(init.name, **params)  # TypeError naming a parameter (dtype too) it lacks
    full = ck.shape_arg(shape)
    box = ck.block_box(None, block, full)
    s = int(seed64(seed))  # seed=None: one draw, here on the client
    return init, full, s, box


def _probe(init: Initializer, full: tuple, seed: int, box: tuple) -> tuple[np.dtype, tuple]:
    """Run ``init``'s checks for ``full`` at no cost (an empty block); returns the dtype and the
    trailing axes the result has beyond the shape (``(2,)`` for the ``C16`` functions, which give
    complex32 values as float16 (real, imaginary) pairs; else ``()``)."""
    if not full:
        probe = np.asarray(init(full, seed=seed))  # one value
    else:
        a = box[0][0]
        empty = (slice(a, a),) + tuple(slice(lo, hi) for lo, hi in box[1:])
        probe = init(full, seed=seed, block=empty)
    return probe.dtype, tuple(probe.shape[len(full):])


# --- the graph -------------------------------------------------------------------------------------

def _blocks(init: Initializer, full: tuple, seed: int, box: tuple, chunks: tuple,
            dtype: np.dtype) -> da.Array:
    """The dask array of ``full[box]`` in ``chunks``: one :func:`_chunk` task per chunk (axes
    beyond ``full``'s, the ``C16`` functions' pairs, are one chunk)."""
    name = "fastinit-" + init.name + "-" + tokenize("fastinit", repr(init), full, seed, box, chunks,
                                                    dtype.str, dtype.name)
    starts = [list(itertools.accumulate((lo,) + c[:-1])) for (lo, _), c in zip(box, chunks)]
    dsk = {}
    for idx in itertools.product(*(range(len(c)) for c in chunks[:len(full)])):
        block = tuple(slice(starts[ax][i], starts[ax][i] + chunks[ax][i]) for ax, i in enumerate(idx))
        dsk[(name,) + idx + (0,) * (len(chunks) - len(full))] = (_chunk, init, full, seed, block)
    graph = HighLevelGraph.from_collections(name, dsk, dependencies=())
    return da.Array(graph, name, chunks, meta=np.empty((0,) * len(chunks), dtype))


def from_initializer(init: Any, shape: int | tuple[int, ...], *, chunks: Any = "auto",
                     seed: Any = None, dtype: Any = None, block: Any = None) -> da.Array:
    """The dask array of an initializer's tensor, made chunk by chunk on the workers.

    Parameters
    ----------
    init : fastinit.Initializer, fastinit function or str
        What to make: ``fastinit.kaiming_normal(gain=1.0)``, ``fastinit.normal``, or an
        identifier as for :func:`fastinit.get` (``"torch.normal_"``, ``"he_normal"``).
    shape : int or tuple of int
        The full tensor's shape (its fans, for the variance-scaling initializers).
    chunks : "auto", int, tuple or dict
        The result's chunks, as for :func:`dask.array.zeros`
        (:func:`dask.array.core.normalize_chunks`) of ``full[block]``'s shape; uneven chunks
        are fine. (The ``C16`` functions, whose complex32 values are float16 (real, imaginary)
        pairs, add a trailing axis of 2, one chunk.)
    seed : int, fastinit.Key, numpy.random.Generator or None
        ``None``: the seed ``init`` binds, else one draw from fastinit's generator. Resolved
        here, once, to the 64-bit integer every chunk uses.
    dtype : dtype, optional
        Overrides ``init``'s (default float32, or the function's own: ``zeros16`` is float16).
    block : tuple of slice, optional
        The array is ``full[block]`` of the full tensor (slices with step 1, one per leading axis).

    Returns
    -------
    dask.array.Array
        Of ``full[block]``'s shape and the initializer's dtype; ``.compute()`` equals
        ``init(shape, seed=seed, dtype=dtype, block=block)`` bit for bit (``orthogonal``: see
        :func:`orthogonal`).

    Raises
    ------
    TypeError, ValueError
        Naming the parameter (``shape``, ``chunks``, ``block``, ``dtype``, ``seed``, or one of
        the initializer's), before any graph is built.

    Examples
    --------
    >>> import fastinit, fastinit.dask
    >>> w = fastinit.dask.from_initializer("torch.normal_", (64, 32), chunks=(16, 32), seed=0)
    >>> bool((w.compute() == fastinit.get("torch.normal_")(64, 32, seed=0)).all())
    True
    """
    init, full, s, box = _resolve(init, shape, seed, dtype, block)
    if init.name == "orthogonal":
        return _orthogonal(init, full, chunks, s, block)
    dt, pairs = _probe(init, full, s, box)
    result = tuple(hi - lo for lo, hi in box)
    return _blocks(init, full, s, box, _chunks(chunks, result, dt) + tuple((k,) for k in pairs), dt)


# --- orthogonal: tall-and-skinny QR ---------------------------------------------------------------

def _orthogonal(init: Initializer, full: tuple, chunks: Any, seed: int, block: Any) -> da.Array:
    """:func:`orthogonal`'s array: the core's with one chunk, else dask's TSQR of the core's
    Gaussian matrix with the core's sign correction and layout."""
    from .fans import LAYOUTS
    from .initializers import _axis, _choice
    if block is not None:
        raise ValueError(f"block: orthogonal's dask array is the QR of the whole matrix; slice the "
                         f"result instead (fastinit.dask.orthogonal(shape, ...)[...]), got "
                         f"block={ck.shown(block)}")
    if len(full) < 2:
        raise ValueError(f"shape: orthogonal needs at least 2 dimensions, got {ck.shown(full)}")
    p = init.params
    gain = ck.real("gain", p.get("gain", 1.0))
    layout = _choice("layout", p.get("layout", "torch"), LAYOUTS)
    column_axis = p.get("column_axis")
    dt = init((1,) * len(full), seed=seed).dtype  # the parameters' checks, on a 1 x 1 matrix
    nd = len(full)
    ax = nd - 1 if column_axis is None else _axis("column_axis", column_axis, nd)
    moved = full[:ax] + full[ax + 1:] + (full[ax],)
    torch_like = column_axis is None and layout in ("torch", "keraflow")
    if torch_like:
        m, n = full[0], math.prod(full[1:])
    else:
        m, n = math.prod(moved[:-1]), moved[-1]
    # the axis of `moved` that runs along the matrix's long side, and may be split
    if m >= n:
        long_moved = 0
    else:
        long_moved = 1 if torch_like else nd - 1
    long_full = ax if long_moved == nd - 1 else (long_moved if long_moved < ax else long_moved + 1)
    if isinstance(chunks, str) and chunks == "auto":
        chunks = tuple("auto" if i == long_full else -1 for i in range(nd))
    norm = _chunks(chunks, full, dt)
    if all(len(c) == 1 for c in norm):  # one chunk: the core's own result, bit for bit
        return _blocks(init, full, seed, tuple((0, d) for d in full), norm, dt)
    bad = [i for i, c in enumerate(norm) if i != long_full and len(c) > 1]
    if bad:
        hint = tuple(max(norm[i]) if i == long_full else -1 for i in range(nd))
        raise ValueError(
            f"chunks: orthogonal of shape {ck.shown(full)} is the QR of a {m} x {n} matrix, computed "
            f"tall-and-skinny (dask.array.linalg.qr): only axis {long_full} (the matrix's long side) "
            f"may be split, got chunks {ck.shown(chunks)} splitting axis {bad[0]}; e.g. chunks={hint}, "
            f"or one chunk (chunks=-1) for the in-memory result")
    work = np.dtype(np.float32) if ck.bits16(dt) is not None else dt
    moved_chunks = norm[:ax] + norm[ax + 1:] + (norm[ax],)
    g = _blocks(Initializer("normal", dtype=work), moved, seed, tuple((0, d) for d in moved),
                moved_chunks, work)  # the core's Gaussian matrix, bit for bit
    a = g.reshape(m, n)
    q, r = da.linalg.qr(a if m >= n else a.T)
    d = da.diagonal(r)
    if work.kind == "c":
        sign = da.where(d == 0, 1, d / da.where(d == 0, 1, abs(d))).astype(work)
    else:
        sign = da.where(d < 0, -1, 1).astype(work)
    w = q * sign[None, :]
    if m < n:
        w = w.T
    if gain != 1.0:
        w = w * work.type(gain)
    w = da.moveaxis(w.reshape(moved), -1, ax)
    if w.dtype != dt:
        w = w.astype(dt)
    return w if w.chunks == norm else w.rechunk(norm)


# --- one function per initializer ------------------------------------------------------------------

#: shapes and parameters for the examples, where the defaults do not fit
_EXAMPLES = {
    "sparse": ((64, 32), ", sparsity=0.5"), "constant": ((64, 32), ", value=0.5"),
    "dirac": ((8, 4, 3, 3), ""), "delta_orthogonal": ((3, 3, 16, 32), ""), "stft": ((64, 1, 33), ""),
}

_DOC = """A dask array of :func:`fastinit.{name}`'s tensor, made chunk by chunk on the workers.

Each chunk is one task calling ``fastinit.{name}(shape, ..., block=<the chunk's slices>)`` where
it runs; the graph holds the Initializer, the shape, the seed and the slices, no data.
``.compute()`` equals ``fastinit.{name}(shape, seed=seed, ...)`` bit for bit, for any chunking.

Parameters
----------
shape : int or tuple of int
    The full tensor's shape (the fans are this shape's).
chunks : "auto", int, tuple or dict
    The result's chunks, as for :func:`dask.array.zeros` (keyword-only; default ``"auto"``).
{params}seed : int, fastinit.Key, numpy.random.Generator or None
    Resolved once, when the array is made, to the 64-bit integer every chunk uses
    (``None``: one draw from fastinit's generator, :func:`fastinit.seed`).
block : tuple of slice, optional
    The array is ``full[block]`` of the full tensor (step-1 slices, one per leading axis).

Returns
-------
dask.array.Array

Raises
------
TypeError, ValueError
    Naming the parameter (``shape``, ``chunks``, ``block``, ``seed`` or one above), before any
    graph is built.

Examples
--------
>>> import fastinit, fastinit.dask
>>> w = fastinit.dask.{name}({shape}, chunks=16{extra}, seed=0)
>>> bool((w.compute() == fastinit.{name}({shape}{extra}, seed=0)).all())
True
"""

_ORTHOGONAL_DOC = """A dask array of :func:`fastinit.orthogonal`'s (semi-)orthogonal matrix.

With one chunk (``chunks=-1``) the chunk is ``fastinit.orthogonal``'s result, bit for bit. With
more, the array is the tall-and-skinny QR (:func:`dask.array.linalg.qr`) of the same Gaussian
matrix (made chunk by chunk, bit for bit the core's), with the core's sign correction: for the
``m x n`` matrix the shape flattens to (``layout``, ``column_axis`` as for
:func:`fastinit.orthogonal`), ``m >= n``: ``A = QR``, ``W = gain * Q * sign(diag R)``; ``m < n``:
the same for ``A^T``, transposed. ``W`` is Haar-distributed as the core's and equals it to
rounding (about 1e-6 in float32), not bit for bit: the two QR algorithms round differently.
float16 and bfloat16 are computed in float32 and rounded, as the core does.

The QR needs every chunk to hold whole rows of the tall matrix: only the shape's axis that runs
along the matrix's long side may be split (axis 0 for a tall ``torch`` layout matrix, the
column axis for a wide one; ``"auto"`` chunks that axis only).

Parameters
----------
shape : tuple of int
    At least 2 dimensions.
chunks : "auto", int, tuple or dict
    The result's chunks (keyword-only; default ``"auto"``), splitting the long side only.
{params}seed : int, fastinit.Key, numpy.random.Generator or None
    Resolved once, when the array is made, to the 64-bit integer every chunk uses.
block : None
    Not supported (the QR is of the whole matrix): slice the result.

Returns
-------
dask.array.Array

Raises
------
ValueError
    ``chunks`` splitting an axis other than the long side's, ``shape`` with fewer than 2
    dimensions, ``block``; and the parameters' errors, as for the core function.

Examples
--------
>>> import numpy as np, fastinit, fastinit.dask
>>> w = fastinit.dask.orthogonal((512, 64), chunks=(128, 64), seed=0)
>>> bool(np.allclose(w.compute(), fastinit.orthogonal(512, 64, seed=0), atol=1e-5))
True
"""


def _param_doc(name: str, keep: list[inspect.Parameter]) -> str:
    own = [p.name for p in keep if p.name not in ("seed", "block", "dtype")]
    lines = ""
    if own:
        lines += f"{', '.join(own)}\n    As for :func:`fastinit.{name}`.\n"
    if any(p.name == "dtype" for p in keep):
        lines += (f"dtype : dtype, optional\n    As for :func:`fastinit.{name}` (default float32; "
                  f"float16 and bfloat16 are the float32 values rounded).\n")
    return lines


def _make(name: str) -> Callable[..., da.Array]:
    core = FUNCTIONS[name]
    core_params = inspect.signature(core).parameters
    keep = [p for k, p in core_params.items()
            if p.kind is inspect.Parameter.KEYWORD_ONLY and k not in _REFUSED]
    known = {p.name for p in keep}
    sig = inspect.Signature(
        [inspect.Parameter("shape", inspect.Parameter.POSITIONAL_ONLY, annotation="int | tuple[int, ...]"),
         inspect.Parameter("chunks", inspect.Parameter.KEYWORD_ONLY, default="auto", annotation="Any"),
         *keep],
        return_annotation="dask.array.Array")

    def f(*args: Any, **kwargs: Any) -> da.Array:
        if len(args) != 1:
            raise TypeError(f"{name}: expected one positional argument, the shape as one tuple "
                            f"(fastinit.dask.{name}((1024, 512), chunks=...)), got {len(args)}")
        for k in kwargs:
            if k in _REFUSED:
                raise TypeError(f"{k}: not with fastinit.dask.{name} ({_REFUSED[k]})")
            if k not in known and k != "chunks":
                raise TypeError(f"{name}: unexpected parameter {ck.shown(k)} (parameters: shape, "
                                f"chunks, {', '.join(p.name for p in keep)})")
        chunks = kwargs.pop("chunks", "auto")
        seed = kwargs.pop("seed", None)
        block = kwargs.pop("block", None)
        return from_initializer(Initializer(name, **kwargs), args[0], chunks=chunks, seed=seed,
                                block=block)

    shape, extra = _EXAMPLES.get(name, ((64, 32), ""))
    template = _ORTHOGONAL_DOC if name == "orthogonal" else _DOC
    f.__doc__ = template.format(name=name, params=_param_doc(name, keep), shape=shape, extra=extra)
    f.__name__ = f.__qualname__ = name
    f.__module__ = __name__
    f.__signature__ = sig  # type: ignore[attr-defined]
    f.__annotations__ = {"shape": "int | tuple[int, ...]", "chunks": "Any",
                         **{p.name: p.annotation for p in keep}, "return": "dask.array.Array"}
    return f


for _name in FUNCTIONS:
    globals()[_name] = _make(_name)
for _alias, _target in ALIASES.items():
    globals()[_alias] = globals()[_target]
del _name, _alias, _target
