r"""Initializing straight to files: ``.npy`` and safetensors, written row block by row block.

:func:`save` (and ``fastinit init`` on the command line) makes each tensor through the
addressable streams (``rows=slice(a, b)``) into one reusable buffer and writes that buffer at its
place in the file, so a file is bit-identical to the in-memory result and memory stays bounded
whatever its size: the process holds the buffer (``chunk_size``, 64 MiB by default, or one
leading-axis row when a row is larger) on top of what ``import fastinit`` takes (about 170 MB of
RSS with the kernels loaded). The kernel's page cache holds the written data until the disk takes
it; that memory is the system's, not the process's, and is given back under pressure.
``orthogonal``, whose values are one computation over the whole matrix, is made whole and then
written (its size in memory).

Files are atomic: everything is written under hidden temporary names in the target directory
(``.NAME.<pid>.<random>.tmp``; a file system reporting less free space than the files need
fails at once, and a write that finds the disk full raises ``OSError`` with ``errno.ENOSPC``:
the data go through ``os.pwrite``, never through a memory map, which would crash with SIGBUS on
a full disk), and renamed to the final names only
when every byte is there. An exception (a full disk, a bad parameter found late, a
KeyboardInterrupt from Ctrl-C, SIGTERM: :func:`save` turns the default SIGTERM into an exception
while it writes, from the main thread) removes the temporaries and leaves no file under a final
name. An existing file is not replaced unless ``overwrite=True`` (a file that appears while
writing is not replaced either: the temporary is linked to the final name, which fails if it
exists). Nothing is ``fsync``\ ed: the rename is atomic for other processes, not across a power
cut.

Formats:

- ``.npy``: one tensor, numpy's format (the header numpy's ``open_memmap`` writes), readable with
  ``numpy.load(path, mmap_mode="r")``; bfloat16 is stored as numpy stores it (``'<V2'``, 2-byte
  void: ``numpy.load(...).view(ml_dtypes.bfloat16)``).
- ``.safetensors``: any number of named tensors (`the format
  <https://github.com/huggingface/safetensors>`_: 8-byte little-endian header length, a JSON
  header of dtypes, shapes and data offsets padded with spaces to 8 bytes, then the data), with
  ``__metadata__`` ``{"format": "pt"}`` as Hugging Face writes it. Within a file tensors are laid
  out by decreasing item size, so each is aligned to its dtype. With ``max_shard_size`` the tensors
  go to ``NAME-00001-of-0000N.safetensors`` shards, filled in order as Hugging Face does (a tensor
  larger than the limit gets a shard of its own), beside ``NAME.safetensors.index.json``
  (``{"metadata": {"total_size": ...}, "weight_map": {tensor: shard}}``), which ``transformers``'
  loaders read; when everything fits in one shard, one plain file is written.
"""
from __future__ import annotations

import difflib
import errno
import inspect
import json
import math
import os
import re
import secrets
import signal
import sys
import threading
import time
from typing import Any, Callable, Iterable, Mapping

import numpy as np

from . import _checks as ck
from ._seeding import Key

__all__ = ["save", "read_spec", "parse_size", "DEFAULT_CHUNK_BYTES", "SPEC_KEYS"]

#: the default size of the buffer each tensor is made in, block of rows by block of rows
DEFAULT_CHUNK_BYTES = 64 << 20
#: the keys a tensor's entry in a spec may have
SPEC_KEYS = ("name", "shape", "initializer", "params", "dtype")
#: initializers whose values are one computation over the whole tensor: made whole, then written
_WHOLE = frozenset(("orthogonal",))

#: safetensors' dtype codes (complex128 and the float8 types have none fastinit writes)
_ST_CODES = {
    "float64": "F64", "float32": "F32", "float16": "F16", "bfloat16": "BF16", "complex64": "C64",
    "int64": "I64", "int32": "I32", "int16": "I16", "int8": "I8", "uint64": "U64", "uint32": "U32",
    "uint16": "U16", "uint8": "U8", "bool": "BOOL",
}  # by dtype name: bfloat16 is ml_dtypes', imported only where it is used (``_checks``)
_ST_SIZES = {"F64": 8, "F32": 4, "F16": 2, "BF16": 2, "C64": 8, "I64": 8, "I32": 4, "I16": 2,
             "I8": 1, "U64": 8, "U32": 4, "U16": 2, "U8": 1, "BOOL": 1}
_FORMATS = (".npy", ".safetensors")
_MAX_WRITE = 1 << 30  # bytes per write call (Linux writes at most 0x7ffff000 at once)

# indirections the tests patch (a full disk: a write raising ENOSPC)
_pwrite = os.pwrite
_statvfs = getattr(os, "statvfs", None)


# --- sizes -----------------------------------------------------------------------------------------

