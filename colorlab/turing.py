"""The colorization Turing test: which images a rater sees, and how they are prepared.

A study (chosen by an organiser) names the models, the photo categories and the
number of images. Each rater's session is planned from its session id alone
(``plan_session`` is deterministic per seed): about half the images are real colour
photos and the rest colorizations of such photos, spread evenly over the models.
A photo may come back in a long session, but never twice in the same condition.

Every image, real or colorized, is prepared the same way (``prepare``): the photo is
loaded, centre-cropped to a square and resized to ``size`` pixels; a colorization is
made from that very image (the model sees its grey), and both leave as a fresh RGB
image without metadata, to be sent as PNG. The truth stays in the ``Item`` on the
server; only the picture reaches the rater.
"""
from __future__ import annotations

import hashlib
import random
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from PIL import Image, ImageOps

from .checkpoints import get_model
from .imaging import find_images, load_image
from .pipeline import colorize
from .ratings import COLORIZED, REAL, Rating, RatingStore

EXAMPLES_DIR = Path(__file__).resolve().parent.parent / "examples"
CATEGORIES = ("faces", "landscapes", "general")
DEFAULT_IMAGES = 20
IMAGE_SIZE = 256


@dataclass(frozen=True)
class Photo:
    category: str
    path: Path

    @property
    def photo_id(self) -> str:
        return f"{self.category}/{self.path.stem}"


@dataclass(frozen=True)
class Item:
    """One image of a session. ``truth`` and ``model`` never leave the server."""
    index: int
    photo: Photo
    truth: str                 # "real" or "colorized"
    model: str                 # checkpoint name, or "real"
    checkpoint_sha256: str = ""

    @property
    def image_id(self) -> str:
        return f"{self.photo.photo_id}:{self.model}"


@dataclass
class Study:
    models: list[str]
    categories: list[str] = field(default_factory=lambda: list(CATEGORIES))
    n_images: int = DEFAULT_IMAGES
    size: int = IMAGE_SIZE

    def as_dict(self) -> dict:
        return {"models": list(self.models), "categories": list(self.categories),
                "n_images": int(self.n_images), "size": int(self.size)}


def example_pool(categories=CATEGORIES, root: Path | str = EXAMPLES_DIR) -> list[Photo]:
    """The held-out example photos of ``categories`` (``root/<category>/*``), sorted."""
    out = []
    for cat in categories:
        d = Path(root) / cat
        if d.is_dir():
            out += [Photo(cat, p) for p in find_images(d)]
    return sorted(out, key=lambda p: p.photo_id)


def session_seed(session_id: str) -> int:
    return int.from_bytes(hashlib.sha256(session_id.encode()).digest()[:8], "big")


def max_images(n_photos: int, n_models: int) -> int:
    """Largest session without showing a photo twice in the same condition."""
    return n_photos * (n_models + 1)


