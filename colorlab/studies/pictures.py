"""What a rater's browser fetches: each trial's pictures, freshly encoded, under random names.

Gradio serves returned files from a cache addressed by their content, so a picture
returned twice gets the same URL twice, and the real photo (the same crop every time it
is shown) would be recognisable by its URL alone. Study pictures therefore never go
through that cache. ``Shelf`` keeps each served picture in memory under a fresh random
name (128 bits from ``secrets``), tied to the session that was served it; the app serves
``/gradio_api/study-picture/<name>.png`` from the shelf and nothing else. A name is
valid only while its trial is on screen: answering the trial, finishing the session or
``ttl`` seconds without an answer drop it.

Every picture is also re-encoded per serving (``fresh_png``): a random quarter of its
pixel channels move one level (of 255) up or down, then a new PNG is written without
metadata and without compression (so its size says nothing about its content). Real
photo and colorization go through the same step, so the bytes of a picture differ
between any two servings while what the rater sees does not: on 30 shipped pool photos
at 256 px the mean CIEDE2000 change is 0.31 (at most 0.42 per photo, a just-noticeable
difference is ~2.3), PSNR 54 dB (``tests/test_study_attack.py`` measures it).
"""
from __future__ import annotations

import io
import secrets
import threading
import time
from dataclasses import dataclass

import numpy as np
from PIL import Image

ROUTE = "gradio_api/study-picture"
NAME_BYTES = 16
DEFAULT_TTL = 3600.0
MAX_PICTURES = 4096     # across all sessions: the oldest go first beyond this (memory bound)
NOISE_SHARE = 0.25      # share of pixel channels moved by one level per serving


def fresh_png(img: Image.Image, rng: np.random.Generator | None = None) -> bytes:
    """``img`` (RGB) with a random ``NOISE_SHARE`` of its pixel channels moved one level up
    or down (clipped to 0..255), encoded as a new uncompressed PNG without metadata:
    different bytes on every call, the same picture to the eye, and a file size that
    depends on the picture's width and height only (a compressed file's size would tell a
    flat colorization from a detailed photo)."""
    rng = rng if rng is not None else np.random.default_rng(secrets.randbits(128))
    arr = np.asarray(img.convert("RGB"), dtype=np.int16)
    step = rng.choice(np.array([-1, 1], np.int16), size=arr.shape) * (rng.random(arr.shape) < NOISE_SHARE)
    noisy = np.clip(arr + step, 0, 255).astype(np.uint8)
    buf = io.BytesIO()
    Image.fromarray(noisy, "RGB").save(buf, format="PNG", compress_level=0)   # size: a function of w x h only
    return buf.getvalue()


@dataclass
class _Entry:
    session: str
    data: bytes
    created: float
    fetched: float | None = None


class Shelf:
    """Served pictures by random name, per session (thread-safe, bounded)."""

    def __init__(self, ttl: float = DEFAULT_TTL, capacity: int = MAX_PICTURES):
        self.ttl, self.capacity = float(ttl), int(capacity)
        self._items: dict[str, _Entry] = {}
        self._lock = threading.Lock()

    def put(self, session: str, data: bytes) -> str:
        """Keep ``data`` for ``session``; returns its new random name (``<hex>.png``)."""
        name = secrets.token_hex(NAME_BYTES) + ".png"
        now = time.monotonic()
        with self._lock:
            self._expire(now)
            while len(self._items) >= self.capacity:
                self._items.pop(next(iter(self._items)))
            self._items[name] = _Entry(session, data, now)
        return name

    def get(self, name: str) -> bytes | None:
        """The picture named ``name``, or None when it is unknown, dropped or expired."""
        now = time.monotonic()
        with self._lock:
            e = self._items.get(str(name))
            if e is None or now - e.created > self.ttl:
                return None
            e.fetched = e.fetched or now
            return e.data

    def drop(self, session: str) -> int:
        """Forget every picture of ``session``; returns how many."""
        with self._lock:
            gone = [n for n, e in self._items.items() if e.session == session]
            for n in gone:
                del self._items[n]
        return len(gone)

    def __len__(self) -> int:
        return len(self._items)

    def _expire(self, now: float) -> None:
        old = [n for n, e in self._items.items() if now - e.created > self.ttl]
        for n in old:
            del self._items[n]


__all__ = ["ROUTE", "Shelf", "fresh_png"]
