"""``jax.nn.initializers`` on fastinit's kernels: a drop-in for JAX's initializer factories.

>>> import fastinit.jax as init                   # instead of: from jax.nn import initializers as init
>>> w = init.he_normal()(jax.random.key(0), (3, 3, 64, 128))             # a jax.Array, float32
>>> dense = flax.linen.Dense(512, kernel_init=init.lecun_normal())       # Flax takes them as is
>>> w = init.he_normal()(key, (8192, 8192), out_sharding=NamedSharding(mesh, P("x", "y")))  # sharded

Every name of ``jax.nn.initializers`` that makes weights: ``variance_scaling``,
``glorot_normal``/``glorot_uniform`` (``xavier_*``), ``he_normal``/``he_uniform``
(``kaiming_*``), ``lecun_normal``/``lecun_uniform``, ``normal``, ``uniform``,
``truncated_normal``, ``orthogonal``, ``delta_orthogonal``, ``constant``, ``zeros``, ``ones``,
with JAX's signatures and defaults. A factory returns ``init(key, shape, dtype=<the factory's>,
out_sharding=None)``, as JAX's do, and the values have JAX's formulas (``layout="jax"``: fans
from ``in_axis``, ``out_axis``, ``batch_axis``; ``"normal"`` untruncated; the truncated ones cut
at two standard deviations and rescaled; complex dtypes JAX's variants).

- **Keys and seeds.** ``key`` is a typed key (``jax.random.key(s)``) or a raw one
  (``jax.random.PRNGKey(s)``, a uint32 array). fastinit's 64-bit seed is the integer whose 32-bit
  words, most significant first, are the key's data (``jax.random.key_data(key)``): for the
  default threefry keys ``(data[0] << 32) | data[1]``, so ``jax.random.key(s)`` for
  ``0 <= s < 2**32`` gives seed ``s``, and ``init(jax.random.key(s), shape)`` equals the core
  call ``fastinit.get("jax.<name>")(shape, seed=s)``; keys of more words (``rbg``) are folded as
  ``seed=`` folds large ints. The values are fastinit's streams, not JAX's: the same key gives
  other numbers than ``jax.nn.initializers``, from the same distribution.
- **dtype.** ``None`` is JAX's default float dtype: float32, or float64 under
  ``jax_enable_x64``; float64 asked for without x64 is float32, as in JAX. float16, bfloat16,
  float32, float64 and (variance scaling, ``normal``, ``orthogonal``) complex64/complex128.
- **Parameters** may be 0-d or one-element arrays (``jnp.array(1.0)``), taken as their Python
  values (JAX would broadcast a shape-(1,) one, making a 0-d shape (1,)); ``None`` raises
  ``TypeError`` naming the parameter, as JAX does.
- **Result.** A ``jax.Array``. On the CPU backend it is fastinit's output itself (the array is
  made 64-byte aligned and handed to ``jax.device_put(..., may_alias=True)``: no copy); on a GPU
  backend it is copied to the device once.
- **Under** ``jax.jit`` (the key traced) the values come from a host callback
  (``jax.pure_callback``, receiving the key's data), equal to those outside ``jit``;
  ``jax.vmap`` over keys runs it once per key. The parameters and the shape are checked when the
  function is traced, so a bad call raises there, not inside the compiled computation (for
  ``orthogonal`` and ``delta_orthogonal`` JAX's shape checks).
- **Shardings.** ``out_sharding`` is any ``jax.sharding.Sharding`` (``NamedSharding``,
  ``SingleDeviceSharding``, ...) or, with a mesh in context (``jax.set_mesh``), a
  ``PartitionSpec`` of it, as JAX's; the result is laid out by it. Outside ``jit`` the array is
  built with ``jax.make_array_from_callback``: each distinct shard of this process's devices is
  generated alone (the core's ``block=``, the fans those of the whole shape), once, replicas
  sharing its host buffer: a host makes only its own devices' shards, never the whole array
  unless one of its devices holds it (``orthogonal``, whose every block needs the whole QR,
  makes its matrix once and slices it); the values equal the unsharded call's bit for bit.
  Under ``jit`` (the key traced) the callback makes the whole array, which is then constrained
  to the sharding (``jax.sharding.reshard`` for a spec of ``Explicit`` axes,
  ``jax.lax.with_sharding_constraint`` otherwise): XLA scatters it.
- ``zeros``, ``ones`` and ``constant`` are ``jax.numpy``'s own fill (``jnp.full``): nothing
  random to speed up, and XLA makes them inside ``jit`` without a callback; with
  ``out_sharding`` outside ``jit``, made on the devices already sharded.

Where it differs from JAX: the values (above); parameters are checked when the factory is called
(JAX checks ``mode`` and ``distribution`` at the first call), with fastinit's messages (a ``scale``
or ``stddev`` must be a real number, ``scale > 0``, ``uniform``'s ``scale > 0``, ``lower <
upper``; ``mode`` and ``distribution`` must be JAX's values; ``truncated_normal(0.0)``
gives zeros, as JAX's; a raw key must have JAX's raw-key shape); variance scaling with an axis
used twice raises (JAX counts it twice); ``out_sharding`` takes more than JAX's initializers
(any ``Sharding``, meshes of ``Auto`` axes, ``orthogonal`` and ``delta_orthogonal``, and no
mesh context needed for a ``NamedSharding`` outside ``jit``), with JAX's checks otherwise: a
``PartitionSpec`` without a mesh in context, or a ``NamedSharding`` of a mesh other than the
context's (unless both are all ``Auto``), raises ``ValueError``, anything else ``TypeError``;
a ``NamedSharding`` of an empty mesh is no sharding.

``import fastinit`` never imports JAX; ``import fastinit.jax`` does.
"""
from __future__ import annotations

