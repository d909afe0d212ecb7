"""Bad input (issue 10): every case raises ValueError or TypeError naming the parameter the user
passed, before anything is written, with a short message; or, where the input is valid after
all (numpy integers, huge shifts, numpy array subclasses, empty tensors), works."""
import numpy as np
import pytest

import fastinit


def raises(exc, call, *words, max_len=500):
    """``call()`` raises ``exc`` whose message contains every word, is short and starts with the
    first word (the parameter's name)."""
    with pytest.raises(exc) as info:
        call()
    msg = str(info.value)
    for w in words:
        assert w in msg, (w, msg)
    assert len(msg) <= max_len, msg[:200]
    assert type(info.value) in (ValueError, TypeError)
    return msg


def untouched(call, out, exc, *words):
    before = out.copy()
    raises(exc, lambda: call(out), *words)
    assert np.array_equal(out, before, equal_nan=True)


# --- 3. silently wrong values ------------------------------------------------------------------

@pytest.mark.parametrize("dtype", ["float32", "complex64"])
def test_uniform_width_beyond_the_dtype(dtype):
    raises(ValueError, lambda: fastinit.uniform(100, low=-3e38, high=3e38, dtype=dtype), "low", "high")
    untouched(lambda out: fastinit.uniform(low=-3e38, high=3e38, out=out), np.full(10, 7, dtype),
              ValueError, "low", "high")
    # float16 values are computed in float32: a width beyond float16's range is fine there
    w = fastinit.uniform(1000, low=-60000.0, high=60000.0, dtype="float16", seed=1)
    assert np.all(np.isfinite(w)) and np.all(w < 60000)


def test_uniform_width_float64():
    raises(ValueError, lambda: fastinit.uniform(3, low=-1e308, high=1e308, dtype="float64"), "low", "high")
    # a wide interval that fits is still fine, and never reaches high
    w = fastinit.uniform(1000, low=-1.5e38, high=1.5e38, dtype="float32", seed=1)
    assert np.all(np.isfinite(w)) and np.all(w < np.float32(1.5e38))


def test_uniform_width_checked_when_the_initializer_is_made():
    raises(ValueError, lambda: fastinit.uniform(low=-3e38, high=3e38, dtype="float32"), "low", "high")


@pytest.mark.parametrize("call, name", [
    (lambda **k: fastinit.variance_scaling(4097, 2, scale=1e308, dtype="complex64", **k), "scale"),
    (lambda **k: fastinit.variance_scaling(4, 4, scale=1e80, dtype="complex64", layout="jax",
                                           distribution="uniform", **k), "scale"),
    (lambda **k: fastinit.kaiming_uniform(5000, 1, 3, gain=1e150, layout="jax", dtype="complex64", **k), "gain"),
    (lambda **k: fastinit.glorot_normal(30, 30, gain=1e40, layout="jax", dtype="complex64", **k), "gain"),
    (lambda **k: fastinit.variance_scaling(4, 4, scale=1e80, dtype="complex64", layout="jax",
                                           distribution="uniform", in_axis=0, out_axis=1, **k), "scale"),
])
def test_jax_complex_variants_check_overflow(call, name):
    raises(ValueError, call, name)


def test_jax_complex_variant_leaves_out_untouched():
    out = np.full((4, 4), 7 + 7j, np.complex64)
    untouched(lambda o: fastinit.variance_scaling(scale=1e80, layout="jax", distribution="uniform", out=o),
              out, ValueError, "scale")
    untouched(lambda o: fastinit.variance_scaling(scale=1e308, out=o), out, ValueError, "scale")
    w = fastinit.variance_scaling(4, 4, scale=1e70, layout="jax", distribution="uniform",
                                  dtype="complex64", seed=0)  # values up to ~1e35 fit
    assert np.all(np.isfinite(w.view(np.float32)))


# --- 4. out written, then an error ---------------------------------------------------------------

def unaligned(shape=(4, 4), dtype=np.float32):
    n = int(np.prod(shape)) * np.dtype(dtype).itemsize
    a = np.zeros(n + 1, np.uint8)[1:].view(dtype).reshape(shape)
    assert not a.flags.aligned
    return a


