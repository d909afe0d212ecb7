"""``fastinit init -o STORE.zarr`` (issue 15): Zarr stores written with dask, on local threads or a
LocalCluster of worker processes (--workers), equal to the in-memory tensors; atomic (a failure
leaves nothing); usage errors; a clear error without dask. Run in subprocesses, as
tests/test_cli.py does."""
import json
import os
import subprocess
import sys

import numpy as np
import pytest

import fastinit
from cli_runs import run_many
from fastinit import files

zarr = pytest.importorskip("zarr")
pytest.importorskip("dask.array")
pytest.importorskip("distributed")
ml_dtypes = pytest.importorskip("ml_dtypes")






def assert_same(got, ref):
    got, ref = np.asarray(got), np.asarray(ref)
    assert got.dtype == ref.dtype and got.shape == ref.shape, (got.dtype, got.shape, ref.dtype, ref.shape)
    assert np.array_equal(np.ascontiguousarray(got).reshape(-1).view(np.uint8),
                          np.ascontiguousarray(ref).reshape(-1).view(np.uint8))


def test_one_tensor_on_threads(tmp_path):
    argvs = [
        ["init", "kaiming_uniform", "300", "70", "--param", "a=2.23606797749979", "--seed", "4",
         "--chunk-size", "5000", "-o", "k.zarr"],
        ["init", "fastinit.normal", "100", "70", "--param", "std=0.5", "--seed", "1", "--chunks", "64,32",
         "--dtype", "float16", "-q", "-o", "c.zarr"],
        ["init", "fastinit.uniform", "50", "30", "--seed", "2", "--dtype", "bfloat16", "--name", "u",
         "--chunks", "16", "-q", "-o", "b.zarr"],
        ["init", "fastinit.normal", "10", "3", "--seed", "2", "-q", "-o", "w.zarr"],
        ["init", "fastinit.normal", "10", "3", "--seed", "3", "-q", "-o", "w.zarr"],  # exists
        ["init", "fastinit.normal", "10", "3", "--seed", "3", "-q", "--force", "-o", "w.zarr/"],
    ]
    r = run_many(argvs, tmp_path)
    assert [x["rc"] for x in r] == [0, 0, 0, 0, 1, 0], r
    assert "wrote k.zarr" in r[0]["err"] and "seed 4" in r[0]["err"] and r[1]["err"] == ""
    assert "exists" in r[4]["err"] and "--force" in r[4]["err"]
    assert sorted(os.listdir(tmp_path)) == ["b.zarr", "c.zarr", "k.zarr", "w.zarr"]  # no temporaries left
    k = zarr.open_array(str(tmp_path / "k.zarr"), mode="r")  # one tensor: the root array
    assert k.chunks == (5000 // (70 * 4), 70)  # blocks of whole rows of about --chunk-size
    assert_same(k[:], fastinit.kaiming_uniform(300, 70, a=5 ** 0.5, seed=4))
    w = zarr.open_array(str(tmp_path / "w.zarr"), mode="r")  # --force replaced it
    assert_same(w[:], fastinit.normal(10, 3, seed=3))
    c = zarr.open_array(str(tmp_path / "c.zarr"), mode="r")
    assert c.chunks == (64, 32) and dict(c.attrs) == {"fastinit.seed": "1"}
    assert_same(c[:], fastinit.normal(100, 70, std=0.5, seed=1, dtype="float16"))
    b = zarr.open_array(str(tmp_path / "b.zarr"), path="u", mode="r")  # --name: a group
    assert b.dtype == np.uint16 and b.attrs["fastinit.dtype"] == "bfloat16" and b.chunks == (16, 16)
    assert_same(b[:].view(ml_dtypes.bfloat16), fastinit.uniform(50, 30, seed=2, dtype="bfloat16"))


def test_spec_on_two_worker_processes(tmp_path):
    spec = {"seed": 3, "dtype": "bfloat16", "metadata": {"model": "tiny"}, "tensors": [
        {"name": "embed.weight", "shape": [200, 64], "initializer": "torch.normal_", "params": {"std": 0.02}},
        {"name": "layers.0.mlp.up.weight", "shape": [96, 64], "initializer": "kaiming_uniform",
         "params": {"a": 5 ** 0.5}, "dtype": "float32"},
        {"name": "conv/kernel", "shape": [3, 3, 16, 8], "initializer": "jax.he_uniform", "dtype": "float32"},
        {"name": "q.weight", "shape": [64, 48], "initializer": "orthogonal", "dtype": "float32"},
        {"name": "norm.weight", "shape": [64], "initializer": "ones", "dtype": "float32"}]}
    (tmp_path / "spec.json").write_text(json.dumps(spec))
    proc = subprocess.run([sys.executable, "-m", "fastinit", "init", "--spec", "spec.json", "--workers", "2",
                           "--chunk-size", "4kB", "--progress", "-o", "model.zarr"],
                          cwd=tmp_path, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "wrote model.zarr (5 tensors" in proc.stderr and "on 2 workers" in proc.stderr
    assert sorted(os.listdir(tmp_path)) == ["model.zarr", "spec.json"]
    group = zarr.open_group(str(tmp_path / "model.zarr"), mode="r")
    assert group.attrs["fastinit.seed"] == "3" and group.attrs["model"] == "tiny"
    planned = files.plan(spec["tensors"], fastinit.Key(3), "bfloat16")
    for p in planned:
        z = zarr.open_array(str(tmp_path / "model.zarr"), path=p.name, mode="r")
        got = z[:]
        if p.dtype == ml_dtypes.bfloat16:
            assert z.attrs["fastinit.dtype"] == "bfloat16"
            got = got.view(ml_dtypes.bfloat16)
        if p.name == "embed.weight":  # blocks of rows of about --chunk-size
            assert z.chunks == (4000 // (64 * 2), 64)
        assert_same(got, p.call())  # the in-memory tensor, bit for bit (orthogonal too: made whole)


def test_usage_errors_and_failures_leave_nothing(tmp_path):
    (tmp_path / "spec.json").write_text(json.dumps(
        {"tensors": [{"name": "w", "shape": [4, 4], "initializer": "zeros"}]}))
    argvs = [
        ["init", "fastinit.normal", "10", "10", "--workers", "2", "-o", "w.npy"],
        ["init", "fastinit.normal", "10", "10", "--chunks", "5,5", "-o", "w.safetensors"],
        ["init", "fastinit.normal", "10", "10", "--workers", "0", "-o", "w.zarr"],
        ["init", "fastinit.normal", "10", "10", "--workers", "2", "--scheduler", "tcp://x:1", "-o", "w.zarr"],
        ["init", "fastinit.normal", "10", "10", "--chunks", "5,5,5", "-o", "w.zarr"],
        ["init", "fastinit.normal", "10", "10", "--chunks", "5,0", "-o", "w.zarr"],
        ["init", "fastinit.normal", "10", "10", "--chunks", "a,b", "-o", "w.zarr"],
        ["init", "--spec", "spec.json", "--chunks", "2,2", "-o", "w.zarr"],
        ["init", "fastinit.normal", "10", "10", "--max-shard-size", "1GB", "-o", "w.zarr"],
        ["init", "fastinit.normal", "10", "10", "--param", "std=-1", "-o", "w.zarr"],
        ["init", "orthogonal", "10", "-o", "w.zarr"],
        ["init", "fastinit.normal", "10", "10", "-o", "missing/w.zarr"],
        # a scheduler that does not answer: the temporary store is removed
        ["init", "fastinit.normal", "10", "10", "--scheduler", "tcp://127.0.0.1:9", "-o", "w.zarr"],
    ]
    r = run_many(argvs, tmp_path, env={"DASK_DISTRIBUTED__COMM__TIMEOUTS__CONNECT": "1s"})
    assert [x["rc"] for x in r] == [2] * 11 + [1, 1], r
    for x, flag in zip(r, ["--workers", "--chunks", "--workers", "--workers, --scheduler", "--chunks", "--chunks",
                           "--chunks", "--chunks", "--max-shard-size", "std", "shape", "missing",
                           "127.0.0.1:9"]):
        assert flag in x["err"] and "Traceback" not in x["err"], x["err"]
    assert sorted(os.listdir(tmp_path)) == ["spec.json"]


def test_without_dask_says_what_to_install(tmp_path):
    r = run_many([["init", "fastinit.normal", "10", "10", "-o", "w.zarr"],
                  ["init", "fastinit.normal", "10", "10", "-q", "-o", "w.npy"]], tmp_path,
                 env={"FASTINIT_TEST_HIDE": "dask,dask.array,zarr"})
    assert r[0]["rc"] == 2 and "pip install 'fastinit[dask]'" in r[0]["err"], r
    assert r[1]["rc"] == 0  # the other formats need neither
    assert os.listdir(tmp_path) == ["w.npy"]
