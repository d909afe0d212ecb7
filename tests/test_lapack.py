"""fastinit._lapack.orthonormalize: in-place, sign-corrected Q factor through LAPACK."""
import os
import subprocess
import sys
import textwrap
import tracemalloc

import numpy as np
import pytest

from fastinit._lapack import orthonormalize

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

DTYPES = ["float32", "float64", "complex64", "complex128"]
SHAPES = [(1, 1), (5, 3), (3, 5), (64, 64), (200, 37), (37, 200), (0, 4), (4, 0), (1, 7), (7, 1)]


def gaussian(shape, dtype, seed=12345):
    """A float64/complex128 Gaussian matrix (real + 1j*imag for complex dtypes)."""
    rng = np.random.default_rng(seed)
    a = rng.standard_normal(shape)
    if np.dtype(dtype).kind == "c":
        a = a + 1j * rng.standard_normal(shape)
    return a


def sign(d):
    """sign(d) = d/|d|, and 1 at 0 (the module's convention)."""
    mag = np.abs(d)
    return np.where(mag > 0, d / np.where(mag > 0, mag, 1), 1)


def reference(a0):
    """torch.nn.init.orthogonal_'s math in float64/complex128 with numpy."""
    m, n = a0.shape
    if m >= n:
        q, r = np.linalg.qr(a0)
        return q * sign(np.diag(r))[None, :]
    q, r = np.linalg.qr(a0.T)
    return (q * sign(np.diag(r))[None, :]).T


def single(dtype):
    return np.dtype(dtype) in (np.dtype(np.float32), np.dtype(np.complex64))


@pytest.mark.parametrize("shape", SHAPES, ids=lambda s: f"{s[0]}x{s[1]}")
@pytest.mark.parametrize("dtype", DTYPES)
def test_orthonormal_and_equal_to_reference(dtype, shape):
    a0 = gaussian(shape, dtype)
    a = a0.astype(dtype)
    w = orthonormalize(a)
    assert w is a
    assert w.dtype == np.dtype(dtype) and w.shape == shape and w.flags.c_contiguous
    m, n = shape
    if m == 0 or n == 0:
        return
    tol_orth, tol_ref = (1e-5, 1e-4) if single(dtype) else (1e-12, 1e-10)
    w64 = w.astype(np.complex128 if w.dtype.kind == "c" else np.float64)
    gram = w64.conj().T @ w64 if m >= n else w64 @ w64.conj().T
    assert np.abs(gram - np.eye(min(m, n))).max() <= tol_orth
    assert np.abs(w64 - reference(a0)).max() <= tol_ref


@pytest.mark.parametrize("shape", [(6, 6), (9, 4), (4, 9)], ids=lambda s: f"{s[0]}x{s[1]}")
def test_sign_convention_diag_r_positive(shape):
    # Q^H A = R (m >= n) or A Q^* ... : with the signs applied, diag R must be positive real
    for dtype in DTYPES:
        a0 = gaussian(shape, dtype, seed=7)
        w = orthonormalize(a0.astype(dtype)).astype(np.complex128)
        m, n = shape
        r = w.conj().T @ a0 if m >= n else w.conj() @ a0.T  # R = Q^H A (tall) or Q^H A^T
        d = np.diag(r)
        assert np.all(d.real > 0), (dtype, d)
        assert np.abs(d.imag).max() <= 1e-4 * np.abs(d).max()
        assert np.abs(np.tril(r, -1)).max() <= 1e-4 * np.abs(r).max()


def test_matches_torch_orthogonal_real():
    torch = pytest.importorskip("torch")
    for rows, cols in [(50, 20), (20, 50), (33, 33)]:
        g = torch.Generator().manual_seed(2024)
        flat = torch.empty(rows, cols, dtype=torch.float64).normal_(0, 1, generator=g)
        g = torch.Generator().manual_seed(2024)
        expect = torch.nn.init.orthogonal_(torch.empty(rows, cols, dtype=torch.float64), generator=g)
        got = orthonormalize(flat.numpy().copy())
        np.testing.assert_allclose(got, expect.numpy(), rtol=0, atol=1e-10)
        got32 = orthonormalize(flat.numpy().astype(np.float32))
        np.testing.assert_allclose(got32, expect.numpy(), rtol=0, atol=1e-4)


