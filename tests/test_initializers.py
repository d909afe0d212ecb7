"""The initializers beyond the basic fills (variance scaling, orthogonal, identity, eye, dirac,
stft, WeightInitializers.jl's typed family), the Initializer objects that partial application
returns, and Key: partial application, configs, pickling, row blocks, errors, seeds by name."""
import hashlib
import inspect
import math
import pickle

import numpy as np
import pytest
import scipy.stats

import fastinit
from fastinit import Initializer, Key
from fastinit.initializers import COMPLEX_TRUNCATED_STD, LUX_FAMILY
from specs import SPECS


def same(a, b):
    """Bitwise equality: shape, dtype and every byte (so -0.0 != 0.0 and NaNs compare)."""
    a, b = np.asarray(a), np.asarray(b)
    return a.shape == b.shape and a.dtype == b.dtype and a.tobytes() == b.tobytes()


VARIANCE = ["variance_scaling", "glorot_uniform", "glorot_normal", "kaiming_uniform",
            "kaiming_normal", "lecun_uniform", "lecun_normal"]
LAYOUTS = ["torch", "keras", "jax", "lux", "keraflow"]

# name -> (a shape, the parameters a call needs, non-default parameters, random?)
NAMES = list(fastinit.FUNCTIONS)
RANDOM = [n for n in NAMES if SPECS[n][3]]


def f_(name):
    return fastinit.FUNCTIONS[name]


def test_specs_cover_every_function():
    assert set(SPECS) == set(fastinit.FUNCTIONS)


# --- 1. partial application ------------------------------------------------------------------

@pytest.mark.parametrize("name", NAMES)
def test_no_shape_gives_an_initializer(name):
    f = f_(name)
    init = f()
    assert isinstance(init, Initializer)
    assert init.name == name and init.params == {} and init.func is f
    shape, req, _, _ = SPECS[name]
    bound = f(seed=3, **req)
    assert isinstance(bound, Initializer)
    assert same(bound(*shape), f(*shape, seed=3, **req))
    assert same(bound(shape), f(*shape, seed=3, **req))  # one tuple


def test_bound_equals_direct_call():
    a = fastinit.kaiming_normal(gain=1.0)(256, 128, seed=3)
    b = fastinit.kaiming_normal(256, 128, gain=1.0, seed=3)
    assert same(a, b)


@pytest.mark.parametrize("name", NAMES)
def test_call_parameters_override_bound_ones(name):
    f = f_(name)
    shape, req, _, _ = SPECS[name]
    init = f(seed=1, **req)
    assert same(init(*shape, seed=2), f(*shape, seed=2, **req))
    assert init.params == {"seed": 1, **req}  # the call did not change the Initializer


@pytest.mark.parametrize("name, bound, call", [
    ("kaiming_normal", dict(gain=1.0), dict(gain=2.0)),
    ("variance_scaling", dict(mode="fan_in"), dict(mode="fan_out")),
    ("uniform", dict(low=-1.0, high=1.0), dict(high=5.0)),
    ("normal", dict(std=0.5, dtype="float64"), dict(dtype="float32")),
    ("constant", dict(value=1.0), dict(value=2.0)),
    ("sparse", dict(sparsity=0.1), dict(sparsity=0.7)),
    ("orthogonal", dict(gain=1.0), dict(gain=3.0)),
    ("identity", dict(gain=1.0, shift=1), dict(shift=2)),
    ("eye", dict(gain=1.0), dict(gain=-2.0)),
    ("dirac", dict(groups=1), dict(groups=2)),
    ("stft", dict(side="real"), dict(side="imag")),
])
def test_call_overrides_a_bound_parameter(name, bound, call):
    shape = SPECS[name][0]
    init = f_(name)(seed=4, **bound)
    assert same(init(*shape, **call), f_(name)(*shape, seed=4, **{**bound, **call}))
    assert not same(init(*shape, **call), init(*shape))


@pytest.mark.parametrize("name", NAMES)
def test_currying(name):
    f = f_(name)
    shape, req, _, _ = SPECS[name]
    init = f(**req)
    curried = init(seed=3)
    assert isinstance(curried, Initializer) and curried is not init
    assert curried.params == {**req, "seed": 3}
    assert init.params == req  # the original is unchanged
    assert curried == f(seed=3, **req)
    assert same(curried(*shape), f(*shape, seed=3, **req))
    again = curried(seed=5)
    assert isinstance(again, Initializer) and again.params["seed"] == 5


@pytest.mark.parametrize("name", NAMES)
def test_out_fills_in_place(name):
    f = f_(name)
    shape, req, _, _ = SPECS[name]
    expect = f(*shape, seed=3, **req)
    w = np.full_like(expect, 7)
    got = f(seed=3, **req)(out=w)
    assert got is w
    assert same(w, expect)
    w2 = np.full_like(expect, 7)
    assert f(*shape, seed=3, out=w2, **req) is w2 and same(w2, expect)
    w3 = np.full_like(expect, 7)
    assert f(seed=3, out=w3, **req) is w3 and same(w3, expect)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("param", ["bogus", "out", "rows"])
def test_binding_an_unknown_parameter_raises(name, param):
    value = np.zeros(3) if param == "out" else (slice(0, 1) if param == "rows" else 1)
    # (a call with out= and no shape fills out; out=None with no shape is no out at all)
    if param == "out":
        assert f_(name)(out=None) == Initializer(name)
    else:
        with pytest.raises(TypeError, match=param):
            f_(name)(**{param: value})
    with pytest.raises(TypeError, match=param):
        Initializer(name, **{param: value})


