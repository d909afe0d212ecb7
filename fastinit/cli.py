"""The ``fastinit`` command (also ``python -m fastinit``).

    fastinit init kaiming_uniform 4096 4096 --param a=2.23606797749979 --seed 0 -o w.npy
    fastinit init torch.normal_ 32000 4096 --param std=0.02 --dtype bfloat16 -o embed.safetensors
    fastinit init --spec model.json --seed 0 --max-shard-size 5GB -o model.safetensors
    fastinit init --spec model.json --seed 0 --workers 8 -o model.zarr
    fastinit bench --size 10000000 --plot bench.png
    fastinit warmup --dtypes float32 bfloat16
    fastinit info

Usage errors print ``fastinit: error: ...`` and exit with 2, failures at run time (a full disk,
a file that exists) with 1, an interrupt with 130 (Ctrl-C) or 143 (SIGTERM); never a
traceback.
"""
from __future__ import annotations

import argparse
import difflib
import errno
import json
import math
import os
import sys
import time
from typing import Any, Sequence

__all__ = ["main"]

PROG = "fastinit"
COMMANDS = ("init", "bench", "warmup", "info")


class UsageError(Exception):
    """Bad input from the command line: exit status 2."""


#: the threads that make and write a Zarr store's chunks without a cluster
LOCAL_THREADS = 4


class ClusterError(Exception):
    """dask failed while writing a Zarr store (a cluster that does not start, a worker that
    dies): exit status 1, nothing written."""


class _Parser(argparse.ArgumentParser):
    """argparse, with ``fastinit: error: ...`` and a pointer to ``--help``."""

    def error(self, message: str):  # noqa: D401
        self.print_usage(sys.stderr)
        sys.stderr.write(f"{PROG}: error: {message}\n  (see '{self.prog} --help')\n")
        sys.exit(2)


# --- fastinit init ---------------------------------------------------------------------------------

_INIT_EPILOG = """\
The file is bit-identical to the in-memory result: for a seed S,
  fastinit init kaiming_normal 512 256 --seed S -o w.npy
writes numpy.asarray(fastinit.kaiming_normal(512, 256, seed=S)).

A spec (--spec) is JSON:
  {"seed": 0, "dtype": "bfloat16",
   "tensors": [
     {"name": "embed.weight", "shape": [32000, 4096], "initializer": "torch.normal_", "params": {"std": 0.02}},
     {"name": "layers.0.mlp.up.weight", "shape": [11008, 4096], "initializer": "kaiming_uniform",
      "params": {"a": 2.23606797749979}},
     {"name": "norm.weight", "shape": [4096], "initializer": "ones", "dtype": "float32"}]}
("tensors" may also be an object of names to entries.) Each tensor is seeded with
fastinit.Key(seed).child(name); --seed overrides the spec's seed, --dtype its default dtype.

A Zarr store (-o STORE.zarr; needs pip install 'fastinit[dask]') is written by dask, chunk by
chunk, each chunk made and written by the worker that runs it (fastinit.dask): on a
LocalCluster of N worker processes with --workers N, on an existing cluster with --scheduler
ADDRESS (its workers must see STORE's directory: a shared file system), else on local threads.
One tensor without --name is the store's root array; with --name, or --spec, the store is a
group of arrays named after the tensors. The values are the same bits as the in-memory tensor
(orthogonal is made whole in one task, as for files); bfloat16, which Zarr lacks, is stored as
its uint16 bits with the attribute "fastinit.dtype": "bfloat16" (read it back with
.view(ml_dtypes.bfloat16)). Chunks: --chunks for one tensor, else blocks of leading-axis rows
of about --chunk-size.

Initializer names are fastinit.get's: Keras identifiers ("he_normal", "normal": Keras' std 0.05),
"<framework>.<name>" for torch, keras, jax, lux, keraflow (their defaults and parameter names:
"torch.normal_" takes std=, "jax.normal" stddev=), "fastinit.<name>"; --list prints them.
Memory stays at about 170 MB plus --chunk-size (64 MiB) whatever the file's size.
"""


def _add_init(sub) -> None:
    p = sub.add_parser(
        "init", help="initialize a tensor (or a spec's tensors) straight into a .npy, .safetensors or .zarr file",
        description="Initialize a tensor, or a spec's named tensors, straight into a .npy or .safetensors "
                    "file, block of rows by block of rows (bounded memory), or into a Zarr store with "
                    "dask (chunk by chunk, on a cluster's workers), atomically.",
        epilog=_INIT_EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("initializer", nargs="?", metavar="INITIALIZER",
                   help="an initializer name, e.g. kaiming_uniform, torch.normal_, he_normal, jax.lecun_normal")
    p.add_argument("dims", nargs="*", metavar="DIM", help="the tensor's shape, e.g. 4096 4096")
    p.add_argument("-o", "--output", metavar="FILE", help="FILE.npy, FILE.safetensors or STORE.zarr (required)")
    p.add_argument("--dtype", help="float32 (default), float16, bfloat16, float64, complex64, ...")
    p.add_argument("--seed", help="an integer seed (default: a random one, printed)")
    p.add_argument("--layout", help="fan convention: torch, keras, jax, lux, keraflow")
    p.add_argument("-p", "--param", action="append", default=[], metavar="NAME=VALUE",
                   help="an initializer parameter (repeatable): --param std=0.02 --param mode=fan_out")
    p.add_argument("--name", help="the tensor's name in a .safetensors file (default: weight), or the "
                                     "array's in a Zarr group (default: the store is the array)")
    p.add_argument("--spec", metavar="SPEC.json", help="many named tensors from a JSON spec (see below)")
    p.add_argument("--max-shard-size", metavar="SIZE",
                   help="safetensors shards of at most SIZE (e.g. 5GB, 512MiB) and Hugging Face's index")
    p.add_argument("--force", action="store_true", help="replace existing files")
    p.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                   help="a progress bar on stderr (default: when stderr is a terminal)")
    p.add_argument("--chunk-size", default="64MiB", metavar="SIZE",
                   help="the buffer each block of rows is made in (default 64MiB); for .zarr, the size of "
                        "the chunks (blocks of leading-axis rows)")
    p.add_argument("--chunks", metavar="N,N,...",
                   help=".zarr, one tensor: its chunks, one size per axis or one for all (-1: the whole axis), or 'auto'")
    p.add_argument("--workers", metavar="N",
                   help=".zarr: make and write the chunks on a dask LocalCluster of N worker processes")
    p.add_argument("--scheduler", metavar="ADDRESS",
                   help=".zarr: on an existing dask cluster (e.g. tcp://10.0.0.1:8786), whose workers "
                        "write into STORE (a shared file system)")
    p.add_argument("-q", "--quiet", action="store_true", help="no summary line")
    p.add_argument("--list", action="store_true", help="list the initializer names and exit")
    p.set_defaults(run=_run_init)


