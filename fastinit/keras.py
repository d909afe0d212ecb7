r"""``fastinit.keras``: Keras 3's initializers on fastinit's kernels.

Every initializer of ``keras.initializers``, as a subclass of Keras' own class (so
``isinstance(fastinit.keras.HeNormal(), keras.initializers.VarianceScaling)`` holds and layers
that look for one, ``EinsumDense`` and ``MultiHeadAttention``, inject their ``input_axes`` and
``output_axes``), with Keras' constructor arguments, attribute names, defaults, checks and error
messages, ``get_config``/``from_config``/``clone``, and registered with
``keras.saving.register_keras_serializable(package="fastinit")`` so that a saved ``.keras``
model reloads with these classes (``import fastinit.keras`` before ``keras.saving.load_model``)::

    import fastinit.keras as fk                     # instead of: keras.initializers
    layer = keras.layers.Dense(4096, kernel_initializer=fk.HeNormal(seed=0))
    mha = keras.layers.MultiHeadAttention(8, 64, kernel_initializer=fk.GlorotUniform())
    fk.get("lecun_normal"), fk.get({"class_name": "HeNormal", "config": {"seed": 1}})

Calling one, ``init(shape, dtype=None)``, returns a tensor of the current backend (numpy: a numpy
array; jax: a ``jax.Array``, aliasing fastinit's 64-byte-aligned host buffer on the CPU; torch: a
tensor sharing fastinit's buffer, moved to Keras' device when that is not the CPU; others:
``keras.ops.convert_to_tensor``) of ``dtype`` (Keras' default ``keras.config.floatx()``; bfloat16,
float16, float32 and float64 for the random ones, every numeric dtype and bool for ``Zeros``,
``Ones``, ``Constant`` and ``Identity``), written once by fastinit's kernels: no further copy of
the tensor's size on the host.

What differs from Keras:

- **The values** are fastinit's streams (README, "Reproducibility"), not Keras' RNG; the
  distributions and formulas are Keras'. For an int seed ``s`` they are the core's:
  ``fk.HeNormal(seed=s)(shape)`` equals ``fastinit.get("he_normal")(shape, seed=s)``, i.e.
  ``fastinit.kaiming_normal(*shape, layout="keras", seed=s)``, on every backend.
- **Seeds** behave as Keras': an int seed repeats its values on every call; ``seed=None`` takes
  Keras' own default seed when the initializer is made (``random.randint(1, 10**9)`` from
  Python's generator, which ``keras.utils.set_random_seed`` seeds) and repeats it, and a clone
  (``clone()``, ``from_config(get_config())``) draws a new one; a ``keras.random.SeedGenerator``
  advances once per call. Its state ``(s, n)`` (Keras' ``seed.next()``; ``(s, 0)`` on the first
  call) gives the fastinit seed ``s + n * 2**64``, so its first call gives what ``seed=s`` gives,
  as in Keras. A call that raises does not advance it.
- ``Constant`` takes array values as well as scalars: an array must broadcast to the shape
  (Keras would broadcast the shape to it); a scalar is checked when the initializer is made, and
  values the dtype cannot hold raise ``ValueError``.
- ``Identity``'s config holds its ``gain`` (Keras' ``get_config`` returns ``{}``, so that a
  clone or a reloaded model of Keras' own has gain 1).
- Parameters are checked when the initializer is made (``stddev``, ``minval < maxval``,
  ``gain``, ...), with errors naming Keras' parameters; Keras checks only ``VarianceScaling``'s
  and ``STFT``'s there, with the wording kept here.
- ``None`` where Keras has no ``None`` (``stddev``, ``mean``, ``gain``, ``value``, ...) raises
  ``TypeError`` naming the parameter when the initializer is made. ``Constant``'s array values
  are checked as its scalar ones (finite, within the dtype's range; integer dtypes truncate
  toward zero, as a cast). ``input_axes``/``output_axes`` naming an axis twice raise (Keras
  counts it twice).
- A ``SeedGenerator`` seed inside ``jax.jit`` (Keras' sharded variable creation) is not
  supported: it raises ``TypeError`` before the generator advances (the values are made on the
  host, eagerly; int seeds give constants there). A ``SeedGenerator`` shared by threads gives
  each call its own state (it advances under a lock).
"""
from __future__ import annotations