@pytest.mark.parametrize("name", NAMES)
def test_currying_with_an_unknown_parameter_raises(name):
    with pytest.raises(TypeError, match="bogus"):
        f_(name)()(seed=1, bogus=2)


def test_unknown_function_name():
    with pytest.raises(ValueError, match="name") as info:
        Initializer("kaiming_normall")
    assert "'kaiming_normal'" in str(info.value)


BAD_BIND = dict(mode="bad", distribution="bad", layout="bad", nonlinearity="bad", scale=-1,
                seed=1.5, dtype="notadtype", side="left", window="nosuchwindow")
BAD_BIND_CASES = [(n, k) for n in NAMES for k in BAD_BIND
                  if k in inspect.signature(fastinit.FUNCTIONS[n]).parameters]


def test_bad_bind_cases_cover_the_parameters():
    found = {k for _, k in BAD_BIND_CASES}
    assert found == set(BAD_BIND)
    assert {n for n, k in BAD_BIND_CASES if k == "layout"} == set(VARIANCE) | {"orthogonal"}


@pytest.mark.parametrize("name, param", BAD_BIND_CASES)
def test_bad_values_raise_at_bind_time(name, param):
    with pytest.raises((ValueError, TypeError)) as info:
        f_(name)(**{param: BAD_BIND[param]})
    assert param in str(info.value), str(info.value)
    # and the same when the Initializer is made from its name, or curried
    with pytest.raises((ValueError, TypeError)) as info:
        f_(name)()(**{param: BAD_BIND[param]})
    assert param in str(info.value), str(info.value)


@pytest.mark.parametrize("name, kw, word", [
    ("kaiming_normal", dict(a="x"), r"^a:"),
    ("kaiming_normal", dict(truncated="x"), "^truncated:"),
    ("glorot_normal", dict(gain=-1.0), "^gain:"),
    ("glorot_uniform", dict(gain=0.0), "^gain:"),
    ("orthogonal", dict(gain=float("nan")), "^gain:"),
    ("stft", dict(scaling="x"), "^scaling:"),
    ("stft", dict(periodic=1), "^periodic:"),
    ("normal", dict(seed="a"), "^seed:"),
])
def test_more_bind_time_checks(name, kw, word):
    with pytest.raises((ValueError, TypeError), match=word):
        f_(name)(**kw)


# --- 2. Initializer objects --------------------------------------------------------------------

def bound_initializer(name, seed=7):
    _, _, params, _ = SPECS[name]
    return f_(name)(seed=seed, **params)


@pytest.mark.parametrize("name", NAMES)
def test_config_round_trip(name):
    init = bound_initializer(name)
    config = init.get_config()
    assert config["name"] == name
    assert config["seed"] == 7
    for k, p in inspect.signature(f_(name)).parameters.items():
        if k not in ("shape", "out", "rows", "block", "device") and p.default is not inspect.Parameter.empty:
            assert k in config  # every parameter, bound or default; device only when bound
    assert "device" not in config
    back = Initializer.from_config(config)
    assert back == init and hash(back) == hash(init)
    assert back.get_config() == config


@pytest.mark.parametrize("name", NAMES)
def test_config_round_trip_gives_the_same_array(name):
    init = bound_initializer(name)
    back = Initializer.from_config(init.get_config())
    shape = SPECS[name][0]
    assert same(back(*shape), init(*shape))


def test_config_values_are_plain_python():
    init = fastinit.normal(std=np.float32(0.5), dtype=np.float64, seed=Key(9).child("w"))
    config = init.get_config()
    assert config == {"name": "normal", "mean": 0.0, "std": 0.5, "dtype": "float64",
                      "seed": Key(9).child("w").value}
    assert type(config["std"]) is float and type(config["seed"]) is int


def test_from_config_rejects_bad_configs():
    for bad in [{"std": 1.0}, "normal", None]:
        with pytest.raises(ValueError, match="config"):
            Initializer.from_config(bad)


@pytest.mark.parametrize("name", NAMES)
def test_pickle_round_trip(name):
    init = bound_initializer(name)
    back = pickle.loads(pickle.dumps(init))
    assert back == init and hash(back) == hash(init)
    assert back.name == init.name
    shape = SPECS[name][0]
    assert same(back(*shape), init(*shape))


def test_pickle_keeps_a_key_seed():
    init = fastinit.kaiming_normal(seed=Key(3).child("enc"), layout="keras")
    back = pickle.loads(pickle.dumps(init))
    assert back.params["seed"] == Key(3).child("enc")
    assert same(back(16, 8), init(16, 8))


@pytest.mark.parametrize("name", NAMES)
def test_repr(name):
    init = bound_initializer(name)
    args = ", ".join(f"{k}={v!r}" for k, v in init.params.items())
    assert repr(init) == f"fastinit.{name}({args})"
    assert repr(f_(name)()) == f"fastinit.{name}()"


def test_repr_example():
    assert repr(fastinit.kaiming_normal(gain=1.0)) == "fastinit.kaiming_normal(gain=1.0)"


