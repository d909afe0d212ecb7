"""fastinit.jax against jax.nn.initializers: fastinit's values for the key's seed, JAX's
distributions (KS), the same values under jax.jit (raw and typed keys, vmap), JAX's default dtype
(x64 in a subprocess), 0-d array parameters, bfloat16, JAX's shape errors, no copy on the CPU,
Flax-style use, and ``import fastinit`` not importing JAX.

KS tests use fixed seeds and the p-value floor of tests/test_frameworks.py (1e-6)."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap

import numpy as np
import pytest

jax = pytest.importorskip("jax")
import jax.numpy as jnp  # noqa: E402
from jax.nn import initializers as jinit  # noqa: E402
from scipy import stats  # noqa: E402

import fastinit  # noqa: E402
import fastinit.jax as fj  # noqa: E402

P_FLOOR = 1e-6

# (name, factory arguments, shape)
RANDOM = [
    ("glorot_normal", {}, (96, 64)), ("glorot_uniform", {}, (3, 3, 16, 32)),
    ("he_normal", {}, (128, 48)), ("he_uniform", {"in_axis": 0, "out_axis": 1}, (40, 60)),
    ("lecun_normal", {"batch_axis": 0}, (4, 50, 30)), ("lecun_uniform", {}, (70, 20)),
    ("xavier_normal", {}, (30, 30)), ("kaiming_uniform", {}, (30, 30)),  # JAX's aliases
    ("normal", {"stddev": 0.5}, (100, 40)), ("uniform", {"scale": 3.0}, (4000,)),
    ("truncated_normal", {"stddev": 2.0, "lower": -1.0, "upper": 3.0}, (50, 80)),
    ("variance_scaling", {"scale": 3.0, "mode": "fan_geo_avg", "distribution": "normal"}, (10, 14, 18)),
    ("variance_scaling", {"scale": 0.5, "mode": "fan_out", "distribution": "uniform",
                          "in_axis": [0], "out_axis": []}, (300,)),
]
IDS = [f"{n}{s}" for n, _, s in RANDOM]
DISTINCT = [r for r in RANDOM if r[0] not in ("xavier_normal", "kaiming_uniform")]  # not aliases


def _preset(name, kwargs):
    """The core Initializer fastinit.jax stands on (registry's JAX presets)."""
    from fastinit.registry import PRESETS
    return PRESETS["jax"][name](**kwargs)


@pytest.mark.parametrize("name,kwargs,shape", RANDOM, ids=IDS)
def test_values_are_the_core_apis_for_the_keys_seed(name, kwargs, shape):
    init = getattr(fj, name)(**kwargs)
    for key in (jax.random.key(42), jax.random.PRNGKey(42)):
        got = init(key, shape)
        assert isinstance(got, jax.Array) and got.dtype == jnp.float32 and got.shape == shape
        assert np.array_equal(np.asarray(got), _preset(name, kwargs)(shape, seed=42))
    assert np.array_equal(np.asarray(init(jax.random.key(3), shape, jnp.float16)),
                          _preset(name, kwargs)(shape, dtype="float16", seed=3))


@pytest.mark.parametrize("name,kwargs,shape", DISTINCT, ids=[f"{n}{s}" for n, _, s in DISTINCT])
def test_distribution_matches_jax(name, kwargs, shape):
    """About 30,000 values of the shape (the fans depend on it), from as many keys as needed:
    fastinit.jax's against jax.nn.initializers' own (vmapped over keys)."""
    reps = -(-30_000 // int(np.prod(shape)))
    keys = jax.random.split(jax.random.key(17), reps)
    ref = getattr(jinit, name)(**kwargs)
    theirs = np.asarray(jax.jit(jax.vmap(lambda k: ref(k, shape)))(keys))
    init = getattr(fj, name)(**kwargs)
    ours = np.stack([np.asarray(init(jax.random.key(1000 + r), shape)) for r in range(reps)])
    p = stats.ks_2samp(ours.ravel(), theirs.ravel(), method="asymp").pvalue
    assert p > P_FLOOR, (name, kwargs, p)


def test_orthogonal_and_delta_orthogonal():
    q = np.asarray(fj.orthogonal(scale=2.0)(jax.random.key(5), (64, 32)), np.float64)
    assert np.allclose(q.T @ q, 4 * np.eye(32), atol=1e-4)
    assert np.array_equal(q, _preset("orthogonal", {"scale": 2.0})((64, 32), seed=5))
    d = np.asarray(fj.delta_orthogonal()(jax.random.key(5), (3, 3, 8, 8)))
    centre = d[1, 1]
    assert np.allclose(centre.T @ centre, np.eye(8), atol=1e-5)
    assert np.count_nonzero(d) == np.count_nonzero(centre)
    with pytest.raises(ValueError, match="at least a 2D"):
        fj.orthogonal()(jax.random.key(0), (5,))
    with pytest.raises(ValueError, match="3D, 4D or 5D"):
        fj.delta_orthogonal()(jax.random.key(0), (3, 3))
    assert fj.orthogonal()(jax.random.key(0), (0, 3)).shape == (0, 3)


def test_jit_equals_eager_with_typed_and_raw_keys_and_vmap():
    shape = (33, 17)
    for name, kwargs in [("he_normal", {}), ("uniform", {"scale": 0.5}),
                         ("truncated_normal", {}), ("orthogonal", {})]:
        init = getattr(fj, name)(**kwargs)
        f = jax.jit(lambda key: init(key, shape, jnp.bfloat16))
        for key in (jax.random.key(9), jax.random.PRNGKey(9)):
            eager = np.asarray(init(key, shape, jnp.bfloat16))
            assert np.array_equal(np.asarray(f(key)).view(np.uint16), eager.view(np.uint16)), name
    keys = jax.random.split(jax.random.key(1), 3)
    init = fj.lecun_uniform()
    batched = jax.jit(jax.vmap(lambda k: init(k, (8, 4))))(keys)
    for i in range(3):
        assert np.array_equal(np.asarray(batched[i]), np.asarray(init(keys[i], (8, 4))))
    # errors are raised while tracing, not inside the compiled computation
    with pytest.raises(ValueError, match="1-dimensional"):
        jax.jit(lambda key: fj.he_normal()(key, (5,)))(jax.random.key(0))
    with pytest.raises(TypeError):
        jax.jit(lambda key: fj.normal()(key, (5, 5), jnp.int32))(jax.random.key(0))


def test_key_seed_and_key_checks():
    assert fj.key_seed(jax.random.key(7)) == 7
    assert fj.key_seed(jax.random.PRNGKey(7)) == 7
    assert fj.key_seed(np.array([1, 2], np.uint32)) == (1 << 32) | 2
    rbg = jax.random.key(7, impl="rbg")
    assert fj.normal()(rbg, (4,)).shape == (4,)  # four words, folded
    with pytest.raises(TypeError, match="key"):
        fj.normal()(7, (4,))
    with pytest.raises(ValueError, match="single key"):
        fj.normal()(jax.random.split(jax.random.key(0), 2), (4,))


def test_zero_d_parameters_bfloat16_and_empty_axes():
    key = jax.random.key(0)
    for init in (fj.uniform(jnp.array(1.0), jnp.bfloat16), fj.normal(jnp.array(1.0), jnp.bfloat16),
                 fj.truncated_normal(jnp.array(1.0, jnp.float32), jnp.bfloat16),
                 fj.variance_scaling(np.float32(2.0), "fan_in", "normal", dtype=jnp.bfloat16),
                 fj.orthogonal(jnp.array(1.0), dtype=jnp.bfloat16)):
        assert init(key, (4, 4)).dtype == jnp.bfloat16
    assert np.array_equal(np.asarray(fj.normal(jnp.array(2.0))(key, (8,))),
                          np.asarray(fj.normal(2.0)(key, (8,))))
    # JAX's 0-d shape with empty axes: fans (1, 1)
    assert fastinit.compute_fans((), "jax", in_axis=[], out_axis=[]) == (1, 1)
    v = fj.variance_scaling(1, "fan_in", "normal", in_axis=[], out_axis=[])(key, ())
    assert v.shape == () and np.asarray(v) == fastinit.normal((), seed=0)
    with pytest.raises(ValueError, match="1-dimensional"):  # JAX's message
        fj.glorot_uniform()(key, (5,))
    with pytest.raises(ValueError, match="out of range"):
        fastinit.compute_fans((), "jax", in_axis=[])


def test_constants_and_dtype_rules():
    key = jax.random.key(0)
    assert fj.zeros(key, (2, 3)).dtype == jnp.float32
    assert np.array_equal(fj.ones(key, (2,), jnp.int32), np.ones(2, np.int32))
    c = fj.constant(jnp.array([1.0, 2.0]))(key, (3, 2))
    assert np.array_equal(c, np.tile([1.0, 2.0], (3, 1)))
    assert fj.constant(-7, jnp.bfloat16)(key, (2,)).dtype == jnp.bfloat16
    assert fj.normal()(key, (3,), jnp.complex64).dtype == jnp.complex64
    with pytest.warns(UserWarning, match="float64"):  # JAX's warning, float32 without x64
        assert fj.normal()(key, (3,), jnp.float64).dtype == jnp.float32


def test_no_copy_on_cpu():
    if jax.default_backend() != "cpu":
        pytest.skip("a copy to the device is needed")
    x = fj.normal()(jax.random.key(0), (512, 512))
    assert x.unsafe_buffer_pointer() % 64 == 0
    y = x + 0  # JAX still owns the memory it aliased: later computations see the values
    assert np.array_equal(np.asarray(y), np.asarray(x))


def test_flax_style_module_init():
    """What Flax's nn.Dense does with kernel_init: init(key, (in, out), param_dtype), here under
    jit as in model.init; with flax installed, flax itself."""
    key = jax.random.key(0)

    def model_init(key):
        k1, k2 = jax.random.split(key)
        return {"dense": {"kernel": fj.lecun_normal()(k1, (16, 8), jnp.float32),
                          "bias": fj.zeros(k2, (8,), jnp.float32)}}

    params = jax.jit(model_init)(key)
    k1, _ = jax.random.split(key)
    assert np.array_equal(params["dense"]["kernel"], fj.lecun_normal()(k1, (16, 8)))
    try:
        import flax.linen as nn
    except ImportError:
        return
    dense = nn.Dense(8, kernel_init=fj.lecun_normal())
    variables = dense.init(key, jnp.ones((1, 16)))
    assert variables["params"]["kernel"].shape == (16, 8)


def _run(code: str, **env) -> str:
    out = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], capture_output=True,
                         text=True, env={**os.environ, **env}, timeout=120)
    assert out.returncode == 0, out.stderr
    return out.stdout