_UNITS = {"": 1, "B": 1, "KB": 10**3, "MB": 10**6, "GB": 10**9, "TB": 10**12,
          "KIB": 2**10, "MIB": 2**20, "GIB": 2**30, "TIB": 2**40, "K": 2**10, "M": 2**20,
          "G": 2**30, "T": 2**40}


def parse_size(value: Any, name: str = "size") -> int:
    """A size in bytes from an int or a string: ``"5GB"`` is 5 * 10**9 and ``"64MiB"`` (or
    ``"64M"``) 64 * 2**20, as Hugging Face's ``max_shard_size`` reads them; at least 1."""
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name}: expected a number of bytes or a string such as '5GB', got {ck.shown(value)}")
    if isinstance(value, (int, np.integer)):
        n = int(value)
    elif isinstance(value, str):
        m = re.fullmatch(r"\s*(\d+(?:\.\d*)?|\.\d+)\s*([A-Za-z]*)\s*", value)
        unit = m.group(2).upper() if m else None
        if unit not in _UNITS:
            raise ValueError(f"{name}: expected a number of bytes or a size such as '5GB', '512MiB', "
                             f"got {ck.shown(value)}")
        n = int(float(m.group(1)) * _UNITS[unit])
    else:
        raise TypeError(f"{name}: expected a number of bytes or a string such as '5GB', got {ck.shown(value)}")
    if n < 1:
        raise ValueError(f"{name}: must be at least 1 byte, got {ck.shown(value)}")
    return n


def human(nbytes: float) -> str:
    """``nbytes`` as '1.50 GB' (powers of 1000)."""
    for unit in ("B", "kB", "MB", "GB", "TB"):
        if abs(nbytes) < 1000 or unit == "TB":
            return f"{nbytes:.0f} {unit}" if unit == "B" else f"{nbytes:.2f} {unit}"
        nbytes /= 1000
    raise AssertionError


# --- the tensors to make ---------------------------------------------------------------------------

class Planned:
    """One tensor to write: its name, the Initializer, the shape it is called with, the dtype
    (``None``: the typed functions', ``randn32``, which take none) and the seed; once checked,
    the dtype and the shape of what it makes (``out_shape``: the ``C16`` functions add an axis
    of 2, their float16 (real, imaginary) pairs)."""

    __slots__ = ("name", "init", "shape", "dtype", "seed", "out_shape", "dtype_kw")

    def __init__(self, name: str, init: Any, shape: tuple, dtype: np.dtype | None, seed: Any) -> None:
        self.name, self.init, self.shape, self.dtype, self.seed = name, init, shape, dtype, seed
        self.out_shape = shape
        self.dtype_kw = {} if dtype is None else {"dtype": dtype}  # what the calls pass

    @property
    def nbytes(self) -> int:
        return math.prod(self.out_shape) * self.dtype.itemsize

    @property
    def whole(self) -> bool:
        return self.init.name in _WHOLE or not self.shape

    def call(self, **kw: Any) -> np.ndarray:
        return self.init(self.shape, seed=self.seed, **self.dtype_kw, **kw)

    def check(self) -> None:
        """The initializer's checks with the shape, at no cost (no rows are made), and the dtype
        and shape of what it makes; ``orthogonal``, which computes the whole tensor for any
        rows, is checked when made."""
        if self.shape and self.whole:
            return
        probe = np.asarray(self.call() if not self.shape else self.call(rows=slice(0, 0)))
        self.dtype = probe.dtype
        self.out_shape = self.shape + probe.shape[len(self.shape):]


def plan_one(name: str, init: Any, shape: tuple, dtype: Any, seed: Any, default: Any = None) -> Planned:
    """A checked :class:`Planned`: ``dtype`` (else ``default``, else the initializer's bound
    one, else float32) for the initializers that take one; the typed functions (``randn32``)
    make their own, which a ``dtype`` given must then equal."""
    from .initializer import FUNCTIONS
    takes = "dtype" in inspect.signature(FUNCTIONS[init.name]).parameters
    dt = None
    if takes:
        dt = _dtype(next(d for d in (dtype, default, init.params.get("dtype"), np.float32) if d is not None),
                    "dtype")
    p = Planned(name, init, shape, dt, seed)
    p.check()
    if not takes and dtype is not None and _dtype(dtype, "dtype") != p.dtype:
        raise ValueError(f"dtype: {init.name} makes {p.dtype.name} values, got {ck.shown(dtype)}")
    return p