@pytest.mark.parametrize("init", [
    fastinit.kaiming_normal(gain=1.0),
    fastinit.kaiming_normal(gain=1.0, layout="keras", truncated=False),
    fastinit.normal(std=0.02, seed=Key(3)),
    fastinit.sparse(sparsity=0.5, seed=-1),
    fastinit.identity(shift=(1, 0)),
    fastinit.stft(window=None, side="imag"),
    fastinit.variance_scaling(in_axis=(0, 1), out_axis=2, dtype="complex64"),
    fastinit.randnC16(seed=2**70),
], ids=repr)
def test_repr_evaluates_to_an_equal_initializer(init):
    assert eval(repr(init), {"fastinit": fastinit}) == init


@pytest.mark.parametrize("init", [
    fastinit.normal(std=0.02, dtype=np.float32),
    fastinit.uniform(dtype=np.dtype("float64")),
], ids=["dtype=np.float32", "dtype=np.dtype('float64')"])
def test_repr_with_a_numpy_dtype_evaluates(init):
    # dtype=np.float32 is an accepted way to bind a dtype (it equals dtype="float32"); the repr
    # should still read back as fastinit.<name>(k=v, ...)
    try:
        back = eval(repr(init), {"fastinit": fastinit})
    except SyntaxError as e:
        pytest.fail(f"repr {repr(init)!r} is not valid Python: {e}")
    assert back == init


EQUAL = [
    (fastinit.normal(std=2.0), fastinit.normal(std=2.0)),
    (fastinit.normal(), fastinit.normal(std=1.0)),  # a default given explicitly
    (fastinit.normal(dtype=np.float32), fastinit.normal(dtype="float32")),
    (fastinit.normal(dtype=np.dtype("float64")), fastinit.normal(dtype="float64")),
    (fastinit.normal(seed=Key(5)), fastinit.normal(seed=5)),
    (fastinit.normal(std=np.float64(0.5)), fastinit.normal(std=0.5)),
    (fastinit.identity(shift=(1, 0)), fastinit.identity(shift=[1, 0])),
    (fastinit.normal(std=1), fastinit.normal(std=1.0)),
    (fastinit.kaiming_normal(a=0), fastinit.kaiming_normal()),
]
UNEQUAL = [
    (fastinit.normal(std=2.0), fastinit.normal(std=3.0)),
    (fastinit.normal(), fastinit.uniform()),
    (fastinit.normal(seed=1), fastinit.normal(seed=2)),
    (fastinit.normal(seed=1), fastinit.normal()),
    (fastinit.normal(seed=Key(5)), fastinit.normal(seed=Key(5).child("a"))),
    (fastinit.kaiming_normal(layout="keras"), fastinit.kaiming_normal()),
    (fastinit.zeros(), fastinit.zeros32()),
]


@pytest.mark.parametrize("a, b", EQUAL, ids=[f"{a!r}=={b!r}" for a, b in EQUAL])
def test_equal_initializers_have_equal_hashes(a, b):
    assert a == b and b == a and not a != b
    assert hash(a) == hash(b), "equal Initializers must hash equally"
    assert len({a, b}) == 1


@pytest.mark.parametrize("a, b", UNEQUAL, ids=[f"{a!r}!={b!r}" for a, b in UNEQUAL])
def test_unequal_initializers(a, b):
    assert a != b and not a == b


def test_equality_with_other_objects():
    init = fastinit.normal()
    assert init != "normal" and init != fastinit.normal and init != {"name": "normal"}


def test_generator_seed_is_equal_only_to_itself():
    g = np.random.default_rng(0)
    a = fastinit.normal(seed=g)
    assert a == Initializer("normal", seed=g)
    assert a != fastinit.normal(seed=np.random.default_rng(0))


def test_initializers_are_immutable():
    init = fastinit.kaiming_normal(gain=1.0)
    for attr, value in [("name", "normal"), ("params", {}), ("other", 1)]:
        with pytest.raises(AttributeError):
            setattr(init, attr, value)
    assert init == fastinit.kaiming_normal(gain=1.0)


def test_initializer_attributes_cannot_be_deleted():
    init = fastinit.kaiming_normal(gain=1.0)
    with pytest.raises(AttributeError):
        del init.name
    with pytest.raises(AttributeError):
        del init.params


def test_initializer_params_cannot_be_mutated():
    # Initializers hash by their parameters (so they can be dict keys): the bound parameters
    # must not change behind the object's back
    init = fastinit.kaiming_normal(gain=1.0)
    h = hash(init)
    try:
        init.params["gain"] = 3.0
    except TypeError:
        pass
    assert init.params == {"gain": 1.0}
    assert hash(init) == h


# --- 3. row blocks -------------------------------------------------------------------------------

ROW_CASES = []
for _n in VARIANCE:
    for _layout in LAYOUTS:
        ROW_CASES.append((_n, (300, 100), dict(layout=_layout)))
        ROW_CASES.append((_n, (40, 3, 5, 7), dict(layout=_layout)))
ROW_CASES += [("variance_scaling", (300, 100), dict(distribution=d, dtype=dt))
              for d in ["uniform", "truncated_normal", "untruncated_normal", "normal"]
              for dt in ["float16", "float64", "complex64", "complex128"]]
