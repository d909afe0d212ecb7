"""fastinit.jax with ``out_sharding`` on 8 host CPU devices: each device's shard equals the
unsharded array's slice bit for bit, and the core is called with shard-sized blocks only, each
distinct one once (``jax.make_array_from_callback``); PartitionSpecs under ``jax.set_mesh``;
``Explicit`` and ``Auto`` mesh axes; ``jax.jit`` (traced key); ``zeros``/``ones``/``constant``;
JAX's checks of ``out_sharding``.

The device count must be set before JAX is imported, and the rest of the suite imports JAX with
one device, so everything runs in one subprocess (``SCRIPT``), which reports per group the cases
it ran and the ones that failed; the tests below read its report."""
from __future__ import annotations

import functools
import json
import os
import subprocess
import sys
import textwrap

import pytest

pytest.importorskip("jax")

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

SCRIPT = r'''
import json, traceback
from collections import defaultdict

import jax, jax.numpy as jnp, numpy as np
from jax.sharding import Mesh, NamedSharding, PartitionSpec as P, SingleDeviceSharding

import fastinit.jax as fj
from fastinit.initializer import Initializer

assert jax.device_count() == 8, jax.devices()
ran, failed = defaultdict(int), defaultdict(list)
calls = []  # (initializer name, full shape, block or None, out's shape) of each core call
_call = Initializer.__call__


def recording(self, *shape, **params):
    out = params.get("out")
    calls.append((self.name, tuple(shape[0]) if shape else None, params.get("block"),
                  None if out is None else out.shape))
    return _call(self, *shape, **params)


Initializer.__call__ = recording


def case(group, label):
    def run(fn):
        ran[group] += 1
        try:
            fn()
        except Exception:
            failed[group].append(f"{label}: {traceback.format_exc(limit=4)}")
    return run


def bits(x):
    """The values' bits (bfloat16, float16, float32, complex64 as unsigned ints)."""
    x = np.asarray(x)
    return x.view(f"u{x.dtype.itemsize}") if x.dtype.itemsize in (2, 4, 8) else x


def same(a, b):
    return a.shape == b.shape and a.dtype == b.dtype and np.array_equal(bits(a), bits(b))


def check_shards(arr, ref, sharding):
    assert arr.shape == ref.shape and arr.dtype == ref.dtype, (arr.shape, arr.dtype, ref.dtype)
    assert arr.sharding.is_equivalent_to(sharding, ref.ndim), (arr.sharding, sharding)
    assert len(arr.addressable_shards) == len(sharding.addressable_devices)
    for shard in arr.addressable_shards:
        assert same(np.asarray(shard.data), ref[shard.index]), shard.index


def check_blocks(name, shape, sharding, got):
    """The core calls of one sharded call: shard-sized blocks, each distinct index once."""
    index_map = sharding.devices_indices_map(shape)
    boxes = {tuple(s.indices(n)[:2] for s, n in zip(ix, shape)) for ix in index_map.values()}
    shard_shape = sharding.shard_shape(shape)
    if name == "orthogonal" and shard_shape != shape:  # the whole matrix, once, then sliced
        assert [(c[1], c[2]) for c in got] == [(shape, None)], got
        return
    assert len(got) == len(boxes), (len(got), len(boxes), got)
    seen = set()
    for cname, full, block, out_shape in got:
        assert full == shape and out_shape == shard_shape, (full, out_shape, shard_shape)
        if block is None:  # the whole array: only where a shard is the whole array
            assert shard_shape == shape
            box = tuple((0, n) for n in shape)
        else:
            box = tuple((s.start, s.stop) for s in block)
            assert all(s.step in (None, 1) for s in block)
        assert box in boxes and box not in seen, (box, boxes, seen)
        seen.add(box)


INITS = {
    "he_normal": fj.he_normal(), "glorot_uniform": fj.glorot_uniform(),
    "truncated_normal": fj.truncated_normal(0.5), "normal": fj.normal(2.0),
    "orthogonal": fj.orthogonal(1.5), "uniform": fj.uniform(3.0), "zeros": fj.zeros,
}
DTYPES = [jnp.float32, jnp.bfloat16, jnp.float16]
SPECS = [P("x", "y"), P("x", None), P(None, "y"), P()]
devices = np.array(jax.devices())
MESHES = {  # jax.make_mesh's axes are Explicit; jax.sharding.Mesh's Auto
    "2x4 explicit": jax.make_mesh((2, 4), ("x", "y")),
    "4x2 auto": Mesh(devices.reshape(4, 2), ("x", "y")),
    "2x4 auto": Mesh(devices[::-1].reshape(2, 4), ("x", "y")),  # devices out of order
}
key = jax.random.key(1234)

# --- every initializer x dtype x spec x mesh: values and the core's blocks -----------------------
for mesh_name, mesh in MESHES.items():
    for spec in SPECS:
        sharding = NamedSharding(mesh, spec)
        for name, init in INITS.items():
            for dtype in DTYPES:
                shape = (16, 24) if name != "orthogonal" else (24, 16)
                label = f"{name} {np.dtype(dtype).name} {mesh_name} {spec}"

                @case("values", label)
                def _():
                    ref = np.asarray(init(key, shape, dtype))
                    calls.clear()
                    arr = init(key, shape, dtype, out_sharding=sharding)
                    got = list(calls)
                    check_shards(arr, ref, sharding)
                    if name == "zeros":
                        assert not got and not ref.any(), got
                    else:
                        core = init.initializer.name  # the core function behind it
                        assert {c[0] for c in got} == {core}, got
                        check_blocks(core, shape, sharding, got)

# --- other shapes, initializers and dtypes ---------------------------------------------------------
mesh = MESHES["2x4 explicit"]
for label, init, shape, spec, dtype in [
        ("3-d conv kernel", fj.he_uniform(), (3, 8, 16), P(None, "x", "y"), jnp.float32),
        ("4-d, two axes on one dim", fj.lecun_normal(), (3, 3, 16, 8), P(None, None, ("x", "y")), jnp.float32),
        ("complex64", fj.normal(), (8, 12), P("x", "y"), jnp.complex64),
        ("variance_scaling complex", fj.variance_scaling(1.0, "fan_avg", "uniform"), (8, 12), P("y", "x"), jnp.complex64),
        ("delta_orthogonal", fj.delta_orthogonal(), (3, 3, 8, 16), P(None, None, "x", "y"), jnp.float32),
        ("orthogonal column_axis", fj.orthogonal(column_axis=0), (8, 12), P("x", "y"), jnp.float32),
        ("0-d", fj.normal(), (), P(), jnp.float32),
        ("empty", fj.normal(), (0, 8), P("x", "y"), jnp.float32),
        ("ones", fj.ones, (8, 8), P("x", "y"), jnp.bfloat16),
        ("constant scalar", fj.constant(-7), (8, 8), P("x", None), jnp.float16),
        ("constant array", fj.constant(jnp.arange(8.0)), (4, 8), P(None, "y"), jnp.float32)]:
    sharding = NamedSharding(mesh, spec)

    @case("other", label)
    def _():
        ref = np.asarray(init(key, shape, dtype))
        calls.clear()
        arr = init(key, shape, dtype, out_sharding=sharding)
        got = list(calls)
        check_shards(arr, ref, sharding)
        for cname, full, block, out_shape in got:
            if cname != "orthogonal":
                assert out_shape == sharding.shard_shape(shape), (out_shape, got)

for label, sharding in [("SingleDeviceSharding", SingleDeviceSharding(jax.devices()[5])),
                        ("1-d mesh", NamedSharding(jax.make_mesh((8,), ("d",)), P("d")))]:
    @case("other", label)
    def _():
        ref = np.asarray(fj.glorot_normal()(key, (16, 8)))
        check_shards(fj.glorot_normal()(key, (16, 8), out_sharding=sharding), ref, sharding)

# --- PartitionSpec under jax.set_mesh, and jax.jit ---------------------------------------------------
for mesh_name in ("2x4 explicit", "4x2 auto"):
    mesh = MESHES[mesh_name]
    for spec in (P("x", "y"), P(None, "x"), P()):
        sharding = NamedSharding(mesh, spec)
        ref = np.asarray(fj.he_normal()(key, (8, 16)))

        @case("partitionspec", f"{mesh_name} {spec}")
        def _():
            with jax.set_mesh(mesh):
                calls.clear()
                arr = fj.he_normal()(key, (8, 16), out_sharding=spec)
                check_blocks("kaiming_normal", (8, 16), sharding, list(calls))
                check_shards(arr, ref, sharding)
                check_shards(fj.zeros(key, (8, 16), out_sharding=spec), np.zeros_like(ref), sharding)

        @case("jit", f"{mesh_name} {spec}")
        def _():
            with jax.set_mesh(mesh):  # an Explicit mesh under jit needs it in context, as in JAX
                f = jax.jit(lambda k: fj.he_normal()(k, (8, 16), out_sharding=spec))
                check_shards(f(key), ref, sharding)
                g = jax.jit(lambda k: fj.he_normal()(k, (8, 16), out_sharding=sharding))
                check_shards(g(key), ref, sharding)
                h = jax.jit(lambda k: fj.constant(2.5)(k, (8, 16), out_sharding=spec))
                check_shards(h(key), np.full((8, 16), 2.5, np.float32), sharding)
                v = jax.jit(jax.vmap(lambda k: fj.he_normal()(k, (8, 16), out_sharding=spec)))
                keys = jax.random.split(key, 2)
                out = np.asarray(v(keys))
                for i in range(2):
                    assert same(out[i], np.asarray(fj.he_normal()(keys[i], (8, 16))))

mesh = MESHES["4x2 auto"]


@case("jit", "Auto mesh, no context")
def _():
    sharding = NamedSharding(mesh, P("x", "y"))
    f = jax.jit(lambda k: fj.truncated_normal()(k, (8, 8), jnp.bfloat16, out_sharding=sharding))
    check_shards(f(key), np.asarray(fj.truncated_normal()(key, (8, 8), jnp.bfloat16)), sharding)
    z = jax.jit(lambda k: fj.ones(k, (8, 8), out_sharding=sharding))
    check_shards(z(key), np.ones((8, 8), np.float32), sharding)


# --- JAX's checks ----------------------------------------------------------------------------------
def raises(exc, fn, match):
    try:
        fn()
    except exc as e:
        assert match in str(e), (match, str(e))
    else:
        raise AssertionError(f"no {exc.__name__}")


def other_mesh_in_context():
    with jax.set_mesh(MESHES["2x4 explicit"]):
        fj.normal()(key, (8, 8), out_sharding=NamedSharding(jax.make_mesh((4, 2), ("x", "y")), P("x")))


for label, exc, fn, match in [
        ("PartitionSpec without a mesh", ValueError,
         lambda: fj.normal()(key, (8, 8), out_sharding=P("x")), "PartitionSpec"),
        ("zeros: PartitionSpec without a mesh", ValueError,
         lambda: fj.zeros(key, (8, 8), out_sharding=P("x")), "PartitionSpec"),
        ("not a sharding", TypeError, lambda: fj.normal()(key, (8, 8), out_sharding="x"), "out_sharding"),
        ("constant: not a sharding", TypeError,
         lambda: fj.constant(1.0)(key, (8, 8), out_sharding=jax.devices()[0]), "out_sharding"),
        ("rank", ValueError, lambda: fj.normal()(key, (8,), out_sharding=NamedSharding(mesh, P("x", "y"))), "rank"),
        ("indivisible", ValueError, lambda: fj.normal()(key, (6, 8), out_sharding=NamedSharding(mesh, P("x"))), "6"),
        ("another mesh than the context's", ValueError, other_mesh_in_context, "mesh")]:
    @case("errors", label)
    def _():
        raises(exc, fn, match)

print("REPORT " + json.dumps({"ran": ran, "failed": failed}))
'''

