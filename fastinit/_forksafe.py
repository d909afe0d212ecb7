"""Locks that neither a ``fork()`` nor a Ctrl-C leaves held.

A fork while another thread holds a lock copies it locked into the child, where no thread will
ever release it: :class:`ForkSafeLock` gets a new lock in every forked child.

A KeyboardInterrupt is raised by the main thread's SIGINT handler, which CPython runs between
bytecodes, so it can land between an ``acquire()`` made from Python and the ``try`` that would
release it, or in the middle of a Python-level ``restore`` of some state: the lock then stays
held forever (every later call blocks) or the state stays changed. Two rules avoid that:

- ``with lock:`` on a ``threading.Lock`` itself acquires and releases in C, and CPython (3.10 and
  later) runs no signal handler between the C ``__enter__`` and the start of the block, nor
  between the block and the C ``__exit__``; a Python ``__enter__``/``__exit__`` pair has such
  gaps. So call sites write ``with forksafe_lock.lock:``.
- Python-level sections that must not be torn (threadpoolctl's set-limit and restore-limit, with
  the lock around them) run under :class:`defer_sigint`, which holds a SIGINT back until the
  section is over.
"""
from __future__ import annotations

import os
import signal
import threading
import weakref

_locks: "weakref.WeakSet[ForkSafeLock]" = weakref.WeakSet()


class ForkSafeLock:
    """A ``threading.Lock`` (attribute ``lock``), renewed in every forked child.

    Use ``with x.lock:`` (read ``lock`` at each use, never keep it: a child gets a new one).
    ``with x:`` works too and is as interrupt-safe: ``__enter__`` and ``__exit__`` are the C
    methods of the current lock, which ``with`` looks up before it acquires.
    """

    def __init__(self) -> None:
        self.lock = threading.Lock()
        _locks.add(self)

    @property
    def __enter__(self):
        return self.lock.__enter__

    @property
    def __exit__(self):
        return self.lock.__exit__


def _renew_in_child() -> None:
    for lock in list(_locks):
        lock.lock = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_renew_in_child)


class defer_sigint:
    """``with defer_sigint():`` holds a SIGINT (Ctrl-C) back until the block ends, then delivers it.

    For short sections that must run whole: a KeyboardInterrupt raised inside them would leave a
    lock held or a setting changed. In the main thread (the only one Python runs signal handlers
    in, so other threads need nothing and get nothing done) the SIGINT handler is swapped for one
    that records the signal; at the end of the block the previous handler is put back, then a
    recorded signal is delivered to it: a Python handler is called (the default one raises
    KeyboardInterrupt, now outside the section), ``SIG_DFL`` is re-raised (the process ends as it
    would have), ``SIG_IGN`` drops it. A handler installed outside Python (``getsignal`` gives
    ``None``) cannot be put back, so nothing is deferred then. Blocks nest: an inner one delivers
    to the outer one's recorder. Keep long interruptible work out of the block: a Ctrl-C waits
    for its end.
    """

    __slots__ = ("_prev", "_caught")

    def __enter__(self) -> "defer_sigint":
        self._prev = self._caught = None
        if threading.current_thread() is threading.main_thread():
            prev = signal.getsignal(signal.SIGINT)
            if prev is not None:
                # set before the swap: a SIGINT up to here raises at once, with nothing to undo;
                # from the swap on it is only recorded
                self._prev = prev
                signal.signal(signal.SIGINT, self._record)
        return self

    def _record(self, signum, frame) -> None:
        self._caught = (signum, frame)

    def __exit__(self, *exc) -> None:
        prev = self._prev
        if prev is None:
            return
        signal.signal(signal.SIGINT, prev)
        caught, self._caught = self._caught, None
        if caught is None:
            return
        if callable(prev):
            prev(*caught)
        elif prev == signal.SIG_DFL:
            signal.raise_signal(signal.SIGINT)
