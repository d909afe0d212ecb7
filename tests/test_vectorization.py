"""The fill kernels compile to vector code: a refactor that falls back to scalar code fails here.

Counts vector registers in the machine code (``inspect_asm``) of the float32 kernels: ymm or zmm
registers on x86 with AVX, and zmm where the CPU has AVX-512 (``simd.wide_vectors``). Also that
the attribute behind the latter works where LLVM prefers 256-bit vectors (compiled for
"rocketlake" in a subprocess, not run), and that the constant kernel streams its stores. No
timings: what is pinned is the code, not its speed.
"""
import platform
import re

import numba
import numpy as np
import pytest
from llvmlite import binding

import fastinit
from fastinit.kernels import constant
from fastinit.kernels.normal import fill_normal
from fastinit.kernels.uniform import fill_uniform

X86 = platform.machine().lower() in ("x86_64", "amd64")
FEATURES = binding.get_host_cpu_features()
AVX2 = X86 and FEATURES.get("avx2", False)
AVX512 = AVX2 and FEATURES.get("avx512f", False)
pytestmark = pytest.mark.skipif(not AVX2, reason="vector registers are counted on x86 with AVX2")
MIN_VECTOR = 20  # register mentions a vectorized kernel has far more of (hundreds)


def registers(asm: str, kind: str) -> int:
    return len(re.findall(rf"%{kind}\d+", asm))


def compiled_asm(kernel, *args) -> str:
    """The machine code of ``kernel`` for ``args``' types, from a fresh compile (Numba keeps no
    assembly for code it loads from its cache)."""
    options = {k: v for k, v in kernel.targetoptions.items() if k != "nopython"}
    fresh = numba.njit(**options)(kernel.py_func)
    sig = tuple(numba.typeof(a) for a in args)
    fresh.compile(sig)
    return fresh.inspect_asm(sig)


def _uniform_asm():
    return compiled_asm(fill_uniform, np.empty(64, np.float32), np.uint64(0), 0, 0.0, 1.0, 0.0, 1.0)


def _normal_asm():
    return compiled_asm(fill_normal, np.empty(64, np.float32), np.uint64(0), 0, np.zeros(16), 1.0)


@pytest.mark.parametrize("asm", [_uniform_asm, _normal_asm], ids=["uniform", "normal"])
def test_fill_kernels_vectorize(asm):
    code = asm()
    wide = registers(code, "ymm") + registers(code, "zmm")
    assert wide >= MIN_VECTOR, f"{wide} ymm/zmm register mentions: the kernel no longer vectorizes"
    if AVX512:
        assert registers(code, "zmm") >= MIN_VECTOR, "AVX-512 here, but no zmm: wide_vectors lost?"


def test_constant_kernel_vectorizes_and_streams():
    out = np.empty(1 << 16, np.uint8)
    pair = constant.pair_bytes(np.float32, 1.0)
    code = compiled_asm(constant._fill_parallel, out, pair, True)
    assert registers(code, "ymm") + registers(code, "zmm") >= 2
    assert re.search(r"\bv?movnt", code), "no streaming stores"
    assert "sfence" in code


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_uniform_kernel_streams_large_outputs(dtype):
    """Whole blocks of outputs far larger than the caches go out by streaming stores
    (``uniform``'s module docstring), each task ending with a fence."""
    code = compiled_asm(fill_uniform, np.empty(64, dtype), np.uint64(0), 0, 0.0, 1.0, 0.0, 1.0)
    assert re.search(r"\bv?movnt", code), "no streaming stores"
    assert "sfence" in code


WIDE = """
import re, numpy as np
from numba import njit, prange
from fastinit.kernels.simd import wide_vectors
_U = np.uint64

@njit(parallel=True)
def k(out, v):
    n = _U(out.size) // _U(4)
    for t in prange(4):
        wide_vectors()
        for i in range(_U(t) * n, (_U(t) + _U(1)) * n):
            out[i] = out[i] * v + np.float32(1)

from numba import types
k.compile((types.Array(types.float32, 1, "C"), types.float32))
asm = k.inspect_asm(k.signatures[0])
print(len(re.findall("%zmm", asm)))
"""


def test_wide_vectors_where_llvm_prefers_256_bits(python):
    """Compiled for an AVX-512 CPU that LLVM tunes for 256-bit vectors, a loop uses zmm
    registers only with ``wide_vectors`` (compiled, not run: any x86 host will do)."""
    features = "+64bit,+sse,+sse2,+sse3,+ssse3,+sse4.1,+sse4.2,+avx,+avx2,+fma,+f16c,+avx512f,+avx512vl,+avx512bw,+avx512dq"
    env = {"NUMBA_CPU_NAME": "rocketlake", "NUMBA_CPU_FEATURES": features}
    plain = python(WIDE.replace("        wide_vectors()\n", ""), env=env)
    wide = python(WIDE, env=env)
    assert int(plain) == 0, "rocketlake without the attribute: expected ymm only"
    assert int(wide) > 0, "prefer-vector-width=512 no longer gives zmm"