ROW_CASES += [
    ("kaiming_uniform", (64, 256), {}),  # 256 columns: 16 rows a block
    ("glorot_normal", (300, 100), dict(truncated=True, layout="torch")),
    ("kaiming_normal", (300, 100), dict(in_axis=0, out_axis=1, layout="jax")),
    ("lecun_normal", (30, 4, 5), dict(input_axes=(1, 2), output_axes=(0,))),
    ("orthogonal", (64, 40), {}),
    ("orthogonal", (30, 80), dict(layout="keras")),
    ("orthogonal", (20, 4, 5), dict(dtype="float16")),
    ("orthogonal", (20, 6), dict(dtype="complex64", layout="lux")),
    ("identity", (7, 5), dict(shift=2)),
    ("identity", (9, 9), dict(shift=(1, -2), gain=0.5)),
    ("identity", (3, 3, 6, 4), dict(shift=(1, 2))),
    ("identity", (9,), {}),
    ("eye", (6, 9), dict(gain=2.0)),
    ("eye", (9, 6), {}),
    ("dirac", (8, 4, 3, 3), dict(groups=2)),
    ("dirac", (6, 6, 3), dict(groups=3)),
    ("dirac", (4, 4, 3, 3, 3), {}),
    ("stft", (33, 2, 9), {}),
    ("stft", (16, 1, 5), dict(side="imag", window=None)),
    ("stft", (16, 1, 5), dict(window=np.linspace(0.5, 1.0, 16), scaling="spectrum")),
    ("stft", (16, 1, 5), dict(window="hamming", periodic=True, dtype="float64")),
    ("sparse", (300, 100), dict(sparsity=0.3, std=1.0)),
    ("sparse", (300, 100), dict(sparsity=0.9, dtype="float16")),
]
ROW_CASES += [(n, (300, 100), {}) for n in LUX_FAMILY]
ROW_CASES += [(n, (70,), {}) for n in ("randC16", "randnC16", "randn64")]

SLICES = [(0, 1), (0, 16), (15, 17), (16, 32), (40, 41), (41, 123), (123, None), (-1, None),
          (150, 150), (-10, None), (None, None), (0, 1000)]


def _id(case):
    name, shape, kw = case
    return f"{name}-{'x'.join(map(str, shape))}-" + ",".join(
        f"{k}={'array' if isinstance(v, np.ndarray) else v}" for k, v in kw.items())


@pytest.mark.parametrize("name, shape, kw", ROW_CASES, ids=[_id(c) for c in ROW_CASES])
def test_rows_equal_the_whole_tensor(name, shape, kw):
    f = f_(name)
    full = f(*shape, seed=11, **kw)
    for a, b in SLICES:
        want = full[a:b]
        part = f(*shape, seed=11, rows=slice(a, b), **kw)
        assert same(part, want), (a, b)
        out = np.full_like(want, 3)
        assert f(*shape, seed=11, rows=slice(a, b), out=out, **kw) is out
        assert same(out, want), (a, b)
    out = np.full_like(full, 3)
    assert f(*shape, seed=11, out=out, **kw) is out and same(out, full)
    # bound in an Initializer, rows at call time
    init = f(seed=11, **kw)
    assert same(init(*shape, rows=slice(5, 9)), full[5:9])


