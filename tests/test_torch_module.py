"""``fastinit.torch.init_module``: each module type's rule against torch's own reset_parameters
(bounds, distributions by a two-sample KS test against torch's output, exact values for the
deterministic parts), parameters seeded by their qualified names (adding a layer leaves the others
unchanged), meta + to_empty, seeds, custom modules, the Hugging Face scheme.
"""
import math
import warnings
from collections import OrderedDict

import numpy as np
import pytest

torch = pytest.importorskip("torch")
scipy_stats = pytest.importorskip("scipy.stats")

import fastinit  # noqa: E402
import fastinit.torch as ft  # noqa: E402

nn = torch.nn


def values(t):
    return t.detach().float().flatten().numpy()


def same_state(a, b):
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


def scramble(module):
    """Fill everything with garbage, as to_empty leaves it."""
    with torch.no_grad():
        for t in [*module.parameters(), *module.buffers()]:
            t.fill_(7)
    return module


def like_torch(ours, torch_s, bound=None):
    """Same support (within ``bound``) and distribution (KS) as torch's own values."""
    a, b = values(ours), values(torch_s)
    if bound is not None:
        assert np.abs(a).max() <= bound and np.abs(a).max() > 0.9 * bound
    assert scipy_stats.ks_2samp(a, b).pvalue > 1e-4


def test_linear_and_bias_bounds_match_torch():
    torch.manual_seed(0)
    ref = nn.Linear(300, 400)
    m = ft.init_module(scramble(nn.Linear(300, 400)), seed=0)
    assert isinstance(m, nn.Linear)
    like_torch(m.weight, ref.weight, 1 / math.sqrt(300))
    like_torch(m.bias, ref.bias, 1 / math.sqrt(300))
    # the kaiming_uniform_(a=sqrt(5)) rule, keyed by name
    key = fastinit.Key(0)
    w = ft.kaiming_uniform_(torch.empty(400, 300), a=math.sqrt(5), seed=key.child("weight"))
    b = ft.uniform_(torch.empty(400), -300 ** -0.5, 300 ** -0.5, seed=key.child("bias"))
    assert torch.equal(m.weight, w) and torch.equal(m.bias, b)


@pytest.mark.parametrize("make, fan_in", [
    (lambda: nn.Conv1d(16, 32, 5), 16 * 5),
    (lambda: nn.Conv2d(16, 32, 3, groups=2), 8 * 9),
    (lambda: nn.Conv3d(4, 8, 3), 4 * 27),
    (lambda: nn.ConvTranspose2d(16, 32, 3), 32 * 9),  # weight (in, out, k, k): fan_in = out * k * k
    (lambda: nn.ConvTranspose1d(16, 12, 4, groups=4), 3 * 4),
])
def test_conv_bounds_match_torch(make, fan_in):
    torch.manual_seed(0)
    ref = make()
    m = ft.init_module(scramble(make()), seed=1)
    like_torch(m.weight, ref.weight, 1 / math.sqrt(fan_in))
    assert np.abs(values(m.bias)).max() <= 1 / math.sqrt(fan_in)
    assert scipy_stats.kstest(values(m.bias), "uniform", args=(-fan_in ** -0.5, 2 * fan_in ** -0.5)).pvalue > 1e-4


def test_bilinear():
    torch.manual_seed(0)
    ref = nn.Bilinear(20, 30, 40)
    m = ft.init_module(scramble(nn.Bilinear(20, 30, 40)), seed=0)
    like_torch(m.weight, ref.weight, 1 / math.sqrt(20))  # weight (out, in1, in2): in1
    assert np.abs(values(m.bias)).max() <= 1 / math.sqrt(20)


@pytest.mark.parametrize("cls", [nn.Embedding, nn.EmbeddingBag])
def test_embedding_normal_and_padding_row(cls):
    torch.manual_seed(0)
    ref = cls(500, 32, padding_idx=3)
    m = ft.init_module(scramble(cls(500, 32, padding_idx=3)), seed=0)
    assert (m.weight[3] == 0).all()
    keep = [i for i in range(500) if i != 3]
    like_torch(m.weight[keep], ref.weight[keep])
    assert abs(float(m.weight[keep].detach().std()) - 1) < 0.02


