"""``fastinit.keras`` against Keras 3 itself: the classes are Keras' (subclasses, configs,
serialization, EinsumDense's axes), the values are fastinit's (equal to the core's for a seed),
the distributions are Keras' (two-sample KS tests against Keras' own outputs, fixed seeds,
p-values above 1e-6), seeds behave as Keras', and a model built with them trains one step and
reloads from a ``.keras`` file on the jax and torch backends (in subprocesses) and the numpy one.

Keras runs in-process on the numpy backend: the environment variable is set before anything
imports keras (as tests/test_frameworks.py does).
"""
from __future__ import annotations

import os

os.environ.setdefault("KERAS_BACKEND", "numpy")  # before any import of keras

import numpy as np  # noqa: E402
import pytest  # noqa: E402

import fastinit  # noqa: E402

keras = pytest.importorskip("keras")
fk = pytest.importorskip("fastinit.keras")
from scipy import stats  # noqa: E402

P_FLOOR = 1e-6
K = keras.initializers

NAMES = ["Zeros", "Ones", "Constant", "Identity", "STFT", "RandomNormal", "RandomUniform",
         "TruncatedNormal", "VarianceScaling", "GlorotNormal", "GlorotUniform", "HeNormal",
         "HeUniform", "LecunNormal", "LecunUniform", "Orthogonal"]
RANDOM = NAMES[5:]


def _np(x) -> np.ndarray:
    return np.asarray(keras.ops.convert_to_numpy(x))


# --- the classes -------------------------------------------------------------------------------

def test_every_keras_initializer_is_a_subclass():
    for name in NAMES:
        cls = getattr(fk, name)
        assert issubclass(cls, getattr(K, name)) and issubclass(cls, K.Initializer), name
        assert cls.__module__ == "fastinit.keras"
        assert keras.saving.get_registered_name(cls) == f"fastinit>{name}"
    for name in ("GlorotNormal", "GlorotUniform", "HeNormal", "HeUniform", "LecunNormal", "LecunUniform"):
        assert issubclass(getattr(fk, name), fk.VarianceScaling)
    # Keras' lower-case names and aliases name the same classes as in keras.initializers
    for alias in ("zeros", "ones", "constant", "identity", "IdentityInitializer", "stft",
                  "STFTInitializer", "random_normal", "random_uniform", "truncated_normal",
                  "variance_scaling", "glorot_normal", "he_uniform", "lecun_normal", "orthogonal",
                  "OrthogonalInitializer"):
        assert getattr(fk, alias).__name__ == getattr(K, alias).__name__, alias


@pytest.mark.parametrize("name, kwargs, fastinit_name", [
    ("RandomNormal", dict(mean=0.5, stddev=2.0), "normal"),
    ("RandomUniform", dict(minval=-2.0, maxval=3.0), "uniform"),
    ("TruncatedNormal", dict(mean=1.0, stddev=0.5), "truncated_normal"),
    ("VarianceScaling", dict(scale=3.0, mode="fan_avg", distribution="uniform"), "variance_scaling"),
    ("HeNormal", {}, "kaiming_normal"),
    ("GlorotUniform", {}, "glorot_uniform"),
    ("LecunNormal", {}, "lecun_normal"),
    ("Orthogonal", dict(gain=2.0), "orthogonal"),
])
def test_values_are_the_cores(name, kwargs, fastinit_name):
    """For an int seed, the values are fastinit.get(<Keras name>)'s, on the same stream."""
    shape = (6, 5, 40, 30)
    got = getattr(fk, name)(seed=123, **kwargs)(shape)
    assert isinstance(got, np.ndarray) and got.dtype == np.float32 and got.shape == shape
    want = fastinit.get({"class_name": name, "config": kwargs})(shape, seed=123)
    np.testing.assert_array_equal(got, want)
    assert fastinit.get(name).name == fastinit_name


