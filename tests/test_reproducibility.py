"""Contract 1 and 2: the output depends only on (seed, shape, dtype, parameters), never on the
thread count, and the published stream layout is pinned by hashes of a few outputs."""
import hashlib

import numba
import numpy as np
import pytest

import fastinit

# One call per kernel and dtype; 3 * 4096 + 123 elements: whole blocks and a cut one.
CASES = {
    "uniform-f16": lambda: fastinit.uniform(3, 4219, low=-1, high=1, dtype="float16", seed=1),
    "uniform-f32": lambda: fastinit.uniform(3, 4219, low=-1, high=1, dtype="float32", seed=1),
    "uniform-f64": lambda: fastinit.uniform(3, 4219, low=-1, high=1, dtype="float64", seed=1),
    "uniform-c64": lambda: fastinit.uniform(3, 4219, dtype="complex64", seed=1),
    "normal-f16": lambda: fastinit.normal(3, 4219, mean=0.5, std=2, dtype="float16", seed=2),
    "normal-f32": lambda: fastinit.normal(3, 4219, mean=0.5, std=2, dtype="float32", seed=2),
    "normal-f64": lambda: fastinit.normal(3, 4219, mean=0.5, std=2, dtype="float64", seed=2),
    "normal-c128": lambda: fastinit.normal(3, 4219, mean=1 + 1j, dtype="complex128", seed=2),
    "truncnorm-central-f32": lambda: fastinit.truncated_normal(3, 4219, dtype="float32", seed=3),
    "truncnorm-central-f64": lambda: fastinit.truncated_normal(3, 4219, dtype="float64", seed=3),
    "truncnorm-narrow-f32": lambda: fastinit.truncated_normal(3, 4219, lo=0.5, hi=0.6, seed=3),
    "truncnorm-tail-f32": lambda: fastinit.truncated_normal(3, 4219, lo=6, hi=np.inf, seed=3),
    "truncnorm-negtail-f64": lambda: fastinit.truncated_normal(3, 4219, lo=-12, hi=-10, dtype="float64", seed=3),
    "truncnorm-tail-f16": lambda: fastinit.truncated_normal(3, 4219, lo=-np.inf, hi=-3, dtype="float16", seed=3),
    "sparse-f32": lambda: fastinit.sparse(301, 41, sparsity=0.9, std=1, seed=4),
    "sparse-f64": lambda: fastinit.sparse(301, 41, sparsity=0.25, std=1, dtype="float64", seed=4),
    "disk-c64": lambda: fastinit.variance_scaling(3, 4219, distribution="uniform", layout="jax", dtype="complex64", seed=5),
    "disk-c128": lambda: fastinit.variance_scaling(3, 4219, distribution="uniform", layout="jax", dtype="complex128", seed=5),
    "modulus-c64": lambda: fastinit.variance_scaling(3, 4219, dtype="complex64", seed=5),
    "modulus-c128": lambda: fastinit.variance_scaling(3, 4219, dtype="complex128", seed=5),
    "he_normal-keras-f32": lambda: fastinit.get("he_normal")(3, 3, 16, 128, seed=fastinit.Key(6).child("w")),
    "uniform-bf16": lambda: fastinit.uniform(3, 4219, low=-1, high=1, dtype="bfloat16", seed=1),
    "normal-bf16": lambda: fastinit.normal(3, 4219, mean=0.5, std=2, dtype="bfloat16", seed=2),
    "truncnorm-narrow-bf16": lambda: fastinit.truncated_normal(3, 4219, lo=0.5, hi=0.6, dtype="bfloat16", seed=3),
    "truncnorm-tail-bf16": lambda: fastinit.truncated_normal(3, 4219, lo=-np.inf, hi=-3, dtype="bfloat16", seed=3),
    "sparse-bf16": lambda: fastinit.sparse(123, 401, sparsity=0.7, std=1e-39, dtype="bfloat16", seed=4),
}


def digest(a: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(a).tobytes()).hexdigest()[:16]


def digests() -> dict:
    return {name: digest(f()) for name, f in CASES.items()}