def _blocks_of(shape, count, seed):
    """``count`` N-d blocks of ``shape`` (fixed random slices of a random number of leading axes),
    then the corner cases: a single element, the whole tensor, an empty block."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(count):
        k = int(rng.integers(1, len(shape) + 1))
        out.append(tuple(slice(*map(int, sorted(rng.integers(0, n + 1, 2)))) for n in shape[:k]))
    last = tuple(slice(n - 1, n) for n in shape)
    return out + [last, tuple(slice(None) for _ in shape), (slice(0, 0),) + last[1:], slice(1, -1)]


@pytest.mark.parametrize("name, shape, kw", ROW_CASES, ids=[_id(c) for c in ROW_CASES])
def test_blocks_equal_the_whole_tensor(name, shape, kw):
    f = f_(name)
    full = f(*shape, seed=11, **kw)
    for block in _blocks_of(full.shape, 6, seed=len(name) + len(shape)):
        want = full[block]
        part = f(*shape, seed=11, block=block, **kw)
        assert same(part, want), block
        out = np.full_like(want, 3)
        assert f(*shape, seed=11, block=block, out=out, **kw) is out
        assert same(out, want), block
    init = f(seed=11, **kw)  # bound in an Initializer, block at call time
    block = (slice(1, 3),) + tuple(slice(1, None) for _ in full.shape[1:])
    assert same(init(*shape, block=block), full[block])


@pytest.mark.parametrize("name, shape, kw", ROW_CASES, ids=[_id(c) for c in ROW_CASES])
def test_seeds_decide_the_values(name, shape, kw):
    f = f_(name)
    a = f(*shape, seed=11, **kw)
    assert same(a, f(*shape, seed=11, **kw))
    assert same(a, f(*shape, seed=Key(11), **kw))
    if SPECS[name][3]:
        assert not same(a, f(*shape, seed=12, **kw))
        assert not np.array_equal(a, f(*shape, seed=Key(11).child(0), **kw))
    else:
        assert same(a, f(*shape, seed=12, **kw))  # the seed is ignored


@pytest.mark.parametrize("name", NAMES)
def test_key_accepted_as_seed_everywhere(name):
    shape, req, _, _ = SPECS[name]
    f = f_(name)
    assert same(f(*shape, seed=Key(7), **req), f(*shape, seed=7, **req))
    k = Key(7).child("layer")
    assert same(f(*shape, seed=k, **req), f(*shape, seed=k.value, **req))
    assert same(f(seed=k, **req)(*shape), f(*shape, seed=k.value, **req))


# --- 4. WeightInitializers.jl's typed family ------------------------------------------------------

LUX_DTYPES = {"16": np.float16, "32": np.float32, "64": np.float64, "C16": np.float16,
              "C32": np.complex64, "C64": np.complex128}


def _code(name):
    for kind in ("randn", "rand", "zeros", "ones"):
        if name.startswith(kind):
            return kind, name[len(kind):]


def test_lux_family_names():
    assert len(LUX_FAMILY) == 24
    assert set(LUX_FAMILY) == {k + c for k in ("zeros", "ones", "rand", "randn") for c in LUX_DTYPES}
    for n in LUX_FAMILY:
        assert n in fastinit.FUNCTIONS and getattr(fastinit, n) is fastinit.FUNCTIONS[n]
        assert n in fastinit.__all__


@pytest.mark.parametrize("name", LUX_FAMILY)
def test_lux_dtype_and_shape(name):
    kind, code = _code(name)
    a = f_(name)(5, 3, seed=1)
    assert a.dtype == LUX_DTYPES[code]
    assert a.shape == ((5, 3, 2) if code == "C16" else (5, 3))
    assert f_(name)((), seed=1).shape == ((2,) if code == "C16" else ())


@pytest.mark.parametrize("name", LUX_FAMILY)
def test_lux_constants(name):
    kind, code = _code(name)
    if kind not in ("zeros", "ones"):
        return
    a = f_(name)(4, 3)
    want = 0.0 if kind == "zeros" else 1.0
    if code == "C16":
        # ComplexF16 as (real, imaginary) float16 pairs: zero(ComplexF16) is (0, 0) and
        # one(ComplexF16) is (1, 0): the values are {kind}C32's rounded to float16
        ref = f_(kind + "C32")(4, 3).view(np.float32).reshape(4, 3, 2).astype(np.float16)
        assert same(a, ref), f"{name}: (re, im) pairs {a[0, 0].tolist()}, expected {ref[0, 0].tolist()}"
        assert np.all(a[..., 0] == want) and np.all(a[..., 1] == 0)
    else:
        assert np.all(a == want)
        if a.dtype.kind == "c":
            assert np.all(a.imag == 0)


N_STAT = 10**6


@pytest.mark.parametrize("name", [n for n in LUX_FAMILY if n.startswith("rand")])
def test_lux_random_statistics(name):
    kind, code = _code(name)
    a = f_(name)(1000, 1000, seed=2024)
    if code == "C16":
        parts = [a[..., 0].astype(np.float64).ravel(), a[..., 1].astype(np.float64).ravel()]
    elif a.dtype.kind == "c":
        parts = [a.real.astype(np.float64).ravel(), a.imag.astype(np.float64).ravel()]
    else:
        parts = [a.astype(np.float64).ravel()]
    complex_ = len(parts) == 2
    n = parts[0].size
    assert n == N_STAT
    for x in parts:
        if kind == "rand":
            assert x.min() >= 0.0 and x.max() < 1.0
            assert abs(x.mean() - 0.5) < 6 * math.sqrt(1 / 12 / n)
            assert abs(x.var() - 1 / 12) < 6 * math.sqrt(1 / 180 / n)  # var of (u - 1/2)^2
        else:
            v = 0.5 if complex_ else 1.0  # each part N(0, 1/2) for complex
            assert abs(x.mean()) < 6 * math.sqrt(v / n), x.mean()
            assert abs(x.var() - v) < 6 * math.sqrt(2 * v * v / n), x.var()
    if kind == "randn" and complex_:
        m2 = parts[0] ** 2 + parts[1] ** 2  # E|v|^2 = 1, |v|^2 ~ Exp(1)
        assert abs(m2.mean() - 1.0) < 6 * math.sqrt(1.0 / n)
        assert abs(np.corrcoef(parts[0], parts[1])[0, 1]) < 6 / math.sqrt(n)


def test_randnC16_is_randnC32_rounded():
    # the documented relationship: "The values are randnC32's rounded to float16"
    for shape, seed in [((100, 50), 1), ((3, 7, 11), 2**64 - 1), ((4097,), 5)]:
        c16 = fastinit.randnC16(*shape, seed=seed)
        c32 = fastinit.randnC32(*shape, seed=seed)
        assert same(c16, c32.view(np.float32).reshape(*shape, 2).astype(np.float16))


def test_randC16_is_randC32_rounded_and_kept_below_one():
    # randC16 is randC32 rounded to float16, except that a float32 value that rounds up to 1.0
    # is kept below 1 (U[0, 1) never gives 1): the largest float16 below 1 instead
    below_one = np.nextafter(np.float16(1), np.float16(0))
    for shape, seed in [((100, 50), 1), ((300, 300), 7)]:
        c16 = fastinit.randC16(*shape, seed=seed)
        rounded = fastinit.randC32(*shape, seed=seed).view(np.float32).reshape(*shape, 2)
        rounded = rounded.astype(np.float16)
        assert same(c16, np.minimum(rounded, below_one))
    assert same(fastinit.rand16(200, 300, seed=3),
                np.minimum(fastinit.rand32(200, 300, seed=3).astype(np.float16), below_one))
    assert same(fastinit.randn16(200, 300, seed=3),
                fastinit.randn32(200, 300, seed=3).astype(np.float16))


@pytest.mark.parametrize("name", ["rand32", "randn64", "randC32", "randnC16", "zeros32", "onesC16"])
def test_lux_family_matches_the_fills(name):
    kind, code = _code(name)
    fill = {"rand": fastinit.uniform, "randn": fastinit.normal, "zeros": fastinit.zeros,
            "ones": fastinit.ones}[kind]
    if code == "C16":
        return  # covered by the C16 tests above
    dt = LUX_DTYPES[code]
    assert same(f_(name)(30, 20, seed=9), fill(30, 20, dtype=dt, seed=9))


@pytest.mark.parametrize("name", LUX_FAMILY)
def test_lux_family_takes_no_dtype(name):
    with pytest.raises(TypeError, match="dtype"):
        f_(name)(3, dtype="float32")
    with pytest.raises(TypeError, match="dtype"):
        f_(name)(dtype="float32")


@pytest.mark.parametrize("name", [n for n in LUX_FAMILY if n.endswith("C16")])
def test_C16_out_needs_a_last_axis_of_two(name):
    out = np.full((3, 3), 5, np.float16)
    with pytest.raises(ValueError, match="out"):
        f_(name)(out=out)
    assert np.all(out == 5)
    with pytest.raises((ValueError, TypeError), match="out"):
        f_(name)(3, 3, out=out)
    assert np.all(out == 5)
    good = np.full((3, 2), 5, np.float16)
    assert f_(name)(seed=1, out=good) is good
    assert same(good, f_(name)(3, seed=1))


# --- 5. identity / eye / dirac / stft / orthogonal / variance errors ----------------------------

ERRORS = [
    ("eye", (3, 4, 5), {}, "shape"),
    ("eye", (4,), {}, "shape"),
    ("dirac", (4, 4), {}, "shape"),
    ("dirac", (2, 2, 2, 2, 2, 2), {}, "shape"),
    ("dirac", (6, 3, 3), dict(groups=4), "groups"),
    ("dirac", (6, 3, 3), dict(groups=0), "groups"),
    ("identity", (), {}, "shape"),
    ("stft", (8, 9), {}, "shape"),
    ("stft", (8, 1, 1, 1), {}, "shape"),
    ("stft", (8, 1, 1), {}, "shape"),
    ("stft", (8, 1, 5), dict(window=np.ones(7)), "window"),
    ("stft", (8, 1, 5), dict(window=[1.0] * 9), "window"),
    ("stft", (8, 1, 5), dict(window=[1.0] * 7 + [float("nan")]), "window"),
    ("orthogonal", (5,), {}, "shape"),
    ("orthogonal", (), {}, "shape"),
] + [(n, (7,), dict(layout=lay), "shape") for n in VARIANCE for lay in ("torch", "jax")]


@pytest.mark.parametrize("name, shape, kw, word", ERRORS,
                         ids=[f"{n}-{s}-{sorted(k)}" for n, s, k, _ in ERRORS])
def test_shape_errors_name_the_parameter_and_leave_out_untouched(name, shape, kw, word):
    f = f_(name)
    with pytest.raises(ValueError) as info:
        f(shape, seed=1, **kw)
    assert word in str(info.value), str(info.value)
    out = np.full(shape, 3.0, np.float32)
    with pytest.raises(ValueError) as info:
        f(out=out, seed=1, **kw)
    assert word in str(info.value), str(info.value)
    assert np.all(out == 3.0)
    with pytest.raises(ValueError):
        f(seed=1, **kw)(out=out)  # through an Initializer
    assert np.all(out == 3.0)


@pytest.mark.parametrize("name", VARIANCE)
@pytest.mark.parametrize("layout", ["keras", "lux", "keraflow"])
def test_variance_1d_under_other_layouts_is_fine(name, layout):
    a = f_(name)(7, layout=layout, seed=1)
    assert a.shape == (7,) and np.all(np.isfinite(a))


@pytest.mark.parametrize("name, kw", [
    ("kaiming_normal", dict(mode="bad")),
    ("variance_scaling", dict(scale=0.0)),
    ("orthogonal", dict(layout="bad")),
    ("stft", dict(window="nosuchwindow")),
    ("identity", dict(shift=1.5)),
    ("eye", dict(gain="x")),
])
def test_parameter_errors_leave_out_untouched(name, kw):
    shape = SPECS[name][0]
    out = np.full(shape, 3.0, np.float32)
    with pytest.raises((ValueError, TypeError)):
        f_(name)(*shape, out=out, **kw)
    assert np.all(out == 3.0)


# --- 6. Key ---------------------------------------------------------------------------------------

KEY0_WEIGHT = 15747945552954976188
KEY1234_PATH = 11240308681200989935
KAIMING_SHA256 = "51a453b3779e2fe63212bc9e820413f42c668c701e73234deee0f77aa94d7342"


def reference_child(value, name):
    """The Key docstring's derivation, written again with hashlib."""
    if isinstance(name, str):
        data = value.to_bytes(8, "little") + b"s" + name.encode("utf-8")
    else:
        data = value.to_bytes(8, "little") + b"i" + str(name).encode("ascii")
    digest = hashlib.blake2b(data, digest_size=8, person=b"fastinit.key").digest()
    return int.from_bytes(digest, "little")


