"""Keeping a long-running server's resident memory flat (glibc malloc on Linux).

Every request decodes, colorizes and encodes images: buffers of 0.2-50 MB allocated and
freed from many worker threads. glibc's default malloc raises its mmap threshold each time
such a buffer is freed (up to 32 MB), so later image buffers come from the heap of whichever
of up to 8 x cores arenas the thread uses, and the holes they leave are not returned to the
system: resident memory creeps up request after request until every arena has its worst
case. ``tune_malloc`` fixes the threshold at 128 KiB (image buffers are always mmapped and
returned on free) and caps the arenas at 2, and ``start_trimmer`` returns free heap pages
every 30 s; measured with ``bench/soak.py`` (see README,
*Running a study*). ``COLORLAB_MALLOC=default`` leaves glibc's behaviour alone.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import os
import threading
import time

M_ARENA_MAX = -8
M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 128 * 1024
ARENA_MAX = 2


def _libc():
    name = ctypes.util.find_library("c")
    return ctypes.CDLL(name) if name else None


def tune_malloc() -> bool:
    """Apply the settings above (glibc only); returns whether they were applied."""
    if os.environ.get("COLORLAB_MALLOC", "") == "default":
        return False
    try:
        libc = _libc()
        if libc is None or not hasattr(libc, "mallopt"):
            return False
        return bool(libc.mallopt(M_MMAP_THRESHOLD, MMAP_THRESHOLD)) and bool(libc.mallopt(M_ARENA_MAX, ARENA_MAX))
    except (OSError, AttributeError):
        return False


def start_trimmer(interval: float = 30.0) -> threading.Thread | None:
    """A daemon thread that hands free heap pages back to the system every ``interval``
    seconds (glibc ``malloc_trim``), for what the settings above leave in the arenas."""
    if os.environ.get("COLORLAB_MALLOC", "") == "default":
        return None
    libc = _libc()
    if libc is None or not hasattr(libc, "malloc_trim"):
        return None

    def loop():
        while True:
            time.sleep(interval)
            libc.malloc_trim(0)

    thread = threading.Thread(target=loop, name="colorlab-malloc-trim", daemon=True)
    thread.start()
    return thread


__all__ = ["start_trimmer", "tune_malloc"]
