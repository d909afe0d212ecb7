"""fastinit.save and fastinit.torch.save_initialized (issue 13): files equal to the in-memory
tensors block by block, Hugging Face's shards and index, atomic writes (a full disk leaves
nothing), checks that name the tensor and the parameter, and ``import fastinit`` staying light."""
import errno
import json
import os

import numpy as np
import pytest

import fastinit
from fastinit import files

DTYPES = ["float32", "float16", "bfloat16", "float64"]


def _bits(a: np.ndarray) -> np.ndarray:
    """The array's raw bytes, so bfloat16 and NaNs compare exactly."""
    return np.ascontiguousarray(a).reshape(-1).view(np.uint8)


def _leftovers(d) -> list:
    return sorted(os.listdir(d))


def _torch_bits(t) -> np.ndarray:
    import torch
    return t.contiguous().reshape(-1).view(torch.uint8).numpy()


def test_import_fastinit_imports_no_optional_library(python):
    out = python("""
        import sys
        import fastinit, fastinit.files, fastinit.cli
        heavy = ("torch", "keras", "jax", "tqdm", "matplotlib", "safetensors", "numba.cuda")
        print(sorted(m for m in sys.modules if m.split(".")[0] in heavy or m.startswith("numba.cuda")))
    """)
    assert out.strip() == "[]"


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("chunk", [1, 1000, 4096 * 3 + 5, 1 << 20])
def test_npy_equals_in_memory(tmp_path, dtype, chunk):
    # chunk 1: one row a block; 12293: blocks straddling the 4096-element stream blocks
    shape = (301, 67)
    path = tmp_path / "w.npy"
    fastinit.save(path, {"w": ("fastinit.truncated_normal", shape, dtype)}, seed=3, chunk_size=chunk)
    ref = fastinit.truncated_normal(*shape, dtype=dtype, seed=fastinit.Key(3).child("w"))
    got = np.load(path, mmap_mode="r")
    assert got.shape == shape
    assert np.array_equal(_bits(got), _bits(ref))
    if dtype == "bfloat16":
        assert got.dtype == np.dtype("V2")  # as numpy stores bfloat16
    else:
        assert got.dtype == np.dtype(dtype)
    # the header is the one numpy's open_memmap writes
    mm = np.lib.format.open_memmap(tmp_path / "ref.npy", mode="w+", dtype=ref.dtype, shape=ref.shape)
    mm[...] = ref
    del mm
    assert (tmp_path / "ref.npy").read_bytes() == path.read_bytes()
    assert _leftovers(tmp_path) == ["ref.npy", "w.npy"]


def test_safetensors_equal_in_memory_read_by_safetensors_and_torch(tmp_path):
    torch = pytest.importorskip("torch")
    st = pytest.importorskip("safetensors")
    from safetensors.torch import load_file
    tensors = {
        "embed.weight": ("torch.normal_", (1000, 37), "bfloat16"),
        "mlp.weight": (fastinit.kaiming_uniform(a=5 ** 0.5), (77, 5, 3), "float16"),
        "norm.weight": {"initializer": "ones", "shape": [13]},
        "q": {"initializer": "orthogonal", "shape": [40, 20], "dtype": "float64"},  # made whole
        "scalar": ("fastinit.normal", (), "float32"),
        "empty": ("fastinit.uniform", (0, 4), "float32"),
        "sparse": {"initializer": "torch.sparse_", "shape": [64, 9], "params": {"sparsity": 0.5}},
        "jax": {"initializer": "jax.he_normal", "shape": [3, 3, 8, 16], "dtype": "float32"},
    }
    path = tmp_path / "m.safetensors"
    assert fastinit.save(path, tensors, seed=11, chunk_size=777) == [str(path)]
    plan = {p.name: p for p in files.plan(tensors, 11)}
    loaded = load_file(path)
    assert sorted(loaded) == sorted(tensors)
    with st.safe_open(path, "pt") as f:
        assert f.metadata()["format"] == "pt"
        assert f.metadata()["fastinit.seed"] == str(fastinit.Key(11).value)
        for name in f.keys():
            ref = plan[name].call()
            got = f.get_tensor(name)
            assert tuple(got.shape) == ref.shape
            assert np.array_equal(_torch_bits(got), _bits(ref)), name
            assert np.array_equal(_torch_bits(loaded[name]), _bits(ref)), name
    assert loaded["embed.weight"].dtype == torch.bfloat16
    assert loaded["norm.weight"].dtype == torch.float32


