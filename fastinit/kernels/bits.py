"""Bit-exact scalar primitives the kernels build on: fused multiply-add, float/int bit casts,
float16 rounding.

Each is one LLVM instruction with IEEE semantics, so a kernel that uses only these, integer
arithmetic and correctly rounded +, -, *, / and sqrt gives the same bits on every machine (and,
later, on the GPU). ``fma`` is explicit because compilers may or may not contract ``a * b + c``
on their own; here the rounding is fixed by the source.
"""
from llvmlite import ir
from numba import types
from numba.extending import intrinsic


@intrinsic
def fma(typingctx, a, b, c):
    """``a * b + c`` with a single rounding (``llvm.fma``); all three of one float type."""
    if not (isinstance(a, types.Float) and a == b == c):
        return None

    def codegen(context, builder, signature, args):
        return builder.fma(*args)

    return a(a, a, a), codegen


def _bitcast(src, dst, dst_llvm):
    @intrinsic
    def cast(typingctx, x):
        if x != src:
            return None

        def codegen(context, builder, signature, args):
            return builder.bitcast(args[0], dst_llvm)

        return dst(x), codegen

    return cast


f32_as_u32 = _bitcast(types.float32, types.uint32, ir.IntType(32))
u32_as_f32 = _bitcast(types.uint32, types.float32, ir.FloatType())
f64_as_u64 = _bitcast(types.float64, types.uint64, ir.IntType(64))
u64_as_f64 = _bitcast(types.uint64, types.float64, ir.DoubleType())


@intrinsic
def f32_to_f16_bits(typingctx, x):
    """Round a float32 to the nearest float16 (ties to even) and return its 16 bits."""
    if x != types.float32:
        return None

    def codegen(context, builder, signature, args):
        return builder.bitcast(builder.fptrunc(args[0], ir.HalfType()), ir.IntType(16))

    return types.uint16(x), codegen