import functools
import math
import numbers
from typing import Any, Callable, Sequence

import jax
import jax.numpy as jnp
import numpy as np

from . import _checks as ck
from .initializer import Initializer
from .registry import PRESETS

__all__ = ["variance_scaling", "glorot_uniform", "glorot_normal", "xavier_uniform",
           "xavier_normal", "he_uniform", "he_normal", "kaiming_uniform", "kaiming_normal",
           "lecun_uniform", "lecun_normal", "normal", "uniform", "truncated_normal", "orthogonal",
           "delta_orthogonal", "constant", "zeros", "ones", "key_seed"]

_JAX = PRESETS["jax"]
_ALIGN = 64  # XLA's CPU client aliases host buffers aligned to this many bytes


# --- keys, shapes, dtypes, parameters --------------------------------------------------------------

def _key_data(key: Any):
    """The key's data: a uint32 array (jax, numpy or a tracer) of one key."""
    if isinstance(key, jax.Array) and jax.dtypes.issubdtype(key.dtype, jax.dtypes.prng_key):
        data = jax.random.key_data(key)
    else:
        data = key
        dtype = getattr(key, "dtype", None)
        if dtype is None or np.dtype(dtype) != np.uint32:
            raise TypeError(f"key: expected a PRNG key (jax.random.key(s), or a uint32 array from "
                            f"jax.random.PRNGKey(s)), got {ck.shown(key)}")
        raw = _raw_key_shape()
        if tuple(data.shape) != raw:  # JAX takes a raw key of its default implementation's shape
            raise ValueError(f"key: a raw key (uint32 array) must have shape {raw}, the default "
                             f"PRNG implementation's, got shape {tuple(data.shape)} (a batch of "
                             f"keys: use jax.vmap)")
    if data.ndim != 1 or data.shape[0] == 0:
        raise ValueError(f"key: expected a single key, got key data of shape {tuple(data.shape)} "
                         f"(a batch of keys: use jax.vmap)")
    return data


def _raw_key_shape() -> tuple:
    """The shape of a raw key (``jax.random.PRNGKey(s)``) of JAX's default implementation."""
    impl = str(jax.config.jax_default_prng_impl)
    if impl not in _RAW_SHAPES:
        _RAW_SHAPES[impl] = tuple(jax.eval_shape(lambda: jax.random.key_data(jax.random.key(0))).shape)
    return _RAW_SHAPES[impl]


_RAW_SHAPES: dict = {}


def key_seed(key: Any) -> int:
    """fastinit's 64-bit seed for a (concrete) JAX key: the integer whose 32-bit words, most
    significant first, are the key's data, reduced as ``seed=`` reduces ints (module
    docstring)."""
    from ._seeding import seed64
    return int(seed64(_words_seed(np.asarray(_key_data(key)))))


