"""Keeping a long-running server's resident memory flat (glibc malloc on Linux).

Every request decodes, colorizes and encodes images: buffers of 0.2-50 MB allocated and
freed from many worker threads. glibc's default malloc raises its mmap threshold each time
such a buffer is freed (up to 32 MB), so later image buffers come from the heap of whichever
of up to 8 x cores arenas the thread uses, and the holes they leave are not returned to the
system: resident memory creeps up request after request until every arena has its worst
case. ``tune_malloc`` fixes the threshold at ``MMAP_THRESHOLD`` (image buffers are always
mmapped and returned on free), keeps freed heap memory up to ``TRIM_THRESHOLD`` for reuse
instead of handing it back at every free, and caps the arenas at 2; ``start_trimmer``
returns free heap pages every 30 s; measured with ``python -m bench.soak`` (docs/benchmarks.md,
*Memory over a long run*). ``COLORLAB_MALLOC=default`` leaves glibc's behaviour alone.

Why the threshold is 2 MiB, not lower: the pipeline works on full-resolution images in bands
(``colorlab.pipeline.BAND_PIXELS``), and each band's float temporaries are up to 1.5 MiB (3
channels). Below the threshold they come from the heap, hot in cache; above it every one is a
fresh mmap whose pages the kernel faults in and zeroes, which made the app's colour decode
~3x slower than the library's (a 12-MP Colorize took 7.1 s of CPU instead of 2.6 s).
"""
from __future__ import annotations

import ctypes
import ctypes.util
import os
import threading
import time

M_ARENA_MAX = -8
M_MMAP_THRESHOLD = -3
M_TRIM_THRESHOLD = -1
MMAP_THRESHOLD = 2 * 1024 ** 2    # above a band temporary (1.5 MiB), below a 1-MP float channel (3.8 MiB)
TRIM_THRESHOLD = 64 * 1024 ** 2   # free heap kept for the next band / request; the trimmer returns it
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
        settings = ((M_MMAP_THRESHOLD, MMAP_THRESHOLD), (M_TRIM_THRESHOLD, TRIM_THRESHOLD), (M_ARENA_MAX, ARENA_MAX))
        return all([bool(libc.mallopt(key, value)) for key, value in settings])   # noqa: C419 - every call, no short cut
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