def test_constants():
    np.testing.assert_array_equal(fk.Zeros()((2, 3), "int32"), np.zeros((2, 3), np.int32))
    assert fk.Ones()((4,), "bool").all()
    np.testing.assert_array_equal(fk.Constant(2.5)((3, 2)), np.full((3, 2), 2.5, np.float32))
    np.testing.assert_array_equal(fk.Identity(gain=3)((3, 4)), 3 * np.eye(3, 4, dtype=np.float32))
    with pytest.raises(ValueError, match="2 dimensions"):
        fk.Identity()((3, 3, 3))
    want = _np(K.STFT("imag", "hamming", "spectrum", True)((64, 1, 33)))
    np.testing.assert_allclose(fk.STFT("imag", "hamming", "spectrum", True)((64, 1, 33)), want,
                               atol=1e-6)
    with pytest.raises(ValueError):
        fk.STFT("imaginary")


def test_constant_array_values():
    value = np.arange(6, dtype=np.float64).reshape(2, 3) / 4
    got = fk.Constant(value)((2, 3))
    np.testing.assert_array_equal(got, value.astype(np.float32))
    np.testing.assert_array_equal(fk.Constant(value)((4, 2, 3), "int32"),
                                  np.broadcast_to(value.astype(np.int32), (4, 2, 3)))
    np.testing.assert_array_equal(fk.Constant(keras.ops.ones((3,)) * 2)((2, 3)), np.full((2, 3), 2.0))
    assert fk.Constant(np.float64(1.5))((2,), "float16").dtype == np.float16
    with pytest.raises(ValueError, match="value"):
        fk.Constant(value)((3, 3))
    with pytest.raises(TypeError, match="value"):
        fk.Constant(["a", "b"])
    c = fk.Constant(value)
    np.testing.assert_array_equal(fk.Constant.from_config(c.get_config())((2, 3)), got)


def test_dtypes():
    assert fk.HeNormal(seed=0)((8, 8)).dtype == np.dtype(keras.config.floatx())
    w = fk.HeNormal(seed=0)((64, 32), "bfloat16")
    assert w.dtype == np.dtype("bfloat16")
    np.testing.assert_array_equal(w.view(np.int16), fastinit.kaiming_normal(
        64, 32, layout="keras", seed=0, dtype="bfloat16").view(np.int16))
    assert fk.RandomUniform(seed=0)((5,), "float16").dtype == np.float16
    np.testing.assert_array_equal(fk.RandomUniform(seed=0)(5), fk.RandomUniform(seed=0)([5]))
    assert fk.Zeros()(()).shape == ()
    with pytest.raises(TypeError, match="shape"):
        fk.HeNormal(seed=0)((3, None))
    assert fk.Orthogonal(seed=0)((8, 4), "float64").dtype == np.float64
    old = keras.config.floatx()
    keras.config.set_floatx("float16")
    try:
        assert fk.RandomNormal(seed=0)((3,)).dtype == np.float16
    finally:
        keras.config.set_floatx(old)
    with pytest.raises((TypeError, ValueError), match="dtype"):
        fk.RandomNormal(seed=0)((3,), "int32")


def test_errors_name_keras_parameters():
    with pytest.raises(ValueError, match="stddev"):
        fk.RandomNormal(stddev=-1.0)
    with pytest.raises(ValueError, match="stddev"):
        fk.TruncatedNormal(stddev=0.0)
    with pytest.raises(ValueError, match="minval, maxval"):
        fk.RandomUniform(minval=1.0, maxval=0.0)
    with pytest.raises(ValueError, match="mean"):
        fk.RandomNormal(mean=float("nan"))
    with pytest.raises(ValueError, match="Argument `scale` must be positive"):  # Keras' own check
        fk.VarianceScaling(scale=-1.0)
    with pytest.raises(ValueError, match="Invalid `mode`"):
        fk.VarianceScaling(mode="fan_geo_avg")
    with pytest.raises(ValueError, match="`seed` argument"):
        fk.HeNormal(seed="x")
    # and when called: the fill's checks (values the dtype cannot hold) name Keras' parameters
    with pytest.raises(ValueError, match=r"^stddev: .*float16"):
        fk.RandomNormal(stddev=1e6)((3,), "float16")
    with pytest.raises(ValueError, match=r"^minval: "):
        fk.RandomUniform(minval=-1e300, maxval=0.0)((3,))
    with pytest.raises(ValueError, match=r"^maxval: "):
        fk.RandomUniform(minval=0.0, maxval=1e300)((3,))
    with pytest.raises(ValueError, match=r"^mean, stddev: "):
        fk.TruncatedNormal(stddev=1e39)((3,))