def _value(text: str) -> Any:
    """A --param value: JSON (numbers, true/false/null, lists, quoted strings), Python's
    True/False/None/inf/nan, else the text as a string."""
    try:
        return json.loads(text)
    except ValueError:
        pass
    words = {"True": True, "False": False, "None": None}
    if text in words:
        return words[text]
    try:
        return float(text)
    except ValueError:
        return text


def _params(items: Sequence[str], layout: str | None) -> dict:
    params: dict = {}
    for item in items:
        name, eq, text = item.partition("=")
        if not eq or not name.strip():
            raise UsageError(f"--param: expected NAME=VALUE (e.g. --param std=0.02), got {item!r}")
        name = name.strip()
        if name in params:
            raise UsageError(f"--param: {name!r} given twice")
        if name in ("seed", "dtype", "rows", "block", "out", "device"):
            raise UsageError(f"--param: give {name} as --{name}" if name in ("seed", "dtype")
                             else f"--param: {name!r} is not a parameter the command sets")
        params[name] = _value(text)
    if layout is not None:
        if "layout" in params:
            raise UsageError("--layout and --param layout=...: give one")
        params["layout"] = layout
    return params


def _int(text: str, what: str) -> int:
    try:
        return int(text, 0)
    except (TypeError, ValueError):
        raise UsageError(f"{what}: expected an integer, got {text!r}") from None


def _dims(dims: Sequence[str]) -> tuple:
    shape = []
    for d in dims:
        try:
            n = int(d)
        except ValueError:
            hint = " (dimensions are separate arguments: 4096 4096)" if "x" in d or "," in d else ""
            raise UsageError(f"DIM: expected a non-negative integer, got {d!r}{hint}") from None
        if n < 0:
            raise UsageError(f"DIM: dimensions must be >= 0, got {d}")
        shape.append(n)
    return tuple(shape)


def _progress(args) -> bool:
    return sys.stderr.isatty() if args.progress is None else args.progress


