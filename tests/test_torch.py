"""torch tensors: ``out=`` in the core API (in place, version counter, Parameters, non-contiguous
tensors, integer dtypes) and ``fastinit.torch``, the drop-in for ``torch.nn.init``: signatures,
values against the core's, exact values and distributions against torch's own, torch's errors and
warnings, ``generator=`` and ``torch.manual_seed``, deprecated names, threads and DataLoader
workers.

The bfloat16 cases (ids with "bfloat16") run and fail, not skip, where bfloat16 is not supported.
"""
import inspect
import math
import threading
import warnings

import numpy as np
import pytest

torch = pytest.importorskip("torch")
scipy_stats = pytest.importorskip("scipy.stats")

import fastinit  # noqa: E402
import fastinit.torch as ft  # noqa: E402
from fastinit import _torch_out  # noqa: E402

FLOATS = [torch.float16, torch.bfloat16, torch.float32, torch.float64]
COMPLEX = [torch.complex64, torch.complex128]
INTS = [torch.int8, torch.int16, torch.int32, torch.int64, torch.uint8, torch.uint16, torch.uint32,
        torch.uint64, torch.bool]
ids = str  # "torch.bfloat16" in the test ids


def host(t):
    """A tensor's values as a numpy array (bfloat16 as float32, exactly)."""
    t = t.detach()
    return (t.float() if t.dtype == torch.bfloat16 else t).numpy()


def np_dtype(dt):
    return {torch.bfloat16: "bfloat16"}.get(dt, str(dt).replace("torch.", ""))


# --- import -------------------------------------------------------------------------------------

def test_import_fastinit_does_not_import_torch(python):
    out = python("""
        import sys
        import fastinit
        fastinit.normal(3, 3, seed=0); fastinit.eye(3, 3, dtype="int8")
        assert "torch" not in sys.modules, "import fastinit loaded torch"
        import fastinit.torch
        assert "torch" in sys.modules and fastinit.torch.kaiming_uniform_
        print("ok")
    """)
    assert out.strip() == "ok"


def test_every_public_name_of_torch_nn_init():
    assert set(ft.__all__) == set(torch.nn.init.__all__)
    for name in torch.nn.init.__all__:
        assert callable(getattr(ft, name)), name


@pytest.mark.parametrize("name", [n for n in torch.nn.init.__all__ if n.endswith("_")] + ["calculate_gain"])
def test_signatures_are_torchs(name):
    """Parameter names, kinds and defaults as torch's; ``seed`` is fastinit's keyword-only extra."""
    ours = inspect.signature(getattr(ft, name)).parameters
    theirs = inspect.signature(getattr(torch.nn.init, name)).parameters
    extra = [p for p in ours if p not in theirs]
    assert extra in ([], ["seed"])
    if extra:
        assert ours["seed"].kind is inspect.Parameter.KEYWORD_ONLY and ours["seed"].default is None
    assert [(p.name, p.kind, p.default) for p in ours.values() if p.name != "seed"] == \
           [(p.name, p.kind, p.default) for p in theirs.values()]


# --- out= in the core API -----------------------------------------------------------------------

CORE = {
    "uniform": lambda *s, **k: fastinit.uniform(*s, low=-1.0, high=2.0, **k),
    "normal": lambda *s, **k: fastinit.normal(*s, mean=0.5, std=2.0, **k),
    "truncated_normal": lambda *s, **k: fastinit.truncated_normal(*s, std=1.5, lo=-1.0, hi=3.0, **k),
    "sparse": lambda *s, **k: fastinit.sparse(*s, sparsity=0.3, **k),
    "constant": lambda *s, **k: fastinit.constant(*s, value=0.75, **k),
    "kaiming_uniform": lambda *s, **k: fastinit.kaiming_uniform(*s, a=5 ** 0.5, **k),
    "kaiming_normal": lambda *s, **k: fastinit.kaiming_normal(*s, **k),
    "glorot_normal": lambda *s, **k: fastinit.glorot_normal(*s, layout="keras", **k),
    "orthogonal": lambda *s, **k: fastinit.orthogonal(*s, **k),
    "eye": lambda *s, **k: fastinit.eye(*s, **k),
    "identity": lambda *s, **k: fastinit.identity(*s, **k),
    "randn32": lambda *s, **k: fastinit.randn32(*s, **k),
}


@pytest.mark.parametrize("name", CORE)
@pytest.mark.parametrize("dtype", FLOATS, ids=ids)
def test_core_fills_torch_tensors_in_place(name, dtype):
    f = CORE[name]
    if name == "randn32" and dtype != torch.float32:
        pytest.skip("randn32 is float32 only")
    t = torch.full((24, 40), 7.0, dtype=dtype)
    ptr, version = t.data_ptr(), t._version
    assert f(out=t, seed=3) is t
    assert t.data_ptr() == ptr and t._version == version + 1
    expect = f(out=np.empty((24, 40), np_dtype(dtype)), seed=3)
    assert np.array_equal(host(t), np.asarray(expect, np.float32 if dtype == torch.bfloat16 else None))