import inspect
import numbers
from typing import Any, Callable

import keras
import numpy as np

from . import _checks as ck
from . import registry
from . import fills as _fills
from ._forksafe import ForkSafeLock
from ._seeding import Deferred
from .initializer import Initializer as _FastInitializer

__all__ = [
    "Initializer", "Zeros", "Ones", "Constant", "Identity", "STFT", "RandomNormal",
    "RandomUniform", "TruncatedNormal", "VarianceScaling", "GlorotNormal", "GlorotUniform",
    "HeNormal", "HeUniform", "LecunNormal", "LecunUniform", "Orthogonal", "get", "serialize",
    "deserialize",
    # Keras' lower-case names and aliases of the classes
    "zeros", "ones", "constant", "identity", "IdentityInitializer", "stft", "STFTInitializer",
    "random_normal", "random_uniform", "truncated_normal", "variance_scaling", "glorot_normal",
    "glorot_uniform", "he_normal", "he_uniform", "lecun_normal", "lecun_uniform", "orthogonal",
    "OrthogonalInitializer",
]

Initializer = keras.initializers.Initializer
_K = keras.initializers
_SeedGenerator = keras.random.SeedGenerator


# --- values as backend tensors ---------------------------------------------------------------------

def _torch_device() -> Any:
    try:
        from keras.src.backend.torch.core import get_device
        return get_device()
    except Exception:  # another Keras layout: the tensor stays where torch puts it
        return None


def _backend_tensor(make: Callable[..., np.ndarray], shape: tuple, dtype: str) -> Any:
    """``make(shape=, dtype=, out=buffer)`` or ``make(shape=, dtype=)`` (a numpy array) as a
    tensor of Keras' backend, without a copy of its size on the host where the backend allows
    it. ``make`` checks ``dtype`` (the one the user passed) before it fills ``out``."""
    backend = keras.backend.backend()
    if backend == "jax":
        import jax

        from . import jax as fastinit_jax  # its 64-byte-aligned buffers, which jax aliases
        out = fastinit_jax._aligned_empty(shape, np.dtype(dtype))
        make(out=out, shape=shape, dtype=dtype)
        try:
            return jax.device_put(out, may_alias=True)  # no copy on the CPU
        except TypeError:  # a jax without may_alias
            return jax.numpy.asarray(out)
    arr = make(shape=shape, dtype=dtype)
    if backend == "numpy":
        return arr
    if backend == "torch":
        import torch
        if ck.is_bfloat16(arr.dtype):  # torch takes no ml_dtypes array: its bits, viewed
            t = torch.from_numpy(arr.view(np.int16)).view(torch.bfloat16)
        else:
            t = torch.from_numpy(arr)
        device = _torch_device()
        return t if device is None else t.to(device)
    return keras.ops.convert_to_tensor(arr, dtype=dtype)


def _number(value: Any) -> Any:
    """A scalar parameter as a Python or numpy number (Keras allows scalar tensors)."""
    if isinstance(value, (numbers.Number, np.generic, str)) or value is None:
        return value
    if keras.ops.is_tensor(value) or isinstance(value, np.ndarray):
        arr = np.asarray(keras.ops.convert_to_numpy(value))
        if arr.ndim == 0:
            return arr[()]
    return value


#: held while a SeedGenerator advances: threads sharing one take distinct states
_generator_lock = ForkSafeLock()


def _generator_seed(gen: Any) -> int:
    """The fastinit seed of one call with ``gen``: its state ``(s, n)`` before the call as
    ``s + n * 2**64`` (each as uint32, Keras' seed dtype); the state advances."""
    with _generator_lock.lock:
        state = np.asarray(keras.ops.convert_to_numpy(gen.next())).ravel()[:2]
    s, n = (int(v) % (1 << 32) for v in state)
    return s + (n << 64)


def _check_untraced(gen: Any) -> None:
    """``TypeError`` for a SeedGenerator seed inside ``jax.jit`` (Keras' sharded variable
    creation), before its state is touched: fastinit makes the values on the host."""
    if keras.backend.backend() != "jax":
        return
    from .jax import _tracing  # JAX is there: the backend
    if _tracing():
        raise TypeError("seed: a keras.random.SeedGenerator seed is not supported inside jax.jit "
                        "(fastinit makes the values on the host, eagerly); use an int seed, or "
                        "call the initializer outside jit")