@pytest.mark.parametrize("call", [
    lambda out: fastinit.orthogonal(out=out),
    lambda out: fastinit.normal(out=out, seed=1),
    lambda out: fastinit.uniform(out=out, seed=1),
    lambda out: fastinit.truncated_normal(out=out, seed=1),
    lambda out: fastinit.sparse(out=out, sparsity=0.5, seed=1),
    lambda out: fastinit.constant(out=out, value=2.0),
    lambda out: fastinit.kaiming_normal(out=out, seed=1),
    lambda out: fastinit.identity(out=out),
    lambda out: fastinit.eye(out=out),
])
def test_unaligned_out_is_refused_untouched(call):
    out = unaligned()
    out[...] = 7
    untouched(call, out, ValueError, "out", "aligned")


def test_unaligned_complex_out():
    out = unaligned((3, 5), np.complex128)
    untouched(lambda o: fastinit.normal(out=o), out, ValueError, "out", "aligned")


def test_identity_shift_numpy_unsigned_and_huge():
    out = np.full((4, 4), 7, np.float32)
    assert fastinit.identity(out=out, shift=np.uint64(5)) is out
    assert np.array_equal(out, fastinit.identity(4, 4, shift=5))
    assert np.array_equal(fastinit.identity(4, 4, shift=2**100), fastinit.identity(4, 4, shift=2**100 % 4))
    assert np.array_equal(fastinit.identity(4, 6, shift=(-(2**100) - 1, 2**70 + 1)),
                          fastinit.identity(4, 6, shift=((-(2**100) - 1) % 4, (2**70 + 1) % 6)))
    assert np.array_equal(fastinit.identity(3, 3, 4, 5, shift=np.uint8(7)), fastinit.identity(3, 3, 4, 5, shift=7))
    assert np.array_equal(fastinit.identity(4, 4, shift=(np.uint64(1), np.int8(-1))),
                          fastinit.identity(4, 4, shift=(1, -1)))


@pytest.mark.parametrize("shift", ["1", 1.5, True, np.bool_(True), (1, 2, 3), None, [[1], 2]])
def test_identity_bad_shift_leaves_out_untouched(shift):
    untouched(lambda o: fastinit.identity(out=o, shift=shift), np.full((4, 4), 7, np.float32), TypeError, "shift")


def test_numpy_integer_parameters():
    assert np.array_equal(fastinit.dirac(4, 2, 3, groups=np.uint64(2)), fastinit.dirac(4, 2, 3, groups=2))
    assert np.array_equal(fastinit.normal(np.uint64(4), np.int8(3), seed=np.uint64(1)), fastinit.normal(4, 3, seed=1))
    assert np.array_equal(fastinit.normal(5, rows=slice(np.uint64(1), np.int8(3), np.uint8(1)), seed=2),
                          fastinit.normal(5, seed=2)[1:3])
    assert np.array_equal(fastinit.variance_scaling(4, 6, in_axis=np.uint64(1), out_axis=np.uint64(0), seed=3),
                          fastinit.variance_scaling(4, 6, in_axis=1, out_axis=0, seed=3))
    raises(ValueError, lambda: fastinit.dirac(4, 2, 3, groups=2**100), "groups")
    raises(ValueError, lambda: fastinit.orthogonal(4, 4, column_axis=2**100), "column_axis")
    raises(ValueError, lambda: fastinit.normal(2**100, seed=1), "shape")


# --- 5. row blocks past 2**62 ------------------------------------------------------------------------