@pytest.mark.parametrize("dtype", COMPLEX, ids=ids)
def test_core_fills_complex_tensors(dtype):
    for f in (CORE["uniform"], CORE["normal"], CORE["orthogonal"],
              lambda **k: fastinit.variance_scaling(layout="jax", distribution="uniform", **k)):
        t = torch.empty(8, 12, dtype=dtype)
        f(out=t, seed=1)
        np.testing.assert_array_equal(t.numpy(), f(out=np.empty((8, 12), np_dtype(dtype)), seed=1))


def test_parameters_with_requires_grad():
    layer = torch.nn.Linear(64, 32)
    w = layer.weight
    assert w.requires_grad
    version = w._version
    assert fastinit.kaiming_uniform(out=w, a=5 ** 0.5, seed=0) is w
    assert w.requires_grad and w.grad_fn is None and w._version == version + 1
    assert np.array_equal(host(w), fastinit.kaiming_uniform(32, 64, a=5 ** 0.5, seed=0))
    fastinit.zeros(out=layer.bias)
    assert not layer.bias.detach().any()
    layer(torch.ones(2, 64)).sum().backward()  # autograd works after the fill
    assert w.grad.shape == w.shape


def test_face_on_module_parameters():
    conv = torch.nn.Conv2d(4, 8, 3)
    w, b = conv.weight, conv.bias
    version = w._version
    assert ft.kaiming_uniform_(w, a=5 ** 0.5, seed=1) is w and ft.zeros_(b) is b
    assert w.requires_grad and w.grad_fn is None and w._version == version + 1
    assert torch.equal(w.detach(), torch.from_numpy(fastinit.kaiming_uniform(8, 4, 3, 3, a=5 ** 0.5, seed=1)))
    with torch.no_grad():
        ft.orthogonal_(w)
    ft.normal_(w, std=0.02)  # outside no_grad too
    conv(torch.ones(1, 4, 5, 5)).sum().backward()
    assert w.grad is not None and not b.detach().any()


def test_version_bump_is_seen_by_autograd():
    """A tensor saved for backward and then filled in place: backward refuses, as after
    torch's own in-place ops."""
    for fill in (lambda w: fastinit.normal(out=w, seed=0), lambda w: ft.kaiming_uniform_(w),
                 lambda w: ft.zeros_(w), lambda w: fastinit.normal(out=w.t(), seed=0)):
        w = torch.nn.Parameter(torch.ones(3, 3))
        x = torch.ones(3, 3, requires_grad=True)
        z = (x @ w).sum()  # saves w for backward
        fill(w)
        with pytest.raises(RuntimeError, match="modified by an inplace operation"):
            z.backward()


NONCONTIG = {
    "transposed": lambda shape, dt: torch.empty(shape[::-1], dtype=dt).permute(*range(len(shape) - 1, -1, -1)),
    "stepped": lambda shape, dt: torch.empty((shape[0], 2 * shape[1]) + shape[2:], dtype=dt)[:, ::2],
    "offset_slice": lambda shape, dt: torch.empty((shape[0] + 2, shape[1] + 3) + shape[2:], dtype=dt)[1:-1, 2:-1],
}


@pytest.mark.parametrize("limit", [16 << 20, 24, 4])  # one chunk; chunks of a few rows; of parts of rows
@pytest.mark.parametrize("layout", NONCONTIG)
@pytest.mark.parametrize("name", CORE)
def test_non_contiguous_tensors_get_the_contiguous_values(name, layout, limit, monkeypatch):
    monkeypatch.setattr(_torch_out, "CHUNK_BYTES", limit)
    f = CORE[name]
    shape = (7, 9)
    t = NONCONTIG[layout](shape, torch.float32)
    assert not t.is_contiguous()
    ptr, version = t.data_ptr(), t._version
    assert f(out=t, seed=4) is t
    assert t.data_ptr() == ptr and t._version == version + 1
    expect = f(out=torch.empty(shape), seed=4)
    if name == "orthogonal":  # the scratch matrix's QR runs on another layout: equal to rounding
        np.testing.assert_allclose(t.numpy(), expect.numpy(), atol=1e-6)
    else:
        assert np.array_equal(t.numpy(), expect.numpy())


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.complex64, torch.int32, torch.bool], ids=ids)
def test_non_contiguous_dtypes_and_ranks(dtype, monkeypatch):
    monkeypatch.setattr(_torch_out, "CHUNK_BYTES", 40)
    shape = (4, 3, 5, 2)
    t = torch.zeros((2, 5, 3, 4), dtype=dtype).permute(3, 2, 1, 0)
    if dtype in (torch.int32, torch.bool):
        f = lambda *s, **k: fastinit.identity(*s, gain=1, **k)  # noqa: E731
    else:
        f = CORE["normal"]
    f(out=t, seed=2)
    assert torch.equal(t, f(out=torch.zeros(shape, dtype=dtype), seed=2))
    # rows= with a non-contiguous out
    t = torch.empty(2, 5, 3, 5, dtype=dtype).permute(3, 2, 1, 0)[1:]
    f(8, 3, 5, 2, rows=slice(2, 5), out=t[:3], seed=6)
    assert torch.equal(t[:3], f(8, 3, 5, 2, rows=slice(2, 5), seed=6, out=torch.empty(3, 3, 5, 2, dtype=dtype)))


