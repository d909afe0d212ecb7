"""Whole-model initialization: a decoder-only transformer of about ``--params`` parameters built
and initialized three ways, each in a fresh subprocess, beside the first-touch ceiling.

    .venv/bin/python bench/bench_model.py                                  # 2e8 parameters, a minute or two
    .venv/bin/python bench/bench_model.py --params 1e9 --dtype float32 bfloat16 --repeat 3
    .venv/bin/python bench/bench_model.py --models torch --ways torch patch --json out.json

Models: ``torch`` (torch.nn modules only: an Embedding, N blocks of q/k/v/o Linear layers, a
gated MLP of three Linear layers and two RMSNorms, a final RMSNorm and an untied lm_head), and
``llama`` (transformers' ``LlamaForCausalLM`` from a ``LlamaConfig`` of the same sizes; where
transformers is installed).

Ways, each in its own process:

- ``torch``: the constructor as it is (torch's ``reset_parameters``; for Llama also Hugging Face's
  ``_init_weights`` pass over every weight);
- ``patch``: the same constructor inside ``fastinit.torch.patch()``;
- ``meta``: the constructor on the ``meta`` device, ``to_empty(device="cpu")`` and
  ``fastinit.torch.init_module`` (``scheme="hf"`` for Llama).

The first-touch ceiling, in each process: the model's parameter shapes allocated fresh with
``torch.empty`` and filled with a constant (``fill_``), then freed; a fresh allocation is bounded
by its page faults, so no initialization of fresh memory can be faster. It runs twice: once
before the way ("cold ceiling s": the process's first touch of that much memory, which on a
virtual machine includes the host backing it), and once after the way's model is freed
("ceiling s", in memory the process has just used, as the way used the memory the cold run had
freed). "ratio" is ceiling s over the way's time (1.0 = at the ceiling). "THP ceiling s" is the
same fill with each tensor advised to use transparent huge pages first (``madvise``, as fastinit
does with ``FASTINIT_HUGEPAGES=1``, ``fastinit._hugepages``; torch's allocator does not): 2 MiB
faults instead of 4 KiB ones, but synchronous compaction where free 2 MiB pages are scarce
(measured slower at 10^9 parameters here, hence off by default). The ``fill_`` row is the
ceiling as a way (a sanity row: its ratio is about 1). Peak RSS is
``resource.getrusage(RUSAGE_SELF).ru_maxrss`` of the subprocess over the way alone (restarted
after the cold ceiling through ``/proc/self/clear_refs``); "+RSS" is that peak minus the RSS just
before the way (after the imports and the warm-up), against the model's bytes. Each process runs
with ``MALLOC_MMAP_THRESHOLD_=65536`` (glibc maps every allocation over 64 KiB on its own and
unmaps it when freed, instead of reusing freed heap memory), so every allocation is fresh. The warm-up (the same way on a tiny model of the
same kind: imports, transformers' lazy modules, torch's meta device mode, fastinit's first calls)
runs before the clock starts and is reported separately.
"""
from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
VOCAB = 32000


