"""Helpers for the app tests: launch ``python app.py`` on a free loopback port
(colorlab.tools.appserver, as the benchmarks and the Space check do), drive it in Debian's
headless Chromium (the flags, marks and launcher every browser test shares) and make the
awkward image files users upload."""
from __future__ import annotations

import contextlib
import shutil
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from colorlab.studies import TOKEN_ENV
from colorlab.tools import appserver

ROOT = Path(__file__).resolve().parent.parent

CHROMIUM = "/usr/bin/chromium"
# the flags that work in this container (no sandbox, no GPU) and keep the browser off the network
ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
# every browser test: drives Chromium (-m browser), slow (CI runs it), skipped where there is none
BROWSER_MARKS = [pytest.mark.browser, pytest.mark.slow,
                 pytest.mark.skipif(not Path(CHROMIUM).exists() and not shutil.which("chromium"),
                                    reason=f"{CHROMIUM} is missing: install Debian's chromium package")]


def browser_test(fn):
    """``BROWSER_MARKS`` on one test, for a file whose other tests need no browser."""
    for mark in BROWSER_MARKS:
        fn = mark(fn)
    return fn


@contextlib.contextmanager
def chromium():
    """Headless Chromium (``CHROMIUM`` with ``ARGS``) under Playwright; yields the Browser and
    closes it after. Skips the test where Playwright (Python) is not installed."""
    sync_api = pytest.importorskip("playwright.sync_api", reason="playwright (Python) is not installed")
    with sync_api.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        try:
            yield browser
        finally:
            browser.close()


@contextlib.contextmanager
def running_app(weights: Path, tmp: Path, token: str | None = None):
    """``python app.py`` with COLORLAB_WEIGHTS=weights, COLORLAB_DATA=tmp/data and, given a
    ``token``, that organiser token (publishing studies on); yields (url, data dir)."""
    env = {TOKEN_ENV: token} if token is not None else None
    with appserver.running(log_path=tmp / "app.log", weights=weights, data_dir=tmp / "data", env=env) as server:
        yield server.url, tmp / "data"


def colour_photo(w: int = 96, h: int = 72) -> np.ndarray:
    y, x = np.mgrid[0:h, 0:w]
    arr = np.stack([x / (w - 1) * 255, y / (h - 1) * 255, (1 - x / (w - 1)) * 200 + 30], -1)
    arr[(x - w // 2) ** 2 + (y - h // 2) ** 2 < (min(w, h) // 4) ** 2] = (220, 40, 40)
    return arr.astype(np.uint8)


def awkward_files(d: Path) -> dict[str, tuple[Path, tuple[int, int]]]:
    """Files that must be colorized: name -> (path, (w, h))."""
    rgb = colour_photo()
    out = {}
    p = d / "grey16.png"
    Image.fromarray((np.linspace(0, 65535, 80 * 60).reshape(60, 80)).astype(np.uint16)).save(p)
    out["16-bit"] = (p, (80, 60))
    p = d / "alpha.png"
    rgba = np.dstack([rgb, np.full(rgb.shape[:2], 128, np.uint8)])
    Image.fromarray(rgba, "RGBA").save(p)
    out["rgba"] = (p, (96, 72))
    p = d / "palette.png"
    Image.fromarray(rgb).quantize(16).save(p)
    out["palette"] = (p, (96, 72))
    p = d / "cmyk.jpg"
    Image.fromarray(rgb).convert("CMYK").save(p, quality=90)
    out["cmyk"] = (p, (96, 72))
    p = d / "grey.png"
    Image.fromarray(rgb[..., 1]).save(p)
    out["grey"] = (p, (96, 72))
    return out


def bad_files(d: Path) -> dict[str, tuple[Path, str]]:
    """Files that must be refused: name -> (path, a word the message must contain)."""
    out = {}
    p = d / "corrupt.png"
    p.write_bytes(b"\x89PNG\r\n\x1a\n" + b"not really a png" * 20)
    out["corrupt"] = (p, "readable")
    p = d / "truncated.jpg"
    buf = d / "whole.jpg"
    Image.fromarray(colour_photo(200, 150)).save(buf, quality=90)
    p.write_bytes(buf.read_bytes()[:600])
    out["truncated"] = (p, "image")
    p = d / "notes.png"
    p.write_text("these are my holiday notes, not a picture\n")
    out["text named .png"] = (p, "readable")
    p = d / "empty.png"
    p.write_bytes(b"")
    out["empty"] = (p, "empty")
    p = d / "huge.png"
    Image.new("L", (8000, 6000)).save(p)   # 48 MP of black: a small file over the 40 MP limit
    out["over-size"] = (p, "limit")
    return out
