"""Sharded initialization: ``fastinit.torch.init_shard_`` (shards made by hand) and DTensors
(``init_module`` and the ``torch.nn.init`` replacements fill each rank's local shard), with
torch.distributed on the gloo backend, processes on localhost.

Each distributed test spawns its processes once; every rank writes its local shards and the
shards torch makes of the single-process result (``distribute_tensor(full, ...).to_local()``)
to ``tmp_path``, and the parent compares them.
"""
import os
import socket

import numpy as np
import pytest
import torch

import fastinit
import fastinit.torch as ft

needs_dist = pytest.mark.skipif(not torch.distributed.is_available() or not torch.distributed.is_gloo_available(),
                                reason="torch.distributed with gloo is not available")

KEY = fastinit.Key(7).child("w")

# --- init_shard_: no process group -----------------------------------------------------------------

INITS = {
    "kaiming_uniform": fastinit.kaiming_uniform(a=5 ** 0.5),
    "normal": fastinit.normal(std=0.02),
    "truncated_normal": fastinit.truncated_normal(std=1.0, lo=-0.5, hi=1.5),
    "xavier_uniform": fastinit.glorot_uniform(),
    "xavier_normal": fastinit.glorot_normal(gain=2.0),
    "torch.xavier_uniform_": "torch.xavier_uniform_",  # an identifier, through fastinit.get
    "orthogonal": fastinit.orthogonal,  # a core function: its defaults; the whole QR per shard
}


def _whole(init, shape, dtype):
    """The tensor one process makes: the core's full call, into a torch tensor."""
    init = fastinit.get(init) if isinstance(init, str) else init
    if not isinstance(init, fastinit.Initializer):
        init = fastinit.Initializer(init.__name__)
    return init(*shape, seed=KEY, out=torch.empty(shape, dtype=dtype))


def _grid(shape, cuts):
    """Every block of ``shape`` cut at ``cuts`` (per axis, the inner cut points)."""
    edges = [[0, *c, n] for c, n in zip(cuts, shape)]
    blocks = [()]
    for e in edges:
        blocks = [b + (slice(a, z),) for b in blocks for a, z in zip(e, e[1:])]
    return blocks


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16], ids=["float32", "bfloat16"])
@pytest.mark.parametrize("name", list(INITS))
def test_init_shard_assembles_the_whole(name, dtype):
    init = INITS[name]
    shape = (9, 7, 3)  # a Conv1d weight: fans from the whole shape
    whole = _whole(init, shape, dtype)
    for cuts in ([(4,), (), ()], [(), (3,), ()], [(2, 5), (1, 6), (1,)], [(9,), (), ()]):
        got = torch.full(shape, float("nan"), dtype=dtype)
        for block in _grid(shape, cuts):
            local = torch.empty(tuple(s.stop - s.start for s in block), dtype=dtype)
            offsets = [s.start for s in block]
            assert ft.init_shard_(local, shape, offsets, init, seed=KEY) is local
            got[block] = local
        assert torch.equal(got, whole), (name, cuts)


def test_init_shard_non_contiguous_and_views():
    shape = (11, 6)
    whole = _whole(INITS["kaiming_uniform"], shape, torch.float32)
    local = torch.empty(6, 5).t()  # (5, 6), transposed memory
    ft.init_shard_(local, torch.Size(shape), (3, 0), INITS["kaiming_uniform"], seed=KEY)
    assert torch.equal(local, whole[3:8])
    big = torch.zeros(20, 20)  # a shard that is a view into a larger buffer (a flat parameter)
    ft.init_shard_(big[2:6, 1:4], shape, (7, 3), INITS["kaiming_uniform"], seed=KEY)
    assert torch.equal(big[2:6, 1:4], whole[7:11, 3:6])
    assert big.sum() == big[2:6, 1:4].sum()  # nothing written outside
    flat = torch.empty(66)  # a flat buffer holding rows 4..9, viewed as the shard's shape
    ft.init_shard_(flat[:36].view(6, 6), shape, (4, 0), INITS["kaiming_uniform"], seed=KEY)
    assert torch.equal(flat[:36].view(6, 6), whole[4:10])