def _words_seed(words: np.ndarray) -> int:
    n = 0
    for w in np.asarray(words, np.uint32).reshape(-1).tolist():
        n = (n << 32) | w
    return n


def _shape(shape: Any) -> tuple[int, ...]:
    """JAX's ``shape`` (a sequence of ints, or an int), checked as fastinit checks a shape
    (``ValueError`` for a negative dimension or too many values) before anything is made."""
    if isinstance(shape, (numbers.Integral, np.integer)) and not isinstance(shape, (bool, np.bool_)):
        shape = (shape,)
    if isinstance(shape, (str, bytes)) or isinstance(shape, jax.core.Tracer):
        raise TypeError(f"shape: expected a sequence of ints, got {ck.shown(shape)}")
    try:
        dims = tuple(shape)
    except TypeError:
        raise TypeError(f"shape: expected a sequence of ints, got {ck.shown(shape)}") from None
    return ck.shape_from((dims,), None)


def _dtype(dtype: Any) -> np.dtype:
    """JAX's dtype for ``dtype``: its default float dtype for ``None``; float64 (complex128)
    as float32 (complex64) without x64, with JAX's warning."""
    if dtype is None:
        return np.dtype(jax.dtypes.canonicalize_dtype(np.float64))
    try:  # JAX's own check and warning (jax/_src/dtypes.py), where this JAX has it
        from jax._src.dtypes import check_and_canonicalize_user_dtype
    except ImportError:  # pragma: no cover
        return np.dtype(jax.dtypes.canonicalize_dtype(dtype))
    return np.dtype(check_and_canonicalize_user_dtype(dtype, "fastinit.jax"))


def _param(name: str, value: Any) -> Any:
    """A 0-d or one-element 1-d array parameter (numpy, jax) as its Python value (JAX multiplies
    by it); ``None`` refused (JAX has no ``None`` for them); anything else unchanged."""
    if value is None:
        raise TypeError(f"{name}: expected a real number, got None")
    if isinstance(value, jax.core.Tracer):
        raise TypeError(f"{name}: a traced value; an initializer's parameters must be concrete "
                        f"(make the initializer outside jax.jit)")
    if isinstance(value, (jax.Array, np.ndarray, np.generic)) and (
            np.ndim(value) == 0 or (np.ndim(value) == 1 and np.size(value) == 1)):
        v = np.asarray(value).reshape(())
        if v.dtype.kind == "c":
            return complex(v)
        if v.dtype.kind == "b":
            return bool(v)
        if v.dtype.kind in "iu":
            return int(v)
        return float(v)
    return value


# --- the initializer --------------------------------------------------------------------------------

def _aligned_empty(shape: tuple, dtype: np.dtype) -> np.ndarray:
    n = math.prod(shape) * dtype.itemsize
    buf = np.empty(n + _ALIGN, np.uint8)
    at = (-buf.ctypes.data) % _ALIGN
    return buf[at:at + n].view(dtype).reshape(shape)


def _host(bound: Initializer, shape: tuple, dtype: np.dtype, data: np.ndarray) -> np.ndarray:
    """fastinit's values for the key data ``data``, in a new aligned array."""
    out = _aligned_empty(shape, dtype)
    bound(shape, dtype=dtype, seed=_words_seed(data), out=out)
    return out


def _dry_run(bound: Initializer, shape: tuple, dtype: np.dtype) -> None:
    """Every check of the call, nothing filled (under ``jit``, where the key has no value yet)."""
    if bound.name in ("orthogonal", "delta_orthogonal"):
        # JAX's shape checks ran; dtype, column_axis and scale checked on a shape of ones
        # (the same rank: one QR of a 1x1 matrix)
        bound(tuple(1 for _ in shape), dtype=dtype, seed=0)
    elif shape:
        bound(shape, dtype=dtype, seed=0, rows=slice(0, 0))
    else:
        bound(shape, dtype=dtype, seed=0)  # one value


