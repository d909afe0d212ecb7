"""The RNG core against Vigna's reference C code (tests/data/known_answers.csv, made by
tests/data/known_answers.c) and the stream layout against the pure-Python reference."""
import csv
import os

import numpy as np
import pytest

import fastinit
from fastinit.kernels import rng

import naive

DATA = os.path.join(os.path.dirname(__file__), "data", "known_answers.csv")
U = np.uint64


def known(kind):
    with open(DATA) as f:
        rows = [r for r in csv.DictReader(f) if r["kind"] == kind]
    assert rows, kind
    return [(int(r["seed"]), int(r["index"]), int(r["value"])) for r in rows]


def test_splitmix64_known_answers():
    by_seed = {}
    for seed, i, value in known("splitmix64"):
        by_seed.setdefault(seed, []).append((i, value))
    for seed, rows in by_seed.items():
        x = U(seed)
        for i, value in sorted(rows):
            x, out = rng.splitmix64(U(x))  # U(): numba hands uint64 back as a Python int
            assert int(out) == value, (seed, i)
        assert naive.splitmix64(seed, len(rows)) == [v for _, v in sorted(rows)]


def test_xoroshiro128p_known_answers():
    by_seed = {}
    for seed, i, value in known("xoroshiro"):
        by_seed.setdefault(seed, []).append((i, value))
    for seed, rows in by_seed.items():
        s0, s1 = U(seed), U(seed ^ 0x5555555555555555)
        for i, value in sorted(rows):
            out, s0, s1 = rng.xoroshiro128p(U(s0), U(s1))
            assert int(out) == value, (seed, i)


def test_stream_states_known_answers():
    rows = known("stream")
    for seed, index, value in rows:
        stream, pos = index >> 8, index & 255
        s0, s1 = rng.stream_state(U(seed), U(stream))
        for _ in range(pos + 1):
            out, s0, s1 = rng.xoroshiro128p(U(s0), U(s1))
        assert int(out) == value, (seed, stream, pos)
        assert naive.stream_outputs(seed, stream, pos + 1)[pos] == value


def test_layout_constants():
    # The stream layout is a public promise (README, "Reproducibility").
    assert (rng.BLOCK, rng.LANES) == (naive.BLOCK, naive.LANES) == (4096, 16)


ELEMENTS = [0, 1, 15, 16, 17, 31, 32, 4095, 4096, 4097, 8191 + 16, 3 * 4096 + 1234, 50_000 - 1]


@pytest.mark.parametrize("seed", [0, 99, 2**64 - 1])
def test_uniform_float64_elements_follow_the_layout(seed):
    x = fastinit.uniform(50_000, dtype="float64", seed=seed)
    for i in ELEMENTS:
        stream, pos = naive.element_stream(i)
        out = naive.stream_outputs(seed, stream, pos + 1)[pos]
        assert x[i] == (out >> 11) * 2.0**-53, i


@pytest.mark.parametrize("seed", [0, 99])
def test_uniform_float32_elements_follow_the_layout(seed):
    x = fastinit.uniform(50_000, dtype="float32", seed=seed)
    for i in ELEMENTS:
        stream, pos = naive.element_stream(i)
        out = naive.stream_outputs(seed, stream, pos // 2 + 1)[pos // 2]
        k = (out >> 40) if pos % 2 == 0 else (out >> 8) & 0xFFFFFF
        assert x[i] == np.float32(k * 2.0**-24), i