def test_matches_torch_qr_complex():
    # torch.nn.init.orthogonal_ itself rejects complex (torch.sign), so apply its math with
    # torch.linalg.qr and torch.sgn (d/|d|) and plain transposes
    torch = pytest.importorskip("torch")
    for rows, cols in [(40, 15), (15, 40), (12, 12)]:
        a0 = gaussian((rows, cols), "complex128", seed=99)
        t = torch.from_numpy(a0.copy())
        if rows < cols:
            t = t.t()
        q, r = torch.linalg.qr(t)
        q = q * torch.sgn(torch.diag(r, 0))
        if rows < cols:
            q = q.t()
        expect = q.numpy()
        np.testing.assert_allclose(orthonormalize(a0.copy()), expect, rtol=0, atol=1e-10)
        np.testing.assert_allclose(orthonormalize(a0.astype(np.complex64)), expect, rtol=0, atol=1e-4)


def test_sign_of_zero_is_one():
    # rank-deficient A: a zero column gives R[j, j] = 0; torch would zero column j, we keep it
    a0 = gaussian((6, 3), "float64", seed=3)
    a0[:, 2] = 0.0
    w = orthonormalize(a0.copy())
    assert np.all(np.isfinite(w))
    assert np.abs(np.linalg.norm(w[:, 2]) - 1) < 1e-12  # the column is not zeroed
    np.testing.assert_allclose(w[:, :2], reference(a0)[:, :2], rtol=0, atol=1e-12)


@pytest.mark.parametrize("bad, exc", [
    (np.asfortranarray(np.ones((4, 3))), ValueError),
    (np.ones((4, 6))[:, ::2], ValueError),
    (np.ones((4, 3), dtype=np.int64), TypeError),
    (np.ones((4, 3), dtype=np.float16), TypeError),
    (np.ones((4, 3), dtype=">f8"), TypeError),
    (np.ones((2, 4, 3)), ValueError),
    (np.ones(4), ValueError),
    ([[1.0, 0.0], [0.0, 1.0]], TypeError),
], ids=["fortran", "strided", "int64", "float16", "big-endian", "3-D", "1-D", "list"])
def test_rejects(bad, exc):
    before = np.array(bad, copy=True)
    with pytest.raises(exc, match=r"^a: "):
        orthonormalize(bad)
    np.testing.assert_array_equal(np.asarray(bad), before)


def test_rejects_read_only():
    a = gaussian((5, 3), "float64")
    a.flags.writeable = False
    with pytest.raises(ValueError, match=r"^a: .*read-only"):
        orthonormalize(a)


def test_rejects_dimensions_beyond_lapack_int():
    a = np.empty((2**31, 0), np.float32)  # zero bytes, but m does not fit a 32-bit Fortran int
    with pytest.raises(ValueError, match=r"^a: .*2\*\*31"):
        orthonormalize(a)
    assert orthonormalize(np.empty((2**31 - 1, 0), np.float32)).shape == (2**31 - 1, 0)


def test_no_full_size_temporaries():
    a = gaussian((2000, 1000), "float32", seed=5).astype(np.float32)  # 8 MB
    orthonormalize(np.ones((3, 2), np.float32) + np.eye(3, 2, dtype=np.float32))  # warm the cache
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        orthonormalize(a)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 400_000, peak  # tau 4 KB + work ~ 32 * 1000 * 4 B; the matrix is 8 MB
    np.testing.assert_allclose(a.T @ a, np.eye(1000), rtol=0, atol=1e-4)


def test_wide_no_full_size_temporaries():
    a = gaussian((300, 3000), "complex64", seed=6).astype(np.complex64)  # 7.2 MB
    tracemalloc.start()
    try:
        orthonormalize(a)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert peak < 400_000, peak