def _initializer(value: Any, params: Mapping[str, Any], where: str):
    """An Initializer from an identifier (``fastinit.get``'s: any framework's name, taking that
    framework's parameters), a config dict, an Initializer or a fastinit function."""
    from .initializer import FUNCTIONS, Initializer
    from .registry import deserialize
    if not isinstance(params, Mapping):
        raise TypeError(f"{where}: params must be a dict of parameter names to values, got {ck.shown(params)}")
    try:
        if isinstance(value, str):
            _check_params(value, params)
            init = deserialize({"class_name": value, "config": dict(params)})
        elif isinstance(value, dict):
            init = deserialize(value)
            if params:
                init = Initializer(init.name, **{**init.params, **params})
        elif isinstance(value, Initializer):
            init = Initializer(value.name, **{**value.params, **params}) if params else value
        elif callable(value) and getattr(value, "__name__", None) in FUNCTIONS \
                and FUNCTIONS[value.__name__] is value:
            init = Initializer(value.__name__, **params)
        else:
            raise TypeError(f"initializer: expected a name such as 'torch.normal_' or 'he_normal', "
                            f"a fastinit.Initializer or a fastinit function, got {ck.shown(value)}")
    except (TypeError, ValueError) as e:
        raise type(e)(f"{where}: {e}") from None
    if not isinstance(init, Initializer):
        raise TypeError(f"{where}: {ck.shown(value)} is not a fastinit initializer")
    return init


def _check_params(identifier: str, params: Mapping[str, Any]) -> None:
    """``TypeError`` naming a parameter that ``identifier``'s initializer does not take, with the
    closest ones it does."""
    from .initializer import ALIASES, FUNCTIONS, _PER_CALL
    from .registry import _factory
    factory = _factory(identifier)  # ValueError for an unknown name, with the closest ones
    sig = inspect.signature(factory)
    if any(p.kind is p.VAR_KEYWORD for p in sig.parameters.values()):  # fastinit's own function
        name = identifier.rpartition(".")[2]
        sig = inspect.signature(FUNCTIONS[ALIASES.get(name, name)])
        accepted = [k for k, p in sig.parameters.items()
                    if p.kind is p.KEYWORD_ONLY and k not in _PER_CALL + ("seed", "dtype", "device")]
    else:
        accepted = list(sig.parameters)
    for k in params:
        if k not in accepted:
            close = difflib.get_close_matches(str(k), accepted, n=1)
            hint = f"; did you mean {close[0]!r}?" if close else ""
            own = ALIASES.get(identifier, identifier) if "." not in identifier else None
            if not close and own in FUNCTIONS and k in inspect.signature(FUNCTIONS[own]).parameters:
                hint = f"; fastinit's own {own} takes it: use 'fastinit.{identifier}'"
            raise TypeError(f"{identifier!r} has no parameter {ck.shown(k)}{hint} (its parameters: "
                            f"{', '.join(accepted) or 'none'})")


def _shape(value: Any, where: str) -> tuple:
    try:
        return ck.shape_arg(value)
    except (TypeError, ValueError) as e:
        raise type(e)(f"{where}: {e}") from None


def _dtype(value: Any, where: str) -> np.dtype:
    try:
        return ck.as_dtype(value)
    except TypeError as e:
        raise TypeError(f"{where}: {e}") from None


def plan(tensors: Any, seed: Any = None, dtype: Any = None, *, where: str = "tensors") -> list[Planned]:
    """The tensors of :func:`save` (or of a spec's ``"tensors"``), checked: names unique, shapes,
    dtypes, initializers and their parameters valid for their shapes. Each is seeded with
    ``Key(seed).child(name)``."""
    root = seed if isinstance(seed, Key) else Key(seed)
    if isinstance(tensors, Mapping):
        items = list(tensors.items())
    elif isinstance(tensors, (list, tuple)):
        items = []
        for i, entry in enumerate(tensors):
            if not isinstance(entry, Mapping) or "name" not in entry:
                raise TypeError(f"{where}[{i}]: expected a dict with 'name', 'shape' and 'initializer', "
                                f"got {ck.shown(entry)}")
            items.append((entry["name"], {k: v for k, v in entry.items() if k != "name"}))
    else:
        raise TypeError(f"{where}: expected a dict of names to (initializer, shape, dtype), or a list "
                        f"of dicts with 'name', 'shape', 'initializer', got {ck.shown(tensors)}")
    if not items:
        raise ValueError(f"{where}: no tensors to write")
    seen: set = set()
    out = []
    for i, (name, value) in enumerate(items):
        if not isinstance(name, str) or not name:
            raise TypeError(f"{where}[{i}]: a tensor's name must be a non-empty str, got {ck.shown(name)}")
        if name in seen:
            raise ValueError(f"{where}: duplicate tensor name {name!r}")
        seen.add(name)
        here = f"{where}[{name!r}]"
        if isinstance(value, Mapping):
            unknown = [k for k in value if k not in SPEC_KEYS]
            if unknown:
                close = difflib.get_close_matches(str(unknown[0]), SPEC_KEYS, n=1)
                hint = f"; did you mean {close[0]!r}?" if close else f" (keys: {', '.join(SPEC_KEYS)})"
                raise ValueError(f"{here}: unknown key {ck.shown(unknown[0])}{hint}")
            missing = [k for k in ("shape", "initializer") if k not in value]
            if missing:
                raise ValueError(f"{here}: missing {' and '.join(map(repr, missing))}")
            init, shape, dt, params = (value["initializer"], value["shape"], value.get("dtype"),
                                       value.get("params") or {})
        elif isinstance(value, (tuple, list)) and len(value) in (2, 3):
            init, shape, dt, params = value[0], value[1], value[2] if len(value) == 3 else None, {}
        else:
            raise TypeError(f"{here}: expected (initializer, shape, dtype), (initializer, shape) or a "
                            f"dict with 'initializer', 'shape', 'dtype', 'params', got {ck.shown(value)}")
        init = _initializer(init, params, here)
        shape = _shape(shape, here)
        try:
            out.append(plan_one(name, init, shape, dt, root.child(name), default=dtype))
        except (TypeError, ValueError) as e:
            raise type(e)(f"{here}: {e}") from None
    return out