def test_x64_default_dtype_and_import_isolation():
    got = _run("""
        import sys, fastinit
        assert "jax" not in sys.modules, "import fastinit imported jax"
        import jax, fastinit.jax as fj, numpy as np
        w = fj.he_normal()(jax.random.key(4), (20, 10))
        assert w.dtype == np.float64, w.dtype
        assert np.array_equal(np.asarray(w), fastinit.get("jax.he_normal")((20, 10), dtype="float64", seed=4))
        assert fj.normal()(jax.random.key(4), (3,), "complex128").dtype == np.complex128
        print("ok")
        """, JAX_ENABLE_X64="1")
    assert got.strip() == "ok"


# --- review fixes -----------------------------------------------------------------------------------

def test_none_parameters_raise_naming_them():
    """JAX has no None for these: a TypeError naming the parameter, not fastinit's default."""
    for make, name in [(lambda: fj.normal(None), "stddev"), (lambda: fj.uniform(None), "scale"),
                       (lambda: fj.truncated_normal(None), "stddev"),
                       (lambda: fj.variance_scaling(None, None, "normal"), "scale"),
                       (lambda: fj.variance_scaling(1.0, None, "normal"), "mode"),
                       (lambda: fj.variance_scaling(1.0, "fan_in", "normal", in_axis=None), "in_axis"),
                       (lambda: fj.he_normal(out_axis=None), "out_axis"),
                       (lambda: fj.orthogonal(None), "scale"), (lambda: fj.delta_orthogonal(None), "scale"),
                       (lambda: fj.orthogonal(column_axis=None), "column_axis"),
                       (lambda: fj.delta_orthogonal(column_axis=None), "column_axis")]:
        with pytest.raises(TypeError, match=f"^{name}: .*None"):
            make()
    with pytest.raises(ValueError, match="invalid distribution"):
        fj.variance_scaling(1.0, "fan_in", "untruncated_normal")