def test_shards_and_index_as_hugging_face_writes_them(tmp_path):
    from safetensors import safe_open
    tensors = {f"layers.{i}.weight": ("fastinit.normal", (100, 50), "float32") for i in range(5)}
    tensors["big"] = ("fastinit.uniform", (300, 100), "float32")  # larger than a shard: its own
    paths = fastinit.save(tmp_path / "model.safetensors", tensors, seed=0, max_shard_size="45kB")
    index = json.loads((tmp_path / "model.safetensors.index.json").read_text())
    n = len(paths) - 1
    assert paths[-1] == str(tmp_path / "model.safetensors.index.json")
    assert [os.path.basename(p) for p in paths[:-1]] == [f"model-{i:05d}-of-{n:05d}.safetensors"
                                                         for i in range(1, n + 1)]
    assert index["metadata"]["total_size"] == 5 * 100 * 50 * 4 + 300 * 100 * 4
    assert sorted(index["weight_map"]) == sorted(tensors)
    assert index["weight_map"]["big"] not in {index["weight_map"][f"layers.{i}.weight"] for i in range(5)}
    for name, shard in index["weight_map"].items():
        with safe_open(tmp_path / shard, "np") as f:
            ref = fastinit.get(tensors[name][0])(*tensors[name][1], seed=fastinit.Key(0).child(name))
            assert np.array_equal(f.get_tensor(name), ref)
    assert not (tmp_path / "model.safetensors").exists()  # shards only
    # everything fits: one plain file, no index
    fastinit.save(tmp_path / "one.safetensors", tensors, seed=0, max_shard_size="1GB")
    assert not (tmp_path / "one.safetensors.index.json").exists()


def test_the_seed_is_keyed_by_name():
    a = files.plan({"x": ("fastinit.normal", (5,))}, 1)[0]
    assert a.seed == fastinit.Key(1).child("x")


@pytest.mark.parametrize("tensors, match", [
    ({"w": ("kaiming_normall", (4, 4))}, r"tensors\['w'\].*unknown initializer 'kaiming_normall'; did you mean 'kaiming_normal'"),
    ({"w": ("torch.normal_", (4, -1))}, r"tensors\['w'\]: shape: dimensions must be >= 0"),
    ({"w": ("torch.normal_", "4x4")}, r"tensors\['w'\]: shape: expected an int or a tuple of ints"),
    ({"w": ("torch.normal_", (4, 4), "float128")}, r"tensors\['w'\]: dtype"),
    ({"w": {"initializer": "torch.normal_", "shape": [4], "params": {"sdt": 1}}}, r"no parameter 'sdt'; did you mean 'std'"),
    ({"w": {"initialiser": "torch.normal_", "shape": [4]}}, r"unknown key 'initialiser'; did you mean 'initializer'"),
    ({"w": {"shape": [4]}}, r"missing 'initializer'"),
    ({"w": ("torch.kaiming_normal_", (4,))}, r"tensors\['w'\]: shape: fan in and fan out need at least 2"),
    ({"w": ("fastinit.normal", (4,), "int8")}, r"tensors\['w'\]: dtype: int8 is not supported"),
    ({}, "no tensors"),
    ([{"name": "a", "shape": [2], "initializer": "ones"}, {"name": "a", "shape": [2], "initializer": "ones"}],
     "duplicate tensor name 'a'"),
    ({"w": 3}, r"tensors\['w'\]: expected \(initializer, shape, dtype\)"),
])
def test_bad_tensors_raise_naming_the_tensor(tmp_path, tensors, match):
    with pytest.raises((ValueError, TypeError), match=match):
        fastinit.save(tmp_path / "x.safetensors", tensors, seed=0)
    assert _leftovers(tmp_path) == []


def test_bad_arguments(tmp_path):
    t = {"w": ("fastinit.normal", (4, 4))}
    with pytest.raises(ValueError, match=r"path: the file must end in .npy or .safetensors"):
        fastinit.save(tmp_path / "x.pt", t)
    with pytest.raises(ValueError, match="a .npy file holds one tensor"):
        fastinit.save(tmp_path / "x.npy", {**t, "b": ("ones", (2,))})
    with pytest.raises(TypeError, match="safetensors has no complex128"):
        fastinit.save(tmp_path / "x.safetensors", {"w": ("fastinit.normal", (4,), "complex128")})
    with pytest.raises(ValueError, match="max_shard_size: expected a number of bytes or a size"):
        fastinit.save(tmp_path / "x.safetensors", t, max_shard_size="lots")
    with pytest.raises(ValueError, match="chunk_size: must be at least 1 byte"):
        fastinit.save(tmp_path / "x.safetensors", t, chunk_size=0)
    with pytest.raises(TypeError, match="metadata: safetensors metadata must be a dict of str to str"):
        fastinit.save(tmp_path / "x.safetensors", t, metadata={"a": 1})
    with pytest.raises(FileNotFoundError, match="does not exist"):
        fastinit.save(tmp_path / "no" / "x.npy", t)
    assert _leftovers(tmp_path) == []


