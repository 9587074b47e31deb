"""Suggested looks: several plausible colorizations of one photo, and likely colours at a point.

A photo's overall cast (mean CIE a, b) is most of a model's error and the grey photo does
not determine it (docs/cast.md): automatic colour regresses to the mean of the plausible
casts. ``suggest`` offers ``k`` casts instead, each rendered by the model given that cast as
its tint, best ranked first:

1. the model's own cast (its automatic colorization's mean a, b, measured at network
   size): the first suggestion is as good as automatic colour, so ranking never costs;
2. the others from the casts of the training photos most like this one (cosine similarity
   of frozen ImageNet features, ``colorlab.scene``; a ``CastIndex`` built by
   ``python -m train.suggest_index``), reweighted by closeness to the model's own cast
   (within the index's ``sigma``; its knobs are chosen on training photos), clustered by
   weighted k-means with the model's cast as a fixed centre and ranked by the share of the
   weight they hold.

Casts closer than ``MIN_SEPARATION`` to a better-ranked one are replaced, so every look is
visibly different. Everything is deterministic. The K tinted passes run as one batch at
network size, after the point-free pass (the one ``colorize`` ran and cached: the model's
own cast costs nothing more) and one scene-feature pass (cached per photo: a model switch or
a click for point colours does not repeat it); only the final assembly runs once per look.
Thumbnails (``suggest(size=...)``, the app's row of looks) run the network at
``THUMBNAIL_RENDER`` instead of the model's render size and assemble at the thumbnail's size.
docs/suggestions.md has the measurements, bench/suggest.py the speed.
"""
from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from PIL import Image
from safetensors.numpy import load_file

from .checkpoints import WEIGHTS_DIR, CheckpointError, Colorizer, sha256_file
from .colorspaces import grey_to_L, lab_to_rgb_in_gamut, rgb_to_lab
from .hints import NO_HINTS, Hints, colour_to_ab, hint_maps
from .imaging import tensor_to_array
from .pipeline import (
    _assemble,
    _channels_last,
    _net_input,
    _nhwc,
    _point_free,
    _small_grey,
    accepts_hints,
    grey_tensor,
    guided,
    network_output,
    resolve_hints,
)
from .recent import Recent
from .scene import feature_input, scene_features

MAX_K = 8                  # looks per photo
MAX_COLOURS = MAX_K        # colours at a point: the model's own and one per other look
MIN_SEPARATION = 6.0       # CIE a, b units between any two suggested casts
KMEANS_ITERS = 25
INDEX_DIR = WEIGHTS_DIR / "suggest"
# The network's short side for thumbnails (``suggest(size=...)``): half the shipped models'
# 128, a quarter of the work. Measured on three 1-MP examples (lab-general, 256-px
# thumbnails): mean CIE76 1.0-3.2 from the same thumbnails rendered at 128, and the cast is
# the tint's either way (the tint shift); the look the user clicks is then rendered in full.
THUMBNAIL_RENDER = 64


@dataclass(frozen=True)
class Suggestion:
    """One look. ``tint`` ("#rrggbb") given to ``colorize`` as the tint reproduces ``image``;
    ``ab`` is its cast, the tint's CIE (a, b); ``weight`` in [0, 1] the share of the similar
    training photos whose cast is nearest this one (the weights of one call sum to 1);
    ``source`` is "model" (the model's own cast) or "similar photos"."""
    rank: int
    tint: str
    ab: tuple[float, float]
    weight: float
    source: str
    image: Image.Image

    def to_json(self) -> dict:
        return {"rank": self.rank, "tint": self.tint, "a": round(self.ab[0], 3), "b": round(self.ab[1], 3),
                "weight": round(self.weight, 4), "source": self.source}


@dataclass(frozen=True)
class ColourSuggestion:
    """A likely colour at a point: ``colour`` "#rrggbb"; ``source`` "model" (what the model gives
    the point now) or "look N" (what suggestion N gives it); ``weight`` that look's weight."""
    colour: str
    weight: float
    source: str