# --- seeds -------------------------------------------------------------------------------------

def test_int_seed_repeats_and_clones():
    init = fk.GlorotNormal(seed=7)
    a, b = init((20, 30)), init((20, 30))
    np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(init.clone()((20, 30)), a)
    assert not np.array_equal(fk.GlorotNormal(seed=8)((20, 30)), a)


def test_seed_none_as_keras():
    """seed=None: Keras' default seed (Python's random, which keras.utils.set_random_seed
    seeds) picked when made and repeated; a clone picks a new one."""
    keras.utils.set_random_seed(1337)
    init = fk.HeUniform()
    assert isinstance(init.seed, int) and init.get_config()["seed"] is None
    a = init((16, 16))
    np.testing.assert_array_equal(init((16, 16)), a)
    assert not np.array_equal(init.clone()((16, 16)), a)
    keras.utils.set_random_seed(1337)
    np.testing.assert_array_equal(fk.HeUniform()((16, 16)), a)


def test_seed_generator_advances():
    gen = keras.random.SeedGenerator(42)
    init = fk.RandomNormal(seed=gen)
    with pytest.raises((TypeError, ValueError)):
        init((4,), "int32")  # raises before drawing: the generator stays where it was
    a, b = init((4, 4)), init((4, 4))
    assert not np.array_equal(a, b)
    np.testing.assert_array_equal(a, fk.RandomNormal(seed=42)((4, 4)))  # (42, 0): seed=42's
    np.testing.assert_array_equal(b, fastinit.normal(4, 4, std=0.05, seed=42 + (1 << 64)))
    # serialized, it becomes a SeedGenerator again
    back = fk.deserialize(fk.serialize(init))
    assert type(back) is fk.RandomNormal and isinstance(back.seed, keras.random.SeedGenerator)


# --- configs -------------------------------------------------------------------------------------

_ARGS = {"Constant": dict(value=1.5), "Identity": dict(gain=2.0),
         "STFT": dict(side="imag", window="hamming", scaling="spectrum", periodic=True),
         "RandomNormal": dict(mean=1.0, stddev=0.5, seed=3), "RandomUniform": dict(minval=0.0, maxval=2.0, seed=3),
         "TruncatedNormal": dict(stddev=0.1, seed=3), "Orthogonal": dict(gain=1.5, seed=3),
         "VarianceScaling": dict(scale=2.0, mode="fan_out", distribution="untruncated_normal", seed=3,
                                 input_axes=[0], output_axes=[1])}


@pytest.mark.parametrize("name", NAMES)
def test_config_round_trip(name):
    args = _ARGS.get(name, {"seed": 3} if name in RANDOM else {})
    init = getattr(fk, name)(**args)
    ref = getattr(K, name)(**args)
    if name == "Identity":  # Keras' own leaves gain out of its config (a clone has gain 1)
        assert init.get_config() == {"gain": 2.0} and ref.get_config() == {}
    else:
        assert init.get_config() == ref.get_config()  # Keras' config, attribute for attribute
    shape = (6, 1, 5) if name == "STFT" else (6, 5)
    want = _np(init(shape))
    for back in (init.clone(), type(init).from_config(init.get_config()),
                 fk.deserialize(fk.serialize(init)), K.deserialize(K.serialize(init)),
                 fk.get(K.serialize(init) | {"module": "keras.initializers", "registered_name": None})):  # Keras-style
        assert type(back) is type(init) and back.get_config() == init.get_config()
        np.testing.assert_array_equal(_np(back(shape)), want)


def test_get():
    assert type(fk.get("he_normal")) is fk.HeNormal
    assert type(fk.get("OrthogonalInitializer")) is fk.Orthogonal
    assert type(fk.get("one")) is fk.Ones
    assert type(fk.get(fk.LecunUniform)) is fk.LecunUniform
    assert fk.get(None) is None
    init = fk.Zeros()
    assert fk.get(init) is init
    values = np.arange(6, dtype=np.float32).reshape(2, 3)
    np.testing.assert_array_equal(_np(fk.get(values)((2, 3))), values)
    np.testing.assert_array_equal(_np(fk.get(keras.ops.convert_to_tensor(values))((2, 3))), values)
    with pytest.raises(ValueError):
        fk.get("typo")


