"""Running models for the app: which checkpoint to use, one model on an upload, every model on one.

Each run is timed and, when the upload has a colour reference, scored against it at
metric size (``colorlab.serving.uploads``). Nothing here knows about Gradio.
"""
from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass

import numpy as np
from PIL import Image

from ..checkpoints import CheckpointMeta, get_model, list_checkpoints
from ..hints import Hints
from ..pipeline import accepts_hints, colorize
from .scheduling import pause_point
from .uploads import Upload, metric_view

STANDARD = "standard"   # the design choice that means the (space, category) model
METRICS = ("psnr", "ssim", "ciede2000", "colorfulness")   # what a run is scored and ranked on


@dataclass(frozen=True)
class RunSettings:
    """How the app runs a model: ``render_size``, the short side the network runs at (None: the
    model's own); ``saturation``, the chroma gain's multiplier (1.0: the calibrated strength);
    ``hints``, a ``colorlab.hints.Hints`` (None or empty: automatic)."""
    render_size: int | None = None
    saturation: float = 1.0
    hints: Hints | None = None


@dataclass
class Result:
    model: str
    space: str
    category: str
    image: Image.Image
    seconds: float
    scores: dict | None = None         # against the reference; None without one
    meta: CheckpointMeta | None = None
    hints_used: bool = False           # the hints were given to the model (it takes them)


def score_result(pred: np.ndarray, upload: Upload) -> dict | None:
    """``pred`` scored against the upload's reference at metric size (None without one)."""
    if upload.reference is None:
        return None
    from ..metrics import score  # scikit-image: imported when first scored, not at app start
    small = metric_view(pred)
    pause_point()   # a big job in the app lets waiting small ones go first (colorlab.serving.scheduling)
    return score(small, upload.metric_reference)


def choose_checkpoint(space: str, category: str,
                      metas: list[CheckpointMeta] | None = None) -> tuple[CheckpointMeta, str]:
    """The checkpoint for (space, category): ``{space}-{category}`` if shipped, else that
    space's general model, else any of that space. Returns (sidecar, note for the user)."""
    metas = list_checkpoints() if metas is None else metas
    space, category = space.lower(), category.lower()
    by_name = {m.name: m for m in metas}
    wanted = f"{space}-{category}"
    if wanted in by_name:
        return by_name[wanted], ""
    same_space = [m for m in metas if m.space == space]
    fallback = by_name.get(f"{space}-general") or next(
        (m for m in same_space if m.category == category), None) or (same_space[0] if same_space else None)
    if fallback is None:
        raise LookupError(f"no {space.upper()} checkpoint is installed; available: {sorted(by_name) or 'none'}")
    return fallback, f"{wanted} is not installed; using {fallback.name} instead."


def seed_designs(space: str | None = None, metas: list[CheckpointMeta] | None = None) -> list[CheckpointMeta]:
    """The seed designs installed (of ``space``, lab, hsv or rgb; None: of every space), in
    name order: every checkpoint that is not one of the ``{space}-{category}`` models. They
    reproduce published designs and are automatic-only (trained without hints)."""
    from ..checkpoints import CATEGORIES
    metas = list_checkpoints() if metas is None else metas
    space = space.lower() if space else None
    return [m for m in metas if (space is None or m.space == space)
            and m.name not in {f"{m.space}-{c}" for c in CATEGORIES}]


def choose_design(space: str, category: str, design: str | None = None,
                  metas: list[CheckpointMeta] | None = None) -> tuple[CheckpointMeta, str]:
    """The checkpoint to run: the seed design ``design`` (a checkpoint name from
    ``seed_designs(space)``), or, when ``design`` is empty or ``STANDARD``, the (space,
    category) model as ``choose_checkpoint`` picks it. Returns (sidecar, note for the user);
    raises ``LookupError`` for a design that is not a seed design of that space."""
    if not design or design == STANDARD:
        return choose_checkpoint(space, category, metas)
    seeds = {m.name: m for m in seed_designs(space, metas)}
    if design not in seeds:
        raise LookupError(f"{design!r} is not a seed design of the {space.upper()} space; "
                          f"available: {sorted(seeds) or 'none'}")
    return seeds[design], ""


def run_model(upload: Upload, name: str, settings: RunSettings = RunSettings(), scored: bool = True) -> Result:
    """Colorize ``upload`` with checkpoint ``name`` as ``settings`` say; timed, and scored when
    there is a reference (``scored=False``: not scored, for a view that shows no metrics, e.g.
    Channels). The hints are given to a model that takes them and left out for an
    automatic-only one (``Result.hints_used`` says which)."""
    model = get_model(name)
    hints = settings.hints
    use = bool(hints) and accepts_hints(model)
    grey = upload.grey_tensor   # the upload's, made once for every model (not in a model's time)
    t0 = time.perf_counter()
    out = colorize(grey, model, settings.render_size or None, settings.saturation, hints=hints if use else None)
    seconds = time.perf_counter() - t0
    scores = score_result(np.asarray(out), upload) if scored else None
    meta = model.meta
    return Result(name, model.space.name, meta.category if meta else "", out, seconds, scores, meta, use)


def best_per_metric(results: list[Result], reference: np.ndarray | None) -> dict[str, str]:
    """Metric -> name of the best model (PSNR, SSIM highest; CIEDE2000 lowest; colourfulness
    closest to the reference's; time fastest). Only time without a reference."""
    from ..metrics import HIGHER_IS_BETTER, colorfulness
    best = {}
    if results:
        best["seconds"] = min(results, key=lambda r: r.seconds).model
    scored = [r for r in results if r.scores]
    if reference is None or not scored:
        return best
    target = colorfulness(metric_view(reference))
    for key in METRICS:
        higher = HIGHER_IS_BETTER[key]
        if higher is None:
            pick = min(scored, key=lambda r: abs(r.scores[key] - target))
        else:
            pick = (max if higher else min)(scored, key=lambda r: r.scores[key])
        best[key] = pick.model
    return best


def compare_all(upload: Upload, settings: RunSettings = RunSettings(), metas: list[CheckpointMeta] | None = None,
                progress=None, gate=None) -> tuple[list[Result], dict[str, str]]:
    """Every installed checkpoint on one upload, in name order, and the best per metric.
    ``progress(done, total, name)`` is called before each model (e.g. to drive a progress bar);
    each model runs inside ``gate.step()`` if a ``colorlab.serving.scheduling.CpuGate`` is given."""
    metas = list_checkpoints() if metas is None else metas
    results = []
    for i, m in enumerate(metas):
        if progress is not None:
            progress(i, len(metas), m.name)
        with gate.step(m.name) if gate is not None else contextlib.nullcontext():
            results.append(run_model(upload, m.name, settings))
    return results, best_per_metric(results, upload.reference)