def test_non_contiguous_no_full_size_temporary(monkeypatch):
    """Chunks are at most CHUNK_BYTES: the scratch buffer never reaches the tensor's size."""
    sizes = []
    real_empty = np.empty

    def spy(shape, *a, **k):
        arr = real_empty(shape, *a, **k)
        sizes.append(arr.nbytes)
        return arr

    monkeypatch.setattr(_torch_out, "CHUNK_BYTES", 4096)
    monkeypatch.setattr(_torch_out.np, "empty", spy)
    t = torch.empty(512, 256).t()
    fastinit.normal(out=t, seed=0)
    monkeypatch.setattr(_torch_out.np, "empty", real_empty)
    assert sizes and max(sizes) <= 4096
    assert np.array_equal(t.numpy(), fastinit.normal(256, 512, seed=0))


def test_interleaved_as_strided_tensor_is_filled_and_overlap_found_exactly():
    """Element strides (3, 2) over a 3 x 3 view interleave its rows (offsets 0 2 4 | 3 5 7 | 6 8
    10): no element shares memory, though no stride clears the span of the smaller one; the
    untouched offsets (1, 9) keep their values. Strides (2, 1) make elements coincide."""
    base = torch.full((11,), 9.0)
    view = base.as_strided((3, 3), (3, 2))
    fastinit.uniform(out=view, seed=4)
    assert np.array_equal(view.numpy(), fastinit.uniform(3, 3, seed=4))
    assert base[1] == 9.0 and base[9] == 9.0
    with pytest.raises(ValueError, match="share memory"):
        fastinit.uniform(out=base.as_strided((3, 3), (2, 1)), seed=4)


def test_bad_torch_out_raises_naming_out_and_is_untouched():
    base = torch.full((3,), 5.0)
    e = base.expand(4, 3)
    with pytest.raises(ValueError, match="out: elements of this non-contiguous tensor .* share memory"):
        fastinit.normal(out=e, seed=0)
    assert torch.equal(base, torch.full((3,), 5.0))
    with pytest.raises(ValueError, match="out: a meta tensor has no memory"):
        fastinit.normal(out=torch.empty(3, 4, device="meta"))
    with pytest.raises(ValueError, match="out: a meta tensor"):
        fastinit.kaiming_uniform(out=torch.empty(3, 4, device="meta"))
    with pytest.raises(TypeError, match="out: its dtype int32 is not supported"):
        fastinit.normal(out=torch.zeros(3, dtype=torch.int32))
    with pytest.raises(TypeError, match="out: .*conjugate"):
        fastinit.normal(out=torch.zeros(3, dtype=torch.complex64).conj())
    with pytest.raises(TypeError, match="out: no numpy view"):
        fastinit.zeros(out=torch.zeros(3, dtype=torch.float8_e4m3fn))
    with pytest.raises(ValueError, match="out: shape"):
        fastinit.normal(3, 4, out=torch.zeros(4, 3))
    with pytest.raises(TypeError, match="out: dtype float64 does not match dtype float32"):
        fastinit.normal(3, 4, dtype="float32", out=torch.zeros(3, 4, dtype=torch.float64))
    with pytest.raises(TypeError, match="out: dtype float64 does not match"):
        fastinit.normal(4, 3, dtype="float32", out=torch.zeros(3, 4, dtype=torch.float64).t())
    with pytest.raises(ValueError, match="out: a host"):
        fastinit.normal(out=torch.zeros(3), device="cuda")
    t = torch.full((3, 4), 2.0)
    with pytest.raises(ValueError, match="std"):
        fastinit.normal(out=t, std=-1.0)
    assert torch.equal(t, torch.full((3, 4), 2.0)) and t._version == 0  # nothing written


# --- integer and bool dtypes (constant patterns) ---------------------------------------------------

@pytest.mark.parametrize("dtype", INTS + FLOATS + COMPLEX, ids=ids)
def test_constant_patterns_equal_torchs(dtype):
    """zeros_, ones_, constant_, eye_ and dirac_ (groups included), on every dtype, numpy
    arrays of the dtype and torch tensors, equal torch.nn.init's."""
    cases = [
        ("zeros_", (5, 6), ()), ("ones_", (5, 6), ()), ("constant_", (5, 6), (3,)),
        ("constant_", (4,), (2.7,)), ("constant_", (4,), (True,)), ("eye_", (4, 6), ()),
        ("eye_", (6, 3), ()), ("dirac_", (4, 2, 3), ()), ("dirac_", (6, 4, 3, 3), (2,)),
        ("dirac_", (6, 2, 3, 1, 3), (3,)), ("dirac_", (3, 2, 3), (-1,)),
    ]
    for name, shape, args in cases:
        if dtype == torch.uint8 and args == (-1,):
            continue
        try:
            ref = getattr(torch.nn.init, name)(torch.full(shape, 9, dtype=dtype), *args)
        except NotImplementedError:  # torch's eye_ and dirac_ lack uint16/32/64: int64's values
            ref = getattr(torch.nn.init, name)(torch.full(shape, 9, dtype=torch.int64), *args).to(dtype)
        t = torch.full(shape, 9, dtype=dtype)
        version = t._version
        assert getattr(ft, name)(t, *args) is t and t._version == version + 1
        assert torch.equal(t, ref), (name, shape, args)
        t = torch.full(shape[::-1], 9, dtype=dtype).permute(*range(len(shape) - 1, -1, -1))
        assert torch.equal(getattr(ft, name)(t, *args), ref), (name, "non-contiguous")