@pytest.mark.skipif(not AVX512, reason="gathers are looked for in AVX-512 code")
@pytest.mark.parametrize("kernel, extra", [
    (fill_uniform, (0.0, 1.0, 0.0, 1.0)), (fill_normal, (np.zeros(16), 1.0))], ids=["uniform", "normal"])
@pytest.mark.parametrize("bits", [np.uint16, np.int16, np.float32, np.float64],
                         ids=["float16", "bfloat16", "float32", "float64"])
def test_fill_kernels_read_their_scratch_without_gathers(kernel, extra, bits):
    """The 16-bit kernels round a block of float32 values from scratch; indexed with a signed
    loop variable from a run-time start, numpy's negative-index wraparound turned that loop into
    vector gathers (0.75 ns/element, as much as the values). Contiguous loops load contiguously."""
    code = compiled_asm(kernel, np.empty(64, bits), np.uint64(0), 0, *extra)
    assert not re.search(r"\bv(p)?gather", code), "a gather in a kernel whose loops are contiguous"


def _sparse_mask_steps_asm(dtype):
    """The machine code of the sparse kernel's mask loop alone (``_mask_steps``, 4 rounds),
    compiled as ``mask_rows`` compiles it."""
    from fastinit.kernels import sparse
    from fastinit.kernels.simd import wide_vectors

    @numba.njit(error_model="numpy")
    def steps(dst, kt, qt, bad, ys, keeps):
        wide_vectors()
        u = np.uint32
        sparse._mask_steps(dst, 0, dst.size, u(0), kt, qt, u(0), u(100), u(90), u(3), u(7), u(13),
                           u(0), u(1), bad, ys, keeps, 4)

    words = np.zeros(64, np.uint32)
    args = (np.empty(64, dtype), words, words, np.zeros(64, np.uint8), words, words)
    sig = tuple(numba.typeof(a) for a in args)
    steps.compile(sig)
    return steps.inspect_asm(sig)


@pytest.mark.parametrize("dtype", [np.float32, np.float64, np.uint16])
def test_sparse_mask_loop_vectorizes(dtype):
    """The sparse mask loop runs its 32-bit Feistel rounds on vector registers, 16 lanes where
    the CPU has AVX-512, for every output width (64-bit outputs take their keep words in a loop
    of their own: in this one they made it 8 lanes). A branch in the loop that LLVM can neither
    hoist nor predicate leaves it scalar: this fails."""
    muls = re.findall(r"vpmulld\s[^\n]*%([xyz])mm", _sparse_mask_steps_asm(dtype))
    # 4 rounds of 2 multiplies, 2 more by dl, in each of the loop's 2 chains
    assert len([m for m in muls if m != "x"]) >= 20, f"{muls}: the mask loop is no longer vectorized"
    if AVX512:
        assert muls.count("z") >= 20, "AVX-512 here, but the mask loop does not run 16 lanes"


def test_sparse_compiles_one_mask_loop_per_kind():
    """``fastinit.sparse`` passes its mask loop as a ``blocks.variant`` (``sparse.mask_by``): the
    kernel is compiled for that loop alone, never with the loop picked at run time."""
    from fastinit.kernels.sparse import fill_sparse
    for rows in (30, 900, 5000):  # rows <= 64, 6 Feistel rounds, 4
        fastinit.sparse(rows, 3, sparsity=0.5, seed=1)
    kinds = {sig[-1] for sig in fill_sparse.signatures}
    assert {numba.int8, numba.int16, numba.int32} <= kinds, kinds


@pytest.mark.parametrize("rows", [30, 900, 5000])
def test_sparse_mask_loop_chosen_at_run_time_gives_the_same_bytes(rows):
    """An int64 ``kind`` picks the mask loop at run time (``sparse._mask_kind``): the same zeros."""
    from fastinit.kernels.blocks import variant
    from fastinit.kernels.sparse import fill_sparse, mask_kind, sparse_domain
    h, dl = sparse_domain(rows)
    one, every = np.zeros(rows * 3, np.float32), np.zeros(rows * 3, np.float32)
    args = (rows, 3, (rows + 1) // 2, 1.0, h, dl)
    fill_sparse(one, np.uint64(5), 0, *args, variant(mask_kind(rows, h)))
    fill_sparse(every, np.uint64(5), 0, *args, np.int64(mask_kind(rows, h)))
    assert one.tobytes() == every.tobytes() and (one == 0).sum() == 3 * ((rows + 1) // 2)