def test_init_shard_parameter_and_0d():
    p = torch.nn.Parameter(torch.empty(2, 4))
    v = p._version
    ft.init_shard_(p, (5, 4), (1, 0), "he_normal", seed=3)  # Keras' he_normal, as fastinit.get has it
    assert p._version > v and p.requires_grad
    whole = fastinit.get("he_normal")(5, 4, seed=3)
    assert np.array_equal(p.detach().numpy(), whole[1:3])
    s = torch.empty(())
    ft.init_shard_(s, (), (), fastinit.normal(), seed=3)
    assert s.item() == fastinit.normal((), seed=3)[()]


def test_init_shard_seeds():
    init, shape = fastinit.normal(std=0.5), (6, 4)
    whole = init(*shape, seed=KEY, out=torch.empty(shape))
    # a seed bound in the initializer; seed= overrides it
    a = ft.init_shard_(torch.empty(2, 4), shape, (3, 0), init(seed=KEY))
    b = ft.init_shard_(torch.empty(2, 4), shape, (3, 0), init(seed=1), seed=KEY)
    assert torch.equal(a, whole[3:5]) and torch.equal(b, whole[3:5])
    # no seed: one draw from torch's default generator per call, the shard empty or not; ranks
    # seeded alike get shards of one tensor
    parts = []
    for rows in (slice(0, 4), slice(4, 4), slice(4, 6)):
        torch.manual_seed(5)
        parts.append(ft.init_shard_(torch.empty(rows.stop - rows.start, 4), shape, (rows.start, 0), init))
        after = torch.randint(-2**63, 2**63 - 1, (), dtype=torch.int64)
        torch.manual_seed(5)
        torch.randint(-2**63, 2**63 - 1, (), dtype=torch.int64)
        assert after == torch.randint(-2**63, 2**63 - 1, (), dtype=torch.int64)  # exactly one draw
    torch.manual_seed(5)
    drawn = int(torch.randint(-2**63, 2**63 - 1, (), dtype=torch.int64))
    assert torch.equal(torch.cat(parts), init(*shape, seed=drawn, out=torch.empty(shape)))
    # generator=: one draw from it
    g = torch.Generator().manual_seed(9)
    c = ft.init_shard_(torch.empty(2, 4), shape, (1, 0), init, generator=g)
    g2 = torch.Generator().manual_seed(9)
    s = int(torch.randint(-2**63, 2**63 - 1, (), generator=g2, dtype=torch.int64))
    assert torch.equal(c, init(*shape, seed=s, out=torch.empty(shape))[1:3])
    assert torch.equal(g.get_state(), g2.get_state())
    # meta shards and zero-element tensors: returned as they are, nothing drawn
    g = torch.Generator().manual_seed(9)
    state = g.get_state()
    m = torch.empty(2, 4, device="meta")
    assert ft.init_shard_(m, shape, (1, 0), init, generator=g) is m
    ft.init_shard_(torch.empty(0, 4), (0, 4), (0, 0), init, generator=g)
    assert torch.equal(g.get_state(), state)


BAD = [
    (dict(global_shape=(6,)), ValueError, "global_shape: expected 2 entries"),
    (dict(global_shape=(6, 4, 1)), ValueError, "global_shape: expected 2 entries"),
    (dict(global_shape=(6.0, 4)), TypeError, "global_shape: expected ints"),
    (dict(global_shape=(6, -4)), ValueError, "global_shape: expected ints >= 0"),
    (dict(global_shape=None), TypeError, "global_shape: expected a sequence"),
    (dict(global_shape=torch.tensor([6, 4])), TypeError, "global_shape: expected a sequence"),
    (dict(offsets=(0,)), ValueError, "offsets: expected 2 entries"),
    (dict(offsets=(-1, 0)), ValueError, "offsets: expected ints >= 0"),
    (dict(offsets=(5, 0)), ValueError, "offsets: offsets[0] + local.shape[0] = 5 + 2 exceeds"),
    (dict(offsets=(0, 1)), ValueError, "offsets: offsets[1] + local.shape[1] = 1 + 4 exceeds"),
    (dict(offsets=(True, 0)), TypeError, "offsets: expected ints"),
    (dict(offsets="00"), TypeError, "offsets: expected a sequence"),
    (dict(initializer=3), TypeError, "initializer: expected a fastinit.Initializer"),
    (dict(initializer=torch.nn.init.normal_), TypeError, "initializer: expected"),
    (dict(initializer="no_such_init"), ValueError, "initializer: identifier: unknown"),
    (dict(local=torch.zeros(2, 4, dtype=torch.int32)), TypeError, "local: its dtype int32"),
    (dict(local=[[0.0] * 4] * 2), TypeError, "local: expected a torch.Tensor"),
    (dict(initializer=fastinit.truncated_normal(), local=torch.zeros(2, 4, dtype=torch.complex64)),
     TypeError, "local:"),
    (dict(seed=1.5), TypeError, "seed:"),
    (dict(generator=3), TypeError, "generator: expected a torch.Generator"),
    (dict(seed=1, generator=torch.Generator()), TypeError, "generator, seed"),
]


