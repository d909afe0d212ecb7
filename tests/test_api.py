"""The public fills' interface: shapes, dtypes, ``out``, ``rows``, seeds, and clear errors that
name the parameter and leave ``out`` untouched."""
import math

import numpy as np
import pytest

import fastinit
from fastinit._seeding import seed64

RANDOM = {
    "uniform": lambda *s, **k: fastinit.uniform(*s, low=-1.0, high=2.0, **k),
    "normal": lambda *s, **k: fastinit.normal(*s, mean=0.5, std=2.0, **k),
    "truncated_normal": lambda *s, **k: fastinit.truncated_normal(*s, mean=0.1, std=1.5, lo=-1.0, hi=3.0, **k),
    "sparse": lambda *s, **k: fastinit.sparse(*s, sparsity=0.3, std=1.0, **k),
}
REAL = ["float16", "float32", "float64"]
COMPLEX = ["complex64", "complex128"]


@pytest.mark.parametrize("name", RANDOM)
@pytest.mark.parametrize("dtype", REAL)
def test_shape_dtype_and_out(name, dtype):
    f = RANDOM[name]
    a = f(40, 70, dtype=dtype, seed=3)
    assert a.shape == (40, 70) and a.dtype == dtype and a.flags.c_contiguous
    assert np.array_equal(f((40, 70), dtype=dtype, seed=3), a)
    out = np.full((40, 70), 7, dtype)
    assert f(40, 70, seed=3, out=out) is out
    assert np.array_equal(out, a)
    out2 = np.empty((40, 70), dtype)
    assert np.array_equal(f(seed=3, out=out2), a)  # shape and dtype from out


def test_default_dtype_is_float32():
    assert fastinit.normal(3, 4).dtype == np.float32
    assert fastinit.zeros(3).dtype == np.float32


@pytest.mark.parametrize("dtype", COMPLEX)
def test_complex_uses_the_real_view(dtype):
    real = np.finfo(dtype).dtype
    z = fastinit.normal(30, 50, std=2.0, dtype=dtype, seed=1)
    x = fastinit.normal(30, 100, std=2.0 / math.sqrt(2), dtype=real, seed=1)
    assert np.array_equal(z.view(real), x)
    u = fastinit.uniform(30, 50, dtype=dtype, seed=1)
    assert np.array_equal(u.view(real), fastinit.uniform(30, 100, dtype=real, seed=1))
    m = fastinit.normal(1000, mean=1 - 2j, std=0.0, dtype=dtype, seed=1)
    assert np.all(m == 1 - 2j)
    assert np.all(fastinit.normal(10, mean=3, std=0.0, dtype=dtype) == 3 + 0j)


def test_float16_is_float32_rounded():
    for name, f in RANDOM.items():
        x16 = f(64, 300, dtype="float16", seed=5)
        expect = f(64, 300, dtype="float32", seed=5).astype(np.float16)
        if name == "uniform":  # float32 values just below high would round up to it: kept below
            expect = np.minimum(expect, np.nextafter(np.float16(2.0), np.float16(0.0)))
        assert np.array_equal(x16, expect), name


@pytest.mark.parametrize("name", RANDOM)
@pytest.mark.parametrize("dtype", ["float32", "float64", "float16"])
def test_rows_equal_the_full_tensor(name, dtype):
    f = RANDOM[name]
    full = f(300, 100, dtype=dtype, seed=11)  # 100 columns: rows start mid-block and at block edges
    for a, b in [(0, 300), (0, 1), (40, 41), (41, 123), (123, 300), (299, 300), (150, 150), (-10, None)]:
        part = f(300, 100, dtype=dtype, seed=11, rows=slice(a, b))
        assert np.array_equal(part, full[a:b]), (a, b)
        out = np.empty_like(full[a:b])
        f(300, 100, dtype=dtype, seed=11, rows=slice(a, b), out=out)
        assert np.array_equal(out, full[a:b])


def test_rows_at_block_boundaries():
    # rows of 4096 elements start exactly at a block; rows of 2048 at half blocks
    for cols in (4096, 2048, 4097):
        full = fastinit.normal(9, cols, seed=2)
        for a in range(9):
            assert np.array_equal(fastinit.normal(9, cols, seed=2, rows=slice(a, a + 2)), full[a:a + 2])