# --- distributions against Keras' own ------------------------------------------------------------

@pytest.mark.parametrize("name, kwargs, shape", [
    ("RandomNormal", dict(mean=0.3, stddev=2.0), (100, 200)),
    ("RandomUniform", dict(minval=-1.0, maxval=3.0), (100, 200)),
    ("TruncatedNormal", dict(mean=-1.0, stddev=0.5), (100, 200)),
    ("VarianceScaling", dict(scale=2.0, mode="fan_out", distribution="untruncated_normal"), (100, 200)),
    ("VarianceScaling", dict(scale=0.5, mode="fan_avg", distribution="uniform"), (3, 3, 40, 60)),
    ("VarianceScaling", dict(input_axes=[0], output_axes=[1, 2]), (64, 8, 40)),
    ("GlorotNormal", {}, (100, 200)), ("GlorotUniform", {}, (100, 200)),
    ("HeNormal", {}, (3, 3, 40, 60)), ("HeUniform", {}, (100, 200)),
    ("LecunNormal", {}, (100, 200)), ("LecunUniform", {}, (5, 40, 100)),
    ("Orthogonal", dict(gain=2.0), (150, 100)),
])
def test_distribution_matches_keras(name, kwargs, shape):
    ours = _np(getattr(fk, name)(seed=11, **kwargs)(shape)).ravel()
    theirs = _np(getattr(K, name)(seed=11, **kwargs)(shape)).ravel()
    p = stats.ks_2samp(ours, theirs).pvalue
    assert p > P_FLOOR, (name, kwargs, p)
    assert abs(ours.std() / theirs.std() - 1) < 0.05


def test_ks_has_power():
    """The KS comparison tells a wrong scale apart (negative control)."""
    ours = fk.HeNormal(seed=11)((100, 200)).ravel()
    theirs = _np(K.HeNormal(seed=11)((100, 200))).ravel() * 1.1
    assert stats.ks_2samp(ours, theirs).pvalue < P_FLOOR


@pytest.mark.parametrize("name", ["GlorotUniform", "LecunNormal", "HeNormal"])
def test_multi_head_attention_std(name):
    """MultiHeadAttention's EinsumDense layers give their axes to fastinit's classes as to
    Keras' own: the kernels' standard deviations agree (and with the formula's)."""
    def kernels(init):
        mha = keras.layers.MultiHeadAttention(num_heads=8, key_dim=32, kernel_initializer=init)
        mha.build((None, 10, 256), (None, 10, 256))
        return [_np(d.kernel) for d in (mha.query_dense, mha.key_dense, mha.value_dense, mha.output_dense)]
    ours, theirs = kernels(getattr(fk, name)(seed=5)), kernels(getattr(K, name)(seed=5))
    fan = {"GlorotUniform": (256 + 256) / 2, "LecunNormal": 256, "HeNormal": 256 / 2}[name]
    for a, b in zip(ours, theirs):
        assert a.shape == b.shape
        assert abs(a.std() / b.std() - 1) < 0.04, (a.shape, a.std(), b.std())
        assert abs(a.std() / np.sqrt(1 / fan) - 1) < 0.04
    einsum = keras.layers.EinsumDense("ab,bcd->acd", output_shape=(8, 32), kernel_initializer=fk.HeNormal(seed=1))
    einsum.build((None, 256))
    np.testing.assert_array_equal(_np(einsum.kernel), fastinit.kaiming_normal(
        256, 8, 32, layout="keras", input_axes=[0], output_axes=[1, 2], seed=1))


# --- models: build, train one step, save and reload ----------------------------------------------

_FRESH = """
import sys
import fastinit
assert not any(m == "keras" or m.startswith("keras.") for m in sys.modules), "keras imported"
"""

