"""``fastinit.torch.patch()``: torch.nn.init's functions (wherever they were imported), transformers'
table of torch's originals, and ``Tensor.normal_``/``uniform_`` on fastinit inside; the originals
restored on exit, on exceptions, nested and from several threads; torch's layers and Hugging Face's
LlamaForCausalLM constructed inside get fastinit's values, seeded by ``torch.manual_seed``.
"""
import math
import sys
import threading
import types

import pytest

torch = pytest.importorskip("torch")

import fastinit.torch as ft  # noqa: E402
from fastinit import fills as _fills  # noqa: E402

nn = torch.nn
NAMES = ft._PATCHED_NAMES
HOLDERS = {  # modules that import init functions by name
    "torch.nn.modules.activation": ("constant_", "xavier_normal_", "xavier_uniform_"),
    "torch.nn.modules.transformer": ("xavier_uniform_",),
}


def originals():
    """Every patched name's current object, and whether Tensor has its own normal_/uniform_."""
    state = {("torch.nn.init", n): getattr(torch.nn.init, n) for n in NAMES}
    for mod, names in HOLDERS.items():
        state.update({(mod, n): getattr(sys.modules[mod], n) for n in names})
    state[("Tensor", "normal_")] = torch.Tensor.__dict__.get("normal_")
    state[("Tensor", "uniform_")] = torch.Tensor.__dict__.get("uniform_")
    return state


ORIGINAL = originals()


def assert_restored():
    now = originals()
    for k, v in ORIGINAL.items():
        assert now[k] is v, k
    assert torch.Tensor.normal_ is ft._T_normal_ and torch.Tensor.uniform_ is ft._T_uniform_
    assert not ft.patched()


def assert_patched():
    assert ft.patched()
    for n in NAMES:
        assert getattr(torch.nn.init, n) is getattr(ft, n), n
    for mod, names in HOLDERS.items():
        for n in names:
            assert getattr(sys.modules[mod], n) is getattr(ft, n), (mod, n)
    assert torch.Tensor.normal_ is ft._tensor_normal_
    assert torch.Tensor.uniform_ is ft._tensor_uniform_


def test_originals_are_torch_s():
    for n in NAMES:
        assert ORIGINAL[("torch.nn.init", n)] is getattr(ft._TORCH_INIT, n)
        assert ORIGINAL[("torch.nn.init", n)].__module__ == "torch.nn.init"
    assert ORIGINAL[("Tensor", "normal_")] is None  # inherited from torch._C.TensorBase
    assert_restored()


def test_restored_on_exit_and_on_exception():
    with ft.patch() as p:
        assert isinstance(p, ft.patch)
        assert_patched()
    assert_restored()
    with pytest.raises(KeyError, match="boom"):
        with ft.patch():
            assert_patched()
            raise KeyError("boom")
    assert_restored()


def test_nested_and_decorator():
    calls = []

    @ft.patch()
    def build():
        assert_patched()
        calls.append(1)
        return nn.Linear(3, 4)

    with ft.patch():
        with ft.patch():
            assert_patched()
        assert_patched()  # the inner exit restores nothing
        build()
    assert_restored()
    build()
    build()
    assert calls == [1, 1, 1]
    assert_restored()
    p = ft.patch()  # one object entered twice, nested
    with p:
        with p:
            assert_patched()
        assert_patched()
    assert_restored()


def test_threads_enter_and_exit_concurrently():
    n, rounds = 8, 25
    barrier = threading.Barrier(n)
    errors = []

    def work(i):
        try:
            barrier.wait()
            for r in range(rounds):
                with ft.patch():
                    assert ft.patched()
                    assert torch.nn.init.kaiming_uniform_ is ft.kaiming_uniform_
                    assert torch.Tensor.normal_ is ft._tensor_normal_
                    w = torch.empty(16, 8)
                    torch.nn.init.kaiming_uniform_(w, a=math.sqrt(5), generator=torch.Generator().manual_seed(i))
                    ref = ft.kaiming_uniform_(torch.empty(16, 8), a=math.sqrt(5),
                                              generator=torch.Generator().manual_seed(i))
                    assert torch.equal(w, ref)
                    if r % 5 == 0:
                        nn.Linear(8, 8)
        except BaseException as e:  # noqa: BLE001
            errors.append(e)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors, errors[0]
    assert_restored()