def test_orthogonal_checked_under_jit():
    """Under jit orthogonal and delta_orthogonal check dtype, column_axis and scale when traced."""
    key = jax.random.key(0)

    def traced(init, shape, dtype=None):
        return jax.jit(lambda k: init(k, shape, dtype))(key)
    for init, shape, dtype, exc, match in [
            (fj.orthogonal(), (3, 3), jnp.int32, TypeError, "^dtype: int32"),
            (fj.orthogonal(), (3, 3), jnp.bool_, TypeError, "^dtype: bool"),
            (fj.delta_orthogonal(), (3, 3, 3), jnp.int8, TypeError, "^dtype: int8"),
            (fj.orthogonal(column_axis=5), (3, 3), None, ValueError, "^column_axis"),
            (fj.orthogonal(1e6), (3, 3), jnp.float16, ValueError, "^scale"),
            (fj.delta_orthogonal(1e6), (3, 3, 3), jnp.float16, ValueError, "^scale")]:
        with pytest.raises(exc, match=match):
            traced(init, shape, dtype)
    assert np.array_equal(traced(fj.orthogonal(2.0), (3, 4)), fj.orthogonal(2.0)(key, (3, 4)))


def test_errors_name_jax_parameters_and_shape_first():
    key = jax.random.key(0)
    with pytest.raises(ValueError, match=r"^shape: dimensions must be >= 0"):
        fj.normal()(key, (-2, -3))
    with pytest.raises(ValueError, match="^scale: "):
        fj.uniform(1e6)(key, (3,), jnp.float16)
    with pytest.raises(ValueError, match="^stddev: "):
        fj.normal(1e6)(key, (3,), jnp.float16)
    with pytest.raises(ValueError, match="^lower, stddev: "):
        fj.truncated_normal(1e5)(key, (3,), jnp.float16)
    with pytest.raises(ValueError, match="^lower, stddev: "):
        jax.jit(lambda k: fj.truncated_normal(1e5)(k, (3,), jnp.float16))(key)


def test_jax_edge_cases():
    """A raw key has JAX's shape (2,); truncated_normal(0.0) gives zeros, as JAX; a one-element
    array parameter is taken as its value."""
    key = jax.random.key(3)
    with pytest.raises(ValueError, match=r"^key: .*shape \(2,\)"):
        fj.normal()(np.zeros(5, np.uint32), (3,))
    assert fj.normal()(jax.random.PRNGKey(3), (3,)).shape == (3,)
    z = fj.truncated_normal(0.0)(key, (4, 2))
    assert z.dtype == jnp.float32 and not np.asarray(z).any()
    with pytest.raises(TypeError, match="^dtype"):
        fj.truncated_normal(0.0)(key, (2,), jnp.int32)
    assert np.array_equal(fj.normal(jnp.array([2.0]))(key, (3,)), fj.normal(2.0)(key, (3,)))