def sizes(params: float) -> dict:
    """Llama-like sizes for about ``params`` parameters."""
    d = 1024 if params < 5e8 else 2048 if params < 5e9 else 4096
    h = int(round(8 * d / 3 / 256)) * 256
    per_layer = 4 * d * d + 3 * d * h + 2 * d
    layers = max(1, round((params - 2 * VOCAB * d - d) / per_layer))
    return dict(vocab=VOCAB, d=d, hidden=h, layers=layers, heads=max(1, d // 128),
                total=2 * VOCAB * d + d + layers * per_layer)


def build_torch(s: dict):
    import torch.nn as nn

    class Attention(nn.Module):
        def __init__(self):
            super().__init__()
            d = s["d"]
            self.q_proj = nn.Linear(d, d, bias=False)
            self.k_proj = nn.Linear(d, d, bias=False)
            self.v_proj = nn.Linear(d, d, bias=False)
            self.o_proj = nn.Linear(d, d, bias=False)

    class MLP(nn.Module):
        def __init__(self):
            super().__init__()
            self.gate_proj = nn.Linear(s["d"], s["hidden"], bias=False)
            self.up_proj = nn.Linear(s["d"], s["hidden"], bias=False)
            self.down_proj = nn.Linear(s["hidden"], s["d"], bias=False)

    class Block(nn.Module):
        def __init__(self):
            super().__init__()
            self.input_layernorm = nn.RMSNorm(s["d"])
            self.self_attn = Attention()
            self.post_attention_layernorm = nn.RMSNorm(s["d"])
            self.mlp = MLP()

    class Decoder(nn.Module):
        def __init__(self):
            super().__init__()
            self.embed_tokens = nn.Embedding(s["vocab"], s["d"])
            self.layers = nn.ModuleList(Block() for _ in range(s["layers"]))
            self.norm = nn.RMSNorm(s["d"])
            self.lm_head = nn.Linear(s["d"], s["vocab"], bias=False)

    return Decoder()


def build_llama(s: dict):
    import transformers
    cfg = transformers.LlamaConfig(
        vocab_size=s["vocab"], hidden_size=s["d"], intermediate_size=s["hidden"],
        num_hidden_layers=s["layers"], num_attention_heads=s["heads"],
        num_key_value_heads=s["heads"], tie_word_embeddings=False, max_position_embeddings=2048)
    return transformers.LlamaForCausalLM(cfg)


def rss_now() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")


def make(model: str, way: str, s: dict):
    """Build (and initialize) the model ``way``."""
    import torch

    import fastinit.torch as ft
    build = build_llama if model == "llama" else build_torch
    if way == "torch":
        return build(s)
    if way == "patch":
        with ft.patch():
            return build(s)
    if way == "meta":
        with torch.device("meta"):
            m = build(s)
        m.to_empty(device="cpu")
        return ft.init_module(m, seed=0, scheme="hf" if model == "llama" else "torch")
    raise ValueError(way)


def child(model: str, way: str, dtype_name: str, params: float) -> dict:
    import gc
    import resource

    import torch

    import fastinit.torch as ft
    if model == "llama":
        import transformers  # noqa: F401  (imported before the clock)
    s = sizes(params)
    dtype = getattr(torch, dtype_name)
    torch.set_default_dtype(dtype)
    # warm-up, off the clock: the same way on a tiny model of the same kind (imports, transformers'
    # lazy modules, torch's meta-device mode, fastinit's first calls)
    t0 = time.perf_counter()
    tiny = dict(vocab=256, d=128, hidden=256, layers=1, heads=1, total=0)
    if way != "fill_":
        make(model, way, tiny)
    with torch.device("meta"):
        shapes = [(p.shape, p.dtype) for p in
                  (build_llama if model == "llama" else build_torch)(s).parameters()]
    warm = time.perf_counter() - t0

    def ceiling(huge: bool = False) -> float:
        """The model's shapes allocated fresh and filled with a constant; freed. ``huge``: each
        tensor advised to use transparent huge pages first (``FASTINIT_HUGEPAGES=1``)."""
        from fastinit import _hugepages
        t0 = time.perf_counter()
        fresh = [torch.empty(shape, dtype=dt) for shape, dt in shapes]
        for t in fresh:
            if huge:
                flat = t.view(torch.uint8) if t.dtype == torch.bfloat16 else t
                saved, _hugepages.ENABLED = _hugepages.ENABLED, True
                _hugepages.advise(flat.numpy())
                _hugepages.ENABLED = saved
            t.fill_(0.5)
        return time.perf_counter() - t0

    cold = ceiling()  # the process's first touch of that much memory
    gc.collect()
    with open("/proc/self/clear_refs", "w") as f:  # restart the peak RSS (ru_maxrss) from here
        f.write("5")
    base = rss_now()
    t0 = time.perf_counter()
    if way == "fill_":
        m = [torch.empty(shape, dtype=dt) for shape, dt in shapes]
        for t in m:
            t.fill_(0.5)
        params_ = m
    else:
        m = make(model, way, s)
        params_ = list(m.parameters())
    wall = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    n = sum(p.numel() for p in params_)
    nbytes = sum(p.numel() * p.element_size() for p in params_)
    del m, params_
    gc.collect()
    warm_ceiling = ceiling()  # in the memory the way had just used, as it had the cold one's
    gc.collect()
    huge_ceiling = ceiling(huge=True)
    return dict(model=model, way=way, dtype=dtype_name, params=n, bytes=nbytes, wall=wall,
                ceiling=warm_ceiling, huge=huge_ceiling, cold=cold, warm=warm, peak=peak, base=base,
                threads=torch.get_num_threads())


def run_child(model: str, way: str, dtype: str, params: float, repeat: int = 1) -> dict:
    """The row of the fastest of ``repeat`` fresh processes."""
    return min((run_once(model, way, dtype, params) for _ in range(max(1, repeat))),
               key=lambda r: r["wall"])


def run_once(model: str, way: str, dtype: str, params: float) -> dict:
    # glibc: every allocation over 64 KiB its own mapping, unmapped when freed (a fixed threshold,
    # not raised by frees), so each allocation is fresh memory, for the ways and the ceilings alike
    env = dict(os.environ, MALLOC_MMAP_THRESHOLD_="65536", MALLOC_TRIM_THRESHOLD_="0")
    out = subprocess.run([sys.executable, os.path.abspath(__file__), "--child", model, way, dtype,
                          "--params", str(params)], cwd=ROOT, capture_output=True, text=True,
                         env=env)
    if out.returncode != 0:
        raise RuntimeError(f"{model}/{way}/{dtype} failed:\n{out.stderr[-3000:]}")
    return json.loads(out.stdout.strip().splitlines()[-1])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--params", type=float, default=2e8, help="about how many parameters (2e8)")
    ap.add_argument("--dtype", nargs="+", default=["float32", "bfloat16"])
    ap.add_argument("--models", nargs="+", default=["torch", "llama"], choices=["torch", "llama"])
    ap.add_argument("--ways", nargs="+", default=["torch", "patch", "meta"],
                    choices=["torch", "patch", "meta"])
    ap.add_argument("--repeat", type=int, default=1,
                    help="fresh processes per row; the fastest is shown (1; 3 on a busy machine)")
    ap.add_argument("--json", help="write the rows to this file")
    ap.add_argument("--child", nargs=3, help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        print(json.dumps(child(*args.child, args.params)))
        return
    models = list(args.models)
    if "llama" in models:
        try:
            import transformers  # noqa: F401
        except ImportError:
            print("transformers is not installed: the llama model is skipped")
            models.remove("llama")
    s = sizes(args.params)
    print(f"decoder: vocab {s['vocab']}, d {s['d']}, mlp {s['hidden']}, {s['layers']} layers, "
          f"{s['total'] / 1e9:.3f} G parameters; each row the fastest of {args.repeat} fresh process(es); "
          f"{os.cpu_count()} CPUs")
    rows = []
    head = (f"| {'model':<6} | {'dtype':<8} | {'way':<7} | {'wall s':>7} | {'M param/s':>9} | "
            f"{'ceiling s':>9} | {'ratio':>5} | {'THP ceiling s':>13} | {'THP ratio':>9} | "
            f"{'cold ceiling s':>14} | {'peak RSS GB':>11} | "
            f"{'+RSS GB':>7} | {'model GB':>8} | {'warm-up s':>9} |")
    print(head)
    print("|" + "|".join("-" * (len(c)) for c in head.split("|")[1:-1]) + "|")
    for dtype in args.dtype:
        for model in ["-"] + models:
            for way in ["fill_"] if model == "-" else args.ways:
                r = run_child("torch" if model == "-" else model, way, dtype, args.params, args.repeat)
                rows.append(r)
                print(f"| {model:<6} | {dtype:<8} | {way:<7} | {r['wall']:7.2f} | "
                      f"{r['params'] / r['wall'] / 1e6:9.0f} | {r['ceiling']:9.2f} | "
                      f"{r['ceiling'] / r['wall']:5.2f} | {r['huge']:13.2f} | {r['huge'] / r['wall']:9.2f} | "
                      f"{r['cold']:14.2f} | {r['peak'] / 1e9:11.2f} | "
                      f"{(r['peak'] - r['base']) / 1e9:7.2f} | {r['bytes'] / 1e9:8.2f} | "
                      f"{r['warm']:9.2f} |", flush=True)
    if args.json:
        with open(args.json, "w") as f:
            json.dump(rows, f, indent=1)


if __name__ == "__main__":
    main()
