"""The ``fastinit`` command (issue 13), run in subprocesses: ``init`` to .npy and safetensors equal
to the in-memory tensors, atomic under SIGINT, SIGTERM and a full disk, ``--force``, the spec's
checks, bounded memory, ``warmup`` and ``info``, and usage errors without tracebacks.

Many argument lists go through one interpreter (``RUN_MANY``: ``fastinit.cli.main`` once per
list, each with its exit status and output), so the suite stays fast; the entry points themselves
(``python -m fastinit``, the console script) run as their own processes."""
import json
import os
import shutil
import signal
import subprocess
import sys
import textwrap
import time

import numpy as np
import pytest

import fastinit
from cli_runs import ROOT, run_many



# runs fastinit.cli.main(argv[1:]) with files._pwrite patched by FASTINIT_TEST_MODE: "slow" (20 ms
# a write: time to send a signal), "full" (ENOSPC from the fourth write on), "rss" (prints the
# peak RSS in kB at the end)
PATCHED = textwrap.dedent("""
    import errno, os, resource, signal, sys, time
    signal.signal(signal.SIGINT, signal.default_int_handler)  # even if started with SIGINT ignored
    from fastinit import cli, files
    mode = os.environ.get("FASTINIT_TEST_MODE")
    real = files._pwrite
    calls = [0]
    def patched(fd, data, offset):
        calls[0] += 1
        if mode == "slow":
            time.sleep(0.02)
        if mode == "full" and calls[0] > 3:
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        return real(fd, data, offset)
    files._pwrite = patched
    rc = cli.main(sys.argv[1:])
    if mode == "rss":
        print("maxrss", resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
    sys.exit(rc)
""")




def fastinit_cmd(*args, cwd=ROOT, env=None, timeout=300):
    return subprocess.run([sys.executable, "-m", "fastinit", *map(str, args)], cwd=cwd,
                          capture_output=True, text=True, timeout=timeout, env=env)


def patched(mode, *args, cwd, **kw):
    env = dict(os.environ, FASTINIT_TEST_MODE=mode)
    return subprocess.Popen([sys.executable, "-c", PATCHED, *map(str, args)], cwd=cwd, env=env,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)


def _bits(a):
    return np.ascontiguousarray(a).reshape(-1).view(np.uint8)


def _no_traceback(result):
    assert "Traceback" not in result["err"], result["err"]


# --- the entry points ------------------------------------------------------------------------------

def test_python_m_fastinit_writes_npy_and_safetensors(tmp_path):
    torch = pytest.importorskip("torch")
    from safetensors.torch import load_file
    r = fastinit_cmd("init", "kaiming_uniform", 300, 70, "--param", "a=2.23606797749979", "--seed", 4,
                     "--chunk-size", 5000, "-o", tmp_path / "w.npy")
    assert r.returncode == 0, r.stderr
    assert "wrote" in r.stderr and "seed 4" in r.stderr and "/s" in r.stderr  # throughput, elapsed
    ref = fastinit.kaiming_uniform(300, 70, a=5 ** 0.5, seed=4)
    assert np.array_equal(np.load(tmp_path / "w.npy"), ref)

    r = fastinit_cmd("init", "torch.normal_", 513, 64, "--param", "std=0.02", "--dtype", "bfloat16",
                     "--seed", 9, "--name", "embed.weight", "--chunk-size", "10kB",
                     "-o", tmp_path / "e.safetensors")
    assert r.returncode == 0, r.stderr
    got = load_file(tmp_path / "e.safetensors")["embed.weight"]
    assert got.dtype == torch.bfloat16
    ref = fastinit.normal(513, 64, std=0.02, dtype="bfloat16", seed=9)
    assert np.array_equal(got.view(torch.int16).numpy(), ref.view(np.int16))
    assert sorted(os.listdir(tmp_path)) == ["e.safetensors", "w.npy"]


def test_console_script():
    exe = shutil.which("fastinit", path=os.path.dirname(sys.executable))
    if exe is None:
        pytest.skip("the console script is not installed (pip install -e . installs it)")
    r = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=120)
    assert r.returncode == 0 and r.stdout.strip() == f"fastinit {fastinit.__version__}"


