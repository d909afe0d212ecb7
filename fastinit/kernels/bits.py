"""Bit-exact scalar primitives the kernels build on: fused multiply-add, square root, float
multiply, add and subtract, float/int bit casts and conversions, float16 rounding, and 32-bit
integer arithmetic.

Each is one LLVM instruction (or a short exact sequence) with IEEE semantics, so a kernel that
uses only these, integer arithmetic and correctly rounded float64 ``/`` gives the same bits on
every machine and on the GPU. ``fma`` is explicit because compilers may or may not contract
``a * b + c`` on their own; here the rounding is fixed by the source. ``sqrt`` is the
``llvm.sqrt`` intrinsic (correctly rounded), never a libm call.

``mul``, ``add`` and ``sub`` are the float ``*``, ``+``, ``-`` that no compiler may contract.
On the CPU they are the plain ``fmul``/``fadd``/``fsub`` (Numba never contracts those: the
code and its vectorization are what ``*``, ``+``, ``-`` give). numba-cuda compiles with NVVM's
default ``-fma=1``, under which a plain float ``*`` and ``+`` become PTX ``mul.f32`` and
``add.f32`` that NVVM and ptxas may fuse into one fma, rounding once instead of twice: the GPU
would then differ from the CPU by an ulp, and an accept/reject test of the truncated normal
could flip and shift the rest of a stream. On the CUDA target they are libdevice's
``__nv_fmul_rn``/``__nv_fadd_rn``/``__nv_fsub_rn`` (``__nv_d*_rn`` for float64), PTX
``mul.rn``/``add.rn``/``sub.rn``, which are never contracted. Every float ``*``, ``+``, ``-``
of the math the GPU kernels share is written with them.

The 32-bit integer operations exist because Numba widens uint32 operands to 64 bits; these keep
them 32 bits wide, so that a loop of 32-bit words vectorizes 8 to a ymm register, at the width
of the float32 math it feeds (AVX2 has no vector int64-to-float conversion at all).
"""
import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.extending import intrinsic

_I16 = ir.IntType(16)
_I32 = ir.IntType(32)
_I64 = ir.IntType(64)


@intrinsic
def fma(typingctx, a, b, c):
    """``a * b + c`` with a single rounding (``llvm.fma``); all three of one float type."""
    if not (isinstance(a, types.Float) and a == b == c):
        return None

    def codegen(context, builder, signature, args):
        return builder.fma(*args)

    return a(a, a, a), codegen


@intrinsic
def sqrt(typingctx, x):
    """Correctly rounded square root (``llvm.sqrt``), never a libm call."""
    if not isinstance(x, types.Float):
        return None

    def codegen(context, builder, signature, args):
        fn = builder.module.declare_intrinsic("llvm.sqrt", [args[0].type])
        return builder.call(fn, args)

    return x(x), codegen


def _on_cuda(builder):
    """Whether ``builder`` emits code for the CUDA target: NVVM IR, whose modules carry an NVPTX
    target triple (numba-cuda's codegen sets ``nvptx64-nvidia-cuda`` on every module it creates,
    as NVVM requires; the CPU codegen sets the host's). The triple, rather than the target
    context's class or name, is what says that libdevice is linked in to be called."""
    return builder.module.triple.startswith("nvptx")


def _libdevice(builder, name, args):
    """A call of the libdevice function ``name`` on ``args`` (its result of their type)."""
    fn = builder.module.globals.get(name)
    if fn is None:
        fnty = ir.FunctionType(args[0].type, [a.type for a in args])
        fn = ir.Function(builder.module, fnty, name)
    return builder.call(fn, args)


def _rn_binop(method, nv, sign):
    """A float32/float64 binary op: the LLVM instruction ``method`` on the CPU, libdevice's
    ``__nv_f{nv}_rn`` (float32) or ``__nv_d{nv}_rn`` (float64) on the CUDA target."""
    def op(typingctx, a, b):
        if not (a in (types.float32, types.float64) and a == b):
            return None

        def codegen(context, builder, signature, args):
            if _on_cuda(builder):
                prefix = "f" if signature.args[0] == types.float32 else "d"
                return _libdevice(builder, f"__nv_{prefix}{nv}_rn", args)
            return getattr(builder, method)(*args)

        return a(a, b), codegen

    op.__doc__ = (f"``a {sign} b`` (both float32 or both float64), correctly rounded and never "
                  f"contracted into an fma: ``{method}`` on the CPU, ``__nv_f{nv}_rn`` / "
                  f"``__nv_d{nv}_rn`` on the GPU (module docstring).")
    return intrinsic(op)


# the only float *, +, - of the math the GPU kernels share
mul = _rn_binop("fmul", "mul", "*")
add = _rn_binop("fadd", "add", "+")
sub = _rn_binop("fsub", "sub", "-")


def _bitcast(src, dst, dst_llvm):
    @intrinsic
    def cast(typingctx, x):
        if x != src:
            return None

        def codegen(context, builder, signature, args):
            return builder.bitcast(args[0], dst_llvm)

        return dst(x), codegen

    return cast


