"""In-place orthogonalization of a 2-D array through LAPACK (used by ``fastinit.orthogonal``).

``numpy.linalg.qr`` computes float32 in float64 and copies the matrix several times; here the
array is factored and overwritten where it stands, in its own precision. The only allocations
are ``tau`` (``min(m, n)`` elements), the diagonal signs (``min(m, n)``) and LAPACK's work array
of the optimal size from a workspace query (about ``32 * min(m, n)`` elements).

``scipy.linalg.lapack`` has no ``?gelqf``/``?orglq``, so LAPACK is called through the function
pointers that ``scipy.linalg.cython_lapack`` exports (LP64: 32-bit Fortran integers), with
``ctypes``, which releases the GIL for the duration of each call. SciPy is imported on the
first call, not when this module is imported.

The trick that avoids any transposed copy: a C-contiguous ``m x n`` array ``a`` holding ``A``
is, read in Fortran order, the ``n x m`` matrix ``M = A^T`` (``lda = n``). Tall ``M`` (``m < n``)
is QR-factored (``?geqrf`` + ``?orgqr``/``?ungqr``); wide ``M`` (``m >= n``) is LQ-factored
(``?gelqf`` + ``?orglq``/``?unglq``), which is the QR factorization of ``A = M^T``.
"""
from __future__ import annotations

import contextlib
import ctypes
from ctypes import POINTER, c_int, c_void_p
from typing import Callable

import numpy as np

from ._forksafe import ForkSafeLock, defer_sigint

__all__ = ["orthonormalize"]

_INT_MAX = 2**31 - 1
MAX_DIM = _INT_MAX  #: the most rows or columns LAPACK's 32-bit integers allow

# dtype -> LAPACK prefix, and the routine names per prefix
_PREFIX = {
    np.dtype(np.float32): "s",
    np.dtype(np.float64): "d",
    np.dtype(np.complex64): "c",
    np.dtype(np.complex128): "z",
}

#: (m, n, a, lda, tau, work, lwork, info) -- ?geqrf, ?gelqf
_FACTOR_T = ctypes.CFUNCTYPE(None, POINTER(c_int), POINTER(c_int), c_void_p, POINTER(c_int),
                             c_void_p, c_void_p, POINTER(c_int), POINTER(c_int))
#: (m, n, k, a, lda, tau, work, lwork, info) -- ?orgqr/?ungqr, ?orglq/?unglq
_FORM_T = ctypes.CFUNCTYPE(None, POINTER(c_int), POINTER(c_int), POINTER(c_int), c_void_p,
                           POINTER(c_int), c_void_p, c_void_p, POINTER(c_int), POINTER(c_int))

# routine name -> ctypes function object. Filled lazily; two threads racing may both build the
# same entry, which is harmless (the pointers are the same, the last assignment wins).
_FUNCS: dict[str, Callable] = {}


def _routine(name: str, prototype) -> Callable:
    f = _FUNCS.get(name)
    if f is None:
        from numba.extending import get_cython_function_address  # imports scipy.linalg.cython_lapack

        f = prototype(get_cython_function_address("scipy.linalg.cython_lapack", name))
        _FUNCS[name] = f
    return f


def _check_info(name: str, info: c_int) -> None:
    if info.value != 0:
        raise RuntimeError(f"LAPACK {name} failed with info = {info.value}")


def _lwork(work0: np.ndarray) -> int:
    """The optimal work size a workspace query left in ``work[0]`` (a float; rounded up, since a
    float32 query result can round below the integer LAPACK meant)."""
    w = float(np.real(work0))
    return int(np.ceil(w * (1 + 2**-20))) if w > 0 else 1


_blas_lock = ForkSafeLock()
_blas_controller = []  # one threadpoolctl controller, made on first use (after SciPy's LAPACK loads)