# --- init: equal to the in-memory tensors ---------------------------------------------------------

def test_init_files_equal_in_memory_for_dtypes_and_blocks(tmp_path):
    from safetensors import safe_open
    cases = []
    for dtype in ("float32", "float16", "bfloat16", "float64"):
        for chunk in ("1", "3000", "1MiB"):  # a row a block, blocks across stream blocks, one block
            for ext in ("npy", "safetensors"):
                cases.append((dtype, chunk, ext))
    argvs = [["init", "fastinit.normal", "97", "130", "--param", "std=0.5", "--dtype", dt, "--seed", "7",
              "--chunk-size", chunk, "-q", "-o", f"{dt}-{chunk}.{ext}"] for dt, chunk, ext in cases]
    argvs.append(["init", "sparse", "200", "33", "--param", "sparsity=0.3", "--seed", "1", "--chunk-size",
                  "1000", "-q", "-o", "sparse.npy"])
    argvs.append(["init", "jax.he_uniform", "3", "3", "16", "8", "--seed", "2", "--chunk-size", "100",
                  "-q", "-o", "conv.npy"])
    results = run_many(argvs, tmp_path)
    for r in results:
        assert r["rc"] == 0, r["err"]
        assert r["err"] == ""  # -q: no summary; no terminal: no progress bar
    for dt, chunk, ext in cases:
        ref = fastinit.normal(97, 130, std=0.5, dtype=dt, seed=7)
        path = tmp_path / f"{dt}-{chunk}.{ext}"
        if ext == "npy":
            got = np.load(path)
        else:
            with safe_open(path, "pt") as f:
                import torch
                got = f.get_tensor("weight").contiguous().reshape(-1).view(torch.uint8).numpy()
        assert np.array_equal(_bits(got), _bits(ref)), (dt, chunk, ext)
    assert np.array_equal(np.load(tmp_path / "sparse.npy"), fastinit.sparse(200, 33, sparsity=0.3, seed=1))
    assert np.array_equal(np.load(tmp_path / "conv.npy"),
                          fastinit.get("jax.he_uniform")(3, 3, 16, 8, seed=2))