# Changing any of these changes users' numbers: a major version bump (README, "Reproducibility").
PINNED = {
    "uniform-f16": "9b5807ed54a86d07",
    "uniform-f32": "1ab91053f5016ba1",
    "uniform-f64": "01c33bef919f7c01",
    "uniform-c64": "da3b380de7d93b81",
    "normal-f16": "07d83706420b30c6",
    "normal-f32": "f85119138d63f616",
    "normal-f64": "2eea7ab01b783bfe",
    "normal-c128": "3c1acc2a09bcad9d",
    "truncnorm-central-f32": "79792950e175135e",
    "truncnorm-central-f64": "344f59177755c180",
    "truncnorm-narrow-f32": "95340552fdfa2610",
    "truncnorm-tail-f32": "59b4c0ed4f6dd383",
    "truncnorm-negtail-f64": "90f9af9613f86668",
    "truncnorm-tail-f16": "4340fa672039c861",
    "sparse-f32": "466e6b5c2796292c",
    "sparse-f64": "da268240e4db07b0",
    "uniform-bf16": "d4165049b00a0f52",
    "normal-bf16": "ab73b801619d357e",
    "truncnorm-narrow-bf16": "984f2776b0b0c588",
    "truncnorm-tail-bf16": "85391d12b8241717",
    "sparse-bf16": "310314235930c2c5",
    "disk-c64": "da1fb95300596df3",
    "disk-c128": "2ed805ec80949bed",
    "modulus-c64": "8f335285aaf31799",
    "modulus-c128": "ff9aa1fda8605d17",
    "he_normal-keras-f32": "6832c196c518a08a",
}


def test_pinned_hashes():
    got = digests()
    assert got == PINNED, "outputs changed; if intended (major version), new hashes:\n" + "\n".join(
        f'    "{k}": "{v}",' for k, v in got.items())


def test_same_seed_same_bytes_different_seed_differs():
    for name, f in CASES.items():
        assert digest(f()) == digest(f()), name
    assert digest(fastinit.normal(1000, seed=5)) != digest(fastinit.normal(1000, seed=6))


def test_thread_count_does_not_change_output():
    n = numba.config.NUMBA_NUM_THREADS
    big = lambda: fastinit.normal(20 * 4096 + 7, seed=9)  # noqa: E731  (enough blocks for every thread)
    try:
        numba.set_num_threads(1)
        one = digests(), digest(big())
        numba.set_num_threads(n)
        assert (digests(), digest(big())) == one
    finally:
        numba.set_num_threads(n)


@pytest.mark.parametrize("threads", ["1", "2", "3"])
def test_numba_num_threads_in_a_fresh_process(python, threads):
    code = """
        import json, numba
        import fastinit
        from test_reproducibility import digests
        print(json.dumps([numba.get_num_threads(), digests()]))
    """
    import json
    n, got = json.loads(python(code, env={"NUMBA_NUM_THREADS": threads, "PYTHONPATH": "tests"}))
    assert n == int(threads)
    assert got == digests()


@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "float32", "float64"])
@pytest.mark.parametrize("params", [
    dict(std=0.02, lo=-2.0, hi=2.0),  # torch's trunc_normal_(std=0.02): 100 std either side
    dict(mean=3.0, std=0.1, lo=-1.0, hi=10.0),
    dict(std=1.0, lo=-np.inf, hi=np.inf),
    dict(std=1.0, lo=-8.7, hi=8.7),  # just past the normal kernels' reach (fills.Z_MAX)
])
def test_truncated_normal_that_never_rejects_is_the_rejection_samplers_output(monkeypatch, dtype, params):
    """Where no candidate can fall outside [lo, hi], truncated_normal runs the normal kernel
    (fills._never_rejects); it must give the rejection sampler's bytes, cut blocks included."""
    from fastinit import fills
    assert fills._never_rejects(*_normal_plan(params, dtype))
    fast = [fastinit.truncated_normal(3, 4219, dtype=dtype, seed=3, **params),
            fastinit.truncated_normal(3, 4219, dtype=dtype, seed=3, block=(slice(1, 3), slice(50, 4100)), **params)]
    monkeypatch.setattr(fills, "_never_rejects", lambda *args: False)
    slow = [fastinit.truncated_normal(3, 4219, dtype=dtype, seed=3, **params),
            fastinit.truncated_normal(3, 4219, dtype=dtype, seed=3, block=(slice(1, 3), slice(50, 4100)), **params)]
    for a, b in zip(fast, slow):
        assert a.dtype == b.dtype and a.tobytes() == b.tobytes()


def _normal_plan(params, dtype):
    from fastinit import fills
    from fastinit.kernels.truncnorm import NORMAL
    from fastinit._checks import as_dtype
    dt = as_dtype(dtype)
    _, kind, p, vmin, vmax, _ = fills.truncated_normal_params(
        params.get("mean", 0.0), params["std"], params["lo"], params["hi"], dt)
    assert kind == NORMAL
    return p[0], p[1], vmin, vmax, dt


def test_truncated_normal_near_the_reach_still_rejects():
    """Just inside the normal kernels' reach, candidates can fall outside: the sampler runs."""
    from fastinit import fills
    _, kind, p, vmin, vmax, _ = fills.truncated_normal_params(0.0, 1.0, -7.0, 7.0, np.dtype("float32"))
    assert not fills._never_rejects(p[0], p[1], vmin, vmax, np.dtype("float32"))