def read_spec(source: Any) -> dict:
    """A spec (a path to a JSON file, or its dict), checked for form: ``{"seed": int (optional),
    "dtype": default dtype (optional), "tensors": [{"name", "shape", "initializer", "params",
    "dtype"}, ...] or {name: {...}}}``. Duplicate names (also as repeated JSON keys) are errors.
    :func:`plan` checks the tensors themselves."""
    where = "spec"
    if isinstance(source, (str, os.PathLike)):
        where = os.fspath(source)
        try:
            with open(source, encoding="utf-8") as f:
                text = f.read()
        except OSError as e:
            raise OSError(e.errno, f"spec: cannot read {where}: {e.strerror}") from None

        def pairs(kv):
            d = dict(kv)
            if len(d) != len(kv):
                seen: set = set()
                dup = next(k for k, _ in kv if k in seen or seen.add(k))
                raise ValueError(f"{where}: duplicate key {dup!r}"
                                 + (" (duplicate tensor name)" if "shape" not in d else ""))
            return d
        try:
            spec = json.loads(text, object_pairs_hook=pairs)
        except json.JSONDecodeError as e:
            raise ValueError(f"{where}: not valid JSON: {e}") from None
    else:
        spec = source
    if not isinstance(spec, dict):
        raise TypeError(f"{where}: expected a JSON object with 'tensors', got {ck.shown(spec)}")
    unknown = [k for k in spec if k not in ("seed", "dtype", "tensors", "metadata")]
    if unknown:
        close = difflib.get_close_matches(str(unknown[0]), ("seed", "dtype", "tensors", "metadata"), n=1)
        hint = f"; did you mean {close[0]!r}?" if close else " (keys: seed, dtype, tensors, metadata)"
        raise ValueError(f"{where}: unknown key {ck.shown(unknown[0])}{hint}")
    if "tensors" not in spec:
        raise ValueError(f"{where}: missing 'tensors' (a list of {{'name', 'shape', 'initializer'}})")
    return spec


# --- file layouts ----------------------------------------------------------------------------------

class _File:
    """One output file: its final path, its header bytes, and its total size."""

    __slots__ = ("path", "header", "size")

    def __init__(self, path: str, header: bytes, size: int) -> None:
        self.path, self.header, self.size = path, header, size


class Layout:
    """Where every tensor's bytes go: ``files`` (final paths, headers, sizes), ``where[name] =
    (file index, offset in that file)``, and an optional index file (``index_path``,
    ``index_text``) written last."""

    def __init__(self) -> None:
        self.files: list[_File] = []
        self.where: dict[str, tuple[int, int]] = {}
        self.index_path: str | None = None
        self.index_text: str | None = None

    @property
    def paths(self) -> list[str]:
        return [f.path for f in self.files] + ([self.index_path] if self.index_path else [])

    @property
    def data_bytes(self) -> int:
        return sum(f.size - len(f.header) for f in self.files)


def npy_layout(path: str, shape: tuple, dtype: np.dtype, name: str) -> Layout:
    """One tensor in a ``.npy`` file: the header numpy's ``open_memmap`` writes (format 1.0, or
    2.0 when the header needs it), then the data."""
    import io
    from numpy.lib import format as npf
    d = {"descr": npf.dtype_to_descr(dtype), "fortran_order": False, "shape": tuple(shape)}
    bio = io.BytesIO()
    try:
        npf.write_array_header_1_0(bio, d)
    except ValueError:
        bio = io.BytesIO()
        npf.write_array_header_2_0(bio, d)
    header = bio.getvalue()
    lay = Layout()
    lay.files.append(_File(path, header, len(header) + math.prod(shape) * dtype.itemsize))
    lay.where[name] = (0, len(header))
    return lay