@pytest.mark.parametrize("bad, exc, message", BAD, ids=[m.split(":")[0] + str(i) for i, (_, _, m) in enumerate(BAD)])
def test_init_shard_errors_before_writing(bad, exc, message):
    args = dict(local=torch.zeros(2, 4), global_shape=(6, 4), offsets=(1, 0),
                initializer=fastinit.normal())
    args.update(bad)
    local = args.pop("local")
    before = local.clone() if isinstance(local, torch.Tensor) else None
    torch.manual_seed(3)
    state = torch.get_rng_state()
    with pytest.raises(exc) as e:
        ft.init_shard_(local, args.pop("global_shape"), args.pop("offsets"), args.pop("initializer"), **args)
    assert str(e.value).startswith(message.split(":")[0] + ":") and message in str(e.value), str(e.value)
    if before is not None:
        assert torch.equal(local, before)
    assert torch.equal(torch.get_rng_state(), state)  # nothing drawn


def test_import_does_not_touch_torch_distributed(python):
    out = python("""
        import sys
        import fastinit, fastinit.torch
        import torch
        print(torch.distributed.is_initialized(), "torch.distributed.tensor" in sys.modules)
    """)
    assert out.split() == ["False", "False"]


# --- DTensors on gloo ----------------------------------------------------------------------------

class Scaled(torch.nn.Module):
    """A module with its own reset_parameters (init_module runs it under patch())."""

    def __init__(self, n, m, device=None):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.empty(n, m, device=device))
        self.reset_parameters()

    def reset_parameters(self):
        torch.nn.init.uniform_(self.weight, -0.1, 0.1)

    def forward(self, x):
        return x @ self.weight


def _model(device=None, padding_idx=5):
    """Odd sizes, so that shards are uneven; Linear(3, 1)'s rank-1 row shards are empty."""
    nn = torch.nn
    with torch.device(device or "cpu"):
        return nn.Sequential(nn.Embedding(7, 6, padding_idx=padding_idx), nn.Linear(6, 9), nn.LayerNorm(9),
                             nn.Linear(9, 5, bias=False), Scaled(5, 3), nn.Linear(3, 1))


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _spawn(fn, world, tmp_path):
    import torch.multiprocessing as mp
    mp.spawn(fn, args=(world, _free_port(), str(tmp_path)), nprocs=world, join=True)
    return [torch.load(tmp_path / f"rank{r}.pt", weights_only=False) for r in range(world)]


def _setup(rank, world, port, shape):
    torch.set_num_threads(1)
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    torch.distributed.init_process_group("gloo", rank=rank, world_size=world)
    from torch.distributed.device_mesh import init_device_mesh
    return init_device_mesh("cpu", shape)


def _distribute(model, mesh, placement_of):
    """Every parameter of ``model`` replaced by a DTensor of ``placement_of(param)``."""
    from torch.distributed.tensor import distribute_tensor
    for mod in model.modules():
        for name, p in list(mod.named_parameters(recurse=False)):
            dt = distribute_tensor(p.detach(), mesh, placement_of(p), src_data_rank=None)
            mod.register_parameter(name, torch.nn.Parameter(dt, requires_grad=p.requires_grad))
    return model