class _Fastinit:
    """The fastinit part of each class: ``__call__`` fills through the fastinit Initializer that
    :data:`fastinit.registry.KERAS` makes of the Keras attributes named in ``_params``, built (and
    so checked) when the object is made and again at each call; errors of the fill name Keras'
    parameters through ``_names`` (fastinit's name: Keras')."""

    _preset = ""
    _params: tuple = ()
    _names: dict = {}

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._fastinit()

    def _fastinit(self) -> _FastInitializer:
        params = {p: _number(getattr(self, p)) for p in self._params}
        return registry.KERAS[self._preset](**params)

    def _seed(self) -> Any:
        seed = getattr(self, "seed", None)
        if isinstance(seed, _SeedGenerator):
            _check_untraced(seed)
            return Deferred(lambda: _generator_seed(seed))  # drawn after every check
        return seed

    def __call__(self, shape: Any, dtype: Any = None) -> Any:
        """A tensor of ``shape`` and ``dtype`` (default ``keras.config.floatx()``) of Keras'
        backend, filled by fastinit."""
        dtype = keras.backend.standardize_dtype(dtype)
        init = self._fastinit()
        seed = self._seed()

        def make(out=None, shape=None, dtype=None):
            with ck.renamed(self._names):  # dtype checked (as the user's) before out is filled
                return init(shape, dtype=dtype, out=out, seed=seed)
        return _backend_tensor(make, _shape(shape), dtype)


def _shape(shape: Any) -> tuple[int, ...]:
    """Keras' ``shape`` (a tuple or list of ints; an int for one dimension, as Keras' random
    fills take it), checked as fastinit checks a shape."""
    if isinstance(shape, np.ndarray) and shape.ndim == 1:  # Keras takes it (its dims as ints)
        shape = list(shape)
    return ck.shape_arg(shape)


def _register(preset: str, *params: str):
    """Set the class's preset and parameters and register it with Keras' serialization."""
    def wrap(cls):
        cls._preset, cls._params = preset, params
        cls.__module__ = __name__
        return keras.saving.register_keras_serializable(package="fastinit")(cls)
    return wrap


# --- the classes -----------------------------------------------------------------------------------

_SEED_DOC = """
    The values are fastinit's (module docstring); an int ``seed`` repeats them on every call,
    ``seed=None`` picks Keras' default seed when made, a ``keras.random.SeedGenerator`` advances
    once per call."""


@_register("Zeros")
class Zeros(_Fastinit, _K.Zeros):
    """Keras' ``Zeros``: a tensor of zeros (any numeric dtype, or bool)."""


@_register("Ones")
class Ones(_Fastinit, _K.Ones):
    """Keras' ``Ones``: a tensor of ones (any numeric dtype, or bool)."""


@_register("Constant", "value")
class Constant(_Fastinit, _K.Constant):
    """Keras' ``Constant(value=0.0)``: ``value`` cast to the dtype, a scalar (a Python number,
    a 0-d array or tensor) or an array that broadcasts to the shape."""

    def _array(self) -> np.ndarray | None:
        value = self.value
        if isinstance(value, (numbers.Number, np.generic)):
            return None
        try:
            arr = np.asarray(keras.ops.convert_to_numpy(value) if keras.ops.is_tensor(value) else value)
        except Exception:
            raise TypeError(f"value: expected a number or an array of numbers, got {ck.shown(value)}") from None
        if arr.ndim and arr.dtype.kind in "biufc":
            return arr
        if arr.ndim:
            raise TypeError(f"value: expected a number or an array of numbers, got {ck.shown(value)}")
        return None

    def _fastinit(self) -> _FastInitializer | None:
        if self._array() is not None:
            return None
        value = _number(self.value)
        if isinstance(value, (bool, np.bool_)):  # Keras casts it: 1 or 0 in the dtype
            value = int(value)
        return registry.KERAS[self._preset](value=value)

    def __call__(self, shape: Any, dtype: Any = None) -> Any:
        arr = self._array()
        if arr is None:
            return super().__call__(shape, dtype)
        dtype = keras.backend.standardize_dtype(dtype)
        shape = _shape(shape)

        def make(out=None, shape=None, dtype=None):
            dt = ck.dtype_from(dtype, None, ck.CONSTANT_DTYPES)
            try:
                fits = np.broadcast_shapes(arr.shape, shape) == shape
            except ValueError:
                fits = False
            if not fits:
                raise ValueError(f"value: an array of shape {arr.shape} does not broadcast to the "
                                 f"shape {ck.shown(shape)}") from None
            _check_values(arr, dt)
            out = np.empty(shape, dt) if out is None else out
            np.copyto(out, arr, casting="unsafe")  # checked: every value fits dt
            return out
        return _backend_tensor(make, shape, dtype)