def _generate(bound: Initializer, key: Any, shape: tuple, dtype: np.dtype, out_sharding: Any):
    data = _key_data(key)
    traced = isinstance(data, jax.core.Tracer) or _tracing()
    sharding = _out_sharding(out_sharding, shape, traced)
    if isinstance(data, jax.core.Tracer):
        _dry_run(bound, shape, dtype)
        result = jax.pure_callback(functools.partial(_host, bound, shape, dtype),
                                   jax.ShapeDtypeStruct(shape, dtype), data,
                                   vmap_method="sequential")
        return _constrained(result, sharding)
    data = np.asarray(data)
    if sharding is None:
        return jax.device_put(_host(bound, shape, dtype, data), may_alias=True)
    if traced:  # a concrete key inside jit (closed over): a constant, constrained as a tracer is
        return _constrained(jnp.asarray(_host(bound, shape, dtype, data)), sharding)
    return _sharded(bound, shape, dtype, data, sharding)


def _sharded(bound: Initializer, shape: tuple, dtype: np.dtype, data: np.ndarray,
             sharding: jax.sharding.Sharding) -> jax.Array:
    """The array laid out by ``sharding``, each distinct shard (this process's) made alone
    (``block=``) and once: replicas get the same host buffer."""
    seed = _words_seed(data)
    made: dict = {}
    whole: list = []  # orthogonal's matrix, made once (a block of it costs the whole QR)
    everything = tuple((0, n) for n in shape)

    def shard(index: tuple) -> np.ndarray:
        box = ck.block_box(None, index, shape)
        if box not in made:
            block = tuple(slice(a, b) for a, b in box)
            if box == everything:  # a replicated array, or one device's
                made[box] = _host(bound, shape, dtype, data)
            elif bound.name == "orthogonal":  # the matrix once, each shard a view of it
                if not whole:
                    whole.append(_host(bound, shape, dtype, data))
                made[box] = whole[0][block]
            else:
                made[box] = bound(shape, dtype=dtype, seed=seed, out=_aligned_empty(
                    tuple(b - a for a, b in box), dtype), block=block)
        return made[box]
    return jax.make_array_from_callback(shape, sharding, shard, dtype=dtype)


def _tracing() -> bool:
    """Whether a JAX transformation (``jit``, ``vmap``, ...) is tracing this call."""
    try:
        from jax._src.core import trace_state_clean
    except ImportError:  # pragma: no cover
        return isinstance(jnp.zeros(()), jax.core.Tracer)
    return not trace_state_clean()


def _initializer(bound: Initializer, factory_dtype: Any, check: Callable | None = None,
                 names: dict | None = None, dtypes: tuple | None = None):
    """``init(key, shape, dtype=factory_dtype, out_sharding=None)`` filling with ``bound``; its
    errors renamed to JAX's parameters by ``names``, its dtype one of ``dtypes`` if given."""
    def init(key: Any, shape: Sequence[int], dtype: Any = factory_dtype,
             out_sharding: Any = None) -> jax.Array:
        shape = _shape(shape)
        if check is not None:
            check(shape)
        dt = _dtype(dtype)
        if dtypes is not None:
            ck.dtype_from(dt, None, dtypes)
        with ck.renamed(names or {}):
            return _generate(bound, key, shape, dt, out_sharding)
    init.initializer = bound  # the fastinit Initializer behind it
    return init


# --- variance scaling -------------------------------------------------------------------------------

def _jax_fans_check(in_axis: Any) -> Callable[[tuple], None]:
    def check(shape: tuple) -> None:  # JAX's own error, with its words
        if isinstance(in_axis, int) and in_axis == -2 and len(shape) <= 1:
            raise ValueError(f"Can't compute input and output sizes of a {len(shape)}-dimensional"
                             f" weights tensor with default in_axis. Must be at least 2D or specify"
                             f" in_axis explicitly.")
    return check


