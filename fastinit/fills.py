"""The basic fills: uniform, normal, truncated normal, sparse and constant tensors.

Every fill has the shape ``f(*shape, dtype=None, seed=None, out=None, rows=None, **params)``:

- ``shape``: ints, or one tuple; may be left out when ``out`` is given (then ``out.shape``).
  With neither, the call returns an :class:`fastinit.Initializer` holding the parameters
  (``fastinit.normal(std=0.02)(256, 128)``); a 0-dimensional tensor is ``f(())``.
- ``dtype``: float16, bfloat16, float32 (the default, or ``out``'s dtype) or float64; uniform, normal and
  the constants also take complex64 and complex128.
- ``seed``: an int, a :class:`fastinit.Key`, a ``numpy.random.Generator`` or ``None`` (see
  :func:`fastinit.seed`). The
  values depend only on the seed, the shape, the dtype and the parameters: never on the number
  of threads, and the same on every machine (README, "Reproducibility").
- ``out``: a writable C-contiguous array of the right shape and dtype to fill in place and
  return: a numpy array, a torch CPU tensor or Parameter (through a numpy view of its memory;
  a non-contiguous one chunk by chunk, see :mod:`fastinit._torch_out`), or on the GPU any array
  with ``__cuda_array_interface__`` (CuPy, torch CUDA tensors, numba device arrays).
- ``device``: ``"cpu"``, ``"cuda"`` or ``"cuda:N"``; ``None`` (the default) means ``out``'s device,
  else the host. On the GPU the same kernels' twins (:mod:`fastinit.cuda`) give the same values,
  and a new tensor is a numba device array.
- ``rows``: ``slice(a, b)`` returns only leading-axis rows ``a:b`` of the tensor the full call
  makes, bit-identical to them, in time proportional to their size (sharded initialization).
- ``block``: a tuple of slices (step 1), one per leading axis (axes left out are whole), returns
  ``full[block]`` of the tensor the full call makes, bit-identical, the random fills in time
  proportional to the block's elements plus at most one stream block (4096 elements) of
  random-number steps per run of consecutive elements in memory: blocks whose last axis is
  whole, or whose runs are long, cost what their elements cost; narrow column blocks pay per
  row (README, "Blocks"). ``orthogonal`` computes the whole matrix for any block.

Float16 and bfloat16 values are the float32 values rounded to nearest; complex values have real and
imaginary parts drawn as interleaved reals (the tensor's real view).
"""
from __future__ import annotations

import functools
import math
import numbers
from fractions import Fraction
from typing import Any

import numpy as np

from . import _checks as ck
from . import _device, _hugepages, _threading, _torch_out
from ._device import Array, Block, Device
from ._seeding import SeedLike, check_seed, seed64
from .initializer import initializer
from .kernels.blocks import span, variant
from .kernels.constant import fill_constant
from .kernels.normal import fill_normal
from .kernels.rng import LANES
from .kernels.sparse import fill_sparse, mask_kind, sparse_domain
from .kernels.truncnorm import EXPONENTIAL, NORMAL, POSITIONS, UNIFORM, fill_truncnorm
from .kernels.uniform import fill_uniform

__all__ = ["uniform", "normal", "truncated_normal", "sparse", "constant", "zeros", "ones"]

#: the largest |z| the normal kernels produce (float32 path 7.54, float64 path 8.57)
Z_MAX = 8.6


# --- parameter checks that need no shape: run when an Initializer is made, and by the calls -------

# (``dtype``, when an Initializer binds it, is known without a shape: what depends on it is
# checked then too; the Initializer has already checked that it is a dtype the function takes)

def _check_uniform(low=0.0, high=1.0, dtype=None, **_):
    low, high = ck.real("low", low), ck.real("high", high)
    if not low < high:
        raise ValueError(f"low, high: need low < high, got low={ck.shown(low)}, high={ck.shown(high)}")
    if dtype is not None:
        uniform_params(low, high, np.dtype(dtype))
    return low, high


def _check_normal(mean=0.0, std=1.0, dtype=None, **_):
    if isinstance(mean, (complex, np.complexfloating)):
        ck.real("mean", mean.real), ck.real("mean", mean.imag)
    else:
        ck.real("mean", mean)
    ck.std_value(std)
    if dtype is not None:
        _normal_params(mean, std, np.dtype(dtype))


def _check_truncated_normal(mean=0.0, std=1.0, lo=-2.0, hi=2.0, **_):
    mean = ck.real("mean", mean)
    std = ck.std_value(std, positive=True)
    lo, hi = ck.real("lo", lo, finite=False), ck.real("hi", hi, finite=False)
    if not lo < hi:
        raise ValueError(f"lo, hi: need lo < hi, got lo={lo!r}, hi={hi!r}")
    return mean, std, lo, hi


_UNSET = object()  # sparse's sparsity, not given (yet): an Initializer may bind it later


def _check_sparse(sparsity=_UNSET, std=0.01, dtype=None, **_):
    if sparsity is None:
        raise TypeError("sparsity: expected a number in [0, 1), got None")
    if sparsity is not _UNSET:
        sparsity = ck.real("sparsity", sparsity)
        if not 0.0 <= sparsity < 1.0:
            raise ValueError(f"sparsity: must be in [0, 1), got {ck.shown(sparsity)}")
    std = ck.std_value(std)
    if dtype is not None:
        ck.fits("std", Z_MAX * std, np.dtype(dtype), std)
    return sparsity, std


def _check_constant(value=_UNSET, dtype=None, **_):
    if value is _UNSET:
        return
    if value is None:
        raise TypeError("value: expected a number, got None")
    if dtype is not None:
        _constant_value(value, np.dtype(dtype))
    elif isinstance(value, (complex, np.complexfloating)):
        ck.real("value", value.real), ck.real("value", value.imag)
    else:
        ck.real("value", value)


def _constant_value(value: Any, dtype: np.dtype) -> Any:
    """The value to write: ``value``, which must be finite and fit ``dtype`` (complex values only
    for complex dtypes; integer and bool dtypes: :func:`_int_value`)."""
    if dtype.kind in "iub":
        return _int_value("value", value, dtype)
    if dtype.kind == "c" and isinstance(value, (complex, np.complexfloating)):
        ck.real("value", value.real)
        ck.real("value", value.imag)
        ck.fits("value", max(abs(value.real), abs(value.imag)), dtype)
    else:
        ck.fits("value", ck.real("value", value), dtype)
    return value