class CastIndex:
    """The casts of a category's training photos and their scene features, reduced for size:
    standardised, projected on their principal axes and unit-normalised (float16 rows)."""

    def __init__(self, tensors: dict, meta: dict):
        self.mean = tensors["mean"].astype(np.float32)
        self.scale = tensors["scale"].astype(np.float32)
        self.projection = tensors["projection"].astype(np.float32)
        self.rows = tensors["rows"].astype(np.float32)
        self.casts = tensors["casts"].astype(np.float64)
        self.meta = meta
        self.neighbours = int(meta["neighbours"])
        self.temperature = float(meta["temperature"])
        # How far (CIE a, b units) the model's own cast is trusted to lie from the true one
        # (``choose_casts``); chosen with the other two by ``train.suggest_index``.
        self.sigma = float(meta["own_cast_sigma"])

    def embed(self, features: np.ndarray) -> np.ndarray:
        """Scene features (N, FEATURE_DIM) -> unit rows (N, dims) comparable with ``rows``."""
        z = ((features - self.mean) / self.scale) @ self.projection
        return z / (np.linalg.norm(z, axis=1, keepdims=True) + 1e-12)

    def neighbours_of(self, features: np.ndarray, exclude: int | None = None,
                      embedded: bool = False) -> tuple[np.ndarray, np.ndarray]:
        """(casts (M, 2), weights (M,) summing to 1) of the ``neighbours`` most similar training
        photos to one photo's features (1, FEATURE_DIM); softmax of cosine / temperature.
        ``exclude``: a row to leave out (leave-one-out scoring on the training photos);
        ``embedded``: ``features`` is already a unit row (dims,) as ``embed`` gives (e.g. one of
        the index's own ``rows``)."""
        sims = self.rows @ (features if embedded else self.embed(features)[0])
        if exclude is not None:
            sims[exclude] = -np.inf
        m = min(self.neighbours, len(sims))
        idx = np.argsort(-sims, kind="stable")[:m]
        w = np.exp((sims[idx] - sims[idx[0]]) / self.temperature)
        return self.casts[idx], w / w.sum()


_INDEXES: dict = {}
_LOCK = threading.Lock()


def load_index(category: str, index_dir: Path | None = None) -> CastIndex:
    """The ``CastIndex`` of ``category`` (``INDEX_DIR``/CATEGORY.safetensors + .json sidecar),
    loaded once per process after checking the SHA-256 its sidecar records.
    Raises ``CheckpointError`` if it is missing, tampered with or unreadable."""
    d = Path(index_dir or INDEX_DIR)
    path, side = d / f"{category}.safetensors", d / f"{category}.json"
    if not path.is_file() or not side.is_file():
        raise CheckpointError(f"no suggestion index for category {category!r} in {d} "
                              f"(build it: python -m train.suggest_index --category {category})")
    digest = sha256_file(path)
    key = (str(path.resolve()), digest)
    with _LOCK:
        if key in _INDEXES:
            return _INDEXES[key]
    try:
        meta = json.loads(side.read_text())
    except json.JSONDecodeError as exc:
        raise CheckpointError(f"{side.name}: sidecar is not valid JSON ({exc})") from None
    if digest != meta.get("sha256"):
        raise CheckpointError(f"{path.name}: sha256 {digest[:12]} does not match its sidecar; refusing to load")
    try:
        index = CastIndex(load_file(str(path)), meta)
    except Exception as exc:  # noqa: BLE001 (safetensors raises its own types; a bad file is a CheckpointError)
        raise CheckpointError(f"{path.name}: not a usable suggestion index ({exc})") from None
    with _LOCK:
        _INDEXES[key] = index
    return index


# Scene features of the last few photos: they do not depend on the model, so a model switch
# and each click for point colours (``suggest_colours``) reuse them. Keyed by a digest of
# the encoder's input itself (a few hundred kB), so equal keys mean equal features.
_FEATURES = Recent(8)