def variance_scaling(scale: Any, mode: str, distribution: str, in_axis: int | Sequence[int] = -2,
                     out_axis: int | Sequence[int] = -1, batch_axis: int | Sequence[int] = (),
                     dtype: Any = None) -> Callable[..., jax.Array]:
    r"""``jax.nn.initializers.variance_scaling``: values of standard deviation (after truncation,
    for ``"truncated_normal"``) :math:`\sqrt{scale / n}`, ``n`` the ``mode``'s fan (``"fan_in"``,
    ``"fan_out"``, ``"fan_avg"``, ``"fan_geo_avg"``) from ``in_axis``, ``out_axis``,
    ``batch_axis`` (the other axes are the receptive field); ``distribution`` one of
    ``"truncated_normal"`` (cut at two standard deviations), ``"normal"``, ``"uniform"``
    (complex: JAX's disk and truncated modulus)."""
    scale = _param("scale", scale)
    _axes_given(in_axis, out_axis, batch_axis)
    for name, value in (("mode", mode), ("distribution", distribution)):
        if value is None:  # JAX requires them (the registry's None is fastinit's default)
            raise TypeError(f"{name}: expected a string, got None")
    bound = _JAX["variance_scaling"](scale=scale, mode=mode,
                                     distribution=distribution, in_axis=in_axis,
                                     out_axis=out_axis, batch_axis=batch_axis)
    return _initializer(bound, dtype, _jax_fans_check(in_axis))


def _axes_given(in_axis: Any, out_axis: Any, batch_axis: Any) -> None:
    """JAX has no ``None`` for the axes (its ``_compute_fans`` fails on it)."""
    for name, value in (("in_axis", in_axis), ("out_axis", out_axis), ("batch_axis", batch_axis)):
        if value is None:
            raise TypeError(f"{name}: expected an int or a sequence of ints, got None")


def _preset(name: str, doc: str):
    def factory(in_axis: int | Sequence[int] = -2, out_axis: int | Sequence[int] = -1,
                batch_axis: int | Sequence[int] = (), dtype: Any = None) -> Callable[..., jax.Array]:
        _axes_given(in_axis, out_axis, batch_axis)
        bound = _JAX[name](in_axis=in_axis, out_axis=out_axis, batch_axis=batch_axis)
        return _initializer(bound, dtype, _jax_fans_check(in_axis))
    factory.__name__ = factory.__qualname__ = name
    factory.__doc__ = f"``jax.nn.initializers.{name}``: ``variance_scaling({doc})``."
    return factory


glorot_uniform = _preset("glorot_uniform", '1.0, "fan_avg", "uniform"')
glorot_normal = _preset("glorot_normal", '1.0, "fan_avg", "truncated_normal"')
lecun_uniform = _preset("lecun_uniform", '1.0, "fan_in", "uniform"')
lecun_normal = _preset("lecun_normal", '1.0, "fan_in", "truncated_normal"')
he_uniform = _preset("he_uniform", '2.0, "fan_in", "uniform"')
he_normal = _preset("he_normal", '2.0, "fan_in", "truncated_normal"')
xavier_uniform, xavier_normal = glorot_uniform, glorot_normal
kaiming_uniform, kaiming_normal = he_uniform, he_normal


# --- the basic distributions -----------------------------------------------------------------------

def normal(stddev: Any = 1e-2, dtype: Any = None) -> Callable[..., jax.Array]:
    """``jax.nn.initializers.normal``: N(0, stddev**2) (complex: each part variance
    stddev**2 / 2)."""
    with ck.renamed(_NORMAL_NAMES):
        bound = _JAX["normal"](stddev=_param("stddev", stddev))
    return _initializer(bound, dtype, names=_NORMAL_NAMES)


_NORMAL_NAMES = {"std": "stddev", "mean, std": "stddev"}
_UNIFORM_NAMES = {"low": "scale", "high": "scale"}
_TRUNCATED_NAMES = {"std": "stddev", "mean": "stddev", "lo": "lower, stddev",
                    "hi": "upper, stddev"}
_ORTHOGONAL_NAMES = {"gain": "scale"}


def uniform(scale: Any = 1e-2, dtype: Any = None) -> Callable[..., jax.Array]:
    """``jax.nn.initializers.uniform``: values in ``[0, scale)`` (``scale > 0``)."""
    with ck.renamed(_UNIFORM_NAMES):
        bound = _JAX["uniform"](scale=_param("scale", scale))
    return _initializer(bound, dtype, names=_UNIFORM_NAMES)