def _int_value(name: str, value: Any, dtype: np.dtype) -> int | bool:
    """``value`` (a real number or a bool) as the ``dtype`` value it sets, for an integer or bool
    dtype, as torch's ``fill_`` and numpy's casts make it: for a bool dtype any finite value,
    nonzero meaning True; for an integer dtype a value within the dtype's range, floats truncated
    toward zero. ``TypeError`` or ``ValueError`` naming ``name`` otherwise."""
    if isinstance(value, (bool, np.bool_, numbers.Integral, np.integer)):
        v = int(value)
    else:
        v = ck.real(name, value)  # finite; TypeError for complex values and non-numbers
    if dtype.kind == "b":
        return bool(v)
    info = np.iinfo(dtype)
    if not info.min <= v <= info.max:
        raise ValueError(f"{name}: {ck.shown(value)} is outside the range of {dtype.name} "
                         f"[{info.min}, {info.max}]")
    return int(v) if isinstance(v, int) else math.trunc(v)


def _load_gpu(device: "_device.Cuda"):
    """:mod:`fastinit.cuda` (which imports numba.cuda), once ``device`` is known to be usable:
    ``RuntimeError`` where there is no GPU, ``ValueError`` for a GPU index not there."""
    from . import cuda
    cuda.arrays.require(device)
    return cuda


def _runs(box: tuple, full: tuple) -> tuple[int, int, tuple, tuple]:
    """The part ``box`` of a C-order tensor of shape ``full`` as runs of consecutive elements:
    (flat index of its first element, run length, extents and strides (in elements) of the
    leading axes the runs repeat over). No leading axes: one run, a flat range."""
    if not full or any(b == a for a, b in box):
        return 0, 0, (), ()
    strides = [math.prod(full[k + 1:]) for k in range(len(full))]
    base = sum(a * st for (a, _), st in zip(box, strides))
    j = len(full) - 1  # the runs: axis j on, where every later axis is whole
    while j > 0 and box[j] == (0, full[j]):
        j -= 1
    run = (box[j][1] - box[j][0]) * strides[j]
    lead = [(b - a, strides[k]) for k, (a, b) in enumerate(box[:j]) if b - a > 1]
    return base, run, tuple(d for d, _ in lead), tuple(st for _, st in lead)