def test_key_values_are_pinned():
    assert Key(0).child("weight").value == KEY0_WEIGHT
    assert Key(1234).child("encoder").child("layer0").child(3).value == KEY1234_PATH
    assert int(Key(0).child("weight")) == KEY0_WEIGHT


def test_key_derivation_matches_the_docstring():
    assert reference_child(0, "weight") == KEY0_WEIGHT
    v = reference_child(reference_child(reference_child(1234, "encoder"), "layer0"), 3)
    assert v == KEY1234_PATH
    for seed in [0, 1, 2**64 - 1, -1, 2**100 + 3]:
        root = Key(seed)
        assert root.value == int(fastinit._seeding.seed64(seed))
        for name in ["", "w", "layer0.weight", "é∑", 0, -3, 2**80, np.int64(5)]:
            assert root.child(name).value == reference_child(root.value, int(name) if isinstance(name, np.integer) else name)


def test_kaiming_normal_with_a_key_is_pinned():
    w = fastinit.kaiming_normal(64, 32, seed=Key(42).child("w"))
    assert w.dtype == np.float32 and w.shape == (64, 32)
    assert hashlib.sha256(w.tobytes()).hexdigest() == KAIMING_SHA256


def test_key_child_str_and_int_differ():
    k = Key(5)
    assert k.child("3") != k.child(3)
    assert k.child(3) == k.child(np.int64(3)) == k.child(np.uint8(3))
    assert k.child("a") == k.child("a") and k.child("a") != k.child("b")
    assert k.child("a").child("b") != k.child("b").child("a")
    assert k.child("a") != Key(6).child("a")