def test_modules_imported_by_name_are_patched_and_restored():
    fake = types.ModuleType("fake_model_lib")
    fake.trunc_normal_ = torch.nn.init.trunc_normal_      # from torch.nn.init import trunc_normal_
    fake.my_normal = torch.nn.init.normal_                # ... import normal_ as my_normal
    fake.other = len
    sys.modules["fake_model_lib"] = fake
    try:
        with ft.patch():
            assert fake.trunc_normal_ is ft.trunc_normal_ and fake.my_normal is ft.normal_
            assert fake.other is len
        assert fake.trunc_normal_ is torch.nn.init.trunc_normal_ is ORIGINAL[("torch.nn.init", "trunc_normal_")]
        assert fake.my_normal is ORIGINAL[("torch.nn.init", "normal_")]
        # a name reassigned by someone else while patched is left as it is
        with ft.patch():
            fake.my_normal = print
        assert fake.my_normal is print
    finally:
        del sys.modules["fake_model_lib"]
    assert_restored()


def test_patched_functions_equal_fastinit_s_and_draw_from_torch():
    with ft.patch():
        torch.manual_seed(3)
        a = torch.nn.init.trunc_normal_(torch.empty(50, 40), std=0.02, a=-0.04, b=0.04)
        b = torch.nn.init.xavier_normal_(torch.empty(50, 40))
        with pytest.warns(FutureWarning, match="nn.init.normal"):
            c = torch.nn.init.normal(torch.empty(10))
    torch.manual_seed(3)
    assert torch.equal(a, ft.trunc_normal_(torch.empty(50, 40), std=0.02, a=-0.04, b=0.04))
    assert torch.equal(b, ft.xavier_normal_(torch.empty(50, 40)))
    assert torch.equal(c, ft.normal_(torch.empty(10)))


def test_no_recursion_for_tensors_fastinit_hands_to_torch():
    class Sub(torch.Tensor):
        @classmethod
        def __torch_function__(cls, func, types, args=(), kwargs=None):
            return super().__torch_function__(func, types, args, kwargs or {})

    with ft.patch():
        torch.manual_seed(0)
        s = torch.empty(20, 10).as_subclass(Sub)
        torch.nn.init.normal_(s, 0, 1)
        torch.nn.init.trunc_normal_(s)
        torch.nn.init.kaiming_uniform_(s)
        s.normal_(0, 1)
        s.uniform_(0, 1)
        i = torch.zeros(5, dtype=torch.int32)
        with pytest.raises(NotImplementedError):  # torch's own error (integer tensor)
            torch.nn.init.uniform_(i, 0, 10)
        torch.nn.init.constant_(i, 3)
        assert (i == 3).all()
    assert_restored()


# --- torch's own layers constructed inside patch() ------------------------------------------------

def seeded(build, seed=0):
    torch.manual_seed(seed)
    return build()


def same_state(a, b):
    sa, sb = a.state_dict(), b.state_dict()
    return sa.keys() == sb.keys() and all(torch.equal(sa[k], sb[k]) for k in sa)


LAYERS = {
    "Linear": lambda: nn.Linear(64, 48),
    "Conv2d": lambda: nn.Conv2d(8, 16, 3),
    "MultiheadAttention": lambda: nn.MultiheadAttention(32, 4),
    "Embedding": lambda: nn.Embedding(100, 16, padding_idx=1),
    "LayerNorm": lambda: nn.LayerNorm(16),
    "Transformer": lambda: nn.Transformer(32, 2, 1, 1, 64, batch_first=True),
    "LSTM": lambda: nn.LSTM(16, 12),
}


@pytest.mark.parametrize("name", LAYERS)
def test_layers_inside_patch_reproducible_and_not_torch_s(name):
    build = LAYERS[name]
    with ft.patch():
        a, b = seeded(build), seeded(build)
        c = seeded(build, 1)
    torch_s = seeded(build)
    assert same_state(a, b)
    if name != "LayerNorm":  # ones and zeros either way
        assert not same_state(a, torch_s)
        assert not same_state(a, c)
    else:
        assert same_state(a, torch_s)
    assert_restored()


