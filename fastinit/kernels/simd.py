"""Vector width and streaming stores for the CPU kernels: LLVM intrinsics, no values involved.

- :func:`wide_vectors` marks the function it is called in (a kernel's unit, the function that
  generates one block, or a ``prange`` body, which Numba compiles as a function of its own) with LLVM's ``"prefer-vector-width"="512"`` attribute. LLVM tunes some
  AVX-512 CPUs (Intel's Skylake-SP to Rocket Lake, which Numba reports as e.g. "rocketlake") to
  prefer 256-bit vectors, and then vectorizes every loop with ymm registers only; the attribute
  lets this one function use zmm registers. It changes no value (the kernels' math is free of
  fastmath and contraction, so lane width cannot change a rounding), leaves Numba's global
  configuration and everyone else's code alone, and where the CPU has no 512-bit registers
  (AVX2) LLVM caps the width at what the CPU has: the code is what it was.
- :func:`own_function` marks the function it is called in ``noinline``: compiled once on its
  own rather than again inside each caller (the kernels' units, sparse's mask loops), with a
  64-byte aligned stack frame (``stackrealign``: else zmm spills go to unaligned slots).
- :func:`fill_chunks` stores whole 64-byte chunks (one cache line, one
  zmm register, two ymm) at a 64-byte aligned address of an array, optionally as streaming
  (non-temporal) stores, which write a cache line without reading it first (no read for
  ownership) and bypass the caches: faster for outputs far larger than the last-level cache,
  slower for ones that fit in it (measured: bench/README.md). :func:`store_fence` (``sfence``)
  must follow streaming stores before another thread may read what they wrote.
  :func:`stream_lines` and :func:`stream_rest` copy a block made in scratch out to a large
  output by streaming stores, a few lines at a time as it is made (the uniform kernel) or as the
  next block is made (the truncated normal; :func:`stream_out` writes what is left).
- :func:`address` is an array's data address, to find its 64-byte boundaries.
- :func:`scatter_rows` is the truncated normal's rejection bookkeeping: rows of 16 lane
  candidates into each lane's next positions of a block, one masked vector scatter per row
  (``vscatterdps`` with AVX-512; per-lane stores that LLVM makes of it elsewhere), the lanes'
  counts in a vector register. It moves bits, computes no value. :func:`lane_rows` does the
  same by lanes where the CPU has AVX-512 (float32 candidates, NaN where rejected): 16x16
  transposes and a ``vpcompressd`` per lane into a lane-major buffer, which :func:`lanes_out`
  transposes into the block; about 3x faster than a scatter per row. :func:`flagged` gathers
  the indices of nonzero flags by the same compress (sparse's rare cycle walks).
- :func:`stack_lanes_u32` (``_u64``, ``_i32``, ``_f32``, ``_f64``) is a 16-element array in the caller's
  stack frame, and :func:`stack_halves` four of them: scratch for lane states and means without
  a heap allocation per call, which LLVM knows overlaps nothing else.

Nothing here is used by the GPU twins.
"""
import numpy as np
from llvmlite import ir
from numba import njit, types
from numba.core import cgutils
from numba.extending import intrinsic

from .rng import BLOCK

