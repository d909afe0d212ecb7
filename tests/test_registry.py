"""String identifiers: fastinit.get, serialize and deserialize, every framework's presets with
that framework's defaults, fastinit's aliases, and the README's name table."""
import json
import math
import os
import re

import numpy as np
import pytest

import fastinit
from fastinit import Initializer, registry
from fastinit.registry import ALIASES, FRAMEWORKS, KERAS, PRESETS

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

PRESET_IDS = [f"{fw}.{name}" for fw in FRAMEWORKS for name in PRESETS[fw]]
FASTINIT_NAMES = list(fastinit.FUNCTIONS) + list(ALIASES)


def same(a, b):
    a, b = np.asarray(a), np.asarray(b)
    return a.shape == b.shape and a.dtype == b.dtype and a.tobytes() == b.tobytes()


def test_frameworks():
    assert FRAMEWORKS == ("torch", "keras", "jax", "lux", "keraflow")
    assert set(PRESETS) == set(FRAMEWORKS)
    registry._check_presets()


# --- get -------------------------------------------------------------------------------------------

@pytest.mark.parametrize("identifier", list(KERAS))
def test_get_keras_identifiers(identifier):
    init = fastinit.get(identifier)
    assert isinstance(init, Initializer)
    assert init == KERAS[identifier]()
    assert init == fastinit.get(f"keras.{identifier}")


@pytest.mark.parametrize("identifier", PRESET_IDS)
def test_get_framework_presets(identifier):
    fw, name = identifier.split(".", 1)
    init = fastinit.get(identifier)
    assert isinstance(init, Initializer)
    assert init == PRESETS[fw][name]()
    assert init.name in fastinit.FUNCTIONS


@pytest.mark.parametrize("name", FASTINIT_NAMES)
def test_get_fastinit_names(name):
    target = ALIASES.get(name, name)
    init = fastinit.get(f"fastinit.{name}")
    assert isinstance(init, Initializer)
    assert init == Initializer(target) and init.params == {}
    if name not in KERAS:  # a plain fastinit name that Keras does not claim
        assert fastinit.get(name) == init


def test_keras_names_win_over_fastinit_names():
    # "he_normal" is Keras' HeNormal (truncated, Keras fans), "fastinit.he_normal" fastinit's
    assert fastinit.get("he_normal") == fastinit.kaiming_normal(layout="keras")
    assert fastinit.get("fastinit.he_normal") == fastinit.kaiming_normal()
    assert fastinit.get("uniform") == fastinit.uniform(low=-0.05, high=0.05)
    assert fastinit.get("fastinit.uniform") == fastinit.uniform()
    assert fastinit.get("identity") == fastinit.eye(gain=1.0)
    assert fastinit.get("fastinit.identity") == fastinit.identity()


def test_every_listed_identifier_resolves():
    ids = registry.identifiers()
    assert len(ids) == len(set(ids))
    for identifier in ids:
        assert isinstance(fastinit.get(identifier), Initializer), identifier


def test_get_passes_other_things_through():
    assert fastinit.get(None) is None
    init = fastinit.kaiming_normal(gain=1.0)
    assert fastinit.get(init) is init

    def my_init(*shape, seed=None):
        return np.zeros(shape)

    assert fastinit.get(my_init) is my_init
    assert fastinit.get(fastinit.normal) is fastinit.normal
    config = fastinit.serialize(init)
    assert fastinit.get(config) == init


@pytest.mark.parametrize("bad", [3, 1.5, ["he_normal"], ("he_normal",), b"he_normal", True])
def test_get_other_types_raise(bad):
    with pytest.raises(TypeError, match="identifier"):
        fastinit.get(bad)