def plan_session(session_id: str, photos: list[Photo], models: list[dict], n_images: int = DEFAULT_IMAGES,
                 seed: int | None = None) -> list[Item]:
    """The items of one rater's session, the same for the same ``session_id`` (or ``seed``).

    ``models`` are checkpoint sidecars (need ``name``; ``sha256`` is recorded). Half
    of the images (rounded at random) are real, the rest go round-robin over the
    models; photos are used as evenly as possible and no (photo, condition) repeats.
    """
    if not photos:
        raise ValueError("no photos to show: the chosen categories have no example images")
    if not models:
        raise ValueError("choose at least one model")
    if n_images < 1:
        raise ValueError("a session needs at least one image")
    rng = random.Random(session_seed(session_id) if seed is None else seed)
    n = min(int(n_images), max_images(len(photos), len(models)))
    cap = len(photos)                     # a condition can use each photo once
    order = sorted(models, key=lambda m: m["name"])
    rng.shuffle(order)
    n_real = min(cap, n // 2 + (rng.random() < 0.5 if n % 2 else 0))
    counts, left, j = [0] * len(order), n - n_real, 0
    while left and min(counts) < cap:     # round-robin over the models, each up to the cap
        if counts[j] < cap:
            counts[j], left = counts[j] + 1, left - 1
        j = (j + 1) % len(order)
    n_real = n - sum(counts)              # what the models cannot take goes back to real photos

    # Each condition takes its photos among the least used so far (ties in random order),
    # so photos are spread evenly and none appears twice in one condition.
    uses = {p.photo_id: 0 for p in photos}
    pairs = []
    for meta, count in [(None, n_real)] + list(zip(order, counts)):
        pool = photos[:]
        rng.shuffle(pool)
        pool.sort(key=lambda p: uses[p.photo_id])
        for photo in pool[:count]:
            uses[photo.photo_id] += 1
            pairs.append((photo, meta))
    rng.shuffle(pairs)
    return [Item(i, photo, COLORIZED if m else REAL, m["name"] if m else REAL, (m or {}).get("sha256", ""))
            for i, (photo, m) in enumerate(pairs)]


def prepare(item: Item, size: int = IMAGE_SIZE, weights_dir=None) -> Image.Image:
    """The picture a rater sees for ``item``: a ``size`` x ``size`` RGB image, no metadata.

    Real and colorized images go through exactly the same loading, cropping and
    resizing; a colorization is made from the prepared real image."""
    img = ImageOps.fit(load_image(item.photo.path), (size, size), Image.Resampling.LANCZOS)
    if item.truth == COLORIZED:
        img = colorize(img, get_model(item.model, weights_dir))
    return Image.fromarray(np.asarray(img.convert("RGB")), "RGB")   # a fresh image: no info, no EXIF


@dataclass
class Session:
    """A rater's progress through a planned session (kept server-side, e.g. in gr.State)."""
    session_id: str
    items: list[Item]
    study_id: str = ""
    size: int = IMAGE_SIZE
    position: int = 0
    shown_at: float | None = None
    answers: list[tuple[Item, str]] = field(default_factory=list)

    @classmethod
    def start(cls, study: Study, model_metas: list[dict], study_id: str = "", session_id: str | None = None,
              root: Path | str = EXAMPLES_DIR) -> "Session":
        session_id = session_id or uuid.uuid4().hex
        by_name = {m["name"]: m for m in model_metas}
        missing = [m for m in study.models if m not in by_name]
        if missing:
            raise ValueError(f"the study names models that are not available: {missing}")
        items = plan_session(session_id, example_pool(study.categories, root),
                             [by_name[m] for m in study.models], study.n_images)
        return cls(session_id, items, study_id, study.size)

    @property
    def done(self) -> bool:
        return self.position >= len(self.items)

    def current(self) -> Item | None:
        return None if self.done else self.items[self.position]

    def serve(self, weights_dir=None) -> Image.Image | None:
        """The current picture (None when finished); starts its response clock."""
        item = self.current()
        if item is None:
            return None
        img = prepare(item, self.size, weights_dir)
        self.shown_at = time.monotonic()
        return img

    def answer(self, guess: str, store: RatingStore, app_version: str, score: int | None = None) -> bool:
        """Record the answer to the current picture and move on. Returns whether it was
        stored (False: this session had already answered this image)."""
        item = self.current()
        if item is None:
            raise ValueError("the session is finished")
        if guess not in (REAL, COLORIZED):
            raise ValueError(f"answer 'real' or 'colorized', not {guess!r}")
        elapsed = 0 if self.shown_at is None else time.monotonic() - self.shown_at
        stored = store.add(Rating(self.session_id, item.image_id, item.photo.category, item.model,
                                  item.truth, guess, int(round(elapsed * 1000)), app_version,
                                  item.checkpoint_sha256, score, self.study_id))
        self.answers.append((item, guess))
        self.position += 1
        self.shown_at = None
        return stored

    def summary(self) -> dict:
        colorized = [(i, g) for i, g in self.answers if i.truth == COLORIZED]
        return {"answered": len(self.answers), "total": len(self.items),
                "correct": sum(i.truth == g for i, g in self.answers),
                "colorized_shown": len(colorized),
                "fooled": sum(g == REAL for _, g in colorized),
                "real_shown": len(self.answers) - len(colorized)}


__all__ = ["CATEGORIES", "DEFAULT_IMAGES", "EXAMPLES_DIR", "IMAGE_SIZE", "Item", "Photo", "Session",
           "Study", "example_pool", "max_images", "plan_session", "prepare", "session_seed"]