def test_init_from_a_spec_with_shards(tmp_path):
    torch = pytest.importorskip("torch")
    from safetensors.torch import load_file
    spec = {"seed": 3, "dtype": "bfloat16", "tensors": [
        {"name": "embed.weight", "shape": [1000, 64], "initializer": "torch.normal_", "params": {"std": 0.02}},
        {"name": "mlp.weight", "shape": [256, 64], "initializer": "kaiming_uniform",
         "params": {"a": 2.23606797749979}},
        {"name": "norm.weight", "shape": [64], "initializer": "ones", "dtype": "float32"}]}
    (tmp_path / "spec.json").write_text(json.dumps(spec))
    r = fastinit_cmd("init", "--spec", "spec.json", "-o", "model.safetensors", "--max-shard-size", "100kB",
                     "--chunk-size", "4096", cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    index = json.loads((tmp_path / "model.safetensors.index.json").read_text())
    assert set(index["weight_map"].values()) == {"model-00001-of-00002.safetensors",
                                                 "model-00002-of-00002.safetensors"}
    got = {}
    for shard in set(index["weight_map"].values()):
        got.update(load_file(tmp_path / shard))
    key = fastinit.Key(3)
    want = {"embed.weight": fastinit.normal(1000, 64, std=0.02, dtype="bfloat16", seed=key.child("embed.weight")),
            "mlp.weight": fastinit.kaiming_uniform(256, 64, a=5 ** 0.5, dtype="bfloat16", seed=key.child("mlp.weight")),
            "norm.weight": np.ones(64, np.float32)}
    assert sorted(got) == sorted(want)
    for name, ref in want.items():
        assert np.array_equal(got[name].contiguous().reshape(-1).view(torch.uint8).numpy(), _bits(ref)), name
    assert got["norm.weight"].dtype == torch.float32


# --- atomic: signals, a full disk, --force --------------------------------------------------------

def _wait_for_temp(d, proc, timeout=60):
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if any(n.endswith(".tmp") for n in os.listdir(d)):
            return
        if proc.poll() is not None:
            raise AssertionError(f"finished before the signal: {proc.communicate()}")
        time.sleep(0.02)
    raise AssertionError("no temporary file appeared")


@pytest.mark.parametrize("sig, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
@pytest.mark.parametrize("ext", ["npy", "safetensors"])
def test_a_signal_mid_write_leaves_no_file(tmp_path, sig, code, ext):
    # 4 MiB in 64 blocks of 64 KiB, 20 ms a block: the signal lands mid-write
    proc = patched("slow", "init", "fastinit.normal", 1024, 1024, "--seed", 0, "--chunk-size", "64KiB",
                   "-o", f"w.{ext}", cwd=tmp_path)
    _wait_for_temp(tmp_path, proc)
    time.sleep(0.2)
    proc.send_signal(sig)
    out, err = proc.communicate(timeout=60)
    assert proc.returncode == code, err
    assert "Traceback" not in err and "no file was written" in err
    assert os.listdir(tmp_path) == []


@pytest.mark.parametrize("spec", [False, True])
def test_a_full_disk_leaves_nothing(tmp_path, spec):
    if spec:
        (tmp_path / "spec.json").write_text(json.dumps({"tensors": [
            {"name": f"t{i}", "shape": [64, 64], "initializer": "fastinit.normal"} for i in range(4)]}))
        args = ("--spec", "spec.json", "--max-shard-size", "20kB", "-o", "m.safetensors")
    else:
        args = ("fastinit.normal", 256, 256, "-o", "w.npy")
    proc = patched("full", "init", *args, "--chunk-size", "4096", cwd=tmp_path)
    out, err = proc.communicate(timeout=120)
    assert proc.returncode == 1, err
    assert "No space left on device" in err and "Traceback" not in err
    assert sorted(os.listdir(tmp_path)) == (["spec.json"] if spec else [])


def test_force(tmp_path):
    argv = ["init", "fastinit.uniform", "10", "10", "--seed", "0", "-q", "-o", "w.npy"]
    first, refused, forced = run_many([argv, argv[:5] + ["1"] + argv[6:],
                                       argv[:5] + ["1"] + argv[6:] + ["--force"]], tmp_path)
    assert first["rc"] == 0
    assert refused["rc"] == 1 and "exists; add --force to replace it" in refused["err"]
    _no_traceback(refused)
    assert forced["rc"] == 0
    assert np.array_equal(np.load(tmp_path / "w.npy"), fastinit.uniform(10, 10, seed=1))
    assert os.listdir(tmp_path) == ["w.npy"]


# --- usage errors ----------------------------------------------------------------------------------

def test_spec_errors_are_clear(tmp_path):
    specs = {
        "unknown.json": ({"tensors": [{"name": "a", "shape": [3, 3], "initializer": "glorot_unifrom"}]},
                         "unknown initializer 'glorot_unifrom'; did you mean 'glorot_uniform'"),
        "shape.json": ({"tensors": [{"name": "a", "shape": [3, -1], "initializer": "ones"}]},
                       "tensors['a']: shape: dimensions must be >= 0"),
        "shape2.json": ({"tensors": [{"name": "a", "shape": "3", "initializer": "ones"}]},
                        "shape: expected an int or a tuple of ints"),
        "dup.json": ({"tensors": [{"name": "a", "shape": [3], "initializer": "ones"},
                                  {"name": "a", "shape": [3], "initializer": "zeros"}]},
                     "duplicate tensor name 'a'"),
        "key.json": ({"tensors": [{"name": "a", "shap": [3], "initializer": "ones"}]},
                     "unknown key 'shap'; did you mean 'shape'?"),
        "param.json": ({"tensors": [{"name": "a", "shape": [3], "initializer": "torch.normal_",
                                     "params": {"sdt": 1}}]}, "has no parameter 'sdt'; did you mean 'std'?"),
        "top.json": ({"tensor": []}, "unknown key 'tensor'; did you mean 'tensors'?"),
    }
    for name, (spec, _) in specs.items():
        (tmp_path / name).write_text(json.dumps(spec))
    (tmp_path / "dupkey.json").write_text('{"tensors": {"a": {"shape": [3], "initializer": "ones"}, '
                                          '"a": {"shape": [3], "initializer": "ones"}}}')
    (tmp_path / "broken.json").write_text('{"tensors": [')
    specs["dupkey.json"] = (None, "duplicate key 'a' (duplicate tensor name)")
    specs["broken.json"] = (None, "not valid JSON")
    results = run_many([["init", "--spec", name, "-o", "m.safetensors"] for name in specs], tmp_path)
    for (name, (_, message)), r in zip(specs.items(), results):
        assert r["rc"] == 2, (name, r)
        assert f"fastinit: error: {name}: " in r["err"] and message in r["err"], (name, r["err"])
        _no_traceback(r)
    assert not any(n.startswith(("m", ".m")) for n in os.listdir(tmp_path))


def test_usage_errors_say_what_to_type(tmp_path):
    cases = [
        (["int"], "unknown command 'int'; did you mean 'fastinit init'?"),
        (["init", "kaiming_normall", "4", "4", "-o", "w.npy"], "did you mean 'kaiming_normal'"),
        (["init", "fastinit.normal", "4x4", "-o", "w.npy"], "dimensions are separate arguments: 4096 4096"),
        (["init", "fastinit.normal", "4", "4"], "-o FILE is required"),
        (["init", "fastinit.normal", "4", "4", "-o", "w.pt"], "must end in .npy or .safetensors"),
        (["init", "fastinit.normal", "-o", "w.npy"], "give the shape after the initializer"),
        (["init", "-o", "w.npy"], "or --spec SPEC.json"),
        (["init", "fastinit.normal", "4", "--param", "std", "-o", "w.npy"], "expected NAME=VALUE"),
        (["init", "fastinit.normal", "4", "--param", "std=-1", "-o", "w.npy"], "std: must be >= 0"),
        (["init", "fastinit.normal", "4", "--seed", "x", "-o", "w.npy"], "--seed: expected an integer"),
        (["init", "fastinit.normal", "4", "--dtype", "float128", "-o", "w.npy"], "dtype"),
        (["init", "fastinit.normal", "4", "--max-shard-size", "1GB", "-o", "w.npy"], "use -o FILE.safetensors"),
        (["init", "fastinit.normal", "4", "--spec", "s.json", "-o", "w.safetensors"], "drop INITIALIZER"),
        (["init", "he_normal", "4", "4", "--param", "mode=fan_out", "-o", "w.npy"], "use 'fastinit.he_normal'"),
        (["warmup", "--dtypes", "float33"], "did you mean 'float32'"),
        (["init", "fastinit.normal", "4", "--bogus"], "unrecognized arguments: --bogus"),
    ]
    results = run_many([argv for argv, _ in cases], tmp_path)
    for (argv, message), r in zip(cases, results):
        assert r["rc"] == 2, (argv, r)
        assert "fastinit: error: " in r["err"] and message in r["err"], (argv, r["err"])
        _no_traceback(r)
    assert os.listdir(tmp_path) == []


def test_help_on_every_command(tmp_path):
    results = run_many([["--help"], ["init", "--help"], ["warmup", "--help"], ["info", "--help"], []], tmp_path)
    for r in results[:4]:
        assert r["rc"] == 0 and "usage: fastinit" in r["out"]
    assert "--max-shard-size" in results[1]["out"] and "A spec (--spec) is JSON" in results[1]["out"]
    assert results[4]["rc"] == 2 and "COMMAND" in results[4]["err"]


# --- bounded memory, progress ----------------------------------------------------------------------

def test_peak_memory_is_bounded_by_the_chunk(tmp_path):
    def peak(shape, name):
        proc = patched("rss", "init", "fastinit.uniform", *shape, "--seed", 0, "--chunk-size", "1MiB",
                       "-q", "-o", name, cwd=tmp_path)
        out, err = proc.communicate(timeout=300)
        assert proc.returncode == 0, err
        return int(out.split()[-1]) * 1024  # ru_maxrss: kB on Linux
    small = peak((64, 1024), "small.npy")
    big = peak((8192, 8192), "big.npy")  # 256 MiB: 256 blocks of 1 MiB
    assert os.path.getsize(tmp_path / "big.npy") > 256 << 20
    assert big - small < 48 << 20, (big, small)
    if small < 250 << 20:  # no kernel compiled in this run (compiling alone takes ~400 MB at its peak)
        assert big < 300 << 20, big  # the documented bound (the default chunk, 64 MiB, fits too)


def test_progress_bar_on_request(tmp_path):
    pytest.importorskip("tqdm")
    on, off = run_many([["init", "fastinit.normal", "100", "100", "--chunk-size", "4096", "--progress", "-o", "a.npy"],
                        ["init", "fastinit.normal", "100", "100", "--no-progress", "-o", "b.npy"]], tmp_path)
    assert on["rc"] == off["rc"] == 0
    assert "%|" in on["err"] and "B/s" in on["err"] and "fastinit: wrote a.npy" in on["err"]
    assert "%" not in off["err"] and "fastinit: wrote b.npy" in off["err"]


# --- warmup, info ----------------------------------------------------------------------------------

def test_warmup_fills_the_cache_so_first_calls_are_fast(tmp_path):
    env = dict(os.environ, NUMBA_CACHE_DIR=str(tmp_path / "cache"))
    r = fastinit_cmd("warmup", "--dtypes", "float32", "--fills", "uniform", "constant", "--jobs", "2",
                     "--no-progress", env=env, timeout=600)
    assert r.returncode == 0, r.stderr
    assert "warmed uniform, constant for float32" in r.stderr and str(tmp_path / "cache") in r.stderr
    assert any(n.endswith(".nbi") for _, _, names in os.walk(tmp_path / "cache") for n in names)
    code = ("import time, fastinit; t = time.perf_counter(); fastinit.uniform(1000, 1000, seed=0); "
            "print(time.perf_counter() - t)")
    first = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=300)
    assert first.returncode == 0, first.stderr
    assert float(first.stdout) < 1.0


def test_info(tmp_path):
    code = ("import json, sys; from fastinit import cli; rc = cli.main(['info']); "
            "print(json.dumps([rc, 'torch' in sys.modules, any(m.startswith('numba.cuda') for m in sys.modules)]))")
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert r.returncode == 0, r.stderr
    lines = r.stdout.splitlines()
    assert json.loads(lines[-1]) == [0, False, False]  # neither torch nor CUDA loaded
    text = "\n".join(lines[:-1])
    for needle in ("versions: fastinit", "numba", "threading layer:", "threads:", "kernel cache:", "GPU:"):
        assert needle in text
    (j,) = run_many([["info", "--json"]], tmp_path)
    d = json.loads(j["out"])
    assert d["versions"]["fastinit"] == fastinit.__version__
    assert set(d) >= {"threading_layer", "threads", "cache", "gpu"}


# --- bench -----------------------------------------------------------------------------------------

def test_bench_table_and_plot(tmp_path):
    pytest.importorskip("matplotlib")
    import matplotlib.image
    r = fastinit_cmd("bench", "--size", 20000, "--fills", "uniform", "--repeats", 1, "--no-torch",
                     "--sizes", 10000, 20000, "--plot", tmp_path / "bench.png", timeout=600)
    assert r.returncode == 0, r.stderr
    assert "ceiling: numpy fill" in r.stdout and "uniform" in r.stdout and "x numpy" in r.stdout
    data = (tmp_path / "bench.png").read_bytes()
    assert data[:8] == b"\x89PNG\r\n\x1a\n"
    img = matplotlib.image.imread(tmp_path / "bench.png")
    assert img.shape[:2] == (340, 420)  # one panel of 4.2 x 3.4 inches at 100 dpi
    rgb = img[..., :3]
    assert (rgb.min(axis=-1) < 0.5).mean() > 0.01  # lines, labels: not blank
    assert rgb.std() > 0.05


def test_bench_usage_errors(tmp_path):
    results = run_many([["bench", "--dtype", "float33"], ["bench", "--fills", "nosuch"],
                        ["bench", "--plot", "x.jpg"], ["bench", "--size", "0"]], tmp_path)
    for r, message in zip(results, ["did you mean 'float32'", "fills: none of", "give a .png file",
                                    "--size: must be >= 1"]):
        assert r["rc"] == 2 and message in r["err"], r
        _no_traceback(r)