@pytest.mark.parametrize("make", [
    lambda: nn.LayerNorm(16), lambda: nn.LayerNorm((4, 4), bias=False), lambda: nn.GroupNorm(4, 16),
    lambda: nn.RMSNorm(16), lambda: nn.BatchNorm1d(16), lambda: nn.BatchNorm2d(16),
    lambda: nn.InstanceNorm2d(16, affine=True, track_running_stats=True), lambda: nn.BatchNorm3d(16),
])
def test_norms_equal_torch(make):
    ref = make()
    m = ft.init_module(scramble(make()), seed=0)
    assert same_state(m, ref)
    for t in m.state_dict().values():  # scramble() set 7 everywhere: all were reset
        assert not (t == 7).any()


def test_batchnorm_running_stats_reset():
    m = nn.BatchNorm1d(8)
    m.train()
    m(torch.randn(32, 8) * 5 + 3)
    assert m.num_batches_tracked == 1 and not (m.running_mean == 0).all()
    ft.init_module(m, seed=0)
    assert (m.running_mean == 0).all() and (m.running_var == 1).all() and m.num_batches_tracked == 0


@pytest.mark.filterwarnings("ignore:LSTM with projections")
@pytest.mark.parametrize("make, hidden", [
    (lambda: nn.LSTM(32, 50, num_layers=2, bidirectional=True), 50),
    (lambda: nn.GRU(32, 40), 40),
    (lambda: nn.RNN(32, 20, bias=False), 20),
    (lambda: nn.LSTM(32, 50, proj_size=10), 50),
    (lambda: nn.LSTMCell(16, 30), 30),
    (lambda: nn.GRUCell(16, 30), 30),
])
def test_rnn_uniform_hidden_bound(make, hidden):
    torch.manual_seed(0)
    ref = make()
    m = ft.init_module(scramble(make()), seed=0)
    like_torch(torch.cat([p.flatten() for p in m.parameters()]),
               torch.cat([p.flatten() for p in ref.parameters()]), 1 / math.sqrt(hidden))
    x = torch.randn(3, 32 if not isinstance(m, nn.RNNCellBase) else 16)
    m(x)  # the flat weights still work


def test_multihead_attention():
    torch.manual_seed(0)
    ref = nn.MultiheadAttention(64, 4, add_bias_kv=True)
    m = ft.init_module(scramble(nn.MultiheadAttention(64, 4, add_bias_kv=True)), seed=0)
    like_torch(m.in_proj_weight, ref.in_proj_weight, math.sqrt(6 / (64 + 192)))
    like_torch(m.out_proj.weight, ref.out_proj.weight, 1 / 8)
    assert (m.in_proj_bias == 0).all() and (m.out_proj.bias == 0).all()
    like_torch(torch.cat([m.bias_k, m.bias_v]), torch.cat([ref.bias_k, ref.bias_v]))
    key = fastinit.Key(0)
    assert torch.equal(m.in_proj_weight, ft.xavier_uniform_(torch.empty(192, 64), seed=key.child("in_proj_weight")))
    assert torch.equal(m.out_proj.weight, ft.kaiming_uniform_(torch.empty(64, 64), a=math.sqrt(5),
                                                              seed=key.child("out_proj.weight")))
    sep = ft.init_module(scramble(nn.MultiheadAttention(16, 2, kdim=8, vdim=12)), seed=0)
    assert np.abs(values(sep.k_proj_weight)).max() <= math.sqrt(6 / 24)
    assert not (sep.q_proj_weight == 7).any() and (sep.in_proj_bias == 0).all()


def test_transformer_layers_and_transformer():
    torch.manual_seed(0)
    layer = ft.init_module(scramble(nn.TransformerEncoderLayer(32, 4, 64, batch_first=True)), seed=0)
    assert np.abs(values(layer.linear1.weight)).max() <= 1 / math.sqrt(32)
    assert np.abs(values(layer.linear2.bias)).max() <= 1 / math.sqrt(64)
    assert (layer.norm1.weight == 1).all() and (layer.self_attn.in_proj_bias == 0).all()
    dec = ft.init_module(scramble(nn.TransformerDecoderLayer(32, 4, 64, batch_first=True)), seed=0)
    assert not any((t == 7).any() for t in dec.state_dict().values())
    # nn.Transformer: xavier_uniform_ on every parameter with 2 or more dimensions
    t = ft.init_module(scramble(nn.Transformer(32, 2, 2, 1, 64, batch_first=True)), seed=0)
    for name, p in t.named_parameters():
        if p.dim() > 1:
            bound = math.sqrt(6 / sum(p.shape))
            assert np.abs(values(p)).max() <= bound, name
            assert torch.equal(p, ft.xavier_uniform_(torch.empty(p.shape), seed=fastinit.Key(0).child(name))), name
        elif "norm" in name:
            assert (p == (1 if name.endswith("weight") else 0)).all(), name
    # the two encoder layers differ (torch's deepcopy gives them equal values; here each is keyed)
    assert not torch.equal(t.encoder.layers[0].linear1.weight, t.encoder.layers[1].linear1.weight)