@pytest.mark.parametrize("identifier, suggestion", [
    ("he_normall", "'he_normal'"),
    ("keras.GlorotNormall", "'keras.GlorotNormal'"),
    ("torch.kaiming_normal", "'torch.kaiming_normal_'"),
    ("fastinit.dirak", "'fastinit.dirac'"),
    ("lux.randn23", "'lux.randn32'"),
    ("keraflow.orthogonall", "'keraflow.orthogonal'"),
    ("xavier_unifrom", "'xavier_uniform'"),
])
def test_unknown_names_list_close_matches(identifier, suggestion):
    with pytest.raises(ValueError) as info:
        fastinit.get(identifier)
    msg = str(info.value)
    assert "identifier" in msg and repr(identifier) in msg, msg
    assert suggestion in msg, msg


@pytest.mark.parametrize("identifier", ["", "zzzzzzzzzz", "keras.", "nosuchframework.he_normal",
                                        "fastinit.", "torch.HeNormal"])
def test_unknown_names_raise(identifier):
    with pytest.raises(ValueError, match="identifier"):
        fastinit.get(identifier)


# --- aliases ---------------------------------------------------------------------------------------

def test_alias_table():
    assert ALIASES == {"xavier_uniform": "glorot_uniform", "xavier_normal": "glorot_normal",
                       "he_uniform": "kaiming_uniform", "he_normal": "kaiming_normal"}


@pytest.mark.parametrize("alias, target", list(ALIASES.items()))
def test_aliases_are_the_same_function(alias, target):
    assert getattr(fastinit, alias) is getattr(fastinit, target)
    assert alias in fastinit.__all__ and target in fastinit.__all__
    assert alias not in fastinit.FUNCTIONS  # registered once, under the canonical name
    assert same(getattr(fastinit, alias)(64, 32, seed=5), getattr(fastinit, target)(64, 32, seed=5))
    assert getattr(fastinit, alias)() == getattr(fastinit, target)()
    assert fastinit.get(f"fastinit.{alias}") == fastinit.get(f"fastinit.{target}")
    assert fastinit.serialize(f"fastinit.{alias}")["class_name"] == f"fastinit.{target}"


def test_keras_he_normal_spellings_agree():
    a, b, c = fastinit.get("keras.he_normal"), fastinit.get("he_normal"), fastinit.get("HeNormal")
    assert a == b == c
    assert same(a(3, 3, 16, 32, seed=1), c(3, 3, 16, 32, seed=1))
    assert fastinit.get("keras.HeNormal") == a
    assert fastinit.get("jax.he_normal") == fastinit.get("jax.kaiming_normal")
    assert fastinit.get("jax.xavier_uniform") == fastinit.get("jax.glorot_uniform")


# --- serialize / deserialize -----------------------------------------------------------------------

@pytest.mark.parametrize("identifier", PRESET_IDS)
def test_serialize_round_trip(identifier):
    init = fastinit.get(identifier)
    config = fastinit.serialize(init)
    assert set(config) == {"class_name", "config"}
    assert config["class_name"] == f"fastinit.{init.name}"
    assert fastinit.deserialize(config) == init
    assert fastinit.serialize(identifier) == config
    # through JSON too
    back = fastinit.deserialize(json.loads(json.dumps(config)))
    assert back == init
    assert fastinit.deserialize(identifier) == init


@pytest.mark.parametrize("identifier", PRESET_IDS)
def test_serialize_round_trip_gives_the_same_array(identifier):
    init = fastinit.get(identifier)
    back = fastinit.deserialize(json.loads(json.dumps(fastinit.serialize(init))))
    shape = {"stft": (16, 1, 9), "dirac": (4, 2, 3), "eye": (6, 6), "sparse": (20, 10),
             "delta_orthogonal": (3, 3, 4, 6)}.get(
        init.name, (20, 10))
    kw = {"sparsity": 0.5} if init.name == "sparse" and "sparsity" not in init.params else {}
    if init.name == "constant" and "value" not in init.params:
        kw = {"value": 0.25}
    assert same(back(*shape, seed=3, **kw), init(*shape, seed=3, **kw))