def truncated_normal(stddev: Any = 1e-2, dtype: Any = None, lower: Any = -2.0,
                     upper: Any = 2.0) -> Callable[..., jax.Array]:
    """``jax.nn.initializers.truncated_normal``: N(0, stddev**2) restricted to
    ``[lower * stddev, upper * stddev]`` (no variance correction, as JAX)."""
    stddev, lower, upper = _param("stddev", stddev), _param("lower", lower), _param("upper", upper)
    if ck.real("stddev", stddev) == 0:  # JAX's values: zeros (std 0 has no truncated normal)
        _JAX["truncated_normal"](stddev=1.0, lower=lower, upper=upper)  # lower < upper
        return _initializer(_JAX["normal"](stddev=0.0), dtype, dtypes=ck.REAL_DTYPES)
    with ck.renamed(_TRUNCATED_NAMES):
        bound = _JAX["truncated_normal"](stddev=stddev, lower=lower, upper=upper)
    return _initializer(bound, dtype, names=_TRUNCATED_NAMES)


# --- orthogonal ------------------------------------------------------------------------------------

def orthogonal(scale: Any = 1.0, column_axis: int = -1, dtype: Any = None) -> Callable[..., jax.Array]:
    """``jax.nn.initializers.orthogonal``: ``scale`` times a uniformly distributed orthogonal
    matrix, the shape flattened to (size / shape[column_axis], shape[column_axis]) (QR of
    fastinit's Gaussian matrix, sign-corrected)."""
    with ck.renamed(_ORTHOGONAL_NAMES):
        bound = _JAX["orthogonal"](scale=_param("scale", scale), column_axis=column_axis)

    def check(shape: tuple) -> None:
        if len(shape) < 2:
            raise ValueError("orthogonal initializer requires at least a 2D shape")
    return _initializer(bound, dtype, check, names=_ORTHOGONAL_NAMES)


def delta_orthogonal(scale: Any = 1.0, column_axis: int = -1,
                     dtype: Any = None) -> Callable[..., jax.Array]:
    """``jax.nn.initializers.delta_orthogonal``: zeros, with ``orthogonal(scale,
    column_axis)`` of the last two axes at the kernel's centre (3-D, 4-D or 5-D shapes,
    ``shape[-1] >= shape[-2]``)."""
    with ck.renamed(_ORTHOGONAL_NAMES):
        bound = _JAX["delta_orthogonal"](scale=_param("scale", scale), column_axis=column_axis)

    def check(shape: tuple) -> None:
        if len(shape) not in (3, 4, 5):
            raise ValueError("Delta orthogonal initializer requires a 3D, 4D or 5D shape.")
        if shape[-1] < shape[-2]:
            raise ValueError("`fan_in` must be less or equal than `fan_out`. ")
    return _initializer(bound, dtype, check, names=_ORTHOGONAL_NAMES)


# --- constants: jax.numpy's own ----------------------------------------------------------------------

def _out_sharding(out_sharding: Any, shape: tuple, traced: bool) -> jax.sharding.Sharding | None:
    """``out_sharding`` checked as JAX checks it (``canonicalize_sharding``), but any
    ``jax.sharding.Sharding`` taken: a ``PartitionSpec`` needs a mesh in context
    (``jax.set_mesh``) and is a ``NamedSharding`` of it (outside ``jit``, of the concrete mesh);
    a ``NamedSharding`` of an empty mesh is ``None``; one of a mesh other than the context's is
    refused, unless both have only ``Auto`` axes; the sharding must fit the shape's rank."""
    if out_sharding is None:
        return None
    PartitionSpec, NamedSharding = jax.sharding.PartitionSpec, jax.sharding.NamedSharding
    context = jax.sharding.get_abstract_mesh()
    if isinstance(out_sharding, PartitionSpec):
        if context.empty:
            raise ValueError(f"out_sharding: a PartitionSpec needs a mesh in context (enter one "
                             f"with jax.set_mesh) or pass a NamedSharding, got {out_sharding}")
        sharding = NamedSharding(context if traced else _concrete_mesh(context), out_sharding)
    elif not isinstance(out_sharding, jax.sharding.Sharding):
        raise TypeError(f"out_sharding: expected a jax.sharding.Sharding (NamedSharding, "
                        f"SingleDeviceSharding, ...), a PartitionSpec or None, got "
                        f"{ck.shown(out_sharding)} of type {type(out_sharding).__name__}")
    elif isinstance(out_sharding, NamedSharding):
        mesh = out_sharding.mesh
        if mesh.empty:
            return None
        if (not context.empty and context != mesh.abstract_mesh
                and not (_all_auto(context) and _all_auto(mesh))):
            raise ValueError(f"out_sharding: the context mesh {context} should match the mesh "
                             f"of the sharding, {mesh.abstract_mesh}")
        sharding = out_sharding
        if not traced and isinstance(mesh, jax.sharding.AbstractMesh):  # the context's, concretely
            sharding = NamedSharding(_concrete_mesh(mesh), out_sharding.spec,
                                     memory_kind=out_sharding.memory_kind)
    else:
        sharding = out_sharding
    check = getattr(sharding, "check_compatible_aval", None)  # JAX's rank check
    if check is not None:
        try:
            check(shape)
        except ValueError as e:
            raise ValueError(f"out_sharding: {e}") from None
    return sharding