@functools.lru_cache(maxsize=None)
def _run() -> tuple[dict | None, str]:
    """The subprocess's report, or None and why (run once for the module)."""
    env = dict(os.environ, XLA_FLAGS="--xla_force_host_platform_device_count=8",
               JAX_PLATFORMS="cpu")
    env.pop("JAX_ENABLE_X64", None)
    proc = subprocess.run([sys.executable, "-c", textwrap.dedent(SCRIPT)], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300)
    lines = [ln for ln in proc.stdout.splitlines() if ln.startswith("REPORT ")]
    if proc.returncode != 0 or not lines:
        return None, (f"exit {proc.returncode}\nstdout:\n{proc.stdout[-4000:]}\n"
                      f"stderr:\n{proc.stderr[-4000:]}")
    return json.loads(lines[-1][len("REPORT "):]), ""


def report() -> dict:
    r, why = _run()
    assert r is not None, why
    return r


@pytest.mark.parametrize("group, least", [
    ("values", 3 * 4 * 7 * 3),  # meshes x specs x initializers x dtypes
    ("other", 13), ("partitionspec", 6), ("jit", 7), ("errors", 7)])
def test_sharded(group, least):
    r = report()
    assert r["ran"].get(group, 0) >= least, r["ran"]
    failures = r["failed"].get(group, [])
    assert not failures, f"{len(failures)} of {r['ran'][group]} failed:\n" + "\n".join(failures[:5])
