"""With ``FASTINIT_HUGEPAGES=1``, large torch CPU tensors given as ``out`` are advised to use
transparent huge pages before the kernels write them (``fastinit._hugepages``; off by default,
as measured slower at scale): their first touch faults 2 MiB pages instead of 4 KiB ones. The
advice shows as the ``hg`` flag of the memory's mapping in /proc/self/smaps."""
import numpy as np
import pytest

import fastinit
from fastinit import _hugepages

torch = pytest.importorskip("torch")
pytestmark = pytest.mark.skipif(_hugepages.madvise() is None,
                                reason="no transparent huge pages to ask for (not Linux, or disabled)")


def _flags(address: int) -> set:
    """The VmFlags of the mapping of this process that holds ``address``."""
    with open("/proc/self/smaps") as f:
        inside = False
        for line in f:
            head = line.split()[0]
            if "-" in head and not head.endswith(":"):
                lo, hi = (int(x, 16) for x in head.split("-"))
                inside = lo <= address < hi
            elif inside and head == "VmFlags:":
                return set(line.split()[1:])
    raise AssertionError(f"no mapping holds {address:#x}")


def _middle(t) -> int:
    """An address in a whole 2 MiB page inside ``t``."""
    return -(-t.data_ptr() // _hugepages.HUGE) * _hugepages.HUGE + 4096


@pytest.fixture
def enabled(monkeypatch):
    monkeypatch.setattr(_hugepages, "ENABLED", True)


def test_off_by_default():
    assert not _hugepages.ENABLED  # the suite runs without FASTINIT_HUGEPAGES=1
    t = torch.empty(10 << 20)
    fastinit.uniform(out=t, seed=0)
    assert "hg" not in _flags(_middle(t))


def test_large_tensor_is_advised_and_values_unchanged(enabled):
    # over glibc's largest mmap threshold (32 MiB): a mapping of its own, never reused heap
    t = torch.empty(10 << 20)  # 40 MiB of float32
    assert "hg" not in _flags(_middle(t))
    fastinit.normal(out=t, std=0.5, seed=3)
    assert "hg" in _flags(_middle(t))
    assert np.array_equal(t.numpy(), fastinit.normal(10 << 20, std=0.5, seed=3))
    bf = torch.empty(20 << 20, dtype=torch.bfloat16)  # every fill path: constants too
    fastinit.zeros(out=bf)
    assert "hg" in _flags(_middle(bf)) and not bf.any()


def test_small_and_strided_tensors_are_not_advised(enabled):
    small = np.empty(1 << 20, np.float32)  # 4 MiB: under MIN_BYTES
    assert not _hugepages.advise(small)
    t = torch.empty(4096, 3072)  # 48 MiB, filled through its transpose in chunks
    fastinit.uniform(out=t.t(), seed=1)
    assert "hg" not in _flags(_middle(t))
    assert np.array_equal(t.t().numpy(), fastinit.uniform(3072, 4096, seed=1))


def test_turned_on_by_the_environment(python):
    out = python("""
        import torch, fastinit
        from fastinit import _hugepages
        t = torch.empty(10 << 20)
        fastinit.uniform(out=t, seed=0)
        print(_hugepages.ENABLED)
    """, env={"FASTINIT_HUGEPAGES": "1"})
    assert out.split() == ["True"]