_MODEL = """
import os
import numpy as np, keras
import fastinit
import fastinit.keras as fk


def model():
    x = keras.Input((6, 6, 3))
    h = keras.layers.Conv2D(4, 3, kernel_initializer=fk.HeNormal(seed=1),
                            bias_initializer=fk.Constant(0.1))(x)
    h = keras.layers.Reshape((16, 4))(h)
    h = keras.layers.MultiHeadAttention(2, 4, kernel_initializer=fk.GlorotUniform(seed=2))(h, h)
    h = keras.layers.EinsumDense("abc,cd->abd", output_shape=(16, 5),
                                 kernel_initializer=fk.LecunNormal(seed=keras.random.SeedGenerator(3)))(h)
    h = keras.layers.GlobalAveragePooling1D()(h)
    y = keras.layers.Dense(2, kernel_initializer=fk.Orthogonal(seed=4), bias_initializer="zeros")(h)
    return keras.Model(x, y)


def check(tmp):
    m = model()
    conv = m.layers[1]
    assert type(conv.kernel_initializer) is fk.HeNormal
    kernel0 = keras.ops.convert_to_numpy(conv.kernel)
    np.testing.assert_array_equal(kernel0, fastinit.kaiming_normal(3, 3, 3, 4, layout="keras", seed=1))
    rng = np.random.default_rng(0)
    x = rng.standard_normal((4, 6, 6, 3)).astype("float32")
    y = rng.standard_normal((4, 2)).astype("float32")
    backend = keras.backend.backend()
    if backend != "numpy":  # the numpy backend cannot train
        m.compile(optimizer="sgd", loss="mse")
        m.fit(x, y, batch_size=4, epochs=1, verbose=0)
        assert not np.array_equal(keras.ops.convert_to_numpy(conv.kernel), kernel0), "not trained"
    path = os.path.join(tmp, "model.keras")
    m.save(path)
    back = keras.saving.load_model(path)
    for a, b in zip(m.layers, back.layers):
        for w, v in zip(a.weights, b.weights):
            np.testing.assert_array_equal(keras.ops.convert_to_numpy(w), keras.ops.convert_to_numpy(v))
        if hasattr(a, "kernel_initializer"):
            assert type(b.kernel_initializer) is type(a.kernel_initializer), type(b.kernel_initializer)
            assert b.kernel_initializer.get_config() == a.kernel_initializer.get_config()
    np.testing.assert_allclose(keras.ops.convert_to_numpy(back(x)), keras.ops.convert_to_numpy(m(x)),
                               rtol=1e-5, atol=1e-6)

    # tensors of the backend, in the dtype asked for
    w = fk.HeNormal(seed=0)((64, 32), "bfloat16")
    want = fastinit.kaiming_normal(64, 32, layout="keras", seed=0, dtype="bfloat16")
    if backend == "jax":
        import jax
        assert isinstance(w, jax.Array) and w.dtype == want.dtype
        np.testing.assert_array_equal(np.asarray(w).view(np.int16), want.view(np.int16))
        if jax.default_backend() == "cpu":  # the jax.Array aliases fastinit's buffer
            import fastinit.jax as fj
            buffers, empty = [], fj._aligned_empty
            fj._aligned_empty = lambda shape, dtype: buffers.append(empty(shape, dtype)) or buffers[-1]
            w = fk.GlorotUniform(seed=0)((256, 128))
            fj._aligned_empty = empty
            assert w.unsafe_buffer_pointer() == buffers[0].ctypes.data
    elif backend == "torch":
        import torch
        assert isinstance(w, torch.Tensor) and w.dtype == torch.bfloat16
        np.testing.assert_array_equal(w.view(torch.int16).cpu().numpy(), want.view(np.int16))
    else:
        assert isinstance(w, np.ndarray) and w.dtype == want.dtype
        np.testing.assert_array_equal(w.view(np.int16), want.view(np.int16))
    return "ok " + backend
"""


def test_model_numpy_backend(tmp_path):
    """Built, saved and reloaded in-process (the numpy backend cannot train)."""
    if keras.backend.backend() != "numpy":
        pytest.skip("keras was imported with another backend")
    namespace: dict = {}
    exec(compile(_MODEL, "<model>", "exec"), namespace)
    assert namespace["check"](str(tmp_path)) == "ok numpy"