def _check_values(arr: np.ndarray, dt: np.dtype) -> None:
    """A Constant array's values, checked as a scalar value is (``fastinit.constant``): finite,
    within ``dt``'s range (integer dtypes: after truncation toward zero), complex values only
    for complex dtypes."""
    if arr.dtype.kind == "c" and dt.kind != "c":
        raise TypeError(f"value: complex values for the real dtype {dt.name}")
    if not arr.size:
        return
    parts = (arr.real, arr.imag) if arr.dtype.kind == "c" else (arr,)
    for part in parts:
        if part.dtype.kind == "f" and not np.isfinite(part).all():
            bad = part[~np.isfinite(part)].reshape(-1)[0]
            raise ValueError(f"value: must be finite, got {ck.shown(bad.item())} in the array")
        for v in (part.min().item(), part.max().item()):  # as fastinit.constant checks a scalar
            _fills._constant_value(v, np.finfo(dt).dtype if dt.kind == "c" else dt)


@_register("Identity", "gain")
class Identity(_Fastinit, _K.Identity):
    """Keras' ``Identity(gain=1.0)``: ``gain`` times the 2-D identity matrix
    (:func:`fastinit.eye`). Its config holds ``gain`` (Keras' own leaves it out, so a clone or a
    reloaded model gets gain 1)."""

    def get_config(self) -> dict:
        return {"gain": self.gain}


@_register("STFT", "side", "window", "scaling", "periodic")
class STFT(_Fastinit, _K.STFT):
    """Keras' ``STFT(side="real", window="hann", scaling="density", periodic=False)``: the
    kernels of a short-time Fourier transform, shape ``(frame_length, 1, fft_bins)``
    (:func:`fastinit.stft`)."""


@_register("RandomNormal", "mean", "stddev")
class RandomNormal(_Fastinit, _K.RandomNormal):
    __doc__ = """Keras' ``RandomNormal(mean=0.0, stddev=0.05, seed=None)``: normal values
    (:func:`fastinit.normal`).""" + _SEED_DOC
    _names = {"std": "stddev"}


@_register("RandomUniform", "minval", "maxval")
class RandomUniform(_Fastinit, _K.RandomUniform):
    __doc__ = """Keras' ``RandomUniform(minval=-0.05, maxval=0.05, seed=None)``: values in
    ``[minval, maxval)`` (:func:`fastinit.uniform`).""" + _SEED_DOC
    _names = {"low": "minval", "high": "maxval"}


@_register("TruncatedNormal", "mean", "stddev")
class TruncatedNormal(_Fastinit, _K.TruncatedNormal):
    __doc__ = """Keras' ``TruncatedNormal(mean=0.0, stddev=0.05, seed=None)``: normal values
    within two ``stddev`` of ``mean``, not rescaled (:func:`fastinit.truncated_normal`).""" + _SEED_DOC
    _names = {"std": "stddev", "lo": "mean, stddev", "hi": "mean, stddev"}


@_register("VarianceScaling", "scale", "mode", "distribution", "input_axes", "output_axes")
class VarianceScaling(_Fastinit, _K.VarianceScaling):
    __doc__ = """Keras' ``VarianceScaling(scale=1.0, mode="fan_in",
    distribution="truncated_normal", seed=None, input_axes=None, output_axes=None)``:
    :func:`fastinit.variance_scaling` with ``layout="keras"`` (Keras' fans, ``max(1, fan)``;
    ``"normal"`` means truncated). The glorot, he and lecun classes are subclasses, as in Keras,
    so ``EinsumDense`` gives them its axes.""" + _SEED_DOC