def st_code(dtype: np.dtype, where: str = "dtype") -> str:
    """safetensors' code of a numpy dtype; ``TypeError`` for one it has none for."""
    dt = np.dtype(dtype)
    code = _ST_CODES.get(dt.name) if dt.isnative and dt.names is None else None  # '>f4' is named float32 too
    if code is None:
        raise TypeError(f"{where}: safetensors has no {dt.name} (supported: "
                        f"{', '.join(_ST_CODES)}); write a .npy file for it")
    return code


def _st_header(entries: list[tuple[str, str, tuple, int]], metadata: Mapping[str, str]) -> tuple[bytes, dict]:
    """(header bytes, name -> offset in the file) for ``(name, code, shape, nbytes)`` entries,
    laid out by decreasing item size (stable), so that each tensor is aligned to its dtype."""
    order = sorted(entries, key=lambda e: -_ST_SIZES[e[1]])
    head: dict[str, Any] = {}
    if metadata:
        head["__metadata__"] = dict(metadata)
    at = 0
    offsets = {}
    for name, code, shape, nbytes in order:
        head[name] = {"dtype": code, "shape": list(shape), "data_offsets": [at, at + nbytes]}
        offsets[name] = at
        at += nbytes
    text = json.dumps(head, separators=(",", ":"), ensure_ascii=False).encode("utf-8")
    text += b" " * (-len(text) % 8)
    header = len(text).to_bytes(8, "little") + text
    return header, {n: len(header) + o for n, o in offsets.items()}


def _check_metadata(metadata: Any) -> dict:
    if metadata is None:
        return {}
    if not isinstance(metadata, Mapping) or not all(isinstance(k, str) and isinstance(v, str)
                                                    for k, v in metadata.items()):
        raise TypeError(f"metadata: safetensors metadata must be a dict of str to str, got {ck.shown(metadata)}")
    return dict(metadata)


def safetensors_layout(path: str, entries: list[tuple[str, str, tuple, int]], *,
                       max_shard_size: int | None = None, metadata: Mapping[str, str] | None = None) -> Layout:
    """The layout of ``(name, code, shape, nbytes)`` entries in ``path``, or in shards of at most
    ``max_shard_size`` bytes of data with Hugging Face's index (module docstring)."""
    meta = {"format": "pt", **_check_metadata(metadata)}
    groups: list[list] = [[]]
    if max_shard_size is not None:
        size = 0
        for e in entries:
            if groups[-1] and size + e[3] > max_shard_size:
                groups.append([])
                size = 0
            groups[-1].append(e)
            size += e[3]
    else:
        groups[0] = list(entries)
    lay = Layout()
    n = len(groups)
    stem = path[:-len(".safetensors")] if path.endswith(".safetensors") else path
    weight_map = {}
    for i, group in enumerate(groups):
        shard = path if n == 1 else f"{stem}-{i + 1:05d}-of-{n:05d}.safetensors"
        header, offsets = _st_header(group, meta)
        lay.files.append(_File(shard, header, len(header) + sum(e[3] for e in group)))
        for e in group:
            lay.where[e[0]] = (i, offsets[e[0]])
            weight_map[e[0]] = os.path.basename(shard)
    if n > 1:
        lay.index_path = path + ".index.json"
        index = {"metadata": {"total_size": sum(e[3] for e in entries)},
                 "weight_map": dict(sorted(weight_map.items()))}
        lay.index_text = json.dumps(index, indent=2) + "\n"
    return lay


# --- atomic output ---------------------------------------------------------------------------------

class _Terminated(SystemExit):
    """SIGTERM, raised as an exception while a file is written, so that the temporaries go."""

    def __init__(self) -> None:
        super().__init__(128 + signal.SIGTERM)


class sigterm_raises:
    """``with sigterm_raises():`` turns a SIGTERM into a :class:`_Terminated` exception (a
    ``SystemExit`` with code 143) for the block, when the handler is the default one (which
    would end the process with no cleanup) and this is the main thread; otherwise nothing."""

    def __enter__(self) -> "sigterm_raises":
        self._prev = None
        if threading.current_thread() is threading.main_thread() and \
                signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:
            self._prev = signal.signal(signal.SIGTERM, self._raise)
        self._raised = False
        return self

    def _raise(self, signum, frame) -> None:
        if not self._raised:  # a second SIGTERM while the first unwinds is not raised again
            self._raised = True
            raise _Terminated()

    def __exit__(self, *exc) -> None:
        if self._prev is not None:
            signal.signal(signal.SIGTERM, self._prev)