@pytest.mark.parametrize("dtype", ["int8", "uint8", "int32", "uint64", "bool"])
def test_core_integer_dtypes_on_numpy_arrays(dtype):
    assert fastinit.constant(3, value=2.7, dtype=dtype).tolist() == np.full(3, 2.7).astype(dtype).tolist()
    assert fastinit.ones(2, 2, dtype=dtype).dtype == dtype
    assert np.array_equal(fastinit.eye(3, 4, dtype=dtype), np.eye(3, 4, dtype=dtype))
    out = np.full((4, 2, 3), 9, dtype)
    assert fastinit.dirac(out=out, groups=2) is out
    assert np.array_equal(out, torch.nn.init.dirac_(torch.empty(4, 2, 3, dtype=getattr(torch, dtype)), 2).numpy())
    assert np.array_equal(fastinit.identity(3, 3, dtype=dtype), np.eye(3, dtype=dtype))
    assert fastinit.constant(value=1, dtype=dtype)(2).dtype == dtype  # an Initializer binding dtype
    if dtype != "bool":
        info = np.iinfo(dtype)
        assert fastinit.constant(1, value=info.max, dtype=dtype)[0] == info.max
        with pytest.raises(ValueError, match=rf"value: .* outside the range of {dtype}"):
            fastinit.constant(1, value=info.max + 1, dtype=dtype)
        with pytest.raises(ValueError, match="gain: .* outside the range"):
            fastinit.eye(2, 2, gain=info.min - 1, dtype=dtype)
    with pytest.raises(ValueError, match="value: must be a finite number"):
        fastinit.constant(1, value=math.nan, dtype=dtype)
    with pytest.raises(TypeError, match="value: expected a real number"):
        fastinit.constant(1, value=1j, dtype=dtype)
    with pytest.raises(TypeError, match="dtype: int32 is not supported"):
        fastinit.normal(3, dtype="int32")


def test_integer_dtypes_on_the_gpu_simulator(python):
    """The GPU's constant fill and scatter write integer and bool outputs as the host does."""
    out = python("""
        import numpy as np
        import fastinit
        for dt in ["int8", "uint8", "int32", "uint64", "bool"]:
            for f in (lambda **k: fastinit.eye(3, 4, **k), lambda **k: fastinit.constant(5, value=2.7, **k),
                      lambda **k: fastinit.dirac(4, 2, 3, groups=2, **k), lambda **k: fastinit.identity(2, 3, 3, **k)):
                assert np.array_equal(f(dtype=dt, device="cuda").copy_to_host(), f(dtype=dt)), dt
        print("ok")
    """, env={"NUMBA_ENABLE_CUDASIM": "1"})
    assert out.strip() == "ok"


@pytest.mark.parametrize("dtype", [torch.uint8, torch.int8, torch.int64, torch.uint64, torch.bool,
                                   torch.float16, torch.bfloat16, torch.float32, torch.complex64], ids=ids)
def test_constant_converts_values_as_torch(dtype):
    for n in (3, 1):  # torch checks the range except on one-element tensors
        _constant_as_torch(dtype, n)


def _constant_as_torch(dtype, n):
    for val in (-129, -128, -1, -0.5, 2.7, -2.7, 255, 256, 1e10, 2**63, 2**64 - 1, True, 1 + 0j,
                1 + 1j, 65504, 65520, 3.5e38, math.nan, math.inf):
        try:
            ref = torch.nn.init.constant_(torch.empty(n, dtype=dtype), val)
        except Exception as e:
            with pytest.raises(type(e)) as info:
                ft.constant_(torch.empty(n, dtype=dtype), val)
            assert str(info.value) == str(e), val
            continue
        ours = ft.constant_(torch.empty(n, dtype=dtype), val)
        assert torch.equal(ours, ref) or (ref.isnan().all() and ours.isnan().all()), val


# --- fastinit.torch: values equal the core's ---------------------------------------------------------

