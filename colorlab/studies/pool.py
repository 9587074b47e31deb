"""The photos a study shows, and how every picture a rater sees is made.

The shipped pool (``study_pool/<category>/*.jpg`` at the repository root) holds held-out
photos from the validation splits only (never training or calibration images), distinct
from the app's examples; ``build_pool`` made it. An organiser may instead use a folder of
their own photos (``folder_pool``), each checked like an upload.

Every picture is prepared the same way (``Preparer``): the photo is centre-cropped to a
square of ``size`` pixels; a colorization is made from that very square (the model sees
its grey) by a shipped checkpoint through ``colorlab.pipeline.colorize``; a catch image
(attention check) is the square with its hue turned by 180 degrees. Results are cached
on disk as PNG (keyed by the photo's SHA-256, the checkpoint's SHA-256 and the size), so
a session only computes what no earlier session needed.
"""
from __future__ import annotations

import hashlib
import os
import tempfile
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from ..checkpoints import CATEGORIES, get_model
from ..imaging import IMAGE_EXTS, find_images, load_image
from ..pipeline import colorize

ROOT = Path(__file__).resolve().parent.parent.parent
POOL_DIR = ROOT / "study_pool"
IMAGE_SIZE = 256
REAL = "real"
CATCH = "catch"


@dataclass(frozen=True)
class Photo:
    category: str
    path: Path
    sha256: str = ""

    @property
    def photo_id(self) -> str:
        return f"{self.category}/{self.path.stem}"

    def as_dict(self) -> dict:
        """For the study record; a path inside the repository is stored relative to it."""
        path = Path(self.path).resolve()
        rel = path.relative_to(ROOT) if path.is_relative_to(ROOT) else path
        return {"category": self.category, "path": str(rel), "sha256": self.sha256}

    @classmethod
    def from_dict(cls, d: dict) -> Photo:
        path = Path(d["path"])
        return cls(d["category"], path if path.is_absolute() else ROOT / path, d.get("sha256", ""))