def test_parse_size():
    assert files.parse_size("5GB") == 5 * 10**9
    assert files.parse_size("64MiB") == files.parse_size("64M") == 64 << 20
    assert files.parse_size(1234) == 1234
    assert files.parse_size("1.5kB") == 1500


def test_no_overwrite_without_overwrite(tmp_path):
    path = tmp_path / "w.npy"
    fastinit.save(path, {"w": ("fastinit.normal", (10, 10))}, seed=0)
    first = path.read_bytes()
    with pytest.raises(FileExistsError, match="overwrite=True"):
        fastinit.save(path, {"w": ("fastinit.normal", (10, 10))}, seed=1)
    assert path.read_bytes() == first
    fastinit.save(path, {"w": ("fastinit.normal", (10, 10))}, seed=1, overwrite=True)
    assert path.read_bytes() != first
    assert _leftovers(tmp_path) == ["w.npy"]


@pytest.mark.parametrize("target", ["w.npy", "m.safetensors", "s.safetensors"])
def test_a_full_disk_leaves_nothing(tmp_path, monkeypatch, target):
    calls = []

    def full(fd, data, offset):
        calls.append(offset)
        if len(calls) > 3:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return os.pwrite(fd, data, offset)

    monkeypatch.setattr(files, "_pwrite", full)
    tensors = {f"t{i}": ("fastinit.normal", (64, 64)) for i in range(1 if target == "w.npy" else 4)}
    shard = "20kB" if target.startswith("s") else None
    with pytest.raises(OSError) as e:
        fastinit.save(tmp_path / target, tensors, seed=0, chunk_size=4096, max_shard_size=shard)
    assert e.value.errno == errno.ENOSPC
    assert _leftovers(tmp_path) == []


def test_too_little_free_space_fails_before_writing(tmp_path, monkeypatch):
    class Tiny:
        f_bavail, f_frsize, f_blocks = 10, 4096, 1000
    monkeypatch.setattr(files, "_statvfs", lambda d: Tiny)
    with pytest.raises(OSError, match="no room for") as e:
        fastinit.save(tmp_path / "w.npy", {"w": ("fastinit.normal", (100, 1000))}, seed=0)
    assert e.value.errno == errno.ENOSPC
    assert _leftovers(tmp_path) == []


def test_an_error_late_in_the_write_leaves_nothing(tmp_path, monkeypatch):
    # the third tensor's initializer fails while the file is being written
    tensors = {"a": ("fastinit.normal", (50, 50)), "b": ("fastinit.normal", (50, 50)),
               "c": ("fastinit.normal", (50, 50))}
    real = files.Planned.call

    def boom(self, **kw):
        if self.name == "c":
            raise RuntimeError("boom")
        return real(self, **kw)
    monkeypatch.setattr(files.Planned, "call", boom)
    monkeypatch.setattr(files.Planned, "check", lambda self: None)
    with pytest.raises(RuntimeError, match="boom"):
        fastinit.save(tmp_path / "m.safetensors", tensors, seed=0, max_shard_size="12kB")
    assert _leftovers(tmp_path) == []


# --- fastinit.torch.save_initialized ---------------------------------------------------------------

def _model():
    import torch
    from torch import nn

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.attn = nn.MultiheadAttention(16, 2)  # reaches into out_proj: materialized whole
            self.norm = nn.LayerNorm(16)
            self.mlp = nn.Sequential(nn.Linear(16, 32), nn.GELU(), nn.Linear(32, 16))
            self.register_buffer("steps", torch.zeros((), dtype=torch.int64), persistent=False)

    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed = nn.Embedding(50, 16, padding_idx=0)
            self.blocks = nn.ModuleList([Block() for _ in range(2)])
            self.conv = nn.Conv1d(16, 8, 3)
            self.bn = nn.BatchNorm1d(8)
            self.rnn = nn.GRU(8, 4)
            self.head = nn.Linear(16, 50, bias=False)
            self.head.weight = self.embed.weight  # tied

    return Model


@pytest.mark.filterwarnings("ignore:init_module. no rule initializes blocks")  # the reference's
@pytest.mark.parametrize("dtype", [None, "bfloat16"])
def test_save_initialized_equals_init_module(tmp_path, dtype):
    torch = pytest.importorskip("torch")
    from safetensors.torch import load_file
    import fastinit.torch as ft
    dt = getattr(torch, dtype) if dtype else None
    Model = _model()
    with torch.device("meta"):
        model = Model()
    path = tmp_path / "m.safetensors"
    assert ft.save_initialized(model, path, seed=5, dtype=dt) == [str(path)]
    assert all(p.is_meta for p in model.parameters())  # the model is left as it was

    with torch.device("meta"):
        ref = Model()
    ref = ref.to_empty(device="cpu")
    ref.head.weight = ref.embed.weight  # to_empty unties them
    if dt is not None:
        ref = ref.to(dt)
    ft.init_module(ref, seed=5)
    want = ref.state_dict()
    got = load_file(path)
    assert sorted(got) == sorted(want)
    for name in want:
        assert got[name].dtype == want[name].dtype, name
        assert torch.equal(got[name], want[name]), name

    with torch.device("meta"):
        fresh = Model()
    fresh = fresh.to_empty(device="cpu")
    if dt is not None:
        fresh = fresh.to(dt)
    fresh.load_state_dict(load_file(path))
    assert torch.equal(fresh.blocks[1].attn.in_proj_weight, ref.blocks[1].attn.in_proj_weight)