FACE = [  # (fastinit.torch function, its arguments, the core call with the same parameters)
    ("uniform_", (-0.5, 2.0), lambda t, s: fastinit.uniform(out=t, low=-0.5, high=2.0, seed=s)),
    ("normal_", (0.3, 0.02), lambda t, s: fastinit.normal(out=t, mean=0.3, std=0.02, seed=s)),
    ("trunc_normal_", (0.0, 0.02, -0.04, 0.04),
     lambda t, s: fastinit.truncated_normal(out=t, std=0.02, lo=-0.04, hi=0.04, seed=s)),
    ("xavier_uniform_", (1.5,), lambda t, s: fastinit.glorot_uniform(out=t, gain=1.5, seed=s)),
    ("xavier_normal_", (), lambda t, s: fastinit.glorot_normal(out=t, seed=s)),
    ("kaiming_uniform_", (5 ** 0.5,), lambda t, s: fastinit.kaiming_uniform(out=t, a=5 ** 0.5, seed=s)),
    ("kaiming_normal_", (0, "fan_out", "relu"),
     lambda t, s: fastinit.kaiming_normal(out=t, mode="fan_out", nonlinearity="relu", seed=s)),
    ("kaiming_uniform_", (0.2, "FAN_OUT", "leaky_relu"),
     lambda t, s: fastinit.kaiming_uniform(out=t, a=0.2, mode="fan_out", seed=s)),
    ("orthogonal_", (2.0,), lambda t, s: fastinit.orthogonal(out=t, gain=2.0, seed=s)),
    ("sparse_", (0.25, 0.5), lambda t, s: fastinit.sparse(out=t, sparsity=0.25, std=0.5, seed=s)),
]
FACE_IDS = [f"{name}{args}" for name, args, _ in FACE]


@pytest.mark.parametrize("name, args, core", FACE, ids=FACE_IDS)
@pytest.mark.parametrize("dtype", FLOATS, ids=ids)
def test_face_values_equal_the_cores(name, args, core, dtype):
    shape = (12, 18) if name == "sparse_" else (12, 6, 3)
    for s in (5, fastinit.Key(5).child("w")):
        t = torch.empty(shape, dtype=dtype)
        ptr, version = t.data_ptr(), t._version
        assert getattr(ft, name)(t, *args, seed=s) is t
        assert t.data_ptr() == ptr and t._version == version + 1
        assert torch.equal(t, core(torch.empty(shape, dtype=dtype), s))


@pytest.mark.parametrize("name, args, core", FACE, ids=FACE_IDS)
def test_generator_and_manual_seed(name, args, core):
    """Without seed=, the seed is one draw of torch.randint(-2**63, 2**63 - 1, ()) from the
    generator, or from torch's default one: the values are the core's for that seed, the
    generator advances by that one draw, and torch.manual_seed makes the calls repeatable."""
    f = getattr(ft, name)
    w = torch.empty(64, 32)
    g, twin = torch.Generator().manual_seed(11), torch.Generator().manual_seed(11)
    a = f(w, *args, generator=g).clone()
    s = int(torch.randint(-2**63, 2**63 - 1, (), generator=twin, dtype=torch.int64))
    assert torch.equal(a, core(torch.empty(64, 32), s))
    assert torch.equal(g.get_state(), twin.get_state())  # advanced by exactly that draw
    assert not torch.equal(f(w, *args, generator=g), a)
    assert torch.equal(f(w, *args, generator=torch.Generator().manual_seed(11)), a)
    torch.manual_seed(7)
    c, d = f(w, *args).clone(), f(w, *args).clone()
    torch.manual_seed(7)
    s = int(torch.randint(-2**63, 2**63 - 1, (), dtype=torch.int64))
    assert torch.equal(c, core(torch.empty(64, 32), s)) and not torch.equal(c, d)
    torch.manual_seed(7)
    assert torch.equal(f(w, *args), c) and torch.equal(f(w, *args), d)


def test_seed_and_generator_together_and_deterministic_calls_draw_nothing():
    w = torch.empty(4, 4)
    with pytest.raises(TypeError, match="generator, seed: give one or neither"):
        ft.normal_(w, generator=torch.Generator(), seed=1)
    with pytest.raises(TypeError, match="seed: expected an int"):
        ft.normal_(w, seed="x")
    state = torch.get_rng_state()
    ft.zeros_(w), ft.ones_(w), ft.constant_(w, 2), ft.eye_(w), ft.dirac_(torch.empty(2, 2, 3))
    ft.normal_(w, seed=3)
    with pytest.warns(UserWarning, match="zero-element"):
        ft.kaiming_uniform_(torch.empty(0, 3))  # zero elements: nothing drawn
    ft.orthogonal_(torch.empty(3, 4, device="meta"))
    assert torch.equal(state, torch.get_rng_state())
    ft.normal_(w)
    assert not torch.equal(state, torch.get_rng_state())


# --- fastinit.torch: exact values and distributions against torch's own ----------------------------

N = 100_000
P_FLOOR = 1e-6

DISTRIBUTIONS = {
    "uniform_": ((1000, 100), (-0.3, 1.7)),
    "normal_": ((1000, 100), (0.5, 2.0)),
    "trunc_normal_": ((1000, 100), (0.0, 1.0, -2.0, 2.0)),
    "trunc_normal_narrow": ((1000, 100), (0.0, 0.02, -0.04, 0.01)),
    "trunc_normal_tail": ((1000, 100), (0.0, 1.0, 1.5, 3.0)),
    "xavier_uniform_": ((500, 200), (1.3,)),
    "xavier_normal_": ((200, 50, 2, 5), ()),
    "kaiming_uniform_": ((400, 50, 5), (5 ** 0.5,)),
    "kaiming_normal_": ((250, 400), (0, "fan_out", "relu")),
    "orthogonal_": ((250, 400), (1.5,)),
}