def test_linear_and_conv_equal_direct_calls():
    with ft.patch():
        lin = seeded(lambda: nn.Linear(64, 48))
        conv = seeded(lambda: nn.Conv2d(8, 16, 3))
    for layer, fan_in in ((lin, 64), (conv, 8 * 9)):
        torch.manual_seed(0)
        w = ft.kaiming_uniform_(torch.empty(layer.weight.shape), a=math.sqrt(5))
        b = ft.uniform_(torch.empty(layer.bias.shape), -1 / math.sqrt(fan_in), 1 / math.sqrt(fan_in))
        assert torch.equal(layer.weight, w) and torch.equal(layer.bias, b)


def test_embedding_and_layernorm_equal_direct_calls():
    with ft.patch():
        emb = seeded(lambda: nn.Embedding(100, 16, padding_idx=1))
        ln = seeded(lambda: nn.LayerNorm(16))
    torch.manual_seed(0)
    w = ft.normal_(torch.empty(100, 16))
    w[1] = 0
    assert torch.equal(emb.weight, w)
    assert (emb.weight[1] == 0).all()
    assert torch.equal(ln.weight, torch.ones(16)) and torch.equal(ln.bias, torch.zeros(16))


def test_multihead_attention_equals_direct_calls():
    """MHA's constructor: out_proj (a Linear: kaiming, uniform bias), then _reset_parameters:
    xavier_uniform_ (imported by name into torch.nn.modules.activation), constant_ biases."""
    with ft.patch():
        mha = seeded(lambda: nn.MultiheadAttention(32, 4, add_bias_kv=True))
    torch.manual_seed(0)
    out_w = ft.kaiming_uniform_(torch.empty(32, 32), a=math.sqrt(5))
    ft.uniform_(torch.empty(32), -1, 1)  # out_proj.bias, zeroed afterwards
    in_w = ft.xavier_uniform_(torch.empty(96, 32))
    bias_k = ft.xavier_normal_(torch.empty(1, 1, 32))
    bias_v = ft.xavier_normal_(torch.empty(1, 1, 32))
    assert torch.equal(mha.out_proj.weight, out_w)
    assert torch.equal(mha.in_proj_weight, in_w)
    assert torch.equal(mha.bias_k, bias_k) and torch.equal(mha.bias_v, bias_v)
    assert (mha.in_proj_bias == 0).all() and (mha.out_proj.bias == 0).all()


def test_layers_use_fastinit_kernels(monkeypatch):
    """The fills inside the constructors are fastinit's kernels (counted), not torch's RNG."""
    counts = {"uniform": 0, "normal": 0}
    for name in counts:
        real = getattr(_fills, name)

        def spy(*a, _real=real, _name=name, **k):
            counts[_name] += 1
            return _real(*a, **k)
        monkeypatch.setattr(_fills, name, spy)
    with ft.patch():
        nn.Linear(8, 8)              # kaiming (an initializer) + uniform bias
        nn.Embedding(10, 4)          # normal
        torch.empty(5).normal_()
        torch.empty(5).uniform_()
    assert counts["uniform"] >= 2 and counts["normal"] == 2


# --- Tensor.normal_ / Tensor.uniform_ ------------------------------------------------------------

def test_tensor_methods_equal_fastinit_functions():
    with ft.patch():
        torch.manual_seed(5)
        a = torch.empty(300, 7).normal_(mean=0.0, std=0.02)
        b = torch.empty(300, 7).normal_(1.0, 2.0)
        c = torch.empty(300, 7).uniform_(-3, 4)
        d = torch.empty(300, 7).uniform_(**{"from": -1, "to": 1})
        g = torch.Generator().manual_seed(9)
        e = torch.empty(300, 7, dtype=torch.bfloat16).normal_(std=0.5, generator=g)
        f = nn.Parameter(torch.empty(40, 3))
        f.data.normal_(mean=0.0, std=0.02)      # Hugging Face 4's _init_weights
        with torch.no_grad():
            f.uniform_(-0.1, 0.1)               # a Parameter under no_grad
    torch.manual_seed(5)
    assert torch.equal(a, ft.normal_(torch.empty(300, 7), 0.0, 0.02))
    assert torch.equal(b, ft.normal_(torch.empty(300, 7), 1.0, 2.0))
    assert torch.equal(c, ft.uniform_(torch.empty(300, 7), -3, 4))
    assert torch.equal(d, ft.uniform_(torch.empty(300, 7), -1, 1))
    assert torch.equal(e, ft.normal_(torch.empty(300, 7, dtype=torch.bfloat16), 0, 0.5,
                                     generator=torch.Generator().manual_seed(9)))
    ft.normal_(torch.empty(40, 3), 0.0, 0.02)
    assert torch.equal(f.detach(), ft.uniform_(torch.empty(40, 3), -0.1, 0.1))
    assert f.requires_grad and isinstance(f, nn.Parameter)