f32_as_u32 = _bitcast(types.float32, types.uint32, _I32)
u32_as_f32 = _bitcast(types.uint32, types.float32, ir.FloatType())
f64_as_u64 = _bitcast(types.float64, types.uint64, _I64)
u64_as_f64 = _bitcast(types.uint64, types.float64, ir.DoubleType())


@intrinsic
def f32_to_f16_bits(typingctx, x):
    """Round a float32 to the nearest float16 (ties to even) and return its 16 bits."""
    if x != types.float32:
        return None

    def codegen(context, builder, signature, args):
        return builder.bitcast(builder.fptrunc(args[0], ir.HalfType()), _I16)

    return types.uint16(x), codegen


# --- 32-bit integer words -------------------------------------------------------------------

def _binop32(method):
    @intrinsic
    def op(typingctx, a, b):
        if not (a == types.uint32 and b == types.uint32):
            return None

        def codegen(context, builder, signature, args):
            return getattr(builder, method)(*args)

        return types.uint32(a, b), codegen

    return op


# uint32 (op) uint32 -> uint32, modulo 2**32; shift counts below 32
add32 = _binop32("add")
sub32 = _binop32("sub")
mul32 = _binop32("mul")
and32 = _binop32("and_")
or32 = _binop32("or_")
xor32 = _binop32("xor")
shl32 = _binop32("shl")
shr32 = _binop32("lshr")


@intrinsic
def lo32(typingctx, x):
    """The low 32 bits of a uint64."""
    if x != types.uint64:
        return None

    def codegen(context, builder, signature, args):
        return builder.trunc(args[0], _I32)

    return types.uint32(x), codegen


@intrinsic
def hi32(typingctx, x):
    """The high 32 bits of a uint64."""
    if x != types.uint64:
        return None

    def codegen(context, builder, signature, args):
        return builder.trunc(builder.lshr(args[0], ir.Constant(_I64, 32)), _I32)

    return types.uint32(x), codegen


@intrinsic
def to_u32(typingctx, x):
    """The low 32 bits of an integer (a bool gives 0 or 1)."""
    if not isinstance(x, (types.Integer, types.Boolean)):
        return None

    def codegen(context, builder, signature, args):
        v = args[0]
        if v.type.width > 32:
            return builder.trunc(v, _I32)
        if v.type.width < 32:
            return builder.zext(v, _I32)
        return v

    return types.uint32(x), codegen


@intrinsic
def u32_to_u64(typingctx, x):
    """A uint32 widened to uint64."""
    if x != types.uint32:
        return None

    def codegen(context, builder, signature, args):
        return builder.zext(args[0], _I64)

    return types.uint64(x), codegen


# --- conversions ----------------------------------------------------------------------------

@intrinsic
def i31_to_f32(typingctx, x):
    """float32 of a uint32 below 2**31 (exact below 2**24, else rounded to nearest even)."""
    if x != types.uint32:
        return None

    def codegen(context, builder, signature, args):
        return builder.sitofp(args[0], ir.FloatType())

    return types.float32(x), codegen


@intrinsic
def i31_to_f64(typingctx, x):
    """float64 of a uint32 below 2**31 (exact)."""
    if x != types.uint32:
        return None

    def codegen(context, builder, signature, args):
        return builder.sitofp(args[0], ir.DoubleType())

    return types.float64(x), codegen


@intrinsic
def f32_to_u31(typingctx, x):
    """A float32 in [0, 2**31) truncated toward zero, as uint32."""
    if x != types.float32:
        return None

    def codegen(context, builder, signature, args):
        return builder.fptosi(args[0], _I32)

    return types.uint32(x), codegen


_2P52 = np.uint64(0x4330000000000000)  # bits of the float64 2**52
_2P84 = np.uint64(0x4530000000000000)  # bits of the float64 2**84
_2P84_52 = 2.0**84 + 2.0**52


@njit(forceinline=True, error_model="numpy")
def u53_to_f64(k):
    """float64 of a uint64 below 2**53, exactly, by integer and float adds only (AVX2 has no
    vector int64 to float64 conversion): (2**84 + hi * 2**32) - (2**84 + 2**52) + (2**52 + lo)."""
    hi = u64_as_f64((k >> np.uint64(32)) | _2P84)
    lo = u64_as_f64((k & np.uint64(0xFFFFFFFF)) | _2P52)
    return add(sub(hi, _2P84_52), lo)


_u = np.uint32
_BF16_HALF = _u(0x7FFF)
_1, _16 = _u(1), _u(16)


@njit(forceinline=True, error_model="numpy")
def f32_to_bf16_bits(x):
    """Round a finite float32 to the nearest bfloat16 (ties to even) and return its 16 bits as
    an int16 (bfloat16 is the top half of a float32): integer operations only, the same on the
    CPU and the GPU, and vectorizable. A value beyond bfloat16's largest (3.3895e38) rounds to
    infinity; the fills check that none gets there."""
    b = f32_as_u32(x)
    b = add32(b, add32(_BF16_HALF, and32(shr32(b, _16), _1)))
    return np.int16(shr32(b, _16))