def test_adding_a_layer_leaves_the_others_unchanged():
    def build(extra):
        layers = OrderedDict(emb=nn.Embedding(100, 16), l1=nn.Linear(16, 32))
        if extra:
            layers["new"] = nn.Linear(32, 32)
        layers["l2"] = nn.Linear(32, 8)
        layers["norm"] = nn.LayerNorm(8)
        return nn.Sequential(layers)

    a = ft.init_module(build(False), seed=42)
    b = ft.init_module(build(True), seed=42)
    sb = b.state_dict()
    for k, v in a.state_dict().items():
        assert torch.equal(v, sb[k]), k


@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_meta_to_empty_equals_cpu_built(dtype):
    def build():
        return nn.Sequential(nn.Embedding(50, 16, padding_idx=0), nn.LayerNorm(16),
                             nn.TransformerEncoderLayer(16, 2, 32, batch_first=True),
                             nn.LSTM(16, 8), nn.BatchNorm1d(8), nn.PReLU(), nn.Linear(8, 4))
    cpu = ft.init_module(build().to(dtype), seed=7)
    with torch.device("meta"):
        meta = build().to(dtype)
    assert meta[0].weight.is_meta
    assert ft.init_module(meta, seed=7) is meta  # meta tensors: nothing to fill, no error
    out = ft.init_module(meta.to_empty(device="cpu"), seed=7)
    assert same_state(out, cpu)
    assert all(p.dtype == dtype for p in out.parameters())


def test_same_seed_same_values_and_torch_manual_seed():
    def build():
        return nn.Sequential(nn.Linear(20, 30), nn.Conv2d(3, 4, 3), nn.Embedding(10, 4))
    assert same_state(ft.init_module(build(), seed=3), ft.init_module(build(), seed=3))
    assert same_state(ft.init_module(build(), seed=fastinit.Key(3)), ft.init_module(build(), seed=3))
    assert not same_state(ft.init_module(build(), seed=3), ft.init_module(build(), seed=4))
    torch.manual_seed(1)
    a = ft.init_module(build())
    torch.manual_seed(1)
    b = ft.init_module(build())
    c = ft.init_module(build())
    assert same_state(a, b) and not same_state(a, c)
    # an explicit seed draws nothing from torch
    m = build()
    state = torch.get_rng_state()
    ft.init_module(m, seed=0)
    assert torch.equal(state, torch.get_rng_state())


class Custom(nn.Module):
    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.empty(64, 32))
        self.b = nn.Parameter(torch.empty(64))
        self.inner = nn.Linear(32, 8)
        self.reset_parameters()

    def reset_parameters(self):
        nn.init.trunc_normal_(self.w, std=0.02)
        with torch.no_grad():
            self.b.normal_(0, 0.5)


def test_custom_module_with_reset_parameters():
    m = scramble(Custom())
    state = torch.get_rng_state()
    a = ft.init_module(m, seed=5)
    assert torch.equal(state, torch.get_rng_state())  # the default generator is restored
    b = ft.init_module(scramble(Custom()), seed=5)
    c = ft.init_module(scramble(Custom()), seed=6)
    assert same_state(a, b) and not same_state(a, c)
    assert np.abs(values(a.w)).max() <= 2 and abs(values(a.w).std() - 0.02) < 0.005
    assert abs(values(a.b).std() - 0.5) < 0.2
    assert np.abs(values(a.inner.weight)).max() <= 32 ** -0.5
    assert not ft.patched()


def test_custom_module_runs_on_fastinit(monkeypatch):
    from fastinit import fills
    n = []
    real = fills.truncated_normal
    monkeypatch.setattr(fills, "truncated_normal", lambda *a, **k: n.append(1) or real(*a, **k))
    ft.init_module(Custom(), seed=0)
    assert n == [1]


def test_a_parameter_no_rule_reaches_warns():
    class Bare(nn.Module):
        def __init__(self):
            super().__init__()
            self.scale = nn.Parameter(torch.full((4,), 7.0))
            self.lin = nn.Linear(4, 4)

    m = Bare()
    with pytest.warns(UserWarning, match="no rule initializes scale"):
        ft.init_module(m, seed=0)
    assert (m.scale == 7).all() and not (m.lin.weight == 7).any()