BOUND = [
    (fastinit.identity(shift=(1, 0), gain=2.0), (5, 5)),
    (fastinit.identity(shift=(2, 1)), (3, 3, 4, 6)),
    (fastinit.stft(window=np.linspace(0.5, 1.0, 16)), (16, 1, 9)),
    (fastinit.variance_scaling(in_axis=(0, 1), out_axis=2, layout="jax", seed=3), (4, 5, 6)),
    (fastinit.kaiming_normal(input_axes=(0,), output_axes=(1, 2), seed=3), (4, 5, 6)),
    (fastinit.kaiming_normal(seed=fastinit.Key(3).child("w"), dtype=np.float64), (8, 4)),
]


@pytest.mark.parametrize("init, shape", BOUND, ids=[repr(i) for i, _ in BOUND])
def test_serialize_round_trip_of_bound_parameters(init, shape):
    back = fastinit.deserialize(json.loads(json.dumps(fastinit.serialize(init))))
    assert back == init
    assert same(back(*shape), init(*shape))


def test_serialize_rejects_other_things():
    with pytest.raises(TypeError, match="initializer"):
        fastinit.serialize(lambda *s: None)
    with pytest.raises(ValueError):
        fastinit.serialize("no_such_initializer")


@pytest.mark.parametrize("bad", [{"config": {}}, [], 3, {"class_name": 3, "config": {}}])
def test_deserialize_rejects_bad_configs(bad):
    with pytest.raises(ValueError, match="config"):
        fastinit.deserialize(bad)


def test_deserialize_a_keras_variance_scaling_dict():
    config = {"module": "keras.initializers", "class_name": "VarianceScaling",
              "config": {"scale": 2.0, "mode": "fan_out", "distribution": "uniform", "seed": 3,
                         "input_axes": None, "output_axes": None},
              "registered_name": None}
    init = fastinit.deserialize(config)
    assert isinstance(init, Initializer)
    assert init == fastinit.variance_scaling(scale=2.0, mode="fan_out", distribution="uniform",
                                             layout="keras", seed=3)
    for shape in [(64, 32), (3, 3, 16, 32)]:
        want = fastinit.variance_scaling(*shape, scale=2.0, mode="fan_out",
                                         distribution="uniform", layout="keras", seed=3)
        assert same(init(*shape), want)
    assert fastinit.get(config) == init


# keras.initializers.serialize(...) of Keras 3.15 (numpy backend), verbatim, and what each means
KERAS_DICTS = [
    ({"module": "keras.initializers", "class_name": "HeNormal",
      "config": {"seed": None, "input_axes": None, "output_axes": None}, "registered_name": None},
     fastinit.kaiming_normal(layout="keras")),
    ({"module": "keras.initializers", "class_name": "GlorotUniform",
      "config": {"seed": 7, "input_axes": None, "output_axes": None}, "registered_name": None},
     fastinit.glorot_uniform(layout="keras", seed=7)),
    ({"module": "keras.initializers", "class_name": "VarianceScaling",
      "config": {"seed": None, "scale": 1.0, "mode": "fan_in", "distribution": "truncated_normal",
                 "input_axes": None, "output_axes": None}, "registered_name": None},
     fastinit.variance_scaling(layout="keras")),
    ({"module": "keras.initializers", "class_name": "RandomNormal",
      "config": {"seed": 4, "mean": 0.1, "stddev": 0.2}, "registered_name": None},
     fastinit.normal(mean=0.1, std=0.2, seed=4)),
    ({"module": "keras.initializers", "class_name": "RandomUniform",
      "config": {"seed": None, "minval": -0.5, "maxval": 0.25}, "registered_name": None},
     fastinit.uniform(low=-0.5, high=0.25)),
    ({"module": "keras.initializers", "class_name": "TruncatedNormal",
      "config": {"seed": None, "mean": 0.0, "stddev": 0.05}, "registered_name": None},
     fastinit.truncated_normal(mean=0.0, std=0.05, lo=-0.1, hi=0.1)),
    ({"module": "keras.initializers", "class_name": "Orthogonal",
      "config": {"seed": None, "gain": 1.0}, "registered_name": None},
     fastinit.orthogonal(gain=1.0, layout="keras")),
    ({"module": "keras.initializers", "class_name": "STFT",
      "config": {"side": "real", "window": "hann", "periodic": False, "scaling": "density"},
      "registered_name": None},
     fastinit.stft(side="real", window="hann", scaling="density", periodic=False)),
    ({"module": "keras.initializers", "class_name": "Identity", "config": {},
      "registered_name": None}, fastinit.eye(gain=1.0)),
    ({"module": "keras.initializers", "class_name": "Constant", "config": {"value": 0.0},
      "registered_name": None}, fastinit.constant(value=0.0)),
    ({"module": "keras.initializers", "class_name": "Zeros", "config": {},
      "registered_name": None}, fastinit.zeros()),
]