class _Target:
    """A checked call: the shape of the rows asked for, the dtype, the device, the output and
    where its first element stands in the flat tensor. Every check runs here, before anything
    is allocated or written; the methods then fill the output on its device."""

    def __init__(self, shape: tuple, dtype: Any, out: Any, rows: Any, allowed, *, ndim: int | None = None,
                 device: Any = None, block: Any = None):
        self.torch_out, out = _torch_out.adopt(out)  # a torch CPU tensor: its numpy view from here on
        self.device = _device.resolve(device, out)
        ref = ck.described(out) if self.device is not None else out
        full = ck.shape_from(shape, ref)
        if ndim is not None and len(full) != ndim:
            raise ValueError(f"shape: expected {ndim} dimensions, got {ck.shown(full)}")
        self.full = full
        self.dtype = ck.dtype_from(dtype, ref, allowed)
        ck.check_size(full, self.dtype)  # complex values count twice: the kernels fill the real view
        #: the part asked for, (start, stop) per axis (rows= or block=; all of it by default)
        self.box = ck.block_box(rows, block, full)
        self.shape = tuple(b - a for a, b in self.box)
        self._runs = _runs(self.box, full)
        if out is None:
            ck.check_allocation(self.shape, self.dtype)
        self._host_out = None  # out as a plain numpy array (a subclass viewed as ndarray)
        if out is not None and self.device is not None:
            _device.check_out(ref, self.shape, self.dtype)
        elif out is not None:
            self._host_out = (ck if self.torch_out is None else self.torch_out).check_out(out, self.shape, self.dtype)
        self.out = out
        # a non-contiguous torch CPU tensor or GPU array: the kernels fill contiguous chunks of it
        # (_blocks)
        if self.device is None:
            self.strided = self.torch_out is not None and self.torch_out.strided
        else:
            self.strided = out is not None and not ref.c_contiguous
        self._arr = None
        # fastinit.cuda, loaded on first use: a GPU must be there, checked now, before a seed is drawn
        self.gpu = _load_gpu(self.device) if self.device is not None else None

    @property
    def slices(self) -> tuple:
        """The part asked for as a tuple of slices of the full tensor."""
        return tuple(slice(a, b) for a, b in self.box)

    def array(self) -> Any:
        """The output to fill: ``out`` (on the GPU, as a numba device array on its memory) or a
        new array."""
        if self._arr is None:
            if self.device is None:
                self._arr = self._host_out if self.out is not None else np.empty(self.shape, self.dtype)
                if self.torch_out is not None and not self.strided:
                    _hugepages.advise(self._arr)  # torch's allocator does not (numpy's does)
            else:
                gpu = self.gpu
                with gpu.arrays.context(self.device):
                    self._arr = (gpu.arrays.adopt(self.out) if self.out is not None
                                 else gpu.arrays.empty(self.shape, self.dtype))
        return self._arr

    def result(self) -> Any:
        """What the call returns: ``out`` itself when given (a CuPy array stays one), else the
        new array; GPU fills are waited for when ``out`` belongs to another library."""
        if self.device is not None:
            with self.gpu.arrays.context(self.device):
                self.gpu.arrays.finish(self.out)
        if self.torch_out is not None:
            return self.torch_out.done()  # the user's tensor, its version counter bumped
        return self.out if self.out is not None else self.array()

    def _flat(self, arr: Any = None):
        """(the output's (or ``arr``'s) flat real view, elements per tensor element): complex as
        (re, im) pairs, float16 and bfloat16 as their bits (``_checks.bits16``)."""
        arr = self.array() if arr is None else arr
        if isinstance(arr, np.ndarray) and not arr.flags.c_contiguous:
            raise AssertionError("fastinit: a non-contiguous output must be filled through _blocks")
        f = arr.reshape(arr.size)  # numpy or numba device array alike
        if f.dtype.kind == "c":
            f = f.view(np.finfo(f.dtype).dtype)
        elif (bits := ck.bits16(f.dtype)) is not None:
            f = f.view(bits)
        return f, (2 if self.dtype.kind == "c" else 1)

    def run(self, kernel, *params) -> None:
        """``kernel(flat, *params)`` on the output's flat view, or its GPU twin of the same name."""
        for arr, _ in self._blocks(load=True):
            flat, _ = self._flat(arr)
            if flat.size:
                self._launch(kernel, flat, *params)

    def _blocks(self, load: bool = False):
        """(contiguous array, flat index of its first element in the output) covering the
        output: the output itself, or for a non-contiguous torch tensor or GPU array chunks of
        it, each copied in once filled (``load``: holding the output's values first, for
        in-place kernels)."""
        if not self.strided:
            yield self.array(), 0
        elif self.device is None:
            yield from self.torch_out.blocks(load)
        else:
            with self.gpu.arrays.context(self.device):
                yield from self.gpu.arrays.strided_blocks(self.array(), load)

    def _launch(self, kernel, *args) -> None:
        if self.device is None:
            _threading.launch(kernel, *args)
        else:
            gpu = self.gpu
            with gpu.arrays.context(self.device):
                getattr(gpu, kernel.__name__)(*args)

    def fill(self, seed: SeedLike, kernel, *params) -> Any:
        """Run ``kernel(flat, seed64, start, *params)`` on the output and return it. ``flat`` is
        the output's flat real view (complex: real, imag, ...; float16: its uint16 bits) and
        ``start`` the flat index of its first element in the whole tensor."""
        s = seed64(seed)  # after every check, so that a bad call does not advance the global seed
        for arr, at in self._blocks():
            flat, per = self._flat(arr)
            if flat.size:
                self._launch(kernel, flat, s, self._where(per, at), *params)
        return self.result()

    def _where(self, per: int, at: int) -> Any:
        """The kernels' ``start`` for the output's elements from ``at`` on, ``per`` kernel
        elements each: a flat index when the part asked for is one run of the tensor's memory
        order (the whole tensor, rows), else a span (``kernels.blocks``)."""
        base, run, extents, strides = self._runs
        if not extents:
            return per * (base + at)
        return span(per * base, per * run, extents, [per * k for k in strides], per * at)

    def local(self, index: tuple) -> tuple:
        """(the full-tensor coordinates ``index`` (integer arrays) that lie in the part asked
        for, as coordinates in the output; which of them did)."""
        keep = np.ones(np.shape(index[0]), bool)
        for i, (a, b) in zip(index, self.box):
            i = np.asarray(i, np.int64)
            keep &= (i >= a) & (i < b)
        return tuple(np.asarray(i, np.int64)[keep] - a for i, (a, _) in zip(index, self.box)), keep

    def constant(self, value: Any, odd: Any = None) -> Any:
        """Every element ``value`` (complex values for complex dtypes); with ``odd``, a real
        output alternates ``value`` and ``odd`` in memory order (float16 pairs for ComplexF16)."""
        self._constant(value, odd)
        return self.result()

    def _constant(self, value: Any, odd: Any = None) -> None:
        if odd is not None and self.dtype.kind != "c" and self.box:
            # the whole tensor alternates along its last axis, of even length (ComplexF16 pairs)
            a, b = self.box[-1]
            if a % 2:
                value, odd = odd, value
            if b - a == 1:  # one part of each pair (else both: the pattern holds in memory order)
                odd = None
        arr = self.array()
        if self.device is None and self.strided:  # numpy's strided assignment, in place
            arr[...] = value
            for block, at in (self._blocks(load=True) if odd is not None else ()):
                block.reshape(-1)[(1 - at) % 2::2] = odd  # the odd elements in memory order
            return
        v = np.array(value, self.dtype)
        w = v if odd is None else np.array(odd, self.dtype)
        parts = (v.real, v.imag) if self.dtype.kind == "c" else (v, w)
        if (bits := ck.bits16(self.dtype)) is not None:
            parts = tuple(p.view(bits) for p in parts)
        even, odd = (p[()] for p in parts)
        for block, at in self._blocks():
            flat, per = self._flat(block)
            pair = (odd, even) if per == 1 and at % 2 else (even, odd)  # odd: C order's odd elements
            if self.device is None:
                fill_constant(flat, *pair)  # threads and streaming stores by size, as measured
            else:
                with self.gpu.arrays.context(self.device):
                    self.gpu.fill_constant(flat, *pair)

    def scatter(self, index: tuple, values: Any) -> Any:
        """Zeros, with ``values`` (a scalar or one per index) at ``index``: arrays of full-tensor
        coordinates (integers), of which those in the rows asked for are written. The indices
        are worked out before anything is written."""
        if not self.shape or not len(index[0]):
            self._constant(0)
            return self.result()
        local, keep = self.local(index)
        vals = np.broadcast_to(np.asarray(values, self.dtype), keep.shape)[keep]
        self._constant(0)
        arr = self.array()
        if self.device is None:
            arr[local] = vals
            return self.result()
        flat, per, strides = self._memory()
        at = sum(np.asarray(i, np.int64) * s for i, s in zip(local, strides)) * per
        if per == 2:  # complex: (re, im) at 2k and 2k + 1
            at = np.stack([at, at + 1], axis=-1).reshape(-1)
            vals = vals.view(np.finfo(self.dtype).dtype)
        elif (bits := ck.bits16(self.dtype)) is not None:
            vals = vals.view(bits)
        with self.gpu.arrays.context(self.device):
            self.gpu.scatter(flat, at, vals)
        return self.result()

    def assign(self, host: np.ndarray) -> Any:
        """The output set to the host array ``host`` (broadcast to the output's shape). On the GPU
        this copies from host memory: for the small deterministic tensors (stft) and the host
        fallbacks only."""
        arr = self.array()
        if self.device is None:
            arr[...] = host
        elif not self.strided:
            with self.gpu.arrays.context(self.device):
                self.gpu.arrays.upload(arr, host)
        else:
            values = np.broadcast_to(np.asarray(host, self.dtype), self.shape).reshape(-1)
            for block, at in self._blocks():
                with self.gpu.arrays.context(self.device):
                    self.gpu.arrays.upload(block, values[at:at + block.size])
        return self.result()

    def _memory(self):
        """(the GPU output's memory as a flat real view, elements per tensor element, each
        dimension's stride in tensor elements): element ``i`` of the output begins at
        ``per * sum(i_k * strides_k)`` of the view."""
        arr = self.array()
        if not self.strided:
            flat, per = self._flat()
            return flat, per, np.cumprod((1,) + self.shape[:0:-1])[::-1].tolist()
        flat, per = self._flat(self.gpu.arrays.span(arr))
        return flat, per, [s // arr.dtype.itemsize for s in arr.strides]


def _values_between(lo: float, hi: float, dtype: np.dtype, *, closed: bool) -> tuple[float, float]:
    """(smallest, largest) value of ``dtype`` in [lo, hi] (``closed``) or [lo, hi); ``ValueError``
    when there is none."""
    t = np.dtype(dtype).type
    big = t(np.finfo(dtype).max)
    with np.errstate(over="ignore"):
        vmin = -big if lo == -math.inf else t(lo)
        if float(vmin) < lo:
            vmin = np.nextafter(vmin, t(math.inf))
        vmax = big if hi == math.inf else t(hi)
        while float(vmax) > hi or (not closed and float(vmax) >= hi):
            vmax = np.nextafter(vmax, t(-math.inf))
    if not float(vmin) <= float(vmax):
        side = "]" if closed else ")"
        names = "lo, hi" if closed else "low, high"
        raise ValueError(f"{names}: no {np.dtype(dtype).name} value lies in [{lo!r}, {hi!r}{side}")
    return float(vmin), float(vmax)


def uniform_params(low: float, high: float, dtype: np.dtype) -> tuple[float, float, float, float]:
    """The uniform kernels' (low, high - low, vmin, vmax) for checked bounds and ``dtype``
    (complex: each part's); ``ValueError`` when the values would not fit."""
    part = np.finfo(dtype).dtype  # the dtype of each real or imaginary part
    ck.fits("low", low, part)
    ck.fits("high", high, part)
    # the kernels compute low + (high - low) u in float32 (float16, float32, complex64) or float64:
    # the width must be finite there (torch's uniform_ requires high - low <= the dtype's max too)
    work = np.dtype(np.float64) if part == np.float64 else np.dtype(np.float32)
    width = high - low
    if not width <= float(np.finfo(work).max):
        raise ValueError(f"low, high: high - low = {width:g} is beyond the largest finite {work.name} "
                         f"({float(np.finfo(work).max):g}), in which the {np.dtype(dtype).name} values are "
                         f"computed (low={ck.shown(low)}, high={ck.shown(high)})")
    vmin, vmax = _values_between(low, high, part, closed=False)
    return low, high - low, vmin, vmax


@initializer(check=_check_uniform)
def uniform(*shape: int, low: float = 0.0, high: float = 1.0, dtype: Any = None, seed: SeedLike = None,
            out: Array | None = None, rows: slice | None = None, block: Block = None, device: Device = None) -> Array:
    r"""A tensor of values drawn from the uniform distribution on :math:`[low, high)`.

    .. math::
        v = low + (high - low)\, u, \qquad u = k / 2^{24} \text{ (32-bit floats) or } k / 2^{53}
        \text{ (float64)}

    computed with one rounding (``fma``) in float32 for float16 and float32 outputs (``low`` and
    ``high - low`` rounded to float32) and in float64 for float64, then kept below ``high``: the largest value is the largest value of the dtype that is smaller than
    ``high``, so ``high`` never appears, in any dtype. Complex dtypes draw real and imaginary
    parts independently on :math:`[low, high)`, as ``torch.Tensor.uniform_`` does.

    Same as ``torch.nn.init.uniform_(w, a=low, b=high)``, ``numpy.random.Generator.uniform`` and
    WeightInitializers.jl's ``rand32`` (``low=0, high=1``).

    Parameters
    ----------
    *shape : int or tuple of int
        The tensor's shape; left out, ``out.shape``.
    low, high : float
        Finite bounds, ``low < high``, with ``high - low`` finite in the precision the values
        are computed in (float32 for float16, float32 and complex64; float64 otherwise), as
        torch's ``uniform_`` requires.
    dtype : dtype, optional
        float16, bfloat16, float32 (default), float64, complex64 or complex128.
    seed : int, numpy.random.Generator or None
        See :func:`fastinit.seed`.
    out : numpy.ndarray or GPU array, optional
        Filled in place and returned: a writable C-contiguous numpy array, or on the GPU any
        array with ``__cuda_array_interface__`` (CuPy, torch CUDA tensors, numba device arrays).
    rows : slice, optional
        Only these leading-axis rows of the full tensor.
    block : tuple of slice, optional
        Only this N-d block of the full tensor, ``full[block]`` (module docstring); not with ``rows``.
    device : {None, "cpu", "cuda", "cuda:N"}, optional
        Where to make the tensor; ``None``: ``out``'s device, else the host. ``"cuda"`` returns
        a numba device array, with the host's values.

    Returns
    -------
    numpy.ndarray, or a numba device array (``device="cuda"``), or ``out``

    Examples
    --------
    >>> w = fastinit.uniform(256, 128, low=-0.1, high=0.1, seed=0)
    """
    t = _Target(shape, dtype, out, rows, ck.ALL_DTYPES, device=device, block=block)
    low, high = _check_uniform(low, high)
    return t.fill(seed, fill_uniform, *uniform_params(low, high, t.dtype))


@initializer(check=_check_normal)
def normal(*shape: int, mean: float = 0.0, std: float = 1.0, dtype: Any = None, seed: SeedLike = None,
           out: Array | None = None, rows: slice | None = None, block: Block = None, device: Device = None) -> Array:
    r"""A tensor of values drawn from the normal distribution :math:`\mathcal{N}(mean, std^2)`.

    .. math::
        v = mean + std \cdot z, \qquad z \sim \mathcal{N}(0, 1)

    ``z`` comes from the Box-Muller transform on polynomial log and sincos that round the same
    everywhere (``fastinit.kernels.normal``): for 32-bit floats :math:`|z| \le 7.54`, for float64
    :math:`|z| \le 8.57`, tails cut where their probability is below :math:`10^{-13}`. Every value
    is finite. Complex dtypes have independent real and imaginary parts, each
    :math:`\mathcal{N}(\operatorname{Re} mean, std^2/2)` and :math:`\mathcal{N}(\operatorname{Im}
    mean, std^2/2)`, so :math:`E|v - mean|^2 = std^2` as in ``torch.randn`` for complex dtypes.

    Same as ``torch.nn.init.normal_(w, mean, std)`` and WeightInitializers.jl's ``randn32``
    (``mean=0, std=1``).

    Parameters
    ----------
    *shape : int or tuple of int
        The tensor's shape; left out, ``out.shape``.
    mean : float (complex for complex dtypes)
        Finite.
    std : float
        Finite, ``>= 0`` (``0`` gives ``mean`` everywhere).
    dtype, seed, out, rows, block, device
        As for :func:`uniform`.

    Returns
    -------
    numpy.ndarray, a numba device array or ``out``, as for :func:`uniform`

    Examples
    --------
    >>> w = fastinit.normal(4096, 4096, std=0.02, seed=0)
    """
    t = _Target(shape, dtype, out, rows, ck.ALL_DTYPES, device=device, block=block)
    return t.fill(seed, fill_normal, *_normal_params(mean, std, t.dtype))


def _normal_params(mean: Any, std: Any, dtype: np.dtype) -> tuple[np.ndarray, float]:
    """The normal kernel's (per-lane means, std) for ``dtype``; ``ValueError`` or ``TypeError``
    naming ``mean`` or ``std`` when they are not valid or the values would not fit."""
    if dtype.kind == "c" and isinstance(mean, (complex, np.complexfloating)):
        means = (ck.real("mean", mean.real), ck.real("mean", mean.imag))
    elif dtype.kind == "c":
        means = (ck.real("mean", mean), 0.0)
    else:
        means = (ck.real("mean", mean),) * 2
    given = std
    std = ck.std_value(std)
    if dtype.kind == "c":
        std /= math.sqrt(2.0)
    part = np.finfo(dtype).dtype  # the dtype of each real or imaginary part
    for m in means:
        ck.fits("mean", m, part)
        ck.fits("std", abs(m) + Z_MAX * std, part, given)
    lane_means = np.array([means[lane % 2] for lane in range(LANES)], np.float64)
    return lane_means, std


# --- truncated normal: the proposal with the best expected acceptance (Robert 1995) -------------

_LOG_SQRT_2PI = 0.5 * math.log(2 * math.pi)


def _log_q(x: float) -> float:
    """log P(Z > x) for a standard normal Z, accurate far into the tail."""
    if x < 25.0:
        q = 0.5 * math.erfc(x / math.sqrt(2.0))
        return math.log(q) if q > 0 else -math.inf
    r2 = (1.0 / x) ** 2  # x * x and x ** 4 would overflow far out
    return -0.5 * x * x - math.log(x) - _LOG_SQRT_2PI + math.log1p(-r2 + 3.0 * r2 * r2)


def _log_mass(a: float, b: float) -> float:
    """log P(a <= Z <= b) for a standard normal Z (-inf where a and b are equal in float64)."""
    if not b > a:
        return -math.inf
    if a >= 0 or b <= 0:
        a, b = (a, b) if a >= 0 else (-b, -a)
        la, lb = _log_q(a), _log_q(b)
        diff = lb - la if lb > -math.inf else -math.inf
        if diff < 0:
            return la + math.log1p(-math.exp(diff))
        # so narrow that the tails cannot tell a from b: density times width
        return -0.5 * a * a - _LOG_SQRT_2PI + math.log(b - a)
    mass = 0.5 * (math.erf(b / math.sqrt(2.0)) - math.erf(a / math.sqrt(2.0)))
    if mass > 1e-3:
        return math.log(mass)
    return -0.5 * max(a * a, b * b) - _LOG_SQRT_2PI + math.log(b - a)


def _lam(a: float) -> float:
    """The exponential proposal's rate for a tail from ``a >= 0``: (a + sqrt(a^2 + 4))/2, which is
    ``a`` to float64 precision where a^2 would overflow."""
    return (a + math.sqrt(a * a + 4.0)) / 2.0 if a < 1e150 else a


def _offset_lam(a: float) -> float:
    """lam - a for the exponential proposal's rate lam = _lam(a), without the cancellation:
    2 / (a + sqrt(a^2 + 4))."""
    return 2.0 / (a + math.sqrt(a * a + 4.0)) if a < 1e150 else 1.0 / a


def truncnorm_plan(mean: float, std: float, lo: float, hi: float, dtype: Any = np.float64,
                   vmin: float | None = None, vmax: float | None = None) -> tuple[int, np.ndarray, float]:
    """(kernel kind, parameters p, acceptance) for N(mean, std) on [lo, hi], the kernel computing
    in the precision of ``dtype`` (float32 for 16- and 32-bit floats, float64 for float64) and
    accepting the values in [vmin, vmax] (by default [lo, hi]).

    The standardized interval is [a, b] = [(lo - mean)/std, (hi - mean)/std]. Three exact
    proposals, each followed by an accept/reject step (Robert 1995), are compared by their
    acceptance probability and the best taken:

    - normal: z ~ N(0, 1), accepted when a <= z <= b; acceptance P(a <= Z <= b);
    - uniform: z uniform on [a, b], accepted with probability exp((m^2 - z^2)/2), m the point of
      [a, b] nearest 0; acceptance P(a <= Z <= b) sqrt(2 pi) exp(m^2/2) / (b - a);
    - exponential (one-sided intervals, mirrored when below 0): z = a + E/lam, E ~ Exp(1),
      lam = (a + sqrt(a^2 + 4))/2, accepted when z <= b, with probability exp(-(z - lam)^2/2);
      acceptance P(a <= Z <= b) sqrt(2 pi) lam exp(lam a - lam^2/2).

    A tail so far out that the kernel's spacing at ``a`` exceeds a quarter of the tail's scale
    1/lam takes the exponential proposal in offset form, on [vmin, vmax] (values of the dtype,
    so the edge is exact in the kernel's precision): z counts standard deviations from the edge
    (``fastinit.kernels.truncnorm``). ``ValueError`` (naming ``mean, std``) where the chosen
    proposal's parameters are not finite in the kernel's precision.
    """
    vmin = lo if vmin is None else vmin
    vmax = hi if vmax is None else vmax
    work = _working(dtype)
    a = (lo - mean) / std
    b = (hi - mean) / std
    if (a > 0 or b < 0) and _coarse(a if a > 0 else -b, work):
        return _offset_tail(mean, std, vmin, vmax, work, below=b < 0)
    sign = 1.0
    m = 0.0 if a <= 0 <= b else min(abs(a), abs(b))
    if not b > a:  # [lo, hi] is too narrow for std to tell its ends apart: the density is flat
        kind, log_acc, lam = UNIFORM, 0.0, 0.0
    else:
        log_mass = _log_mass(a, b)
        options = [(log_mass, NORMAL)]
        # the uniform proposal draws in value space: its step must be a normal number
        step = (hi - lo) * (2.0**-53 if work == np.float64 else 2.0**-24)
        if math.isfinite(b - a) and float(np.finfo(work).tiny) <= step and hi - lo <= float(np.finfo(work).max):
            options.append((log_mass + _LOG_SQRT_2PI + 0.5 * m * m - math.log(b - a), UNIFORM))
        if a >= 0 or b <= 0:
            ea = a if a >= 0 else -b
            lam = _lam(ea)
            # log(lam) + lam*ea - lam^2/2, as lam*(ea - lam/2) so that it cannot overflow to inf - inf
            options.append((log_mass + _LOG_SQRT_2PI + math.log(lam) + lam * (ea - 0.5 * lam), EXPONENTIAL))
        log_acc, kind = max(options)
        lam = 0.0
        if kind == EXPONENTIAL:
            if a < 0:
                a, b, sign = -b, -a, -1.0
            lam = _lam(a)
    p = np.array([mean, sign * std, a, b, lam, lo, hi - lo, m, 1.0 / lam if lam else 0.0], np.float64)
    _check_plan(kind, p, work)
    return kind, p, math.exp(min(log_acc, 0.0))


def _coarse(z: float, work: np.dtype) -> bool:
    """Whether the kernel's standardized values near ``z`` (a tail's start) are spaced more than
    a quarter of the tail's scale 1/lam apart."""
    with np.errstate(over="ignore"):
        step = float(np.spacing(work.type(z)))
    return step * _lam(z) > 0.25


def _offset_tail(mean: float, std: float, vmin: float, vmax: float, work: np.dtype, *,
                 below: bool) -> tuple[int, np.ndarray, float]:
    """The exponential proposal in offset form for the far tail [vmin, vmax] (above the mean;
    ``below``: under it, mirrored)."""
    edge, far, sign = (vmax, vmin, -1.0) if below else (vmin, vmax, 1.0)
    a = abs(edge - mean) / std
    width = abs(far - edge) / std
    lam = _lam(a)
    p = np.array([edge, sign * std, 0.0, width, _offset_lam(a), edge, 0.0, 0.0, 1.0 / lam], np.float64)
    _check_plan(EXPONENTIAL, p, work)
    # nearly every candidate passes the exponential test this far out; those past the far edge
    # are the rest: exp(-lam * width)
    return EXPONENTIAL, p, -math.expm1(-lam * width) if math.isfinite(width) else 1.0


def _check_plan(kind: int, p: np.ndarray, work: np.dtype) -> None:
    """The parameters ``kind`` uses must be finite (and 1/std, 1/lam non-zero) in the kernel's
    precision ``work``."""
    mean, std, a, b, lam, lo, width, m, ilam = p
    used = {NORMAL: (mean, std), UNIFORM: (mean, 1.0 / std, lo, m, width),
            EXPONENTIAL: (mean, std, a, lam, ilam)}[kind]
    big = float(np.finfo(work).max)
    if not all(abs(v) <= big for v in used) or (kind == EXPONENTIAL and not abs(ilam) >= float(np.finfo(work).tiny)):
        outputs = "float64 outputs" if work == np.float64 else "float32 and 16-bit outputs"
        raise ValueError(f"mean, std: mean={float(mean):g} (or a bound), std={abs(float(std)):g} reach "
                         f"beyond {work.name}, in which fastinit computes {outputs}; scale them down "
                         f"together")


#: The sampler runs where at least this fraction of the mass of [lo, hi] lies between the
#: smallest and the largest value of the output dtype inside [lo, hi] (its candidates outside are
#: rejected); with the proposals' own acceptance of at least 0.5, at least 1 candidate in 2,000
#: is then accepted (``fastinit.kernels.truncnorm.MAX_CANDIDATES`` relies on it).
MIN_INSIDE = 1e-3


def _working(dtype: Any) -> np.dtype:
    """The precision the truncated-normal kernels compute in for output ``dtype``."""
    return np.dtype(np.float64) if np.dtype(dtype) == np.float64 else np.dtype(np.float32)


def _mass_range(mean: float, std: float, lo: float, hi: float) -> tuple[float, float]:
    """[L, H] within [lo, hi] holding all but about e^-40 of the mass of N(mean, std) on [lo, hi]:
    from the point of [lo, hi] nearest the mean, 40 std either way, or 40 std / z when that
    point lies z > 1 standard deviations from the mean (the density falls at least as
    exp(-z t) over the next t standard deviations)."""
    near = min(max(mean, lo), hi)
    z = abs(near - mean) / std
    reach = std * (40.0 / max(z, 1.0))
    return max(lo, near - reach), min(hi, near + reach)


def _inside_fraction(mean: float, std: float, lo: float, hi: float, vmin: float, vmax: float) -> float:
    """P(vmin <= X <= vmax | lo <= X <= hi) for X ~ N(mean, std)."""
    if vmin == lo and vmax == hi:
        return 1.0
    if hi - lo <= 1e-9 * std:  # the density is flat across [lo, hi]
        return (vmax - vmin) / (hi - lo)
    a, b = (lo - mean) / std, (hi - mean) / std
    if a > 1e4 or b < -1e4:
        # far in a tail the density falls as exp(-lam x), x the distance from the near edge, to
        # relative error 1/a^2; the standardized vmin and vmax may equal a and b in float64
        lam = _lam(a if a > 0 else -b)
        x, y = ((vmin - lo) / std, (vmax - lo) / std) if a > 0 else ((hi - vmax) / std, (hi - vmin) / std)
        whole = -math.expm1(-lam * (hi - lo) / std)
        return min(math.exp(-lam * x) * -math.expm1(-lam * (y - x)) / whole, 1.0) if whole > 0 else 1.0
    a2, b2 = (vmin - mean) / std, (vmax - mean) / std
    if not b2 > a2:
        return 0.0
    return math.exp(min(_log_mass(a2, b2) - _log_mass(a, b), 0.0))


def _one_value(mean: float, std: float, lo: float, hi: float, dtype: np.dtype, vmin: float,
               vmax: float) -> float | None:
    """The value every element takes where the distribution cannot be sampled in ``dtype``, or
    ``None`` where it can (see :func:`truncated_normal`, "Values")."""
    t, big = np.dtype(dtype).type, float(np.finfo(dtype).max)

    def nearest_inside(x: float) -> float:  # x rounded to the dtype, then clamped
        return min(max(float(t(x)) if abs(x) <= big else x, vmin), vmax)

    first, last = (nearest_inside(x) for x in _mass_range(mean, std, lo, hi))
    if first == last:
        return first + 0.0  # -0.0 as 0.0
    if _inside_fraction(mean, std, lo, hi, vmin, vmax) >= MIN_INSIDE:
        return None
    below = _log_mass((lo - mean) / std, (vmin - mean) / std) if lo < vmin else -math.inf
    above = _log_mass((vmax - mean) / std, (hi - mean) / std) if vmax < hi else -math.inf
    if below == above:  # both beyond float64 (a far tail): the mass is at the end nearer the mean
        return vmin if mean <= vmin else vmax
    return vmin if below > above else vmax


def _rounds(acceptance: float) -> int:
    """Candidate rounds (two candidates per lane each) per batch: enough that one batch fills a
    block almost always (the mean plus 4.5 standard deviations of the candidates a lane needs:
    a block of 16 lanes needs a second batch about once in 20,000). Candidates made past the
    last lane's need are wasted: with six standard deviations, [-2, 2]'s batches took 304
    candidates a lane for about 275 needed (the kernel rounds up to whole tiles of 16), 5%
    slower than 288."""
    p = max(acceptance, 0.5 * MIN_INSIDE)
    need = POSITIONS / p + 4.5 * math.sqrt(POSITIONS * (1.0 - p)) / p
    return int(min(max(math.ceil(need / 2), 8), 1 << 16))


@initializer(check=_check_truncated_normal, dtypes=ck.REAL_DTYPES)
def truncated_normal(*shape: int, mean: float = 0.0, std: float = 1.0, lo: float = -2.0, hi: float = 2.0,
                     dtype: Any = None, seed: SeedLike = None, out: Array | None = None,
                     rows: slice | None = None, block: Block = None, device: Device = None) -> Array:
    r"""A tensor of values drawn from :math:`\mathcal{N}(mean, std^2)` restricted to :math:`[lo, hi]`.

    The bounds are absolute, as in ``torch.nn.init.trunc_normal_(w, mean, std, a=lo, b=hi)`` and
    WeightInitializers.jl's ``truncated_normal(; mean, std, lo, hi)``; ``std`` is the standard
    deviation *before* truncation. The density is

    .. math::
        f(v) = \frac{\varphi\left(\frac{v - mean}{std}\right)}
                    {std\,\left(\Phi\left(\frac{hi - mean}{std}\right)
                              - \Phi\left(\frac{lo - mean}{std}\right)\right)},
        \qquad lo \le v \le hi

    sampled exactly by rejection on any interval: wide central ones, one-sided ones (``lo`` or
    ``hi`` infinite), intervals deep in a tail such as :math:`[6, \infty)` or :math:`[-12, -10]`
    and very narrow ones; :func:`truncnorm_plan` says which proposal is used. Every value lies
    in :math:`[lo, hi]` after rounding to the output dtype. Unlike torch's inverse-CDF sampler,
    nothing is lost in the tails.

    Values, where the dtype cannot resolve the distribution. Candidates are accepted only when
    they lie between ``vmin`` and ``vmax``, the smallest and largest values of the dtype inside
    :math:`[lo, hi]`, so the values follow the distribution restricted to
    :math:`[vmin, vmax]`. Where that cannot be sampled, every call still ends:

    - where all the mass (all but :math:`e^{-40}`) rounds to one value of the dtype, clamped
      into :math:`[vmin, vmax]` (``std`` below the dtype's spacing there, or ``lo`` and ``hi``
      within one spacing), every element is that value: ``truncated_normal(std=1e-9,
      lo=-2e-9, hi=2e-9, dtype="float16")`` is all zeros, as the float32 values rounded to
      float16 would be;
    - where less than 0.1% of the mass lies in :math:`[vmin, vmax]` (the rest in the slivers
      :math:`[lo, vmin)` and :math:`(vmax, hi]`, which round outside the interval), every
      element is the edge value nearest that mass: ``vmin`` for ``lo=1e5 + 0.001, hi=inf`` in
      float32, whose samples all round to 100000.0, below ``lo``;
    - a tail so far from the mean that the kernel's arithmetic (float32 for 16- and 32-bit
      outputs) would space its standardized values coarsely is sampled from its edge instead
      (:func:`truncnorm_plan`), so ``lo=26000.03, std=1.3`` in float32 keeps the exponential
      shape of the tail across the few values the dtype has there;
    - ``mean``, ``std`` or the bounds beyond what that arithmetic holds (``std=1e39`` for a
      float32 output) raise ``ValueError``.

    Keras' and JAX's ``TruncatedNormal`` differ: their bounds are two standard deviations from
    the mean and their std is corrected for the truncation.

    Parameters
    ----------
    *shape : int or tuple of int
        The tensor's shape; left out, ``out.shape``.
    mean : float
        Finite.
    std : float
        Finite, ``> 0``.
    lo, hi : float
        ``lo < hi``; either may be infinite (``-inf`` and ``inf``).
    dtype : dtype, optional
        float16, bfloat16, float32 (default) or float64.
    seed, out, rows, block, device
        As for :func:`uniform`.

    Returns
    -------
    numpy.ndarray, a numba device array or ``out``, as for :func:`uniform`

    Examples
    --------
    >>> w = fastinit.truncated_normal(768, 768, std=0.02, lo=-0.04, hi=0.04, seed=0)
    """
    t = _Target(shape, dtype, out, rows, ck.REAL_DTYPES, device=device, block=block)
    value, kind, p, vmin, vmax, rounds = truncated_normal_params(mean, std, lo, hi, t.dtype)
    if value is not None:
        seed64(seed)  # drawn as a sampled fill draws it, so that later unseeded calls do not shift
        return t.constant(value)
    if kind == NORMAL and _never_rejects(p[0], p[1], vmin, vmax, t.dtype):
        # every candidate is kept, in the order the normal fill writes its values: the same
        # values without the rejection bookkeeping (torch's trunc_normal_(std=0.02), [-2, 2])
        return t.fill(seed, fill_normal, *_normal_params(p[0], p[1], t.dtype))
    return t.fill(seed, fill_truncnorm, variant(kind), p, vmin, vmax, rounds)


@functools.lru_cache(maxsize=256)
def _never_rejects(mean: float, std: float, vmin: float, vmax: float, dtype: np.dtype) -> bool:
    """Whether the NORMAL proposal keeps every candidate: each is ``fma(std, z, mean)`` in the
    kernel's precision with ``|z| <= Z_MAX``, rounding is monotone and ``vmin``, ``vmax`` are
    values of that precision, so [mean - Z_MAX std, mean + Z_MAX std] inside [vmin, vmax]
    (exactly, in rationals) means no candidate falls outside. The truncated normal's values are
    then the normal fill's: each lane's candidates fill its positions in the order the normal
    kernel writes them, from the same stream outputs (``kernels.truncnorm``)."""
    work = _working(dtype).type
    m, s = Fraction(float(work(mean))), Fraction(float(work(std)))
    reach = Fraction(Z_MAX) * s
    return ((vmin == -math.inf or Fraction(vmin) <= m - reach)
            and (vmax == math.inf or m + reach <= Fraction(vmax)))


def truncated_normal_params(mean: Any, std: Any, lo: Any, hi: Any, dtype: np.dtype):
    """(value, kind, p, vmin, vmax, rounds) for :func:`truncated_normal`'s checked parameters
    and ``dtype``: ``value`` not None where every element is that one value (no sampling),
    else the kernel's sampler ``kind``, its parameters ``p``, the dtype's values bounding the
    support and the candidate rounds per batch. ``ValueError``/``TypeError`` naming the
    parameter for bad ones. Shared with :mod:`fastinit.numba_api`'s plans. The plan of checked
    parameters is remembered (``_truncated_normal_plan``): computing it (exact rationals
    included) took 13 us, a fifth of a small tensor's call."""
    mean, std, lo, hi = _check_truncated_normal(mean, std, lo, hi)
    signs = tuple(math.copysign(1.0, x) for x in (mean, std, lo, hi))  # -0.0 == 0.0 as a key
    value, kind, p, vmin, vmax, rounds = _truncated_normal_plan(mean, std, lo, hi, np.dtype(dtype), signs)
    return value, kind, (None if p is None else p.copy()), vmin, vmax, rounds


@functools.lru_cache(maxsize=256)
def _truncated_normal_plan(mean: float, std: float, lo: float, hi: float, dtype: np.dtype, signs: tuple):
    """:func:`truncated_normal_params` of checked parameters (``signs`` only tells -0.0 from
    0.0 apart in the cache's key); its ``p`` is shared: copied before it is handed out."""
    # the values lie in [L, H], further than any sampler reaches
    low_end, high_end = _mass_range(mean, std, lo, hi)
    ck.fits("lo" if low_end == lo else "mean, std", low_end, dtype)
    ck.fits("hi" if high_end == hi else "mean, std", high_end, dtype)
    vmin, vmax = _values_between(lo, hi, dtype, closed=True)
    value = _one_value(mean, std, lo, hi, dtype, vmin, vmax)
    if value is not None:
        return value, None, None, vmin, vmax, 0
    kind, p, acceptance = truncnorm_plan(mean, std, lo, hi, dtype, vmin, vmax)
    acceptance *= _inside_fraction(mean, std, lo, hi, vmin, vmax)
    return None, kind, p, vmin, vmax, _rounds(acceptance)


@initializer(check=_check_sparse, dtypes=ck.REAL_DTYPES)
def sparse(*shape: int, sparsity: float, std: float = 0.01, dtype: Any = None, seed: SeedLike = None,
           out: Array | None = None, rows: slice | None = None, block: Block = None, device: Device = None) -> Array:
    r"""A 2-D (rows, cols) tensor with exactly ``ceil(sparsity * rows)`` zeros in every column, at
    random rows, and :math:`\mathcal{N}(0, std^2)` values elsewhere.

    .. math::
        n_{zeros} = \lceil sparsity \cdot rows \rceil \text{ per column}

    As ``torch.nn.init.sparse_(w, sparsity, std)`` (Martens 2010, "Deep learning via
    Hessian-free optimization") and WeightInitializers.jl's ``sparse_init(; sparsity, std)``.
    The non-zero values are those of :func:`normal` with ``mean=0`` for the same seed; which rows
    are zero comes from a keyed bijection of the rows per column (``fastinit.kernels.sparse``), so
    any block of rows is generated alone.

    Parameters
    ----------
    *shape : two ints, or one 2-tuple
        (rows, cols).
    sparsity : float
        The fraction of zeros per column, in [0, 1).
    std : float
        Finite, ``>= 0``; torch's default 0.01.
    dtype : dtype, optional
        float16, bfloat16, float32 (default) or float64.
    seed, out, rows, block, device
        As for :func:`uniform`.

    Returns
    -------
    numpy.ndarray, a numba device array or ``out``, as for :func:`uniform`

    Examples
    --------
    >>> w = fastinit.sparse(1024, 512, sparsity=0.9, seed=0)
    """
    t = _Target(shape, dtype, out, rows, ck.REAL_DTYPES, ndim=2, device=device, block=block)
    sparsity, std = _check_sparse(sparsity, std, t.dtype)
    n_rows, n_cols = t.full
    if max(t.full) >= 2**32:
        raise ValueError(f"shape: sparse supports fewer than 2**32 rows and columns, got {ck.shown(t.full)}")
    nz = math.ceil(sparsity * n_rows)
    h, dl = sparse_domain(n_rows)
    return t.fill(seed, fill_sparse, n_rows, n_cols, nz, std, h, dl, variant(mask_kind(n_rows, h)))


@initializer(check=_check_constant, dtypes=ck.CONSTANT_DTYPES)
def constant(*shape: int, value: Any, dtype: Any = None, seed: SeedLike = None,
             out: Array | None = None, rows: slice | None = None, block: Block = None, device: Device = None) -> Array:
    """A tensor filled with ``value`` (``torch.nn.init.constant_``, Keras ``Constant``, JAX
    ``constant``).

    ``value`` must be finite and representable in ``dtype`` (complex for complex dtypes). The
    integer dtypes (int8 to int64, uint8 to uint64) and bool are filled too, as torch's
    ``constant_`` fills them: an integer dtype takes a value within its range, a float truncated
    toward zero (``2.7`` gives 2); bool takes any finite value, nonzero meaning True. The
    fill is numpy's on the host and a grid-stride kernel on the GPU, both at the write
    bandwidth. ``seed`` is accepted and ignored, so that every initializer takes the same
    arguments.
    """
    t = _Target(shape, dtype, out, rows, ck.CONSTANT_DTYPES, device=device, block=block)
    check_seed(seed)
    return t.constant(_constant_value(value, t.dtype))


@initializer(dtypes=ck.CONSTANT_DTYPES)
def zeros(*shape: int, dtype: Any = None, seed: SeedLike = None, out: Array | None = None,
          rows: slice | None = None, block: Block = None, device: Device = None) -> Array:
    """A tensor of zeros (``torch.nn.init.zeros_``, Keras ``Zeros``, JAX ``zeros``,
    WeightInitializers.jl ``zeros32``); ``seed`` is ignored."""
    return constant(*shape, value=0.0, dtype=dtype, seed=seed, out=out, rows=rows, block=block, device=device)


@initializer(dtypes=ck.CONSTANT_DTYPES)
def ones(*shape: int, dtype: Any = None, seed: SeedLike = None, out: Array | None = None,
         rows: slice | None = None, block: Block = None, device: Device = None) -> Array:
    """A tensor of ones (``torch.nn.init.ones_``, Keras ``Ones``, JAX ``ones``,
    WeightInitializers.jl ``ones32``); ``seed`` is ignored."""
    return constant(*shape, value=1.0, dtype=dtype, seed=seed, out=out, rows=rows, block=block, device=device)