CHUNK = 64  #: bytes a chunk store writes: one cache line
#: from this many bytes of output on, streaming stores: the output is far larger than the caches
STREAM_BYTES = 1 << 26
_U = np.uint64
_I64 = ir.IntType(64)
_VEC = ir.VectorType(_I64, CHUNK // 8)  # <8 x i64>: legalized to 1 zmm, 2 ymm or 4 xmm stores


@intrinsic
def wide_vectors(typingctx):
    """Let LLVM vectorize the function this is called in at 512 bits where the CPU has AVX-512
    (``"prefer-vector-width"="512"``); a no-op elsewhere. Call it in a function compiled on its
    own (``own_function``) or in a ``prange`` body: a function inlined into its caller takes the
    caller's attributes."""

    def codegen(context, builder, signature, args):
        # llvmlite only knows keyword attributes; a quoted string attribute renders as it is
        set.add(builder.function.attributes, '"prefer-vector-width"="512"')
        return context.get_dummy_value()

    return types.none(), codegen


@intrinsic
def own_function(typingctx):
    """Keep the function this is called in out of its callers (LLVM's ``noinline``): compiled and
    optimized once, on its own, instead of again inside a kernel's one large function (the
    kernels' units; sparse's mask loops: inlined, the kernel compiled about 25% slower and its
    mask loop ran no faster).
    The counterpart of :func:`wide_vectors`: a function attribute, no value involved."""

    def codegen(context, builder, signature, args):
        attributes = builder.function.attributes
        # a function called from a forceinline one (mask_block) inherits Numba's alwaysinline
        attributes.discard("alwaysinline")
        attributes.add("noinline")
        # a frame aligned to 64 bytes: else LLVM spills zmm registers to unaligned slots
        # (vmovups), each one split across two cache lines (the truncated normal's candidate
        # loop ran 2% slower so)
        set.add(attributes, '"stackrealign"')
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


def _stream_lines(context, builder, signature, args):
    """The codegen of ``stream_lines``."""
    dty, _, sty = signature.args[:3]
    dst, off, src, sent, avail = args
    per = ir.Constant(_I64, CHUNK // context.get_abi_sizeof(context.get_data_type(dty.dtype)))
    more = builder.icmp_unsigned(">", avail, sent)
    lines = builder.select(more, builder.udiv(builder.sub(avail, sent), per), ir.Constant(_I64, 0))
    d = _chunk_ptr(context, builder, dty, dst, builder.add(off, sent))
    s = _chunk_ptr(context, builder, sty, src, sent)
    nontemporal = builder.module.add_metadata([ir.Constant(ir.IntType(32), 1)])
    with cgutils.for_range(builder, lines) as loop:
        one = builder.load(builder.gep(s, [loop.index]), align=1)
        builder.store(one, builder.gep(d, [loop.index]), align=CHUNK).set_metadata("nontemporal", nontemporal)
    return builder.add(sent, builder.mul(lines, per))


@intrinsic
def stream_lines(typingctx, dst, off, src, sent, avail):
    """Copy the whole 64-byte lines of ``dst[off + sent:off + avail]`` from ``src[sent:avail]`` by
    streaming stores, ``dst[off + sent]`` the start of a line (``sent`` at first
    ``aligned_head(dst, off, n)``); returns how far that reached (``sent`` plus whole lines, a
    uint64). For a block generated into scratch (in L1) and copied out a few lines at a time as
    it is made, so the stores overlap the work; ``stream_rest`` copies the partial lines left."""
    if not (isinstance(dst, types.Array) and isinstance(src, types.Array) and dst.dtype == src.dtype
            and dst.layout == src.layout == "C"):
        return None
    if dst.dtype.bitwidth not in (32, 64):  # never streamed (uniform's docstring): nothing to do
        return types.uint64(dst, types.uint64, src, types.uint64, types.uint64), lambda c, b, s, a: a[3]
    return types.uint64(dst, types.uint64, src, types.uint64, types.uint64), _stream_lines


def _stream_rest(context, builder, signature, args):
    """The codegen of ``stream_rest``: two masked copies of part of a line each."""
    dty, _, sty = signature.args[:3]
    dst, off, src, head, sent, n = args
    et = context.get_data_type(dty.dtype)
    per = CHUNK // context.get_abi_sizeof(et)
    vty = ir.VectorType(et, per)
    d = context.make_array(dty)(context, builder, dst).data
    s = context.make_array(sty)(context, builder, src).data
    ptr = vty.as_pointer()
    load = _function(builder.module, f"llvm.masked.load.v{per}{et.intrinsic_name}.p0", vty,
                     [ptr, _I32, ir.VectorType(_I1, per), vty])
    store = _function(builder.module, f"llvm.masked.store.v{per}{et.intrinsic_name}.p0",
                      ir.VoidType(), [vty, ptr, _I32, ir.VectorType(_I1, per)])
    lane = ir.Constant(ir.VectorType(_I64, per), list(range(per)))
    size = ir.Constant(_I32, context.get_abi_sizeof(et))
    for first, count in ((ir.Constant(_I64, 0), head), (sent, builder.sub(n, sent))):
        keep = builder.icmp_unsigned("<", lane, _splat(builder, count, per))
        from_ = builder.bitcast(builder.gep(s, [first]), ptr)
        to = builder.bitcast(builder.gep(d, [builder.add(off, first)]), ptr)
        part = builder.call(load, [from_, size, keep, ir.Constant(vty, None)])
        builder.call(store, [part, to, size, keep])
    return context.get_dummy_value()


@intrinsic
def stream_rest(typingctx, dst, off, src, head, sent, n):
    """What ``stream_lines`` left of ``dst[off:off + n] = src[:n]``: the ``head < 64 bytes`` of
    elements before the first line and the elements from ``sent`` on (less than a line), by
    masked plain stores."""
    if not (isinstance(dst, types.Array) and isinstance(src, types.Array) and dst.dtype == src.dtype
            and dst.layout == src.layout == "C"):
        return None
    if dst.dtype.bitwidth not in (32, 64):  # never streamed: nothing to do
        return (types.none(dst, types.uint64, src, types.uint64, types.uint64, types.uint64),
                lambda c, b, s, a: c.get_dummy_value())
    return types.none(dst, types.uint64, src, types.uint64, types.uint64, types.uint64), _stream_rest


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
def aligned_head(dst, off, n):
    """Elements of ``dst`` from ``dst[off]`` on before its first 64-byte aligned element, at most
    ``n``; ``n`` when ``dst`` is not aligned to its itemsize (then no chunk store may be used)."""
    size = _U(dst.itemsize)
    a = address(dst) + _U(off) * size
    if a % size != _U(0):
        return _U(n)
    return min(_U(n), ((_U(CHUNK) - a % _U(CHUNK)) % _U(CHUNK)) // size)


@njit(inline="always")
def stream_out(dst, off, src, head, sent, n):
    """The rest of ``dst[off:off + n] = src[:n]`` once whole lines up to ``sent`` are written
    (``sent`` at least ``head = aligned_head(dst, off, n)``): the lines left by streaming stores
    (``stream_lines``), the partial ones at both ends by masked plain stores (``stream_rest``)."""
    stream_rest(dst, off, src, head, stream_lines(dst, off, src, sent, n), n)


# --- rejection sampling's compaction: rows of lane candidates into each lane's next positions ---

_I1 = ir.IntType(1)
_I8 = ir.IntType(8)
_I32 = ir.IntType(32)
ROW = 16  #: lanes a row of ``scatter_rows`` holds (``rng.LANES``)
PREFETCH_ROWS = 16  #: positions ahead of the furthest lane whose cache lines ``scatter_rows`` prefetches


def _lanes(t):
    return ir.VectorType(t, ROW)


def _splat(builder, value, n=ROW):
    """``value`` in each of ``n`` lanes."""
    vty = ir.VectorType(value.type, n)
    v = builder.insert_element(ir.Constant(vty, None), value, ir.Constant(_I32, 0))
    return builder.shuffle_vector(v, ir.Constant(vty, None), ir.Constant(ir.VectorType(_I32, n), [0] * n))


def _function(module, name, ret, params):
    """The function ``name`` of ``module``, declared as ret(params) where it is not yet there."""
    fn = module.globals.get(name)
    return fn if fn is not None else ir.Function(module, ir.FunctionType(ret, params), name)


def _loop(builder, name, start, test, step):
    """A loop built by hand, for the loops whose exit test reads what they carry (which
    ``cgutils.for_range`` cannot express): the values ``start`` carried as phis; while
    ``test(*values)`` (an i1 built in the loop's head), ``step(*values)`` builds the body and
    returns the next values. Returns the values at the exit."""
    entry = builder.block
    head = builder.append_basic_block(f"{name}.head")
    body = builder.append_basic_block(f"{name}.body")
    done = builder.append_basic_block(f"{name}.done")
    builder.branch(head)
    builder.position_at_end(head)
    values = [builder.phi(v.type) for v in start]
    for phi, v in zip(values, start):
        phi.add_incoming(v, entry)
    builder.cbranch(test(*values), body, done)
    builder.position_at_end(body)
    following = step(*values)
    for phi, v in zip(values, following):
        phi.add_incoming(v, builder.block)
    builder.branch(head)
    builder.position_at_end(done)
    return values


def _scatter_rows(context, builder, signature, args):
    """The codegen of ``scatter_rows``: one loop, the lanes' counts in a vector register."""
    dty, _, cty, oty, nty = signature.args[:5]
    dst, off, cand, ok, count, rows, limit = args
    d = context.make_array(dty)(context, builder, dst).data
    c = context.make_array(cty)(context, builder, cand).data
    o = context.make_array(oty)(context, builder, ok).data
    n = builder.bitcast(context.make_array(nty)(context, builder, count).data, _lanes(_I32).as_pointer())
    et = d.type.pointee
    size = context.get_abi_sizeof(et)
    base = builder.gep(d, [off])
    i8p = _I8.as_pointer()
    scatter = _function(builder.module, f"llvm.masked.scatter.v{ROW}{et.intrinsic_name}.v{ROW}{base.type.intrinsic_name}",
                        ir.VoidType(), [_lanes(et), _lanes(base.type), _I32, _lanes(_I1)])
    prefetch = _function(builder.module, f"llvm.prefetch.{i8p.intrinsic_name}", ir.VoidType(), [i8p, _I32, _I32, _I32])
    smax = _function(builder.module, f"llvm.vector.reduce.smax.v{ROW}i32", _I32, [_lanes(_I32)])
    lim32 = builder.trunc(limit, _I32)
    limits = _splat(builder, lim32)
    lane = ir.Constant(_lanes(_I32), list(range(ROW)))
    shift = ir.Constant(_lanes(_I32), [ROW.bit_length() - 1] * ROW)
    zero = ir.Constant(_lanes(_I32), [0] * ROW)
    one64 = ir.Constant(ir.IntType(64), 1)
    last = builder.sext(builder.sub(lim32, ir.Constant(_I32, 1)), ir.IntType(64))
    counts0 = builder.load(n, align=4)
    # the furthest position any lane can reach by row q is its start plus q
    ahead = builder.add(builder.sext(builder.call(smax, [counts0]), ir.IntType(64)),
                        ir.Constant(ir.IntType(64), PREFETCH_ROWS))
    lines = max(1, ROW * size // CHUNK)  # cache lines a position spans (float64: 2)

    def test(q, counts):
        open_ = builder.icmp_signed("<", counts, limits)  # lanes with positions left
        some = builder.icmp_unsigned("!=", builder.bitcast(open_, ir.IntType(ROW)), ir.Constant(ir.IntType(ROW), 0))
        return builder.and_(builder.icmp_signed("<", q, rows), some)

    def step(q, counts):
        open_ = builder.icmp_signed("<", counts, limits)
        at = builder.mul(q, ir.Constant(ir.IntType(64), ROW))
        values = builder.load(builder.bitcast(builder.gep(c, [at]), _lanes(et).as_pointer()), align=size)
        oks = builder.load(builder.bitcast(builder.gep(o, [at]), _lanes(_I32).as_pointer()), align=4)
        index = builder.or_(builder.shl(counts, shift), lane)  # count * ROW + lane
        ptrs = builder.gep(base, [index], inbounds=True, source_etype=et)
        ptrs.type = _lanes(base.type)  # a vector GEP: llvmlite types it as one pointer
        builder.call(scatter, [values, ptrs, ir.Constant(_I32, size), open_])
        pos = builder.add(q, ahead)
        pos = builder.select(builder.icmp_signed("<", pos, last), pos, last)
        for k in range(lines):
            p = builder.gep(base, [builder.add(builder.mul(pos, ir.Constant(ir.IntType(64), ROW)),
                                               ir.Constant(ir.IntType(64), k * CHUNK // size))])
            builder.call(prefetch, [builder.bitcast(p, i8p), ir.Constant(_I32, 1), ir.Constant(_I32, 3),
                                    ir.Constant(_I32, 1)])
        return builder.add(q, one64), builder.add(counts, builder.select(open_, oks, zero))

    q, counts = _loop(builder, "scatter_rows", [ir.Constant(ir.IntType(64), 0), counts0], test, step)
    builder.store(counts, n, align=4)
    return q


@intrinsic
def scatter_rows(typingctx, dst, off, cand, ok, count, rows, limit):
    """Compact rows of lane candidates into the positions of a block (rejection sampling):
    for each row ``q = 0, 1, ...`` (``ROW`` lanes, ``cand[ROW*q:ROW*(q+1)]``) while ``q < rows``
    (at most ``cand.size // ROW``) and some lane's ``count`` is below ``limit``, every such lane ``l`` stores its candidate at
    ``dst[off + ROW*count[l] + l]`` and adds ``ok[ROW*q + l]`` (0 or 1) to ``count[l]``; lanes
    at ``limit`` store nothing. Returns the rows consumed (``q`` at the end).

    ``dst`` and ``cand`` share a dtype (any; 16-bit outputs as their bits), ``ok`` is uint32 and
    ``count`` an int32 array of ``ROW`` (read once, written back at the end); all contiguous.
    The counts stay in a vector register and each row is one ``llvm.masked.scatter``: with
    AVX-512 a ``vpscatterdd``/``vscatterdps`` (two ``vscatterdpd`` for float64), elsewhere (AVX2,
    16-bit elements) LLVM expands it into per-lane conditional scalar stores. Each row also
    prefetches for writing the cache lines of the position ``PREFETCH_ROWS`` past the furthest
    a lane can have reached (capped at ``limit - 1``): a scatter waits on lines missing from the
    cache, and a block in a large output is not in the cache. Positions are below ``limit``,
    so the stores stay inside the block. No values are computed: which bits land where is
    fixed by the arguments alone."""
    arrays = (dst, cand, ok, count)
    if not (all(isinstance(a, types.Array) and a.ndim == 1 and a.layout == "C" for a in arrays)
            and dst.dtype == cand.dtype and ok.dtype == types.uint32 and count.dtype == types.int32):
        return None
    sig = types.int64(dst, types.uint64, cand, ok, count, types.int64, types.int64)
    return sig, _scatter_rows


# --- the same compaction by lanes (AVX-512, float32): 16x16 transposes and vector compresses ---

_F32 = ir.FloatType()
LANE_STRIDE = BLOCK // ROW + ROW  #: a lane's row in ``lane_rows``' buffer: its positions, and a vector to spare


def avx512() -> bool:
    """Whether Numba compiles for a CPU with AVX-512 (``NUMBA_CPU_FEATURES``, else the host's)."""
    from numba.core.registry import cpu_target
    return "+avx512f" in cpu_target.target_context.codegen()._get_host_cpu_features().split(",")


def _transpose(builder, rows):
    """The ``ROW`` x ``ROW`` transpose of ``ROW`` vectors: four stages, stage k swapping bit k of
    the row number with bit k of the element number (two-source shuffles; vpermt2ps and the like)."""
    rows = list(rows)
    for k in range(ROW.bit_length() - 1):
        bit = 1 << k
        ma = ir.Constant(_lanes(_I32), [c if not c & bit else ROW + (c ^ bit) for c in range(ROW)])
        mb = ir.Constant(_lanes(_I32), [c ^ bit if not c & bit else ROW + c for c in range(ROW)])
        for r in range(ROW):
            if not r & bit:
                a, b = rows[r], rows[r | bit]
                rows[r], rows[r | bit] = builder.shuffle_vector(a, b, ma), builder.shuffle_vector(a, b, mb)
    return rows


def _vector_at(builder, data, index, ty):
    return builder.bitcast(builder.gep(data, [index]), _lanes(ty).as_pointer())


def _lane_rows(context, builder, signature, args):
    """The codegen of ``lane_rows``: tiles of ROW rows, the lanes' counts in a vector register."""
    bty, cty, nty = signature.args[:3]
    buf, cand, count, rows, need = args
    b = context.make_array(bty)(context, builder, buf).data
    c = context.make_array(cty)(context, builder, cand).data
    n = _vector_at(builder, context.make_array(nty)(context, builder, count).data, ir.Constant(_I64, 0), _I32)
    # on the integers: LLVM 22 aborts expanding a float vector.compress without AVX-512
    compress = _function(builder.module, f"llvm.experimental.vector.compress.v{ROW}i32", _lanes(_I32),
                         [_lanes(_I32), _lanes(_I1), _lanes(_I32)])
    vmin = _function(builder.module, f"llvm.smin.v{ROW}i32", _lanes(_I32), [_lanes(_I32), _lanes(_I32)])
    least = _function(builder.module, f"llvm.vector.reduce.smin.v{ROW}i32", _I32, [_lanes(_I32)])
    need32 = builder.trunc(need, _I32)
    tiles = builder.udiv(rows, ir.Constant(_I64, ROW))
    counts0 = builder.call(vmin, [builder.load(n, align=4), _splat(builder, need32)])  # stays at most need

    def test(t, counts):
        more = builder.icmp_signed("<", builder.call(least, [counts]), need32)
        return builder.and_(builder.icmp_unsigned("<", t, tiles), more)

    def step(t, counts):
        first = builder.mul(t, ir.Constant(_I64, ROW * ROW))
        tile = [builder.load(_vector_at(builder, c, builder.add(first, ir.Constant(_I64, ROW * q)), _F32), align=4)
                for q in range(ROW)]
        # the lanes' new counts, summed over the tile's rows in vector registers: a count kept per
        # lane in a scalar register took five instructions a lane (and LLVM's branches for its min)
        got = ir.Constant(_lanes(_I32), None)
        for row in tile:
            got = builder.add(got, builder.zext(builder.fcmp_ordered("==", row, row), _lanes(_I32)))
        for lane, column in enumerate(_transpose(builder, tile)):
            kept = builder.fcmp_ordered("==", column, column)  # rejected candidates are NaN
            have = builder.extract_element(counts, ir.Constant(_I32, lane))  # at most need
            at = builder.add(ir.Constant(_I64, lane * LANE_STRIDE), builder.sext(have, _I64))
            packed = builder.call(compress, [builder.bitcast(column, _lanes(_I32)), kept,
                                             ir.Constant(_lanes(_I32), None)])
            builder.store(packed, _vector_at(builder, b, at, _I32), align=4)
        after = builder.call(vmin, [builder.add(counts, got), _splat(builder, need32)])
        return builder.add(t, ir.Constant(_I64, 1)), after

    t, counts = _loop(builder, "lane_rows", [ir.Constant(_I64, 0), counts0], test, step)
    builder.store(counts, n, align=4)
    return builder.mul(t, ir.Constant(_I64, ROW))


@intrinsic
def lane_rows(typingctx, buf, cand, count, rows, need):
    """Compact rows of lane candidates into the lanes' rows of ``buf`` (``ROW`` rows of
    ``LANE_STRIDE`` float32): as ``scatter_rows``, lane ``l``'s accepted candidates, in order,
    go to ``buf[l * LANE_STRIDE + count[l]]`` and on, but a candidate is accepted when it is not
    NaN, and a lane's count stops at ``need`` (what it would write past it lands in its spare
    vector). Takes ``rows`` (a multiple of ``ROW``) in tiles of ``ROW`` rows while some lane has
    fewer than ``need``; returns the rows taken. Each tile is transposed (lane ``l``'s
    candidates into one vector) and each lane's vector compressed (``vpcompressd``) and stored
    at its count: no scatter. ``lanes_out`` writes the block out. For AVX-512 (``avx512``):
    elsewhere LLVM expands the compress into slower code than ``scatter_rows``'."""
    if not (all(isinstance(a, types.Array) and a.ndim == 1 and a.layout == "C" for a in (buf, cand, count))
            and buf.dtype == cand.dtype == types.float32 and count.dtype == types.int32):
        return None
    return types.int64(buf, cand, count, types.int64, types.int64), _lane_rows


def _lanes_out(context, builder, signature, args):
    """The codegen of ``lanes_out``."""
    dty, _, bty = signature.args[:3]
    dst, off, buf, tiles = args
    d = context.make_array(dty)(context, builder, dst).data
    b = context.make_array(bty)(context, builder, buf).data
    with cgutils.for_range(builder, tiles) as loop:
        p = builder.mul(loop.index, ir.Constant(_I64, ROW))
        lanes = [builder.load(_vector_at(builder, b, builder.add(p, ir.Constant(_I64, lane * LANE_STRIDE)), _F32), align=4)
                 for lane in range(ROW)]
        for j, row in enumerate(_transpose(builder, lanes)):
            at = builder.add(off, builder.mul(builder.add(p, ir.Constant(_I64, j)), ir.Constant(_I64, ROW)))
            builder.store(row, _vector_at(builder, d, at, _F32), align=4)
    return context.get_dummy_value()


@intrinsic
def lanes_out(typingctx, dst, off, buf, tiles):
    """``dst[off + ROW * p + l] = buf[l * LANE_STRIDE + p]`` for the positions ``p`` of ``tiles``
    tiles of ``ROW``: ``lane_rows``' buffer written to a block in the stream layout (position
    by position, lanes interleaved), one transpose a tile. Moves bits, computes no value."""
    if not (isinstance(dst, types.Array) and isinstance(buf, types.Array)
            and dst.dtype == buf.dtype == types.float32 and dst.layout == buf.layout == "C"):
        return None
    return types.none(dst, types.uint64, buf, types.uint64), _lanes_out


def _flagged(context, builder, signature, args):
    """The codegen of ``flagged``: a group of ROW flags a step, no branch."""
    ity, fty = signature.args[:2]
    idx, flags, n = args
    ip = context.make_array(ity)(context, builder, idx).data
    fp = context.make_array(fty)(context, builder, flags).data
    compress = _function(builder.module, f"llvm.experimental.vector.compress.v{ROW}i32", _lanes(_I32),
                         [_lanes(_I32), _lanes(_I1), _lanes(_I32)])
    ctpop = _function(builder.module, f"llvm.ctpop.i{ROW}", ir.IntType(ROW), [ir.IntType(ROW)])
    groups = builder.udiv(builder.add(n, ir.Constant(_I64, ROW - 1)), ir.Constant(_I64, ROW))
    iota = ir.Constant(_lanes(_I32), list(range(ROW)))

    def step(g, m):
        first = builder.mul(g, ir.Constant(_I64, ROW))
        group = builder.load(_vector_at(builder, fp, first, _I8), align=1)
        on = builder.icmp_unsigned("!=", group, ir.Constant(_lanes(_I8), None))
        at = builder.add(_splat(builder, builder.trunc(first, _I32)), iota)
        builder.store(builder.call(compress, [at, on, ir.Constant(_lanes(_I32), None)]),
                      _vector_at(builder, ip, m, _I32), align=4)
        got = builder.zext(builder.call(ctpop, [builder.bitcast(on, ir.IntType(ROW))]), _I64)
        return builder.add(g, ir.Constant(_I64, 1)), builder.add(m, got)

    _, m = _loop(builder, "flagged", [ir.Constant(_I64, 0)] * 2,
                 lambda g, m: builder.icmp_unsigned("<", g, groups), step)
    return m


@intrinsic
def flagged(typingctx, idx, flags, n):
    """The indices ``j < n`` (in order) of the nonzero ``flags[j]`` (uint8), into ``idx[:m]``
    (uint32); returns m. Reads the flags in whole groups of ``ROW`` (those past ``n`` in the
    last group must be 0) and writes a whole group of ``idx`` at ``m`` each step: ``idx`` holds
    ``n + ROW``. Each group's indices are compressed (``vpcompressd``) and stored at the count
    so far: no branch per flag, where testing words of flags mispredicted once per rare flag.
    For AVX-512 (``avx512``), as ``lane_rows``."""
    if not (isinstance(idx, types.Array) and isinstance(flags, types.Array) and idx.dtype == types.uint32
            and flags.dtype in (types.uint8, types.boolean) and idx.layout == flags.layout == "C"):
        return None
    return types.int64(idx, flags, types.int64), _flagged


def _stack_array(dtype, n, name):
    """An intrinsic giving an uninitialized 1-d array of ``n`` ``dtype`` elements in the stack
    frame of the function it is called in."""
    aty = types.Array(dtype, 1, "C")

    def codegen(context, builder, signature, args):
        from numba.np.arrayobj import make_array, populate_array
        et = context.get_data_type(dtype)
        slot = cgutils.alloca_once(builder, ir.ArrayType(et, n), name=name)
        slot.align = CHUNK
        ary = make_array(aty)(context, builder)
        intp = context.get_value_type(types.intp)
        size = context.get_abi_sizeof(et)
        populate_array(ary, data=builder.bitcast(slot, et.as_pointer()), shape=[ir.Constant(intp, n)],
                       strides=[ir.Constant(intp, size)], itemsize=ir.Constant(intp, size), meminfo=None)
        return ary._getvalue()

    def typer(typingctx):
        return aty(), codegen

    typer.__name__ = typer.__qualname__ = f"{name}_{dtype}"
    return intrinsic(typer)


#: An uninitialized array of ``ROW`` uint32 (uint64, int32, float32, float64) in the stack frame of the
#: function this is called in (an ``alloca``, 64-byte aligned): no heap allocation and no reference
#: count, and LLVM sees that it overlaps no other array. It lives until that function returns:
#: never return it or keep it anywhere.
stack_lanes_u32 = _stack_array(types.uint32, ROW, "stack_lanes")
stack_lanes_u64 = _stack_array(types.uint64, ROW, "stack_lanes")
stack_lanes_i32 = _stack_array(types.int32, ROW, "stack_lanes")
stack_lanes_f32 = _stack_array(types.float32, ROW, "stack_lanes")
stack_lanes_f64 = _stack_array(types.float64, ROW, "stack_lanes")
#: The same for a block of ``BLOCK`` float32 (16 KiB, far below any thread's stack): the float32
#: values of a 16-bit block before rounding, with no heap allocation per ``prange`` task and no
#: scratch parameter passed down through the kernels (measured: as fast as a heap block).
stack_block_f32 = _stack_array(types.float32, BLOCK, "stack_block")
#: ``lane_rows``' buffer (17 KiB), and a placeholder of one element where it is not used
stack_lane_buffer = _stack_array(types.float32, ROW * LANE_STRIDE, "lane_buffer")
stack_no_buffer = _stack_array(types.float32, 1, "lane_buffer")


@njit(inline="always")
def stack_halves():
    """Four ``stack_lanes_u32`` arrays: the 32-bit halves (s0 high, s0 low, s1 high, s1 low) of
    the ``LANES`` lane states in the stack frame of the function this is called in (LLVM sees
    that they overlap no other array, so the lane loops vectorize without run-time checks).
    Inlined into the caller's Numba IR (``inline="always"``), so the allocas land in the
    caller's frame: compiled as a function of its own, it would return its dead frame."""
    return stack_lanes_u32(), stack_lanes_u32(), stack_lanes_u32(), stack_lanes_u32()