def _temp_name(final: str, suffix: str = ".tmp") -> str:
    d, base = os.path.split(os.path.abspath(final))
    return os.path.join(d, f".{base}.{os.getpid()}.{secrets.token_hex(4)}{suffix}")


def check_targets(paths: Iterable[str], overwrite: bool) -> None:
    """``FileExistsError`` for the first of ``paths`` that exists, unless ``overwrite``;
    ``IsADirectoryError`` for a directory, ``FileNotFoundError`` for a missing directory."""
    for p in paths:
        d = os.path.dirname(os.path.abspath(p))
        if not os.path.isdir(d):
            raise FileNotFoundError(errno.ENOENT, f"the directory {d!r} does not exist", p)
        if os.path.isdir(p):
            raise IsADirectoryError(errno.EISDIR, f"{p!r} is a directory", p)
        if os.path.lexists(p) and not overwrite:
            raise FileExistsError(errno.EEXIST, f"{p!r} exists (overwrite it with overwrite=True, "
                                  f"--force on the command line)", p)


def check_room(layout: Layout) -> None:
    """``OSError(ENOSPC)`` at once when a target's file system reports less free space than the
    files need (the writes would fail later; a file system that reports nothing is trusted)."""
    need: dict = {}
    for f in layout.files:
        d = os.path.dirname(os.path.abspath(f.path))
        need[d] = need.get(d, 0) + f.size
    for d, size in need.items():
        try:
            st = _statvfs(d)
        except (OSError, AttributeError):
            continue
        free = st.f_bavail * st.f_frsize
        if st.f_blocks and free < size:
            raise OSError(errno.ENOSPC, f"no room for {human(size)} in {d!r}: {human(free)} free", d)


class Output:
    """The files of a :class:`Layout` under temporary names: ``write(file, offset, data)``
    writes anywhere in them; leaving the ``with`` block without an exception renames them all
    to their final names (the index last), with one removes them all."""

    def __init__(self, layout: Layout, overwrite: bool = False) -> None:
        self.layout = layout
        self.overwrite = overwrite
        self._fds: list[int] = []
        self._temps: list[str] = []

    def __enter__(self) -> "Output":
        check_targets(self.layout.paths, self.overwrite)
        check_room(self.layout)
        try:
            for f in self.layout.files:
                tmp = _temp_name(f.path)
                self._temps.append(tmp)
                self._fds.append(os.open(tmp, os.O_RDWR | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o666))
                fd = self._fds[-1]
                os.ftruncate(fd, f.size)
                self.write(len(self._fds) - 1, 0, f.header)
        except BaseException:
            self._discard()
            raise
        return self

    def write(self, file: int, offset: int, data: Any) -> None:
        """``data`` (bytes, or a C-contiguous array's memory) at ``offset`` in file ``file``."""
        view = memoryview(data).cast("B")
        fd = self._fds[file]
        done = 0
        while done < len(view):
            n = _pwrite(fd, view[done:done + _MAX_WRITE], offset + done)
            if n <= 0:
                raise OSError(errno.EIO, f"writing {self.layout.files[file].path!r} wrote nothing")
            done += n

    def _close(self) -> None:
        fds, self._fds = self._fds, []
        for fd in fds:
            try:
                os.close(fd)
            except OSError:
                pass

    def _discard(self) -> None:
        self._close()
        temps, self._temps = self._temps, []
        for tmp in temps:
            try:
                os.unlink(tmp)
            except FileNotFoundError:
                pass

    def _commit(self) -> None:
        fds, self._fds = self._fds, []
        errors = []
        for fd in fds:
            try:
                os.close(fd)  # reports a deferred write error (NFS) before anything is renamed
            except OSError as e:
                errors.append(e)
        if errors:
            raise errors[0]
        lay = self.layout
        pairs = list(zip(self._temps, [f.path for f in lay.files]))
        if lay.index_path is not None:
            tmp = _temp_name(lay.index_path)
            self._temps.append(tmp)
            with open(tmp, "x", encoding="utf-8") as f:
                f.write(lay.index_text)
            pairs.append((tmp, lay.index_path))
        done: list[str] = []
        try:
            for tmp, final in pairs:
                self._place(tmp, final)
                done.append(final)
        except BaseException:
            for final in done:  # ours: the rest failed, so none of them stays
                try:
                    os.unlink(final)
                except OSError:
                    pass
            raise
        self._temps = []

    def _place(self, tmp: str, final: str) -> None:
        if self.overwrite:
            os.replace(tmp, final)
            return
        try:  # no clobbering a file that appeared meanwhile: link fails if final exists
            os.link(tmp, final)
        except FileExistsError:
            raise FileExistsError(errno.EEXIST, f"{final!r} appeared while it was being written; "
                                  f"nothing replaced it (overwrite=True, --force, to replace it)", final) from None
        except OSError:  # no hard links on this file system
            if os.path.lexists(final):
                raise FileExistsError(errno.EEXIST, f"{final!r} exists", final) from None
            os.replace(tmp, final)
            return
        os.unlink(tmp)

    def __exit__(self, kind, exc, tb) -> None:
        if kind is None:
            try:
                self._commit()
            except BaseException:
                self._discard()
                raise
        else:
            self._discard()