def test_rows_of_3d_tensor():
    full = fastinit.truncated_normal(20, 7, 33, seed=4)
    assert np.array_equal(fastinit.truncated_normal(20, 7, 33, seed=4, rows=slice(5, 9)), full[5:9])


def test_empty_and_scalar_shapes():
    for f in RANDOM.values():
        assert f(0, 5, seed=1).shape == (0, 5)
        assert f(5, 0, seed=1).shape == (5, 0)
    assert fastinit.normal((), seed=1).shape == ()
    assert fastinit.normal((), seed=1) == fastinit.normal(1, seed=1)[0]


def test_constants():
    assert np.all(fastinit.zeros(3, 4, dtype="float64") == 0)
    assert np.all(fastinit.ones(3, 4, dtype="float16") == 1)
    c = fastinit.constant(5, value=2.5, dtype="complex64")
    assert c.dtype == np.complex64 and np.all(c == 2.5)
    out = np.empty((4, 3))
    assert fastinit.constant(value=-1.5, out=out) is out and np.all(out == -1.5)
    assert np.array_equal(fastinit.ones(10, 2, rows=slice(3, 5)), np.ones((2, 2), np.float32))


# --- seeds -----------------------------------------------------------------------------------

def test_seeds():
    a = fastinit.normal(1000, seed=1)
    assert np.array_equal(a, fastinit.normal(1000, seed=1))
    assert not np.array_equal(a, fastinit.normal(1000, seed=2))
    assert np.array_equal(fastinit.normal(100, seed=-1), fastinit.normal(100, seed=2**64 - 1))
    assert np.array_equal(fastinit.normal(100, seed=np.uint64(7)), fastinit.normal(100, seed=7))
    big = fastinit.normal(100, seed=2**200 + 5)
    assert not np.array_equal(big, fastinit.normal(100, seed=5))
    assert not np.array_equal(big, fastinit.normal(100, seed=-(2**200 + 5)))
    assert seed64(2**64) != seed64(0)


def test_generator_seed_draws_once():
    g1, g2 = np.random.default_rng(5), np.random.default_rng(5)
    a = fastinit.uniform(100, seed=g1)
    assert np.array_equal(a, fastinit.uniform(100, seed=int(g2.integers(0, 2**64, dtype=np.uint64))))
    assert not np.array_equal(a, fastinit.uniform(100, seed=g1))  # the generator advanced


def test_unseeded_calls_differ_and_global_seed_repeats():
    assert not np.array_equal(fastinit.normal(100), fastinit.normal(100))
    fastinit.seed(42)
    a, b = fastinit.normal(100), fastinit.uniform(100)
    fastinit.seed(42)
    assert np.array_equal(a, fastinit.normal(100)) and np.array_equal(b, fastinit.uniform(100))
    fastinit.seed()


# --- errors ----------------------------------------------------------------------------------