def _pairs(model, reference, mesh):
    """{name: (this rank's local shard, the same shard of the single-process ``reference``)}."""
    from torch.distributed.tensor import distribute_tensor
    ref = dict(reference.named_parameters())
    out = {}
    for name, p in model.named_parameters():
        expected = distribute_tensor(ref[name].detach(), mesh, p.placements, src_data_rank=None).to_local()
        out[name] = (p.to_local().detach().clone(), expected.clone(), str(p.placements))
    return out


def _one_dim_worker(rank, world, port, tmp):
    from torch.distributed.tensor import Replicate, Shard, distribute_tensor
    from torch.distributed.fsdp import fully_shard
    mesh = _setup(rank, world, port, (world,))
    res = {}
    placements = {"shard0": lambda p: [Shard(0)], "shard_last": lambda p: [Shard(p.dim() - 1)],
                  "replicate": lambda p: [Replicate()]}
    for scheme in ("torch", "hf"):
        reference = ft.init_module(_model(), seed=3, scheme=scheme)
        for label, place in placements.items():
            if scheme == "hf" and label != "shard0":
                continue
            model = ft.init_module(_distribute(_model(), mesh, place), seed=3, scheme=scheme)
            res[f"{scheme}/{label}"] = _pairs(model, reference, mesh)
    reference = ft.init_module(_model(), seed=3)
    # a meta-built model, distributed, materialized on the CPU, then initialized
    model = _distribute(_model("meta"), mesh, placements["shard_last"])
    ft.init_module(model, seed=3)  # meta DTensors: left as they are
    assert all(p.is_meta for p in model.parameters())
    res["meta/shard_last"] = _pairs(ft.init_module(model.to_empty(device="cpu"), seed=3), reference, mesh)
    # FSDP2: fully_shard on a meta-built model, to_empty, init_module
    model = _model("meta")
    for layer in model:
        if any(True for _ in layer.parameters()):
            fully_shard(layer, mesh=mesh)
    fully_shard(model, mesh=mesh)
    model.to_empty(device="cpu")
    res["fsdp2/meta"] = _pairs(ft.init_module(model, seed=3), reference, mesh)
    model(torch.tensor([[1, 5, 2]])).sum().backward()  # the model runs
    # ... and torch's own recipe, reset_parameters under patch(), seeded alike on every rank (no
    # padding_idx: Embedding's own weight[padding_idx].fill_(0) does not reach a DTensor's shard)
    model = _model("meta", padding_idx=None)
    for layer in model:
        if any(True for _ in layer.parameters()):
            fully_shard(layer, mesh=mesh)
    fully_shard(model, mesh=mesh)
    model.to_empty(device="cpu")
    ref = _model(padding_idx=None)
    with ft.patch():
        for m in (model, ref):
            torch.manual_seed(11)
            for layer in m:
                layer.reset_parameters()
    res["fsdp2/patch"] = _pairs(model, ref, mesh)
    # the functions on DTensors, with seed= and with generator= (one draw per call on every
    # rank, its shard empty or not: the generators stay in step though the default ones differ)
    funcs = {}
    for fn, args, shape in ((ft.kaiming_uniform_, (5 ** 0.5,), (5, 4)), (ft.trunc_normal_, (0.0, 1.0, -1.0, 0.5), (3, 7)),
                            (ft.orthogonal_, (), (5, 3)), (ft.normal_, (), (1, 6)), (ft.xavier_normal_, (), (1, 3, 2)),
                            (ft.uniform_, (), (1,)), (ft.sparse_, (0.3,), (5, 4)), (ft.constant_, (0.25,), (3, 3)),
                            (ft.eye_, (), (5, 3)), (ft.dirac_, (), (4, 2, 3))):
        full = torch.empty(shape)
        for placement in (Shard(0), Shard(len(shape) - 1), Replicate()):
            dt = distribute_tensor(torch.empty(shape), mesh, [placement], src_data_rank=None)
            if fn in (ft.constant_, ft.eye_, ft.dirac_):
                fn(dt, *args)
                fn(full, *args)
            else:
                fn(dt, *args, seed=KEY)
                fn(full, *args, seed=KEY)
                torch.manual_seed(rank)  # the ranks' generators differ ...
                g = torch.Generator().manual_seed(21)  # ... a generator given alike does not
                fn(dt, *args, generator=g)
                after = int(torch.randint(0, 2**62, (), generator=g))
                funcs[f"{fn.__name__}/{placement}/after"] = (torch.tensor(after), torch.tensor(after), "")
                g = torch.Generator().manual_seed(21)
                fn(full, *args, generator=g)
            expected = distribute_tensor(full, mesh, [placement], src_data_rank=None).to_local()
            funcs[f"{fn.__name__}/{placement}"] = (dt.to_local().clone(), expected.clone(), str(placement))
    res["functions"] = funcs
    try:  # a DTensor is not a hand-made shard
        ft.init_shard_(distribute_tensor(torch.zeros(3, 2), mesh, [Shard(0)], src_data_rank=None), (3, 2), (0, 0), "zeros")
        res["init_shard_dtensor"] = ""
    except TypeError as e:
        res["init_shard_dtensor"] = str(e)
    torch.save(res, os.path.join(tmp, f"rank{rank}.pt"))
    torch.distributed.destroy_process_group()