def test_hf_scheme():
    m = nn.Sequential(OrderedDict(
        emb=nn.Embedding(1000, 64, padding_idx=2), proj=nn.Linear(64, 256), norm=nn.LayerNorm(256),
        rms=nn.RMSNorm(256), conv=nn.Conv1d(8, 16, 3), bn=nn.BatchNorm1d(16), lstm=nn.LSTM(8, 16)))
    scramble(m)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        ft.init_module(m, seed=0, scheme="hf")
    assert abs(float(m.emb.weight.detach().std()) - 0.02) < 0.001 and (m.emb.weight[2] == 0).all()
    assert abs(float(m.proj.weight.detach().std()) - 0.02) < 0.001 and (m.proj.bias == 0).all()
    assert (m.norm.weight == 1).all() and (m.norm.bias == 0).all() and (m.rms.weight == 1).all()
    assert (m.conv.bias == 0).all() and (m.bn.running_var == 1).all()
    assert np.abs(values(m.lstm.weight_ih_l0)).max() <= math.sqrt(6 / (64 + 8))
    assert (m.lstm.bias_ih_l0 == 0).all()
    ft.init_module(m, seed=0, scheme="hf", initializer_range=0.1)
    assert abs(float(m.proj.weight.detach().std()) - 0.1) < 0.005
    key = fastinit.Key(0)
    assert torch.equal(m.proj.weight, ft.normal_(torch.empty(256, 64), 0, 0.1, seed=key.child("proj.weight")))
    # a class named like Hugging Face's norms
    class MyRMSNorm(nn.Module):
        def __init__(self):
            super().__init__()
            self.weight = nn.Parameter(torch.full((8,), 7.0))
    for scheme in ("hf", "torch"):
        n = ft.init_module(MyRMSNorm(), seed=0, scheme=scheme)
        assert (n.weight == 1).all()


def test_bad_arguments():
    with pytest.raises(TypeError, match="module"):
        ft.init_module(torch.empty(3), seed=0)
    with pytest.raises(ValueError, match="scheme"):
        ft.init_module(nn.Linear(2, 2), seed=0, scheme="jax")
    with pytest.raises(TypeError, match="seed"):
        ft.init_module(nn.Linear(2, 2), seed=1.5)
    with pytest.raises(ValueError, match="initializer_range"):
        ft.init_module(nn.Linear(2, 2), seed=0, scheme="hf", initializer_range=float("nan"))


def test_llama_meta_hf_scheme():
    transformers = pytest.importorskip("transformers")
    cfg = transformers.LlamaConfig(vocab_size=512, hidden_size=64, intermediate_size=128,
                                   num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                                   max_position_embeddings=64)
    ref = transformers.LlamaForCausalLM(cfg)
    with torch.device("meta"):
        meta = transformers.LlamaForCausalLM(cfg)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        m = ft.init_module(meta.to_empty(device="cpu"), seed=0, scheme="hf",
                           initializer_range=cfg.initializer_range)
    cpu = ft.init_module(transformers.LlamaForCausalLM(cfg), seed=0, scheme="hf")
    assert same_state(m, cpu)
    assert torch.equal(m.model.rotary_emb.inv_freq, ref.model.rotary_emb.inv_freq)
    for k, v in m.state_dict().items():
        if k.endswith("proj.weight"):
            assert abs(float(v.std()) - 0.02) < 0.003, k
        elif "norm" in k:
            assert (v == 1).all(), k
    with torch.no_grad():
        assert m(torch.randint(0, 512, (1, 8))).logits.isfinite().all()


@pytest.mark.skipif(not torch.cuda.is_available(), reason="no CUDA device")
@pytest.mark.parametrize("dtype", [torch.float32, torch.bfloat16])
def test_cuda_meta_to_empty(dtype):
    def build():
        return nn.Sequential(nn.Embedding(50, 16, padding_idx=0), nn.Linear(16, 32), nn.LayerNorm(32),
                             nn.MultiheadAttention(32, 2), nn.LSTM(32, 8)).to(dtype)
    with torch.device("meta"):
        meta = build()
    m = ft.init_module(meta.to_empty(device="cuda"), seed=1)
    cpu = ft.init_module(build(), seed=1)
    for (k, a), (_, b) in zip(m.state_dict().items(), cpu.state_dict().items()):
        assert a.is_cuda
        assert torch.equal(a.cpu(), b), k  # bfloat16 too: the GPU kernels write its bits