def _sha256(path: Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()


def shipped_pool(categories=CATEGORIES, root: Path | str = POOL_DIR) -> list[Photo]:
    """The shipped study photos of ``categories`` (``root/<category>/*``), sorted by id."""
    out = []
    for cat in categories:
        d = Path(root) / cat
        if d.is_dir():
            out += [Photo(cat, p, _sha256(p)) for p in find_images(d)]
    return sorted(out, key=lambda p: p.photo_id)


def folder_pool(folder: Path | str, category: str = "own") -> tuple[list[Photo], list[str]]:
    """An organiser's own photos: every image file under ``folder`` (sub-folders named after
    a category give that category, others get ``category``), each opened and decoded like an
    upload. Returns (usable photos, one message per refused file)."""
    folder = Path(folder)
    photos, refused = [], []
    for p in find_images(folder):
        try:
            load_image(p)
        except ValueError as exc:
            refused.append(f"{p.name}: {exc}".replace(str(p), p.name))
            continue
        parts = p.relative_to(folder).parts
        cat = parts[0] if len(parts) > 1 and parts[0] in CATEGORIES else category
        photos.append(Photo(cat, p.resolve(), _sha256(p)))
    return sorted(photos, key=lambda ph: (ph.photo_id, ph.sha256)), refused


def square(photo_path: Path | str, size: int = IMAGE_SIZE) -> Image.Image:
    """The photo centre-cropped and resized to ``size`` x ``size``, fresh RGB (no metadata)."""
    img = ImageOps.fit(load_image(photo_path), (size, size), Image.Resampling.LANCZOS)
    return Image.fromarray(np.asarray(img.convert("RGB")), "RGB")


def hue_turned(img: Image.Image, turn: float = 0.5) -> Image.Image:
    """``img`` with its hue rotated by ``turn`` of a circle (0.5: 180 degrees), the same
    saturation and value: obviously wrong colour, for attention checks."""
    hsv = np.asarray(img.convert("HSV")).copy()
    hsv[..., 0] = (hsv[..., 0].astype(np.int32) + round(turn * 256)) % 256
    return Image.fromarray(hsv, "HSV").convert("RGB")


class Preparer:
    """Makes (and caches under ``cache_dir``) the pictures of a study: ``image(photo, condition)``
    with condition "real", "catch" or a checkpoint name."""

    def __init__(self, cache_dir: Path | str, size: int = IMAGE_SIZE, weights_dir=None):
        self.cache_dir, self.size, self.weights_dir = Path(cache_dir), int(size), weights_dir
        self._locks: dict[str, threading.Lock] = {}
        self._guard = threading.Lock()

    def _key(self, photo: Photo, condition: str) -> str:
        if condition in (REAL, CATCH):
            tag = condition
        else:
            tag = f"{condition}-{(get_model(condition, self.weights_dir).meta.sha256 or '')[:16]}"
        return f"{photo.sha256[:24] or hashlib.sha256(str(photo.path).encode()).hexdigest()[:24]}-{self.size}-{tag}"

    def path(self, photo: Photo, condition: str) -> Path:
        """The cached PNG of ``photo`` in ``condition``, made first if needed (atomically)."""
        key = self._key(photo, condition)
        out = self.cache_dir / f"{key}.png"
        if out.is_file():
            return out
        with self._guard:
            lock = self._locks.setdefault(key, threading.Lock())
        with lock:
            if out.is_file():
                return out
            img = self.make(photo, condition)
            self.cache_dir.mkdir(parents=True, exist_ok=True)
            fd, tmp = tempfile.mkstemp(dir=self.cache_dir, suffix=".tmp")
            with os.fdopen(fd, "wb") as f:
                img.save(f, format="PNG")
            os.replace(tmp, out)
        with self._guard:
            self._locks.pop(key, None)
        return out

    def make(self, photo: Photo, condition: str) -> Image.Image:
        img = square(photo.path, self.size)
        if condition == REAL:
            return img
        if condition == CATCH:
            return hue_turned(img)
        out = colorize(img, get_model(condition, self.weights_dir))
        return Image.fromarray(np.asarray(out.convert("RGB")), "RGB")


# ---------------------------------------------------------------- making the shipped pool

def build_pool(data_root: Path | str, dest: Path | str = POOL_DIR, per_category: int = 64,
               exclude: Path | str | None = ROOT / "examples", short_side: int = 256, quality: int = 85) -> dict:
    """Copy ``per_category`` photos of each ``data_root/<category>/val`` (validation only,
    never train) into ``dest/<category>/`` as JPEGs (short side ``short_side``, ``quality``),
    skipping the app's examples. The choice is the first by SHA-256 of the file name, so
    it is reproducible. Returns {category: [file names]}."""
    data_root, dest = Path(data_root), Path(dest)
    skip = {p.stem for p in find_images(exclude)} if exclude and Path(exclude).is_dir() else set()
    chosen = {}
    for cat in CATEGORIES:
        src = [p for p in find_images(data_root / cat / "val") if p.stem not in skip]
        src.sort(key=lambda p: hashlib.sha256(p.name.encode()).hexdigest())
        (dest / cat).mkdir(parents=True, exist_ok=True)
        chosen[cat] = []
        for p in src[:per_category]:
            img = load_image(p)
            s = short_side / min(img.size)
            if s < 1:
                img = img.resize((round(img.width * s), round(img.height * s)), Image.Resampling.LANCZOS)
            img.save(dest / cat / f"{p.stem}.jpg", quality=quality, optimize=True)
            chosen[cat].append(f"{p.stem}.jpg")
    return chosen


__all__ = ["CATCH", "CATEGORIES", "IMAGE_EXTS", "IMAGE_SIZE", "POOL_DIR", "REAL", "Photo", "Preparer", "build_pool",
           "folder_pool", "hue_turned", "shipped_pool", "square"]