# --- progress --------------------------------------------------------------------------------------

class Progress:
    """A byte counter on stderr: tqdm's bar when tqdm is installed, else a plain line redrawn in
    place; nothing when disabled."""

    def __init__(self, total: int, desc: str, enabled: bool) -> None:
        self._bar = None
        self._plain = False
        self._done = 0
        self._total = total
        self._desc = desc
        self._last = 0.0
        self.start = time.perf_counter()
        if not enabled:
            return
        try:
            from tqdm import tqdm
        except ImportError:
            self._plain = True
            return
        self._bar = tqdm(total=total, desc=desc, unit="B", unit_scale=True, unit_divisor=1000,
                         file=sys.stderr, dynamic_ncols=True, leave=False)

    def update(self, n: int) -> None:
        self._done += n
        if self._bar is not None:
            self._bar.update(n)
        elif self._plain:
            now = time.perf_counter()
            if now - self._last >= 0.25 or self._done >= self._total:
                self._last = now
                pct = 100.0 * self._done / self._total if self._total else 100.0
                sys.stderr.write(f"\r{self._desc}: {pct:5.1f}% {human(self._done)} / {human(self._total)}")
                sys.stderr.flush()

    def close(self) -> None:
        if self._bar is not None:
            self._bar.close()
        elif self._plain:
            sys.stderr.write("\n")
            sys.stderr.flush()
        self._bar, self._plain = None, False


# --- writing ---------------------------------------------------------------------------------------