def test_save_initialized_shards_and_warns_for_tensors_no_rule_reaches(tmp_path):
    torch = pytest.importorskip("torch")
    from safetensors.torch import load_file
    import fastinit.torch as ft

    class Odd(torch.nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = torch.nn.Linear(8, 8)
            self.free = torch.nn.Parameter(torch.empty(3))

    with torch.device("meta"):
        m = Odd()
    with pytest.warns(UserWarning, match="no rule initializes free; written as zeros"):
        paths = ft.save_initialized(m, tmp_path / "m.safetensors", seed=0, max_shard_size=100)
    assert len(paths) == 4  # free (12 bytes), lin.weight (256: a shard of its own), lin.bias; the index
    index = json.loads(open(paths[-1]).read())
    got = {}
    for shard in sorted(set(index["weight_map"].values())):
        got.update(load_file(tmp_path / shard))
    assert torch.equal(got["free"], torch.zeros(3))
    assert torch.equal(got["lin.weight"], torch.from_numpy(
        fastinit.kaiming_uniform(8, 8, a=5 ** 0.5, seed=fastinit.Key(0).child("lin.weight"))))
    with pytest.raises(ValueError, match="path: save_initialized writes safetensors"):
        ft.save_initialized(m, tmp_path / "m.npy")
    with pytest.raises(TypeError, match="dtype: expected a floating-point torch.dtype"):
        ft.save_initialized(m, tmp_path / "n.safetensors", dtype=torch.int8)


def test_save_initialized_with_a_module_under_two_names(tmp_path):
    """A submodule of a unit initialized whole (MultiheadAttention's out_proj) registered again
    under a second name: each tensor once, as init_module gives it; registered first under the
    other name, an error before any file exists."""
    torch = pytest.importorskip("torch")
    from safetensors.torch import load_file
    import fastinit.torch as ft

    class Shared(torch.nn.Module):
        def __init__(self, first):
            super().__init__()
            if first:
                self.add_module("proj", None)  # registered first, set below
            self.attn = torch.nn.MultiheadAttention(4, 1)
            self.proj = self.attn.out_proj

    with torch.device("meta"):
        meta = Shared(first=False)
    ft.save_initialized(meta, tmp_path / "s.safetensors", seed=0)
    got = load_file(tmp_path / "s.safetensors")
    want = ft.init_module(Shared(first=False), seed=0).state_dict()
    assert got.keys() == want.keys() and all(torch.equal(got[k], want[k]) for k in want)
    with torch.device("meta"):
        meta = Shared(first=True)  # proj before attn
    with pytest.raises(ValueError, match=r"^module: attn \(MultiheadAttention\) shares a submodule"):
        ft.save_initialized(meta, tmp_path / "t.safetensors", seed=0)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["s.safetensors"]  # no t.safetensors, no temporaries


@pytest.mark.parametrize("name", ["randn32", "zeros16", "randC64", "randnC16"])
def test_typed_functions_make_their_own_dtype(tmp_path, name):
    """WeightInitializers.jl's typed functions take no dtype: written in theirs (C16: float16
    pairs, an axis of 2 more), equal to the in-memory call; a dtype that differs is an error."""
    f = fastinit.FUNCTIONS[name]
    fastinit.save(tmp_path / "w.npy", {"w": (name, (5, 3))}, seed=2, chunk_size=16)
    want = f(5, 3, seed=fastinit.Key(2).child("w"))
    got = np.load(tmp_path / "w.npy")
    assert got.dtype == want.dtype and got.tobytes() == want.tobytes() and got.shape == want.shape
    with pytest.raises(ValueError, match=rf"^tensors\['w'\]: dtype: {name} makes"):
        fastinit.save(tmp_path / "x.npy", {"w": (name, (5, 3), "float64" if "64" not in name else "float16")})


def test_a_bad_stft_is_found_before_any_file_exists(tmp_path):
    with pytest.raises(ValueError, match=r"^tensors\['k'\]: shape: stft needs"):
        fastinit.save(tmp_path / "m.safetensors", {"w": ("normal", (200, 100)), "k": ("stft", (4, 4))})
    assert list(tmp_path.iterdir()) == []