def test_deterministic_in_process():
    a0 = gaussian((400, 250), "float32", seed=11).astype(np.float32)
    w1 = orthonormalize(a0.copy())
    w2 = orthonormalize(a0.copy())
    assert w1.tobytes() == w2.tobytes()
    w1 = orthonormalize(a0.T.copy())
    w2 = orthonormalize(a0.T.copy())
    assert w1.tobytes() == w2.tobytes()


_HASH_CODE = """
    import ctypes, glob, hashlib, os
    import numpy as np, scipy
    from fastinit._lapack import orthonormalize
    a = np.random.default_rng(20240601).standard_normal((512, 300)).astype(np.float32)
    b = np.random.default_rng(20240602).standard_normal((300, 512)).astype(np.float32)
    orthonormalize(a); orthonormalize(b)
    # the thread count SciPy's OpenBLAS actually runs with (-1 if its library is not found)
    libs = glob.glob(os.path.join(os.path.dirname(os.path.dirname(scipy.__file__)), "scipy.libs", "*openblas*"))
    nt = -1
    if libs:
        lib = ctypes.CDLL(libs[0])
        for name in ("scipy_openblas_get_num_threads", "scipy_openblas_get_num_threads64_"):
            if hasattr(lib, name):
                nt = getattr(lib, name)()
                break
    print(nt, hashlib.sha256(a.tobytes() + b.tobytes()).hexdigest())
"""


def _hash_with_threads(n: int) -> tuple[int, str]:
    env = dict(os.environ, OPENBLAS_NUM_THREADS=str(n))
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(_HASH_CODE)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    nt, digest, *_ = proc.stdout.split()
    return int(nt), digest


@pytest.fixture(scope="module")
def hashes_1_and_2_threads():
    return _hash_with_threads(1), _hash_with_threads(2)


# OpenBLAS' blocked kernels round differently with 1 and 2 threads (a plain ?gemm of the sizes
# ?larfb uses already does); orthonormalize runs LAPACK on one BLAS thread so that the output
# does not depend on OPENBLAS_NUM_THREADS.
def test_same_bits_with_1_and_2_openblas_threads(hashes_1_and_2_threads):
    (nt1, h1), (nt2, h2) = hashes_1_and_2_threads
    if 0 <= nt2 < 2:
        pytest.skip("OpenBLAS runs a single thread on this machine")
    if nt1 != -1:
        assert nt1 == 1
    assert h1 == h2, f"result depends on OPENBLAS_NUM_THREADS (threads seen: {nt1} vs {nt2})"


def test_same_bits_with_the_same_openblas_threads(hashes_1_and_2_threads):
    (_, h1), (_, h2) = hashes_1_and_2_threads
    assert _hash_with_threads(1)[1] == h1
    assert _hash_with_threads(2)[1] == h2


def test_concurrent_calls_give_the_serial_bits():
    from concurrent.futures import ThreadPoolExecutor

    mats = [gaussian((300, 200) if i % 2 else (200, 300), "float32", seed=i).astype(np.float32)
            for i in range(6)]
    serial = [orthonormalize(m.copy()).tobytes() for m in mats]
    with ThreadPoolExecutor(3) as ex:
        par = list(ex.map(lambda m: orthonormalize(m.copy()).tobytes(), mats))
    assert par == serial


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_works_after_fork():
    code = """
        import multiprocessing as mp, numpy as np
        from fastinit._lapack import orthonormalize
        a = np.random.default_rng(0).standard_normal((300, 200)).astype(np.float32)
        ref = orthonormalize(a.copy()).tobytes()
        def child(q):
            q.put(orthonormalize(a.copy()).tobytes() == ref)
        if __name__ == "__main__":
            ctx = mp.get_context("fork")
            q = ctx.Queue()
            p = ctx.Process(target=child, args=(q,))
            p.start()
            print(q.get(timeout=60))
            p.join(60)
    """
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(code)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.strip() == "True"