@pytest.mark.parametrize("name", DISTRIBUTIONS)
def test_distributions_match_torchs(name):
    shape, args = DISTRIBUTIONS[name]
    fn = name if name.endswith("_") else "trunc_normal_"
    g1, g2 = torch.Generator().manual_seed(1), torch.Generator().manual_seed(2)
    a = getattr(ft, fn)(torch.empty(shape), *args, generator=g1).numpy().ravel()
    b = getattr(torch.nn.init, fn)(torch.empty(shape), *args, generator=g2).numpy().ravel()
    assert a.size == b.size == N
    p = scipy_stats.ks_2samp(a, b).pvalue
    assert p > P_FLOOR, (name, p)


def test_sparse_matches_torchs():
    rows, cols = 400, 250
    a = ft.sparse_(torch.empty(rows, cols), 0.3, std=0.5, generator=torch.Generator().manual_seed(1)).numpy()
    b = torch.nn.init.sparse_(torch.empty(rows, cols), 0.3, std=0.5, generator=torch.Generator().manual_seed(2)).numpy()
    assert ((a == 0).sum(0) == math.ceil(0.3 * rows)).all() and ((b == 0).sum(0) == (a == 0).sum(0)).all()
    assert scipy_stats.ks_2samp(a[a != 0], b[b != 0]).pvalue > P_FLOOR


@pytest.mark.parametrize("dtype", [torch.float16, torch.bfloat16, torch.float64], ids=ids)
def test_distributions_in_other_dtypes(dtype):
    for fn, args in (("uniform_", (-1.0, 1.0)), ("normal_", (0.0, 1.0)), ("trunc_normal_", (0.0, 1.0, -1.0, 2.0))):
        g1, g2 = torch.Generator().manual_seed(1), torch.Generator().manual_seed(2)
        a = host(getattr(ft, fn)(torch.empty(N, dtype=dtype), *args, generator=g1))
        b = host(getattr(torch.nn.init, fn)(torch.empty(N, dtype=dtype), *args, generator=g2))
        assert scipy_stats.ks_2samp(a, b).pvalue > P_FLOOR, fn


def test_orthogonal_is_orthogonal_and_complex_works():
    w = ft.orthogonal_(torch.empty(60, 20, 2), gain=2.0).reshape(60, 40)
    np.testing.assert_allclose((w.T @ w).numpy(), 4 * np.eye(40), atol=1e-4)
    c = ft.orthogonal_(torch.empty(30, 20, dtype=torch.complex128))
    np.testing.assert_allclose((c.conj().T @ c).numpy(), np.eye(20), atol=1e-12)


def test_torchs_special_cases():
    assert torch.equal(ft.uniform_(torch.empty(5), 1.5, 1.5), torch.nn.init.uniform_(torch.empty(5), 1.5, 1.5))
    assert torch.equal(ft.trunc_normal_(torch.empty(5), 0, 1, 0.5, 0.5), torch.full((5,), 0.5))
    assert torch.equal(ft.sparse_(torch.empty(6, 4), 1.0), torch.nn.init.sparse_(torch.empty(6, 4), 1.0))
    assert torch.equal(ft.sparse_(torch.empty(6, 4), 1.5), torch.zeros(6, 4))
    assert torch.equal(ft.xavier_normal_(torch.empty(3, 4), gain=0), torch.zeros(3, 4))
    assert torch.equal(ft.xavier_uniform_(torch.empty(3, 4), gain=0), torch.zeros(3, 4))
    assert torch.equal(ft.kaiming_uniform_(torch.empty(3, 4), a=math.inf), torch.zeros(3, 4))
    assert torch.equal(ft.normal_(torch.empty(3), 2.0, 0.0), torch.full((3,), 2.0))
    assert torch.equal(ft.orthogonal_(torch.empty(3, 4), gain=0), torch.zeros(3, 4))
    assert ft.xavier_uniform_(torch.empty(0, 4)).shape == (0, 4)  # torch: no warning, no error
    m = torch.empty(3, 4, device="meta")
    for f in (ft.uniform_, ft.normal_, ft.trunc_normal_, ft.xavier_uniform_, ft.kaiming_normal_,
              ft.orthogonal_, ft.zeros_, ft.eye_, lambda t: ft.sparse_(t, 0.5), lambda t: ft.constant_(t, 1)):
        assert f(m) is m


def _outcome(f):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            f()
            error = None
        except Exception as e:  # noqa: BLE001
            error = (type(e), str(e))
    return error, [(w.category, str(w.message)) for w in caught]