def _run_init(args) -> int:
    from . import files
    from ._seeding import Key, seed64
    if args.list:
        from .registry import name_table
        sys.stdout.write(name_table())
        sys.stdout.write("\nAlso any of these as 'fastinit.<name>', and Keras' class names "
                         "(HeNormal, ...).\n")
        return 0
    if not args.output:
        raise UsageError("-o FILE is required: -o FILE.npy, -o FILE.safetensors or -o STORE.zarr")
    fmt = ".zarr" if _is_zarr(args.output) else files.target_format(args.output, "-o")
    if fmt == ".zarr":
        workers = _zarr_args(args)
    elif args.chunks is not None or args.workers is not None or args.scheduler is not None:
        flag = "--chunks" if args.chunks is not None else "--workers" if args.workers is not None else "--scheduler"
        raise UsageError(f"{flag}: only for a Zarr store (-o STORE.zarr)")
    chunk = files.parse_size(args.chunk_size, "--chunk-size")
    if args.max_shard_size is not None:
        if fmt != ".safetensors":
            raise UsageError("--max-shard-size: only .safetensors files are sharded; use -o FILE.safetensors")
        shard = files.parse_size(args.max_shard_size, "--max-shard-size")
    else:
        shard = None
    seed = None if args.seed is None else _int(args.seed, "--seed")
    if args.spec is not None:
        if args.initializer is not None or args.dims or args.param or args.layout or args.name:
            raise UsageError("--spec: the spec names the tensors; drop INITIALIZER, DIM, --param, "
                             "--layout and --name (or drop --spec)")
        spec = files.read_spec(args.spec)
        if seed is None:
            seed = spec.get("seed")
            if seed is not None and (isinstance(seed, bool) or not isinstance(seed, int)):
                raise UsageError(f"{args.spec}: seed must be an integer, got {seed!r}")
        if seed is None:
            seed = int(seed64(None))
        dtype = args.dtype if args.dtype is not None else spec.get("dtype")
        planned = files.plan(spec["tensors"], Key(seed), dtype, where=f"{args.spec}: tensors")
        meta = dict(files._check_metadata(spec.get("metadata")))
    else:
        if args.initializer is None:
            raise UsageError("give INITIALIZER DIM... (e.g. fastinit init kaiming_uniform 4096 4096 -o w.npy) "
                             "or --spec SPEC.json")
        if not args.dims:
            raise UsageError(f"give the shape after the initializer: fastinit init {args.initializer} 4096 4096 -o ...")
        if isinstance(args.chunks, tuple) and len(args.chunks) not in (1, len(args.dims)):
            raise UsageError(f"--chunks: {','.join(map(str, args.chunks))} gives {len(args.chunks)} sizes for "
                             f"{len(args.dims)} dimensions")
        if args.name is not None and fmt == ".npy":
            raise UsageError("--name: a .npy file holds one unnamed tensor; drop --name or write .safetensors")
        shape = _dims(args.dims)
        if seed is None:
            seed = int(seed64(None))
        init = files._initializer(args.initializer, _params(args.param, args.layout), "INITIALIZER")
        try:
            planned = [files.plan_one(args.name or "weight", init, shape, args.dtype, seed)]
        except (TypeError, ValueError) as e:
            raise UsageError(f"{args.initializer}: {e}") from None
        meta = {}
    if fmt == ".zarr":
        if args.spec is not None and args.chunks is not None:
            raise UsageError("--chunks: the spec's tensors have their own shapes; give --chunk-size")
        meta.setdefault("fastinit.seed", str(Key(seed).value))
        seconds, total = _write_zarr(args, planned, meta, chunk, workers)
        if not args.quiet:
            what = f"{len(planned)} tensors, " if len(planned) > 1 else ""
            rate = f", {files.human(total / seconds)}/s" if seconds > 0 and total else ""
            on = (f" on {workers} worker{'s' if workers > 1 else ''}" if workers else
                  f" on {args.scheduler}" if args.scheduler else "")
            sys.stderr.write(f"{PROG}: wrote {args.output} ({what}{files.human(total)}) in {seconds:.2f} s"
                             f"{rate}{on}, seed {seed}\n")
        return 0
    if fmt == ".safetensors":
        meta.setdefault("fastinit.seed", str(Key(seed).value))
    layout = files.layout_for(args.output, planned, max_shard_size=shard, metadata=meta)
    seconds = files.write_planned(layout, planned, overwrite=args.force, chunk_size=chunk,
                                  progress=_progress(args), desc=os.path.basename(args.output))
    if not args.quiet:
        total = layout.data_bytes
        what = f"{len(planned)} tensors, " if len(planned) > 1 else ""
        where = args.output if len(layout.files) == 1 else f"{len(layout.files)} shards + {layout.index_path}"
        rate = f", {files.human(total / seconds)}/s" if seconds > 0 and total else ""
        sys.stderr.write(f"{PROG}: wrote {where} ({what}{files.human(total)}) in {seconds:.2f} s{rate}, "
                         f"seed {seed}\n")
    return 0


# --- fastinit init -o STORE.zarr --------------------------------------------------------------------

def _is_zarr(path: Any) -> bool:
    return isinstance(path, (str, os.PathLike)) and os.fspath(path).rstrip("/").lower().endswith(".zarr")


def _zarr_args(args) -> int:
    """The checks of a Zarr store's options (before anything is made): the number of
    LocalCluster workers (0: none), ``args.chunks`` parsed (None, "auto" or a tuple of sizes),
    and dask, zarr and distributed importable."""
    workers = 0
    if args.workers is not None:
        workers = _int(args.workers, "--workers")
        if workers < 1:
            raise UsageError(f"--workers: must be >= 1, got {args.workers}")
        if args.scheduler is not None:
            raise UsageError("--workers, --scheduler: give one (a new local cluster, or an existing one)")
    if args.scheduler is not None and not args.scheduler.strip():
        raise UsageError("--scheduler: expected an address such as tcp://10.0.0.1:8786")
    if args.max_shard_size is not None:
        raise UsageError("--max-shard-size: only .safetensors files are sharded; a Zarr store is chunked "
                         "(--chunks, --chunk-size)")
    if args.chunks is not None and args.chunks.strip() == "auto":
        args.chunks = "auto"
    elif args.chunks is not None:
        sizes = tuple(_int(part.strip(), "--chunks") for part in args.chunks.split(","))
        if any(n == 0 or n < -1 for n in sizes):
            raise UsageError(f"--chunks: sizes must be >= 1 (or -1 for a whole axis), got {args.chunks!r}")
        args.chunks = sizes
    needed = ["dask.array", "zarr"] + (["distributed"] if workers or args.scheduler else [])
    for module in needed:
        try:
            __import__(module)
        except ImportError as e:
            raise UsageError(f"-o {args.output}: writing a Zarr store needs dask, zarr"
                             f"{' and distributed' if 'distributed' in needed else ''} ({e}); "
                             f"pip install 'fastinit[dask]'") from None
    return workers