@pytest.mark.parametrize("config, want", KERAS_DICTS, ids=[c["class_name"] for c, _ in KERAS_DICTS])
def test_deserialize_keras_dicts(config, want):
    assert fastinit.deserialize(config) == want


# --- framework defaults ----------------------------------------------------------------------------

N = 1000


def test_keraflow_uniform():
    init = fastinit.get("keraflow.uniform")
    a = init(N, N, seed=1)
    assert a.min() >= -0.05 and a.max() < 0.05
    assert a.min() < -0.0499 and a.max() > 0.0499
    assert same(a, fastinit.uniform(N, N, low=-0.05, high=0.05, seed=1))
    assert same(PRESETS["keraflow"]["uniform"](scale=0.1)(10, seed=1),
                fastinit.uniform(10, low=-0.1, high=0.1, seed=1))


def test_keraflow_normal():
    a = fastinit.get("keraflow.normal")(N, N, seed=2)
    assert same(a, fastinit.normal(N, N, std=0.05, seed=2))
    assert abs(a.std() - 0.05) < 6 * 0.05 * math.sqrt(0.5 / a.size)
    assert abs(a.mean()) < 6 * 0.05 / math.sqrt(a.size)


@pytest.mark.parametrize("shape", [(64, 32), (32, 64), (16, 4, 3, 3)])
def test_keraflow_orthogonal_gain(shape):
    w = fastinit.get("keraflow.orthogonal")(*shape, seed=3).astype(np.float64)
    m = w.reshape(shape[0], -1)  # keraflow keeps the first axis
    g = m.T @ m if m.shape[0] >= m.shape[1] else m @ m.T
    assert np.allclose(g, 1.21 * np.eye(g.shape[0]), atol=1e-5)


def test_keraflow_identity_is_eye():
    assert fastinit.get("keraflow.identity") == fastinit.eye(gain=1.0)
    assert same(fastinit.get("keraflow.identity")(5, 5), np.eye(5, dtype=np.float32))
    assert same(PRESETS["keraflow"]["identity"](scale=2.0)(4, 4), 2 * np.eye(4, dtype=np.float32))


@pytest.mark.parametrize("shape, fan_in", [((1000, 500), 1000), ((64, 32, 3, 3), 64 * 9),
                                           ((1000,), math.sqrt(1000))])
def test_keraflow_he_normal(shape, fan_in):
    a = fastinit.get("keraflow.he_normal")(*shape, seed=4)
    std = math.sqrt(2.0 / fan_in)
    assert np.allclose(a, fastinit.normal(*shape, std=std, seed=4), rtol=1e-6, atol=0)
    if a.size >= 10**5:  # untruncated: values beyond the truncated normal's 2.27 std bound
        assert np.abs(a).max() > 4 * std
        assert abs(a.std() - std) < 6 * std * math.sqrt(0.5 / a.size)


def test_jax_uniform():
    a = fastinit.get("jax.uniform")(N, N, seed=5)
    assert a.min() >= 0.0 and a.max() < 0.01
    assert a.min() < 1e-6 and a.max() > 0.01 - 1e-6
    assert abs(a.mean() - 0.005) < 6 * 0.01 * math.sqrt(1 / 12 / a.size)