def test_key_as_seed():
    assert same(fastinit.normal(8, seed=Key(7)), fastinit.normal(8, seed=7))
    assert Key(7).value == 7 and Key(-1).value == 2**64 - 1 and Key(Key(9)) == Key(9)
    assert not same(fastinit.normal(8, seed=Key(7).child("a")), fastinit.normal(8, seed=7))


def test_adding_a_layer_leaves_the_others_unchanged():
    def init_model(root, layers):
        return {name: fastinit.kaiming_normal(*shape, seed=root.child(name))
                for name, shape in layers.items()}

    layers = {"enc.0.weight": (32, 16), "enc.1.weight": (16, 32), "dec.weight": (8, 16)}
    a = init_model(Key(1234), layers)
    bigger = {"enc.0.weight": (32, 16), "enc.0b.weight": (32, 32), **layers, "head": (4, 8)}
    b = init_model(Key(1234), bigger)
    reordered = init_model(Key(1234), dict(reversed(list(layers.items()))))
    for name in layers:
        assert same(a[name], b[name]), name
        assert same(a[name], reordered[name]), name
    assert len({a[n].tobytes() for n in layers}) == len(layers)  # different names, different values


def test_key_pickle_eq_hash_repr():
    k = Key(1234).child("encoder")
    back = pickle.loads(pickle.dumps(k))
    assert back == k and hash(back) == hash(k) and back.value == k.value
    assert k == Key(k.value) and hash(k) == hash(Key(k.value))
    assert k != Key(1234) and k != k.value and len({k, back, Key(k.value)}) == 1
    assert eval(repr(k), {"fastinit": fastinit}) == k
    with pytest.raises(AttributeError):
        k.value = 3


def test_key_value_cannot_be_deleted():
    k = Key(5)
    with pytest.raises(AttributeError):
        del k.value


@pytest.mark.parametrize("bad", [1.5, None, True, False, np.bool_(True), b"x", ("a",)],
                         ids=repr)
def test_key_child_rejects_bad_names(bad):
    with pytest.raises(TypeError, match="name"):
        Key(0).child(bad)


@pytest.mark.parametrize("bad", [1.5, "3", True])
def test_key_rejects_bad_seeds(bad):
    with pytest.raises(TypeError, match="seed"):
        Key(bad)


# --- 7. JAX's complex variance scaling ------------------------------------------------------------

def _complex(distribution, dtype, scale=2.0, seed=99, layout="torch"):
    # 1000 x 1000, fan_in = 1000 under torch's (and JAX's) layout: variance = scale / 1000
    v = fastinit.variance_scaling(1000, 1000, scale=scale, distribution=distribution,
                                  dtype=dtype, seed=seed, layout=layout)
    assert v.dtype == dtype and v.shape == (1000, 1000)
    return v.ravel().astype(np.complex128), scale / 1000


def _angles_uniform(v):
    turns = np.mod(np.angle(v) / (2 * np.pi), 1.0)
    p = scipy.stats.kstest(turns, "uniform").pvalue
    assert p > 1e-6, p


@pytest.mark.parametrize("dtype", [np.complex64, np.complex128])
def test_complex_uniform_is_the_disk(dtype):
    v, var = _complex("uniform", dtype, layout="jax")
    n = v.size
    m2 = np.abs(v) ** 2
    tol = 1 + 4 * np.finfo(dtype).eps
    assert np.abs(v).max() <= math.sqrt(2 * var) * tol
    assert np.abs(v).max() > 0.999 * math.sqrt(2 * var)
    # |v|^2 / (2 var) ~ U(0, 1): mean var, variance var^2 / 3
    assert abs(m2.mean() - var) < 6 * math.sqrt(var * var / 3 / n), m2.mean() / var
    assert scipy.stats.kstest(m2 / (2 * var), "uniform").pvalue > 1e-6
    _angles_uniform(v)


