"""Scale-out benchmarks (issue 15): a tensor written to Zarr on a Dask LocalCluster, and a
model's DTensors initialized on torch.distributed ranks.

    .venv/bin/python bench/bench_cluster.py zarr [--elements 2e9] [--workers 2] [--dir /tmp]
    .venv/bin/python bench/bench_cluster.py dtensor [--params 1e9] [--ranks 2]

``zarr``: a float32 normal(0, 0.02) tensor of ``--elements`` values, (rows, 10^4), chunks of
2500 rows (100 MB), written uncompressed (random floats do not compress) to a Zarr store by a
LocalCluster of ``--workers`` worker processes, one thread each (``NUMBA_NUM_THREADS=1``: one
core per worker, as numpy's generator uses). Rows: ``fastinit.dask.normal`` against
``dask.array.random.default_rng(0).standard_normal`` (numpy's generator, chunk by chunk on the
same cluster), each on a fresh cluster: wall time, elements/s, the workers' peak RSS.

``dtensor``: the bench_model.py decoder of ``--params`` parameters (float32) built on the meta
device, every parameter distributed ``Shard(0)`` over ``--ranks`` gloo ranks, ``to_empty``, then
``fastinit.torch.init_module(model, seed=0)`` against torch's own ``reset_parameters()`` of
every module (torch's DTensor random ops): the slowest rank's wall time.
"""
from __future__ import annotations

import argparse
import os
import resource
import shutil
import socket
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))


def _peak_rss() -> int:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def zarr_row(way: str, elements: int, workers: int, directory: str) -> dict:
    import dask.array as da
    import zarr
    from dask.distributed import Client, LocalCluster

    import fastinit.dask

    cols = 10_000
    rows = elements // cols
    chunks = (2500, cols)
    path = tempfile.mkdtemp(prefix=f"fastinit-{way}-", suffix=".zarr", dir=directory)
    try:
        with LocalCluster(n_workers=workers, threads_per_worker=1, processes=True,
                          memory_limit=0, dashboard_address=None) as cluster, Client(cluster) as client:
            if way == "fastinit":
                arr = fastinit.dask.normal((rows, cols), chunks=chunks, std=0.02, seed=0, dtype="float32")
                client.run(lambda: fastinit.normal(8, 8, std=0.02, seed=0))  # compiled (cached) before timing
            else:
                arr = da.random.default_rng(0).standard_normal((rows, cols), chunks=chunks, dtype="float32") * 0.02
            z = zarr.create_array(path, shape=arr.shape, chunks=chunks, dtype="float32", compressors=None,
                                  overwrite=True)
            t = time.perf_counter()
            da.store(arr, z, lock=False, compute=True)
            wall = time.perf_counter() - t
            peaks = client.run(_peak_rss)
        written = sum(os.path.getsize(os.path.join(d, f)) for d, _, fs in os.walk(path) for f in fs)
    finally:
        shutil.rmtree(path, ignore_errors=True)
    return dict(way=way, wall=wall, rate=rows * cols / wall, peak=max(peaks.values()), written=written)


def run_zarr(args) -> None:
    os.environ["NUMBA_NUM_THREADS"] = "1"  # the workers inherit it: one core each
    elements = int(float(args.elements))
    print(f"{elements:.3g} float32 elements ({elements * 4 / 1e9:.1f} GB) to Zarr, uncompressed, "
          f"chunks of 100 MB, LocalCluster of {args.workers} workers x 1 thread")
    print("| values | wall s | M elements/s | GB/s | peak RSS per worker GB |")
    print("|---|---|---|---|---|")
    for way in ("fastinit", "numpy"):
        r = zarr_row(way, elements, args.workers, args.dir)
        print(f"| {r['way']} | {r['wall']:.1f} | {r['rate'] / 1e6:.0f} | {r['rate'] * 4 / 1e9:.2f} | "
              f"{r['peak'] / 1e9:.2f} |", flush=True)


# --- DTensors ------------------------------------------------------------------------------------

def _rank(rank: int, ranks: int, port: int, params: float, way: str, queue) -> None:
    os.environ.update(MASTER_ADDR="127.0.0.1", MASTER_PORT=str(port))
    os.environ["NUMBA_NUM_THREADS"] = os.environ.get("NUMBA_NUM_THREADS", "1")
    import torch
    import torch.distributed as dist
    from torch.distributed.device_mesh import init_device_mesh
    from torch.distributed.tensor import Shard, distribute_tensor

    import fastinit.torch
    sys.path.insert(0, HERE)
    import bench_model

    torch.set_num_threads(1)
    dist.init_process_group("gloo", rank=rank, world_size=ranks)
    mesh = init_device_mesh("cpu", (ranks,))
    s = bench_model.sizes(params)
    with torch.device("meta"):
        model = bench_model.build_torch(s)
    for mod in model.modules():
        for name, p in list(mod.named_parameters(recurse=False)):
            mod.register_parameter(name, torch.nn.Parameter(distribute_tensor(p, mesh, [Shard(0)])))
    model.to_empty(device="cpu")
    fastinit.torch.init_module(torch.nn.Linear(4, 4), seed=0)  # compiled (cached) before timing
    dist.barrier()
    t = time.perf_counter()
    if way == "fastinit":
        fastinit.torch.init_module(model, seed=0)
    else:
        for mod in model.modules():
            if hasattr(mod, "reset_parameters"):
                mod.reset_parameters()
    wall = time.perf_counter() - t
    dist.barrier()
    n = sum(p.to_local().numel() for p in model.parameters())
    queue.put((rank, wall, n, _peak_rss()))
    dist.destroy_process_group()


def run_dtensor(args) -> None:
    import torch.multiprocessing as mp
    params = float(args.params)
    print(f"bench_model decoder of {params:.3g} parameters, float32, Shard(0) over {args.ranks} gloo "
          f"ranks (1 thread each)")
    print("| init | slowest rank s | local parameters per rank | peak RSS per rank GB |")
    print("|---|---|---|---|")
    for way in ("fastinit", "torch"):
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            port = sock.getsockname()[1]
        ctx = mp.get_context("spawn")
        queue = ctx.Queue()
        procs = [ctx.Process(target=_rank, args=(r, args.ranks, port, params, way, queue)) for r in range(args.ranks)]
        for p in procs:
            p.start()
        results = [queue.get() for _ in procs]
        for p in procs:
            p.join()
        wall = max(r[1] for r in results)
        print(f"| {'fastinit.torch.init_module' if way == 'fastinit' else 'torch reset_parameters'} | "
              f"{wall:.2f} | {', '.join(f'{r[2]:,}' for r in sorted(results))} | "
              f"{max(r[3] for r in results) / 1e9:.2f} |", flush=True)


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = p.add_subparsers(dest="what", required=True)
    z = sub.add_parser("zarr")
    z.add_argument("--elements", default="2e9")
    z.add_argument("--workers", type=int, default=2)
    z.add_argument("--dir", default=tempfile.gettempdir())
    d = sub.add_parser("dtensor")
    d.add_argument("--params", default="1e9")
    d.add_argument("--ranks", type=int, default=2)
    args = p.parse_args(argv)
    (run_zarr if args.what == "zarr" else run_dtensor)(args)


if __name__ == "__main__":
    main()