BAD = [
    # (call, exception, words the message must contain)
    (lambda: fastinit.normal(-1, 3), ValueError, ["shape", "-1"]),
    (lambda: fastinit.normal(2.5, 3), TypeError, ["shape", "2.5"]),
    (lambda: fastinit.normal("3"), TypeError, ["shape"]),
    (lambda: fastinit.normal(True, 3), TypeError, ["shape"]),
    (lambda: fastinit.normal(3, std=float("nan")), ValueError, ["std", "nan"]),
    (lambda: fastinit.normal(3, std=-1.0), ValueError, ["std", "-1.0"]),
    (lambda: fastinit.normal(3, std="1"), TypeError, ["std"]),
    (lambda: fastinit.normal(3, mean=float("inf")), ValueError, ["mean", "inf"]),
    (lambda: fastinit.normal(3, std=1e4, dtype="float16"), ValueError, ["std", "float16"]),
    (lambda: fastinit.normal(3, dtype="int32"), TypeError, ["dtype", "int32"]),
    (lambda: fastinit.normal(3, dtype="float128x"), TypeError, ["dtype"]),
    (lambda: fastinit.normal(3, mean=1j), TypeError, ["mean"]),
    (lambda: fastinit.uniform(3, low=1.0, high=1.0), ValueError, ["low", "high"]),
    (lambda: fastinit.uniform(3, low=2.0, high=1.0), ValueError, ["low", "high"]),
    (lambda: fastinit.uniform(3, low=0.0, high=float("inf")), ValueError, ["high", "inf"]),
    (lambda: fastinit.uniform(3, low=1.0001, high=1.0002, dtype="float16"), ValueError, ["float16"]),
    (lambda: fastinit.uniform(3, high=1e6, dtype="float16"), ValueError, ["high"]),
    (lambda: fastinit.truncated_normal(3, lo=2.0, hi=-2.0), ValueError, ["lo", "hi"]),
    (lambda: fastinit.truncated_normal(3, lo=float("nan")), ValueError, ["lo", "nan"]),
    (lambda: fastinit.truncated_normal(3, std=0.0), ValueError, ["std", "0.0"]),
    (lambda: fastinit.truncated_normal(3, dtype="complex64"), TypeError, ["dtype", "complex64"]),
    (lambda: fastinit.sparse(4, 4, sparsity=1.0), ValueError, ["sparsity", "1.0"]),
    (lambda: fastinit.sparse(4, 4, sparsity=-0.1), ValueError, ["sparsity", "-0.1"]),
    (lambda: fastinit.sparse(4, 4, sparsity=float("nan")), ValueError, ["sparsity", "nan"]),
    (lambda: fastinit.sparse(4, 4, 4, sparsity=0.5), ValueError, ["shape", "2"]),
    (lambda: fastinit.sparse(4, 4), TypeError, ["sparsity"]),
    (lambda: fastinit.sparse(2**32, 0, sparsity=0.5), ValueError, ["shape", "2**32"]),
    (lambda: fastinit.normal(4, 4, rows=slice(0, 4, 2)), ValueError, ["rows"]),
    (lambda: fastinit.normal(4, 4, rows=3), TypeError, ["rows"]),
    (lambda: fastinit.normal(3, seed=1.5), TypeError, ["seed", "1.5"]),
    (lambda: fastinit.normal(seed=1.5), TypeError, ["seed", "1.5"]),
    (lambda: fastinit.normal(seed="a"), TypeError, ["seed"]),
    (lambda: fastinit.constant(3, value=float("nan")), ValueError, ["value", "nan"]),
    (lambda: fastinit.constant(3, value=1e5, dtype="float16"), ValueError, ["value"]),
    (lambda: fastinit.normal(3, out=[0.0, 0.0, 0.0]), TypeError, ["out", "list"]),
]


@pytest.mark.parametrize("call, exc, words", BAD)
def test_bad_input_raises_naming_the_parameter(call, exc, words):
    with pytest.raises(exc) as info:
        call()
    for w in words:
        assert w in str(info.value), (w, str(info.value))


def bad_outs():
    good = np.zeros((4, 5), np.float32)
    ro = good.copy()
    ro.flags.writeable = False
    return [
        (ro, ValueError, "read-only"),
        (np.zeros((5, 4), np.float32), ValueError, "shape"),
        (np.zeros((4, 5), np.float64), TypeError, "dtype"),
        (np.zeros((4, 10), np.float32)[:, ::2], ValueError, "contiguous"),
        (np.zeros((4, 5), np.int32), TypeError, "dtype"),
    ]


@pytest.mark.parametrize("name", RANDOM)
def test_bad_out_raises_and_is_untouched(name):
    for out, exc, word in bad_outs():
        before = out.copy()
        with pytest.raises(exc, match=word):
            RANDOM[name](4, 5, dtype="float32", seed=1, out=out)
        assert np.array_equal(out, before)


@pytest.mark.parametrize("call", [
    lambda out: fastinit.normal(4, 5, std=-1.0, out=out),
    lambda out: fastinit.uniform(4, 5, low=1.0, high=0.0, out=out),
    lambda out: fastinit.truncated_normal(4, 5, lo=1.0, hi=0.0, out=out),
    lambda out: fastinit.sparse(4, 5, sparsity=2.0, out=out),
    lambda out: fastinit.normal(4, 5, seed=1.5, out=out),
    lambda out: fastinit.constant(4, 5, value=float("inf"), out=out),
])
def test_bad_parameter_leaves_out_untouched(call):
    out = np.full((4, 5), 3.0, np.float32)
    with pytest.raises((ValueError, TypeError)):
        call(out)
    assert np.all(out == 3.0)


def test_bad_call_does_not_consume_the_global_seed():
    fastinit.seed(3)
    a = fastinit.normal(10)
    fastinit.seed(3)
    with pytest.raises(ValueError):
        fastinit.normal(10, std=-1.0)
    assert np.array_equal(fastinit.normal(10), a)