@pytest.mark.parametrize("dtype", [np.complex64, np.complex128])
@pytest.mark.parametrize("layout", ["torch", "keras", "lux", "keraflow"])
def test_complex_uniform_outside_jax_has_uniform_parts(dtype, layout):
    """torch's kaiming_uniform_ on a complex tensor: each part U[-b, b), E|v|^2 = 2 variance."""
    v, var = _complex("uniform", dtype, layout=layout)
    b = math.sqrt(3 * var)
    for part in (v.real, v.imag):
        assert part.min() >= -b and part.max() < b
        assert scipy.stats.kstest((part + b) / (2 * b), "uniform").pvalue > 1e-6
    assert abs(np.corrcoef(v.real, v.imag)[0, 1]) < 6 / math.sqrt(v.size)


@pytest.mark.parametrize("dtype", [np.complex64, np.complex128])
def test_complex_truncated_normal(dtype):
    v, var = _complex("truncated_normal", dtype)
    n = v.size
    s2 = var / COMPLEX_TRUNCATED_STD**2  # the scale s = sqrt(var) / 0.953...
    assert COMPLEX_TRUNCATED_STD == 0.95311164380491208
    tol = 1 + 4 * np.finfo(dtype).eps
    assert np.abs(v).max() <= 2 * math.sqrt(var) / 0.95311164380491208 * tol
    assert np.abs(v).max() > 0.999 * 2 * math.sqrt(s2)
    # |v|^2 / s^2 ~ Exp(1) cut at 4
    e4 = math.exp(-4.0)
    mean_r2 = 1 - 4 * e4 / (1 - e4)
    mean_r4 = (2 - 26 * e4) / (1 - e4)
    x = np.abs(v) ** 2 / s2
    assert abs(x.mean() - mean_r2) < 6 * math.sqrt((mean_r4 - mean_r2**2) / n), x.mean()
    m2 = np.abs(v) ** 2
    assert abs(m2.mean() - var * mean_r2 / 0.95311164380491208**2) < \
        6 * s2 * math.sqrt((mean_r4 - mean_r2**2) / n)
    cdf = lambda t: -np.expm1(-np.minimum(t, 4.0)) / -math.expm1(-4.0)  # noqa: E731
    assert scipy.stats.kstest(np.minimum(x, 4.0), cdf).pvalue > 1e-6
    _angles_uniform(v)


@pytest.mark.parametrize("dtype", [np.complex64, np.complex128])
def test_complex_untruncated_normal(dtype):
    v, var = _complex("untruncated_normal", dtype)
    n = v.size
    for part in (v.real, v.imag):
        assert abs(part.mean()) < 6 * math.sqrt(var / 2 / n)
        assert abs(part.var() - var / 2) < 6 * math.sqrt(2 * (var / 2) ** 2 / n), part.var() / var
    assert abs(np.corrcoef(v.real, v.imag)[0, 1]) < 6 / math.sqrt(n)
    # it is the complex normal fill with std sqrt(var)
    ref = fastinit.normal(1000, 1000, std=math.sqrt(var), dtype=dtype, seed=99)
    assert np.allclose(v, ref.ravel(), rtol=1e-6, atol=0)
    _angles_uniform(v)


@pytest.mark.parametrize("layout, distribution, kind", [
    ("jax", "normal", "untruncated_normal"), ("torch", "normal", "untruncated_normal"),
    ("keras", "normal", "truncated_normal")])
def test_complex_normal_follows_the_layout(layout, distribution, kind):
    a = fastinit.variance_scaling(40, 30, distribution=distribution, layout=layout,
                                  dtype="complex64", seed=3)
    b = fastinit.variance_scaling(40, 30, distribution=kind, layout=layout, dtype="complex64",
                                  seed=3)
    assert same(a, b)


def test_keras_style_call_with_shape_keyword():
    init = fastinit.get("GlorotUniform")
    a = init(shape=(64, 32), dtype="float32", seed=4)
    assert same(a, init((64, 32), dtype="float32", seed=4))
    assert same(a, fastinit.glorot_uniform(64, 32, layout="keras", seed=4))


def test_second_review_edges():
    # seeds are checked by the deterministic fills and the typed family too
    for f in (fastinit.zeros, fastinit.ones, fastinit.zeros32, fastinit.onesC16, fastinit.eye):
        with pytest.raises(TypeError, match="seed"):
            f(3, 3, seed="x")
    # an empty tensor is returned untouched, but its axes are still checked
    assert fastinit.kaiming_normal(0, 5).shape == (0, 5)
    with pytest.raises(ValueError, match="in_axis"):
        fastinit.kaiming_normal(0, 5, in_axis=7)
    with pytest.raises(ValueError, match="input_axes"):
        fastinit.kaiming_normal(0, 5, input_axes=[0])
    # delta_orthogonal's column_axis is checked when bound
    with pytest.raises(ValueError, match="column_axis"):
        fastinit.delta_orthogonal(column_axis=5)
    # a config with parameters the named initializer does not take names them
    with pytest.raises(TypeError, match="fastinit.orthogonal"):
        fastinit.deserialize({"class_name": "orthogonal", "config": {"layout": "torch"}})
    # Keras' call forms: init(shape, dtype) and init(shape=int)
    init = fastinit.get("GlorotUniform")
    assert init((3, 4), "float64").dtype == np.float64
    assert init(shape=5, seed=1).shape == (5,)