@pytest.mark.parametrize("backend", ["jax", "torch"])
def test_model_trains_and_reloads(backend, tmp_path):
    """A model of Conv2D, MultiHeadAttention, EinsumDense and Dense with fastinit.keras
    initializers, trained one step, saved and reloaded, in a fresh interpreter with that backend
    (which first checks that ``import fastinit`` imports no keras)."""
    pytest.importorskip(backend)
    import subprocess
    import sys
    code = _FRESH + _MODEL + "\nprint(check(sys.argv[1]))\n"
    proc = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True, text=True,
                          timeout=600, env=dict(os.environ, KERAS_BACKEND=backend),
                          cwd=os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
    assert proc.returncode == 0 and "ok " + backend in proc.stdout, proc.stderr[-4000:]


# --- review fixes -----------------------------------------------------------------------------------

def test_none_parameters_raise_naming_them():
    """Keras has no None for these (its own calls raise TypeError): not fastinit's defaults."""
    for make, name in [(lambda: fk.RandomNormal(stddev=None), "stddev"),
                       (lambda: fk.RandomNormal(mean=None), "mean"),
                       (lambda: fk.Orthogonal(gain=None), "gain"),
                       (lambda: fk.Identity(gain=None), "gain"),
                       (lambda: fk.Constant(None), "value")]:
        with pytest.raises(TypeError, match=f"^{name}: .*None"):
            make()
    with pytest.raises(TypeError, match="^stddev"):
        fastinit.get({"class_name": "RandomNormal", "config": {"stddev": None}})


def test_dtype_error_names_dtype_on_jax_backend(monkeypatch):
    """On the jax backend (which fills a buffer of its own) the dtype is still the user's."""
    pytest.importorskip("jax")
    monkeypatch.setattr(keras.backend, "backend", lambda: "jax")
    with pytest.raises(TypeError, match="^dtype: int32"):
        fk.RandomNormal()((2,), "int32")
    with pytest.raises(TypeError, match="^dtype: int32"):
        fk.Orthogonal()((2, 2), "int32")


def test_constant_array_values_checked():
    """An array value is checked as a scalar value is: finite, in the dtype's range, no complex
    values for a real dtype; nothing cast unsafely."""
    for value, dtype, exc, match in [([np.nan, 1.0], "float32", ValueError, "finite"),
                                     ([1.0, -np.inf], "float64", ValueError, "finite"),
                                     ([1e5, 1.0], "float16", ValueError, "float16"),
                                     ([-1, 1], "uint8", ValueError, "uint8"),
                                     ([300, 1], "int8", ValueError, "int8"),
                                     ([1e10, 0.0], "int32", ValueError, "int32"),
                                     ([1 + 2j, 1], "float32", TypeError, "complex")]:
        with pytest.raises(exc, match=f"^value: .*{match}"):
            fk.Constant(np.array(value))((2,), dtype)
    assert _np(fk.Constant(np.array([2.7, -1.0]))((3, 2), "int8")).tolist() == [[2, -1]] * 3
    assert _np(fk.Constant(np.array([0.0, 3.0]))((2,), "bool")).tolist() == [False, True]


def test_keras_accepts_bool_constant_and_array_shape():
    assert _np(fk.Constant(True)((2,), "bool")).tolist() == [True, True]
    assert _np(fk.Constant(True)((2,), "float32")).tolist() == [1.0, 1.0]
    assert _np(fk.Zeros()(np.array([2, 3]))).shape == (2, 3)
    assert np.array_equal(_np(fk.HeNormal(seed=1)(np.array([4, 5]))), _np(fk.HeNormal(seed=1)((4, 5))))


def test_seed_generator_inside_jax_jit_raises_clearly(monkeypatch):
    jax = pytest.importorskip("jax")
    monkeypatch.setattr(keras.backend, "backend", lambda: "jax")
    init = fk.HeNormal(seed=keras.random.SeedGenerator(1))
    with pytest.raises(TypeError, match="^seed: .*SeedGenerator.*jax.jit"):
        jax.jit(lambda: init((3, 3)))()