@pytest.mark.parametrize("shape, dtype", [
    ((2**62, 4), "float32"),
    ((2**60, 4), "float64"),            # exactly 2**62 values
    ((2**61 // 4 + 1, 4), "complex64"),  # under 2**62 elements, over 2**62 real values
    ((2**100,), "float32"),
    ((0, 2**70), "float32"),            # an empty tensor with a dimension numpy cannot hold
])
def test_shapes_too_large_are_refused(shape, dtype):
    raises(ValueError, lambda: fastinit.normal(shape, dtype=dtype, rows=slice(-3, None), seed=1), "shape")


def test_shape_too_large_for_every_initializer():
    for f in (fastinit.uniform, fastinit.truncated_normal, fastinit.zeros, fastinit.kaiming_normal,
              fastinit.eye, fastinit.identity):
        raises(ValueError, lambda: f(2**62, 4, rows=slice(0, 1)), "shape")


def test_rows_near_the_limit():
    n = 2**62 // 4 - 1  # 2**62 - 4 values: accepted, and the last rows agree
    for f in (fastinit.normal, fastinit.uniform, fastinit.truncated_normal):
        a = f(n, 4, rows=slice(-3, None), seed=1)
        assert np.array_equal(a[1:], f(n, 4, rows=slice(-2, None), seed=1))
        assert np.all(np.isfinite(a))
    m = 2**61 // 4 - 1
    a = fastinit.normal(m, 4, rows=slice(-3, None), seed=1, dtype="complex64")
    assert np.array_equal(a[1:], fastinit.normal(m, 4, rows=slice(-2, None), seed=1, dtype="complex64"))


# --- 6. other exception types ------------------------------------------------------------------

def test_gain_squared_overflow():
    raises(ValueError, lambda: fastinit.glorot_normal(3, 17, gain=1e308), "gain", "1e+308")
    raises(ValueError, lambda: fastinit.glorot_uniform(3, 17, gain=1e200), "gain")
    raises(ValueError, lambda: fastinit.kaiming_normal(3, 17, gain=1e200), "gain")
    raises(ValueError, lambda: fastinit.glorot_normal(gain=1e308), "gain")  # when the Initializer is made
    # a variance that underflows float64 gives zeros, as Keras and JAX do (their std is 0)
    assert not fastinit.glorot_uniform(3, 17, gain=1e-200, seed=0).any()
    raises(ValueError, lambda: fastinit.kaiming_uniform(3, 17, a=1e200), "a")
    untouched(lambda o: fastinit.glorot_normal(out=o, gain=1e308), np.full((3, 17), 7, np.float32), ValueError, "gain")


@pytest.mark.parametrize("call, name", [
    (lambda: fastinit.normal(3, std=10**400), "std"),
    (lambda: fastinit.normal(3, mean=-(10**400)), "mean"),
    (lambda: fastinit.uniform(3, high=10**400), "high"),
    (lambda: fastinit.truncated_normal(3, std=10**400), "std"),
    (lambda: fastinit.constant(3, value=10**5000), "value"),
    (lambda: fastinit.kaiming_normal(3, 3, gain=10**400), "gain"),
    (lambda: fastinit.kaiming_normal(3, 3, a=10**400), "a"),
    (lambda: fastinit.variance_scaling(3, 3, scale=10**400), "scale"),
    (lambda: fastinit.orthogonal(3, 3, gain=10**400), "gain"),
    (lambda: fastinit.eye(3, 3, gain=-(10**400)), "gain"),
    (lambda: fastinit.normal(std=10**400), "std"),
])
def test_huge_ints_are_infinite(call, name):
    raises(ValueError, call, name)


def test_huge_int_leaves_out_untouched():
    untouched(lambda o: fastinit.normal(out=o, std=10**400), np.full(5, 7, np.float32), ValueError, "std")


def test_identity_huge_shift():
    w = fastinit.identity(4, 4, shift=2**100)
    assert np.array_equal(w, np.eye(4, dtype=np.float32))


@pytest.mark.parametrize("name, call", [
    ("normal", lambda out: fastinit.normal(out=out, seed=3)),
    ("uniform", lambda out: fastinit.uniform(out=out, seed=3)),
    ("orthogonal", lambda out: fastinit.orthogonal(out=out, seed=3)),
    ("eye", lambda out: fastinit.eye(out=out)),
    ("kaiming_uniform", lambda out: fastinit.kaiming_uniform(out=out, seed=3)),
])
@pytest.mark.filterwarnings("ignore::PendingDeprecationWarning")  # numpy.matrix
def test_numpy_matrix_out_is_filled_in_place(name, call):
    plain = call(np.zeros((4, 6), np.float32))
    m = np.matrix(np.full((4, 6), 7, np.float32))
    assert call(m) is m
    assert type(m) is np.matrix and np.array_equal(np.asarray(m), plain)


def test_memmap_out(tmp_path):
    m = np.memmap(tmp_path / "w.bin", dtype=np.float32, mode="w+", shape=(8, 5))
    assert fastinit.normal(out=m, seed=1) is m
    assert np.array_equal(np.asarray(m), fastinit.normal(8, 5, seed=1))


def test_masked_out_is_refused():
    out = np.ma.masked_array(np.full((3, 3), 7, np.float32), mask=np.eye(3, dtype=bool))
    raises(TypeError, lambda: fastinit.normal(out=out), "out", "masked")
    assert np.all(out.data == 7)


def test_byte_order():
    raises(TypeError, lambda: fastinit.normal(out=np.zeros(3, ">f4")), "out", ">f4")
    raises(TypeError, lambda: fastinit.normal(3, dtype=">f4"), "dtype", ">f4")
    untouched(lambda o: fastinit.normal(3, dtype="float32", out=o), np.zeros(3, ">f4"), TypeError, "out")


@pytest.mark.parametrize("config", [
    {"class_name": "RandomNormal", "config": {"seed": {"class_name": "SeedGenerator", "config": "x"}}},
    {"class_name": "GlorotUniform", "config": {"seed": {"class_name": "SeedGenerator", "config": [1]}}},
])
def test_keras_seed_generator_config(config):
    raises(TypeError, lambda: fastinit.deserialize(config), "seed")


def test_keras_seed_generator_good():
    init = fastinit.deserialize({"class_name": "RandomNormal",
                                 "config": {"seed": {"class_name": "SeedGenerator", "config": {"seed": 5}}}})
    assert init.params["seed"] == 5


def nested(depth=100_000):
    x = []
    for _ in range(depth):
        x = [x]
    return x


DEEP = nested()


@pytest.mark.parametrize("call, name", [
    (lambda: fastinit.normal(3, std=DEEP), "std"),
    (lambda: fastinit.normal(std=DEEP), "std"),
    (lambda: fastinit.normal(DEEP), "shape"),
    (lambda: fastinit.normal(3, dtype=DEEP), "dtype"),
    (lambda: fastinit.normal(3, seed=DEEP), "seed"),
    (lambda: fastinit.normal(3, rows=DEEP), "rows"),
    (lambda: fastinit.normal(3, device=DEEP), "device"),
    (lambda: fastinit.uniform(3, low=DEEP), "low"),
    (lambda: fastinit.sparse(3, 3, sparsity=DEEP), "sparsity"),
    (lambda: fastinit.constant(3, value=DEEP), "value"),
    (lambda: fastinit.kaiming_normal(3, 3, mode=DEEP), "mode"),
    (lambda: fastinit.kaiming_normal(3, 3, nonlinearity=DEEP), "nonlinearity"),
    (lambda: fastinit.kaiming_normal(3, 3, truncated=DEEP), "truncated"),
    (lambda: fastinit.variance_scaling(3, 3, in_axis=DEEP), "in_axis"),
    (lambda: fastinit.variance_scaling(in_axis=DEEP), "in_axis"),
    (lambda: fastinit.variance_scaling(3, 3, layout=DEEP), "layout"),
    (lambda: fastinit.identity(3, 3, shift=DEEP), "shift"),
    (lambda: fastinit.dirac(3, 3, 3, groups=DEEP), "groups"),
    (lambda: fastinit.orthogonal(3, 3, column_axis=DEEP), "column_axis"),
    (lambda: fastinit.stft(4, 1, 3, window=DEEP), "window"),
    (lambda: fastinit.stft(window=DEEP), "window"),
    (lambda: fastinit.get(DEEP), "identifier"),
    (lambda: fastinit.deserialize(DEEP), "config"),
    (lambda: fastinit.deserialize({"class_name": "RandomNormal", "config": {"stddev": DEEP}}), "stddev"),
    (lambda: fastinit.deserialize({"class_name": DEEP}), "config"),
    (lambda: fastinit.Key(1).child(DEEP), "name"),
])
def test_deeply_nested_values_give_short_messages(call, name):
    msg = raises((ValueError, TypeError), call, name, max_len=300)
    assert msg.startswith(name), msg


def test_empty_tensors_allocate_nothing_per_group_or_diagonal():
    assert fastinit.dirac(0, 3, 3, groups=2**40).shape == (0, 3, 3)
    assert fastinit.dirac(2**40, 3, 3, groups=2**40, rows=slice(0, 0)).shape == (0, 3, 3)
    assert fastinit.eye(2**31, 2**30, rows=slice(5, 5)).shape == (0, 2**30)
    assert fastinit.identity(2**30, 2**31, rows=slice(0, 0)).shape == (0, 2**31)
    assert fastinit.identity(0, 2**30, 2**30).shape == (0, 2**30, 2**30)
    raises(ValueError, lambda: fastinit.identity(0, 2**40, 2**40), "shape")  # numpy refuses such a shape
    raises(ValueError, lambda: fastinit.normal(2**61, dtype="float64"), "shape")  # 2**64 bytes
    assert fastinit.normal(2**61, dtype="float64", rows=slice(-2, None), seed=1).shape == (2,)
    assert fastinit.identity(1, 2**30, 2**30, rows=slice(1, 1)).shape == (0, 2**30, 2**30)
    # a few rows of a huge matrix index only those rows
    assert np.array_equal(np.argwhere(fastinit.eye(2**40, 2**20, rows=slice(5, 7))), [[0, 5], [1, 6]])
    assert np.array_equal(np.argwhere(fastinit.dirac(2**40, 2, 1, groups=2**38, rows=slice(5, 7))), [[0, 1, 0]])


def test_row_restricted_patterns_equal_the_full_tensor():
    for shape, s in [((5, 7), 0), ((7, 5), 3), ((6, 6), (-2, 5)), ((3, 8), 2**70)]:
        full = fastinit.identity(*shape, shift=s)
        for a in range(shape[0]):
            assert np.array_equal(fastinit.identity(*shape, shift=s, rows=slice(a, a + 2)), full[a:a + 2])
        full = fastinit.eye(*shape)
        for a in range(shape[0]):
            assert np.array_equal(fastinit.eye(*shape, rows=slice(a, a + 2)), full[a:a + 2])
    for shape, g in [((6, 3, 3, 3), 2), ((6, 2, 1), 3), ((4, 8, 3), 2)]:
        full = fastinit.dirac(*shape, groups=g)
        for a in range(shape[0]):
            assert np.array_equal(fastinit.dirac(*shape, groups=g, rows=slice(a, a + 2)), full[a:a + 2])


def test_identity_nd_shift_on_unequal_axes():
    # an n-D shift rolls both of the last two axes by the same amount (WeightInitializers.jl)
    shape = (3, 3, 5, 7)
    ref = np.zeros(shape, np.float32)
    ref[1, 1, np.arange(5), np.arange(5)] = 1
    ref = np.roll(np.roll(ref, 6, axis=-2), 6, axis=-1)
    assert np.array_equal(fastinit.identity(*shape, shift=6), ref)


# --- 7. messages that name the user's parameter ------------------------------------------------

def test_sparse_sparsity_none():
    raises(TypeError, lambda: fastinit.sparse(4, 4, sparsity=None), "sparsity", "None")
    raises(TypeError, lambda: fastinit.sparse(sparsity=None), "sparsity")
    init = fastinit.sparse(std=0.1)  # sparsity may still come with the call
    assert init(4, 4, sparsity=0.5, seed=1).shape == (4, 4)
    raises(TypeError, lambda: init(4, 4), "sparsity")
    untouched(lambda o: fastinit.sparse(out=o, sparsity=None), np.full((4, 4), 7, np.float32), TypeError, "sparsity")


@pytest.mark.parametrize("call, name", [
    (lambda: fastinit.kaiming_uniform(4, 4, gain=1e20, dtype="float16"), "gain"),
    (lambda: fastinit.kaiming_normal(4, 4, gain=1e20, dtype="float16"), "gain"),
    (lambda: fastinit.kaiming_normal(4, 4, gain=1e20, dtype="float16", layout="keras"), "gain"),
    (lambda: fastinit.glorot_uniform(4, 4, gain=1e20, dtype="float16"), "gain"),
    (lambda: fastinit.variance_scaling(4, 4, scale=1e20, dtype="float16", distribution="uniform"), "scale"),
    (lambda: fastinit.variance_scaling(4, 4, scale=1e20, dtype="float16"), "scale"),
    (lambda: fastinit.variance_scaling(4, 4, scale=1e20, dtype="float16", distribution="untruncated_normal"), "scale"),
    (lambda: fastinit.variance_scaling(1, 1, scale=1.2e308, dtype="float64", distribution="uniform"), "scale"),
    (lambda: fastinit.normal(3, std=1e5, dtype="float16"), "std"),
    (lambda: fastinit.normal(3, mean=1e5, dtype="float16"), "mean"),
])
def test_overflow_names_the_users_parameter(call, name):
    msg = raises(ValueError, call, name)
    assert msg.startswith(name + ":"), msg
    assert "low" not in msg and "lo," not in msg


def test_overflow_leaves_out_untouched():
    untouched(lambda o: fastinit.kaiming_uniform(out=o, gain=1e20), np.full((4, 4), 7, np.float16),
              ValueError, "gain")


@pytest.mark.parametrize("window, exc", [
    (["a", "b", "c", "d"], TypeError), (object(), TypeError), ([1, 2, None, 4], ValueError),
    ([[1, 2], [3, 4]], ValueError), ([1, 2, 3, np.nan], ValueError), ([1, 2, 3], ValueError),
    ({"a": 1}, TypeError),
])
def test_stft_window(window, exc):
    raises(exc, lambda: fastinit.stft(4, 1, 3, window=window), "window")
    untouched(lambda o: fastinit.stft(out=o, window=window), np.full((4, 1, 3), 7, np.float32), exc, "window")


def test_stft_window_values_work():
    w = fastinit.stft(4, 1, 3, window=[1, 2, 3, 4])
    assert w.shape == (4, 1, 3) and np.all(np.isfinite(w))


@pytest.mark.parametrize("config, exc, name", [
    ({"class_name": "RandomNormal", "config": {"stddev": "a"}}, TypeError, "stddev"),
    ({"class_name": "RandomNormal", "config": {"stddev": -1.0}}, ValueError, "stddev"),
    ({"class_name": "TruncatedNormal", "config": {"stddev": "a"}}, TypeError, "stddev"),
    ({"class_name": "TruncatedNormal", "config": {"stddev": 0.0}}, ValueError, "stddev"),
    ({"class_name": "TruncatedNormal", "config": {"mean": "a"}}, TypeError, "mean"),
    ({"class_name": "TruncatedNormal", "config": {"mean": 1e308, "stddev": 1e308}}, ValueError, "mean, stddev"),
    ({"class_name": "RandomUniform", "config": {"minval": "a"}}, TypeError, "minval"),
    ({"class_name": "RandomUniform", "config": {"minval": 1.0, "maxval": 0.0}}, ValueError, "minval"),
    ({"class_name": "Constant", "config": {"value": "a"}}, TypeError, "value"),
    ({"class_name": "RandomNormal", "config": "abc"}, TypeError, "config"),
    ({"class_name": "RandomNormal", "config": ["stddev", 1]}, TypeError, "config"),
    ({"class_name": "RandomNormal", "config": {1: 2}}, TypeError, "config"),
    ({"class_name": "RandomNormal", "config": {"bogus": 2}}, TypeError, "config"),
    ({"class_name": "RandomNormal", "config": {"stddev": "unexpected keyword argument"}}, TypeError, "stddev"),
    ({"class_name": 5}, ValueError, "config"),
    ("abc", ValueError, "identifier"),
    ({"class_name": "jax.normal", "config": {"stddev": "a"}}, TypeError, "stddev"),
    ({"class_name": "jax.uniform", "config": {"scale": -1.0}}, ValueError, "scale"),
    ({"class_name": "jax.truncated_normal", "config": {"stddev": "a"}}, TypeError, "stddev"),
    ({"class_name": "jax.truncated_normal", "config": {"lower": 2.0, "upper": 1.0}}, ValueError, "lower"),
    ({"class_name": "jax.orthogonal", "config": {"scale": "a"}}, TypeError, "scale"),
    ({"class_name": "jax.delta_orthogonal", "config": {"scale": "a"}}, TypeError, "scale"),
    ({"class_name": "torch.uniform_", "config": {"a": "x"}}, TypeError, "a"),
    ({"class_name": "torch.uniform_", "config": {"a": 1.0, "b": 0.0}}, ValueError, "a, b"),
    ({"class_name": "torch.trunc_normal_", "config": {"a": 1.0, "b": 0.0}}, ValueError, "a, b"),
    ({"class_name": "torch.constant_", "config": {"val": "x"}}, TypeError, "val"),
    ({"class_name": "keraflow.uniform", "config": {"scale": "x"}}, TypeError, "scale"),
    ({"class_name": "keraflow.uniform", "config": {"scale": -1.0}}, ValueError, "scale"),
    ({"class_name": "keraflow.normal", "config": {"scale": -1.0}}, ValueError, "scale"),
    ({"class_name": "keraflow.orthogonal", "config": {"scale": "x"}}, TypeError, "scale"),
    ({"class_name": "keraflow.identity", "config": {"scale": "x"}}, TypeError, "scale"),
])
def test_framework_configs_name_the_frameworks_parameter(config, exc, name):
    msg = raises(exc, lambda: fastinit.deserialize(config), name)
    assert msg.startswith(name), msg


def test_from_config_checks():
    raises(TypeError, lambda: fastinit.Initializer.from_config({"name": ["normal"]}), "name")
    raises(TypeError, lambda: fastinit.Initializer.from_config({"name": "normal", 3: 1}), "config")
    raises(ValueError, lambda: fastinit.Initializer("x" * 10**6), "name")


def test_long_values_give_short_messages():
    raises(TypeError, lambda: fastinit.normal(3, std=[0] * 10**7), "std", max_len=200)
    raises(TypeError, lambda: fastinit.normal(3, seed=[0] * 10**6), "seed", max_len=200)
    raises(TypeError, lambda: fastinit.normal(3, 3, rows=slice(0, 1, [0] * 10**6)), "rows", max_len=200)
    raises(ValueError, lambda: fastinit.get("x" * 10**7), "identifier", max_len=200)
    raises(ValueError, lambda: fastinit.normal(*([1] * 10**5), -1), "shape", max_len=200)
    raises(ValueError, lambda: fastinit.variance_scaling(4, 4, in_axis=[0] * 10**5), "in_axis", max_len=200)

    class Bad:
        def __repr__(self):
            raise RuntimeError("no repr")
    raises(TypeError, lambda: fastinit.normal(3, std=Bad()), "std", "Bad")


# --- 8. checks that need no shape run when the Initializer is made -----------------------------

@pytest.mark.parametrize("call, exc, name", [
    (lambda: fastinit.normal(dtype="int32"), TypeError, "dtype"),
    (lambda: fastinit.uniform(dtype="int8"), TypeError, "dtype"),
    (lambda: fastinit.kaiming_normal(dtype="int8"), TypeError, "dtype"),
    (lambda: fastinit.truncated_normal(dtype="complex64"), TypeError, "dtype"),
    (lambda: fastinit.sparse(dtype="complex64"), TypeError, "dtype"),
    (lambda: fastinit.stft(dtype="complex64"), TypeError, "dtype"),
    (lambda: fastinit.normal(dtype="nonsense"), TypeError, "dtype"),
    (lambda: fastinit.deserialize({"class_name": "fastinit.normal", "config": {"dtype": "int8"}}), TypeError, "dtype"),
    (lambda: fastinit.deserialize({"class_name": "jax.normal", "config": {"dtype": "int8"}}), TypeError, "dtype"),
    (lambda: fastinit.stft(window=["a"]), TypeError, "window"),
    (lambda: fastinit.stft(window=[[1.0]]), ValueError, "window"),
    (lambda: fastinit.normal(std=1e5, dtype="float16"), ValueError, "std"),
    (lambda: fastinit.sparse(std=1e5, dtype="float16"), ValueError, "std"),
    (lambda: fastinit.constant(value=1e5, dtype="float16"), ValueError, "value"),
    (lambda: fastinit.constant(value=None), TypeError, "value"),
    (lambda: fastinit.orthogonal(gain=1e5, dtype="float16"), ValueError, "gain"),
    (lambda: fastinit.identity(gain=1e5, dtype="float16"), ValueError, "gain"),
    (lambda: fastinit.eye(gain=1e5, dtype="float16"), ValueError, "gain"),
    (lambda: fastinit.delta_orthogonal(gain=1e5, dtype="float16"), ValueError, "gain"),
    (lambda: fastinit.variance_scaling(in_axis="a"), TypeError, "in_axis"),
    (lambda: fastinit.kaiming_normal(input_axes=[0]), ValueError, "input_axes"),
    (lambda: fastinit.glorot_uniform(in_axis=0, input_axes=[0], output_axes=[1]), ValueError, "in_axis"),
    (lambda: fastinit.kaiming_normal(a=1e200), ValueError, "a"),
])
def test_initializer_checks_what_needs_no_shape(call, exc, name):
    raises(exc, call, name)


def test_good_initializers_still_build():
    assert fastinit.normal(dtype="float16", std=1.0)(3, seed=1).dtype == np.float16
    assert fastinit.truncated_normal(dtype="float64")(3, seed=1).dtype == np.float64
    assert fastinit.stft(window=[1.0, 2.0, 3.0, 4.0])(4, 1, 3).shape == (4, 1, 3)
    assert fastinit.variance_scaling(in_axis=(0,), out_axis=1)(4, 5, seed=1).shape == (4, 5)
    assert fastinit.constant(value=1 + 2j, dtype="complex64")(2)[0] == 1 + 2j