ERRORS = [  # (function name, tensor, args): torch's outcome (exception type and message, warnings)
    ("uniform_", (3,), (2.0, 1.0)),
    ("uniform_", (3,), (math.nan, 1.0)),
    ("uniform_", (3,), (-3e38, 3e38)),
    ("uniform_", (3,), ("a", 1.0)),
    ("normal_", (3,), (0.0, -1.0)),
    ("normal_", (3,), (0.0, math.nan)),
    ("normal_", (3,), (1 + 1j, 1.0)),
    ("trunc_normal_", (3,), (0.0, 0.0)),
    ("trunc_normal_", (3,), (0.0, 1.0, 2.0, 1.0)),
    ("trunc_normal_", (3,), (10.0, 1.0, -2.0, 2.0)),  # the warning
    ("constant_", (3,), (1 + 1j,)),
    ("constant_", (3,), (1e39,)),
    ("eye_", (2, 3, 4), ()),
    ("eye_", (2,), ()),
    ("dirac_", (2, 3), ()),
    ("dirac_", (3, 2, 3), (2,)),
    ("dirac_", (3, 2, 3), (0,)),
    ("dirac_", (3, 2, 3), (1.5,)),
    ("dirac_", (3, 2, 3), ("x",)),
    ("xavier_uniform_", (3,), ()),
    ("xavier_normal_", (0, 0), ()),
    ("xavier_uniform_", (3, 4), (-1.0,)),
    ("xavier_normal_", (3, 4), (-1.0,)),
    ("kaiming_uniform_", (3,), ()),
    ("kaiming_normal_", (), ()),
    ("kaiming_uniform_", (3, 4), (0, "fan_avg")),
    ("kaiming_uniform_", (3, 4), (0, "fan_in", "foo")),
    ("kaiming_normal_", (3, 4), ("x",)),
    ("kaiming_normal_", (3, 4), (np.float32(0.1),)),
    ("kaiming_uniform_", (0, 4), ()),  # zero-element warning
    ("kaiming_normal_", (4, 0), ()),
    ("kaiming_uniform_", (0,), ()),
    ("orthogonal_", (3,), ()),
    ("sparse_", (2, 3, 4), (0.5,)),
    ("sparse_", (2,), (0.5,)),
    ("sparse_", (4, 3), (math.nan,)),
    ("sparse_", (4, 3), (0.5, -1.0)),
    ("calculate_gain", None, ("foo",)),
    ("calculate_gain", None, ("leaky_relu", True)),
]


@pytest.mark.parametrize("name, shape, args", ERRORS, ids=lambda x: str(x))
def test_errors_and_warnings_are_torchs(name, shape, args):
    def call(module):
        f = getattr(module, name)
        return lambda: f(*args) if shape is None else f(torch.empty(shape), *args)

    theirs, ours = _outcome(call(torch.nn.init)), _outcome(call(ft))
    assert ours == theirs


def test_warnings_point_at_the_caller():
    with pytest.warns(UserWarning, match="Initializing zero-element tensors is a no-op") as rec:
        ft.kaiming_uniform_(torch.empty(0, 3))
    assert rec[0].filename == __file__
    with pytest.warns(UserWarning, match="mean is more than 2 std") as rec:
        ft.trunc_normal_(torch.empty(3), 10.0)
    assert rec[0].filename == __file__


def test_stricter_than_torch_where_torch_fills_nan_or_inf():
    for f, name in ((lambda: ft.normal_(torch.empty(3), math.nan), "mean"),
                    (lambda: ft.normal_(torch.empty(3), 0.0, math.inf), "std"),
                    (lambda: ft.normal_(torch.empty(3, dtype=torch.float16), 0.0, 1e6), "std"),
                    (lambda: ft.sparse_(torch.empty(4, 3), -0.5), "sparsity")):
        with pytest.raises(ValueError, match=name):
            f()


@pytest.mark.parametrize("old", ["uniform", "normal", "constant", "eye", "dirac", "xavier_uniform",
                                 "xavier_normal", "kaiming_uniform", "kaiming_normal", "orthogonal", "sparse"])
def test_deprecated_names_warn_as_torch(old):
    args = {"constant": (0.5,), "sparse": (0.5,)}.get(old, ())
    shape = (3, 4, 3) if old == "dirac" else (3, 4)
    with pytest.warns(FutureWarning) as theirs:
        getattr(torch.nn.init, old)(torch.empty(shape), *args)
    t = torch.empty(shape)
    with pytest.warns(FutureWarning) as ours:
        assert getattr(ft, old)(t, *args) is t
    assert [str(w.message) for w in ours] == [str(w.message) for w in theirs]
    assert str(ours[0].message) == f"`nn.init.{old}` is now deprecated in favor of `nn.init.{old}_`."
    assert ours[0].filename == __file__


def test_other_tensors_go_to_torch():
    class Logged(torch.Tensor):
        calls = []

        @classmethod
        def __torch_function__(cls, func, types, args=(), kwargs=None):
            cls.calls.append(func)
            return super().__torch_function__(func, types, args, kwargs or {})

    t = torch.empty(3, 4).as_subclass(Logged)
    assert ft.uniform_(t) is not None and Logged.calls  # torch's own, through the override
    c = torch.empty(4, 3, dtype=torch.complex64)
    assert ft.sparse_(c, 0.5) is c  # complex sparse_: torch's own
    with pytest.raises(TypeError, match="seed: fastinit does not fill"):
        ft.sparse_(c, 0.5, seed=1)
    with pytest.raises(NotImplementedError):  # as torch: no uniform_ for int tensors
        ft.uniform_(torch.empty(3, dtype=torch.int32))
    with pytest.raises(TypeError, match="tensor: expected a torch.Tensor"):
        ft.normal_(np.zeros(3))