_FAMILY_DOC = """Keras' ``{name}(seed=None, input_axes=None, output_axes=None)``:
    :func:`fastinit.{fn}` with ``layout="keras"``.""" + _SEED_DOC


def _family(name: str, fn: str) -> type:
    cls = type(name, (getattr(_K, name), VarianceScaling),
               {"__doc__": _FAMILY_DOC.format(name=name, fn=fn), "__qualname__": name})
    return _register(name, "input_axes", "output_axes")(cls)


GlorotNormal = _family("GlorotNormal", "glorot_normal")
GlorotUniform = _family("GlorotUniform", "glorot_uniform")
HeNormal = _family("HeNormal", "kaiming_normal")
HeUniform = _family("HeUniform", "kaiming_uniform")
LecunNormal = _family("LecunNormal", "lecun_normal")
LecunUniform = _family("LecunUniform", "lecun_uniform")


@_register("Orthogonal", "gain")
class Orthogonal(_Fastinit, _K.Orthogonal):
    __doc__ = """Keras' ``Orthogonal(gain=1.0, seed=None)``: :func:`fastinit.orthogonal` with
    ``layout="keras"`` (the last axis kept; fastinit's Gaussian matrix, LAPACK's QR).""" + _SEED_DOC


# Keras' lower-case names and aliases (keras.initializers' namespace)
zeros, ones, constant, identity, IdentityInitializer = Zeros, Ones, Constant, Identity, Identity
stft, STFTInitializer = STFT, STFT
random_normal, random_uniform, truncated_normal = RandomNormal, RandomUniform, TruncatedNormal
variance_scaling, glorot_normal, glorot_uniform = VarianceScaling, GlorotNormal, GlorotUniform
he_normal, he_uniform, lecun_normal, lecun_uniform = HeNormal, HeUniform, LecunNormal, LecunUniform
orthogonal, OrthogonalInitializer = Orthogonal, Orthogonal

_CLASSES = (Zeros, Ones, Constant, Identity, STFT, RandomNormal, RandomUniform, TruncatedNormal,
            VarianceScaling, GlorotNormal, GlorotUniform, HeNormal, HeUniform, LecunNormal,
            LecunUniform, Orthogonal)
#: every name ``get`` and ``deserialize`` resolve, as Keras' ``ALL_OBJECTS_DICT``
ALL_OBJECTS_DICT: dict[str, type] = {c.__name__: c for c in _CLASSES}
ALL_OBJECTS_DICT.update({registry._snake(c.__name__): c for c in _CLASSES})
ALL_OBJECTS_DICT.update({"IdentityInitializer": Identity, "normal": RandomNormal, "one": Ones,
                         "STFTInitializer": STFT, "OrthogonalInitializer": Orthogonal,
                         "uniform": RandomUniform, "zero": Zeros})


# --- get, serialize, deserialize -------------------------------------------------------------------

def serialize(initializer: Any) -> dict:
    """``keras.initializers.serialize``: the initializer's Keras config."""
    return keras.saving.serialize_keras_object(initializer)


def deserialize(config: Any, custom_objects: dict | None = None) -> Any:
    """``keras.initializers.deserialize`` with this module's classes: Keras' own class names
    (``{"class_name": "HeNormal", "module": "keras.initializers", ...}``) give fastinit's."""
    return keras.saving.deserialize_keras_object(config, module_objects=ALL_OBJECTS_DICT,
                                                 custom_objects=custom_objects)


def get(identifier: Any) -> Any:
    """``keras.initializers.get`` with this module's classes: a Keras name (``"he_normal"``,
    ``"HeNormal"``, ``"one"``, ...) or config dict gives a fastinit class's instance, a class is
    instantiated, a tensor or numpy array gives Keras' initializer of those values, a callable is
    returned as is, ``None`` gives ``None``; anything else raises ``ValueError``."""
    if isinstance(identifier, dict):
        obj = deserialize(identifier)
    elif isinstance(identifier, str):
        obj = deserialize({"class_name": str(identifier), "config": {}})
    else:
        return keras.initializers.get(identifier)
    if callable(obj):
        return obj() if inspect.isclass(obj) else obj
    raise ValueError(f"Could not interpret initializer identifier: {identifier}")