def _all_auto(mesh: Any) -> bool:
    return all(t == jax.sharding.AxisType.Auto for t in mesh.axis_types)


def _concrete_mesh(abstract: Any) -> jax.sharding.Mesh:
    """The context's concrete mesh (``jax.set_mesh``), which ``abstract`` must be."""
    mesh = jax.sharding.get_mesh()
    if mesh.empty or mesh.abstract_mesh != abstract:
        raise ValueError(f"out_sharding: outside jax.jit a sharding of the abstract mesh "
                         f"{abstract} needs that mesh in context (jax.set_mesh)")
    return mesh


def _constrained(x: jax.Array, sharding: jax.sharding.Sharding | None) -> jax.Array:
    """``x`` (a tracer) constrained to ``sharding``: ``jax.sharding.reshard`` where its spec
    uses only ``Explicit`` axes of a mesh that has some, else
    ``jax.lax.with_sharding_constraint``."""
    if sharding is None:
        return x
    if isinstance(sharding, jax.sharding.NamedSharding):
        mesh = sharding.mesh
        explicit = {n for n, t in zip(mesh.axis_names, mesh.axis_types)
                    if t == jax.sharding.AxisType.Explicit}
        used = set()
        for entry in sharding.spec:
            if isinstance(entry, str):
                used.add(entry)
            elif isinstance(entry, (tuple, list)):
                used.update(entry)
        if explicit and used <= explicit:
            return jax.sharding.reshard(x, sharding)
    return jax.lax.with_sharding_constraint(x, sharding)


def _fill(shape: Any, value: Any, dtype: Any, out_sharding: Any) -> jax.Array:
    """``jnp.full(shape, value, dtype)``; with a sharding, made sharded on the devices (outside
    a transformation: one shard broadcast on a device and copied to the others, or, for an array
    ``value``, a ``jit`` with ``out_shardings``) or constrained to it (a tracer)."""
    shape, dt = _shape(shape), _dtype(dtype)
    traced = _tracing()
    sharding = _out_sharding(out_sharding, shape, traced)
    if sharding is None or traced:
        return _constrained(jnp.full(shape, value, dt), sharding)
    if np.ndim(value) == 0:
        return jnp.full(shape, value, dt, device=sharding)
    return jax.jit(functools.partial(jnp.full, shape, value, dt), out_shardings=sharding)()


def zeros(key: Any, shape: Sequence[int], dtype: Any = None, out_sharding: Any = None) -> jax.Array:
    """``jax.nn.initializers.zeros``: ``jnp.zeros`` (the key is ignored)."""
    return _fill(shape, 0, dtype, out_sharding)


def ones(key: Any, shape: Sequence[int], dtype: Any = None, out_sharding: Any = None) -> jax.Array:
    """``jax.nn.initializers.ones``: ``jnp.ones`` (the key is ignored)."""
    return _fill(shape, 1, dtype, out_sharding)


def constant(value: Any, dtype: Any = None) -> Callable[..., jax.Array]:
    """``jax.nn.initializers.constant``: ``jnp.full(shape, value, dtype)`` (an array ``value``
    broadcast to the shape, as JAX)."""
    def init(key: Any, shape: Sequence[int], dtype: Any = dtype, out_sharding: Any = None) -> jax.Array:
        return _fill(shape, value, dtype, out_sharding)
    return init