def photo_features(grey: torch.Tensor) -> np.ndarray:
    """``colorlab.scene.scene_features`` of the grey (1, 1, H, W), cached: float32 (1, FEATURE_DIM)."""
    x = feature_input(grey)
    key = hashlib.blake2b(x.contiguous().numpy().tobytes(), digest_size=16).digest()
    feats = _FEATURES.get(key)
    if feats is None:
        feats = scene_features(x, prepared=True)
        _FEATURES.put(key, feats)
    return feats


def _check_model(model: Colorizer) -> str:
    if not accepts_hints(model):
        raise ValueError(f"{model.name} takes no colour hints, so it has no suggested looks "
                         "(suggestions are tints; use a hint-aware model such as lab-general)")
    category = model.meta.category if model.meta is not None else ""
    if not category:
        raise ValueError(f"{model.name} names no category in its sidecar; its suggestion index is unknown")
    return category


def _check_count(value, name: str, top: int) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or not 1 <= value <= top:
        raise ValueError(f"{name} must be an integer from 1 to {top}, got {value!r}")
    return int(value)


# ---------------------------------------------------------------- choosing the casts

def weighted_kmeans(points: np.ndarray, weights: np.ndarray, k: int, fixed: np.ndarray | None = None,
                    iters: int = KMEANS_ITERS) -> np.ndarray:
    """Weighted k-means of ``points`` (M, 2), deterministic -> centres (k, 2). With ``fixed``
    (2,), centre 0 is pinned there and only the other k - 1 move. Initialised by weighted
    farthest-point: each new centre is the point with the largest weight x squared distance
    to the centres so far."""
    centres = [np.asarray(fixed, np.float64)] if fixed is not None else [points[int(np.argmax(weights))]]
    while len(centres) < k:
        d2 = ((points[:, None] - np.array(centres)[None]) ** 2).sum(-1).min(1)
        centres.append(points[int(np.argmax(weights * d2))])
    c = np.array(centres, np.float64)
    start = 1 if fixed is not None else 0
    for _ in range(iters):
        label = ((points[:, None] - c[None]) ** 2).sum(-1).argmin(1)
        new = c.copy()
        for j in range(start, k):
            w = weights[label == j]
            if w.sum() > 0:
                new[j] = (points[label == j] * w[:, None]).sum(0) / w.sum()
        if np.allclose(new, c):
            break
        c = new
    return c


