"""The documents' embedder hands freed memory back, so a 4,000-page batch peaks like one document."""

from __future__ import annotations

import subprocess
import sys
import textwrap

import pytest

PROBE = textwrap.dedent("""
    import ctypes, sys, psutil
    from coder.heap import return_free_memory
    libc = ctypes.CDLL("libc.so.6")
    libc.malloc.restype = ctypes.c_void_p
    libc.free.argtypes = [ctypes.c_void_p]
    libc.free(libc.malloc(8 << 20))  # after this free glibc serves blocks up to 8 MB from its heap
    before = psutil.Process().memory_info().rss
    blocks = [libc.malloc(256 << 10) for _ in range(400)]
    for b in blocks:
        ctypes.memset(b, 1, 256 << 10)
    for b in blocks[:-1]:  # the last block pins the heap's top, as a live tensor does
        libc.free(b)
    if sys.argv[1] == "return":
        return_free_memory()
    print((psutil.Process().memory_info().rss - before) >> 20)
""")


def held_mb(mode: str) -> int:
    out = subprocess.run([sys.executable, "-c", PROBE, mode], capture_output=True, text=True, check=True)
    return int(out.stdout)


@pytest.mark.skipif(sys.platform != "linux", reason="glibc's allocator")
def test_freed_activation_sized_blocks_go_back_to_the_system():
    assert held_mb("keep") >= 80  # 100 MB freed but kept by a fragmented heap
    assert held_mb("return") <= 10


def test_nothing_is_done_without_glibc(monkeypatch):
    from coder.heap import return_free_memory

    monkeypatch.setattr(sys, "platform", "darwin")
    assert return_free_memory() is False