def test_tensor_methods_keep_torch_s_behaviour_elsewhere():
    with ft.patch():
        p = nn.Parameter(torch.empty(3))
        with pytest.raises(RuntimeError, match="leaf Variable"):
            p.normal_()                      # torch's autograd error, as without patch()
        x = torch.ones(4, requires_grad=True)
        y = x * 2
        y.uniform_(0, 1)                     # autograd records it: torch's method
        assert y.grad_fn is not None
        with pytest.raises(RuntimeError):
            torch.empty(3).normal_(0, -1)    # torch's own error
        with pytest.raises(TypeError):
            torch.empty(3).normal_(0, 1, 2)  # torch's own error
        with pytest.raises(NotImplementedError):  # torch's method for integers
            torch.empty(10, dtype=torch.int64).uniform_(0, 10)
        n = torch.empty(4).normal_(float("nan"), 1)  # torch's NaN fill, as without patch
        assert n.isnan().all()
        m = torch.empty(4, device="meta").normal_()
        assert m.is_meta
        assert torch.empty(0).uniform_().numel() == 0


def test_hf_style_init_weights_under_patch():
    """Model code that fills Parameters through .data.normal_ (Hugging Face 4 style)."""
    class Model(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = nn.Embedding(50, 16)
            self.proj = nn.Linear(16, 16)
            for m in self.modules():
                if isinstance(m, (nn.Linear, nn.Embedding)):
                    m.weight.data.normal_(mean=0.0, std=0.02)
                if isinstance(m, nn.Linear):
                    m.bias.data.zero_()

    with ft.patch():
        a, b = seeded(Model), seeded(Model)
    assert same_state(a, b)
    assert not same_state(a, seeded(Model))
    assert abs(float(a.emb.weight.detach().std()) - 0.02) < 0.003


# --- Hugging Face transformers ---------------------------------------------------------------------

def test_transformers_llama_under_patch():
    transformers = pytest.importorskip("transformers")
    import transformers.initialization as hf_init
    table = dict(hf_init.TORCH_INIT_FUNCTIONS)
    cfg = transformers.LlamaConfig(vocab_size=512, hidden_size=64, intermediate_size=128,
                                   num_hidden_layers=2, num_attention_heads=4, num_key_value_heads=2,
                                   max_position_embeddings=64, initializer_range=0.05)
    with ft.patch():
        for k, v in hf_init.TORCH_INIT_FUNCTIONS.items():
            assert v is getattr(ft, k), k
        a = seeded(lambda: transformers.LlamaForCausalLM(cfg))
        b = seeded(lambda: transformers.LlamaForCausalLM(cfg))
    assert hf_init.TORCH_INIT_FUNCTIONS == table
    assert all(hf_init.TORCH_INIT_FUNCTIONS[k] is v for k, v in table.items())
    assert_restored()
    torch_s = seeded(lambda: transformers.LlamaForCausalLM(cfg))
    assert same_state(a, b)
    sa, st = a.state_dict(), torch_s.state_dict()
    for k, v in sa.items():
        if k.endswith("proj.weight") or "embed_tokens" in k:
            assert not torch.equal(v, st[k]), k
            assert abs(float(v.std()) - 0.05) < 0.006, (k, float(v.std()))
        elif "norm" in k:
            assert (v == 1).all(), k
    assert torch.equal(a.model.rotary_emb.inv_freq, torch_s.model.rotary_emb.inv_freq)
    with torch.no_grad():
        out = a(torch.randint(0, 512, (1, 8))).logits
    assert out.shape == (1, 8, 512) and out.isfinite().all()