def _buffer(nbytes: int) -> np.ndarray:
    """A byte buffer aligned for every dtype (16 bytes)."""
    return np.empty(-(-nbytes // 16), np.complex128).view(np.uint8)


def _stream(p: Planned, out: Output, file: int, offset: int, chunk: int, buf: list,
            tick: Callable[[int], None]) -> None:
    """Make ``p`` block of rows by block of rows in ``buf[0]`` (grown as needed, at most
    ``chunk`` bytes or one row) and write each block at ``offset`` in file ``file``."""
    if p.nbytes == 0:
        return
    if p.whole:
        arr = np.ascontiguousarray(p.call())
        flat = arr.reshape(-1).view(np.uint8)
        for a in range(0, flat.size, chunk):
            out.write(file, offset + a, flat[a:a + chunk])
            tick(min(chunk, flat.size - a))
        return
    n0 = p.shape[0]
    row = p.nbytes // n0
    per = max(1, chunk // row)
    need = min(per, n0) * row
    if buf[0] is None or buf[0].size < need:
        buf[0] = None
        buf[0] = _buffer(need)
    for a in range(0, n0, per):
        b = min(n0, a + per)
        view = buf[0][:(b - a) * row].view(p.dtype).reshape((b - a,) + p.out_shape[1:])
        p.call(rows=slice(a, b), out=view)
        out.write(file, offset + a * row, view.reshape(-1).view(np.uint8))
        tick((b - a) * row)


def write_planned(layout: Layout, planned: list[Planned], *, overwrite: bool = False,
                  chunk_size: int = DEFAULT_CHUNK_BYTES, progress: bool = False,
                  desc: str | None = None) -> float:
    """Write ``planned`` into ``layout``'s files atomically; returns the seconds taken."""
    bar = Progress(layout.data_bytes, desc or os.path.basename(layout.files[0].path), progress)
    try:
        with sigterm_raises(), Output(layout, overwrite) as out:
            buf = [None]
            for p in sorted(planned, key=lambda q: layout.where[q.name]):  # in file order
                file, offset = layout.where[p.name]
                _stream(p, out, file, offset, chunk_size, buf, bar.update)
            buf[0] = None
    finally:
        bar.close()
    return time.perf_counter() - bar.start


def target_format(path: Any, name: str = "path") -> str:
    """``".npy"`` or ``".safetensors"`` from ``path``'s extension."""
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"{name}: expected a file path, got {ck.shown(path)}")
    ext = os.path.splitext(os.fspath(path))[1].lower()
    if ext not in _FORMATS:
        raise ValueError(f"{name}: the file must end in .npy or .safetensors, got {ck.shown(os.fspath(path))}")
    return ext


def layout_for(path: str, planned: list[Planned], *, max_shard_size: Any = None,
               metadata: Mapping[str, str] | None = None) -> Layout:
    """The layout of ``planned`` in ``path`` (its extension picks the format)."""
    ext = target_format(path)
    if ext == ".npy":
        if len(planned) != 1:
            raise ValueError(f"path: a .npy file holds one tensor, got {len(planned)} "
                             f"({', '.join(p.name for p in planned[:3])}{', ...' if len(planned) > 3 else ''}); "
                             f"write a .safetensors file")
        if max_shard_size is not None:
            raise ValueError("max_shard_size: a .npy file holds one tensor and is not sharded; "
                             "write a .safetensors file")
        p = planned[0]
        return npy_layout(os.fspath(path), p.out_shape, p.dtype, p.name)
    entries = [(p.name, st_code(p.dtype, f"tensors[{p.name!r}]: dtype"), p.out_shape, p.nbytes) for p in planned]
    limit = None if max_shard_size is None else parse_size(max_shard_size, "max_shard_size")
    return safetensors_layout(os.fspath(path), entries, max_shard_size=limit, metadata=metadata)


def save(path: str | os.PathLike, tensors: Any, seed: Any = None, *, dtype: Any = None,
         max_shard_size: int | str | None = None, overwrite: bool = False, progress: bool = False,
         chunk_size: int | str = DEFAULT_CHUNK_BYTES, metadata: Mapping[str, str] | None = None) -> list[str]:
    """Initialize tensors straight into a ``.npy`` or ``.safetensors`` file, with bounded memory.

    >>> fastinit.save("model.safetensors", {
    ...     "embed.weight": ("torch.normal_", (32000, 4096), "bfloat16"),
    ...     "layers.0.mlp.weight": (fastinit.kaiming_uniform(a=5 ** 0.5), (11008, 4096), "bfloat16"),
    ...     "norm.weight": {"initializer": "ones", "shape": [4096]},
    ... }, seed=0)

    Each tensor is made with ``seed=Key(seed).child(name)`` (so ``name``'s values depend only on
    the seed and its own name, shape, dtype and initializer) block of rows by block of rows
    into one buffer of ``chunk_size`` bytes, and written in place: the file holds exactly what
    ``init(*shape, dtype=dtype, seed=Key(seed).child(name))`` returns, and the process's memory
    grows by the buffer only (the module docstring has the details; ``orthogonal`` is made
    whole). Atomic: temporaries in the target directory, renamed when complete; an
    error, Ctrl-C or SIGTERM leaves no file under a final name.

    Args:
        path: ``NAME.npy`` (one tensor, numpy's format) or ``NAME.safetensors``.
        tensors: a dict of names to ``(initializer, shape)`` or ``(initializer, shape, dtype)``
            tuples, or to dicts ``{"initializer", "shape", "dtype", "params"}``, or a list of
            such dicts with ``"name"``. ``initializer``: an identifier as for
            :func:`fastinit.get` (``"torch.normal_"``, ``"he_normal"``, ``"jax.lecun_normal"``,
            ``"fastinit.kaiming_uniform"``; ``params`` in that framework's names), a Keras or
            fastinit config dict, a :class:`fastinit.Initializer` or a fastinit function.
        seed: the root seed: an int, a :class:`fastinit.Key`, or None (one draw from fastinit's
            generator, ``fastinit.seed``).
        dtype: the dtype of tensors that give none (default: the initializer's bound ``dtype``,
            else float32).
        max_shard_size: safetensors only: shards of at most this much data (``"5GB"``,
            ``"512MiB"`` or bytes) and Hugging Face's ``NAME.safetensors.index.json``.
        overwrite: replace existing files (else ``FileExistsError``).
        progress: a progress bar on stderr (tqdm when installed).
        chunk_size: the buffer's size (bytes, or ``"64MiB"``).
        metadata: safetensors ``__metadata__`` entries (str to str), beside ``"format": "pt"``.

    Returns:
        The paths written (the file; or the shards and the index).

    Raises:
        ValueError, TypeError: naming the tensor and the parameter, before any file is created.
        FileExistsError: a target exists and ``overwrite`` is false.
        OSError: from the file system (``errno.ENOSPC`` for a full disk); nothing is left behind.
    """
    fmt = target_format(path)
    chunk = parse_size(chunk_size, "chunk_size")
    root = seed if isinstance(seed, Key) else Key(seed)
    planned = plan(tensors, root, dtype)
    meta = dict(_check_metadata(metadata))
    if fmt == ".safetensors":
        meta.setdefault("fastinit.seed", str(root.value))
    layout = layout_for(os.fspath(path), planned, max_shard_size=max_shard_size, metadata=meta)
    write_planned(layout, planned, overwrite=bool(overwrite), chunk_size=chunk, progress=bool(progress))
    return layout.paths