# --- threads and DataLoader workers ------------------------------------------------------------------

def test_threads():
    expect = [ft.kaiming_normal_(torch.empty(300, 200), generator=torch.Generator().manual_seed(i))
              for i in range(8)]
    got = [None] * 8

    def work(i):
        for _ in range(3):
            got[i] = ft.kaiming_normal_(torch.empty(300, 200), generator=torch.Generator().manual_seed(i))

    threads = [threading.Thread(target=work, args=(i,)) for i in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert all(torch.equal(a, b) for a, b in zip(got, expect))


class _Weights(torch.utils.data.Dataset):
    def __len__(self):
        return 4

    def __getitem__(self, i):
        return ft.normal_(torch.empty(1000))  # torch's per-worker default generator


def test_dataloader_workers_are_reproducible():
    def run():
        torch.manual_seed(5)
        loader = torch.utils.data.DataLoader(_Weights(), batch_size=None, num_workers=2)
        return torch.stack(list(loader))

    a, b = run(), run()
    assert torch.equal(a, b)
    assert len({tuple(x[:4].tolist()) for x in a}) == 4  # every item differs


# --- CUDA ----------------------------------------------------------------------------------------

@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA GPU")
def test_cuda_tensors():
    for dtype in (torch.float16, torch.float32, torch.float64):
        w = torch.empty(64, 48, device="cuda", dtype=dtype)
        version = w._version
        assert ft.kaiming_uniform_(w, a=5 ** 0.5, seed=3) is w and w._version == version + 1
        assert torch.equal(w.cpu(), ft.kaiming_uniform_(torch.empty(64, 48, dtype=dtype), a=5 ** 0.5, seed=3))
        t = torch.empty(48, 64, device="cuda", dtype=dtype).t()
        assert torch.equal(ft.normal_(t, seed=1).cpu(), ft.normal_(torch.empty(64, 48, dtype=dtype), seed=1))
        p = torch.nn.Parameter(torch.empty(8, 8, device="cuda", dtype=dtype))
        ft.eye_(p)
        assert torch.equal(p.detach().cpu(), torch.eye(8, dtype=dtype))
        torch.manual_seed(0)
        a = ft.normal_(torch.empty(100, device="cuda"))
        torch.manual_seed(0)
        assert torch.equal(a, ft.normal_(torch.empty(100, device="cuda")))


def test_inference_tensor_outside_inference_mode_is_refused_as_torch_does():
    """torch's in-place ops raise this RuntimeError (after writing: the check is the version
    bump's); fastinit raises it before writing."""
    with torch.inference_mode():
        t = torch.zeros(3)
    with pytest.raises(RuntimeError, match="inference tensor outside InferenceMode"):
        fastinit.ones(out=t)
    assert not t.any()
    with torch.inference_mode():
        assert fastinit.ones(out=t) is t and t.all()


def test_zero_dim_tensor_and_bool_parameters_are_numbers_as_in_torch():
    t = torch.empty(64, 64)
    g = lambda: torch.Generator().manual_seed(3)  # noqa: E731
    assert torch.equal(ft.normal_(t.clone(), 0, torch.tensor(0.5), generator=g()),
                       ft.normal_(t.clone(), 0, 0.5, generator=g()))
    assert torch.equal(ft.uniform_(t.clone(), torch.tensor(-1.0), True, generator=g()),
                       ft.uniform_(t.clone(), -1.0, 1.0, generator=g()))
    assert torch.equal(ft.trunc_normal_(t.clone(), std=torch.tensor(0.02), a=torch.tensor(-0.04), b=0.04,
                                        generator=g()),
                       ft.trunc_normal_(t.clone(), std=0.02, a=-0.04, b=0.04, generator=g()))


def test_expanded_tensors_go_to_torch():
    assert torch.equal(ft.zeros_(torch.ones(1).expand(5)), torch.zeros(5))
    with pytest.raises(RuntimeError, match="more than one element"):  # torch's own error
        ft.uniform_(torch.empty(1).expand(5))


def test_fake_tensors_go_to_torch():
    from torch._subclasses.fake_tensor import FakeTensorMode
    with FakeTensorMode():
        w = torch.empty(3, 4)
        assert ft.normal_(w) is w and ft.kaiming_uniform_(w) is w


@pytest.mark.parametrize("call", [
    lambda t, g: ft.normal_(t, float("nan"), 1.0, generator=g),  # torch fills NaN; fastinit refuses
    lambda t, g: ft.uniform_(t.to(torch.bfloat16), 1.001, 1.002, generator=g),  # no bfloat16 value there
    lambda t, g: ft.normal_(t.half(), 0.0, 1e4, generator=g),  # values past float16's largest
])
def test_a_call_that_raises_leaves_the_generator_where_it_was(call):
    g = torch.Generator().manual_seed(5)
    before = g.get_state()
    with pytest.raises(ValueError):
        call(torch.empty(4, 4), g)
    assert torch.equal(g.get_state(), before)
    ft.normal_(torch.empty(4, 4), generator=g)  # one draw per call that fills
    assert not torch.equal(g.get_state(), before)
