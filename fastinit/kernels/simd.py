"""Vector width and streaming stores for the CPU kernels: LLVM intrinsics, no values involved.

- :func:`wide_vectors` marks the function it is called in (a ``prange`` body: Numba compiles it
  as its own function) with LLVM's ``"prefer-vector-width"="512"`` attribute. LLVM tunes some
  AVX-512 CPUs (Intel's Skylake-SP to Rocket Lake, which Numba reports as e.g. "rocketlake") to
  prefer 256-bit vectors, and then vectorizes every loop with ymm registers only; the attribute
  lets this one function use zmm registers. It changes no value (the kernels' math is free of
  fastmath and contraction, so lane width cannot change a rounding), leaves Numba's global
  configuration and everyone else's code alone, and where the CPU has no 512-bit registers
  (AVX2) LLVM caps the width at what the CPU has: the code is what it was.
- :func:`fill_chunks` stores whole 64-byte chunks (one cache line, one
  zmm register, two ymm) at a 64-byte aligned address of an array, optionally as streaming
  (non-temporal) stores, which write a cache line without reading it first (no read for
  ownership) and bypass the caches: faster for outputs far larger than the last-level cache,
  slower for ones that fit in it (measured: bench/README.md). :func:`store_fence` (``sfence``)
  must follow streaming stores before another thread may read what they wrote.
- :func:`address` is an array's data address, to find its 64-byte boundaries.

Nothing here is used by the GPU twins.
"""
import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

CHUNK = 64  #: bytes a chunk store writes: one cache line
_U = np.uint64
_I64 = ir.IntType(64)
_VEC = ir.VectorType(_I64, CHUNK // 8)  # <8 x i64>: legalized to 1 zmm, 2 ymm or 4 xmm stores


@intrinsic
def wide_vectors(typingctx):
    """Let LLVM vectorize the function this is called in at 512 bits where the CPU has AVX-512
    (``"prefer-vector-width"="512"``); a no-op elsewhere. Call it in a ``prange`` body."""

    def codegen(context, builder, signature, args):
        # llvmlite only knows keyword attributes; a quoted string attribute renders as it is
        set.add(builder.function.attributes, '"prefer-vector-width"="512"')
        return context.get_dummy_value()

    return types.none(), codegen


@intrinsic
def address(typingctx, arr):
    """The address of ``arr``'s data (uint64)."""
    if not isinstance(arr, types.Array):
        return None

    def codegen(context, builder, signature, args):
        data = context.make_array(signature.args[0])(context, builder, args[0]).data
        return builder.ptrtoint(data, _I64)

    return types.uint64(arr), codegen


def _chunk_ptr(context, builder, aty, arr, index):
    """A <8 x i64>* to element ``index`` of the array ``arr``."""
    data = context.make_array(aty)(context, builder, arr).data
    return builder.bitcast(builder.gep(data, [index]), _VEC.as_pointer())


def _fill_loop(stream: bool):
    """The codegen of storing the one 64-byte chunk at ``src[si]`` n times, in 64-byte vector
    stores from the 64-byte aligned ``dst[di]`` (``stream``: non-temporal ones)."""
    def codegen(context, builder, signature, args):
        dty, _, sty = signature.args[:3]
        dst, di, src, si, n = args[:5]
        d = _chunk_ptr(context, builder, dty, dst, di)
        one = builder.load(_chunk_ptr(context, builder, sty, src, si), align=1)
        nontemporal = builder.module.add_metadata([ir.Constant(ir.IntType(32), 1)]) if stream else None
        with cgutils.for_range(builder, n) as loop:
            st = builder.store(one, builder.gep(d, [loop.index]), align=CHUNK)
            if stream:
                st.set_metadata("nontemporal", nontemporal)
        return context.get_dummy_value()
    return codegen


@intrinsic
def _fill(typingctx, dst, di, src, si, n, stream):
    """(see fill_chunks)"""
    if not (isinstance(dst, types.Array) and isinstance(src, types.Array)
            and isinstance(stream, types.BooleanLiteral)):
        return None
    sig = types.none(dst, types.uint64, src, types.uint64, types.uint64, stream)
    return sig, _fill_loop(stream.literal_value)


@njit(inline="always")
def fill_chunks(dst, di, src, si, n, stream):
    """Store the 64-byte chunk at ``src[si]`` ``n`` times into ``dst`` from element ``di`` (a
    64-byte aligned address); ``stream`` (a literal True/False) makes the stores streaming ones."""
    _fill(dst, _U(di), src, _U(si), _U(n), stream)


@intrinsic
def store_fence(typingctx):
    """``sfence``: orders this thread's streaming stores before its later stores."""

    def codegen(context, builder, signature, args):
        if builder.module.triple.startswith(("x86_64", "i686", "i386")):
            fn = builder.module.declare_intrinsic("llvm.x86.sse.sfence", fnty=ir.FunctionType(ir.VoidType(), []))
            builder.call(fn, [])
        else:  # elsewhere the non-temporal hint is a plain store, or what the full fence orders
            builder.fence("seq_cst")
        return context.get_dummy_value()

    return types.none(), codegen


@njit(inline="always")
def aligned_head(dst, n):
    """Elements of ``dst`` before its first 64-byte aligned element, at most ``n``; ``n`` when
    ``dst`` is not aligned to its itemsize (then no chunk store may be used)."""
    a = address(dst)
    size = _U(dst.itemsize)
    if a % size != _U(0):
        return _U(n)
    return min(_U(n), ((_U(CHUNK) - a % _U(CHUNK)) % _U(CHUNK)) // size)