def _check(results):
    seen = 0
    for rank, res in enumerate(results):
        for case, pairs in res.items():
            for name, (got, expected, placements) in pairs.items():
                assert got.shape == expected.shape, (rank, case, name, placements)
                assert torch.equal(got, expected), (rank, case, name, placements)
                seen += got.numel()
    assert seen


@pytest.fixture(scope="module")
def one_dim(tmp_path_factory):
    return _spawn(_one_dim_worker, 2, tmp_path_factory.mktemp("dtensor"))


@needs_dist
@pytest.mark.parametrize("case", ["torch/shard0", "torch/shard_last", "torch/replicate", "hf/shard0",
                                  "meta/shard_last", "fsdp2/meta", "fsdp2/patch", "functions"])
def test_dtensor_shards_equal_the_single_process_init(one_dim, case):
    _check([{case: res[case]} for res in one_dim])


@needs_dist
def test_dtensor_uneven_and_empty_shards(one_dim):
    r0, r1 = (res["torch/shard0"] for res in one_dim)
    assert r0["0.weight"][0].shape == (4, 6) and r1["0.weight"][0].shape == (3, 6)  # 7 rows
    assert r1["5.weight"][0].shape == (0, 3) and r1["5.bias"][0].shape == (0,)  # Linear(3, 1)
    assert (r1["0.weight"][0][1] == 0).all()  # padding_idx 5: rank 1's second row
    # after a draw on an empty shard, the ranks' generators are still in step
    for key in one_dim[0]["functions"]:
        if key.endswith("/after"):
            assert one_dim[0]["functions"][key][0] == one_dim[1]["functions"][key][0], key


def _two_dim_worker(rank, world, port, tmp):
    from torch.distributed.tensor import Replicate, Shard
    mesh = _setup(rank, world, port, (2, 2))
    reference = ft.init_module(_model(), seed=4)
    res = {}
    for label, place in {"S0,S1": lambda p: [Shard(0), Shard(p.dim() - 1)],
                         "S0,S0": lambda p: [Shard(0), Shard(0)],
                         "R,S0": lambda p: [Replicate(), Shard(0)],
                         "Slast,R": lambda p: [Shard(p.dim() - 1), Replicate()]}.items():
        model = ft.init_module(_distribute(_model(), mesh, place), seed=4)
        res[label] = _pairs(model, reference, mesh)
    torch.save(res, os.path.join(tmp, f"rank{rank}.pt"))
    torch.distributed.destroy_process_group()


@needs_dist
def test_init_shard_refuses_a_dtensor(one_dim):
    for res in one_dim:
        assert res["init_shard_dtensor"].startswith("local: a DTensor; pass its local tensor")


@needs_dist
def test_dtensor_two_dim_mesh(tmp_path):
    results = _spawn(_two_dim_worker, 4, tmp_path)
    _check(results)
    # rank 3, coordinate (1, 1) under (Shard(0), Shard(0)): the 7 rows split 4 + 3, then 2 + 1
    assert results[3]["S0,S0"]["0.weight"][0].shape == (1, 6)