def test_jax_truncated_normal():
    a = fastinit.get("jax.truncated_normal")(N, N, seed=6)
    assert a.min() >= -0.02 and a.max() <= 0.02
    assert a.min() < -0.0199 and a.max() > 0.0199
    assert same(a, fastinit.truncated_normal(N, N, std=0.01, lo=-0.02, hi=0.02, seed=6))


def test_jax_orthogonal_column_axis():
    assert fastinit.get("jax.orthogonal") == fastinit.orthogonal(gain=1.0, layout="jax")
    init = PRESETS["jax"]["orthogonal"](column_axis=0)
    assert init == fastinit.orthogonal(gain=1.0, layout="jax", column_axis=0)
    w = init(6, 4, 3, seed=2)  # columns along axis 0: the (12, 6) matrix of the other axes
    m = np.moveaxis(w, 0, -1).reshape(12, 6)
    np.testing.assert_allclose(m.T @ m, np.eye(6), atol=1e-5)
    assert same(fastinit.orthogonal(6, 4, 3, column_axis=0, layout="jax", seed=2, rows=slice(2, 5)), w[2:5])
    with pytest.raises(ValueError, match="column_axis"):
        PRESETS["jax"]["orthogonal"](column_axis=5)(6, 4)


def test_keras_truncated_normal_bounds():
    a = fastinit.get("TruncatedNormal")(N, N, seed=7)
    assert a.min() >= -0.1 and a.max() <= 0.1 and a.min() < -0.099 and a.max() > 0.099


def test_torch_defaults():
    assert fastinit.get("torch.kaiming_normal_") == fastinit.kaiming_normal(
        a=0.0, mode="fan_in", nonlinearity="leaky_relu")
    assert fastinit.get("torch.trunc_normal_") == fastinit.truncated_normal(
        mean=0.0, std=1.0, lo=-2.0, hi=2.0)
    assert fastinit.get("torch.sparse_") == fastinit.sparse(std=0.01)


# --- the README table ------------------------------------------------------------------------------

def _table_rows(table: str) -> dict[str, list[list[str]]]:
    """{first-column cell: [names in each framework column]} from the Markdown table."""
    lines = [ln for ln in table.strip().splitlines() if ln.startswith("|")]
    header = [c.strip() for c in lines[0].strip("|").split("|")]
    assert header == ["fastinit name", "torch", "Keras", "JAX", "WeightInitializers.jl", "Keraflow"]
    rows = {}
    for ln in lines[2:]:
        cells = [c.strip() for c in ln.strip().strip("|").split("|")]
        assert len(cells) == len(header), ln
        names = [re.findall(r"`([^`]+)`", c) for c in cells]
        rows[cells[0]] = names
    return rows


def test_name_table_covers_every_name():
    rows = _table_rows(registry.name_table())
    first = {n: names for names in rows.values() for n in names[0]}
    for name in fastinit.FUNCTIONS:
        assert name in first, name
    for alias, target in ALIASES.items():
        assert alias in first and first[alias] is first[target]
    for i, fw in enumerate(FRAMEWORKS, start=1):
        for name, factory in PRESETS[fw].items():
            target = factory().name
            assert name in first[target][i], (fw, name, target)
    # and nothing else: each framework column lists exactly its presets
    for i, fw in enumerate(FRAMEWORKS, start=1):
        listed = [n for names in rows.values() for n in names[i]]
        assert sorted(listed) == sorted(PRESETS[fw]), fw


def test_readme_carries_the_name_table():
    with open(os.path.join(ROOT, "README.md"), encoding="utf-8") as f:
        readme = f.read()
    table = registry.name_table()
    assert table in readme, (
        "README.md does not contain the current name table: paste the output of "
        "fastinit.registry.name_table() into README.md")
    rows = _table_rows(table)
    assert len(rows) == len(fastinit.FUNCTIONS)