@contextlib.contextmanager
def _one_blas_thread():
    """Run LAPACK on one BLAS thread: OpenBLAS' blocked kernels split their sums differently
    with 1 and 2 threads (a few ulp apart), and the output must not depend on the thread count.
    The limit is process-wide (``threadpoolctl``), so the calls are serialized by a lock.

    The whole section holds a Ctrl-C back (``defer_sigint``): threadpoolctl sets and restores
    the limit in Python, where a KeyboardInterrupt would leave OpenBLAS on one thread for good
    (or the lock held, and every later ``orthogonal`` blocked), and the generator behind this
    context manager passes through Python code between them too. The section is one LAPACK call,
    which a signal cannot stop anyway (Python runs handlers between bytecodes), so a Ctrl-C
    still lands as soon as that call returns, after the limit is restored."""
    with defer_sigint(), _blas_lock.lock:
        if not _blas_controller:
            from threadpoolctl import ThreadpoolController
            _blas_controller.append(ThreadpoolController().select(user_api="blas"))
        with _blas_controller[0].limit(limits=1):
            yield


def orthonormalize(a: np.ndarray) -> np.ndarray:
    """Overwrite the C-contiguous 2-D array ``a`` (m x n; float32, float64, complex64 or complex128),
    holding a Gaussian matrix A, with the Q factor of its QR decomposition, sign-corrected, and
    return ``a``.

    - m >= n:  A = Q R (Q m x n with orthonormal columns, R n x n upper triangular); the result is
      ``Q * sign(diag R)`` (column j of Q scaled by sign(R[j, j])), so Q^H Q = I.
    - m <  n:  A^T = Q R (Q n x m, R m x m); the result is ``(Q * sign(diag R))^T``, so the rows
      are orthonormal: W W^H = I.

    This is exactly the math of ``torch.nn.init.orthogonal_`` (which transposes a wide matrix,
    takes its QR decomposition, multiplies Q by the signs of diag R and transposes back) and of
    Keras' ``Orthogonal``. Making diag R positive removes the freedom in the QR decomposition, so
    for a full-rank A the result is unique (the Q of the QR with positive diagonal), and for
    Gaussian A it is Haar-distributed.

    ``sign(d)`` is ``d / |d|`` for complex d (LAPACK's diagonal is real anyway), and
    ``sign(0)`` is taken as 1 (torch's ``sign`` gives 0 there, zeroing a column; a zero on the
    diagonal of R only occurs for a rank-deficient A, which has probability 0 for a Gaussian
    matrix, and keeping the column keeps the result orthonormal where possible). For complex
    dtypes the transposes above are plain transposes, not conjugate ones, as in torch.

    How it runs in place: ``a`` read in Fortran order is the n x m matrix M = A^T (``lda = n``).

    - m < n: M is tall; ``?geqrf`` factors M = Q R in place and ``?orgqr`` (complex ``?ungqr``)
      overwrites M with Q, so ``a`` (C order) holds Q^T; row i is then scaled by sign(R[i, i]).
    - m >= n: M is wide; ``?gelqf`` factors M = L Qt (Qt n x m with orthonormal rows) and
      ``?orglq`` (complex ``?unglq``) overwrites M with Qt. Then A = M^T = Qt^T L^T with plain
      transposes, and Qt^T has orthonormal columns ((Qt^T)^H Qt^T = conj(Qt Qt^H) = I) while L^T
      is upper triangular: this *is* the QR decomposition of A with Q = Qt^T, R = L^T, and ``a``
      (C order) holds Qt^T. Column j is then scaled by sign(L[j, j]) = sign(R[j, j]).

    In both cases diag R is element ``[i, i]`` of ``a`` after the factorization, read before the
    Q factor overwrites it. No temporary the size of the matrix is made: the allocations are
    ``tau`` and the signs (min(m, n) elements each) and LAPACK's work array (a workspace query,
    about 32 * min(m, n) elements); LAPACK's blocked code may allocate more internally.

    The computation runs in the precision of ``a`` (float32 stays float32) through SciPy's
    LAPACK (``scipy.linalg.cython_lapack``, OpenBLAS), with the GIL released during the LAPACK
    calls, on one BLAS thread (the result of OpenBLAS' blocked kernels depends on their thread
    count; see ``_one_blas_thread``), one call at a time. Empty matrices are returned unchanged.

    Raises
    ------
    TypeError
        ``a`` is not a numpy array or has another dtype (native byte order only).
    ValueError
        ``a`` is not 2-D, not C-contiguous, read-only or unaligned, or a dimension exceeds
        2**31 - 1 (LAPACK's 32-bit integers).
    RuntimeError
        A LAPACK routine reported an error (``info != 0``); the message names it.
    """
    if not isinstance(a, np.ndarray):
        raise TypeError(f"a: expected a numpy.ndarray, got {type(a).__name__}")
    if a.ndim != 2:
        raise ValueError(f"a: expected a 2-D array, got {a.ndim} dimensions (shape {a.shape})")
    prefix = _PREFIX.get(a.dtype)
    if prefix is None:
        names = ", ".join(d.name for d in _PREFIX)
        raise TypeError(f"a: dtype {a.dtype} is not supported (supported: {names}, native byte order)")
    if not a.flags.c_contiguous:
        raise ValueError("a: the array must be C-contiguous")
    if not a.flags.writeable:
        raise ValueError("a: the array is read-only")
    if not a.flags.aligned:
        raise ValueError("a: the array's data is not aligned")
    m, n = a.shape
    if m > _INT_MAX or n > _INT_MAX:
        raise ValueError(f"a: dimensions must be at most 2**31 - 1 for LAPACK, got shape {a.shape}")
    if m == 0 or n == 0:
        return a

    complex_ = prefix in "cz"
    if m < n:  # M = A^T is n x m, tall: QR
        factor_name = prefix + "geqrf"
        form_name = prefix + ("ungqr" if complex_ else "orgqr")
    else:  # M = A^T is n x m, wide (or square): LQ
        factor_name = prefix + "gelqf"
        form_name = prefix + ("unglq" if complex_ else "orglq")
    factor = _routine(factor_name, _FACTOR_T)
    form = _routine(form_name, _FORM_T)

    k = min(m, n)
    # M is rows x cols in Fortran order, leading dimension rows (= n)
    rows, cols, kk, lda = c_int(n), c_int(m), c_int(k), c_int(n)
    info = c_int(0)
    ptr = a.ctypes.data
    tau = np.empty(k, a.dtype)
    tau_ptr = tau.ctypes.data

    # workspace queries for both routines, then one work array of the larger size
    query = np.empty(1, a.dtype)
    lw = c_int(-1)
    factor(rows, cols, ptr, lda, tau_ptr, query.ctypes.data, lw, info)
    _check_info(factor_name + " (workspace query)", info)
    lwork = _lwork(query[0])
    form(rows, cols, kk, ptr, lda, tau_ptr, query.ctypes.data, lw, info)
    _check_info(form_name + " (workspace query)", info)
    lwork = max(lwork, _lwork(query[0]), k, 1)  # LAPACK's minimum is max(1, min(m, n)) for all four
    if lwork > _INT_MAX:
        lwork = _INT_MAX
    work = np.empty(lwork, a.dtype)
    lw = c_int(lwork)

    with _one_blas_thread():
        factor(rows, cols, ptr, lda, tau_ptr, work.ctypes.data, lw, info)
    _check_info(factor_name, info)

    # diag R (or diag L = diag R^T) is a[i, i]; turn it into signs in a.dtype, sign(0) = 1
    signs = np.diagonal(a).copy()
    if complex_:
        mag = np.abs(signs)
        nonzero = mag > 0
        signs[~nonzero] = 1
        signs[nonzero] /= mag[nonzero]
    else:
        signs = np.where(signs < 0, -1, 1).astype(a.dtype)

    with _one_blas_thread():
        form(rows, cols, kk, ptr, lda, tau_ptr, work.ctypes.data, lw, info)
    _check_info(form_name, info)
    del work, tau

    if bool((signs != 1).any()):
        if m < n:
            a *= signs[:, None]  # row i of Q^T times sign(R[i, i])
        else:
            a *= signs[None, :]  # column j of Q times sign(R[j, j])
    return a