def _row_chunks(shape: tuple, itemsize: int, limit: int) -> tuple:
    """Chunks of about ``limit`` bytes made of whole trailing axes: blocks of leading-axis rows
    (the cheapest blocks to generate), or of rows of a later axis where one row is larger."""
    per = max(1, limit // max(1, itemsize))
    for axis in range(len(shape)):
        inner = math.prod(shape[axis + 1:])
        if inner <= per:
            return (1,) * axis + (max(1, min(shape[axis], per // max(1, inner))),) + tuple(shape[axis + 1:])
    return tuple(shape)


def _zarr_chunks(args, p, chunk: int) -> Any:
    if args.chunks is None:
        return _row_chunks(p.shape, p.dtype.itemsize, chunk)
    if args.chunks == "auto":
        return "auto"
    return args.chunks[0] if len(args.chunks) == 1 else args.chunks  # one size: every axis


def _store_chunk(block: Any, path: str, component: str | None, block_info: Any = None) -> Any:
    """Write one chunk into the Zarr array at ``path`` (``component`` in its group); a dask task,
    run where the chunk was made. Returns a 1-element array (the bytes written)."""
    import numpy as np
    import zarr
    z = zarr.open_array(store=path, path=component, mode="r+") if component else \
        zarr.open_array(store=path, mode="r+")
    where = tuple(slice(a, b) for a, b in block_info[0]["array-location"])
    z[where] = block
    return np.full((1,) * block.ndim, block.nbytes, np.int64)


def _remove(path: str) -> None:
    import shutil
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path, ignore_errors=True)
    elif os.path.lexists(path):
        os.unlink(path)


def _zarr_arrays(args, planned: list, chunk: int) -> list:
    """The dask arrays of ``planned`` (checked on the client, before any store exists) and the
    attributes of each: (Planned, dask array, attributes)."""
    import numpy as np

    from . import _checks as ck
    from .dask import _chunks, from_initializer
    out = []
    for p in planned:
        c = _zarr_chunks(args, p, chunk)
        whole = p.whole  # orthogonal, made in one task: the in-memory matrix, bit for bit
        try:
            a = from_initializer(p.init, p.shape, chunks=-1 if whole else c, seed=p.seed, **p.dtype_kw)
            if whole:
                a = a.rechunk(_chunks(c, a.shape, a.dtype))
        except ValueError as e:
            if args.chunks is not None and str(e).startswith("chunks:"):
                raise UsageError(f"--{e}") from None
            raise
        attrs = {}
        if ck.is_bfloat16(a.dtype):  # Zarr has no bfloat16: its bits
            a = a.view(np.uint16)
            attrs["fastinit.dtype"] = "bfloat16"
        out.append((p, a, attrs))
    return out


def _client(args, workers: int):
    """A dask.distributed Client: of a new LocalCluster of ``workers`` processes, or of the
    cluster at ``--scheduler``; (client, cluster or None)."""
    from distributed import Client, LocalCluster
    if not workers:
        return Client(args.scheduler.strip()), None
    import logging

    from ._threading import usable_cpus
    env = {} if "NUMBA_NUM_THREADS" in os.environ else \
        {"NUMBA_NUM_THREADS": str(max(1, usable_cpus() // workers))}  # no oversubscription
    cluster = LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                           dashboard_address=None, worker_dashboard_address=None,
                           silence_logs=logging.CRITICAL, env=env)
    try:
        return Client(cluster), cluster
    except BaseException:
        cluster.close()
        raise


def _run_writes(args, workers: int, writes: list, nbytes: dict, bar: Any, held: list) -> None:
    """Compute the chunk writes: on a LocalCluster of ``workers`` processes or at ``--scheduler``
    (``held`` gets the client and the cluster, for the caller to close), else on local threads;
    ``bar`` follows the chunks as they are written. dask's own errors become :class:`ClusterError`."""
    import dask
    try:
        if workers or args.scheduler:
            from distributed import as_completed, futures_of
            try:
                client, cluster = _client(args, workers)
            except (OSError, ValueError, TypeError, MemoryError):
                raise
            except Exception as e:  # worker processes that do not start, a scheduler not reached
                what = f"the cluster at {args.scheduler}" if args.scheduler else f"a LocalCluster of {workers} workers"
                raise ClusterError(f"could not start {what}: {type(e).__name__}: {e} (from a script: run "
                                   f"it under if __name__ == '__main__':, as multiprocessing's spawn "
                                   f"needs)") from e
            held += [client, cluster]
            persisted = client.persist(writes)
            for f in as_completed(futures_of(persisted)):  # chunk by chunk, as the workers go
                if f.status != "finished":
                    f.result()  # raises the task's exception
                bar.update(nbytes.get(f.key, 0))
        else:
            from dask.callbacks import Callback

            class Ticks(Callback):
                def _posttask(self, key, result, dsk, state, id):
                    if key in nbytes:
                        bar.update(nbytes.pop(key))
            from ._threading import usable_cpus
            with Ticks():  # a few threads: a few chunks in memory (the kernels are parallel anyway)
                dask.compute(*writes, scheduler="threads", num_workers=min(LOCAL_THREADS, usable_cpus()))
    except (ValueError, TypeError, OSError, MemoryError, ClusterError):
        raise
    except Exception as e:  # dask's and distributed's own (a worker that died...): no traceback
        what = f"a LocalCluster of {workers} workers" if workers else \
            f"the cluster at {args.scheduler}" if args.scheduler else "dask"
        raise ClusterError(f"{what} failed: {type(e).__name__}: {e}") from e


def _close(held: list) -> None:
    """Close the client, then the cluster (``held`` is emptied)."""
    while held:
        x = held.pop(0)
        if x is not None:
            x.close()


def _write_zarr(args, planned: list, meta: dict, chunk: int, workers: int) -> tuple[float, int]:
    """Write ``planned`` into the Zarr store ``args.output`` with dask, atomically (a hidden
    temporary store in the same directory, renamed when complete: an error, Ctrl-C or SIGTERM
    leaves nothing under the final name); returns (seconds, bytes)."""
    import itertools

    import numpy as np
    import zarr
    from dask.base import tokenize

    from . import files
    t0 = time.perf_counter()
    final = os.path.abspath(os.fspath(args.output).rstrip("/"))
    if os.path.lexists(final) and not args.force:
        raise FileExistsError(errno.EEXIST, "exists", args.output)
    parent, base = os.path.split(final)
    if not os.path.isdir(parent):
        raise FileNotFoundError(errno.ENOENT, "no such directory", parent)
    arrays = _zarr_arrays(args, planned, chunk)
    root = len(planned) == 1 and args.spec is None and args.name is None  # the store is the array
    tmp = files._temp_name(final)
    held: list = []  # the dask.distributed client and cluster, once made
    try:
        with files.sigterm_raises():
            os.mkdir(tmp)
            if not root:
                zarr.open_group(tmp, mode="w").attrs.update(meta)
            writes, nbytes = [], {}
            for p, a, attrs in arrays:
                component = None if root else p.name
                kw = dict(mode="w", shape=a.shape, chunks=tuple(max(1, c[0]) for c in a.chunks), dtype=a.dtype)
                try:
                    z = zarr.open_array(store=tmp, path=component, **kw) if component else \
                        zarr.open_array(store=tmp, **kw)
                except Exception as e:  # zarr refusing a name or a dtype
                    raise ValueError(f"{p.name}: Zarr cannot store it: {e}") from None
                z.attrs.update({**(meta if root else {}), **attrs})
                w = a.map_blocks(_store_chunk, tmp, component, dtype=np.int64,
                                 chunks=tuple((1,) * len(c) for c in a.chunks),
                                 meta=np.empty((0,) * a.ndim, np.int64),
                                 name="fastinit-store-" + tokenize(a.name, tmp, component))  # keys of this store
                for idx in itertools.product(*(range(len(c)) for c in a.chunks)):
                    size = math.prod(a.chunks[ax][i] for ax, i in enumerate(idx))
                    nbytes[(w.name,) + idx] = size * a.dtype.itemsize
                writes.append(w)
            total = sum(nbytes.values())
            bar = files.Progress(total, base, _progress(args))
            try:
                _run_writes(args, workers, writes, nbytes, bar, held)
            finally:
                bar.close()
            _close(held)  # no worker writes into tmp any more
            if os.path.lexists(final):  # --force: the old store goes once the new one is complete
                aside = files._temp_name(final, ".old")
                os.rename(final, aside)
                os.rename(tmp, final)
                _remove(aside)
            else:
                os.rename(tmp, final)
    except BaseException:
        try:
            _close(held)
        finally:
            _remove(tmp)
        raise
    return time.perf_counter() - t0, total


# --- fastinit bench --------------------------------------------------------------------------------

def _add_bench(sub) -> None:
    p = sub.add_parser(
        "bench", help="the comparison table against numpy, torch and the write ceiling (and a plot)",
        description="Time every fill against numpy, torch and the machine's write ceilings (the fastest "
                    "of numpy's fill, a parallel store loop and a streaming-store loop) on a touched "
                    "array, in this process; with --plot, also draw throughput against size.")
    p.add_argument("--size", type=int, default=10**7, help="elements per fill (default 10^7)")
    p.add_argument("--dtype", nargs="+", default=["float32"], metavar="DTYPE",
                   help="float32 (default), float16, bfloat16, float64; several: one table each")
    p.add_argument("--threads", type=int, default=None, help="Numba's and torch's threads (default: Numba's)")
    p.add_argument("--repeats", type=int, default=3, help="timed calls per median (default 3)")
    p.add_argument("--fills", nargs="+", metavar="PREFIX", help="only the fills whose names start with these")
    p.add_argument("--no-torch", action="store_true", help="leave torch out")
    p.add_argument("--plot", metavar="FILE.png", help="draw GB/s against size for each fill (needs matplotlib: "
                   "pip install 'fastinit[plot]')")
    p.add_argument("--sizes", nargs="+", type=int, metavar="N",
                   help="the sizes of the plot (default: powers of 10 from 10^4 up to --size, and --size)")
    p.set_defaults(run=_run_bench)


def _run_bench(args) -> int:
    from . import _bench
    dtypes = [d for d in args.dtype]
    _check_choices(dtypes, _bench.DTYPES, "--dtype")
    for flag, value in (("--size", args.size), ("--repeats", args.repeats), ("--threads", args.threads),
                        ("--sizes", min(args.sizes or [1]))):
        if value is not None and value < 1:
            raise UsageError(f"{flag}: must be >= 1, got {value}")
    _bench.select(args.fills)  # ValueError naming the fills
    if args.plot is not None:
        if not args.plot.lower().endswith(".png"):
            raise UsageError(f"--plot: give a .png file, got {args.plot!r}")
        import importlib.util
        if importlib.util.find_spec("matplotlib") is None:  # before the minutes of measuring
            raise OSError("--plot needs matplotlib: pip install 'fastinit[plot]' (or matplotlib)")
    with_torch = not args.no_torch and _bench.torch_module() is not None

    def progress(message):
        sys.stderr.write(f"measuring {message} ...\n")
        sys.stderr.flush()

    rows = _bench.measure(args.fills, args.size, dtypes, args.threads, args.repeats, with_torch, progress)
    print(_bench.header(args.size, args.repeats))
    print(_bench.format_table(rows))
    if args.plot is not None:
        sizes = args.sizes or sorted({n for n in (10**4, 10**5, 10**6, 10**7, 10**8, 10**9) if n < args.size}
                                     | {args.size})
        by_size = {n: rows if n == args.size else
                   _bench.measure(args.fills, n, dtypes[:1], args.threads, args.repeats, with_torch, progress)
                   for n in sorted(set(sizes))}
        plot(by_size, dtypes[0], args.plot, _bench.machine())
        sys.stderr.write(f"{PROG}: wrote {args.plot}\n")
    return 0


def plot(by_size: dict, dtype: str, path: str, facts: dict) -> None:
    """One panel per fill: GB/s written against the number of elements (log-log), fastinit beside
    numpy, torch and the write ceiling (the dtype's fastest ceiling at each size); PNG at ``path``."""
    import math
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    sizes = sorted(by_size)
    fills = [r.fill for r in by_size[sizes[0]] if r.kind == "fill" and r.dtype == dtype]
    series: dict = {f: {"fastinit": [], "numpy": [], "torch": []} for f in fills}
    ceiling = []
    for n in sizes:
        rows = [r for r in by_size[n] if r.dtype == dtype]
        best = min(r.seconds for r in rows if r.kind == "ceiling")
        ceiling.append((n, rows[0].itemsize * n / best / 1e9))
        for r in rows:
            if r.kind != "fill" or r.fill not in series:
                continue
            rates = r.rates()
            series[r.fill]["fastinit"].append((n, rates["GB_per_s"]))
            for peer in ("numpy", "torch"):
                m = rates[f"{peer}_M_per_s"]
                if m:
                    series[r.fill][peer].append((n, m * 1e6 * r.itemsize / 1e9))
    cols = min(4, len(fills)) or 1
    nrows = math.ceil(len(fills) / cols) or 1
    fig, axes = plt.subplots(nrows, cols, figsize=(4.2 * cols, 3.4 * nrows), squeeze=False, sharex=True, sharey=True)
    styles = {"fastinit": dict(color="C0", marker="o", lw=2.2), "numpy": dict(color="C1", marker="s", ls="--"),
              "torch": dict(color="C3", marker="^", ls=":")}
    for ax, fill in zip(axes.flat, fills):
        ax.plot(*zip(*ceiling), color="0.45", lw=5, alpha=0.35, label="write ceiling")
        for who, pts in series[fill].items():
            if pts:
                ax.plot(*zip(*pts), label=who, **styles[who])
        ax.set_title(fill, fontsize=10)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.grid(True, which="both", alpha=0.3)
    for ax in axes.flat[len(fills):]:
        ax.set_visible(False)
    for ax in axes[-1]:
        ax.set_xlabel("elements")
    for ax in axes[:, 0]:
        ax.set_ylabel(f"GB/s written ({dtype})")
    handles = {}
    for ax in axes.flat:
        for h, lab in zip(*ax.get_legend_handles_labels()):
            handles.setdefault(lab, h)
    fig.legend(list(handles.values()), list(handles), loc="upper right", ncol=len(handles), fontsize=9)
    fig.suptitle(f"fastinit {facts['fastinit']}: throughput against size, {facts['numba_threads']} threads, "
                 f"{facts['cpu']}"[:110], x=0.01, ha="left", fontsize=10)
    fig.tight_layout(rect=(0, 0, 1, 0.93))
    fig.savefig(path, dpi=100)
    plt.close(fig)


# --- fastinit warmup -------------------------------------------------------------------------------

_REAL = ("float16", "bfloat16", "float32", "float64")
_COMPLEX = ("complex64", "complex128")
#: the kernel groups warmed, each in one process (its Numba cache index is written by one process)
WARM_GROUPS = ("uniform", "normal", "truncated_normal", "sparse", "polar", "constant")


def _warm_calls(group: str, dtype: str) -> list:
    """The calls that compile ``group``'s kernels for ``dtype`` (none where it takes no such dtype)."""
    import fastinit as fi
    real, cplx = dtype in _REAL, dtype in _COMPLEX
    if group == "uniform" and (real or cplx):
        return [lambda: fi.uniform(2, 8, dtype=dtype, seed=0), lambda: fi.uniform(2, 8, dtype=dtype, seed=0, rows=slice(1, 2))]
    if group == "normal" and (real or cplx):
        return [lambda: fi.normal(2, 8, dtype=dtype, seed=0), lambda: fi.normal(2, 8, dtype=dtype, seed=0, rows=slice(1, 2))]
    if group == "truncated_normal" and real:
        return [lambda: fi.truncated_normal(2, 8, dtype=dtype, seed=0),
                lambda: fi.truncated_normal(2, 8, lo=3.0, hi=9.0, dtype=dtype, seed=0),
                lambda: fi.truncated_normal(2, 8, lo=-0.1, hi=0.1, dtype=dtype, seed=0)]
    if group == "sparse" and real:  # each mask loop (kernels.sparse.mask_kind): rows <= 64, 6 and 4 rounds
        return [lambda r=rows: fi.sparse(r, 1, sparsity=0.5, dtype=dtype, seed=0) for rows in (8, 900, 5000)]
    if group == "polar" and cplx:
        return [lambda: fi.variance_scaling(4, 4, layout="jax", distribution=d, dtype=dtype, seed=0)
                for d in ("uniform", "truncated_normal")]
    if group == "constant":
        return [lambda: fi.constant(n, value=1, dtype=dtype) for n in (1 << 13, 1 << 19)]
    return []


def _warm(group: str, dtypes: Sequence[str]) -> tuple[str, float, int]:
    """Run ``group``'s warm-up calls for ``dtypes`` (in a worker process): (group, seconds, calls)."""
    t0 = time.perf_counter()
    n = 0
    for dt in dtypes:
        for call in _warm_calls(group, dt):
            call()
            n += 1
    return group, time.perf_counter() - t0, n


def _add_warmup(sub) -> None:
    p = sub.add_parser(
        "warmup", help="compile every kernel into Numba's cache, so that first calls are fast",
        description="Compile fastinit's kernels for the given dtypes into Numba's on-disk cache (in "
                    "parallel processes when there are several CPUs), so that every first call "
                    "afterwards loads them instead of compiling (3 to 9 s each on a fresh machine).")
    p.add_argument("--dtypes", nargs="+", default=list(_REAL + _COMPLEX), metavar="DTYPE",
                   help=f"default: {' '.join(_REAL + _COMPLEX)}")
    p.add_argument("--fills", nargs="+", default=list(WARM_GROUPS), metavar="FILL",
                   help=f"kernel groups (default: all): {' '.join(WARM_GROUPS)}")
    p.add_argument("--jobs", type=int, default=None, metavar="N",
                   help="worker processes (default: one per group, at most the CPU count; 1: in this process)")
    p.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None,
                   help="a progress bar on stderr (default: when stderr is a terminal)")
    p.set_defaults(run=_run_warmup)


def _check_choices(values: Sequence[str], allowed: Sequence[str], flag: str) -> None:
    for v in values:
        if v not in allowed:
            close = difflib.get_close_matches(v, allowed, n=3)
            hint = f"; did you mean {', '.join(map(repr, close))}?" if close else ""
            raise UsageError(f"{flag}: unknown {v!r}{hint} (choose from {', '.join(allowed)})")


def _run_warmup(args) -> int:
    from . import files
    _check_choices(args.dtypes, _REAL + _COMPLEX + ("int8", "int16", "int32", "int64", "uint8",
                   "uint16", "uint32", "uint64", "bool"), "--dtypes")
    _check_choices(args.fills, WARM_GROUPS, "--fills")
    groups = [g for g in WARM_GROUPS if g in args.fills and any(_warm_calls(g, d) for d in args.dtypes)]
    from ._threading import usable_cpus
    cpus = usable_cpus()
    jobs = args.jobs if args.jobs is not None else min(cpus, len(groups))
    if jobs < 1:
        raise UsageError(f"--jobs: must be >= 1, got {jobs}")
    t0 = time.perf_counter()
    bar = files.Progress(len(groups), "warmup", _progress(args))
    bar_unit = lambda: bar.update(1)  # noqa: E731
    done = []
    try:
        if jobs == 1 or len(groups) <= 1:
            for g in groups:
                done.append(_warm(g, args.dtypes))
                bar_unit()
        else:
            import concurrent.futures as cf
            import multiprocessing as mp
            with cf.ProcessPoolExecutor(max_workers=jobs, mp_context=mp.get_context("spawn")) as pool:
                futures = [pool.submit(_warm, g, list(args.dtypes)) for g in groups]
                for f in cf.as_completed(futures):
                    done.append(f.result())
                    bar_unit()
    finally:
        bar.close()
    from .kernels.uniform import fill_uniform
    cache = getattr(getattr(fill_uniform, "_cache", None), "_cache_path", None)
    for g, s, n in sorted(done):
        sys.stderr.write(f"  {g:<17} {n:3d} calls  {s:6.1f} s\n")
    sys.stderr.write(f"{PROG}: warmed {', '.join(groups)} for {' '.join(args.dtypes)} in "
                     f"{time.perf_counter() - t0:.1f} s ({jobs} process{'es' if jobs > 1 else ''}); "
                     f"cache: {cache}\n")
    return 0


# --- fastinit info ---------------------------------------------------------------------------------

def _version(dist: str) -> str | None:
    from importlib import metadata
    try:
        return metadata.version(dist)
    except metadata.PackageNotFoundError:
        return None


def _gpus() -> dict:
    """GPUs seen without initializing CUDA in this process: the NVIDIA driver's /proc entries,
    else ``nvidia-smi -L`` in a child process."""
    import glob
    import shutil
    import subprocess
    found = []
    for info in sorted(glob.glob("/proc/driver/nvidia/gpus/*/information")):
        try:
            with open(info) as f:
                model = next((ln.split(":", 1)[1].strip() for ln in f if ln.startswith("Model:")), "NVIDIA GPU")
        except OSError:
            model = "NVIDIA GPU"
        found.append(model)
    how = "/proc/driver/nvidia"
    if not found and shutil.which("nvidia-smi"):
        how = "nvidia-smi -L"
        try:
            out = subprocess.run(["nvidia-smi", "-L"], capture_output=True, text=True, timeout=10).stdout
            found = [ln.split(":", 1)[1].split("(UUID")[0].strip() for ln in out.splitlines() if ln.startswith("GPU")]
        except (OSError, subprocess.SubprocessError):
            pass
    return {"gpus": found, "found_by": how if found else None,
            "numba_cuda": _version("numba-cuda"), "cupy": next((v for v in (_version(d) for d in (
                "cupy-cuda12x", "cupy-cuda13x", "cupy-cuda11x", "cupy")) if v), None),
            "simulator": os.environ.get("NUMBA_ENABLE_CUDASIM") == "1"}


def info() -> dict:
    """What ``fastinit info`` prints, as a dict."""
    import platform
    import numba
    import fastinit
    from .kernels import normal, sparse, truncnorm, uniform
    from . import _threading
    kernels = [uniform.fill_uniform, normal.fill_normal, truncnorm.fill_truncnorm, sparse.fill_sparse]
    paths = sorted({k._cache._cache_path for k in kernels if getattr(k, "_cache", None) is not None})
    cached = 0
    for k in kernels:
        c = getattr(k, "_cache", None)
        if c is not None:
            try:
                cached += bool(c._cache_file._load_index())
            except Exception:  # an unreadable index: counted as not cached
                pass
    try:
        layer = numba.threading_layer()
    except ValueError:  # no parallel launch yet in this process
        layer = None
    from ._threading import usable_cpus
    cpus = usable_cpus()
    versions = {"fastinit": fastinit.__version__, "python": platform.python_version()}
    for dist in ("numpy", "numba", "llvmlite", "ml_dtypes", "scipy", "tbb", "torch", "safetensors", "tqdm",
                 "matplotlib"):
        versions[dist] = _version(dist)
    return {
        "versions": versions,
        "fastinit_path": os.path.dirname(fastinit.__file__),
        "platform": platform.platform(),
        "threading_layer": {"configured": numba.config.THREADING_LAYER,
                            "active": layer,
                            "env": os.environ.get("NUMBA_THREADING_LAYER"),
                            "one_at_a_time": (layer or numba.config.THREADING_LAYER) not in _threading._THREADSAFE},
        "threads": {"numba": numba.get_num_threads(), "NUMBA_NUM_THREADS": numba.config.NUMBA_NUM_THREADS,
                    "cpus_usable": cpus, "cpus": os.cpu_count()},
        "cache": {"dirs": paths, "NUMBA_CACHE_DIR": numba.config.CACHE_DIR or None,
                  "random_kernels_cached": f"{cached} of {len(kernels)}"},
        "gpu": _gpus(),
    }


def _add_info(sub) -> None:
    p = sub.add_parser("info", help="versions, threading layer, threads, cache directory, GPUs",
                       description="Print versions, Numba's threading layer and threads, where compiled "
                                   "kernels are cached, and the GPUs (found without initializing CUDA).")
    p.add_argument("--json", action="store_true", help="as JSON")
    p.set_defaults(run=_run_info)


def _run_info(args) -> int:
    d = info()
    if args.json:
        print(json.dumps(d, indent=2))
        return 0
    v = d["versions"]
    print("versions: " + ", ".join(f"{k} {val}" for k, val in v.items() if val))
    missing = [k for k, val in v.items() if not val]
    if missing:
        print("not installed: " + ", ".join(missing))
    print(f"fastinit at: {d['fastinit_path']}")
    print(f"platform: {d['platform']}")
    t = d["threading_layer"]
    active = t["active"] or "chosen at the first parallel call"
    print(f"threading layer: {t['configured']} (active: {active}"
          f"{'; NUMBA_THREADING_LAYER=' + t['env'] if t['env'] else ''})"
          + ("; CPU calls from several threads run one at a time" if t["one_at_a_time"] else ""))
    th = d["threads"]
    print(f"threads: {th['numba']} (NUMBA_NUM_THREADS {th['NUMBA_NUM_THREADS']}; {th['cpus_usable']} of "
          f"{th['cpus']} CPUs usable)")
    c = d["cache"]
    print(f"kernel cache: {', '.join(c['dirs'])} (cache entries for {c['random_kernels_cached']} random-fill "
          f"kernels; 'fastinit warmup' compiles them all)")
    g = d["gpu"]
    gpus = ", ".join(g["gpus"]) if g["gpus"] else "none found"
    print(f"GPU: {gpus}" + (f" (by {g['found_by']})" if g["found_by"] else "")
          + f"; numba-cuda {g['numba_cuda'] or 'not installed'}; CuPy {g['cupy'] or 'not installed'}"
          + ("; NUMBA_ENABLE_CUDASIM=1 (simulator)" if g["simulator"] else ""))
    return 0


# --- main ------------------------------------------------------------------------------------------

def parser() -> argparse.ArgumentParser:
    p = _Parser(prog=PROG, description="fastinit: neural-network weight initializers for very large "
                "arrays, from the command line.",
                epilog="Run 'fastinit COMMAND --help' for a command's options.")
    from . import __version__
    p.add_argument("--version", action="version", version=f"fastinit {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND", parser_class=_Parser)
    _add_init(sub)
    _add_bench(sub)
    _add_warmup(sub)
    _add_info(sub)
    return p


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command; returns the exit status (the console script exits with it)."""
    from . import files
    argv = list(sys.argv[1:] if argv is None else argv)
    p = parser()
    if argv and not argv[0].startswith("-") and argv[0] not in COMMANDS:
        close = difflib.get_close_matches(argv[0], COMMANDS, n=1)
        p.error(f"unknown command {argv[0]!r}" + (f"; did you mean '{PROG} {close[0]}'?" if close else "")
                + f" (commands: {', '.join(COMMANDS)})")
    args = p.parse_args(argv)
    if args.command is None:
        p.print_help(sys.stderr)
        return 2
    sub = p._subparsers._group_actions[0].choices[args.command]
    nothing = "; no file was written" if args.command == "init" else ""
    try:
        return args.run(args)
    except UsageError as e:
        sub.print_usage(sys.stderr)
        sys.stderr.write(f"{PROG}: error: {e}\n  (see '{PROG} {args.command} --help')\n")
        return 2
    except (ValueError, TypeError) as e:  # the API's checks: bad input, before anything is written
        sys.stderr.write(f"{PROG}: error: {e}\n  (see '{PROG} {args.command} --help')\n")
        return 2
    except BrokenPipeError:  # stdout closed early (| head): quietly, as the Python docs advise
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
        return 1
    except FileExistsError as e:
        sys.stderr.write(f"{PROG}: error: {e.filename or e} exists; add --force to replace it\n")
        return 1
    except ClusterError as e:
        sys.stderr.write(f"{PROG}: error: {e}{nothing}\n")
        return 1
    except files._Terminated:
        sys.stderr.write(f"{PROG}: terminated (SIGTERM){nothing}\n")
        return 143
    except KeyboardInterrupt:
        sys.stderr.write(f"{PROG}: interrupted{nothing}\n")
        return 130
    except OSError as e:
        what = e.strerror or str(e)
        where = f" ({e.filename})" if e.filename and e.filename not in what else ""
        sys.stderr.write(f"{PROG}: error: {what}{where}{nothing}\n")
        return 1
    except MemoryError:
        sys.stderr.write(f"{PROG}: error: out of memory; try a smaller --chunk-size\n")
        return 1


def run() -> None:
    """The console script's entry point."""
    sys.exit(main())


if __name__ == "__main__":
    run()