def separate(centres: np.ndarray, pool: np.ndarray, sep: float = MIN_SEPARATION) -> np.ndarray:
    """Centres (k, 2) in rank order, each at least ``sep`` from every better-ranked one: one too
    close is replaced by the first ``pool`` point (candidates in order of preference) far enough
    from those kept, else put on a ring around the first centre (deterministic)."""
    kept = [centres[0]]
    for c in list(centres[1:]):
        for cand in [c, *pool]:
            if min(np.hypot(*(cand - q)) for q in kept) >= sep:
                kept.append(np.asarray(cand, np.float64))
                break
        else:
            step = 0
            while True:
                step += 1
                angle = 2 * np.pi * (len(kept) + 0.5 * step) / 8
                cand = kept[0] + sep * (1 + step // 8) * np.array([np.cos(angle), np.sin(angle)])
                if min(np.hypot(*(cand - q)) for q in kept) >= sep:
                    kept.append(cand)
                    break
    return np.array(kept)


def choose_casts(own: np.ndarray, casts: np.ndarray, weights: np.ndarray, k: int,
                 sigma: float) -> tuple[np.ndarray, np.ndarray]:
    """The k suggested casts (k, 2), ranked, and their weights (k,) summing to 1: the model's
    own cast ``own`` first, then centres of the neighbours' ``casts`` by weight (module doc).
    Each neighbour's weight is first multiplied by exp(-|cast - own|^2 / (2 sigma^2)): the
    model's own cast is evidence too (a noisy estimate of the true one); ``sigma`` 0: no
    reweighting."""
    if sigma:
        weights = weights * np.exp(-((casts - own) ** 2).sum(1) / (2 * sigma ** 2))
        weights = weights / weights.sum() if weights.sum() > 0 else np.full(len(casts), 1 / len(casts))
    centres = weighted_kmeans(casts, weights, k, fixed=own) if k > 1 else own[None].astype(np.float64)
    label = ((casts[:, None] - centres[None]) ** 2).sum(-1).argmin(1)
    share = np.array([weights[label == j].sum() for j in range(k)])
    order = [0] + sorted(range(1, k), key=lambda j: (-share[j], j))
    pool = casts[np.argsort(-weights, kind="stable")]
    centres = separate(centres[order], pool)
    label = ((casts[:, None] - centres[None]) ** 2).sum(-1).argmin(1)
    share = np.array([weights[label == j].sum() for j in range(k)])
    order = [0] + sorted(range(1, k), key=lambda j: (-share[j], j))   # (moving a centre moved weight)
    return centres[order], share[order] / max(share.sum(), 1e-12)


# ---------------------------------------------------------------- rendering

def tint_colour(ab, lightness: float = 60.0) -> str:
    """A "#rrggbb" colour of chroma ``ab`` at ``lightness`` (gamut-mapped if need be)."""
    lab = torch.tensor([float(lightness), float(ab[0]), float(ab[1])]).view(1, 3, 1, 1)
    rgb = lab_to_rgb_in_gamut(lab).clamp(0, 1).view(3)
    return "#" + "".join(f"{round(float(v) * 255):02x}" for v in rgb)


def _mean_ab(model: Colorizer, small: torch.Tensor, pred: torch.Tensor, gain: float) -> torch.Tensor:
    """Mean CIE (a, b) (N, 2) of ``pred`` decoded at network size with ``gain``."""
    rgb = model.space.decode(small, model.space.upsample(pred, small.shape[-2:], small), gain).clamp(0, 1)
    return rgb_to_lab(rgb)[:, 1:].mean((2, 3))


def _tinted_passes(model: Colorizer, grey: torch.Tensor, tints: list[tuple[float, float]], render_size=None):
    """The network's outputs for ``grey`` with each tint (one batch) -> (preds (K, C, h, w),
    shifts (K, 2, 1, 1) that make each output's mean a, b its tint, the grey at network size)."""
    x, _, small = _net_input(model, grey, render_size)
    k = len(tints)
    light = grey_to_L(small) if guided(model.net) else None
    maps = torch.cat([hint_maps(Hints((), t), small.shape[-2:], 1, light) for t in tints])
    xs, smalls = x.expand(k, -1, -1, -1), small.expand(k, -1, -1, -1)
    if _channels_last(model.net):
        xs, maps = _nhwc(xs.contiguous()), _nhwc(maps)
    preds = network_output(model.net, model.space, xs, maps, smalls.contiguous())
    shifts = torch.tensor(tints, dtype=torch.float32) - _mean_ab(model, smalls, preds, 1.0)
    return preds, shifts.view(k, 2, 1, 1), small


def own_cast(model: Colorizer, grey: torch.Tensor, render_size=None) -> tuple[np.ndarray, float]:
    """(The model's automatic cast (2,), the grey's mean L* at network size): the point-free
    pass is the one ``colorize`` runs (and caches), so it is reused when already done."""
    x, _, small = _net_input(model, grey, render_size)
    pred = _point_free(model, NO_HINTS, x, small)
    return _mean_ab(model, small, pred, model.chroma_gain)[0].double().numpy(), float(grey_to_L(small).mean())


def plan(grey: torch.Tensor, model: Colorizer, k: int, render_size=None, index_dir=None,
         features: np.ndarray | None = None) -> tuple[list[str], list[tuple[float, float]], np.ndarray, list[str]]:
    """The k looks' (tints "#rrggbb", their casts (a, b), weights (k,), sources), ranked, for
    the grey (1, 1, H, W); ``features``: its scene features if already computed."""
    index = load_index(_check_model(model), index_dir)
    with torch.inference_mode():
        own, lightness = own_cast(model, grey, render_size)
        casts, weights = index.neighbours_of(photo_features(grey) if features is None else features)
    centres, share = choose_casts(own, casts, weights, k, sigma=index.sigma)
    # The tint travels as a colour: the cast rendered is the one that colour stands for.
    hexes = [tint_colour(c, min(max(lightness, 35.0), 80.0)) for c in centres]
    sources = ["model"] + ["similar photos"] * (k - 1)
    return hexes, [colour_to_ab(h) for h in hexes], share, sources


def _fit(grey: torch.Tensor, size: int | None) -> torch.Tensor:
    """The grey, shrunk (aspect kept) so that its long side is at most ``size`` (None: as is)."""
    h, w = grey.shape[-2:]
    if size is None or max(h, w) <= size:
        return grey
    s = size / max(h, w)
    return _small_grey(grey, (max(1, round(h * s)), max(1, round(w * s))))


@torch.inference_mode()
def render_tints(model: Colorizer, grey: torch.Tensor, tints: list[tuple[float, float]], render_size=None,
                 size: int | None = None, batch: int = MAX_K) -> list[np.ndarray]:
    """``colorize(grey, model, tint=t)`` for each cast t (a, b), as uint8 (H, W, 3) arrays: the
    tinted passes batched at network size, then one assembly each, at full resolution or,
    with ``size``, at most ``size`` pixels on the long side (thumbnails: far cheaper)."""
    out, target = [], _fit(grey, size)
    for start in range(0, len(tints), batch):
        preds, shifts, _ = _tinted_passes(model, grey, tints[start:start + batch], render_size)
        for i in range(len(preds)):
            arr = np.empty((*target.shape[-2:], 3), np.uint8)

            def write(rows, rgb, arr=arr):
                arr[rows] = tensor_to_array(rgb)
            _assemble(model, target, preds[i:i + 1], 1.0, shifts[i:i + 1], write)
            out.append(arr)
    return out


def thumbnail_render(model: Colorizer, render_size: int | None = None) -> int:
    """The network's short side for thumbnails: ``THUMBNAIL_RENDER``, or less if the looks' own
    render size (``render_size``, else the model's) is less."""
    own = render_size or model.render_size
    return THUMBNAIL_RENDER if own is None else min(THUMBNAIL_RENDER, int(own))


def suggest(image, model: Colorizer, k: int = 4, render_size: int | None = None,
            index_dir: Path | None = None, size: int | None = None) -> list[Suggestion]:
    """``k`` (1..``MAX_K``) looks for ``image`` (anything ``colorize`` takes), best ranked first.

    Each image is ``colorize(image, model, render_size, tint=s.tint)`` (to rounding), the k
    computed in one batched network pass. With ``size`` (pixels, at least 16) the images are
    thumbnails, previews of the looks: at most ``size`` on the long side, the network run at
    short side ``min(THUMBNAIL_RENDER, render_size or the model's)`` (the casts are chosen as
    without ``size``; each image is then ``colorize(image, model, that render size,
    tint=s.tint)`` shrunk, to resampling). Raises ``ValueError`` for a bad ``k`` or ``size``
    and for a model that takes no hints (the seed designs), ``colorlab.imaging.ImageError``
    for an unusable image and ``CheckpointError`` for a missing or tampered index.
    Deterministic."""
    k = _check_count(k, "k", MAX_K)
    if size is not None:
        _check_count(size, "size", 1 << 16)
        if size < 16:
            raise ValueError(f"size must be at least 16 pixels, got {size}")
    _check_model(model)
    grey = grey_tensor(image)
    hexes, abs_, share, sources = plan(grey, model, k, render_size, index_dir)
    images = render_tints(model, grey, abs_, render_size if size is None else thumbnail_render(model, render_size),
                          size)
    return [Suggestion(i + 1, hexes[i], abs_[i], float(share[i]), sources[i], Image.fromarray(images[i], "RGB"))
            for i in range(k)]


def suggest_colours(image, model: Colorizer, x: float, y: float, n: int = 6, hints=None,
                    render_size: int | None = None, index_dir: Path | None = None) -> list[ColourSuggestion]:
    """``n`` (1..``MAX_COLOURS``) likely colours at the point (x, y) (fractions of the width and
    height, from the top-left): first the model's own colour there (given ``hints``, the
    user's current ones), then the colour each of looks 2..n gives it (look 1 is the model's
    own cast). Read at the
    network's size (no full-resolution work). Raises ``ValueError`` for a bad ``n``, x or y."""
    n = _check_count(n, "n", MAX_COLOURS)
    for v, name in ((x, "x"), (y, "y")):
        if isinstance(v, bool) or not isinstance(v, (int, float, np.floating)) or not 0.0 <= float(v) <= 1.0:
            raise ValueError(f"{name} must be a fraction of the image size in [0, 1], got {v!r}")
    from .pipeline import colour_at
    hints = resolve_hints(model, hints)
    _check_model(model)
    grey = grey_tensor(image)
    own = ColourSuggestion(colour_at(grey, model, x, y, render_size, hints=hints), 1.0, "model")
    if n == 1:
        return [own]
    # Look 1 is the model's own cast, whose colour here is the model's: the others follow it.
    _, abs_, share, _ = plan(grey, model, n, render_size, index_dir)
    abs_, share = abs_[1:], share[1:]
    rgb = _looks_at_net_size(model, grey, abs_, render_size)
    h, w = rgb.shape[-2:]
    r, c = min(int(y * h), h - 1), min(int(x * w), w - 1)
    colours = ["#" + "".join(f"{round(float(v) * 255):02x}" for v in rgb[i, :, r, c]) for i in range(len(abs_))]
    return [own] + [ColourSuggestion(col, float(s), f"look {i + 2}") for i, (col, s) in enumerate(zip(colours, share))]


# The looks decoded at the network's size, for ``suggest_colours``: the app asks again at
# every click on the same photo. Keyed by the network, a digest of its input and the casts;
# the value keeps the network, since an id can be reused by a new one.
_LOOKS = Recent(4)


def _looks_at_net_size(model: Colorizer, grey: torch.Tensor, abs_: list, render_size) -> torch.Tensor:
    """sRGB (len(abs_), 3, h, w) in [0, 1]: each cast's look decoded at the network's size."""
    with torch.inference_mode():
        _, _, small = _net_input(model, grey, render_size)
        digest = hashlib.blake2b(small.contiguous().numpy().tobytes(), digest_size=16).digest()
        key = (id(model.net), digest, tuple(abs_))
        net, rgb = _LOOKS.get(key, (None, None))
        if net is model.net:
            return rgb
        preds, shifts, small = _tinted_passes(model, grey, abs_, render_size)
        smalls = small.expand(len(abs_), -1, -1, -1)
        rgb = model.space.decode(smalls, model.space.upsample(preds, small.shape[-2:], smalls), 1.0).clamp(0, 1)
        lab = rgb_to_lab(rgb)
        lab[:, 1:] += shifts
        rgb = lab_to_rgb_in_gamut(lab).clamp(0, 1)
        _LOOKS.put(key, (model.net, rgb))
        return rgb


def suggestions_json(suggestions: list[Suggestion], model: Colorizer) -> dict:
    """What the CLI writes beside the looks: the model, and each look's tint, cast and weight."""
    return {"model": model.name, "suggestions": [s.to_json() for s in suggestions]}


__all__ = [
    "MAX_COLOURS",
    "MAX_K",
    "THUMBNAIL_RENDER",
    "CastIndex",
    "ColourSuggestion",
    "Suggestion",
    "choose_casts",
    "load_index",
    "suggest",
    "suggest_colours",
    "suggestions_json",
    "thumbnail_render",
    "weighted_kmeans",
]
